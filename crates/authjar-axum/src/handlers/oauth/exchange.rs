//! `POST /auth/oauth/exchange`: a cross-site app trades the one-time code
//! from the callback's fragment for session cookies in its own partition.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use crate::error::{ApiError, ErrorBody};
use crate::handlers::account::issued_response;
use crate::json::ApiJson;
use crate::state::AuthState;

/// `POST /auth/oauth/exchange` body.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct ExchangeRequest {
    /// The `auth_code` the callback put in `return_to`'s fragment.
    pub code: String,
    /// The verifier whose SHA-256 (base64url) was the start's `handoff_challenge`.
    pub verifier: String,
}

/// Trades a one-time code for session cookies, from the cross-site app's own
/// fetch: only from an allowed `Origin` (a request without one is refused),
/// and only with the verifier of the tab that started the login.
#[utoipa::path(post, path = "/auth/oauth/exchange", tag = "oauth", request_body = ExchangeRequest,
    params(("X-CSRF-Token" = String, Header, description = "the token from GET /auth/csrf")),
    responses((status = 200, body = crate::handlers::AuthBody, description = "session cookies set in the app's partition"),
              (status = 400, body = ErrorBody, description = "invalid_exchange_code: unknown, used, expired, or presented without its verifier"),
              (status = 403, body = ErrorBody, description = "a CSRF or origin refusal; origin_not_allowed also when the request has no Origin")))]
pub async fn exchange(
    State(state): State<AuthState>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ExchangeRequest>,
) -> Result<Response, ApiError> {
    require_allowed_origin(&state, &headers)?;
    let issued = state
        .service
        .redeem_handoff(&req.code, &req.verifier)
        .await
        .map_err(|e| match e {
            authjar_core::AuthError::InvalidToken => {
                state
                    .metrics
                    .event("oauth_exchange", "invalid_exchange_code");
                ApiError::invalid_exchange_code()
            }
            other => ApiError::from(&other),
        })?;
    Ok(issued_response(
        &state,
        StatusCode::OK,
        "oauth_exchange",
        &issued,
    ))
}

/// Only an app's own fetch may exchange a code: its `Origin` must be an
/// allowed one, and a request without `Origin` is refused.
fn require_allowed_origin(state: &AuthState, headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(o) if state.origins.contains(o) => Ok(()),
        other => Err(ApiError::origin_not_allowed(
            other.unwrap_or("(none)"),
            state.origins.list(),
        )),
    }
}
