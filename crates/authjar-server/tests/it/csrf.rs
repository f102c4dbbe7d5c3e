//! The browser-security layer over HTTP: the CSRF suite, the origin corpus
//! (`origin-headers.txt`, `origin-scenarios.jsonl`), CORS, forward-auth for
//! unsafe methods, and "safe methods never change state" for every route.

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{corpus, spawn, Jar, Reply, TestApp};

const API: &str = "https://api.example.com";
const APP: &str = "https://app.example.com";

async fn corpus_app() -> TestApp {
    spawn(&[
        ("AUTHJAR_PUBLIC_URL", API),
        ("AUTHJAR_APP_ORIGINS", APP),
        ("AUTHJAR_SECRET", "0123456789abcdef0123456789abcdef"),
    ])
    .await
}

fn corpus_text(file: &str) -> String {
    String::from_utf8(corpus(file)).unwrap()
}

/// A logged-in session: cookies and its CSRF token.
async fn session(app: &TestApp, email: &str) -> (Jar, String) {
    let mut jar = app.register(email).await;
    let token = app.csrf(&mut jar).await;
    (jar, token)
}

/// Sends `method path` with exactly these headers (repeated names allowed) and the jar's cookies.
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    jar: &Jar,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Reply {
    let mut req = app.client.request(method, app.url(path));
    if !jar.0.is_empty() {
        req = req.header("cookie", jar.header());
    }
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.append(
            reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            reqwest::header::HeaderValue::from_str(v).unwrap(),
        );
    }
    req = req.headers(map);
    if let Some(b) = body {
        req = req.body(b.to_owned());
    }
    Reply::of(req.send().await.unwrap()).await
}

/// True while the session's refresh token is unrotated and its access token accepted.
async fn session_untouched(app: &TestApp, jar: &Jar) -> bool {
    app.call(Method::GET, "/auth/me", jar, None).await.status == StatusCode::OK
        && app
            .state
            .service
            .session_of_refresh(jar.get("__Host-refresh_token").unwrap())
            .await
            .unwrap()
            .is_some()
}

fn cors_headers(h: &HeaderMap) -> Vec<String> {
    h.keys()
        .map(|k| k.as_str().to_owned())
        .filter(|k| k.starts_with("access-control-"))
        .collect()
}

/// (name, request headers, expected code).
type Refusal<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

#[tokio::test]
async fn every_refusal_is_a_403_with_its_code_and_changes_nothing() {
    let app = corpus_app().await;
    let (alice, token) = session(&app, "alice@example.com").await;
    let (_, bobs_token) = session(&app, "bob@example.com").await;
    let mut pre = Jar::default();
    let pre_token = app.csrf(&mut pre).await;
    let json = ("content-type", "application/json");
    let ok_origin = ("origin", APP);
    let cases: Vec<Refusal> = vec![
        (
            "missing header",
            vec![ok_origin, json],
            "csrf_token_missing",
        ),
        (
            "wrong token",
            vec![ok_origin, json, ("x-csrf-token", "AAAA.BBBB.CCCC")],
            "csrf_token_invalid",
        ),
        (
            "another session's token",
            vec![ok_origin, json, ("x-csrf-token", &bobs_token)],
            "csrf_token_other_session",
        ),
        (
            "a pre-login token after login",
            vec![ok_origin, json, ("x-csrf-token", &pre_token)],
            "csrf_token_other_session",
        ),
        (
            "form content type",
            vec![
                ok_origin,
                ("content-type", "application/x-www-form-urlencoded"),
                ("x-csrf-token", &token),
            ],
            "content_type_not_json",
        ),
        (
            "text/plain",
            vec![
                ok_origin,
                ("content-type", "text/plain"),
                ("x-csrf-token", &token),
            ],
            "content_type_not_json",
        ),
        (
            "foreign Origin",
            vec![
                ("origin", "https://evil.test"),
                json,
                ("x-csrf-token", &token),
            ],
            "origin_not_allowed",
        ),
        (
            "Origin: null",
            vec![("origin", "null"), json, ("x-csrf-token", &token)],
            "origin_not_allowed",
        ),
        (
            "Sec-Fetch-Site cross-site without Origin",
            vec![
                ("sec-fetch-site", "cross-site"),
                json,
                ("x-csrf-token", &token),
            ],
            "cross_site_request",
        ),
    ];
    for (path, method) in [
        ("/auth/logout", Method::POST),
        ("/auth/refresh", Method::POST),
        (
            "/auth/sessions/00000000-0000-0000-0000-000000000000",
            Method::DELETE,
        ),
    ] {
        for (name, headers, code) in &cases {
            let r = send(&app, method.clone(), path, &alice, headers, Some("{}")).await;
            assert_eq!(
                (r.status, r.code()),
                (StatusCode::FORBIDDEN, *code),
                "{name} on {path}"
            );
            assert!(!r.body["message"].as_str().unwrap().is_empty());
            assert!(
                r.headers.contains_key("x-request-id"),
                "refusals carry a request id"
            );
            assert!(
                session_untouched(&app, &alice).await,
                "{name} on {path} changed the session"
            );
        }
    }
    // Login and register are protected too (login CSRF), and nothing is created.
    let body = r#"{"email":"carol@example.com","password":"correct horse"}"#;
    for path in ["/auth/register", "/auth/login"] {
        for (name, headers, code) in cases.iter().filter(|c| c.2 != "csrf_token_other_session") {
            let r = send(&app, Method::POST, path, &pre, headers, Some(body)).await;
            assert_eq!(
                (r.status, r.code()),
                (StatusCode::FORBIDDEN, *code),
                "{name} on {path}"
            );
        }
    }
    let carol = authjar_core::Email::parse("carol@example.com").unwrap();
    assert!(
        app.state
            .service
            .store()
            .user_by_email(&carol)
            .await
            .unwrap()
            .is_none(),
        "no account was created"
    );
    // The message of origin_not_allowed names the origin and the configured list.
    let r = send(
        &app,
        Method::POST,
        "/auth/logout",
        &alice,
        &[
            ("origin", "https://evil.test"),
            json,
            ("x-csrf-token", &token),
        ],
        Some("{}"),
    )
    .await;
    let msg = r.body["message"].as_str().unwrap();
    assert!(
        msg.contains("https://evil.test") && msg.contains(APP) && msg.contains(API),
        "{msg}"
    );
}

