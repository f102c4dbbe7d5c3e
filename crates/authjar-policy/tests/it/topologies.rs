//! Table tests: every topology of the README ("Deploying"), the derived cookies (as the
//! exact `Set-Cookie` lines authjar emits) and the findings.

use authjar_policy::{audit, CookieKind, CookiePolicy, Environment, PublicUrl, Severity};

use crate::helpers::{deployment, deployment_in, lifetimes, NOW};

struct Case {
    name: &'static str,
    public_url: &'static str,
    apps: &'static [&'static str],
    cookie_domain: Option<&'static str>,
    environment: Option<Environment>,
    cookies: &'static [&'static str],
    findings: &'static [&'static str],
}

const DEV_COOKIES: &[&str] = &[
    "access_token=v; HttpOnly; SameSite=Lax; Path=/; Max-Age=1800",
    "refresh_token=v; HttpOnly; SameSite=Lax; Path=/; Max-Age=2592000",
    "csrf_token=v; SameSite=Lax; Path=/; Max-Age=2592000",
    "pre_session=v; HttpOnly; SameSite=Lax; Path=/; Max-Age=86400",
    "oauth_tx=v; HttpOnly; SameSite=Lax; Path=/; Max-Age=600",
];

const DEV_COOKIES_NO_CSRF: &[&str] = &[
    "access_token=v; HttpOnly; SameSite=Lax; Path=/; Max-Age=1800",
    "refresh_token=v; HttpOnly; SameSite=Lax; Path=/; Max-Age=2592000",
    "pre_session=v; HttpOnly; SameSite=Lax; Path=/; Max-Age=86400",
    "oauth_tx=v; HttpOnly; SameSite=Lax; Path=/; Max-Age=600",
];

const SIBLING_COOKIES: &[&str] = &[
    "__Host-access_token=v; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=1800",
    "__Host-refresh_token=v; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=2592000",
    "__Host-pre_session=v; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=86400",
    "__Host-oauth_tx=v; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=600",
];

const PARTITIONED_COOKIES: &[&str] = &[
    "__Host-access_token=v; HttpOnly; SameSite=None; Partitioned; Secure; Path=/; Max-Age=1800",
    "__Host-refresh_token=v; HttpOnly; SameSite=None; Partitioned; Secure; Path=/; Max-Age=2592000",
    "__Host-pre_session=v; HttpOnly; SameSite=None; Partitioned; Secure; Path=/; Max-Age=86400",
    "__Host-oauth_tx=v; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=600",
];

