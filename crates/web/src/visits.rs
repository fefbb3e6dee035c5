//! 分包督导: leaders' visits and the tasks they give rise to (API and page forms).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_storage::StoreError;
use xietong_storage::dashboard::{NewVisit, Visit};
use xietong_storage::tasks::NewTask;

use crate::AppState;
use crate::api::{Created, J};
use crate::auth::{ApiUser, PageUser};
use crate::error::{ApiError, ErrorBody};
use crate::forms::Fields;
use crate::pages::error_page;

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(visits, record_visit)).routes(routes!(visit_follow_up))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/visits", post(visit_submit))
        .route("/visits/{id}/tasks", post(visit_task_submit))
}

/// 督导记录（区领导看自己的，督查局看全部）。
#[utoipa::path(get, path = "/api/visits", tag = "分包督导", responses((status = 200, body = Vec<Visit>), (status = 403, body = ErrorBody)))]
pub(crate) async fn visits(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<Vec<Visit>>, ApiError> {
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

async fn visit_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    let r = async {
        let v = NewVisit {
            unit_id: f.id("unit_id", "督导单位")?,
            visited_on: f.s("visited_on"),
            place: f.s("place"),
            findings: f.s("findings"),
            follow_up: f.s("follow_up"),
        };
        s.db.record_visit(&u, &v, s.clock.now()).await
    }
    .await;
    match r {
        Ok(_) => Redirect::to("/dashboard#visits").into_response(),
        // A refused visit comes back on the dashboard, as typed, each error beside its field.
        Err(e) if !e.field_errors().is_empty() => {
            let status = crate::error::status_of(&e);
            crate::dashboard::dashboard_with(s, u, status, crate::forms::FormView::refused(f, &e)).await
        }
        Err(e) => error_page(&s, Some(&u), &e),
    }
}

async fn visit_task_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    f: Fields,
) -> Response {
    let snap = s.snapshot();
    let r = async {
        let n = NewTask {
            title: f.s("title"),
            description: f.s("description"),
            lead_unit_id: f.id("lead_unit_id", "牵头单位")?.ok_or_else(|| StoreError::invalid("牵头单位", "请选择"))?,
            report_cycle: "weekly".into(),
            deadline: f.s("deadline"),
            assign_now: true,
            ..Default::default()
        };
        s.db.visit_follow_up(&u, &snap.ctx(), id, &n).await
    }
    .await;
    match r {
        Ok(t) => Redirect::to(&format!("/tasks/{t}")).into_response(),
        Err(e) => error_page(&s, Some(&u), &e),
    }
}
