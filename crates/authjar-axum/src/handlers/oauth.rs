//! Social login: `GET /auth/providers`, `/auth/oauth/{provider}/start`,
//! `/auth/oauth/{provider}/callback`, and `POST /auth/oauth/exchange`.
//! Authorization code + PKCE (S256) + state + nonce; the redirect URI is
//! always `public_url + /auth/oauth/{provider}/callback`; errors go back to
//! the app as `?auth_error=<code>`, never with the provider's text.

use authjar_core::{random, AuthError, Email, ExternalIdentity};
use authjar_policy::return_to::validate_return_to;
use authjar_policy::{CookieKind, Relation, WebOrigin};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, Nonce, OAuth2TokenResponse as _,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse as _,
};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use url::Url;

use super::account::issued_response;
use super::{append_cookie, set_session_cookies, Client};
use crate::cookies::RequestCookies;
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::oauth::{parse_challenge, HandoffRefusal, Provider, ProviderKind, Transaction};
use crate::query::{single_param, CallbackQuery};
use crate::state::AuthState;

/// One entry of `GET /auth/providers`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProviderBody {
    /// Id, as in the URLs.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Where a "Log in with …" link points.
    pub start_url: String,
}

/// `GET /auth/providers` body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProvidersBody {
    /// Configured providers.
    pub providers: Vec<ProviderBody>,
}

/// The configured providers, for a login page.
#[utoipa::path(get, path = "/auth/providers", tag = "oauth", responses((status = 200, body = ProvidersBody)))]
pub async fn providers(State(state): State<AuthState>) -> axum::Json<ProvidersBody> {
    let url = &state.deployment.public_url;
    let providers = state
        .oauth
        .providers
        .iter()
        .map(|p| ProviderBody {
            id: p.id.clone(),
            name: p.name.clone(),
            start_url: url.join(&format!("/auth/oauth/{}/start", p.id)),
        })
        .collect();
    axum::Json(ProvidersBody { providers })
}

fn redirect_uri(state: &AuthState, provider: &str) -> String {
    state
        .deployment
        .public_url
        .join(&format!("/auth/oauth/{provider}/callback"))
}

