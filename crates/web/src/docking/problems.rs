//! 难题库: enterprises' technical problems and their matches (API and pages).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::context;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_docking::matching::COOPERATION_MODES;
use xietong_docking::review::ReviewStatus;
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::libraries::{Library, NewProblem, TechProblem};
use xietong_storage::matching::Matches;
use xietong_supervision::Role;

use crate::AppState;
use crate::api::{Created, J, Q};
use crate::auth::{ApiUser, PageUser};
use crate::docking::hub::{
    CreatedResp, StatusQuery, TopQuery, created, may_read_libraries, ok_msg, page, refused, review_status, with_ok,
};
use crate::error::{ApiError, ErrorBody, status_of};
use crate::forms::RawQuery;
use crate::forms::{Fields as F, FormView, Unread};
use crate::pages::error_page;

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(problems, submit_problem))
        .routes(routes!(resubmit_problem))
        .routes(routes!(problem_matches))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/docking/problems", get(problems_page).post(problem_submit))
        .route("/docking/problems/{id}", get(problem_page))
        .route("/docking/problems/{id}/resubmit", post(problem_resubmit))
}

/// 难题库（按身份过滤：企业看本企业，保密难题仅科技局和对接专家可见）。
#[utoipa::path(get, path = "/api/tech-problems", params(StatusQuery), tag = "产学研对接", responses((status = 200, body = Vec<TechProblem>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(crate) async fn problems(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(q): Q<StatusQuery>,
) -> Result<Json<Vec<TechProblem>>, ApiError> {
    may_read_libraries(&u)?;
    Ok(Json(s.db.list_problems_for(&u, review_status(&q)?).await?))
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
    Ok(Json(s.match_problem(&u, id, q.top.unwrap_or(10)).await?))
}

// --- 难题库 --------------------------------------------------------------------------------------
async fn problems_with(
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
    let filter = q.iter().find(|(k, _)| k == "status").and_then(|(_, v)| ReviewStatus::from_code(v));
    let list = match s.db.list_problems_for(u, filter).await {
        Ok(l) => l,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let today = s.clock.now().date();
    let campaigns: Vec<_> =
        s.db.list_campaigns(today)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c.open && c.target == Library::Problem)
            .collect();
    let enterprises =
        if u.role == Role::TechBureau { s.db.list_enterprises(None, today).await.unwrap_or_default() } else { vec![] };
    let statuses: Vec<_> =
        ReviewStatus::ALL.iter().map(|x| context! { code => x.code(), label => x.label_zh() }).collect();
    page(
        s,
        u,
        status,
        "docking_problems.html",
        "problems",
        context! { list => list, campaigns => campaigns, enterprises => enterprises, modes => COOPERATION_MODES, statuses => statuses,
        filter => filter.map(|f| f.code()), flash_err => err, flash_ok => ok_msg(q),
        industry_hits => industry_hits(&form), industry_list => crate::docking::industries::datalist(),
        f => form.value() },
    )
}

async fn problems_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): RawQuery) -> Response {
    problems_with(&s, &u, StatusCode::OK, &q, None, FormView::fresh(F::default())).await
}

/// The 行业 typed in a form, when it is words rather than a code: the classes it finds, offered
/// as choices beside the field (「起重」 → 3431, 3432, …, 3514).
fn industry_hits(form: &FormView) -> Vec<&'static xietong_docking::industries::Industry> {
    let typed = form.get("industry_code");
    if typed.trim().is_empty() || xietong_docking::industries::find(&typed).is_some() {
        return vec![];
    }
    xietong_docking::industries::search(&typed, crate::docking::industries::LIMIT)
}

fn new_problem(f: &F) -> Result<NewProblem, StoreError> {
    let mut unread = Unread::default();
    Ok(NewProblem {
        title: f.s("title"),
        description: f.s("description"),
        keywords: f.s("keywords"),
        enterprise_id: unread.id(f, "enterprise_id", "企业"),
        // A class chosen among the search's results wins over the words typed to find it.
        industry_code: f.opt("industry_pick").unwrap_or_else(|| f.s("industry_code")),
        budget_wan: unread.num(f, "budget_wan", "预算（万元）"),
        cooperation_mode: f.s("cooperation_mode"),
        wanted_by: f.s("wanted_by"),
        confidential: f.on("confidential"),
        campaign_id: unread.id(f, "campaign_id", "征集活动"),
        unread: unread.0,
    })
}