const CASES: &[Case] = &[
    Case {
        name: "development on localhost ports: host-only Lax cookies, no Secure, readable CSRF cookie",
        public_url: "http://localhost:8000",
        apps: &["http://localhost:3000"],
        cookie_domain: None,
        environment: None,
        cookies: DEV_COOKIES,
        findings: &[],
    },
    Case {
        name: "the post's classic mistake: page on 127.0.0.1, API on localhost",
        public_url: "http://localhost:8000",
        apps: &["http://127.0.0.1:3000"],
        cookie_domain: None,
        environment: None,
        cookies: DEV_COOKIES_NO_CSRF,
        findings: &["localhost-vs-127-mixed"],
    },
    Case {
        name: "same origin over https: every cookie prefixed, CSRF cookie readable",
        public_url: "https://hub.test",
        apps: &["https://hub.test"],
        cookie_domain: None,
        environment: None,
        cookies: &[
            "__Host-access_token=v; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=1800",
            "__Host-refresh_token=v; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=2592000",
            "__Host-csrf_token=v; SameSite=Lax; Secure; Path=/; Max-Age=2592000",
            "__Host-pre_session=v; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=86400",
            "__Host-oauth_tx=v; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=600",
        ],
        findings: &[],
    },
    Case {
        name: "same origin behind a proxy with a path prefix: refresh path follows the prefix",
        public_url: "https://hub.test/api",
        apps: &["https://hub.test"],
        cookie_domain: None,
        environment: None,
        cookies: &[
            "__Host-access_token=v; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=1800",
            "__Host-refresh_token=v; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=2592000",
            "__Host-csrf_token=v; SameSite=Lax; Secure; Path=/; Max-Age=2592000",
            "__Host-pre_session=v; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=86400",
            "__Host-oauth_tx=v; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=600",
        ],
        findings: &[],
    },
    Case {
        name: "sibling subdomains: Lax is enough (same site), CSRF token in bodies only",
        public_url: "https://api.hub.test",
        apps: &["https://app.hub.test"],
        cookie_domain: None,
        environment: None,
        cookies: SIBLING_COOKIES,
        findings: &[],
    },
    Case {
        name: "sibling subdomains with cookie_domain set on purpose: __Secure- with Domain, readable CSRF",
        public_url: "https://api.hub.test",
        apps: &["https://app.hub.test"],
        cookie_domain: Some("hub.test"),
        environment: None,
        cookies: &[
            "__Secure-access_token=v; HttpOnly; SameSite=Lax; Secure; Path=/; Domain=hub.test; Max-Age=1800",
            "__Secure-refresh_token=v; HttpOnly; SameSite=Lax; Secure; Path=/; Domain=hub.test; Max-Age=2592000",
            "__Secure-csrf_token=v; SameSite=Lax; Secure; Path=/; Domain=hub.test; Max-Age=2592000",
            "__Host-pre_session=v; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=86400",
            "__Host-oauth_tx=v; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=600",
        ],
        findings: &[],
    },
    Case {
        name: "unrelated sites: partitioned SameSite=None cookies, OAuth cookie stays Lax, Safari warning",
        public_url: "https://hub-api.test",
        apps: &["https://hub.test"],
        cookie_domain: None,
        environment: None,
        cookies: PARTITIONED_COOKIES,
        findings: &["cross-site-third-party-cookies"],
    },
    Case {
        name: "two apps on a PSL hosting suffix are cross-site",
        public_url: "https://myapi.vercel.app",
        apps: &["https://myapp.vercel.app"],
        cookie_domain: None,
        environment: None,
        cookies: PARTITIONED_COOKIES,
        findings: &["cross-site-third-party-cookies", "psl-hosting-domain"],
    },
    Case {
        name: "http fake domain in development: same site, no Secure possible",
        public_url: "http://api.local.cat-therapist.com:8000",
        apps: &["http://local.cat-therapist.com:3000"],
        cookie_domain: None,
        environment: None,
        cookies: DEV_COOKIES_NO_CSRF,
        findings: &["http-fake-domain"],
    },
    Case {
        name: "the post's rookie production config: Domain=localhost and a localhost CORS origin",
        public_url: "https://api.cat-therapist-hub.com",
        apps: &["http://localhost:3000", "https://cat-therapist-hub.com"],
        cookie_domain: Some("localhost"),
        environment: Some(Environment::Production),
        // The leftover http://localhost origin is cross-site (schemeful) to
        // the https API, so it even drags the policy into partitioned cookies.
        cookies: &[
            "__Secure-access_token=v; HttpOnly; SameSite=None; Partitioned; Secure; Path=/; Domain=localhost; Max-Age=1800",
            "__Secure-refresh_token=v; HttpOnly; SameSite=None; Partitioned; Secure; Path=/; Domain=localhost; Max-Age=2592000",
            "__Host-pre_session=v; HttpOnly; SameSite=None; Partitioned; Secure; Path=/; Max-Age=86400",
            "__Host-oauth_tx=v; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=600",
        ],
        findings: &["cookie-domain-localhost", "localhost-origin-in-production"],
    },
    Case {
        name: "ENVIRONMENT=production with BASE_URL left on localhost",
        public_url: "http://localhost:8000",
        apps: &["http://localhost:3000"],
        cookie_domain: None,
        environment: Some(Environment::Production),
        cookies: DEV_COOKIES,
        findings: &[
            "http-public-url-in-production",
            "localhost-origin-in-production",
            "localhost-public-url-in-production",
        ],
    },
    Case {
        name: "a wildcard origin is reported and never honoured",
        public_url: "https://api.hub.test",
        apps: &["*", "https://app.hub.test"],
        cookie_domain: None,
        environment: None,
        cookies: SIBLING_COOKIES,
        findings: &["wildcard-origin-with-credentials"],
    },
    Case {
        name: "an https API with an http app origin is cross-site and insecure",
        public_url: "https://api.hub.test",
        apps: &["http://app.hub.test"],
        cookie_domain: None,
        environment: None,
        cookies: PARTITIONED_COOKIES,
        findings: &["insecure-app-origin"],
    },
    Case {
        name: "cross-site over plain http cannot work at all",
        public_url: "http://api.other.test",
        apps: &["http://app.hub.test"],
        cookie_domain: None,
        environment: None,
        cookies: DEV_COOKIES_NO_CSRF,
        findings: &["http-fake-domain", "samesite-none-without-secure"],
    },
    Case {
        name: "a cookie_domain that is a public suffix",
        public_url: "https://myapi.vercel.app",
        apps: &["https://myapi.vercel.app"],
        cookie_domain: Some("vercel.app"),
        environment: None,
        cookies: &[
            "__Secure-access_token=v; HttpOnly; SameSite=Lax; Secure; Path=/; Domain=vercel.app; Max-Age=1800",
            "__Secure-refresh_token=v; HttpOnly; SameSite=Lax; Secure; Path=/; Domain=vercel.app; Max-Age=2592000",
            "__Secure-csrf_token=v; SameSite=Lax; Secure; Path=/; Domain=vercel.app; Max-Age=2592000",
            "__Host-pre_session=v; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=86400",
            "__Host-oauth_tx=v; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=600",
        ],
        findings: &["cookie-domain-public-suffix"],
    },
];