fn found(location: &str, headers: HeaderMap) -> Response {
    let mut res = (StatusCode::FOUND, headers).into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// An OpenID Connect client with the endpoints discovery gives.
type OidcClient = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

fn oidc_client(
    p: &Provider,
    meta: &CoreProviderMetadata,
    redirect: String,
) -> Result<OidcClient, String> {
    let redirect = RedirectUrl::new(redirect).map_err(|e| e.to_string())?;
    Ok(CoreClient::from_provider_metadata(
        meta.clone(),
        ClientId::new(p.client_id.clone()),
        p.client_secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(redirect))
}

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
    user: crate::extract::MaybeUser,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let p = state
        .oauth
        .provider(&id)
        .ok_or_else(|| ApiError::not_found("provider"))?;
    let raw =
        single_param(query.as_deref(), "return_to").map_err(|_| ApiError::invalid_return_to())?;
    let d = &state.deployment;
    let return_to = validate_return_to(raw.as_deref(), &d.app_origins, d.environment)
        .map_err(|_| ApiError::invalid_return_to())?;
    // `link=1`: add this provider to the logged-in account instead of logging in.
    let link_user = match single_param(query.as_deref(), "link")
        .map_err(|_| ApiError::bad_request("link appears twice"))?
    {
        Some(v) if v == "1" => Some(
            user.0
                .as_ref()
                .map(|u| u.user_id.to_string())
                .ok_or_else(ApiError::unauthenticated)?,
        ),
        _ => None,
    };
    let handoff_challenge = match single_param(query.as_deref(), "handoff_challenge") {
        Ok(None) => None,
        Ok(Some(c)) if parse_challenge(&c).is_some() => Some(c),
        _ => return Err(ApiError::invalid_handoff_challenge()),
    };
    let rnd = state.service.random();
    let tx = Transaction {
        provider: p.id.clone(),
        state: random::token::<32>(rnd),
        pkce_verifier: random::token::<32>(rnd),
        nonce: random::token::<32>(rnd),
        return_to: return_to.to_string(),
        expires_at: state.service.now()
            + authjar_policy::Lifetimes::OAUTH_TRANSACTION.as_secs() as i64,
        handoff_challenge,
        link_user,
    };
    let url = authorize_url(&state, p, &tx)
        .await
        .map_err(|e| ApiError::provider_unavailable(&e))?;
    let mut headers = HeaderMap::new();
    if let Some(spec) = state.cookie(CookieKind::OauthTransaction) {
        let sealed = tx
            .seal(&state.oauth.sealer, random::bytes::<12>(rnd))
            .map_err(|e| ApiError::internal(&e))?;
        append_cookie(&mut headers, &spec.set_cookie(&sealed));
    }
    Ok(found(url.as_str(), headers))
}

/// The provider's authorization URL for `tx`: code flow, PKCE S256, state,
/// and for OpenID Connect a nonce.
async fn authorize_url(state: &AuthState, p: &Provider, tx: &Transaction) -> Result<Url, String> {
    let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
        tx.pkce_verifier.clone(),
    ));
    let redirect = redirect_uri(state, &p.id);
    let (s, n) = (tx.state.clone(), tx.nonce.clone());
    match &p.kind {
        ProviderKind::Oidc { .. } => {
            let meta = p.metadata(&state.oauth.http).await?;
            let client = oidc_client(p, &meta, redirect)?;
            let mut auth = client
                .authorize_url(
                    CoreAuthenticationFlow::AuthorizationCode,
                    move || CsrfToken::new(s),
                    move || Nonce::new(n),
                )
                .add_scope(Scope::new("email".into()))
                .add_scope(Scope::new("profile".into()))
                .set_pkce_challenge(challenge);
            for scope in &p.scopes {
                auth = auth.add_scope(Scope::new(scope.clone()));
            }
            Ok(auth.url().0)
        }
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
            let mut auth = client
                .authorize_url(move || CsrfToken::new(s))
                .set_pkce_challenge(challenge);
            for scope in scopes {
                auth = auth.add_scope(Scope::new(scope));
            }
            Ok(auth.url().0)
        }
    }
}

type OAuth2Client = oauth2::basic::BasicClient<
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

fn oauth2_client(
    p: &Provider,
    auth_url: &str,
    token_url: &str,
    redirect: String,
) -> Result<OAuth2Client, String> {
    let mut client = oauth2::basic::BasicClient::new(oauth2::ClientId::new(p.client_id.clone()))
        .set_auth_uri(oauth2::AuthUrl::new(auth_url.to_owned()).map_err(|e| e.to_string())?)
        .set_token_uri(oauth2::TokenUrl::new(token_url.to_owned()).map_err(|e| e.to_string())?)
        .set_redirect_uri(oauth2::RedirectUrl::new(redirect).map_err(|e| e.to_string())?);
    if let Some(secret) = &p.client_secret {
        client = client.set_client_secret(oauth2::ClientSecret::new(secret.clone()));
    }
    Ok(client)
}

