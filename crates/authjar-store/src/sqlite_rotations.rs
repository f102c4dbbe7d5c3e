//! Refresh rotations on SQLite, applied in batches by one writer task.
//!
//! SQLite has one writer at a time. When every request ran its own rotation
//! `UPDATE` on a connection of the pool, the connections queued for the
//! write lock in SQLite's busy handler (which sleeps), every rotation paid a
//! commit of its own (WAL frames, file locks) and two thread hand-offs to
//! the driver's connection thread. Here a request hands its rotation to one
//! task, which takes every rotation waiting (up to [`MAX_BATCH`]) and
//! applies them in **one statement**:
//!
//! ```sql
//! WITH batch(b_old, b_new, b_at, b_expires) AS (VALUES (?, ?, ?, ?), …)
//! UPDATE sessions SET refresh_hash = b_new, … FROM batch
//! WHERE refresh_hash = b_old AND revoked_at IS NULL AND expires_at > b_at
//! RETURNING …, refresh_hash
//! ```
//!
//! One statement is one transaction: the whole batch commits or none of it
//! does, and a request is answered only after the commit. Each rotation is
//! the same compare-and-swap as alone (its own `now`, its own expiry); the
//! trigger of migration 0007 records each replaced hash as retired. The
//! returned rows carry the *new* hash (`RETURNING` shows the row after the
//! update), which is how each request finds its session. Two requests with
//! the same old token in one batch (two tabs) match one row; SQLite applies
//! one of them and the other finds no row, exactly as if it had lost the
//! race to a rotation before it, and is judged as a replay. Under no load a
//! batch holds one rotation, so nothing waits for a batch to fill.

use authjar_core::store::{RefreshHash, StoreError};
use authjar_core::{Session, UnixTime};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Row};
use tokio::sync::{mpsc, oneshot};

use crate::sqlite::{backend, SqliteStore};

/// The most rotations one statement applies (4 parameters each).
pub(crate) const MAX_BATCH: usize = 32;

/// A rotation waiting for the writer, and where to send its answer.
struct Job {
    old: RefreshHash,
    new: RefreshHash,
    now: UnixTime,
    expires_at: UnixTime,
    reply: oneshot::Sender<Result<Option<Session>, StoreError>>,
}

/// The handle requests use; the writer task ends when the last one is dropped.
#[derive(Debug, Clone)]
pub(crate) struct Rotations {
    jobs: mpsc::Sender<Job>,
}

impl Rotations {
    /// Starts the writer task, which opens a connection of its own with
    /// `options` (one connection, so its page cache is never made stale by
    /// its own writes landing on another connection).
    pub(crate) fn start(options: SqliteConnectOptions) -> Rotations {
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(writer(options, queue));
        Rotations { jobs }
    }

    /// Rotates the live session whose current refresh hash is `old` to
    /// `new`, returning it as updated; `None` when no live session has `old`
    /// as its current hash (nothing changed).
    pub(crate) async fn rotate(
        &self,
        old: &RefreshHash,
        new: &RefreshHash,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<Option<Session>, StoreError> {
        let stopped = || StoreError::Backend("the SQLite rotation writer stopped".into());
        let (reply, answer) = oneshot::channel();
        let job = Job {
            old: *old,
            new: *new,
            now,
            expires_at,
            reply,
        };
        self.jobs.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The statement that applies `n` rotations.
pub(crate) fn statement(n: usize) -> String {
    let values = vec!["(?, ?, ?, ?)"; n].join(", ");
    format!(
        "WITH batch(b_old, b_new, b_at, b_expires) AS (VALUES {values}) \
         UPDATE sessions SET refresh_hash = b_new, previous_hash = refresh_hash, rotated_at = b_at, \
         last_seen_at = b_at, expires_at = b_expires FROM batch \
         WHERE refresh_hash = b_old AND revoked_at IS NULL AND expires_at > b_at \
         RETURNING {}, refresh_hash",
        crate::sqlite::SESSION_COLUMNS
    )
}

async fn writer(options: SqliteConnectOptions, mut queue: mpsc::Receiver<Job>) {
    let statements: Vec<String> = (1..=MAX_BATCH).map(statement).collect();
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut connection: Option<SqliteConnection> = None;
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let sql = &statements[batch.len() - 1];
        match apply(&mut connection, &options, sql, &batch).await {
            Ok(mut rotated) => {
                for job in batch.drain(..) {
                    let session = rotated
                        .iter()
                        .position(|(new, _)| *new == job.new)
                        .map(|i| rotated.swap_remove(i).1);
                    // A request that went away no longer wants its answer.
                    let _ = job.reply.send(Ok(session));
                }
            }
            Err(e) => {
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// Runs one batch on the writer's connection (opened first if there is
/// none; dropped after a failure, so the next batch starts on a fresh one);
/// the sessions it rotated, each with its new hash.
async fn apply(
    connection: &mut Option<SqliteConnection>,
    options: &SqliteConnectOptions,
    sql: &str,
    batch: &[Job],
) -> Result<Vec<(RefreshHash, Session)>, StoreError> {
    let open = match connection {
        Some(c) => c,
        None => connection.insert(options.connect().await.map_err(backend)?),
    };
    let rotated = run(open, sql, batch).await;
    if rotated.is_err() {
        *connection = None;
    }
    rotated
}

async fn run(
    connection: &mut SqliteConnection,
    sql: &str,
    batch: &[Job],
) -> Result<Vec<(RefreshHash, Session)>, StoreError> {
    let mut query = sqlx::query(sql);
    for job in batch {
        query = query
            .bind(&job.old[..])
            .bind(&job.new[..])
            .bind(job.now)
            .bind(job.expires_at);
    }
    let rows = query.fetch_all(connection).await.map_err(backend)?;
    rows.iter()
        .map(|row| {
            let new: Vec<u8> = row.try_get("refresh_hash").map_err(backend)?;
            Ok((crate::sqlite::hash32(new)?, SqliteStore::session(row)?))
        })
        .collect()
}
