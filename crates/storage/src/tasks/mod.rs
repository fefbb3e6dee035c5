//! Tasks: 立项, every lifecycle action in one transaction (rules → change → timeline → audit), and the
//! lists people work from. Access and transition rules come from `xietong_supervision`; this module
//! only loads the facts they need and writes the outcome.

use chrono::{Datelike, NaiveDateTime};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use xietong_calendar::{parse_date, parse_datetime, WorkCalendar};
use xietong_supervision::lifecycle::{next_status, Action, ExtensionStatus, ReportCycle, SourceKind, TaskStatus};
use xietong_supervision::lights::{self, EscalationStep};
use xietong_supervision::validate::{deadline_after, deadline_on_working_day, deadline_within_years, doc_no, optional_text, progress, required_text};
use xietong_supervision::{DataScope, Role, TaskParties};

use crate::audit::{append, Change};
use crate::auth::SessionUser;
use crate::calendar::Rules;
use crate::{ts, Db, Result, RowExt, StoreError};

/// What computations need besides the database: the calendar and the configurable rules.
pub struct Ctx<'a> {
    pub cal: &'a WorkCalendar,
    pub rules: &'a Rules,
    pub now: NaiveDateTime,
}

#[derive(Clone, Debug, Deserialize, Default, utoipa::ToSchema)]
pub struct NewTask {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub source_kind: String,
    pub doc_no: String,
    #[serde(default)]
    pub source_title: String,
    pub source_date: String,
    #[serde(default)]
    pub category_id: Option<i64>,
    pub lead_unit_id: i64,
    #[serde(default)]
    pub co_unit_ids: Vec<i64>,
    #[serde(default)]
    pub leader_person_id: Option<i64>,
    pub report_cycle: String,
    /// The deadline date; due at the end of that day's office hours.
    pub deadline: String,
    /// When the 督查局 received it; defaults to now.
    #[serde(default)]
    pub received_at: Option<String>,
    /// 立项并交办 in one step.
    #[serde(default)]
    pub assign_now: bool,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewSubtask {
    pub title: String,
    pub dept_unit_id: i64,
    pub person_id: i64,
    pub deadline: String,
}

/// Everything that can be done to an existing task.
#[derive(Clone, Debug)]
pub enum Command {
    Assign { comment: String },
    Receive { comment: String },
    Decompose { subtasks: Vec<NewSubtask>, comment: String },
    Report { progress: i64, text: String },
    RequestCompletion { text: String },
    Approve { comment: String },
    Reject { comment: String, new_deadline: String },
    RequestExtension { reason: String, new_deadline: String },
    ReviewExtension { extension_id: i64, approve: bool, comment: String },
    DecideExtension { extension_id: i64, approve: bool, comment: String },
    Cancel { reason: String },
    Urge { comment: String },
    Instruct { text: String },
    ReportSubtask { subtask_id: i64, progress: i64, text: String },
}

impl Command {
    pub fn action(&self) -> Option<Action> {
        Some(match self {
            Self::Assign { .. } => Action::Assign,
            Self::Receive { .. } => Action::Receive,
            Self::Decompose { .. } => Action::Decompose,
            Self::Report { .. } => Action::Report,
            Self::RequestCompletion { .. } => Action::RequestCompletion,
            Self::Approve { .. } => Action::Approve,
            Self::Reject { .. } => Action::Reject,
            Self::RequestExtension { .. } => Action::RequestExtension,
            Self::ReviewExtension { .. } => Action::ReviewExtension,
            Self::DecideExtension { .. } => Action::DecideExtension,
            Self::Cancel { .. } => Action::Cancel,
            Self::Urge { .. } => Action::Urge,
            Self::Instruct { .. } => Action::Instruct,
            Self::ReportSubtask { .. } => return None,
        })
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Task {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub source_kind: SourceKind,
    pub doc_no: String,
    pub source_title: String,
    pub source_date: String,
    pub category_id: Option<i64>,
    pub category_name: Option<String>,
    pub lead_unit_id: i64,
    pub lead_unit_name: String,
    /// 一把手 of the lead unit, named on every task (工作保障机制).
    pub lead_unit_head: Option<String>,
    pub leader_person_id: Option<i64>,
    pub leader_name: Option<String>,
    pub status: TaskStatus,
    pub report_cycle: ReportCycle,
    pub round: i64,
    pub progress: i64,
    pub received_at: NaiveDateTime,
    pub assigned_at: Option<NaiveDateTime>,
    pub signed_at: Option<NaiveDateTime>,
    pub decomposed_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub deadline: NaiveDateTime,
    pub last_report_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Incremented by every action; a form sends back the version it showed, and an action on a
    /// task that moved on since is refused (409) instead of applied to a state nobody saw.
    pub version: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Subtask {
    pub id: i64,
    pub title: String,
    pub dept_unit_id: i64,
    pub dept_name: String,
    pub person_id: i64,
    pub person_name: String,
    pub deadline: NaiveDateTime,
    pub progress: i64,
    pub last_report: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TaskEvent {
    pub id: i64,
    pub action: String,
    pub action_label: String,
    pub actor_name: String,
    pub at: NaiveDateTime,
    pub from_status: String,
    pub to_status: String,
    pub comment: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Extension {
    pub id: i64,
    pub requested_at: NaiveDateTime,
    pub requested_by: String,
    pub reason: String,
    pub old_deadline: NaiveDateTime,
    pub new_deadline: NaiveDateTime,
    pub status: ExtensionStatus,
    pub review_comment: String,
    pub decision_comment: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Escalation {
    pub step: EscalationStep,
    pub deadline: NaiveDateTime,
    pub fired_at: NaiveDateTime,
    pub fired_by: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct UnitRef {
    pub id: i64,
    pub name: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TaskDetail {
    pub task: Task,
    pub co_units: Vec<UnitRef>,
    pub subtasks: Vec<Subtask>,
    pub events: Vec<TaskEvent>,
    pub extensions: Vec<Extension>,
    pub escalations: Vec<Escalation>,
    /// Every 催办, automatic and by hand.
    pub urge_total: i64,
    /// 催办 by hand this week, against the weekly cap.
    pub urge_manual_this_week: i64,
}

impl TaskDetail {
    pub fn parties(&self) -> TaskParties {
        TaskParties {
            lead_unit_id: self.task.lead_unit_id,
            co_unit_ids: self.co_units.iter().map(|c| c.id).collect(),
            leader_person_id: self.task.leader_person_id,
            subtask_person_ids: self.subtasks.iter().map(|s| s.person_id).collect(),
        }
    }
}

/// Filters for the task list; all optional.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
pub struct TaskFilter {
    pub status: Option<String>,
    pub light: Option<String>,
    pub lead_unit_id: Option<i64>,
    pub category_id: Option<i64>,
    pub source_kind: Option<String>,
    pub q: Option<String>,
    pub page: Option<i64>,
    pub page_size: Option<i64>,
}

pub(crate) const TASK_SELECT: &str = "SELECT t.*, u.name AS lead_unit_name, hp.name AS lead_unit_head, lp.name AS leader_name, c.name AS category_name \
     FROM tasks t JOIN units u ON u.id = t.lead_unit_id LEFT JOIN people hp ON hp.id = u.head_person_id \
     LEFT JOIN people lp ON lp.id = t.leader_person_id LEFT JOIN categories c ON c.id = t.category_id";

pub(crate) fn task(r: &AnyRow) -> Result<Task> {
    let bad = |what: &str, v: String| StoreError::internal(format!("数据库中的{what}无效：{v}"));
    let status = r.s("status")?;
    let source = r.s("source_kind")?;
    let cycle = r.s("report_cycle")?;
    Ok(Task {
        id: r.i("id")?,
        title: r.s("title")?,
        description: r.s("description")?,
        source_kind: SourceKind::from_code(&source).ok_or_else(|| bad("任务来源", source.clone()))?,
        doc_no: r.s("doc_no")?,
        source_title: r.s("source_title")?,
        source_date: r.s("source_date")?,
        category_id: r.oi("category_id")?,
        category_name: r.os("category_name")?,
        lead_unit_id: r.i("lead_unit_id")?,
        lead_unit_name: r.s("lead_unit_name")?,
        lead_unit_head: r.os("lead_unit_head")?,
        leader_person_id: r.oi("leader_person_id")?,
        leader_name: r.os("leader_name")?,
        status: TaskStatus::from_code(&status).ok_or_else(|| bad("状态", status.clone()))?,
        report_cycle: ReportCycle::from_code(&cycle).ok_or_else(|| bad("汇报周期", cycle.clone()))?,
        round: r.i("round")?,
        progress: r.i("progress")?,
        received_at: r.t("received_at")?,
        assigned_at: r.ot("assigned_at")?,
        signed_at: r.ot("signed_at")?,
        decomposed_at: r.ot("decomposed_at")?,
        closed_at: r.ot("closed_at")?,
        deadline: r.t("deadline")?,
        last_report_at: r.ot("last_report_at")?,
        created_at: r.t("created_at")?,
        updated_at: r.t("updated_at")?,
        version: r.i("version")?,
    })
}

/// ISO week label used for the weekly 催办 cap, e.g. "2026-W47".
pub fn week_label(t: NaiveDateTime) -> String {
    let w = t.date().iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// SQL condition restricting tasks `t` to the user's data scope. Ids are integers from the
/// session, never user text, so inlining them is safe.
pub fn scope_sql(user: &SessionUser) -> String {
    // The same rule as Actor::can_view, as SQL.
    if !Role::SCOPED.contains(&user.role) {
        return "1=0".into();
    }
    match user.data_scope {
        DataScope::All => "1=1".into(),
        DataScope::SelfOnly => format!(
            "(t.leader_person_id = {p} OR EXISTS (SELECT 1 FROM subtasks st WHERE st.task_id = t.id AND st.person_id = {p}))",
            p = user.person_id
        ),
        _ if user.scope_unit_ids.is_empty() => "1=0".into(),
        _ => {
            let units = user.scope_unit_ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
            format!("(t.lead_unit_id IN ({units}) OR EXISTS (SELECT 1 FROM task_co_units cu WHERE cu.task_id = t.id AND cu.unit_id IN ({units})))")
        }
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TaskPage {
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
    pub items: Vec<Task>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TodoItem {
    pub task: Task,
    /// What is expected of this user, e.g. "待签收".
    pub what: String,
}

impl Db {
    pub(crate) async fn unit_exists(&self, tx: &mut sqlx::AnyConnection, field: &str, id: i64) -> Result<()> {
        let n = sqlx::query("SELECT COUNT(*) AS n FROM units WHERE id = $1").bind(id).fetch_one(&mut *tx).await?.i("n")?;
        if n == 0 { Err(StoreError::invalid(field, format!("编号 {id} 的单位不存在"))) } else { Ok(()) }
    }

    /// 立项 (and optionally 交办 at once). Only the 督查局 may do it.
    pub async fn create_task(&self, user: &SessionUser, ctx: &Ctx<'_>, n: &NewTask) -> Result<i64> {
        let mut tx = self.begin().await?;
        let id = self.create_task_in(&mut tx, user, ctx, n).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// 立项 inside a caller's transaction, so an import or a project can create many tasks or
    /// none. With `assign_now`, 交办 happens in the same transaction.
    pub async fn create_task_in(&self, tx: &mut sqlx::AnyConnection, user: &SessionUser, ctx: &Ctx<'_>, n: &NewTask) -> Result<i64> {
        user.actor().may_create_task(n.lead_unit_id)?;
        let title = required_text("任务名称", &n.title, 200)?;
        let description = optional_text("任务内容", &n.description, 5000)?.unwrap_or_default();
        let source_kind = SourceKind::from_code(n.source_kind.trim())
            .ok_or_else(|| StoreError::invalid("任务来源", "应为 上级交办、会议 或 领导批示"))?;
        let doc = doc_no(&n.doc_no)?;
        let source_title = optional_text("来源文件/会议名称", &n.source_title, 200)?.unwrap_or_default();
        let source_date = parse_date("来源日期", n.source_date.trim())?;
        let cycle = ReportCycle::from_code(n.report_cycle.trim())
            .ok_or_else(|| StoreError::invalid("汇报周期", "应为 每周、每半月、每月 或 按节点"))?;
        let received_at = match n.received_at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => parse_datetime("收件时间", s)?,
            None => ctx.now,
        };
        if received_at > ctx.now {
            return Err(StoreError::invalid("收件时间", "不能晚于当前时间"));
        }
        if source_date > received_at.date() {
            return Err(StoreError::invalid("来源日期", "不能晚于收件时间"));
        }
        let deadline = deadline_on_working_day(ctx.cal, "办理期限", parse_date("办理期限", n.deadline.trim())?)?;
        deadline_after("办理期限", deadline, received_at, "收件时间")?;
        deadline_within_years("办理期限", deadline, ctx.now, 5)?;
        if received_at < ctx.now - chrono::Duration::days(366 * 5) {
            return Err(StoreError::invalid("收件时间", "不能早于当前时间 5 年以上"));
        }
        if n.co_unit_ids.contains(&n.lead_unit_id) {
            return Err(StoreError::invalid("配合单位", "不能包含牵头单位"));
        }

        self.unit_exists(tx, "牵头单位", n.lead_unit_id).await?;
        for u in &n.co_unit_ids {
            self.unit_exists(tx, "配合单位", *u).await?;
        }
        if let Some(p) = n.leader_person_id {
            let r = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE person_id = $1 AND role = 'leader'").bind(p).fetch_one(&mut *tx).await?;
            if r.i("n")? == 0 {
                return Err(StoreError::invalid("分管领导", format!("编号 {p} 的人员不是区领导")));
            }
        }
        if let Some(c) = n.category_id {
            let r = sqlx::query("SELECT COUNT(*) AS n FROM categories WHERE id = $1").bind(c).fetch_one(&mut *tx).await?;
            if r.i("n")? == 0 {
                return Err(StoreError::invalid("工作类别", format!("编号 {c} 的类别不存在")));
            }
        }
        let dup = sqlx::query("SELECT COUNT(*) AS n FROM tasks WHERE doc_no = $1").bind(doc.clone()).fetch_one(&mut *tx).await?;
        if dup.i("n")? > 0 {
            return Err(StoreError::invalid("文号", format!("「{doc}」已存在，同一文号不能重复立项")));
        }
        let id = sqlx::query(
            "INSERT INTO tasks (title, description, source_kind, doc_no, source_title, source_date, category_id, lead_unit_id, \
             leader_person_id, status, report_cycle, round, progress, received_at, deadline, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'draft', $10, 1, 0, $11, $12, $13, $14, $14) RETURNING id",
        )
        .bind(title.clone())
        .bind(description)
        .bind(source_kind.code().to_string())
        .bind(doc.clone())
        .bind(source_title)
        .bind(source_date.to_string())
        .bind(n.category_id)
        .bind(n.lead_unit_id)
        .bind(n.leader_person_id)
        .bind(cycle.code().to_string())
        .bind(ts(received_at))
        .bind(ts(deadline))
        .bind(user.user_id)
        .bind(ts(ctx.now))
        .fetch_one(&mut *tx)
        .await?
        .i("id")?;
        for u in &n.co_unit_ids {
            sqlx::query("INSERT INTO task_co_units (task_id, unit_id) VALUES ($1, $2) ON CONFLICT DO NOTHING").bind(id).bind(*u).execute(&mut *tx).await?;
        }
        event(&mut *tx, id, "create", user, ctx.now, "", "draft", &format!("立项：{title}")).await?;
        let after = serde_json::json!({"title": title, "doc_no": doc, "lead_unit_id": n.lead_unit_id, "co_unit_ids": n.co_unit_ids,
            "deadline": ts(deadline), "received_at": ts(received_at), "source_kind": source_kind.code()});
        append(tx, ctx.now, Change { actor: &user.username, action: "task.create", entity: "task", entity_id: id.to_string(), before: String::new(), after: after.to_string() }).await?;
        if n.assign_now {
            self.perform_in(tx, user, ctx, id, Command::Assign { comment: String::new() }, None).await?;
        }
        Ok(id)
    }

    pub async fn get_task(&self, user: &SessionUser, id: i64, now: NaiveDateTime) -> Result<TaskDetail> {
        let mut conn = self.pool.acquire().await?;
        let d = load_detail(&mut conn, id, now).await?;
        user.actor().must_view(&d.parties())?;
        Ok(d)
    }

    /// Perform one action on a task: check scope, role and state, validate, write, record the
    /// timeline and the audit entry — all in one transaction, so a refusal changes nothing.
    pub async fn perform(&self, user: &SessionUser, ctx: &Ctx<'_>, task_id: i64, cmd: Command) -> Result<TaskDetail> {
        self.perform_seen(user, ctx, task_id, cmd, None).await
    }

    /// [`Db::perform`] for a form or call that says which version of the task it was shown:
    /// if the task moved on since, nothing is done and the answer is 409 with the current state.
    pub async fn perform_seen(&self, user: &SessionUser, ctx: &Ctx<'_>, task_id: i64, cmd: Command, seen: Option<i64>) -> Result<TaskDetail> {
        crate::locks::retrying(|| async {
            let mut tx = self.begin().await?;
            let detail = self.perform_in(&mut tx, user, ctx, task_id, cmd.clone(), seen).await?;
            tx.commit().await?;
            Ok(detail)
        })
        .await
    }

    /// [`Db::perform`] inside a caller's transaction. The task's row is locked first (see
    /// [`crate::locks`]), so the state the rules are checked against is the state that is changed.
    pub async fn perform_in(&self, tx: &mut sqlx::AnyConnection, user: &SessionUser, ctx: &Ctx<'_>, task_id: i64, cmd: Command, seen: Option<i64>) -> Result<TaskDetail> {
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
                comment = optional_text("交办意见", c, 1000)?.unwrap_or_default();
                sqlx::query("UPDATE tasks SET assigned_at = $1 WHERE id = $2").bind(ts(now)).bind(task_id).execute(&mut *tx).await?;
                notify(&mut *tx, Some(t.lead_unit_id), None, task_id, "assign", &format!("新交办任务「{}」，请立即签收并在2个工作小时内分解", t.title), now).await?;
            }
            Command::Receive { comment: c } => {
                comment = optional_text("签收意见", c, 1000)?.unwrap_or_default();
                sqlx::query("UPDATE tasks SET signed_at = $1 WHERE id = $2").bind(ts(now)).bind(task_id).execute(&mut *tx).await?;
            }
            Command::Decompose { subtasks, comment: c } => {
                comment = optional_text("分解说明", c, 1000)?.unwrap_or_default();
                if subtasks.is_empty() {
                    return Err(StoreError::invalid("子任务", "至少分解出一项子任务，写明责任科室、责任人和完成时限"));
                }
                let allowed_depts = crate::org::unit_and_descendants(&mut *tx, t.lead_unit_id).await?;
                let co: Vec<i64> = d.co_units.iter().map(|c| c.id).collect();
                for (i, s) in subtasks.iter().enumerate() {
                    let row = i + 1;
                    let title = required_text(&format!("第{row}项子任务的名称"), &s.title, 200)?;
                    if !allowed_depts.contains(&s.dept_unit_id) && !co.contains(&s.dept_unit_id) {
                        return Err(StoreError::invalid(&format!("第{row}项子任务的责任科室"), "须为牵头单位、其内设科室或配合单位"));
                    }
                    let p = sqlx::query("SELECT unit_id FROM people WHERE id = $1").bind(s.person_id).fetch_optional(&mut *tx).await?;
                    match p {
                        None => return Err(StoreError::invalid(&format!("第{row}项子任务的责任人"), format!("编号 {} 的人员不存在", s.person_id))),
                        Some(p) if p.i("unit_id")? != s.dept_unit_id => {
                            return Err(StoreError::invalid(&format!("第{row}项子任务的责任人"), "不属于所选责任科室"));
                        }
                        _ => {}
                    }
                    let field = format!("第{row}项子任务的完成时限");
                    let dl = deadline_on_working_day(ctx.cal, &field, parse_date(&field, s.deadline.trim())?)?;
                    if dl > t.deadline {
                        return Err(StoreError::invalid(&field, format!("不能晚于任务办理期限（{}）", t.deadline.format("%Y-%m-%d"))));
                    }
                    deadline_after(&field, dl, now, "当前时间")?;
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
                    notify(&mut *tx, None, Some(s.person_id), task_id, "subtask", &format!("您被指定为「{}」的子任务责任人", t.title), now).await?;
                }
                // The 2-hour clock stops at the first decomposition only.
                sqlx::query("UPDATE tasks SET decomposed_at = COALESCE(decomposed_at, $1) WHERE id = $2").bind(ts(now)).bind(task_id).execute(&mut *tx).await?;
                if comment.is_empty() {
                    comment = format!("分解为 {} 项子任务", subtasks.len());
                }
            }
            Command::Report { progress: p, text } => {
                let p = progress("进度", *p)?;
                comment = required_text("进展情况", text, 2000)?;
                sqlx::query("UPDATE tasks SET progress = $1, last_report_at = $2 WHERE id = $3").bind(p).bind(ts(now)).bind(task_id).execute(&mut *tx).await?;
                comment = format!("进度 {p}%：{comment}");
            }
            Command::ReportSubtask { subtask_id, progress: p, text } => {
                let Some(s) = d.subtasks.iter().find(|s| s.id == *subtask_id) else {
                    return Err(StoreError::NotFound(format!("该任务没有编号为 {subtask_id} 的子任务")));
                };
                actor.may_report_subtask(&parties, s.person_id)?;
                if from != TaskStatus::InProgress {
                    return Err(StoreError::Conflict(format!("任务当前状态为「{}」，不能汇报子任务进展", from.label_zh())));
                }
                let p = progress("进度", *p)?;
                let text = required_text("进展情况", text, 2000)?;
                sqlx::query("UPDATE subtasks SET progress = $1, last_report = $2, updated_at = $3 WHERE id = $4")
                    .bind(p)
                    .bind(text.clone())
                    .bind(ts(now))
                    .bind(*subtask_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE tasks SET last_report_at = $1 WHERE id = $2").bind(ts(now)).bind(task_id).execute(&mut *tx).await?;
                comment = format!("子任务「{}」进度 {p}%：{text}", s.title);
            }
            Command::RequestCompletion { text } => {
                comment = required_text("办结情况", text, 2000)?;
            }
            Command::Approve { comment: c } => {
                comment = optional_text("审核意见", c, 1000)?.unwrap_or_default();
                sqlx::query("UPDATE tasks SET closed_at = $1, progress = 100 WHERE id = $2").bind(ts(now)).bind(task_id).execute(&mut *tx).await?;
            }
            Command::Reject { comment: c, new_deadline: nd } => {
                comment = required_text("退回原因", c, 1000)?;
                let dl = deadline_on_working_day(ctx.cal, "整改期限", parse_date("整改期限", nd.trim())?)?;
                deadline_after("整改期限", dl, now, "当前时间")?;
                deadline_within_years("整改期限", dl, now, 5)?;
                new_deadline = dl;
                sqlx::query("UPDATE tasks SET round = round + 1, deadline = $1 WHERE id = $2").bind(ts(dl)).bind(task_id).execute(&mut *tx).await?;
                notify(&mut *tx, Some(t.lead_unit_id), None, task_id, "reject", &format!("任务「{}」被退回整改：{comment}", t.title), now).await?;
                comment = format!("{comment}（整改期限 {}）", dl.format("%Y-%m-%d"));
            }
            Command::RequestExtension { reason, new_deadline: nd } => {
                let reason = required_text("延期理由", reason, 1000)?;
                if now >= t.deadline {
                    return Err(StoreError::Conflict(format!("延期申请须在办理期限（{}）之前提出，现已逾期", t.deadline.format("%Y-%m-%d %H:%M"))));
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
                comment = format!("申请延期至 {}：{reason}", dl.format("%Y-%m-%d"));
            }
            Command::ReviewExtension { extension_id, approve, comment: c } | Command::DecideExtension { extension_id, approve, comment: c } => {
                let a = cmd.action().unwrap_or(Action::ReviewExtension);
                let Some(e) = d.extensions.iter().find(|e| e.id == *extension_id) else {
                    return Err(StoreError::NotFound(format!("该任务没有编号为 {extension_id} 的延期申请")));
                };
                let next = e.status.after(a, *approve).map_err(StoreError::Conflict)?;
                let c = if *approve { optional_text("审批意见", c, 1000)?.unwrap_or_default() } else { required_text("驳回理由", c, 1000)? };
                let (by, at, cm) = if a == Action::ReviewExtension {
                    ("reviewed_by", "reviewed_at", "review_comment")
                } else {
                    ("decided_by", "decided_at", "decision_comment")
                };
                let sql = format!("UPDATE extensions SET status = $1, {by} = $2, {at} = $3, {cm} = $4 WHERE id = $5 AND status = $6");
                let changed = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(next.code().to_string())
                    .bind(user.user_id)
                    .bind(ts(now))
                    .bind(c.clone())
                    .bind(*extension_id)
                    .bind(e.status.code().to_string())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if changed != 1 {
                    return Err(StoreError::stale("延期申请", e.status.label_zh()));
                }
                if next == ExtensionStatus::Approved {
                    new_deadline = e.new_deadline;
                    sqlx::query("UPDATE tasks SET deadline = $1 WHERE id = $2").bind(ts(e.new_deadline)).bind(task_id).execute(&mut *tx).await?;
                }
                comment = format!("{}：{}{}", if *approve { "同意" } else { "不同意" }, next.label_zh(), if c.is_empty() { String::new() } else { format!("，{c}") });
            }
            Command::Cancel { reason } => {
                comment = required_text("撤销原因", reason, 1000)?;
                sqlx::query("UPDATE tasks SET closed_at = $1 WHERE id = $2").bind(ts(now)).bind(task_id).execute(&mut *tx).await?;
            }
            Command::Urge { comment: c } => {
                let week = week_label(now);
                comment = optional_text("催办内容", c, 1000)?.unwrap_or_else(|| "请抓紧办理".into());
                // The cap's check is in the counter's own UPDATE: a 4th 催办 of a week changes no row.
                let counted = sqlx::query(
                    "INSERT INTO urge_counts (task_id, week, manual) VALUES ($1, $2, 1) ON CONFLICT (task_id, week) \
                     DO UPDATE SET manual = urge_counts.manual + 1 WHERE urge_counts.manual < $3",
                )
                .bind(task_id)
                .bind(week.clone())
                .bind(ctx.rules.urge.cap_per_week)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if counted != 1 {
                    let sent = sqlx::query("SELECT manual FROM urge_counts WHERE task_id = $1 AND week = $2")
                        .bind(task_id)
                        .bind(week.clone())
                        .fetch_one(&mut *tx)
                        .await?
                        .i("manual")?;
                    ctx.rules.urge.check(sent.max(ctx.rules.urge.cap_per_week)).map_err(StoreError::Conflict)?;
                }
                sqlx::query("INSERT INTO urges (task_id, manual, by_user_id, at, week, comment) VALUES ($1, 1, $2, $3, $4, $5)")
                    .bind(task_id)
                    .bind(user.user_id)
                    .bind(ts(now))
                    .bind(week)
                    .bind(comment.clone())
                    .execute(&mut *tx)
                    .await?;
                notify(&mut *tx, Some(t.lead_unit_id), None, task_id, "urge", &format!("督查局催办「{}」：{comment}", t.title), now).await?;
            }
            Command::Instruct { text } => {
                comment = required_text("批示内容", text, 2000)?;
                notify(&mut *tx, Some(t.lead_unit_id), None, task_id, "instruct", &format!("领导批示「{}」：{comment}", t.title), now).await?;
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
        let after_row = sqlx::query("SELECT status, deadline, progress, round FROM tasks WHERE id = $1").bind(task_id).fetch_one(&mut *tx).await?;
        let after = serde_json::json!({"status": after_row.s("status")?, "deadline": after_row.s("deadline")?, "progress": after_row.i("progress")?, "round": after_row.i("round")?, "comment": comment});
        append(&mut *tx, now, Change { actor: &user.username, action: &format!("task.{label}"), entity: "task", entity_id: task_id.to_string(), before: before.to_string(), after: after.to_string() }).await?;
        let detail = load_detail(tx, task_id, now).await?;
        Ok(detail)
    }

    /// The task list within the user's data scope, with filters.
    pub async fn list_tasks(&self, user: &SessionUser, ctx: &Ctx<'_>, f: &TaskFilter) -> Result<TaskPage> {
        let mut conds = vec![scope_sql(user)];
        let mut binds: Vec<String> = vec![];
        let mut int_binds: Vec<i64> = vec![];
        if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
            let s = TaskStatus::from_code(s).ok_or_else(|| StoreError::invalid("状态", format!("「{s}」不是有效状态")))?;
            binds.push(s.code().into());
            conds.push(format!("t.status = $S{}", binds.len()));
        }
        if let Some(k) = f.source_kind.as_deref().filter(|s| !s.is_empty()) {
            let k = SourceKind::from_code(k).ok_or_else(|| StoreError::invalid("任务来源", format!("「{k}」不是有效来源")))?;
            binds.push(k.code().into());
            conds.push(format!("t.source_kind = $S{}", binds.len()));
        }
        if let Some(q) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let q = q.chars().take(50).collect::<String>().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            binds.push(format!("%{q}%"));
            let n = binds.len();
            conds.push(format!("(t.title LIKE $S{n} ESCAPE '\\' OR t.doc_no LIKE $S{n} ESCAPE '\\')"));
        }
        if let Some(u) = f.lead_unit_id {
            int_binds.push(u);
            conds.push(format!("t.lead_unit_id = $I{}", int_binds.len()));
        }
        if let Some(c) = f.category_id {
            int_binds.push(c);
            conds.push(format!("t.category_id = $I{}", int_binds.len()));
        }
        if let Some(l) = f.light.as_deref().filter(|s| !s.is_empty()) {
            let open = "t.status IN ('assigned','received','in_progress','pending_review')";
            let day = ctx.cal.office_hours().minutes_per_day();
            let yellow_cutoff = ctx.cal.add_working_minutes(ctx.now, ctx.rules.escalation.yellow_working_days * day).value;
            binds.push(ts(ctx.now));
            let now_n = binds.len();
            binds.push(ts(yellow_cutoff));
            let cut_n = binds.len();
            conds.push(match l {
                "red" => format!("{open} AND t.deadline < $S{now_n}"),
                "yellow" => format!("{open} AND t.deadline >= $S{now_n} AND t.deadline <= $S{cut_n}"),
                "green" => format!("{open} AND t.deadline > $S{cut_n}"),
                o => return Err(StoreError::invalid("亮灯", format!("「{o}」不是有效值，应为 red、yellow 或 green"))),
            });
        }
        // Number the placeholders: strings first, then integers.
        let s_count = binds.len();
        let mut where_sql = conds.join(" AND ");
        for i in (1..=int_binds.len()).rev() {
            where_sql = where_sql.replace(&format!("$I{i}"), &format!("${}", s_count + i));
        }
        for i in (1..=s_count).rev() {
            where_sql = where_sql.replace(&format!("$S{i}"), &format!("${i}"));
        }
        let page_size = f.page_size.unwrap_or(50).clamp(1, 500);
        let page = f.page.unwrap_or(1).max(1);
        let count_sql = format!("SELECT COUNT(*) AS n FROM tasks t WHERE {where_sql}");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(count_sql));
        for b in &binds {
            q = q.bind(b.clone());
        }
        for b in &int_binds {
            q = q.bind(*b);
        }
        let total = q.fetch_one(&self.pool).await?.i("n")?;
        let list_sql = format!("{TASK_SELECT} WHERE {where_sql} ORDER BY t.deadline, t.id LIMIT {page_size} OFFSET {}", (page - 1) * page_size);
        let mut q = sqlx::query(sqlx::AssertSqlSafe(list_sql));
        for b in &binds {
            q = q.bind(b.clone());
        }
        for b in &int_binds {
            q = q.bind(*b);
        }
        let items = q.fetch_all(&self.pool).await?.iter().map(task).collect::<Result<Vec<_>>>()?;
        Ok(TaskPage { total, page, page_size, items })
    }

    /// 待办 as of the server's clock.
    pub async fn todo(&self, user: &SessionUser, limit: i64) -> Result<Vec<TodoItem>> {
        self.todo_at(user, crate::local_now(), limit).await
    }

    /// 待办: what this user is expected to do next, most urgent first.
    pub async fn todo_at(&self, user: &SessionUser, now: NaiveDateTime, limit: i64) -> Result<Vec<TodoItem>> {
        let limit = limit.clamp(1, 500);
        let scope = scope_sql(user);
        let (sql, labels): (String, &[(&str, &str)]) = match user.role {
            Role::Supervisor => (
                // One UNION instead of an OR, so PostgreSQL uses the indexes rather than scanning every task.
                format!(
                    "{TASK_SELECT} WHERE {scope} AND t.id IN (SELECT id FROM tasks WHERE status IN ('draft','pending_review') \
                     UNION SELECT task_id FROM extensions WHERE status = 'pending') ORDER BY t.deadline LIMIT {limit}"
                ),
                &[("draft", "待交办"), ("pending_review", "待审核办结"), ("*", "待审核延期申请")],
            ),
            Role::Leader => {
                let me = user.person_id;
                let mut out = self
                    .todo_query(
                        format!(
                            "{TASK_SELECT} WHERE {scope} AND t.id IN (SELECT e.task_id FROM extensions e JOIN tasks t2 ON t2.id = e.task_id \
                             WHERE e.status = 'reviewed' AND t2.leader_person_id = {me}) ORDER BY t.deadline LIMIT {limit}"
                        ),
                        vec![],
                        &[("*", "待审批延期申请")],
                    )
                    .await?;
                // 分包督导: overdue tasks in the leader's supervision area (units or categories),
                // the most urgent per unit and per category through the open-task indexes.
                let areas = sqlx::query("SELECT unit_id, category_id FROM leader_areas WHERE leader_person_id = $1").bind(me).fetch_all(&self.pool).await?;
                let mut arms = vec![];
                for (i, a) in areas.iter().enumerate() {
                    let (col, val) = match (a.oi("unit_id")?, a.oi("category_id")?) {
                        (Some(u), _) => ("lead_unit_id", u),
                        (None, Some(c)) => ("category_id", c),
                        _ => continue,
                    };
                    arms.push(format!(
                        "SELECT id FROM (SELECT id FROM tasks WHERE {col} = {val} AND status IN ('assigned','received','in_progress') \
                         AND deadline < $1 ORDER BY deadline LIMIT {limit}) AS a{i}"
                    ));
                }
                let overdue = if arms.is_empty() {
                    vec![]
                } else {
                    self.todo_query(
                        format!("{TASK_SELECT} WHERE {scope} AND t.id IN ({}) ORDER BY t.deadline, t.id LIMIT {limit}", arms.join(" UNION ")),
                        vec![ts(now)],
                        &[("*", "分包督导：已逾期")],
                    )
                    .await?
                };
                out.extend(overdue.into_iter().filter(|o| !out.iter().any(|x| x.task.id == o.task.id)).collect::<Vec<_>>());
                return Ok(out);
            }
            Role::Liaison if user.scope_unit_ids.is_empty() => (
                // 全部 or 仅本人: no per-unit lists to merge.
                format!("{TASK_SELECT} WHERE {scope} AND t.status IN ('assigned','received','in_progress') ORDER BY t.deadline, t.id LIMIT {limit}"),
                &[("assigned", "待签收"), ("received", "待分解（2个工作小时内）"), ("in_progress", "推进中，按期汇报")],
            ),
            Role::Liaison => {
                // The most urgent `limit` open tasks of each unit in scope (via the partial index
                // tasks_open_lead_deadline), then the most urgent of those: no sort of a unit's history.
                let per_unit = user
                    .scope_unit_ids
                    .iter()
                    .map(|u| {
                        format!(
                            "SELECT id FROM (SELECT id FROM tasks WHERE lead_unit_id = {u} AND status IN ('assigned','received','in_progress') \
                             ORDER BY deadline LIMIT {limit}) AS u{u}"
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" UNION ALL ");
                (
                    format!("{TASK_SELECT} WHERE t.id IN ({per_unit}) ORDER BY t.deadline, t.id LIMIT {limit}"),
                    &[("assigned", "待签收"), ("received", "待分解（2个工作小时内）"), ("in_progress", "推进中，按期汇报")],
                )
            }
            Role::Responsible => (
                format!("{TASK_SELECT} WHERE {scope} AND t.status = 'in_progress' ORDER BY t.deadline LIMIT {limit}"),
                &[("in_progress", "汇报子任务进展")],
            ),
            Role::Admin | Role::TechBureau | Role::Enterprise | Role::Institution | Role::SecurityAdmin | Role::AuditAdmin => return Ok(vec![]),
        };
        self.todo_query(sql, vec![], labels).await
    }

    async fn todo_query(&self, sql: String, binds: Vec<String>, labels: &[(&str, &str)]) -> Result<Vec<TodoItem>> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = q.bind(b);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let t = task(r)?;
                let what = labels
                    .iter()
                    .find(|(s, _)| *s == t.status.code())
                    .or_else(|| labels.iter().find(|(s, _)| *s == "*"))
                    .map(|(_, l)| l.to_string())
                    .unwrap_or_default();
                Ok(TodoItem { task: t, what })
            })
            .collect()
    }

    /// Notifications addressed to the user's unit or to them, newest first.
    pub async fn notifications(&self, user: &SessionUser, limit: i64) -> Result<Vec<(NaiveDateTime, String, Option<i64>)>> {
        let rows = sqlx::query(
            "SELECT created_at, text, task_id FROM notifications WHERE unit_id = $1 OR person_id = $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(user.unit_id)
        .bind(user.person_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.t("created_at")?, r.s("text")?, r.oi("task_id")?))).collect()
    }
}

pub(crate) async fn fired_steps(tx: &mut sqlx::AnyConnection, task_id: i64, deadline: NaiveDateTime) -> Result<Vec<EscalationStep>> {
    let rows = sqlx::query("SELECT step FROM escalations WHERE task_id = $1 AND deadline = $2").bind(task_id).bind(ts(deadline)).fetch_all(&mut *tx).await?;
    Ok(rows.iter().filter_map(|r| r.s("step").ok().and_then(|s| EscalationStep::from_code(&s))).collect())
}

pub(crate) async fn event(tx: &mut sqlx::AnyConnection, task_id: i64, action: &str, user: &SessionUser, at: NaiveDateTime, from: &str, to: &str, comment: &str) -> Result<()> {
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
        .bind(format!("{}（{}）", user.person_name, user.unit_name))
        .bind(ts(at))
        .bind(from.to_string())
        .bind(to.to_string())
        .bind(comment.to_string())
        .bind(data.to_string())
        .execute(&mut *tx)
        .await?;
    Ok(())
}

pub(crate) async fn notify(tx: &mut sqlx::AnyConnection, unit_id: Option<i64>, person_id: Option<i64>, task_id: i64, kind: &str, text: &str, at: NaiveDateTime) -> Result<()> {
    sqlx::query("INSERT INTO notifications (unit_id, person_id, task_id, kind, text, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(unit_id)
        .bind(person_id)
        .bind(task_id)
        .bind(kind.to_string())
        .bind(text.to_string())
        .bind(ts(at))
        .execute(&mut *tx)
        .await?;
    Ok(())
}

pub(crate) async fn load_detail(conn: &mut sqlx::AnyConnection, id: i64, now: NaiveDateTime) -> Result<TaskDetail> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!("{TASK_SELECT} WHERE t.id = $1")))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("编号 {id} 的任务不存在")))?;
    let task = task(&r)?;
    let co_units = sqlx::query("SELECT u.id, u.name FROM task_co_units c JOIN units u ON u.id = c.unit_id WHERE c.task_id = $1 ORDER BY u.id")
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
                a if a.starts_with("escalate:") => EscalationStep::from_code(&a[9..]).map(|s| format!("自动{}", s.label_zh())).unwrap_or_else(|| a.to_string()),
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
        "SELECT e.*, p.name AS requester FROM extensions e JOIN users us ON us.id = e.requested_by JOIN people p ON p.id = us.person_id \
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
            requested_by: r.s("requester")?,
            reason: r.s("reason")?,
            old_deadline: r.t("old_deadline")?,
            new_deadline: r.t("new_deadline")?,
            status: ExtensionStatus::from_code(&st).ok_or_else(|| StoreError::internal(format!("延期状态无效：{st}")))?,
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
            Some(Ok(Escalation { step, deadline: r.t("deadline").ok()?, fired_at: r.t("fired_at").ok()?, fired_by: r.s("fired_by").ok()? }))
        })
        .collect::<Result<Vec<_>>>()?;
    let urge_total = sqlx::query("SELECT COUNT(*) AS n FROM urges WHERE task_id = $1").bind(id).fetch_one(&mut *conn).await?.i("n")?;
    let urge_manual_this_week = sqlx::query("SELECT COUNT(*) AS n FROM urges WHERE task_id = $1 AND week = $2 AND manual = 1")
        .bind(id)
        .bind(week_label(now))
        .fetch_one(&mut *conn)
        .await?
        .i("n")?;
    Ok(TaskDetail { task, co_units, subtasks, events, extensions, escalations, urge_total, urge_manual_this_week })
}

impl Db {
    /// Titles of the given tasks, for drill-down lists (ids come from stored rankings, not users).
    pub async fn task_titles(&self, ids: &[i64]) -> Result<Vec<(i64, String)>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let list = ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT id, title FROM tasks WHERE id IN ({list}) ORDER BY id"))).fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((r.i("id")?, r.s("title")?))).collect()
    }
}

impl Db {
    /// The task registered under a 文号, if any (文号 are unique).
    pub async fn task_id_by_doc_no(&self, doc_no: &str) -> Result<Option<i64>> {
        let r = sqlx::query("SELECT id FROM tasks WHERE doc_no = $1").bind(doc_no.trim().to_string()).fetch_optional(&self.pool).await?;
        r.map(|r| r.i("id")).transpose()
    }
}
