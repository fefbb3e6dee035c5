//! 对接: the pipeline from a match to a contract — stages, activities, contact sharing, tasks (API and pages).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_docking::contract::ContractType;
use xietong_docking::pipeline::Stage;
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::dockings::{ACTIVITY_KINDS, DockingDetail, MoveDocking, NewActivity, NewContract, NewDocking};
use xietong_storage::tasks::NewTask;
use xietong_supervision::Role;

use crate::AppState;
use crate::api::{Created, J, Q};
use crate::auth::{ApiUser, PageUser};
use crate::docking::contracts::new_contract;
use crate::docking::hub::{CreatedResp, created, may_read_libraries, ok_msg, page, refused, with_ok};
use crate::error::{ApiError, ErrorBody, status_of};
use crate::forms::RawQuery;
use crate::forms::{Fields as F, FormView, Unread};
use crate::pages::error_page;

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(dockings, create_docking))
        .routes(routes!(docking))
        .routes(routes!(move_docking))
        .routes(routes!(docking_activity))
        .routes(routes!(docking_contract))
        .routes(routes!(share_contact))
        .routes(routes!(docking_task))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/docking/dockings", get(dockings_page).post(docking_submit))
        .route("/docking/dockings/{id}", get(docking_page))
        .route("/docking/dockings/{id}/move", post(docking_move))
        .route("/docking/dockings/{id}/activities", post(activity_submit))
        .route("/docking/dockings/{id}/contracts", post(docking_contract_submit))
        .route("/docking/dockings/{id}/share-contact", post(docking_share))
        .route("/docking/dockings/{id}/tasks", post(docking_task_submit))
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
pub(crate) async fn dockings(
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
pub(crate) async fn docking(
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
    created(s.db.raise_docking_task(&u, &snap.ctx(), id, (&n, vec![])).await?)
}

// --- dockings ----------------------------------------------------------------------------------
async fn dockings_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): RawQuery) -> Response {
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

async fn docking_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: F) -> Response {
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
    sent: Option<(DockingForm, FormView)>,
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
    // Each form of the page shows its own values and errors: only the one sent comes back filled.
    let mut forms = vec![FormView::fresh(F::default()); 4];
    if let Some((which, view)) = sent {
        forms[which as usize] = view;
    }
    page(
        s,
        u,
        status,
        "docking_docking.html",
        "dockings",
        context! { x => d, activity_files => activity_files, contract_files => contract_files, may_share => may_share, units => units, contract_kinds => kinds, activity_kinds => ACTIVITY_KINDS, today => s.clock.now().date().to_string(),
        flash_err => err, flash_ok => ok_msg(q), fm => forms[0].clone().value(), fc => forms[1].clone().value(),
        fa => forms[2].clone().value(), ft => forms[3].clone().value() },
    )
}

async fn docking_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    Query(q): RawQuery,
) -> Response {
    docking_with(&s, &u, id, StatusCode::OK, &q, None, None).await
}

/// The forms of the 对接 page, in the order `docking_with` lays them out.
#[derive(Clone, Copy)]
enum DockingForm {
    Move = 0,
    Contract = 1,
    Activity = 2,
    Task = 3,
}

async fn docking_done(
    s: &AppState,
    u: &SessionUser,
    id: i64,
    r: Result<String, StoreError>,
    (which, f): (DockingForm, &F),
) -> Response {
    match r {
        Ok(msg) => with_ok(&format!("/docking/dockings/{id}"), &msg),
        Err(e) if refused(s, u, &e) => error_page(s, Some(u), &e),
        Err(e) => {
            let sent = Some((which, FormView::refused(f.clone(), &e)));
            docking_with(s, u, id, status_of(&e), &[], FormView::flash(&e), sent).await
        }
    }
}

async fn docking_move(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>, f: F) -> Response {
    let m = MoveDocking { to: f.s("to"), note: f.s("note"), reason: f.s("reason") };
    let r = s.db.move_docking(&u, id, &m, s.clock.now()).await.map(|st| format!("已进入「{}」", st.label_zh()));
    docking_done(&s, &u, id, r, (DockingForm::Move, &f)).await
}

async fn activity_submit(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>, f: F) -> Response {
    let n = NewActivity {
        title: f.s("title"),
        kind: f.s("kind"),
        held_on: f.s("held_on"),
        place: f.s("place"),
        attendees: f.s("attendees"),
        summary: f.s("summary"),
    };
    let r = s.db.add_activity(&u, Some(id), &n, s.clock.now()).await.map(|_| "已登记对接活动".to_string());
    docking_done(&s, &u, id, r, (DockingForm::Activity, &f)).await
}

async fn docking_contract_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    f: F,
) -> Response {
    let r = async {
        let n = new_contract(&f)?;
        s.db.register_contract(&u, Some(id), &n, s.clock.now()).await
    }
    .await
    .map(|_| "技术合同已登记".to_string());
    docking_done(&s, &u, id, r, (DockingForm::Contract, &f)).await
}

async fn docking_share(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>, f: F) -> Response {
    let r =
        s.db.share_contact(&u, id, s.clock.now())
            .await
            .map(|_| "已记录专家同意，对接企业现可查看其联系方式".to_string());
    docking_done(&s, &u, id, r, (DockingForm::Move, &f)).await
}

async fn docking_task_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    f: F,
) -> Response {
    let snap = s.snapshot();
    let mut unread = Unread::default();
    let lead = unread.required_id(&f, "lead_unit_id", "牵头单位");
    let n = NewTask {
        title: f.s("title"),
        source_kind: "instruction".into(),
        doc_no: f.s("doc_no"),
        source_title: "产学研对接督办".into(),
        source_date: snap.now.date().to_string(),
        // Unread (its error is in `unread`), so never looked up.
        lead_unit_id: lead.unwrap_or(0),
        report_cycle: "weekly".into(),
        deadline: f.s("deadline"),
        ..Default::default()
    };
    let r = s.db.raise_docking_task(&u, &snap.ctx(), id, (&n, unread.0)).await;
    let r = r.map(|t| format!("已立项督办（任务 {t}），已交办牵头单位"));
    docking_done(&s, &u, id, r, (DockingForm::Task, &f)).await
}
