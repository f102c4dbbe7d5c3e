//! `ApiJson<T>`: axum's JSON extractor with every rejection mapped to
//! authjar's error body (415 wrong content type, 413 too large, 400 bad JSON).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON request body.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => {
                Err(ApiError::unsupported_media_type())
            }
            Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::payload_too_large())
            }
            // The parser's own text can quote the offending value (a password),
            // so it is not passed on.
            Err(JsonRejection::JsonDataError(_)) => Err(ApiError::invalid_json(
                "the JSON does not have the expected fields and types (see /openapi.json)",
            )),
            Err(_) => Err(ApiError::invalid_json("the body is not valid JSON")),
        }
    }
}
