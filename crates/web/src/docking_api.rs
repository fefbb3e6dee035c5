//! JSON API for the 产学研 docking platform: the libraries (企业库, 高校院所, 专家库, 难题库, 成果库,
//! 平台载体), 征集 campaigns and their review, explained matching, dockings with their meetings,
//! contracts and supervised tasks, and the district's statistics. Every permission is checked in
//! the storage layer; this module only maps HTTP to it.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_storage::StoreError;
use xietong_storage::achievements::Achievement;

use crate::AppState;
use crate::api::Q;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(achievements, submit_achievement))
        .routes(routes!(resubmit_achievement))
        .routes(routes!(match_achievements, match_achievements_post))
        .routes(routes!(achievement_matches))
        .routes(routes!(institutions, create_institution))
        .routes(routes!(campaigns, create_campaign))
        .routes(routes!(problems, submit_problem))
        .routes(routes!(resubmit_problem))
        .routes(routes!(problem_matches))
        .routes(routes!(experts, submit_expert))
        .routes(routes!(resubmit_expert))
        .routes(routes!(expert_matches))
        .routes(routes!(review_queue))
        .routes(routes!(review_history, review_step))
        .routes(routes!(platforms, create_platform))
        .routes(routes!(dockings, create_docking))
        .routes(routes!(docking))
        .routes(routes!(move_docking))
        .routes(routes!(docking_activity))
        .routes(routes!(docking_contract))
        .routes(routes!(share_contact))
        .routes(routes!(docking_task))
        .routes(routes!(contracts, create_contract))
        .routes(routes!(export))
}

/// The 成果库 and 企业库 are district-wide records kept by the 科技局: readable by it, the
/// district-wide roles, and the enterprises and institutions that use the platform — not by the
/// supervision liaisons, whose work they are not.
pub fn may_read_libraries(u: &xietong_storage::auth::SessionUser) -> Result<(), StoreError> {
    use xietong_supervision::Role;
    if u.role.sees_all_libraries() || matches!(u.role, Role::Enterprise | Role::Institution) {
        Ok(())
    } else {
        Err(StoreError::Denied("无权限：产学研对接库仅科技局、督查局、区领导、企业和高校院所用户可查看".into()))
    }
}

