//! This node's achievements index and sentence vectors, kept current from the database's change log
//! (`search_changes`, written by trigger in the same transaction as every write): built once (at
//! start, or from the copy this node left on disk), then each change applied as it appears — no full
//! rebuild in normal operation, however many nodes serve one database.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use xietong_search::MatchIndex;
use xietong_search::follow::Cursor;
use xietong_search::hybrid::Vectors;
use xietong_storage::StoreError;
use xietong_storage::embeddings::Kind;
use xietong_storage::search_index::Change;

use crate::AppState;
use crate::semantic::model_id;

/// Change rows read at a time.
const PAGE: i64 = 2000;
/// The change log keeps its newest rows (a day of a large import), cut every this many follows.
const KEEP_CHANGES: i64 = 1_000_000;
const PRUNE_EVERY: u64 = 3600;

pub struct Live {
    pub index: Arc<MatchIndex>,
    /// The published experts' documents, in memory (a district has hundreds, not hundreds of thousands).
    pub experts_index: Arc<MatchIndex>,
    /// Every published problem's document, in memory: matched against an achievement or an expert,
    /// the hits a user may not read are dropped.
    pub problems_index: Arc<MatchIndex>,
    /// Vectors of the published achievements and experts under this node's model (empty without one).
    pub achievements: tokio::sync::RwLock<Vectors>,
    pub experts: tokio::sync::RwLock<Vectors>,
    cursor: std::sync::Mutex<Cursor>,
    /// Where the index lives on disk, if it does (the cursor is saved beside it).
    dir: Option<PathBuf>,
}

/// Milliseconds on a monotonic clock, for the cursor's gap patience.
fn now_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64
}

fn index_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("index").join("achievements-live")
}

fn cursor_file(dir: &Path) -> PathBuf {
    dir.with_extension("seq")
}

fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::internal(e.to_string())
}

/// Build the index of `data_dir` anew from `docs` (every change up to `head` in them), telling
/// `progress` (documents added, all) as it goes: `xietong reindex`, with the server stopped.
pub fn rebuild_on_disk(
    data_dir: &Path,
    head: i64,
    docs: &[xietong_search::AchievementDoc],
    mut progress: impl FnMut(usize, usize),
) -> Result<(), StoreError> {
    let d = index_dir(data_dir);
    let _ = std::fs::remove_file(cursor_file(&d));
    let idx = MatchIndex::create_in_dir(&d).map_err(|e| match e {
        xietong_search::SearchError::Index(m) if m.contains("LockBusy") || m.contains("lock") => {
            StoreError::Conflict(format!("检索索引 {} 正被运行中的服务器使用：请先停止服务器再重建", d.display()))
        }
        other => internal(other),
    })?;
    for (i, chunk) in docs.chunks(1000).enumerate() {
        for doc in chunk {
            idx.add(doc).map_err(internal)?;
        }
        progress((i * 1000 + chunk.len()).min(docs.len()), docs.len());
    }
    idx.commit().map_err(internal)?;
    idx.close_writer().map_err(internal)?;
    std::fs::write(cursor_file(&d), head.to_string()).map_err(internal)?;
    Ok(())
}

impl AppState {
    /// The achievements index (see [`AppState::live`]).
    pub async fn achievements_index(&self) -> Result<Arc<MatchIndex>, StoreError> {
        Ok(self.live().await?.index.clone())
    }

    /// This node's index and vectors with every change of the log applied: built on first use (from
    /// the copy on disk when this node left one), then followed.
    pub async fn live(&self) -> Result<Arc<Live>, StoreError> {
        let mut slot = self.live.lock().await;
        let live = match slot.as_ref() {
            Some(l) => l.clone(),
            None => {
                let l = Arc::new(self.build_live().await?);
                *slot = Some(l.clone());
                l
            }
        };
        self.follow(&live).await?;
        Ok(live)
    }

    async fn build_live(&self) -> Result<Live, StoreError> {
        let t0 = Instant::now();
        let dir = self.index_dir.as_deref().map(index_dir);
        // The copy this node left, with the last change it holds.
        let oldest = self.db.search_changes_oldest().await?;
        let saved = dir.clone().and_then(|d| {
            let through = std::fs::read_to_string(cursor_file(&d)).ok()?.trim().parse::<i64>().ok()?;
            // Rows it never applied may have been pruned since: then it is built anew.
            if oldest.is_some_and(|o| through < o - 1) {
                return None;
            }
            Some((MatchIndex::open_dir(&d).ok()?, through))
        });
        let (index, through, rebuilt) = match saved {
            Some((idx, through)) => (idx, through, false),
            None => {
                // The head first: a change after it is applied again later, which is harmless.
                let head = self.db.search_changes_head().await?;
                let docs: Vec<_> = self
                    .db
                    .published_achievements()
                    .await?
                    .into_iter()
                    .map(xietong_storage::search_index::doc_of)
                    .collect();
                let d = dir.clone();
                let idx = self
                    .heavy(move || match d {
                        Some(d) => {
                            let _ = std::fs::remove_file(cursor_file(&d));
                            let idx = MatchIndex::build_in_dir(&d, &docs).map_err(internal)?;
                            std::fs::write(cursor_file(&d), head.to_string()).map_err(internal)?;
                            Ok(idx)
                        }
                        None => MatchIndex::build_in_ram(&docs).map_err(internal),
                    })
                    .await?;
                (idx, head, true)
            }
        };
        let expert_docs = self.db.expert_search_docs().await?;
        let problem_docs = self.db.problem_search_docs().await?;
        let (experts_index, problems_index) = self
            .heavy(move || {
                let experts = MatchIndex::build_in_ram(&expert_docs).map_err(internal)?;
                Ok((experts, MatchIndex::build_in_ram(&problem_docs).map_err(internal)?))
            })
            .await?;
        let (mut achievements, mut experts) = (Vectors::default(), Vectors::default());
        if let Some(e) = self.semantic.model() {
            let id = model_id(e);
            achievements = self.db.load_vectors(Kind::Achievement, &id, e.dim()).await?;
            experts = self.db.load_vectors(Kind::Expert, &id, e.dim()).await?;
        }
        tracing::info!(
            documents = index.num_docs(),
            experts = experts_index.num_docs(),
            problems = problems_index.num_docs(),
            vectors = achievements.len(),
            through,
            rebuilt,
            ms = t0.elapsed().as_millis() as u64,
            "achievements index ready"
        );
        Ok(Live {
            index: Arc::new(index),
            experts_index: Arc::new(experts_index),
            problems_index: Arc::new(problems_index),
            achievements: tokio::sync::RwLock::new(achievements),
            experts: tokio::sync::RwLock::new(experts),
            cursor: std::sync::Mutex::new(Cursor::at(through)),
            dir,
        })
    }

