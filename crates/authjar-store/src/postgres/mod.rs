//! PostgreSQL: the store for several instances. Same rules as SQLite, one
//! statement (or one transaction) per method; refresh rotation is one
//! `UPDATE … WHERE refresh_hash = $old`, so under PostgreSQL's row locks two
//! concurrent rotations of one token can never both win.

mod budgets;

use std::time::Duration;

use async_trait::async_trait;
use authjar_core::store::{RefreshHash, RevocationEvent, Store, StoreError};
use authjar_core::{
    Email, EmailToken, HandoffCode, RefreshMatch, Session, TokenPurpose, UnixTime, User, UserRecord,
};
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::Row;
use uuid::Uuid;

/// The PostgreSQL implementation of [`Store`].
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

/// Connection-pool settings.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    /// Most connections open at once.
    pub max_connections: u32,
    /// How long a request waits for a connection before failing (fast, with 503).
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

pub(crate) fn backend(e: sqlx::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

const SESSION_COLUMNS: &str =
    "id, user_id, created_at, last_seen_at, expires_at, rotated_at, revoked_at, user_agent, ip";

/// Serialises migrations of several instances starting at once.
const MIGRATION_LOCK: i64 = 0x6175_7468_6a61_7231; // "authjar1"

impl PgStore {
    /// Connects (lazily: a database that is down now is retried per request).
    pub fn connect(url: &str, settings: PoolSettings) -> Result<PgStore, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect_lazy(url)
            .map_err(backend)?;
        Ok(PgStore { pool })
    }

    /// Applies the migrations this binary has, under an advisory lock so two
    /// instances starting together do not race; refuses a database whose
    /// schema is newer than this binary.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
        let result = sqlx::migrate!("./migrations/postgres")
            .run(&mut *conn)
            .await
            .map_err(|e| match e {
                sqlx::migrate::MigrateError::VersionMissing(v) => StoreError::Backend(format!(
                    "the database schema (migration {v}) is newer than this authjar: upgrade authjar"
                )),
                other => StoreError::Backend(other.to_string()),
            });
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *conn)
            .await;
        result
    }

    /// The pool, for listeners and tests.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn user(row: &PgRow) -> Result<User, StoreError> {
        Self::user_at(row, "id", "created_at")
    }

    /// A user from a row whose id and creation time have these column names
    /// (a join renames them).
    fn user_at(row: &PgRow, id_col: &str, created_col: &str) -> Result<User, StoreError> {
        let email: String = row.try_get("email").map_err(backend)?;
        Ok(User {
            id: row.try_get(id_col).map_err(backend)?,
            email: Email::parse(&email)
                .map_err(|e| StoreError::Backend(format!("stored e-mail: {e}")))?,
            name: row.try_get("name").map_err(backend)?,
            created_at: row.try_get(created_col).map_err(backend)?,
            email_verified_at: row.try_get("email_verified_at").map_err(backend)?,
        })
    }

    fn session(row: &PgRow) -> Result<Session, StoreError> {
        Ok(Session {
            id: row.try_get("id").map_err(backend)?,
            user_id: row.try_get("user_id").map_err(backend)?,
            created_at: row.try_get("created_at").map_err(backend)?,
            last_seen_at: row.try_get("last_seen_at").map_err(backend)?,
            expires_at: row.try_get("expires_at").map_err(backend)?,
            rotated_at: row.try_get("rotated_at").map_err(backend)?,
            revoked_at: row.try_get("revoked_at").map_err(backend)?,
            user_agent: row.try_get("user_agent").map_err(backend)?,
            ip: row.try_get("ip").map_err(backend)?,
        })
    }
}