/// 成果库（已发布的成果）。
#[utoipa::path(get, path = "/api/achievements", tag = "产学研对接", responses((status = 200, body = Vec<Achievement>), (status = 403, body = ErrorBody)))]
async fn achievements(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<Vec<Achievement>>, ApiError> {
    may_read_libraries(&u)?;
    Ok(Json(s.db.published_achievements().await?))
}

#[derive(Deserialize, IntoParams, utoipa::ToSchema)]
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
pub async fn run_match(
    s: &AppState,
    u: &xietong_storage::auth::SessionUser,
    q: &str,
    top: usize,
) -> Result<Vec<MatchHit>, StoreError> {
    may_read_libraries(u)?;
    let idx = s.achievements_index().await?;
    let hits = idx.search(q, top.clamp(1, 50), &xietong_search::MatchOptions::default()).map_err(|e| match e {
        e @ (xietong_search::SearchError::EmptyQuery | xietong_search::SearchError::QueryTooLong { .. }) => {
            StoreError::invalid("q", e.to_string())
        }
        other => StoreError::internal(other.to_string()),
    })?;
    Ok(hits
        .into_iter()
        .map(|h| MatchHit {
            rank: h.rank,
            external_id: h.external_id,
            title: h.title,
            discipline: h.discipline,
            score: h.score,
            matched_terms: h.matched_terms,
            reasons: h.reasons_zh,
        })
        .collect())
}

/// 同上，需求描述放在请求体中（长文本不受 URL 长度限制）。
#[utoipa::path(post, path = "/api/achievements/match", request_body = MatchQuery, tag = "产学研对接",
    responses((status = 200, body = Vec<MatchHit>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn match_achievements_post(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    crate::api::J(q): crate::api::J<MatchQuery>,
) -> Result<Json<Vec<MatchHit>>, ApiError> {
    Ok(Json(run_match(&s, &u, &q.q, q.top.unwrap_or(10)).await?))
}

/// 为一段需求描述匹配成果，并说明每条结果的匹配理由。
#[utoipa::path(get, path = "/api/achievements/match", params(MatchQuery), tag = "产学研对接",
    responses((status = 200, body = Vec<MatchHit>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn match_achievements(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(q): Q<MatchQuery>,
) -> Result<Json<Vec<MatchHit>>, ApiError> {
    Ok(Json(run_match(&s, &u, &q.q, q.top.unwrap_or(10)).await?))
}

// ---------------------------------------------------------------------------------------------
// Libraries, campaigns, review, matching, dockings, statistics

use axum::extract::Path;
use axum::http::StatusCode;
use xietong_docking::contract::ContractType;
use xietong_docking::pipeline::Stage;
use xietong_docking::review::{ReviewAction, ReviewStatus};
use xietong_storage::dockings::{Contract, DockingDetail, MoveDocking, NewActivity, NewContract, NewDocking};
use xietong_storage::libraries::{
    Campaign, Expert, Institution, Library, NewAchievement, NewCampaign, NewExpert, NewInstitution, NewPlatform,
    NewProblem, Platform, ReviewEvent, ReviewItem, TechProblem,
};
use xietong_storage::matching::Matches;
use xietong_storage::tasks::NewTask;

use crate::api::{Created, J};

type CreatedResp = Result<(StatusCode, Json<Created>), ApiError>;

fn created(id: i64) -> CreatedResp {
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Deserialize, IntoParams)]
pub struct StatusQuery {
    /// submitted / formal_passed / returned / published / expired
    pub status: Option<String>,
}

fn status_of(q: &StatusQuery) -> Result<Option<ReviewStatus>, StoreError> {
    match q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => ReviewStatus::from_code(s)
            .map(Some)
            .ok_or_else(|| StoreError::invalid("status", format!("「{s}」不是审核状态"))),
    }
}

#[derive(Deserialize, IntoParams)]
pub struct TopQuery {
    /// 返回条数，默认 10，最多 50
    pub top: Option<usize>,
}

/// 提交成果（高校院所为本机构，科技局可代提交），进入形式审核。
#[utoipa::path(post, path = "/api/achievements", request_body = NewAchievement, tag = "产学研对接",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn submit_achievement(State(s): State<AppState>, ApiUser(u, _): ApiUser, J(n): J<NewAchievement>) -> CreatedResp {
    created(s.db.submit_achievement(&u, None, &n, s.clock.now()).await?)
}

/// 修改被退回的成果并重新提交。
#[utoipa::path(put, path = "/api/achievements/{id}", request_body = NewAchievement, params(("id" = i64, Path, description = "成果编号")), tag = "产学研对接",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn resubmit_achievement(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    J(n): J<NewAchievement>,
) -> CreatedResp {
    created(s.db.submit_achievement(&u, Some(id), &n, s.clock.now()).await?)
}

/// 为一项成果匹配可能解决的难题和可能承接的企业，并说明理由。
#[utoipa::path(get, path = "/api/achievements/{id}/matches", params(("id" = i64, Path, description = "成果编号"), TopQuery), tag = "产学研对接",
    responses((status = 200, body = Matches), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn achievement_matches(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    Q(q): Q<TopQuery>,
) -> Result<Json<Matches>, ApiError> {
    Ok(Json(s.db.match_achievement(&u, id, q.top.unwrap_or(10)).await?))
}

/// 高校院所名录。
#[utoipa::path(get, path = "/api/institutions", tag = "产学研对接", responses((status = 200, body = Vec<Institution>), (status = 403, body = ErrorBody)))]
async fn institutions(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<Vec<Institution>>, ApiError> {
    may_read_libraries(&u)?;
    Ok(Json(s.db.list_institutions().await?))
}

/// 登记高校院所（科技局）。
#[utoipa::path(post, path = "/api/institutions", request_body = NewInstitution, tag = "产学研对接",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_institution(State(s): State<AppState>, ApiUser(u, _): ApiUser, J(n): J<NewInstitution>) -> CreatedResp {
    created(s.db.create_institution(&u, &n, s.clock.now()).await?)
}

/// 征集活动。
#[utoipa::path(get, path = "/api/campaigns", tag = "产学研对接", responses((status = 200, body = Vec<Campaign>), (status = 403, body = ErrorBody)))]
async fn campaigns(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<Vec<Campaign>>, ApiError> {
    may_read_libraries(&u)?;
    Ok(Json(s.db.list_campaigns(s.clock.now().date()).await?))
}

/// 发起征集（科技局）：对象、征集期、发布后有效期。
#[utoipa::path(post, path = "/api/campaigns", request_body = NewCampaign, tag = "产学研对接",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_campaign(State(s): State<AppState>, ApiUser(u, _): ApiUser, J(n): J<NewCampaign>) -> CreatedResp {
    created(s.db.create_campaign(&u, &n, s.clock.now()).await?)
}

/// 难题库（按身份过滤：企业看本企业，保密难题仅科技局和对接专家可见）。
#[utoipa::path(get, path = "/api/tech-problems", params(StatusQuery), tag = "产学研对接", responses((status = 200, body = Vec<TechProblem>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn problems(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(q): Q<StatusQuery>,
) -> Result<Json<Vec<TechProblem>>, ApiError> {
    may_read_libraries(&u)?;
    Ok(Json(s.db.list_problems_for(&u, status_of(&q)?).await?))
}

/// 提交技术难题（企业为本企业，科技局可代提交），进入形式审核。
#[utoipa::path(post, path = "/api/tech-problems", request_body = NewProblem, tag = "产学研对接",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn submit_problem(State(s): State<AppState>, ApiUser(u, _): ApiUser, J(n): J<NewProblem>) -> CreatedResp {
    created(s.db.submit_problem(&u, None, &n, s.clock.now()).await?)
}

