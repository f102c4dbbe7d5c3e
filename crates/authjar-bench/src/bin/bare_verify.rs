//! The ceilings: axum handlers that only verify a JWT from a cookie.
//! `GET /verify`: the EdDSA access token authjar issued (its key from the
//! JWKS), checked in full on every request. `GET /verify-hs256`: an HS256
//! JWT of the same claims minted here at start (printed as the first line,
//! `hs256_token=…`, for the load generator), the cheapest correct check.
//! Usage: bare-verify ADDR JWKS_URL COOKIE_NAME

use std::sync::Arc;

use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::get;
use axum::Router;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

struct Ceiling {
    key: DecodingKey,
    validation: Validation,
    cookie: String,
    hs256_key: DecodingKey,
    hs256_validation: Validation,
}

/// The HS256 ceiling's cookie.
const HS256_COOKIE: &str = "hs256";
/// A benchmark's key: nothing it signs protects anything.
const HS256_SECRET: &[u8] = b"bare-ceiling-hs256-key-32-bytes!";

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let cookie = headers.get(header::COOKIE)?.to_str().ok()?;
    let prefix = format!("{name}=");
    cookie
        .split("; ")
        .find_map(|p| p.strip_prefix(prefix.as_str()))
}

fn check(token: Option<&str>, key: &DecodingKey, validation: &Validation) -> StatusCode {
    match token.map(|t| jsonwebtoken::decode::<serde_json::Value>(t, key, validation)) {
        Some(Ok(_)) => StatusCode::OK,
        _ => StatusCode::UNAUTHORIZED,
    }
}

async fn verify(state: axum::extract::State<Arc<Ceiling>>, headers: HeaderMap) -> StatusCode {
    check(
        cookie(&headers, &state.cookie),
        &state.key,
        &state.validation,
    )
}

async fn verify_hs256(state: axum::extract::State<Arc<Ceiling>>, headers: HeaderMap) -> StatusCode {
    check(
        cookie(&headers, HS256_COOKIE),
        &state.hs256_key,
        &state.hs256_validation,
    )
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, addr, jwks_url, cookie] = args.as_slice() else {
        eprintln!("usage: bare-verify ADDR JWKS_URL COOKIE_NAME");
        std::process::exit(2);
    };
    let jwks: serde_json::Value = match reqwest::get(jwks_url.as_str()).await {
        Ok(r) => r.json().await.unwrap_or_default(),
        Err(e) => {
            eprintln!("cannot fetch {jwks_url}: {e}");
            std::process::exit(1);
        }
    };
    let x = jwks["keys"][0]["x"].as_str().unwrap_or_default();
    let Ok(key) = DecodingKey::from_ed_components(x) else {
        eprintln!("no Ed25519 key in {jwks_url}");
        std::process::exit(1);
    };
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.validate_aud = false;
    let claims = serde_json::json!({
        "sub": "00000000-0000-0000-0000-000000000001",
        "sid": "00000000-0000-0000-0000-000000000002",
        "email": "bench@authjar.test",
        "iat": 1_700_000_000,
        "exp": 4_102_444_800u64,
        "iss": "http://localhost",
    });
    let Ok(hs256_token) = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(HS256_SECRET),
    ) else {
        eprintln!("cannot sign the HS256 ceiling's token");
        std::process::exit(1);
    };
    println!("hs256_token={hs256_token}");
    let mut hs256_validation = Validation::new(Algorithm::HS256);
    hs256_validation.validate_aud = false;
    let state = Arc::new(Ceiling {
        key,
        validation,
        cookie: cookie.clone(),
        hs256_key: DecodingKey::from_secret(HS256_SECRET),
        hs256_validation,
    });
    let app = Router::new()
        .route("/verify", get(verify))
        .route("/verify-hs256", get(verify_hs256))
        .with_state(state);
    let Ok(listener) = tokio::net::TcpListener::bind(addr.as_str()).await else {
        eprintln!("cannot bind {addr}");
        std::process::exit(1);
    };
    let _ = axum::serve(listener, app).await;
}
