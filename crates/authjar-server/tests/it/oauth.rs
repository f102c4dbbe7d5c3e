//! Social login against a test OpenID Provider started on loopback, which
//! can misbehave on purpose: every protection of the callback, each
//! asserting that no session was created.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use url::Url;

use crate::helpers::{set_cookies, spawn, Jar, Reply, TestApp};

const CLIENT_ID: &str = "hub";
const CLIENT_SECRET: &str = "hub-secret-0123456789";

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Normal,
    WrongNonce,
    WrongIssuer,
    OtherKey,
    Unverified,
}

struct Grant {
    nonce: String,
    challenge: String,
    login: String,
    mode: Mode,
}

struct Op {
    issuer: String,
    key: ed25519_dalek::SigningKey,
    other: ed25519_dalek::SigningKey,
    grants: Mutex<HashMap<String, Grant>>,
    /// The provider rotated its signing key: `other` under kid `op-key-2`.
    rotated: std::sync::atomic::AtomicBool,
}

impl Op {
    fn rotated(&self) -> bool {
        self.rotated.load(std::sync::atomic::Ordering::SeqCst)
    }
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

async fn discovery(State(op): State<Arc<Op>>) -> Json<Value> {
    Json(json!({
        "issuer": op.issuer,
        "authorization_endpoint": format!("{}/authorize", op.issuer),
        "token_endpoint": format!("{}/token", op.issuer),
        "jwks_uri": format!("{}/jwks", op.issuer),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
    }))
}

async fn jwks(State(op): State<Arc<Op>>) -> Json<Value> {
    let (key, kid) = if op.rotated() {
        (&op.other, "op-key-2")
    } else {
        (&op.key, "op-key")
    };
    let x = b64(key.verifying_key().as_bytes());
    Json(
        json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid, "x": x}]}),
    )
}

async fn token(
    State(op): State<Arc<Op>>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Json<Value>, (StatusCode, Json<Value>)> {
    let invalid = || {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        )
    };
    let grant = op
        .grants
        .lock()
        .unwrap()
        .remove(form.get("code").ok_or_else(invalid)?)
        .ok_or_else(invalid)?;
    let verifier = form.get("code_verifier").ok_or_else(invalid)?;
    if b64(&Sha256::digest(verifier.as_bytes())) != grant.challenge {
        return Err(invalid());
    }
    // openidconnect checks `iat`/`exp` against the real clock, not the
    // app's ManualClock, so this provider must sign with the real time.
    #[allow(clippy::disallowed_methods)]
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({
        "iss": if grant.mode == Mode::WrongIssuer { "https://evil-op.test".to_owned() } else { op.issuer.clone() },
        "sub": format!("sub-{}", grant.login),
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 300,
        "nonce": if grant.mode == Mode::WrongNonce { "not-the-nonce".to_owned() } else { grant.nonce.clone() },
        "email": format!("{}@op.test", grant.login),
        "email_verified": grant.mode != Mode::Unverified,
        "name": "Op User",
    });
    let (key, kid) = match (grant.mode, op.rotated()) {
        (Mode::OtherKey, _) => (&op.other, "op-key"),
        (_, true) => (&op.other, "op-key-2"),
        (_, false) => (&op.key, "op-key"),
    };
    let der = key.to_pkcs8_der().unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(kid.into());
    let id_token = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_ed_der(der.as_bytes()),
    )
    .unwrap();
    Ok(Json(
        json!({"access_token": "at", "token_type": "Bearer", "expires_in": 60, "id_token": id_token}),
    ))
}

async fn start_op() -> Arc<Op> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let op = Arc::new(Op {
        issuer: format!("http://{addr}"),
        key: ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
        other: ed25519_dalek::SigningKey::from_bytes(&[8; 32]),
        grants: Mutex::default(),
        rotated: Default::default(),
    });
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/token", post(token))
        .with_state(op.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    op
}

async fn app_with(op: &Op, extra: &[(&str, &str)]) -> TestApp {
    let mut env = vec![
        ("AUTHJAR_OAUTH__OP__ISSUER", op.issuer.as_str()),
        ("AUTHJAR_OAUTH__OP__CLIENT_ID", CLIENT_ID),
        ("AUTHJAR_OAUTH__OP__CLIENT_SECRET", CLIENT_SECRET),
    ];
    env.extend_from_slice(extra);
    spawn(&env).await
}

