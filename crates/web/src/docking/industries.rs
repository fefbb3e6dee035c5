//! The 行业 picker: GB/T 4754-2017 searched by code or by words (「起重」 finds 3514), as JSON for
//! API callers and as a page that works without script on a phone. The 难题 forms offer the same
//! search in place (a 「查找」 button) and a <datalist> of the 小类.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use minijinja::context;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_docking::industries::{Industry, all, search};

use crate::AppState;
use crate::api::Q;
use crate::auth::{ApiUser, PageUser};
use crate::docking::hub::may_read_libraries;
use crate::error::{ApiError, ErrorBody};
use crate::pages::{error_page, render};

/// At most this many classes are listed for one search.
pub const LIMIT: usize = 50;

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(industries))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new().route("/industries", get(industries_page))
}

#[derive(Deserialize, IntoParams)]
pub struct IndustryQuery {
    /// 代码（如 3514、C3514、35）或名称、说明中的词（如 起重）
    pub q: Option<String>,
}

/// 查找国民经济行业分类（GB/T 4754-2017）：按代码或名称、说明中的词，最多 50 条。
#[utoipa::path(get, path = "/api/industries", params(IndustryQuery), tag = "产学研对接",
    responses((status = 200, body = Vec<Industry>), (status = 403, body = ErrorBody)))]
async fn industries(
    State(_s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(q): Q<IndustryQuery>,
) -> Result<Json<Vec<Industry>>, ApiError> {
    may_read_libraries(&u)?;
    Ok(Json(search(q.q.as_deref().unwrap_or(""), LIMIT).into_iter().cloned().collect()))
}

async fn industries_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Query(q): Query<IndustryQuery>,
) -> Response {
    if let Err(e) = may_read_libraries(&u) {
        return error_page(&s, Some(&u), &e);
    }
    let q = q.q.unwrap_or_default();
    let hits = search(&q, LIMIT);
    render(
        &s,
        StatusCode::OK,
        "industries.html",
        Some(&u),
        context! { nav => "docking", q => q, hits => hits, limit => LIMIT },
    )
}

/// The 小类 for a form's <datalist>: the browser offers them as the code or the name is typed.
pub fn datalist() -> Vec<&'static Industry> {
    all().iter().filter(|i| i.level == 3).collect()
}
