//! 审核台: the 科技局's formal and expert review of the three libraries (API and page).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::context;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_docking::review::{ReviewAction, ReviewStatus};
use xietong_storage::StoreError;
use xietong_storage::libraries::{Library, ReviewEvent, ReviewItem};

use crate::AppState;
use crate::api::J;
use crate::auth::{ApiUser, PageUser};
use crate::docking::achievements::achievement_with;
use crate::docking::experts::expert_with;
use crate::docking::hub::{may_read_libraries, ok_msg, page, refused, with_ok};
use crate::docking::problems::problem_with;
use crate::error::{ApiError, ErrorBody, status_of};
use crate::forms::RawQuery;
use crate::forms::{Fields as F, FormView};
use crate::pages::error_page;

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(review_queue)).routes(routes!(review_history, review_step))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/docking/review", get(review_page))
        .route("/docking/review/{lib}/{id}", post(review_submit))
}

/// 待审核的提交（科技局）：形式审核、部门审核。
#[utoipa::path(get, path = "/api/reviews", tag = "产学研对接", responses((status = 200, body = Vec<ReviewItem>), (status = 403, body = ErrorBody)))]
async fn review_queue(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<Vec<ReviewItem>>, ApiError> {
    Ok(Json(s.db.review_queue(&u).await?))
}

pub(crate) fn library(code: &str) -> Result<Library, StoreError> {
    Library::from_code(code)
        .ok_or_else(|| StoreError::NotFound(format!("没有「{code}」库（应为 problem、expert 或 achievement）")))
}

/// 一条记录的审核记录。
#[utoipa::path(get, path = "/api/reviews/{library}/{id}", params(("library" = String, Path, description = "problem / expert / achievement"), ("id" = i64, Path, description = "记录编号")),
    tag = "产学研对接", responses((status = 200, body = Vec<ReviewEvent>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn review_history(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path((lib, id)): Path<(String, i64)>,
) -> Result<Json<Vec<ReviewEvent>>, ApiError> {
    may_read_libraries(&u)?;
    Ok(Json(s.db.review_history(&u, library(&lib)?, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReviewStep {
    /// pass_formal（形式审核通过）/ approve（部门审核通过并发布）/ return（退回）/ renew（续期）
    pub action: String,
    /// 退回原因（退回时必填）
    #[serde(default)]
    pub reason: String,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ReviewResult {
    pub status: ReviewStatus,
    pub status_label: String,
}

/// 审核一条提交（科技局）。
#[utoipa::path(post, path = "/api/reviews/{library}/{id}", request_body = ReviewStep, params(("library" = String, Path, description = "problem / expert / achievement"), ("id" = i64, Path, description = "记录编号")),
    tag = "产学研对接", responses((status = 200, body = ReviewResult), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn review_step(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path((lib, id)): Path<(String, i64)>,
    J(b): J<ReviewStep>,
) -> Result<Json<ReviewResult>, ApiError> {
    let action = ReviewAction::from_code(b.action.trim())
        .ok_or_else(|| StoreError::invalid("action", format!("「{}」不是审核操作", b.action)))?;
    let status = s.db.review(Some(&u), library(&lib)?, id, action, &b.reason, s.clock.now()).await?;
    Ok(Json(ReviewResult { status, status_label: status.label_zh().into() }))
}

// --- review desk -------------------------------------------------------------------------------
async fn review_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): RawQuery) -> Response {
    match s.db.review_queue(&u).await {
        Ok(items) => page(
            &s,
            &u,
            StatusCode::OK,
            "docking_review.html",
            "review",
            context! { items => items, flash_ok => ok_msg(&q) },
        ),
        Err(e) => error_page(&s, Some(&u), &e),
    }
}

fn record_path(lib: Library, id: i64) -> String {
    format!("/docking/{}s/{id}", lib.code())
}

async fn review_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path((lib, id)): Path<(String, i64)>,
    f: F,
) -> Response {
    let Some(lib) = Library::from_code(&lib) else {
        return error_page(&s, Some(&u), &StoreError::NotFound(format!("没有「{lib}」库")));
    };
    let back = record_path(lib, id);
    let r = async {
        let action =
            ReviewAction::from_code(f.s("action").trim()).ok_or_else(|| StoreError::invalid("审核操作", "请选择"))?;
        s.db.review(Some(&u), lib, id, action, &f.s("reason"), s.clock.now()).await
    }
    .await;
    match r {
        Ok(st) => with_ok(&back, &format!("审核完成：{}", st.label_zh())),
        Err(e) if refused(&s, &u, &e) => error_page(&s, Some(&u), &e),
        // The record page again, its review form as sent with every error beside its field (a return
        // without a reason), or the refusal above it (a step another reviewer took first).
        Err(e) => {
            let (answer, form) = ((status_of(&e), FormView::flash(&e)), FormView::refused(f, &e));
            match lib {
                Library::Problem => problem_with(&s, &u, id, answer.0, &[], answer.1, (None, Some(form))).await,
                Library::Expert => expert_with(&s, &u, id, answer, &[], form).await,
                Library::Achievement => achievement_with(&s, &u, id, answer, &[], form).await,
            }
        }
    }
}
