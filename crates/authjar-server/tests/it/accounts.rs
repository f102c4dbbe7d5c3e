//! The account lifecycle over e-mail, through HTTP with the test clock:
//! verification, password reset and change, deletion, no enumeration, one
//! account per person's address, and the limits on the endpoints that mail.

use authjar_core::{EmailToken, TokenPurpose};
use reqwest::{Method, StatusCode};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::helpers::{set_cookies, spawn, Jar, Reply, TestApp};

async fn post(app: &TestApp, path: &str, jar: &Jar, body: serde_json::Value) -> Reply {
    app.call(Method::POST, path, jar, Some(body)).await
}

#[tokio::test]
async fn registering_sends_a_link_that_verifies_the_address_once() {
    let app = spawn(&[("AUTHJAR_APP_ORIGINS", "http://localhost:3000")]).await;
    let jar = app.register("new@cats.test").await;
    let letter = app.outbox.nth("new@cats.test", 0).await;
    assert!(letter.subject.contains("Confirm"), "{}", letter.subject);
    assert!(
        letter.text.contains("http://localhost:3000/#verify_email="),
        "links open the app: {}",
        letter.text
    );
    assert!(letter
        .html
        .contains(r#"href="http://localhost:3000/#verify_email="#));
    let me = app.call(Method::GET, "/auth/me", &jar, None).await;
    assert_eq!(me.body["user"]["email_verified"], false);
    let token = app.outbox.token("new@cats.test", 0, "verify_email").await;
    let r = app.confirm_email(&token).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["user"]["email_verified"], true);
    let me = app.call(Method::GET, "/auth/me", &jar, None).await;
    assert_eq!(me.body["user"]["email_verified"], true);
    let again = app.confirm_email(&token).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::BAD_REQUEST, "invalid_token"),
        "single use"
    );
    assert_eq!(
        app.confirm_email("not-a-token").await.code(),
        "invalid_token"
    );
}

#[tokio::test]
async fn verification_links_expire_and_die_with_a_changed_address() {
    let app = spawn(&[]).await;
    app.register("late@cats.test").await;
    let token = app.outbox.token("late@cats.test", 0, "verify_email").await;
    app.clock.advance(24 * 3600);
    assert_eq!(
        app.confirm_email(&token).await.code(),
        "invalid_token",
        "24 hours"
    );
    // A token sent to an address the account no longer has.
    let user = app
        .state
        .service
        .store()
        .user_by_email(&authjar_core::Email::parse("late@cats.test").unwrap())
        .await
        .unwrap()
        .unwrap()
        .user;
    let old = "old-address-token";
    app.state
        .service
        .store()
        .insert_email_token(&EmailToken {
            hash: Sha256::digest(old.as_bytes()).into(),
            user_id: user.id,
            purpose: TokenPurpose::VerifyEmail,
            email: authjar_core::Email::parse("previous@cats.test").unwrap(),
            created_at: app.clock_now(),
            expires_at: app.clock_now() + 3600,
        })
        .await
        .unwrap();
    assert_eq!(app.confirm_email(old).await.code(), "invalid_token");
}

