//! Keys derived from the server secret with HKDF-SHA256 (RFC 5869), one per
//! purpose: the Ed25519 access-token signing key, the CSRF HMAC key, and the
//! cookie-encryption key. Every instance with the same secret derives the
//! same keys, so nothing else needs sharing. Rotation: the new secret signs;
//! previous secrets stay listed so their tokens verify until they expire.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use ed25519_dalek::SigningKey;
use hkdf::Hkdf;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// One access-token signing key.
#[derive(Clone)]
pub struct SigningKeyEntry {
    /// Key id (`kid`): base64url of the first 8 bytes of SHA-256 of the public key.
    pub kid: String,
    /// PKCS#8 DER of the private key (for `jsonwebtoken`'s `EncodingKey`).
    pub pkcs8_der: Vec<u8>,
    /// The public key, base64url (the JWK `x`).
    pub public_x: String,
}

impl std::fmt::Debug for SigningKeyEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyEntry")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Why the keys cannot be derived from the secret. Neither can happen with
/// the fixed sizes used here; they are errors rather than ignored results so
/// that a failure can never become an all-zero or empty key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// HKDF-SHA256 refused the output length.
    #[error("HKDF-SHA256 expansion failed: {0}")]
    Expand(hkdf::InvalidLength),
    /// The Ed25519 signing key could not be encoded as, or read from, PKCS#8.
    #[error("the Ed25519 signing key as PKCS#8: {0}")]
    Pkcs8(ed25519_dalek::pkcs8::Error),
    /// The access tokens' header could not be serialised.
    #[error("serialising the access-token header: {0}")]
    Header(serde_json::Error),
    /// A signing key's public half (the JWK `x`) is not a valid Ed25519 key.
    #[error("signing key {kid}: invalid public key: {source}")]
    PublicKey {
        /// The key's `kid`.
        kid: String,
        /// Why `jsonwebtoken` refused it.
        source: jsonwebtoken::errors::Error,
    },
}

/// All keys of one server.
#[derive(Clone, Debug)]
pub struct KeyRing {
    /// Signs new access tokens.
    pub signing: SigningKeyEntry,
    /// Keys of previous secrets: verify only.
    pub retired: Vec<SigningKeyEntry>,
    /// HMAC key for CSRF tokens, then those of previous secrets.
    pub csrf: Vec<[u8; 32]>,
    /// AEAD key for encrypted cookies (OAuth transaction), then previous ones.
    pub cookie: Vec<[u8; 32]>,
}

fn derive(secret: &SecretString, info: &str) -> Result<[u8; 32], KeyError> {
    let hk = Hkdf::<Sha256>::new(Some(b"authjar"), secret.expose_secret().as_bytes());
    let mut out = [0u8; 32];
    hk.expand(info.as_bytes(), &mut out)
        .map_err(KeyError::Expand)?;
    Ok(out)
}

fn signing_entry(secret: &SecretString) -> Result<SigningKeyEntry, KeyError> {
    let key = SigningKey::from_bytes(&derive(secret, "authjar/v1/access-token/ed25519")?);
    let public = key.verifying_key().to_bytes();
    let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(public)[..8]);
    let pkcs8_der = key
        .to_pkcs8_der()
        .map_err(KeyError::Pkcs8)?
        .as_bytes()
        .to_vec();
    Ok(SigningKeyEntry {
        kid,
        pkcs8_der,
        public_x: URL_SAFE_NO_PAD.encode(public),
    })
}

impl KeyRing {
    /// Derives every key from the current secret and any previous ones.
    pub fn derive(current: &SecretString, previous: &[SecretString]) -> Result<KeyRing, KeyError> {
        let all = || std::iter::once(current).chain(previous.iter());
        Ok(KeyRing {
            signing: signing_entry(current)?,
            retired: previous
                .iter()
                .map(signing_entry)
                .collect::<Result<_, _>>()?,
            csrf: all()
                .map(|s| derive(s, "authjar/v1/csrf/hmac-sha256"))
                .collect::<Result<_, _>>()?,
            cookie: all()
                .map(|s| derive(s, "authjar/v1/cookie/aead"))
                .collect::<Result<_, _>>()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_secret_derives_the_same_keys_and_purposes_differ() {
        let s = SecretString::from("0123456789abcdef0123456789abcdef".to_owned());
        let a = KeyRing::derive(&s, &[]).unwrap();
        let b = KeyRing::derive(&s, &[]).unwrap();
        assert_eq!(a.signing.kid, b.signing.kid);
        assert_eq!(a.csrf, b.csrf);
        assert_ne!(a.csrf[0], a.cookie[0]);
        let other = KeyRing::derive(
            &SecretString::from("another secret of at least 32 chars!".to_owned()),
            &[s],
        )
        .unwrap();
        assert_ne!(other.signing.kid, a.signing.kid);
        assert_eq!(other.retired[0].kid, a.signing.kid);
    }
}
