//! 优秀年轻干部 (issue 18), the 组织部's pages and API: the 干部库 (every person with their 干部档案
//! and pools, and candidates the records suggest), one person's page (档案, pools, the evidence of
//! their work), and 班子结构; [`experiences`] holds the 历练 pages and [`roster`] the 干部名册's import
//! and the exports. Storage checks the role and the 数据范围 for every call; these handlers only shape.

pub mod experiences;
pub mod roster;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_cadres::structure::Requirement;
use xietong_cadres::{EDUCATIONS, ENTRY_ROUTES, PoolLevel, RANKS};
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::cadres::{Cadre, CadreEvidence, CadreInput, CadreSuggestion, TeamCheck};

use crate::AppState;
use crate::api::J;
use crate::auth::{ApiUser, PageUser};
use crate::error::{ApiError, ErrorBody, status_of};
use crate::forms::{Fields, FormView};
use crate::pages::{error_page, render, with_query};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_cadres))
        .routes(routes!(api_suggestions))
        .routes(routes!(api_cadre, api_save_cadre))
        .routes(routes!(api_evidence))
        .routes(routes!(api_enter_pool))
        .routes(routes!(api_exit_pool))
        .routes(routes!(api_teams))
        .routes(routes!(api_set_requirement))
        .merge(experiences::api_router())
        .merge(roster::api_router())
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/cadres", get(cadres_page))
        .route("/cadres/{id}", get(cadre_page).post(cadre_submit))
        .route("/cadres/{id}/pool", post(pool_submit))
        .route("/cadres/{id}/pool/exit", post(pool_exit_submit))
        .route("/teams", get(teams_page))
        .route("/teams/requirements", post(requirement_submit))
        .merge(experiences::page_router())
        .merge(roster::page_router())
}

#[derive(Deserialize, IntoParams)]
pub struct PoolQuery {
    /// 只列在库者：section（科级库）或 stock（股级库）
    pub pool: Option<String>,
}

fn level(code: &str) -> Result<PoolLevel, StoreError> {
    PoolLevel::from_code(code.trim())
        .ok_or_else(|| StoreError::invalid("库级别", "应为 section（科级库）或 stock（股级库）"))
}

fn pool_of(q: &PoolQuery) -> Result<Option<PoolLevel>, StoreError> {
    q.pool.as_deref().filter(|p| !p.is_empty()).map(level).transpose()
}

/// 干部库：各单位人员及其干部档案、在库情况（仅组织部）。
#[utoipa::path(get, path = "/api/cadres", params(PoolQuery), tag = "干部",
    responses((status = 200, body = Vec<Cadre>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn api_cadres(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Query(q): Query<PoolQuery>,
) -> Result<Json<Vec<Cadre>>, ApiError> {
    Ok(Json(s.db.cadres(&u, pool_of(&q)?, s.clock.now().date()).await?))
}

/// 按督查记录推荐的人选及理由（仅供参考，由组织部决定）。
#[utoipa::path(get, path = "/api/cadres/suggestions", tag = "干部",
    responses((status = 200, body = Vec<CadreSuggestion>), (status = 403, body = ErrorBody)))]
async fn api_suggestions(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
) -> Result<Json<Vec<CadreSuggestion>>, ApiError> {
    Ok(Json(s.db.cadre_suggestions(&u, s.clock.now()).await?))
}

/// 一名人员的干部档案与在库记录。
#[utoipa::path(get, path = "/api/cadres/{id}", params(("id" = i64, Path, description = "人员编号")), tag = "干部",
    responses((status = 200, body = Cadre), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn api_cadre(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Cadre>, ApiError> {
    Ok(Json(s.db.cadre(&u, id, s.clock.now().date()).await?))
}

/// 建立或修改干部档案（修改时须带读取时的 version，过期则 409）。
#[utoipa::path(put, path = "/api/cadres/{id}", params(("id" = i64, Path, description = "人员编号")), request_body = CadreInput,
    tag = "干部", responses((status = 200, body = Cadre), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn api_save_cadre(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    J(b): J<CadreInput>,
) -> Result<Json<Cadre>, ApiError> {
    Ok(Json(s.db.save_cadre(&u, id, &b, s.clock.now()).await?))
}

/// 一名人员的工作实绩：负责的子任务及办结情况、点名的督查通报，以及推荐理由。
#[utoipa::path(get, path = "/api/cadres/{id}/evidence", params(("id" = i64, Path, description = "人员编号")), tag = "干部",
    responses((status = 200, body = CadreEvidence), (status = 403, body = ErrorBody)))]
async fn api_evidence(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<CadreEvidence>, ApiError> {
    Ok(Json(s.db.cadre_evidence(&u, id, s.clock.now()).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct PoolChange {
    /// section（科级库）或 stock（股级库）
    pub level: String,
    /// 入库或出库理由
    pub reason: String,
}

/// 纳入优秀年轻干部库（同一级只能在库一次，重复为 409）。
#[utoipa::path(post, path = "/api/cadres/{id}/pools", params(("id" = i64, Path, description = "人员编号")), request_body = PoolChange,
    tag = "干部", responses((status = 200, body = Cadre), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 409, body = ErrorBody)))]
async fn api_enter_pool(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    J(b): J<PoolChange>,
) -> Result<Json<Cadre>, ApiError> {
    Ok(Json(s.db.enter_pool(&u, id, level(&b.level)?, &b.reason, s.clock.now()).await?))
}

/// 调出优秀年轻干部库（保留入库记录，写明出库日期和理由）。
#[utoipa::path(post, path = "/api/cadres/{id}/pools/exit", params(("id" = i64, Path, description = "人员编号")), request_body = PoolChange,
    tag = "干部", responses((status = 200, body = Cadre), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 409, body = ErrorBody)))]
