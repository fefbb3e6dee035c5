//! Numeric indicators on tasks ("时间过半、任务过半"): targets, reported actuals, and the
//! computed completion and time progress with any disagreement with what the unit reported.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use xietong_calendar::parse_date;
use xietong_supervision::indicators::{Indicator, IndicatorReport, IndicatorStatus, PlanPoint, assess, format_plan};
use xietong_supervision::validate::{optional_multiline, required_text};
use xietong_supervision::{Action, Role};

use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::tasks::{load_detail, scope_sql};
use crate::{Db, Result, RowExt, StoreError, ts};

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewIndicator {
    pub name: String,
    /// 计量单位, e.g. 人、所、个、万元.
    pub unit_label: String,
    pub target: f64,
    pub period_start: String,
    pub period_end: String,
    /// 分期计划 (optional): the cumulative share of the target planned by each checkpoint; none
    /// for the linear plan.
    #[serde(default)]
    pub plan: Vec<PlanPoint>,
}

/// A new 分期计划 for an indicator, with the version it was shown at.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct PlanChange {
    /// Checkpoints in date order; empty returns the indicator to the linear plan.
    pub plan: Vec<PlanPoint>,
    /// The indicator's `version` as read; a stale one is answered 409.
    pub version: i64,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewIndicatorReport {
    pub as_of: String,
    /// Cumulative actual as of that date.
    pub actual: f64,
    /// The completion percentage the unit itself reported, if any; it is checked, not trusted.
    #[serde(default)]
    pub reported_percent: Option<f64>,
    #[serde(default)]
    pub note: String,
    /// Confirms an actual above 1000 × the target (refused without it as a likely typo).
    #[serde(default)]
    pub confirm_large: bool,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct IndicatorReportRow {
    pub id: i64,
    pub as_of: NaiveDate,
    pub actual: f64,
    pub reported_percent: Option<f64>,
    pub note: String,
}

impl IndicatorReportRow {
    fn domain(&self) -> IndicatorReport {
        IndicatorReport { as_of: self.as_of, actual: self.actual, reported_percent: self.reported_percent }
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct IndicatorView {
    pub id: i64,
    pub task_id: i64,
    pub task_title: String,
    pub lead_unit_id: i64,
    pub lead_unit_name: String,
    pub name: String,
    pub unit_label: String,
    pub target: f64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// 分期计划; empty for the linear plan.
    pub plan: Vec<PlanPoint>,
    /// The plan as typed on the page ("2026-06-30 55%，…").
    pub plan_text: String,
    pub version: i64,
    pub reports: Vec<IndicatorReportRow>,
    pub status: IndicatorStatus,
}

impl IndicatorView {
    pub fn domain(&self) -> Indicator {
        Indicator {
            name: self.name.clone(),
            unit_label: self.unit_label.clone(),
            target: self.target,
            period_start: self.period_start,
            period_end: self.period_end,
            plan: self.plan.clone(),
        }
    }

    pub fn domain_reports(&self) -> Vec<IndicatorReport> {
        self.reports.iter().map(IndicatorReportRow::domain).collect()
    }
}

/// Validate a new indicator into the domain type (field errors in Chinese).
pub fn validate_indicator(n: &NewIndicator) -> Result<Indicator> {
    validate_indicator_with(n, vec![])
}

/// [`validate_indicator`] with the errors of fields a form could not read (`pre`): every field is
/// checked and answered at once.
pub fn validate_indicator_with(n: &NewIndicator, pre: Vec<xietong_supervision::FieldError>) -> Result<Indicator> {
    let mut c = xietong_supervision::validate::Checks::with(pre);
    let name = c.take(required_text("指标名称", &n.name, 100));
    let unit_label = c.take(required_text("计量单位", &n.unit_label, 20));
    let period_start = c.take(xietong_supervision::validate::date("考核期开始", &n.period_start));
    let period_end = c.take(xietong_supervision::validate::date("考核期结束", &n.period_end));
    if let (Some(period_start), Some(period_end)) = (period_start, period_end) {
        // The figure and the period together (目标值, 考核期), once both dates are read.
        let probe = Indicator {
            name: String::new(),
            unit_label: String::new(),
            target: n.target,
            period_start,
            period_end,
            plan: n.plan.clone(),
        };
        if !c.has("目标值") && !c.has("分期计划") {
            c.take(probe.validate());
        }
    }
    c.finish()?;
    let (name, unit_label) = (crate::error::got(name)?, crate::error::got(unit_label)?);
    let (period_start, period_end) = (crate::error::got(period_start)?, crate::error::got(period_end)?);
    Ok(Indicator { name, unit_label, target: n.target, period_start, period_end, plan: n.plan.clone() })
}

/// Validate a report of actuals (field errors in Chinese).
pub fn validate_report(ind: &Indicator, r: &NewIndicatorReport) -> Result<(IndicatorReport, String)> {
    let as_of = parse_date("统计截至日期", r.as_of.trim())?;
    if as_of < ind.period_start {
        return Err(StoreError::invalid("统计截至日期", format!("不能早于考核期开始（{}）", ind.period_start)));
    }
    let rep = IndicatorReport { as_of, actual: r.actual, reported_percent: r.reported_percent };
    rep.validate_for(ind, r.confirm_large)?;
    let note = optional_multiline("说明", &r.note, 1000)?.unwrap_or_default();
    Ok((rep, note))
}

impl Db {
    /// May this user maintain the indicators of a task? The 督查局, or a liaison who may report on it.
    async fn indicator_write_check(
        &self,
        tx: &mut sqlx::AnyConnection,
        user: &SessionUser,
        task_id: i64,
        now: NaiveDateTime,
    ) -> Result<()> {
        let d = load_detail(tx, task_id, now).await?;
        if user.role == Role::Supervisor {
            return Ok(user.actor().must_view(&d.parties())?);
        }
        user.actor().authorize(Action::Report, &d.parties())?;
        Ok(())
    }

    pub async fn add_indicator(
        &self,
        user: &SessionUser,
        now: NaiveDateTime,
        task_id: i64,
        n: &NewIndicator,
    ) -> Result<i64> {
        self.add_indicator_from_form(user, now, task_id, n, vec![]).await
    }

    /// [`Db::add_indicator`] from a form, with the errors of fields it could not read.
    pub async fn add_indicator_from_form(
        &self,
        user: &SessionUser,
        now: NaiveDateTime,
        task_id: i64,
        n: &NewIndicator,
        pre: Vec<xietong_supervision::FieldError>,
    ) -> Result<i64> {
        let ind = validate_indicator_with(n, pre)?;
        let mut tx = self.begin().await?;
        let id = self.add_indicator_in(&mut tx, user, now, task_id, &ind).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn add_indicator_in(
        &self,
        tx: &mut sqlx::AnyConnection,
        user: &SessionUser,
        now: NaiveDateTime,
        task_id: i64,
        ind: &Indicator,
    ) -> Result<i64> {
        self.indicator_write_check(tx, user, task_id, now).await?;
        let dup = sqlx::query("SELECT COUNT(*) AS n FROM indicators WHERE task_id = $1 AND name = $2")
            .bind(task_id)
            .bind(ind.name.clone())
            .fetch_one(&mut *tx)
            .await?
            .i("n")?;
        if dup > 0 {
            return Err(StoreError::invalid("指标名称", format!("该任务已有指标「{}」", ind.name)));
        }
        let id = sqlx::query(
            "INSERT INTO indicators (task_id, name, unit_label, target, period_start, period_end, created_at, plan) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(task_id)
        .bind(ind.name.clone())
        .bind(ind.unit_label.clone())
        .bind(ind.target)
        .bind(ind.period_start.to_string())
        .bind(ind.period_end.to_string())
        .bind(ts(now))
        .bind(plan_json(&ind.plan))
        .fetch_one(&mut *tx)
        .await?
        .i("id")?;
        let after = serde_json::json!({"task_id": task_id, "name": ind.name, "unit_label": ind.unit_label, "target": ind.target,
            "period_start": ind.period_start.to_string(), "period_end": ind.period_end.to_string(),
            "plan": format_plan(&ind.plan)});
        append(
            tx,
            now,
            Change {
                actor: &user.username,
                action: "indicator.create",
                entity: "indicator",
                entity_id: id.to_string(),
                before: String::new(),
                after: after.to_string(),
            },
        )
        .await?;
        Ok(id)
    }

    /// Record actuals; returns the indicator with its recomputed status (and any disagreement).
    pub async fn report_indicator(
        &self,
        user: &SessionUser,
        now: NaiveDateTime,
        indicator_id: i64,
        r: &NewIndicatorReport,
    ) -> Result<IndicatorView> {
        let mut tx = self.begin().await?;
        let v = self.report_indicator_in(&mut tx, user, now, indicator_id, r).await?;
        tx.commit().await?;
        Ok(v)
    }

    pub async fn report_indicator_in(
        &self,
        tx: &mut sqlx::AnyConnection,
        user: &SessionUser,
        now: NaiveDateTime,
        indicator_id: i64,
        r: &NewIndicatorReport,
    ) -> Result<IndicatorView> {
        let v = load_indicator(tx, indicator_id, now.date()).await?;
        self.indicator_write_check(tx, user, v.task_id, now).await?;
        let (rep, note) = validate_report(&v.domain(), r)?;
        if rep.as_of > now.date() {
            return Err(StoreError::invalid("统计截至日期", "不能晚于今天"));
        }
        let id = sqlx::query(
            "INSERT INTO indicator_reports (indicator_id, as_of, actual, reported_percent, note, reported_by, created_at) \
             VALUES ($1, $2, $3, CASE WHEN $8 = 1 THEN $4 END, $5, $6, $7) RETURNING id",
        )
        .bind(indicator_id)
        .bind(rep.as_of.to_string())
        .bind(rep.actual)
        .bind(crate::opt_f64(rep.reported_percent).0)
        .bind(note.clone())
        .bind(if user.user_id > 0 { Some(user.user_id) } else { None })
        .bind(ts(now))
        .bind(crate::opt_f64(rep.reported_percent).1)
        .fetch_one(&mut *tx)
        .await?
        .i("id")?;
        let v = load_indicator(tx, indicator_id, now.date()).await?;
        let after = serde_json::json!({"indicator_id": indicator_id, "as_of": rep.as_of.to_string(), "actual": rep.actual,
            "reported_percent": rep.reported_percent, "confirm_large": r.confirm_large, "completion_percent": v.status.completion_percent,
            "disagreement": v.status.disagreement.as_ref().map(|d| d.message_zh.clone())});
        append(
            tx,
            now,
            Change {
                actor: &user.username,
                action: "indicator.report",
                entity: "indicator_report",
                entity_id: id.to_string(),
                before: String::new(),
                after: after.to_string(),
            },
        )
        .await?;
        Ok(v)
    }

    /// Replace an indicator's 分期计划 (the 督查局, or a liaison who may report on its task). The
    /// row is changed only at the version the user saw: of edits made at once, one is kept and
    /// the others are answered 409.
    pub async fn set_indicator_plan(
        &self,
        user: &SessionUser,
        now: NaiveDateTime,
        indicator_id: i64,
        change: &PlanChange,
    ) -> Result<IndicatorView> {
        let mut tx = self.begin().await?;
        let v = load_indicator(&mut tx, indicator_id, now.date()).await?;
        self.indicator_write_check(&mut tx, user, v.task_id, now).await?;
        let ind = Indicator { plan: change.plan.clone(), ..v.domain() };
        ind.validate_plan()?;
        if change.version != v.version {
            return Err(StoreError::Conflict(format!(
                "指标「{}」的分期计划已被他人修改（当前为：{}），请刷新后再改",
                v.name,
                if v.plan.is_empty() { "按时间均匀推进".to_string() } else { v.plan_text.clone() }
            )));
        }
        let changed =
            sqlx::query("UPDATE indicators SET plan = $1, version = version + 1 WHERE id = $2 AND version = $3")
                .bind(plan_json(&ind.plan))
                .bind(indicator_id)
                .bind(v.version)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if changed != 1 {
            return Err(StoreError::Conflict(format!("指标「{}」的分期计划已被他人修改，请刷新后再改", v.name)));
        }
        let after = load_indicator(&mut tx, indicator_id, now.date()).await?;
        append(
            &mut tx,
            now,
            Change {
                actor: &user.username,
                action: "indicator.plan",
                entity: "indicator",
                entity_id: indicator_id.to_string(),
                before: serde_json::json!({"plan": v.plan_text}).to_string(),
                after: serde_json::json!({"plan": after.plan_text}).to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Indicators of one task (data scope checked through the task).
    pub async fn task_indicators(
        &self,
        user: &SessionUser,
        task_id: i64,
        now: NaiveDateTime,
    ) -> Result<Vec<IndicatorView>> {
        let today = now.date();
        let mut conn = self.pool.acquire().await?;
        let d = load_detail(&mut conn, task_id, now).await?;
        user.actor().must_view(&d.parties())?;
        let ids = sqlx::query("SELECT id FROM indicators WHERE task_id = $1 ORDER BY id")
            .bind(task_id)
            .fetch_all(&mut *conn)
            .await?;
        let mut out = vec![];
        for r in ids {
            out.push(load_indicator(&mut conn, r.i("id")?, today).await?);
        }
        Ok(out)
    }

    /// Every indicator in the user's data scope, for the "时间过半、任务过半" check page.
    pub async fn all_indicators(&self, user: &SessionUser, today: NaiveDate) -> Result<Vec<IndicatorView>> {
        let mut conn = self.pool.acquire().await?;
        let sql = format!(
            "SELECT i.id FROM indicators i JOIN tasks t ON t.id = i.task_id WHERE {} ORDER BY t.lead_unit_id, i.id",
            scope_sql(user)
        );
        let ids = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *conn).await?;
        let mut out = vec![];
        for r in ids {
            out.push(load_indicator(&mut conn, r.i("id")?, today).await?);
        }
        Ok(out)
    }
}

pub(crate) async fn load_indicator(conn: &mut sqlx::AnyConnection, id: i64, today: NaiveDate) -> Result<IndicatorView> {
    let r = sqlx::query(
        "SELECT i.*, t.title AS task_title, t.lead_unit_id, u.name AS lead_unit_name FROM indicators i \
         JOIN tasks t ON t.id = i.task_id JOIN units u ON u.id = t.lead_unit_id WHERE i.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("编号 {id} 的指标不存在")))?;
    let date = |col: &str| -> Result<NaiveDate> {
        let s = r.s(col)?;
        NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| StoreError::internal(format!("数据库中的日期无效：{s}")))
    };
    let reports = sqlx::query("SELECT * FROM indicator_reports WHERE indicator_id = $1 ORDER BY as_of, id")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
    let mut rows = vec![];
    for rr in &reports {
        let s = rr.s("as_of")?;
        rows.push(IndicatorReportRow {
            id: rr.i("id")?,
            as_of: NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                .map_err(|_| StoreError::internal(format!("数据库中的日期无效：{s}")))?,
            actual: rr.f("actual")?,
            reported_percent: rr.of("reported_percent")?,
            note: rr.s("note")?,
        });
    }
    let plan_text = r.s("plan")?;
    let plan: Vec<PlanPoint> = if plan_text.is_empty() {
        vec![]
    } else {
        serde_json::from_str(&plan_text).map_err(|e| StoreError::internal(format!("指标 {id} 的分期计划无效：{e}")))?
    };
    let ind = Indicator {
        name: r.s("name")?,
        unit_label: r.s("unit_label")?,
        target: r.f("target")?,
        period_start: date("period_start")?,
        period_end: date("period_end")?,
        plan,
    };
    let reports: Vec<IndicatorReport> = rows.iter().map(IndicatorReportRow::domain).collect();
    let status = assess(&ind, &reports, today);
    Ok(IndicatorView {
        id,
        task_id: r.i("task_id")?,
        task_title: r.s("task_title")?,
        lead_unit_id: r.i("lead_unit_id")?,
        lead_unit_name: r.s("lead_unit_name")?,
        name: ind.name,
        unit_label: ind.unit_label,
        target: ind.target,
        period_start: ind.period_start,
        period_end: ind.period_end,
        plan_text: format_plan(&ind.plan),
        plan: ind.plan,
        version: r.i("version")?,
        reports: rows,
        status,
    })
}

/// The plan as stored: JSON, or empty for the linear plan.
fn plan_json(plan: &[PlanPoint]) -> String {
    if plan.is_empty() { String::new() } else { serde_json::to_string(plan).unwrap_or_default() }
}