async fn problem_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: F) -> Response {
    if f.opt("find_industry").is_some() {
        return problems_with(&s, &u, StatusCode::OK, &[], None, FormView::kept(f)).await;
    }
    let r = async { s.db.submit_problem(&u, None, &new_problem(&f)?, s.clock.now()).await }.await;
    match r {
        Ok(id) => with_ok(&format!("/docking/problems/{id}"), "已提交，等待科技局形式审核"),
        Err(e) if refused(&s, &u, &e) => error_page(&s, Some(&u), &e),
        Err(e) => {
            problems_with(&s, &u, status_of(&e), &[], FormView::flash(&e), FormView::refused(chosen(f), &e)).await
        }
    }
}

pub(crate) async fn problem_with(
    s: &AppState,
    u: &SessionUser,
    id: i64,
    status: StatusCode,
    q: &[(String, String)],
    err: Option<String>,
    (form, review): (Option<FormView>, Option<FormView>),
) -> Response {
    if let Err(e) = may_read_libraries(u) {
        return error_page(s, Some(u), &e);
    }
    let p = match s.db.get_tech_problem(u, id).await {
        Ok(p) => p,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let history = s.db.review_history(u, Library::Problem, id).await.unwrap_or_default();
    let matches = if p.review.status == ReviewStatus::Published {
        match s.match_problem(u, id, 10).await {
            Ok(m) => Some(m),
            Err(e) => return error_page(s, Some(u), &e),
        }
    } else {
        None
    };
    let own = u.role == Role::Enterprise
        && s.db.party_of(u).await.ok().and_then(|p| p.enterprise_id) == Some(p.enterprise_id);
    let may_dock = u.role == Role::TechBureau || own;
    let form = form.unwrap_or_else(|| {
        FormView::fresh(F(vec![
            ("title".to_string(), p.title.clone()),
            ("description".into(), p.description.clone()),
            ("keywords".into(), p.keywords.join("；")),
            ("industry_code".into(), p.industry_code.clone().unwrap_or_default()),
            ("budget_wan".into(), if p.budget_wan > 0.0 { p.budget_wan.to_string() } else { String::new() }),
            ("cooperation_mode".into(), p.cooperation_mode.clone()),
            ("wanted_by".into(), p.wanted_by.clone().unwrap_or_default()),
            ("confidential".into(), if p.confidential { "1".into() } else { String::new() }),
        ]))
    });
    let may_resubmit = p.review.status == ReviewStatus::Returned && (own || u.role == Role::TechBureau);
    page(
        s,
        u,
        status,
        "docking_problem.html",
        "problems",
        context! { p => p, history => history, matches => matches, may_dock => may_dock,
        may_resubmit => may_resubmit, modes => COOPERATION_MODES,
        lib => "problem", flash_err => err, flash_ok => ok_msg(q), industry_hits => industry_hits(&form),
        industry_list => crate::docking::industries::datalist(), f => form.value(),
        fv => review.unwrap_or_else(|| FormView::fresh(F::default())).value() },
    )
}

async fn problem_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    Query(q): RawQuery,
) -> Response {
    problem_with(&s, &u, id, StatusCode::OK, &q, None, (None, None)).await
}

async fn problem_resubmit(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>, f: F) -> Response {
    if f.opt("find_industry").is_some() {
        return problem_with(&s, &u, id, StatusCode::OK, &[], None, (Some(FormView::kept(f)), None)).await;
    }
    let r = async {
        let mut n = new_problem(&f)?;
        if u.role == Role::TechBureau {
            n.enterprise_id = Some(s.db.get_tech_problem(&u, id).await?.enterprise_id);
        }
        s.db.submit_problem(&u, Some(id), &n, s.clock.now()).await
    }
    .await;
    match r {
        Ok(_) => with_ok(&format!("/docking/problems/{id}"), "已修改并重新提交，等待形式审核"),
        Err(e) if refused(&s, &u, &e) => error_page(&s, Some(&u), &e),
        Err(e) => {
            let form = FormView::refused(chosen(f), &e);
            problem_with(&s, &u, id, status_of(&e), &[], FormView::flash(&e), (Some(form), None)).await
        }
    }
}

/// A refused form keeps the class chosen among the search's results as its 行业代码.
fn chosen(f: F) -> F {
    match f.opt("industry_pick") {
        Some(code) => F(f
            .0
            .into_iter()
            .filter(|(k, _)| k != "industry_code" && k != "industry_pick")
            .chain([("industry_code".into(), code)])
            .collect()),
        None => f,
    }
}
