//! Sentence vectors of the records matching reads (migration 0019): computed once per record,
//! model and passage text, stored in the database, read by every node. The model itself is not
//! known here: the caller passes the function that embeds ([`Db::embed_missing`]), so storage stays
//! free of the inference engine.

use chrono::NaiveDateTime;
use sm3::{Digest, Sm3};
use sqlx::Row;
use xietong_search::hybrid::Vectors;

use crate::{Db, Result, RowExt, StoreError, ts};

/// What a vector is the meaning of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Achievement,
    Expert,
    /// A published problem's need as a query (`query: ` prefix): stored so that the problem page
    /// does not embed it on every visit.
    Problem,
}

impl Kind {
    /// The kind named in the database (`achievement`, `expert`).
    pub fn from_code(code: &str) -> Option<Kind> {
        match code {
            "achievement" => Some(Kind::Achievement),
            "expert" => Some(Kind::Expert),
            "problem" => Some(Kind::Problem),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Achievement => "achievement",
            Kind::Expert => "expert",
            Kind::Problem => "problem",
        }
    }
}

/// The SM3 of a passage, hex: what a stored vector was computed from.
pub fn digest(passage: &str) -> String {
    hex::encode(Sm3::digest(passage.as_bytes()))
}

/// A record whose vector is missing or was computed from another text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub key: String,
    pub passage: String,
}

/// How far the vectors of one kind are: records with a current vector, records in all, and how
/// many of them were computed by this run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    pub computed: usize,
}

