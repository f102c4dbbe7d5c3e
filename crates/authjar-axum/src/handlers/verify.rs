//! `GET /auth/verify`: forward-auth for nginx `auth_request`, Caddy
//! `forward_auth` and Traefik ForwardAuth. Verifies the access token without
//! a database lookup and answers 200 with identity headers, or 401.
//!
//! The proxy asks about a request authjar never sees, so this handler fails
//! closed on what it cannot know:
//! - a foreign `Origin` is refused whatever the method (a cross-site
//!   `fetch` or form must never reach the protected upstream);
//! - `Sec-Fetch-Site: cross-site` is refused unless the request is a plain
//!   top-level navigation with a safe method (a link from elsewhere), the
//!   Fetch Metadata resource-isolation policy;
//! - the original method comes from `X-Original-Method` (nginx) or
//!   `X-Forwarded-Method` (Caddy, Traefik); when both are present and
//!   differ, or when neither is present on a request with browser signals
//!   (`Origin`, `Sec-Fetch-*`), the request counts as unsafe and must pass
//!   the origin and CSRF-token checks like any unsafe request.

use std::sync::Once;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorBody};
use crate::extract::MaybeUser;
use crate::origin_check::{single_origin, OriginRefusal};
use crate::state::AuthState;

/// Forward-auth check. A foreign `Origin`, or a cross-site request that is
/// not a top-level navigation, is refused; for an unsafe, missing or
/// conflicting original method the original request's `Origin` and
/// `X-CSRF-Token` are checked too.
#[utoipa::path(get, path = "/auth/verify", tag = "forward-auth",
    params(("X-CSRF-Token" = Option<String>, Header, description = "required when the original method is unsafe"),
           ("X-Original-Method" = Option<String>, Header, description = "the proxied request's method (nginx: proxy_set_header X-Original-Method $request_method)"),
           ("X-Forwarded-Method" = Option<String>, Header, description = "the proxied request's method (Caddy, Traefik)")),
    responses((status = 403, body = ErrorBody, description = "origin_not_allowed, cross_site_request, or the original unsafe request failed the CSRF check"),
(status = 200, description = "authenticated; X-Auth-User-Id, X-Auth-Email, X-Auth-Session-Id set"),
              (status = 401, body = ErrorBody, description = "unauthenticated")))]
pub async fn verify(State(state): State<AuthState>, request: Request) -> Response {
    // The request's own parts, not extracted copies: this answers every
    // request a proxy forwards, so it copies no header map.
    let (mut parts, _) = request.into_parts();
    let headers = &parts.headers;
    if let Err(e) = check_request(&state, headers).await {
        state.metrics.event("verify", e.code());
        let method = match original_method(headers) {
            OriginalMethod::Given(m) => m,
            _ => Method::GET,
        };
        crate::guard::log_refusal(headers, &method, "/auth/verify", &e);
        return e.into_response();
    }
    let Ok(MaybeUser(Some(u))) = MaybeUser::from_request_parts(&mut parts, &state).await else {
        let e = ApiError::unauthenticated();
        state.metrics.event("verify", e.code());
        return e.into_response();
    };
    state.metrics.event("verify", "ok");
    let mut h = HeaderMap::with_capacity(3);
    let (mut user_id, mut session_id) = ([0; 36], [0; 36]);
    let pairs = [
        (
            "x-auth-user-id",
            &*u.user_id.hyphenated().encode_lower(&mut user_id),
        ),
        ("x-auth-email", u.email.as_str()),
        (
            "x-auth-session-id",
            &*u.session_id.hyphenated().encode_lower(&mut session_id),
        ),
    ];
    for (name, value) in pairs {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(HeaderName::from_static(name), v);
        }
    }
    (StatusCode::OK, h).into_response()
}

