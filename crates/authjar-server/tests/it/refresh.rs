//! Access-token expiry and refresh-token rotation, with the test clock.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{set_cookies, spawn, Jar};

#[tokio::test]
async fn an_expired_access_token_gives_401_then_refresh_rotates_both_cookies() {
    let app = spawn(&[]).await;
    let mut jar = app.register("exp@b.com").await;
    app.clock.advance(1799);
    assert_eq!(
        app.call(Method::GET, "/auth/me", &jar, None).await.status,
        StatusCode::OK
    );
    app.clock.advance(1);
    let r = app.call(Method::GET, "/auth/me", &jar, None).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "unauthenticated"),
        "refused from exp on"
    );
    let old_refresh = jar.get("refresh_token").unwrap().to_owned();
    let old_access = jar.get("access_token").unwrap().to_owned();
    let r = app
        .call(Method::POST, "/auth/refresh", &jar, Some(json!({})))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["user"]["email"], "exp@b.com");
    jar.absorb(&r.headers);
    assert_ne!(jar.get("refresh_token").unwrap(), old_refresh);
    assert_ne!(jar.get("access_token").unwrap(), old_access);
    assert_eq!(
        app.call(Method::GET, "/auth/me", &jar, None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn replaying_a_just_rotated_token_within_the_grace_window_does_not_fork_the_family() {
    let app = spawn(&[]).await;
    let first = app.register("grace@b.com").await;
    let r = app
        .call(Method::POST, "/auth/refresh", &first, Some(json!({})))
        .await;
    let mut second = first.clone();
    second.absorb(&r.headers);
    app.clock.advance(5);
    let replay = app
        .call(Method::POST, "/auth/refresh", &first, Some(json!({})))
        .await;
    assert_eq!(
        replay.status,
        StatusCode::OK,
        "a second tab within 10 s stays logged in"
    );
    let names: Vec<String> = set_cookies(&replay.headers)
        .into_iter()
        .map(|(n, _, _)| n)
        .collect();
    assert!(
        !names.iter().any(|n| n == "refresh_token"),
        "no new refresh token: the family does not fork"
    );
    assert_eq!(app.session_count("grace@b.com").await, 1);
    let r = app
        .call(Method::POST, "/auth/refresh", &second, Some(json!({})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "the current token still rotates");
}

#[tokio::test]
async fn replaying_a_rotated_token_after_the_grace_window_revokes_the_whole_family() {
    let app = spawn(&[]).await;
    let stolen = app.register("reuse@b.com").await;
    let r = app
        .call(Method::POST, "/auth/refresh", &stolen, Some(json!({})))
        .await;
    let mut victim = stolen.clone();
    victim.absorb(&r.headers);
    app.clock.advance(11);
    let replay = app
        .call(Method::POST, "/auth/refresh", &stolen, Some(json!({})))
        .await;
    assert_eq!(
        (replay.status, replay.code()),
        (StatusCode::UNAUTHORIZED, "invalid_refresh")
    );
    assert!(
        set_cookies(&replay.headers)
            .iter()
            .all(|(_, v, l)| v.is_empty() && l.contains("Max-Age=0")),
        "a failed refresh only clears cookies"
    );
    let r = app
        .call(Method::POST, "/auth/refresh", &victim, Some(json!({})))
        .await;
    assert_eq!(
        r.code(),
        "invalid_refresh",
        "the current token of the family is dead too"
    );
    assert_eq!(
        app.call(Method::GET, "/auth/me", &victim, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.call(Method::GET, "/auth/verify", &victim, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.session_count("reuse@b.com").await, 0);
}

#[tokio::test]
async fn refresh_without_or_with_a_garbage_token_is_invalid_and_clears_cookies() {
    let app = spawn(&[]).await;
    let r = app
        .call(
            Method::POST,
            "/auth/refresh",
            &Jar::default(),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "invalid_refresh")
    );
    assert_eq!(
        set_cookies(&r.headers).len(),
        4,
        "access, refresh, csrf and pre-session cookies are cleared"
    );
    let mut jar = Jar::default();
    jar.0.insert("refresh_token".into(), "AAAA".into());
    assert_eq!(
        app.call(Method::POST, "/auth/refresh", &jar, Some(json!({})))
            .await
            .code(),
        "invalid_refresh"
    );
}

#[tokio::test]
async fn refresh_tokens_expire_with_refresh_ttl() {
    let app = spawn(&[("AUTHJAR_REFRESH_TTL", "1h")]).await;
    let jar = app.register("ttl@b.com").await;
    app.clock.advance(3600);
    assert_eq!(
        app.call(Method::POST, "/auth/refresh", &jar, Some(json!({})))
            .await
            .code(),
        "invalid_refresh"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_refreshes_of_one_token_make_exactly_one_family_and_no_5xx() {
    let app = spawn(&[]).await;
    let mut jar = app.register("storm@b.com").await;
    let token = app.csrf(&mut jar).await;
    let cookie = jar.header();
    let url = app.url("/auth/refresh");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let (client, url, cookie, token) =
                (client.clone(), url.clone(), cookie.clone(), token.clone());
            tokio::spawn(async move {
                let r = client
                    .post(url)
                    .header("cookie", cookie)
                    .header("x-csrf-token", token)
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                let rotated = set_cookies(r.headers())
                    .iter()
                    .any(|(n, v, _)| n == "refresh_token" && !v.is_empty());
                (status, rotated)
            })
        })
        .collect();
    let mut rotated = 0;
    for t in tasks {
        let (status, new_refresh) = t.await.unwrap();
        assert_eq!(status, StatusCode::OK);
        rotated += usize::from(new_refresh);
    }
    assert_eq!(rotated, 1, "exactly one request wins the rotation");
    assert_eq!(
        app.session_count("storm@b.com").await,
        1,
        "exactly one family"
    );
}

#[tokio::test]
async fn presenting_any_earlier_token_of_the_family_revokes_the_family() {
    let app = spawn(&[]).await;
    let t1 = app.register("gens@b.com").await;
    let mut t2 = t1.clone();
    t2.absorb(
        &app.call(Method::POST, "/auth/refresh", &t1, Some(json!({})))
            .await
            .headers,
    );
    app.clock.advance(20);
    let mut t3 = t2.clone();
    t3.absorb(
        &app.call(Method::POST, "/auth/refresh", &t2, Some(json!({})))
            .await
            .headers,
    );
    assert_ne!(t3.get("refresh_token"), t2.get("refresh_token"));
    app.clock.advance(1);
    let stolen = app
        .call(Method::POST, "/auth/refresh", &t1, Some(json!({})))
        .await;
    assert_eq!(
        (stolen.status, stolen.code()),
        (StatusCode::UNAUTHORIZED, "invalid_refresh"),
        "T1, two generations back"
    );
    let r = app
        .call(Method::POST, "/auth/refresh", &t3, Some(json!({})))
        .await;
    assert_eq!(
        r.code(),
        "invalid_refresh",
        "the family died with the reuse of T1: T3 no longer refreshes"
    );
    assert_eq!(
        app.call(Method::GET, "/auth/verify", &t3, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.session_count("gens@b.com").await, 0);
}
