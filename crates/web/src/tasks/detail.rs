//! One task: its detail and every action on it — 交办, 签收, 分解, 汇报, 办结, 延期, 催办, 批示 (API and page).

use axum::Json;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::tasks::{Command, NewSubtask};
use xietong_supervision::validate::{optional_multiline, required_multiline};
use xietong_supervision::{FieldError, Role};

use crate::AppState;
use crate::api::J;
use crate::auth::{ApiUser, PageUser};
use crate::error::{ApiError, ErrorBody, status_of};
use crate::pages::{Confirm, error_page, render};
use crate::views::{TaskView, task_view};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_task)).routes(routes!(act))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/tasks/{id}", get(task_page))
        .route("/tasks/{id}/actions/{action}", post(task_action))
}

/// 任务详情：时间线、计时、亮灯、可执行操作。
#[utoipa::path(get, path = "/api/tasks/{id}", params(("id" = i64, Path, description = "任务编号")), tag = "督查督办",
    responses((status = 200, body = TaskView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_task(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<xietong_supervision::TaskId>,
) -> Result<Json<TaskView>, ApiError> {
    let snap = s.snapshot();
    let d = s.db.get_task(&u, id, snap.now).await?;
    let mut v = task_view(d, &u, &snap.cal, &snap.rules, snap.now);
    crate::views::with_forecast(&s.db, &mut v).await;
    Ok(Json(v))
}

/// The body of any task action; which fields are required depends on the action.
#[derive(Deserialize, ToSchema, Default, Debug)]
pub struct ActionBody {
    /// 意见 / 说明 (assign, receive, decompose, approve, urge; reject: 退回原因; review/decide: 审批意见)
    pub comment: Option<String>,
    /// 进展情况 (report, report_subtask), 办结情况 (request_completion), 批示内容 (instruct)
    pub text: Option<String>,
    /// 延期理由 (request_extension), 撤销原因 (cancel); 说明 (report, report_subtask): required when
    /// the progress is lower than the last report's
    pub reason: Option<String>,
    /// 进度 0–100 (report, report_subtask)
    pub progress: Option<i64>,
    /// YYYY-MM-DD (reject: 整改期限; request_extension: 申请延期至)
    pub new_deadline: Option<String>,
    /// review_extension, decide_extension
    pub extension_id: Option<i64>,
    /// review_extension, decide_extension: 同意 (true) or 不同意 (false)
    pub approve: Option<bool>,
    /// report_subtask
    pub subtask_id: Option<i64>,
    /// decompose
    pub subtasks: Option<Vec<NewSubtask>>,
    /// The task's `version` the caller saw; if given and the task has moved on since, nothing is
    /// done and the answer is 409 naming the current state.
    pub version: Option<i64>,
}

fn need<T>(v: Option<T>, field: &str) -> Result<T, StoreError> {
    v.ok_or_else(|| StoreError::invalid(field, "不能为空"))
}

/// Turn an action name and its body into a storage command.
pub fn command(action: &str, b: ActionBody) -> Result<Command, StoreError> {
    let c = b.comment.unwrap_or_default();
    Ok(match action {
        "assign" => Command::Assign { comment: c },
        "receive" => Command::Receive { comment: c },
        "decompose" => Command::Decompose { subtasks: b.subtasks.unwrap_or_default(), comment: c },
        "report" => Command::Report {
            progress: need(b.progress, "进度")?,
            text: b.text.unwrap_or_default(),
            reason: b.reason.unwrap_or_default(),
        },
        "request_completion" => Command::RequestCompletion { text: b.text.unwrap_or_default() },
        "approve" => Command::Approve { comment: c },
        "reject" => Command::Reject { comment: c, new_deadline: need(b.new_deadline, "整改期限")? },
        "request_extension" => Command::RequestExtension {
            reason: b.reason.unwrap_or_default(),
            new_deadline: need(b.new_deadline, "申请延期至")?,
        },
        "review_extension" => Command::ReviewExtension {
            extension_id: need(b.extension_id, "延期申请")?,
            approve: need(b.approve, "审核结论")?,
            comment: c,
        },
        "decide_extension" => Command::DecideExtension {
            extension_id: need(b.extension_id, "延期申请")?,
            approve: need(b.approve, "审批结论")?,
            comment: c,
        },
        "cancel" => Command::Cancel { reason: b.reason.unwrap_or_default() },
        "urge" => Command::Urge { comment: c },
        "instruct" => Command::Instruct { text: b.text.unwrap_or_default() },
        "report_subtask" => Command::ReportSubtask {
            subtask_id: need(b.subtask_id, "子任务")?,
            progress: need(b.progress, "进度")?,
            text: b.text.unwrap_or_default(),
            reason: b.reason.unwrap_or_default(),
        },
        other => return Err(StoreError::NotFound(format!("没有名为「{other}」的操作"))),
    })
}

/// 对任务执行操作：assign 交办、receive 签收、decompose 分解、report 进展汇报、report_subtask 子任务汇报、
/// request_completion 办结申请、approve 审核通过、reject 退回整改、request_extension 延期申请、
/// review_extension 延期审核、decide_extension 延期审批、cancel 撤销、urge 催办、instruct 领导批示。
#[utoipa::path(post, path = "/api/tasks/{id}/actions/{action}", request_body = ActionBody, tag = "督查督办",
    params(("id" = i64, Path, description = "任务编号"), ("action" = String, Path, description = "操作名")),
    responses((status = 200, body = TaskView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn act(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path((id, action)): Path<(xietong_supervision::TaskId, String)>,
    J(b): J<ActionBody>,
) -> Result<Json<TaskView>, ApiError> {
    let seen = b.version;
    let cmd = command(&action, b)?;
    let snap = s.snapshot();
    let d = s.db.perform_seen(&u, &snap.ctx(), id, cmd, seen).await?;
    Ok(Json(task_view(d, &u, &snap.cal, &snap.rules, snap.now)))
}

/// What a user typed into one of the task page's forms, shown again after a refusal.
#[derive(Default)]
pub(crate) struct Typed {
    pub(crate) action: String,
    pub(crate) fields: std::collections::BTreeMap<String, String>,
    /// The indicator whose report form the fields belong to.
    pub(crate) indicator: Option<i64>,
    /// Show that form's “确认数值无误” checkbox (the figure was refused as implausible).
    pub(crate) confirm_large: bool,
    /// The indicator whose 分期计划 form the fields belong to.
    pub(crate) plan_indicator: Option<i64>,
    /// Each refused field's error, shown beside it.
    pub(crate) errors: Vec<xietong_supervision::FieldError>,
    /// The decomposition rows as sent (`title`, `dept`, `person`, `deadline`), to show them again.
    pub(crate) sub_rows: Vec<std::collections::BTreeMap<&'static str, String>>,
}

async fn task_page_with(
    s: &AppState,
    u: &SessionUser,
    id: i64,
    flash_ok: Option<String>,
    flash_err: Option<(StatusCode, String)>,
) -> Response {
    task_page_typed(s, u, id, flash_ok, flash_err, Typed::default()).await
}

pub(crate) async fn task_page_typed(
    s: &AppState,
    u: &SessionUser,
    id: i64,
    flash_ok: Option<String>,
    flash_err: Option<(StatusCode, String)>,
    typed: Typed,
) -> Response {
    let snap = s.snapshot();
    let d = match s.db.get_task(u, xietong_supervision::TaskId(id), snap.now).await {
        Ok(d) => d,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let lead = d.task.lead_unit_id;
    let atts = s.db.task_attachments(u, id, snap.now).await.unwrap_or_default();
    let (evidence, sources) =
        crate::attachments::evidence_for_page(&atts, d.task.assigned_at, (d.task.site_lat, d.task.site_lon));
    let co: Vec<i64> = d.co_units.iter().map(|c| c.id).collect();
    let mut v = task_view(d, u, &snap.cal, &snap.rules, snap.now);
    crate::views::with_forecast(&s.db, &mut v).await;
    // Decomposition choices: the lead unit, its 内设科室, and co-units; people in those.
    let (depts, people) = if v.allowed_actions.iter().any(|a| a.code == "decompose") {
        let mut allowed = s.db.unit_and_descendants(lead).await.unwrap_or_default();
        allowed.extend(co);
        let units: Vec<_> =
            s.db.list_units().await.unwrap_or_default().into_iter().filter(|x| allowed.contains(&x.id)).collect();
        let people: Vec<_> =
            s.db.list_people(None)
                .await
                .unwrap_or_default()
                .into_iter()
                .filter(|p| allowed.contains(&p.unit_id))
                .collect();
        (units, people)
    } else {
        (vec![], vec![])
    };
    let (status, err) = match flash_err {
        Some((st, m)) => (st, Some(m)),
        None => (StatusCode::OK, None),
    };
    let default_deadline = v.task.deadline.date().to_string();
    let indicators = s.db.task_indicators(u, id, snap.now).await.unwrap_or_default();
    let project_id = s.db.project_of_task(id).await.ok().flatten();
    let completion_evidence = match v.task.category_id {
        Some(c) => s.db.list_categories().await.unwrap_or_default().iter().any(|x| x.id == c && x.completion_evidence),
        None => false,
    };
    // Indicators are maintained by the 督查局 and by the liaisons who report on the task.
    let may_indicate = u.role == Role::Supervisor || v.allowed_actions.iter().any(|a| a.code == "report");
    // Typed text whose form is gone (the task moved on) is shown on its own, so it can be copied.
    let typed_orphan = typed.indicator.is_none()
        && typed.plan_indicator.is_none()
        && !typed.action.is_empty()
        && typed.action != crate::indicators::ADD_INDICATOR
        && !v.allowed_actions.iter().any(|a| a.code == typed.action)
        && typed.fields.values().any(|x| !x.trim().is_empty());
    render(
        s,
        status,
        "task.html",
        Some(u),
        context! { nav => "tasks", v => v, depts => depts, people => people, flash_ok => flash_ok, flash_err => err,
        default_deadline => default_deadline, now => snap.now.to_string(), indicators => indicators,
        may_indicate => may_indicate, today => snap.now.date().to_string(), project_id => project_id,
        typed_errors => crate::forms::FormView::refused(
            crate::forms::Fields(typed.fields.clone().into_iter().collect()),
            &StoreError::Fields(xietong_supervision::validate::FieldErrors(typed.errors.clone())),
        ).value(),
        typed_action => typed.action, typed => typed.fields, sub_rows => typed.sub_rows, typed_orphan => typed_orphan,
        typed_indicator => typed.indicator, confirm_large => typed.confirm_large, plan_indicator => typed.plan_indicator,
        evidence => evidence, sources => sources, may_attach_sources => u.role == Role::Supervisor,
        completion_evidence => completion_evidence },
    )
}

#[derive(Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

/// The task page again with an error from one of its forms, so nothing typed is lost on the way.
pub(crate) async fn task_page_error(s: &AppState, u: &SessionUser, id: i64, e: StoreError) -> Response {
    if matches!(e, StoreError::Denied(_) | StoreError::NotFound(_) | StoreError::Internal(_)) {
        return error_page(s, Some(u), &e);
    }
    task_page_with(s, u, id, None, Some((status_of(&e), e.to_string()))).await
}

async fn task_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<DoneQuery>,
) -> Response {
    let ok =
        q.done.as_deref().and_then(xietong_supervision::Action::from_code).map(|a| format!("已完成：{}", a.label_zh()));
    let ok = ok.or_else(|| (q.done.as_deref() == Some("report_subtask")).then(|| "已完成：子任务汇报".to_string()));
    let ok = ok.or_else(|| (q.done.as_deref() == Some("indicator")).then(|| "已保存指标".to_string()));
    let ok = ok.or_else(|| (q.done.as_deref() == Some("indicator_plan")).then(|| "已保存分期计划".to_string()));
    task_page_with(&s, &u, id, ok, None).await
}

/// Build an action body from form fields; decomposition rows come as repeated `sub_*` fields.
pub(crate) fn action_body(form: &[(String, String)]) -> Result<ActionBody, StoreError> {
    let get = |k: &str| form.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.clone());
    let all = |k: &str| form.iter().filter(|(kk, _)| kk == k).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let int = |k: &str, label: &str| -> Result<Option<i64>, StoreError> {
        match get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
            Some(v) => v.parse::<i64>().map(Some).map_err(|_| StoreError::invalid(label, format!("「{v}」不是整数"))),
            None => Ok(None),
        }
    };
    let titles = all("sub_title");
    let subtasks = if titles.is_empty() {
        None
    } else {
        let (depts, people, deadlines) = (all("sub_dept"), all("sub_person"), all("sub_deadline"));
        // A choice a row could not read is named with every other row's (all at once).
        let mut unread = vec![];
        let mut out = vec![];
        for (i, title) in titles.iter().enumerate() {
            let row = i + 1;
            let mut pick = |v: &Vec<String>, label: &str| -> i64 {
                let f = format!("第{row}项子任务的{label}");
                match v.get(i).map(|s| s.trim()).filter(|s| !s.is_empty()) {
                    None => unread.push(FieldError::new(&f, "不能为空")),
                    Some(x) => match x.parse::<i64>() {
                        Ok(id) => return id,
                        Err(_) => unread.push(FieldError::new(&f, "选择无效")),
                    },
                }
                0
            };
            out.push(NewSubtask {
                title: title.clone(),
                dept_unit_id: pick(&depts, "责任科室"),
                person_id: pick(&people, "责任人"),
                deadline: deadlines.get(i).cloned().unwrap_or_default(),
            });
        }
        if !unread.is_empty() {
            return Err(xietong_supervision::validate::FieldErrors(unread).into());
        }
        Some(out)
    };
    Ok(ActionBody {
        comment: get("comment"),
        text: get("text"),
        reason: get("reason"),
        progress: int("progress", "进度")?,
        new_deadline: get("new_deadline"),
        extension_id: int("extension_id", "延期申请")?,
        approve: get("approve").map(|v| v == "1" || v == "true"),
        subtask_id: int("subtask_id", "子任务")?,
        subtasks,
        version: None,
    })
}

/// Task actions that cannot be undone: the page first shows what they will do and asks again.
const CONFIRMED: [&str; 2] = ["cancel", "approve"];

async fn task_action(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let flag = |k: &str| form.iter().any(|(kk, v)| kk == k && v == "1");
    if flag("back") {
        // Back from the confirmation: the form again, as typed.
        let fields = form.into_iter().filter(|(k, _)| KEPT.contains(&k.as_str())).collect();
        return task_page_typed(&s, &u, id, None, None, Typed { action, fields, ..Typed::default() }).await;
    }
    let snap = s.snapshot();
    // The version the page showed: if the task moved on since, the action is refused, not applied.
    let seen = form.iter().find(|(k, _)| k == "version").and_then(|(_, v)| v.trim().parse::<i64>().ok());
    let confirm = CONFIRMED.contains(&action.as_str()) && !flag("confirm");
    let result = match action_body(&form).and_then(|b| command(&action, b)) {
        Ok(cmd) if confirm => match confirm_task_action(&s, &u, id, &action, &cmd, seen).await {
            Ok(c) => return crate::pages::confirm_page(&s, &u, Confirm { hidden: form, ..c }),
            Err(e) => Err(e),
        },
        Ok(cmd) => s.db.perform_seen(&u, &snap.ctx(), xietong_supervision::TaskId(id), cmd, seen).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Redirect::to(&format!("/tasks/{id}?done={action}")).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::NotFound(_) | StoreError::Internal(_))) => {
            error_page(&s, Some(&u), &e)
        }
        Err(e) => {
            let sub_rows = sub_rows(&form);
            let fields = form.into_iter().filter(|(k, _)| KEPT.contains(&k.as_str())).collect();
            let typed = Typed { action, fields, errors: e.field_errors(), sub_rows, ..Typed::default() };
            task_page_typed(&s, &u, id, None, Some((status_of(&e), e.to_string())), typed).await
        }
    }
}

