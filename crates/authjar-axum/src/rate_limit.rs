//! Brute-force limits, behind a trait: [`InMemoryLimiter`] for one
//! instance, [`SharedLimiter`] (budgets in the shared store, e.g.
//! PostgreSQL) when several instances serve one deployment.
//!
//! Two kinds of budget:
//! - **attempt** budgets ([`RateLimiter::check`]) count every request: all
//!   unsafe auth requests per client address, refreshes per client address;
//! - **failure** budgets ([`RateLimiter::failed`], [`RateLimiter::locked`])
//!   count only failed logins, per account and client, and per account.
//!   Spending one locks that key until the budget has room again; the owner
//!   of an account keeps logging in from a client that is not itself over
//!   its budget, so a stranger's wrong passwords cannot lock them out
//!   (OWASP Authentication Cheat Sheet, "Account Lockout": lockout is a
//!   denial-of-service tool; throttle the guesser instead).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use authjar_core::{Budget, SharedBudgets};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// Which budget a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// Unsafe auth requests (register, login) from one client address: every attempt.
    PerClient,
    /// Refreshes from one client address: every attempt.
    RefreshPerClient,
    /// Requests that send mail to one address (verification, password reset): every attempt.
    MailPerAddress,
    /// Failed logins for one account from one client address (key `email|client`).
    LoginFailuresPerAccountClient,
    /// Failed logins for one account from anywhere (key: the normalised e-mail).
    LoginFailuresPerAccount,
}

/// Why a limiter refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Limited {
    /// The budget is spent; it has room again after this long (429).
    Wait(Duration),
    /// The shared store holding the budgets cannot be reached (503); the
    /// cause is for the log only.
    Unavailable(String),
}

/// A rate limiter: `Err(Limited::Wait(wait))` when the budget is spent.
///
/// [`InMemoryLimiter`] keeps the budgets in this process, [`SharedLimiter`]
/// in a store every instance sees, and [`Unlimited`] has none. A limiter
/// can also wrap another, e.g. to exempt a trusted address:
///
/// ```
/// use async_trait::async_trait;
/// use authjar_axum::rate_limit::{Bucket, InMemoryLimiter, Limited, Limits, RateLimiter};
///
/// /// The office's egress address is not throttled on attempts; failures still count.
/// struct ExemptOffice {
///     inner: InMemoryLimiter,
///     office: String,
/// }
///
/// #[async_trait]
/// impl RateLimiter for ExemptOffice {
///     async fn check(&self, bucket: Bucket, key: &str) -> Result<(), Limited> {
///         if key == self.office {
///             return Ok(());
///         }
///         self.inner.check(bucket, key).await
///     }
///     async fn locked(&self, bucket: Bucket, key: &str) -> Result<(), Limited> {
///         self.inner.locked(bucket, key).await
///     }
///     async fn failed(&self, bucket: Bucket, key: &str) -> Result<(), Limited> {
///         self.inner.failed(bucket, key).await
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let limiter = ExemptOffice {
///     inner: InMemoryLimiter::new(Limits {
///         login_per_account: 5,
///         login_failures_per_account: 50,
///         per_client: 1,
///         refresh_per_client: 60,
///         mail_per_address: 5,
///     }),
///     office: "203.0.113.7".to_owned(),
/// };
/// assert!(limiter.check(Bucket::PerClient, "198.51.100.1").await.is_ok());
/// assert!(limiter.check(Bucket::PerClient, "198.51.100.1").await.is_err());
/// assert!(limiter.check(Bucket::PerClient, "203.0.113.7").await.is_ok());
/// assert!(limiter.check(Bucket::PerClient, "203.0.113.7").await.is_ok());
/// # });
/// ```
#[async_trait]
pub trait RateLimiter: Send + Sync + 'static {
    /// Takes one unit from the attempt budget `bucket` for `key`.
    async fn check(&self, bucket: Bucket, key: &str) -> Result<(), Limited>;
    /// Whether `key` is locked out of the failure budget `bucket` (no unit taken).
    async fn locked(&self, bucket: Bucket, key: &str) -> Result<(), Limited>;
    /// Records one failure against `bucket` for `key`; `Err` when this
    /// failure spent the budget, which locks the key for the wait.
    async fn failed(&self, bucket: Bucket, key: &str) -> Result<(), Limited>;
}

