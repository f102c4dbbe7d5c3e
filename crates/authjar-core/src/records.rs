//! The records authjar keeps, as the store reads and writes them: users, sessions (refresh-token families) and one-time e-mail tokens.

use uuid::Uuid;

use crate::clock::UnixTime;
use crate::email::Email;

/// An account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Id.
    pub id: Uuid,
    /// Normalised e-mail, unique.
    pub email: Email,
    /// Display name.
    pub name: Option<String>,
    /// Creation time.
    pub created_at: UnixTime,
    /// When the person proved they own `email` (a link authjar sent, a
    /// password reset, or a provider that verifies e-mail); `None` until then.
    pub email_verified_at: Option<UnixTime>,
}

impl User {
    /// True once the e-mail is proven.
    pub fn email_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }
}

/// What a one-time e-mail token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    /// Proves the address (`/auth/verify-email/confirm`).
    VerifyEmail,
    /// Sets a new password (`/auth/password/reset`).
    ResetPassword,
}

impl TokenPurpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::VerifyEmail => "verify_email",
            TokenPurpose::ResetPassword => "reset_password",
        }
    }
}

/// A one-time token sent by e-mail, as stored: only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailToken {
    /// SHA-256 of the token.
    pub hash: [u8; 32],
    /// The account.
    pub user_id: Uuid,
    /// What it is for.
    pub purpose: TokenPurpose,
    /// The address it was sent to: it is void once the account's address differs.
    pub email: Email,
    /// When it was made.
    pub created_at: UnixTime,
    /// It works until then.
    pub expires_at: UnixTime,
}

/// A user with the password hash, as the store keeps it.
#[derive(Debug, Clone)]
pub struct UserRecord {
    /// The user.
    pub user: User,
    /// argon2id PHC string; `None` for accounts created by social login.
    pub password_hash: Option<String>,
}

/// A login session: one refresh-token family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Id (the access token's `sid`).
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Login time.
    pub created_at: UnixTime,
    /// Last refresh.
    pub last_seen_at: UnixTime,
    /// When the refresh token stops working (slides forward on each rotation).
    pub expires_at: UnixTime,
    /// Last rotation, for the reuse grace window.
    pub rotated_at: Option<UnixTime>,
    /// Revocation time, if revoked.
    pub revoked_at: Option<UnixTime>,
    /// `User-Agent` at login (shown in the session list).
    pub user_agent: Option<String>,
    /// Client address at login.
    pub ip: Option<String>,
}

impl Session {
    /// Not revoked and not expired at `now`.
    pub fn is_active(&self, now: UnixTime) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// Which of a session's refresh hashes a presented token matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshMatch {
    /// The current token.
    Current,
    /// The token it replaced at the last rotation.
    Previous,
    /// A token retired by an earlier rotation: presenting it is reuse of a
    /// stolen token (RFC 9700 §4.14.2), whatever the grace window.
    Retired,
}

/// Where a request came from, recorded on new sessions.
#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    /// `User-Agent`, truncated.
    pub user_agent: Option<String>,
    /// Client address (after trusted-proxy resolution).
    pub ip: Option<String>,
}

/// A one-time code handing a session created at an OAuth callback to a
/// cross-site app, as stored: only hashes. The session's refresh token is not
/// kept: redeeming the code rotates the session to a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoffCode {
    /// SHA-256 of the code.
    pub code_hash: [u8; 32],
    /// SHA-256 of the verifier the starting tab keeps (the start's challenge).
    pub challenge: [u8; 32],
    /// The session to hand over.
    pub session_id: Uuid,
    /// The hash of the session's refresh token when the code was made.
    pub refresh_hash: [u8; 32],
    /// It works until then.
    pub expires_at: UnixTime,
}
