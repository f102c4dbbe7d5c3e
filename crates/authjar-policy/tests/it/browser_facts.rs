//! docs/browser-facts.md, fact by fact: the model must reproduce what
//! Chromium 156 was measured doing (case numbers as listed there).

use authjar_policy::browser::{
    BrowserProfile, Jar, Rejection, RequestContext, StoreOutcome, Withheld,
};
use authjar_policy::WebOrigin;
use url::Url;

use crate::helpers::NOW;

fn origin(s: &str) -> WebOrigin {
    WebOrigin::parse(s).unwrap()
}

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

/// Stores `header` from a credentialed fetch of `api_url` by a page on `page`.
fn fetch_store(jar: &mut Jar, page: &str, api_url: &str, header: &str) -> StoreOutcome {
    jar.store(
        header,
        &RequestContext::fetch(&origin(page), url(api_url), "POST"),
        NOW,
    )
}

fn fetch_sends(jar: &Jar, page: &str, api_url: &str, name: &str) -> bool {
    let ctx = RequestContext::fetch(&origin(page), url(api_url), "GET");
    jar.sent(&ctx, NOW).iter().any(|c| c.name == name)
}

fn chromium() -> Jar {
    Jar::new(BrowserProfile::CHROMIUM)
}

fn rejected(o: StoreOutcome) -> Rejection {
    match o {
        StoreOutcome::Rejected(r) => r,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn stored(o: StoreOutcome) {
    assert!(
        matches!(o, StoreOutcome::Stored(_)),
        "expected stored, got {o:?}"
    );
}

#[test]
fn fact_1_ports_do_not_isolate_and_domain_localhost_is_host_only() {
    let mut jar = chromium();
    stored(fetch_store(
        &mut jar,
        "http://localhost:3000",
        "http://localhost:8000/login",
        "a=1; Path=/",
    ));
    assert!(fetch_sends(
        &jar,
        "http://localhost:3000",
        "http://localhost:8000/me",
        "a"
    ));
    let StoreOutcome::Stored(c) = fetch_store(
        &mut jar,
        "http://localhost:3000",
        "http://localhost:8000/x",
        "b=1; Domain=localhost; Path=/",
    ) else {
        panic!("Domain=localhost must be stored")
    };
    assert!(
        c.host_only,
        "Domain=localhost is stored as host-only (1.04)"
    );
    let page = jar.visible_to_script(&url("http://localhost:3000/"), NOW);
    assert!(
        page.iter().any(|c| c.name == "a"),
        "readable by JS on :3000 (1.01)"
    );
}

#[test]
fn fact_2_loopback_http_is_secure_in_chromium_but_not_safari() {
    for h in [
        "__Host-a=1; Secure; Path=/",
        "b=1; Secure; HttpOnly; SameSite=Lax",
    ] {
        stored(fetch_store(
            &mut chromium(),
            "http://localhost:3000",
            "http://localhost:8000/",
            h,
        ));
        let mut safari = Jar::new(BrowserProfile::SAFARI);
        assert_eq!(
            rejected(fetch_store(
                &mut safari,
                "http://localhost:3000",
                "http://localhost:8000/",
                h
            )),
            Rejection::SecureOverInsecure
        );
    }
}

#[test]
fn fact_3_other_hosts_over_http_are_not_secure() {
    let page = "http://local.cat-therapist.com:3000";
    let api = "http://api.local.cat-therapist.com:8000/";
    assert_eq!(
        rejected(fetch_store(&mut chromium(), page, api, "a=1; Secure")),
        Rejection::SecureOverInsecure
    );
    assert_eq!(
        rejected(fetch_store(
            &mut chromium(),
            page,
            api,
            "__Host-a=1; Path=/"
        )),
        Rejection::HostPrefixInvalid
    );
}

#[test]
fn fact_4_localhost_and_127_are_different_sites() {
    let page = "http://127.0.0.1:3000";
    let api = "http://localhost:8000/login";
    assert_eq!(
        rejected(fetch_store(&mut chromium(), page, api, "a=1; SameSite=Lax")),
        Rejection::SameSiteFromCrossSite
    );
    assert_eq!(
        rejected(fetch_store(
            &mut chromium(),
            page,
            api,
            "a=1; SameSite=None; Secure"
        )),
        Rejection::ThirdPartyBlocked
    );
    // 1.18: only a Partitioned cookie survives.
    stored(fetch_store(
        &mut chromium(),
        page,
        api,
        "a=1; SameSite=None; Secure; Partitioned",
    ));
}

#[test]
fn fact_5_samesite_none_needs_secure_everywhere() {
    for (page, api) in [
        ("http://localhost:3000", "http://localhost:8000/"),
        ("https://app.hub.test", "https://api.hub.test/"),
    ] {
        assert_eq!(
            rejected(fetch_store(
                &mut chromium(),
                page,
                api,
                "a=1; SameSite=None"
            )),
            Rejection::SameSiteNoneInsecure
        );
    }
}

#[test]
fn fact_6_sibling_subdomains_are_same_site_even_for_strict() {
    let mut jar = chromium();
    stored(fetch_store(
        &mut jar,
        "https://app.hub.test",
        "https://api.hub.test/login",
        "s=1; SameSite=Strict; Secure; Path=/",
    ));
    stored(fetch_store(
        &mut jar,
        "https://app.hub.test",
        "https://api.hub.test/login",
        "l=1; SameSite=Lax; Secure; Path=/",
    ));
    assert!(fetch_sends(
        &jar,
        "https://app.hub.test",
        "https://api.hub.test/me",
        "s"
    ));
    assert!(fetch_sends(
        &jar,
        "https://app.hub.test",
        "https://api.hub.test/me",
        "l"
    ));
}

#[test]
fn fact_7_without_credentials_include_nothing_is_stored_or_sent() {
    let ctx = RequestContext::fetch(
        &origin("https://app.hub.test"),
        url("https://api.hub.test/login"),
        "POST",
    )
    .with_credentials(authjar_policy::browser::Credentials::SameOrigin);
    let mut jar = chromium();
    assert_eq!(
        rejected(jar.store("a=1; Secure; SameSite=Lax; Path=/", &ctx, NOW)),
        Rejection::CredentialsOmitted
    );
    stored(fetch_store(
        &mut jar,
        "https://app.hub.test",
        "https://api.hub.test/login",
        "a=1; Secure; Path=/",
    ));
    let d = jar.decide(&ctx, NOW);
    assert_eq!(d[0].withheld, Some(Withheld::CredentialsOmitted));
}

#[test]
fn fact_8_a_host_only_csrf_cookie_is_invisible_to_a_sibling_page() {
    let mut jar = chromium();
    stored(fetch_store(
        &mut jar,
        "https://app.hub.test",
        "https://api.hub.test/csrf",
        "csrf=1; Secure; Path=/",
    ));
    assert!(jar
        .visible_to_script(&url("https://app.hub.test/"), NOW)
        .is_empty());
    stored(fetch_store(
        &mut jar,
        "https://app.hub.test",
        "https://api.hub.test/csrf",
        "csrf2=1; Secure; Path=/; Domain=hub.test",
    ));
    let visible = jar.visible_to_script(&url("https://app.hub.test/"), NOW);
    assert_eq!(visible.len(), 1);
    assert_eq!(visible[0].name, "csrf2");
}

#[test]
fn fact_9_third_party_cookies_are_blocked_by_default() {
    let mut jar = chromium();
    assert_eq!(
        rejected(fetch_store(
            &mut jar,
            "https://hub.test",
            "https://hub-api.test/login",
            "a=1; SameSite=None; Secure"
        )),
        Rejection::ThirdPartyBlocked
    );
    // Set first-party (top-level visit), then used cross-site: withheld (5.06).
    let nav = RequestContext::navigate(url("https://hub-api.test/"), None, "GET").unwrap();
    stored(jar.store("b=1; SameSite=None; Secure; Path=/", &nav, NOW));
    let ctx = RequestContext::fetch(
        &origin("https://hub.test"),
        url("https://hub-api.test/me"),
        "GET",
    );
    assert_eq!(
        jar.decide(&ctx, NOW)[0].withheld,
        Some(Withheld::ThirdPartyBlocked)
    );
    // Allowing third-party cookies changes both (allow-3pc variant).
    let mut allow = Jar::new(BrowserProfile::CHROMIUM_THIRD_PARTY_ALLOWED);
    stored(fetch_store(
        &mut allow,
        "https://hub.test",
        "https://hub-api.test/login",
        "a=1; SameSite=None; Secure",
    ));
}

#[test]
fn fact_10_partitioned_cookies_work_cross_site_and_only_in_their_partition() {
    let mut jar = chromium();
    let h = "p=1; SameSite=None; Secure; Partitioned; Path=/";
    stored(fetch_store(
        &mut jar,
        "https://hub.test",
        "https://hub-api.test/login",
        h,
    ));
    assert!(fetch_sends(
        &jar,
        "https://hub.test",
        "https://hub-api.test/me",
        "p"
    ));
    let top = RequestContext::navigate(url("https://hub-api.test/me"), None, "GET").unwrap();
    assert_eq!(
        jar.decide(&top, NOW)[0].withheld,
        Some(Withheld::OtherPartition)
    );
    assert_eq!(
        rejected(fetch_store(
            &mut chromium(),
            "https://hub.test",
            "https://hub-api.test/",
            "p=1; SameSite=None; Partitioned"
        )),
        Rejection::SameSiteNoneInsecure
    );
    assert_eq!(
        rejected(fetch_store(
            &mut chromium(),
            "https://hub.test",
            "https://hub-api.test/",
            "p=1; Partitioned"
        )),
        Rejection::SameSiteFromCrossSite
    );
    // Safari (modelled without CHIPS) drops it: the reason for authjar's warning.
    let mut safari = Jar::new(BrowserProfile::SAFARI);
    assert_eq!(
        rejected(fetch_store(
            &mut safari,
            "https://hub.test",
            "https://hub-api.test/",
            h
        )),
        Rejection::ThirdPartyBlocked
    );
}

#[test]
fn fact_11_a_cross_site_fetch_never_sets_lax_strict_or_default() {
    for profile in [
        BrowserProfile::CHROMIUM,
        BrowserProfile::CHROMIUM_THIRD_PARTY_ALLOWED,
    ] {
        for h in [
            "a=1; SameSite=Lax; Secure",
            "a=1; SameSite=Strict; Secure",
            "a=1; Secure",
        ] {
            let mut jar = Jar::new(profile);
            assert_eq!(
                rejected(fetch_store(
                    &mut jar,
                    "https://hub.test",
                    "https://hub-api.test/",
                    h
                )),
                Rejection::SameSiteFromCrossSite,
                "{h}"
            );
        }
    }
}

#[test]
fn fact_12_lax_oauth_state_survives_the_providers_redirect_but_strict_does_not_survive_a_click() {
    let mut jar = chromium();
    let start = RequestContext::navigate(
        url("https://api.hub.test/auth/oauth/x/start"),
        Some(&origin("https://app.hub.test")),
        "GET",
    )
    .unwrap();
    stored(jar.store("lax=1; SameSite=Lax; Secure; HttpOnly; Path=/", &start, NOW));
    stored(jar.store(
        "strict=1; SameSite=Strict; Secure; HttpOnly; Path=/",
        &start,
        NOW,
    ));
    let idp = origin("https://idp.example");
    let back = RequestContext::navigate(
        url("https://api.hub.test/auth/oauth/x/callback?code=c"),
        Some(&idp),
        "GET",
    )
    .unwrap();
    let d = jar.decide(&back, NOW);
    let lax = d.iter().find(|x| x.cookie.name == "lax").unwrap();
    let strict = d.iter().find(|x| x.cookie.name == "strict").unwrap();
    assert_eq!(lax.withheld, None);
    assert_eq!(strict.withheld, Some(Withheld::SameSiteStrict));
    // form_post: a cross-site top-level POST carries only None cookies.
    let post = RequestContext::navigate(
        url("https://api.hub.test/auth/oauth/x/callback"),
        Some(&idp),
        "POST",
    )
    .unwrap();
    let d = jar.decide(&post, NOW + 600);
    assert!(d.iter().all(|x| x.withheld.is_some()));
}

#[test]
fn fact_13_csrf_from_a_foreign_site_img_and_form() {
    let mut jar = chromium();
    let first = RequestContext::navigate(url("https://hub.test/"), None, "GET").unwrap();
    for h in [
        "v_lax=1; SameSite=Lax; Secure; Path=/",
        "v_none=1; SameSite=None; Secure; Path=/",
        "v_default=1; Secure; Path=/",
    ] {
        stored(jar.store(h, &first, NOW));
    }
    let evil = origin("https://evil.test");
    let img = RequestContext::fetch(&evil, url("https://hub.test/api/delete"), "GET");
    assert!(
        jar.sent(&img, NOW).is_empty(),
        "img GET carries no victim cookies (default profile)"
    );
    let form =
        RequestContext::navigate(url("https://hub.test/api/delete"), Some(&evil), "POST").unwrap();
    let names: Vec<String> = jar.sent(&form, NOW).into_iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        ["v_none", "v_default"],
        "form POST carries None and fresh default cookies (7.1b)"
    );
    let names: Vec<String> = jar
        .sent(&form, NOW + 125)
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["v_none"], "not after two minutes (7.3a)");
    let link =
        RequestContext::navigate(url("https://hub.test/api/delete"), Some(&evil), "GET").unwrap();
    assert_eq!(
        jar.sent(&link, NOW).len(),
        3,
        "a link GET carries Lax cookies: GETs must not change state"
    );
}

