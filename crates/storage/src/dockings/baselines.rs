//! 上报数: the figures the district reported (end-2020: 101 国家高新技术企业 …), one per figure
//! of the 科技统计 page, each with its source document. They are never turned into records: the
//! statistics show them beside the records held ([`xietong_docking::baseline`]). The 科技局 sets
//! them; every change is audited, and a form read at an older version is refused, not applied.

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use xietong_docking::baseline::{BaselineFigure, figure};

use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::libraries::must_be_bureau;
use crate::{Db, Result, RowExt, StoreError, parse_ts, ts};

/// A reported figure as stored.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Baseline {
    /// Key of the figure (`high_tech_enterprises`, `contract_amount` …).
    pub figure: String,
    pub label: String,
    pub unit: String,
    /// 上报数
    pub value: f64,
    /// 统计截至 (YYYY-MM-DD): the day counted, or the end of the year an amount covers.
    pub as_of: String,
    /// 「截至 2020-12-31」 or 「2020 年」
    pub period: String,
    /// 来源文件
    pub source: String,
    /// 文件日期, when known.
    pub source_date: Option<String>,
    pub note: String,
    /// Bumped by every change; send it back to change the figure.
    pub version: i64,
    /// Who last set it, by post and name.
    pub updated_by: String,
    pub updated_at: NaiveDateTime,
}

/// A baseline as the 科技局 types it (the number already parsed; everything else checked here).
#[derive(Clone, Debug, Default)]
pub struct NewBaseline {
    pub value: f64,
    pub as_of: String,
    pub source: String,
    pub source_date: String,
    pub note: String,
    /// The version the form was read at (0: the figure had none); `None` skips the check.
    pub version: Option<i64>,
}

const SELECT: &str = "SELECT b.*, p.name AS person_name, p.post AS person_post FROM reported_baselines b \
     LEFT JOIN users u ON u.username = b.updated_by LEFT JOIN people p ON p.id = u.person_id";

fn baseline_of(f: &BaselineFigure, r: &sqlx::any::AnyRow) -> Result<Baseline> {
    let as_of = r.s("as_of")?;
    let period = NaiveDate::parse_from_str(&as_of, "%Y-%m-%d").map(|d| f.period_zh(d)).unwrap_or_default();
    let updated_by = match (r.os("person_post")?, r.os("person_name")?) {
        (Some(post), Some(name)) => format!("{post} {name}"),
        _ => r.s("updated_by")?,
    };
    Ok(Baseline {
        figure: f.key.into(),
        label: f.label.into(),
        unit: f.unit.into(),
        value: r.f("value")?,
        as_of,
        period,
        source: r.s("source")?,
        source_date: r.os("source_date")?,
        note: r.s("note")?,
        version: r.i("version")?,
        updated_by,
        updated_at: parse_ts(&r.s("updated_at")?)?,
    })
}

fn figure_of(key: &str) -> Result<&'static BaselineFigure> {
    figure(key).ok_or_else(|| {
        let keys: Vec<String> =
            xietong_docking::baseline::FIGURES.iter().map(|f| format!("{}（{}）", f.key, f.label)).collect();
        StoreError::NotFound(format!("没有「{key}」这项统计数字（可选 {}）", keys.join("、")))
    })
}

impl Db {
    /// The reported figures on record, in the page's order.
    pub async fn list_baselines(&self) -> Result<Vec<Baseline>> {
        let rows = sqlx::query(SELECT).fetch_all(&self.pool).await?;
        let mut out = vec![];
        for f in &xietong_docking::baseline::FIGURES {
            for r in &rows {
                if r.s("figure")? == f.key {
                    out.push(baseline_of(f, r)?);
                }
            }
        }
        Ok(out)
    }

    /// Set the reported figure `key` (科技局). Setting it to what it already is changes nothing
    /// and writes no audit entry; a `version` other than the current one is refused with a
    /// conflict, so two people editing at once never silently overwrite each other.
    pub async fn set_baseline(
        &self,
        u: &SessionUser,
        key: &str,
        n: &NewBaseline,
        now: NaiveDateTime,
    ) -> Result<Baseline> {
        must_be_bureau(u, "上报数")?;
        let f = figure_of(key)?;
        let c = xietong_docking::baseline::check(f, n.value, &n.as_of, &n.source, &n.source_date, &n.note, now.date())?;
        let source_date = c.source_date.map(|d| d.to_string());
        let after = serde_json::json!({"value": c.value, "as_of": c.as_of.to_string(), "source": c.source,
            "source_date": source_date, "note": c.note});
        crate::locks::retrying(|| async {
            let mut tx = self.begin().await?;
            let lock = crate::locks::row_lock(&tx);
            let current =
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM reported_baselines WHERE figure = $1{lock}")))
                    .bind(f.key.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
            let (version, before) = match &current {
                Some(r) => (
                    r.i("version")?,
                    serde_json::json!({"value": r.f("value")?, "as_of": r.s("as_of")?, "source": r.s("source")?,
                        "source_date": r.os("source_date")?, "note": r.s("note")?}),
                ),
                None => (0, serde_json::Value::Null),
            };
            // Asking for what is already there succeeds whatever version the form had.
            if before == after {
                return Ok(());
            }
            if let Some(v) = n.version
                && v != version
            {
                return Err(StoreError::Conflict(format!(
                    "{}的上报数已被他人修改（现为第 {version} 版，表单读取的是第 {v} 版），请刷新后核对再保存",
                    f.label
                )));
            }
            let changed = if current.is_some() {
                sqlx::query(
                    "UPDATE reported_baselines SET value = $1, as_of = $2, source = $3, source_date = $4, note = $5, \
                     version = version + 1, updated_by = $6, updated_at = $7 WHERE figure = $8 AND version = $9",
                )
                .bind(c.value)
                .bind(c.as_of.to_string())
                .bind(c.source.clone())
                .bind(source_date.clone())
                .bind(c.note.clone())
                .bind(u.username.clone())
                .bind(ts(now))
                .bind(f.key.to_string())
                .bind(version)
                .execute(&mut *tx)
                .await?
                .rows_affected()
            } else {
                // Two first entries at once: the second finds the row there and is refused below.
                sqlx::query(
                    "INSERT INTO reported_baselines \
                     (figure, value, as_of, source, source_date, note, version, updated_by, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8) ON CONFLICT (figure) DO NOTHING",
                )
                .bind(f.key.to_string())
                .bind(c.value)
                .bind(c.as_of.to_string())
                .bind(c.source.clone())
                .bind(source_date.clone())
                .bind(c.note.clone())
                .bind(u.username.clone())
                .bind(ts(now))
                .execute(&mut *tx)
                .await?
                .rows_affected()
            };
            if changed == 0 {
                return Err(StoreError::Conflict(format!("{}的上报数刚由他人录入或修改，请刷新后核对再保存", f.label)));
            }
            append(
                &mut tx,
                now,
                Change {
                    actor: &u.username,
                    action: "baseline.set",
                    entity: "reported_baseline",
                    entity_id: f.key.to_string(),
                    before: if before.is_null() { String::new() } else { before.to_string() },
                    after: after.to_string(),
                },
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
        .await?;
        let r = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE b.figure = $1")))
            .bind(f.key.to_string())
            .fetch_one(&self.pool)
            .await?;
        baseline_of(f, &r)
    }
}
