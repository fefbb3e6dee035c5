//! 政绩记录: what 通报 and rankings wrote into units' and persons' records (API and page).

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
use xietong_storage::StoreError;
use xietong_storage::notices::NoticeRecord;

use crate::AppState;
use crate::api::Q;
use crate::auth::{ApiUser, PageUser};
use crate::error::{ApiError, ErrorBody};
use crate::pages::{error_page, render};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(records))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new().route("/records", get(records_page))
}

#[derive(Deserialize, IntoParams)]
pub struct RecordQuery {
    /// 单位业绩记录
    pub unit_id: Option<i64>,
    /// 个人政绩记录
    pub person_id: Option<i64>,
}

/// 单位业绩 / 个人政绩记录（通报记载）。联络员只能查看本单位。
#[utoipa::path(get, path = "/api/records", params(RecordQuery), tag = "通报",
    responses((status = 200, body = Vec<NoticeRecord>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(crate) async fn records(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(q): Q<RecordQuery>,
) -> Result<Json<Vec<NoticeRecord>>, ApiError> {
    if q.unit_id.is_none() && q.person_id.is_none() {
        return Err(StoreError::invalid("unit_id", "请指定单位或人员").into());
    }
    let recs = s.db.notice_records(q.unit_id, q.person_id).await?;
    Ok(Json(scoped_records(&u, recs)))
}

/// The records of units within one's 数据范围, and one's own personal records.
pub fn scoped_records(u: &xietong_storage::auth::SessionUser, recs: Vec<NoticeRecord>) -> Vec<NoticeRecord> {
    if u.sees_all() {
        return recs;
    }
    recs.into_iter()
        .filter(|r| u.in_scope(xietong_supervision::UnitId(r.unit_id)) || r.person_id == Some(u.person_id))
        .collect()
}

#[derive(Deserialize)]
struct RecordsQ {
    unit_id: Option<String>,
    person_id: Option<String>,
}

async fn records_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): Query<RecordsQ>) -> Response {
    let unit = q.unit_id.as_deref().and_then(|x| x.parse::<i64>().ok());
    let person = q.person_id.as_deref().and_then(|x| x.parse::<i64>().ok());
    let unit = if unit.is_none() && person.is_none() { Some(u.unit_id) } else { unit };
    let recs = match s.db.notice_records(unit, person).await {
        Ok(r) => scoped_records(&u, r),
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    let units = s.db.list_units().await.unwrap_or_default();
    render(
        &s,
        StatusCode::OK,
        "records.html",
        Some(&u),
        context! { nav => "notices", recs => recs, units => units, unit_id => unit, person_id => person },
    )
}
