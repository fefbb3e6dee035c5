//! Pages of the 产学研 docking platform (/docking/…): the libraries with their submission forms,
//! 征集 campaigns, the 科技局's review desk, matches with reasons, dockings through to contracts,
//! and the statistics dashboard. Permissions are the storage layer's; a refused form comes back
//! with what was typed and the field named.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use xietong_docking::contract::ContractType;
use xietong_docking::matching::{COOPERATION_MODES, MATURITIES};
use xietong_docking::pipeline::Stage;
use xietong_docking::review::{ReviewAction, ReviewStatus};
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::dockings::{ACTIVITY_KINDS, MoveDocking, NewActivity, NewContract, NewDocking};
use xietong_storage::libraries::{
    BASE_KINDS, CARRIER_KINDS, INSTITUTION_KINDS, Library, NewAchievement, NewCampaign, NewExpert, NewInstitution,
    NewPlatform, NewProblem, PLATFORM_LEVELS, RD_PLATFORM_KINDS,
};
use xietong_storage::tasks::NewTask;
use xietong_supervision::Role;

use crate::AppState;
use crate::auth::PageUser;
use crate::docking_api::{contract_kind, may_read_libraries, may_read_stats, stage_param};
use crate::error::status_of;
use crate::pages::{error_page, render};

pub fn router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/docking", get(hub))
        .route("/docking/problems", get(problems_page).post(problem_submit))
        .route("/docking/problems/{id}", get(problem_page))
        .route("/docking/problems/{id}/resubmit", post(problem_resubmit))
        .route("/docking/experts", get(experts_page).post(expert_submit))
        .route("/docking/experts/{id}", get(expert_page))
        .route("/docking/achievements", get(achievements_page).post(achievement_submit))
        .route("/docking/achievements/{id}", get(achievement_page))
        .route("/docking/institutions", get(institutions_page).post(institution_submit))
        .route("/docking/campaigns", get(campaigns_page).post(campaign_submit))
        .route("/docking/review", get(review_page))
        .route("/docking/review/{lib}/{id}", post(review_submit))
        .route("/docking/platforms", get(platforms_page).post(platform_submit))
        .route("/docking/dockings", get(dockings_page).post(docking_submit))
        .route("/docking/dockings/{id}", get(docking_page))
        .route("/docking/dockings/{id}/move", post(docking_move))
        .route("/docking/dockings/{id}/activities", post(docking_activity))
        .route("/docking/dockings/{id}/contracts", post(docking_contract))
        .route("/docking/dockings/{id}/share-contact", post(docking_share))
        .route("/docking/dockings/{id}/tasks", post(docking_task))
        .route("/docking/contracts", get(contracts_page).post(contract_submit))
}

type Raw = Query<Vec<(String, String)>>;

use crate::forms::Fields as F;

fn with_ok(path: &str, msg: &str) -> Response {
    let q = serde_urlencoded::to_string([("ok", msg)]).unwrap_or_default();
    let sep = if path.contains('?') { '&' } else { '?' };
    let (base, anchor) = path
        .split_once('#')
        .map(|(b, a)| (b.to_string(), format!("#{a}")))
        .unwrap_or((path.to_string(), String::new()));
    Redirect::to(&format!("{base}{sep}{q}{anchor}")).into_response()
}

/// Where a failed form goes: a refusal of the user's input comes back to the page with the
/// message; a permission refusal or our own failure is an error page.
fn refused(s: &AppState, u: &SessionUser, e: &StoreError) -> bool {
    let _ = (s, u);
    matches!(e, StoreError::Denied(_) | StoreError::Internal(_))
}

pub(crate) fn role_ctx(u: &SessionUser) -> minijinja::Value {
    context! {
        tech => u.role == Role::TechBureau,
        enterprise => u.role == Role::Enterprise,
        institution => u.role == Role::Institution,
        supervisor => u.role == Role::Supervisor,
        stats => may_read_stats(u).is_ok(),
    }
}

fn page(s: &AppState, u: &SessionUser, status: StatusCode, name: &str, sub: &str, ctx: minijinja::Value) -> Response {
    render(s, status, name, Some(u), context! { nav => "docking", sub => sub, d => role_ctx(u), ..ctx })
}

fn ok_msg(q: &[(String, String)]) -> Option<String> {
    q.iter().find(|(k, _)| k == "ok").map(|(_, v)| v.clone())
}

