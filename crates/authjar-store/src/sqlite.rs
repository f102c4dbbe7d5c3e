//! SQLite: one file, created on first use, WAL journal so readers never
//! wait for the writer, a busy timeout so concurrent writers queue.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use authjar_core::store::{RefreshHash, Store, StoreError};
use authjar_core::{
    Email, EmailToken, HandoffCode, RefreshMatch, Session, TokenPurpose, UnixTime, User, UserRecord,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};
use uuid::Uuid;

use crate::sqlite_rotations::Rotations;

/// The SQLite implementation of [`Store`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    instance: std::sync::Arc<crate::sqlite_sharing::InstanceLock>,
    rotations: Rotations,
}

pub(crate) fn backend(e: sqlx::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// The session columns, as a literal so statements can be `concat!`ed.
macro_rules! session_columns {
    () => {
        "id, user_id, created_at, last_seen_at, expires_at, rotated_at, revoked_at, user_agent, ip"
    };
}
/// The session columns, for statements built at run time.
pub(crate) const SESSION_COLUMNS: &str = session_columns!();

// The statements of the hot paths (login, refresh, `/auth/me`, session
// listing, start-up and pruning), named so a test can prove with `EXPLAIN
// QUERY PLAN` that each finds its rows by index, never by a scan.
const USER_BY_EMAIL: &str = "SELECT id, email, name, created_at, email_verified_at, password_hash FROM users WHERE email = ?";
const USER_BY_ID: &str =
    "SELECT id, email, name, created_at, email_verified_at FROM users WHERE id = ?";
const SESSION_BY_ID: &str = concat!("SELECT ", session_columns!(), " FROM sessions WHERE id = ?");
const SESSION_WITH_USER: &str = "SELECT s.id, s.user_id, s.created_at, s.last_seen_at, s.expires_at, s.rotated_at, s.revoked_at, s.user_agent, s.ip, \
     u.id AS u_id, u.email, u.name, u.created_at AS u_created_at, u.email_verified_at \
     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?";
const ACTIVE_SESSIONS: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at DESC, id"
);
const SESSION_BY_REFRESH: &str = concat!(
    "SELECT ",
    session_columns!(),
    ", CASE WHEN refresh_hash = ?1 THEN 0 WHEN previous_hash = ?1 THEN 1 ELSE 2 END AS matched \
     FROM sessions WHERE refresh_hash = ?1 OR previous_hash = ?1 \
     OR id = (SELECT session_id FROM retired_refresh WHERE hash = ?1) LIMIT 1"
);
const ROTATE: &str = "UPDATE sessions SET refresh_hash = ?, previous_hash = refresh_hash, rotated_at = ?, last_seen_at = ?, \
     expires_at = ? WHERE id = ? AND refresh_hash = ? AND revoked_at IS NULL";
const REVOKED_SINCE: &str = "SELECT id, revoked_at FROM sessions WHERE revoked_at >= ?";
/// One short statement per kind, each bounded and by index, so a prune
/// never holds the database for long (?1 now, ?2 revoked before, ?3 batch).
const PRUNE: [&str; 4] = [
    "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at < ?1 LIMIT ?3)",
    "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE revoked_at < ?2 LIMIT ?3)",
    "DELETE FROM email_tokens WHERE hash IN (SELECT hash FROM email_tokens WHERE expires_at < ?1 LIMIT ?3)",
    "DELETE FROM handoff_codes WHERE code_hash IN (SELECT code_hash FROM handoff_codes WHERE expires_at < ?1 LIMIT ?3)",
];

/// WAL pages after which a commit checkpoints: 32 MiB of 4 KiB pages
/// rather than SQLite's 1,000. A refresh rotation dirties the same hot index
/// pages again and again, and a checkpoint writes each page back (and
/// `fsync`s) once however often it changed, so fewer checkpoints write less.
/// The WAL file is rewritten from its start after each checkpoint, not grown.
const CHECKPOINT_PAGES: u32 = 8000;

