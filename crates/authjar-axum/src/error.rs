//! Every error an HTTP client can see, in one place: its status, its stable
//! code and its message. 5xx answers log the cause and say nothing more.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error answer: `{"error": "<code>", "message": "<text>"}`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable snake_case code.
    pub code: &'static str,
    /// What a developer should do about it.
    pub message: String,
    /// `Retry-After`, for 429.
    pub retry_after: Option<Duration>,
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

    /// 400 `invalid_json`.
    pub fn invalid_json(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", detail)
    }
    /// 400 `bad_request`.
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", detail)
    }
    /// 400 with a specific code.
    pub fn bad_request_code(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }
    /// 400 `invalid_return_to`.
    pub fn invalid_return_to() -> ApiError {
        ApiError::bad_request_code(
            "invalid_return_to",
            "return_to must be a path or a URL on an allowed app origin",
        )
    }
    /// 400 `invalid_handoff_challenge`.
    pub fn invalid_handoff_challenge() -> ApiError {
        ApiError::bad_request_code(
            "invalid_handoff_challenge",
            "handoff_challenge must be base64url(SHA-256(verifier)): 43 characters; use loginUrl() of /auth/client.js",
        )
    }
    /// 400 `invalid_exchange_code`.
    pub fn invalid_exchange_code() -> ApiError {
        ApiError::bad_request_code(
            "invalid_exchange_code",
            "the code is unknown, already used or expired, or this tab did not start the login; log in again",
        )
    }
    /// 502 with a specific code: an upstream (OAuth provider) failed.
    pub fn bad_gateway(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_GATEWAY, code, message)
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
        ApiError::validation(
            "provider_email_unverified",
            "the provider did not confirm this e-mail; log in another way and link the provider from your account",
        )
    }
    /// 400 `invalid_token`: an e-mail link's token is unknown, used or expired.
    pub fn invalid_token() -> ApiError {
        ApiError::bad_request_code(
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
    /// 422 `validation_failed`.
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
    /// 503 `unavailable`.
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
        }
    }
}