async fn hub(PageUser(u, _): PageUser) -> Response {
    let to = match u.role {
        Role::Enterprise => "/docking/problems",
        Role::Institution => "/docking/experts",
        _ => "/docking/stats",
    };
    Redirect::to(to).into_response()
}

// The statistics page (科技统计) is docking_stats.rs.

// --- 难题库 --------------------------------------------------------------------------------------

async fn problems_with(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    q: &[(String, String)],
    err: Option<String>,
    form: HashMap<String, String>,
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
        filter => filter.map(|f| f.code()), flash_err => err, flash_ok => ok_msg(q), f => form },
    )
}

async fn problems_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): Raw) -> Response {
    problems_with(&s, &u, StatusCode::OK, &q, None, HashMap::new()).await
}

fn new_problem(f: &F) -> Result<NewProblem, StoreError> {
    Ok(NewProblem {
        title: f.s("title"),
        description: f.s("description"),
        keywords: f.s("keywords"),
        enterprise_id: f.id("enterprise_id", "企业")?,
        industry_code: f.s("industry_code"),
        budget_wan: f.num("budget_wan", "预算（万元）")?,
        cooperation_mode: f.s("cooperation_mode"),
        wanted_by: f.s("wanted_by"),
        confidential: f.on("confidential"),
        campaign_id: f.id("campaign_id", "征集活动")?,
    })
}

async fn problem_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let f = F(form);
    let r = async { s.db.submit_problem(&u, None, &new_problem(&f)?, s.clock.now()).await }.await;
    match r {
        Ok(id) => with_ok(&format!("/docking/problems/{id}"), "已提交，等待科技局形式审核"),
        Err(e) if refused(&s, &u, &e) => error_page(&s, Some(&u), &e),
        Err(e) => problems_with(&s, &u, status_of(&e), &[], Some(e.to_string()), f.map()).await,
    }
}

async fn problem_with(
    s: &AppState,
    u: &SessionUser,
    id: i64,
    status: StatusCode,
    q: &[(String, String)],
    err: Option<String>,
    form: Option<HashMap<String, String>>,
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
        match s.achievements_index().await {
            Ok(idx) => match s.db.match_problem(u, &idx, id, 10).await {
                Ok(m) => Some(m),
                Err(e) => return error_page(s, Some(u), &e),
            },
            Err(e) => return error_page(s, Some(u), &e),
        }
    } else {
        None
    };
    let own = u.role == Role::Enterprise
        && s.db.party_of(u).await.ok().and_then(|p| p.enterprise_id) == Some(p.enterprise_id);
    let may_dock = u.role == Role::TechBureau || own;
    let form = form.unwrap_or_else(|| {
        HashMap::from([
            ("title".to_string(), p.title.clone()),
            ("description".into(), p.description.clone()),
            ("keywords".into(), p.keywords.join("；")),
            ("budget_wan".into(), if p.budget_wan > 0.0 { p.budget_wan.to_string() } else { String::new() }),
            ("cooperation_mode".into(), p.cooperation_mode.clone()),
            ("wanted_by".into(), p.wanted_by.clone().unwrap_or_default()),
            ("confidential".into(), if p.confidential { "1".into() } else { String::new() }),
        ])
    });
    let may_resubmit = p.review.status == ReviewStatus::Returned && (own || u.role == Role::TechBureau);
    page(
        s,
        u,
        status,
        "docking_problem.html",
        "problems",
        context! { p => p, history => history, matches => matches, may_dock => may_dock, may_resubmit => may_resubmit, modes => COOPERATION_MODES,
        lib => "problem", flash_err => err, flash_ok => ok_msg(q), f => form },
    )
}

async fn problem_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    Query(q): Raw,
) -> Response {
    problem_with(&s, &u, id, StatusCode::OK, &q, None, None).await
}

async fn problem_resubmit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let f = F(form);
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
        Err(e) => problem_with(&s, &u, id, status_of(&e), &[], Some(e.to_string()), Some(f.map())).await,
    }
}

// --- 专家库 --------------------------------------------------------------------------------------

