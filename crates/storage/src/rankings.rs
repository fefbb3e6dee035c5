//! 月度排名: the facts each unit's score is computed from (read from tasks), a live preview,
//! publishing (a frozen copy, so later edits to tasks do not change a published month), and the
//! annual assessment that published months and 通报 add up to.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use xietong_supervision::ranking::{
    AnnualScore, NotAssessed, NoticeEffect, NoticeKind, NoticeWeights, RankedUnit, ScoreFormula, TaskFacts,
    UnitMonthFacts, annual_scores, month_facts, not_assessed, rank,
};
use xietong_supervision::{ReportCycle, Role};

use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::{Db, Result, RowExt, StoreError, ts};

/// A month as "YYYY-MM" with its first and last day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Month {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl Month {
    pub fn parse(field: &str, s: &str) -> Result<Month> {
        let bad = || StoreError::invalid(field, format!("「{s}」不是有效的月份，应为 YYYY-MM，例如 2026-10"));
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        let (y, m): (i32, u32) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if !(2000..=2100).contains(&y) {
            return Err(bad());
        }
        let first = NaiveDate::from_ymd_opt(y, m, 1).ok_or_else(bad)?;
        let next = if m == 12 { NaiveDate::from_ymd_opt(y + 1, 1, 1) } else { NaiveDate::from_ymd_opt(y, m + 1, 1) }
            .ok_or_else(bad)?;
        Ok(Month { first, last: next.pred_opt().ok_or_else(bad)? })
    }
    pub fn label(&self) -> String {
        format!("{:04}-{:02}", self.first.year(), self.first.month())
    }
    pub fn label_zh(&self) -> String {
        format!("{}年{}月", self.first.year(), self.first.month())
    }
    pub fn start(&self) -> NaiveDateTime {
        self.first.and_hms_opt(0, 0, 0).unwrap_or_default()
    }
    pub fn end(&self) -> NaiveDateTime {
        self.last.and_hms_opt(23, 59, 59).unwrap_or_default()
    }

    /// Why the month cannot be published at `now`, in Chinese: only a month that has ended
    /// has final figures. `None` once it has.
    pub fn publish_refusal(&self, now: NaiveDateTime) -> Option<String> {
        let (m, d) = (self.last.month(), self.last.day());
        if now < self.start() {
            Some(format!("{}尚未开始，不能发布排名；{m} 月 {d} 日结束后才能发布", self.label_zh()))
        } else if now <= self.end() {
            Some(format!("{}尚未结束，不能发布排名；{m} 月 {d} 日后才能发布", self.label_zh()))
        } else {
            None
        }
    }
}

/// Rank 0 in `ranking_rows` marks a unit listed as 不参评 (no rank of its own).
const NOT_ASSESSED_RANK: i64 = 0;

const INSERT_ROW: &str = "INSERT INTO ranking_rows (ranking_id, rank, unit_id, score, facts, task_ids, tie_note) \
                          VALUES ($1, $2, $3, $4, $5, $6, $7)";

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RankingView {
    /// `None` for a live preview.
    pub id: Option<i64>,
    pub category_id: i64,
    pub category_name: String,
    pub lead_unit_name: Option<String>,
    pub month: String,
    pub published_at: Option<NaiveDateTime>,
    pub formula_text: String,
    /// The ranked units, best first.
    pub rows: Vec<RankedUnit>,
    /// Units with nothing to assess in the month (不参评), listed after the ranked ones.
    pub not_assessed: Vec<NotAssessed>,
    /// For a live preview, why the month cannot be published yet; `None` when it can be.
    pub publish_refusal: Option<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RankingSummary {
    pub id: i64,
    pub category_id: i64,
    pub category_name: String,
    pub month: String,
    pub published_at: NaiveDateTime,
    /// Ranked units (those listed as 不参评 are not counted).
    pub units: i64,
}

#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RankingSettings {
    pub formula: ScoreFormula,
    pub notice_weights: NoticeWeights,
}

