//! Every error an HTTP client can see, in one place: its status, its stable
//! code and its message. 5xx answers log the cause and say nothing more.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error answer: `{"error": "<code>", "message": "<text>"}`.
///
/// Built only by the named constructors below, so each code has one status
/// (listed in [`ERROR_CODES`]); read with [`status`](ApiError::status),
/// [`code`](ApiError::code) and [`message`](ApiError::message).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<Duration>,
}

#[derive(Serialize, utoipa::ToSchema)]
/// The JSON body of every error.
pub struct ErrorBody {
    /// Stable code.
    pub error: String,
    /// Human text.
    pub message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable snake_case code (the body's `error`).
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// What a developer should do about it (the body's `message`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// `Retry-After`, for 429 `rate_limited`.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// 400 `invalid_json`.
    pub fn invalid_json(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", detail)
    }
    /// 400 `bad_request`.
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", detail)
    }
    /// 400 `invalid_return_to`.
    pub fn invalid_return_to() -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_return_to",
            "return_to must be a path or a URL on an allowed app origin",
        )
    }
    /// 400 `invalid_handoff_challenge`.
    pub fn invalid_handoff_challenge() -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_handoff_challenge",
            "handoff_challenge must be base64url(SHA-256(verifier)): 43 characters; use loginUrl() of /auth/client.js",
        )
    }
    /// 400 `invalid_exchange_code`.
    pub fn invalid_exchange_code() -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_exchange_code",
            "the code is unknown, already used or expired, or this tab did not start the login; log in again",
        )
    }
    /// 502 `provider_unavailable`: an OAuth provider could not be reached;
    /// the cause is logged (at `warn`: the fault is upstream), never sent.
    pub fn provider_unavailable(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::warn!(cause = %cause, "OAuth provider unavailable");
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "provider_unavailable",
            "the login provider could not be reached; try again later",
        )
    }
    /// 401 `unauthenticated`.
    pub fn unauthenticated() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "log in first, or refresh the session with POST /auth/refresh",
        )
    }
    /// 401 `invalid_credentials` (same for unknown e-mail and wrong password).
    pub fn invalid_credentials() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "e-mail or password is wrong",
        )
    }
    /// 401 `invalid_refresh`.
    pub fn invalid_refresh() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_refresh",
            "the refresh token is missing, expired or revoked; log in again",
        )
    }
    /// 403 `csrf_token_missing`.
    pub fn csrf_token_missing() -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "csrf_token_missing", "send the token from the last auth response (or GET /auth/csrf) in the X-CSRF-Token header")
    }
    /// 403 `csrf_token_invalid`.
    pub fn csrf_token_invalid() -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "csrf_token_invalid", "the X-CSRF-Token value was not issued by this server; fetch a new one from GET /auth/csrf")
    }
    /// 403 `csrf_token_other_session`.
    pub fn csrf_token_other_session() -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "csrf_token_other_session", "the X-CSRF-Token belongs to another session (tokens change at login and logout); use the token from the last auth response or GET /auth/csrf")
    }
    /// 403 `origin_not_allowed`, naming the origin and the allowed list.
    pub fn origin_not_allowed(origin: &str, allowed: &[String]) -> ApiError {
        let shown: String = origin
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        ApiError::new(StatusCode::FORBIDDEN, "origin_not_allowed", format!(
            "requests from origin `{shown}` are not allowed; the allowed origins are [{}]. Add the page's exact origin (scheme://host[:port], no trailing slash) to app_origins",
            allowed.join(", ")
        ))
    }
    /// 403 `cross_site_request`.
    pub fn cross_site_request() -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "cross_site_request", "the browser marked this request cross-site (Sec-Fetch-Site) and it carries no Origin to check; unsafe requests must come from an allowed app origin")
    }
    /// 403 `content_type_not_json`.
    pub fn content_type_not_json() -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "content_type_not_json", "unsafe requests must be sent with Content-Type: application/json (send {} when there is nothing to send)")
    }
    /// 403 `email_not_verified`: the deployment requires a verified e-mail.
    pub fn email_not_verified() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "email_not_verified",
            "confirm your e-mail first: open the link we sent, or ask for a new one with POST /auth/verify-email/request",
        )
    }
    /// 422 `provider_email_unverified`: a provider identity without a verified e-mail.
    pub fn provider_email_unverified() -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "provider_email_unverified",
            "the provider did not confirm this e-mail; log in another way and link the provider from your account",
        )
    }
    /// 400 `invalid_token`: an e-mail link's token is unknown, used or expired.
    pub fn invalid_token() -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_token",
            "this link is invalid, already used or expired; ask for a new one",
        )
    }
    /// 403 `reauthentication_required`.
    pub fn reauthentication_required() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "reauthentication_required",
            "send your current password (accounts without one: log in again first)",
        )
    }
    /// 409 `identity_taken`.
    pub fn identity_taken() -> ApiError {
        ApiError::new(
            StatusCode::CONFLICT,
            "identity_taken",
            "this provider account is linked to another account",
        )
    }
    /// 404 `not_found`.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }
    /// 404 `debug_page_disabled`: `/auth/debug` in production without `debug_page = true`.
    pub fn debug_page_disabled() -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "debug_page_disabled",
            "the diagnostics page is off (debug_page = false, the default in production); set debug_page = true (AUTHJAR_DEBUG_PAGE=true) to turn it on",
        )
    }
    /// 405 `method_not_allowed`.
    pub fn method_not_allowed() -> ApiError {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this path does not accept that method",
        )
    }
    /// 409 `email_taken`.
    pub fn email_taken() -> ApiError {
        ApiError::new(
            StatusCode::CONFLICT,
            "email_taken",
            "an account with this e-mail exists; log in instead",
        )
    }
    /// 413 `payload_too_large`.
    pub fn payload_too_large() -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is too large",
        )
    }
    /// 415 `unsupported_media_type`.
    pub fn unsupported_media_type() -> ApiError {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send Content-Type: application/json",
        )
    }
    /// 422 `invalid_email`: why the address is not one.
    pub fn invalid_email(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_email", detail)
    }
    /// 422 `invalid_password`: which length rule the password breaks.
    pub fn invalid_password(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_password", detail)
    }
    /// 422 `invalid_name`: why the display name is refused.
    pub fn invalid_name(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_name", detail)
    }
    /// 422 with an application's own code, for routes an embedding app
    /// merges next to authjar's (e.g. the demo's `invalid_booking`).
    /// authjar's own codes each have a named constructor and are listed in
    /// [`ERROR_CODES`]; this one is not for them.
    pub fn validation(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
    /// 429 `rate_limited`.
    pub fn rate_limited(retry_after: Duration) -> ApiError {
        ApiError {
            retry_after: Some(retry_after),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many attempts; wait and try again",
            )
        }
    }
    /// 431 `cookie_header_too_large`.
    pub fn cookie_header_too_large() -> ApiError {
        ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "cookie_header_too_large",
            "the Cookie header is too large; clear this site's cookies",
        )
    }
    /// 500 `internal_error`: the cause is logged, never sent.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "something went wrong on the server",
        )
    }
    /// 500 `internal_error` for an [`AuthUser`](crate::AuthUser) or
    /// [`MaybeUser`](crate::MaybeUser) on a router without the
    /// [`AuthLayer`](crate::AuthLayer): a wiring mistake in the application,
    /// logged with the fix; the body says nothing more than any 500.
    pub fn auth_layer_missing() -> ApiError {
        ApiError::internal(&"AuthUser and MaybeUser need the AuthLayer: install `.layer(AuthLayer::new(..))` on this router (with_browser_security does)")
    }
    /// 503 `unavailable`: the database (or the store holding the shared
    /// rate limits) cannot be reached; the cause is logged.
    pub fn unavailable(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "dependency unavailable");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server cannot reach its database",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.code.to_owned(),
            message: self.message,
        };
        let mut res = (self.status, axum::Json(body)).into_response();
        if let Some(d) = self.retry_after {
            let secs = d.as_secs().max(1);
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}

