//! `authjar-axum`: authjar as a library for axum applications.
//!
//! - [`router`] serves the whole auth API of docs/http-api.md over an [`AuthState`];
//! - [`AuthLayer`] with [`AuthUser`] / [`MaybeUser`] protects your own handlers
//!   by verifying the access-token cookie (no database lookup);
//! - [`ApiError`] is the one place HTTP statuses and error codes are decided.

pub mod client_ip;
pub mod cookies;
pub mod cors;
pub mod error;
pub mod extract;
pub mod guard;
pub mod handlers;
pub mod json;
pub mod metrics;
pub mod oauth;
mod oidc_discovery;
mod openapi;
pub mod origin_check;
pub mod query;
pub mod rate_limit;
pub mod router;
pub mod state;

pub use error::ApiError;
pub use extract::{AuthLayer, AuthUser, AuthVerifier, MaybeUser, VerifyAccess};
pub use guard::{BindingSource, BrowserGuard};
pub use openapi::document as openapi_document;
pub use origin_check::AllowedOrigins;
pub use router::{metrics_router, router, routes, with_browser_security};
pub use state::{AuthState, Inner as AuthStateParts, MetricsAccess};
