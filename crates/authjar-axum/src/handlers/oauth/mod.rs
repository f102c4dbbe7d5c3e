//! Social login: `GET /auth/providers`, `/auth/oauth/{provider}/start`,
//! `/auth/oauth/{provider}/callback`, and `POST /auth/oauth/exchange`.
//! Authorization code + PKCE (S256) + state + nonce; the redirect URI is
//! always `public_url + /auth/oauth/{provider}/callback`; errors go back to
//! the app as `?auth_error=<code>`, never with the provider's text.
//!
//! The routes live one to a module: `start.rs`, `callback.rs` (the callback
//! and the checks that finish a login), `exchange.rs`; `identity.rs` fetches
//! who logged in from an OpenID Connect or a plain OAuth 2.0 provider, with
//! the clients built in `clients.rs`.

pub mod callback;
mod clients;
pub mod exchange;
mod identity;
pub mod start;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::state::AuthState;

pub use callback::callback;
pub use exchange::exchange;
pub use start::start;

/// One entry of `GET /auth/providers`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProviderBody {
    /// Id, as in the URLs.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Where a "Log in with …" link points.
    pub start_url: String,
}

/// `GET /auth/providers` body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProvidersBody {
    /// Configured providers.
    pub providers: Vec<ProviderBody>,
}

/// The configured providers, for a login page.
#[utoipa::path(get, path = "/auth/providers", tag = "oauth", responses((status = 200, body = ProvidersBody)))]
pub async fn providers(State(state): State<AuthState>) -> axum::Json<ProvidersBody> {
    let url = &state.deployment.public_url;
    let providers = state
        .oauth
        .providers
        .iter()
        .map(|p| ProviderBody {
            id: p.id.clone(),
            name: p.name.clone(),
            start_url: url.join(&format!("/auth/oauth/{}/start", p.id)),
        })
        .collect();
    axum::Json(ProvidersBody { providers })
}

/// The callback's failure, sent to the app as `?auth_error=<code>`.
struct Failure(&'static str);

/// The redirect URI registered with every provider: always built from `public_url`.
fn redirect_uri(state: &AuthState, provider: &str) -> String {
    state
        .deployment
        .public_url
        .join(&format!("/auth/oauth/{provider}/callback"))
}

/// A `302 Found` to `location` carrying `headers`.
fn found(location: &str, headers: HeaderMap) -> Response {
    let mut res = (StatusCode::FOUND, headers).into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}
