//! Brute-force limits (`rate_limit.*`).

use super::values::Reader;
use super::ConfigError;

/// Brute-force limits, per minute unless said otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Limits on at all.
    pub enabled: bool,
    /// Failed logins per account from one client address.
    pub login_per_account: u32,
    /// Failed logins per account from all addresses together, per hour.
    pub login_failures_per_account: u32,
    /// Unsafe auth requests per client address.
    pub per_client: u32,
    /// Refreshes per client address.
    pub refresh_per_client: u32,
    /// Requests that send mail to one address, per hour.
    pub mail_per_address: u32,
}

pub(super) fn rate_limits(r: &Reader<'_>) -> Result<RateLimits, ConfigError> {
    Ok(RateLimits {
        enabled: r.bool("rate_limit.enabled")?.unwrap_or(true),
        login_per_account: r.count("rate_limit.login_per_account")?.unwrap_or(10),
        login_failures_per_account: r
            .count("rate_limit.login_failures_per_account")?
            .unwrap_or(100),
        per_client: r.count("rate_limit.per_client")?.unwrap_or(60),
        refresh_per_client: r.count("rate_limit.refresh_per_client")?.unwrap_or(120),
        mail_per_address: r.count("rate_limit.mail_per_address")?.unwrap_or(5),
    })
}
