//! A cookie-auth API that is not authjar (Laravel-Sanctum-like: other
//! paths, a `username` login body, the token only in a readable
//! `XSRF-TOKEN` cookie sent back in `X-XSRF-TOKEN`), audited through the
//! path and body options.

use crate::fixture::{assert_ids, doctor, start, Paths, Spec};

fn sanctum_like() -> Spec {
    Spec {
        paths: Paths {
            login: "/api/v1/session".into(),
            me: "/api/v1/user".into(),
            csrf: "/sanctum/csrf-cookie".into(),
            refresh: "/api/v1/session/refresh".into(),
            logout: "/api/v1/session/logout".into(),
            providers: "/api/v1/providers".into(),
        },
        login_fields: ("username".into(), "password".into()),
        csrf_header: "x-xsrf-token".into(),
        allow_headers: "Content-Type, X-XSRF-TOKEN".into(),
        token_in_body: false,
        csrf_cookie: Some("XSRF-TOKEN={v}; SameSite=Lax; Path=/; Max-Age=7200".into()),
        session_cookie: "laravel_session={v}; HttpOnly; SameSite=Lax; Path=/; Max-Age=7200".into(),
        pre_session_cookie: "laravel_guest={v}; HttpOnly; SameSite=Lax; Path=/; Max-Age=7200"
            .into(),
        ..Spec::localhost()
    }
}

#[tokio::test]
async fn another_api_is_audited_through_the_path_and_body_options() {
    let running = start(sanctum_like()).await;
    let (obs, f) = doctor(&running, |t| {
        t.login_path = Some("/api/v1/session".into());
        t.me_path = Some("/api/v1/user".into());
        t.csrf_path = Some("/sanctum/csrf-cookie".into());
        t.refresh_path = Some("/api/v1/session/refresh".into());
        t.logout_path = Some("/api/v1/session/logout".into());
        t.login_body = Some(r#"{"username":"{email}","password":"{password}"}"#.into());
        t.csrf_header = Some("X-XSRF-TOKEN".into());
    })
    .await;
    assert_ids(&f, &[]);
    let login = obs
        .exchanges
        .iter()
        .find(|e| e.step == authjar_doctor::Step::Login)
        .unwrap();
    assert_eq!(login.response.as_ref().unwrap().status, 200);
    assert!(login.request.url.ends_with("/api/v1/session"));
    assert!(
        login
            .request
            .body
            .as_deref()
            .unwrap()
            .contains("\"username\""),
        "{:?}",
        login.request.body
    );
    assert!(
        login
            .request
            .headers
            .iter()
            .any(|(k, v)| k == "x-xsrf-token" && v == "<redacted>"),
        "{:?}",
        login.request.headers
    );
}

#[tokio::test]
async fn without_the_options_the_same_api_blocks_the_probe() {
    let running = start(sanctum_like()).await;
    let (_, f) = doctor(&running, |_| {}).await;
    assert_ids(&f, &["cors-csrf-header-not-allowed", "login-failed"]);
    let login = f.iter().find(|d| d.id() == "login-failed").unwrap();
    assert!(
        login.finding.fix.contains("--login-path"),
        "{}",
        login.finding
    );
}

#[tokio::test]
async fn the_same_api_without_csrf_on_its_own_paths_is_caught() {
    let running = start(Spec {
        check_token: false,
        check_origin: false,
        ..sanctum_like()
    })
    .await;
    let (_, f) = doctor(&running, |t| {
        t.login_path = Some("/api/v1/session".into());
        t.me_path = Some("/api/v1/user".into());
        t.csrf_path = Some("/sanctum/csrf-cookie".into());
        t.refresh_path = Some("/api/v1/session/refresh".into());
        t.logout_path = Some("/api/v1/session/logout".into());
        t.login_body = Some(r#"{"username":"{email}","password":"{password}"}"#.into());
        t.csrf_header = Some("X-XSRF-TOKEN".into());
    })
    .await;
    assert_ids(&f, &["csrf-not-enforced"]);
    assert!(
        f[0].finding.detail.contains("/api/v1/session/refresh"),
        "{}",
        f[0].finding
    );
}