#[tokio::test]
async fn a_token_from_get_csrf_is_accepted_by_the_next_refresh_even_with_an_expired_access_token() {
    let app = corpus_app().await;
    let (mut jar, _) = session(&app, "exp@example.com").await;
    app.clock.advance(3600);
    let token = app.csrf(&mut jar).await;
    let r = send(
        &app,
        Method::POST,
        "/auth/refresh",
        &jar,
        &[
            ("origin", APP),
            ("content-type", "application/json"),
            ("x-csrf-token", &token),
        ],
        Some("{}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_ne!(
        r.body["csrf_token"].as_str().unwrap(),
        "",
        "refresh hands out a token for the session"
    );
}

#[tokio::test]
async fn login_returns_a_new_token_for_the_new_session_and_no_readable_cookie_cross_host() {
    let app = corpus_app().await;
    let (jar, token) = session(&app, "new@example.com").await;
    let (login, _) = app.login("new@example.com", "correct horse").await;
    let fresh = login.body["csrf_token"].as_str().unwrap();
    assert_ne!(fresh, token);
    assert!(
        jar.get("__Host-csrf_token").is_none(),
        "sibling hosts cannot read an API cookie: body only"
    );
}

#[tokio::test]
async fn non_browser_clients_without_origin_or_fetch_metadata_pass_the_origin_check_but_need_the_token(
) {
    let app = corpus_app().await;
    let (jar, token) = session(&app, "curl@example.com").await;
    let json = ("content-type", "application/json");
    let r = send(
        &app,
        Method::POST,
        "/auth/refresh",
        &jar,
        &[json],
        Some("{}"),
    )
    .await;
    assert_eq!(
        r.code(),
        "csrf_token_missing",
        "documented: the token is still required"
    );
    let r = send(
        &app,
        Method::POST,
        "/auth/refresh",
        &jar,
        &[json, ("x-csrf-token", &token)],
        Some("{}"),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "documented decision: no Origin, no Referer, no Sec-Fetch-Site = non-browser client"
    );
}

#[tokio::test]
async fn every_line_of_the_origin_header_corpus_is_refused_without_cors_headers() {
    let app = corpus_app().await;
    let (jar, token) = session(&app, "origins@example.com").await;
    let lines: Vec<String> = corpus_text("origin-headers.txt")
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 54);
    for line in &lines {
        let (name, value) = line.split_once(':').unwrap();
        let value = value.trim_start();
        let mut headers = vec![
            ("content-type", "application/json"),
            ("x-csrf-token", token.as_str()),
        ];
        // Header values reqwest cannot carry (the Cyrillic homograph) go through as their UTF-8 bytes.
        let raw_value = value.to_owned();
        headers.push((name, &raw_value));
        if name.eq_ignore_ascii_case("sec-fetch-site") {
            headers.push(("origin", "https://evil.com"));
        }
        let r = send_lenient(&app, &jar, &headers).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{line}: {:?}", r.body);
        assert!(
            cors_headers(&r.headers).is_empty(),
            "{line}: {:?}",
            r.headers
        );
        assert!(
            session_untouched(&app, &jar).await,
            "{line} changed the session"
        );
    }
}

