//! Tasks: 立项, every lifecycle action in one transaction (rules → change → timeline → audit), and the
//! lists people work from. Access and transition rules come from `xietong_supervision`; this module
//! only loads the facts they need and writes the outcome.
//!
//! `create` is 立项, `actions` the lifecycle (`perform*`), with the 延期 arms' storage in
//! `extensions` and the 催办 arm's (weekly counter) in `urges`; `lists` the task list, 待办 and
//! notifications; `detail` one task's detail and the timeline / notification writes every action
//! makes. This file holds the types, their row mapping and the data-scope condition.

mod actions;
mod create;
mod detail;
mod extensions;
mod forecasts;
mod lists;
mod urges;

pub(crate) use detail::{event, event_with, fired_steps, load_detail, notify};
pub(crate) use lists::id_list;
pub use urges::week_label;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use xietong_calendar::WorkCalendar;
use xietong_supervision::lifecycle::{Action, ExtensionStatus, ReportCycle, SourceKind, TaskStatus};
use xietong_supervision::lights::EscalationStep;
use xietong_supervision::{DataScope, PersonId, Role, TaskParties, UnitId};

use crate::auth::SessionUser;
use crate::calendar::Rules;
use crate::{Db, Result, RowExt, StoreError};

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

/// Why a 文号 is refused as a duplicate; a look-alike names the stored one it matches.
pub(crate) fn duplicate_doc_no(doc: &str, stored: &str, done: &str) -> String {
    if doc == stored {
        format!("「{doc}」已存在，同一文号不能重复{done}")
    } else {
        format!("「{doc}」已存在（即「{stored}」，仅全角半角、大小写、空格或括号不同），同一文号不能重复{done}")
    }
}

/// Everything that can be done to an existing task.
#[derive(Clone, Debug)]
pub enum Command {
    Assign {
        comment: String,
    },
    Receive {
        comment: String,
    },
    Decompose {
        subtasks: Vec<NewSubtask>,
        comment: String,
    },
    /// `reason`: the 说明 a progress lower than the last report needs.
    Report {
        progress: i64,
        text: String,
        reason: String,
    },
    RequestCompletion {
        text: String,
    },
    Approve {
        comment: String,
    },
    Reject {
        comment: String,
        new_deadline: String,
    },
    RequestExtension {
        reason: String,
        new_deadline: String,
    },
    ReviewExtension {
        extension_id: i64,
        approve: bool,
        comment: String,
    },
    DecideExtension {
        extension_id: i64,
        approve: bool,
        comment: String,
    },
    Cancel {
        reason: String,
    },
    Urge {
        comment: String,
    },
    Instruct {
        text: String,
    },
    ReportSubtask {
        subtask_id: i64,
        progress: i64,
        text: String,
        reason: String,
    },
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
    /// 任务地点, if the 督查局 set one: photos taken far from it are flagged.
    pub site_name: String,
    pub site_lat: Option<f64>,
    pub site_lon: Option<f64>,
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
            lead_unit_id: UnitId(self.task.lead_unit_id),
            co_unit_ids: self.co_units.iter().map(|c| UnitId(c.id)).collect(),
            leader_person_id: self.task.leader_person_id.map(PersonId),
            subtask_person_ids: self.subtasks.iter().map(|s| PersonId(s.person_id)).collect(),
        }
    }
}

/// Filters for the task list; all optional.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
pub struct TaskFilter {
    /// 状态代码；`open` 为全部在办（交办、签收、推进中、待审核办结）
    pub status: Option<String>,
    /// red（逾期）、yellow（临近期限）或 green，仅在办任务有亮灯
    pub light: Option<String>,
    /// `mine`：仅本人（区领导）分包督导范围内的单位和类别
    pub area: Option<String>,
    pub lead_unit_id: Option<i64>,
    pub category_id: Option<i64>,
    pub source_kind: Option<String>,
    pub q: Option<String>,
    /// 页码，1–100000（默认 1）
    pub page: Option<i64>,
    /// 每页条数，1–500（默认 50）
    pub page_size: Option<i64>,
}

/// The largest page number a list accepts: far past any real list, and its offset fits an i64.
pub const MAX_PAGE: i64 = 100_000;
/// The largest page a list returns.
pub const MAX_PAGE_SIZE: i64 = 500;

impl TaskFilter {
    /// The page and page size asked for, checked: out of range is refused naming the parameter,
    /// never clamped into an offset that overflows.
    pub fn bounds(&self) -> Result<(i64, i64), StoreError> {
        let page = self.page.unwrap_or(1);
        if !(1..=MAX_PAGE).contains(&page) {
            return Err(StoreError::invalid("page", format!("页码应在 1 到 {MAX_PAGE} 之间（当前 {page}）")));
        }
        let size = self.page_size.unwrap_or(50);
        if !(1..=MAX_PAGE_SIZE).contains(&size) {
            return Err(StoreError::invalid(
                "page_size",
                format!("每页条数应在 1 到 {MAX_PAGE_SIZE} 之间（当前 {size}）"),
            ));
        }
        Ok((page, size))
    }
}

/// The statuses of an open task (交办 to 待审核办结): the ones with a light.
pub const OPEN_STATUSES: &str = "('assigned','received','in_progress','pending_review')";

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
        site_name: r.s("site_name")?,
        site_lat: r.of("site_lat")?,
        site_lon: r.of("site_lon")?,
    })
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
            format!(
                "(t.lead_unit_id IN ({units}) OR EXISTS (SELECT 1 FROM task_co_units cu WHERE cu.task_id = t.id AND cu.unit_id IN ({units})))"
            )
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
    pub(crate) async fn unit_found(&self, tx: &mut sqlx::AnyConnection, id: i64) -> Result<bool> {
        let n =
            sqlx::query("SELECT COUNT(*) AS n FROM units WHERE id = $1").bind(id).fetch_one(&mut *tx).await?.i("n")?;
        Ok(n > 0)
    }

    pub(crate) async fn unit_exists(&self, tx: &mut sqlx::AnyConnection, field: &str, id: i64) -> Result<()> {
        let n =
            sqlx::query("SELECT COUNT(*) AS n FROM units WHERE id = $1").bind(id).fetch_one(&mut *tx).await?.i("n")?;
        if n == 0 { Err(StoreError::invalid(field, format!("编号 {id} 的单位不存在"))) } else { Ok(()) }
    }
}