/// 修改被退回的难题并重新提交。
#[utoipa::path(put, path = "/api/tech-problems/{id}", request_body = NewProblem, params(("id" = i64, Path, description = "难题编号")), tag = "产学研对接",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn resubmit_problem(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    J(n): J<NewProblem>,
) -> CreatedResp {
    created(s.db.submit_problem(&u, Some(id), &n, s.clock.now()).await?)
}

/// 为一项技术难题匹配成果和专家，每条结果附匹配理由。
#[utoipa::path(get, path = "/api/tech-problems/{id}/matches", params(("id" = i64, Path, description = "难题编号"), TopQuery), tag = "产学研对接",
    responses((status = 200, body = Matches), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn problem_matches(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    Q(q): Q<TopQuery>,
) -> Result<Json<Matches>, ApiError> {
    may_read_libraries(&u)?;
    let idx = s.achievements_index().await?;
    Ok(Json(s.db.match_problem(&u, &idx, id, q.top.unwrap_or(10)).await?))
}

/// 专家库（联系方式仅科技局、本机构及经专家同意的对接企业可见）。
#[utoipa::path(get, path = "/api/experts", params(StatusQuery), tag = "产学研对接", responses((status = 200, body = Vec<Expert>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn experts(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(q): Q<StatusQuery>,
) -> Result<Json<Vec<Expert>>, ApiError> {
    may_read_libraries(&u)?;
    Ok(Json(s.db.list_experts_for(&u, status_of(&q)?).await?))
}

/// 提交专家信息（高校院所为本机构，科技局可代提交），进入形式审核。
#[utoipa::path(post, path = "/api/experts", request_body = NewExpert, tag = "产学研对接",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn submit_expert(State(s): State<AppState>, ApiUser(u, _): ApiUser, J(n): J<NewExpert>) -> CreatedResp {
    created(s.db.submit_expert(&u, None, &n, s.clock.now()).await?)
}

/// 修改被退回的专家信息并重新提交。
#[utoipa::path(put, path = "/api/experts/{id}", request_body = NewExpert, params(("id" = i64, Path, description = "专家编号")), tag = "产学研对接",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn resubmit_expert(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    J(n): J<NewExpert>,
) -> CreatedResp {
    created(s.db.submit_expert(&u, Some(id), &n, s.clock.now()).await?)
}

