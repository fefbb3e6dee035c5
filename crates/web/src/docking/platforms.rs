//! 创新平台与载体 (API and page).

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
use xietong_storage::auth::SessionUser;
use xietong_storage::libraries::{
    BASE_KINDS, CARRIER_KINDS, NewPlatform, PLATFORM_LEVELS, Platform, RD_PLATFORM_KINDS,
};

use crate::AppState;
use crate::api::{Created, J, Q};
use crate::auth::{ApiUser, PageUser};
use crate::docking::hub::{CreatedResp, created, may_read_libraries, ok_msg, page, refused, with_ok};
use crate::error::{ApiError, ErrorBody, status_of};
use crate::forms::RawQuery;
use crate::forms::{Fields as F, FormView, Unread};
use crate::pages::error_page;

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(platforms, create_platform))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new().route("/docking/platforms", get(platforms_page).post(platform_submit))
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
pub(crate) async fn platforms(
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

async fn platforms_with(
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
        context! { list => list, group => group, level => level, kinds => kinds, levels => PLATFORM_LEVELS,
        flash_err => err, flash_ok => ok_msg(q), f => form.value() },
    )
}

async fn platforms_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): RawQuery) -> Response {
    platforms_with(&s, &u, StatusCode::OK, &q, None, FormView::fresh(F::default())).await
}

async fn platform_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: F) -> Response {
    let r = async {
        let mut unread = Unread::default();
        let year = unread.int(&f, "approved_year", "认定年份");
        s.db.create_platform(
            &u,
            &NewPlatform {
                name: f.s("name"),
                kind: f.s("kind"),
                level: f.s("level"),
                host: f.s("host"),
                approved_year: year,
                unread: unread.0,
            },
            s.clock.now(),
        )
        .await
    }
    .await;
    match r {
        Ok(_) => with_ok("/docking/platforms", "已登记"),
        Err(e) if refused(&s, &u, &e) => error_page(&s, Some(&u), &e),
        Err(e) => platforms_with(&s, &u, status_of(&e), &[], FormView::flash(&e), FormView::refused(f, &e)).await,
    }
}