async fn experts_with(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    q: &[(String, String)],
    err: Option<String>,
    form: HashMap<String, String>,
) -> Response {
    if let Err(e) = may_read_libraries(u) {
        return error_page(s, Some(u), &e);
    }
    let list = match s.db.list_experts_for(u, None).await {
        Ok(l) => l,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let today = s.clock.now().date();
    let campaigns: Vec<_> =
        s.db.list_campaigns(today)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c.open && c.target == Library::Expert)
            .collect();
    let institutions = s.db.list_institutions().await.unwrap_or_default();
    page(
        s,
        u,
        status,
        "docking_experts.html",
        "experts",
        context! { list => list, campaigns => campaigns, institutions => institutions, flash_err => err, flash_ok => ok_msg(q), f => form },
    )
}

async fn experts_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): Raw) -> Response {
    experts_with(&s, &u, StatusCode::OK, &q, None, HashMap::new()).await
}

async fn expert_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let f = F(form);
    let r = async {
        let mut ids = vec![];
        for x in f.s("achievement_ids").split([',', '，', ';', '；', ' ']).map(str::trim).filter(|x| !x.is_empty()) {
            let found = s.db.achievements_by_external_id(&[x.to_string()]).await?;
            ids.push(
                found
                    .first()
                    .ok_or_else(|| StoreError::invalid("关联成果", format!("成果库中没有编号为「{x}」的成果")))?
                    .id,
            );
        }
        let n = NewExpert {
            name: f.s("name"),
            institution_id: f.id("institution_id", "所在机构")?,
            title: f.s("title"),
            disciplines: f.s("disciplines"),
            fields: f.s("fields"),
            keywords: f.s("keywords"),
            phone: f.s("phone"),
            email: f.s("email"),
            id_number: f.s("id_number"),
            share_on_consent: f.on("share_on_consent"),
            achievement_ids: ids,
            campaign_id: f.id("campaign_id", "征集活动")?,
        };
        s.db.submit_expert(&u, None, &n, s.clock.now()).await
    }
    .await;
    match r {
        Ok(id) => with_ok(&format!("/docking/experts/{id}"), "已提交，等待科技局形式审核"),
        Err(e) if refused(&s, &u, &e) => error_page(&s, Some(&u), &e),
        Err(e) => experts_with(&s, &u, status_of(&e), &[], Some(e.to_string()), f.map()).await,
    }
}

async fn expert_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    Query(q): Raw,
) -> Response {
    if let Err(e) = may_read_libraries(&u) {
        return error_page(&s, Some(&u), &e);
    }
    let x = match s.db.list_experts_for(&u, None).await.map(|l| l.into_iter().find(|x| x.id == id)) {
        Ok(Some(x)) => x,
        Ok(None) => {
            return error_page(
                &s,
                Some(&u),
                &StoreError::NotFound(format!("专家库中没有编号 {id} 的专家，或您无权查看")),
            );
        }
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    let history = s.db.review_history(&u, Library::Expert, id).await.unwrap_or_default();
    let matches =
        if x.review.status == ReviewStatus::Published { s.db.match_expert(&u, id, 10).await.ok() } else { None };
    page(
        &s,
        &u,
        StatusCode::OK,
        "docking_expert.html",
        "experts",
        context! { x => x, history => history, matches => matches, lib => "expert", flash_ok => ok_msg(&q) },
    )
}

// --- 成果 submissions -------------------------------------------------------------------------

async fn achievements_with(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    q: &[(String, String)],
    err: Option<String>,
    form: HashMap<String, String>,
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
        modes => &COOPERATION_MODES[..4], flash_err => err, flash_ok => ok_msg(q), f => form },
    )
}

async fn achievements_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): Raw) -> Response {
    achievements_with(&s, &u, StatusCode::OK, &q, None, HashMap::new()).await
}

async fn achievement_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let f = F(form);
    let r = async {
        let n = NewAchievement {
            title: f.s("title"),
            abstract_text: f.s("abstract"),
            kind: f.s("kind"),
            patent_no: f.s("patent_no"),
            keywords: f.s("keywords"),
            discipline: f.s("discipline"),
            maturity: f.s("maturity"),
            transfer_modes: f.all("transfer_modes").join(";"),
            price_min_wan: f.num("price_min_wan", "意向价格下限（万元）")?,
            price_max_wan: f.num("price_max_wan", "意向价格上限（万元）")?,
            institution_id: f.id("institution_id", "完成单位")?,
            campaign_id: f.id("campaign_id", "征集活动")?,
        };
        s.db.submit_achievement(&u, None, &n, s.clock.now()).await
    }
    .await;
    match r {
        Ok(id) => with_ok(&format!("/docking/achievements/{id}"), "已提交，等待科技局形式审核"),
        Err(e) if refused(&s, &u, &e) => error_page(&s, Some(&u), &e),
        Err(e) => achievements_with(&s, &u, status_of(&e), &[], Some(e.to_string()), f.map()).await,
    }
}

