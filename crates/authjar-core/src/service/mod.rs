//! The auth rules, independent of HTTP and SQL: register, login, refresh
//! with rotation and reuse detection (RFC 9700 §4.14.2), logout, sessions.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::clock::{Clock, UnixTime};
use crate::email::Email;
use crate::password::{BoundedHasher, HashError, Password};
use crate::random::{self, Random};
use crate::records::{ClientMeta, RefreshMatch, Session, User};
use crate::revocation::RevokedSessions;
use crate::rows::RowCache;
use crate::store::{RefreshHash, Store, StoreError};
use crate::tokens::{AccessClaims, AccessTokens, SigningError};

mod accounts;
mod handoff;
mod linking;

pub use handoff::HANDOFF_TTL;

/// Why an auth operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Registration with an e-mail that exists.
    #[error("email taken")]
    EmailTaken,
    /// Wrong password or unknown e-mail (deliberately indistinguishable).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Refresh token unknown, expired, revoked, or reused after the grace window.
    #[error("invalid refresh token")]
    InvalidRefresh,
    /// No valid access token or session.
    #[error("unauthenticated")]
    Unauthenticated,
    /// An external login whose e-mail matches an existing account, without
    /// the provider saying the e-mail is verified: never linked.
    #[error("e-mail not verified by the provider")]
    EmailNotVerified,
    /// A session id that is not one of the user's active sessions.
    #[error("session not found")]
    SessionNotFound,
    /// An e-mail token that is unknown, used, expired, for another purpose,
    /// or sent to an address the account no longer has.
    #[error("invalid or expired token")]
    InvalidToken,
    /// The account's e-mail is not verified and the deployment requires it.
    #[error("e-mail not verified")]
    AccountNotVerified,
    /// The action needs the current password (or, without one, a recent login).
    #[error("re-authentication required")]
    ReauthenticationRequired,
    /// A provider identity already belongs to another account.
    #[error("identity linked to another account")]
    IdentityTaken,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Password hashing failed (the hashing workers stopped): a server fault.
    #[error("password hashing: {0}")]
    Hash(#[from] HashError),
    /// An access token could not be signed: a server fault.
    #[error(transparent)]
    Signing(#[from] SigningError),
}

/// An identity vouched for by an external provider (OIDC ID token or OAuth user API).
#[derive(Debug, Clone)]
pub struct ExternalIdentity {
    /// Provider id (`github`).
    pub provider: String,
    /// The provider's stable user id (`sub`).
    pub subject: String,
    /// E-mail.
    pub email: Email,
    /// Whether the provider says the e-mail is verified.
    pub email_verified: bool,
    /// Display name.
    pub name: Option<String>,
}

/// The outcome of a registration.
#[derive(Debug, Clone)]
pub enum Registration {
    /// Logged in at once (verified e-mail is not required).
    LoggedIn(Issued),
    /// Verified e-mail is required: the link is on its way, no session yet.
    VerificationSent(User),
}

/// The outcome of a login, registration or refresh.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The user.
    pub user: User,
    /// The session.
    pub session: Session,
    /// A new access token.
    pub access_token: String,
    /// A new refresh token; `None` when a just-rotated token was replayed
    /// within the grace window (the browser already holds the new one).
    pub refresh_token: Option<String>,
}

/// Tunables of the service.
#[derive(Debug, Clone, Copy)]
pub struct SessionSettings {
    /// Refresh-token lifetime (sliding), seconds.
    pub refresh_ttl: i64,
    /// Grace window for replays of a just-rotated refresh token, seconds.
    pub reuse_grace: i64,
}

/// The account lifecycle's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountSettings {
    /// An unverified account cannot log in (only ask for a new link).
    pub require_verified_email: bool,
    /// Lifetime of an e-mail verification link, seconds.
    pub verify_ttl: i64,
    /// Lifetime of a password-reset link, seconds.
    pub reset_ttl: i64,
    /// How recent a login must be to delete a password-less account, seconds.
    pub recent_login: i64,
}

impl Default for AccountSettings {
    fn default() -> Self {
        AccountSettings {
            require_verified_email: false,
            verify_ttl: 24 * 3600,
            reset_ttl: 30 * 60,
            recent_login: 10 * 60,
        }
    }
}

