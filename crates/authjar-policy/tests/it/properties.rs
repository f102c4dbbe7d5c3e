//! Property tests over generated topologies: for every topology authjar
//! supports (no error finding), the derived cookies work in the browser model.

use authjar_policy::browser::{BrowserProfile, Jar, RequestContext, StoreOutcome};
use authjar_policy::{
    audit, CookieKind, CookiePolicy, CookieSpec, Deployment, Severity, WebOrigin,
};
use proptest::prelude::*;
use url::Url;

use crate::helpers::{deployment, lifetimes, NOW};

const API_HOSTS: &[&str] = &[
    "localhost",
    "127.0.0.1",
    "api.hub.test",
    "hub.test",
    "hub-api.test",
    "myapi.vercel.app",
    "api.example.co.uk",
];
const APP_HOSTS: &[&str] = &[
    "localhost",
    "127.0.0.1",
    "app.hub.test",
    "hub.test",
    "other.test",
    "myapp.vercel.app",
    "www.example.co.uk",
];

fn origin_strategy(
    hosts: &'static [&'static str],
    ports: &'static [&'static str],
) -> impl Strategy<Value = String> {
    (
        prop::sample::select(&["http", "https"][..]),
        prop::sample::select(hosts),
        prop::sample::select(ports),
    )
        .prop_map(|(s, h, p)| format!("{s}://{h}{p}"))
}

fn topology() -> impl Strategy<Value = Deployment> {
    (
        origin_strategy(API_HOSTS, &["", ":8000", ":8443"]),
        prop::sample::select(&["", "/api"][..]),
        prop::collection::vec(origin_strategy(APP_HOSTS, &["", ":3000"]), 1..3),
        any::<bool>(),
    )
        .prop_map(|(api, base, apps, shared)| {
            let public_url = format!("{api}{base}");
            let apps: Vec<&str> = apps.iter().map(String::as_str).collect();
            let probe = deployment(&public_url, &apps, None);
            let cd = shared
                .then(|| authjar_policy::site::registrable_domain(probe.api().host()))
                .flatten();
            deployment(&public_url, &apps, cd.as_deref())
        })
}

fn supported(d: &Deployment) -> bool {
    audit(d, &lifetimes(), NOW)
        .iter()
        .all(|f| f.severity != Severity::Error)
}

fn url(d: &Deployment, path: &str) -> Url {
    Url::parse(&d.public_url.join(path)).unwrap()
}

fn must_store(jar: &mut Jar, spec: &CookieSpec, ctx: &RequestContext) {
    let out = jar.store(&spec.set_cookie("v"), ctx, NOW);
    assert!(
        matches!(out, StoreOutcome::Stored(_)),
        "{} not stored: {out:?}",
        spec.name
    );
}

fn assert_sent(jar: &Jar, spec: &CookieSpec, ctx: &RequestContext) {
    let sent = jar.sent(ctx, NOW);
    assert!(
        sent.iter().any(|c| c.name == spec.name),
        "{} not sent to {}: {:?}",
        spec.name,
        ctx.url,
        jar.decide(ctx, NOW)
    );
}

fn check_app(d: &Deployment, policy: &CookiePolicy, app: &WebOrigin) {
    let mut jar = Jar::new(BrowserProfile::CHROMIUM);
    let csrf_fetch = RequestContext::fetch(app, url(d, "/auth/csrf"), "GET");
    let pre = policy.get(CookieKind::PreSession).unwrap();
    must_store(&mut jar, pre, &csrf_fetch);
    let login = RequestContext::fetch(app, url(d, "/auth/login"), "POST");
    assert_sent(&jar, pre, &login);
    for kind in [CookieKind::Access, CookieKind::Refresh, CookieKind::Csrf] {
        if let Some(spec) = policy.get(kind) {
            must_store(&mut jar, spec, &login);
        }
    }
    assert_sent(
        &jar,
        policy.get(CookieKind::Access).unwrap(),
        &RequestContext::fetch(app, url(d, "/auth/me"), "GET"),
    );
    let refresh = RequestContext::fetch(app, url(d, "/auth/refresh"), "POST");
    assert_sent(&jar, policy.get(CookieKind::Refresh).unwrap(), &refresh);
    if let Some(csrf) = policy.get(CookieKind::Csrf) {
        let page = Url::parse(&format!("{app}/")).unwrap();
        assert!(
            jar.visible_to_script(&page, NOW)
                .iter()
                .any(|c| c.name == csrf.name),
            "csrf cookie not readable on {app}"
        );
    }
    // Logout: each removal cookie deletes what was set.
    let logout = RequestContext::fetch(app, url(d, "/auth/logout"), "POST");
    for spec in policy
        .iter()
        .filter(|s| s.kind != CookieKind::OauthTransaction)
    {
        let out = jar.store(&spec.removal(), &logout, NOW);
        assert_eq!(
            out,
            StoreOutcome::Deleted { removed: true },
            "removal of {}",
            spec.name
        );
    }
    assert!(jar.cookies().is_empty());
}

fn check_oauth(d: &Deployment, policy: &CookiePolicy, app: &WebOrigin) {
    let tx = policy.get(CookieKind::OauthTransaction).unwrap();
    let mut jar = Jar::new(BrowserProfile::CHROMIUM);
    let start = RequestContext::navigate(url(d, "/auth/oauth/p/start"), Some(app), "GET").unwrap();
    must_store(&mut jar, tx, &start);
    let idp = WebOrigin::parse("https://idp.example").unwrap();
    let back = RequestContext::navigate(
        url(d, "/auth/oauth/p/callback?code=c&state=s"),
        Some(&idp),
        "GET",
    )
    .unwrap();
    assert_sent(&jar, tx, &back);
    let out = jar.store(&tx.removal(), &back, NOW);
    assert_eq!(out, StoreOutcome::Deleted { removed: true });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, max_global_rejects: 16_384, ..ProptestConfig::default() })]

    #[test]
    fn derived_cookies_work_in_every_supported_topology(d in topology()) {
        prop_assume!(supported(&d));
        let policy = CookiePolicy::derive(&d, &lifetimes());
        for app in &d.app_origins {
            check_app(&d, &policy, app);
            check_oauth(&d, &policy, app);
        }
    }

    #[test]
    fn the_oauth_transaction_cookie_is_always_lax(d in topology()) {
        let policy = CookiePolicy::derive(&d, &lifetimes());
        let tx = policy.get(CookieKind::OauthTransaction).unwrap();
        prop_assert_eq!(tx.same_site, authjar_policy::SameSite::Lax);
        prop_assert!(!tx.partitioned);
    }
}

#[test]
fn the_generator_covers_every_relation() {
    use authjar_policy::Relation;
    let samples = [
        (
            "http://localhost:8000",
            "http://localhost:3000",
            Relation::SameHost,
        ),
        ("https://hub.test", "https://hub.test", Relation::SameOrigin),
        (
            "https://api.hub.test",
            "https://app.hub.test",
            Relation::SameSite,
        ),
        (
            "https://hub-api.test",
            "https://hub.test",
            Relation::CrossSite,
        ),
    ];
    for (api, app, rel) in samples {
        let d = deployment(api, &[app], None);
        assert!(supported(&d), "{api} {app}");
        assert_eq!(d.relations().next().unwrap().1, rel);
    }
}