#[async_trait]
impl Store for PgStore {
    async fn insert_user(
        &self,
        user: &User,
        password_hash: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO users (id, email, name, password_hash, created_at, email_verified_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(user.id)
        .bind(user.email.as_str())
        .bind(&user.name)
        .bind(password_hash)
        .bind(user.created_at)
        .bind(user.email_verified_at)
        .execute(&self.pool)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::EmailTaken,
            _ => backend(e),
        })?;
        Ok(())
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<UserRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, email, name, created_at, email_verified_at, password_hash FROM users WHERE email = $1",
        )
        .bind(email.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.map(|r| {
            Ok(UserRecord {
                user: Self::user(&r)?,
                password_hash: r.try_get("password_hash").map_err(backend)?,
            })
        })
        .transpose()
    }

    async fn user_by_id(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(
            "SELECT id, email, name, created_at, email_verified_at FROM users WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.as_ref().map(Self::user).transpose()
    }

    async fn insert_session(&self, s: &Session, refresh: &RefreshHash) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (id, user_id, refresh_hash, created_at, last_seen_at, expires_at, user_agent, ip) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(s.id)
        .bind(s.user_id)
        .bind(&refresh[..])
        .bind(s.created_at)
        .bind(s.last_seen_at)
        .bind(s.expires_at)
        .bind(&s.user_agent)
        .bind(&s.ip)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn session(&self, id: Uuid) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.as_ref().map(Self::session).transpose()
    }

    async fn session_with_user(&self, id: Uuid) -> Result<Option<(Session, User)>, StoreError> {
        let row = sqlx::query(
            "SELECT s.id, s.user_id, s.created_at, s.last_seen_at, s.expires_at, s.rotated_at, s.revoked_at, s.user_agent, s.ip, u.id AS u_id, u.email, u.name, u.created_at AS u_created_at, u.email_verified_at \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.map(|r| {
            Ok((
                Self::session(&r)?,
                Self::user_at(&r, "u_id", "u_created_at")?,
            ))
        })
        .transpose()
    }

    async fn active_sessions(
        &self,
        user_id: Uuid,
        now: UnixTime,
    ) -> Result<Vec<Session>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
             ORDER BY created_at DESC, id"
        ))
        .bind(user_id)
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(Self::session).collect()
    }

    async fn session_by_refresh(
        &self,
        hash: &RefreshHash,
    ) -> Result<Option<(Session, RefreshMatch)>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS}, CASE WHEN refresh_hash = $1 THEN 0 WHEN previous_hash = $1 THEN 1 ELSE 2 END AS matched \
             FROM sessions WHERE refresh_hash = $1 OR previous_hash = $1 \
             OR id = (SELECT session_id FROM retired_refresh WHERE hash = $1) LIMIT 1"
        ))
        .bind(&hash[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let matched = match row.try_get::<i32, _>("matched").map_err(backend)? {
            0 => RefreshMatch::Current,
            1 => RefreshMatch::Previous,
            _ => RefreshMatch::Retired,
        };
        Ok(Some((Self::session(&row)?, matched)))
    }

    async fn rotate_refresh(
        &self,
        id: Uuid,
        old: &RefreshHash,
        new: &RefreshHash,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<bool, StoreError> {
        // The compare-and-swap is the one UPDATE; the hash it replaces is
        // recorded as retired by a trigger in that same statement (migration
        // 0005), only when this call won.
        let done = sqlx::query(
            "UPDATE sessions SET refresh_hash = $1, previous_hash = refresh_hash, rotated_at = $2, last_seen_at = $2, \
             expires_at = $3 WHERE id = $4 AND refresh_hash = $5 AND revoked_at IS NULL",
        )
        .bind(&new[..])
        .bind(now)
        .bind(expires_at)
        .bind(id)
        .bind(&old[..])
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn rotate_current(
        &self,
        old: &RefreshHash,
        new: &RefreshHash,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<Option<Session>, StoreError> {
        // Lookup and compare-and-swap in one UPDATE … RETURNING; the trigger
        // of migration 0005 records the replaced hash as retired.
        let row = sqlx::query(&format!(
            "UPDATE sessions SET refresh_hash = $1, previous_hash = refresh_hash, rotated_at = $2, last_seen_at = $2, \
             expires_at = $3 WHERE refresh_hash = $4 AND revoked_at IS NULL AND expires_at > $2 RETURNING {SESSION_COLUMNS}"
        ))
        .bind(&new[..])
        .bind(now)
        .bind(expires_at)
        .bind(&old[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.as_ref().map(Self::session).transpose()
    }

    async fn revoke_session(&self, id: Uuid, now: UnixTime) -> Result<bool, StoreError> {
        // The revocation and its notification to every instance in one statement.
        let rows = sqlx::query(
            "WITH r AS (UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING id) \
             SELECT id, pg_notify('authjar_revocations', id::text) FROM r",
        )
        .bind(now)
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        Ok(rows.len() == 1)
    }

    async fn identity_user(
        &self,
        provider: &str,
        subject: &str,
    ) -> Result<Option<Uuid>, StoreError> {
        let row =
            sqlx::query("SELECT user_id FROM identities WHERE provider = $1 AND subject = $2")
                .bind(provider)
                .bind(subject)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        row.map(|r| r.try_get("user_id").map_err(backend))
            .transpose()
    }

    async fn link_identity(
        &self,
        provider: &str,
        subject: &str,
        user_id: Uuid,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO identities (provider, subject, user_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
            .bind(provider)
            .bind(subject)
            .bind(user_id)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn set_email_verified(&self, user_id: Uuid, at: UnixTime) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1) WHERE id = $2",
        )
        .bind(at)
        .bind(user_id)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn set_password_hash(&self, user_id: Uuid, hash: Option<&str>) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn revoke_user_sessions(
        &self,
        user_id: Uuid,
        except: Option<Uuid>,
        now: UnixTime,
    ) -> Result<Vec<Uuid>, StoreError> {
        let rows = sqlx::query(
            "WITH r AS (UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL AND id IS DISTINCT FROM $3 RETURNING id) \
             SELECT id, pg_notify('authjar_revocations', id::text) FROM r",
        )
        .bind(now)
        .bind(user_id)
        .bind(except)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|r| r.try_get("id").map_err(backend))
            .collect()
    }

    async fn delete_user(&self, user_id: Uuid) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn unlink_identities(&self, user_id: Uuid) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM identities WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }

    async fn identities_of(&self, user_id: Uuid) -> Result<Vec<(String, String)>, StoreError> {
        sqlx::query_as("SELECT provider, subject FROM identities WHERE user_id = $1 ORDER BY provider, subject")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)
    }

    async fn insert_email_token(&self, t: &EmailToken) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO email_tokens (hash, user_id, purpose, email, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&t.hash[..])
        .bind(t.user_id)
        .bind(t.purpose.as_str())
        .bind(t.email.as_str())
        .bind(t.created_at)
        .bind(t.expires_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn use_email_token(
        &self,
        hash: &[u8; 32],
        purpose: TokenPurpose,
        now: UnixTime,
    ) -> Result<Option<EmailToken>, StoreError> {
        let row = sqlx::query(
            "UPDATE email_tokens SET used_at = $1 WHERE hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 \
             RETURNING user_id, email, created_at, expires_at",
        )
        .bind(now)
        .bind(&hash[..])
        .bind(purpose.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some(r) = row else { return Ok(None) };
        let email: String = r.try_get("email").map_err(backend)?;
        Ok(Some(EmailToken {
            hash: *hash,
            user_id: r.try_get("user_id").map_err(backend)?,
            purpose,
            email: Email::parse(&email)
                .map_err(|e| StoreError::Backend(format!("stored e-mail: {e}")))?,
            created_at: r.try_get("created_at").map_err(backend)?,
            expires_at: r.try_get("expires_at").map_err(backend)?,
        }))
    }

    async fn insert_handoff(&self, h: &HandoffCode) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM handoff_codes WHERE expires_at <= $1")
            .bind(h.expires_at - 3600)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        sqlx::query(
            "INSERT INTO handoff_codes (code_hash, challenge, session_id, refresh_hash, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&h.code_hash[..])
        .bind(&h.challenge[..])
        .bind(h.session_id)
        .bind(&h.refresh_hash[..])
        .bind(h.expires_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn take_handoff(
        &self,
        code_hash: &[u8; 32],
        now: UnixTime,
    ) -> Result<Option<HandoffCode>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM handoff_codes WHERE code_hash = $1 RETURNING challenge, session_id, refresh_hash, expires_at",
        )
        .bind(&code_hash[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some(r) = row else { return Ok(None) };
        let code = HandoffCode {
            code_hash: *code_hash,
            challenge: hash32(r.try_get("challenge").map_err(backend)?)?,
            session_id: r.try_get("session_id").map_err(backend)?,
            refresh_hash: hash32(r.try_get("refresh_hash").map_err(backend)?)?,
            expires_at: r.try_get("expires_at").map_err(backend)?,
        };
        Ok((code.expires_at > now).then_some(code))
    }

    async fn revoked_since(&self, since: UnixTime) -> Result<Vec<(Uuid, UnixTime)>, StoreError> {
        sqlx::query_as("SELECT id, revoked_at FROM sessions WHERE revoked_at >= $1")
            .bind(since)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)
    }

    fn revocation_feed(&self) -> Option<tokio::sync::mpsc::Receiver<RevocationEvent>> {
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        tokio::spawn(listen_for_revocations(self.pool.clone(), tx));
        Some(rx)
    }

    async fn prune(
        &self,
        now: UnixTime,
        revoked_before: UnixTime,
        batch: u32,
    ) -> Result<u64, StoreError> {
        // One short statement per kind, each bounded and by index, so a
        // prune never holds the database for long.
        let statements = [
            "DELETE FROM sessions WHERE id IN \
             (SELECT id FROM sessions WHERE expires_at < $1 LIMIT $3 FOR UPDATE SKIP LOCKED)",
            "DELETE FROM sessions WHERE id IN \
             (SELECT id FROM sessions WHERE revoked_at < $2 LIMIT $3 FOR UPDATE SKIP LOCKED)",
            "DELETE FROM email_tokens WHERE hash IN \
             (SELECT hash FROM email_tokens WHERE expires_at < $1 LIMIT $3 FOR UPDATE SKIP LOCKED)",
            "DELETE FROM handoff_codes WHERE code_hash IN \
             (SELECT code_hash FROM handoff_codes WHERE expires_at < $1 LIMIT $3 FOR UPDATE SKIP LOCKED)",
        ];
        let mut removed = 0;
        for sql in statements {
            removed += sqlx::query(sql)
                .bind(now)
                .bind(revoked_before)
                .bind(i64::from(batch))
                .execute(&self.pool)
                .await
                .map_err(backend)?
                .rows_affected();
        }
        Ok(removed)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

/// `LISTEN authjar_revocations` for as long as anyone receives: each
/// notification is one revoked session or one changed user. After a lost connection it
/// reconnects with backoff (1 s doubling to 5 s) and asks for a resync,
/// since notifications sent meanwhile are gone.
async fn listen_for_revocations(pool: PgPool, tx: tokio::sync::mpsc::Sender<RevocationEvent>) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "revocation feed: cannot connect; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        if let Err(e) = listener.listen("authjar_revocations").await {
            tracing::warn!(error = %e, "revocation feed: LISTEN failed; retrying");
            tokio::time::sleep(backoff).await;
            continue;
        }
        backoff = Duration::from_secs(1);
        if tx.send(RevocationEvent::Resync).await.is_err() {
            return;
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => {
                    if let Some(event) = feed_event(n.payload()) {
                        if tx.send(event).await.is_err() {
                            return;
                        }
                    }
                }
                // The connection was lost. Connect and LISTEN again before
                // the resync, so nothing falls between the reload and the
                // first notification.
                Ok(None) => {
                    tracing::warn!("revocation feed lost its connection; reconnecting");
                    if tx.send(RevocationEvent::Interrupted).await.is_err() {
                        return;
                    }
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "revocation feed lost its connection; reconnecting");
                    if tx.send(RevocationEvent::Interrupted).await.is_err() {
                        return;
                    }
                    break;
                }
            }
        }
    }
}

/// A notification's payload as an event: a session id (revoked), or
/// `user:` and a user id (the row changed, migration 0006). Anything else
/// (a newer instance's kind of event) is ignored.
fn feed_event(payload: &str) -> Option<RevocationEvent> {
    match payload.strip_prefix("user:") {
        Some(id) => Uuid::parse_str(id).ok().map(RevocationEvent::UserChanged),
        None => Uuid::parse_str(payload).ok().map(RevocationEvent::Revoked),
    }
}

fn hash32(bytes: Vec<u8>) -> Result<[u8; 32], StoreError> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Backend("a stored hash is not 32 bytes".into()))
}
