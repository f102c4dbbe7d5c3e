//! The marketplace's own API: a logged-in user's bookings with cat
//! therapists. Every handler takes `AuthUser`, so only a valid access token
//! gets in; cancelling is a DELETE, so the CSRF guard protects it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use authjar_axum::{ApiError, AuthUser};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One booking.
#[derive(Debug, Clone, Serialize)]
pub struct Booking {
    /// Id.
    pub id: Uuid,
    /// Who treats the cat.
    pub therapist: String,
    /// The patient.
    pub cat: String,
}

/// `POST /api/bookings` body.
#[derive(Deserialize)]
pub struct NewBooking {
    therapist: String,
    cat: String,
}

/// Bookings per user, in memory (a demo keeps nothing on disk).
#[derive(Default)]
pub struct Bookings(Mutex<HashMap<Uuid, Vec<Booking>>>);

type Shared = Arc<Bookings>;

fn bad(message: &str) -> ApiError {
    ApiError::validation("invalid_booking", message)
}

fn field(s: &str) -> Result<String, ApiError> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > 80 || t.chars().any(char::is_control) {
        return Err(bad("therapist and cat are 1 to 80 characters"));
    }
    Ok(t.to_owned())
}

async fn list(State(b): State<Shared>, user: AuthUser) -> Json<Vec<Booking>> {
    let map = b.0.lock().unwrap_or_else(|e| e.into_inner());
    Json(map.get(&user.user_id).cloned().unwrap_or_default())
}

async fn create(
    State(b): State<Shared>,
    user: AuthUser,
    Json(req): Json<NewBooking>,
) -> Result<Response, ApiError> {
    let booking = Booking {
        id: Uuid::new_v4(),
        therapist: field(&req.therapist)?,
        cat: field(&req.cat)?,
    };
    let mut map = b.0.lock().unwrap_or_else(|e| e.into_inner());
    let mine = map.entry(user.user_id).or_default();
    if mine.len() >= 100 {
        return Err(bad("at most 100 bookings per account"));
    }
    mine.push(booking.clone());
    Ok((StatusCode::CREATED, Json(booking)).into_response())
}

async fn cancel(
    State(b): State<Shared>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let mut map = b.0.lock().unwrap_or_else(|e| e.into_inner());
    let mine = map.entry(user.user_id).or_default();
    let before = mine.len();
    mine.retain(|x| x.id != id);
    if mine.len() == before {
        return Err(ApiError::not_found("booking"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `/api/bookings` routes.
pub fn router() -> Router {
    Router::new()
        .route("/api/bookings", get(list).post(create))
        .route("/api/bookings/{id}", delete(cancel))
        .with_state(Shared::default())
}