#[test]
fn fact_15_domain_rules() {
    let page = "https://a.github.io";
    assert!(matches!(
        rejected(fetch_store(
            &mut chromium(),
            page,
            "https://a.github.io/",
            "a=1; Secure; Domain=github.io"
        )),
        Rejection::DomainIsPublicSuffix(_)
    ));
    assert!(matches!(
        rejected(fetch_store(
            &mut chromium(),
            "https://a.example.co.uk",
            "https://a.example.co.uk/",
            "a=1; Domain=co.uk"
        )),
        Rejection::DomainIsPublicSuffix(_)
    ));
    assert!(matches!(
        rejected(fetch_store(
            &mut chromium(),
            "https://api.hub.test",
            "https://api.hub.test/",
            "a=1; Domain=test"
        )),
        Rejection::DomainIsPublicSuffix(_)
    ));
    assert!(matches!(
        rejected(fetch_store(
            &mut chromium(),
            "https://api.hub.test",
            "https://api.hub.test/",
            "a=1; Domain=other.test"
        )),
        Rejection::DomainMismatch(_)
    ));
    let StoreOutcome::Stored(c) = fetch_store(
        &mut chromium(),
        "https://api.hub.test",
        "https://api.hub.test/",
        "a=1; Domain=api.hub.test",
    ) else {
        panic!()
    };
    assert!(
        !c.host_only,
        "Domain=<own host> makes a domain cookie (6.09)"
    );
    let StoreOutcome::Stored(c) = fetch_store(
        &mut chromium(),
        "https://api.hub.test",
        "https://api.hub.test/",
        "a=1; Domain=.hub.test",
    ) else {
        panic!()
    };
    assert_eq!(c.domain, "hub.test", "leading dot ignored (6.08)");
}

