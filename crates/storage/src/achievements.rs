//! 成果库: research achievements. Imports (Excel, CSV, TSV) are all-or-nothing and keep the
//! source's id as the external id, so a matching run can be scored against outside judgements.

use chrono::NaiveDateTime;
use serde::Serialize;
use xietong_office::table::Column;
use xietong_office::xlsx::RawRow;
use xietong_supervision::validate::{optional_text, required_multiline, required_text};

use crate::audit::{Change, append};
use crate::imports::{ImportReport, RowProblem, problem, refusal};
use crate::{Db, Result, RowExt, StoreError, ts};

/// 成果类型.
pub const KINDS: [&str; 5] = ["专利", "论文", "技术", "软件著作权", "新品种"];

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Achievement {
    pub id: i64,
    pub external_id: String,
    pub title: String,
    pub abstract_text: String,
    pub keywords: Vec<String>,
    pub discipline: String,
    pub category: String,
    pub kind: String,
    pub institution: String,
    pub maturity: String,
    pub status: String,
    /// Where the record came from, shown with it (e.g. "CSL dataset").
    pub source: String,
    pub updated_at: NaiveDateTime,
    pub patent_no: Option<String>,
    pub institution_id: Option<i64>,
    /// 转化方式
    pub transfer_modes: Vec<String>,
    /// 意向价格（万元），0 为面议
    pub price_min_wan: f64,
    pub price_max_wan: f64,
    pub return_reason: String,
    pub expires_on: Option<String>,
}

/// The columns of an achievement import; the TSV form of issue 4 is `id, title, abstract, keywords,
/// discipline, category` with keywords separated by ";".
pub fn achievement_columns() -> Vec<Column> {
    let c = |key: &str, header: &str, required: bool, note: &str| Column {
        key: key.into(),
        header: header.into(),
        required,
        width: 20.0,
        note: note.into(),
        choices: vec![],
    };
    vec![
        c("id", "id", true, "成果编号（来源编号，唯一）"),
        c("title", "title", true, "成果名称"),
        c("abstract", "abstract", true, "摘要"),
        c("keywords", "keywords", false, "关键词，用分号分隔"),
        c("discipline", "discipline", false, "学科"),
        c("category", "category", false, "门类"),
    ]
}

fn split_keywords(s: &str) -> Vec<String> {
    s.split([';', '；']).map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect()
}

fn achievement(r: &sqlx::any::AnyRow) -> Result<Achievement> {
    Ok(Achievement {
        id: r.i("id")?,
        external_id: r.s("external_id")?,
        title: r.s("title")?,
        abstract_text: r.s("abstract")?,
        keywords: split_keywords(&r.s("keywords")?),
        discipline: r.s("discipline")?,
        category: r.s("category")?,
        kind: r.s("kind")?,
        institution: r.s("institution")?,
        maturity: r.s("maturity")?,
        status: r.s("status")?,
        source: r.s("source")?,
        updated_at: r.t("updated_at")?,
        patent_no: r.os("patent_no")?,
        institution_id: r.oi("institution_id")?,
        transfer_modes: split_keywords(&r.s("transfer_modes")?),
        price_min_wan: r.f("price_min_wan")?,
        price_max_wan: r.f("price_max_wan")?,
        return_reason: r.s("return_reason")?,
        expires_on: r.os("expires_on")?,
    })
}