#[test]
fn every_topology_derives_the_expected_cookies_and_findings() {
    for case in CASES {
        let url = PublicUrl::parse(case.public_url).unwrap();
        let env = case.environment.unwrap_or(Environment::infer(&url));
        let d = deployment_in(url, case.apps, case.cookie_domain, env);
        let policy = CookiePolicy::derive(&d, &lifetimes());
        let cookies: Vec<String> = policy.iter().map(|c| c.set_cookie("v")).collect();
        assert_eq!(cookies, case.cookies, "cookies of: {}", case.name);
        let mut ids: Vec<&str> = audit(&d, &lifetimes(), NOW).iter().map(|f| f.id).collect();
        ids.sort_unstable();
        assert_eq!(ids, case.findings, "findings of: {}", case.name);
    }
}

#[test]
fn removal_cookies_repeat_domain_path_and_prefix_with_max_age_zero() {
    let d = deployment(
        "https://api.hub.test",
        &["https://app.hub.test"],
        Some("hub.test"),
    );
    let p = CookiePolicy::derive(&d, &lifetimes());
    let refresh = p.get(CookieKind::Refresh).unwrap();
    assert_eq!(
        refresh.removal(),
        "__Secure-refresh_token=; HttpOnly; SameSite=Lax; Secure; Path=/; Domain=hub.test; Max-Age=0"
    );
}

#[test]
fn the_unrelated_sites_warning_is_a_warning_not_an_error() {
    let d = deployment("https://hub-api.test", &["https://hub.test"], None);
    let f = audit(&d, &lifetimes(), NOW);
    assert_eq!(f[0].severity, Severity::Warning);
    assert!(f[0].fix.contains("reverse proxy"));
}

#[test]
fn the_localhost_127_fix_names_the_host_to_use() {
    let d = deployment("http://localhost:8000", &["http://127.0.0.1:3000"], None);
    let f = audit(&d, &lifetimes(), NOW);
    assert!(f[0].fix.contains("http://localhost:3000"), "{}", f[0].fix);
}

#[test]
fn refresh_ttl_over_400_days_is_capped_and_reported() {
    let d = deployment("http://localhost:8000", &["http://localhost:3000"], None);
    let mut l = lifetimes();
    l.refresh = std::time::Duration::from_secs(500 * 86_400);
    let p = CookiePolicy::derive(&d, &l);
    assert_eq!(
        p.get(CookieKind::Refresh).unwrap().max_age_secs,
        400 * 86_400
    );
    let ids: Vec<_> = audit(&d, &l, NOW).iter().map(|f| f.id).collect();
    assert_eq!(ids, ["lifetime-over-400-days"]);
}
