//! The sentence-embedding model of this node, the stored vectors it matches with, and the background
//! work that computes the vectors still missing. Without a model (none configured, missing or
//! corrupt files) everything else is served and matching ranks on words alone; the pages say why.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use xietong_embed::Embedder;
use xietong_search::hybrid::{self, Ranked};
use xietong_storage::Db;
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::embeddings::{Kind, Progress};
use xietong_storage::matching::{Dense, Matches, rank_need, search_err};

use crate::{AppState, blocking};

/// How an administrator names the model directory (command line and environment).
pub const SETTING: &str = "--model-dir / XIETONG_MODEL_DIR";

/// The model directory `serve` uses when none is configured.
pub fn default_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("models").join("multilingual-e5-small")
}

/// Passages embedded in one background step (a step holds one heavy-work permit).
const BATCH: usize = 16;

pub struct Semantic {
    model: Option<Arc<Embedder>>,
    /// Why there is no model, in Chinese, naming the file and the setting.
    unavailable: Option<String>,
    /// How far the achievements' vectors are (for the 成果库 page).
    progress: RwLock<Progress>,
}

impl Semantic {
    /// No model: matching ranks on words, and `reason` says why.
    pub fn off(reason: impl Into<String>) -> Self {
        Semantic { model: None, unavailable: Some(reason.into()), progress: RwLock::new(Progress::default()) }
    }

    /// The model in `dir`; a missing or corrupt one gives [`Semantic::off`] with the loader's message
    /// (which names the file) and the setting to change.
    pub fn load(dir: &Path) -> Self {
        match Embedder::load(dir) {
            Ok(e) => Semantic { model: Some(Arc::new(e)), unavailable: None, ..Self::off("") },
            Err(e) => Self::off(format!("{e}（模型目录设置：{SETTING}）")),
        }
    }

    pub fn model(&self) -> Option<&Arc<Embedder>> {
        self.model.as_ref()
    }

    /// Why matching ranks on words alone, if it does.
    pub fn unavailable(&self) -> Option<&str> {
        self.unavailable.as_deref()
    }

    pub fn progress(&self) -> Progress {
        *self.progress.read().unwrap_or_else(|e| e.into_inner())
    }
}

/// The name vectors are stored under: the model's, with its dimension (a larger model configured
/// later gets vectors of its own).
pub fn model_id(e: &Embedder) -> String {
    format!("{}/{}", e.settings().name, e.dim())
}

impl AppState {
    /// The query's vector, computed on a blocking thread ([`blocking`]); `None` without a model, or
    /// when embedding fails (logged: matching then runs on words, and the page says so).
    async fn query_vector(&self, q: String) -> Option<Vec<f32>> {
        let e = self.semantic.model()?.clone();
        match blocking(move || e.embed_query(&q).map_err(|e| StoreError::internal(e.to_string()))).await {
            Ok(v) => Some(v),
            Err(err) => {
                tracing::warn!(error = %err, "embedding the query failed; matching on words");
                None
            }
        }
    }

    /// A problem's matches by the one ranking: with the sentence vectors when the model is loaded
    /// (the need's stored vector, or embedded here), on words alone otherwise.
    pub async fn match_problem(&self, u: &SessionUser, id: i64, top: usize) -> Result<Matches, StoreError> {
        let live = self.live().await?;
        let p = self.db.get_tech_problem(u, id).await?;
        let q = Db::problem_query(&p);
        let qv = match self.semantic.model() {
            // The need's vector as the background work stored it, or computed now.
            Some(e) => match self.db.current_vector(Kind::Problem, &id.to_string(), &model_id(e), &q).await? {
                Some(v) if v.len() == e.dim() => Some(v),
                _ => self.query_vector(q.clone()).await,
            },
            None => None,
        };
        let semantic = qv.is_some();
        // Scans of every vector: off the async workers (tens of ms at 300 000 records).
        let ranked = blocking(move || {
            let (a, x) = (live.achievements.blocking_read(), live.experts.blocking_read());
            let dense = qv.as_deref().map(|query| Dense { achievements: &a, experts: &x, query });
            rank_need(&live.index, &live.experts_index, dense, &q, top)
        })
        .await?;
        self.db.explain_problem_matches(&p, ranked, semantic).await
    }

