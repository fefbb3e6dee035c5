//! The lifecycle: every action on an existing task in one transaction (lock → rules → change →
//! timeline → audit).

use xietong_calendar::parse_date;
use xietong_supervision::lifecycle::{Action, TaskStatus, next_status};
use xietong_supervision::lights;
use xietong_supervision::validate::{
    Checks, deadline_after, deadline_on_working_day, deadline_within_years, optional_multiline, progress_report,
    required_multiline, required_text,
};
use xietong_supervision::{PersonId, TaskId};

use super::{Command, Ctx, TaskDetail, event_with, extensions, fired_steps, load_detail, notify, urges};
use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::{Db, Result, RowExt, StoreError, ts};

impl Db {
    /// Perform one action on a task: check scope, role and state, validate, write, record the
    /// timeline and the audit entry — all in one transaction, so a refusal changes nothing.
    pub async fn perform(
        &self,
        user: &SessionUser,
        ctx: &Ctx<'_>,
        task_id: TaskId,
        cmd: Command,
    ) -> Result<TaskDetail> {
        self.perform_seen(user, ctx, task_id, cmd, None).await
    }

    /// [`Db::perform`] for a form or call that says which version of the task it was shown:
    /// if the task moved on since, nothing is done and the answer is 409 with the current state.
    pub async fn perform_seen(
        &self,
        user: &SessionUser,
        ctx: &Ctx<'_>,
        task_id: TaskId,
        cmd: Command,
        seen: Option<i64>,
    ) -> Result<TaskDetail> {
        crate::locks::retrying(|| async {
            let mut tx = self.begin().await?;
            let detail = self.perform_in(&mut tx, user, ctx, task_id.0, cmd.clone(), seen).await?;
            self.check_completion_evidence(&mut tx, task_id.0, &cmd, 0).await?;
            tx.commit().await?;
            Ok(detail)
        })
        .await
    }