async fn api_exit_pool(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    J(b): J<PoolChange>,
) -> Result<Json<Cadre>, ApiError> {
    Ok(Json(s.db.exit_pool(&u, id, level(&b.level)?, &b.reason, s.clock.now()).await?))
}

/// 班子结构：各班子 35 岁以下占比、30 岁以下人数与要求的对照（只有人数，不含个人年龄）。
#[utoipa::path(get, path = "/api/teams", tag = "干部", responses((status = 200, body = Vec<TeamCheck>), (status = 403, body = ErrorBody)))]
async fn api_teams(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<Vec<TeamCheck>>, ApiError> {
    Ok(Json(s.db.teams(&u, s.clock.now().date()).await?))
}

/// 设置某类单位班子的结构要求（系统管理员或组织部）。
#[utoipa::path(put, path = "/api/teams/requirements/{kind}", params(("kind" = String, Path, description = "单位类型，如 镇街")),
    request_body = Requirement, tag = "干部", responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn api_set_requirement(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(kind): Path<String>,
    J(b): J<Requirement>,
) -> Result<StatusCode, ApiError> {
    s.db.set_team_requirement(&u, &kind, &b, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- pages ----

async fn cadres_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    axum::extract::Query(q): crate::forms::RawQuery,
) -> Response {
    let get = |k: &str| q.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let ok = Some(get("ok")).filter(|o| !o.is_empty());
    cadres_view(&s, &u, StatusCode::OK, get("pool"), ok, vec![]).await
}

/// The 干部库 page; `import_errors` are a refused roster's lines, one per bad cell.
pub(crate) async fn cadres_view(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    pool: String,
    ok: Option<String>,
    import_errors: Vec<String>,
) -> Response {
    let r = async {
        let chosen = PoolQuery { pool: Some(pool.clone()) };
        let list = s.db.cadres(u, pool_of(&chosen)?, s.clock.now().date()).await?;
        let suggestions = s.db.cadre_suggestions(u, s.clock.now()).await?;
        Ok::<_, StoreError>((list, suggestions))
    };
    match r.await {
        Ok((list, suggestions)) => {
            let in_pool = |l: PoolLevel| {
                list.iter().filter(|c| c.pools.iter().any(|p| p.level == l && p.exited_on.is_none())).count()
            };
            let levels: Vec<_> = PoolLevel::ALL
                .iter()
                .map(|l| context! { code => l.code(), label => l.label_zh(), n => in_pool(*l) })
                .collect();
            let recorded = list.iter().filter(|c| c.recorded).count();
            render(
                s,
                status,
                "cadres.html",
                Some(u),
                context! { nav => "cadres", list => list, suggestions => suggestions, levels => levels, pool => pool,
                recorded => recorded, ok => ok, import_errors => import_errors },
            )
        }
        Err(e) => error_page(s, Some(u), &e),
    }
}

async fn cadre_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    axum::extract::Query(q): crate::forms::RawQuery,
) -> Response {
    let ok = q.iter().find(|(k, _)| k == "ok").map(|(_, v)| v.clone());
    person_page(&s, &u, id, StatusCode::OK, ok, None, FormView::default()).await
}

async fn person_page(
    s: &AppState,
    u: &SessionUser,
    id: i64,
    status: StatusCode,
    ok: Option<String>,
    error: Option<String>,
    form: FormView,
) -> Response {
    let now = s.clock.now();
    let r =
        async { Ok::<_, StoreError>((s.db.cadre(u, id, now.date()).await?, s.db.cadre_evidence(u, id, now).await?)) };
    match r.await {
        Ok((c, evidence)) => {
            let levels: Vec<_> =
                PoolLevel::ALL.iter().map(|l| context! { code => l.code(), label => l.label_zh() }).collect();
            render(
                s,
                status,
                "cadre.html",
                Some(u),
                context! { nav => "cadres", c => c, evidence => evidence, levels => levels, ok => ok, error => error,
                f => form.value(), educations => EDUCATIONS, ranks => RANKS, routes => ENTRY_ROUTES },
            )
        }
        Err(e) => error_page(s, Some(u), &e),
    }
}

/// Re-show the person's page with the refusal beside its fields, what was typed kept.
async fn refused(s: &AppState, u: &SessionUser, id: i64, f: Fields, e: StoreError) -> Response {
    if matches!(e, StoreError::Denied(_) | StoreError::NotFound(_) | StoreError::Internal(_)) {
        return error_page(s, Some(u), &e);
    }
    let form = FormView::refused(f, &e);
    person_page(s, u, id, status_of(&e), None, Some(e.to_string()), form).await
}

async fn cadre_submit(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>, f: Fields) -> Response {
    let input = CadreInput {
        id_number: f.s("id_number"),
        education: f.s("education"),
        major: f.s("major"),
        rank: f.s("rank"),
        entry_route: f.s("entry_route"),
        work_start: f.s("work_start"),
        version: f.trimmed("version").parse().ok(),
    };
    match s.db.save_cadre(&u, id, &input, s.clock.now()).await {
        Ok(_) => Redirect::to(&with_query(&format!("/cadres/{id}"), &[("ok", "干部档案已保存")])).into_response(),
        Err(e) => refused(&s, &u, id, f, e).await,
    }
}

async fn pool_submit(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>, f: Fields) -> Response {
    let r = async { s.db.enter_pool(&u, id, level(&f.s("level"))?, &f.s("reason"), s.clock.now()).await };
    match r.await {
        Ok(_) => Redirect::to(&with_query(&format!("/cadres/{id}"), &[("ok", "已纳入干部库")])).into_response(),
        Err(e) => refused(&s, &u, id, f, e).await,
    }
}

async fn pool_exit_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    f: Fields,
) -> Response {
    let r = async { s.db.exit_pool(&u, id, level(&f.s("level"))?, &f.s("exit_reason"), s.clock.now()).await };
    match r.await {
        Ok(_) => Redirect::to(&with_query(&format!("/cadres/{id}"), &[("ok", "已调出干部库")])).into_response(),
        Err(e) => refused(&s, &u, id, f, e).await,
    }
}

