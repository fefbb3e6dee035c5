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
    OpenApiRouter::new().routes(routes!(enterprises)).routes(routes!(achievements))
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
