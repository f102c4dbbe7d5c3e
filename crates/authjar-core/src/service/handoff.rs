//! One-time codes that hand a session made at an OAuth callback to a
//! cross-site app. Kept in the store (any instance redeems a code another
//! one made), as hashes only; a code is bound to the verifier of the tab
//! that started the login and works once; redeeming it rotates the session
//! to a new refresh token, so no token ever sits in the store.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{refresh_hash, AuthError, AuthService, Issued};
use crate::random;
use crate::records::HandoffCode;

/// How long a hand-off code lives, seconds.
pub const HANDOFF_TTL: i64 = 60;

impl AuthService {
    /// A code for `issued` (a session just started at a callback),
    /// redeemable within [`HANDOFF_TTL`] with the verifier whose SHA-256 is
    /// `challenge`.
    pub async fn begin_handoff(
        &self,
        issued: &Issued,
        challenge: [u8; 32],
    ) -> Result<String, AuthError> {
        let refresh = issued
            .refresh_token
            .as_deref()
            .ok_or(AuthError::InvalidToken)?;
        let code = random::token::<32>(self.random.as_ref());
        self.store
            .insert_handoff(&HandoffCode {
                code_hash: Sha256::digest(code.as_bytes()).into(),
                challenge,
                session_id: issued.session.id,
                refresh_hash: refresh_hash(refresh),
                expires_at: self.now() + HANDOFF_TTL,
            })
            .await?;
        Ok(code)
    }

    /// The session for `code` presented with `verifier`, with a new refresh
    /// token: once, before it expires, with the right verifier only. A wrong
    /// verifier spends the code too, so it cannot be guessed at.
    pub async fn redeem_handoff(&self, code: &str, verifier: &str) -> Result<Issued, AuthError> {
        let now = self.now();
        let code_hash: [u8; 32] = Sha256::digest(code.as_bytes()).into();
        let h = self
            .store
            .take_handoff(&code_hash, now)
            .await?
            .ok_or(AuthError::InvalidToken)?;
        let presented: [u8; 32] = Sha256::digest(verifier.as_bytes()).into();
        if !bool::from(presented.ct_eq(&h.challenge)) {
            tracing::warn!(session = %h.session_id, "a hand-off code was presented without its verifier: code spent");
            return Err(AuthError::InvalidToken);
        }
        // The session's refresh token as the callback left it: rotated now,
        // if the session is still live and nothing rotated it meanwhile.
        match self.rotate_current(&h.refresh_hash, now).await? {
            Some(issued) if issued.session.id == h.session_id => Ok(issued),
            _ => Err(AuthError::InvalidToken),
        }
    }
}
