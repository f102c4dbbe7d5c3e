//! Shared rate-limit budgets in PostgreSQL: the generic cell rate algorithm
//! in one atomic `INSERT … ON CONFLICT DO UPDATE … WHERE` per attempt, with
//! the database's clock, so every instance counts against the same budget
//! whatever their own clocks say.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use authjar_core::{Budget, SharedBudgets, StoreError};
use sqlx::postgres::PgPool;
use sqlx::Row;

use super::{backend, PgStore};

/// The database's time in microseconds since the epoch.
const NOW_US: &str = "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint";

/// Prune once every this many attempts.
const PRUNE_EVERY: u64 = 1024;
/// Rows removed by one prune, so it never holds locks for long.
const PRUNE_BATCH: i64 = 1000;

static ATTEMPTS: AtomicU64 = AtomicU64::new(0);

fn micros(us: i64) -> Duration {
    Duration::from_micros(u64::try_from(us).unwrap_or(0))
}

#[async_trait]
impl SharedBudgets for PgStore {
    async fn take(&self, key: &str, budget: Budget) -> Result<Option<Duration>, StoreError> {
        prune_now_and_then(self.pool());
        let t = budget.interval_micros();
        let period = budget.period_micros();
        // EXCLUDED.tat is now + t, so EXCLUDED.tat - t is the database's now.
        // The update happens only when the new arrival time stays within
        // one period of now: the whole budget usable at once, no more.
        let taken = sqlx::query(&format!(
            "INSERT INTO rate_limits AS r (key_hash, tat)
             SELECT sha256(convert_to($1, 'UTF8')), {NOW_US} + $2
             ON CONFLICT (key_hash) DO UPDATE
               SET tat = GREATEST(r.tat, EXCLUDED.tat - $2) + $2
               WHERE GREATEST(r.tat, EXCLUDED.tat - $2) + $2 - (EXCLUDED.tat - $2) <= $3
             RETURNING tat"
        ))
        .bind(key)
        .bind(t)
        .bind(period)
        .fetch_optional(self.pool())
        .await
        .map_err(backend)?;
        if taken.is_some() {
            return Ok(None);
        }
        // Refused: room again once now + t fits within one period.
        let ahead = ahead(self.pool(), key).await?.unwrap_or(0);
        Ok(Some(
            micros(ahead + t - period).max(Duration::from_millis(1)),
        ))
    }

    async fn spend(&self, key: &str, budget: Budget) -> Result<Option<Duration>, StoreError> {
        prune_now_and_then(self.pool());
        let t = budget.interval_micros();
        let row = sqlx::query(&format!(
            "INSERT INTO rate_limits AS r (key_hash, tat)
             SELECT sha256(convert_to($1, 'UTF8')), {NOW_US} + $2
             ON CONFLICT (key_hash) DO UPDATE
               SET tat = GREATEST(r.tat, EXCLUDED.tat - $2) + $2
             RETURNING tat - {NOW_US} AS ahead"
        ))
        .bind(key)
        .bind(t)
        .fetch_one(self.pool())
        .await
        .map_err(backend)?;
        let ahead: i64 = row.try_get("ahead").map_err(backend)?;
        Ok(over(ahead, budget))
    }

    async fn overdrawn(&self, key: &str, budget: Budget) -> Result<Option<Duration>, StoreError> {
        Ok(ahead(self.pool(), key)
            .await?
            .and_then(|ahead| over(ahead, budget)))
    }
}

/// How far past the budget an arrival time `ahead` of now is.
fn over(ahead: i64, budget: Budget) -> Option<Duration> {
    let over = ahead - budget.period_micros();
    (over > 0).then(|| micros(over))
}

/// How far ahead of the database's now `key`'s arrival time is.
async fn ahead(pool: &PgPool, key: &str) -> Result<Option<i64>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT tat - {NOW_US} AS ahead FROM rate_limits
         WHERE key_hash = sha256(convert_to($1, 'UTF8'))"
    ))
    .bind(key)
    .fetch_optional(pool)
    .await
    .map_err(backend)?;
    row.map(|r| r.try_get("ahead").map_err(backend)).transpose()
}

fn prune_now_and_then(pool: &PgPool) {
    if ATTEMPTS.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
        tokio::spawn(prune(pool.clone()));
    }
}

/// Removes up to one batch of budgets that are full again.
async fn prune(pool: PgPool) {
    let result = sqlx::query(&format!(
        "DELETE FROM rate_limits WHERE key_hash IN
           (SELECT key_hash FROM rate_limits WHERE tat < {NOW_US} LIMIT $1)"
    ))
    .bind(PRUNE_BATCH)
    .execute(&pool)
    .await;
    if let Err(e) = result {
        tracing::debug!(error = %e, "pruning rate-limit budgets failed");
    }
}
