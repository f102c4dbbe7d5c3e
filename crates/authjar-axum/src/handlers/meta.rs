//! JWKS, health, metrics and the OpenAPI document.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::state::AuthState;

/// The public keys of the access-token signer, for services that verify tokens themselves.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "meta", responses((status = 200, description = "JSON Web Key Set (Ed25519)")))]
pub async fn jwks(State(state): State<AuthState>) -> Response {
    let body = axum::Json(state.service.tokens().jwks().clone());
    ([(header::CACHE_CONTROL, "public, max-age=300")], body).into_response()
}

/// Liveness and database reachability.
#[utoipa::path(get, path = "/healthz", tag = "meta", responses((status = 200, description = "ok"), (status = 503, description = "database unreachable")))]
pub async fn healthz(State(state): State<AuthState>) -> Response {
    match state.service.store().ping().await {
        Ok(()) => axum::Json(serde_json::json!({"status": "ok"})).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({"status": "unavailable"})),
            )
                .into_response()
        }
    }
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "meta", responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics(State(state): State<AuthState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// This API's OpenAPI 3.1 document, generated from the handlers.
pub async fn openapi() -> Response {
    axum::Json(crate::openapi::document()).into_response()
}

/// The browser client: a dependency-free ES module.
#[utoipa::path(get, path = "/auth/client.js", tag = "client", responses((status = 200, description = "JavaScript module")))]
pub async fn client_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../../assets/client.js"),
    )
        .into_response()
}

/// TypeScript declarations for the browser client.
#[utoipa::path(get, path = "/auth/client.d.ts", tag = "client", responses((status = 200, description = "TypeScript declarations")))]
pub async fn client_dts() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../../assets/client.d.ts"),
    )
        .into_response()
}
