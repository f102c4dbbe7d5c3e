//! The HTTP handlers of the auth API (docs/http-api.md), and the few helpers they
//! share: request metadata, response bodies, and session cookies.

pub mod account;
pub mod csrf;
pub mod lifecycle;
pub mod meta;
pub mod oauth;
pub mod session;
pub mod verify;

use std::net::{IpAddr, SocketAddr};

use authjar_core::{clock::rfc3339, ClientMeta, Issued, Session, User};
use authjar_policy::CookieKind;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use serde::Serialize;

use crate::client_ip::client_ip;
use crate::error::ApiError;
use crate::state::AuthState;

/// Who sent the request: resolved client address and `User-Agent`.
#[derive(Debug, Clone)]
pub struct Client {
    /// Client address (through trusted proxies only).
    pub ip: Option<IpAddr>,
    /// `User-Agent`, at most 256 characters.
    pub user_agent: Option<String>,
}

impl Client {
    /// The rate-limit key for this client.
    pub fn key(&self) -> String {
        self.ip
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
    }

    /// Session metadata.
    pub fn meta(&self) -> ClientMeta {
        ClientMeta {
            user_agent: self.user_agent.clone(),
            ip: self.ip.map(|i| i.to_string()),
        }
    }
}

impl FromRequestParts<AuthState> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AuthState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(256).collect());
        Ok(Client {
            ip: client_ip(peer, &parts.headers, &state.trusted_proxies),
            user_agent,
        })
    }
}

/// `user` in every response (docs/http-api.md).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserBody {
    /// Id (UUID).
    pub id: String,
    /// E-mail.
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// Whether the person proved they own the e-mail.
    pub email_verified: bool,
}

impl From<&User> for UserBody {
    fn from(u: &User) -> Self {
        UserBody {
            id: u.id.to_string(),
            email: u.email.to_string(),
            name: u.name.clone(),
            created_at: rfc3339(u.created_at),
            email_verified: u.email_verified(),
        }
    }
}

/// A session as listed to its owner.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionBody {
    /// Id (UUID).
    pub id: String,
    /// Login time.
    pub created_at: String,
    /// Last refresh.
    pub last_seen_at: String,
    /// When the refresh token stops working.
    pub expires_at: String,
    /// `User-Agent` at login.
    pub user_agent: Option<String>,
    /// Client address at login.
    pub ip: Option<String>,
    /// True for the session making this request.
    pub current: bool,
}

impl SessionBody {
    /// The body of `s`, marking it current when it is `current`.
    pub fn of(s: &Session, current: uuid::Uuid) -> SessionBody {
        SessionBody {
            id: s.id.to_string(),
            created_at: rfc3339(s.created_at),
            last_seen_at: rfc3339(s.last_seen_at),
            expires_at: rfc3339(s.expires_at),
            user_agent: s.user_agent.clone(),
            ip: s.ip.clone(),
            current: s.id == current,
        }
    }
}

/// Body of register, login, refresh.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthBody {
    /// The user.
    pub user: UserBody,
    /// The CSRF token for this session: send it in `X-CSRF-Token`.
    pub csrf_token: String,
}

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