fn to_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn from_bytes(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

impl Db {
    /// Every record of `kind` matching reads, with its passage (the text its vector is made of).
    pub async fn passages(&self, kind: Kind) -> Result<Vec<(String, String)>> {
        Ok(match kind {
            Kind::Achievement => self
                .published_achievements()
                .await?
                .into_iter()
                .map(|a| {
                    let d = crate::search_index::doc_of(a);
                    let p = d.passage();
                    (d.external_id, p)
                })
                .collect(),
            Kind::Expert => {
                self.expert_search_docs().await?.into_iter().map(|d| (d.external_id.clone(), d.passage())).collect()
            }
            Kind::Problem => self
                .published_problems_by(None)
                .await?
                .iter()
                .map(|p| (p.id.to_string(), Db::problem_query(p)))
                .collect(),
        })
    }

    /// The records of `kind` whose vector under `model` is missing or stale, and how far the rest are.
    pub async fn pending_embeddings(&self, kind: Kind, model: &str) -> Result<(Vec<Pending>, Progress)> {
        let rows = sqlx::query("SELECT record_key, digest FROM embeddings WHERE kind = $1 AND model = $2")
            .bind(kind.as_str())
            .bind(model.to_string())
            .fetch_all(&self.pool)
            .await?;
        let mut stored = std::collections::HashMap::new();
        for r in &rows {
            stored.insert(r.s("record_key")?, r.s("digest")?);
        }
        let all = self.passages(kind).await?;
        let total = all.len();
        let pending: Vec<Pending> = all
            .into_iter()
            .filter(|(k, p)| stored.get(k).is_none_or(|d| *d != digest(p)))
            .map(|(key, passage)| Pending { key, passage })
            .collect();
        let done = total - pending.len();
        Ok((pending, Progress { done, total, computed: 0 }))
    }

    /// Store vectors computed from the passages given (one transaction). A row already holding the
    /// vector of that passage is left alone; returns the rows written.
    pub async fn store_embeddings(
        &self,
        kind: Kind,
        model: &str,
        items: &[(Pending, Vec<f32>)],
        now: NaiveDateTime,
    ) -> Result<usize> {
        let mut tx = self.pool.begin().await?;
        let mut written = 0;
        for (p, v) in items {
            if v.is_empty() || v.iter().any(|x| !x.is_finite()) {
                return Err(StoreError::internal(format!("记录 {} 的语义向量无效（空或含非数值）", p.key)));
            }
            written += sqlx::query(
                "INSERT INTO embeddings (kind, record_key, model, digest, dim, vector, computed_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (kind, record_key, model) DO UPDATE SET digest = excluded.digest, dim = excluded.dim,
                   vector = excluded.vector, computed_at = excluded.computed_at
                 WHERE embeddings.digest <> excluded.digest",
            )
            .bind(kind.as_str())
            .bind(p.key.clone())
            .bind(model.to_string())
            .bind(digest(&p.passage))
            .bind(v.len() as i64)
            .bind(to_bytes(v))
            .bind(ts(now))
            .execute(&mut *tx)
            .await?
            .rows_affected() as usize;
        }
        tx.commit().await?;
        Ok(written)
    }

    /// Compute and store the vectors of `kind` that are missing or stale, `batch` passages at a time
    /// through `embed`, telling `progress` after each batch. Returns how far the vectors are.
    pub async fn embed_missing<E, F>(
        &self,
        kind: Kind,
        model: &str,
        batch: usize,
        mut embed: E,
        mut progress: impl FnMut(Progress),
        now: NaiveDateTime,
    ) -> Result<Progress>
    where
        E: FnMut(Vec<String>) -> F,
        F: std::future::Future<Output = Result<Vec<Vec<f32>>>>,
    {
        let (pending, mut p) = self.pending_embeddings(kind, model).await?;
        progress(p);
        for chunk in pending.chunks(batch.max(1)) {
            let vectors = embed(chunk.iter().map(|x| x.passage.clone()).collect()).await?;
            if vectors.len() != chunk.len() {
                return Err(StoreError::internal("嵌入模型返回的向量数与段落数不符"));
            }
            let items: Vec<(Pending, Vec<f32>)> = chunk.iter().cloned().zip(vectors).collect();
            self.store_embeddings(kind, model, &items, now).await?;
            p.done += chunk.len();
            p.computed += chunk.len();
            progress(p);
        }
        Ok(p)
    }

    /// The stored vectors of `kind` under `model`, for the records matching reads now.
    pub async fn load_vectors(&self, kind: Kind, model: &str, dim: usize) -> Result<Vectors> {
        let rows = sqlx::query("SELECT record_key, dim, vector FROM embeddings WHERE kind = $1 AND model = $2")
            .bind(kind.as_str())
            .bind(model.to_string())
            .fetch_all(&self.pool)
            .await?;
        let mut v = Vectors::new(dim);
        for r in &rows {
            let bytes: Vec<u8> = r.try_get("vector")?;
            if r.i("dim")? as usize == dim {
                v.upsert(&r.s("record_key")?, &from_bytes(&bytes)).map_err(|e| StoreError::internal(e.to_string()))?;
            }
        }
        Ok(v)
    }

    /// The stored vector of one record under `model` when it was computed from `passage` (not from an
    /// older text of the record).
    pub async fn current_vector(&self, kind: Kind, key: &str, model: &str, passage: &str) -> Result<Option<Vec<f32>>> {
        let r = sqlx::query(
            "SELECT vector FROM embeddings WHERE kind = $1 AND record_key = $2 AND model = $3 AND digest = $4",
        )
        .bind(kind.as_str())
        .bind(key.to_string())
        .bind(model.to_string())
        .bind(digest(passage))
        .fetch_optional(&self.pool)
        .await?;
        r.map(|r| Ok(from_bytes(&r.try_get::<Vec<u8>, _>("vector")?))).transpose()
    }

    /// The stored vector of one record under `model`, if any.
    pub async fn vector_of(&self, kind: Kind, key: &str, model: &str) -> Result<Option<Vec<f32>>> {
        let r = sqlx::query("SELECT vector FROM embeddings WHERE kind = $1 AND record_key = $2 AND model = $3")
            .bind(kind.as_str())
            .bind(key.to_string())
            .bind(model.to_string())
            .fetch_optional(&self.pool)
            .await?;
        r.map(|r| Ok(from_bytes(&r.try_get::<Vec<u8>, _>("vector")?))).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_through_bytes() {
        let v = vec![0.5f32, -1.25, 3.0e-8];
        assert_eq!(from_bytes(&to_bytes(&v)), v);
        assert_eq!(digest("a"), digest("a"));
        assert_ne!(digest("a"), digest("b"));
    }
}
