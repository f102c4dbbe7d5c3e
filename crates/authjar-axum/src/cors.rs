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

use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::origin_check::{single_origin, AllowedOrigins};

/// How long browsers may cache a preflight (seconds).
pub const PREFLIGHT_MAX_AGE: &str = "600";

/// The request's `Origin` if it is exactly one allowed origin.
pub fn allowed_origin(headers: &HeaderMap, allowed: &AllowedOrigins) -> Option<HeaderValue> {
    let o = single_origin(headers).ok().flatten()?;
    allowed
        .contains(o)
        .then(|| HeaderValue::from_str(o).ok())
        .flatten()
}

/// True for a CORS preflight.
pub fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::OPTIONS && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The answer to a preflight: 204 with the allowed methods and headers for
/// an allowed origin, a 403 without any CORS header otherwise.
pub fn preflight(
    headers: &HeaderMap,
    origin: Option<&HeaderValue>,
    allowed: &AllowedOrigins,
) -> Result<Response, ApiError> {
    if origin.is_none() {
        let seen = headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("(none)");
        return Err(ApiError::origin_not_allowed(seen, allowed.list()));
    }
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
    Ok(res)
}

/// Adds `Vary: Origin` to every response and the credentialed CORS headers
/// for an allowed origin.
pub fn decorate(res: &mut Response, origin: Option<HeaderValue>) {
    let h = res.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(o) = origin {
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
}
