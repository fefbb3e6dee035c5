//! 高校院所 (API and page).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use minijinja::context;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_storage::auth::SessionUser;
use xietong_storage::libraries::{INSTITUTION_KINDS, Institution, NewInstitution};

use crate::AppState;
use crate::api::{Created, J};
use crate::auth::{ApiUser, PageUser};
use crate::docking::hub::{CreatedResp, created, may_read_libraries, ok_msg, page, refused, with_ok};
use crate::error::{ApiError, ErrorBody, status_of};
use crate::forms::RawQuery;
use crate::forms::{Fields as F, FormView};
use crate::pages::error_page;

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(institutions, create_institution))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new().route("/docking/institutions", get(institutions_page).post(institution_submit))
}

/// 高校院所名录。
#[utoipa::path(get, path = "/api/institutions", tag = "产学研对接", responses((status = 200, body = Vec<Institution>), (status = 403, body = ErrorBody)))]
pub(crate) async fn institutions(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
) -> Result<Json<Vec<Institution>>, ApiError> {
    may_read_libraries(&u)?;
    Ok(Json(s.db.list_institutions().await?))
}

/// 登记高校院所（科技局）。
#[utoipa::path(post, path = "/api/institutions", request_body = NewInstitution, tag = "产学研对接",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_institution(State(s): State<AppState>, ApiUser(u, _): ApiUser, J(n): J<NewInstitution>) -> CreatedResp {
    created(s.db.create_institution(&u, &n, s.clock.now()).await?)
}

// --- 高校院所, 征集, 平台载体 ----------------------------------------------------------------------
async fn institutions_with(
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
    let list = s.db.list_institutions().await.unwrap_or_default();
    page(
        s,
        u,
        status,
        "docking_institutions.html",
        "institutions",
        context! { list => list, kinds => INSTITUTION_KINDS, flash_err => err, flash_ok => ok_msg(q),
        f => form.value() },
    )
}

async fn institutions_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): RawQuery) -> Response {
    institutions_with(&s, &u, StatusCode::OK, &q, None, FormView::fresh(F::default())).await
}

async fn institution_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: F) -> Response {
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
        Err(e) => institutions_with(&s, &u, status_of(&e), &[], FormView::flash(&e), FormView::refused(f, &e)).await,
    }
}
