//! Signing in and out, one's own password and sessions, and the 在线用户 list (API and pages).

use axum::Json;
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_security::AccountLockPolicy;
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_supervision::DataScope;

use crate::AppState;
use crate::api::J;
use crate::auth::{ApiUser, ClientAddr, PageUser, session_cookie};
use crate::error::{ApiError, ErrorBody, status_of};
use crate::forms::RawQuery;
use crate::forms::{Fields, FormView};
use crate::pages::{error_page, render};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login, logout))
        .routes(routes!(change_password))
        .routes(routes!(logout_everywhere))
        .routes(routes!(online))
        .routes(routes!(force_logout))
        .routes(routes!(me))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout_submit))
        .route("/password", get(password_page).post(password_submit))
        .route("/sessions/logout-all", post(logout_all))
        .route("/online", get(online_page))
        .route("/online/{user_id}/logout", post(force_logout_submit))
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub csrf_token: String,
    pub user: SessionUser,
}

/// 登录，返回会话令牌。同一账号在同一地址连续密码错误达到设定次数（默认 5 次）即锁定该账号在该地址的
/// 登录（默认 15 分钟），其他地址不受影响；同一账号 60 分钟内各地址合计错误 50 次才对所有地址锁定，并通知
/// 本人和安全管理员。不存在的用户名得到同样的答复。同一地址每分钟的登录尝试有上限（默认 30 次）。
/// 初始密码须先修改（`user.must_change_password`）。
#[utoipa::path(post, path = "/api/session", request_body = LoginRequest, tag = "会话",
    responses((status = 200, body = LoginResponse), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub(crate) async fn login(
    State(s): State<AppState>,
    ClientAddr(addr): ClientAddr,
    J(b): J<LoginRequest>,
) -> Result<Json<LoginResponse>, axum::response::Response> {
    use axum::response::IntoResponse;
    if !crate::auth::login_allowed(&s, &addr) {
        return Err((
            StatusCode::TOO_MANY_REQUESTS,
            Json(ErrorBody { error: crate::auth::TOO_MANY_LOGINS.into(), field: None, fields: vec![] }),
        )
            .into_response());
    }
    let ns =
        s.db.login(&b.username, &b.password, s.clock.now(), s.policy, &addr)
            .await
            .map_err(|e| ApiError(e).into_response())?;
    Ok(Json(LoginResponse { token: ns.token, csrf_token: ns.csrf, user: ns.user }))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    pub old_password: String,
    pub new_password: String,
}

/// 修改本人密码（初始密码须先修改）。本账号的其他会话随即失效。
#[utoipa::path(put, path = "/api/password", request_body = PasswordChange, tag = "会话",
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn change_password(
    State(s): State<AppState>,
    ApiUser(u, token): ApiUser,
    J(b): J<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    s.db.change_password(&u, &b.old_password, (&b.new_password, None), &token, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Ended {
    /// 结束的会话数
    pub sessions: u64,
}

/// 退出所有设备：结束本账号的全部会话（含当前会话）。
#[utoipa::path(delete, path = "/api/sessions", tag = "会话", responses((status = 200, body = Ended), (status = 401, body = ErrorBody)))]
async fn logout_everywhere(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<Ended>, ApiError> {
    Ok(Json(Ended { sessions: s.db.logout_everywhere(&u, s.clock.now()).await? }))
}

/// 在线用户（安全管理员）。
#[utoipa::path(get, path = "/api/online", tag = "系统管理", responses((status = 200, body = Vec<xietong_storage::auth::OnlineSession>), (status = 403, body = ErrorBody)))]
pub(crate) async fn online(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
) -> Result<Json<Vec<xietong_storage::auth::OnlineSession>>, ApiError> {
    Ok(Json(s.db.online_sessions(&u, s.clock.now(), s.policy).await?))
}

/// 强制下线：结束某账号的全部会话（安全管理员）。
#[utoipa::path(delete, path = "/api/online/{user_id}", params(("user_id" = i64, Path, description = "账号编号")), tag = "系统管理",
    responses((status = 200, body = Ended), (status = 403, body = ErrorBody)))]
async fn force_logout(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(user_id): Path<i64>,
) -> Result<Json<Ended>, ApiError> {
    Ok(Json(Ended { sessions: s.db.force_logout(&u, user_id, s.clock.now()).await? }))
}

/// 退出登录（使当前令牌失效）。
#[utoipa::path(delete, path = "/api/session", tag = "会话", responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(State(s): State<AppState>, ApiUser(_u, token): ApiUser) -> Result<StatusCode, ApiError> {
    s.db.logout(&token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 当前用户。
#[utoipa::path(get, path = "/api/me", tag = "会话", responses((status = 200, body = SessionUser), (status = 401, body = ErrorBody)))]
async fn me(ApiUser(u, _): ApiUser) -> Json<SessionUser> {
    Json(u)
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

pub(crate) fn safe_next(n: Option<&str>) -> String {
    match n {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/todo".into(),
    }
}

/// The login page with its pre-session token (and the cookie holding it, when new), and the
/// identity providers one may sign in through.
pub(crate) async fn login_form(
    s: &AppState,
    headers: &axum::http::HeaderMap,
    status: StatusCode,
    next: String,
    error: Option<String>,
    username: Option<String>,
) -> Response {
    let (token, set) = crate::auth::login_token(headers, s.secure_cookies);
    let providers = s.db.sign_in_options().await.unwrap_or_default();
    let providers: Vec<_> = providers
        .iter()
        .map(|p| {
            let path = match p.kind {
                xietong_signon::ProviderKind::Oidc => format!("/login/sso/{}", p.id),
                xietong_signon::ProviderKind::Dingtalk => format!("/login/dingtalk/{}", p.id),
            };
            context! { name => p.name.clone(), href => crate::pages::with_query(&path, &[("next", &next)]) }
        })
        .collect();
    let page = render(
        s,
        status,
        "login.html",
        None,
        context! { next => next, error => error, username => username, login_csrf => token, providers => providers },
    );
    match set {
        Some(c) => ([(header::SET_COOKIE, c)], page).into_response(),
        None => page,
    }
}

async fn login_page(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
    axum::extract::Query(q): axum::extract::Query<NextQuery>,
) -> Response {
    login_form(&s, &headers, StatusCode::OK, safe_next(q.next.as_deref()), None, None).await
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
    #[serde(rename = "_csrf")]
    csrf: Option<String>,
}

async fn login_submit(
    State(s): State<AppState>,
    crate::auth::ClientAddr(addr): crate::auth::ClientAddr,
    headers: axum::http::HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = safe_next(f.next.as_deref());
    // Login CSRF: a form posted from another site would sign the browser into the attacker's account.
    if !crate::auth::login_token_ok(&headers, f.csrf.as_deref()) {
        let msg = "登录页面已过期或来源无效，请重新输入后登录".to_string();
        return login_form(&s, &headers, StatusCode::FORBIDDEN, next, Some(msg), Some(f.username)).await;
    }
    if !crate::auth::login_allowed(&s, &addr) {
        let msg = crate::auth::TOO_MANY_LOGINS.to_string();
        return login_form(&s, &headers, StatusCode::TOO_MANY_REQUESTS, next, Some(msg), Some(f.username)).await;
    }
    match s.db.login(&f.username, &f.password, s.clock.now(), s.policy, &addr).await {
        Ok(ns) => {
            let cookie = session_cookie(&ns.token, s.secure_cookies, s.policy.absolute.num_seconds());
            ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
        }
        Err(e) => login_form(&s, &headers, status_of(&e), next, Some(e.to_string()), Some(f.username)).await,
    }
}

async fn logout_submit(State(s): State<AppState>, PageUser(_, token): PageUser) -> Response {
    let _ = s.db.logout(&token).await;
    ([(header::SET_COOKIE, session_cookie("", s.secure_cookies, 0))], Redirect::to("/login")).into_response()
}

async fn password_with(s: &AppState, u: &SessionUser, status: StatusCode, ok: bool, f: FormView) -> Response {
    let policy =
        s.db.security_settings().await.ok().and_then(|x| x.password().ok()).map(|p| p.describe()).unwrap_or_default();
    render(
        s,
        status,
        "password.html",
        Some(u),
        context! { nav => "password", must_change => u.must_change_password, policy => policy, ok => ok, f => f.value() },
    )
}

async fn password_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): RawQuery) -> Response {
    let fresh = FormView::fresh(Fields::default());
    password_with(&s, &u, StatusCode::OK, q.iter().any(|(k, _)| k == "ok"), fresh).await
}

async fn password_submit(State(s): State<AppState>, PageUser(u, token): PageUser, f: Fields) -> Response {
    let (old, new, again) = (f.s("old_password"), f.s("new_password"), f.s("new_password_again"));
    match s.db.change_password(&u, &old, (&new, Some(&again)), &token, s.clock.now()).await {
        Ok(()) => Redirect::to("/password?ok=1").into_response(),
        Err(e @ StoreError::Internal(_)) => error_page(&s, Some(&u), &e),
        // Passwords are never sent back to the browser: the form returns with its errors only.
        Err(e) => password_with(&s, &u, status_of(&e), false, FormView::refused(Fields::default(), &e)).await,
    }
}

async fn logout_all(State(s): State<AppState>, PageUser(u, _): PageUser) -> Response {
    match s.db.logout_everywhere(&u, s.clock.now()).await {
        Ok(_) => {
            ([(header::SET_COOKIE, session_cookie("", s.secure_cookies, 0))], Redirect::to("/login")).into_response()
        }
        Err(e) => error_page(&s, Some(&u), &e),
    }
}

pub(crate) async fn online_with(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    q: &[(String, String)],
    err: Option<String>,
    fs: crate::forms::FormView,
) -> Response {
    let sessions = match s.db.online_sessions(u, s.clock.now(), s.policy).await {
        Ok(x) => x,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let settings = s.db.security_settings().await.unwrap_or_default();
    let scopes = s.db.data_scopes().await.unwrap_or_default();
    let units = s.db.list_units().await.unwrap_or_default();
    let kinds: Vec<_> =
        DataScope::KINDS.iter().map(|k| context! { code => k, label => DataScope::kind_label_zh(k) }).collect();
    // Accounts locked for every address, addressed to the 安全管理员 (this is their home page).
    let notes: Vec<_> =
        s.db.notifications(u, 20)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, text, _)| text.starts_with("【安全】"))
            .map(|(at, text, _)| context! { at => at.to_string(), text => text })
            .collect();
    let account_lock = settings.lockout().ok().map(|l| AccountLockPolicy::for_lockout(&l));
    render(
        s,
        status,
        "online.html",
        Some(u),
        context! { nav => "online", sessions => sessions, settings => settings, scopes => scopes, units => units, kinds => kinds, notes => notes, account_lock => account_lock, fs => fs.value(), flash_ok => q.iter().find(|(k, _)| k == "ok").map(|(_, v)| v.clone()), flash_err => err },
    )
}

async fn online_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): RawQuery) -> Response {
    online_with(&s, &u, StatusCode::OK, &q, None, FormView::fresh(Fields::default())).await
}

async fn force_logout_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(user_id): Path<i64>,
) -> Response {
    match s.db.force_logout(&u, user_id, s.clock.now()).await {
        Ok(n) => Redirect::to(&format!(
            "/online?{}",
            serde_urlencoded::to_string([("ok", format!("已强制下线（结束 {n} 个会话）"))]).unwrap_or_default()
        ))
        .into_response(),
        Err(e) => error_page(&s, Some(&u), &e),
    }
}
