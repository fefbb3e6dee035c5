//! 问题台账: hard problems raised from supervision, their 协调会 and resolution (API and pages).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_office::table::{Cell, Column};
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::problems::{MEETING_KINDS, NewMeeting, NewProblem, Problem, ProblemDetail};
use xietong_storage::tasks::NewTask;
use xietong_supervision::problems::ProblemStatus;

use crate::AppState;
use crate::api::{J, Q};
use crate::auth::{ApiUser, PageUser};
use crate::downloads::{XLSX, download, office_err};
use crate::error::{ApiError, ErrorBody, status_of};
use crate::forms::{Fields, FormView, Unread};
use crate::pages::{error_page, render};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_problems, raise_problem))
        .routes(routes!(get_problem))
        .routes(routes!(act_on_problem))
        .routes(routes!(add_meeting))
        .routes(routes!(export_problems))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/problems", get(problems_page).post(raise_submit))
        .route("/problems/{id}", get(problem_page))
        .route("/problems/{id}/actions/{action}", post(problem_action))
        .route("/problems/{id}/meetings", post(meeting_submit))
}

#[derive(Deserialize, IntoParams)]
pub struct ProblemQuery {
    /// pending 待研判 / coordinating 协调中 / escalated 上报区委区政府 / instructed 批示 / resolved 已化解 /
    /// unresolved 全部未化解
    pub status: Option<String>,
}

