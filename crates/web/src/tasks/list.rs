//! The task list and 立项 (API and pages).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::context;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::tasks::{NewTask, TaskFilter};
use xietong_supervision::{FieldError, ReportCycle, SourceKind, TaskStatus};

use crate::AppState;
use crate::api::{J, Q};
use crate::auth::{ApiUser, PageUser};
use crate::error::{ApiError, ErrorBody, status_of};
use crate::forms::{Fields, FormView};
use crate::pages::{error_page, render};
use crate::views::{TaskRow, TaskView, task_row, task_view};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_tasks, create_task))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/tasks", get(tasks_page))
        .route("/tasks/new", get(new_task_page).post(new_task_submit))
}

#[derive(Serialize, ToSchema)]
pub struct TaskPageView {
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
    pub items: Vec<TaskRow>,
}

/// 任务列表（按数据范围过滤，可按状态、亮灯、单位、类别、来源、关键词筛选）。
#[utoipa::path(get, path = "/api/tasks", params(TaskFilter), tag = "督查督办",
    responses((status = 200, body = TaskPageView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn list_tasks(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(f): Q<TaskFilter>,
) -> Result<Json<TaskPageView>, ApiError> {
    let snap = s.snapshot();
    let p = s.db.list_tasks(&u, &snap.ctx(), &f).await?;
    Ok(Json(TaskPageView {
        total: p.total,
        page: p.page,
        page_size: p.page_size,
        items: p.items.into_iter().map(|t| task_row(t, &snap.cal, &snap.rules, snap.now, None)).collect(),
    }))
}

/// 立项（可同时交办）。仅督查局。
#[utoipa::path(post, path = "/api/tasks", request_body = NewTask, tag = "督查督办",
    responses((status = 201, body = TaskView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_task(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(n): J<NewTask>,
) -> Result<(StatusCode, Json<TaskView>), ApiError> {
    let snap = s.snapshot();
    let id = s.db.create_task(&u, &snap.ctx(), &n).await?;
    let snap = s.snapshot();
    let d = s.db.get_task(&u, id, snap.now).await?;
    Ok((StatusCode::CREATED, Json(task_view(d, &u, &snap.cal, &snap.rules, snap.now))))
}

async fn tasks_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    axum::extract::Query(raw): axum::extract::Query<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| raw.iter().find(|(kk, v)| kk == k && !v.is_empty()).map(|(_, v)| v.clone());
    // Named in Chinese: the error page shows the field to the person who followed the link.
    let num = |k: &str, label: &str| -> Result<Option<i64>, StoreError> {
        get(k).map(|v| v.parse::<i64>().map_err(|_| StoreError::invalid(label, format!("「{v}」不是数字")))).transpose()
    };
    let f = match (|| -> Result<TaskFilter, StoreError> {
        Ok(TaskFilter {
            status: get("status"),
            light: get("light"),
            lead_unit_id: num("lead_unit_id", "牵头单位")?,
            category_id: num("category_id", "工作类别")?,
            source_kind: get("source_kind"),
            q: get("q"),
            area: get("area"),
            page: num("page", "页码")?,
            page_size: None,
        })
    })() {
        Ok(f) => f,
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    let snap = s.snapshot();
    let page = match s.db.list_tasks(&u, &snap.ctx(), &f).await {
        Ok(p) => p,
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    let mut rows: Vec<_> =
        page.items.into_iter().map(|t| task_row(t, &snap.cal, &snap.rules, snap.now, None)).collect();
    crate::views::with_forecasts(&s.db, &mut rows).await;
    let units = s.db.list_units().await.unwrap_or_default();
    let categories = s.db.list_categories().await.unwrap_or_default();
    let mut statuses: Vec<_> =
        TaskStatus::ALL.iter().map(|s| context! { code => s.code(), label => s.label_zh() }).collect();
    statuses.insert(0, context! { code => "open", label => "全部在办（交办至待审核）" });
    let sources: Vec<_> =
        SourceKind::ALL.iter().map(|s| context! { code => s.code(), label => s.label_zh() }).collect();
    let pages = (page.total + page.page_size - 1) / page.page_size;
    // Every filter but the page, for the paging links.
    let qs = serde_urlencoded::to_string(raw.iter().filter(|(k, v)| k != "page" && !v.is_empty()).collect::<Vec<_>>())
        .unwrap_or_default();
    let export_query = crate::tasks::paper::export_query(&f);
    let back = format!("/tasks{export_query}");
    render(
        &s,
        StatusCode::OK,
        "tasks.html",
        Some(&u),
        context! { nav => "tasks", rows => rows, total => page.total, page => page.page, pages => pages, units => units, categories => categories,
        statuses => statuses, sources => sources, qs => qs, export_query => export_query, back => back, ok => get("ok"),
        f => context! { status => f.status, light => f.light, lead_unit_id => f.lead_unit_id,
        category_id => f.category_id, source_kind => f.source_kind, q => f.q, area => f.area } },
    )
}

async fn new_task_form(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    error: Option<String>,
    form: FormView,
) -> Response {
    let units = s.db.list_units().await.unwrap_or_default();
    let categories = s.db.list_categories().await.unwrap_or_default();
    let leader_people = crate::views::leader_people(s).await;
    let sources: Vec<_> =
        SourceKind::ALL.iter().map(|s| context! { code => s.code(), label => s.label_zh() }).collect();
    let cycles: Vec<_> =
        ReportCycle::ALL.iter().map(|s| context! { code => s.code(), label => s.label_zh() }).collect();
    let snap = s.snapshot();
    render(
        s,
        status,
        "task_new.html",
        Some(u),
        context! { nav => "new", units => units, categories => categories, leaders => leader_people, sources => sources, cycles => cycles,
        error => error, f => form.value(), today => snap.now.date().to_string(),
        now => snap.now.format("%Y-%m-%dT%H:%M").to_string() },
    )
}

async fn new_task_page(State(s): State<AppState>, PageUser(u, _): PageUser) -> Response {
    if let Err(e) = u.actor().may_create_tasks() {
        return error_page(&s, Some(&u), &e.into());
    }
    new_task_form(&s, &u, StatusCode::OK, None, FormView::fresh(Fields::default())).await
}

/// 立项 from the page: every field is checked at once (the choices the form could not read with
/// the rest), and a refused form comes back with every value and every error beside its field.
async fn new_task_submit(State(s): State<AppState>, PageUser(u, _): PageUser, form: Fields) -> Response {
    let get = |k: &str| form.trimmed(k);
    let mut pre = vec![];
    let mut id = |k: &str, label: &str| -> Option<i64> {
        form.id(k, label).unwrap_or_else(|e| {
            pre.extend(e.field_errors());
            None
        })
    };
    let category_id = id("category_id", "工作类别");
    let leader_person_id = id("leader_person_id", "分管领导");
    let lead_unit_id = id("lead_unit_id", "牵头单位");
    let co_unit_ids = form.ids("co_unit_ids", "配合单位").unwrap_or_else(|e| {
        pre.extend(e.field_errors());
        vec![]
    });
    if lead_unit_id.is_none() && !pre.iter().any(|e| e.field == "牵头单位") {
        pre.push(FieldError::new("牵头单位", "不能为空，请选择"));
    }
    let n = NewTask {
        title: get("title"),
        description: get("description"),
        source_kind: get("source_kind"),
        doc_no: get("doc_no"),
        source_title: get("source_title"),
        source_date: get("source_date"),
        category_id,
        // Unread (its error is in `pre`), so never looked up.
        lead_unit_id: lead_unit_id.unwrap_or(0),
        co_unit_ids,
        leader_person_id,
        report_cycle: get("report_cycle"),
        deadline: get("deadline"),
        received_at: Some(get("received_at")).filter(|v| !v.is_empty()),
        assign_now: form.on("assign_now"),
    };
    let snap = s.snapshot();
    match s.db.create_task_from_form(&u, &snap.ctx(), &n, pre).await {
        Ok(id) => Redirect::to(&format!("/tasks/{id}")).into_response(),
        Err(e @ StoreError::Denied(_)) => error_page(&s, Some(&u), &e),
        Err(e) => new_task_form(&s, &u, status_of(&e), FormView::flash(&e), FormView::refused(form, &e)).await,
    }
}