impl SqliteStore {
    /// Opens (creating if missing) the database file and runs migrations.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(backend)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(15))
            .pragma("wal_autocheckpoint", CHECKPOINT_PAGES.to_string());
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone())
            .await
            .map_err(backend)?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(SqliteStore {
            rotations: Rotations::start(options),
            pool,
            instance: std::sync::Arc::new(crate::sqlite_sharing::claim(path)),
        })
    }

    /// Why this file may be used by more than one instance (another process
    /// has it open, or it is on a network filesystem), in plain words for
    /// the start-up banner; empty when it is not.
    pub fn sharing_warnings(&self) -> &[String] {
        &self.instance.warnings
    }

    fn user(row: &SqliteRow) -> Result<User, StoreError> {
        Self::user_at(row, "id", "created_at")
    }

    /// A user from a row whose id and creation time have these column names
    /// (a join renames them).
    fn user_at(row: &SqliteRow, id_col: &str, created_col: &str) -> Result<User, StoreError> {
        let id: String = row.try_get(id_col).map_err(backend)?;
        let email: String = row.try_get("email").map_err(backend)?;
        Ok(User {
            id: parse_uuid(&id)?,
            email: Email::parse(&email)
                .map_err(|e| StoreError::Backend(format!("stored e-mail: {e}")))?,
            name: row.try_get("name").map_err(backend)?,
            created_at: row.try_get(created_col).map_err(backend)?,
            email_verified_at: row.try_get("email_verified_at").map_err(backend)?,
        })
    }

    pub(crate) fn session(row: &SqliteRow) -> Result<Session, StoreError> {
        let id: String = row.try_get("id").map_err(backend)?;
        let user_id: String = row.try_get("user_id").map_err(backend)?;
        Ok(Session {
            id: parse_uuid(&id)?,
            user_id: parse_uuid(&user_id)?,
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

fn parse_uuid(s: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(s).map_err(|e| StoreError::Backend(format!("stored id: {e}")))
}

#[async_trait]
impl Store for SqliteStore {
    async fn insert_user(
        &self,
        user: &User,
        password_hash: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO users (id, email, name, password_hash, created_at, email_verified_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(user.id.to_string())
        .bind(user.email.as_str())
        .bind(&user.name)
        .bind(password_hash)
        .bind(user.created_at)
        .bind(user.email_verified_at)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::EmailTaken
            } else {
                backend(e)
            }
        })?;
        Ok(())
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<UserRecord>, StoreError> {
        let row = sqlx::query(USER_BY_EMAIL)
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
        let row = sqlx::query(USER_BY_ID)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(Self::user).transpose()
    }

    async fn insert_session(&self, s: &Session, refresh: &RefreshHash) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (id, user_id, refresh_hash, created_at, last_seen_at, expires_at, user_agent, ip) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(s.id.to_string())
        .bind(s.user_id.to_string())
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
        let row = sqlx::query(SESSION_BY_ID)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(Self::session).transpose()
    }

    async fn session_with_user(&self, id: Uuid) -> Result<Option<(Session, User)>, StoreError> {
        let row = sqlx::query(SESSION_WITH_USER)
            .bind(id.to_string())
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
        let rows = sqlx::query(ACTIVE_SESSIONS)
            .bind(user_id.to_string())
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
        let row = sqlx::query(SESSION_BY_REFRESH)
            .bind(&hash[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let matched = match row.try_get::<i64, _>("matched").map_err(backend)? {
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
        // 0007), only when this call won.
        let done = sqlx::query(ROTATE)
            .bind(&new[..])
            .bind(now)
            .bind(now)
            .bind(expires_at)
            .bind(id.to_string())
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
        // Lookup and compare-and-swap in one UPDATE … RETURNING, batched
        // with the rotations of concurrent requests (`sqlite_rotations.rs`).
        self.rotations.rotate(old, new, now, expires_at).await
    }

    async fn revoke_session(&self, id: Uuid, now: UnixTime) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
                .bind(now)
                .bind(id.to_string())
                .execute(&self.pool)
                .await
                .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn identity_user(
        &self,
        provider: &str,
        subject: &str,
    ) -> Result<Option<Uuid>, StoreError> {
        let row = sqlx::query("SELECT user_id FROM identities WHERE provider = ? AND subject = ?")
            .bind(provider)
            .bind(subject)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.map(|r| {
            r.try_get::<String, _>("user_id")
                .map_err(backend)
                .and_then(|s| parse_uuid(&s))
        })
        .transpose()
    }

    async fn link_identity(
        &self,
        provider: &str,
        subject: &str,
        user_id: Uuid,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO identities (provider, subject, user_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")
            .bind(provider)
            .bind(subject)
            .bind(user_id.to_string())
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn set_email_verified(&self, user_id: Uuid, at: UnixTime) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE users SET email_verified_at = COALESCE(email_verified_at, ?) WHERE id = ?",
        )
        .bind(at)
        .bind(user_id.to_string())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn set_password_hash(&self, user_id: Uuid, hash: Option<&str>) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
            .bind(hash)
            .bind(user_id.to_string())
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
            "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND id IS NOT ? RETURNING id",
        )
        .bind(now)
        .bind(user_id.to_string())
        .bind(except.map(|e| e.to_string()))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|r| {
                r.try_get::<String, _>("id")
                    .map_err(backend)
                    .and_then(|s| parse_uuid(&s))
            })
            .collect()
    }

    async fn delete_user(&self, user_id: Uuid) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM users WHERE id = ?")
            .bind(user_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn unlink_identities(&self, user_id: Uuid) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM identities WHERE user_id = ?")
            .bind(user_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }

    async fn identities_of(&self, user_id: Uuid) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT provider, subject FROM identities WHERE user_id = ? ORDER BY provider, subject",
        )
        .bind(user_id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("provider").map_err(backend)?,
                    r.try_get("subject").map_err(backend)?,
                ))
            })
            .collect()
    }

    async fn insert_email_token(&self, t: &EmailToken) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO email_tokens (hash, user_id, purpose, email, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&t.hash[..])
        .bind(t.user_id.to_string())
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
            "UPDATE email_tokens SET used_at = ?1 WHERE hash = ?2 AND purpose = ?3 AND used_at IS NULL AND expires_at > ?1 \
             RETURNING user_id, email, created_at, expires_at",
        )
        .bind(now)
        .bind(&hash[..])
        .bind(purpose.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some(r) = row else { return Ok(None) };
        let user_id: String = r.try_get("user_id").map_err(backend)?;
        let email: String = r.try_get("email").map_err(backend)?;
        Ok(Some(EmailToken {
            hash: *hash,
            user_id: parse_uuid(&user_id)?,
            purpose,
            email: Email::parse(&email)
                .map_err(|e| StoreError::Backend(format!("stored e-mail: {e}")))?,
            created_at: r.try_get("created_at").map_err(backend)?,
            expires_at: r.try_get("expires_at").map_err(backend)?,
        }))
    }

    async fn insert_handoff(&self, h: &HandoffCode) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query("DELETE FROM handoff_codes WHERE expires_at <= ?")
            .bind(h.expires_at - 3600)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query(
            "INSERT INTO handoff_codes (code_hash, challenge, session_id, refresh_hash, expires_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&h.code_hash[..])
        .bind(&h.challenge[..])
        .bind(h.session_id.to_string())
        .bind(&h.refresh_hash[..])
        .bind(h.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn take_handoff(
        &self,
        code_hash: &[u8; 32],
        now: UnixTime,
    ) -> Result<Option<HandoffCode>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM handoff_codes WHERE code_hash = ? RETURNING challenge, session_id, refresh_hash, expires_at",
        )
        .bind(&code_hash[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some(r) = row else { return Ok(None) };
        let session_id: String = r.try_get("session_id").map_err(backend)?;
        let code = HandoffCode {
            code_hash: *code_hash,
            challenge: hash32(r.try_get("challenge").map_err(backend)?)?,
            session_id: parse_uuid(&session_id)?,
            refresh_hash: hash32(r.try_get("refresh_hash").map_err(backend)?)?,
            expires_at: r.try_get("expires_at").map_err(backend)?,
        };
        Ok((code.expires_at > now).then_some(code))
    }

    async fn revoked_since(&self, since: UnixTime) -> Result<Vec<(Uuid, UnixTime)>, StoreError> {
        let rows = sqlx::query(REVOKED_SINCE)
            .bind(since)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id").map_err(backend)?;
                Ok((parse_uuid(&id)?, r.try_get("revoked_at").map_err(backend)?))
            })
            .collect()
    }

    async fn prune(
        &self,
        now: UnixTime,
        revoked_before: UnixTime,
        batch: u32,
    ) -> Result<u64, StoreError> {
        let mut removed = 0;
        for sql in PRUNE {
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

pub(crate) fn hash32(bytes: Vec<u8>) -> Result<[u8; 32], StoreError> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Backend("a stored hash is not 32 bytes".into()))
}