/// 问题台账（按数据范围），含问题存续天数和当前持有者。
#[utoipa::path(get, path = "/api/problems", params(ProblemQuery), tag = "问题台账",
    responses((status = 200, body = Vec<Problem>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn list_problems(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(q): Q<ProblemQuery>,
) -> Result<Json<Vec<Problem>>, ApiError> {
    Ok(Json(s.db.list_problems(&u, q.status.as_deref(), s.clock.now()).await?))
}

/// 将问题列入问题台账（督查局或区领导；可关联来源任务）。
#[utoipa::path(post, path = "/api/problems", request_body = NewProblem, tag = "问题台账",
    responses((status = 201, body = ProblemDetail), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn raise_problem(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(n): J<NewProblem>,
) -> Result<(StatusCode, Json<ProblemDetail>), ApiError> {
    let now = s.clock.now();
    let id = s.db.raise_problem(&u, &n, now).await?;
    Ok((StatusCode::CREATED, Json(s.db.get_problem(&u, id, now).await?)))
}

/// 问题详情：处理过程、协调会、可执行操作。
#[utoipa::path(get, path = "/api/problems/{id}", params(("id" = i64, Path, description = "问题编号")), tag = "问题台账",
    responses((status = 200, body = ProblemDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_problem(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<ProblemDetail>, ApiError> {
    Ok(Json(s.db.get_problem(&u, id, s.clock.now()).await?))
}

#[derive(Deserialize, Serialize, ToSchema, Default)]
pub struct ProblemActionBody {
    #[serde(default)]
    pub comment: String,
}

/// 对问题执行操作：start_coordination 开始协调、escalate 上报区委区政府、instruct 批示、resolve 化解。
#[utoipa::path(post, path = "/api/problems/{id}/actions/{action}", request_body = ProblemActionBody, tag = "问题台账",
    params(("id" = i64, Path, description = "问题编号"), ("action" = String, Path, description = "操作名")),
    responses((status = 200, body = ProblemDetail), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn act_on_problem(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path((id, action)): Path<(i64, String)>,
    J(b): J<ProblemActionBody>,
) -> Result<Json<ProblemDetail>, ApiError> {
    Ok(Json(s.db.act_on_problem(&u, id, &action, &b.comment, s.clock.now()).await?))
}

/// 记录协调会 / 研判会（参会人员、议定事项）；议定事项可直接转为督办任务（督查局）。
#[utoipa::path(post, path = "/api/problems/{id}/meetings", params(("id" = i64, Path, description = "问题编号")), request_body = NewMeeting, tag = "问题台账",
    responses((status = 201, body = ProblemDetail), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn add_meeting(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    J(m): J<NewMeeting>,
) -> Result<(StatusCode, Json<ProblemDetail>), ApiError> {
    let snap = s.snapshot();
    s.db.add_meeting(&u, &snap.ctx(), id, &m).await?;
    Ok((StatusCode::CREATED, Json(s.db.get_problem(&u, id, snap.now).await?)))
}

/// 导出问题台账（Excel）：与问题台账页相同的数据范围和状态筛选。
#[utoipa::path(get, path = "/api/exports/problems", params(ProblemQuery), tag = "导入导出",
    responses(
        (status = 200, description = "Excel 文件",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, body = ErrorBody)))]
async fn export_problems(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(q): Q<ProblemQuery>,
) -> Result<Response, ApiError> {
    let now = s.clock.now();
    let list = s.db.list_problems(&u, q.status.as_deref().filter(|x| !x.is_empty()), now).await?;
    let cols: Vec<Column> = [
        ("编号", 6.0),
        ("问题", 40.0),
        ("来源任务", 30.0),
        ("牵头单位", 16.0),
        ("一把手", 14.0),
        ("涉及单位", 24.0),
        ("状态", 12.0),
        ("当前持有", 22.0),
        ("存续天数", 8.0),
        ("列入时间", 18.0),
        ("化解时间", 18.0),
    ]
    .iter()
    .map(|(h, w)| Column::plain(h, *w))
    .collect();
    let dt = |x: Option<chrono::NaiveDateTime>| x.map(Cell::DateTime).unwrap_or(Cell::Empty);
    let rows: Vec<Vec<Cell>> = list
        .iter()
        .map(|p| {
            vec![
                Cell::Number(p.id as f64),
                Cell::Text(p.title.clone()),
                Cell::Text(p.source_task_title.clone().unwrap_or_default()),
                Cell::Text(p.lead_unit_name.clone()),
                Cell::Text(p.lead_unit_head.clone().unwrap_or_default()),
                Cell::Text(p.units.iter().map(|u| u.1.clone()).collect::<Vec<_>>().join("、")),
                Cell::Text(p.status_label.clone()),
                Cell::Text(p.holder.clone()),
                Cell::Number(p.age_days as f64),
                dt(Some(p.raised_at)),
                dt(p.resolved_at),
            ]
        })
        .collect();
    let title = format!("问题台账（导出时间 {}）", now.format("%Y-%m-%d %H:%M"));
    let bytes = s
        .heavy(move || xietong_office::xlsx::export_table("问题台账", Some(&title), &cols, &rows).map_err(office_err))
        .await?;
    Ok(download(XLSX, &format!("问题台账_{}.xlsx", now.format("%Y%m%d")), bytes))
}

// ---------------------------------------------------------------- 问题台账
async fn problems_with(
    s: &AppState,
    u: &SessionUser,
    status_filter: Option<String>,
    (st, err): (StatusCode, Option<String>),
    from_task: Option<i64>,
    form: FormView,
) -> Response {
    let now = s.clock.now();
    let list = match s.db.list_problems(u, status_filter.as_deref(), now).await {
        Ok(l) => l,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let units = s.db.list_units().await.unwrap_or_default();
    let mut statuses: Vec<_> =
        ProblemStatus::ALL.iter().map(|x| context! { code => x.code(), label => x.label_zh() }).collect();
    statuses.insert(0, context! { code => xietong_storage::problems::UNRESOLVED, label => "全部未化解" });
    let source = match from_task {
        Some(t) => s.db.get_task(u, xietong_supervision::TaskId(t), now).await.ok().map(|d| d.task),
        None => None,
    };
    let candidates: Vec<_> = s
        .db
        .ledger_candidates(u)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|(id, title, unit, deadline, at)| context! { id => id, title => title, unit => unit, deadline => deadline.to_string(), at => at.to_string() })
        .collect();
    render(
        s,
        st,
        "problems.html",
        Some(u),
        context! { nav => "problems", list => list, units => units, statuses => statuses, f_status => status_filter,
        flash_err => err, source => source, candidates => candidates,
        f => form.value() },
    )
}

async fn problems_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let from = q.get("from_task").and_then(|x| x.parse::<i64>().ok());
    let fresh = FormView::fresh(Fields::default());
    let status = q.get("status").cloned().filter(|x| !x.is_empty());
    problems_with(&s, &u, status, (StatusCode::OK, None), from, fresh).await
}

async fn raise_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    let mut unread = Unread::default();
    let source_task_id = unread.id(&f, "source_task_id", "来源任务");
    let lead = unread.id(&f, "lead_unit_id", "牵头单位");
    if lead.is_none() && !unread.0.iter().any(|e| e.field == "牵头单位") {
        unread.0.push(xietong_supervision::FieldError::new("牵头单位", "请选择牵头单位"));
    }
    let unit_ids = unread.take(f.ids("unit_id", "涉及单位").map(Some)).unwrap_or_default();
    let n = NewProblem {
        title: f.s("title"),
        description: f.s("description"),
        source_task_id,
        // Unread (its error is in `unread`), so never looked up.
        lead_unit_id: lead.unwrap_or(0),
        unit_ids,
    };
    match s.db.raise_problem_from_form(&u, &n, s.clock.now(), unread.0).await {
        Ok(id) => Redirect::to(&format!("/problems/{id}")).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_))) => error_page(&s, Some(&u), &e),
        Err(e) => {
            let answer = (status_of(&e), FormView::flash(&e));
            problems_with(&s, &u, None, answer, source_task_id, FormView::refused(f, &e)).await
        }
    }
}

async fn problem_with(
    s: &AppState,
    u: &SessionUser,
    id: i64,
    (st, err): (StatusCode, Option<String>),
    form: FormView,
) -> Response {
    let d = match s.db.get_problem(u, id, s.clock.now()).await {
        Ok(d) => d,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let units = s.db.list_units().await.unwrap_or_default();
    let may_meet = d.allowed_actions.iter().any(|a| a == "hold_meeting");
    let actions: Vec<_> = d
        .allowed_actions
        .iter()
        .filter(|a| *a != "hold_meeting")
        .filter_map(|a| {
            xietong_supervision::problems::ProblemAction::from_code(a)
                .map(|x| context! { code => x.code(), label => x.label_zh() })
        })
        .collect();
    let (files, can_attach) =
        crate::attachments::record_files_for_page(s, u, xietong_storage::attachments::Record::Problem(id)).await;
    render(
        s,
        st,
        "problem.html",
        Some(u),
        context! { nav => "problems", d => d, actions => actions, files => files, can_attach => can_attach,
        may_meet => may_meet, kinds => MEETING_KINDS, units => units, flash_err => err, f => form.value(),
        now => s.clock.now().format("%Y-%m-%dT%H:%M").to_string(),
        default_deadline => s.snapshot().cal.add_working_days(s.clock.now().date(), 10).value.to_string() },
    )
}

async fn problem_page(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>) -> Response {
    problem_with(&s, &u, id, (StatusCode::OK, None), FormView::fresh(Fields::default())).await
}

async fn problem_action(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path((id, action)): Path<(i64, String)>,
    f: Fields,
) -> Response {
    match s.db.act_on_problem(&u, id, &action, &f.s("comment"), s.clock.now()).await {
        Ok(_) => Redirect::to(&format!("/problems/{id}")).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_) | StoreError::NotFound(_))) => {
            error_page(&s, Some(&u), &e)
        }
        Err(e) => {
            let fresh = FormView::fresh(Fields::default());
            problem_with(&s, &u, id, (status_of(&e), Some(e.to_string())), fresh).await
        }
    }
}

