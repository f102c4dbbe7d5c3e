//! Social-login providers (`oauth.<provider>.*`).

use std::collections::BTreeMap;

use secrecy::SecretString;

use super::layers::Layers;
use super::values::Reader;
use super::ConfigError;

/// One OAuth/OIDC provider as configured (URLs are filled by presets later).
#[derive(Debug, Clone)]
pub struct OAuthProvider {
    /// The provider id in URLs (`github`).
    pub id: String,
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: Option<SecretString>,
    /// Every other field as written (`issuer`, `auth_url`, `tenant`, …).
    pub settings: BTreeMap<String, String>,
}

pub(super) fn oauth(layers: &Layers, r: &Reader<'_>) -> Result<Vec<OAuthProvider>, ConfigError> {
    let mut ids: Vec<String> = layers
        .keys_under("oauth.")
        .filter_map(|k| {
            k.strip_prefix("oauth.")?
                .split_once('.')
                .map(|(p, _)| p.to_owned())
        })
        .collect();
    ids.dedup();
    let mut out = Vec::new();
    for id in ids {
        let key = |f: &str| format!("oauth.{id}.{f}");
        let client_id = r.string(&key("client_id"))?.ok_or_else(|| {
            ConfigError::Inconsistent(format!("oauth.{id} is configured without oauth.{id}.client_id (AUTHJAR_OAUTH__{}__CLIENT_ID)", id.to_ascii_uppercase()))
        })?;
        let client_secret = r.string(&key("client_secret"))?.map(SecretString::from);
        let mut settings = BTreeMap::new();
        for f in [
            "issuer",
            "auth_url",
            "token_url",
            "userinfo_url",
            "tenant",
            "name",
            "scopes",
        ] {
            if let Some(v) = r.string(&key(f))? {
                settings.insert(f.to_owned(), v);
            }
        }
        out.push(OAuthProvider {
            id,
            client_id,
            client_secret,
            settings,
        });
    }
    Ok(out)
}