/// The browser-security checks of the proxied request, in order.
async fn check_request(state: &AuthState, headers: &HeaderMap) -> Result<(), ApiError> {
    let refuse_origin = |r: OriginRefusal| match r {
        OriginRefusal::NotAllowed(o) => ApiError::origin_not_allowed(&o, state.origins.list()),
        OriginRefusal::CrossSite => ApiError::cross_site_request(),
    };
    if let Some(origin) = single_origin(headers).map_err(refuse_origin)? {
        if !state.origins.contains(origin) {
            return Err(refuse_origin(OriginRefusal::NotAllowed(origin.to_owned())));
        }
    }
    let method = original_method(headers);
    let unsafe_method = match &method {
        OriginalMethod::Given(m) => crate::guard::is_unsafe(m),
        OriginalMethod::Conflicting => true,
        OriginalMethod::Missing => {
            let browser = has_browser_signals(headers);
            if browser {
                warn_method_missing();
            }
            browser
        }
    };
    if fetch_site(headers) == Some("cross-site") && (unsafe_method || !is_navigation(headers)) {
        return Err(ApiError::cross_site_request());
    }
    if unsafe_method {
        state.guard.check_origin_and_token(headers).await?;
    }
    Ok(())
}

/// What the proxy says the original method was.
#[derive(Debug, Clone, PartialEq, Eq)]
enum OriginalMethod {
    /// One method, or the same one in both headers.
    Given(Method),
    /// Neither header.
    Missing,
    /// Two headers that disagree, several values, or an unparsable one.
    Conflicting,
}

/// The proxied request's method from `X-Forwarded-Method` and
/// `X-Original-Method`: both must agree when both are present.
fn original_method(headers: &HeaderMap) -> OriginalMethod {
    let mut seen: Option<Method> = None;
    for name in ["x-forwarded-method", "x-original-method"] {
        for v in headers.get_all(name) {
            let Some(m) = v
                .to_str()
                .ok()
                .and_then(|m| Method::from_bytes(m.trim().to_ascii_uppercase().as_bytes()).ok())
            else {
                return OriginalMethod::Conflicting;
            };
            match &seen {
                Some(prev) if *prev != m => return OriginalMethod::Conflicting,
                _ => seen = Some(m),
            }
        }
    }
    seen.map_or(OriginalMethod::Missing, OriginalMethod::Given)
}

fn fetch_site(headers: &HeaderMap) -> Option<&str> {
    headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
}

/// Headers only a browser sends: `Origin` and the Fetch Metadata headers.
fn has_browser_signals(headers: &HeaderMap) -> bool {
    headers.contains_key(axum::http::header::ORIGIN)
        || ["sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest"]
            .iter()
            .any(|h| headers.contains_key(*h))
}

/// A top-level navigation (a link or an address typed), the one kind of
/// cross-site request a page behind forward-auth must still accept.
fn is_navigation(headers: &HeaderMap) -> bool {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    get("sec-fetch-mode") == Some("navigate")
        && matches!(get("sec-fetch-dest"), Some("document") | None)
}

fn warn_method_missing() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        tracing::warn!(
            "forward-auth request from a browser without X-Original-Method or X-Forwarded-Method: \
             treated as unsafe; configure the proxy to pass the method \
             (nginx: proxy_set_header X-Original-Method $request_method;)"
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(*k, HeaderValue::from_str(v).unwrap());
        }
        m
    }

    #[test]
    fn the_method_headers_must_agree() {
        assert_eq!(original_method(&h(&[])), OriginalMethod::Missing);
        assert_eq!(
            original_method(&h(&[("x-original-method", "get")])),
            OriginalMethod::Given(Method::GET)
        );
        assert_eq!(
            original_method(&h(&[
                ("x-forwarded-method", "GET"),
                ("x-original-method", "POST")
            ])),
            OriginalMethod::Conflicting
        );
        assert_eq!(
            original_method(&h(&[
                ("x-original-method", "GET"),
                ("x-original-method", "DELETE")
            ])),
            OriginalMethod::Conflicting
        );
        assert_eq!(
            original_method(&h(&[("x-original-method", "G E T")])),
            OriginalMethod::Conflicting
        );
    }

    #[test]
    fn only_top_level_navigations_are_navigations() {
        assert!(is_navigation(&h(&[
            ("sec-fetch-mode", "navigate"),
            ("sec-fetch-dest", "document")
        ])));
        assert!(!is_navigation(&h(&[
            ("sec-fetch-mode", "navigate"),
            ("sec-fetch-dest", "iframe")
        ])));
        assert!(!is_navigation(&h(&[("sec-fetch-mode", "cors")])));
    }
}
