//! The OpenID Connect and OAuth 2.0 clients for a configured provider, and
//! the ID-token verifier.

use openidconnect::core::{CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata};
use openidconnect::{ClientId, ClientSecret, RedirectUrl};

use crate::oauth::Provider;

/// An OpenID Connect client with the endpoints discovery gives.
pub(super) type OidcClient = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

pub(super) fn oidc_client(
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

/// A plain OAuth 2.0 client with an authorization and a token endpoint.
pub(super) type OAuth2Client = oauth2::basic::BasicClient<
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

pub(super) fn oauth2_client(
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

/// Checks an ID token's signature with the provider's keys, restricted to
/// the asymmetric algorithms the provider advertises (never `none`, never
/// HMAC with the client secret), and its `iss`, `aud` and `exp`.
pub(super) fn id_token_verifier<'a>(
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
