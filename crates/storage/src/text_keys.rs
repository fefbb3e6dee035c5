//! The comparison keys of 文号 (migration 0013): given to rows written before the migration, or by
//! a bulk load that skips them, when the database is opened.

use sqlx::AssertSqlSafe;
use xietong_supervision::text::doc_no_key;

use crate::{Db, Result, RowExt, StoreError};

/// Rows per transaction: a million-task database is keyed in a minute or so, once.
const BATCH: i64 = 1_000;

impl Db {
    pub(crate) async fn backfill_doc_no_keys(&self) -> Result<()> {
        for table in ["tasks", "notices"] {
            // Two servers starting together may key the same rows; a batch that loses that race
            // is simply read again.
            let mut conflicts = 0;
            loop {
                match self.key_batch(table).await {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(StoreError::Invalid(_) | StoreError::Busy(_)) if conflicts < 5 => conflicts += 1,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// Key up to [`BATCH`] rows of `table`; how many were keyed.
    async fn key_batch(&self, table: &str) -> Result<usize> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT id, doc_no FROM {table} WHERE doc_no_key IS NULL ORDER BY id LIMIT {BATCH}"
        )))
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        for r in &rows {
            let (id, doc) = (r.i("id")?, r.s("doc_no")?);
            let mut key = doc_no_key(&doc);
            let taken =
                sqlx::query(AssertSqlSafe(format!("SELECT id FROM {table} WHERE doc_no_key = $1 AND id <> $2")))
                    .bind(key.clone())
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(other) = taken {
                // Look-alikes stored before the rule: both stay, apart, and the operator is told.
                tracing::warn!(table, id, other = other.i("id")?, doc_no = %doc, "文号 is a look-alike of an earlier one");
                key = format!("{key}#{id}");
            }
            sqlx::query(AssertSqlSafe(format!(
                "UPDATE {table} SET doc_no_key = $1 WHERE id = $2 AND doc_no_key IS NULL"
            )))
            .bind(key)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }
}
