//! 成果库 and 成果检索 (match a need against achievements) (API and pages).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Json};
use minijinja::context;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_docking::matching::{COOPERATION_MODES, MATURITIES};
use xietong_docking::review::ReviewStatus;
use xietong_storage::StoreError;
use xietong_storage::achievements::Achievement;
use xietong_storage::auth::SessionUser;
use xietong_storage::libraries::{Library, NewAchievement};
use xietong_storage::matching::Matches;

use crate::AppState;
use crate::api::{Created, J, Q};
use crate::auth::{ApiUser, PageUser};
use crate::docking::hub::{CreatedResp, TopQuery, created, may_read_libraries, ok_msg, page, refused, with_ok};
use crate::error::{ApiError, ErrorBody, status_of};
use crate::forms::RawQuery;
use crate::forms::{Fields as F, FormView, Unread};
use crate::pages::{error_page, render};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(achievements, submit_achievement))
        .routes(routes!(resubmit_achievement))
        .routes(routes!(match_achievements, match_achievements_post))
        .routes(routes!(achievement_matches))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/docking/achievements", get(achievements_page).post(achievement_submit))
        .route("/docking/achievements/{id}", get(achievement_page))
        .route("/achievements", get(search_page).post(search_submit))
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
    /// 综合相关度（本次排序内 0–1）
    pub score: f32,
    /// 语义相似度（余弦），未加载语义模型时为空
    pub cosine: Option<f32>,
    /// 命中的检索词（不含虚词）
    pub matched_terms: Vec<String>,
    /// 匹配理由
    pub reasons: Vec<String>,
    /// 成果中与需求最相符的句子，命中词已标出
    pub evidence: Vec<xietong_search::hybrid::Evidence>,
    /// 相关度是否足以推荐（否：相关度不足，未推荐）
    pub offered: bool,
}

/// Search the 成果库 for a problem description by the one ranking of matching; every hit says why.
pub async fn run_match(
    s: &AppState,
    u: &xietong_storage::auth::SessionUser,
    q: &str,
    top: usize,
) -> Result<(Vec<MatchHit>, bool), StoreError> {
    may_read_libraries(u)?;
    let (ranked, semantic) = s.rank_text(q, top.clamp(1, 50)).await?;
    let hits = ranked
        .into_iter()
        .map(|h| {
            let mut reasons = vec![];
            if let Some(c) = h.cosine {
                reasons.push(format!("语义相似度 {c:.2}"));
            }
            if !h.matched_terms.is_empty() {
                reasons.push(format!("命中：{}", h.matched_terms.join("、")));
            }
            MatchHit {
                rank: h.rank,
                external_id: h.external_id,
                title: h.title,
                discipline: h.discipline,
                score: (h.score * 1000.0).round() / 1000.0,
                cosine: h.cosine,
                matched_terms: h.matched_terms,
                reasons,
                evidence: h.evidence,
                offered: h.offered,
            }
        })
        .collect();
    Ok((hits, semantic))
}

/// 同上，需求描述放在请求体中（长文本不受 URL 长度限制）。
#[utoipa::path(post, path = "/api/achievements/match", request_body = MatchQuery, tag = "产学研对接",
    responses((status = 200, body = Vec<MatchHit>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn match_achievements_post(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    crate::api::J(q): crate::api::J<MatchQuery>,
) -> Result<Json<Vec<MatchHit>>, ApiError> {
    Ok(Json(run_match(&s, &u, &q.q, q.top.unwrap_or(10)).await?.0))
}

/// 为一段需求描述匹配成果，并说明每条结果的匹配理由。
#[utoipa::path(get, path = "/api/achievements/match", params(MatchQuery), tag = "产学研对接",
    responses((status = 200, body = Vec<MatchHit>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn match_achievements(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(q): Q<MatchQuery>,
) -> Result<Json<Vec<MatchHit>>, ApiError> {
    Ok(Json(run_match(&s, &u, &q.q, q.top.unwrap_or(10)).await?.0))
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
    Ok(Json(s.match_achievement(&u, id, q.top.unwrap_or(10)).await?))
}

// --- 成果 submissions -------------------------------------------------------------------------
async fn achievements_with(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    q: &[(String, String)],
    err: Option<String>,
    form: FormView,
) -> Response {
    if let Err(e) = may_read_libraries(u) {
        return error_page(s, Some(u), &e);
    }
    let today = s.clock.now().date();
    let campaigns: Vec<_> =
        s.db.list_campaigns(today)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c.open && c.target == Library::Achievement)
            .collect();
    let institutions = s.db.list_institutions().await.unwrap_or_default();
    let submitted = s.db.submitted_achievements(u).await.unwrap_or_default();
    page(
        s,
        u,
        status,
        "docking_achievements.html",
        "achievements",
        context! { submitted => submitted, campaigns => campaigns, institutions => institutions, kinds => xietong_storage::achievements::KINDS, maturities => MATURITIES,
        modes => &COOPERATION_MODES[..4], flash_err => err, flash_ok => ok_msg(q), f => form.value() },
    )
}

async fn achievements_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): RawQuery) -> Response {
    achievements_with(&s, &u, StatusCode::OK, &q, None, FormView::fresh(F::default())).await
}

async fn achievement_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: F) -> Response {
    let r = async {
        let mut unread = Unread::default();
        let n = NewAchievement {
            title: f.s("title"),
            abstract_text: f.s("abstract"),
            kind: f.s("kind"),
            patent_no: f.s("patent_no"),
            keywords: f.s("keywords"),
            discipline: f.s("discipline"),
            maturity: f.s("maturity"),
            transfer_modes: f.all("transfer_modes").join(";"),
            price_min_wan: unread.num(&f, "price_min_wan", "意向价格下限（万元）"),
            price_max_wan: unread.num(&f, "price_max_wan", "意向价格上限（万元）"),
            institution_id: unread.id(&f, "institution_id", "完成单位"),
            campaign_id: unread.id(&f, "campaign_id", "征集活动"),
            unread: vec![],
        };
        let n = NewAchievement { unread: unread.0, ..n };
        s.db.submit_achievement(&u, None, &n, s.clock.now()).await
    }
    .await;
    match r {
        Ok(id) => with_ok(&format!("/docking/achievements/{id}"), "已提交，等待科技局形式审核"),
        Err(e) if refused(&s, &u, &e) => error_page(&s, Some(&u), &e),
        Err(e) => achievements_with(&s, &u, status_of(&e), &[], FormView::flash(&e), FormView::refused(f, &e)).await,
    }
}