    /// Apply the rows of the change log this node has not applied yet.
    async fn follow(&self, live: &Live) -> Result<(), StoreError> {
        loop {
            let after = live.cursor.lock().unwrap_or_else(|e| e.into_inner()).read_after();
            let rows = self.db.search_changes_after(after, PAGE).await?;
            let fresh: Vec<Change> = {
                let c = live.cursor.lock().unwrap_or_else(|e| e.into_inner());
                rows.iter().filter(|r| c.is_new(r.seq)).cloned().collect()
            };
            let mut touched = Touched::default();
            for c in &fresh {
                let t = self.apply(live, c).await?;
                touched.achievements |= t.achievements;
                touched.experts |= t.experts;
                touched.problems |= t.problems;
            }
            let indexes = [
                (touched.achievements, &live.index),
                (touched.experts, &live.experts_index),
                (touched.problems, &live.problems_index),
            ];
            for (written, index) in indexes {
                if written {
                    let index = index.clone();
                    self.heavy(move || index.commit().map_err(internal)).await?;
                }
            }
            let through = {
                let mut c = live.cursor.lock().unwrap_or_else(|e| e.into_inner());
                c.applied(fresh.iter().map(|r| r.seq), now_ms());
                c.through()
            };
            if let Some(d) = &live.dir
                && !fresh.is_empty()
            {
                std::fs::write(cursor_file(d), through.to_string()).map_err(internal)?;
            }
            if (rows.len() as i64) < PAGE {
                return Ok(());
            }
        }
    }

    /// One change; which index it wrote (a commit is due).
    async fn apply(&self, live: &Live, c: &Change) -> Result<Touched, StoreError> {
        match c.kind.as_str() {
            "achievement" => {
                mirror(&live.index, &c.record_key, self.db.published_achievement_doc(&c.record_key).await?)?;
                Ok(Touched { achievements: true, ..Touched::default() })
            }
            "expert" => {
                mirror(&live.experts_index, &c.record_key, self.db.published_expert_doc(&c.record_key).await?)?;
                Ok(Touched { experts: true, ..Touched::default() })
            }
            "problem" => {
                mirror(&live.problems_index, &c.record_key, self.db.published_problem_doc(&c.record_key).await?)?;
                Ok(Touched { problems: true, ..Touched::default() })
            }
            "embedding" => {
                let Some(e) = self.semantic.model() else { return Ok(Touched::default()) };
                let Some((kind, key)) = c.record_key.split_once(':') else { return Ok(Touched::default()) };
                let Some(kind) = Kind::from_code(kind) else { return Ok(Touched::default()) };
                let vectors = match kind {
                    Kind::Achievement => &live.achievements,
                    Kind::Expert => &live.experts,
                    // A need's vector is read from the database when its page is asked for.
                    Kind::Problem => return Ok(Touched::default()),
                };
                if let Some(v) = self.db.vector_of(kind, key, &model_id(e)).await?
                    && v.len() == e.dim()
                {
                    let mut w = vectors.write().await;
                    if w.dim() != e.dim() {
                        *w = Vectors::new(e.dim());
                    }
                    w.upsert(key, &v).map_err(internal)?;
                }
                Ok(Touched::default())
            }
            // An enterprise's search text is its industry and the problems it posted that the asking
            // user may read: built per request (a few hundred), so nothing of it is indexed here.
            _ => Ok(Touched::default()),
        }
    }
}

/// Put a record's current document in `index`, or take it out when it has none (no longer published).
fn mirror(index: &MatchIndex, key: &str, doc: Option<xietong_search::AchievementDoc>) -> Result<(), StoreError> {
    match doc {
        Some(d) => index.replace(&d),
        None => index.delete(key),
    }
    .map_err(internal)
}

/// Which of a node's indexes a change wrote.
#[derive(Default)]
struct Touched {
    achievements: bool,
    experts: bool,
    problems: bool,
}

/// Keep this node's index current even while nobody searches: follow the log every `every`.
pub fn spawn_follower(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        let mut ticks: u64 = 1;
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = state.live().await {
                tracing::warn!(error = %e, "following the search change log failed");
            }
            // Now and then the log is cut to its newest rows (a node that slept longer rebuilds).
            if ticks.is_multiple_of(PRUNE_EVERY) {
                match state.db.prune_search_changes(KEEP_CHANGES).await {
                    Ok(n) if n > 0 => tracing::info!(deleted = n, "search change log pruned"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "pruning the search change log failed"),
                }
            }
            ticks += 1;
        }
    })
}
