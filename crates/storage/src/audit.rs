//! Audit log storage: appended in the same transaction as the change it records, chained with SM3.

use chrono::NaiveDateTime;
use sqlx::Row;
pub use xietong_audit::AuditEntry;
use xietong_audit::{ChainError, Verifier, entry_hash};

use crate::auth::SessionUser;
use crate::{Db, Result, RowExt, StoreError, ts};

/// Audit and login records are kept at least this long (等保 level 3); the database refuses to
/// delete younger ones whatever asks.
pub const RETENTION_DAYS: i64 = 180;

/// The newest date a purge at `now` may clear up to: everything of the last [`RETENTION_DAYS`] stays.
pub fn oldest_purgeable(now: NaiveDateTime) -> chrono::NaiveDate {
    now.date() - chrono::Duration::days(RETENTION_DAYS)
}

/// What a purge removed.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Purged {
    /// 清理的操作日志条数
    pub audit_entries: i64,
    /// 清理的登录日志条数
    pub logins: i64,
    /// 操作日志现从第几条开始（之前的已清理，链头保留其哈希）
    pub kept_from_seq: i64,
}

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
        let head = sqlx::query("SELECT count, purged_through, purged_hash FROM audit_head WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        let head_count = head.as_ref().map(|r| r.try_get::<i64, _>("count")).transpose()?;
        // Entries purged after their retention period: the chain resumes from the last one's hash.
        let (purged, purged_hash) = match &head {
            Some(r) => (r.i("purged_through")?, r.s("purged_hash")?),
            None => (0, String::new()),
        };
        let mut v = Verifier::resume(purged, &purged_hash);
        let mut after = purged;
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
        let rows =
            sqlx::query("SELECT * FROM audit_log ORDER BY seq DESC LIMIT $1").bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(entry).collect()
    }
}

impl Db {
    /// Purge operation-log and login-log records older than `before` (审计管理员). Refused for
    /// anything younger than [`RETENTION_DAYS`], and while the chain does not verify (evidence of
    /// tampering is never purged). The purge itself is recorded in the chain.
    pub async fn purge_logs(
        &self,
        user: &SessionUser,
        before: chrono::NaiveDate,
        now: NaiveDateTime,
    ) -> Result<Purged> {
        user.actor().may_audit()?;
        let oldest_allowed = oldest_purgeable(now);
        if before > oldest_allowed {
            return Err(StoreError::invalid(
                "清理截止日期",
                format!("日志须保留至少 {RETENTION_DAYS} 天，只能清理 {oldest_allowed} 之前的记录"),
            ));
        }
        if let Err(e) = self.verify_audit().await? {
            return Err(StoreError::invalid("操作日志", format!("哈希链校验未通过，不能清理：{e}")));
        }
        let cutoff = format!("{before} 00:00:00");
        let mut tx = self.begin().await?;
        // Lock the head first (as appenders do), then find the newest entry to purge.
        let purged_before = sqlx::query("UPDATE audit_head SET count = count WHERE id = 1 RETURNING purged_through")
            .fetch_one(&mut *tx)
            .await?
            .i("purged_through")?;
        // The oldest run of entries before the cutoff: up to the first entry at or after it, so a
        // clock set back never lets a younger entry go with older ones.
        let first_kept = sqlx::query("SELECT MIN(seq) AS s FROM audit_log WHERE at >= $1")
            .bind(cutoff.clone())
            .fetch_one(&mut *tx)
            .await?
            .oi("s")?;
        let last = match first_kept {
            Some(k) => {
                sqlx::query("SELECT seq, hash FROM audit_log WHERE seq < $1 ORDER BY seq DESC LIMIT 1")
                    .bind(k)
                    .fetch_optional(&mut *tx)
                    .await?
            }
            None => {
                sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&mut *tx)
                    .await?
            }
        };
        let (mut audit_entries, mut purged_through) = (0, purged_before);
        if let Some(r) = &last {
            let (seq, hash) = (r.i("seq")?, r.s("hash")?);
            sqlx::query("UPDATE audit_head SET purged_through = $1, purged_hash = $2 WHERE id = 1")
                .bind(seq)
                .bind(hash)
                .execute(&mut *tx)
                .await?;
            audit_entries =
                sqlx::query("DELETE FROM audit_log WHERE seq <= $1").bind(seq).execute(&mut *tx).await?.rows_affected()
                    as i64;
            purged_through = seq;
        }
        let logins =
            sqlx::query("DELETE FROM login_log WHERE at < $1").bind(cutoff).execute(&mut *tx).await?.rows_affected()
                as i64;
        // An earlier purge's mark counts when this one finds nothing more to remove.
        let kept_from_seq = purged_through + 1;
        let after = serde_json::json!({"before": before.to_string(), "audit_entries": audit_entries, "logins": logins, "kept_from_seq": kept_from_seq});
        append(
            &mut tx,
            now,
            Change {
                actor: &user.username,
                action: "audit.purge",
                entity: "audit_log",
                entity_id: before.to_string(),
                before: String::new(),
                after: after.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Purged { audit_entries, logins, kept_from_seq })
    }
}
