//! `GET /auth/verify`: forward-auth for nginx `auth_request`, Caddy
//! `forward_auth` and Traefik ForwardAuth. Verifies the access token without
//! a database lookup and answers 200 with identity headers, or 401.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorBody};
use crate::extract::MaybeUser;
use crate::state::AuthState;

/// Forward-auth check. For an unsafe original method (`X-Forwarded-Method` /
/// `X-Original-Method`) the original request's `Origin` and `X-CSRF-Token` are checked too.
#[utoipa::path(get, path = "/auth/verify", tag = "forward-auth",
    params(("X-CSRF-Token" = Option<String>, Header, description = "required when the original method is unsafe")),
    responses((status = 403, body = ErrorBody, description = "the original unsafe request failed the origin or CSRF check"),
(status = 200, description = "authenticated; X-Auth-User-Id, X-Auth-Email, X-Auth-Session-Id set"),
              (status = 401, body = ErrorBody, description = "unauthenticated")))]
pub async fn verify(
    State(state): State<AuthState>,
    headers: HeaderMap,
    user: Result<MaybeUser, ApiError>,
) -> Response {
    if let Some(method) = original_method(&headers) {
        if crate::guard::is_unsafe(&method) {
            if let Err(e) = state.guard.check_origin_and_token(&headers).await {
                state.metrics.event("verify", e.code);
                crate::guard::log_refusal(&headers, &method, "/auth/verify", &e);
                return e.into_response();
            }
        }
    }
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

/// The proxied request's method: `X-Forwarded-Method` (Traefik, Caddy) or
/// `X-Original-Method` (nginx). An unparsable value counts as unsafe.
fn original_method(headers: &HeaderMap) -> Option<Method> {
    let v = headers
        .get("x-forwarded-method")
        .or_else(|| headers.get("x-original-method"))?;
    Some(
        v.to_str()
            .ok()
            .and_then(|m| Method::from_bytes(m.trim().as_bytes()).ok())
            .unwrap_or(Method::POST),
    )
}
