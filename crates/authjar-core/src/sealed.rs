//! Sealed values: AES-256-GCM encryption with integrity, under keys derived
//! from the server secret, for state kept in the browser (the OAuth
//! transaction cookie). A value sealed under a previous secret still opens.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// Seals and opens values. Always has a current key (by construction).
#[derive(Clone)]
pub struct Sealer {
    keys: Vec<[u8; 32]>,
}

/// Why a value cannot be sealed, or a sealer made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// A sealer needs at least the current key.
    #[error("a sealer needs a key")]
    NoKey,
    /// AES-GCM refused the input (only a value of gigabytes could do that).
    #[error("encryption failed")]
    Encryption,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(***)")
    }
}

impl Sealer {
    /// A sealer with the current key first, then previous ones (e.g.
    /// `KeyRing::cookie`); [`SealError::NoKey`] without any.
    pub fn new(keys: Vec<[u8; 32]>) -> Result<Sealer, SealError> {
        if keys.is_empty() {
            return Err(SealError::NoKey);
        }
        Ok(Sealer { keys })
    }

    /// `base64url(nonce || ciphertext+tag)`; `aad` binds the value to its purpose.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8], nonce: [u8; 12]) -> Result<String, SealError> {
        let key = self.keys.first().ok_or(SealError::NoKey)?;
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key));
        let payload = aes_gcm::aead::Payload {
            msg: plaintext,
            aad,
        };
        let ct = cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .map_err(|_| SealError::Encryption)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    /// The plaintext, if `sealed` was made by one of the keys for this `aad` and is untouched.
    pub fn open(&self, sealed: &str, aad: &[u8]) -> Option<Vec<u8>> {
        let raw = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if raw.len() < 12 + 16 {
            return None;
        }
        let (nonce, ct) = raw.split_at(12);
        self.keys.iter().find_map(|key| {
            let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key));
            cipher
                .decrypt(
                    Nonce::from_slice(nonce),
                    aes_gcm::aead::Payload { msg: ct, aad },
                )
                .ok()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_open_only_untouched_with_the_same_purpose_and_a_known_key() {
        let s = Sealer::new(vec![[1; 32]]).unwrap();
        let v = s.seal(b"state", b"oauth-tx", [9; 12]).unwrap();
        assert_eq!(s.open(&v, b"oauth-tx").as_deref(), Some(&b"state"[..]));
        assert_eq!(s.open(&v, b"other"), None);
        assert_eq!(
            Sealer::new(vec![[2; 32]]).unwrap().open(&v, b"oauth-tx"),
            None
        );
        assert_eq!(
            Sealer::new(vec![[2; 32], [1; 32]])
                .unwrap()
                .open(&v, b"oauth-tx")
                .as_deref(),
            Some(&b"state"[..])
        );
        let mut tampered = v.into_bytes();
        let i = tampered.len() - 3;
        tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            s.open(std::str::from_utf8(&tampered).unwrap(), b"oauth-tx"),
            None
        );
        assert_eq!(s.open("short", b"oauth-tx"), None);
    }
}

#[cfg(test)]
mod construction {
    use super::*;

    #[test]
    fn a_sealer_without_a_key_cannot_be_made() {
        assert_eq!(Sealer::new(Vec::new()).unwrap_err(), SealError::NoKey);
    }
}
