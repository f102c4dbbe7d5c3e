//! `judge_set_cookie`: the findings a browser-eyed review gives single
//! `Set-Cookie` lines, as the doctor will see them on live responses.

use authjar_policy::judge::{judge_set_cookie, CookieSighting};
use authjar_policy::WebOrigin;
use url::Url;

use crate::helpers::NOW;

fn ids(header: &str, app: &str, response: &str, production: bool) -> Vec<&'static str> {
    let url = Url::parse(response).unwrap();
    let app = WebOrigin::parse(app).unwrap();
    let s = CookieSighting {
        header,
        response_url: &url,
        app: &app,
        production,
    };
    let mut v: Vec<_> = judge_set_cookie(&s, NOW).iter().map(|f| f.id).collect();
    v.sort_unstable();
    v
}

#[test]
fn set_cookie_lines_get_the_findings_a_browser_would_imply() {
    let table: &[(&str, &str, &str, bool, &[&str])] = &[
        (
            "__Host-access_token=x; Secure; HttpOnly; Path=/; SameSite=Lax; Max-Age=1800",
            "https://app.hub.test",
            "https://api.hub.test/auth/login",
            true,
            &[],
        ),
        (
            "session_token=x; Domain=localhost; Secure; HttpOnly; Max-Age=60",
            "https://cat-therapist-hub.com",
            "https://api.cat-therapist-hub.com/login",
            true,
            &["cookie-domain-localhost"],
        ),
        (
            "a=x; SameSite=None; Max-Age=60",
            "https://app.hub.test",
            "https://api.hub.test/login",
            true,
            &["samesite-none-without-secure"],
        ),
        (
            "a=x; Secure; Max-Age=60",
            "http://local.hub.test",
            "http://api.local.hub.test/login",
            false,
            &["secure-cookie-over-http"],
        ),
        (
            "__Host-a=x; Secure; Path=/; Domain=hub.test; Max-Age=60",
            "https://app.hub.test",
            "https://api.hub.test/login",
            true,
            &["host-prefix-invalid"],
        ),
        (
            "__Secure-a=x; Max-Age=60",
            "https://app.hub.test",
            "https://api.hub.test/login",
            true,
            &["secure-prefix-invalid"],
        ),
        (
            "a=x; Secure; SameSite=Lax",
            "https://app.hub.test",
            "https://api.hub.test/login",
            true,
            &["session-only-cookie"],
        ),
        (
            "a=x; Secure; Max-Age=40000000",
            "https://app.hub.test",
            "https://api.hub.test/login",
            true,
            &["lifetime-over-400-days"],
        ),
        (
            "a=x; Secure; SameSite=None; Max-Age=60",
            "https://hub.test",
            "https://hub-api.test/login",
            true,
            &["cross-site-third-party-cookies"],
        ),
        (
            "a=x; Secure; SameSite=None; Partitioned; Max-Age=60",
            "https://hub.test",
            "https://hub-api.test/login",
            true,
            &[],
        ),
        (
            "a=x; SameSite=Lax; Max-Age=60",
            "http://127.0.0.1:3000",
            "http://localhost:8000/login",
            false,
            &["cross-site-third-party-cookies"],
        ),
        (
            "a=x; Domain=vercel.app; Secure; Max-Age=60",
            "https://a.vercel.app",
            "https://a.vercel.app/login",
            true,
            &["cookie-domain-public-suffix"],
        ),
    ];
    for (header, app, response, production, expected) in table {
        assert_eq!(
            ids(header, app, response, *production),
            *expected,
            "{header} ({app} -> {response})"
        );
    }
}

#[test]
fn an_oversized_cookie_is_reported_as_too_large() {
    let header = format!("a={}; Secure; Max-Age=60", "x".repeat(5000));
    assert_eq!(
        ids(
            &header,
            "https://app.hub.test",
            "https://api.hub.test/",
            true
        ),
        ["cookie-too-large"]
    );
}

#[test]
fn domain_localhost_in_development_is_only_a_warning() {
    let url = Url::parse("http://localhost:8000/login").unwrap();
    let app = WebOrigin::parse("http://localhost:3000").unwrap();
    let s = CookieSighting {
        header: "a=x; Domain=localhost; Max-Age=60",
        response_url: &url,
        app: &app,
        production: false,
    };
    let f = judge_set_cookie(&s, NOW);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, authjar_policy::Severity::Warning);
}
