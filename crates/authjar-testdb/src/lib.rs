//! `authjar-testdb`: for authjar's own tests only. A PostgreSQL database of
//! a test's own on the server at `AUTHJAR_TEST_POSTGRES` (default: the local
//! one on `127.0.0.1:5432` that `scripts/test` makes sure is running),
//! created empty and dropped at the end. No server is a failure with the
//! fix, never a skip.

#![allow(clippy::unwrap_used, clippy::expect_used)]

/// The server tests use unless `AUTHJAR_TEST_POSTGRES` names another.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database of the test's own.
pub struct PgDatabase {
    admin: sqlx::PgPool,
    name: String,
    /// Its URL, for a store or an authjar instance.
    pub url: String,
}

impl PgDatabase {
    /// Creates an empty database with a unique name; panics with the fix
    /// when no PostgreSQL answers.
    pub async fn create() -> PgDatabase {
        let admin_url =
            std::env::var("AUTHJAR_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_ADMIN_URL.into());
        let admin = sqlx::PgPool::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!("PostgreSQL is needed at {admin_url} ({e}); ./scripts/test starts one, or set AUTHJAR_TEST_POSTGRES")
        });
        let name = format!("authjar_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap();
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        PgDatabase {
            url: format!("{base}/{name}"),
            admin,
            name,
        }
    }

    /// Drops the database, closing any connection still open to it.
    pub async fn drop(self) {
        sqlx::query(&format!("DROP DATABASE {} WITH (FORCE)", self.name))
            .execute(&self.admin)
            .await
            .unwrap();
    }
}
