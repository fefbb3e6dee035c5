//! 督办任务, API and pages side by side:
//!
//! - [`list`]: the task list and 立项;
//! - [`detail`]: one task and every action on it (交办 … 办结销号);
//! - [`batch`]: 批量签收, 批量催办, 批量导出 — one audited action per task, answered row by row;
//! - [`paper`]: the 督办通知单 (.docx, with its 回执) and the task ledger (.xlsx) of what the
//!   task list shows.

pub mod batch;
pub mod detail;
pub mod list;
pub mod paper;

use axum::routing::{get, post};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;

/// The API routes (documented in the OpenAPI document; roles in [`crate::policy::TABLE`]).
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(list::api_router())
        .merge(detail::api_router())
        .routes(routes!(paper::notice_api))
        .routes(routes!(paper::export_api))
        .routes(routes!(batch::receive_api))
        .routes(routes!(batch::urge_api))
        .routes(routes!(batch::export_api))
}

/// The page routes (roles in [`crate::policy::PAGES`]).
pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .merge(list::page_router())
        .merge(detail::page_router())
        .route("/tasks/{id}/notice.docx", get(paper::notice_page))
        .route("/tasks/batch/receive", post(batch::receive_page))
        .route("/tasks/batch/urge", post(batch::urge_page))
        .route("/tasks/batch/export", post(batch::export_page))
}
