//! 重点项目 and their 标段 reports (API and pages).

use axum::Json;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_office::table::{Cell, Column};
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::projects::{NewProject, NewSection, Project};
use xietong_storage::tasks::NewTask;
use xietong_supervision::FieldError;

use crate::AppState;
use crate::api::J;
use crate::auth::{ApiUser, PageUser};
use crate::downloads::{XLSX, download, office_err};
use crate::error::{ApiError, ErrorBody};
use crate::forms::{Fields, FormView};
use crate::pages::{error_page, render};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project))
        .routes(routes!(report_section))
        .routes(routes!(export_projects))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/projects", get(projects_page).post(project_submit))
        .route("/projects/{id}", get(project_page))
        .route("/sections/{id}/report", post(section_report))
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
    /// 说明：进度低于该标段上次汇报时必填
    #[serde(default)]
    pub reason: String,
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
    Ok(Json(s.db.report_section(&u, &snap.ctx(), id, b.progress, &b.text, &b.reason).await?))
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

async fn projects_with(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    flash_err: Option<String>,
    form: FormView,
) -> Response {
    let projects = match s.db.list_projects(u, s.clock.now().date()).await {
        Ok(p) => p,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let units = s.db.list_units().await.unwrap_or_default();
    let categories = s.db.list_categories().await.unwrap_or_default();
    // Repeated section fields keep their order; four rows, as typed.
    let sections: Vec<_> = (0..SECTION_ROWS)
        .map(|i| {
            let at = |k: &str| form.all(k).get(i).cloned().unwrap_or_default();
            context! { name => at("section_name"), contractor => at("section_contractor"), start => at("section_start"), due => at("section_due") }
        })
        .collect();
    render(
        s,
        status,
        "projects.html",
        Some(u),
        context! { nav => "projects", projects => projects, units => units, categories => categories,
        flash_err => flash_err,
        f => form.value(), sections => sections,
        kinds => xietong_storage::projects::PROJECT_KINDS.iter().map(|(c, l)| context! { code => c, label => l }).collect::<Vec<_>>(),
        cycles => xietong_supervision::ReportCycle::ALL.iter().map(|c| context! { code => c.code(), label => c.label_zh() }).collect::<Vec<_>>(),
        today => s.clock.now().date().to_string() },
    )
}

/// Rows for bid sections on the 登记项目 form.
const SECTION_ROWS: usize = 4;

async fn projects_page(State(s): State<AppState>, PageUser(u, _): PageUser) -> Response {
    projects_with(&s, &u, StatusCode::OK, None, FormView::fresh(Fields::default())).await
}

/// 登记项目 from the page: every field of the project, its task and its sections is checked at
/// once; a refused form comes back whole, each error beside its field.
async fn project_submit(State(s): State<AppState>, PageUser(u, _): PageUser, form: Fields) -> Response {
    let one = |k: &str| form.s(k);
    let mut pre = vec![];
    let mut take = |r: Result<Option<i64>, StoreError>| {
        r.unwrap_or_else(|e| {
            pre.extend(e.field_errors());
            None
        })
    };
    let category_id = take(form.id("category_id", "工作类别"));
    let lead = take(form.id("lead_unit_id", "牵头单位"));
    let owner = take(form.id("owner_unit_id", "业主单位"));
    let mut amount = |k: &str, field: &str| {
        form.num(k, field).unwrap_or_else(|e| {
            pre.extend(e.field_errors());
            None
        })
    };
    let planned = amount("planned_investment", "计划总投资（万元）");
    let (annual_output, annual_tax) =
        (amount("annual_output", "预计年产值（万元）"), amount("annual_tax", "预计年税收（万元）"));
    for (v, field) in [(lead, "牵头单位"), (owner, "业主单位")] {
        if v.is_none() && !pre.iter().any(|e| e.field == field) {
            pre.push(FieldError::new(field, "不能为空，请选择"));
        }
    }
    if planned.is_none() && !pre.iter().any(|e| e.field == "计划总投资（万元）") {
        pre.push(FieldError::new("计划总投资（万元）", "不能为空"));
    }
    // A row with anything in it is a section (a forgotten name is named, not dropped); the
    // storage numbers the rows it is given, the form its own rows.
    let (names, contractors, starts, dues) =
        (form.all("section_name"), form.all("section_contractor"), form.all("section_start"), form.all("section_due"));
    let cell = |v: &Vec<String>, i: usize| v.get(i).cloned().unwrap_or_default();
    let rows: Vec<usize> = (0..names.len().max(contractors.len()))
        .filter(|i| [&names, &contractors].iter().any(|v| !cell(v, *i).trim().is_empty()))
        .collect();
    let sections = rows
        .iter()
        .map(|i| NewSection {
            name: cell(&names, *i),
            contractor: cell(&contractors, *i),
            start_on: cell(&starts, *i),
            due_on: cell(&dues, *i),
        })
        .collect();
    let n = NewProject {
        task: NewTask {
            title: one("title"),
            description: one("problems"),
            source_kind: "meeting".into(),
            doc_no: one("doc_no"),
            source_title: one("source_title"),
            source_date: one("source_date"),
            category_id,
            lead_unit_id: lead.unwrap_or(0),
            report_cycle: one("report_cycle"),
            deadline: one("deadline"),
            assign_now: true,
            ..Default::default()
        },
        kind: one("kind"),
        owner_unit_id: owner.unwrap_or(0),
        location: one("location"),
        planned_investment: planned.unwrap_or(0.0),
        annual_output,
        annual_tax,
        approvals_pending: one("approvals_pending"),
        problems: one("problems"),
        sections,
    };
    let snap = s.snapshot();
    match s.db.create_project_from_form(&u, &snap.ctx(), &n, pre).await {
        Ok(id) => Redirect::to(&format!("/projects/{id}")).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_))) => error_page(&s, Some(&u), &e),
        Err(e) => {
            // 「第2个标段」 of the rows given is the form's own row.
            let e = e.rename_fields(|f| match f.strip_prefix('第').and_then(|r| r.split_once("个标段")) {
                Some((k, rest)) => match k.parse::<usize>().ok().and_then(|k| rows.get(k - 1)) {
                    Some(i) => format!("第{}个标段{rest}", i + 1),
                    None => f.to_string(),
                },
                None => f.to_string(),
            });
            projects_with(&s, &u, crate::error::status_of(&e), FormView::flash(&e), FormView::refused(form, &e)).await
        }
    }
}

