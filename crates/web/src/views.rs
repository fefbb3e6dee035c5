//! View models shared by the API and the pages: a task with its light, clocks and the actions
//! this user may take, all computed from the domain rules at request time.

use chrono::NaiveDateTime;
use serde::Serialize;
use xietong_calendar::WorkCalendar;
use xietong_storage::auth::SessionUser;
use xietong_storage::calendar::Rules;
use xietong_storage::tasks::{Escalation, Extension, Subtask, Task, TaskDetail, TaskEvent, UnitRef};
use xietong_supervision::clocks::{Clock, ClockKind, ClockState};
use xietong_supervision::lifecycle::{Action, TaskStatus, allowed_actions};
use xietong_supervision::lights::{Light, light};

#[derive(Serialize, utoipa::ToSchema)]
pub struct ClockView {
    pub kind: ClockKind,
    pub label: String,
    pub started_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
    pub stopped_at: Option<NaiveDateTime>,
    pub provisional: bool,
    /// running | overdue | met | breached
    pub state: String,
    pub state_label: String,
    pub breach: bool,
}

fn clock_view(c: &Clock, cal: &WorkCalendar, now: NaiveDateTime) -> ClockView {
    let st = c.state(cal, now);
    let code = match st {
        ClockState::Running { .. } => "running",
        ClockState::Overdue { .. } => "overdue",
        ClockState::Met => "met",
        ClockState::Breached { .. } => "breached",
    };
    ClockView {
        kind: c.kind,
        label: c.kind.label_zh().into(),
        started_at: c.started_at,
        due_at: c.due_at,
        stopped_at: c.stopped_at,
        provisional: c.provisional,
        state: code.into(),
        state_label: st.label_zh(),
        breach: st.is_breach(),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ActionView {
    pub code: String,
    pub label: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TaskView {
    pub id: i64,
    pub task: Task,
    pub status_label: String,
    pub source_label: String,
    pub cycle_label: String,
    pub light: Light,
    pub light_label: String,
    pub co_units: Vec<UnitRef>,
    pub subtasks: Vec<Subtask>,
    pub events: Vec<TaskEvent>,
    pub extensions: Vec<Extension>,
    pub escalations: Vec<Escalation>,
    pub urge_total: i64,
    pub urge_manual_this_week: i64,
    pub urge_cap_per_week: i64,
    pub handover_clock: ClockView,
    pub decomposition_clock: Option<ClockView>,
    /// Actions this user may take now (role, scope and state all allow it).
    pub allowed_actions: Vec<ActionView>,
    /// The lead unit's liaison or a subtask's responsible person may report on these sub-tasks.
    pub reportable_subtasks: Vec<i64>,
    /// Set when the deadline falls in a year with no published holiday schedule.
    pub deadline_flag: Option<String>,
    /// When the next progress report is due (推进汇报周期), for tasks in progress on a periodic cycle.
    pub report_due: Option<NaiveDateTime>,
    pub report_overdue: bool,
    /// 预计完成 from the progress reports (open tasks).
    pub forecast: Option<ForecastView>,
}

/// 预计完成: the date the recent reports point to, whether that is after the deadline, and why.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ForecastView {
    /// 预计完成日期（汇报不足或进度停滞时为空）
    pub date: Option<chrono::NaiveDate>,
    /// 预计逾期
    pub at_risk: bool,
    /// 依据，如「近3次汇报间隔平均每周+8.0%，按此进度预计 12-28 完成，晚于期限 8 天」
    pub basis: String,
}

/// The forecast of an open task from its reports; none for tasks not handed over, closed or cancelled.
pub fn forecast_view(
    status: TaskStatus,
    deadline: NaiveDateTime,
    reports: &[xietong_supervision::forecast::Report],
) -> Option<ForecastView> {
    use xietong_supervision::forecast::{Forecast, forecast};
    if matches!(status, TaskStatus::Draft | TaskStatus::Closed | TaskStatus::Cancelled | TaskStatus::PendingReview) {
        return None;
    }
    let f = forecast(reports);
    let date = match f {
        Forecast::Expected { date, .. } => Some(date),
        _ => None,
    };
    Some(ForecastView { date, at_risk: f.at_risk(deadline), basis: f.basis(deadline) })
}

pub fn task_view(d: TaskDetail, user: &SessionUser, cal: &WorkCalendar, rules: &Rules, now: NaiveDateTime) -> TaskView {
    let t = &d.task;
    let actor = user.actor();
    let parties = d.parties();
    let mut allowed: Vec<ActionView> = allowed_actions(t.status)
        .into_iter()
        .filter(|a| actor.authorize(*a, &parties).is_ok())
        .filter(|a| match a {
            Action::RequestExtension => now < t.deadline && !d.extensions.iter().any(|e| e.status.is_open()),
            Action::ReviewExtension => {
                d.extensions.iter().any(|e| e.status == xietong_supervision::ExtensionStatus::Pending)
            }
            Action::DecideExtension => {
                d.extensions.iter().any(|e| e.status == xietong_supervision::ExtensionStatus::Reviewed)
            }
            _ => true,
        })
        .map(|a| ActionView { code: a.code().into(), label: a.label_zh().into() })
        .collect();
    allowed.sort_by_key(|a| Action::ALL.iter().position(|x| x.code() == a.code));
    let reportable_subtasks = if t.status == TaskStatus::InProgress {
        d.subtasks
            .iter()
            .filter(|s| actor.may_report_subtask(&parties, xietong_supervision::PersonId(s.person_id)).is_ok())
            .map(|s| s.id)
            .collect()
    } else {
        vec![]
    };
    let handover = Clock::handover(t.received_at, t.assigned_at);
    let decomposition = t.assigned_at.map(|a| Clock::decomposition(cal, a, t.decomposed_at));
    let deadline_year = chrono::Datelike::year(&t.deadline.date());
    let l = light(cal, &rules.escalation, t.status, t.deadline, now);
    let report_due = match (t.status, t.report_cycle.interval_days(), t.last_report_at.or(t.decomposed_at)) {
        (TaskStatus::InProgress, Some(days), Some(since)) => Some(since + chrono::Duration::days(days)),
        _ => None,
    };
    TaskView {
        forecast: None,
        report_overdue: report_due.is_some_and(|d| now > d),
        report_due,
        id: t.id,
        status_label: t.status.label_zh().into(),
        source_label: t.source_kind.label_zh().into(),
        cycle_label: t.report_cycle.label_zh().into(),
        light: l,
        light_label: l.label_zh().into(),
        handover_clock: clock_view(&handover, cal, now),
        decomposition_clock: decomposition.as_ref().map(|c| clock_view(c, cal, now)),
        allowed_actions: allowed,
        reportable_subtasks,
        deadline_flag: (!cal.is_year_published(deadline_year))
            .then(|| format!("暂定：{deadline_year} 年节假日安排尚未发布，期限按普通周末计算")),
        urge_cap_per_week: rules.urge.cap_per_week,
        co_units: d.co_units,
        subtasks: d.subtasks,
        events: d.events,
        extensions: d.extensions,
        escalations: d.escalations,
        urge_total: d.urge_total,
        urge_manual_this_week: d.urge_manual_this_week,
        task: d.task,
    }
}

/// A row of the task list: the task and its light.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TaskRow {
    pub task: Task,
    pub status_label: String,
    pub light: Light,
    pub light_label: String,
    /// What is expected of the user (待办 only).
    pub what: Option<String>,
    /// Breaches of the 交办不过夜 / 2-hour decomposition clocks, e.g. "分解超时".
    pub clock_breaches: Vec<String>,
    /// 预计完成, where the page asked for it.
    pub forecast: Option<ForecastView>,
}

pub fn task_row(t: Task, cal: &WorkCalendar, rules: &Rules, now: NaiveDateTime, what: Option<String>) -> TaskRow {
    let l = light(cal, &rules.escalation, t.status, t.deadline, now);
    let mut clock_breaches = vec![];
    if t.status != TaskStatus::Cancelled {
        if Clock::handover(t.received_at, t.assigned_at).state(cal, now).is_breach() {
            clock_breaches.push("交办超时".to_string());
        }
        if let Some(a) = t.assigned_at
            && Clock::decomposition(cal, a, t.decomposed_at).state(cal, now).is_breach()
        {
            clock_breaches.push("分解超时".to_string());
        }
    }
    TaskRow {
        status_label: t.status.label_zh().into(),
        light: l,
        light_label: l.label_zh().into(),
        task: t,
        what,
        clock_breaches,
        forecast: None,
    }
}

/// The people whose account has the leader role (the choices of 分管领导).
pub async fn leader_people(s: &crate::AppState) -> Vec<xietong_storage::org::Person> {
    let users = s.db.list_users().await.unwrap_or_default();
    let people = s.db.list_people(None).await.unwrap_or_default();
    people
        .into_iter()
        .filter(|p| users.iter().any(|l| l.role == "leader" && l.person_name == p.name && l.unit_name == p.unit_name))
        .collect()
}

/// Fill the rows' forecasts from their reports (one query for all of them).
pub async fn with_forecasts(db: &xietong_storage::Db, rows: &mut [TaskRow]) {
    let ids: Vec<i64> = rows.iter().map(|r| r.task.id).collect();
    let Ok(h) = db.report_histories(&ids).await else { return };
    for r in rows {
        let reports = h.get(&r.task.id).map(Vec::as_slice).unwrap_or(&[]);
        r.forecast = forecast_view(r.task.status, r.task.deadline, reports);
    }
}

/// Fill a task's forecast from its reports.
pub async fn with_forecast(db: &xietong_storage::Db, v: &mut TaskView) {
    if let Ok(h) = db.report_histories(&[v.id]).await {
        v.forecast = forecast_view(v.task.status, v.task.deadline, h.get(&v.id).map(Vec::as_slice).unwrap_or(&[]));
    }
}

macro_rules! templates {
    ($env:ident, $($name:literal),*) => {
        $( $env.add_template($name, include_str!(concat!("../templates/", $name))).expect($name); )*
    };
}

/// The page templates, compiled into the binary.
pub fn environment() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    templates!(
        env,
        "base.html",
        "form_errors.html",
        "confirm.html",
        "industries.html",
        "industry_field.html",
        "evidence.html",
        "login.html",
        "todo.html",
        "inbox.html",
        "notify.html",
        "notify_me.html",
        "sso.html",
        "intake.html",
        "cadres.html",
        "cadre.html",
        "teams.html",
        "experiences.html",
        "experience.html",
        "sso_form.html",
        "login_dingtalk.html",
        "tasks.html",
        "task_batch_form.html",
        "task_batch.html",
        "task.html",
        "task_new.html",
        "calendar.html",
        "org.html",
        "audit.html",
        "error.html",
        "rankings.html",
        "ranking.html",
        "assessment.html",
        "notices.html",
        "notice.html",
        "records.html",
        "indicators.html",
        "ranking_rows.html",
        "imports.html",
        "projects.html",
        "project.html",
        "lists.html",
        "list.html",
        "problems.html",
        "problem.html",
        "inspections.html",
        "dashboard.html",
        "achievements.html",
        "enterprises.html",
        "docking_base.html",
        "docking_review_block.html",
        "docking_matches.html",
        "match_evidence.html",
        "docking_stats.html",
        "docking_problems.html",
        "docking_problem.html",
        "docking_experts.html",
        "docking_expert.html",
        "docking_achievements.html",
        "docking_achievement.html",
        "docking_institutions.html",
        "docking_campaigns.html",
        "docking_review.html",
        "docking_platforms.html",
        "docking_dockings.html",
        "docking_docking.html",
        "docking_contracts.html",
        "password.html",
        "online.html"
    );
    // Every code a page shows goes through the one label table: `{{ e.status|label("extension") }}`.
    env.add_filter("label", |code: minijinja::Value, kind: String| -> Result<String, minijinja::Error> {
        let kind = xietong_storage::labels::Kind::from_code(&kind).ok_or_else(|| {
            minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, format!("unknown label kind {kind}"))
        })?;
        let code = if code.is_none() || code.is_undefined() { String::new() } else { code.to_string() };
        Ok(xietong_storage::labels::label(kind, &code))
    });
    env.add_filter("dt", |s: String| s.replace('T', " ").chars().take(16).collect::<String>());
    env.add_filter("d", |s: String| s.chars().take(10).collect::<String>());
    // Numbers as a clerk writes them: no trailing ".0", at most two decimals.
    env.add_filter("num", |v: f64| {
        if v.fract() == 0.0 && v.abs() < 1e15 {
            format!("{}", v as i64)
        } else {
            format!("{:.2}", v).trim_end_matches('0').trim_end_matches('.').to_string()
        }
    });
    env
}

