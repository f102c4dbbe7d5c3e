//! `fn app(state) -> Router`: the whole HTTP application, the seam tests use.

use authjar_axum::AuthState;
use axum::Router;
use tower_http::trace::TraceLayer;

/// The application: the auth router mounted under `public_url`'s path, with request tracing.
pub fn app(state: AuthState) -> Router {
    app_with(state, Router::new())
}

/// The auth routes merged with an application's own `extra` routes (which
/// can use `AuthUser` and get the same CORS and CSRF protection), mounted
/// under `public_url`'s path, with request tracing.
pub fn app_with(state: AuthState, extra: Router) -> Router {
    let base = state.deployment.public_url.base_path().to_owned();
    let routes = authjar_axum::routes(state.clone()).merge(extra);
    let auth = authjar_axum::with_browser_security(routes, state);
    let router = if base.is_empty() {
        auth
    } else {
        Router::new().nest(&base, auth)
    };
    router.layer(
        TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            // Method and path only: never the query string or headers (tokens, cookies).
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
        }),
    )
}
