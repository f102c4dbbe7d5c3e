//! The checks are pure: they run on recorded observations (JSON) and on
//! hand-written ones, with no network. Also: nothing secret is recorded.

use authjar_doctor::observe::{Observations, RecordedRequest, RecordedResponse};
use authjar_doctor::target::{ApiPaths, CredentialMode};
use authjar_doctor::{check, Exchange, Step};

use crate::fixture::{assert_ids, doctor, dump, start, Cors, Spec, PASSWORD};

/// 2026-01-01T00:00:00Z.
const NOW: i64 = 1_767_225_600;
const APP: &str = "https://app.hub.test";
const API: &str = "https://api.hub.test";

#[tokio::test]
async fn recorded_observations_hold_no_secret_and_give_the_same_diagnoses() {
    let running = start(Spec {
        cors: Cors::Star,
        ..Spec::sibling()
    })
    .await;
    let (obs, found) = doctor(&running, |_| {}).await;
    let json = serde_json::to_string(&obs).unwrap();
    assert!(!json.contains(PASSWORD), "the password is recorded");
    assert!(!json.contains("tok-"), "a CSRF token is recorded");
    assert!(
        json.contains("__Host-session=*"),
        "cookie values are masked, names kept"
    );
    let replayed: Observations = serde_json::from_str(&json).unwrap();
    assert_eq!(check(&replayed, obs.observed_at), found);
}

fn exchange(step: Step, method: &str, path: &str, headers: &[(&str, &str)]) -> Exchange {
    Exchange {
        step,
        app: Some(APP.into()),
        request: RecordedRequest {
            method: method.into(),
            url: format!("{API}{path}"),
            headers: vec![("origin".into(), APP.into())],
            body: None,
        },
        response: Some(RecordedResponse {
            status: if method == "OPTIONS" { 204 } else { 200 },
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: None,
        }),
        error: None,
    }
}

fn observations(exchanges: Vec<Exchange>) -> Observations {
    Observations {
        api: API.into(),
        apps: vec![APP.into()],
        paths: ApiPaths::authjar(),
        csrf_header: "x-csrf-token".into(),
        credentials: CredentialMode::Login,
        observed_at: NOW,
        tls: None,
        exchanges,
    }
}

const GOOD: [(&str, &str); 5] = [
    ("access-control-allow-origin", APP),
    ("access-control-allow-credentials", "true"),
    ("vary", "Origin"),
    ("strict-transport-security", "max-age=31536000"),
    (
        "set-cookie",
        "__Host-s=****; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=3600",
    ),
];

/// The login response with one header replaced (or removed when `value` is empty).
fn login_with(name: &str, value: &str) -> Observations {
    let mut headers: Vec<(&str, &str)> = GOOD.iter().copied().filter(|(k, _)| *k != name).collect();
    if !value.is_empty() {
        headers.push((name, value));
    }
    observations(vec![exchange(Step::Login, "POST", "/auth/login", &headers)])
}

#[test]
fn cors_headers_on_the_login_response_table() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("vary", "Origin", &[]),
        ("vary", "Accept-Encoding, origin", &[]),
        (
            "access-control-allow-origin",
            "*",
            &["cors-wildcard-with-credentials"],
        ),
        (
            "access-control-allow-origin",
            "https://app.hub.test/",
            &["cors-trailing-slash-origin"],
        ),
        (
            "access-control-allow-origin",
            "https://app.hub.test, https://b.test",
            &["cors-origin-not-echoed"],
        ),
        (
            "access-control-allow-origin",
            "https://APP.hub.test",
            &["cors-origin-not-echoed"],
        ),
        (
            "access-control-allow-origin",
            "",
            &["cors-origin-not-echoed"],
        ),
        (
            "access-control-allow-credentials",
            "True",
            &["cors-credentials-not-allowed"],
        ),
        (
            "access-control-allow-credentials",
            "",
            &["cors-credentials-not-allowed"],
        ),
        ("vary", "", &["cors-missing-vary-origin"]),
        ("vary", "Accept-Encoding", &["cors-missing-vary-origin"]),
    ];
    for (name, value, expected) in cases {
        let found = check(&login_with(name, value), NOW);
        let mut ids: Vec<&str> = found.iter().map(|d| d.id()).collect();
        ids.sort_unstable();
        assert_eq!(&ids, expected, "{name}: {value}\n{}", dump(&found));
    }
}

