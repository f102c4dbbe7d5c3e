//! `database_url` and the connection pool (`database.*`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::values::Reader;
use super::ConfigError;

/// Where the database lives.
#[derive(Debug, Clone)]
pub enum DatabaseUrl {
    /// An SQLite file (created if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL connection string (secret: it may hold a password).
    Postgres(SecretString),
}

impl DatabaseUrl {
    pub(super) fn parse(s: &str, dir: &Path) -> Option<DatabaseUrl> {
        if let Some(rest) = s.strip_prefix("sqlite://") {
            let path = rest.split('?').next().unwrap_or(rest);
            if path.is_empty() {
                return None;
            }
            let p = Path::new(path);
            return Some(DatabaseUrl::Sqlite(if p.is_absolute() {
                p.to_owned()
            } else {
                dir.join(p)
            }));
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Some(DatabaseUrl::Postgres(SecretString::from(s.to_owned())));
        }
        None
    }

    /// A description safe to print (no password).
    pub fn describe(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(p) => format!(
                "SQLite file {} (one instance: revoked sessions and rate limits kept in this process)",
                p.display()
            ),
            DatabaseUrl::Postgres(s) => {
                let host = url::Url::parse(s.expose_secret())
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .unwrap_or_default();
                format!("PostgreSQL on {host} (sessions, revocations, rate limits and hand-off codes shared by every instance)")
            }
        }
    }
}

/// The PostgreSQL pool (`database.max_connections`, `database.acquire_timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    /// Most connections per instance (default 16).
    pub max_connections: u32,
    /// How long a request waits for a connection before answering 503 (default 3 s).
    pub acquire_timeout: Duration,
}

pub(super) fn pool(r: &Reader<'_>) -> Result<PoolConfig, ConfigError> {
    Ok(PoolConfig {
        max_connections: r.count("database.max_connections")?.unwrap_or(16),
        acquire_timeout: r
            .duration(
                "database.acquire_timeout",
                Duration::from_millis(100),
                Duration::from_secs(60),
            )?
            .unwrap_or(Duration::from_secs(3)),
    })
}