    /// [`Db::perform`] inside a caller's transaction. The task's row is locked first (see
    /// [`crate::locks`]), so the state the rules are checked against is the state that is changed.
    pub(crate) async fn perform_in(
        &self,
        tx: &mut sqlx::AnyConnection,
        user: &SessionUser,
        ctx: &Ctx<'_>,
        task_id: i64,
        cmd: Command,
        seen: Option<i64>,
    ) -> Result<TaskDetail> {
        if !crate::locks::lock_row(tx, crate::locks::Locked::Tasks, task_id).await? {
            return Err(StoreError::NotFound(format!("编号 {task_id} 的任务不存在")));
        }
        let d = load_detail(tx, task_id, ctx.now).await?;
        let actor = user.actor();
        let parties = d.parties();
        actor.must_view(&parties)?;
        let t = &d.task;
        let from = t.status;
        if seen.is_some_and(|v| v != t.version) {
            return Err(StoreError::stale("任务", from.label_zh()));
        }
        let (to, label) = match cmd.action() {
            Some(a) => {
                actor.authorize(a, &parties)?;
                (next_status(from, a)?, a.code().to_string())
            }
            None => (from, "report_subtask".to_string()),
        };
        let before = serde_json::json!({"status": from.code(), "deadline": ts(t.deadline), "progress": t.progress, "round": t.round});
        let now = ctx.now;
        let mut comment: String;
        let mut new_deadline = t.deadline;

        match &cmd {
            Command::Assign { comment: c } => {
                comment = optional_multiline("交办意见", c, 1000)?.unwrap_or_default();
                sqlx::query("UPDATE tasks SET assigned_at = $1 WHERE id = $2")
                    .bind(ts(now))
                    .bind(task_id)
                    .execute(&mut *tx)
                    .await?;
                notify(
                    &mut *tx,
                    Some(t.lead_unit_id),
                    None,
                    task_id,
                    "assign",
                    &format!("新交办任务「{}」，请立即签收并在2个工作小时内分解", t.title),
                    now,
                )
                .await?;
            }
            Command::Receive { comment: c } => {
                comment = optional_multiline("签收意见", c, 1000)?.unwrap_or_default();
                sqlx::query("UPDATE tasks SET signed_at = $1 WHERE id = $2")
                    .bind(ts(now))
                    .bind(task_id)
                    .execute(&mut *tx)
                    .await?;
            }
            Command::Decompose { subtasks, comment: c } => {
                // Every row's errors at once; nothing is written unless every row is right.
                let mut checks = Checks::new();
                comment = checks.take(optional_multiline("分解说明", c, 1000)).flatten().unwrap_or_default();
                if subtasks.is_empty() {
                    checks.fail("子任务", "至少分解出一项子任务，写明责任科室、责任人和完成时限");
                }
                let allowed_depts = crate::org::unit_and_descendants(&mut *tx, t.lead_unit_id).await?;
                let co: Vec<i64> = d.co_units.iter().map(|c| c.id).collect();
                let mut rows = vec![];
                for (i, s) in subtasks.iter().enumerate() {
                    let row = i + 1;
                    let title = checks.take(required_text(&format!("第{row}项子任务的名称"), &s.title, 200));
                    let dept_field = format!("第{row}项子任务的责任科室");
                    if !allowed_depts.contains(&s.dept_unit_id) && !co.contains(&s.dept_unit_id) {
                        checks.fail(&dept_field, "须为牵头单位、其内设科室或配合单位");
                    }
                    let p = sqlx::query("SELECT unit_id FROM people WHERE id = $1")
                        .bind(s.person_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let person_field = format!("第{row}项子任务的责任人");
                    match p {
                        None => checks.fail(&person_field, format!("编号 {} 的人员不存在", s.person_id)),
                        Some(p) if p.i("unit_id")? != s.dept_unit_id => {
                            checks.fail(&person_field, "不属于所选责任科室")
                        }
                        _ => {}
                    }
                    let field = format!("第{row}项子任务的完成时限");
                    let dl = checks
                        .take(xietong_supervision::validate::date(&field, s.deadline.trim()))
                        .and_then(|day| checks.take(deadline_on_working_day(ctx.cal, &field, day)));
                    if let Some(dl) = dl {
                        if dl > t.deadline {
                            checks.fail(&field, format!("不能晚于任务办理期限（{}）", t.deadline.format("%Y-%m-%d")));
                        }
                        checks.take(deadline_after(&field, dl, now, "当前时间"));
                    }
                    rows.push((title, dl, s));
                }
                checks.finish()?;
                for (title, dl, s) in rows {
                    let (Some(title), Some(dl)) = (title, dl) else { continue };
                    sqlx::query(
                        "INSERT INTO subtasks (task_id, title, dept_unit_id, person_id, deadline, progress, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $6)",
                    )
                    .bind(task_id)
                    .bind(title)
                    .bind(s.dept_unit_id)
                    .bind(s.person_id)
                    .bind(ts(dl))
                    .bind(ts(now))
                    .execute(&mut *tx)
                    .await?;
                    notify(
                        &mut *tx,
                        None,
                        Some(s.person_id),
                        task_id,
                        "subtask",
                        &format!("您被指定为「{}」的子任务责任人", t.title),
                        now,
                    )
                    .await?;
                }
                // The 2-hour clock stops at the first decomposition only.
                sqlx::query("UPDATE tasks SET decomposed_at = COALESCE(decomposed_at, $1) WHERE id = $2")
                    .bind(ts(now))
                    .bind(task_id)
                    .execute(&mut *tx)
                    .await?;
                if comment.is_empty() {
                    comment = format!("分解为 {} 项子任务", subtasks.len());
                }
            }
            Command::Report { progress: p, text, reason } => {
                let mut c = Checks::new();
                let p = c.take(progress_report("进度", t.progress, *p, reason));
                let text = c.take(required_multiline("进展情况", text, 2000));
                c.finish()?;
                let ((p, why), text) = p.zip(text).ok_or_else(|| StoreError::internal("汇报校验不完整"))?;
                sqlx::query("UPDATE tasks SET progress = $1, last_report_at = $2 WHERE id = $3")
                    .bind(p)
                    .bind(ts(now))
                    .bind(task_id)
                    .execute(&mut *tx)
                    .await?;
                comment = match why {
                    Some(why) => format!("进度 {p}%（由 {}% 调低，说明：{why}）：{text}", t.progress),
                    None => format!("进度 {p}%：{text}"),
                };
            }
            Command::ReportSubtask { subtask_id, progress: p, text, reason } => {
                let Some(s) = d.subtasks.iter().find(|s| s.id == *subtask_id) else {
                    return Err(StoreError::NotFound(format!("该任务没有编号为 {subtask_id} 的子任务")));
                };
                actor.may_report_subtask(&parties, PersonId(s.person_id))?;
                if from != TaskStatus::InProgress {
                    return Err(StoreError::Conflict(format!(
                        "任务当前状态为「{}」，不能汇报子任务进展",
                        from.label_zh()
                    )));
                }
                let mut c = Checks::new();
                let p = c.take(progress_report("进度", s.progress, *p, reason));
                let text = c.take(required_multiline("进展情况", text, 2000));
                c.finish()?;
                let ((p, why), text) = p.zip(text).ok_or_else(|| StoreError::internal("汇报校验不完整"))?;
                let text = match why {
                    Some(why) => format!("{text}（进度由 {}% 调低，说明：{why}）", s.progress),
                    None => text,
                };
                sqlx::query("UPDATE subtasks SET progress = $1, last_report = $2, updated_at = $3 WHERE id = $4")
                    .bind(p)
                    .bind(text.clone())
                    .bind(ts(now))
                    .bind(*subtask_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE tasks SET last_report_at = $1 WHERE id = $2")
                    .bind(ts(now))
                    .bind(task_id)
                    .execute(&mut *tx)
                    .await?;
                comment = format!("子任务「{}」进度 {p}%：{text}", s.title);
            }
            Command::RequestCompletion { text } => {
                comment = required_multiline("办结情况", text, 2000)?;
            }
            Command::Approve { comment: c } => {
                comment = optional_multiline("审核意见", c, 1000)?.unwrap_or_default();
                sqlx::query("UPDATE tasks SET closed_at = $1, progress = 100 WHERE id = $2")
                    .bind(ts(now))
                    .bind(task_id)
                    .execute(&mut *tx)
                    .await?;
            }
            Command::Reject { comment: c, new_deadline: nd } => {
                comment = required_multiline("退回原因", c, 1000)?;
                let dl = deadline_on_working_day(ctx.cal, "整改期限", parse_date("整改期限", nd.trim())?)?;
                deadline_after("整改期限", dl, now, "当前时间")?;
                deadline_within_years("整改期限", dl, now, 5)?;
                new_deadline = dl;
                sqlx::query("UPDATE tasks SET round = round + 1, deadline = $1 WHERE id = $2")
                    .bind(ts(dl))
                    .bind(task_id)
                    .execute(&mut *tx)
                    .await?;
                notify(
                    &mut *tx,
                    Some(t.lead_unit_id),
                    None,
                    task_id,
                    "reject",
                    &format!("任务「{}」被退回整改：{comment}", t.title),
                    now,
                )
                .await?;
                comment = format!("{comment}（整改期限 {}）", dl.format("%Y-%m-%d"));
            }
            Command::RequestExtension { reason, new_deadline: nd } => {
                comment = extensions::request(&mut *tx, user, ctx, &d, reason, nd).await?;
            }
            Command::ReviewExtension { extension_id, approve, comment: c }
            | Command::DecideExtension { extension_id, approve, comment: c } => {
                let a = cmd.action().unwrap_or(Action::ReviewExtension);
                let (c, moved) = extensions::answer(&mut *tx, user, ctx, &d, a, *extension_id, *approve, c).await?;
                comment = c;
                if let Some(dl) = moved {
                    new_deadline = dl;
                }
            }
            Command::Cancel { reason } => {
                comment = required_multiline("撤销原因", reason, 1000)?;
                sqlx::query("UPDATE tasks SET closed_at = $1 WHERE id = $2")
                    .bind(ts(now))
                    .bind(task_id)
                    .execute(&mut *tx)
                    .await?;
            }
            Command::Urge { comment: c } => {
                comment = urges::urge(&mut *tx, user, ctx, t, c).await?;
            }
            Command::Instruct { text } => {
                comment = required_multiline("批示内容", text, 2000)?;
                notify(
                    &mut *tx,
                    Some(t.lead_unit_id),
                    None,
                    task_id,
                    "instruct",
                    &format!("领导批示「{}」：{comment}", t.title),
                    now,
                )
                .await?;
            }
        }

        // Escalation follows the deadline: recompute when the task is swept next.
        let next_check = if matches!(to, TaskStatus::Assigned | TaskStatus::Received | TaskStatus::InProgress) {
            let fired = fired_steps(&mut *tx, task_id, new_deadline).await?;
            lights::next_check_at(ctx.cal, &ctx.rules.escalation, new_deadline, &fired, now).map(ts)
        } else {
            None
        };
        let changed = sqlx::query(
            "UPDATE tasks SET status = $1, next_check_at = $2, updated_at = $3, version = version + 1 \
             WHERE id = $4 AND status = $5 AND version = $6",
        )
        .bind(to.code().to_string())
        .bind(next_check)
        .bind(ts(now))
        .bind(task_id)
        .bind(from.code().to_string())
        .bind(t.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed != 1 {
            return Err(StoreError::stale("任务", from.label_zh()));
        }
        // A report keeps the progress as reported then, so a past month's ranking reads that month's.
        let data = match &cmd {
            Command::Report { progress: p, .. } => serde_json::json!({"progress": p}).to_string(),
            _ => String::new(),
        };
        event_with(&mut *tx, task_id, &label, user, now, (from.code(), to.code()), &comment, &data).await?;
        let forecast_late = match &cmd {
            Command::Report { .. } => {
                let swept = crate::sweep::Swept {
                    id: task_id,
                    title: t.title.clone(),
                    unit: t.lead_unit_id,
                    deadline: new_deadline,
                    status: to,
                };
                super::forecasts::remind_if_forecast_late(&mut *tx, ctx, &swept).await?
            }
            _ => None,
        };
        let after_row = sqlx::query("SELECT status, deadline, progress, round FROM tasks WHERE id = $1")
            .bind(task_id)
            .fetch_one(&mut *tx)
            .await?;
        let after = serde_json::json!({"status": after_row.s("status")?, "deadline": after_row.s("deadline")?, "progress": after_row.i("progress")?, "round": after_row.i("round")?, "comment": comment});
        append(
            &mut *tx,
            now,
            Change {
                actor: &user.username,
                action: &format!("task.{label}"),
                entity: "task",
                entity_id: task_id.to_string(),
                before: before.to_string(),
                after: after.to_string(),
            },
        )
        .await?;
        if let Some(after) = forecast_late {
            append(&mut *tx, now, crate::sweep::escalation_change(task_id, after)).await?;
        }
        let detail = load_detail(tx, task_id, now).await?;
        Ok(detail)
    }
}