/// 为一位专家匹配其研究方向内的技术难题。
#[utoipa::path(get, path = "/api/experts/{id}/matches", params(("id" = i64, Path, description = "专家编号"), TopQuery), tag = "产学研对接",
    responses((status = 200, body = Matches), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn expert_matches(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    Q(q): Q<TopQuery>,
) -> Result<Json<Matches>, ApiError> {
    Ok(Json(s.db.match_expert(&u, id, q.top.unwrap_or(10)).await?))
}

/// 待审核的提交（科技局）：形式审核、部门审核。
#[utoipa::path(get, path = "/api/reviews", tag = "产学研对接", responses((status = 200, body = Vec<ReviewItem>), (status = 403, body = ErrorBody)))]
async fn review_queue(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<Vec<ReviewItem>>, ApiError> {
    Ok(Json(s.db.review_queue(&u).await?))
}

fn library(code: &str) -> Result<Library, StoreError> {
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

#[derive(Deserialize, IntoParams)]
pub struct PlatformQuery {
    /// 研发平台 / 创新创业载体 / 校企合作基地
    pub group: Option<String>,
    /// 国家 / 省 / 市 / 省级以上
    pub level: Option<String>,
}

/// 研发平台、创新创业载体和校企合作基地。
#[utoipa::path(get, path = "/api/platforms", params(PlatformQuery), tag = "产学研对接", responses((status = 200, body = Vec<Platform>), (status = 403, body = ErrorBody)))]
async fn platforms(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(q): Q<PlatformQuery>,
) -> Result<Json<Vec<Platform>>, ApiError> {
    may_read_libraries(&u)?;
    Ok(Json(
        s.db.list_platforms(q.group.as_deref().filter(|x| !x.is_empty()), q.level.as_deref().filter(|x| !x.is_empty()))
            .await?,
    ))
}

/// 登记平台或载体（科技局）。
#[utoipa::path(post, path = "/api/platforms", request_body = NewPlatform, tag = "产学研对接",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_platform(State(s): State<AppState>, ApiUser(u, _): ApiUser, J(n): J<NewPlatform>) -> CreatedResp {
    created(s.db.create_platform(&u, &n, s.clock.now()).await?)
}

#[derive(Deserialize, IntoParams)]
pub struct StageQuery {
    /// 阶段代码，如 recommended、contract_signed
    pub stage: Option<String>,
}

pub fn stage_param(s: Option<&str>) -> Result<Option<Stage>, StoreError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(x) => {
            Stage::from_code(x).map(Some).ok_or_else(|| StoreError::invalid("stage", format!("「{x}」不是对接阶段")))
        }
    }
}

/// 对接列表（按身份过滤）。
#[utoipa::path(get, path = "/api/dockings", params(StageQuery), tag = "产学研对接", responses((status = 200, body = Vec<xietong_storage::dockings::Docking>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn dockings(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(q): Q<StageQuery>,
) -> Result<Json<Vec<xietong_storage::dockings::Docking>>, ApiError> {
    may_read_libraries(&u)?;
    Ok(Json(s.db.list_dockings(&u, stage_param(q.stage.as_deref())?).await?))
}

/// 发起对接（科技局推荐，或企业为本企业难题申请），从「推荐」开始。
#[utoipa::path(post, path = "/api/dockings", request_body = NewDocking, tag = "产学研对接",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_docking(State(s): State<AppState>, ApiUser(u, _): ApiUser, J(n): J<NewDocking>) -> CreatedResp {
    created(s.db.create_docking(&u, &n, s.clock.now()).await?)
}