/// A started login: the transaction cookie, and what the provider was sent.
struct Started {
    cookie: String,
    params: HashMap<String, String>,
}

async fn start(app: &TestApp, return_to: &str) -> Started {
    start_with(app, return_to, None).await
}

/// The challenge of a hand-off verifier, as client.js computes it.
fn challenge_of(verifier: &str) -> String {
    b64(&Sha256::digest(verifier.as_bytes()))
}

async fn start_with(app: &TestApp, return_to: &str, verifier: Option<&str>) -> Started {
    let mut path = format!(
        "/auth/oauth/op/start?return_to={}",
        url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>()
    );
    if let Some(v) = verifier {
        path.push_str(&format!("&handoff_challenge={}", challenge_of(v)));
    }
    let r = app.call(Method::GET, &path, &Jar::default(), None).await;
    assert_eq!(r.status, StatusCode::FOUND, "{:?}", r.body);
    let location = Url::parse(r.headers["location"].to_str().unwrap()).unwrap();
    let params = location.query_pairs().into_owned().collect();
    let (name, value, line) = set_cookies(&r.headers).into_iter().next().unwrap();
    assert!(
        line.contains("SameSite=Lax") && line.contains("HttpOnly"),
        "{line}"
    );
    Started {
        cookie: format!("{name}={value}"),
        params,
    }
}

fn grant(op: &Op, s: &Started, code: &str, login: &str, mode: Mode) {
    op.grants.lock().unwrap().insert(
        code.into(),
        Grant {
            nonce: s.params["nonce"].clone(),
            challenge: s.params["code_challenge"].clone(),
            login: login.into(),
            mode,
        },
    );
}

/// The callback as the browser makes it; returns the Location and the Set-Cookie names with values.
async fn callback(
    app: &TestApp,
    query: &str,
    cookie: Option<&str>,
) -> (Url, Vec<(String, String, String)>) {
    let mut req = app
        .client
        .get(app.url(&format!("/auth/oauth/op/callback?{query}")));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let r = Reply::of(req.send().await.unwrap()).await;
    assert_eq!(r.status, StatusCode::FOUND);
    (
        Url::parse(r.headers["location"].to_str().unwrap()).unwrap(),
        set_cookies(&r.headers),
    )
}

fn auth_error(url: &Url) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == "auth_error")
        .map(|(_, v)| v.into_owned())
}

fn new_session(cookies: &[(String, String, String)]) -> bool {
    cookies
        .iter()
        .any(|(n, v, _)| n.ends_with("access_token") && !v.is_empty())
}

async fn account_exists(app: &TestApp, email: &str) -> bool {
    let e = authjar_core::Email::parse(email).unwrap();
    app.state
        .service
        .store()
        .user_by_email(&e)
        .await
        .unwrap()
        .is_some()
}

#[tokio::test]
async fn a_good_login_lands_on_return_to_with_a_session() {
    let op = start_op().await;
    let app = app_with(&op, &[]).await;
    let s = start(&app, "/bookings").await;
    assert_eq!(
        s.params["redirect_uri"], "http://localhost:8000/auth/oauth/op/callback",
        "built from public_url"
    );
    assert_eq!(s.params["code_challenge_method"], "S256");
    assert!(s.params["scope"].contains("openid"));
    grant(&op, &s, "c1", "alice", Mode::Normal);
    let (to, cookies) = callback(
        &app,
        &format!("code=c1&state={}", s.params["state"]),
        Some(&s.cookie),
    )
    .await;
    assert_eq!(to.as_str(), "http://localhost:3000/bookings");
    assert!(new_session(&cookies));
    assert!(
        cookies
            .iter()
            .any(|(n, v, l)| n == "oauth_tx" && v.is_empty() && l.contains("Max-Age=0")),
        "the transaction cookie is cleared"
    );
    let mut jar = Jar::default();
    for (n, v, _) in &cookies {
        if !v.is_empty() {
            jar.0.insert(n.clone(), v.clone());
        }
    }
    let me = app.call(Method::GET, "/auth/me", &jar, None).await;
    assert_eq!(me.body["user"]["email"], "alice@op.test");
    let providers = app
        .call(Method::GET, "/auth/providers", &Jar::default(), None)
        .await;
    assert_eq!(
        providers.body["providers"][0]["start_url"],
        "http://localhost:8000/auth/oauth/op/start"
    );
}

