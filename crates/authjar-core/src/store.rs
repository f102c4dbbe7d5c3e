//! The storage seam. `authjar-store` implements it for SQLite (and later
//! PostgreSQL); one conformance suite holds every backend to the same rules.

use async_trait::async_trait;
use uuid::Uuid;

use crate::clock::UnixTime;
use crate::email::Email;
use crate::records::{
    EmailToken, HandoffCode, RefreshMatch, Session, TokenPurpose, User, UserRecord,
};

/// A change to the set of revoked sessions, from another instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationEvent {
    /// This session was revoked.
    Revoked(Uuid),
    /// This user's row changed (e-mail verified, password, deletion): any
    /// copy of it kept by an instance is void.
    UserChanged(Uuid),
    /// Events may have been missed (the feed reconnected): reload the
    /// recently revoked sessions from the store.
    Resync,
    /// The feed lost its connection: revocations made elsewhere are not
    /// seen until the next [`RevocationEvent::Resync`].
    Interrupted,
}

/// SHA-256 of a refresh token: the only form in which refresh tokens are stored.
pub type RefreshHash = [u8; 32];

/// Storage failures.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The e-mail is already registered (unique constraint).
    #[error("e-mail already registered")]
    EmailTaken,
    /// Anything else: the database is unreachable, full, corrupt…
    #[error("storage failure: {0}")]
    Backend(String),
}

