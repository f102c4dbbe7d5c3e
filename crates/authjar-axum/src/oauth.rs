//! OAuth 2.0 / OpenID Connect login: configured providers, the encrypted
//! transaction kept in the browser between start and callback, and the
//! one-time codes that hand a session to a cross-site app.

use std::time::Duration;

use authjar_core::{Sealer, UnixTime};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use openidconnect::core::CoreProviderMetadata;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use crate::oidc_discovery::DiscoveryCache;

/// How a provider is reached.
#[derive(Debug, Clone)]
pub enum ProviderKind {
    /// OpenID Connect, by discovery from the issuer.
    Oidc {
        /// Issuer URL.
        issuer: String,
    },
    /// Plain OAuth 2.0 with a user-info API (GitHub).
    OAuth2 {
        /// Authorization endpoint.
        auth_url: String,
        /// Token endpoint.
        token_url: String,
        /// User API.
        userinfo_url: String,
    },
}

/// One configured provider. `Debug` leaves the client secret out.
pub struct Provider {
    /// Id in URLs.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: Option<String>,
    /// Endpoints.
    pub kind: ProviderKind,
    /// Extra scopes beyond `openid email profile`.
    pub scopes: Vec<String>,
    discovery: Option<DiscoveryCache>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "***"))
            .field("kind", &self.kind)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl Provider {
    /// A provider.
    pub fn new(
        id: String,
        name: String,
        client_id: String,
        client_secret: Option<String>,
        kind: ProviderKind,
        scopes: Vec<String>,
    ) -> Provider {
        let discovery = match &kind {
            ProviderKind::Oidc { issuer } => Some(DiscoveryCache::new(issuer.clone())),
            ProviderKind::OAuth2 { .. } => None,
        };
        Provider {
            id,
            name,
            client_id,
            client_secret,
            kind,
            scopes,
            discovery,
        }
    }

    /// The issuer's discovery document with its keys (cached; see
    /// [`DiscoveryCache`]).
    pub(crate) async fn metadata(
        &self,
        http: &openidconnect::reqwest::Client,
    ) -> Result<Arc<CoreProviderMetadata>, String> {
        match &self.discovery {
            Some(cache) => cache.get(http).await,
            None => Err("not an OpenID Connect provider".into()),
        }
    }

    /// The metadata fetched again for an ID token signed by an unknown key;
    /// `None` when that is not possible now (see [`DiscoveryCache`]).
    pub(crate) async fn metadata_with_new_keys(
        &self,
        http: &openidconnect::reqwest::Client,
    ) -> Option<Arc<CoreProviderMetadata>> {
        self.discovery.as_ref()?.refresh_for_unknown_key(http).await
    }
}

/// What the browser carries between start and callback, sealed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Transaction {
    /// Provider id.
    pub provider: String,
    /// `state`.
    pub state: String,
    /// PKCE verifier.
    pub pkce_verifier: String,
    /// OIDC nonce.
    pub nonce: String,
    /// Validated `return_to`.
    pub return_to: String,
    /// Expiry.
    pub expires_at: UnixTime,
    /// `handoff_challenge` from the start: base64url SHA-256 of a verifier
    /// the starting tab keeps; a cross-site hand-off code is redeemable only
    /// with that verifier.
    #[serde(default)]
    pub handoff_challenge: Option<String>,
    /// The logged-in user who started a `link=1` flow: the identity is
    /// added to this account instead of logging in.
    #[serde(default)]
    pub link_user: Option<String>,
}

const TX_AAD: &[u8] = b"authjar/v1/oauth-transaction";

/// Why a transaction cannot be sealed: a server fault (the login start
/// answers 500 `internal_error`), never an empty cookie.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SealError {
    /// The transaction did not serialise.
    #[error("serialising the OAuth transaction: {0}")]
    Json(#[source] serde_json::Error),
    /// Encryption failed.
    #[error("sealing the OAuth transaction: {0}")]
    Seal(#[source] authjar_core::SealError),
}

impl Transaction {
    /// The sealed cookie value.
    pub(crate) fn seal(&self, sealer: &Sealer, nonce: [u8; 12]) -> Result<String, SealError> {
        let plaintext = serde_json::to_vec(self).map_err(SealError::Json)?;
        sealer
            .seal(&plaintext, TX_AAD, nonce)
            .map_err(SealError::Seal)
    }

    /// The transaction in a cookie value, if it is one of ours and untouched.
    pub(crate) fn open(sealer: &Sealer, value: &str) -> Option<Transaction> {
        serde_json::from_slice(&sealer.open(value, TX_AAD)?).ok()
    }
}

/// A well-formed challenge: 43 base64url characters (32 bytes).
pub(crate) fn parse_challenge(challenge: &str) -> Option<[u8; 32]> {
    if challenge.len() != 43 {
        return None;
    }
    URL_SAFE_NO_PAD.decode(challenge).ok()?.try_into().ok()
}

/// Why OAuth cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The HTTP client for discovery, token and user-info calls could not
    /// be built (never replaced by a default client, which would follow
    /// redirects and have no timeout).
    #[error("building the HTTP client for OAuth providers: {0}")]
    HttpClient(#[source] openidconnect::reqwest::Error),
}

/// Every provider, the HTTP client that talks to them, and the hand-offs.
pub struct OAuth {
    /// Providers by id, in configuration order.
    pub(crate) providers: Vec<Provider>,
    /// The client for discovery, token and user-info calls (no redirects followed).
    pub(crate) http: openidconnect::reqwest::Client,
    /// Transaction cookie encryption.
    pub(crate) sealer: Sealer,
}

impl OAuth {
    /// OAuth with `providers`.
    pub fn new(providers: Vec<Provider>, sealer: Sealer) -> Result<OAuth, OAuthError> {
        let http = openidconnect::reqwest::Client::builder()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(OAuthError::HttpClient)?;
        Ok(OAuth {
            providers,
            http,
            sealer,
        })
    }

    /// A provider by id.
    pub(crate) fn provider(&self, id: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx() -> Transaction {
        Transaction {
            provider: "op".into(),
            state: "s".into(),
            pkce_verifier: "v".into(),
            nonce: "n".into(),
            return_to: "/".into(),
            expires_at: 100,
            handoff_challenge: None,
            link_user: None,
        }
    }

    #[test]
    fn a_sealed_transaction_opens_only_with_its_keys() {
        let sealer = Sealer::new(vec![[1; 32]]).unwrap();
        let sealed = tx().seal(&sealer, [2; 12]).unwrap();
        assert!(!sealed.is_empty());
        let opened = Transaction::open(&sealer, &sealed).unwrap();
        assert_eq!((opened.state.as_str(), opened.expires_at), ("s", 100));
        assert!(Transaction::open(&Sealer::new(vec![[3; 32]]).unwrap(), &sealed).is_none());
    }
}