#[tokio::test]
async fn every_broken_callback_is_refused_and_creates_no_session() {
    let op = start_op().await;
    let app = app_with(&op, &[]).await;
    let cases: Vec<(&str, Mode, &str)> = vec![
        ("wrong nonce", Mode::WrongNonce, "id_token_invalid"),
        (
            "wrong issuer in the ID token",
            Mode::WrongIssuer,
            "id_token_invalid",
        ),
        (
            "ID token signed with another key",
            Mode::OtherKey,
            "id_token_invalid",
        ),
    ];
    for (i, (name, mode, code)) in cases.iter().enumerate() {
        let s = start(&app, "/").await;
        let c = format!("bad{i}");
        grant(&op, &s, &c, &format!("u{i}"), *mode);
        let (to, cookies) = callback(
            &app,
            &format!("code={c}&state={}", s.params["state"]),
            Some(&s.cookie),
        )
        .await;
        assert_eq!(auth_error(&to).as_deref(), Some(*code), "{name}");
        assert!(!new_session(&cookies), "{name}");
        assert!(
            !account_exists(&app, &format!("u{i}@op.test")).await,
            "{name}"
        );
    }
    // Missing and mismatched state, an RFC 9207 issuer mismatch, a provider error.
    let s = start(&app, "/").await;
    grant(&op, &s, "s1", "st", Mode::Normal);
    let state = s.params["state"].clone();
    for (query, code) in [
        ("code=s1".to_owned(), "state_mismatch"),
        ("code=s1&state=forged".to_owned(), "state_mismatch"),
        (
            format!("code=s1&state={state}&iss=https%3A%2F%2Fevil-op.test"),
            "issuer_mismatch",
        ),
        (
            format!("error=access_denied&error_description=%3Cscript%3E&state={state}"),
            "provider_error",
        ),
    ] {
        let (to, cookies) = callback(&app, &query, Some(&s.cookie)).await;
        assert_eq!(auth_error(&to).as_deref(), Some(code), "{query}");
        assert!(
            !to.as_str().contains("script") && !to.as_str().contains("access_denied"),
            "provider text is never reflected"
        );
        assert!(!new_session(&cookies));
    }
    assert!(!account_exists(&app, "st@op.test").await);
}

#[tokio::test]
async fn replays_expiry_and_a_second_users_callback_are_refused() {
    let op = start_op().await;
    let app = app_with(&op, &[]).await;
    // A complete login, then the same callback replayed: without the (cleared) cookie, and with a copy of it (code reuse).
    let s = start(&app, "/").await;
    grant(&op, &s, "r1", "replay", Mode::Normal);
    let query = format!("code=r1&state={}", s.params["state"]);
    let (_, first) = callback(&app, &query, Some(&s.cookie)).await;
    assert!(new_session(&first));
    let (to, cookies) = callback(&app, &query, None).await;
    assert_eq!(auth_error(&to).as_deref(), Some("invalid_transaction"));
    assert!(!new_session(&cookies));
    let (to, cookies) = callback(&app, &query, Some(&s.cookie)).await;
    assert_eq!(
        auth_error(&to).as_deref(),
        Some("token_exchange_failed"),
        "a reused code is refused by the provider"
    );
    assert!(!new_session(&cookies));
    assert_eq!(app.session_count("replay@op.test").await, 1);
    // An expired transaction (10 minutes).
    let s = start(&app, "/").await;
    grant(&op, &s, "e1", "late", Mode::Normal);
    app.clock.advance(601);
    let (to, cookies) = callback(
        &app,
        &format!("code=e1&state={}", s.params["state"]),
        Some(&s.cookie),
    )
    .await;
    assert_eq!(auth_error(&to).as_deref(), Some("transaction_expired"));
    assert!(!new_session(&cookies));
    // Login CSRF: the attacker's own callback URL opened in the victim's browser (victim's transaction cookie).
    let victim = start(&app, "/").await;
    let attacker = start(&app, "/").await;
    grant(&op, &attacker, "a1", "attacker", Mode::Normal);
    let (to, cookies) = callback(
        &app,
        &format!("code=a1&state={}", attacker.params["state"]),
        Some(&victim.cookie),
    )
    .await;
    assert_eq!(auth_error(&to).as_deref(), Some("state_mismatch"));
    assert!(!new_session(&cookies));
    assert!(!account_exists(&app, "attacker@op.test").await);
}

