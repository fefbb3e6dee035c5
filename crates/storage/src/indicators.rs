//! Numeric indicators on tasks ("时间过半、任务过半"): targets, reported actuals, and the
//! computed completion and time progress with any disagreement with what the unit reported.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use xietong_calendar::parse_date;
use xietong_supervision::indicators::{Indicator, IndicatorReport, IndicatorStatus, assess};
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
    pub reports: Vec<IndicatorReportRow>,
    pub status: IndicatorStatus,
}

impl IndicatorView {
    fn domain(&self) -> Indicator {
        Indicator {
            name: self.name.clone(),
            unit_label: self.unit_label.clone(),
            target: self.target,
            period_start: self.period_start,
            period_end: self.period_end,
        }
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
        let probe =
            Indicator { name: String::new(), unit_label: String::new(), target: n.target, period_start, period_end };
        if !c.has("目标值") {
            c.take(probe.validate());
        }
    }
    c.finish()?;
    let (name, unit_label) = (crate::error::got(name)?, crate::error::got(unit_label)?);
    let (period_start, period_end) = (crate::error::got(period_start)?, crate::error::got(period_end)?);
    Ok(Indicator { name, unit_label, target: n.target, period_start, period_end })
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
            "INSERT INTO indicators (task_id, name, unit_label, target, period_start, period_end, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(task_id)
        .bind(ind.name.clone())
        .bind(ind.unit_label.clone())
        .bind(ind.target)
        .bind(ind.period_start.to_string())
        .bind(ind.period_end.to_string())
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await?
        .i("id")?;
        let after = serde_json::json!({"task_id": task_id, "name": ind.name, "unit_label": ind.unit_label, "target": ind.target,
            "period_start": ind.period_start.to_string(), "period_end": ind.period_end.to_string()});
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
    let ind = Indicator {
        name: r.s("name")?,
        unit_label: r.s("unit_label")?,
        target: r.f("target")?,
        period_start: date("period_start")?,
        period_end: date("period_end")?,
    };
    let domain_reports: Vec<IndicatorReport> = rows
        .iter()
        .map(|x| IndicatorReport { as_of: x.as_of, actual: x.actual, reported_percent: x.reported_percent })
        .collect();
    let status = assess(&ind, &domain_reports, today);
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
        reports: rows,
        status,
    })
}
