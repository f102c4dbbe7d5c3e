//! Register, login, refresh, logout.

use authjar_core::{AuthError, Email, Password, Registration};
use authjar_policy::CookieKind;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::{clear_session_cookies, set_session_cookies, AuthBody, Client, UserBody};
use crate::cookies::RequestCookies;
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::rate_limit::{Bucket, Limited};
use crate::state::AuthState;

/// `POST /auth/register` body.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct RegisterRequest {
    /// E-mail (normalised: one address per person, see docs/http-api.md).
    pub email: String,
    /// 8 to 128 characters.
    pub password: String,
    /// Display name (at most 100 characters).
    pub name: Option<String>,
}

/// `POST /auth/login` body.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    /// E-mail.
    pub email: String,
    /// Password.
    pub password: String,
}

pub(crate) fn parse_email(s: &str) -> Result<Email, ApiError> {
    Email::parse(s).map_err(|e| ApiError::invalid_email(e.to_string()))
}

pub(crate) fn parse_password(s: String) -> Result<Password, ApiError> {
    Password::parse(s).map_err(|e| ApiError::invalid_password(e.to_string()))
}

pub(crate) async fn limit(state: &AuthState, bucket: Bucket, key: &str) -> Result<(), ApiError> {
    state
        .limiter
        .check(bucket, key)
        .await
        .map_err(|refused| limited(state, "rate_limit", "limited", refused))
}

/// The answer to a refusal of the limiter, counted in `/metrics` as `event`/`outcome`.
fn limited(
    state: &AuthState,
    event: &'static str,
    outcome: &'static str,
    refused: Limited,
) -> ApiError {
    match refused {
        Limited::Wait(wait) => {
            state.metrics.event(event, outcome);
            ApiError::rate_limited(wait)
        }
        Limited::Unavailable(cause) => ApiError::unavailable(&cause),
    }
}

pub(crate) fn auth_error(state: &AuthState, event: &'static str, e: AuthError) -> ApiError {
    let api = ApiError::from(&e);
    state.metrics.event(event, api.code());
    api
}

pub(crate) fn issued_response(
    state: &AuthState,
    status: StatusCode,
    event: &'static str,
    issued: &authjar_core::Issued,
) -> Response {
    state.metrics.event(event, "ok");
    let mut headers = HeaderMap::new();
    set_session_cookies(state, &mut headers, issued);
    let binding = authjar_core::Binding::Session(issued.session.id);
    let csrf_token = super::csrf::issue_token(state, &binding, &mut headers);
    let body = AuthBody {
        user: UserBody::from(&issued.user),
        csrf_token,
    };
    (status, headers, axum::Json(body)).into_response()
}

/// Creates an account and logs it in.
#[utoipa::path(post, path = "/auth/register", params(("X-CSRF-Token" = String, Header, description = "the token from the last auth response or GET /auth/csrf")), request_body = RegisterRequest, tag = "account",
    responses((status = 403, body = ErrorBody, description = "csrf_token_missing, csrf_token_invalid, csrf_token_other_session, origin_not_allowed, cross_site_request, content_type_not_json"),
              (status = 201, body = AuthBody, description = "account created; session cookies set; a verification link is on its way"),
              (status = 202, body = PendingBody, description = "account created; verified e-mail is required, so no session until the link in the e-mail is opened"),
              (status = 409, body = ErrorBody, description = "email_taken"),
              (status = 422, body = ErrorBody, description = "invalid_email, invalid_password, invalid_name"),
              (status = 429, body = ErrorBody, description = "rate_limited")))]
pub async fn register(
    State(state): State<AuthState>,
    client: Client,
    headers: HeaderMap,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> Result<Response, ApiError> {
    limit(&state, Bucket::PerClient, &client.key()).await?;
    let email = parse_email(&req.email)?;
    let password = parse_password(req.password)?;
    let name = match req
        .name
        .as_deref()
        .map(authjar_core::name::parse_display_name)
    {
        None => None,
        Some(Ok(n)) => n,
        Some(Err(e)) => return Err(ApiError::invalid_name(e.to_string())),
    };
    let registration = state
        .service
        .register(email, password, name, client.meta(), request_id(&headers))
        .await
        .map_err(|e| auth_error(&state, "register", e))?;
    Ok(match registration {
        Registration::LoggedIn(issued) => {
            issued_response(&state, StatusCode::CREATED, "register", &issued)
        }
        Registration::VerificationSent(user) => {
            state.metrics.event("register", "verification_sent");
            (
                StatusCode::ACCEPTED,
                axum::Json(PendingBody {
                    user: UserBody::from(&user),
                    status: "verification_sent".into(),
                }),
            )
                .into_response()
        }
    })
}

/// `POST /auth/register` body when verified e-mail is required: no session yet.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PendingBody {
    /// The new account.
    pub user: UserBody,
    /// `verification_sent`: open the link in the e-mail, then log in.
    pub status: String,
}

/// The request id the edge layer put on the request.
pub(crate) fn request_id(headers: &HeaderMap) -> &str {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
}

/// Logs in with e-mail and password.
#[utoipa::path(post, path = "/auth/login", params(("X-CSRF-Token" = String, Header, description = "the token from the last auth response or GET /auth/csrf")), request_body = LoginRequest, tag = "account",
    responses((status = 403, body = ErrorBody, description = "a CSRF or origin refusal (see x-error-codes); email_not_verified: the password is right but the e-mail is not confirmed and the deployment requires it"),
              (status = 200, body = AuthBody, description = "session cookies set"),
              (status = 401, body = ErrorBody, description = "invalid_credentials (same for an unknown e-mail)"),
              (status = 422, body = ErrorBody, description = "invalid_email, invalid_password"),
              (status = 429, body = ErrorBody, description = "rate_limited, with Retry-After")))]