#[derive(Serialize)]
pub struct DayCell {
    pub day: u32,
    pub date: String,
    /// work | weekend | holiday | makeup
    pub kind: &'static str,
    pub title: String,
}

#[derive(Serialize)]
pub struct MonthView {
    pub month: u32,
    /// Weeks from Monday; `None` pads days outside the month.
    pub weeks: Vec<Vec<Option<DayCell>>>,
}

/// A year as twelve month grids, each day marked as the calendar sees it.
pub fn calendar_months(cal: &WorkCalendar, year: i32) -> Vec<MonthView> {
    use chrono::{Datelike, NaiveDate};
    use xietong_calendar::DayKind;
    (1..=12)
        .filter_map(|m| {
            let first = NaiveDate::from_ymd_opt(year, m, 1)?;
            let mut weeks = vec![];
            let mut week: Vec<Option<DayCell>> = (0..first.weekday().num_days_from_monday()).map(|_| None).collect();
            let mut d = first;
            while d.month() == m {
                let k = cal.day_kind(d);
                let kind = match &k {
                    DayKind::Workday => "work",
                    DayKind::Weekend => "weekend",
                    DayKind::Holiday(_) => "holiday",
                    DayKind::MakeupWorkday(_) => "makeup",
                };
                week.push(Some(DayCell {
                    day: d.day(),
                    date: d.to_string(),
                    kind,
                    title: format!("{d} {}", k.label_zh()),
                }));
                if week.len() == 7 {
                    weeks.push(std::mem::take(&mut week));
                }
                d = d.succ_opt()?;
            }
            if !week.is_empty() {
                week.resize_with(7, || None);
                weeks.push(week);
            }
            Some(MonthView { month: m, weeks })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_grids_mark_holidays_and_makeup_days() {
        let cal = WorkCalendar::with_bundled_holidays();
        let months = calendar_months(&cal, 2026);
        assert_eq!(months.len(), 12);
        let oct = &months[9];
        let cells: Vec<&DayCell> = oct.weeks.iter().flatten().flatten().collect();
        assert_eq!(cells.len(), 31);
        assert_eq!(cells[0].kind, "holiday"); // 10-01 国庆节
        assert_eq!(cells[9].kind, "makeup"); // 10-10 Saturday 调休上班
        assert_eq!(cells[10].kind, "weekend"); // 10-11 Sunday
        assert_eq!(cells[7].kind, "work"); // 10-08 Thursday
        // 2026-10-01 is a Thursday: three empty cells before it.
        assert!(oct.weeks[0][..3].iter().all(|c| c.is_none()));
    }
}
