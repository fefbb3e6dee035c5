//! JSON API for the 产学研 docking libraries (first part: 成果库 and 企业库, read-only; records come
//! in through the all-or-nothing imports).

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_storage::achievements::Achievement;
use xietong_storage::enterprises::Enterprise;
use xietong_storage::StoreError;

use crate::api::Q;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorBody};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(enterprises)).routes(routes!(achievements)).routes(routes!(match_achievements))
}

/// The libraries are district-wide records kept by the 科技局; until its own role exists they are
/// readable by the roles that see the whole district.
pub fn may_read_libraries(u: &xietong_storage::auth::SessionUser) -> Result<(), StoreError> {
    if u.role.sees_all() { Ok(()) } else { Err(StoreError::Denied("无权限：企业库、成果库仅科技局、督查局和区领导可查看".into())) }
}

#[derive(Deserialize, IntoParams)]
pub struct EnterpriseQuery {
    /// 只列出持有该资质（在有效期内）的企业，如 国家高新技术企业
    pub qualification: Option<String>,
}

/// 企业库（可按资质筛选）。
#[utoipa::path(get, path = "/api/enterprises", params(EnterpriseQuery), tag = "产学研对接",
    responses((status = 200, body = Vec<Enterprise>), (status = 403, body = ErrorBody)))]
async fn enterprises(State(s): State<AppState>, ApiUser(u, _): ApiUser, Q(q): Q<EnterpriseQuery>) -> Result<Json<Vec<Enterprise>>, ApiError> {
    may_read_libraries(&u)?;
    Ok(Json(s.db.list_enterprises(q.qualification.as_deref().filter(|x| !x.is_empty()), s.clock.now().date()).await?))
}

/// 成果库（已发布的成果）。
#[utoipa::path(get, path = "/api/achievements", tag = "产学研对接", responses((status = 200, body = Vec<Achievement>), (status = 403, body = ErrorBody)))]
async fn achievements(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<Vec<Achievement>>, ApiError> {
    may_read_libraries(&u)?;
    Ok(Json(s.db.published_achievements().await?))
}

#[derive(Deserialize, IntoParams)]
pub struct MatchQuery {
    /// 技术难题或需求的描述（1–2000 字）
    pub q: String,
    /// 返回条数，默认 10，最多 50
    pub top: Option<usize>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct MatchHit {
    pub rank: usize,
    pub external_id: String,
    pub title: String,
    pub discipline: String,
    pub score: f32,
    /// 命中的检索词
    pub matched_terms: Vec<String>,
    /// 匹配理由
    pub reasons: Vec<String>,
}

/// Search the 成果库 for a problem description; every hit says why it matched.
pub async fn run_match(s: &AppState, u: &xietong_storage::auth::SessionUser, q: &str, top: usize) -> Result<Vec<MatchHit>, StoreError> {
    may_read_libraries(u)?;
    let idx = s.achievements_index().await?;
    let hits = idx.search(q, top.clamp(1, 50), &xietong_search::MatchOptions::default()).map_err(|e| match e {
        e @ (xietong_search::SearchError::EmptyQuery | xietong_search::SearchError::QueryTooLong { .. }) => StoreError::invalid("q", e.to_string()),
        other => StoreError::internal(other.to_string()),
    })?;
    Ok(hits
        .into_iter()
        .map(|h| MatchHit { rank: h.rank, external_id: h.external_id, title: h.title, discipline: h.discipline, score: h.score, matched_terms: h.matched_terms, reasons: h.reasons_zh })
        .collect())
}

/// 为一段需求描述匹配成果，并说明每条结果的匹配理由。
#[utoipa::path(get, path = "/api/achievements/match", params(MatchQuery), tag = "产学研对接",
    responses((status = 200, body = Vec<MatchHit>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn match_achievements(State(s): State<AppState>, ApiUser(u, _): ApiUser, Q(q): Q<MatchQuery>) -> Result<Json<Vec<MatchHit>>, ApiError> {
    Ok(Json(run_match(&s, &u, &q.q, q.top.unwrap_or(10)).await?))
}
