//! The account lifecycle over e-mail: verification, password reset and
//! change, deletion. The two endpoints that take an address answer the same
//! 202 whether or not it has an account, and do their work after answering,
//! so neither the body nor the time tells.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::account::{
    auth_error, limit, login_failed, login_not_locked, parse_email, parse_password, request_id,
};
use super::{clear_session_cookies, Client, UserBody};
use crate::error::{ApiError, ErrorBody};
use crate::extract::AuthUser;
use crate::json::ApiJson;
use crate::rate_limit::Bucket;
use crate::state::AuthState;

/// A body with only an e-mail address.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct EmailRequest {
    /// The address.
    pub email: String,
}

/// A body with a token from an e-mail link.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    /// The token (the link's fragment after `verify_email=`).
    pub token: String,
}

/// `POST /auth/password/reset` body.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct ResetRequest {
    /// The token (the link's fragment after `reset_password=`).
    pub token: String,
    /// The new password, 8 to 128 characters.
    pub password: String,
}

/// `POST /auth/password/change` body.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct ChangeRequest {
    /// The current password (omit for an account without one: then a login in the last ten minutes counts).
    pub current_password: Option<String>,
    /// The new password, 8 to 128 characters.
    pub new_password: String,
}

/// `DELETE /auth/account` body.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct DeleteRequest {
    /// The current password (omit for an account without one: then a login in the last ten minutes counts).
    pub password: Option<String>,
}

/// The answer to a request that may send mail.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AcceptedBody {
    /// Always `accepted`: if the address has an account, a message is on its way.
    pub status: String,
}

/// The answer to a confirmed e-mail.
#[derive(Serialize, utoipa::ToSchema)]
pub struct VerifiedBody {
    /// The account, now verified.
    pub user: UserBody,
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        axum::Json(AcceptedBody {
            status: "accepted".into(),
        }),
    )
        .into_response()
}

/// Budgets of the endpoints that send mail: the client, and the address.
async fn limit_mail(
    state: &AuthState,
    client: &Client,
    email: &authjar_core::Email,
) -> Result<(), ApiError> {
    limit(state, Bucket::PerClient, &client.key()).await?;
    limit(state, Bucket::MailPerAddress, email.as_str()).await
}

/// Which message a request for mail asks for.
#[derive(Clone, Copy)]
enum MailAction {
    Verify,
    Reset,
}

/// The two endpoints that take an address: checked and limited here, then
/// answered with the same 202 while the lookup and the mail happen after
/// the answer, so neither the body nor the time tells whether the address
/// has an account.
async fn accept_mail_request(
    state: &AuthState,
    client: &Client,
    headers: &HeaderMap,
    raw_email: &str,
    action: MailAction,
) -> Result<Response, ApiError> {
    let email = parse_email(raw_email)?;
    limit_mail(state, client, &email).await?;
    let (service, rid) = (state.service.clone(), request_id(headers).to_owned());
    tokio::spawn(async move {
        let done = match action {
            MailAction::Verify => service.request_verification(&email, &rid).await,
            MailAction::Reset => service.forgot_password(&email, &rid).await,
        };
        if let Err(e) = done {
            tracing::error!(request_id = %rid, error = %e, "a request for mail failed");
        }
    });
    let event = match action {
        MailAction::Verify => "verify_email_request",
        MailAction::Reset => "password_forgot",
    };
    state.metrics.event(event, "accepted");
    Ok(accepted())
}

/// Sends (again) the link that confirms an account's e-mail.
#[utoipa::path(post, path = "/auth/verify-email/request", tag = "account", request_body = EmailRequest,
    params(("X-CSRF-Token" = String, Header, description = "the token from the last auth response or GET /auth/csrf")),
    responses((status = 202, body = AcceptedBody, description = "the same answer whether or not the address has an unverified account"),
              (status = 422, body = ErrorBody, description = "invalid_email"),
              (status = 429, body = ErrorBody, description = "rate_limited (per client and per address)")))]
pub async fn verify_email_request(
    State(state): State<AuthState>,
    client: Client,
    headers: HeaderMap,
    ApiJson(req): ApiJson<EmailRequest>,
) -> Result<Response, ApiError> {
    accept_mail_request(&state, &client, &headers, &req.email, MailAction::Verify).await
}

/// Confirms an account's e-mail with the token from the link.
#[utoipa::path(post, path = "/auth/verify-email/confirm", tag = "account", request_body = TokenRequest,
    params(("X-CSRF-Token" = String, Header, description = "the token from the last auth response or GET /auth/csrf")),
    responses((status = 200, body = VerifiedBody, description = "verified"),
              (status = 400, body = ErrorBody, description = "invalid_token: unknown, used, expired, or sent to an address the account no longer has")))]
pub async fn verify_email_confirm(
    State(state): State<AuthState>,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<Response, ApiError> {
    let user = state
        .service
        .confirm_email(&req.token)
        .await
        .map_err(|e| auth_error(&state, "verify_email", e))?;
    state.metrics.event("verify_email", "ok");
    Ok(axum::Json(VerifiedBody {
        user: UserBody::from(&user),
    })
    .into_response())
}

/// Sends a password-reset link.
#[utoipa::path(post, path = "/auth/password/forgot", tag = "account", request_body = EmailRequest,
    params(("X-CSRF-Token" = String, Header, description = "the token from the last auth response or GET /auth/csrf")),
    responses((status = 202, body = AcceptedBody, description = "the same answer whether or not the address has an account"),
              (status = 422, body = ErrorBody, description = "invalid_email"),
              (status = 429, body = ErrorBody, description = "rate_limited (per client and per address)")))]