/// Every error code authjar's HTTP API can return, with its status (for the
/// OpenAPI document and the tests that keep it complete).
pub const ERROR_CODES: &[(&str, u16)] = &[
    ("bad_request", 400),
    ("invalid_json", 400),
    ("invalid_return_to", 400),
    ("invalid_exchange_code", 400),
    ("invalid_handoff_challenge", 400),
    ("unauthenticated", 401),
    ("invalid_credentials", 401),
    ("invalid_refresh", 401),
    ("csrf_token_missing", 403),
    ("csrf_token_invalid", 403),
    ("csrf_token_other_session", 403),
    ("origin_not_allowed", 403),
    ("cross_site_request", 403),
    ("content_type_not_json", 403),
    ("not_found", 404),
    ("debug_page_disabled", 404),
    ("method_not_allowed", 405),
    ("email_taken", 409),
    ("payload_too_large", 413),
    ("unsupported_media_type", 415),
    ("invalid_email", 422),
    ("invalid_password", 422),
    ("invalid_name", 422),
    ("rate_limited", 429),
    ("cookie_header_too_large", 431),
    ("email_not_verified", 403),
    ("provider_email_unverified", 422),
    ("invalid_token", 400),
    ("reauthentication_required", 403),
    ("identity_taken", 409),
    ("internal_error", 500),
    ("provider_unavailable", 502),
    ("unavailable", 503),
];