/// Where and how authjar sends mail.
#[derive(Clone)]
pub struct MailSetup {
    /// The queue in front of the transport.
    pub queue: crate::mail::MailQueue,
    /// The message texts and link base.
    pub messages: crate::mail::Messages,
}

/// The auth service; cheap to clone.
#[derive(Clone)]
pub struct AuthService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn Random>,
    hasher: BoundedHasher,
    tokens: AccessTokens,
    settings: SessionSettings,
    revoked: Arc<RevokedSessions>,
    rows: Arc<RowCache>,
    feed: Arc<AtomicU8>,
    accounts: AccountSettings,
    mail: Option<MailSetup>,
}

/// Whether this instance sees revocations made by other instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationFeed {
    /// The store has no feed: one instance, every revocation is local.
    Local,
    /// Following the feed, and the revoked set was reloaded since it last connected.
    Current,
    /// The feed is (re)connecting or its reload failed: revocations on other
    /// instances may be missing here until it is current again.
    Interrupted,
}

impl RevocationFeed {
    fn from_u8(v: u8) -> RevocationFeed {
        match v {
            1 => RevocationFeed::Current,
            2 => RevocationFeed::Interrupted,
            _ => RevocationFeed::Local,
        }
    }
}

/// SHA-256 of a refresh token.
pub fn refresh_hash(token: &str) -> RefreshHash {
    Sha256::digest(token.as_bytes()).into()
}

