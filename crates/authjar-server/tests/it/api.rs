//! Every endpoint and error code of the HTTP API, against the running app.

use authjar_policy::CookieKind;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{set_cookies, spawn, Jar, Reply, TestApp};

#[tokio::test]
async fn register_sets_the_policy_cookies_and_me_shows_the_user() {
    let app = spawn(&[]).await;
    let mut jar = Jar::default();
    let r = app
        .call(
            Method::POST,
            "/auth/register",
            &jar,
            Some(json!({"email": " Cat@Example.COM ", "password": "correct horse", "name": "Tom"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["user"]["email"], "cat@example.com");
    assert_eq!(r.body["user"]["name"], "Tom");
    let lines: Vec<String> = set_cookies(&r.headers)
        .into_iter()
        .map(|(_, _, l)| l)
        .collect();
    for kind in [CookieKind::Access, CookieKind::Refresh] {
        let spec = app.state.cookie(kind).unwrap();
        let line = lines
            .iter()
            .find(|l| l.starts_with(&format!("{}=", spec.name)))
            .unwrap();
        let value = line.split(';').next().unwrap().split_once('=').unwrap().1;
        assert_eq!(
            line,
            &spec.set_cookie(value),
            "cookie attributes come from the policy"
        );
    }
    jar.absorb(&r.headers);
    let me = app.call(Method::GET, "/auth/me", &jar, None).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["user"]["email"], "cat@example.com");
    assert_eq!(me.body["session"]["current"], true);
    assert_eq!(
        app.call(Method::GET, "/auth/me", &Jar::default(), None)
            .await
            .code(),
        "unauthenticated"
    );
}

#[tokio::test]
async fn registration_errors_have_stable_codes() {
    let app = spawn(&[]).await;
    app.register("a@b.com").await;
    let empty = Jar::default();
    let reg =
        |body: serde_json::Value| app.call(Method::POST, "/auth/register", &empty, Some(body));
    let r = reg(json!({"email": "a@B.COM", "password": "another one"})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "email_taken"),
        "domain case is normalised"
    );
    let r = reg(json!({"email": "not-an-email", "password": "long enough"})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_email")
    );
    let r = reg(json!({"email": "c@d.com", "password": "short"})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_password")
    );
    let r = reg(json!({"email": "c@d.com", "password": "x".repeat(129)})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_password")
    );
    let r =
        reg(json!({"email": "c@d.com", "password": "long enough", "name": "x".repeat(101)})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_name")
    );
    for name in [
        "admin\u{202E}gnp.exe",
        "a\u{2066}b",
        "zero\u{200B}width",
        "new\nline",
    ] {
        let r = reg(json!({"email": "c@d.com", "password": "long enough", "name": name})).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_name"),
            "{name:?}"
        );
    }
}

#[tokio::test]
async fn wrong_password_and_unknown_email_answer_the_same_and_both_run_the_hasher() {
    let app = spawn(&[]).await;
    app.register("known@b.com").await;
    let hasher = app.state.service.hasher();
    let before = hasher.verifications();
    let (wrong, jar1) = app.login("known@b.com", "wrong password").await;
    assert_eq!(hasher.verifications(), before + 1);
    let (unknown, jar2) = app.login("unknown@b.com", "wrong password").await;
    assert_eq!(
        hasher.verifications(),
        before + 2,
        "an unknown e-mail is verified against the dummy hash"
    );
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!((wrong.status, &wrong.body), (unknown.status, &unknown.body));
    assert_eq!(wrong.code(), "invalid_credentials");
    assert!(jar1.0.is_empty() && jar2.0.is_empty());
    let (ok, jar) = app.login("known@b.com", "correct horse").await;
    assert_eq!(ok.status, StatusCode::OK);
    assert!(jar.get("access_token").is_some() && jar.get("refresh_token").is_some());
}

