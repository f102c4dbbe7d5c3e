//! `Client`: who sent the request (address through trusted proxies, `User-Agent`).

use std::net::{IpAddr, SocketAddr};

use authjar_core::ClientMeta;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;

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