/// 对接详情：阶段记录、洽谈和活动、技术合同。
#[utoipa::path(get, path = "/api/dockings/{id}", params(("id" = i64, Path, description = "对接编号")), tag = "产学研对接",
    responses((status = 200, body = DockingDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn docking(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<DockingDetail>, ApiError> {
    Ok(Json(s.db.get_docking(&u, id).await?))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct StageResult {
    pub stage: Stage,
    pub stage_label: String,
}

/// 推进对接到下一阶段或终止（科技局）。进入「签订技术合同」前须先登记合同。
#[utoipa::path(post, path = "/api/dockings/{id}/move", request_body = MoveDocking, params(("id" = i64, Path, description = "对接编号")), tag = "产学研对接",
    responses((status = 200, body = StageResult), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn move_docking(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    J(m): J<MoveDocking>,
) -> Result<Json<StageResult>, ApiError> {
    let stage = s.db.move_docking(&u, id, &m, s.clock.now()).await?;
    Ok(Json(StageResult { stage, stage_label: stage.label_zh().into() }))
}

/// 登记对接洽谈或对接活动（科技局），含参加人员。
#[utoipa::path(post, path = "/api/dockings/{id}/activities", request_body = NewActivity, params(("id" = i64, Path, description = "对接编号")), tag = "产学研对接",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn docking_activity(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    J(n): J<NewActivity>,
) -> CreatedResp {
    created(s.db.add_activity(&u, Some(id), &n, s.clock.now()).await?)
}

/// 登记对接形成的技术合同（科技局）。
#[utoipa::path(post, path = "/api/dockings/{id}/contracts", request_body = NewContract, params(("id" = i64, Path, description = "对接编号")), tag = "产学研对接",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn docking_contract(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    J(n): J<NewContract>,
) -> CreatedResp {
    created(s.db.register_contract(&u, Some(id), &n, s.clock.now()).await?)
}

/// 专家同意向对接企业提供联系方式（专家所在机构或科技局确认）。
#[utoipa::path(post, path = "/api/dockings/{id}/share-contact", params(("id" = i64, Path, description = "对接编号")), tag = "产学研对接",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn share_contact(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    s.db.share_contact(&u, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 为对接的当前阶段立项督办（督查局），任务随即交办，亮灯和预警照常适用。
#[utoipa::path(post, path = "/api/dockings/{id}/tasks", request_body = NewTask, params(("id" = i64, Path, description = "对接编号")), tag = "产学研对接",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn docking_task(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    J(n): J<NewTask>,
) -> CreatedResp {
    let snap = s.snapshot();
    created(s.db.raise_docking_task(&u, &snap.ctx(), id, &n).await?)
}

#[derive(Deserialize, IntoParams)]
pub struct ContractQuery {
    pub year: Option<i32>,
    /// development / transfer / license / consulting / service
    pub kind: Option<String>,
}

pub fn contract_kind(k: Option<&str>) -> Result<Option<ContractType>, StoreError> {
    match k.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(x) => ContractType::from_code(x)
            .map(Some)
            .ok_or_else(|| StoreError::invalid("kind", format!("「{x}」不是技术合同类型"))),
    }
}

/// 技术合同（可按年度、类型筛选）。
#[utoipa::path(get, path = "/api/contracts", params(ContractQuery), tag = "产学研对接", responses((status = 200, body = Vec<Contract>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn contracts(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(q): Q<ContractQuery>,
) -> Result<Json<Vec<Contract>>, ApiError> {
    may_read_stats(&u)?;
    Ok(Json(s.db.list_contracts(q.year, contract_kind(q.kind.as_deref())?).await?))
}

/// 登记不经对接的技术合同（科技局）。
#[utoipa::path(post, path = "/api/contracts", request_body = NewContract, tag = "产学研对接",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_contract(State(s): State<AppState>, ApiUser(u, _): ApiUser, J(n): J<NewContract>) -> CreatedResp {
    created(s.db.register_contract(&u, None, &n, s.clock.now()).await?)
}

/// Statistics are the district's: the 科技局 and the district-wide roles.
pub fn may_read_stats(u: &xietong_storage::auth::SessionUser) -> Result<(), StoreError> {
    if u.role.sees_all_libraries() {
        Ok(())
    } else {
        Err(StoreError::Denied("无权限：科技统计仅科技局、督查局和区领导可查看".into()))
    }
}

