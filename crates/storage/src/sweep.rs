//! The escalation sweep, run by the server's own scheduler (no cron). Each task stores when it
//! next needs looking at, so a sweep reads only the due ones through an index. A step fires when
//! its row is inserted into `escalations`; the unique (task, step, deadline) key makes a second
//! process or a re-run after a crash insert nothing, and only the inserting transaction acts.

use chrono::NaiveDateTime;
use serde::Serialize;
use xietong_supervision::TaskStatus;
use xietong_supervision::lights::{self, EscalationStep};

use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::tasks::{Ctx, event, fired_steps, notify, week_label};
use crate::{Db, Result, RowExt, ts};

#[derive(Clone, Debug, Default, Serialize)]
pub struct SweepReport {
    pub tasks_checked: i64,
    pub steps_fired: i64,
}

/// The actor recorded for automatic steps.
pub(crate) fn system_user() -> SessionUser {
    SessionUser {
        user_id: 0,
        username: "system".into(),
        role: xietong_supervision::Role::Supervisor,
        person_id: 0,
        person_name: "系统".into(),
        post: String::new(),
        unit_id: 0,
        unit_name: "自动督办".into(),
        data_scope: xietong_supervision::DataScope::All,
        scope_unit_ids: vec![],
        must_change_password: false,
        csrf: String::new(),
    }
}