/// The callback's failure, sent to the app as `?auth_error=<code>`.
struct Failure(&'static str);

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
    let tx_spec = state.cookie(CookieKind::OauthTransaction).cloned();
    if let Some(spec) = &tx_spec {
        append_cookie(&mut out, &spec.removal());
    }
    let tx = tx_spec.as_ref().and_then(|spec| {
        let cookies = RequestCookies::parse(&headers).ok()?;
        let value = cookies.token(&spec.name).as_token()?;
        Transaction::open(&state.oauth.sealer, value)
    });
    let fallback = state
        .deployment
        .app_origins
        .first()
        .map(|o| format!("{o}/"))
        .unwrap_or_default();
    let d = &state.deployment;
    let target = tx
        .as_ref()
        .and_then(|t| validate_return_to(Some(&t.return_to), &d.app_origins, d.environment).ok())
        .or_else(|| Url::parse(&fallback).ok());
    let Some(mut target) = target else {
        return ApiError::bad_request("no app origin is configured to return to").into_response();
    };
    let cross_site = WebOrigin::of_url(&target)
        .map(|o| Relation::between(&o, d.api()) == Relation::CrossSite)
        .unwrap_or(false);
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
    match outcome {
        Ok(Finished::Linked) => {
            state.metrics.event("oauth_link", "ok");
            target.query_pairs_mut().append_pair("linked", &id);
            found(target.as_str(), out)
        }
        Ok(Finished::LoggedIn(issued)) => {
            if let (true, Some(challenge)) = (cross_site, challenge) {
                let code = random::token::<32>(state.service.random());
                state
                    .oauth
                    .handoffs
                    .put(&code, *issued, challenge, state.service.now());
                // In the fragment: never sent to a server, never in a Referer.
                target.set_fragment(Some(&format!("auth_code={code}")));
            } else {
                set_session_cookies(&state, &mut out, &issued);
            }
            state.metrics.event("oauth", "ok");
            found(target.as_str(), out)
        }
        Err(Failure(code)) => {
            state.metrics.event("oauth", code);
            tracing::info!(provider = %id, code, "OAuth login failed");
            target.query_pairs_mut().append_pair("auth_error", code);
            found(target.as_str(), out)
        }
    }
}

/// What a successful callback did.
enum Finished {
    /// A session for the identity's account.
    LoggedIn(Box<authjar_core::Issued>),
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
    let q = CallbackQuery::parse(query).map_err(|_| Failure("invalid_callback"))?;
    if q.error.is_some() {
        return Err(Failure("provider_error"));
    }
    let got_state = q.state.ok_or(Failure("state_mismatch"))?;
    if !bool::from(got_state.as_bytes().ct_eq(tx.state.as_bytes())) {
        return Err(Failure("state_mismatch"));
    }
    let iss = q.iss;
    let code = q.code.ok_or(Failure("provider_error"))?;
    let identity = match &p.kind {
        ProviderKind::Oidc { .. } => oidc_identity(state, p, &tx, code, iss).await?,
        ProviderKind::OAuth2 {
            auth_url,
            token_url,
            userinfo_url,
        } => {
            let client = oauth2_client(p, auth_url, token_url, redirect_uri(state, &p.id))
                .map_err(|_| Failure("provider_unavailable"))?;
            oauth2_identity(state, p, &client, &tx, code, userinfo_url).await?
        }
    };
    if let Some(uid) = tx
        .link_user
        .as_deref()
        .and_then(|u| uuid::Uuid::parse_str(u).ok())
    {
        state
            .service
            .link_external(uid, &identity)
            .await
            .map_err(|e| match e {
                AuthError::IdentityTaken => Failure("identity_taken"),
                AuthError::AccountNotVerified => Failure("email_not_verified"),
                _ => Failure("link_failed"),
            })?;
        return Ok(Finished::Linked);
    }
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

/// Checks an ID token's signature with the provider's keys, restricted to
/// the asymmetric algorithms the provider advertises (never `none`, never
/// HMAC with the client secret), and its `iss`, `aud` and `exp`.
fn id_token_verifier<'a>(
    client: &'a OidcClient,
    meta: &CoreProviderMetadata,
) -> openidconnect::core::CoreIdTokenVerifier<'a> {
    let algs: Vec<CoreJwsSigningAlgorithm> = meta
        .id_token_signing_alg_values_supported()
        .iter()
        .filter(|a| {
            !matches!(
                a,
                CoreJwsSigningAlgorithm::None
                    | CoreJwsSigningAlgorithm::HmacSha256
                    | CoreJwsSigningAlgorithm::HmacSha384
                    | CoreJwsSigningAlgorithm::HmacSha512
            )
        })
        .cloned()
        .collect();
    client.id_token_verifier().set_allowed_algs(algs)
}

