//! 征集活动 (API and page).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use minijinja::context;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_storage::auth::SessionUser;
use xietong_storage::libraries::{Campaign, Library, NewCampaign};

use crate::AppState;
use crate::api::{Created, J};
use crate::auth::{ApiUser, PageUser};
use crate::docking::hub::{CreatedResp, created, may_read_libraries, ok_msg, page, refused, with_ok};
use crate::error::{ApiError, ErrorBody, status_of};
use crate::forms::RawQuery;
use crate::forms::{Fields as F, FormView, Unread};
use crate::pages::error_page;

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(campaigns, create_campaign))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new().route("/docking/campaigns", get(campaigns_page).post(campaign_submit))
}

/// 征集活动。
#[utoipa::path(get, path = "/api/campaigns", tag = "产学研对接", responses((status = 200, body = Vec<Campaign>), (status = 403, body = ErrorBody)))]
pub(crate) async fn campaigns(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
) -> Result<Json<Vec<Campaign>>, ApiError> {
    may_read_libraries(&u)?;
    Ok(Json(s.db.list_campaigns(s.clock.now().date()).await?))
}

/// 发起征集（科技局）：对象、征集期、发布后有效期。
#[utoipa::path(post, path = "/api/campaigns", request_body = NewCampaign, tag = "产学研对接",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_campaign(State(s): State<AppState>, ApiUser(u, _): ApiUser, J(n): J<NewCampaign>) -> CreatedResp {
    created(s.db.create_campaign(&u, &n, s.clock.now()).await?)
}

async fn campaigns_with(
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
    let list = s.db.list_campaigns(today).await.unwrap_or_default();
    let targets: Vec<_> = Library::ALL.iter().map(|l| context! { code => l.code(), label => l.label_zh() }).collect();
    page(
        s,
        u,
        status,
        "docking_campaigns.html",
        "campaigns",
        context! { list => list, targets => targets, today => today.to_string(), flash_err => err,
        flash_ok => ok_msg(q), f => form.value() },
    )
}

async fn campaigns_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): RawQuery) -> Response {
    campaigns_with(&s, &u, StatusCode::OK, &q, None, FormView::fresh(F::default())).await
}

async fn campaign_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: F) -> Response {
    let r = async {
        let mut unread = Unread::default();
        let validity = unread.int(&f, "validity_days", "有效期（天）");
        let n = NewCampaign {
            title: f.s("title"),
            target: f.s("target"),
            starts_on: f.s("starts_on"),
            ends_on: f.s("ends_on"),
            validity_days: validity,
            description: f.s("description"),
            unread: unread.0,
        };
        s.db.create_campaign(&u, &n, s.clock.now()).await
    }
    .await;
    match r {
        Ok(_) => with_ok("/docking/campaigns", "征集已发起"),
        Err(e) if refused(&s, &u, &e) => error_page(&s, Some(&u), &e),
        Err(e) => campaigns_with(&s, &u, status_of(&e), &[], FormView::flash(&e), FormView::refused(f, &e)).await,
    }
}