impl Db {
    /// Fire every escalation step due at `ctx.now`, `batch` tasks per transaction.
    pub async fn sweep(&self, ctx: &Ctx<'_>, batch: i64) -> Result<SweepReport> {
        let mut report = SweepReport::default();
        let sys = system_user();
        // Keyset walk in index order: every task handled moves past `now` (or to NULL), so the
        // walk never revisits it and reads only due rows.
        let (mut after_check, mut after_id) = (String::new(), 0i64);
        loop {
            let mut tx = self.begin().await?;
            // The batch's task rows are locked as they are read, skipping any a user holds: the
            // sweep never waits for a user (that task is looked at next time), and what it reads is
            // what it changes. A skipped row is passed by the keyset and found by the next sweep.
            let sql = format!(
                "SELECT id, title, deadline, status, lead_unit_id, next_check_at FROM tasks \
                 WHERE next_check_at <= $1 AND (next_check_at > $2 OR (next_check_at = $2 AND id > $3)) \
                 ORDER BY next_check_at, id LIMIT $4{}",
                crate::locks::skip_locked(&tx)
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(ts(ctx.now))
                .bind(after_check.clone())
                .bind(after_id)
                .bind(batch)
                .fetch_all(&mut *tx)
                .await?;
            if rows.is_empty() {
                tx.commit().await?;
                break;
            }
            let mut audit = vec![];
            for r in &rows {
                let id = r.i("id")?;
                after_id = id;
                after_check = r.s("next_check_at")?;
                report.tasks_checked += 1;
                let status = TaskStatus::from_code(&r.s("status")?).unwrap_or(TaskStatus::Cancelled);
                let deadline = r.t("deadline")?;
                let task = Swept { id, title: r.s("title")?, unit: r.i("lead_unit_id")?, deadline, status };
                let open = matches!(status, TaskStatus::Assigned | TaskStatus::Received | TaskStatus::InProgress);
                let mut fired = fired_steps(&mut tx, id, deadline).await?;
                if open {
                    for step in lights::due_steps(ctx.cal, &ctx.rules.escalation, deadline, &fired, ctx.now) {
                        if let Some(after) = fire(&mut tx, &task, step, "", ctx.now, &sys).await? {
                            report.steps_fired += 1;
                            audit.push((id, after));
                        }
                        fired.push(step);
                    }
                }
                let next = if open {
                    lights::next_check_at(ctx.cal, &ctx.rules.escalation, deadline, &fired, ctx.now).map(ts)
                } else {
                    None
                };
                let moved = sqlx::query("UPDATE tasks SET next_check_at = $1 WHERE id = $2 AND next_check_at = $3")
                    .bind(next)
                    .bind(id)
                    .bind(after_check.clone())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if moved != 1 {
                    // Only possible if the row changed under the lock: undo this batch, look again next time.
                    return Err(crate::StoreError::Busy(format!("任务 {id} 在升级检查时被修改")));
                }
            }
            // The audit chain head last and once per batch (see crate::locks), held only until commit.
            for (id, after) in audit {
                append(&mut tx, ctx.now, escalation_change(id, after)).await?;
            }
            tx.commit().await?;
        }
        Ok(report)
    }
}

impl Db {
    /// After the calendar or the rules changed: store each open task's next check time as the new
    /// calendar and rules give it, so a step moved earlier fires at its new time and one moved
    /// later does not fire early. Walks the open tasks by id, `batch` per transaction, each row
    /// locked (a user's action on it waits, then recomputes with the same rules). Returns how many
    /// stored times changed.
    pub async fn recompute_next_checks(&self, ctx: &Ctx<'_>, batch: i64) -> Result<u64> {
        let mut changed = 0;
        let mut after_id = 0i64;
        loop {
            let mut tx = self.begin().await?;
            let lock = crate::locks::row_lock(&tx);
            let sql = format!(
                "SELECT id, deadline, next_check_at FROM tasks WHERE status IN ('assigned','received','in_progress') AND id > $1 \
                 ORDER BY id LIMIT $2{lock}"
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(after_id).bind(batch).fetch_all(&mut *tx).await?;
            let Some(last) = rows.last() else {
                tx.commit().await?;
                break;
            };
            after_id = last.i("id")?;
            for r in &rows {
                let (id, deadline) = (r.i("id")?, r.t("deadline")?);
                let fired = fired_steps(&mut tx, id, deadline).await?;
                let next = lights::next_check_at(ctx.cal, &ctx.rules.escalation, deadline, &fired, ctx.now).map(ts);
                if next != r.os("next_check_at")? {
                    sqlx::query("UPDATE tasks SET next_check_at = $1 WHERE id = $2")
                        .bind(next)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    changed += 1;
                }
            }
            tx.commit().await?;
        }
        Ok(changed)
    }
}

/// The audit entry of a step that fired.
pub(crate) fn escalation_change(task_id: i64, after: String) -> Change<'static> {
    Change {
        actor: "system",
        action: "task.escalate",
        entity: "task",
        entity_id: task_id.to_string(),
        before: String::new(),
        after,
    }
}

/// What a step needs to know of its task.
pub(crate) struct Swept {
    pub id: i64,
    pub title: String,
    /// The lead unit, who is told.
    pub unit: i64,
    pub deadline: NaiveDateTime,
    pub status: TaskStatus,
}

/// Insert the step's row; only if this transaction inserted it, carry out its effects and return
/// the audit entry's `after` (the caller appends it, last in its transaction). `basis` explains a
/// 预计逾期提醒 (the forecast's sentence).
pub(crate) async fn fire(
    tx: &mut sqlx::AnyConnection,
    task: &Swept,
    step: EscalationStep,
    basis: &str,
    now: NaiveDateTime,
    sys: &SessionUser,
) -> Result<Option<String>> {
    let (task_id, title, deadline) = (task.id, &task.title, task.deadline);
    let res = sqlx::query(
        "INSERT INTO escalations (task_id, step, deadline, fired_at, fired_by) VALUES ($1, $2, $3, $4, 'system') \
         ON CONFLICT (task_id, step, deadline) DO NOTHING",
    )
    .bind(task_id)
    .bind(step.code().to_string())
    .bind(ts(deadline))
    .bind(ts(now))
    .execute(&mut *tx)
    .await?;
    if res.rows_affected() != 1 {
        return Ok(None);
    }
    let text = match step {
        EscalationStep::ForecastLate => {
            format!("【预计逾期提醒】「{title}」{basis}，请加快进度，确保在期限前完成")
        }
        EscalationStep::Remind => {
            format!("【提醒】「{title}」将于 {} 到期，请抓紧办理", deadline.format("%Y-%m-%d %H:%M"))
        }
        EscalationStep::Urge => {
            format!("【催办】「{title}」已超过办理期限 {}，请立即办理并说明原因", deadline.format("%Y-%m-%d %H:%M"))
        }
        EscalationStep::NoticeWarning => format!("【通报预警】「{title}」逾期未办结，将纳入督查通报"),
        EscalationStep::LedgerCandidate => format!("【问题台账】「{title}」长期逾期，建议列入问题台账研判"),
    };
    notify(tx, Some(task.unit), None, task_id, step.code(), &text, now).await?;
    if step == EscalationStep::Urge {
        sqlx::query(
            "INSERT INTO urges (task_id, manual, by_user_id, at, week, comment) VALUES ($1, 0, NULL, $2, $3, $4)",
        )
        .bind(task_id)
        .bind(ts(now))
        .bind(week_label(now))
        .bind(text.clone())
        .execute(&mut *tx)
        .await?;
    }
    let status = task.status.code();
    event(tx, task_id, &format!("escalate:{}", step.code()), sys, now, status, status, &text).await?;
    Ok(Some(serde_json::json!({"step": step.code(), "deadline": ts(deadline)}).to_string()))
}