#[test]
fn fact_16_prefix_rules_are_case_insensitive() {
    let p = "https://api.hub.test";
    let u = "https://api.hub.test/x";
    assert_eq!(
        rejected(fetch_store(&mut chromium(), p, u, "__Secure-a=1")),
        Rejection::SecurePrefixInvalid
    );
    stored(fetch_store(
        &mut chromium(),
        p,
        u,
        "__Secure-a=1; Secure; Domain=hub.test",
    ));
    for h in [
        "__Host-a=1; Secure; Path=/; Domain=api.hub.test",
        "__Host-a=1; Secure; Path=/api",
        "__Host-a=1; Secure",
        "__host-a=1; Secure; Path=/; Domain=hub.test",
    ] {
        assert_eq!(
            rejected(fetch_store(&mut chromium(), p, u, h)),
            Rejection::HostPrefixInvalid,
            "{h}"
        );
    }
}

#[test]
fn fact_17_limits_lifetime_size_and_path_length() {
    let p = "https://api.hub.test";
    let u = "https://api.hub.test/";
    let StoreOutcome::Stored(c) =
        fetch_store(&mut chromium(), p, u, "a=1; Secure; Max-Age=69120000")
    else {
        panic!()
    };
    assert_eq!(
        c.expires,
        Some(NOW + 400 * 86_400),
        "800 days capped at 400"
    );
    stored(fetch_store(
        &mut chromium(),
        p,
        u,
        &format!("a={}", "x".repeat(4095)),
    ));
    assert!(matches!(
        rejected(fetch_store(
            &mut chromium(),
            p,
            u,
            &format!("a={}", "x".repeat(4096))
        )),
        Rejection::Parse(_)
    ));
    let long_path = format!("a=1; Path=/{}", "p".repeat(1100));
    let StoreOutcome::Stored(c) = fetch_store(&mut chromium(), p, u, &long_path) else {
        panic!()
    };
    assert_eq!(c.path, "/", "over-long Path ignored");
}
