//! The state the auth router and the extractors share.

use std::sync::Arc;

use authjar_core::{AuthService, CsrfTokens};
use authjar_policy::{CookieKind, CookiePolicy, CookieSpec, Deployment};
use ipnet::IpNet;

use crate::guard::BrowserGuard;
use crate::metrics::Metrics;
use crate::origin_check::AllowedOrigins;
use crate::rate_limit::RateLimiter;

/// Everything the HTTP layer needs; cheap to clone.
#[derive(Clone)]
pub struct AuthState {
    parts: Arc<AuthStateParts>,
    /// `GET /auth/client.js` as served: the client with this deployment's
    /// app origins written in, built once (the deployment never changes).
    client_script: axum::body::Bytes,
}

/// The parts of [`AuthState`].
pub struct AuthStateParts {
    /// The auth rules.
    pub service: AuthService,
    /// The deployment the cookies derive from.
    pub deployment: Deployment,
    /// The derived cookies.
    pub cookies: CookiePolicy,
    /// Rate limits.
    pub limiter: Arc<dyn RateLimiter>,
    /// Metrics.
    pub metrics: Metrics,
    /// Peers whose forwarding headers are believed.
    pub trusted_proxies: Vec<IpNet>,
    /// CSRF token keys.
    pub csrf: CsrfTokens,
    /// Origins allowed for CORS and unsafe requests.
    pub origins: Arc<AllowedOrigins>,
    /// The browser-security guard for unsafe methods.
    pub guard: BrowserGuard,
    /// OAuth/OIDC providers.
    pub oauth: Arc<crate::oauth::OAuth>,
    /// Who may read `/metrics` on this router.
    pub metrics_access: MetricsAccess,
    /// `GET /auth/debug` answers (development, or `debug_page = true`).
    pub debug_page: bool,
}

/// Who may read `/metrics` on the public router. Topologies with a
/// cross-site app expose the API to the internet, and the counters tell an
/// attacker how their guessing goes, so the default is nobody: serve them
/// on a private listener ([`metrics_router`](crate::metrics_router)) or behind a token.
#[derive(Clone, Default)]
pub enum MetricsAccess {
    /// `/metrics` answers 404 here.
    #[default]
    Off,
    /// `Authorization: Bearer <token>`; the SHA-256 of the token.
    Bearer([u8; 32]),
}

impl MetricsAccess {
    /// Bearer access with `token`.
    pub fn bearer(token: &str) -> MetricsAccess {
        use sha2::Digest as _;
        MetricsAccess::Bearer(sha2::Sha256::digest(token.as_bytes()).into())
    }
}

impl AuthState {
    /// State over its parts.
    pub fn new(parts: AuthStateParts) -> AuthState {
        let client_script = crate::handlers::client_files::script_for(&parts.deployment).into();
        AuthState {
            parts: Arc::new(parts),
            client_script,
        }
    }

    /// The browser client as this deployment serves it.
    pub(crate) fn client_script(&self) -> &axum::body::Bytes {
        &self.client_script
    }

    /// The cookie of a kind every deployment sets (access, refresh, pre-session, OAuth).
    pub fn cookie(&self, kind: CookieKind) -> Option<&CookieSpec> {
        self.parts.cookies.get(kind)
    }
}

impl std::ops::Deref for AuthState {
    type Target = AuthStateParts;
    fn deref(&self) -> &AuthStateParts {
        &self.parts
    }
}
