//! Credentialed CORS with an exact allowlist: the page's `Origin` is echoed
//! with `Access-Control-Allow-Credentials: true` only when it is on the list,
//! on every response (errors included, so a page can read a 401 and
//! refresh); any other origin gets no CORS header at all — never `*`, never
//! a reflection, never `null`. Preflights from other origins get a 403 that
//! says why.
//!
//! Written here rather than with tower-http's `CorsLayer`, which sends
//! `Access-Control-Allow-Credentials` and the allowed methods and headers to
//! every origin, matching or not, and answers every `OPTIONS` as a preflight.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::origin_check::{single_origin, AllowedOrigins};

/// How long browsers may cache a preflight (seconds).
pub const PREFLIGHT_MAX_AGE: &str = "600";

/// The middleware.
pub async fn cors(
    State(allowed): State<Arc<AllowedOrigins>>,
    req: Request,
    next: Next,
) -> Response {
    let origin = single_origin(req.headers())
        .ok()
        .flatten()
        .filter(|o| allowed.contains(o))
        .map(str::to_owned);
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut res = if preflight {
        match &origin {
            Some(_) => preflight_ok(),
            None => {
                let seen = req
                    .headers()
                    .get(header::ORIGIN)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("(none)")
                    .to_owned();
                let e = ApiError::origin_not_allowed(&seen, allowed.list());
                crate::guard::log_refusal(req.headers(), req.method(), req.uri().path(), &e);
                e.into_response()
            }
        }
    } else {
        next.run(req).await
    };
    let h = res.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(o) = origin.and_then(|o| HeaderValue::from_str(&o).ok()) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Retry-After"),
        );
    }
    res
}

fn preflight_ok() -> Response {
    let mut res = StatusCode::NO_CONTENT.into_response();
    let h = res.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Content-Type, X-CSRF-Token"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(PREFLIGHT_MAX_AGE),
    );
    res
}