impl Db {
    pub async fn ranking_settings(&self) -> Result<RankingSettings> {
        let formula = match self.get_setting("score_formula").await? {
            Some(s) => serde_json::from_str(&s).map_err(|e| StoreError::internal(format!("评分公式设置无效：{e}")))?,
            None => ScoreFormula::default(),
        };
        let notice_weights = match self.get_setting("notice_weights").await? {
            Some(s) => {
                serde_json::from_str(&s).map_err(|e| StoreError::internal(format!("通报加减分设置无效：{e}")))?
            }
            None => NoticeWeights::default(),
        };
        Ok(RankingSettings { formula, notice_weights })
    }

    /// Change the score formula (督查局 only); published months keep the formula they were computed with.
    pub async fn save_ranking_settings(
        &self,
        user: &SessionUser,
        s: &RankingSettings,
        now: NaiveDateTime,
    ) -> Result<()> {
        if user.role != Role::Supervisor {
            return Err(StoreError::Denied("无权限：只有督查局可以修改评分公式".into()));
        }
        // The formula and the notice points are checked together and answered at once.
        let mut c = xietong_supervision::validate::Checks::new();
        c.take(s.formula.validate());
        c.take(s.notice_weights.validate());
        c.finish()?;
        let before = serde_json::to_string(&self.ranking_settings().await?).unwrap_or_default();
        let mut tx = self.begin().await?;
        self.set_setting(&mut tx, "score_formula", &serde_json::to_string(&s.formula).unwrap_or_default()).await?;
        self.set_setting(&mut tx, "notice_weights", &serde_json::to_string(&s.notice_weights).unwrap_or_default())
            .await?;
        append(
            &mut tx,
            now,
            Change {
                actor: &user.username,
                action: "ranking.settings",
                entity: "settings",
                entity_id: "score_formula".into(),
                before,
                after: serde_json::to_string(s).unwrap_or_default(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn category_row(&self, category_id: i64) -> Result<(String, Option<i64>, Option<String>)> {
        let r = sqlx::query("SELECT c.name, c.lead_unit_id, u.name AS lead_name FROM categories c LEFT JOIN units u ON u.id = c.lead_unit_id WHERE c.id = $1")
            .bind(category_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::invalid("工作类别", format!("编号 {category_id} 的类别不存在")))?;
        Ok((r.s("name")?, r.oi("lead_unit_id")?, r.os("lead_name")?))
    }

    /// Who may compute and publish a category's ranking: the 督查局, or the liaison of the
    /// category's lead department ("牵头部门排名").
    fn may_rank(user: &SessionUser, lead_unit_id: Option<i64>) -> Result<()> {
        let ok = user.role == Role::Supervisor
            || (user.role == Role::Liaison && lead_unit_id.is_some_and(|u| u == user.unit_id));
        if ok {
            Ok(())
        } else {
            Err(StoreError::Denied("无权限：只有督查局或该类别的牵头部门可以排名".into()))
        }
    }

    /// The live ranking of a category for a month, computed from the tasks as they are now.
    pub async fn preview_ranking(
        &self,
        user: &SessionUser,
        category_id: i64,
        month: Month,
        now: NaiveDateTime,
    ) -> Result<RankingView> {
        let (name, lead, lead_name) = self.category_row(category_id).await?;
        if !(user.role == Role::Leader || user.role == Role::Admin) {
            Self::may_rank(user, lead)?;
        }
        let settings = self.ranking_settings().await?;
        let facts = self.month_facts_for(category_id, month, now).await?;
        Ok(RankingView {
            id: None,
            category_id,
            category_name: name,
            lead_unit_name: lead_name,
            month: month.label(),
            published_at: None,
            formula_text: settings.formula.describe_zh(),
            rows: rank(&facts, &settings.formula),
            not_assessed: not_assessed(&facts),
            publish_refusal: month.publish_refusal(now),
        })
    }

    async fn month_facts_for(&self, category_id: i64, month: Month, now: NaiveDateTime) -> Result<Vec<UnitMonthFacts>> {
        let cutoff = now.min(month.end());
        let rows = sqlx::query(
            "SELECT t.id, t.lead_unit_id, t.progress, t.report_cycle, COALESCE(t.assigned_at, t.received_at) AS started, t.deadline, t.closed_at, \
             (SELECT COUNT(*) FROM task_events e WHERE e.task_id = t.id AND e.action = 'reject' AND e.at >= $2 AND e.at <= $3) AS rejections, \
             (SELECT e.data FROM task_events e WHERE e.task_id = t.id AND e.action = 'report' AND e.at <= $3 ORDER BY e.at DESC, e.id DESC LIMIT 1) AS reported \
             FROM tasks t WHERE t.category_id = $1 AND t.status NOT IN ('draft', 'cancelled') AND t.received_at <= $3 \
             AND (t.closed_at IS NULL OR t.closed_at >= $2) ORDER BY t.id",
        )
        .bind(category_id)
        .bind(ts(month.start()))
        .bind(ts(cutoff))
        .fetch_all(&self.pool)
        .await?;
        let mut tasks = vec![];
        for r in &rows {
            // A month already over is judged by the progress reported by its end, not by today's.
            let progress = if cutoff >= now {
                r.i("progress")?
            } else {
                r.os("reported")?
                    .and_then(|d| serde_json::from_str::<serde_json::Value>(&d).ok())
                    .and_then(|v| v["progress"].as_i64())
                    .unwrap_or(0)
            };
            tasks.push(TaskFacts {
                id: r.i("id")?,
                lead_unit_id: r.i("lead_unit_id")?,
                progress,
                started: r.t("started")?,
                deadline: r.t("deadline")?,
                closed_at: r.ot("closed_at")?,
                rejections_in_month: r.i("rejections")?,
                report_every_days: ReportCycle::from_code(&r.s("report_cycle")?).and_then(|c| c.interval_days()),
            });
        }
        let units = sqlx::query("SELECT id, name, sort FROM units ORDER BY sort, id").fetch_all(&self.pool).await?;
        let units: Vec<(i64, String, i64)> =
            units.iter().map(|r| Ok((r.i("id")?, r.s("name")?, r.i("sort")?))).collect::<Result<_>>()?;
        Ok(month_facts(&tasks, &units, month.start(), cutoff))
    }

    /// Publish a month: its rows are copied and never recomputed.
    pub async fn publish_ranking(
        &self,
        user: &SessionUser,
        category_id: i64,
        month: Month,
        now: NaiveDateTime,
    ) -> Result<i64> {
        let (_, lead, _) = self.category_row(category_id).await?;
        Self::may_rank(user, lead)?;
        if let Some(why) = month.publish_refusal(now) {
            return Err(StoreError::Conflict(why));
        }
        let settings = self.ranking_settings().await?;
        let facts = self.month_facts_for(category_id, month, now).await?;
        let rows = rank(&facts, &settings.formula);
        let unranked = not_assessed(&facts);
        if rows.is_empty() {
            let why = if unranked.is_empty() {
                String::new()
            } else {
                format!("（{} 个单位均不参评）", unranked.len())
            };
            return Err(StoreError::Conflict(format!("{}该类别没有可排名的任务{why}", month.label_zh())));
        }
        let mut tx = self.begin().await?;
        let exists = sqlx::query("SELECT COUNT(*) AS n FROM rankings WHERE category_id = $1 AND month = $2")
            .bind(category_id)
            .bind(month.label())
            .fetch_one(&mut *tx)
            .await?
            .i("n")?;
        if exists > 0 {
            return Err(StoreError::Conflict(format!("{}的排名已发布，发布后不能更改", month.label_zh())));
        }
        let id = sqlx::query(
            "INSERT INTO rankings (category_id, month, formula, formula_text, published_by, published_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(category_id)
        .bind(month.label())
        .bind(serde_json::to_string(&settings.formula).unwrap_or_default())
        .bind(settings.formula.describe_zh())
        .bind(user.user_id)
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await?
        .i("id")?;
        for r in &rows {
            sqlx::query(INSERT_ROW)
                .bind(id)
                .bind(r.rank)
                .bind(r.unit_id)
                .bind(r.score)
                .bind(serde_json::to_string(r).unwrap_or_default())
                .bind(serde_json::to_string(&r.facts.task_ids).unwrap_or_default())
                .bind(r.tie_note.clone().unwrap_or_default())
                .execute(&mut *tx)
                .await?;
        }
        for n in &unranked {
            sqlx::query(INSERT_ROW)
                .bind(id)
                .bind(NOT_ASSESSED_RANK)
                .bind(n.unit_id)
                .bind(0.0)
                .bind(serde_json::to_string(n).unwrap_or_default())
                .bind(serde_json::to_string(&n.facts.task_ids).unwrap_or_default())
                .bind(n.reason.clone())
                .execute(&mut *tx)
                .await?;
        }
        let after = serde_json::json!({"category_id": category_id, "month": month.label(),
            "rows": rows.iter().map(|r| (r.rank, r.unit_id, r.score)).collect::<Vec<_>>(),
            "not_assessed": unranked.iter().map(|n| n.unit_id).collect::<Vec<_>>()});
        append(
            &mut tx,
            now,
            Change {
                actor: &user.username,
                action: "ranking.publish",
                entity: "ranking",
                entity_id: id.to_string(),
                before: String::new(),
                after: after.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A published ranking, exactly as it was published.
    pub async fn get_ranking(&self, id: i64) -> Result<RankingView> {
        let r = sqlx::query("SELECT r.*, c.name AS category_name, u.name AS lead_name FROM rankings r JOIN categories c ON c.id = r.category_id LEFT JOIN units u ON u.id = c.lead_unit_id WHERE r.id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("编号 {id} 的排名不存在")))?;
        let stored = sqlx::query("SELECT rank, facts FROM ranking_rows WHERE ranking_id = $1 ORDER BY rank, id")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        let bad = |e: serde_json::Error| StoreError::internal(format!("排名数据无效：{e}"));
        let (mut rows, mut unranked) = (vec![], vec![]);
        for x in &stored {
            if x.i("rank")? == NOT_ASSESSED_RANK {
                unranked.push(serde_json::from_str::<NotAssessed>(&x.s("facts")?).map_err(bad)?);
            } else {
                rows.push(serde_json::from_str::<RankedUnit>(&x.s("facts")?).map_err(bad)?);
            }
        }
        Ok(RankingView {
            id: Some(id),
            category_id: r.i("category_id")?,
            category_name: r.s("category_name")?,
            lead_unit_name: r.os("lead_name")?,
            month: r.s("month")?,
            published_at: Some(r.t("published_at")?),
            // The formula as it was when the month was published.
            formula_text: r.s("formula_text")?,
            rows,
            not_assessed: unranked,
            publish_refusal: None,
        })
    }

    pub async fn list_rankings(&self, year: Option<i32>) -> Result<Vec<RankingSummary>> {
        let rows = sqlx::query(
            "SELECT r.id, r.category_id, c.name AS category_name, r.month, r.published_at, \
             (SELECT COUNT(*) FROM ranking_rows x WHERE x.ranking_id = r.id AND x.rank > 0) AS units \
             FROM rankings r JOIN categories c ON c.id = r.category_id WHERE $1 = '' OR r.month LIKE $1 ORDER BY r.month DESC, c.sort, c.id",
        )
        .bind(year.map(|y| format!("{y:04}-%")).unwrap_or_default())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RankingSummary {
                    id: r.i("id")?,
                    category_id: r.i("category_id")?,
                    category_name: r.s("category_name")?,
                    month: r.s("month")?,
                    published_at: r.t("published_at")?,
                    units: r.i("units")?,
                })
            })
            .collect()
    }

    /// The annual assessment of a year: published monthly rankings plus 通报 adjustments.
    pub async fn annual_assessment(&self, year: i32) -> Result<Vec<AnnualScore>> {
        let settings = self.ranking_settings().await?;
        let mut monthly = vec![];
        for s in self.list_rankings(Some(year)).await? {
            let v = self.get_ranking(s.id).await?;
            monthly.push((s.category_id, s.month.clone(), v.rows));
        }
        let recs = sqlx::query("SELECT unit_id, kind FROM notice_records WHERE issued_on LIKE $1 ORDER BY id")
            .bind(format!("{year:04}-%"))
            .fetch_all(&self.pool)
            .await?;
        let mut notices = vec![];
        for r in &recs {
            if let Some(kind) = NoticeKind::from_code(&r.s("kind")?) {
                notices.push(NoticeEffect { unit_id: r.i("unit_id")?, kind });
            }
        }
        Ok(annual_scores(&monthly, &notices, &settings.notice_weights))
    }
}
