//! Brute-force limits: token buckets per account and per client address,
//! behind a trait so a shared (e.g. PostgreSQL- or Redis-backed) limiter can
//! replace the in-memory one when several instances run.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// Which budget a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Login attempts for one account (keyed by normalised e-mail).
    LoginPerAccount,
    /// Unsafe auth requests (register, login) from one client address.
    PerClient,
    /// Refreshes from one client address.
    RefreshPerClient,
}

/// A rate limiter: `Err(wait)` when the budget is spent.
pub trait RateLimiter: Send + Sync + 'static {
    /// Takes one unit from `bucket` for `key`.
    fn check(&self, bucket: Bucket, key: &str) -> Result<(), Duration>;
}

/// Per-minute budgets.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Logins per account per minute.
    pub login_per_account: u32,
    /// Unsafe auth requests per client per minute.
    pub per_client: u32,
    /// Refreshes per client per minute.
    pub refresh_per_client: u32,
}

/// In-process token buckets (governor's GCRA).
pub struct InMemoryLimiter {
    login: DefaultKeyedRateLimiter<String>,
    client: DefaultKeyedRateLimiter<String>,
    refresh: DefaultKeyedRateLimiter<String>,
    checks: AtomicU64,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

impl InMemoryLimiter {
    /// Buckets with the given budgets; each allows its whole minute's budget as a burst.
    pub fn new(limits: Limits) -> InMemoryLimiter {
        InMemoryLimiter {
            login: DefaultKeyedRateLimiter::keyed(per_minute(limits.login_per_account)),
            client: DefaultKeyedRateLimiter::keyed(per_minute(limits.per_client)),
            refresh: DefaultKeyedRateLimiter::keyed(per_minute(limits.refresh_per_client)),
            checks: AtomicU64::new(0),
        }
    }

    /// Forgets keys whose buckets are full again, so memory stays bounded.
    fn prune(&self) {
        for l in [&self.login, &self.client, &self.refresh] {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

impl RateLimiter for InMemoryLimiter {
    fn check(&self, bucket: Bucket, key: &str) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.prune();
        }
        let limiter = match bucket {
            Bucket::LoginPerAccount => &self.login,
            Bucket::PerClient => &self.client,
            Bucket::RefreshPerClient => &self.refresh,
        };
        limiter
            .check_key(&key.to_owned())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// No limits (`rate_limit.enabled = false`, e.g. for benchmarks).
pub struct Unlimited;

impl RateLimiter for Unlimited {
    fn check(&self, _: Bucket, _: &str) -> Result<(), Duration> {
        Ok(())
    }
}
