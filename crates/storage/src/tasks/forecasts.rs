//! The progress reports of tasks, for their forecasts (预计完成): each `report` event keeps the
//! progress reported then.

use std::collections::HashMap;

use xietong_supervision::forecast::{self, Report};
use xietong_supervision::lights::{self, EscalationStep};

use super::Ctx;
use crate::sweep::Swept;
use crate::{Db, Result, RowExt, parse_ts};

impl Db {
    /// Every progress report of these tasks, in time order, by task. One query; the caller has
    /// already read the tasks with its permissions.
    pub async fn report_histories(&self, task_ids: &[i64]) -> Result<HashMap<i64, Vec<Report>>> {
        let mut out: HashMap<i64, Vec<Report>> = HashMap::new();
        for chunk in task_ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT task_id, at, data FROM task_events WHERE action = 'report' AND task_id IN ({}) ORDER BY at, id",
                marks.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&self.pool).await? {
                if let Some(report) = report_of(&r)? {
                    out.entry(r.i("task_id")?).or_default().push(report);
                }
            }
        }
        Ok(out)
    }
}

/// The report a `report` event keeps, if it kept one.
fn report_of(r: &sqlx::any::AnyRow) -> Result<Option<Report>> {
    let data: serde_json::Value = serde_json::from_str(&r.s("data")?).unwrap_or_default();
    let Some(progress) = data["progress"].as_i64() else { return Ok(None) };
    Ok(Some(Report { at: parse_ts(&r.s("at")?)?, progress }))
}

/// After a progress report, inside its transaction: if the light is still green and the forecast
/// from the reports so far is late by the rules' margin, fire the 预计逾期提醒 (once per deadline,
/// by the escalations' unique key). Returns the audit entry's `after` when it fired.
pub(crate) async fn remind_if_forecast_late(
    tx: &mut sqlx::AnyConnection,
    ctx: &Ctx<'_>,
    task: &Swept,
) -> Result<Option<String>> {
    let rules = &ctx.rules.escalation;
    if rules.forecast_late_days == 0
        || lights::light(ctx.cal, rules, task.status, task.deadline, ctx.now) != lights::Light::Green
    {
        return Ok(None);
    }
    let rows = sqlx::query("SELECT at, data FROM task_events WHERE action = 'report' AND task_id = $1 ORDER BY at, id")
        .bind(task.id)
        .fetch_all(&mut *tx)
        .await?;
    let mut reports = vec![];
    for r in &rows {
        reports.extend(report_of(r)?);
    }
    let f = forecast::forecast(&reports);
    if !rules.forecast_reminds(&f, task.deadline) {
        return Ok(None);
    }
    let basis = f.basis(task.deadline);
    crate::sweep::fire(tx, task, EscalationStep::ForecastLate, &basis, ctx.now, &crate::sweep::system_user()).await
}