#[test]
fn preflight_answers_table() {
    let cases: &[(u16, &str, &[&str])] = &[
        (204, "Content-Type, X-CSRF-Token", &[]),
        (200, "content-type,x-csrf-token,x-requested-with", &[]),
        (204, "Content-Type", &["cors-csrf-header-not-allowed"]),
        (204, "X-CSRF-Token", &["cors-content-type-not-allowed"]),
        (
            204,
            "*",
            &[
                "cors-content-type-not-allowed",
                "cors-csrf-header-not-allowed",
            ],
        ),
        (
            403,
            "Content-Type, X-CSRF-Token",
            &["cors-preflight-refused"],
        ),
    ];
    for (status, allow, expected) in cases {
        let mut headers: Vec<(&str, &str)> = GOOD[..3].to_vec();
        headers.push(("access-control-allow-headers", allow));
        let mut pre = exchange(
            Step::Preflight {
                path: "/auth/login".into(),
            },
            "OPTIONS",
            "/auth/login",
            &headers,
        );
        pre.response.as_mut().unwrap().status = *status;
        let mut obs = login_with("vary", "Origin");
        obs.exchanges.push(pre);
        let found = check(&obs, NOW);
        let mut ids: Vec<&str> = found.iter().map(|d| d.id()).collect();
        ids.sort_unstable();
        assert_eq!(&ids, expected, "{status} {allow}\n{}", dump(&found));
    }
}

#[test]
fn a_401_without_cors_headers_is_a_warning_when_successes_have_them() {
    let mut obs = login_with("vary", "Origin");
    let mut anonymous = exchange(Step::MeAnonymous, "GET", "/auth/me", &[]);
    anonymous.response.as_mut().unwrap().status = 401;
    obs.exchanges.insert(0, anonymous);
    assert_ids(&check(&obs, NOW), &["cors-missing-on-error-responses"]);
}

#[test]
fn an_expired_or_untrusted_certificate_and_one_about_to_expire() {
    let tls = |verification_error: Option<&str>, not_after: i64| {
        let mut obs = login_with("vary", "Origin");
        obs.tls = Some(authjar_doctor::observe::TlsObservation {
            host: "api.hub.test".into(),
            port: 443,
            handshake_error: None,
            verification_error: verification_error.map(str::to_owned),
            not_after: Some(not_after),
            names: vec!["api.hub.test".into()],
            issuer: Some("CN=test".into()),
        });
        check(&obs, NOW)
    };
    assert_ids(&tls(None, NOW + 90 * 86_400), &[]);
    assert_ids(&tls(None, NOW + 13 * 86_400), &["tls-expiring-soon"]);
    assert_ids(
        &tls(Some("invalid peer certificate: Expired"), NOW - 86_400),
        &["tls-certificate-invalid"],
    );
}

#[test]
fn a_login_that_sets_no_cookie() {
    assert_ids(
        &check(&login_with("set-cookie", ""), NOW),
        &["login-sets-no-cookies"],
    );
}

/// The login observed from `app` against `api`, setting `line`.
fn login_between(app: &str, api: &str, line: &str) -> Vec<authjar_doctor::Diagnosis> {
    let mut obs = login_with("set-cookie", line);
    obs.apps = vec![app.into()];
    obs.api = api.into();
    for e in &mut obs.exchanges {
        e.app = Some(app.into());
        e.request.url = e.request.url.replace(API, api);
        e.request.headers = vec![("origin".into(), app.into())];
        for (k, v) in &mut e.response.as_mut().unwrap().headers {
            if k == "access-control-allow-origin" {
                *v = app.into();
            }
        }
    }
    check(&obs, NOW)
}

