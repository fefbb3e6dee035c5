//! PostgreSQL: writers serialise per record by row locks (`FOR NO KEY UPDATE`, and `SKIP LOCKED`
//! for the sweep's batches); a test's connections work inside its own schema; backups are
//! pg_dump's business.

use std::path::Path;

use super::Dialect;
use crate::{Result, StoreError};

pub(crate) struct Postgres;

impl Dialect for Postgres {
    fn on_connect(&self, pg_schema: Option<&str>) -> Vec<String> {
        pg_schema.map(|s| format!("SET search_path TO {s}")).into_iter().collect()
    }

    fn migration_files(&self) -> &'static [(i64, &'static str, &'static str)] {
        &[
            (1, "init", include_str!("../../migrations/postgres/0001_init.sql")),
            (2, "open task indexes", include_str!("../../migrations/postgres/0002_open_task_indexes.sql")),
            (
                3,
                "open task category index",
                include_str!("../../migrations/postgres/0003_open_task_category_index.sql"),
            ),
            (4, "outcomes", include_str!("../../migrations/postgres/0004_outcomes.sql")),
            (5, "achievements", include_str!("../../migrations/postgres/0005_achievements.sql")),
            (6, "enterprises", include_str!("../../migrations/postgres/0006_enterprises.sql")),
            (7, "docking", include_str!("../../migrations/postgres/0007_docking.sql")),
            (8, "identity", include_str!("../../migrations/postgres/0008_identity.sql")),
            (9, "audit retention", include_str!("../../migrations/postgres/0009_audit_retention.sql")),
            (10, "id numbers", include_str!("../../migrations/postgres/0010_id_numbers.sql")),
            (11, "concurrency", include_str!("../../migrations/postgres/0011_concurrency.sql")),
            (12, "signin", include_str!("../../migrations/postgres/0012_signin.sql")),
            (13, "text", include_str!("../../migrations/postgres/0013_text.sql")),
            (15, "attachments", include_str!("../../migrations/postgres/0015_attachments.sql")),
            (16, "inbox", include_str!("../../migrations/postgres/0016_inbox.sql")),
            (17, "evidence everywhere", include_str!("../../migrations/postgres/0017_evidence_everywhere.sql")),
            (18, "reported baselines", include_str!("../../migrations/postgres/0018_reported_baselines.sql")),
            (19, "embeddings", include_str!("../../migrations/postgres/0019_embeddings.sql")),
            (20, "search changes", include_str!("../../migrations/postgres/0020_search_changes.sql")),
            (21, "more search changes", include_str!("../../migrations/postgres/0021_more_search_changes.sql")),
            (22, "outbox", include_str!("../../migrations/postgres/0022_outbox.sql")),
            (23, "calendar feeds", include_str!("../../migrations/postgres/0023_calendar_feeds.sql")),
            (24, "sign-on", include_str!("../../migrations/postgres/0024_signon.sql")),
            (25, "unit aliases", include_str!("../../migrations/postgres/0025_unit_aliases.sql")),
            (26, "indicator plans", include_str!("../../migrations/postgres/0026_indicator_plans.sql")),
            (27, "cadres", include_str!("../../migrations/postgres/0027_cadres.sql")),
            (28, "experiences", include_str!("../../migrations/postgres/0028_experiences.sql")),
        ]
    }

    /// Two server processes may start together on one PostgreSQL; the migrator's advisory lock
    /// serialises them.
    fn migration_lock(&self) -> bool {
        true
    }

    fn begin(&self) -> Option<&'static str> {
        None
    }

    /// `FOR NO KEY UPDATE` serialises writers of the row but lets other transactions insert rows
    /// that refer to it.
    fn row_lock(&self) -> &'static str {
        " FOR NO KEY UPDATE"
    }

    fn skip_locked(&self) -> &'static str {
        " FOR NO KEY UPDATE SKIP LOCKED"
    }

    fn backup(&self, _dest: &Path) -> Result<String> {
        Err(StoreError::invalid("备份", "PostgreSQL 请使用 pg_dump 备份"))
    }
}
