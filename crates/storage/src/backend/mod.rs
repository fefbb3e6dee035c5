//! What differs between the two backends, in one place. Every query is written once for sqlx's
//! `Any` driver; what cannot be — how a connection is set up, the migrations, how a write
//! transaction begins, row-lock clauses, the online backup — is a method of [`Dialect`], with one
//! implementation per backend (`sqlite.rs`, `postgres.rs`), as atuin keeps one `Database`
//! implementation per backend. A query asks the dialect rather than testing the backend itself, so
//! PostgreSQL gets its own statement where it has a better one instead of the common subset.

mod postgres;
mod sqlite;

use std::path::Path;
use std::str::FromStr;

use sqlx::migrate::{Migration, MigrationType};

use crate::Result;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The SQL this backend needs where the two differ.
    pub(crate) fn dialect(self) -> &'static dyn Dialect {
        match self {
            Backend::Sqlite => &sqlite::Sqlite,
            Backend::Postgres => &postgres::Postgres,
        }
    }

    /// The backend a connection talks to (the Any driver knows it).
    pub(crate) fn of(conn: &sqlx::AnyConnection) -> Backend {
        if conn.backend_name().eq_ignore_ascii_case("PostgreSQL") { Backend::Postgres } else { Backend::Sqlite }
    }

    /// This backend's migrations, in order.
    pub(crate) fn migrations(self) -> Vec<Migration> {
        self.dialect()
            .migration_files()
            .iter()
            .map(|(v, d, sql)| {
                Migration::new(*v, (*d).into(), MigrationType::Simple, sqlx::SqlSafeStr::into_sql_str(*sql), false)
            })
            .collect()
    }
}

/// `FromStr` for the backend name in configuration and test output.
impl FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" => Ok(Backend::Postgres),
            o => Err(format!("未知数据库类型：{o}")),
        }
    }
}

/// The statements and clauses that differ per backend.
pub(crate) trait Dialect: Send + Sync {
    /// Statements run on every new connection; `pg_schema` is the PostgreSQL schema a test works in.
    fn on_connect(&self, pg_schema: Option<&str>) -> Vec<String>;
    /// The migration files as (version, description, SQL), in order.
    fn migration_files(&self) -> &'static [(i64, &'static str, &'static str)];
    /// Whether the migrator takes its lock before migrating.
    fn migration_lock(&self) -> bool;
    /// The statement that opens a write transaction; `None` for the driver's plain `BEGIN`.
    fn begin(&self) -> Option<&'static str>;
    /// The clause after a `SELECT` that locks its rows for the rest of the transaction.
    fn row_lock(&self) -> &'static str;
    /// The same for a batch that must not wait for rows other transactions hold.
    fn skip_locked(&self) -> &'static str;
    /// The statement that writes a consistent online copy of the database to `dest`, or why there is none.
    fn backup(&self, dest: &Path) -> Result<String>;
}