    /// The problems and enterprises for an achievement, the problems from this node's index.
    pub async fn match_achievement(&self, u: &SessionUser, id: i64, top: usize) -> Result<Matches, StoreError> {
        let live = self.live().await?;
        self.db.match_achievement(u, Some(&live.problems_index), id, top).await
    }

    /// The problems for an expert, from this node's index.
    pub async fn match_expert(&self, u: &SessionUser, id: i64, top: usize) -> Result<Matches, StoreError> {
        let live = self.live().await?;
        self.db.match_expert(u, Some(&live.problems_index), id, top).await
    }

    /// Achievements for a free text (the 成果库 search, `/api/achievements/match`) by the same ranking as
    /// a problem's; whether the sentence vectors took part.
    pub async fn rank_text(&self, q: &str, top: usize) -> Result<(Vec<Ranked>, bool), StoreError> {
        // The words are checked before the model spends time on them.
        xietong_search::check_query(q).map_err(search_err)?;
        let live = self.live().await?;
        let qv = self.query_vector(q.to_string()).await;
        let semantic = qv.is_some();
        // A scan of every vector: off the async workers (tens of ms at 300 000 records).
        let q = q.to_string();
        let ranked = blocking(move || {
            let a = live.achievements.blocking_read();
            hybrid::rank(&live.index, qv.as_deref().map(|v| (&*a, v)), &q, top).map_err(search_err)
        })
        .await?;
        Ok((ranked, semantic))
    }

    /// Compute the vectors still missing (achievements, then experts), a batch per heavy-work permit.
    /// Returns how far the achievements are.
    pub async fn embed_pending(&self) -> Result<Progress, StoreError> {
        let Some(e) = self.semantic.model().cloned() else { return Ok(Progress::default()) };
        let id = model_id(&e);
        let mut achievements = Progress::default();
        for kind in [Kind::Achievement, Kind::Expert, Kind::Problem] {
            let embed = |texts: Vec<String>| {
                let e = e.clone();
                self.heavy(move || {
                    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                    let internal = |e: xietong_embed::EmbedError| StoreError::internal(e.to_string());
                    match kind {
                        // A need is a query, embedded alone as the page would (no padding beside others).
                        Kind::Problem => refs.iter().map(|q| e.embed_query(q).map_err(internal)).collect(),
                        _ => e.embed_passages(&refs).map_err(internal),
                    }
                })
            };
            let progress = |p: Progress| {
                if kind == Kind::Achievement {
                    *self.semantic.progress.write().unwrap_or_else(|e| e.into_inner()) = p;
                }
            };
            let p = self.db.embed_missing(kind, &id, BATCH, embed, progress, self.clock.now()).await?;
            if kind == Kind::Achievement {
                achievements = p;
            }
        }
        Ok(achievements)
    }
}

/// Keep the vectors current in the background: every `every`, when the change log has moved, compute
/// those of new or edited records. Several nodes may do this at once; a vector already stored for the
/// same text is not written again.
pub fn spawn_embedder(state: AppState, every: Duration) -> Option<tokio::task::JoinHandle<()>> {
    state.semantic.model()?;
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Looking for what is missing reads every passage: only after something was written.
        let mut seen_head = None;
        loop {
            tick.tick().await;
            match state.db.search_changes_head().await {
                Ok(h) if seen_head == Some(h) => continue,
                Ok(h) => seen_head = Some(h),
                Err(e) => {
                    tracing::warn!(error = %e, "reading the search change log failed");
                    continue;
                }
            }
            match state.embed_pending().await {
                Ok(p) if p.done < p.total => tracing::info!(done = p.done, total = p.total, "embedding achievements"),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "computing sentence vectors failed");
                    seen_head = None;
                }
            }
        }
    }))
}
