//! docs/browser-facts.md "Firefox, measured", case by case: the Firefox
//! profile of the model must reproduce what Firefox ESR 153 (default
//! settings) was measured doing by e2e/tests/cookie-facts.test.js, and the
//! Chromium profile what Chromium 156 did in the same cases.

use authjar_policy::browser::{
    BrowserProfile, Jar, Rejection, RequestContext, StoreOutcome, StoredCookie, Withheld,
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

fn firefox() -> Jar {
    Jar::new(BrowserProfile::FIREFOX)
}

fn chromium() -> Jar {
    Jar::new(BrowserProfile::CHROMIUM)
}

/// Stores `header` from a credentialed fetch of `api_url` by a page on `page`.
fn fetch_store(jar: &mut Jar, page: &str, api_url: &str, header: &str) -> StoreOutcome {
    jar.store(
        header,
        &RequestContext::fetch(&origin(page), url(api_url), "GET"),
        NOW,
    )
}

fn fetch_sends(jar: &Jar, page: &str, api_url: &str, name: &str) -> bool {
    let ctx = RequestContext::fetch(&origin(page), url(api_url), "GET");
    jar.sent(&ctx, NOW).iter().any(|c| c.name == name)
}

fn stored(o: StoreOutcome) -> StoredCookie {
    match o {
        StoreOutcome::Stored(c) => c,
        other => panic!("expected stored, got {other:?}"),
    }
}

fn rejected(o: StoreOutcome) -> Rejection {
    match o {
        StoreOutcome::Rejected(r) => r,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

/// The top-level site of the cookie's partition, or `None` when unpartitioned.
fn partition(c: &StoredCookie) -> Option<String> {
    c.partition.as_ref().map(ToString::to_string)
}

#[test]
fn firefox_f2_host_prefix_without_a_path_attribute_is_kept_when_the_path_is_root() {
    let (page, api) = ("https://hub.test", "https://hub.test/set");
    let h = "__Host-f2_nopath=1; Secure; SameSite=Lax";
    let mut ff = firefox();
    stored(fetch_store(&mut ff, page, api, h));
    assert!(fetch_sends(
        &ff,
        page,
        "https://hub.test/echo",
        "__Host-f2_nopath"
    ));
    assert_eq!(
        rejected(fetch_store(&mut chromium(), page, api, h)),
        Rejection::HostPrefixInvalid
    );
    // F2b: set from /deep/set the default path is /deep, and both refuse it.
    for jar in [&mut firefox(), &mut chromium()] {
        assert_eq!(
            rejected(fetch_store(
                jar,
                page,
                "https://hub.test/deep/set",
                "__Host-f2b=1; Secure; SameSite=Lax"
            )),
            Rejection::HostPrefixInvalid
        );
    }
}

#[test]
fn firefox_f3_an_http_app_and_an_https_api_on_one_domain_are_same_site() {
    let (page, api) = ("http://hub.test:3000", "https://api.hub.test/set");
    let mut ff = firefox();
    for h in [
        "f3_lax=1; SameSite=Lax; Secure; Path=/",
        "f3_strict=1; SameSite=Strict; Secure; Path=/",
        "f3_none=1; SameSite=None; Secure; Path=/",
    ] {
        let c = stored(fetch_store(&mut ff, page, api, h));
        assert_eq!(partition(&c), None, "{h}: first-party, unpartitioned");
        assert_eq!(
            rejected(fetch_store(&mut chromium(), page, api, h)),
            if h.contains("None") {
                Rejection::ThirdPartyBlocked
            } else {
                Rejection::SameSiteFromCrossSite
            },
            "Chromium: {h}"
        );
    }
    for name in ["f3_lax", "f3_strict", "f3_none"] {
        assert!(fetch_sends(&ff, page, "https://api.hub.test/echo", name));
    }
}

#[test]
fn firefox_f4_a_localhost_page_and_a_127_api_keep_none_and_unset_in_the_pages_partition() {
    let (page, api) = ("http://localhost:3000", "http://127.0.0.1:8000/set");
    let mut ff = firefox();
    assert_eq!(
        rejected(fetch_store(
            &mut ff,
            page,
            api,
            "f4_lax=1; SameSite=Lax; Path=/"
        )),
        Rejection::SameSiteFromCrossSite
    );
    for h in [
        "f4_unset=1; Path=/",
        "f4_none=1; SameSite=None; Secure; Path=/",
        "f4_part=1; SameSite=None; Secure; Partitioned; Path=/",
    ] {
        let c = stored(fetch_store(&mut ff, page, api, h));
        assert_eq!(partition(&c).as_deref(), Some("http://localhost"), "{h}");
    }
    for name in ["f4_unset", "f4_none", "f4_part"] {
        assert!(fetch_sends(&ff, page, "http://127.0.0.1:8000/echo", name));
    }
    // Chromium keeps only the Partitioned one (docs/browser-facts.md fact 4).
    let mut ch = chromium();
    assert_eq!(
        rejected(fetch_store(&mut ch, page, api, "f4_unset=1; Path=/")),
        Rejection::SameSiteFromCrossSite
    );
    assert_eq!(
        rejected(fetch_store(
            &mut ch,
            page,
            api,
            "f4_none=1; SameSite=None; Secure; Path=/"
        )),
        Rejection::ThirdPartyBlocked
    );
    stored(fetch_store(
        &mut ch,
        page,
        api,
        "f4_part=1; SameSite=None; Secure; Partitioned; Path=/",
    ));
}

#[test]
fn firefox_f5_unrelated_sites_an_unpartitioned_none_cookie_lands_in_the_apps_partition() {
    let (page, api) = ("https://hub.test", "https://hub-api.test/set");
    let mut ff = firefox();
    assert_eq!(
        rejected(fetch_store(
            &mut ff,
            page,
            api,
            "f5_lax=1; SameSite=Lax; Secure; Path=/"
        )),
        Rejection::SameSiteFromCrossSite
    );
    for h in [
        "f5_unset=1; Secure; Path=/",
        "f5_none=1; SameSite=None; Secure; Path=/",
        "f5_part=1; SameSite=None; Secure; Partitioned; Path=/",
    ] {
        let c = stored(fetch_store(&mut ff, page, api, h));
        assert_eq!(partition(&c).as_deref(), Some("https://hub.test"), "{h}");
    }
    for name in ["f5_unset", "f5_none", "f5_part"] {
        assert!(fetch_sends(&ff, page, "https://hub-api.test/echo", name));
    }
    // Chromium refuses all but the Partitioned one (facts 9-11).
    let mut ch = chromium();
    assert_eq!(
        rejected(fetch_store(
            &mut ch,
            page,
            api,
            "f5_none=1; SameSite=None; Secure; Path=/"
        )),
        Rejection::ThirdPartyBlocked
    );
    assert_eq!(
        rejected(fetch_store(
            &mut ch,
            page,
            api,
            "f5_unset=1; Secure; Path=/"
        )),
        Rejection::SameSiteFromCrossSite
    );
    // F10: the API visited top-level gets none of them, in either browser.
    stored(fetch_store(
        &mut ch,
        page,
        api,
        "f5_part=1; SameSite=None; Secure; Partitioned; Path=/",
    ));
    let top = RequestContext::navigate(url("https://hub-api.test/echo"), None, "GET").unwrap();
    for jar in [&ff, &ch] {
        let d = jar.decide(&top, NOW);
        assert!(!d.is_empty());
        assert!(
            d.iter()
                .all(|d| d.withheld == Some(Withheld::OtherPartition)),
            "{d:?}"
        );
    }
}

#[test]
fn firefox_f1_f6_f7_f8_f9_agree_with_chromium() {
    for profile in [BrowserProfile::FIREFOX, BrowserProfile::CHROMIUM] {
        let mut jar = Jar::new(profile);
        // F1: same origin over https.
        stored(fetch_store(
            &mut jar,
            "https://hub.test",
            "https://hub.test/set",
            "f1_strict=1; SameSite=Strict; Secure; Path=/",
        ));
        // F6: sibling subdomains are same-site, even for Strict.
        stored(fetch_store(
            &mut jar,
            "https://app.hub.test",
            "https://api.hub.test/set",
            "f6_strict=1; SameSite=Strict; Secure; Path=/",
        ));
        assert!(fetch_sends(
            &jar,
            "https://app.hub.test",
            "https://api.hub.test/echo",
            "f6_strict"
        ));
        // F7: SameSite=None needs Secure.
        assert_eq!(
            rejected(fetch_store(
                &mut jar,
                "https://hub.test",
                "https://hub.test/set",
                "f7_none=1; SameSite=None; Path=/"
            )),
            Rejection::SameSiteNoneInsecure
        );
        // F8: http://localhost is secure.
        stored(fetch_store(
            &mut jar,
            "http://localhost:3000",
            "http://localhost:3000/set",
            "__Host-f8=1; Secure; Path=/; SameSite=Lax",
        ));
        // F9: another host over plain http is not.
        assert_eq!(
            rejected(fetch_store(
                &mut jar,
                "http://hub.test:3000",
                "http://hub.test:3000/set",
                "f9_secure=1; Secure; SameSite=Lax; Path=/"
            )),
            Rejection::SecureOverInsecure,
            "{}",
            profile.name
        );
    }
}
