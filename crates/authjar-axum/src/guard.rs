//! The browser-security guard for unsafe methods (POST, PUT, PATCH,
//! DELETE): provenance (`origin_check.rs`), then `Content-Type`, then the
//! signed, session-bound CSRF token in `X-CSRF-Token`. Every refusal is a
//! 403 with a stable code and a hint, logged once at `info` with the
//! request id. Safe methods pass untouched: they never change state.
//!
//! Reusable: any axum app protects its own routes with a [`BrowserGuard`]
//! and a [`BindingSource`] (the demo's bookings API binds to the access
//! token's session).

use std::sync::Arc;

use async_trait::async_trait;
use authjar_core::{Binding, CsrfError, CsrfTokens};
use axum::http::{HeaderMap, Method};

use crate::error::ApiError;
use crate::origin_check::{check_origin, is_simple_or_missing, AllowedOrigins, OriginRefusal};

/// The CSRF header.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// What the request's CSRF token must be bound to.
///
/// authjar's own routes use [`SessionBindings`](crate::SessionBindings)
/// (the access token's session, else the refresh token's, else the
/// pre-session cookie). An application that keeps its own sessions binds to
/// those, and guards its routes with a [`BrowserGuard`] built on it:
///
/// ```
/// use std::sync::Arc;
///
/// use async_trait::async_trait;
/// use authjar_axum::{AllowedOrigins, BindingSource, BrowserGuard};
/// use authjar_core::{Binding, CsrfTokens};
/// use axum::http::{header, HeaderMap, HeaderValue};
///
/// /// Binds CSRF tokens to the session id the app's own proxy puts in a header.
/// struct ProxySession;
///
/// #[async_trait]
/// impl BindingSource for ProxySession {
///     async fn binding(&self, headers: &HeaderMap) -> Option<Binding> {
///         let sid = headers.get("x-session-id")?.to_str().ok()?;
///         uuid::Uuid::parse_str(sid).ok().map(Binding::Session)
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let guard = BrowserGuard {
///     origins: Arc::new(AllowedOrigins::new(["https://app.example".to_owned()])),
///     csrf: CsrfTokens::new(vec![[7; 32]]),
///     bindings: Arc::new(ProxySession),
/// };
/// let mut headers = HeaderMap::new();
/// headers.insert(header::ORIGIN, HeaderValue::from_static("https://app.example"));
/// headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
/// // An unsafe request from an allowed origin still needs its CSRF token.
/// let refusal = guard.check(&headers).await.unwrap_err();
/// assert_eq!(refusal.code(), "csrf_token_missing");
/// # }
/// ```
#[async_trait]
pub trait BindingSource: Send + Sync + 'static {
    /// The binding of the request's cookies, or `None` without session or pre-session.
    async fn binding(&self, headers: &HeaderMap) -> Option<Binding>;
}

/// Origin, content-type and CSRF checks.
#[derive(Clone)]
pub struct BrowserGuard {
    /// Allowed origins.
    pub origins: Arc<AllowedOrigins>,
    /// CSRF token keys.
    pub csrf: CsrfTokens,
    /// Resolves the request's binding.
    pub bindings: Arc<dyn BindingSource>,
}

/// True for methods that may change state.
pub fn is_unsafe(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

fn request_id(headers: &HeaderMap) -> &str {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
}

impl BrowserGuard {
    fn provenance(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        check_origin(headers, &self.origins).map_err(|r| match r {
            OriginRefusal::NotAllowed(o) => ApiError::origin_not_allowed(&o, self.origins.list()),
            OriginRefusal::CrossSite => ApiError::cross_site_request(),
        })
    }

    async fn token(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let Some(token) = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|t| !t.is_empty())
        else {
            return Err(ApiError::csrf_token_missing());
        };
        let binding = self.bindings.binding(headers).await;
        self.csrf
            .check(token.trim(), binding.as_ref())
            .map_err(|e| match e {
                CsrfError::Invalid => ApiError::csrf_token_invalid(),
                CsrfError::OtherSession => ApiError::csrf_token_other_session(),
            })
    }

    /// Provenance and CSRF token (forward-auth checks the original request so).
    pub async fn check_origin_and_token(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        self.provenance(headers)?;
        self.token(headers).await
    }

    /// Every check, in order: provenance, content type, token.
    pub async fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        self.provenance(headers)?;
        if is_simple_or_missing(headers) {
            return Err(ApiError::content_type_not_json());
        }
        self.token(headers).await
    }
}

/// Logs a refusal once, at `info`, with the request id and the cause.
pub fn log_refusal(headers: &HeaderMap, method: &Method, path: &str, e: &ApiError) {
    let origin = headers
        .get(axum::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info!(request_id = request_id(headers), code = e.code(), %method, path, origin, "request refused");
}
