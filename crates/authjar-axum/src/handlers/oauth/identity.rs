//! Who logged in, from the provider: an OpenID Connect ID token (and
//! UserInfo), or a plain OAuth 2.0 provider's user API (GitHub's shape).

use std::fmt::Display;

use authjar_core::{Email, ExternalIdentity};
use openidconnect::core::{
    CoreIdToken, CoreIdTokenClaims, CoreProviderMetadata, CoreTokenResponse, CoreUserInfoClaims,
};
use openidconnect::{
    AuthorizationCode, Nonce, OAuth2TokenResponse as _, PkceCodeVerifier, SubjectIdentifier,
    TokenResponse as _,
};
use serde_json::Value;

use super::clients::{id_token_verifier, oauth2_client, oidc_client, OAuth2Client, OidcClient};
use super::{redirect_uri, Failure};
use crate::oauth::{Provider, ProviderKind, Transaction};
use crate::state::AuthState;

/// The identity behind the authorization `code`, by the provider's kind.
pub(super) async fn fetch(
    state: &AuthState,
    p: &Provider,
    tx: &Transaction,
    code: String,
    iss: Option<String>,
) -> Result<ExternalIdentity, Failure> {
    match &p.kind {
        ProviderKind::Oidc { .. } => oidc_identity(state, p, tx, code, iss).await,
        ProviderKind::OAuth2 {
            auth_url,
            token_url,
            userinfo_url,
        } => {
            let client = oauth2_client(p, auth_url, token_url, redirect_uri(state, &p.id))
                .map_err(|_| Failure("provider_unavailable"))?;
            oauth2_identity(state, p, &client, tx, code, userinfo_url).await
        }
    }
}

/// A refused or failed code exchange: logged (the provider's text never
/// reaches the app), then `token_exchange_failed`.
fn token_exchange_failed(e: impl Display) -> Failure {
    tracing::info!(error = %e, "token exchange failed");
    Failure("token_exchange_failed")
}

/// An e-mail address, whether the provider verified it, and a display name,
/// as a provider reports them.
struct Contact {
    email: Option<String>,
    verified: Option<bool>,
    name: Option<String>,
}

impl Contact {
    /// What the ID token says.
    fn of_id_token(claims: &CoreIdTokenClaims) -> Contact {
        Contact {
            email: claims.email().map(|e| e.as_str().to_owned()),
            verified: claims.email_verified(),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned()),
        }
    }
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
    let meta = issuer_metadata(state, p, iss).await?;
    let oidc = oidc_client(p, &meta, redirect_uri(state, &p.id))
        .map_err(|_| Failure("provider_unavailable"))?;
    let token = oidc
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|_| Failure("provider_unavailable"))?
        .set_pkce_verifier(PkceCodeVerifier::new(tx.pkce_verifier.clone()))
        .request_async(&state.oauth.http)
        .await
        .map_err(token_exchange_failed)?;
    let id_token = token.id_token().ok_or(Failure("id_token_invalid"))?;
    let nonce = Nonce::new(tx.nonce.clone());
    let claims = id_token_claims(state, p, &oidc, &meta, id_token, &nonce).await?;
    let subject = claims.subject().clone();
    let mut contact = Contact::of_id_token(&claims);
    // Providers that follow the OIDC default put scope claims in UserInfo, not the ID token.
    if contact.email.is_none() {
        contact = with_userinfo(state, &oidc, &token, &subject, contact).await?;
    }
    let email = Email::parse(&contact.email.ok_or(Failure("email_missing"))?)
        .map_err(|_| Failure("email_missing"))?;
    Ok(ExternalIdentity {
        provider: p.id.clone(),
        subject: subject.as_str().to_owned(),
        email,
        email_verified: contact.verified.unwrap_or(false),
        name: contact.name,
    })
}

/// The provider's discovery document. RFC 9207: when the provider names
/// itself in the callback, it must be the issuer we started with.
async fn issuer_metadata(
    state: &AuthState,
    p: &Provider,
    iss: Option<String>,
) -> Result<std::sync::Arc<CoreProviderMetadata>, Failure> {
    let meta = p
        .metadata(&state.oauth.http)
        .await
        .map_err(|_| Failure("provider_unavailable"))?;
    if iss.is_some_and(|i| i != meta.issuer().as_str()) {
        return Err(Failure("issuer_mismatch"));
    }
    Ok(meta)
}