/// The decomposition rows of a sent form, each as its four fields.
fn sub_rows(form: &[(String, String)]) -> Vec<std::collections::BTreeMap<&'static str, String>> {
    let all = |k: &str| form.iter().filter(|(kk, _)| kk == k).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let cols = [
        ("title", all("sub_title")),
        ("dept", all("sub_dept")),
        ("person", all("sub_person")),
        ("deadline", all("sub_deadline")),
    ];
    (0..cols[0].1.len())
        .map(|i| cols.iter().map(|(k, v)| (*k, v.get(i).cloned().unwrap_or_default())).collect())
        .collect()
}

/// The fields of the task page's forms shown again after a refusal.
const KEPT: [&str; 5] = ["comment", "text", "reason", "progress", "new_deadline"];

/// What 撤销 or 办结销号 would do, checked as far as it can be without doing it: the action is open
/// to this user on the task as shown, and its text is valid. The task is not changed.
async fn confirm_task_action(
    s: &AppState,
    u: &SessionUser,
    id: i64,
    action: &str,
    cmd: &Command,
    seen: Option<i64>,
) -> Result<Confirm, StoreError> {
    let snap = s.snapshot();
    let d = s.db.get_task(u, xietong_supervision::TaskId(id), snap.now).await?;
    let v = task_view(d, u, &snap.cal, &snap.rules, snap.now);
    let t = &v.task;
    if seen.is_some_and(|x| x != t.version) {
        return Err(StoreError::stale("任务", &v.status_label));
    }
    let Some(a) = v.allowed_actions.iter().find(|a| a.code == action) else {
        return Err(StoreError::Conflict(format!("任务当前状态为「{}」，不能执行该操作", v.status_label)));
    };
    let mut rows = vec![
        ("任务".to_string(), t.title.clone()),
        ("文号".into(), t.doc_no.clone()),
        ("牵头单位".into(), t.lead_unit_name.clone()),
        ("当前状态".into(), format!("{}，进度 {}%", v.status_label, t.progress)),
    ];
    let (title, warning, button) = match cmd {
        Command::Cancel { reason } => {
            let reason = required_multiline("撤销原因", reason, 1000)?;
            rows.push(("撤销原因".into(), reason));
            rows.push(("撤销后".into(), "任务终止：不再计时、亮灯、催办，牵头单位不再办理".into()));
            ("确认撤销任务", "撤销后任务即终止，不能恢复。请核对以下内容。", "确认撤销")
        }
        Command::Approve { comment } => {
            let comment = optional_multiline("审核意见", comment, 1000)?;
            let report = v.events.iter().rev().find(|e| e.action == "request_completion");
            rows.push(("办结情况".into(), report.map(|e| e.comment.clone()).unwrap_or_else(|| "—".into())));
            rows.push(("审核意见".into(), comment.unwrap_or_else(|| "（无）".into())));
            rows.push(("办结销号后".into(), "任务关闭，进度记为 100%，计入按期办结统计，不能撤回".into()));
            ("确认办结销号", "办结销号后任务关闭，不能撤回。请核对以下内容。", "确认办结销号")
        }
        _ => return Err(StoreError::NotFound(format!("操作「{}」无需确认", a.label))),
    };
    Ok(Confirm {
        title: format!("{title}：{}", t.title),
        warning: warning.into(),
        rows,
        action: format!("/tasks/{id}/actions/{action}"),
        hidden: vec![],
        button: button.into(),
        extra: context! {},
    })
}