async fn achievement_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    Query(q): Raw,
) -> Response {
    if let Err(e) = may_read_libraries(&u) {
        return error_page(&s, Some(&u), &e);
    }
    let a = match s.db.achievement_for(&u, id).await {
        Ok(a) => a,
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    let history = s.db.review_history(&u, Library::Achievement, id).await.unwrap_or_default();
    let experts = s.db.experts_of_achievement(id).await.unwrap_or_default();
    let matches = if a.status == "published" {
        match s.db.match_achievement(&u, id, 10).await {
            Ok(m) => Some(m),
            Err(e) => return error_page(&s, Some(&u), &e),
        }
    } else {
        None
    };
    let status_label = ReviewStatus::from_code(&a.status).map(|x| x.label_zh()).unwrap_or("—");
    page(
        &s,
        &u,
        StatusCode::OK,
        "docking_achievement.html",
        "achievements",
        context! { a => a, status_label => status_label, history => history, experts => experts, matches => matches, lib => "achievement", flash_ok => ok_msg(&q) },
    )
}

// --- 高校院所, 征集, 平台载体 ----------------------------------------------------------------------

async fn institutions_with(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    q: &[(String, String)],
    err: Option<String>,
    form: HashMap<String, String>,
) -> Response {
    if let Err(e) = may_read_libraries(u) {
        return error_page(s, Some(u), &e);
    }
    let list = s.db.list_institutions().await.unwrap_or_default();
    page(
        s,
        u,
        status,
        "docking_institutions.html",
        "institutions",
        context! { list => list, kinds => INSTITUTION_KINDS, flash_err => err, flash_ok => ok_msg(q), f => form },
    )
}

async fn institutions_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): Raw) -> Response {
    institutions_with(&s, &u, StatusCode::OK, &q, None, HashMap::new()).await
}

async fn institution_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let f = F(form);
    match s
        .db
        .create_institution(
            &u,
            &NewInstitution { name: f.s("name"), kind: f.s("kind"), location: f.s("location") },
            s.clock.now(),
        )
        .await
    {
        Ok(_) => with_ok("/docking/institutions", "已登记"),
        Err(e) if refused(&s, &u, &e) => error_page(&s, Some(&u), &e),
        Err(e) => institutions_with(&s, &u, status_of(&e), &[], Some(e.to_string()), f.map()).await,
    }
}

async fn campaigns_with(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    q: &[(String, String)],
    err: Option<String>,
    form: HashMap<String, String>,
) -> Response {
    if let Err(e) = may_read_libraries(u) {
        return error_page(s, Some(u), &e);
    }
    let today = s.clock.now().date();
    let list = s.db.list_campaigns(today).await.unwrap_or_default();
    let targets: Vec<_> = Library::ALL.iter().map(|l| context! { code => l.code(), label => l.label_zh() }).collect();
    page(
        s,
        u,
        status,
        "docking_campaigns.html",
        "campaigns",
        context! { list => list, targets => targets, today => today.to_string(), flash_err => err, flash_ok => ok_msg(q), f => form },
    )
}

async fn campaigns_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): Raw) -> Response {
    campaigns_with(&s, &u, StatusCode::OK, &q, None, HashMap::new()).await
}

async fn campaign_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let f = F(form);
    let r = async {
        let validity = match f.s("validity_days").trim() {
            "" => None,
            v => Some(v.parse::<i64>().map_err(|_| StoreError::invalid("有效期（天）", format!("「{v}」不是整数")))?),
        };
        let n = NewCampaign {
            title: f.s("title"),
            target: f.s("target"),
            starts_on: f.s("starts_on"),
            ends_on: f.s("ends_on"),
            validity_days: validity,
            description: f.s("description"),
        };
        s.db.create_campaign(&u, &n, s.clock.now()).await
    }
    .await;
    match r {
        Ok(_) => with_ok("/docking/campaigns", "征集已发起"),
        Err(e) if refused(&s, &u, &e) => error_page(&s, Some(&u), &e),
        Err(e) => campaigns_with(&s, &u, status_of(&e), &[], Some(e.to_string()), f.map()).await,
    }
}