/// The budgets.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Failed logins per account per client per minute.
    pub login_per_account: u32,
    /// Failed logins per account per hour, from all clients together.
    pub login_failures_per_account: u32,
    /// Unsafe auth requests per client per minute.
    pub per_client: u32,
    /// Refreshes per client per minute.
    pub refresh_per_client: u32,
    /// Mail-sending requests per address per hour.
    pub mail_per_address: u32,
}

/// In-process budgets: governor's GCRA token buckets, plus the keys
/// locked out of a failure budget until it has room again.
pub struct InMemoryLimiter {
    client: DefaultKeyedRateLimiter<String>,
    refresh: DefaultKeyedRateLimiter<String>,
    mail: DefaultKeyedRateLimiter<String>,
    failures_account_client: DefaultKeyedRateLimiter<String>,
    failures_account: DefaultKeyedRateLimiter<String>,
    locks: Mutex<HashMap<(Bucket, String), Instant>>,
    checks: AtomicU64,
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl InMemoryLimiter {
    /// Buckets with the given budgets; each allows its whole period's budget as a burst.
    pub fn new(limits: Limits) -> InMemoryLimiter {
        let per_minute = |n| Quota::per_minute(nonzero(n));
        InMemoryLimiter {
            client: DefaultKeyedRateLimiter::keyed(per_minute(limits.per_client)),
            refresh: DefaultKeyedRateLimiter::keyed(per_minute(limits.refresh_per_client)),
            mail: DefaultKeyedRateLimiter::keyed(Quota::per_hour(nonzero(limits.mail_per_address))),
            failures_account_client: DefaultKeyedRateLimiter::keyed(per_minute(
                limits.login_per_account,
            )),
            failures_account: DefaultKeyedRateLimiter::keyed(Quota::per_hour(nonzero(
                limits.login_failures_per_account,
            ))),
            locks: Mutex::new(HashMap::new()),
            checks: AtomicU64::new(0),
        }
    }

    fn limiter(&self, bucket: Bucket) -> &DefaultKeyedRateLimiter<String> {
        match bucket {
            Bucket::PerClient => &self.client,
            Bucket::RefreshPerClient => &self.refresh,
            Bucket::MailPerAddress => &self.mail,
            Bucket::LoginFailuresPerAccountClient => &self.failures_account_client,
            Bucket::LoginFailuresPerAccount => &self.failures_account,
        }
    }

    /// Forgets keys whose buckets are full again and locks that ended, so memory stays bounded.
    fn prune_now_and_then(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 != 4095 {
            return;
        }
        for l in [
            &self.client,
            &self.refresh,
            &self.mail,
            &self.failures_account_client,
            &self.failures_account,
        ] {
            l.retain_recent();
            l.shrink_to_fit();
        }
        let now = Instant::now();
        if let Ok(mut locks) = self.locks.lock() {
            locks.retain(|_, until| *until > now);
        }
    }

    fn take(&self, bucket: Bucket, key: &str) -> Result<(), Duration> {
        self.prune_now_and_then();
        self.limiter(bucket)
            .check_key(&key.to_owned())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

#[async_trait]
impl RateLimiter for InMemoryLimiter {
    async fn check(&self, bucket: Bucket, key: &str) -> Result<(), Limited> {
        self.take(bucket, key).map_err(Limited::Wait)
    }

    async fn locked(&self, bucket: Bucket, key: &str) -> Result<(), Limited> {
        let locks = self
            .locks
            .lock()
            .map_err(|_| Limited::Wait(Duration::from_secs(1)))?;
        match locks.get(&(bucket, key.to_owned())) {
            Some(until) => match until.checked_duration_since(Instant::now()) {
                Some(wait) if !wait.is_zero() => Err(Limited::Wait(wait)),
                _ => Ok(()),
            },
            None => Ok(()),
        }
    }

    async fn failed(&self, bucket: Bucket, key: &str) -> Result<(), Limited> {
        self.take(bucket, key)
            .inspect_err(|wait| {
                if let Ok(mut locks) = self.locks.lock() {
                    locks.insert((bucket, key.to_owned()), Instant::now() + *wait);
                }
            })
            .map_err(Limited::Wait)
    }
}

/// Budgets in a store every instance shares ([`SharedBudgets`], e.g.
/// PostgreSQL): the same buckets and budgets as [`InMemoryLimiter`], each
/// attempt one atomic statement. Keys are namespaced by bucket.
pub struct SharedLimiter {
    budgets: std::sync::Arc<dyn SharedBudgets>,
    limits: Limits,
}

impl SharedLimiter {
    /// Budgets `limits`, kept in `budgets`.
    pub fn new(budgets: std::sync::Arc<dyn SharedBudgets>, limits: Limits) -> SharedLimiter {
        SharedLimiter { budgets, limits }
    }

    fn budget(&self, bucket: Bucket) -> (&'static str, Budget) {
        const MINUTE: Duration = Duration::from_secs(60);
        const HOUR: Duration = Duration::from_secs(3600);
        let l = &self.limits;
        let (name, limit, period) = match bucket {
            Bucket::PerClient => ("client", l.per_client, MINUTE),
            Bucket::RefreshPerClient => ("refresh", l.refresh_per_client, MINUTE),
            Bucket::MailPerAddress => ("mail", l.mail_per_address, HOUR),
            Bucket::LoginFailuresPerAccountClient => {
                ("failures_account_client", l.login_per_account, MINUTE)
            }
            Bucket::LoginFailuresPerAccount => {
                ("failures_account", l.login_failures_per_account, HOUR)
            }
        };
        (
            name,
            Budget {
                limit: limit.max(1),
                period,
            },
        )
    }
}

fn refused(answer: Result<Option<Duration>, authjar_core::StoreError>) -> Result<(), Limited> {
    match answer {
        Ok(None) => Ok(()),
        Ok(Some(wait)) => Err(Limited::Wait(wait)),
        Err(e) => Err(Limited::Unavailable(e.to_string())),
    }
}

#[async_trait]
impl RateLimiter for SharedLimiter {
    async fn check(&self, bucket: Bucket, key: &str) -> Result<(), Limited> {
        let (name, budget) = self.budget(bucket);
        refused(self.budgets.take(&format!("{name}|{key}"), budget).await)
    }

    async fn locked(&self, bucket: Bucket, key: &str) -> Result<(), Limited> {
        let (name, budget) = self.budget(bucket);
        refused(
            self.budgets
                .overdrawn(&format!("{name}|{key}"), budget)
                .await,
        )
    }

    async fn failed(&self, bucket: Bucket, key: &str) -> Result<(), Limited> {
        let (name, budget) = self.budget(bucket);
        refused(self.budgets.spend(&format!("{name}|{key}"), budget).await)
    }
}

/// No limits (`rate_limit.enabled = false`, e.g. for benchmarks).
pub struct Unlimited;

#[async_trait]
impl RateLimiter for Unlimited {
    async fn check(&self, _: Bucket, _: &str) -> Result<(), Limited> {
        Ok(())
    }
    async fn locked(&self, _: Bucket, _: &str) -> Result<(), Limited> {
        Ok(())
    }
    async fn failed(&self, _: Bucket, _: &str) -> Result<(), Limited> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter() -> InMemoryLimiter {
        InMemoryLimiter::new(Limits {
            login_per_account: 3,
            login_failures_per_account: 5,
            per_client: 100,
            refresh_per_client: 100,
            mail_per_address: 5,
        })
    }

    #[tokio::test]
    async fn a_failure_budget_locks_only_once_it_is_spent_and_only_that_key() {
        let l = limiter();
        let b = Bucket::LoginFailuresPerAccountClient;
        for _ in 0..3 {
            assert!(l.locked(b, "a|1").await.is_ok());
            assert!(l.failed(b, "a|1").await.is_ok());
        }
        assert!(
            l.locked(b, "a|1").await.is_ok(),
            "three failures spend the budget, they do not lock yet"
        );
        assert!(
            l.failed(b, "a|1").await.is_err(),
            "the fourth failure locks"
        );
        assert!(l.locked(b, "a|1").await.is_err());
        assert!(
            l.locked(b, "a|2").await.is_ok(),
            "another client is not locked"
        );
        assert!(l.locked(Bucket::LoginFailuresPerAccount, "a").await.is_ok());
    }
}
