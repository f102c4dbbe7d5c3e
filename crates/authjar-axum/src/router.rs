//! The auth router: every route of CONTRACT.md's HTTP API, with the layers
//! that apply to all of them.

use std::sync::Arc;

use authjar_policy::CookieKind;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

use crate::error::ApiError;
use crate::extract::{AuthLayer, AuthVerifier};
use crate::handlers::{account, csrf, meta, session, verify};
use crate::state::AuthState;

/// Largest request body accepted (JSON bodies here are tiny).
pub const BODY_LIMIT: usize = 16 * 1024;

/// The auth API as an axum router, state applied.
pub fn router(state: AuthState) -> Router {
    let access_name = state
        .cookie(CookieKind::Access)
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let verifier = AuthVerifier::new(Arc::new(state.service.clone()), &access_name);
    Router::new()
        .route("/auth/register", post(account::register))
        .route("/auth/login", post(account::login))
        .route("/auth/refresh", post(account::refresh))
        .route("/auth/logout", post(account::logout))
        .route("/auth/me", get(session::me))
        .route("/auth/sessions", get(session::list))
        .route("/auth/sessions/{id}", delete(session::revoke))
        .route("/auth/verify", get(verify::verify))
        .route("/auth/csrf", get(csrf::csrf))
        .route("/.well-known/jwks.json", get(meta::jwks))
        .route("/healthz", get(meta::healthz))
        .route("/metrics", get(meta::metrics))
        .route("/openapi.json", get(meta::openapi))
        .fallback(|| async { ApiError::not_found("route") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(AuthLayer::new(verifier))
        .layer(middleware::from_fn_with_state(
            state.guard.clone(),
            crate::guard::guard,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(reject_huge_cookie_headers))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_responses,
        ))
        .layer(middleware::from_fn_with_state(
            state.origins.clone(),
            crate::cors::cors,
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// 431 before any parsing when the `Cookie` header lines are too large
/// (hostile-inputs §2.1 item 8), on every route alike.
async fn reject_huge_cookie_headers(req: Request, next: Next) -> Response {
    let total: usize = req
        .headers()
        .get_all(axum::http::header::COOKIE)
        .iter()
        .map(|v| v.len() + 2)
        .sum();
    if total > crate::cookies::MAX_COOKIE_HEADER_BYTES {
        return ApiError::cookie_header_too_large().into_response();
    }
    next.run(req).await
}

async fn count_responses(State(state): State<AuthState>, req: Request, next: Next) -> Response {
    let res = next.run(req).await.into_response();
    state.metrics.response(res.status().as_u16());
    res
}
