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

fn derive(secret: &SecretString, info: &str) -> [u8; 32] {
    let hk = Hkdf::<Sha256>::new(Some(b"authjar"), secret.expose_secret().as_bytes());
    let mut out = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so this cannot fail.
    let _ = hk.expand(info.as_bytes(), &mut out);
    out
}

fn signing_entry(secret: &SecretString) -> SigningKeyEntry {
    let key = SigningKey::from_bytes(&derive(secret, "authjar/v1/access-token/ed25519"));
    let public = key.verifying_key().to_bytes();
    let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(public)[..8]);
    let pkcs8_der = key
        .to_pkcs8_der()
        .map(|d| d.as_bytes().to_vec())
        .unwrap_or_default();
    SigningKeyEntry {
        kid,
        pkcs8_der,
        public_x: URL_SAFE_NO_PAD.encode(public),
    }
}

impl KeyRing {
    /// Derives every key from the current secret and any previous ones.
    pub fn derive(current: &SecretString, previous: &[SecretString]) -> KeyRing {
        let all = || std::iter::once(current).chain(previous.iter());
        KeyRing {
            signing: signing_entry(current),
            retired: previous.iter().map(signing_entry).collect(),
            csrf: all()
                .map(|s| derive(s, "authjar/v1/csrf/hmac-sha256"))
                .collect(),
            cookie: all().map(|s| derive(s, "authjar/v1/cookie/aead")).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_secret_derives_the_same_keys_and_purposes_differ() {
        let s = SecretString::from("0123456789abcdef0123456789abcdef".to_owned());
        let a = KeyRing::derive(&s, &[]);
        let b = KeyRing::derive(&s, &[]);
        assert_eq!(a.signing.kid, b.signing.kid);
        assert_eq!(a.csrf, b.csrf);
        assert_ne!(a.csrf[0], a.cookie[0]);
        let other = KeyRing::derive(
            &SecretString::from("another secret of at least 32 chars!".to_owned()),
            &[s],
        );
        assert_ne!(other.signing.kid, a.signing.kid);
        assert_eq!(other.retired[0].kid, a.signing.kid);
    }
}
