//! `GET /auth/oauth/{provider}/start`: seal a transaction into the
//! transaction cookie and send the browser to the provider.

use authjar_core::random;
use authjar_policy::return_to::validate_return_to;
use authjar_policy::CookieKind;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{CsrfToken, Nonce, PkceCodeChallenge, PkceCodeVerifier, Scope};
use url::Url;

use super::clients::{oauth2_client, oidc_client};
use super::{found, redirect_uri};
use crate::error::{ApiError, ErrorBody};
use crate::extract::MaybeUser;
use crate::handlers::append_cookie;
use crate::oauth::{parse_challenge, Provider, ProviderKind, Transaction};
use crate::query::single_param;
use crate::state::AuthState;

/// Starts a login with a provider.
#[utoipa::path(get, path = "/auth/oauth/{provider}/start", tag = "oauth",
    params(("provider" = String, Path, description = "provider id"), ("return_to" = Option<String>, Query, description = "where to land after login: an app-origin URL or a path"),
           ("handoff_challenge" = Option<String>, Query, description = "base64url SHA-256 of a verifier the tab keeps; required when return_to is on a cross-site app"),
           ("link" = Option<String>, Query, description = "1: add this provider to the logged-in account (needs the session cookie) instead of logging in; the callback returns with ?linked=<provider>")),
    responses((status = 302, description = "to the provider, with the transaction cookie set"),
              (status = 400, body = ErrorBody, description = "invalid_return_to, invalid_handoff_challenge"),
              (status = 401, body = ErrorBody, description = "unauthenticated: link=1 without a session"),
              (status = 404, body = ErrorBody, description = "not_found: unknown provider"),
              (status = 502, body = ErrorBody, description = "provider_unavailable")))]
pub async fn start(
    State(state): State<AuthState>,
    Path(id): Path<String>,
    user: MaybeUser,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let p = state
        .oauth
        .provider(&id)
        .ok_or_else(|| ApiError::not_found("provider"))?;
    let query = query.as_deref();
    let return_to = requested_return_to(&state, query)?;
    let link_user = link_user(&user, query)?;
    let handoff_challenge = requested_handoff_challenge(query)?;
    let tx = new_transaction(&state, p, &return_to, handoff_challenge, link_user);
    let url = authorize_url(&state, p, &tx)
        .await
        .map_err(|e| ApiError::provider_unavailable(&e))?;
    let headers = transaction_cookie(&state, &tx)?;
    Ok(found(url.as_str(), headers))
}

/// `return_to`, validated against the app origins.
fn requested_return_to(state: &AuthState, query: Option<&str>) -> Result<Url, ApiError> {
    let raw = single_param(query, "return_to").map_err(|_| ApiError::invalid_return_to())?;
    let d = &state.deployment;
    validate_return_to(raw.as_deref(), &d.app_origins, d.environment)
        .map_err(|_| ApiError::invalid_return_to())
}

/// `link=1`: add this provider to the logged-in account instead of logging
/// in. The logged-in user's id, or `None` for a login.
fn link_user(user: &MaybeUser, query: Option<&str>) -> Result<Option<String>, ApiError> {
    match single_param(query, "link").map_err(|_| ApiError::bad_request("link appears twice"))? {
        Some(v) if v == "1" => Ok(Some(
            user.0
                .as_ref()
                .map(|u| u.user_id.to_string())
                .ok_or_else(ApiError::unauthenticated)?,
        )),
        _ => Ok(None),
    }
}

/// `handoff_challenge`, when given, must be a well-formed challenge.
fn requested_handoff_challenge(query: Option<&str>) -> Result<Option<String>, ApiError> {
    match single_param(query, "handoff_challenge") {
        Ok(None) => Ok(None),
        Ok(Some(c)) if parse_challenge(&c).is_some() => Ok(Some(c)),
        _ => Err(ApiError::invalid_handoff_challenge()),
    }
}

/// A fresh transaction: random state, PKCE verifier and nonce.
fn new_transaction(
    state: &AuthState,
    p: &Provider,
    return_to: &Url,
    handoff_challenge: Option<String>,
    link_user: Option<String>,
) -> Transaction {
    let rnd = state.service.random();
    Transaction {
        provider: p.id.clone(),
        state: random::token::<32>(rnd),
        pkce_verifier: random::token::<32>(rnd),
        nonce: random::token::<32>(rnd),
        return_to: return_to.to_string(),
        expires_at: state.service.now()
            + authjar_policy::Lifetimes::OAUTH_TRANSACTION.as_secs() as i64,
        handoff_challenge,
        link_user,
    }
}

/// The sealed transaction as a `Set-Cookie` (none when the deployment has
/// no transaction cookie).
fn transaction_cookie(state: &AuthState, tx: &Transaction) -> Result<HeaderMap, ApiError> {
    let mut headers = HeaderMap::new();
    if let Some(spec) = state.cookie(CookieKind::OauthTransaction) {
        let sealed = tx
            .seal(
                &state.oauth.sealer,
                random::bytes::<12>(state.service.random()),
            )
            .map_err(|e| ApiError::internal(&e))?;
        append_cookie(&mut headers, &spec.set_cookie(&sealed));
    }
    Ok(headers)
}

/// The provider's authorization URL for `tx`: code flow, PKCE S256, state,
/// and for OpenID Connect a nonce.
async fn authorize_url(state: &AuthState, p: &Provider, tx: &Transaction) -> Result<Url, String> {
    let redirect = redirect_uri(state, &p.id);
    match &p.kind {
        ProviderKind::Oidc { .. } => oidc_authorize_url(state, p, tx, redirect).await,
        ProviderKind::OAuth2 {
            auth_url,
            token_url,
            ..
        } => {
            let client = oauth2_client(p, auth_url, token_url, redirect)?;
            let scopes = if p.scopes.is_empty() {
                vec!["read:user".to_owned(), "user:email".to_owned()]
            } else {
                p.scopes.clone()
            };
            let state = tx.state.clone();
            let mut auth = client
                .authorize_url(move || CsrfToken::new(state))
                .set_pkce_challenge(pkce_challenge(tx));
            for scope in scopes {
                auth = auth.add_scope(Scope::new(scope));
            }
            Ok(auth.url().0)
        }
    }
}

/// The OpenID Connect authorization URL, from the provider's discovery document.
async fn oidc_authorize_url(
    state: &AuthState,
    p: &Provider,
    tx: &Transaction,
    redirect: String,
) -> Result<Url, String> {
    let meta = p.metadata(&state.oauth.http).await?;
    let client = oidc_client(p, &meta, redirect)?;
    let (s, n) = (tx.state.clone(), tx.nonce.clone());
    let mut auth = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            move || CsrfToken::new(s),
            move || Nonce::new(n),
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(pkce_challenge(tx));
    for scope in &p.scopes {
        auth = auth.add_scope(Scope::new(scope.clone()));
    }
    Ok(auth.url().0)
}

/// The S256 challenge of the transaction's PKCE verifier.
fn pkce_challenge(tx: &Transaction) -> PkceCodeChallenge {
    PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(tx.pkce_verifier.clone()))
}