impl Db {
    /// Import achievements, all or nothing: every bad row is reported, nothing is written unless
    /// all rows are good. `source` names where the records come from (shown with them).
    pub async fn import_achievements(
        &self,
        actor: &str,
        rows: &[RawRow],
        cell_problems: Vec<RowProblem>,
        source: &str,
        now: NaiveDateTime,
    ) -> Result<ImportReport> {
        if rows.is_empty() {
            return Err(StoreError::BadInput("文件中没有数据行".into()));
        }
        let bad_cells = crate::imports::rows_with_problems(&cell_problems);
        let mut problems = cell_problems;
        let mut seen = std::collections::HashMap::new();
        let mut valid = vec![];
        for r in rows {
            if bad_cells.contains(&r.row) {
                continue;
            }
            let checked = (|| -> Result<_> {
                let id = required_text("id", r.get("id"), 64)?;
                if let Some(first) = seen.insert(id.clone(), r.row) {
                    return Err(StoreError::invalid("id", format!("「{id}」与第 {first} 行重复")));
                }
                let title = required_text("title", r.get("title"), 300)?;
                let abstract_text = required_multiline("abstract", r.get("abstract"), 20_000)?;
                let keywords = split_keywords(&xietong_supervision::text::single_line("keywords", r.get("keywords"))?);
                if keywords.len() > 30 {
                    return Err(StoreError::invalid(
                        "keywords",
                        format!("关键词不能超过 30 个（当前 {} 个）", keywords.len()),
                    ));
                }
                let discipline = optional_text("discipline", r.get("discipline"), 100)?.unwrap_or_default();
                let category = optional_text("category", r.get("category"), 100)?.unwrap_or_default();
                Ok((id, title, abstract_text, keywords.join(";"), discipline, category))
            })();
            match checked {
                Ok(v) => valid.push((r.row, v)),
                Err(e) => problems.extend(problem(r.row, e)),
            }
        }
        let mut tx = self.begin().await?;
        // Ids already in the library are reported too, so one pass shows everything to fix.
        for (row, v) in &valid {
            let n = sqlx::query("SELECT COUNT(*) AS n FROM achievements WHERE external_id = $1")
                .bind(v.0.clone())
                .fetch_one(&mut *tx)
                .await?
                .i("n")?;
            if n > 0 {
                problems.push(RowProblem {
                    row: *row,
                    column: Some("id".into()),
                    message: format!("「{}」已在成果库中", v.0),
                });
            }
        }
        if !problems.is_empty() {
            return Err(refusal(&problems));
        }
        let mut ids = vec![];
        for (_, (ext, title, abs, kw, disc, cat)) in &valid {
            let id = sqlx::query(
                "INSERT INTO achievements (external_id, title, abstract, keywords, discipline, category, kind, status, source, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, '论文', 'published', $7, $8, $8) RETURNING id",
            )
            .bind(ext.clone())
            .bind(title.clone())
            .bind(abs.clone())
            .bind(kw.clone())
            .bind(disc.clone())
            .bind(cat.clone())
            .bind(source.to_string())
            .bind(ts(now))
            .fetch_one(&mut *tx)
            .await?
            .i("id")?;
            ids.push(id);
        }
        let after =
            serde_json::json!({"rows": valid.len(), "source": source, "first_id": ids.first(), "last_id": ids.last()});
        append(
            &mut tx,
            now,
            Change {
                actor,
                action: "achievement.import",
                entity: "achievement",
                entity_id: format!("{}", ids.len()),
                before: String::new(),
                after: after.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(ImportReport { rows: rows.len(), created_ids: ids, list_id: None })
    }

    /// Every published achievement, for (re)building the search index.
    pub async fn published_achievements(&self) -> Result<Vec<Achievement>> {
        let rows = sqlx::query("SELECT * FROM achievements WHERE status = 'published' ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(achievement).collect()
    }

    /// A fingerprint of the published achievements; the search index is rebuilt when it changes.
    pub async fn achievements_stamp(&self) -> Result<String> {
        let r = sqlx::query("SELECT COUNT(*) AS n, COALESCE(MAX(id), 0) AS m, COALESCE(MAX(updated_at), '') AS u FROM achievements WHERE status = 'published'")
            .fetch_one(&self.pool)
            .await?;
        Ok(format!("{}:{}:{}", r.i("n")?, r.i("m")?, r.s("u")?))
    }

    pub async fn achievements_by_external_id(&self, ids: &[String]) -> Result<Vec<Achievement>> {
        let mut out = vec![];
        for id in ids {
            if let Some(r) = sqlx::query("SELECT * FROM achievements WHERE external_id = $1")
                .bind(id.clone())
                .fetch_optional(&self.pool)
                .await?
            {
                out.push(achievement(&r)?);
            }
        }
        Ok(out)
    }

    /// Submissions not (or no longer) published: all of them for the 科技局 and district roles,
    /// an institution's own (any status) for its users.
    pub async fn submitted_achievements(&self, u: &crate::auth::SessionUser) -> Result<Vec<Achievement>> {
        let party = self.party_of(u).await?;
        let rows = if crate::libraries::reads_all(u) {
            sqlx::query("SELECT * FROM achievements WHERE status <> 'published' ORDER BY updated_at DESC, id DESC")
                .fetch_all(&self.pool)
                .await?
        } else if let Some(i) = party.institution_id {
            sqlx::query("SELECT * FROM achievements WHERE institution_id = $1 ORDER BY updated_at DESC, id DESC")
                .bind(i)
                .fetch_all(&self.pool)
                .await?
        } else {
            vec![]
        };
        rows.iter().map(achievement).collect()
    }

    /// One achievement as this user may see it: published ones for every platform user,
    /// unpublished ones for the reviewers and the submitting institution.
    pub async fn achievement_for(&self, u: &crate::auth::SessionUser, id: i64) -> Result<Achievement> {
        let a = sqlx::query("SELECT * FROM achievements WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| achievement(&r))
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(format!("成果库中没有编号 {id} 的成果")))?;
        if a.status == "published"
            || crate::libraries::reads_all(u)
            || (a.institution_id.is_some() && self.party_of(u).await?.institution_id == a.institution_id)
        {
            Ok(a)
        } else {
            Err(StoreError::NotFound(format!("成果库中没有编号 {id} 的成果，或您无权查看")))
        }
    }
}
