//! Audit log storage: appended in the same transaction as the change it records, chained with SM3.

use chrono::NaiveDateTime;
use sqlx::Row;
use xietong_audit::{entry_hash, AuditEntry, ChainError, Verifier};

use crate::{ts, Db, Result, RowExt};

/// One change to record: who, what, before/after (JSON text or empty).
pub struct Change<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: String,
    pub before: String,
    pub after: String,
}

/// Append an entry inside `tx`. The head row is updated first: in PostgreSQL its row lock
/// serialises concurrent appenders across processes; in SQLite the write lock is already held.
pub async fn append(tx: &mut sqlx::AnyConnection, at: NaiveDateTime, c: Change<'_>) -> Result<i64> {
    let row = sqlx::query("UPDATE audit_head SET count = count + 1 WHERE id = 1 RETURNING count, last_hash")
        .fetch_one(&mut *tx)
        .await?;
    let seq = row.i("count")?;
    let prev = row.s("last_hash")?;
    let at = ts(at);
    let hash = entry_hash(&prev, seq, &at, c.actor, c.action, c.entity, &c.entity_id, &c.before, &c.after);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, entity, entity_id, before, after, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(seq)
    .bind(at)
    .bind(c.actor.to_string())
    .bind(c.action.to_string())
    .bind(c.entity.to_string())
    .bind(c.entity_id)
    .bind(c.before)
    .bind(c.after)
    .bind(prev)
    .bind(hash.clone())
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE audit_head SET last_hash = $1 WHERE id = 1").bind(hash).execute(&mut *tx).await?;
    Ok(seq)
}

pub(crate) fn entry(r: &sqlx::any::AnyRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        seq: r.i("seq")?,
        at: r.s("at")?,
        actor: r.s("actor")?,
        action: r.s("action")?,
        entity: r.s("entity")?,
        entity_id: r.s("entity_id")?,
        before: r.s("before")?,
        after: r.s("after")?,
        prev_hash: r.s("prev_hash")?,
        hash: r.s("hash")?,
    })
}

impl Db {
    /// Verify the whole chain in pages, so a large log is not held in memory.
    /// Returns the number of entries, or the first bad entry.
    pub async fn verify_audit(&self) -> Result<std::result::Result<i64, ChainError>> {
        let head = sqlx::query("SELECT count FROM audit_head WHERE id = 1").fetch_optional(&self.pool).await?;
        let head_count = head.map(|r| r.try_get::<i64, _>("count")).transpose()?;
        let mut v = Verifier::default();
        let mut after = 0i64;
        loop {
            let rows = sqlx::query("SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 5000")
                .bind(after)
                .fetch_all(&self.pool)
                .await?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let e = entry(r)?;
                after = e.seq;
                if let Err(err) = v.push(&e) {
                    return Ok(Err(err));
                }
            }
        }
        Ok(v.finish(head_count))
    }

    /// The newest entries, for the audit page.
    pub async fn recent_audit(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query("SELECT * FROM audit_log ORDER BY seq DESC LIMIT $1").bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(entry).collect()
    }
}