/// Like `send`, but header values are passed as bytes (non-ASCII allowed).
async fn send_lenient(app: &TestApp, jar: &Jar, headers: &[(&str, &str)]) -> Reply {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.append(
            reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            reqwest::header::HeaderValue::from_bytes(v.as_bytes()).unwrap(),
        );
    }
    let req = app
        .client
        .post(app.url("/auth/refresh"))
        .header("cookie", jar.header())
        .headers(map)
        .body("{}");
    Reply::of(req.send().await.unwrap()).await
}

fn map_path(url: &str, method: &Method) -> String {
    let path = url.strip_prefix(API).unwrap();
    match (path, method) {
        ("/v1/items", &Method::POST) => "/auth/refresh".into(),
        ("/v1/items", _) => "/auth/refresh".into(),
        (p, _) if p.starts_with("/v1/") => format!("/auth/{}", &p[4..]),
        (p, _) => p.into(),
    }
}

#[tokio::test]
async fn every_origin_scenario_gets_its_expected_outcome() {
    let app = corpus_app().await;
    let (_, other_token) = session(&app, "other@example.com").await;
    let mut count = 0;
    for line in corpus_text("origin-scenarios.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        let sc: Value = serde_json::from_str(line).unwrap();
        let name = sc["name"].as_str().unwrap();
        // A fresh session per scenario, so an allowed refresh or logout cannot affect the next one.
        let (jar, token) = session(&app, &format!("s{count}@example.com")).await;
        count += 1;
        let method = Method::from_bytes(sc["method"].as_str().unwrap().as_bytes()).unwrap();
        let path = map_path(sc["url"].as_str().unwrap(), &method);
        let fill = |v: &str| {
            v.replace("{VALID_CSRF}", &token)
                .replace("{OTHER_USER_CSRF}", &other_token)
        };
        let mut headers: Vec<(String, String)> = Vec::new();
        for (k, v) in sc["headers"].as_object().unwrap() {
            match v {
                Value::Array(items) => items
                    .iter()
                    .for_each(|i| headers.push((k.clone(), fill(i.as_str().unwrap())))),
                _ => headers.push((k.clone(), fill(v.as_str().unwrap()))),
            }
        }
        let mut cookies = jar.clone();
        if sc["cookie"].as_str().unwrap().contains("__Host-csrf=") {
            cookies.0.insert("__Host-csrf".into(), token.clone());
        }
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let body = (method == Method::POST).then_some("{}");
        let r = send(&app, method.clone(), &path, &cookies, &pairs, body).await;
        let origin = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("origin"))
            .map(|(_, v)| v.clone());
        let acao = r
            .headers
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_owned());
        match sc["expect"].as_str().unwrap() {
            "allow" if method == Method::OPTIONS => {
                assert_eq!(r.status, StatusCode::NO_CONTENT, "{name}");
                assert_eq!(
                    acao.as_deref(),
                    origin.as_deref(),
                    "{name}: ACAO must equal Origin exactly"
                );
                assert_eq!(
                    r.headers["access-control-allow-credentials"], "true",
                    "{name}"
                );
                assert!(
                    r.headers["access-control-allow-headers"]
                        .to_str()
                        .unwrap()
                        .contains("X-CSRF-Token"),
                    "{name}"
                );
                assert!(
                    r.headers.get_all("vary").iter().any(|v| v == "Origin"),
                    "{name}"
                );
            }
            "allow" => {
                assert!(r.status.is_success(), "{name}: {} {:?}", r.status, r.body);
                if origin.is_some() {
                    assert_eq!(acao.as_deref(), origin.as_deref(), "{name}");
                }
            }
            "reject" => {
                assert!(
                    !r.status.is_success() || method == Method::GET,
                    "{name}: {} {:?}",
                    r.status,
                    r.body
                );
                if origin.as_deref() == Some(APP) {
                    // An allowed page may read the refusal (docs/http-api.md: CORS on errors too).
                    assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}");
                } else {
                    assert!(
                        cors_headers(&r.headers).is_empty(),
                        "{name}: {:?}",
                        r.headers
                    );
                }
                assert!(
                    session_untouched(&app, &jar).await,
                    "{name} changed the session"
                );
            }
            other => panic!("unknown expectation {other}"),
        }
    }
    assert_eq!(count, 35);
}

