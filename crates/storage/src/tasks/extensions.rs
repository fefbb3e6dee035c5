//! 延期: the lead unit asks before the deadline, the 督查局 reviews, the 分管领导 decides; an
//! approved extension moves the task's deadline. The bodies of [`Db::perform_in`]'s 延期 arms (申请, 审核, 审批),
//! run inside its transaction after the task row is locked and the action authorised.
//!
//! [`Db::perform_in`]: crate::Db::perform_in

use chrono::NaiveDateTime;
use xietong_calendar::parse_date;
use xietong_supervision::lifecycle::{Action, ExtensionStatus};
use xietong_supervision::validate::{
    deadline_after, deadline_on_working_day, deadline_within_years, optional_multiline, required_multiline,
};

use super::{Ctx, TaskDetail};
use crate::auth::SessionUser;
use crate::{Result, StoreError, ts};

/// 申请延期: one open request per task, made before the deadline, to a later working day.
/// Returns the timeline comment.
pub(super) async fn request(
    tx: &mut sqlx::AnyConnection,
    user: &SessionUser,
    ctx: &Ctx<'_>,
    d: &TaskDetail,
    reason: &str,
    nd: &str,
) -> Result<String> {
    let (t, now, task_id) = (&d.task, ctx.now, d.task.id);
    let reason = required_multiline("延期理由", reason, 1000)?;
    if now >= t.deadline {
        return Err(StoreError::Conflict(format!(
            "延期申请须在办理期限（{}）之前提出，现已逾期",
            t.deadline.format("%Y-%m-%d %H:%M")
        )));
    }
    if d.extensions.iter().any(|e| e.status.is_open()) {
        return Err(StoreError::Conflict("该任务已有一项延期申请正在审批中".into()));
    }
    let dl = deadline_on_working_day(ctx.cal, "申请延期至", parse_date("申请延期至", nd.trim())?)?;
    deadline_after("申请延期至", dl, t.deadline, "当前办理期限")?;
    deadline_within_years("申请延期至", dl, now, 5)?;
    sqlx::query(
        "INSERT INTO extensions (task_id, requested_by, requested_at, reason, old_deadline, new_deadline, status) VALUES ($1, $2, $3, $4, $5, $6, 'pending')",
    )
    .bind(task_id)
    .bind(user.user_id)
    .bind(ts(now))
    .bind(reason.clone())
    .bind(ts(t.deadline))
    .bind(ts(dl))
    .execute(&mut *tx)
    .await?;
    Ok(format!("申请延期至 {}：{reason}", dl.format("%Y-%m-%d")))
}

/// 延期审核 (`a` = ReviewExtension, the 督查局) or 延期审批 (DecideExtension, the 分管领导) of one
/// request, guarded by its status. Returns the timeline comment and, once approved, the new deadline.
#[allow(clippy::too_many_arguments)]
pub(super) async fn answer(
    tx: &mut sqlx::AnyConnection,
    user: &SessionUser,
    ctx: &Ctx<'_>,
    d: &TaskDetail,
    a: Action,
    extension_id: i64,
    approve: bool,
    c: &str,
) -> Result<(String, Option<NaiveDateTime>)> {
    let (now, task_id) = (ctx.now, d.task.id);
    let mut new_deadline = None;
    let Some(e) = d.extensions.iter().find(|e| e.id == extension_id) else {
        return Err(StoreError::NotFound(format!("该任务没有编号为 {extension_id} 的延期申请")));
    };
    let next = e.status.after(a, approve).map_err(StoreError::Conflict)?;
    let c = if approve {
        optional_multiline("审批意见", c, 1000)?.unwrap_or_default()
    } else {
        required_multiline("驳回理由", c, 1000)?
    };
    let (by, at, cm) = if a == Action::ReviewExtension {
        ("reviewed_by", "reviewed_at", "review_comment")
    } else {
        ("decided_by", "decided_at", "decision_comment")
    };
    let sql =
        format!("UPDATE extensions SET status = $1, {by} = $2, {at} = $3, {cm} = $4 WHERE id = $5 AND status = $6");
    let changed = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(next.code().to_string())
        .bind(user.user_id)
        .bind(ts(now))
        .bind(c.clone())
        .bind(extension_id)
        .bind(e.status.code().to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if changed != 1 {
        return Err(StoreError::stale("延期申请", e.status.label_zh()));
    }
    if next == ExtensionStatus::Approved {
        new_deadline = Some(e.new_deadline);
        sqlx::query("UPDATE tasks SET deadline = $1 WHERE id = $2")
            .bind(ts(e.new_deadline))
            .bind(task_id)
            .execute(&mut *tx)
            .await?;
    }
    let comment = format!(
        "{}：{}{}",
        if approve { "同意" } else { "不同意" },
        next.label_zh(),
        if c.is_empty() { String::new() } else { format!("，{c}") }
    );
    Ok((comment, new_deadline))
}
