//! JSON API for 问题化解 (问题台账 and 协调会), 督查统筹 (inspections and merges) and 分包督导 visits.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_office::table::{Cell, Column};
use xietong_storage::dashboard::{NewVisit, Visit};
use xietong_storage::inspections::{InspectionOverview, NewInspection};
use xietong_storage::problems::{NewMeeting, NewProblem, Problem, ProblemDetail};
use xietong_storage::tasks::NewTask;

use crate::AppState;
use crate::api::Created;
use crate::api::{J, Q};
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorBody};
use crate::office_api::{XLSX, download, office_err};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_problems, raise_problem))
        .routes(routes!(get_problem))
        .routes(routes!(act_on_problem))
        .routes(routes!(add_meeting))
        .routes(routes!(inspections, register_inspection))
        .routes(routes!(merge_inspections))
        .routes(routes!(visits, record_visit))
        .routes(routes!(visit_follow_up))
        .routes(routes!(export_problems))
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

/// 督查考核事项登记表、合并建议（附理由）和各单位每月受检次数（合并前后）。
#[utoipa::path(get, path = "/api/inspections", tag = "督查统筹", responses((status = 200, body = InspectionOverview), (status = 401, body = ErrorBody)))]
async fn inspections(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<InspectionOverview>, ApiError> {
    Ok(Json(s.db.inspection_overview(&u).await?))
}

/// 登记督查考核事项（督查局）。
#[utoipa::path(post, path = "/api/inspections", request_body = NewInspection, tag = "督查统筹",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn register_inspection(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(n): J<NewInspection>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    Ok((StatusCode::CREATED, Json(Created { id: s.db.register_inspection(&u, &n, s.clock.now()).await? })))
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct MergeBody {
    pub inspection_ids: Vec<i64>,
    pub name: String,
    pub reason: String,
}

/// 合并督查考核事项（能合尽合，保留各自来源）。
#[utoipa::path(post, path = "/api/inspections/merges", request_body = MergeBody, tag = "督查统筹",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn merge_inspections(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(b): J<MergeBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(Created { id: s.db.merge_inspections(&u, &b.inspection_ids, &b.name, &b.reason, s.clock.now()).await? }),
    ))
}

/// 督导记录（区领导看自己的，督查局看全部）。
#[utoipa::path(get, path = "/api/visits", tag = "分包督导", responses((status = 200, body = Vec<Visit>), (status = 403, body = ErrorBody)))]
async fn visits(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<Vec<Visit>>, ApiError> {
    use xietong_supervision::Role;
    let who = match u.role {
        Role::Leader => Some(u.person_id),
        Role::Supervisor | Role::Admin => None,
        _ => return Err(xietong_storage::StoreError::Denied("无权限：督导记录仅区领导和督查局可见".into()).into()),
    };
    Ok(Json(s.db.visits(who, 500).await?))
}

/// 记录一次督导（区领导）：日期、地点、发现问题、跟进要求；通知被督导单位。
#[utoipa::path(post, path = "/api/visits", request_body = NewVisit, tag = "分包督导",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn record_visit(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(v): J<NewVisit>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    Ok((StatusCode::CREATED, Json(Created { id: s.db.record_visit(&u, &v, s.clock.now()).await? })))
}

/// 将督导发现的问题转为督办任务（督查局立项并交办，来源为领导督导，与督导记录关联）。
#[utoipa::path(post, path = "/api/visits/{id}/tasks", params(("id" = i64, Path, description = "督导记录编号")), request_body = NewTask, tag = "分包督导",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn visit_follow_up(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    J(n): J<NewTask>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let snap = s.snapshot();
    Ok((StatusCode::CREATED, Json(Created { id: s.db.visit_follow_up(&u, &snap.ctx(), id, &n).await? })))
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
