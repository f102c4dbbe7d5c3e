//! `authjar-store`: every SQL statement authjar runs. [`SqliteStore`] is the
//! embedded default; [`PgStore`] (PostgreSQL) is the store for several
//! instances. Both implement `authjar_core::Store` and pass the same
//! conformance suite.

mod postgres;
mod sqlite;
mod sqlite_rotations;
mod sqlite_sharing;

pub use postgres::{PgStore, PoolSettings};
pub use sqlite::SqliteStore;
