//! JSON API for key projects with bid sections, and for 清单.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_storage::lists::TaskList;
use xietong_storage::projects::{NewProject, Project};

use crate::AppState;
use crate::api::J;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorBody};
use crate::views::{TaskRow, task_row};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project))
        .routes(routes!(report_section))
        .routes(routes!(lists))
        .routes(routes!(list_items))
}

/// 数据范围内的项目（含标段排名）。
#[utoipa::path(get, path = "/api/projects", tag = "项目", responses((status = 200, body = Vec<Project>), (status = 401, body = ErrorBody)))]
async fn list_projects(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<Vec<Project>>, ApiError> {
    Ok(Json(s.db.list_projects(&u, s.clock.now().date()).await?))
}

/// 登记项目：同时立项（可交办）督办任务，并划分标段。仅督查局。
#[utoipa::path(post, path = "/api/projects", request_body = NewProject, tag = "项目",
    responses((status = 201, body = Project), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_project(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(n): J<NewProject>,
) -> Result<(StatusCode, Json<Project>), ApiError> {
    let snap = s.snapshot();
    let id = s.db.create_project(&u, &snap.ctx(), &n).await?;
    Ok((StatusCode::CREATED, Json(s.db.get_project(&u, id, snap.now).await?)))
}

/// 项目详情。
#[utoipa::path(get, path = "/api/projects/{id}", params(("id" = i64, Path, description = "项目编号")), tag = "项目",
    responses((status = 200, body = Project), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_project(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Project>, ApiError> {
    Ok(Json(s.db.get_project(&u, id, s.clock.now()).await?))
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct SectionReport {
    /// 0–100
    pub progress: i64,
    pub text: String,
}

/// 汇报标段进度（牵头单位联络员）；项目总体进度取各标段平均，记入任务时间线。
#[utoipa::path(post, path = "/api/sections/{id}/reports", params(("id" = i64, Path, description = "标段编号")), request_body = SectionReport, tag = "项目",
    responses((status = 200, body = Project), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn report_section(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    J(b): J<SectionReport>,
) -> Result<Json<Project>, ApiError> {
    let snap = s.snapshot();
    Ok(Json(s.db.report_section(&u, &snap.ctx(), id, b.progress, &b.text).await?))
}

/// 清单（事项数按数据范围统计）。
#[utoipa::path(get, path = "/api/lists", tag = "清单", responses((status = 200, body = Vec<TaskList>), (status = 401, body = ErrorBody)))]
async fn lists(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<Vec<TaskList>>, ApiError> {
    Ok(Json(s.db.task_lists(&u).await?))
}

#[derive(Serialize, ToSchema)]
pub struct ListWithItems {
    pub list: TaskList,
    pub items: Vec<TaskRow>,
}

/// 一份清单的事项（数据范围内）。
#[utoipa::path(get, path = "/api/lists/{id}", params(("id" = i64, Path, description = "清单编号")), tag = "清单",
    responses((status = 200, body = ListWithItems), (status = 404, body = ErrorBody)))]
async fn list_items(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<ListWithItems>, ApiError> {
    let snap = s.snapshot();
    let (list, tasks) = s.db.list_items(&u, id).await?;
    Ok(Json(ListWithItems {
        list,
        items: tasks.into_iter().map(|t| task_row(t, &snap.cal, &snap.rules, snap.now, None)).collect(),
    }))
}