pub async fn password_forgot(
    State(state): State<AuthState>,
    client: Client,
    headers: HeaderMap,
    ApiJson(req): ApiJson<EmailRequest>,
) -> Result<Response, ApiError> {
    accept_mail_request(&state, &client, &headers, &req.email, MailAction::Reset).await
}

/// Sets a new password with the token from a reset link; every session of
/// the account ends (log in again), and the e-mail counts as verified.
#[utoipa::path(post, path = "/auth/password/reset", tag = "account", request_body = ResetRequest,
    params(("X-CSRF-Token" = String, Header, description = "the token from the last auth response or GET /auth/csrf")),
    responses((status = 204, description = "password set; every session revoked and this browser's cookies cleared"),
              (status = 400, body = ErrorBody, description = "invalid_token"),
              (status = 422, body = ErrorBody, description = "invalid_password")))]
pub async fn password_reset(
    State(state): State<AuthState>,
    ApiJson(req): ApiJson<ResetRequest>,
) -> Result<Response, ApiError> {
    let password = parse_password(req.password)?;
    state
        .service
        .reset_password(&req.token, password)
        .await
        .map_err(|e| auth_error(&state, "password_reset", e))?;
    state.metrics.event("password_reset", "ok");
    let mut h = HeaderMap::new();
    clear_session_cookies(&state, &mut h);
    Ok((StatusCode::NO_CONTENT, h).into_response())
}

/// The login failure budgets a wrong current password draws from, as a
/// wrong password at login does: someone holding a stolen session cannot
/// guess the password here faster than at the login form.
fn reauth_keys(user: &AuthUser, client: &Client) -> (String, String) {
    let account = user.email.to_ascii_lowercase();
    (format!("{account}|{}", client.key()), account)
}

/// The caller's session, once its address is not locked out of the login
/// failure budgets (a wrong current password draws from them).
async fn reauth_session(
    state: &AuthState,
    user: &AuthUser,
    client: &Client,
    event: &'static str,
) -> Result<(authjar_core::Session, (String, String)), ApiError> {
    let (_, session) = state
        .service
        .current(&user.claims)
        .await
        .map_err(|e| auth_error(state, event, e))?;
    let keys = reauth_keys(user, client);
    login_not_locked(state, &keys.0, &keys.1).await?;
    Ok((session, keys))
}

async fn reauth_error(
    state: &AuthState,
    keys: &(String, String),
    event: &'static str,
    e: authjar_core::AuthError,
) -> ApiError {
    if matches!(e, authjar_core::AuthError::ReauthenticationRequired) {
        login_failed(state, &keys.0, &keys.1).await;
    }
    auth_error(state, event, e)
}

/// A current password as sent; one that is not even a valid password cannot be right.
fn optional_password(p: Option<String>) -> Result<Option<authjar_core::Password>, ApiError> {
    p.map(|p| authjar_core::Password::parse(p).map_err(|_| ApiError::reauthentication_required()))
        .transpose()
}

/// Changes the password of the logged-in user; every other session ends.
#[utoipa::path(post, path = "/auth/password/change", tag = "account", request_body = ChangeRequest,
    params(("X-CSRF-Token" = String, Header, description = "the token from the last auth response or GET /auth/csrf")),
    responses((status = 204, description = "changed; this session stays, every other one is revoked"),
              (status = 401, body = ErrorBody, description = "unauthenticated"),
              (status = 403, body = ErrorBody, description = "reauthentication_required: the current password is wrong or missing"),
              (status = 422, body = ErrorBody, description = "invalid_password")))]
pub async fn password_change(
    State(state): State<AuthState>,
    user: AuthUser,
    client: Client,
    ApiJson(req): ApiJson<ChangeRequest>,
) -> Result<Response, ApiError> {
    let new = parse_password(req.new_password)?;
    let current = optional_password(req.current_password)?;
    let (session, keys) = reauth_session(&state, &user, &client, "password_change").await?;
    match state
        .service
        .change_password(user.user_id, &session, current, new)
        .await
    {
        Ok(done) => done,
        Err(e) => return Err(reauth_error(&state, &keys, "password_change", e).await),
    };
    state.metrics.event("password_change", "ok");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Deletes the logged-in user's account, identities and sessions.
#[utoipa::path(delete, path = "/auth/account", tag = "account", request_body = DeleteRequest,
    params(("X-CSRF-Token" = String, Header, description = "the token from the last auth response or GET /auth/csrf")),
    responses((status = 204, description = "deleted; every session revoked and this browser's cookies cleared"),
              (status = 401, body = ErrorBody, description = "unauthenticated"),
              (status = 403, body = ErrorBody, description = "reauthentication_required")))]
pub async fn account_delete(
    State(state): State<AuthState>,
    user: AuthUser,
    client: Client,
    ApiJson(req): ApiJson<DeleteRequest>,
) -> Result<Response, ApiError> {
    let password = optional_password(req.password)?;
    let (session, keys) = reauth_session(&state, &user, &client, "account_delete").await?;
    match state
        .service
        .delete_account(user.user_id, &session, password)
        .await
    {
        Ok(done) => done,
        Err(e) => return Err(reauth_error(&state, &keys, "account_delete", e).await),
    };
    state.metrics.event("account_delete", "ok");
    let mut h = HeaderMap::new();
    clear_session_cookies(&state, &mut h);
    Ok((StatusCode::NO_CONTENT, h).into_response())
}
