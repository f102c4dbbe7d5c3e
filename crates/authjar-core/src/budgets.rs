//! Rate-limit budgets that every instance sees: the seam between the HTTP
//! layer's limiter and a store shared by several instances (PostgreSQL).
//!
//! A budget is `limit` units per `period`, all usable at once, refilled
//! evenly: the generic cell rate algorithm (GCRA), the same semantics as
//! the in-process limiter, so moving from one instance to several changes
//! where the counts live, not what they allow.

use std::time::Duration;

use async_trait::async_trait;

use crate::store::StoreError;

/// One budget: `limit` units per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Units per period (at least 1).
    pub limit: u32,
    /// The period in which `limit` units refill.
    pub period: Duration,
}

impl Budget {
    /// The time one unit takes to refill (the GCRA emission interval), in microseconds.
    pub fn interval_micros(&self) -> i64 {
        let period = i64::try_from(self.period.as_micros()).unwrap_or(i64::MAX);
        (period / i64::from(self.limit.max(1))).max(1)
    }

    /// The period in microseconds.
    pub fn period_micros(&self) -> i64 {
        i64::try_from(self.period.as_micros()).unwrap_or(i64::MAX)
    }
}

/// Budgets kept in a shared store, keyed by opaque strings (the limiter
/// namespaces them by bucket). Each call is one atomic statement, so
/// concurrent attempts on several instances can never overspend a budget.
#[async_trait]
pub trait SharedBudgets: Send + Sync + 'static {
    /// Takes one unit of `key`'s budget if it has one: `Ok(None)` when
    /// taken, `Ok(Some(wait))` when the budget is spent and has room again
    /// in `wait` (nothing is taken then).
    async fn take(&self, key: &str, budget: Budget) -> Result<Option<Duration>, StoreError>;

    /// Spends one unit whether or not the budget has it (a failure that
    /// already happened): `Ok(Some(wait))` when this spend overdrew the
    /// budget, which stays overdrawn for `wait`.
    async fn spend(&self, key: &str, budget: Budget) -> Result<Option<Duration>, StoreError>;

    /// `Some(wait)` while `key`'s budget is overdrawn (by [`SharedBudgets::spend`]).
    async fn overdrawn(&self, key: &str, budget: Budget) -> Result<Option<Duration>, StoreError>;
}