impl AuthService {
    /// A service over its parts.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        random: Arc<dyn Random>,
        hasher: BoundedHasher,
        tokens: AccessTokens,
        settings: SessionSettings,
    ) -> AuthService {
        AuthService {
            store,
            clock,
            random,
            hasher,
            tokens,
            settings,
            revoked: Arc::default(),
            rows: Arc::new(RowCache::new()),
            feed: Arc::new(AtomicU8::new(RevocationFeed::Local as u8)),
            accounts: AccountSettings::default(),
            mail: None,
        }
    }

    /// The service with these account rules and this mail setup.
    pub fn with_accounts(
        mut self,
        accounts: AccountSettings,
        mail: Option<MailSetup>,
    ) -> AuthService {
        self.accounts = accounts;
        self.mail = mail;
        self
    }

    /// The account rules.
    pub fn accounts(&self) -> &AccountSettings {
        &self.accounts
    }

    /// The mail setup, if any.
    pub fn mail(&self) -> Option<&MailSetup> {
        self.mail.as_ref()
    }

    /// The clock.
    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }

    /// The randomness source.
    pub fn random(&self) -> &dyn Random {
        self.random.as_ref()
    }

    /// The access-token issuer and verifier.
    pub fn tokens(&self) -> &AccessTokens {
        &self.tokens
    }

    /// The password hasher.
    pub fn hasher(&self) -> &BoundedHasher {
        &self.hasher
    }

    /// The store.
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// Creates an account and sends the link that verifies its e-mail. When
    /// the deployment requires verified e-mail, no session starts until the
    /// link is opened; otherwise the first session starts now.
    pub async fn register(
        &self,
        email: Email,
        password: Password,
        name: Option<String>,
        meta: ClientMeta,
        request_id: &str,
    ) -> Result<Registration, AuthError> {
        let salt = random::bytes::<16>(self.random.as_ref());
        let hash = self.hasher.hash(password, salt).await?;
        let user = User {
            id: random::uuid(self.random.as_ref()),
            email,
            name,
            created_at: self.now(),
            email_verified_at: None,
        };
        match self.store.insert_user(&user, Some(&hash)).await {
            Err(StoreError::EmailTaken) => return Err(AuthError::EmailTaken),
            other => other?,
        }
        self.send_verification(&user, request_id).await?;
        if self.accounts.require_verified_email {
            return Ok(Registration::VerificationSent(user));
        }
        Ok(Registration::LoggedIn(
            self.start_session(user, meta).await?,
        ))
    }

    /// Checks a password and starts a session. An unknown e-mail runs the
    /// same hash verification (against a dummy) and gives the same error;
    /// an unverified account, when verified e-mail is required, is refused
    /// only after its password was right.
    pub async fn login(
        &self,
        email: Email,
        password: Password,
        meta: ClientMeta,
    ) -> Result<Issued, AuthError> {
        let record = self.store.user_by_email(&email).await?;
        let phc = record.as_ref().and_then(|r| r.password_hash.clone());
        let ok = self.hasher.verify(password, phc).await?;
        match record {
            Some(r) if ok => {
                if self.accounts.require_verified_email && !r.user.email_verified() {
                    return Err(AuthError::AccountNotVerified);
                }
                self.start_session(r.user, meta).await
            }
            _ => Err(AuthError::InvalidCredentials),
        }
    }

    pub(crate) async fn start_session(
        &self,
        user: User,
        meta: ClientMeta,
    ) -> Result<Issued, AuthError> {
        let now = self.now();
        let refresh = random::token::<32>(self.random.as_ref());
        let session = Session {
            id: random::uuid(self.random.as_ref()),
            user_id: user.id,
            created_at: now,
            last_seen_at: now,
            expires_at: now + self.settings.refresh_ttl,
            rotated_at: None,
            revoked_at: None,
            user_agent: meta.user_agent,
            ip: meta.ip,
        };
        self.store
            .insert_session(&session, &refresh_hash(&refresh))
            .await?;
        self.issued(user, session, Some(refresh), now)
    }

    /// A new access token for `session`, with the refresh token to hand out (if any).
    fn issued(
        &self,
        user: User,
        session: Session,
        refresh_token: Option<String>,
        now: UnixTime,
    ) -> Result<Issued, AuthError> {
        let access_token = self.tokens.issue(
            &user.id.to_string(),
            &session.id.to_string(),
            user.email.as_str(),
            now,
        )?;
        self.rows.put_session(now, &session, now);
        Ok(Issued {
            user,
            session,
            access_token,
            refresh_token,
        })
    }

    /// Rotates a refresh token. Replaying the token a rotation just replaced
    /// (within the grace window, e.g. two tabs) returns the current session
    /// with a new access token and no new refresh token; replaying it later,
    /// or presenting any older token of the family, revokes the whole
    /// session (family).
    pub async fn refresh(&self, token: &str) -> Result<Issued, AuthError> {
        let now = self.now();
        let old = refresh_hash(token);
        // The common case in one statement: the current token of a live session.
        if let Some(issued) = self.rotate_current(&old, now).await? {
            return Ok(issued);
        }
        // Anything else (an earlier token of a family, a lost race with a
        // concurrent rotation, an unknown, revoked or expired session) is
        // judged from what the store holds now.
        let (session, matched) = self
            .store
            .session_by_refresh(&old)
            .await?
            .ok_or(AuthError::InvalidRefresh)?;
        if !session.is_active(now) {
            return Err(AuthError::InvalidRefresh);
        }
        match matched {
            RefreshMatch::Previous => self.replayed(session, now).await,
            RefreshMatch::Retired => {
                tracing::warn!(session = %session.id, "a retired refresh token was presented: session revoked");
                self.revoke(session.id, now).await?;
                Err(AuthError::InvalidRefresh)
            }
            // Current and active, yet the rotation did not match: only a
            // store that broke its contract gets here; refuse, change nothing.
            RefreshMatch::Current => Err(AuthError::InvalidRefresh),
        }
    }

    /// Rotates the live session whose current refresh hash is `old`: its
    /// new refresh token and an access token; `None` (nothing changed) when
    /// no live session has `old` as its current hash.
    async fn rotate_current(
        &self,
        old: &RefreshHash,
        now: UnixTime,
    ) -> Result<Option<Issued>, AuthError> {
        let new = random::token::<32>(self.random.as_ref());
        let expires_at = now + self.settings.refresh_ttl;
        match self
            .store
            .rotate_current(old, &refresh_hash(&new), now, expires_at)
            .await?
        {
            Some(session) => Ok(Some(self.issue_for(session, Some(new), now).await?)),
            None => Ok(None),
        }
    }

    async fn replayed(&self, session: Session, now: UnixTime) -> Result<Issued, AuthError> {
        let within_grace = session
            .rotated_at
            .is_some_and(|t| now - t <= self.settings.reuse_grace);
        if within_grace {
            return self.issue_for(session, None, now).await;
        }
        self.revoke(session.id, now).await?;
        Err(AuthError::InvalidRefresh)
    }

    async fn issue_for(
        &self,
        session: Session,
        refresh_token: Option<String>,
        now: UnixTime,
    ) -> Result<Issued, AuthError> {
        let user = self
            .user(session.user_id)
            .await?
            .ok_or(AuthError::InvalidRefresh)?;
        self.issued(user, session, refresh_token, now)
    }

    /// Whether the row caches may answer: not while the change feed is
    /// interrupted (another instance's writes could be missed).
    fn rows_usable(&self) -> bool {
        self.revocation_feed() != RevocationFeed::Interrupted
    }

    /// A user by id, from the row cache when it holds the current row.
    async fn user(&self, id: Uuid) -> Result<Option<User>, AuthError> {
        let now = self.now();
        if self.rows_usable() {
            if let Some(user) = self.rows.user(id, now) {
                return Ok(Some(user));
            }
        }
        let ticket = self.rows.ticket(id, now);
        let user = self.store.user_by_id(id).await?;
        if let Some(u) = &user {
            self.rows.put_user(ticket, u);
        }
        Ok(user)
    }

    /// Verifies an access token without touching the store: signature,
    /// issuer, expiry, and this instance's revoked-session set.
    pub fn verify_access(&self, token: &str) -> Result<AccessClaims, AuthError> {
        let now = self.now();
        let claims = self
            .tokens
            .verify(token, now)
            .map_err(|_| AuthError::Unauthenticated)?;
        let sid = Uuid::parse_str(&claims.sid).map_err(|_| AuthError::Unauthenticated)?;
        if self.revoked.contains(&sid, now) {
            return Err(AuthError::Unauthenticated);
        }
        Ok(claims)
    }

    /// The user and session behind verified claims: the session as of the
    /// token's issue and the user as it is now, from the row cache when it
    /// may answer (see `rows.rs` for why that is never staler than the
    /// check), else in one read. A revoked session answers 401 here on
    /// every instance the revocation reached.
    pub async fn current(&self, claims: &AccessClaims) -> Result<(User, Session), AuthError> {
        let unauthenticated = |_| AuthError::Unauthenticated;
        let sid = Uuid::parse_str(&claims.sid).map_err(unauthenticated)?;
        let uid = Uuid::parse_str(&claims.sub).map_err(unauthenticated)?;
        let now = self.now();
        if self.revoked.contains(&sid, now) {
            return Err(AuthError::Unauthenticated);
        }
        let cached = if self.rows_usable() {
            self.rows.session(sid, claims.iat, now)
        } else {
            None
        };
        let (session, user) = match cached.filter(|s| s.is_active(now)) {
            Some(session) => {
                let user = self.user(session.user_id).await?;
                (session, user.ok_or(AuthError::Unauthenticated)?)
            }
            None => {
                let ticket = self.rows.ticket(uid, now);
                let (session, user) = self
                    .store
                    .session_with_user(sid)
                    .await?
                    .ok_or(AuthError::Unauthenticated)?;
                if user.id == uid {
                    self.rows.put_user(ticket, &user);
                }
                if session.is_active(now) {
                    self.rows.put_session(claims.iat, &session, now);
                }
                (session, user)
            }
        };
        if !session.is_active(now) || session.user_id != uid {
            return Err(AuthError::Unauthenticated);
        }
        Ok((user, session))
    }

    /// Revokes a session: its refresh token dies in the store, its access
    /// tokens die on this instance at once.
    pub async fn revoke(&self, sid: Uuid, now: UnixTime) -> Result<(), AuthError> {
        self.store.revoke_session(sid, now).await?;
        self.revoked.insert(sid, now + self.tokens.ttl_secs(), now);
        Ok(())
    }

    /// Loads the sessions revoked within the last access-token lifetime into
    /// this instance's revoked set: after a restart (or a reconnect of the
    /// revocation feed) a revoked session's access tokens stay refused.
    pub async fn load_revocations(&self) -> Result<usize, AuthError> {
        let now = self.now();
        let ttl = self.tokens.ttl_secs();
        let revoked = self.store.revoked_since(now - ttl).await?;
        for (sid, at) in &revoked {
            self.revoked.insert(*sid, at + ttl, now);
        }
        Ok(revoked.len())
    }

    /// Follows revocations made by other instances (PostgreSQL's feed) in the
    /// background; false when the store has no feed (one process). After
    /// each (re)connection it reloads the recently revoked sessions, retrying
    /// until that works; [`AuthService::revocation_feed`] says meanwhile that
    /// the feed is interrupted.
    pub fn follow_revocations(&self) -> bool {
        let Some(mut feed) = self.store.revocation_feed() else {
            return false;
        };
        self.set_feed(RevocationFeed::Interrupted);
        let service = self.clone();
        tokio::spawn(async move {
            while let Some(event) = feed.recv().await {
                match event {
                    crate::store::RevocationEvent::Revoked(sid) => {
                        let now = service.now();
                        service
                            .revoked
                            .insert(sid, now + service.tokens.ttl_secs(), now);
                    }
                    crate::store::RevocationEvent::UserChanged(uid) => {
                        service.rows.user_changed(uid);
                    }
                    crate::store::RevocationEvent::Interrupted => {
                        service.set_feed(RevocationFeed::Interrupted);
                        service.rows.all_users_changed();
                    }
                    crate::store::RevocationEvent::Resync => {
                        service.rows.all_users_changed();
                        service.resync().await;
                    }
                }
            }
        });
        true
    }

    /// Reloads the revoked set after the feed (re)connected, retrying with
    /// backoff while the store fails.
    async fn resync(&self) {
        let mut backoff = std::time::Duration::from_millis(250);
        loop {
            match self.load_revocations().await {
                Ok(_) => return self.set_feed(RevocationFeed::Current),
                Err(e) => {
                    self.set_feed(RevocationFeed::Interrupted);
                    tracing::warn!(error = %e, "reloading revoked sessions failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(std::time::Duration::from_secs(10));
                }
            }
        }
    }

    fn set_feed(&self, state: RevocationFeed) {
        self.feed.store(state as u8, Ordering::Relaxed);
    }

    /// Whether revocations made by other instances reach this one now.
    pub fn revocation_feed(&self) -> RevocationFeed {
        RevocationFeed::from_u8(self.feed.load(Ordering::Relaxed))
    }

    /// Prunes what nothing needs any more (expired sessions, sessions revoked
    /// longer ago than an access token lives, expired e-mail tokens and
    /// hand-off codes) every `every`, in batches of 500 rows with a pause
    /// between them, so requests never wait behind a long delete. Runs until
    /// the runtime stops.
    pub fn prune_in_background(&self, every: std::time::Duration) {
        const BATCH: u32 = 500;
        let service = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                loop {
                    let now = service.now();
                    match service
                        .store
                        .prune(now, now - service.tokens.ttl_secs(), BATCH)
                        .await
                    {
                        Ok(n) if n >= u64::from(BATCH) => {
                            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        }
                        Ok(_) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "pruning expired rows failed; trying again later");
                            break;
                        }
                    }
                }
            }
        });
    }

    /// Revokes one of `user_id`'s own sessions.
    pub async fn revoke_own(&self, user_id: Uuid, sid: Uuid) -> Result<(), AuthError> {
        match self.store.session(sid).await? {
            Some(s) if s.user_id == user_id && s.is_active(self.now()) => {
                self.revoke(sid, self.now()).await
            }
            _ => Err(AuthError::SessionNotFound),
        }
    }

    /// The user's active sessions.
    pub async fn sessions(&self, user_id: Uuid) -> Result<Vec<Session>, AuthError> {
        Ok(self.store.active_sessions(user_id, self.now()).await?)
    }

    /// The session a refresh token belongs to, if it is active (for binding
    /// a CSRF token when the access token has expired).
    pub async fn session_of_refresh(&self, token: &str) -> Result<Option<Session>, AuthError> {
        let found = self.store.session_by_refresh(&refresh_hash(token)).await?;
        Ok(found.map(|(s, _)| s).filter(|s| s.is_active(self.now())))
    }
}
