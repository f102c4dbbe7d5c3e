//! Restarts and several instances: revocations persist and cross instances,
//! and PostgreSQL instances share sessions and rotations.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

pub(crate) use authjar_testdb::PgDatabase;

use crate::helpers::{set_cookies, spawn_in, Jar, TestApp};

async fn verify(app: &TestApp, jar: &Jar) -> StatusCode {
    app.call(Method::GET, "/auth/verify", jar, None)
        .await
        .status
}

async fn logout(app: &TestApp, jar: &Jar) {
    let r = app
        .call(Method::POST, "/auth/logout", jar, Some(json!({})))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_restart_does_not_revive_a_revoked_access_token_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let first = spawn_in(dir.path(), &[]).await;
    let jar = first.register("restart@cats.test").await;
    logout(&first, &jar).await;
    assert_eq!(verify(&first, &jar).await, StatusCode::UNAUTHORIZED);
    drop(first);
    let restarted = spawn_in(dir.path(), &[]).await;
    assert_eq!(
        verify(&restarted, &jar).await,
        StatusCode::UNAUTHORIZED,
        "the revocation was kept in the database and loaded at start"
    );
}

pub(crate) const SECRET: (&str, &str) = (
    "AUTHJAR_SECRET",
    "0123456789abcdef0123456789abcdef-instances",
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_postgres_instances_share_sessions_and_revocations() {
    let db = PgDatabase::create().await;
    let (da, dbb) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let env = [("AUTHJAR_DATABASE_URL", db.url.as_str()), SECRET];
    let a = spawn_in(da.path(), &env).await;
    let b = spawn_in(dbb.path(), &env).await;
    let jar = a.register("two@cats.test").await;
    let me = b.call(Method::GET, "/auth/me", &jar, None).await;
    assert_eq!(me.status, StatusCode::OK, "a session made on A works on B");
    assert_eq!(verify(&b, &jar).await, StatusCode::OK);
    logout(&a, &jar).await;
    let started = Instant::now();
    while verify(&b, &jar).await == StatusCode::OK {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "B still accepts a session A revoked after a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A session revoked through refresh reuse on B dies on A too.
    let jar = b.register("reuse@cats.test").await;
    let r = a
        .call(Method::POST, "/auth/refresh", &jar, Some(json!({})))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    b.clock.advance(60);
    a.clock.advance(60);
    let stolen = b
        .call(Method::POST, "/auth/refresh", &jar, Some(json!({})))
        .await;
    assert_eq!(stolen.code(), "invalid_refresh");
    let mut rotated = jar.clone();
    rotated.absorb(&r.headers);
    let started = Instant::now();
    while verify(&a, &rotated).await == StatusCode::OK {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "A still accepts the family B revoked"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop((a, b));
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_split_across_two_instances_rotate_once() {
    let db = PgDatabase::create().await;
    let (da, dbb) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let env = [("AUTHJAR_DATABASE_URL", db.url.as_str()), SECRET];
    let a = spawn_in(da.path(), &env).await;
    let b = spawn_in(dbb.path(), &env).await;
    let mut jar = a.register("storm@cats.test").await;
    let token = a.csrf(&mut jar).await;
    let cookie = jar.header();
    let client = reqwest::Client::new();
    let tasks: Vec<_> = (0..1000)
        .map(|i| {
            let url = if i % 2 == 0 {
                a.url("/auth/refresh")
            } else {
                b.url("/auth/refresh")
            };
            let (client, cookie, token) = (client.clone(), cookie.clone(), token.clone());
            tokio::spawn(async move {
                let r = client
                    .post(url)
                    .header("cookie", cookie)
                    .header("x-csrf-token", token)
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap();
                let rotated = set_cookies(r.headers())
                    .iter()
                    .any(|(n, v, _)| n == "refresh_token" && !v.is_empty());
                (r.status(), rotated)
            })
        })
        .collect();
    let mut rotations = 0;
    for t in tasks {
        let (status, rotated) = t.await.unwrap();
        assert_eq!(status, StatusCode::OK);
        rotations += usize::from(rotated);
    }
    assert_eq!(
        rotations, 1,
        "one rotation for the whole family, whichever instance answered"
    );
    assert_eq!(a.session_count("storm@cats.test").await, 1);
    drop((a, b));
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_does_not_revive_a_revoked_access_token_on_postgres() {
    let db = PgDatabase::create().await;
    let env = [("AUTHJAR_DATABASE_URL", db.url.as_str()), SECRET];
    let d1 = tempfile::tempdir().unwrap();
    let first = spawn_in(d1.path(), &env).await;
    let jar = first.register("pgrestart@cats.test").await;
    logout(&first, &jar).await;
    drop(first);
    let d2 = tempfile::tempdir().unwrap();
    let restarted = spawn_in(d2.path(), &env).await;
    assert_eq!(verify(&restarted, &jar).await, StatusCode::UNAUTHORIZED);
    drop(restarted);
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_count_across_two_postgres_instances() {
    let db = PgDatabase::create().await;
    let (da, dbb) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let env = [
        ("AUTHJAR_DATABASE_URL", db.url.as_str()),
        SECRET,
        ("AUTHJAR_RATE_LIMIT__ENABLED", "true"),
        ("AUTHJAR_RATE_LIMIT__LOGIN_PER_ACCOUNT", "3"),
        ("AUTHJAR_RATE_LIMIT__PER_CLIENT", "1000"),
        ("AUTHJAR_RATE_LIMIT__REFRESH_PER_CLIENT", "4"),
    ];
    let a = spawn_in(da.path(), &env).await;
    let b = spawn_in(dbb.path(), &env).await;
    a.register("limits@cats.test").await;

    // Failed logins for one account from one client: three, then locked,
    // whichever instance each attempt reaches.
    let statuses = {
        let mut s = Vec::new();
        for i in 0..5 {
            let app = if i % 2 == 0 { &a } else { &b };
            s.push(
                app.login("limits@cats.test", "not the password")
                    .await
                    .0
                    .status,
            );
        }
        s
    };
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ],
        "the budget of 3 was spent by the first four failures on two instances (the fourth locks)"
    );
    let (locked, _) = a.login("limits@cats.test", "correct horse").await;
    assert_eq!(
        locked.code(),
        "rate_limited",
        "the right password waits too"
    );
    assert!(locked.headers.contains_key("retry-after"));

    // Attempt budgets: refreshes from one client, 4 a minute, across both.
    let jar = b.register("refreshes@cats.test").await;
    let mut refreshed = Vec::new();
    for i in 0..6 {
        let app = if i % 2 == 0 { &a } else { &b };
        let r = app
            .call(Method::POST, "/auth/refresh", &jar, Some(json!({})))
            .await;
        refreshed.push(r.status);
    }
    let ok = refreshed.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(
        ok, 4,
        "4 refreshes a minute in all, not per instance: {refreshed:?}"
    );
    assert_eq!(refreshed[4], StatusCode::TOO_MANY_REQUESTS);
    drop((a, b));
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_revoked_by_id_on_one_instance_is_refused_on_the_other_within_a_second() {
    let db = PgDatabase::create().await;
    let (da, dbb) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let env = [("AUTHJAR_DATABASE_URL", db.url.as_str()), SECRET];
    let a = spawn_in(da.path(), &env).await;
    let b = spawn_in(dbb.path(), &env).await;
    let laptop = a.register("two-devices@cats.test").await;
    let (_, phone) = b.login("two-devices@cats.test", "correct horse").await;
    assert_eq!(verify(&b, &phone).await, StatusCode::OK);
    let sessions = a.call(Method::GET, "/auth/sessions", &laptop, None).await;
    let phone_session = sessions.body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .expect("the phone's session is listed")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = a
        .call(
            Method::DELETE,
            &format!("/auth/sessions/{phone_session}"),
            &laptop,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    let started = Instant::now();
    while verify(&b, &phone).await == StatusCode::OK {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "B still accepts the session A revoked by id after a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        verify(&b, &laptop).await,
        StatusCode::OK,
        "only that session"
    );
    drop((a, b));
    db.drop().await;
}

/// Polls `GET /auth/me` on `app` until `check` holds on its answer, failing
/// after a second.
async fn me_until(
    app: &TestApp,
    jar: &Jar,
    what: &str,
    check: impl Fn(&crate::helpers::Reply) -> bool,
) {
    let started = Instant::now();
    loop {
        let me = app.call(Method::GET, "/auth/me", jar, None).await;
        if check(&me) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "after a second, {what}: {} {:?}",
            me.status,
            me.body
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_changed_anywhere_is_seen_by_every_instances_me_within_a_second() {
    let db = PgDatabase::create().await;
    let (da, dbb) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let env = [("AUTHJAR_DATABASE_URL", db.url.as_str()), SECRET];
    let a = spawn_in(da.path(), &env).await;
    let b = spawn_in(dbb.path(), &env).await;
    let jar = a.register("changes@cats.test").await;
    // B reads the rows once and keeps them: the second call is served from its cache.
    for _ in 0..2 {
        let me = b.call(Method::GET, "/auth/me", &jar, None).await;
        assert_eq!(me.body["user"]["email_verified"], false, "{:?}", me.body);
    }
    // Verified on A: B's copy is dropped through the change feed.
    let token = a.outbox.token("changes@cats.test", 0, "verify_email").await;
    let r = a.confirm_email(&token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    me_until(&b, &jar, "B still shows the e-mail unverified", |me| {
        me.body["user"]["email_verified"] == true
    })
    .await;
    // A change made outside authjar (an operator's SQL) reaches both too.
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    sqlx::query("UPDATE users SET name = 'Renamed by SQL' WHERE email = 'changes@cats.test'")
        .execute(&pool)
        .await
        .unwrap();
    for app in [&a, &b] {
        me_until(app, &jar, "the operator's change is not shown", |me| {
            me.body["user"]["name"] == "Renamed by SQL"
        })
        .await;
    }
    // The account deleted on A: B answers 401 at once (its session was revoked first).
    let r = a
        .call(
            Method::DELETE,
            "/auth/account",
            &jar,
            Some(json!({"password": "correct horse"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    me_until(&b, &jar, "B still shows a deleted account", |me| {
        me.status == StatusCode::UNAUTHORIZED
    })
    .await;
    pool.close().await;
    drop((a, b));
    db.drop().await;
}