pub async fn login(
    State(state): State<AuthState>,
    client: Client,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    limit(&state, Bucket::PerClient, &client.key()).await?;
    let email = parse_email(&req.email)?;
    let password = parse_password(req.password)?;
    let account_client = format!("{}|{}", email.as_str(), client.key());
    login_not_locked(&state, &account_client, email.as_str()).await?;
    match state
        .service
        .login(email.clone(), password, client.meta())
        .await
    {
        Ok(issued) => Ok(issued_response(&state, StatusCode::OK, "login", &issued)),
        Err(e @ AuthError::InvalidCredentials) => {
            login_failed(&state, &account_client, email.as_str()).await;
            Err(auth_error(&state, "login", e))
        }
        Err(e) => Err(auth_error(&state, "login", e)),
    }
}

/// Refuses a login when this client has spent its failure budget for the
/// account, or when the account's own budget (failures from everywhere) is
/// spent: a short lock, counted in `/metrics` as `login`/`account_locked`.
pub(crate) async fn login_not_locked(
    state: &AuthState,
    account_client: &str,
    account: &str,
) -> Result<(), ApiError> {
    state
        .limiter
        .locked(Bucket::LoginFailuresPerAccountClient, account_client)
        .await
        .map_err(|refused| limited(state, "login", "rate_limited", refused))?;
    state
        .limiter
        .locked(Bucket::LoginFailuresPerAccount, account)
        .await
        .map_err(|refused| limited(state, "login", "account_locked", refused))
}

pub(crate) async fn login_failed(state: &AuthState, account_client: &str, account: &str) {
    // The per-client lock needs no log line; the account-wide one means many
    // addresses are guessing one account's password. A limiter that cannot
    // record the failure (its store is down) has already failed the login.
    let _ = state
        .limiter
        .failed(Bucket::LoginFailuresPerAccountClient, account_client)
        .await;
    if let Err(Limited::Wait(wait)) = state
        .limiter
        .failed(Bucket::LoginFailuresPerAccount, account)
        .await
    {
        state.metrics.event("login", "account_locked");
        tracing::warn!(
            lock_secs = wait.as_secs(),
            "failed logins for one account from many clients: account locked briefly"
        );
    }
}

fn refresh_token(state: &AuthState, headers: &HeaderMap) -> Option<String> {
    let spec = state.cookie(CookieKind::Refresh)?;
    let cookies = RequestCookies::parse(headers).ok()?;
    cookies.token(&spec.name).as_token().map(str::to_owned)
}

/// Rotates the refresh token and issues a new access token.
#[utoipa::path(post, path = "/auth/refresh", params(("X-CSRF-Token" = String, Header, description = "the token from the last auth response or GET /auth/csrf")), tag = "account",
    responses((status = 403, body = ErrorBody, description = "a CSRF or origin refusal (see x-error-codes)"),
              (status = 200, body = AuthBody, description = "new access cookie; new refresh cookie unless a just-rotated token was replayed within the grace window"),
              (status = 401, body = ErrorBody, description = "invalid_refresh; every session cookie is cleared"),
              (status = 429, body = ErrorBody, description = "rate_limited")))]
pub async fn refresh(
    State(state): State<AuthState>,
    client: Client,
    headers: HeaderMap,
) -> Result<Response, Response> {
    limit(&state, Bucket::RefreshPerClient, &client.key())
        .await
        .map_err(IntoResponse::into_response)?;
    let fail = |state: &AuthState, e: ApiError| {
        let mut h = HeaderMap::new();
        clear_session_cookies(state, &mut h);
        (h, e).into_response()
    };
    let Some(token) = refresh_token(&state, &headers) else {
        return Err(fail(
            &state,
            auth_error(&state, "refresh", AuthError::InvalidRefresh),
        ));
    };
    match state.service.refresh(&token).await {
        Ok(issued) => Ok(issued_response(&state, StatusCode::OK, "refresh", &issued)),
        // A server fault says nothing about the token: the cookies stay.
        Err(e @ (AuthError::Store(_) | AuthError::Signing(_) | AuthError::Hash(_))) => {
            Err(auth_error(&state, "refresh", e).into_response())
        }
        Err(e) => Err(fail(&state, auth_error(&state, "refresh", e))),
    }
}

/// Ends the session and clears every cookie.
#[utoipa::path(post, path = "/auth/logout", params(("X-CSRF-Token" = String, Header, description = "the token from the last auth response or GET /auth/csrf")), tag = "account",
    responses((status = 403, body = ErrorBody, description = "a CSRF or origin refusal (see x-error-codes)"),
              (status = 204, description = "session revoked (if any); cookies cleared with matching attributes")))]
pub async fn logout(
    State(state): State<AuthState>,
    user: crate::extract::MaybeUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let sid = match user.0 {
        Some(u) => Some(u.session_id),
        None => match refresh_token(&state, &headers) {
            Some(t) => state
                .service
                .session_of_refresh(&t)
                .await
                .map_err(|e| auth_error(&state, "logout", e))?
                .map(|s| s.id),
            None => None,
        },
    };
    if let Some(sid) = sid {
        state
            .service
            .revoke(sid, state.service.now())
            .await
            .map_err(|e| auth_error(&state, "logout", e))?;
    }
    state.metrics.event("logout", "ok");
    let mut h = HeaderMap::new();
    clear_session_cookies(&state, &mut h);
    Ok((StatusCode::NO_CONTENT, h).into_response())
}