async fn platforms_with(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    q: &[(String, String)],
    err: Option<String>,
    form: HashMap<String, String>,
) -> Response {
    if let Err(e) = may_read_libraries(u) {
        return error_page(s, Some(u), &e);
    }
    let qf = F(q.to_vec());
    let (group, level) = (qf.opt("group"), qf.opt("level"));
    let list = match s.db.list_platforms(group.as_deref(), level.as_deref()).await {
        Ok(l) => l,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let kinds: Vec<&str> = RD_PLATFORM_KINDS.iter().chain(&CARRIER_KINDS).chain(&BASE_KINDS).copied().collect();
    page(
        s,
        u,
        status,
        "docking_platforms.html",
        "platforms",
        context! { list => list, group => group, level => level, kinds => kinds, levels => PLATFORM_LEVELS, flash_err => err, flash_ok => ok_msg(q), f => form },
    )
}

async fn platforms_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): Raw) -> Response {
    platforms_with(&s, &u, StatusCode::OK, &q, None, HashMap::new()).await
}

async fn platform_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let f = F(form);
    let r = async {
        let year = match f.s("approved_year").trim() {
            "" => None,
            v => Some(v.parse::<i64>().map_err(|_| StoreError::invalid("认定年份", format!("「{v}」不是年份")))?),
        };
        s.db.create_platform(
            &u,
            &NewPlatform {
                name: f.s("name"),
                kind: f.s("kind"),
                level: f.s("level"),
                host: f.s("host"),
                approved_year: year,
            },
            s.clock.now(),
        )
        .await
    }
    .await;
    match r {
        Ok(_) => with_ok("/docking/platforms", "已登记"),
        Err(e) if refused(&s, &u, &e) => error_page(&s, Some(&u), &e),
        Err(e) => platforms_with(&s, &u, status_of(&e), &[], Some(e.to_string()), f.map()).await,
    }
}

// --- review desk -------------------------------------------------------------------------------

async fn review_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): Raw) -> Response {
    match s.db.review_queue(&u).await {
        Ok(items) => page(
            &s,
            &u,
            StatusCode::OK,
            "docking_review.html",
            "review",
            context! { items => items, flash_ok => ok_msg(&q) },
        ),
        Err(e) => error_page(&s, Some(&u), &e),
    }
}

fn record_path(lib: Library, id: i64) -> String {
    format!("/docking/{}s/{id}", lib.code())
}

async fn review_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path((lib, id)): Path<(String, i64)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let f = F(form);
    let Some(lib) = Library::from_code(&lib) else {
        return error_page(&s, Some(&u), &StoreError::NotFound(format!("没有「{lib}」库")));
    };
    let back = record_path(lib, id);
    let r = async {
        let action =
            ReviewAction::from_code(f.s("action").trim()).ok_or_else(|| StoreError::invalid("审核操作", "请选择"))?;
        s.db.review(Some(&u), lib, id, action, &f.s("reason"), s.clock.now()).await
    }
    .await;
    match r {
        Ok(st) => with_ok(&back, &format!("审核完成：{}", st.label_zh())),
        Err(e) if refused(&s, &u, &e) => error_page(&s, Some(&u), &e),
        // The record page shows the refusal (a return without a reason, a step out of order).
        Err(e) => match lib {
            Library::Problem => problem_with(&s, &u, id, status_of(&e), &[], Some(e.to_string()), None).await,
            _ => error_page(&s, Some(&u), &e),
        },
    }
}

// --- dockings ----------------------------------------------------------------------------------