/// Persistence of users and sessions.
///
/// Every method is one atomic statement or transaction. Refresh rotation is
/// a compare-and-swap: [`Store::rotate_refresh`] succeeds only if the stored
/// current hash still equals the presented one, so two concurrent rotations
/// of one token can never both win.
///
/// ```
/// # use authjar_core::store::{Store, StoreError};
/// async fn exists(store: &dyn Store, email: &authjar_core::Email) -> Result<bool, StoreError> {
///     Ok(store.user_by_email(email).await?.is_some())
/// }
/// ```
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Inserts a user; [`StoreError::EmailTaken`] if the e-mail exists.
    async fn insert_user(&self, user: &User, password_hash: Option<&str>)
        -> Result<(), StoreError>;
    /// A user with the password hash, by normalised e-mail.
    async fn user_by_email(&self, email: &Email) -> Result<Option<UserRecord>, StoreError>;
    /// A user by id.
    async fn user_by_id(&self, id: Uuid) -> Result<Option<User>, StoreError>;
    /// Inserts a session with the hash of its first refresh token.
    async fn insert_session(
        &self,
        session: &Session,
        refresh: &RefreshHash,
    ) -> Result<(), StoreError>;
    /// A session by id.
    async fn session(&self, id: Uuid) -> Result<Option<Session>, StoreError>;
    /// A session and its user, in one read where the backend can (what
    /// `GET /auth/me` needs on every call).
    async fn session_with_user(&self, id: Uuid) -> Result<Option<(Session, User)>, StoreError> {
        let Some(session) = self.session(id).await? else {
            return Ok(None);
        };
        Ok(self
            .user_by_id(session.user_id)
            .await?
            .map(|user| (session, user)))
    }
    /// A user's sessions that are neither revoked nor expired at `now`, newest first.
    async fn active_sessions(
        &self,
        user_id: Uuid,
        now: UnixTime,
    ) -> Result<Vec<Session>, StoreError>;
    /// The session whose current, previous or any earlier (retired) refresh
    /// hash is `hash`, and which of them it is.
    async fn session_by_refresh(
        &self,
        hash: &RefreshHash,
    ) -> Result<Option<(Session, RefreshMatch)>, StoreError>;
    /// Compare-and-swap rotation: if the session is not revoked and its
    /// current hash is `old`, make `new` current, keep `old` as previous
    /// and among the session's retired hashes (so any earlier token of the
    /// family is recognised for as long as the session lives), set
    /// `rotated_at`/`last_seen_at` to `now` and `expires_at`. Returns
    /// whether this call won; a lost call changes nothing.
    async fn rotate_refresh(
        &self,
        id: Uuid,
        old: &RefreshHash,
        new: &RefreshHash,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<bool, StoreError>;
    /// The common refresh in one statement where the backend can: if a
    /// session that is neither revoked nor expired at `now` has `old` as its
    /// current hash, rotate it as [`Store::rotate_refresh`] does and return
    /// it as it now is; otherwise change nothing and return `None` (the
    /// caller then judges the token with [`Store::session_by_refresh`]).
    async fn rotate_current(
        &self,
        old: &RefreshHash,
        new: &RefreshHash,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<Option<Session>, StoreError> {
        let Some((session, RefreshMatch::Current)) = self.session_by_refresh(old).await? else {
            return Ok(None);
        };
        if !session.is_active(now)
            || !self
                .rotate_refresh(session.id, old, new, now, expires_at)
                .await?
        {
            return Ok(None);
        }
        Ok(Some(Session {
            last_seen_at: now,
            rotated_at: Some(now),
            expires_at,
            ..session
        }))
    }
    /// Revokes a session (idempotent); returns whether it was active.
    async fn revoke_session(&self, id: Uuid, now: UnixTime) -> Result<bool, StoreError>;
    /// The user linked to an external identity (`provider`, `subject`).
    async fn identity_user(
        &self,
        provider: &str,
        subject: &str,
    ) -> Result<Option<Uuid>, StoreError>;
    /// Links an external identity to a user (idempotent).
    async fn link_identity(
        &self,
        provider: &str,
        subject: &str,
        user_id: Uuid,
        now: UnixTime,
    ) -> Result<(), StoreError>;
    /// Marks the user's e-mail verified at `at` (keeps an earlier time).
    async fn set_email_verified(&self, user_id: Uuid, at: UnixTime) -> Result<(), StoreError>;
    /// Replaces (or with `None` removes) the user's password hash.
    async fn set_password_hash(&self, user_id: Uuid, hash: Option<&str>) -> Result<(), StoreError>;
    /// Revokes every active session of the user but `except`; returns the
    /// ids it revoked (for the revoked-session set).
    async fn revoke_user_sessions(
        &self,
        user_id: Uuid,
        except: Option<Uuid>,
        now: UnixTime,
    ) -> Result<Vec<Uuid>, StoreError>;
    /// Deletes the user with its sessions, identities and tokens; whether it existed.
    async fn delete_user(&self, user_id: Uuid) -> Result<bool, StoreError>;
    /// Removes every provider identity linked to a user; how many there were.
    async fn unlink_identities(&self, user_id: Uuid) -> Result<u64, StoreError>;
    /// The provider identities linked to a user, as `(provider, subject)`.
    async fn identities_of(&self, user_id: Uuid) -> Result<Vec<(String, String)>, StoreError>;
    /// Stores a one-time e-mail token.
    async fn insert_email_token(&self, token: &EmailToken) -> Result<(), StoreError>;
    /// Uses a token: in one atomic statement, marks it used if it has this
    /// purpose, is unused and unexpired at `now`, and returns it; `None`
    /// otherwise (so a token works once, even under concurrent requests).
    async fn use_email_token(
        &self,
        hash: &[u8; 32],
        purpose: TokenPurpose,
        now: UnixTime,
    ) -> Result<Option<EmailToken>, StoreError>;
    /// Stores a hand-off code (any instance may redeem it).
    async fn insert_handoff(&self, code: &HandoffCode) -> Result<(), StoreError>;
    /// Takes a hand-off code: in one atomic statement removes it and returns
    /// it if it has not expired at `now`; `None` otherwise. A code works once
    /// across every instance.
    async fn take_handoff(
        &self,
        code_hash: &[u8; 32],
        now: UnixTime,
    ) -> Result<Option<HandoffCode>, StoreError>;
    /// Sessions revoked at or after `since`, with the time: loaded at start
    /// (and after a feed reconnects) so a restart never revives a revoked
    /// access token.
    async fn revoked_since(&self, since: UnixTime) -> Result<Vec<(Uuid, UnixTime)>, StoreError>;

    /// Deletes at most `batch` rows of each kind that nothing needs any more:
    /// sessions expired before `now` (with their retired refresh hashes and
    /// hand-off codes), sessions revoked before `revoked_before` (their
    /// access tokens have expired too), and expired e-mail tokens and
    /// hand-off codes. Returns how many rows went; the caller repeats while
    /// a batch is full. The default keeps everything.
    async fn prune(
        &self,
        now: UnixTime,
        revoked_before: UnixTime,
        batch: u32,
    ) -> Result<u64, StoreError> {
        let _ = (now, revoked_before, batch);
        Ok(0)
    }
    /// Revocations by any instance sharing this store, as they happen; `None`
    /// for a store only one process uses. Must be called inside a tokio runtime.
    fn revocation_feed(&self) -> Option<tokio::sync::mpsc::Receiver<RevocationEvent>> {
        None
    }
    /// Cheap liveness check for `/healthz`.
    async fn ping(&self) -> Result<(), StoreError>;
}