/// A provider login for `login` (`login@op.test`), verified or not; the redirect and its cookies.
async fn op_login(
    app: &TestApp,
    op: &Op,
    login: &str,
    mode: Mode,
) -> (Url, Vec<(String, String, String)>) {
    let s = start(app, "/").await;
    let code = format!("c-{login}-{}", s.params["state"]);
    grant(op, &s, &code, login, mode);
    callback(
        app,
        &format!("code={code}&state={}", s.params["state"]),
        Some(&s.cookie),
    )
    .await
}

fn jar_of(cookies: &[(String, String, String)]) -> Jar {
    let mut jar = Jar::default();
    for (n, v, _) in cookies {
        if !v.is_empty() {
            jar.0.insert(n.clone(), v.clone());
        }
    }
    jar
}

#[tokio::test]
async fn pre_account_takeover_through_a_password_account_fails_closed() {
    let op = start_op().await;
    let app = app_with(&op, &[]).await;
    // The attacker registers the victim's address (another spelling of it) with a password of their own.
    let r = app
        .call(
            Method::POST,
            "/auth/register",
            &Jar::default(),
            Some(json!({"email": "Owner@OP.test", "password": "attacker password"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["user"]["email_verified"], false);
    let mut attacker = Jar::default();
    attacker.absorb(&r.headers);
    // The real owner logs in with a provider that verified the address.
    let (to, cookies) = op_login(&app, &op, "owner", Mode::Normal).await;
    assert_eq!(auth_error(&to), None);
    assert!(new_session(&cookies));
    let victim = jar_of(&cookies);
    // The attacker's password and sessions are dead; the owner is in.
    let (r, _) = app.login("owner@op.test", "attacker password").await;
    assert_eq!(
        r.code(),
        "invalid_credentials",
        "the attacker's password stopped working"
    );
    assert_eq!(
        app.call(Method::GET, "/auth/me", &attacker, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.call(Method::POST, "/auth/refresh", &attacker, Some(json!({})))
            .await
            .code(),
        "invalid_refresh"
    );
    assert_eq!(
        app.call(Method::GET, "/auth/verify", &attacker, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "the attacker's access token is refused at once, not when it expires"
    );
    let me = app.call(Method::GET, "/auth/me", &victim, None).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["user"]["email"], "owner@op.test");
    assert_eq!(me.body["user"]["email_verified"], true);
    assert_eq!(
        app.session_count("owner@op.test").await,
        1,
        "only the owner's session"
    );
}

#[tokio::test]
async fn an_unverified_provider_identity_never_creates_or_joins_an_account() {
    let op = start_op().await;
    let app = app_with(&op, &[]).await;
    let (to, cookies) = op_login(&app, &op, "stranger", Mode::Unverified).await;
    assert_eq!(
        auth_error(&to).as_deref(),
        Some("provider_email_unverified")
    );
    assert!(!new_session(&cookies));
    assert!(
        !account_exists(&app, "stranger@op.test").await,
        "nothing was created"
    );
    // Later the real owner registers and logs in with their password: the account is theirs alone.
    app.register("stranger@op.test").await;
    let (to, cookies) = op_login(&app, &op, "stranger", Mode::Unverified).await;
    assert_eq!(
        auth_error(&to).as_deref(),
        Some("provider_email_unverified")
    );
    assert!(
        !new_session(&cookies),
        "an unverified identity does not join an existing account"
    );
    let (r, _) = app.login("stranger@op.test", "correct horse").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.session_count("stranger@op.test").await,
        2,
        "the registration's and the login's"
    );
}

#[tokio::test]
async fn a_verified_provider_links_to_an_account_whose_owner_proved_the_address() {
    let op = start_op().await;
    let app = app_with(&op, &[]).await;
    app.register("owner@op.test").await;
    let token = app.outbox.token("owner@op.test", 0, "verify_email").await;
    let r = app.confirm_email(&token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let (to, cookies) = op_login(&app, &op, "owner", Mode::Normal).await;
    assert_eq!(auth_error(&to), None);
    assert!(
        new_session(&cookies),
        "a verified address links to the existing account"
    );
    let (r, _) = app.login("owner@op.test", "correct horse").await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the owner's own password still works"
    );
    assert_eq!(app.session_count("owner@op.test").await, 3);
}

#[tokio::test]
async fn a_logged_in_user_links_a_provider_on_purpose() {
    let op = start_op().await;
    let app = app_with(&op, &[]).await;
    let r = app
        .call(
            Method::GET,
            "/auth/oauth/op/start?return_to=/settings&link=1",
            &Jar::default(),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "unauthenticated"),
        "linking needs a session"
    );
    // An account under another address than the provider's, verified.
    let jar = app.register("me@cats.test").await;
    let token = app.outbox.token("me@cats.test", 0, "verify_email").await;
    let r = app.confirm_email(&token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app
        .call(
            Method::GET,
            "/auth/oauth/op/start?return_to=/settings&link=1",
            &jar,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FOUND, "{:?}", r.body);
    let location = Url::parse(r.headers["location"].to_str().unwrap()).unwrap();
    let params: HashMap<String, String> = location.query_pairs().into_owned().collect();
    let tx_cookie = set_cookies(&r.headers)
        .into_iter()
        .map(|(n, v, _)| format!("{n}={v}"))
        .next()
        .unwrap();
    let s = Started {
        cookie: tx_cookie,
        params,
    };
    grant(&op, &s, "link-code", "elsewhere", Mode::Normal);
    let (to, cookies) = callback(
        &app,
        &format!("code=link-code&state={}", s.params["state"]),
        Some(&s.cookie),
    )
    .await;
    assert_eq!(to.path(), "/settings");
    assert_eq!(
        to.query_pairs()
            .find(|(k, _)| k == "linked")
            .map(|(_, v)| v.into_owned())
            .as_deref(),
        Some("op")
    );
    assert!(
        !new_session(&cookies),
        "linking does not start another session"
    );
    // Now the provider logs into this account, though its e-mail differs.
    let (to, cookies) = op_login(&app, &op, "elsewhere", Mode::Normal).await;
    assert_eq!(auth_error(&to), None);
    let me = app
        .call(Method::GET, "/auth/me", &jar_of(&cookies), None)
        .await;
    assert_eq!(me.body["user"]["email"], "me@cats.test");
    assert!(!account_exists(&app, "elsewhere@op.test").await);
}

#[tokio::test]
async fn hostile_return_to_values_are_refused_at_start() {
    let op = start_op().await;
    let app = app_with(&op, &[]).await;
    for bad in [
        "//evil.com",
        "https://evil.com/",
        "/\\evil.com",
        "http://localhost:3000@evil.com/",
    ] {
        let path = format!(
            "/auth/oauth/op/start?return_to={}",
            url::form_urlencoded::byte_serialize(bad.as_bytes()).collect::<String>()
        );
        let r = app.call(Method::GET, &path, &Jar::default(), None).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "invalid_return_to"),
            "{bad}"
        );
        assert!(set_cookies(&r.headers).is_empty());
    }
    let r = app
        .call(
            Method::GET,
            "/auth/oauth/op/start?return_to=/a&return_to=//evil.com",
            &Jar::default(),
            None,
        )
        .await;
    assert_eq!(r.code(), "invalid_return_to", "two values are refused");
}

async fn cross_site_app(op: &Op) -> TestApp {
    app_with(
        op,
        &[
            ("AUTHJAR_PUBLIC_URL", "https://hub-api.test"),
            ("AUTHJAR_APP_ORIGINS", "https://hub.test"),
            ("AUTHJAR_SECRET", "0123456789abcdef0123456789abcdef"),
        ],
    )
    .await
}

/// Runs a login for `login` that returns to the cross-site app, started with
/// `verifier`'s challenge; the hand-off code from the redirect's fragment.
async fn handoff_code(app: &TestApp, op: &Op, login: &str, verifier: &str) -> String {
    let s = start_with(app, "https://hub.test/bookings", Some(verifier)).await;
    let c = format!("grant-{login}-{verifier}");
    grant(op, &s, &c, login, Mode::Normal);
    let (to, cookies) = callback(
        app,
        &format!("code={c}&state={}", s.params["state"]),
        Some(&s.cookie),
    )
    .await;
    assert_eq!(to.origin().ascii_serialization(), "https://hub.test");
    assert!(
        !cookies
            .iter()
            .any(|(n, v, _)| n.contains("access_token") && !v.is_empty()),
        "no cookies on the top-level callback"
    );
    assert!(
        to.query_pairs().all(|(k, _)| k != "auth_code"),
        "the code is never in the query (servers and Referer see queries): {to}"
    );
    let fragment = to.fragment().expect("the code travels in the fragment");
    fragment.strip_prefix("auth_code=").unwrap().to_owned()
}

/// `POST /auth/oauth/exchange` as the app's page sends it (or without an Origin).
async fn exchange(app: &TestApp, origin: Option<&str>, code: &str, verifier: &str) -> Reply {
    let mut pre = Jar::default();
    let token = app.csrf(&mut pre).await;
    let mut req = app
        .client
        .post(app.url("/auth/oauth/exchange"))
        .header("cookie", pre.header())
        .header("x-csrf-token", token);
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    let r = req
        .json(&json!({"code": code, "verifier": verifier}))
        .send()
        .await
        .unwrap();
    Reply::of(r).await
}

#[tokio::test]
async fn a_cross_site_app_gets_a_one_time_code_that_works_once_and_expires() {
    let op = start_op().await;
    let app = cross_site_app(&op).await;
    let v1 = "verifier-one-0123456789abcdef0123456789abcdef";
    let v2 = "verifier-two-0123456789abcdef0123456789abcdef";
    let first = handoff_code(&app, &op, "x1", v1).await;
    let second = handoff_code(&app, &op, "x2", v2).await;
    let ok = exchange(&app, Some("https://hub.test"), &first, v1).await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);
    let lines: Vec<String> = set_cookies(&ok.headers)
        .into_iter()
        .map(|(_, _, l)| l)
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("__Host-access_token=") && l.contains("Partitioned")),
        "{lines:?}"
    );
    let again = exchange(&app, Some("https://hub.test"), &first, v1).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::BAD_REQUEST, "invalid_exchange_code"),
        "single use"
    );
    app.clock.advance(61);
    let late = exchange(&app, Some("https://hub.test"), &second, v2).await;
    assert_eq!(
        late.code(),
        "invalid_exchange_code",
        "expired after a minute"
    );
}