async fn dockings_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): Raw) -> Response {
    if let Err(e) = may_read_libraries(&u) {
        return error_page(&s, Some(&u), &e);
    }
    let qf = F(q.clone());
    let stage = match stage_param(qf.opt("stage").as_deref()) {
        Ok(x) => x,
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    match s.db.list_dockings(&u, stage).await {
        Ok(list) => {
            let stages: Vec<_> =
                Stage::ALL.iter().map(|x| context! { code => x.code(), label => x.label_zh() }).collect();
            page(
                &s,
                &u,
                StatusCode::OK,
                "docking_dockings.html",
                "dockings",
                context! { list => list, stages => stages, stage => stage.map(|x| x.code()), flash_ok => ok_msg(&q) },
            )
        }
        Err(e) => error_page(&s, Some(&u), &e),
    }
}

async fn docking_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let f = F(form);
    let back = f.opt("back").filter(|b| b.starts_with("/docking/")).unwrap_or_else(|| "/docking/dockings".into());
    let r = async {
        let n = NewDocking {
            title: f.s("title"),
            problem_id: f.id("problem_id", "技术难题")?,
            enterprise_id: f.id("enterprise_id", "企业")?,
            expert_id: f.id("expert_id", "专家")?,
            achievement_id: f.id("achievement_id", "成果")?,
            note: f.s("note"),
        };
        s.db.create_docking(&u, &n, s.clock.now()).await
    }
    .await;
    match r {
        Ok(id) => with_ok(&format!("/docking/dockings/{id}"), "对接已发起（推荐）"),
        Err(e) if refused(&s, &u, &e) => error_page(&s, Some(&u), &e),
        Err(e) => with_err(&back, &e),
    }
}

/// Back to the page the form was on, with the refusal shown there.
fn with_err(path: &str, e: &StoreError) -> Response {
    let q = serde_urlencoded::to_string([("err", e.to_string())]).unwrap_or_default();
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}{q}")).into_response()
}

async fn docking_with(
    s: &AppState,
    u: &SessionUser,
    id: i64,
    status: StatusCode,
    q: &[(String, String)],
    err: Option<String>,
    form: HashMap<String, String>,
) -> Response {
    if let Err(e) = may_read_libraries(u) {
        return error_page(s, Some(u), &e);
    }
    let d = match s.db.get_docking(u, id).await {
        Ok(d) => d,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let err = err.or_else(|| q.iter().find(|(k, _)| k == "err").map(|(_, v)| v.clone()));
    let party = s.db.party_of(u).await.unwrap_or_default();
    let may_share = d.docking.expert_id.is_some()
        && !d.docking.contact_shared
        && (u.role == Role::TechBureau
            || (u.role == Role::Institution
                && party.institution_id.is_some()
                && party.institution_id == d.docking.institution_id));
    let units = if u.role == Role::Supervisor { s.db.list_units().await.unwrap_or_default() } else { vec![] };
    let kinds: Vec<_> = ContractType::ALL.iter().map(|k| k.label_zh()).collect();
    let activity_ids: Vec<i64> = d.activities.iter().map(|a| a.id).collect();
    let contract_ids: Vec<i64> = d.contracts.iter().map(|c| c.id).collect();
    let activity_files = crate::attachments::files_by_record(s, "docking_activity", &activity_ids).await;
    let contract_files = crate::attachments::files_by_record(s, "contract", &contract_ids).await;
    page(
        s,
        u,
        status,
        "docking_docking.html",
        "dockings",
        context! { x => d, activity_files => activity_files, contract_files => contract_files, may_share => may_share, units => units, contract_kinds => kinds, activity_kinds => ACTIVITY_KINDS, today => s.clock.now().date().to_string(),
        flash_err => err, flash_ok => ok_msg(q), f => form },
    )
}

async fn docking_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    Query(q): Raw,
) -> Response {
    docking_with(&s, &u, id, StatusCode::OK, &q, None, HashMap::new()).await
}

async fn docking_done(s: &AppState, u: &SessionUser, id: i64, r: Result<String, StoreError>, f: &F) -> Response {
    match r {
        Ok(msg) => with_ok(&format!("/docking/dockings/{id}"), &msg),
        Err(e) if refused(s, u, &e) => error_page(s, Some(u), &e),
        Err(e) => docking_with(s, u, id, status_of(&e), &[], Some(e.to_string()), f.map()).await,
    }
}

async fn docking_move(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let f = F(form);
    let m = MoveDocking { to: f.s("to"), note: f.s("note"), reason: f.s("reason") };
    let r = s.db.move_docking(&u, id, &m, s.clock.now()).await.map(|st| format!("已进入「{}」", st.label_zh()));
    docking_done(&s, &u, id, r, &f).await
}