async fn achievement_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    Query(q): RawQuery,
) -> Response {
    achievement_with(&s, &u, id, (StatusCode::OK, None), &q, FormView::fresh(F::default())).await
}

/// An achievement's page; `review` is the review form (sent back refused, or fresh).
pub(crate) async fn achievement_with(
    s: &AppState,
    u: &SessionUser,
    id: i64,
    (status, err): (StatusCode, Option<String>),
    q: &[(String, String)],
    review: FormView,
) -> Response {
    if let Err(e) = may_read_libraries(u) {
        return error_page(s, Some(u), &e);
    }
    let a = match s.db.achievement_for(u, id).await {
        Ok(a) => a,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let history = s.db.review_history(u, Library::Achievement, id).await.unwrap_or_default();
    let experts = s.db.experts_of_achievement(id).await.unwrap_or_default();
    let matches = if a.status == "published" {
        match s.match_achievement(u, id, 10).await {
            Ok(m) => Some(m),
            Err(e) => return error_page(s, Some(u), &e),
        }
    } else {
        None
    };
    let status_label = ReviewStatus::from_code(&a.status).map(|x| x.label_zh()).unwrap_or("—");
    page(
        s,
        u,
        status,
        "docking_achievement.html",
        "achievements",
        context! { a => a, status_label => status_label, history => history, experts => experts, matches => matches,
        lib => "achievement", flash_ok => ok_msg(q), flash_err => err, fv => review.value() },
    )
}

async fn search_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    search_with(&s, &u, q.get("q").cloned().unwrap_or_default()).await
}

/// The search form posts, so a pasted description of any length reaches the length check and
/// gets its Chinese message (a URL that long would be refused before the application sees it).
async fn search_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Form(f): Form<std::collections::HashMap<String, String>>,
) -> Response {
    search_with(&s, &u, f.get("q").cloned().unwrap_or_default()).await
}

async fn search_with(s: &AppState, u: &SessionUser, query: String) -> Response {
    let (s, u) = (s.clone(), u.clone());
    if let Err(e) = crate::docking::hub::may_read_libraries(&u) {
        return error_page(&s, Some(&u), &e);
    }
    let (hits, semantic, err) = if query.trim().is_empty() {
        (vec![], false, None)
    } else {
        match crate::docking::achievements::run_match(&s, &u, &query, 20).await {
            Ok((h, semantic)) => (h, semantic, None),
            Err(e @ StoreError::Internal(_)) => return error_page(&s, Some(&u), &e),
            Err(e) => (vec![], false, Some(e.to_string())),
        }
    };
    // Below the threshold a hit is counted, not listed.
    let withheld = hits.iter().filter(|h| !h.offered).count();
    let hits: Vec<_> = hits.into_iter().filter(|h| h.offered).collect();
    // The reason (a file, a setting) is the administrator's: it is in the server log.
    let semantic_off = !semantic;
    let all = s.db.published_achievements().await.unwrap_or_default();
    let total = all.len();
    let recent: Vec<_> = all.into_iter().rev().take(30).collect();
    render(
        &s,
        if err.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK },
        "achievements.html",
        Some(&u),
        context! { nav => "achievements", sub => "library", d => crate::docking::hub::role_ctx(&u), q => query, hits => hits, flash_err => err, total => total, recent => recent,
        withheld => withheld, semantic_off => semantic_off, progress => s.semantic.progress() },
    )
}
