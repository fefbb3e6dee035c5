//! 待办: what is waiting for the signed-in person (API and page).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::context;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_supervision::Role;

use crate::AppState;
use crate::auth::{ApiUser, PageUser};
use crate::error::{ApiError, ErrorBody};
use crate::pages::{error_page, render};
use crate::views::{TaskRow, task_row};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(todo)).routes(routes!(todo_records))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new().route("/todo", get(todo_page))
}

/// 我的待办。
#[utoipa::path(get, path = "/api/todo", tag = "督查督办", responses((status = 200, body = Vec<TaskRow>), (status = 401, body = ErrorBody)))]
pub(crate) async fn todo(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<Vec<TaskRow>>, ApiError> {
    let snap = s.snapshot();
    let items = s.db.todo_at(&u, snap.now, 200).await?;
    Ok(Json(items.into_iter().map(|i| task_row(i.task, &snap.cal, &snap.rules, snap.now, Some(i.what))).collect()))
}

/// 我的待办中的非任务事项：科技局的待审核提交和待推进对接，企业、高校院所被退回待修改的提交、
/// 待确认的专家联系方式授权和即将举行的对接活动。每项带办理页面的链接。
#[utoipa::path(get, path = "/api/todo/records", tag = "督查督办",
    responses((status = 200, body = Vec<xietong_storage::waiting::WaitingItem>), (status = 401, body = ErrorBody)))]
async fn todo_records(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
) -> Result<Json<Vec<xietong_storage::waiting::WaitingItem>>, ApiError> {
    Ok(Json(s.db.waiting_records(&u, s.clock.now()).await?))
}

async fn todo_page(State(s): State<AppState>, PageUser(u, _): PageUser) -> Response {
    // The security and audit administrators see no business data and no workflow waits on them;
    // their home is their own page.
    match u.role {
        Role::SecurityAdmin => return Redirect::to("/online").into_response(),
        Role::AuditAdmin => return Redirect::to("/audit").into_response(),
        Role::OrgDept => return Redirect::to("/cadres").into_response(),
        _ => {}
    }
    let snap = s.snapshot();
    // Enterprise and institution accounts have no supervised tasks, only what the platform asks of them.
    let items = match u.role {
        Role::Enterprise | Role::Institution => vec![],
        _ => match s.db.todo_at(&u, snap.now, 200).await {
            Ok(i) => i,
            Err(e) => return error_page(&s, Some(&u), &e),
        },
    };
    let rows: Vec<_> =
        items.into_iter().map(|i| task_row(i.task, &snap.cal, &snap.rules, snap.now, Some(i.what))).collect();
    let records = match s.db.waiting_records(&u, snap.now).await {
        Ok(r) => r,
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    let f = xietong_storage::inbox::InboxFilter { unread: Some(true), page_size: Some(5), ..Default::default() };
    let unread = s.db.inbox(&u, &f).await.map(|p| p.items).unwrap_or_default();
    render(
        &s,
        StatusCode::OK,
        "todo.html",
        Some(&u),
        context! { nav => "todo", rows => rows, records => records, unread_notes => unread, back => "/todo",
        now => snap.now.to_string(), platform => matches!(u.role, Role::Enterprise | Role::Institution) },
    )
}