/// The ID token's claims, checked with the cached keys and, when that
/// fails, once more with keys fetched again.
async fn id_token_claims(
    state: &AuthState,
    p: &Provider,
    oidc: &OidcClient,
    meta: &CoreProviderMetadata,
    id_token: &CoreIdToken,
    nonce: &Nonce,
) -> Result<CoreIdTokenClaims, Failure> {
    let first = match id_token.claims(&id_token_verifier(oidc, meta), nonce) {
        Ok(claims) => return Ok(claims.clone()),
        Err(first) => first,
    };
    // Perhaps signed by a key the provider rotated in since the cache was filled.
    let Some(fresh) = p.metadata_with_new_keys(&state.oauth.http).await else {
        tracing::info!(error = %first, "ID token refused");
        return Err(Failure("id_token_invalid"));
    };
    let client = oidc_client(p, &fresh, redirect_uri(state, &p.id))
        .map_err(|_| Failure("provider_unavailable"))?;
    let verifier = id_token_verifier(&client, &fresh);
    match id_token.claims(&verifier, nonce) {
        Ok(claims) => Ok(claims.clone()),
        Err(e) => {
            tracing::info!(error = %e, "ID token refused");
            Err(Failure("id_token_invalid"))
        }
    }
}

/// `contact` completed from UserInfo: its e-mail and verification replace
/// the ID token's, its name is used when the ID token has none.
async fn with_userinfo(
    state: &AuthState,
    oidc: &OidcClient,
    token: &CoreTokenResponse,
    subject: &SubjectIdentifier,
    contact: Contact,
) -> Result<Contact, Failure> {
    let info: CoreUserInfoClaims = oidc
        .user_info(token.access_token().clone(), Some(subject.clone()))
        .map_err(|_| Failure("email_missing"))?
        .request_async(&state.oauth.http)
        .await
        .map_err(|e| {
            tracing::info!(error = %e, "UserInfo request failed");
            Failure("email_missing")
        })?;
    Ok(Contact {
        email: info.email().map(|e| e.as_str().to_owned()),
        verified: info.email_verified(),
        name: contact.name.or_else(|| {
            info.name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned())
        }),
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
        .map_err(token_exchange_failed)?;
    let bearer = token.access_token().secret();
    let http = &state.oauth.http;
    let user = get_json(http, userinfo_url.to_owned(), bearer).await?;
    let subject = user_subject(&user)?;
    let emails_url = format!("{}/emails", userinfo_url.trim_end_matches('/'));
    let emails = get_json(http, emails_url, bearer).await.unwrap_or_default();
    let (email, verified) = pick_email(&user, &emails)?;
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

/// A GET of the provider's user API with the access token, as JSON.
async fn get_json(
    http: &openidconnect::reqwest::Client,
    url: String,
    bearer: &str,
) -> Result<Value, Failure> {
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
    serde_json::from_slice::<Value>(&body).map_err(|_| Failure("userinfo_failed"))
}

/// The user's id: a number, or a non-empty string.
fn user_subject(user: &Value) -> Result<String, Failure> {
    match &user["id"] {
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) if !s.is_empty() => Ok(s.clone()),
        _ => Err(Failure("userinfo_failed")),
    }
}

/// A verified address from the e-mail list (the primary one first), else
/// the profile's address as unverified.
fn pick_email(user: &Value, emails: &Value) -> Result<(String, bool), Failure> {
    let listed = emails.as_array().cloned().unwrap_or_default();
    let verified = listed
        .iter()
        .filter(|e| e["verified"] == true)
        .max_by_key(|e| e["primary"] == true)
        .and_then(|e| e["email"].as_str().map(|s| (s.to_owned(), true)));
    verified
        .or_else(|| user["email"].as_str().map(|s| (s.to_owned(), false)))
        .ok_or(Failure("email_missing"))
}
