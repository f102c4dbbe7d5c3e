//! Setting and clearing the session cookies, always from the policy's `CookieSpec`s.

use authjar_core::Issued;
use authjar_policy::CookieKind;
use axum::http::{header, HeaderMap, HeaderValue};

use crate::state::AuthState;

pub(crate) fn append_cookie(headers: &mut HeaderMap, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.append(header::SET_COOKIE, v);
    }
}

/// `Set-Cookie` for the access token and, when there is a new one, the refresh token.
pub fn set_session_cookies(state: &AuthState, headers: &mut HeaderMap, issued: &Issued) {
    if let Some(spec) = state.cookie(CookieKind::Access) {
        append_cookie(headers, &spec.set_cookie(&issued.access_token));
    }
    if let (Some(spec), Some(refresh)) = (state.cookie(CookieKind::Refresh), &issued.refresh_token)
    {
        append_cookie(headers, &spec.set_cookie(refresh));
    }
}

/// Removal cookies for every session cookie, rendered from the same specs.
pub fn clear_session_cookies(state: &AuthState, headers: &mut HeaderMap) {
    for kind in [
        CookieKind::Access,
        CookieKind::Refresh,
        CookieKind::Csrf,
        CookieKind::PreSession,
    ] {
        if let Some(spec) = state.cookie(kind) {
            append_cookie(headers, &spec.removal());
        }
    }
}