/// 导出产学研台账（Excel，按当前账号可见的范围）。what：tech-problems 难题库、experts 专家库、
/// dockings 对接（可按 stage 筛选，与对接页相同）、contracts 技术合同、platforms 平台载体。
#[utoipa::path(get, path = "/api/exports/docking/{what}", tag = "导入导出",
    params(
        ("what" = String, Path, description = "tech-problems / experts / dockings / contracts / platforms"),
        StageQuery
    ),
    responses((status = 200, description = "Excel 文件", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn export(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(what): Path<String>,
    Q(q): Q<StageQuery>,
) -> Result<axum::response::Response, ApiError> {
    use xietong_office::table::{Cell, Column};
    may_read_libraries(&u)?;
    let now = s.clock.now();
    let t = |x: &str| Cell::Text(x.to_string());
    let n = |x: f64| Cell::Number(x);
    // A sheet: its name, its columns (header, width) and its rows.
    type Sheet<'a> = (&'a str, Vec<(&'a str, f64)>, Vec<Vec<Cell>>);
    let (name, cols, rows): Sheet = match what.as_str() {
        "tech-problems" => (
            "难题库",
            vec![
                ("编号", 6.0),
                ("难题", 36.0),
                ("企业", 26.0),
                ("行业", 20.0),
                ("预算（万元）", 10.0),
                ("合作方式", 10.0),
                ("关键词", 24.0),
                ("保密", 6.0),
                ("状态", 10.0),
                ("有效期至", 12.0),
                ("描述", 60.0),
            ],
            s.db.list_problems_for(&u, None)
                .await?
                .iter()
                .map(|p| {
                    vec![
                        n(p.id as f64),
                        t(&p.title),
                        t(&p.enterprise_name),
                        t(p.industry_name.as_deref().unwrap_or("")),
                        n(p.budget_wan),
                        t(&p.cooperation_mode),
                        t(&p.keywords.join("；")),
                        t(if p.confidential { "是" } else { "否" }),
                        t(&p.review.status_label),
                        t(p.review.expires_on.as_deref().unwrap_or("")),
                        t(&p.description),
                    ]
                })
                .collect(),
        ),
        "experts" => (
            "专家库",
            vec![
                ("编号", 6.0),
                ("专家", 30.0),
                ("所在机构", 26.0),
                ("职称", 10.0),
                ("学科", 24.0),
                ("研究方向", 36.0),
                ("关键词", 24.0),
                ("联系电话", 16.0),
                ("电子邮箱", 24.0),
                ("身份证号", 22.0),
                ("状态", 10.0),
            ],
            s.db.list_experts_for(&u, None)
                .await?
                .iter()
                .map(|x| {
                    vec![
                        n(x.id as f64),
                        t(&x.name),
                        t(&x.institution_name),
                        t(&x.title),
                        t(&x.disciplines.join("；")),
                        t(&x.fields),
                        t(&x.keywords.join("；")),
                        t(&x.phone),
                        t(&x.email),
                        t(&x.id_number),
                        t(&x.review.status_label),
                    ]
                })
                .collect(),
        ),
        "dockings" => (
            "产学研对接",
            vec![
                ("编号", 6.0),
                ("对接", 40.0),
                ("企业", 26.0),
                ("难题", 30.0),
                ("专家", 24.0),
                ("成果", 30.0),
                ("机构", 24.0),
                ("阶段", 14.0),
                ("终止原因", 20.0),
            ],
            s.db.list_dockings(&u, stage_param(q.stage.as_deref())?)
                .await?
                .iter()
                .map(|d| {
                    vec![
                        n(d.id as f64),
                        t(&d.title),
                        t(&d.enterprise_name),
                        t(d.problem_title.as_deref().unwrap_or("")),
                        t(d.expert_name.as_deref().unwrap_or("")),
                        t(d.achievement_title.as_deref().unwrap_or("")),
                        t(d.institution_name.as_deref().unwrap_or("")),
                        t(&d.stage_label),
                        t(&d.end_reason),
                    ]
                })
                .collect(),
        ),
        "contracts" => {
            may_read_stats(&u)?;
            (
                "技术合同",
                vec![
                    ("登记编号", 26.0),
                    ("类型", 10.0),
                    ("买方", 26.0),
                    ("卖方", 26.0),
                    ("金额（万元）", 12.0),
                    ("技术性收入（万元）", 14.0),
                    ("签订日期", 12.0),
                ],
                s.db.list_contracts(None, None)
                    .await?
                    .iter()
                    .map(|c| {
                        vec![
                            t(&c.contract_no),
                            t(&c.kind_label),
                            t(&c.buyer),
                            t(&c.seller),
                            n(c.amount_wan),
                            n(c.technical_income_wan),
                            t(&c.signed_on),
                        ]
                    })
                    .collect(),
            )
        }
        "platforms" => (
            "平台载体",
            vec![("名称", 36.0), ("类别", 14.0), ("类型", 16.0), ("级别", 8.0), ("依托单位", 26.0), ("认定年份", 10.0)],
            s.db.list_platforms(None, None)
                .await?
                .iter()
                .map(|p| {
                    vec![
                        t(&p.name),
                        t(&p.group),
                        t(&p.kind),
                        t(&p.level),
                        t(&p.host),
                        p.approved_year.map(|y| n(y as f64)).unwrap_or(Cell::Empty),
                    ]
                })
                .collect(),
        ),
        other => {
            return Err(StoreError::NotFound(format!(
                "没有「{other}」台账（可选 tech-problems、experts、dockings、contracts、platforms）"
            ))
            .into());
        }
    };
    let cols: Vec<Column> = cols.iter().map(|(h, w)| Column::plain(h, *w)).collect();
    let title = format!("{name}（导出时间 {}）", now.format("%Y-%m-%d %H:%M"));
    let bytes = s
        .heavy(move || {
            let internal = |e: xietong_office::OfficeError| StoreError::internal(e.to_string());
            xietong_office::xlsx::export_table(name, Some(&title), &cols, &rows).map_err(internal)
        })
        .await?;
    Ok(crate::office_api::download(crate::office_api::XLSX, &format!("{name}_{}.xlsx", now.format("%Y%m%d")), bytes))
}
