//! JWKS, health, metrics and the OpenAPI document.

use authjar_core::RevocationFeed;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use axum::http::HeaderMap;
use sha2::Digest as _;
use subtle::ConstantTimeEq as _;

use crate::error::ApiError;
use crate::state::{AuthState, MetricsAccess};

/// The public keys of the access-token signer, for services that verify tokens themselves.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "meta", responses((status = 200, description = "JSON Web Key Set (Ed25519)")))]
pub async fn jwks(State(state): State<AuthState>) -> Response {
    let body = axum::Json(state.service.tokens().jwks().clone());
    ([(header::CACHE_CONTROL, "public, max-age=300")], body).into_response()
}

/// Readiness: each dependency by name. 200 when the database answers and
/// (several instances) the revocation feed is current; else 503, naming
/// what is down, so a load balancer takes this instance out until it
/// recovers by itself. Causes go to the log only.
#[utoipa::path(get, path = "/healthz", tag = "meta", responses(
    (status = 200, description = "ok: `{\"status\":\"ok\",\"database\":\"ok\",\"revocations\":\"local\"|\"current\"}`"),
    (status = 503, description = "unavailable: `{\"status\":\"unavailable\",\"database\":\"down\"|\"ok\",\"revocations\":\"interrupted\"|…}`")))]
pub async fn healthz(State(state): State<AuthState>) -> Response {
    let database_up = match state.service.store().ping().await {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(error = %e, "health check: the database does not answer");
            false
        }
    };
    let feed = state.service.revocation_feed();
    let healthy = database_up && feed != RevocationFeed::Interrupted;
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "status": if healthy { "ok" } else { "unavailable" },
        "database": if database_up { "ok" } else { "down" },
        "revocations": match feed {
            RevocationFeed::Local => "local",
            RevocationFeed::Current => "current",
            RevocationFeed::Interrupted => "interrupted",
        },
    });
    (status, axum::Json(body)).into_response()
}

/// Prometheus text exposition: off on the public listener unless
/// `metrics_token` is set (then with `Authorization: Bearer`); always on
/// `metrics_listen`.
#[utoipa::path(get, path = "/metrics", tag = "meta", responses((status = 200, description = "Prometheus text format"),
    (status = 401, body = crate::error::ErrorBody, description = "unauthenticated: metrics_token is set and the bearer token is missing or wrong"),
    (status = 404, body = crate::error::ErrorBody, description = "not_found: metrics are served on metrics_listen only")))]
pub async fn metrics(State(state): State<AuthState>, headers: HeaderMap) -> Response {
    match &state.metrics_access {
        MetricsAccess::Off => ApiError::not_found("route").into_response(),
        MetricsAccess::Bearer(expected) => {
            let presented = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(|t| -> [u8; 32] { sha2::Sha256::digest(t.trim().as_bytes()).into() });
            match presented {
                Some(p) if bool::from(p.ct_eq(expected)) => exposition(&state),
                _ => ApiError::unauthenticated().into_response(),
            }
        }
    }
}

/// The metrics text, for the private listener.
pub async fn metrics_private(State(state): State<AuthState>) -> Response {
    exposition(&state)
}

fn exposition(state: &AuthState) -> Response {
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
