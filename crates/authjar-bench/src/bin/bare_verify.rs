//! The ceiling: an axum handler that only verifies an EdDSA JWT from a cookie.
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
}

async fn verify(state: axum::extract::State<Arc<Ceiling>>, headers: HeaderMap) -> StatusCode {
    let Some(cookie) = headers.get(header::COOKIE).and_then(|v| v.to_str().ok()) else {
        return StatusCode::UNAUTHORIZED;
    };
    let prefix = format!("{}=", state.cookie);
    let Some(token) = cookie
        .split("; ")
        .find_map(|p| p.strip_prefix(prefix.as_str()))
    else {
        return StatusCode::UNAUTHORIZED;
    };
    match jsonwebtoken::decode::<serde_json::Value>(token, &state.key, &state.validation) {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::UNAUTHORIZED,
    }
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
    let state = Arc::new(Ceiling {
        key,
        validation,
        cookie: cookie.clone(),
    });
    let app = Router::new()
        .route("/verify", get(verify))
        .with_state(state);
    let Ok(listener) = tokio::net::TcpListener::bind(addr.as_str()).await else {
        eprintln!("cannot bind {addr}");
        std::process::exit(1);
    };
    let _ = axum::serve(listener, app).await;
}