#[test]
fn cookie_scope_and_samesite_table() {
    let sibling = ("https://app.hub.test", "https://api.hub.test");
    let unrelated = ("https://hub.test", "https://hub-api.test");
    let cases: &[((&str, &str), &str, &[&str])] = &[
        // A cookie scoped to paths the doctor does not call is by design.
        (
            sibling,
            "__Secure-r=****; HttpOnly; Secure; SameSite=Lax; Path=/elsewhere; Max-Age=60",
            &[],
        ),
        // Strict and Lax are fine between sibling hosts (docs/browser-facts.md fact 6).
        (
            sibling,
            "__Host-s=****; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=60",
            &[],
        ),
        // A cross-site fetch can never set a Strict cookie (fact 11).
        (
            unrelated,
            "__Host-s=****; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=60",
            &["cross-site-third-party-cookies"],
        ),
        (
            sibling,
            "__Host-s=****; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=999999999",
            &["lifetime-over-400-days"],
        ),
        (
            sibling,
            "__Host-s=****; HttpOnly; SameSite=Lax; Path=/; Max-Age=60",
            &["host-prefix-invalid"],
        ),
        (
            sibling,
            "s=****; HttpOnly; Secure; SameSite=Lax; Domain=vercel.app; Path=/; Max-Age=60",
            &["cookie-domain-public-suffix"],
        ),
        (
            sibling,
            "s=****; HttpOnly; Secure; SameSite=Lax; Domain=other.test; Path=/; Max-Age=60",
            &["cookie-domain-mismatch"],
        ),
    ];
    for ((app, api), line, expected) in cases {
        let found = login_between(app, api, line);
        let mut ids: Vec<&str> = found.iter().map(|d| d.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(&ids, expected, "{app} -> {api}: {line}\n{}", dump(&found));
    }
}

/// A logout probe from `origin` answered `status` with `body` (and
/// `content_type`), then the me path answering `me`.
fn logout_probe(
    attack: authjar_doctor::observe::Attack,
    status: u16,
    content_type: &str,
    body: &str,
    me: u16,
) -> Observations {
    let mut login = exchange(Step::Login, "POST", "/auth/login", &GOOD);
    login
        .request
        .headers
        .push(("x-csrf-token".into(), "<redacted>".into()));
    let mut me_ok = exchange(Step::Me, "GET", "/auth/me", &GOOD[..3]);
    me_ok.response.as_mut().unwrap().body = Some("{}".into());
    let step = Step::Attack {
        method: "POST".into(),
        path: "/auth/logout".into(),
        attack,
    };
    let mut probe = exchange(
        step,
        "POST",
        "/auth/logout",
        &[("content-type", content_type)],
    );
    probe.request.headers = vec![("origin".into(), "https://evil.hub.test".into())];
    let r = probe.response.as_mut().unwrap();
    r.status = status;
    r.body = Some(body.into());
    let after = Step::MeAfterAttack {
        path: "/auth/logout".into(),
        attack,
        changed: Vec::new(),
    };
    let mut me_after = exchange(after, "GET", "/auth/me", &GOOD[..3]);
    me_after.response.as_mut().unwrap().status = me;
    observations(vec![login, me_ok, probe, me_after])
}

#[test]
fn a_csrf_probe_counts_as_accepted_only_by_its_effect_table() {
    use authjar_doctor::observe::Attack::{ForeignWithToken, NoToken, SameSite};
    let json = "application/json";
    let html = "text/html; charset=utf-8";
    let cases: [(&str, Observations, &[&str]); 7] = [
        (
            "a sibling's logout that ended the session",
            logout_probe(SameSite, 204, json, "", 401),
            &["csrf-not-enforced"],
        ),
        (
            "Laravel's 419",
            logout_probe(
                SameSite,
                419,
                json,
                r#"{"message":"CSRF token mismatch."}"#,
                401,
            ),
            &[],
        ),
        (
            "Rails' HTML 422",
            logout_probe(
                SameSite,
                422,
                html,
                "<h1>The change you wanted was rejected</h1>",
                200,
            ),
            &[],
        ),
        (
            "a catch-all's 200 {} that changed nothing",
            logout_probe(SameSite, 200, json, "{}", 200),
            &[],
        ),
        (
            "an HTML page answering 200",
            logout_probe(
                SameSite,
                200,
                html,
                "<!doctype html><div id=app></div>",
                401,
            ),
            &[],
        ),
        (
            "a valid token from another site: a note",
            logout_probe(ForeignWithToken, 204, json, "", 401),
            &["csrf-foreign-origin-accepted"],
        ),
        (
            "the app's own origin without the token: a note",
            logout_probe(NoToken, 204, json, "", 401),
            &["csrf-not-enforced"],
        ),
    ];
    for (name, obs, expect) in cases {
        let found: Vec<authjar_doctor::Diagnosis> = check(&obs, NOW)
            .into_iter()
            .filter(|d| d.id().starts_with("csrf"))
            .collect();
        let ids: Vec<&str> = found.iter().map(|d| d.id()).collect();
        assert_eq!(ids, expect, "{name}: {}", dump(&found));
        let errors = found
            .iter()
            .filter(|d| d.finding.severity == authjar_policy::Severity::Error)
            .count();
        let want_error = name.starts_with("a sibling");
        assert_eq!(errors, usize::from(want_error), "{name}: {}", dump(&found));
    }
    let html_page = logout_probe(SameSite, 200, html, "<p>app</p>", 401);
    let (checked, notes) = authjar_doctor::checks::csrf_coverage(&html_page);
    assert!(!checked && notes[0].contains("HTML"), "{notes:?}");
}