#[tokio::test]
async fn cors_answers_allowed_origins_exactly_and_others_not_at_all() {
    let app = corpus_app().await;
    for origin in [APP, API] {
        let r = send(
            &app,
            Method::OPTIONS,
            "/auth/login",
            &Jar::default(),
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
                (
                    "access-control-request-headers",
                    "content-type,x-csrf-token",
                ),
            ],
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(r.headers["access-control-allow-origin"], origin);
        assert_eq!(r.headers["access-control-allow-credentials"], "true");
        assert_eq!(
            r.headers["access-control-allow-methods"],
            "GET, POST, PUT, PATCH, DELETE"
        );
        assert_eq!(
            r.headers["access-control-allow-headers"],
            "Content-Type, X-CSRF-Token"
        );
        assert_eq!(r.headers["access-control-max-age"], "600");
    }
    for origin in [
        "https://evil.test",
        "null",
        "https://app.example.com/",
        "http://app.example.com",
        "*",
    ] {
        let r = send(
            &app,
            Method::OPTIONS,
            "/auth/login",
            &Jar::default(),
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
            ],
            None,
        )
        .await;
        assert!(
            cors_headers(&r.headers).is_empty(),
            "{origin}: {:?}",
            r.headers
        );
        assert_eq!(r.code(), "origin_not_allowed");
        let r = send(
            &app,
            Method::GET,
            "/auth/me",
            &Jar::default(),
            &[("origin", origin)],
            None,
        )
        .await;
        assert!(
            cors_headers(&r.headers).is_empty(),
            "{origin}: {:?}",
            r.headers
        );
    }
    // Errors to an allowed origin carry CORS headers, so the page can read a 401 and refresh.
    let r = send(
        &app,
        Method::GET,
        "/auth/me",
        &Jar::default(),
        &[("origin", APP)],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers["access-control-allow-origin"], APP);
    assert!(r.headers.get_all("vary").iter().any(|v| v == "Origin"));
}

