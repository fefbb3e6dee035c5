//! 专家库 and experts' matches (API and pages).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use minijinja::context;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_docking::review::ReviewStatus;
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::libraries::{Expert, Library, NewExpert};
use xietong_storage::matching::Matches;

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
        .routes(routes!(experts, submit_expert))
        .routes(routes!(resubmit_expert))
        .routes(routes!(expert_matches))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/docking/experts", get(experts_page).post(expert_submit))
        .route("/docking/experts/{id}", get(expert_page))
}

/// 专家库（联系方式仅科技局、本机构及经专家同意的对接企业可见）。
#[utoipa::path(get, path = "/api/experts", params(StatusQuery), tag = "产学研对接", responses((status = 200, body = Vec<Expert>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(crate) async fn experts(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(q): Q<StatusQuery>,
) -> Result<Json<Vec<Expert>>, ApiError> {
    may_read_libraries(&u)?;
    Ok(Json(s.db.list_experts_for(&u, review_status(&q)?).await?))
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
    Ok(Json(s.match_expert(&u, id, q.top.unwrap_or(10)).await?))
}

// --- 专家库 --------------------------------------------------------------------------------------
async fn experts_with(
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
        context! { list => list, campaigns => campaigns, institutions => institutions, flash_err => err,
        flash_ok => ok_msg(q), f => form.value() },
    )
}

async fn experts_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): RawQuery) -> Response {
    experts_with(&s, &u, StatusCode::OK, &q, None, FormView::fresh(F::default())).await
}

async fn expert_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: F) -> Response {
    let r = async {
        let mut ids = vec![];
        let mut unread = Unread::default();
        for x in f.s("achievement_ids").split([',', '，', ';', '；', ' ']).map(str::trim).filter(|x| !x.is_empty()) {
            let found = s.db.achievements_by_external_id(&[x.to_string()]).await?;
            match found.first() {
                Some(a) => ids.push(a.id),
                None => unread
                    .0
                    .push(xietong_supervision::FieldError::new("关联成果", format!("成果库中没有编号为「{x}」的成果"))),
            }
        }
        let n = NewExpert {
            name: f.s("name"),
            institution_id: unread.id(&f, "institution_id", "所在机构"),
            title: f.s("title"),
            disciplines: f.s("disciplines"),
            fields: f.s("fields"),
            keywords: f.s("keywords"),
            phone: f.s("phone"),
            email: f.s("email"),
            id_number: f.s("id_number"),
            share_on_consent: f.on("share_on_consent"),
            achievement_ids: ids,
            campaign_id: unread.id(&f, "campaign_id", "征集活动"),
            unread: vec![],
        };
        let n = NewExpert { unread: unread.0, ..n };
        s.db.submit_expert(&u, None, &n, s.clock.now()).await
    }
    .await;
    match r {
        Ok(id) => with_ok(&format!("/docking/experts/{id}"), "已提交，等待科技局形式审核"),
        Err(e) if refused(&s, &u, &e) => error_page(&s, Some(&u), &e),
        Err(e) => experts_with(&s, &u, status_of(&e), &[], FormView::flash(&e), FormView::refused(f, &e)).await,
    }
}

async fn expert_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    Query(q): RawQuery,
) -> Response {
    expert_with(&s, &u, id, (StatusCode::OK, None), &q, FormView::fresh(F::default())).await
}

/// An expert's page; `review` is the review form (sent back refused, or fresh).
pub(crate) async fn expert_with(
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
    let x = match s.db.list_experts_for(u, None).await.map(|l| l.into_iter().find(|x| x.id == id)) {
        Ok(Some(x)) => x,
        Ok(None) => {
            return error_page(
                s,
                Some(u),
                &StoreError::NotFound(format!("专家库中没有编号 {id} 的专家，或您无权查看")),
            );
        }
        Err(e) => return error_page(s, Some(u), &e),
    };
    let history = s.db.review_history(u, Library::Expert, id).await.unwrap_or_default();
    let matches = if x.review.status == ReviewStatus::Published { s.match_expert(u, id, 10).await.ok() } else { None };
    page(
        s,
        u,
        status,
        "docking_expert.html",
        "experts",
        context! { x => x, history => history, matches => matches, lib => "expert", flash_ok => ok_msg(q),
        flash_err => err, fv => review.value() },
    )
}