#[tokio::test]
async fn an_attackers_hand_off_code_cannot_log_a_victim_in() {
    let op = start_op().await;
    let app = cross_site_app(&op).await;
    let attacker_verifier = "attacker-0123456789abcdef0123456789abcdef";
    let code = handoff_code(&app, &op, "mallory", attacker_verifier).await;
    // The victim's tab has its own verifier (or none): the code is refused and spent.
    let victim = exchange(&app, Some("https://hub.test"), &code, "victim-tab-verifier").await;
    assert_eq!(
        (victim.status, victim.code()),
        (StatusCode::BAD_REQUEST, "invalid_exchange_code")
    );
    assert!(!new_session(&set_cookies(&victim.headers)));
    let after = exchange(&app, Some("https://hub.test"), &code, attacker_verifier).await;
    assert_eq!(
        after.code(),
        "invalid_exchange_code",
        "a wrong verifier spends the code: it cannot be guessed at"
    );
}

#[tokio::test]
async fn a_leaked_code_is_refused_without_an_app_origin() {
    let op = start_op().await;
    let app = cross_site_app(&op).await;
    let v = "leaky-0123456789abcdef0123456789abcdef";
    let code = handoff_code(&app, &op, "leaky", v).await;
    for origin in [None, Some("https://evil.test")] {
        let r = exchange(&app, origin, &code, v).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::FORBIDDEN, "origin_not_allowed"),
            "{origin:?}"
        );
        assert!(!new_session(&set_cookies(&r.headers)));
    }
    let ok = exchange(&app, Some("https://hub.test"), &code, v).await;
    assert_eq!(
        ok.status,
        StatusCode::OK,
        "the refusals did not spend the code"
    );
}

