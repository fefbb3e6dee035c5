//! The achievements search index lives beside the database (under the data directory) and is
//! rebuilt from the database whenever it is missing or stale, so the database stays the one truth.

use std::path::{Path, PathBuf};

use sqlx::Row;
use xietong_search::{AchievementDoc, MatchIndex};

use crate::{Db, Result, RowExt, StoreError};

fn search_err(e: xietong_search::SearchError) -> StoreError {
    StoreError::internal(e.to_string())
}

/// The search document of an achievement.
pub fn doc_of(a: crate::achievements::Achievement) -> AchievementDoc {
    AchievementDoc {
        external_id: a.external_id,
        title: a.title,
        abstract_text: a.abstract_text,
        keywords: a.keywords,
        discipline: a.discipline,
        category: a.category,
        maturity: None,
        location: None,
    }
}

/// Where the index of a data directory lives.
pub fn achievements_index_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("index").join("achievements")
}

/// The index under `data_dir` when it exists and was built from the database state `stamp`.
/// File work only (no database), for a blocking thread.
pub fn open_achievements_index(data_dir: &Path, stamp: &str) -> Option<MatchIndex> {
    let dir = achievements_index_dir(data_dir);
    let stamp_file = dir.with_extension("stamp");
    if dir.exists() && std::fs::read_to_string(&stamp_file).ok().as_deref() == Some(stamp) {
        return MatchIndex::open_dir(&dir).ok();
    }
    None
}

/// Build the index under `data_dir` anew from `docs` and mark it with `stamp`. CPU and file work
/// only (no database), for a blocking thread.
pub fn build_achievements_index(data_dir: &Path, stamp: &str, docs: &[AchievementDoc]) -> Result<MatchIndex> {
    let dir = achievements_index_dir(data_dir);
    let stamp_file = dir.with_extension("stamp");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .map_err(|e| StoreError::internal(format!("无法清理检索索引 {}：{e}", dir.display())))?;
    }
    let idx = MatchIndex::create_in_dir(&dir).map_err(search_err)?;
    idx.add_all(docs).map_err(search_err)?;
    std::fs::write(&stamp_file, stamp).map_err(|e| StoreError::internal(format!("无法写入检索索引标记：{e}")))?;
    Ok(idx)
}

impl Db {
    /// Open the achievements index under `data_dir`, rebuilding it first when it is missing or its
    /// stamp differs from the database's. Returns the index and whether it was rebuilt.
    pub async fn achievements_index(&self, data_dir: &Path) -> Result<(MatchIndex, bool)> {
        let stamp = self.achievements_stamp().await?;
        if let Some(idx) = open_achievements_index(data_dir, &stamp) {
            return Ok((idx, false));
        }
        let docs: Vec<AchievementDoc> = self.published_achievements().await?.into_iter().map(doc_of).collect();
        Ok((build_achievements_index(data_dir, &stamp, &docs)?, true))
    }
}

/// One row of the `search_changes` log (migration 0020).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub seq: i64,
    /// achievement | expert | embedding | problem | enterprise
    pub kind: String,
    pub record_key: String,
}

impl Db {
    /// The highest row of the change log (0 when empty): an index built after reading it holds every
    /// change up to it.
    pub async fn search_changes_head(&self) -> Result<i64> {
        let r = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS n FROM search_changes").fetch_one(&self.pool).await?;
        r.i("n")
    }

    /// The lowest row still in the change log (None when it is empty): a node whose copy holds the
    /// changes only up to a row before it has missed pruned rows and must build its index anew.
    pub async fn search_changes_oldest(&self) -> Result<Option<i64>> {
        let r = sqlx::query("SELECT MIN(seq) AS n FROM search_changes").fetch_one(&self.pool).await?;
        Ok(r.try_get::<Option<i64>, _>("n")?)
    }

    /// Delete all but the newest `keep` rows of the change log; the number deleted. Any node may do it
    /// at any time: a node behind the rows kept rebuilds its index when it starts.
    pub async fn prune_search_changes(&self, keep: i64) -> Result<u64> {
        let r = sqlx::query(
            "DELETE FROM search_changes WHERE seq <= (SELECT COALESCE(MAX(seq), 0) FROM search_changes) - $1",
        )
        .bind(keep.max(0))
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected())
    }

    /// Rows of the change log after `after`, oldest first, at most `limit`.
    pub async fn search_changes_after(&self, after: i64, limit: i64) -> Result<Vec<Change>> {
        let rows = sqlx::query("SELECT seq, kind, record_key FROM search_changes WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(Change { seq: r.i("seq")?, kind: r.s("kind")?, record_key: r.s("record_key")? }))
            .collect()
    }

    /// The search documents of the published experts (their fields, keywords and linked achievements).
    pub async fn expert_search_docs(&self) -> Result<Vec<AchievementDoc>> {
        let experts = self.published_experts().await?;
        self.expert_docs(&experts).await
    }

    /// The search document of expert `id` (as the change log names it), if the expert is published.
    pub async fn published_expert_doc(&self, id: &str) -> Result<Option<AchievementDoc>> {
        let Ok(id) = id.parse::<i64>() else { return Ok(None) };
        let Some(x) = self.published_expert(id).await? else { return Ok(None) };
        Ok(self.expert_docs(&[x]).await?.pop())
    }

    /// The search documents of every published problem (see [`Db::match_achievement`] for who sees what).
    pub async fn problem_search_docs(&self) -> Result<Vec<AchievementDoc>> {
        Ok(self.published_problems_by(None).await?.iter().map(crate::matching::problem_doc).collect())
    }

    /// The search document of problem `id` (as the change log names it), if it is published.
    pub async fn published_problem_doc(&self, id: &str) -> Result<Option<AchievementDoc>> {
        let Ok(id) = id.parse::<i64>() else { return Ok(None) };
        Ok(self.published_problems_by(Some(id)).await?.first().map(crate::matching::problem_doc))
    }

    /// The search document of the achievement with this external id, if it is published.
    pub async fn published_achievement_doc(&self, external_id: &str) -> Result<Option<AchievementDoc>> {
        let found = self.achievements_by_external_id(&[external_id.to_string()]).await?;
        Ok(found.into_iter().find(|a| a.status == "published").map(doc_of))
    }
}
