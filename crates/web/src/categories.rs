//! 工作类别 and each category's 办结证据要求.

use axum::Json;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_storage::org::Category;

use crate::AppState;
use crate::auth::{ApiUser, PageUser};
use crate::error::{ApiError, ErrorBody};
use crate::pages::error_page;

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(categories))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new().route("/categories/{id}/evidence-rule", post(evidence_rule_submit))
}

/// 工作类别。
#[utoipa::path(get, path = "/api/categories", tag = "组织", responses((status = 200, body = Vec<Category>), (status = 401, body = ErrorBody)))]
pub(crate) async fn categories(
    State(s): State<AppState>,
    ApiUser(_u, _t): ApiUser,
) -> Result<Json<Vec<Category>>, ApiError> {
    Ok(Json(s.db.list_categories().await?))
}

/// 办结证据要求 from the 立项 page's table: set or clear, then back to the table.
async fn evidence_rule_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let required = form.iter().any(|(k, v)| k == "completion_evidence" && v == "1");
    match s.db.set_completion_evidence(&u, id, required, s.clock.now()).await {
        Ok(()) => Redirect::to("/tasks/new#evidence-rules").into_response(),
        Err(e) => error_page(&s, Some(&u), &e),
    }
}