async fn teams_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    axum::extract::Query(q): crate::forms::RawQuery,
) -> Response {
    let ok = q.iter().find(|(k, _)| k == "ok").map(|(_, v)| v.clone());
    teams_view(&s, &u, StatusCode::OK, ok, None, FormView::default()).await
}

async fn teams_view(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    ok: Option<String>,
    error: Option<String>,
    form: FormView,
) -> Response {
    let r =
        async { Ok::<_, StoreError>((s.db.teams(u, s.clock.now().date()).await?, s.db.team_requirements().await?)) };
    match r.await {
        Ok((teams, reqs)) => {
            let kinds: Vec<_> = xietong_storage::org::UNIT_KINDS
                .iter()
                .filter(|k| **k != "外部单位" && **k != "内设科室")
                .map(|k| context! { kind => k, r => reqs.get(*k).copied().unwrap_or_default() })
                .collect();
            let t = xietong_cadres::structure::total(teams.iter().map(|t| &t.check));
            render(
                s,
                status,
                "teams.html",
                Some(u),
                context! { nav => "teams", teams => teams, kinds => kinds, ok => ok, error => error, f => form.value(),
                total => context! { members => t.members, young => t.young,
                share => format!("{:.2}", t.young_percent) } },
            )
        }
        Err(e) => error_page(s, Some(u), &e),
    }
}

async fn requirement_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    let r = async {
        let mut unread = crate::forms::Unread::default();
        let young_age = unread.required_int(&f, "young_age", "年轻干部年龄上限");
        let youngest_age = unread.required_int(&f, "youngest_age", "最年轻干部年龄上限");
        let min_youngest = unread.required_int(&f, "min_youngest", "最年轻干部最少人数");
        let min_young_percent = unread.required_num(&f, "min_young_percent", "年轻干部最低占比");
        if !unread.0.is_empty() {
            // Every unreadable number at once, each beside its field.
            return Err(StoreError::Fields(xietong_supervision::validate::FieldErrors(unread.0)));
        }
        let req = Requirement {
            young_age: young_age as i32,
            min_young_percent,
            youngest_age: youngest_age as i32,
            min_youngest: min_youngest.max(0) as usize,
        };
        s.db.set_team_requirement(&u, &f.s("kind"), &req, s.clock.now()).await
    };
    match r.await {
        Ok(()) => Redirect::to(&with_query("/teams", &[("ok", "班子结构要求已保存")])).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_))) => error_page(&s, Some(&u), &e),
        Err(e) => {
            let form = FormView::refused(f, &e);
            teams_view(&s, &u, status_of(&e), None, Some(e.to_string()), form).await
        }
    }
}
