//! 组织机构: units, people by post, and accounts (API and page).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::org::{Person, Unit, UserRow};
use xietong_supervision::Role;

use crate::AppState;
use crate::api::{Created, J, Q};
use crate::auth::{ApiUser, PageUser};
use crate::error::{ApiError, ErrorBody, status_of};
use crate::forms::{Fields, FormView};
use crate::pages::{error_page, render};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(units, create_unit))
        .routes(routes!(people, create_person))
        .routes(routes!(list_users, create_user))
        .routes(routes!(reset_password))
        .routes(routes!(set_user_active))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/org", get(org_page))
        .route("/org/units", post(org_add_unit))
        .route("/org/people", post(org_add_person))
        .route("/org/users", post(org_add_user))
        .route("/org/users/{id}/password", post(org_reset_password))
        .route("/org/users/{id}/active", post(org_set_active))
}

#[derive(Deserialize)]
struct FlashQuery {
    ok: Option<String>,
    err: Option<String>,
}

/// 单位（树形，含一把手）。
#[utoipa::path(get, path = "/api/units", tag = "组织", responses((status = 200, body = Vec<Unit>), (status = 401, body = ErrorBody)))]
pub(crate) async fn units(State(s): State<AppState>, ApiUser(_u, _t): ApiUser) -> Result<Json<Vec<Unit>>, ApiError> {
    Ok(Json(s.db.list_units().await?))
}

#[derive(Deserialize, IntoParams)]
pub struct PeopleQuery {
    /// 只列出该单位的人员
    pub unit_id: Option<i64>,
}