impl From<&authjar_core::AuthError> for ApiError {
    /// The one mapping of the auth rules' errors to HTTP.
    fn from(e: &authjar_core::AuthError) -> ApiError {
        use authjar_core::AuthError;
        match e {
            AuthError::EmailTaken => ApiError::email_taken(),
            AuthError::InvalidCredentials => ApiError::invalid_credentials(),
            AuthError::InvalidRefresh => ApiError::invalid_refresh(),
            AuthError::Unauthenticated => ApiError::unauthenticated(),
            AuthError::SessionNotFound => ApiError::not_found("session"),
            AuthError::EmailNotVerified => ApiError::provider_email_unverified(),
            AuthError::AccountNotVerified => ApiError::email_not_verified(),
            AuthError::InvalidToken => ApiError::invalid_token(),
            AuthError::ReauthenticationRequired => ApiError::reauthentication_required(),
            AuthError::IdentityTaken => ApiError::identity_taken(),
            AuthError::Store(s) => ApiError::unavailable(s),
            AuthError::Hash(_) | AuthError::Signing(_) => ApiError::internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use authjar_core::{AuthError, HashError};

    /// Every constructor of authjar's own errors, with a sample argument.
    fn every_error() -> Vec<ApiError> {
        vec![
            ApiError::invalid_json("x"),
            ApiError::bad_request("x"),
            ApiError::invalid_return_to(),
            ApiError::invalid_handoff_challenge(),
            ApiError::invalid_exchange_code(),
            ApiError::provider_unavailable(&"x"),
            ApiError::unauthenticated(),
            ApiError::invalid_credentials(),
            ApiError::invalid_refresh(),
            ApiError::csrf_token_missing(),
            ApiError::csrf_token_invalid(),
            ApiError::csrf_token_other_session(),
            ApiError::origin_not_allowed("https://evil.test", &[]),
            ApiError::cross_site_request(),
            ApiError::content_type_not_json(),
            ApiError::email_not_verified(),
            ApiError::provider_email_unverified(),
            ApiError::invalid_token(),
            ApiError::reauthentication_required(),
            ApiError::identity_taken(),
            ApiError::not_found("x"),
            ApiError::debug_page_disabled(),
            ApiError::method_not_allowed(),
            ApiError::email_taken(),
            ApiError::payload_too_large(),
            ApiError::unsupported_media_type(),
            ApiError::invalid_email("x"),
            ApiError::invalid_password("x"),
            ApiError::invalid_name("x"),
            ApiError::rate_limited(Duration::from_secs(1)),
            ApiError::cookie_header_too_large(),
            ApiError::internal(&"x"),
            ApiError::auth_layer_missing(),
            ApiError::unavailable(&"x"),
        ]
    }

    #[test]
    fn every_constructor_gives_a_listed_code_with_its_listed_status() {
        for e in every_error() {
            assert!(
                ERROR_CODES.contains(&(e.code(), e.status().as_u16())),
                "{} {} is not in ERROR_CODES",
                e.code(),
                e.status()
            );
        }
        let codes: std::collections::HashSet<&str> =
            every_error().iter().map(ApiError::code).collect();
        for (code, _) in ERROR_CODES {
            assert!(codes.contains(code), "{code} has no constructor");
        }
    }

    #[test]
    fn server_faults_are_500_internal_error_without_their_cause() {
        let api = ApiError::from(&AuthError::Hash(HashError::WorkersGone));
        assert_eq!(
            (api.status(), api.code()),
            (StatusCode::INTERNAL_SERVER_ERROR, "internal_error")
        );
        assert!(
            !api.message().contains("worker"),
            "5xx bodies carry no detail"
        );
        let layer = ApiError::auth_layer_missing();
        assert!(
            !layer.message().contains("AuthLayer"),
            "5xx bodies carry no detail"
        );
    }
}
