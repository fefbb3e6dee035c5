//! 清单: lists of items run on the supervision engine (API and pages).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use minijinja::context;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_storage::lists::TaskList;

use crate::AppState;
use crate::auth::{ApiUser, PageUser};
use crate::error::{ApiError, ErrorBody};
use crate::pages::{error_page, render};
use crate::views::{TaskRow, task_row};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(lists)).routes(routes!(list_items))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new().route("/lists", get(lists_page)).route("/lists/{id}", get(list_page))
}

/// 清单（事项数按数据范围统计）。
#[utoipa::path(get, path = "/api/lists", tag = "清单", responses((status = 200, body = Vec<TaskList>), (status = 401, body = ErrorBody)))]
pub(crate) async fn lists(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<Vec<TaskList>>, ApiError> {
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

async fn lists_page(State(s): State<AppState>, PageUser(u, _): PageUser) -> Response {
    match s.db.task_lists(&u).await {
        Ok(l) => render(&s, StatusCode::OK, "lists.html", Some(&u), context! { nav => "lists", lists => l }),
        Err(e) => error_page(&s, Some(&u), &e),
    }
}

async fn list_page(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>) -> Response {
    let snap = s.snapshot();
    match s.db.list_items(&u, id).await {
        Ok((l, tasks)) => {
            let rows: Vec<_> = tasks.into_iter().map(|t| task_row(t, &snap.cal, &snap.rules, snap.now, None)).collect();
            render(&s, StatusCode::OK, "list.html", Some(&u), context! { nav => "lists", l => l, rows => rows })
        }
        Err(e) => error_page(&s, Some(&u), &e),
    }
}
