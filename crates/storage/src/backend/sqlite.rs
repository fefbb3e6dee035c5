//! SQLite: one writer at a time, its lock taken when the transaction begins, so no row locks are
//! needed; WAL and foreign keys on every connection; online backup by `VACUUM INTO`.

use std::path::Path;

use super::Dialect;
use crate::{Result, StoreError};

pub(crate) struct Sqlite;

impl Dialect for Sqlite {
    fn on_connect(&self, _pg_schema: Option<&str>) -> Vec<String> {
        [
            "PRAGMA foreign_keys = ON",
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = NORMAL",
            "PRAGMA busy_timeout = 10000",
        ]
        .map(String::from)
        .to_vec()
    }

    fn migration_files(&self) -> &'static [(i64, &'static str, &'static str)] {
        &[
            (1, "init", include_str!("../../migrations/sqlite/0001_init.sql")),
            (2, "open task indexes", include_str!("../../migrations/sqlite/0002_open_task_indexes.sql")),
            (3, "open task category index", include_str!("../../migrations/sqlite/0003_open_task_category_index.sql")),
            (4, "outcomes", include_str!("../../migrations/sqlite/0004_outcomes.sql")),
            (5, "achievements", include_str!("../../migrations/sqlite/0005_achievements.sql")),
            (6, "enterprises", include_str!("../../migrations/sqlite/0006_enterprises.sql")),
            (7, "docking", include_str!("../../migrations/sqlite/0007_docking.sql")),
            (8, "identity", include_str!("../../migrations/sqlite/0008_identity.sql")),
            (9, "audit retention", include_str!("../../migrations/sqlite/0009_audit_retention.sql")),
            (10, "id numbers", include_str!("../../migrations/sqlite/0010_id_numbers.sql")),
            (11, "concurrency", include_str!("../../migrations/sqlite/0011_concurrency.sql")),
            (12, "signin", include_str!("../../migrations/sqlite/0012_signin.sql")),
            (13, "text", include_str!("../../migrations/sqlite/0013_text.sql")),
            (15, "attachments", include_str!("../../migrations/sqlite/0015_attachments.sql")),
            (16, "inbox", include_str!("../../migrations/sqlite/0016_inbox.sql")),
            (17, "evidence everywhere", include_str!("../../migrations/sqlite/0017_evidence_everywhere.sql")),
            (18, "reported baselines", include_str!("../../migrations/sqlite/0018_reported_baselines.sql")),
            (19, "embeddings", include_str!("../../migrations/sqlite/0019_embeddings.sql")),
            (20, "search changes", include_str!("../../migrations/sqlite/0020_search_changes.sql")),
            (21, "more search changes", include_str!("../../migrations/sqlite/0021_more_search_changes.sql")),
            (22, "outbox", include_str!("../../migrations/sqlite/0022_outbox.sql")),
            (23, "calendar feeds", include_str!("../../migrations/sqlite/0023_calendar_feeds.sql")),
            (24, "sign-on", include_str!("../../migrations/sqlite/0024_signon.sql")),
            (25, "unit aliases", include_str!("../../migrations/sqlite/0025_unit_aliases.sql")),
            (26, "indicator plans", include_str!("../../migrations/sqlite/0026_indicator_plans.sql")),
            (27, "cadres", include_str!("../../migrations/sqlite/0027_cadres.sql")),
            (28, "experiences", include_str!("../../migrations/sqlite/0028_experiences.sql")),
        ]
    }

    fn migration_lock(&self) -> bool {
        false
    }

    /// The write lock up front, so two writers queue on busy_timeout instead of failing when a
    /// read lock would need upgrading.
    fn begin(&self) -> Option<&'static str> {
        Some("BEGIN IMMEDIATE")
    }

    /// Nothing: the transaction already holds the database's only write lock.
    fn row_lock(&self) -> &'static str {
        ""
    }

    fn skip_locked(&self) -> &'static str {
        ""
    }

    fn backup(&self, dest: &Path) -> Result<String> {
        if dest.exists() {
            return Err(StoreError::invalid("备份文件", format!("{} 已存在，不会覆盖", dest.display())));
        }
        let path = dest.display().to_string().replace('\'', "''");
        Ok(format!("VACUUM INTO '{path}'"))
    }
}
