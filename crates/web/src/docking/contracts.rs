//! 技术合同 and 成果转化 (API and page).

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
use xietong_docking::contract::ContractType;
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::dockings::{Contract, NewContract};

use crate::AppState;
use crate::api::{Created, J, Q};
use crate::auth::{ApiUser, PageUser};
use crate::docking::hub::{CreatedResp, created, may_read_stats, ok_msg, page, refused, with_ok};
use crate::error::{ApiError, ErrorBody, status_of};
use crate::forms::RawQuery;
use crate::forms::{Fields as F, FormView, Unread};
use crate::pages::error_page;

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(contracts, create_contract))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new().route("/docking/contracts", get(contracts_page).post(contract_submit))
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
pub(crate) async fn contracts(
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

pub(crate) fn new_contract(f: &F) -> Result<NewContract, StoreError> {
    let mut unread = Unread::default();
    let amount_wan = unread.required_num(f, "amount_wan", "合同金额（万元）");
    let technical_income_wan = unread.required_num(f, "technical_income_wan", "技术性收入（万元）");
    Ok(NewContract {
        contract_no: f.s("contract_no"),
        kind: f.s("kind"),
        buyer: f.s("buyer"),
        seller: f.s("seller"),
        amount_wan,
        technical_income_wan,
        signed_on: f.s("signed_on"),
        unread: unread.0,
    })
}

// --- contracts ---------------------------------------------------------------------------------
async fn contracts_with(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    q: &[(String, String)],
    err: Option<String>,
    form: FormView,
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
        flash_err => err, flash_ok => ok_msg(q), f => form.value() },
    )
}

async fn contracts_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): RawQuery) -> Response {
    contracts_with(&s, &u, StatusCode::OK, &q, None, FormView::fresh(F::default())).await
}

async fn contract_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: F) -> Response {
    let r = async { s.db.register_contract(&u, None, &new_contract(&f)?, s.clock.now()).await }.await;
    match r {
        Ok(_) => with_ok("/docking/contracts", "技术合同已登记"),
        Err(e) if refused(&s, &u, &e) => error_page(&s, Some(&u), &e),
        Err(e) => contracts_with(&s, &u, status_of(&e), &[], FormView::flash(&e), FormView::refused(f, &e)).await,
    }
}