async fn meeting_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    f: Fields,
) -> Response {
    let snap = s.snapshot();
    let r = async {
        // Follow-up decisions typed as rows: title, lead unit, deadline (督查局 turns them into tasks).
        let titles: Vec<String> = f.all("task_title");
        let leads: Vec<String> = f.all("task_lead");
        let deadlines: Vec<String> = f.all("task_deadline");
        let mut tasks = vec![];
        for (i, t) in titles.iter().enumerate() {
            if t.trim().is_empty() {
                continue;
            }
            let lead = leads
                .get(i)
                .and_then(|x| x.trim().parse::<i64>().ok())
                .ok_or_else(|| StoreError::invalid(&format!("第{}项议定任务的牵头单位", i + 1), "请选择"))?;
            tasks.push(NewTask {
                title: t.clone(),
                description: format!("问题台账第{id}号问题协调会议定事项"),
                source_kind: "meeting".into(),
                doc_no: format!("问题台账〔{}〕{id}-{}-{}", snap.now.format("%Y"), snap.now.format("%m%d%H%M"), i + 1),
                source_title: f.s("kind"),
                source_date: snap.now.date().to_string(),
                lead_unit_id: lead,
                report_cycle: "weekly".into(),
                deadline: deadlines.get(i).cloned().unwrap_or_default(),
                assign_now: true,
                ..Default::default()
            });
        }
        let m = NewMeeting {
            kind: f.s("kind"),
            held_at: f.s("held_at").replace('T', " "),
            place: f.s("place"),
            attendees: f.s("attendees"),
            decisions: f.s("decisions"),
            follow_up_tasks: tasks,
        };
        s.db.add_meeting(&u, &snap.ctx(), id, &m).await
    }
    .await;
    match r {
        Ok(_) => Redirect::to(&format!("/problems/{id}")).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_) | StoreError::NotFound(_))) => {
            error_page(&s, Some(&u), &e)
        }
        Err(e) => {
            let answer = (status_of(&e), FormView::flash(&e));
            problem_with(&s, &u, id, answer, FormView::refused(f, &e)).await
        }
    }
}