#[tokio::test]
async fn bodies_that_are_malformed_oversized_or_of_the_wrong_type_get_documented_4xx() {
    let app = spawn(&[]).await;
    let url = app.url("/auth/login");
    let mut pre = Jar::default();
    let token = app.csrf(&mut pre).await;
    let send = |ct: &'static str, body: Vec<u8>| {
        let c = app.client.clone();
        let (url, cookie, token) = (url.clone(), pre.header(), token.clone());
        async move {
            Reply::of(
                c.post(url)
                    .header("content-type", ct)
                    .header("cookie", cookie)
                    .header("x-csrf-token", token)
                    .body(body)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let r = send("application/json", b"{not json".to_vec()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_json")
    );
    let r = send("application/json", br#"{"email": "a@b.com"}"#.to_vec()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_json")
    );
    let r = send(
        "application/json",
        br#"{"email": "a@b.com", "password": 12345678}"#.to_vec(),
    )
    .await;
    assert_eq!(r.code(), "invalid_json");
    assert!(
        !r.body["message"].as_str().unwrap().contains("12345678"),
        "the body's values are not echoed"
    );
    let r = send(
        "application/xml",
        br#"{"email":"a@b.com","password":"x"}"#.to_vec(),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
    let r = send(
        "text/plain",
        br#"{"email":"a@b.com","password":"x"}"#.to_vec(),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "content_type_not_json"),
        "types a form or a simple fetch can send are a CSRF refusal"
    );
    let big = format!(
        r#"{{"email":"a@b.com","password":"{}"}}"#,
        "x".repeat(40_000)
    );
    let r = send("application/json", big.into_bytes()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    let r = app.call(Method::GET, "/nope", &Jar::default(), None).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = app
        .call(Method::GET, "/auth/login", &Jar::default(), None)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
}

#[tokio::test]
async fn logout_revokes_and_clears_every_cookie_with_matching_attributes() {
    let app = spawn(&[]).await;
    let jar = app.register("out@b.com").await;
    let r = app
        .call(Method::POST, "/auth/logout", &jar, Some(json!({})))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let lines: Vec<String> = set_cookies(&r.headers)
        .into_iter()
        .map(|(_, _, l)| l)
        .collect();
    let expected: Vec<String> = [
        CookieKind::Access,
        CookieKind::Refresh,
        CookieKind::Csrf,
        CookieKind::PreSession,
    ]
    .iter()
    .filter_map(|k| app.state.cookie(*k))
    .map(|s| s.removal())
    .collect();
    assert_eq!(lines, expected);
    let me = app.call(Method::GET, "/auth/me", &jar, None).await;
    assert_eq!(
        me.status,
        StatusCode::UNAUTHORIZED,
        "the old access token dies with the session"
    );
    let refresh = app
        .call(Method::POST, "/auth/refresh", &jar, Some(json!({})))
        .await;
    assert_eq!(refresh.code(), "invalid_refresh");
}

#[tokio::test]
async fn a_revoked_session_fails_me_and_verify_on_this_instance_at_once() {
    let app = spawn(&[]).await;
    let phone = app.register("two@b.com").await;
    let (_, laptop) = app.login("two@b.com", "correct horse").await;
    let list = app.call(Method::GET, "/auth/sessions", &laptop, None).await;
    let sessions = list.body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    let phone_id = sessions.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.call(Method::GET, "/auth/verify", &phone, None)
            .await
            .status,
        StatusCode::OK
    );
    let r = app
        .call(
            Method::DELETE,
            &format!("/auth/sessions/{phone_id}"),
            &laptop,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(
        set_cookies(&r.headers).is_empty(),
        "revoking another session leaves this one's cookies alone"
    );
    assert_eq!(
        app.call(Method::GET, "/auth/me", &phone, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.call(Method::GET, "/auth/verify", &phone, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.call(Method::POST, "/auth/refresh", &phone, Some(json!({})))
            .await
            .code(),
        "invalid_refresh"
    );
    assert_eq!(
        app.call(Method::GET, "/auth/me", &laptop, None)
            .await
            .status,
        StatusCode::OK
    );
    let again = app
        .call(
            Method::DELETE,
            &format!("/auth/sessions/{phone_id}"),
            &laptop,
            None,
        )
        .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
}

#[tokio::test]
async fn users_cannot_see_or_revoke_each_others_sessions() {
    let app = spawn(&[]).await;
    let alice = app.register("alice@b.com").await;
    let bob = app.register("bob@b.com").await;
    let bobs = app.call(Method::GET, "/auth/me", &bob, None).await;
    let bob_sid = bobs.body["session"]["id"].as_str().unwrap().to_owned();
    let r = app
        .call(
            Method::DELETE,
            &format!("/auth/sessions/{bob_sid}"),
            &alice,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.call(Method::GET, "/auth/me", &bob, None).await.status,
        StatusCode::OK
    );
    let list = app.call(Method::GET, "/auth/sessions", &alice, None).await;
    assert_eq!(list.body["sessions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn verify_answers_forward_auth_with_identity_headers() {
    let app = spawn(&[]).await;
    let jar = app.register("fa@b.com").await;
    let r = app.call(Method::GET, "/auth/verify", &jar, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["x-auth-email"], "fa@b.com");
    assert!(
        r.headers.contains_key("x-auth-user-id") && r.headers.contains_key("x-auth-session-id")
    );
    let bearer = app
        .client
        .get(app.url("/auth/verify"))
        .bearer_auth(jar.get("access_token").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        bearer.status(),
        StatusCode::OK,
        "non-browser clients may send the token as a Bearer"
    );
    let r = app
        .call(Method::GET, "/auth/verify", &Jar::default(), None)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
}

/// A login from `ip` (the test app trusts loopback as a proxy).
async fn login_from(app: &TestApp, ip: &str, email: &str, password: &str) -> Reply {
    let mut pre = Jar::default();
    let token = app.csrf(&mut pre).await;
    let r = app
        .client
        .post(app.url("/auth/login"))
        .header("x-forwarded-for", ip)
        .header("cookie", pre.header())
        .header("x-csrf-token", token)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    Reply::of(r).await
}

#[tokio::test]
async fn wrong_passwords_lock_out_the_guessing_client_not_the_owner() {
    let app = spawn(&[
        ("AUTHJAR_RATE_LIMIT__ENABLED", "true"),
        ("AUTHJAR_RATE_LIMIT__LOGIN_PER_ACCOUNT", "3"),
        ("AUTHJAR_TRUSTED_PROXIES", "127.0.0.1/32"),
    ])
    .await;
    app.register("victim@b.com").await;
    let attacker = "203.0.113.9";
    for _ in 0..4 {
        let r = login_from(&app, attacker, "victim@b.com", "guess guess").await;
        assert_eq!(r.code(), "invalid_credentials");
    }
    let r = login_from(&app, attacker, "victim@b.com", "correct horse").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        "the guessing client is locked out of this account, right password or not"
    );
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let owner = login_from(&app, "198.51.100.7", "victim@b.com", "correct horse").await;
    assert_eq!(
        owner.status,
        StatusCode::OK,
        "the owner, from another address, still logs in"
    );
    let other = login_from(&app, attacker, "other@b.com", "guess guess").await;
    assert_eq!(
        other.code(),
        "invalid_credentials",
        "the lock is per account: other accounts are not affected"
    );
}

#[tokio::test]
async fn a_right_password_after_wrong_ones_within_the_budget_logs_in() {
    let app = spawn(&[("AUTHJAR_RATE_LIMIT__ENABLED", "true")]).await;
    app.register("forgetful@b.com").await;
    for _ in 0..10 {
        let (r, _) = app.login("forgetful@b.com", "guess guess").await;
        assert_eq!(r.code(), "invalid_credentials");
    }
    let (r, _) = app.login("forgetful@b.com", "correct horse").await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "ten typos do not lock the owner out"
    );
}

#[tokio::test]
async fn failures_from_many_addresses_lock_the_account_briefly_and_show_in_metrics() {
    let app = spawn(&[
        ("AUTHJAR_RATE_LIMIT__ENABLED", "true"),
        ("AUTHJAR_RATE_LIMIT__LOGIN_FAILURES_PER_ACCOUNT", "5"),
        ("AUTHJAR_TRUSTED_PROXIES", "127.0.0.1/32"),
    ])
    .await;
    app.register("target@b.com").await;
    for i in 0..6 {
        let r = login_from(
            &app,
            &format!("203.0.113.{i}"),
            "target@b.com",
            "guess guess",
        )
        .await;
        assert_eq!(r.code(), "invalid_credentials");
    }
    let r = login_from(&app, "198.51.100.7", "target@b.com", "correct horse").await;
    assert_eq!(
        r.code(),
        "rate_limited",
        "a documented, short account-wide lock"
    );
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=720).contains(&retry), "{retry}");
    let metrics = app.state.metrics.render();
    assert!(
        metrics.contains("account_locked"),
        "the lock is visible in /metrics"
    );
}

#[tokio::test]
async fn unsafe_requests_are_rate_limited_per_client() {
    let app = spawn(&[
        ("AUTHJAR_RATE_LIMIT__ENABLED", "true"),
        ("AUTHJAR_RATE_LIMIT__PER_CLIENT", "2"),
    ])
    .await;
    for i in 0..2 {
        let (r, _) = app.login(&format!("u{i}@b.com"), "guess guess").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let (r, _) = app.login("u9@b.com", "guess guess").await;
    assert_eq!(r.code(), "rate_limited");
    assert!(r.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    let trusting = spawn(&[("AUTHJAR_TRUSTED_PROXIES", "127.0.0.1/32")]).await;
    let ignoring = spawn(&[]).await;
    for (app, expected) in [(&trusting, "198.51.100.7"), (&ignoring, "127.0.0.1")] {
        let mut pre = Jar::default();
        let token = app.csrf(&mut pre).await;
        let r = app
            .client
            .post(app.url("/auth/register"))
            .header("x-forwarded-for", "198.51.100.7")
            .header("cookie", pre.header())
            .header("x-csrf-token", token)
            .json(&json!({"email": "ip@b.com", "password": "correct horse"}))
            .send()
            .await
            .unwrap();
        let mut jar = Jar::default();
        jar.absorb(r.headers());
        let me = app.call(Method::GET, "/auth/me", &jar, None).await;
        assert_eq!(me.body["session"]["ip"], expected);
    }
}

#[tokio::test]
async fn jwks_publishes_the_key_that_signs_access_tokens() {
    let app = spawn(&[]).await;
    let jar = app.register("k@b.com").await;
    let r = app
        .call(Method::GET, "/.well-known/jwks.json", &Jar::default(), None)
        .await;
    let key = &r.body["keys"][0];
    assert_eq!(
        (
            key["kty"].as_str(),
            key["crv"].as_str(),
            key["alg"].as_str()
        ),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
    );
    let token = jar.get("access_token").unwrap();
    let header = jsonwebtoken_header(token);
    assert_eq!(header["kid"], key["kid"]);
    assert_eq!(header["alg"], "EdDSA");
}

fn jsonwebtoken_header(token: &str) -> serde_json::Value {
    use base64::Engine as _;
    let h = token.split('.').next().unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(h)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn health_metrics_and_openapi_are_served() {
    let token = "metrics-token-0123456789abcdef0123";
    let app = spawn(&[("AUTHJAR_METRICS_TOKEN", token)]).await;
    let h = app
        .call(Method::GET, "/healthz", &Jar::default(), None)
        .await;
    assert_eq!(
        (h.status, &h.body["status"]),
        (StatusCode::OK, &json!("ok"))
    );
    app.register("m@b.com").await;
    let m = Reply::of(
        app.client
            .get(app.url("/metrics"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let text = m.body.as_str().unwrap();
    assert!(
        text.contains("authjar_auth_events_total{event=\"register\",result=\"ok\"} 1"),
        "{text}"
    );
    assert!(text.contains("authjar_http_responses_total"), "{text}");
    let o = app
        .call(Method::GET, "/openapi.json", &Jar::default(), None)
        .await;
    for path in [
        "/auth/register",
        "/auth/login",
        "/auth/refresh",
        "/auth/logout",
        "/auth/me",
        "/auth/sessions",
        "/auth/sessions/{id}",
        "/auth/verify",
        "/.well-known/jwks.json",
        "/healthz",
        "/metrics",
    ] {
        assert!(
            o.body["paths"][path].is_object(),
            "{path} missing from /openapi.json"
        );
    }
    let codes: Vec<&str> = o.body["x-error-codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    for (code, _) in authjar_axum::ERROR_CODES {
        assert!(codes.contains(code));
    }
}

#[tokio::test]
async fn routes_follow_the_public_url_path_prefix() {
    let app = spawn(&[("AUTHJAR_PUBLIC_URL", "http://localhost:8000/api")]).await;
    let r = app
        .call(
            Method::POST,
            "/api/auth/register",
            &Jar::default(),
            Some(json!({"email": "p@b.com", "password": "correct horse"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let refresh_line = set_cookies(&r.headers)
        .into_iter()
        .find(|(n, _, _)| n == "refresh_token")
        .unwrap()
        .2;
    assert!(refresh_line.contains("Path=/;"), "{refresh_line}");
}

#[tokio::test]
async fn metrics_are_off_the_public_listener_unless_a_token_opens_them() {
    let off = spawn(&[]).await;
    let r = off
        .call(Method::GET, "/metrics", &Jar::default(), None)
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let token = "metrics-token-0123456789abcdef0123";
    let on = spawn(&[("AUTHJAR_METRICS_TOKEN", token)]).await;
    for wrong in [None, Some("metrics-token-0123456789abcdef0124")] {
        let mut req = on.client.get(on.url("/metrics"));
        if let Some(w) = wrong {
            req = req.bearer_auth(w);
        }
        let r = Reply::of(req.send().await.unwrap()).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{wrong:?}");
    }
    // The private listener's router serves them without a token.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = authjar_axum::metrics_router(off.state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let r = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("authjar_http_responses_total"));
}

#[tokio::test]
async fn auth_answers_are_never_cached_and_json_is_never_sniffed() {
    let app = spawn(&[]).await;
    let jar = app.register("cache@b.com").await;
    for (method, path) in [
        (Method::GET, "/auth/me"),
        (Method::GET, "/auth/csrf"),
        (Method::GET, "/auth/sessions"),
        (Method::POST, "/auth/refresh"),
        (Method::POST, "/auth/login"),
        (Method::GET, "/auth/nope"),
    ] {
        let r = app
            .call(
                method.clone(),
                path,
                &jar,
                Some(json!({"email": "cache@b.com", "password": "correct horse"})),
            )
            .await;
        assert_eq!(
            r.headers.get("cache-control").map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{method} {path}"
        );
        assert_eq!(
            r.headers["x-content-type-options"], "nosniff",
            "{method} {path}"
        );
    }
    for path in ["/.well-known/jwks.json", "/healthz", "/openapi.json"] {
        let r = app.call(Method::GET, path, &Jar::default(), None).await;
        assert_eq!(r.headers["x-content-type-options"], "nosniff", "{path}");
    }
    let js = app
        .call(Method::GET, "/auth/client.js", &Jar::default(), None)
        .await;
    assert_eq!(
        js.headers["cache-control"], "no-cache",
        "the client script may be cached and revalidated"
    );
}