#[tokio::test]
async fn forward_auth_checks_origin_and_token_for_unsafe_original_methods() {
    let app = corpus_app().await;
    let (jar, token) = session(&app, "fa@example.com").await;
    let r = send(
        &app,
        Method::GET,
        "/auth/verify",
        &jar,
        &[("x-forwarded-method", "POST"), ("origin", APP)],
        None,
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "csrf_token_missing")
    );
    let r = send(
        &app,
        Method::GET,
        "/auth/verify",
        &jar,
        &[
            ("x-original-method", "DELETE"),
            ("origin", "https://evil.test"),
            ("x-csrf-token", &token),
        ],
        None,
    )
    .await;
    assert_eq!(r.code(), "origin_not_allowed");
    let r = send(
        &app,
        Method::GET,
        "/auth/verify",
        &jar,
        &[
            ("x-forwarded-method", "POST"),
            ("origin", APP),
            ("x-csrf-token", &token),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = send(
        &app,
        Method::GET,
        "/auth/verify",
        &jar,
        &[("x-forwarded-method", "GET")],
        None,
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "safe original methods need no token"
    );
}

#[tokio::test]
async fn forward_auth_fails_closed_on_foreign_origins_and_missing_or_conflicting_methods() {
    let app = corpus_app().await;
    let (jar, token) = session(&app, "fa2@example.com").await;
    let verify = |headers: Vec<(&'static str, String)>| {
        let (app, jar) = (&app, &jar);
        async move {
            let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            send(app, Method::GET, "/auth/verify", jar, &h, None).await
        }
    };
    let refused = [
        // nginx without `proxy_set_header X-Original-Method`: a cross-site form POST.
        vec![
            ("origin", "https://evil.test".to_owned()),
            ("sec-fetch-site", "cross-site".to_owned()),
        ],
        vec![
            ("x-original-method", "TRACE".to_owned()),
            ("origin", "https://evil.test".to_owned()),
        ],
        vec![
            ("x-original-method", "OPTIONS".to_owned()),
            ("origin", "https://evil.test".to_owned()),
        ],
        vec![
            ("x-original-method", "GET".to_owned()),
            ("origin", "null".to_owned()),
        ],
        // A cross-site request that is not a top-level navigation (a fetch, an iframe).
        vec![
            ("x-original-method", "GET".to_owned()),
            ("sec-fetch-site", "cross-site".to_owned()),
            ("sec-fetch-mode", "cors".to_owned()),
        ],
        vec![
            ("x-original-method", "GET".to_owned()),
            ("sec-fetch-site", "cross-site".to_owned()),
            ("sec-fetch-mode", "navigate".to_owned()),
            ("sec-fetch-dest", "iframe".to_owned()),
        ],
        // Conflicting method headers count as unsafe: no token, refused.
        vec![
            ("x-forwarded-method", "GET".to_owned()),
            ("x-original-method", "POST".to_owned()),
            ("origin", APP.to_owned()),
        ],
        // A browser request whose method the proxy did not pass counts as unsafe.
        vec![
            ("sec-fetch-site", "same-origin".to_owned()),
            ("sec-fetch-mode", "cors".to_owned()),
        ],
    ];
    for headers in refused {
        let r = verify(headers.clone()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{headers:?}: {:?}", r.body);
        assert!(r.headers.get("x-auth-user-id").is_none(), "{headers:?}");
    }
    let allowed = [
        // A link from another site: a top-level GET navigation.
        vec![
            ("x-original-method", "GET".to_owned()),
            ("sec-fetch-site", "cross-site".to_owned()),
            ("sec-fetch-mode", "navigate".to_owned()),
            ("sec-fetch-dest", "document".to_owned()),
        ],
        // Method missing but a browser request that carries the token from an app origin.
        vec![("origin", APP.to_owned()), ("x-csrf-token", token.clone())],
        // Both headers agreeing.
        vec![
            ("x-forwarded-method", "get".to_owned()),
            ("x-original-method", "GET".to_owned()),
            ("sec-fetch-site", "same-origin".to_owned()),
        ],
        // A non-browser client (no Origin, no Sec-Fetch-*): the method does not matter.
        vec![],
    ];
    for headers in allowed {
        let r = verify(headers.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{headers:?}: {:?}", r.body);
        assert!(r.headers.get("x-auth-user-id").is_some());
    }
}

#[tokio::test]
async fn get_head_and_options_never_change_state_on_any_route() {
    let app = corpus_app().await;
    let (jar, token) = session(&app, "safe@example.com").await;
    let sid = app.call(Method::GET, "/auth/me", &jar, None).await.body["session"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let doc = app
        .call(Method::GET, "/openapi.json", &Jar::default(), None)
        .await
        .body;
    let mut paths: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(|p| p.replace("{id}", &sid))
        .collect();
    paths.push("/openapi.json".into());
    assert!(paths.len() >= 13);
    for path in &paths {
        for method in [Method::GET, Method::HEAD, Method::OPTIONS] {
            let headers = [
                ("origin", APP),
                ("x-csrf-token", token.as_str()),
                ("content-type", "application/json"),
            ];
            let r = send(&app, method.clone(), path, &jar, &headers, None).await;
            assert!(r.status.as_u16() < 500, "{method} {path}: {}", r.status);
            assert!(
                session_untouched(&app, &jar).await,
                "{method} {path} changed the session"
            );
        }
    }
    assert_eq!(app.session_count("safe@example.com").await, 1);
    assert_eq!(
        app.call(Method::GET, "/auth/sessions", &jar, None)
            .await
            .body["sessions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn openapi_documents_the_csrf_header_and_every_refusal_code() {
    let app = corpus_app().await;
    let doc = app
        .call(Method::GET, "/openapi.json", &Jar::default(), None)
        .await
        .body;
    for (path, method) in [
        ("/auth/register", "post"),
        ("/auth/login", "post"),
        ("/auth/refresh", "post"),
        ("/auth/logout", "post"),
        ("/auth/sessions/{id}", "delete"),
    ] {
        let params = doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{path} has no parameters"));
        assert!(
            params
                .iter()
                .any(|p| p["name"] == "X-CSRF-Token" && p["in"] == "header"),
            "{path}"
        );
        assert!(
            doc["paths"][path][method]["responses"]["403"].is_object(),
            "{path} documents 403"
        );
    }
    assert!(doc["paths"]["/auth/csrf"]["get"].is_object());
    let codes: Vec<&str> = doc["x-error-codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    for code in [
        "csrf_token_missing",
        "csrf_token_invalid",
        "csrf_token_other_session",
        "origin_not_allowed",
        "cross_site_request",
        "content_type_not_json",
    ] {
        assert!(codes.contains(&code), "{code}");
    }
}
