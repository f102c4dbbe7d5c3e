//! The caller's account and sessions.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use uuid::Uuid;

use super::account::auth_error;
use super::{clear_session_cookies, SessionBody, UserBody};
use crate::error::{ApiError, ErrorBody};
use crate::extract::AuthUser;
use crate::state::AuthState;

/// `GET /auth/me` body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MeBody {
    /// The user.
    pub user: UserBody,
    /// The current session.
    pub session: SessionBody,
}

/// `GET /auth/sessions` body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionsBody {
    /// Active sessions, newest first.
    pub sessions: Vec<SessionBody>,
}

/// The caller, checked against the session row (a session revoked anywhere answers 401).
#[utoipa::path(get, path = "/auth/me", tag = "session",
    responses((status = 200, body = MeBody), (status = 401, body = ErrorBody, description = "unauthenticated")))]
pub async fn me(
    State(state): State<AuthState>,
    user: AuthUser,
) -> Result<axum::Json<MeBody>, ApiError> {
    let (u, s) = state
        .service
        .current(&user.claims)
        .await
        .map_err(|e| auth_error(&state, "me", e))?;
    state.metrics.event("me", "ok");
    Ok(axum::Json(MeBody {
        user: UserBody::from(&u),
        session: SessionBody::of(&s, user.session_id),
    }))
}

/// The caller's active sessions.
#[utoipa::path(get, path = "/auth/sessions", tag = "session",
    responses((status = 200, body = SessionsBody), (status = 401, body = ErrorBody, description = "unauthenticated")))]
pub async fn list(
    State(state): State<AuthState>,
    user: AuthUser,
) -> Result<axum::Json<SessionsBody>, ApiError> {
    state
        .service
        .current(&user.claims)
        .await
        .map_err(|e| auth_error(&state, "sessions", e))?;
    let sessions = state
        .service
        .sessions(user.user_id)
        .await
        .map_err(|e| auth_error(&state, "sessions", e))?;
    Ok(axum::Json(SessionsBody {
        sessions: sessions
            .iter()
            .map(|s| SessionBody::of(s, user.session_id))
            .collect(),
    }))
}

/// Revokes one of the caller's sessions (its refresh token dies at once).
#[utoipa::path(delete, path = "/auth/sessions/{id}", tag = "session",
    params(("id" = String, Path, description = "session id"),
           ("X-CSRF-Token" = String, Header, description = "the token from the last auth response or GET /auth/csrf")),
    responses((status = 403, body = ErrorBody, description = "a CSRF or origin refusal (see x-error-codes)"),
              (status = 204, description = "revoked; cookies cleared when it was the current session"),
              (status = 401, body = ErrorBody, description = "unauthenticated"),
              (status = 404, body = ErrorBody, description = "not_found: not one of the caller's active sessions")))]
pub async fn revoke(
    State(state): State<AuthState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let sid = Uuid::parse_str(&id).map_err(|_| ApiError::not_found("session"))?;
    state
        .service
        .revoke_own(user.user_id, sid)
        .await
        .map_err(|e| auth_error(&state, "revoke", e))?;
    let mut h = HeaderMap::new();
    if sid == user.session_id {
        clear_session_cookies(&state, &mut h);
    }
    Ok((StatusCode::NO_CONTENT, h).into_response())
}
