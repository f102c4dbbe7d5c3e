//! The browser client served to any origin, and `GET /auth/debug`: on in
//! development, off in production unless `debug_page = true`, never a
//! cookie value.

use axum::http::{Method, StatusCode};

use crate::helpers::{spawn, Jar};

const PRODUCTION: &[(&str, &str)] = &[
    ("AUTHJAR_PUBLIC_URL", "https://api.example.com"),
    ("AUTHJAR_APP_ORIGINS", "https://app.example.com"),
    ("AUTHJAR_SECRET", "0123456789abcdef0123456789abcdef"),
];

#[tokio::test]
async fn the_client_files_go_to_any_origin_without_credentials_and_name_the_app_origins() {
    let app = spawn(&[]).await;
    for origin in [
        "http://127.0.0.1:3000",
        "http://localhost:3000",
        "https://evil.test",
    ] {
        for path in ["/auth/client.js", "/auth/client.d.ts"] {
            let r = app
                .client
                .get(app.url(path))
                .header("origin", origin)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{path} from {origin}");
            let h = r.headers();
            assert_eq!(
                h["access-control-allow-origin"], "*",
                "{path} from {origin}"
            );
            assert!(
                h.get("access-control-allow-credentials").is_none(),
                "{path} from {origin}: never with credentials"
            );
            if path == "/auth/client.js" {
                let js = r.text().await.unwrap();
                assert!(js.contains(r#"const APP_ORIGINS = ["http://localhost:3000"];"#));
            }
        }
    }
    // Everything else keeps the exact, credentialed CORS of the allowlist.
    let r = app
        .client
        .get(app.url("/auth/me"))
        .header("origin", "http://localhost:3000")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "http://localhost:3000"
    );
    let r = app
        .client
        .get(app.url("/auth/me"))
        .header("origin", "http://127.0.0.1:3000")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn the_debug_page_names_the_127_mistake_and_its_fix() {
    let app = spawn(&[]).await;
    let r = app
        .client
        .get(app.url("/auth/debug?from=http%3A%2F%2F127.0.0.1%3A3000"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers().clone();
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    assert_eq!(h["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    assert!(
        html.contains(r#"data-finding="localhost-vs-127-mixed""#),
        "{html}"
    );
    assert!(html.contains(r#"data-finding="cors-origin-not-echoed""#));
    assert!(html.contains("Open the app at http://localhost:3000, not http://127.0.0.1:3000"));
}

#[tokio::test]
async fn the_debug_page_shows_cookie_names_never_values() {
    let app = spawn(&[]).await;
    let jar: Jar = app.register("debug@b.com").await;
    let r = app.call(Method::GET, "/auth/debug", &jar, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.body.as_str().unwrap();
    assert!(html.contains("logged in here"));
    assert!(html.contains(r#"data-cookie="access_token" data-arrived="1""#));
    for (name, value) in &jar.0 {
        assert!(
            !html.contains(value.as_str()),
            "the value of {name} is on the page"
        );
    }
    assert!(!html.contains("debug@b.com"), "no user data");
}

#[tokio::test]
async fn production_answers_404_unless_debug_page_is_on() {
    let app = spawn(PRODUCTION).await;
    let r = app
        .call(Method::GET, "/auth/debug", &Jar::default(), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "debug_page_disabled");

    let mut env = PRODUCTION.to_vec();
    env.push(("AUTHJAR_DEBUG_PAGE", "true"));
    let app = spawn(&env).await;
    let r = app
        .call(Method::GET, "/auth/debug", &Jar::default(), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);

    let app = spawn(&[("AUTHJAR_DEBUG_PAGE", "false")]).await;
    let r = app
        .call(Method::GET, "/auth/debug", &Jar::default(), None)
        .await;
    assert_eq!(r.code(), "debug_page_disabled");
}