/// OpenID Connect: code exchange with PKCE, the ID token checked (signature
/// by the provider's JWKS, `iss`, `aud`, `exp`, `nonce`), UserInfo when the
/// ID token has no e-mail.
async fn oidc_identity(
    state: &AuthState,
    p: &Provider,
    tx: &Transaction,
    code: String,
    iss: Option<String>,
) -> Result<ExternalIdentity, Failure> {
    let meta = p
        .metadata(&state.oauth.http)
        .await
        .map_err(|_| Failure("provider_unavailable"))?;
    // RFC 9207: when the provider names itself, it must be the issuer we started with.
    if iss.is_some_and(|i| i != meta.issuer().as_str()) {
        return Err(Failure("issuer_mismatch"));
    }
    let oidc = oidc_client(p, &meta, redirect_uri(state, &p.id))
        .map_err(|_| Failure("provider_unavailable"))?;
    let token = oidc
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|_| Failure("provider_unavailable"))?
        .set_pkce_verifier(PkceCodeVerifier::new(tx.pkce_verifier.clone()))
        .request_async(&state.oauth.http)
        .await
        .map_err(|e| {
            tracing::info!(error = %e, "token exchange failed");
            Failure("token_exchange_failed")
        })?;
    let id_token = token.id_token().ok_or(Failure("id_token_invalid"))?;
    let nonce = Nonce::new(tx.nonce.clone());
    let claims = match id_token.claims(&id_token_verifier(&oidc, &meta), &nonce) {
        Ok(claims) => claims.clone(),
        Err(first) => {
            // Perhaps signed by a key the provider rotated in since the cache was filled.
            let Some(fresh) = p.metadata_with_new_keys(&state.oauth.http).await else {
                tracing::info!(error = %first, "ID token refused");
                return Err(Failure("id_token_invalid"));
            };
            let client = oidc_client(p, &fresh, redirect_uri(state, &p.id))
                .map_err(|_| Failure("provider_unavailable"))?;
            let verifier = id_token_verifier(&client, &fresh);
            let claims = match id_token.claims(&verifier, &nonce) {
                Ok(claims) => claims.clone(),
                Err(e) => {
                    tracing::info!(error = %e, "ID token refused");
                    return Err(Failure("id_token_invalid"));
                }
            };
            claims
        }
    };
    let subject = claims.subject().clone();
    let (mut email, mut verified, mut name) = (
        claims.email().map(|e| e.as_str().to_owned()),
        claims.email_verified(),
        claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_owned()),
    );
    // Providers that follow the OIDC default put scope claims in UserInfo, not the ID token.
    if email.is_none() {
        let info: openidconnect::core::CoreUserInfoClaims = oidc
            .user_info(token.access_token().clone(), Some(subject.clone()))
            .map_err(|_| Failure("email_missing"))?
            .request_async(&state.oauth.http)
            .await
            .map_err(|e| {
                tracing::info!(error = %e, "UserInfo request failed");
                Failure("email_missing")
            })?;
        email = info.email().map(|e| e.as_str().to_owned());
        verified = info.email_verified();
        name = name.or_else(|| {
            info.name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned())
        });
    }
    let email = Email::parse(&email.ok_or(Failure("email_missing"))?)
        .map_err(|_| Failure("email_missing"))?;
    Ok(ExternalIdentity {
        provider: p.id.clone(),
        subject: subject.as_str().to_owned(),
        email,
        email_verified: verified.unwrap_or(false),
        name,
    })
}