async fn project_with(s: &AppState, u: &SessionUser, id: i64, flash_err: Option<(StatusCode, String)>) -> Response {
    let p = match s.db.get_project(u, id, s.clock.now()).await {
        Ok(p) => p,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let snap = s.snapshot();
    let task =
        s.db.get_task(u, xietong_supervision::TaskId(p.task_id), snap.now)
            .await
            .ok()
            .map(|d| crate::views::task_view(d, u, &snap.cal, &snap.rules, snap.now));
    let may_report = task.as_ref().is_some_and(|t| t.allowed_actions.iter().any(|a| a.code == "report"));
    let (status, err) = match flash_err {
        Some((st, m)) => (st, Some(m)),
        None => (StatusCode::OK, None),
    };
    render(
        s,
        status,
        "project.html",
        Some(u),
        context! { nav => "projects", p => p, task => task, may_report => may_report, flash_err => err },
    )
}

async fn project_page(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>) -> Response {
    project_with(&s, &u, id, None).await
}

#[derive(Deserialize)]
struct SectionForm {
    project_id: i64,
    progress: String,
    text: String,
    #[serde(default)]
    reason: String,
}

async fn section_report(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<SectionForm>,
) -> Response {
    let snap = s.snapshot();
    let r = async {
        let p = f
            .progress
            .trim()
            .parse::<i64>()
            .map_err(|_| StoreError::invalid("标段进度", format!("「{}」不是整数", f.progress.trim())))?;
        s.db.report_section(&u, &snap.ctx(), id, p, &f.text, &f.reason).await
    }
    .await;
    match r {
        Ok(p) => Redirect::to(&format!("/projects/{}", p.id)).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_) | StoreError::NotFound(_))) => {
            error_page(&s, Some(&u), &e)
        }
        Err(e) => project_with(&s, &u, f.project_id, Some((crate::error::status_of(&e), e.to_string()))).await,
    }
}
