//! `GET /auth/oauth/{provider}/callback`: open the transaction, check the
//! provider's answer, fetch the identity, then log in (or link) and send the
//! browser back to the app.

use authjar_core::{AuthError, ExternalIdentity, Issued};
use authjar_policy::return_to::validate_return_to;
use authjar_policy::{CookieKind, Relation, WebOrigin};
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;
use url::Url;

use super::{found, identity, Failure};
use crate::cookies::RequestCookies;
use crate::error::ApiError;
use crate::handlers::{append_cookie, set_session_cookies, Client};
use crate::oauth::{parse_challenge, Provider, Transaction};
use crate::query::CallbackQuery;
use crate::state::AuthState;

/// The provider's redirect back.
#[utoipa::path(get, path = "/auth/oauth/{provider}/callback", tag = "oauth",
    params(("provider" = String, Path, description = "provider id")),
    responses((status = 302, description = "to return_to with session cookies (or, for a cross-site app, with #auth_code= in the fragment); on failure to the app with ?auth_error=<code>")))]
pub async fn callback(
    State(state): State<AuthState>,
    Path(id): Path<String>,
    client: Client,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let mut out = HeaderMap::new();
    let tx = take_transaction(&state, &headers, &mut out);
    let Some(target) = return_target(&state, tx.as_ref()) else {
        return ApiError::bad_request("no app origin is configured to return to").into_response();
    };
    let cross_site = is_cross_site(&state, &target);
    // A cross-site app gets a one-time code bound to the tab that started
    // the login; without a challenge there is nothing to bind it to.
    let challenge = tx
        .as_ref()
        .and_then(|t| t.handoff_challenge.as_deref())
        .and_then(parse_challenge);
    let linking = tx.as_ref().is_some_and(|t| t.link_user.is_some());
    let outcome = match (cross_site, challenge) {
        (true, None) if tx.is_some() && !linking => Err(Failure("handoff_unbound")),
        _ => finish(&state, &id, tx, query.as_deref(), &client).await,
    };
    let handoff = challenge.filter(|_| cross_site);
    respond(&state, &id, outcome, handoff, target, out).await
}

/// The transaction from its cookie, which the response removes.
fn take_transaction(
    state: &AuthState,
    headers: &HeaderMap,
    out: &mut HeaderMap,
) -> Option<Transaction> {
    let spec = state.cookie(CookieKind::OauthTransaction)?;
    append_cookie(out, &spec.removal());
    let cookies = RequestCookies::parse(headers).ok()?;
    let value = cookies.token(&spec.name).as_token()?;
    Transaction::open(&state.oauth.sealer, value)
}

/// Where the browser goes back to: the transaction's `return_to`, checked
/// again, or else the first app origin.
fn return_target(state: &AuthState, tx: Option<&Transaction>) -> Option<Url> {
    let d = &state.deployment;
    let fallback = d
        .app_origins
        .first()
        .map(|o| format!("{o}/"))
        .unwrap_or_default();
    tx.and_then(|t| validate_return_to(Some(&t.return_to), &d.app_origins, d.environment).ok())
        .or_else(|| Url::parse(&fallback).ok())
}

/// Whether `target` is on an app cross-site from the API.
fn is_cross_site(state: &AuthState, target: &Url) -> bool {
    WebOrigin::of_url(target)
        .map(|o| Relation::between(&o, state.deployment.api()) == Relation::CrossSite)
        .unwrap_or(false)
}

/// The redirect back to the app for `outcome`. `handoff`: the tab's
/// challenge when the session goes to a cross-site app as a one-time code.
async fn respond(
    state: &AuthState,
    id: &str,
    outcome: Result<Finished, Failure>,
    handoff: Option<[u8; 32]>,
    mut target: Url,
    mut out: HeaderMap,
) -> Response {
    match outcome {
        Ok(Finished::Linked) => {
            state.metrics.event("oauth_link", "ok");
            target.query_pairs_mut().append_pair("linked", id);
        }
        Ok(Finished::LoggedIn(issued)) => {
            match hand_over(state, *issued, handoff, &mut target, &mut out).await {
                Ok(()) => state.metrics.event("oauth", "ok"),
                Err(e) => {
                    tracing::error!(error = %e, "storing the hand-off code failed");
                    state.metrics.event("oauth", "login_failed");
                    target
                        .query_pairs_mut()
                        .append_pair("auth_error", "login_failed");
                }
            }
        }
        Err(Failure(code)) => {
            state.metrics.event("oauth", code);
            tracing::info!(provider = %id, code, "OAuth login failed");
            target.query_pairs_mut().append_pair("auth_error", code);
        }
    }
    found(target.as_str(), out)
}