async fn docking_activity(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let f = F(form);
    let n = NewActivity {
        title: f.s("title"),
        kind: f.s("kind"),
        held_on: f.s("held_on"),
        place: f.s("place"),
        attendees: f.s("attendees"),
        summary: f.s("summary"),
    };
    let r = s.db.add_activity(&u, Some(id), &n, s.clock.now()).await.map(|_| "已登记对接活动".to_string());
    docking_done(&s, &u, id, r, &f).await
}

async fn docking_contract(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let f = F(form);
    let r = async {
        let n = new_contract(&f)?;
        s.db.register_contract(&u, Some(id), &n, s.clock.now()).await
    }
    .await
    .map(|_| "技术合同已登记".to_string());
    docking_done(&s, &u, id, r, &f).await
}

fn new_contract(f: &F) -> Result<NewContract, StoreError> {
    Ok(NewContract {
        contract_no: f.s("contract_no"),
        kind: f.s("kind"),
        buyer: f.s("buyer"),
        seller: f.s("seller"),
        amount_wan: f
            .num("amount_wan", "合同金额（万元）")?
            .ok_or_else(|| StoreError::invalid("合同金额（万元）", "不能为空"))?,
        technical_income_wan: f
            .num("technical_income_wan", "技术性收入（万元）")?
            .ok_or_else(|| StoreError::invalid("技术性收入（万元）", "不能为空"))?,
        signed_on: f.s("signed_on"),
    })
}

async fn docking_share(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let f = F(form);
    let r =
        s.db.share_contact(&u, id, s.clock.now())
            .await
            .map(|_| "已记录专家同意，对接企业现可查看其联系方式".to_string());
    docking_done(&s, &u, id, r, &f).await
}

async fn docking_task(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let f = F(form);
    let snap = s.snapshot();
    let r = async {
        let n = NewTask {
            title: f.s("title"),
            source_kind: "instruction".into(),
            doc_no: f.s("doc_no"),
            source_title: "产学研对接督办".into(),
            source_date: snap.now.date().to_string(),
            lead_unit_id: f.id("lead_unit_id", "牵头单位")?.ok_or_else(|| StoreError::invalid("牵头单位", "请选择"))?,
            report_cycle: "weekly".into(),
            deadline: f.s("deadline"),
            ..Default::default()
        };
        s.db.raise_docking_task(&u, &snap.ctx(), id, &n).await
    }
    .await
    .map(|t| format!("已立项督办（任务 {t}），已交办牵头单位"));
    docking_done(&s, &u, id, r, &f).await
}

// --- contracts ---------------------------------------------------------------------------------

async fn contracts_with(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    q: &[(String, String)],
    err: Option<String>,
    form: HashMap<String, String>,
) -> Response {
    if let Err(e) = may_read_stats(u) {
        return error_page(s, Some(u), &e);
    }
    let qf = F(q.to_vec());
    let year = qf.opt("year").and_then(|y| y.parse::<i32>().ok());
    let kind = match contract_kind(qf.opt("kind").as_deref()) {
        Ok(k) => k,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let list = match s.db.list_contracts(year, kind).await {
        Ok(l) => l,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let total: f64 = list.iter().map(|c| c.amount_wan).sum();
    let kinds: Vec<_> =
        ContractType::ALL.iter().map(|k| context! { code => k.code(), label => k.label_zh() }).collect();
    let ids: Vec<i64> = list.iter().map(|c| c.id).collect();
    let contract_files = crate::attachments::files_by_record(s, "contract", &ids).await;
    page(
        s,
        u,
        status,
        "docking_contracts.html",
        "contracts",
        context! { list => list, contract_files => contract_files, total => (total * 100.0).round() / 100.0, year => year, kind => kind.map(|k| k.code()), kinds => kinds, today => s.clock.now().date().to_string(),
        flash_err => err, flash_ok => ok_msg(q), f => form },
    )
}

async fn contracts_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): Raw) -> Response {
    contracts_with(&s, &u, StatusCode::OK, &q, None, HashMap::new()).await
}

async fn contract_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let f = F(form);
    let r = async { s.db.register_contract(&u, None, &new_contract(&f)?, s.clock.now()).await }.await;
    match r {
        Ok(_) => with_ok("/docking/contracts", "技术合同已登记"),
        Err(e) if refused(&s, &u, &e) => error_page(&s, Some(&u), &e),
        Err(e) => contracts_with(&s, &u, status_of(&e), &[], Some(e.to_string()), f.map()).await,
    }
}
