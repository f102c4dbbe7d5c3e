//! The OpenAPI document, generated from the handlers' annotations, plus the
//! parts no annotation can express: every error code with its status.

use utoipa::OpenApi;

use crate::error::ERROR_CODES;
use crate::handlers::{
    account, client_files, csrf, debug, lifecycle, meta, oauth, session, verify,
};

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
        lifecycle::verify_email_request,
        lifecycle::verify_email_confirm,
        lifecycle::password_forgot,
        lifecycle::password_reset,
        lifecycle::password_change,
        lifecycle::account_delete,
        csrf::csrf,
        oauth::providers,
        oauth::start::start,
        oauth::callback::callback,
        oauth::exchange::exchange,
        client_files::client_js,
        client_files::client_dts,
        debug::debug_page,
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
        oauth::exchange::ExchangeRequest,
        account::LoginRequest,
        session::MeBody,
        session::SessionsBody,
        account::PendingBody,
        lifecycle::EmailRequest,
        lifecycle::TokenRequest,
        lifecycle::ResetRequest,
        lifecycle::ChangeRequest,
        lifecycle::DeleteRequest,
        lifecycle::AcceptedBody,
        lifecycle::VerifiedBody,
    ))
)]
pub(crate) struct ApiDoc;

/// The document served at `/openapi.json`.
pub fn document() -> serde_json::Value {
    // utoipa's document is plain data (string-keyed maps, no floats that can
    // be NaN), so serialising it cannot fail; if it ever did, the failure is
    // logged and the route answers an empty document rather than crashing.
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|e| {
        tracing::error!(error = %e, "the OpenAPI document did not serialise");
        serde_json::Value::Null
    });
    let codes: Vec<serde_json::Value> = ERROR_CODES
        .iter()
        .map(|(code, status)| serde_json::json!({"code": code, "status": status}))
        .collect();
    doc["x-error-codes"] = serde_json::Value::Array(codes);
    add_common_responses(&mut doc);
    if let Some(schema) = doc.pointer_mut("/components/schemas/ErrorBody/properties/error") {
        schema["enum"] = ERROR_CODES
            .iter()
            .map(|(c, _)| serde_json::json!(c))
            .collect();
    }
    doc
}

/// Answers every route can give that no handler annotation states: the edge
/// layer's (431 for an oversized `Cookie` header; 403 from the CSRF and
/// origin guard on unsafe methods) and the JSON body extractor's (400
/// `invalid_json`, 413, 415) on routes with a body.
fn add_common_responses(doc: &mut serde_json::Value) {
    let error = |description: &str| {
        serde_json::json!({
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        })
    };
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            let has_body = op.get("requestBody").is_some();
            let Some(responses) = op.get_mut("responses").and_then(|r| r.as_object_mut()) else {
                continue;
            };
            let mut add = |status: &str, description: &str| {
                responses
                    .entry(status.to_owned())
                    .or_insert_with(|| error(description));
            };
            add("431", "cookie_header_too_large");
            if matches!(method.as_str(), "post" | "put" | "patch" | "delete") {
                add("403", "a CSRF or origin refusal (see x-error-codes)");
            }
            if has_body {
                add(
                    "400",
                    "invalid_json: not JSON, or not the expected fields and types",
                );
                add("413", "payload_too_large");
                add("415", "unsupported_media_type");
            }
        }
    }
}