#[tokio::test]
async fn a_cross_site_login_started_without_a_challenge_is_refused() {
    let op = start_op().await;
    let app = cross_site_app(&op).await;
    let s = start(&app, "https://hub.test/").await;
    grant(&op, &s, "c-unbound", "unbound", Mode::Normal);
    let (to, cookies) = callback(
        &app,
        &format!("code=c-unbound&state={}", s.params["state"]),
        Some(&s.cookie),
    )
    .await;
    assert_eq!(auth_error(&to).as_deref(), Some("handoff_unbound"));
    assert!(to.fragment().is_none());
    assert!(!new_session(&cookies));
    let bad = app
        .call(
            Method::GET,
            "/auth/oauth/op/start?return_to=/&handoff_challenge=short",
            &Jar::default(),
            None,
        )
        .await;
    assert_eq!(bad.code(), "invalid_handoff_challenge");
}

#[tokio::test]
async fn logins_keep_working_after_the_provider_rotates_its_signing_key() {
    let op = start_op().await;
    let app = app_with(&op, &[]).await;
    let login = |n: &'static str| {
        let (app, op) = (&app, &op);
        async move {
            let s = start(app, "/").await;
            grant(op, &s, n, n, Mode::Normal);
            let (to, cookies) = callback(
                app,
                &format!("code={n}&state={}", s.params["state"]),
                Some(&s.cookie),
            )
            .await;
            (auth_error(&to), new_session(&cookies))
        }
    };
    assert_eq!(login("before").await, (None, true));
    op.rotated.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        login("after").await,
        (None, true),
        "an unknown key id makes authjar fetch the provider's keys again"
    );
}

