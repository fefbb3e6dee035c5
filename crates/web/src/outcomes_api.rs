//! JSON API for supervision outcomes: indicators ("时间过半、任务过半"), monthly rankings and the
//! annual assessment, and 督查通报 with the records they write.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_storage::StoreError;
use xietong_storage::indicators::{IndicatorView, NewIndicator, NewIndicatorReport};
use xietong_storage::notices::{NewNotice, Notice, NoticeRecord};
use xietong_storage::rankings::{Month, RankingSettings, RankingSummary, RankingView};
use xietong_supervision::ranking::AnnualScore;

use crate::AppState;
use crate::api::{Created, J, Q};
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(task_indicators, add_indicator))
        .routes(routes!(report_indicator))
        .routes(routes!(all_indicators))
        .routes(routes!(list_rankings, publish_ranking))
        .routes(routes!(preview_ranking))
        .routes(routes!(get_ranking))
        .routes(routes!(assessment))
        .routes(routes!(get_ranking_settings, put_ranking_settings))
        .routes(routes!(list_notices, issue_notice))
        .routes(routes!(get_notice))
        .routes(routes!(records))
}

/// 任务的数值指标（目标、上报值、完成率与时间进度）。
#[utoipa::path(get, path = "/api/tasks/{id}/indicators", params(("id" = i64, Path, description = "任务编号")), tag = "指标",
    responses((status = 200, body = Vec<IndicatorView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn task_indicators(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<IndicatorView>>, ApiError> {
    Ok(Json(s.db.task_indicators(&u, id, s.clock.now()).await?))
}

/// 为任务设置数值指标（督查局或牵头/配合单位联络员）。
#[utoipa::path(post, path = "/api/tasks/{id}/indicators", params(("id" = i64, Path, description = "任务编号")), request_body = NewIndicator, tag = "指标",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn add_indicator(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    J(n): J<NewIndicator>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = s.db.add_indicator(&u, s.clock.now(), id, &n).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// 上报指标完成值；系统按数据重算完成率，并标出与上报百分比不符之处。
#[utoipa::path(post, path = "/api/indicators/{id}/reports", params(("id" = i64, Path, description = "指标编号")), request_body = NewIndicatorReport, tag = "指标",
    responses((status = 200, body = IndicatorView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn report_indicator(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    J(r): J<NewIndicatorReport>,
) -> Result<Json<IndicatorView>, ApiError> {
    Ok(Json(s.db.report_indicator(&u, s.clock.now(), id, &r).await?))
}

/// 数据范围内的全部指标（“时间过半、任务过半”核查）。
#[utoipa::path(get, path = "/api/indicators", tag = "指标", responses((status = 200, body = Vec<IndicatorView>), (status = 401, body = ErrorBody)))]
async fn all_indicators(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
) -> Result<Json<Vec<IndicatorView>>, ApiError> {
    Ok(Json(s.db.all_indicators(&u, s.clock.now().date()).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct YearQuery {
    /// 年份，如 2026
    pub year: Option<i32>,
}

/// 已发布的月度排名。
#[utoipa::path(get, path = "/api/rankings", params(YearQuery), tag = "排名", responses((status = 200, body = Vec<RankingSummary>), (status = 401, body = ErrorBody)))]
async fn list_rankings(
    State(s): State<AppState>,
    ApiUser(_u, _): ApiUser,
    Q(q): Q<YearQuery>,
) -> Result<Json<Vec<RankingSummary>>, ApiError> {
    Ok(Json(s.db.list_rankings(q.year).await?))
}

#[derive(Deserialize, IntoParams, ToSchema)]
pub struct RankingQuery {
    /// 工作类别编号
    pub category_id: i64,
    /// 月份 YYYY-MM
    pub month: String,
}

/// 按当前任务数据试算某类别某月的排名（未发布，不冻结）。
#[utoipa::path(get, path = "/api/rankings/preview", params(RankingQuery), tag = "排名",
    responses((status = 200, body = RankingView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn preview_ranking(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(q): Q<RankingQuery>,
) -> Result<Json<RankingView>, ApiError> {
    let month = Month::parse("月份", &q.month)?;
    Ok(Json(s.db.preview_ranking(&u, q.category_id, month, s.clock.now()).await?))
}

/// 发布某类别某月的排名：发布后冻结，此后任务变动不再改变该月排名。
#[utoipa::path(post, path = "/api/rankings", request_body = RankingQuery, tag = "排名",
    responses((status = 201, body = RankingView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn publish_ranking(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(q): J<RankingQuery>,
) -> Result<(StatusCode, Json<RankingView>), ApiError> {
    let month = Month::parse("月份", &q.month)?;
    let id = s.db.publish_ranking(&u, q.category_id, month, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(s.db.get_ranking(id).await?)))
}

/// 一期已发布的排名（与发布时完全一致）。
#[utoipa::path(get, path = "/api/rankings/{id}", params(("id" = i64, Path, description = "排名编号")), tag = "排名",
    responses((status = 200, body = RankingView), (status = 404, body = ErrorBody)))]
async fn get_ranking(
    State(s): State<AppState>,
    ApiUser(_u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<RankingView>, ApiError> {
    Ok(Json(s.db.get_ranking(id).await?))
}

/// 年度考核得分：已发布月度排名得分的平均值，加上通报加减分。
#[utoipa::path(get, path = "/api/assessment", params(YearQuery), tag = "排名",
    responses((status = 200, body = Vec<AnnualScore>), (status = 401, body = ErrorBody)))]
async fn assessment(
    State(s): State<AppState>,
    ApiUser(_u, _): ApiUser,
    Q(q): Q<YearQuery>,
) -> Result<Json<Vec<AnnualScore>>, ApiError> {
    let year = q.year.unwrap_or_else(|| chrono::Datelike::year(&s.clock.now()));
    Ok(Json(s.db.annual_assessment(year).await?))
}

/// 评分公式与通报加减分设置。
#[utoipa::path(get, path = "/api/ranking-settings", tag = "排名", responses((status = 200, body = RankingSettings), (status = 401, body = ErrorBody)))]
async fn get_ranking_settings(
    State(s): State<AppState>,
    ApiUser(_u, _): ApiUser,
) -> Result<Json<RankingSettings>, ApiError> {
    Ok(Json(s.db.ranking_settings().await?))
}

/// 修改评分公式（仅督查局；已发布的月份不受影响）。
#[utoipa::path(put, path = "/api/ranking-settings", request_body = RankingSettings, tag = "排名",
    responses((status = 200, body = RankingSettings), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn put_ranking_settings(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(b): J<RankingSettings>,
) -> Result<Json<RankingSettings>, ApiError> {
    s.db.save_ranking_settings(&u, &b, s.clock.now()).await?;
    Ok(Json(s.db.ranking_settings().await?))
}

/// 督查通报列表。
#[utoipa::path(get, path = "/api/notices", tag = "通报", responses((status = 200, body = Vec<Notice>), (status = 401, body = ErrorBody)))]
async fn list_notices(State(s): State<AppState>, ApiUser(_u, _): ApiUser) -> Result<Json<Vec<Notice>>, ApiError> {
    Ok(Json(s.db.list_notices().await?))
}

/// 发布督查通报（表扬 / 批评 / 预警），记入单位业绩和个人政绩记录。仅督查局。
#[utoipa::path(post, path = "/api/notices", request_body = NewNotice, tag = "通报",
    responses((status = 201, body = Notice), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn issue_notice(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(n): J<NewNotice>,
) -> Result<(StatusCode, Json<Notice>), ApiError> {
    let id = s.db.issue_notice(&u, &n, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(s.db.get_notice(id).await?)))
}

/// 一份通报及其记录。
#[utoipa::path(get, path = "/api/notices/{id}", params(("id" = i64, Path, description = "通报编号")), tag = "通报",
    responses((status = 200, body = Notice), (status = 404, body = ErrorBody)))]
async fn get_notice(
    State(s): State<AppState>,
    ApiUser(_u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Notice>, ApiError> {
    Ok(Json(s.db.get_notice(id).await?))
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
async fn records(
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