/// 人员（按职务，示例数据为占位姓名）。
#[utoipa::path(get, path = "/api/people", params(PeopleQuery), tag = "组织", responses((status = 200, body = Vec<Person>), (status = 401, body = ErrorBody)))]
pub(crate) async fn people(
    State(s): State<AppState>,
    ApiUser(_u, _t): ApiUser,
    Q(q): Q<PeopleQuery>,
) -> Result<Json<Vec<Person>>, ApiError> {
    Ok(Json(s.db.list_people(q.unit_id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct NewUnit {
    pub code: String,
    pub name: String,
    /// 区委部门 / 区政府部门 / 镇街 / 管委会 / 外部单位 / 内设科室
    pub kind: String,
    pub parent_id: Option<i64>,
}

/// 新增单位。仅系统管理员。
#[utoipa::path(post, path = "/api/units", request_body = NewUnit, tag = "组织",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_unit(
    State(s): State<AppState>,
    ApiUser(u, _t): ApiUser,
    J(b): J<NewUnit>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = s.db.add_unit(&u, &b.code, &b.name, &b.kind, b.parent_id, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Deserialize, ToSchema)]
pub struct NewPerson {
    pub name: String,
    /// 职务，如 局长、联络员
    pub post: String,
    pub unit_id: i64,
    /// 设为该单位一把手
    #[serde(default)]
    pub head_of_unit: bool,
}

/// 新增人员。仅系统管理员。
#[utoipa::path(post, path = "/api/people", request_body = NewPerson, tag = "组织",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_person(
    State(s): State<AppState>,
    ApiUser(u, _t): ApiUser,
    J(b): J<NewPerson>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = s.db.add_person(&u, &b.name, &b.post, b.unit_id, b.head_of_unit, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// 账号列表。仅系统管理员。
#[utoipa::path(get, path = "/api/users", tag = "组织", responses((status = 200, body = Vec<UserRow>), (status = 403, body = ErrorBody)))]
async fn list_users(State(s): State<AppState>, ApiUser(u, _t): ApiUser) -> Result<Json<Vec<UserRow>>, ApiError> {
    if u.actor().may_administer().is_err() {
        u.actor().may_secure()?;
    }
    Ok(Json(s.db.list_users().await?))
}

#[derive(Deserialize, ToSchema)]
pub struct NewUser {
    pub username: String,
    /// 至少 8 位，含大写、小写、数字、符号中的三类
    pub password: String,
    pub person_id: i64,
    /// admin / supervisor / leader / liaison / responsible
    pub role: String,
}

/// 新增账号。仅系统管理员。
#[utoipa::path(post, path = "/api/users", request_body = NewUser, tag = "组织",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_user(
    State(s): State<AppState>,
    ApiUser(u, _t): ApiUser,
    J(b): J<NewUser>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let role = xietong_supervision::Role::from_code(&b.role).ok_or_else(|| {
        StoreError::invalid("角色", format!("应为 {}", xietong_supervision::Role::ALL.map(|r| r.code()).join("、")))
    })?;
    let id = s.db.add_user(&u, &b.username, &b.password, b.person_id, role, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordBody {
    pub password: String,
}

/// 重置密码（该账号的所有会话随即失效）。仅系统管理员。
#[utoipa::path(post, path = "/api/users/{id}/password", request_body = PasswordBody, params(("id" = i64, Path, description = "账号编号")), tag = "组织",
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn reset_password(
    State(s): State<AppState>,
    ApiUser(u, _t): ApiUser,
    Path(id): Path<i64>,
    J(b): J<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    s.db.reset_password(&u, id, &b.password, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct ActiveBody {
    pub active: bool,
}

/// 启用或停用账号（停用即刻结束其会话）。仅系统管理员。
#[utoipa::path(post, path = "/api/users/{id}/active", request_body = ActiveBody, params(("id" = i64, Path, description = "账号编号")), tag = "组织",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn set_user_active(
    State(s): State<AppState>,
    ApiUser(u, _t): ApiUser,
    Path(id): Path<i64>,
    J(b): J<ActiveBody>,
) -> Result<StatusCode, ApiError> {
    s.db.set_user_active(&u, id, b.active, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn org_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    axum::extract::Query(q): axum::extract::Query<FlashQuery>,
) -> Response {
    org_page_with(&s, &u, StatusCode::OK, (q.ok, q.err), None).await
}

/// Which of the page's forms was refused, with what was sent.
enum OrgForm {
    Unit,
    Person,
    Account,
}

async fn org_page_with(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    (flash_ok, flash_err): (Option<String>, Option<String>),
    refused: Option<(OrgForm, FormView)>,
) -> Response {
    if !Role::LEADERSHIP.contains(&u.role) {
        return error_page(
            s,
            Some(u),
            &StoreError::Denied("无权限：组织机构页面仅限系统管理员、督查局和区领导".into()),
        );
    }
    let units = s.db.list_units().await.unwrap_or_default();
    let people = s.db.list_people(None).await.unwrap_or_default();
    let users = if u.role == Role::Admin { s.db.list_users().await.unwrap_or_default() } else { vec![] };
    let areas = s.db.list_leader_areas().await.unwrap_or_default();
    let roles: Vec<_> = Role::ALL.iter().map(|r| context! { code => r.code(), label => r.label_zh() }).collect();
    let fresh = || FormView::fresh(Fields::default());
    let (mut fu, mut fp, mut fa) = (fresh(), fresh(), fresh());
    match refused {
        Some((OrgForm::Unit, f)) => fu = f,
        Some((OrgForm::Person, f)) => fp = f,
        Some((OrgForm::Account, f)) => fa = f,
        None => {}
    }
    render(
        s,
        status,
        "org.html",
        Some(u),
        context! { nav => "org", units => units, people => people, users => users, areas => areas, roles_all => roles,
        unit_kinds => xietong_storage::org::UNIT_KINDS, can_edit => u.role == Role::Admin, flash_ok => flash_ok,
        flash_err => flash_err,
        fu => fu.value(), fp => fp.value(), fa => fa.value() },
    )
}

fn back_to_org(r: Result<(), StoreError>, ok: &str) -> Response {
    match r {
        Ok(()) => Redirect::to(&crate::pages::with_query("/org", &[("ok", ok)])).into_response(),
        Err(e) => Redirect::to(&crate::pages::with_query("/org", &[("err", &e.to_string())])).into_response(),
    }
}

/// A new unit, person or account: done, or the page again with the form as sent and every error
/// beside its field.
async fn added(
    s: &AppState,
    u: &SessionUser,
    r: Result<(), StoreError>,
    ok: &str,
    which: OrgForm,
    f: Fields,
) -> Response {
    match r {
        Ok(()) => back_to_org(Ok(()), ok),
        Err(e @ StoreError::Denied(_)) => error_page(s, Some(u), &e),
        Err(e) => {
            let view = FormView::refused(f, &e);
            org_page_with(s, u, status_of(&e), (None, FormView::flash(&e)), Some((which, view))).await
        }
    }
}

async fn org_add_unit(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    let r = async {
        let parent = f.id("parent_id", "上级单位")?;
        s.db.add_unit(&u, &f.trimmed("code"), &f.trimmed("name"), &f.trimmed("kind"), parent, s.clock.now())
            .await
            .map(|_| ())
    }
    .await;
    added(&s, &u, r, "单位已添加", OrgForm::Unit, f).await
}

async fn org_add_person(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    let r = async {
        let unit = f.id("unit_id", "所属单位")?.ok_or_else(|| StoreError::invalid("所属单位", "不能为空"))?;
        s.db.add_person(
            &u,
            &f.trimmed("name"),
            &f.trimmed("post"),
            unit,
            f.trimmed("head_of_unit") == "1",
            s.clock.now(),
        )
        .await
        .map(|_| ())
    }
    .await;
    added(&s, &u, r, "人员已添加", OrgForm::Person, f).await
}

async fn org_add_user(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    let r = async {
        let person = f.id("person_id", "人员")?.ok_or_else(|| StoreError::invalid("人员", "不能为空"))?;
        let role = Role::from_code(&f.trimmed("role")).ok_or_else(|| StoreError::invalid("角色", "选择无效"))?;
        s.db.add_user(&u, &f.trimmed("username"), &f.trimmed("password"), person, role, s.clock.now()).await.map(|_| ())
    }
    .await;
    // The password is never sent back to the page.
    let kept = Fields(f.0.into_iter().filter(|(k, _)| k != "password").collect());
    added(&s, &u, r, "账号已创建", OrgForm::Account, kept).await
}

async fn org_reset_password(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    f: Fields,
) -> Response {
    let r = s.db.reset_password(&u, id, &f.trimmed("password"), s.clock.now()).await;
    if let Err(e @ StoreError::Denied(_)) = &r {
        return error_page(&s, Some(&u), e);
    }
    back_to_org(r, "密码已重置")
}

async fn org_set_active(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    f: Fields,
) -> Response {
    let r = s.db.set_user_active(&u, id, f.trimmed("active") == "1", s.clock.now()).await;
    if let Err(e @ StoreError::Denied(_)) = &r {
        return error_page(&s, Some(&u), e);
    }
    back_to_org(r, "账号状态已更新")
}