#[cfg(test)]
mod plans {
    use super::*;

    /// Every hot statement finds its rows through an index: with a million
    /// sessions it costs what it costs with a thousand. `EXPLAIN QUERY PLAN`
    /// says `SCAN t` for a full scan of `t`, and `SEARCH t USING …` for an
    /// index lookup.
    #[tokio::test]
    async fn hot_statements_search_by_index_never_scan() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("plans.db"))
            .await
            .unwrap();
        let batches = [
            crate::sqlite_rotations::statement(1),
            crate::sqlite_rotations::statement(crate::sqlite_rotations::MAX_BATCH),
        ];
        let mut statements = vec![
            USER_BY_EMAIL,
            USER_BY_ID,
            SESSION_BY_ID,
            SESSION_WITH_USER,
            ACTIVE_SESSIONS,
            SESSION_BY_REFRESH,
            ROTATE,
            REVOKED_SINCE,
        ];
        statements.extend(PRUNE);
        statements.extend(batches.iter().map(String::as_str));
        for sql in statements {
            let rows = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
                .fetch_all(&store.pool)
                .await
                .unwrap();
            let plan: Vec<String> = rows
                .iter()
                .map(|r| r.try_get::<String, _>("detail").unwrap())
                .collect();
            assert!(!plan.is_empty(), "{sql}");
            for step in &plan {
                // A rotation batch reads its own few rows (`VALUES`), then
                // each session by index: those scans are of the batch.
                let of_the_batch = step == "SCAN batch" || step.contains("CONSTANT ROW");
                assert!(
                    !step.starts_with("SCAN ") || of_the_batch,
                    "a full scan ({step}) in {sql}:\n{}",
                    plan.join("\n")
                );
            }
        }
    }
}
