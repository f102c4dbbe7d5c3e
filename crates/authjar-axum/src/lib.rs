//! `authjar-axum`: authjar as a library for axum applications.
//!
//! - [`router`] serves the whole auth API of docs/http-api.md over an [`AuthState`];
//! - [`routes`] + [`with_browser_security`] do the same with an application's
//!   own routes merged in, behind the same CORS, origin and CSRF checks;
//! - [`AuthLayer`] with [`AuthUser`] / [`MaybeUser`] protects your own handlers
//!   by verifying the access-token cookie (no database lookup);
//! - [`ApiError`] is the one place HTTP statuses and error codes are decided.
//!
//! # Embedding authjar in an application
//!
//! Building the [`AuthState`] is the server crate's job: `authjar-server`'s
//! `build_state(&config, Runtime::production())` opens the store, derives the
//! keys, starts the password hasher and derives every cookie from the
//! deployment's topology (and `authjar_server::app_with(state, routes)` does
//! all of what follows, plus request tracing). With a state in hand, merge
//! your routes with authjar's *before* wrapping them, so your unsafe methods
//! pass the same origin, content-type and CSRF checks and your handlers can
//! take an [`AuthUser`]:
//!
//! ```no_run
//! use std::net::SocketAddr;
//!
//! use authjar_axum::{routes, with_browser_security, ApiError, AuthState, AuthUser};
//! use axum::routing::get;
//! use axum::{Json, Router};
//!
//! /// 401 `unauthenticated` without a valid access token; never reaches the database.
//! async fn my_bookings(user: AuthUser) -> Result<Json<Vec<String>>, ApiError> {
//!     if user.email.ends_with("@blocked.example") {
//!         return Err(ApiError::validation("account_blocked", "this account cannot book"));
//!     }
//!     Ok(Json(vec![format!("bookings of {}", user.user_id)]))
//! }
//!
//! fn app(state: AuthState) -> Router {
//!     let mine = Router::new().route("/api/bookings", get(my_bookings));
//!     with_browser_security(routes(state.clone()).merge(mine), state)
//! }
//!
//! async fn serve(state: AuthState) -> std::io::Result<()> {
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//!     // The client address (rate limits, session list) comes from ConnectInfo.
//!     let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
//!     axum::serve(listener, app).await
//! }
//! ```

pub mod cookies;
pub mod oauth;
pub mod query;
pub mod rate_limit;

mod client_ip;
mod cors;
mod error;
mod extract;
mod guard;
mod handlers;
mod json;
mod metrics;
mod oidc_discovery;
mod openapi;
mod origin_check;
mod router;
mod state;

pub use error::{ApiError, ErrorBody, ERROR_CODES};
pub use extract::{AuthLayer, AuthUser, AuthVerifier, MaybeUser, VerifyAccess};
pub use guard::{BindingSource, BrowserGuard};
pub use handlers::csrf::SessionBindings;
pub use metrics::Metrics;
pub use openapi::document as openapi_document;
pub use origin_check::AllowedOrigins;
pub use rate_limit::{InMemoryLimiter, Limited, Limits, RateLimiter, SharedLimiter, Unlimited};
pub use router::{metrics_router, router, routes, with_browser_security};
pub use state::{AuthState, AuthStateParts, MetricsAccess};