/// Plain OAuth 2.0 (GitHub's shape): code exchange with PKCE, then the user
/// API (`userinfo_url`) for the id and name, and `userinfo_url/emails` for a
/// verified e-mail (the primary one first).
async fn oauth2_identity(
    state: &AuthState,
    p: &Provider,
    client: &OAuth2Client,
    tx: &Transaction,
    code: String,
    userinfo_url: &str,
) -> Result<ExternalIdentity, Failure> {
    let token = client
        .exchange_code(oauth2::AuthorizationCode::new(code))
        .set_pkce_verifier(oauth2::PkceCodeVerifier::new(tx.pkce_verifier.clone()))
        .request_async(&state.oauth.http)
        .await
        .map_err(|e| {
            tracing::info!(error = %e, "token exchange failed");
            Failure("token_exchange_failed")
        })?;
    let bearer = token.access_token().secret().clone();
    let get = |url: String| {
        let http = state.oauth.http.clone();
        let bearer = bearer.clone();
        async move {
            let r = http
                .get(url)
                .bearer_auth(bearer)
                .header("accept", "application/json")
                .header("user-agent", "authjar")
                .send()
                .await
                .map_err(|_| Failure("userinfo_failed"))?;
            if !r.status().is_success() {
                return Err(Failure("userinfo_failed"));
            }
            let body = r.bytes().await.map_err(|_| Failure("userinfo_failed"))?;
            serde_json::from_slice::<serde_json::Value>(&body)
                .map_err(|_| Failure("userinfo_failed"))
        }
    };
    let user = get(userinfo_url.to_owned()).await?;
    let subject = match &user["id"] {
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) if !s.is_empty() => s.clone(),
        _ => return Err(Failure("userinfo_failed")),
    };
    let emails = get(format!("{}/emails", userinfo_url.trim_end_matches('/')))
        .await
        .unwrap_or_default();
    let listed = emails.as_array().cloned().unwrap_or_default();
    let pick = listed
        .iter()
        .filter(|e| e["verified"] == true)
        .max_by_key(|e| e["primary"] == true)
        .and_then(|e| e["email"].as_str().map(|s| (s.to_owned(), true)));
    let (email, verified) = pick
        .or_else(|| user["email"].as_str().map(|s| (s.to_owned(), false)))
        .ok_or(Failure("email_missing"))?;
    let name = user["name"]
        .as_str()
        .or(user["login"].as_str())
        .map(str::to_owned);
    Ok(ExternalIdentity {
        provider: p.id.clone(),
        subject,
        email: Email::parse(&email).map_err(|_| Failure("email_missing"))?,
        email_verified: verified,
        name,
    })
}

/// `POST /auth/oauth/exchange` body.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct ExchangeRequest {
    /// The `auth_code` the callback put in `return_to`'s fragment.
    pub code: String,
    /// The verifier whose SHA-256 (base64url) was the start's `handoff_challenge`.
    pub verifier: String,
}

/// Trades a one-time code for session cookies, from the cross-site app's own
/// fetch: only from an allowed `Origin` (a request without one is refused),
/// and only with the verifier of the tab that started the login.
#[utoipa::path(post, path = "/auth/oauth/exchange", tag = "oauth", request_body = ExchangeRequest,
    params(("X-CSRF-Token" = String, Header, description = "the token from GET /auth/csrf")),
    responses((status = 200, body = crate::handlers::AuthBody, description = "session cookies set in the app's partition"),
              (status = 400, body = ErrorBody, description = "invalid_exchange_code: unknown, used, expired, or presented without its verifier"),
              (status = 403, body = ErrorBody, description = "a CSRF or origin refusal; origin_not_allowed also when the request has no Origin")))]
pub async fn exchange(
    State(state): State<AuthState>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ExchangeRequest>,
) -> Result<Response, ApiError> {
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(o) if state.origins.contains(o) => {}
        other => {
            return Err(ApiError::origin_not_allowed(
                other.unwrap_or("(none)"),
                state.origins.list(),
            ))
        }
    }
    let issued = state
        .oauth
        .handoffs
        .take(&req.code, &req.verifier, state.service.now())
        .map_err(|refusal| {
            if refusal == HandoffRefusal::WrongVerifier {
                tracing::warn!("a hand-off code was presented without its verifier: code spent");
            }
            state
                .metrics
                .event("oauth_exchange", "invalid_exchange_code");
            ApiError::invalid_exchange_code()
        })?;
    Ok(issued_response(
        &state,
        StatusCode::OK,
        "oauth_exchange",
        &issued,
    ))
}
