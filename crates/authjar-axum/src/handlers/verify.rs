//! `GET /auth/verify`: forward-auth for nginx `auth_request`, Caddy
//! `forward_auth` and Traefik ForwardAuth. Verifies the access token without
//! a database lookup and answers 200 with identity headers, or 401.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorBody};
use crate::extract::MaybeUser;
use crate::state::AuthState;

/// Forward-auth check.
#[utoipa::path(get, path = "/auth/verify", tag = "forward-auth",
    responses((status = 200, description = "authenticated; X-Auth-User-Id, X-Auth-Email, X-Auth-Session-Id set"),
              (status = 401, body = ErrorBody, description = "unauthenticated")))]
pub async fn verify(State(state): State<AuthState>, user: Result<MaybeUser, ApiError>) -> Response {
    let Ok(MaybeUser(Some(u))) = user else {
        state.metrics.event("verify", "unauthenticated");
        return ApiError::unauthenticated().into_response();
    };
    state.metrics.event("verify", "ok");
    let mut h = HeaderMap::new();
    let pairs = [
        ("x-auth-user-id", u.user_id.to_string()),
        ("x-auth-email", u.email.clone()),
        ("x-auth-session-id", u.session_id.to_string()),
    ];
    for (name, value) in pairs {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(HeaderName::from_static(name), v);
        }
    }
    (StatusCode::OK, h).into_response()
}
