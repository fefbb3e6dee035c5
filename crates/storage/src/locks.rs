//! How concurrent writers are kept from contradicting each other, on both backends.
//!
//! **Lock order** (every write transaction follows it, so two transactions never wait for each
//! other in a cycle):
//! 1. the business row acted on — a task, a docking, a library record, a problem — locked
//!    before it is read ([`lock_row`]); the sweep takes task rows with `SKIP LOCKED` and so never
//!    waits for a user;
//! 2. rows that belong to it (extensions, urge counters, escalations, events, notifications);
//! 3. the audit chain head, last and once ([`crate::audit::append`]), held only until commit.
//!
//! SQLite takes its single write lock at `BEGIN IMMEDIATE`, which serialises every writer; on
//! PostgreSQL the row lock does the same per record. Guarded `UPDATE`s still check their affected
//! rows, and a transaction the database aborts anyway (serialization failure, deadlock) is
//! retried a bounded number of times by [`retrying`], then answered 503 in Chinese.
//!
//! The lock clauses themselves are each backend's (`crate::backend`): empty on SQLite.

use std::future::Future;

use crate::{Backend, Result, StoreError};

/// Tables whose rows are locked by id. A closed list, because the name is put into the SQL.
#[derive(Clone, Copy, Debug)]
pub enum Locked {
    Tasks,
    Dockings,
    Problems,
    TechProblems,
    Experts,
    Achievements,
    Users,
    Inspections,
}

impl Locked {
    fn table(self) -> &'static str {
        match self {
            Self::Tasks => "tasks",
            Self::Dockings => "dockings",
            Self::Problems => "problems",
            Self::TechProblems => "tech_problems",
            Self::Experts => "experts",
            Self::Achievements => "achievements",
            Self::Users => "users",
            Self::Inspections => "inspections",
        }
    }
}

/// Lock one row for the rest of the transaction; `false` if it does not exist. On PostgreSQL `FOR
/// NO KEY UPDATE` serialises writers of the row but lets other transactions insert rows that refer to it.
pub(crate) async fn lock_row(conn: &mut sqlx::AnyConnection, table: Locked, id: i64) -> Result<bool> {
    let suffix = row_lock(conn);
    let sql = format!("SELECT id FROM {} WHERE id = $1{suffix}", table.table());
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *conn).await?.is_some())
}

/// The row-lock clause for a `SELECT` whose rows the transaction goes on to change.
pub(crate) fn row_lock(conn: &sqlx::AnyConnection) -> &'static str {
    Backend::of(conn).dialect().row_lock()
}

/// The row-lock clause for a batch that must not wait for rows other transactions hold.
pub(crate) fn skip_locked(conn: &sqlx::AnyConnection) -> &'static str {
    Backend::of(conn).dialect().skip_locked()
}

/// Run a whole transaction again when the database aborted it as retryable ([`StoreError::Busy`]),
/// at most four times in all with a short growing pause; other errors return at once.
pub async fn retrying<T, F, Fut>(mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut attempt = 0u64;
    loop {
        match op().await {
            Err(StoreError::Busy(m)) if attempt < 3 => {
                attempt += 1;
                tracing::debug!(attempt, message = %m, "retrying a transaction the database aborted");
                tokio::time::sleep(std::time::Duration::from_millis(10 * attempt + rand::random::<u64>() % 20)).await;
            }
            r => return r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    async fn failing(calls: &AtomicU32, busy_times: u32) -> Result<u32> {
        let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
        if n <= busy_times { Err(StoreError::Busy("忙".into())) } else { Ok(n) }
    }

    #[tokio::test]
    async fn a_busy_transaction_is_retried_a_bounded_number_of_times() {
        let calls = AtomicU32::new(0);
        assert_eq!(retrying(|| failing(&calls, 3)).await.unwrap(), 4, "three retries, then success");
        let calls = AtomicU32::new(0);
        assert!(matches!(retrying(|| failing(&calls, 10)).await, Err(StoreError::Busy(_))));
        assert_eq!(calls.load(Ordering::SeqCst), 4, "four attempts in all, then the 503");
        let calls = AtomicU32::new(0);
        let other = retrying(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(StoreError::Conflict("冲突".into()))
        })
        .await;
        assert!(
            matches!(other, Err(StoreError::Conflict(_))) && calls.load(Ordering::SeqCst) == 1,
            "other errors are not retried"
        );
    }
}
