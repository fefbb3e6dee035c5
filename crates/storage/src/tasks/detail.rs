//! One task's detail (co-units, subtasks, timeline, extensions, escalations, 催办 counts), and the
//! timeline and notification rows every action writes.

use chrono::NaiveDateTime;
use xietong_supervision::TaskId;
use xietong_supervision::lifecycle::{Action, ExtensionStatus};
use xietong_supervision::lights::EscalationStep;

use super::{Escalation, Extension, Subtask, TASK_SELECT, TaskDetail, TaskEvent, UnitRef, task, week_label};
use crate::auth::SessionUser;
use crate::{Db, Result, RowExt, StoreError, ts};

impl Db {
    pub async fn get_task(&self, user: &SessionUser, id: TaskId, now: NaiveDateTime) -> Result<TaskDetail> {
        let mut conn = self.pool.acquire().await?;
        let d = load_detail(&mut conn, id.0, now).await?;
        user.actor().must_view(&d.parties())?;
        Ok(d)
    }
}

pub(crate) async fn fired_steps(
    tx: &mut sqlx::AnyConnection,
    task_id: i64,
    deadline: NaiveDateTime,
) -> Result<Vec<EscalationStep>> {
    let rows = sqlx::query("SELECT step FROM escalations WHERE task_id = $1 AND deadline = $2")
        .bind(task_id)
        .bind(ts(deadline))
        .fetch_all(&mut *tx)
        .await?;
    Ok(rows.iter().filter_map(|r| r.s("step").ok().and_then(|s| EscalationStep::from_code(&s))).collect())
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn event(
    tx: &mut sqlx::AnyConnection,
    task_id: i64,
    action: &str,
    user: &SessionUser,
    at: NaiveDateTime,
    from: &str,
    to: &str,
    comment: &str,
) -> Result<()> {
    event_with(tx, task_id, action, user, at, (from, to), comment, "").await
}

/// A timeline entry with its data (JSON text or empty), written in one statement.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn event_with(
    tx: &mut sqlx::AnyConnection,
    task_id: i64,
    action: &str,
    user: &SessionUser,
    at: NaiveDateTime,
    (from, to): (&str, &str),
    comment: &str,
    data: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO task_events (task_id, action, actor_user_id, actor_name, at, from_status, to_status, comment, data) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
        .bind(task_id)
        .bind(action.to_string())
        .bind(if user.user_id > 0 { Some(user.user_id) } else { None })
        .bind(user.display_name())
        .bind(ts(at))
        .bind(from.to_string())
        .bind(to.to_string())
        .bind(comment.to_string())
        .bind(data.to_string())
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// A message about a task (to its unit or a person), linking to the task's page.
pub(crate) async fn notify(
    tx: &mut sqlx::AnyConnection,
    unit_id: Option<i64>,
    person_id: Option<i64>,
    task_id: i64,
    kind: &str,
    text: &str,
    at: NaiveDateTime,
) -> Result<()> {
    let to = crate::inbox::To { unit_id, person_id, role: None };
    crate::inbox::send(tx, to, kind, text, Some(task_id), Some(&format!("/tasks/{task_id}")), at).await
}

pub(crate) async fn load_detail(conn: &mut sqlx::AnyConnection, id: i64, now: NaiveDateTime) -> Result<TaskDetail> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!("{TASK_SELECT} WHERE t.id = $1")))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("编号 {id} 的任务不存在")))?;
    let task = task(&r)?;
    let co_units = sqlx::query(
        "SELECT u.id, u.name FROM task_co_units c JOIN units u ON u.id = c.unit_id WHERE c.task_id = $1 ORDER BY u.id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Ok(UnitRef { id: r.i("id")?, name: r.s("name")? }))
    .collect::<Result<Vec<_>>>()?;
    let subtasks = sqlx::query(
        "SELECT s.*, u.name AS dept_name, p.name AS person_name FROM subtasks s JOIN units u ON u.id = s.dept_unit_id \
         JOIN people p ON p.id = s.person_id WHERE s.task_id = $1 ORDER BY s.id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(Subtask {
            id: r.i("id")?,
            title: r.s("title")?,
            dept_unit_id: r.i("dept_unit_id")?,
            dept_name: r.s("dept_name")?,
            person_id: r.i("person_id")?,
            person_name: r.s("person_name")?,
            deadline: r.t("deadline")?,
            progress: r.i("progress")?,
            last_report: r.s("last_report")?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let events = sqlx::query("SELECT * FROM task_events WHERE task_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            let action = r.s("action")?;
            let action_label = match action.as_str() {
                "create" => "立项".to_string(),
                "report_subtask" => "子任务汇报".to_string(),
                a if a.starts_with("escalate:") => EscalationStep::from_code(&a[9..])
                    .map(|s| format!("自动{}", s.label_zh()))
                    .unwrap_or_else(|| a.to_string()),
                a => Action::from_code(a).map(|a| a.label_zh().to_string()).unwrap_or_else(|| a.to_string()),
            };
            Ok(TaskEvent {
                id: r.i("id")?,
                action,
                action_label,
                actor_name: r.s("actor_name")?,
                at: r.t("at")?,
                from_status: r.s("from_status")?,
                to_status: r.s("to_status")?,
                comment: r.s("comment")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let extensions = sqlx::query(
        "SELECT e.*, p.name AS requester, p.post AS requester_post, un.name AS requester_unit FROM extensions e \
         JOIN users us ON us.id = e.requested_by JOIN people p ON p.id = us.person_id \
         JOIN units un ON un.id = p.unit_id \
         WHERE e.task_id = $1 ORDER BY e.id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        let st = r.s("status")?;
        Ok(Extension {
            id: r.i("id")?,
            requested_at: r.t("requested_at")?,
            requested_by: crate::auth::person_display(
                &r.s("requester_unit")?,
                &r.s("requester_post")?,
                &r.s("requester")?,
            ),
            reason: r.s("reason")?,
            old_deadline: r.t("old_deadline")?,
            new_deadline: r.t("new_deadline")?,
            status: ExtensionStatus::from_code(&st)
                .ok_or_else(|| StoreError::internal(format!("延期状态无效：{st}")))?,
            review_comment: r.s("review_comment")?,
            decision_comment: r.s("decision_comment")?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let escalations = sqlx::query("SELECT * FROM escalations WHERE task_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .filter_map(|r| {
            let step = EscalationStep::from_code(&r.s("step").ok()?)?;
            Some(Ok(Escalation {
                step,
                deadline: r.t("deadline").ok()?,
                fired_at: r.t("fired_at").ok()?,
                fired_by: r.s("fired_by").ok()?,
            }))
        })
        .collect::<Result<Vec<_>>>()?;
    let urge_total = sqlx::query("SELECT COUNT(*) AS n FROM urges WHERE task_id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?
        .i("n")?;
    let urge_manual_this_week =
        sqlx::query("SELECT COUNT(*) AS n FROM urges WHERE task_id = $1 AND week = $2 AND manual = 1")
            .bind(id)
            .bind(week_label(now))
            .fetch_one(&mut *conn)
            .await?
            .i("n")?;
    Ok(TaskDetail { task, co_units, subtasks, events, extensions, escalations, urge_total, urge_manual_this_week })
}
