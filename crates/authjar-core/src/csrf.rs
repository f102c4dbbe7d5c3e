//! CSRF tokens: OWASP's signed double-submit token. A token is
//! `nonce.binding.mac` where `binding` is a hash of what the token is bound
//! to (a session, or before login a pre-session id) and `mac` is
//! HMAC-SHA256 over both under a key derived from the server secret.
//! Verification is constant-time, tells a forged token from a genuine token
//! of another session, and accepts tokens of previous secrets (rotation).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// What a CSRF token is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// A login session.
    Session(Uuid),
    /// A pre-session id (HttpOnly cookie) before login.
    PreSession(String),
}

impl Binding {
    fn digest(&self) -> [u8; 16] {
        let input = match self {
            Binding::Session(id) => format!("session:{id}"),
            Binding::PreSession(id) => format!("pre-session:{id}"),
        };
        let full = Sha256::digest(input.as_bytes());
        let mut out = [0u8; 16];
        out.copy_from_slice(&full[..16]);
        out
    }
}

/// Why a presented token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsrfError {
    /// Not a token this server (under any of its keys) issued.
    Invalid,
    /// A genuine token, but of another session (or of the pre-login state).
    OtherSession,
}

/// Mints and checks CSRF tokens.
#[derive(Clone)]
pub struct CsrfTokens {
    /// The current key first, then keys of previous secrets.
    keys: Vec<[u8; 32]>,
}

impl std::fmt::Debug for CsrfTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfTokens(***)")
    }
}

fn mac(key: &[u8; 32], nonce: &[u8], binding: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut m) = Hmac::<Sha256>::new_from_slice(key) else {
        return [0; 32];
    };
    m.update(b"authjar-csrf/v1|");
    m.update(nonce);
    m.update(b"|");
    m.update(binding);
    m.finalize().into_bytes().into()
}

impl CsrfTokens {
    /// Tokens under `keys` (current first), e.g. `KeyRing::csrf`.
    pub fn new(keys: Vec<[u8; 32]>) -> CsrfTokens {
        CsrfTokens { keys }
    }

    /// A token for `binding` with a 16-byte random `nonce`.
    pub fn mint(&self, binding: &Binding, nonce: [u8; 16]) -> String {
        let digest = binding.digest();
        let key = self.keys.first().copied().unwrap_or([0; 32]);
        let tag = mac(&key, &nonce, &digest);
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(digest),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// Checks `token` against the request's `binding` (`None`: the request
    /// has neither a session nor a pre-session).
    pub fn check(&self, token: &str, binding: Option<&Binding>) -> Result<(), CsrfError> {
        let mut parts = token.split('.');
        let (Some(n), Some(d), Some(t), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(CsrfError::Invalid);
        };
        let (Ok(nonce), Ok(digest), Ok(tag)) = (
            URL_SAFE_NO_PAD.decode(n),
            URL_SAFE_NO_PAD.decode(d),
            URL_SAFE_NO_PAD.decode(t),
        ) else {
            return Err(CsrfError::Invalid);
        };
        let genuine = self.keys.iter().fold(subtle::Choice::from(0), |acc, key| {
            acc | mac(key, &nonce, &digest).ct_eq(tag.as_slice())
        });
        if !bool::from(genuine) {
            return Err(CsrfError::Invalid);
        }
        match binding {
            Some(b) if bool::from(b.digest().ct_eq(digest.as_slice())) => Ok(()),
            _ => Err(CsrfError::OtherSession),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(k: u8) -> CsrfTokens {
        CsrfTokens::new(vec![[k; 32]])
    }

    #[test]
    fn a_token_passes_for_its_own_session_only() {
        let t = tokens(1);
        let a = Binding::Session(Uuid::from_u128(1));
        let b = Binding::Session(Uuid::from_u128(2));
        let token = t.mint(&a, [7; 16]);
        assert_eq!(t.check(&token, Some(&a)), Ok(()));
        assert_eq!(t.check(&token, Some(&b)), Err(CsrfError::OtherSession));
        assert_eq!(t.check(&token, None), Err(CsrfError::OtherSession));
        let pre = Binding::PreSession("p".into());
        assert_eq!(
            t.check(&t.mint(&pre, [1; 16]), Some(&a)),
            Err(CsrfError::OtherSession),
            "a pre-login token fails after login"
        );
    }

    #[test]
    fn forged_tampered_and_foreign_key_tokens_are_invalid() {
        let t = tokens(1);
        let a = Binding::Session(Uuid::from_u128(1));
        let token = t.mint(&a, [7; 16]);
        assert_eq!(tokens(2).check(&token, Some(&a)), Err(CsrfError::Invalid));
        let mut bad = token.clone().into_bytes();
        let last = bad.len() - 2;
        bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            t.check(&String::from_utf8(bad).unwrap(), Some(&a)),
            Err(CsrfError::Invalid)
        );
        for junk in ["", "a.b", "a.b.c.d", "!!.!!.!!"] {
            assert_eq!(t.check(junk, Some(&a)), Err(CsrfError::Invalid), "{junk}");
        }
        // Rotation: the old key still verifies.
        let rotated = CsrfTokens::new(vec![[2; 32], [1; 32]]);
        assert_eq!(rotated.check(&token, Some(&a)), Ok(()));
    }
}
