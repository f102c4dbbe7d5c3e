//! Brute-force limits, behind a trait so a shared (e.g. PostgreSQL- or
//! Redis-backed) limiter can replace the in-memory one when several
//! instances run.
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

/// A rate limiter: `Err(wait)` when the budget is spent.
///
/// [`InMemoryLimiter`] keeps the budgets in this process and [`Unlimited`]
/// has none; several instances behind one load balancer need a shared one.
/// A limiter can also wrap another, e.g. to exempt a trusted address:
///
/// ```
/// use std::time::Duration;
///
/// use authjar_axum::rate_limit::{Bucket, InMemoryLimiter, Limits, RateLimiter};
///
/// /// The office's egress address is not throttled on attempts; failures still count.
/// struct ExemptOffice {
///     inner: InMemoryLimiter,
///     office: String,
/// }
///
/// impl RateLimiter for ExemptOffice {
///     fn check(&self, bucket: Bucket, key: &str) -> Result<(), Duration> {
///         if key == self.office {
///             return Ok(());
///         }
///         self.inner.check(bucket, key)
///     }
///     fn locked(&self, bucket: Bucket, key: &str) -> Result<(), Duration> {
///         self.inner.locked(bucket, key)
///     }
///     fn failed(&self, bucket: Bucket, key: &str) -> Result<(), Duration> {
///         self.inner.failed(bucket, key)
///     }
/// }
///
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
/// assert!(limiter.check(Bucket::PerClient, "198.51.100.1").is_ok());
/// assert!(limiter.check(Bucket::PerClient, "198.51.100.1").is_err());
/// assert!(limiter.check(Bucket::PerClient, "203.0.113.7").is_ok());
/// assert!(limiter.check(Bucket::PerClient, "203.0.113.7").is_ok());
/// ```
pub trait RateLimiter: Send + Sync + 'static {
    /// Takes one unit from the attempt budget `bucket` for `key`.
    fn check(&self, bucket: Bucket, key: &str) -> Result<(), Duration>;
    /// Whether `key` is locked out of the failure budget `bucket` (no unit taken).
    fn locked(&self, bucket: Bucket, key: &str) -> Result<(), Duration>;
    /// Records one failure against `bucket` for `key`; `Err(wait)` when this
    /// failure spent the budget, which locks the key for `wait`.
    fn failed(&self, bucket: Bucket, key: &str) -> Result<(), Duration>;
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

impl RateLimiter for InMemoryLimiter {
    fn check(&self, bucket: Bucket, key: &str) -> Result<(), Duration> {
        self.take(bucket, key)
    }

    fn locked(&self, bucket: Bucket, key: &str) -> Result<(), Duration> {
        let locks = self.locks.lock().map_err(|_| Duration::from_secs(1))?;
        match locks.get(&(bucket, key.to_owned())) {
            Some(until) => match until.checked_duration_since(Instant::now()) {
                Some(wait) if !wait.is_zero() => Err(wait),
                _ => Ok(()),
            },
            None => Ok(()),
        }
    }

    fn failed(&self, bucket: Bucket, key: &str) -> Result<(), Duration> {
        self.take(bucket, key).inspect_err(|wait| {
            if let Ok(mut locks) = self.locks.lock() {
                locks.insert((bucket, key.to_owned()), Instant::now() + *wait);
            }
        })
    }
}

/// No limits (`rate_limit.enabled = false`, e.g. for benchmarks).
pub struct Unlimited;

impl RateLimiter for Unlimited {
    fn check(&self, _: Bucket, _: &str) -> Result<(), Duration> {
        Ok(())
    }
    fn locked(&self, _: Bucket, _: &str) -> Result<(), Duration> {
        Ok(())
    }
    fn failed(&self, _: Bucket, _: &str) -> Result<(), Duration> {
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

    #[test]
    fn a_failure_budget_locks_only_once_it_is_spent_and_only_that_key() {
        let l = limiter();
        let b = Bucket::LoginFailuresPerAccountClient;
        for _ in 0..3 {
            assert!(l.locked(b, "a|1").is_ok());
            assert!(l.failed(b, "a|1").is_ok());
        }
        assert!(
            l.locked(b, "a|1").is_ok(),
            "three failures spend the budget, they do not lock yet"
        );
        assert!(l.failed(b, "a|1").is_err(), "the fourth failure locks");
        assert!(l.locked(b, "a|1").is_err());
        assert!(l.locked(b, "a|2").is_ok(), "another client is not locked");
        assert!(l.locked(Bucket::LoginFailuresPerAccount, "a").is_ok());
    }
}