/// The new session: as a one-time code in `target`'s fragment for a
/// cross-site app, else as session cookies.
async fn hand_over(
    state: &AuthState,
    issued: Issued,
    handoff: Option<[u8; 32]>,
    target: &mut Url,
    out: &mut HeaderMap,
) -> Result<(), authjar_core::AuthError> {
    let Some(challenge) = handoff else {
        set_session_cookies(state, out, &issued);
        return Ok(());
    };
    let code = state.service.begin_handoff(&issued, challenge).await?;
    // In the fragment: never sent to a server, never in a Referer.
    target.set_fragment(Some(&format!("auth_code={code}")));
    Ok(())
}

/// What a successful callback did.
enum Finished {
    /// A session for the identity's account.
    LoggedIn(Box<Issued>),
    /// The identity was added to the logged-in account that started the flow.
    Linked,
}

async fn finish(
    state: &AuthState,
    id: &str,
    tx: Option<Transaction>,
    query: Option<&str>,
    client: &Client,
) -> Result<Finished, Failure> {
    let tx = tx.ok_or(Failure("invalid_transaction"))?;
    let p = transaction_provider(state, id, &tx)?;
    let (code, iss) = authorization_code(query, &tx)?;
    let identity = identity::fetch(state, p, &tx, code, iss).await?;
    match tx
        .link_user
        .as_deref()
        .and_then(|u| uuid::Uuid::parse_str(u).ok())
    {
        Some(uid) => link(state, uid, &identity).await,
        None => login(state, identity, client).await,
    }
}

/// The provider the callback is for, which must be the transaction's, in time.
fn transaction_provider<'a>(
    state: &'a AuthState,
    id: &str,
    tx: &Transaction,
) -> Result<&'a Provider, Failure> {
    let p = state
        .oauth
        .provider(id)
        .ok_or(Failure("unknown_provider"))?;
    if tx.provider != p.id {
        return Err(Failure("invalid_transaction"));
    }
    if state.service.now() >= tx.expires_at {
        return Err(Failure("transaction_expired"));
    }
    Ok(p)
}

/// The authorization code and the `iss` the provider named, once the
/// callback's `state` matches the transaction's.
fn authorization_code(
    query: Option<&str>,
    tx: &Transaction,
) -> Result<(String, Option<String>), Failure> {
    let q = CallbackQuery::parse(query).map_err(|_| Failure("invalid_callback"))?;
    if q.error.is_some() {
        return Err(Failure("provider_error"));
    }
    let got_state = q.state.ok_or(Failure("state_mismatch"))?;
    if !bool::from(got_state.as_bytes().ct_eq(tx.state.as_bytes())) {
        return Err(Failure("state_mismatch"));
    }
    let code = q.code.ok_or(Failure("provider_error"))?;
    Ok((code, q.iss))
}

/// Adds the identity to the account that started the flow.
async fn link(
    state: &AuthState,
    uid: uuid::Uuid,
    identity: &ExternalIdentity,
) -> Result<Finished, Failure> {
    state
        .service
        .link_external(uid, identity)
        .await
        .map_err(|e| match e {
            AuthError::IdentityTaken => Failure("identity_taken"),
            AuthError::AccountNotVerified => Failure("email_not_verified"),
            _ => Failure("link_failed"),
        })?;
    Ok(Finished::Linked)
}

/// A session for the identity's account.
async fn login(
    state: &AuthState,
    identity: ExternalIdentity,
    client: &Client,
) -> Result<Finished, Failure> {
    state
        .service
        .login_external(identity, client.meta())
        .await
        .map(|i| Finished::LoggedIn(Box::new(i)))
        .map_err(|e| match e {
            AuthError::EmailNotVerified => Failure("provider_email_unverified"),
            _ => Failure("login_failed"),
        })
}
