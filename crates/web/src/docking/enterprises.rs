//! 企业库: the enterprises the 科技局 registers (统一社会信用代码 checked per GB 32100), their
//! qualifications, and who may read them (API and page).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_storage::enterprises::{Enterprise, NewEnterprise, QUALIFICATIONS};

use crate::AppState;
use crate::api::{Created, J, Q};
use crate::auth::{ApiUser, PageUser};
use crate::docking::hub::may_read_libraries;
use crate::error::{ApiError, ErrorBody};
use crate::pages::{error_page, render};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(enterprises, create_enterprise))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new().route("/enterprises", axum::routing::get(enterprises_page))
}

#[derive(Deserialize, IntoParams)]
pub struct EnterpriseQuery {
    /// 只列出持有该资质（在有效期内）的企业，如 国家高新技术企业
    pub qualification: Option<String>,
}

impl EnterpriseQuery {
    fn qualification(&self) -> Option<&str> {
        self.qualification.as_deref().filter(|x| !x.is_empty())
    }
}

/// 企业库（可按资质筛选）。
#[utoipa::path(get, path = "/api/enterprises", params(EnterpriseQuery), tag = "产学研对接",
    responses((status = 200, body = Vec<Enterprise>), (status = 403, body = ErrorBody)))]
pub(crate) async fn enterprises(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(q): Q<EnterpriseQuery>,
) -> Result<Json<Vec<Enterprise>>, ApiError> {
    may_read_libraries(&u)?;
    Ok(Json(s.db.enterprises_for(&u, q.qualification(), s.clock.now().date()).await?))
}

/// 登记企业（科技局）。统一社会信用代码按 GB 32100 校验。
#[utoipa::path(post, path = "/api/enterprises", request_body = NewEnterprise, tag = "产学研对接",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_enterprise(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(n): J<NewEnterprise>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    xietong_storage::libraries::must_be_bureau(&u, "企业登记")?;
    let id = s.db.add_enterprise(&u.username, &n, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// The 企业库 page, filtered by qualification like the API.
async fn enterprises_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Query(q): Query<EnterpriseQuery>,
) -> Response {
    if let Err(e) = may_read_libraries(&u) {
        return error_page(&s, Some(&u), &e);
    }
    let qual = q.qualification().map(str::to_string);
    match s.db.enterprises_for(&u, qual.as_deref(), s.clock.now().date()).await {
        Ok(list) => render(
            &s,
            StatusCode::OK,
            "enterprises.html",
            Some(&u),
            context! { nav => "enterprises", sub => "enterprises", d => crate::docking::hub::role_ctx(&u), list => list,
            qual => qual, quals => QUALIFICATIONS },
        ),
        Err(e) => error_page(&s, Some(&u), &e),
    }
}
