//! `authjar-store`: every SQL statement authjar runs. [`SqliteStore`] is the
//! embedded default; a PostgreSQL store implements the same
//! `authjar_core::Store` trait and passes the same conformance suite.

mod sqlite;

pub use sqlite::SqliteStore;