#[tokio::test]
async fn when_verification_is_required_an_unverified_account_can_only_ask_for_a_link() {
    let app = spawn(&[("AUTHJAR_REQUIRE_VERIFIED_EMAIL", "true")]).await;
    let r = post(
        &app,
        "/auth/register",
        &Jar::default(),
        json!({"email": "strict@cats.test", "password": "correct horse"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(r.body["status"], "verification_sent");
    assert!(
        set_cookies(&r.headers)
            .iter()
            .all(|(n, v, _)| !n.ends_with("access_token") || v.is_empty()),
        "no session before the address is proven"
    );
    let (r, _) = app.login("strict@cats.test", "correct horse").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "email_not_verified")
    );
    let (r, _) = app.login("strict@cats.test", "wrong password").await;
    assert_eq!(
        r.code(),
        "invalid_credentials",
        "the verification state is told only to whoever knows the password"
    );
    let r = post(
        &app,
        "/auth/verify-email/request",
        &Jar::default(),
        json!({"email": "strict@cats.test"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let token = app
        .outbox
        .token("strict@cats.test", 1, "verify_email")
        .await;
    assert_eq!(app.confirm_email(&token).await.status, StatusCode::OK);
    let (r, _) = app.login("strict@cats.test", "correct horse").await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn forgot_and_verification_requests_answer_the_same_for_any_address() {
    let app = spawn(&[]).await;
    app.register("known@cats.test").await;
    app.register("verified@cats.test").await;
    let t = app
        .outbox
        .token("verified@cats.test", 0, "verify_email")
        .await;
    assert_eq!(app.confirm_email(&t).await.status, StatusCode::OK);
    for path in ["/auth/password/forgot", "/auth/verify-email/request"] {
        let answers: Vec<(StatusCode, serde_json::Value)> = {
            let mut v = Vec::new();
            for email in ["known@cats.test", "nobody@cats.test", "verified@cats.test"] {
                let r = post(&app, path, &Jar::default(), json!({"email": email})).await;
                v.push((r.status, r.body));
            }
            v
        };
        assert!(
            answers.iter().all(|a| *a == answers[0]),
            "{path}: {answers:?}"
        );
        assert_eq!(answers[0].0, StatusCode::ACCEPTED);
    }
    assert_eq!(app.outbox.settled_count("nobody@cats.test").await, 0);
    assert_eq!(
        app.outbox.settled_count("known@cats.test").await,
        3,
        "registration, reset and a new verification link"
    );
    assert_eq!(
        app.outbox.settled_count("verified@cats.test").await,
        2,
        "registration and reset: a verified address gets no verification link"
    );
}

#[tokio::test]
async fn a_password_reset_ends_every_session_and_proves_the_address() {
    let app = spawn(&[]).await;
    let laptop = app.register("reset@cats.test").await;
    let (_, phone) = app.login("reset@cats.test", "correct horse").await;
    let r = post(
        &app,
        "/auth/password/forgot",
        &Jar::default(),
        json!({"email": "Reset@Cats.test"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let letter = app.outbox.nth("reset@cats.test", 1).await;
    assert!(letter.subject.contains("Reset"), "{}", letter.subject);
    let token = app
        .outbox
        .token("reset@cats.test", 1, "reset_password")
        .await;
    let short = post(
        &app,
        "/auth/password/reset",
        &Jar::default(),
        json!({"token": token, "password": "short"}),
    )
    .await;
    assert_eq!(short.code(), "invalid_password");
    let r = post(
        &app,
        "/auth/password/reset",
        &Jar::default(),
        json!({"token": token, "password": "a brand new secret"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    for jar in [&laptop, &phone] {
        assert_eq!(
            app.call(Method::GET, "/auth/me", jar, None).await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.call(Method::GET, "/auth/verify", jar, None)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(app.session_count("reset@cats.test").await, 0);
    let (old, _) = app.login("reset@cats.test", "correct horse").await;
    assert_eq!(old.code(), "invalid_credentials");
    let (new, _) = app.login("reset@cats.test", "a brand new secret").await;
    assert_eq!(new.status, StatusCode::OK);
    assert_eq!(
        new.body["user"]["email_verified"], true,
        "reading the mailbox proved it"
    );
    let again = post(
        &app,
        "/auth/password/reset",
        &Jar::default(),
        json!({"token": token, "password": "another new secret"}),
    )
    .await;
    assert_eq!(again.code(), "invalid_token", "single use");
    // Reset links live 30 minutes.
    post(
        &app,
        "/auth/password/forgot",
        &Jar::default(),
        json!({"email": "reset@cats.test"}),
    )
    .await;
    let late = app
        .outbox
        .token("reset@cats.test", 2, "reset_password")
        .await;
    app.clock.advance(30 * 60);
    let r = post(
        &app,
        "/auth/password/reset",
        &Jar::default(),
        json!({"token": late, "password": "too late now"}),
    )
    .await;
    assert_eq!(r.code(), "invalid_token");
}

#[tokio::test]
async fn changing_the_password_keeps_this_session_and_ends_the_others() {
    let app = spawn(&[]).await;
    let here = app.register("change@cats.test").await;
    let (_, other) = app.login("change@cats.test", "correct horse").await;
    let wrong = post(
        &app,
        "/auth/password/change",
        &here,
        json!({"current_password": "not my password", "new_password": "horse battery staple"}),
    )
    .await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (StatusCode::FORBIDDEN, "reauthentication_required")
    );
    let missing = post(
        &app,
        "/auth/password/change",
        &here,
        json!({"new_password": "horse battery staple"}),
    )
    .await;
    assert_eq!(missing.code(), "reauthentication_required");
    let anonymous = post(
        &app,
        "/auth/password/change",
        &Jar::default(),
        json!({"current_password": "correct horse", "new_password": "horse battery staple"}),
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let r = post(
        &app,
        "/auth/password/change",
        &here,
        json!({"current_password": "correct horse", "new_password": "horse battery staple"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    assert_eq!(
        app.call(Method::GET, "/auth/me", &here, None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.call(Method::GET, "/auth/me", &other, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("change@cats.test", "correct horse")
            .await
            .0
            .code(),
        "invalid_credentials"
    );
    assert_eq!(
        app.login("change@cats.test", "horse battery staple")
            .await
            .0
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn deleting_the_account_removes_it_everywhere() {
    let app = spawn(&[]).await;
    let here = app.register("gone@cats.test").await;
    let (_, other) = app.login("gone@cats.test", "correct horse").await;
    let r = app
        .call(
            Method::DELETE,
            "/auth/account",
            &here,
            Some(json!({"password": "wrong password"})),
        )
        .await;
    assert_eq!(r.code(), "reauthentication_required");
    let r = app
        .call(
            Method::DELETE,
            "/auth/account",
            &here,
            Some(json!({"password": "correct horse"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    assert!(
        set_cookies(&r.headers)
            .iter()
            .all(|(_, v, l)| v.is_empty() && l.contains("Max-Age=0")),
        "this browser's cookies are cleared"
    );
    for jar in [&here, &other] {
        assert_eq!(
            app.call(Method::GET, "/auth/me", jar, None).await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.call(Method::GET, "/auth/verify", jar, None)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.login("gone@cats.test", "correct horse").await.0.code(),
        "invalid_credentials"
    );
    let again = app.register("gone@cats.test").await;
    assert_eq!(
        app.call(Method::GET, "/auth/me", &again, None).await.status,
        StatusCode::OK,
        "the address is free again"
    );
}

#[tokio::test]
async fn one_person_one_address() {
    let app = spawn(&[]).await;
    app.register("victim@x.test").await;
    for same in [
        "Victim@x.test",
        "VICTIM@X.TEST",
        "victim@ｘ.test",
        "ｖｉｃｔｉｍ@x.test",
    ] {
        let r = post(
            &app,
            "/auth/register",
            &Jar::default(),
            json!({"email": same, "password": "correct horse"}),
        )
        .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::CONFLICT, "email_taken"),
            "{same}"
        );
    }
    let (r, _) = app.login("VICTIM@ｘ.TEST", "correct horse").await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "any spelling logs into the one account"
    );
    for lookalike in ["vіctim@x.test", "viсtim@x.test"] {
        let r = post(
            &app,
            "/auth/register",
            &Jar::default(),
            json!({"email": lookalike, "password": "correct horse"}),
        )
        .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_email"),
            "{lookalike}"
        );
    }
}

#[tokio::test]
async fn the_endpoints_that_send_mail_are_rate_limited_per_address_and_per_client() {
    let app = spawn(&[
        ("AUTHJAR_RATE_LIMIT__ENABLED", "true"),
        ("AUTHJAR_RATE_LIMIT__MAIL_PER_ADDRESS", "2"),
        ("AUTHJAR_RATE_LIMIT__PER_CLIENT", "6"),
    ])
    .await;
    for _ in 0..2 {
        let r = post(
            &app,
            "/auth/password/forgot",
            &Jar::default(),
            json!({"email": "spam@cats.test"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
    }
    let r = post(
        &app,
        "/auth/verify-email/request",
        &Jar::default(),
        json!({"email": "spam@cats.test"}),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        "per address"
    );
    assert!(r.headers.contains_key("retry-after"));
    for i in 0..3 {
        let r = post(
            &app,
            "/auth/password/forgot",
            &Jar::default(),
            json!({"email": format!("a{i}@cats.test")}),
        )
        .await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
    }
    let r = post(
        &app,
        "/auth/password/forgot",
        &Jar::default(),
        json!({"email": "a9@cats.test"}),
    )
    .await;
    assert_eq!(r.code(), "rate_limited", "per client");
}

#[tokio::test]
async fn a_stolen_session_cannot_guess_the_password_through_change_or_delete() {
    let app = spawn(&[
        ("AUTHJAR_RATE_LIMIT__ENABLED", "true"),
        ("AUTHJAR_RATE_LIMIT__LOGIN_PER_ACCOUNT", "3"),
    ])
    .await;
    let stolen = app.register("guess@cats.test").await;
    for i in 0..4 {
        let r = post(&app, "/auth/password/change", &stolen, json!({"current_password": format!("guess number {i}"), "new_password": "attacker password"})).await;
        assert_eq!(r.code(), "reauthentication_required");
    }
    let r = app
        .call(
            Method::DELETE,
            "/auth/account",
            &stolen,
            Some(json!({"password": "correct horse"})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        "the guesses spent the same budget as wrong passwords at login"
    );
    assert_eq!(
        app.call(Method::GET, "/auth/me", &stolen, None)
            .await
            .status,
        StatusCode::OK,
        "the account still exists"
    );
}
