//! The OpenAPI document, generated from the handlers' annotations, plus the
//! parts no annotation can express: every error code with its status.

use utoipa::OpenApi;

use crate::error::ERROR_CODES;
use crate::handlers::{account, csrf, meta, oauth, session, verify};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "authjar",
        description = "Cookie authentication for a frontend and an API on different origins."
    ),
    paths(
        account::register,
        account::login,
        account::refresh,
        account::logout,
        session::me,
        session::list,
        session::revoke,
        verify::verify,
        csrf::csrf,
        oauth::providers,
        oauth::start,
        oauth::callback,
        oauth::exchange,
        meta::client_js,
        meta::client_dts,
        meta::jwks,
        meta::healthz,
        meta::metrics,
    ),
    components(schemas(
        crate::error::ErrorBody,
        crate::handlers::UserBody,
        crate::handlers::SessionBody,
        crate::handlers::AuthBody,
        account::RegisterRequest,
        csrf::CsrfBody,
        oauth::ProvidersBody,
        oauth::ProviderBody,
        oauth::ExchangeRequest,
        account::LoginRequest,
        session::MeBody,
        session::SessionsBody,
    ))
)]
pub(crate) struct ApiDoc;

/// The document served at `/openapi.json`.
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let codes: Vec<serde_json::Value> = ERROR_CODES
        .iter()
        .map(|(code, status)| serde_json::json!({"code": code, "status": status}))
        .collect();
    doc["x-error-codes"] = serde_json::Value::Array(codes);
    if let Some(schema) = doc.pointer_mut("/components/schemas/ErrorBody/properties/error") {
        schema["enum"] = ERROR_CODES
            .iter()
            .map(|(c, _)| serde_json::json!(c))
            .collect();
    }
    doc
}