/// A GitHub-shaped OAuth 2.0 provider: token endpoint, user API, e-mails API.
struct Gh {
    base: String,
    grants: Mutex<HashMap<String, String>>,
}

async fn gh_token(
    State(gh): State<Arc<Gh>>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Json<Value>, StatusCode> {
    let challenge = gh
        .grants
        .lock()
        .unwrap()
        .remove(form.get("code").ok_or(StatusCode::BAD_REQUEST)?)
        .ok_or(StatusCode::BAD_REQUEST)?;
    let verifier = form.get("code_verifier").ok_or(StatusCode::BAD_REQUEST)?;
    if b64(&Sha256::digest(verifier.as_bytes())) != challenge {
        return Err(StatusCode::BAD_REQUEST);
    }
    Ok(Json(
        json!({"access_token": "gh-token", "token_type": "bearer", "scope": "read:user,user:email"}),
    ))
}

fn bearer_ok(h: &axum::http::HeaderMap) -> bool {
    h.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer gh-token")
}

async fn gh_user(h: axum::http::HeaderMap) -> Result<Json<Value>, StatusCode> {
    if !bearer_ok(&h) {
        return Err(StatusCode::UNAUTHORIZED);
    }
    Ok(Json(
        json!({"id": 42, "login": "octocat", "name": "Octo Cat", "email": null}),
    ))
}

async fn gh_emails(h: axum::http::HeaderMap) -> Result<Json<Value>, StatusCode> {
    if !bearer_ok(&h) {
        return Err(StatusCode::UNAUTHORIZED);
    }
    Ok(Json(json!([
        {"email": "other@gh.test", "primary": false, "verified": false},
        {"email": "octo@gh.test", "primary": true, "verified": true},
    ])))
}

#[tokio::test]
async fn a_plain_oauth2_provider_logs_in_through_its_user_and_email_apis() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gh = Arc::new(Gh {
        base: format!("http://{}", listener.local_addr().unwrap()),
        grants: Mutex::default(),
    });
    let router = Router::new()
        .route("/token", post(gh_token))
        .route("/user", get(gh_user))
        .route("/user/emails", get(gh_emails))
        .with_state(gh.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let (auth, tok, user) = (
        format!("{}/authorize", gh.base),
        format!("{}/token", gh.base),
        format!("{}/user", gh.base),
    );
    let app = spawn(&[
        ("AUTHJAR_OAUTH__GH__AUTH_URL", auth.as_str()),
        ("AUTHJAR_OAUTH__GH__TOKEN_URL", tok.as_str()),
        ("AUTHJAR_OAUTH__GH__USERINFO_URL", user.as_str()),
        ("AUTHJAR_OAUTH__GH__CLIENT_ID", "gh-client"),
        ("AUTHJAR_OAUTH__GH__CLIENT_SECRET", "gh-secret"),
    ])
    .await;
    let r = app
        .call(Method::GET, "/auth/oauth/gh/start", &Jar::default(), None)
        .await;
    assert_eq!(r.status, StatusCode::FOUND);
    let location = Url::parse(r.headers["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(&auth));
    let params: HashMap<String, String> = location.query_pairs().into_owned().collect();
    assert_eq!(params["code_challenge_method"], "S256");
    assert!(params["scope"].contains("user:email"));
    assert_eq!(
        params["redirect_uri"],
        "http://localhost:8000/auth/oauth/gh/callback"
    );
    let (name, value, _) = set_cookies(&r.headers).into_iter().next().unwrap();
    let cookie = format!("{name}={value}");
    gh.grants
        .lock()
        .unwrap()
        .insert("g1".into(), params["code_challenge"].clone());
    let (to, cookies) = callback_for(&app, "gh", "code=g1&state=forged", &cookie).await;
    assert_eq!(auth_error(&to).as_deref(), Some("state_mismatch"));
    assert!(!new_session(&cookies));
    let (to, cookies) = callback_for(
        &app,
        "gh",
        &format!("code=g1&state={}", params["state"]),
        &cookie,
    )
    .await;
    assert_eq!(to.as_str(), "http://localhost:3000/");
    assert!(new_session(&cookies));
    let mut jar = Jar::default();
    for (n, v, _) in &cookies {
        if !v.is_empty() {
            jar.0.insert(n.clone(), v.clone());
        }
    }
    let me = app.call(Method::GET, "/auth/me", &jar, None).await;
    assert_eq!(
        me.body["user"]["email"], "octo@gh.test",
        "the verified primary e-mail"
    );
    assert_eq!(me.body["user"]["name"], "Octo Cat");
}

async fn callback_for(
    app: &TestApp,
    provider: &str,
    query: &str,
    cookie: &str,
) -> (Url, Vec<(String, String, String)>) {
    let r = app
        .client
        .get(app.url(&format!("/auth/oauth/{provider}/callback?{query}")))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let r = Reply::of(r).await;
    assert_eq!(r.status, StatusCode::FOUND);
    (
        Url::parse(r.headers["location"].to_str().unwrap()).unwrap(),
        set_cookies(&r.headers),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_off_made_on_one_postgres_instance_is_redeemed_once_on_another() {
    let db = crate::instances::PgDatabase::create().await;
    let op = start_op().await;
    let env = [
        ("AUTHJAR_PUBLIC_URL", "https://hub-api.test"),
        ("AUTHJAR_APP_ORIGINS", "https://hub.test"),
        ("AUTHJAR_SECRET", "0123456789abcdef0123456789abcdef"),
        ("AUTHJAR_DATABASE_URL", db.url.as_str()),
    ];
    let a = app_with(&op, &env).await;
    let b = app_with(&op, &env).await;
    let v = "two-instances-0123456789abcdef0123456789abcdef";
    let code = handoff_code(&a, &op, "roaming", v).await;
    let r = exchange(&b, Some("https://hub.test"), &code, v).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the callback ran on A, the exchange reaches B: {:?}",
        r.body
    );
    assert!(new_session(&set_cookies(&r.headers)));
    let again = exchange(&a, Some("https://hub.test"), &code, v).await;
    assert_eq!(
        again.code(),
        "invalid_exchange_code",
        "once, across instances"
    );
    drop((a, b));
    db.drop().await;
}
