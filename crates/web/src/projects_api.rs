//! JSON API for key projects with bid sections, and for 清单.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_office::table::{Cell, Column};
use xietong_storage::lists::TaskList;
use xietong_storage::projects::{NewProject, Project};

use crate::AppState;
use crate::api::J;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorBody};
use crate::office_api::{XLSX, download, office_err};
use crate::views::{TaskRow, task_row};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project))
        .routes(routes!(report_section))
        .routes(routes!(lists))
        .routes(routes!(list_items))
        .routes(routes!(export_projects))
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

/// 导出项目台账（Excel，与重点项目页相同的数据范围，含各标段）。
#[utoipa::path(get, path = "/api/exports/projects", tag = "导入导出",
    responses(
        (status = 200, description = "Excel 文件",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
async fn export_projects(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Response, ApiError> {
    let now = s.clock.now();
    let projects = s.db.list_projects(&u, now.date()).await?;
    let c = Column::plain;
    let cols = vec![
        c("项目", 36.0),
        c("类型", 12.0),
        c("业主单位", 16.0),
        c("牵头单位", 16.0),
        c("建设地点", 20.0),
        c("计划总投资(万元)", 14.0),
        c("预计年产值(万元)", 14.0),
        c("预计年税收(万元)", 14.0),
        c("待办手续", 24.0),
        c("存在问题", 24.0),
        c("标段", 16.0),
        c("施工单位", 20.0),
        c("标段进度(%)", 10.0),
        c("应完成(%)", 10.0),
        c("标段排名", 8.0),
        c("是否滞后", 8.0),
    ];
    let mut rows = vec![];
    for p in &projects {
        let base = |rows: &mut Vec<Vec<Cell>>, tail: Vec<Cell>| {
            let mut r = vec![
                Cell::Text(p.title.clone()),
                Cell::Text(p.kind_label.clone()),
                Cell::Text(p.owner_unit_name.clone()),
                Cell::Text(p.lead_unit_name.clone()),
                Cell::Text(p.location.clone()),
                Cell::Number(p.planned_investment),
                p.annual_output.map(Cell::Number).unwrap_or(Cell::Empty),
                p.annual_tax.map(Cell::Number).unwrap_or(Cell::Empty),
                Cell::Text(p.approvals_pending.clone()),
                Cell::Text(p.problems.clone()),
            ];
            r.extend(tail);
            rows.push(r);
        };
        if p.ranked_sections.is_empty() {
            base(
                &mut rows,
                vec![Cell::Empty, Cell::Empty, Cell::Number(p.progress as f64), Cell::Empty, Cell::Empty, Cell::Empty],
            );
        }
        for r in &p.ranked_sections {
            let section = p.sections.iter().find(|x| x.id == r.id);
            let contractor = section.map(|x| x.contractor.clone()).unwrap_or_default();
            base(
                &mut rows,
                vec![
                    Cell::Text(r.name.clone()),
                    Cell::Text(contractor),
                    Cell::Number(r.progress as f64),
                    Cell::Number(r.planned_percent),
                    Cell::Number(r.rank as f64),
                    Cell::Text(if r.lagging { "滞后".into() } else { String::new() }),
                ],
            );
        }
    }
    let title = format!("重点项目台账（导出时间 {}）", now.format("%Y-%m-%d %H:%M"));
    let bytes = s
        .heavy(move || xietong_office::xlsx::export_table("项目台账", Some(&title), &cols, &rows).map_err(office_err))
        .await?;
    Ok(download(XLSX, &format!("重点项目台账_{}.xlsx", now.format("%Y%m%d")), bytes))
}
