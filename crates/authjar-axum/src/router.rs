//! The auth router: every route of docs/http-api.md, with the layers
//! that apply to all of them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use authjar_policy::CookieKind;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;

use crate::error::ApiError;
use crate::extract::{AuthLayer, AuthVerifier};
use crate::handlers::{
    account, client_files, csrf, debug, lifecycle, meta, oauth, session, verify,
};
use crate::state::AuthState;
use crate::{cors, guard};

/// Largest request body accepted (JSON bodies here are tiny).
pub const BODY_LIMIT: usize = 16 * 1024;

/// The auth API as an axum router, state applied, with the browser-security
/// layers ([`with_browser_security`]).
pub fn router(state: AuthState) -> Router {
    with_browser_security(routes(state.clone()), state)
}

/// The auth API's routes alone, to merge with an application's own routes
/// before [`with_browser_security`] wraps them all.
pub fn routes(state: AuthState) -> Router {
    Router::new()
        .route("/auth/register", post(account::register))
        .route("/auth/login", post(account::login))
        .route("/auth/refresh", post(account::refresh))
        .route("/auth/logout", post(account::logout))
        .route("/auth/me", get(session::me))
        .route("/auth/sessions", get(session::list))
        .route("/auth/sessions/{id}", delete(session::revoke))
        .route("/auth/verify", get(verify::verify))
        .route(
            "/auth/verify-email/request",
            post(lifecycle::verify_email_request),
        )
        .route(
            "/auth/verify-email/confirm",
            post(lifecycle::verify_email_confirm),
        )
        .route("/auth/password/forgot", post(lifecycle::password_forgot))
        .route("/auth/password/reset", post(lifecycle::password_reset))
        .route("/auth/password/change", post(lifecycle::password_change))
        .route("/auth/account", delete(lifecycle::account_delete))
        .route("/auth/csrf", get(csrf::csrf))
        .route("/auth/providers", get(oauth::providers))
        .route("/auth/oauth/{provider}/start", get(oauth::start))
        .route("/auth/oauth/{provider}/callback", get(oauth::callback))
        .route("/auth/oauth/exchange", post(oauth::exchange))
        .route("/auth/client.js", get(client_files::client_js))
        .route("/auth/client.d.ts", get(client_files::client_dts))
        .route("/auth/debug", get(debug::debug_page))
        .route("/.well-known/jwks.json", get(meta::jwks))
        .route("/healthz", get(meta::healthz))
        .route("/metrics", get(meta::metrics))
        .route("/openapi.json", get(meta::openapi))
        .with_state(state)
}

/// `/metrics` alone, for a private listener (`metrics_listen`): no
/// browser-security layers, since no browser is meant to reach it.
pub fn metrics_router(state: AuthState) -> Router {
    Router::new()
        .route("/metrics", get(meta::metrics_private))
        .with_state(state)
}

/// Wraps `router` (authjar's routes, an application's, or both merged) in
/// what every route needs: JSON 404/405, the [`AuthLayer`] for `AuthUser`,
/// the body limit, and the edge layer (cookie-size limit, request id, CORS,
/// the CSRF guard on unsafe methods, metrics).
pub fn with_browser_security(router: Router, state: AuthState) -> Router {
    let access_name = state
        .cookie(CookieKind::Access)
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let verifier = AuthVerifier::new(Arc::new(state.service.clone()), &access_name);
    router
        .fallback(|| async { ApiError::not_found("route") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(AuthLayer::new(verifier))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state, edge))
}

/// A cheap, unique request id: a per-process random prefix and a counter
/// (a UUID per request costs a `getrandom` call on the hot path), written
/// without an intermediate `String`.
fn next_request_id() -> HeaderValue {
    use std::io::Write as _;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static PREFIX: OnceLock<u32> = OnceLock::new();
    let prefix = PREFIX.get_or_init(|| {
        u32::from_be_bytes(authjar_core::random::bytes::<4>(&authjar_core::OsRandom))
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // 8 hex digits, a dash, at most 16 more.
    let mut buf = [0u8; 25];
    let mut out = &mut buf[..];
    let _ = write!(out, "{prefix:08x}-{n:x}");
    let len = 25 - out.len();
    HeaderValue::from_bytes(&buf[..len]).unwrap_or(HeaderValue::from_static("-"))
}

/// Everything every request goes through, in one layer: the `Cookie` size
/// limit (431 before any parsing; RFC 6265bis §4.2.1 on server limits), a request id,
/// CORS, the browser-security guard for unsafe methods, and the response
/// counter.
async fn edge(State(state): State<AuthState>, mut req: Request, next: Next) -> Response {
    let id = match req.headers().get("x-request-id") {
        Some(v) if v.len() <= 64 => v.clone(),
        _ => next_request_id(),
    };
    req.headers_mut().insert("x-request-id", id.clone());
    let public_file = is_client_file(req.uri().path());
    // Static, credential-free files for any page: `*`, never with credentials.
    let origin = if public_file {
        None
    } else {
        cors::allowed_origin(req.headers(), &state.origins)
    };
    let method = req.method().clone();
    let private = is_private_auth_path(req.uri().path());
    let mut res = match gate(&state, &method, req.headers(), origin.as_ref()).await {
        Err(e) => {
            guard::log_refusal(req.headers(), req.method(), req.uri().path(), &e);
            e.into_response()
        }
        Ok(Some(preflight)) => preflight,
        Ok(None) => next.run(req).await,
    };
    cors::decorate(&mut res, origin);
    let h = res.headers_mut();
    if public_file {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    h.insert("x-request-id", id);
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if private {
        // Tokens, CSRF tokens and user data: never stored by a browser or proxy cache.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    state.metrics.response(res.status().as_u16());
    res
}

/// Every `/auth/*` answer may carry a token, a CSRF token or user data,
/// except the two static client files.
fn is_private_auth_path(path: &str) -> bool {
    path.starts_with("/auth/") && !is_client_file(path)
}

/// The browser client and its types: served to any origin.
fn is_client_file(path: &str) -> bool {
    matches!(path, "/auth/client.js" | "/auth/client.d.ts")
}

/// Checks that come before routing: `Ok(Some)` answers a preflight, `Ok(None)` lets the request through.
async fn gate(
    state: &AuthState,
    method: &Method,
    headers: &HeaderMap,
    origin: Option<&HeaderValue>,
) -> Result<Option<Response>, ApiError> {
    let cookie_bytes: usize = headers
        .get_all(header::COOKIE)
        .iter()
        .map(|v| v.len() + 2)
        .sum();
    if cookie_bytes > crate::cookies::MAX_COOKIE_HEADER_BYTES {
        return Err(ApiError::cookie_header_too_large());
    }
    if cors::is_preflight(method, headers) {
        return cors::preflight(headers, origin, &state.origins).map(Some);
    }
    if guard::is_unsafe(method) {
        state.guard.check(headers).await?;
    }
    Ok(None)
}
