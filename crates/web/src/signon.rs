//! 统一身份认证: signing in through an identity provider (OpenID Connect, 钉钉 免登) from the
//! login page, and the 安全管理员's page `/sso` and API `/api/sso/*`: providers, a 连接测试 button,
//! which roles may still use passwords, and the links between providers' subjects and accounts.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_signon::{MatchBy, Pending, Provider, ProviderConfig, ProviderKind};
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::signon::{PasswordLogin, ProviderInput, SsoLink, SsoProvider};

use crate::AppState;
use crate::api::{Created, J};
use crate::auth::{ApiUser, ClientAddr, PageUser, session_cookie};
use crate::error::{ApiError, ErrorBody, status_of};
use crate::forms::{Fields, RawQuery};
use crate::pages::{error_page, render};

/// The cookie binding a sign-in's return to the browser that started it.
const COOKIE: &str = "xt_sso";
/// A connected provider is kept this long (an OIDC issuer's keys may rotate).
const KEEP: Duration = Duration::from_secs(600);

/// A connected provider: the configuration version it was built from, and when.
struct Connected {
    version: i64,
    at: Instant,
    provider: Arc<dyn Provider>,
}

/// Connected providers by id.
#[derive(Default)]
pub struct Providers(tokio::sync::Mutex<HashMap<i64, Connected>>);

impl Providers {
    async fn get(&self, s: &AppState, id: i64) -> Result<(String, Arc<dyn Provider>), StoreError> {
        let (name, cfg, version, enabled) = s.db.sso_provider_for_use(id).await?;
        if !enabled {
            return Err(StoreError::Denied(format!("统一身份认证「{name}」已停用，请用其他方式登录")));
        }
        if let Some(c) = self.0.lock().await.get(&id)
            && c.version == version
            && c.at.elapsed() < KEEP
        {
            return Ok((name, c.provider.clone()));
        }
        let p: Arc<dyn Provider> =
            xietong_signon::connect(&cfg, &s.signon_http).await.map_err(|e| StoreError::BadInput(e.message))?.into();
        self.0.lock().await.insert(id, Connected { version, at: Instant::now(), provider: p.clone() });
        Ok((name, p))
    }
}

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_providers, api_create_provider))
        .routes(routes!(api_update_provider))
        .routes(routes!(api_test_provider))
        .routes(routes!(api_password_login, api_set_password_login))
        .routes(routes!(api_links))
        .routes(routes!(api_remove_link))
}

pub fn page_router() -> crate::policy::Pages {
    use axum::routing::{get, post};
    crate::policy::Pages::new()
        .route("/login/sso/{id}", get(start))
        .route("/login/sso/{id}/callback", get(callback))
        .route("/login/dingtalk/{id}", get(dingtalk))
        .route("/sso", get(sso_page))
        .route("/sso/providers", post(create_submit))
        .route("/sso/providers/{id}", post(update_submit))
        .route("/sso/providers/{id}/test", post(test_submit))
        .route("/sso/password-login", post(password_login_submit))
        .route("/sso/links/{provider_id}/{user_id}/remove", post(remove_link_submit))
}

// ---- signing in ----

#[derive(Deserialize)]
struct StartQuery {
    next: Option<String>,
}

/// This server's address as the browser reaches it: the configured public origin, else the
/// `Host` it asked for.
fn origin(s: &AppState, headers: &HeaderMap) -> String {
    if let Some(o) = &s.public_origin {
        return o.trim_end_matches('/').to_string();
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    format!("{}://{host}", if s.secure_cookies { "https" } else { "http" })
}

fn callback_url(s: &AppState, headers: &HeaderMap, id: i64) -> String {
    format!("{}/login/sso/{id}/callback", origin(s, headers))
}

fn binding_cookie(s: &AppState, value: &str, max_age: i64) -> String {
    // Lax: the provider's redirect back is a top-level navigation from its site.
    format!(
        "{COOKIE}={value}; Path=/login; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if s.secure_cookies { "; Secure" } else { "" }
    )
}

/// The login page with an error (a refused or failed sign-in through a provider).
async fn refused(s: &AppState, headers: &HeaderMap, status: StatusCode, message: String) -> Response {
    let mut r = crate::sessions::login_form(s, headers, status, "/todo".into(), Some(message), None).await;
    if let Ok(v) = HeaderValue::from_str(&binding_cookie(s, "", 0)) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

fn refusal_status(e: &StoreError) -> StatusCode {
    match e {
        // The provider could not be reached or refused us: a gateway problem, not the user's.
        StoreError::BadInput(_) => StatusCode::BAD_GATEWAY,
        e => status_of(e),
    }
}

/// Send the browser to the provider (OpenID Connect), or to the 钉钉 免登 page.
async fn start(
    State(s): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<StartQuery>,
) -> Response {
    // Each start keeps a row until the provider answers: limited per address like password attempts.
    if !crate::auth::login_allowed(&s, &addr) {
        return refused(&s, &headers, StatusCode::TOO_MANY_REQUESTS, crate::auth::TOO_MANY_LOGINS.into()).await;
    }
    let next = crate::sessions::safe_next(q.next.as_deref());
    let r = async {
        let (_, p) = s.providers.get(&s, id).await?;
        let start = p.start(&callback_url(&s, &headers, id)).map_err(|e| StoreError::BadInput(e.message))?;
        Ok::<_, StoreError>(start)
    }
    .await;
    match r {
        Ok(Some(start)) => match s.db.begin_sso(id, &start.pending, &next, s.clock.now()).await {
            Ok(()) => {
                let cookie = binding_cookie(&s, &start.pending.state, 600);
                ([(header::SET_COOKIE, cookie)], Redirect::to(&start.url)).into_response()
            }
            Err(e) => refused(&s, &headers, status_of(&e), e.to_string()).await,
        },
        Ok(None) => Redirect::to(&crate::pages::with_query(&format!("/login/dingtalk/{id}"), &[("next", &next)]))
            .into_response(),
        Err(e) => refused(&s, &headers, refusal_status(&e), format!("统一身份认证暂不可用：{e}")).await,
    }
}

/// Does the browser hold the cookie the sign-in started with?
fn same_browser(headers: &HeaderMap, state: &str) -> bool {
    crate::auth::cookie(headers, COOKIE).is_some_and(|c| crate::auth::login_token_matches(&c, state))
}

/// Finish a sign-in: the provider's word for who this is, the account it maps to, a session.
async fn finish(s: &AppState, headers: &HeaderMap, addr: &str, id: i64, code: &str, state: &str) -> Response {
    let now = s.clock.now();
    let r = async {
        if !same_browser(headers, state) {
            return Err(StoreError::Denied("登录不是从本浏览器发起的或已过期，请回到登录页重新登录".into()));
        }
        let (pending, next) = s.db.take_sso(id, state, now).await?;
        let (name, p) = s.providers.get(s, id).await?;
        let identity = p
            .finish(code, Some(&pending), &callback_url(s, headers, id))
            .await
            .map_err(|e| StoreError::Denied(e.message))?;
        Ok::<_, StoreError>((name, identity, next))
    }
    .await;
    let (name, identity, next) = match r {
        Ok(v) => v,
        Err(e) => {
            let _ = s.db.sso_refused("", &format!("身份源 {id}"), &e.to_string(), addr, now).await;
            return refused(s, headers, refusal_status(&e), e.to_string()).await;
        }
    };
    match s.db.sso_sign_in(id, &identity, now, s.policy, addr).await {
        Ok(ns) => {
            let session = session_cookie(&ns.token, s.secure_cookies, s.policy.absolute.num_seconds());
            let mut r = Redirect::to(&next).into_response();
            for c in [session, binding_cookie(s, "", 0)] {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    r.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            r
        }
        Err(e) => {
            let _ = s.db.sso_refused(&identity.subject, &name, &e.to_string(), addr, now).await;
            refused(s, headers, status_of(&e), e.to_string()).await
        }
    }
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The provider sends the browser back here with an authorization code (or its refusal).
async fn callback(
    State(s): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<CallbackQuery>,
) -> Response {
    if let Some(e) = q.error.as_deref().filter(|e| !e.is_empty()) {
        let why = q.error_description.as_deref().map(|d| format!("{e}（{d}）")).unwrap_or_else(|| e.to_string());
        let msg = format!("身份源未同意登录：{}", xietong_notify::cut(&why, 200));
        let _ = s.db.sso_refused("", &format!("身份源 {id}"), &msg, &addr, s.clock.now()).await;
        return refused(&s, &headers, StatusCode::FORBIDDEN, msg).await;
    }
    let code = q.code.unwrap_or_default();
    finish(&s, &headers, &addr, id, &code, q.state.as_deref().unwrap_or("")).await
}

#[derive(Deserialize)]
struct DingtalkQuery {
    next: Option<String>,
    /// The authCode the 钉钉 client handed the page.
    code: Option<String>,
    /// The binding token the page was served with.
    t: Option<String>,
}

/// 钉钉 免登: without a code, the page that asks the 钉钉 client for one; with it, the sign-in.
async fn dingtalk(
    State(s): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<DingtalkQuery>,
) -> Response {
    if let Some(code) = q.code.as_deref().filter(|c| !c.is_empty()) {
        return finish(&s, &headers, &addr, id, code, q.t.as_deref().unwrap_or("")).await;
    }
    if !crate::auth::login_allowed(&s, &addr) {
        return refused(&s, &headers, StatusCode::TOO_MANY_REQUESTS, crate::auth::TOO_MANY_LOGINS.into()).await;
    }
    let next = crate::sessions::safe_next(q.next.as_deref());
    let r = async {
        let (name, cfg, _, enabled) = s.db.sso_provider_for_use(id).await?;
        if !enabled || cfg.kind != ProviderKind::Dingtalk {
            return Err(StoreError::NotFound("没有这个钉钉免登入口".into()));
        }
        let pending = Pending { state: crate::auth::random_hex(), nonce: String::new(), verifier: String::new() };
        s.db.begin_sso(id, &pending, &next, s.clock.now()).await?;
        Ok::<_, StoreError>((name, cfg, pending.state))
    }
    .await;
    let (name, cfg, token) = match r {
        Ok(v) => v,
        Err(e) => return refused(&s, &headers, status_of(&e), e.to_string()).await,
    };
    let page = render(
        &s,
        StatusCode::OK,
        "login_dingtalk.html",
        None,
        context! { id => id, name => name, corp_id => cfg.corp_id, token => token,
        jsapi => format!("{DINGTALK_JSAPI_ORIGIN}/dingding/dingtalk-jsapi/3.0.25/dingtalk.open.js") },
    );
    // The 钉钉 JSAPI is loaded from 钉钉's own address on this page only.
    let csp = format!(
        "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline' {}; \
         frame-ancestors 'none'",
        DINGTALK_JSAPI_ORIGIN
    );
    ([(header::SET_COOKIE, binding_cookie(&s, &token, 600)), (header::CONTENT_SECURITY_POLICY, csp)], page)
        .into_response()
}

/// Where the 钉钉 JSAPI (`dingtalk.open.js`) is served from.
const DINGTALK_JSAPI_ORIGIN: &str = "https://g.alicdn.com";

// ---- the 安全管理员's API ----

/// 统一身份认证的身份源（安全管理员；密钥只显示末 4 位）。
#[utoipa::path(get, path = "/api/sso/providers", tag = "统一身份认证",
    responses((status = 200, body = Vec<SsoProvider>), (status = 403, body = ErrorBody)))]
async fn api_providers(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<Vec<SsoProvider>>, ApiError> {
    Ok(Json(s.db.sso_providers(&u).await?))
}

/// 登记身份源：OpenID Connect（发行方、客户端标识与密钥、用户名与单位声明）或钉钉免登（AppKey、AppSecret）。
/// 首次登录按用户名声明找到已有账号并绑定，从不自动开设账号或授予权限。
#[utoipa::path(post, path = "/api/sso/providers", tag = "统一身份认证", request_body = ProviderInput,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn api_create_provider(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(b): J<ProviderInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = s.db.create_sso_provider(&u, &b, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// 修改身份源（须带读取时的 `version`，他人先改则 409）；密钥留空或保持「****」即不变。
#[utoipa::path(put, path = "/api/sso/providers/{id}", tag = "统一身份认证", request_body = ProviderInput,
    params(("id" = i64, Path, description = "身份源编号")),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn api_update_provider(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    J(b): J<ProviderInput>,
) -> Result<StatusCode, ApiError> {
    s.db.update_sso_provider(&u, id, &b, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderCheck {
    pub ok: bool,
    /// 检查结果或失败原因（中文）
    pub answer: String,
}

/// 连接测试：按当前配置连接身份源（OpenID Connect 读取发现文档和签名密钥；钉钉获取访问令牌），返回结果或失败原因。
#[utoipa::path(post, path = "/api/sso/providers/{id}/test", tag = "统一身份认证",
    params(("id" = i64, Path, description = "身份源编号")),
    responses((status = 200, body = ProviderCheck), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn api_test_provider(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<ProviderCheck>, ApiError> {
    Ok(Json(check(&s, &u, id).await?))
}

async fn check(s: &AppState, u: &SessionUser, id: i64) -> Result<ProviderCheck, StoreError> {
    u.actor().may_secure()?;
    let (name, cfg, _, _) = s.db.sso_provider_for_use(id).await?;
    let r = match cfg.kind {
        ProviderKind::Oidc => {
            xietong_signon::connect(&cfg, &s.signon_http).await.map(|p| match p.start("http://127.0.0.1/x") {
                Ok(Some(st)) => format!(
                    "已读取「{name}」的发现文档和签名密钥，授权地址：{}",
                    st.url.split('?').next().unwrap_or_default()
                ),
                _ => format!("已读取「{name}」的发现文档"),
            })
        }
        ProviderKind::Dingtalk => {
            let t = xietong_notify::dingtalk::AppToken::new(&cfg.dingtalk_base(), &cfg.app_key, &cfg.app_secret);
            t.get(&s.signon_http)
                .await
                .map(|_| format!("已用「{name}」的 AppKey 取得钉钉访问令牌"))
                .map_err(|f| xietong_signon::SignonError::new(f.message))
        }
    };
    Ok(match r {
        Ok(answer) => ProviderCheck { ok: true, answer },
        Err(e) => ProviderCheck { ok: false, answer: e.message },
    })
}

/// 各角色是否允许密码登录（安全管理员）。停用后该角色的账号只能经统一身份认证登录；安全管理员始终保留密码登录。
#[utoipa::path(get, path = "/api/sso/password-login", tag = "统一身份认证",
    responses((status = 200, body = Vec<PasswordLogin>), (status = 403, body = ErrorBody)))]
async fn api_password_login(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
) -> Result<Json<Vec<PasswordLogin>>, ApiError> {
    u.actor().may_secure().map_err(StoreError::from)?;
    Ok(Json(s.db.password_login().await?))
}

/// 设置角色是否允许密码登录（安全管理员；未列出的角色不变）。
#[utoipa::path(put, path = "/api/sso/password-login", tag = "统一身份认证", request_body = Vec<PasswordLogin>,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn api_set_password_login(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(b): J<Vec<PasswordLogin>>,
) -> Result<StatusCode, ApiError> {
    s.db.set_password_login(&u, &b, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 已绑定的身份（安全管理员）：哪个身份源的哪个身份对应哪个账号、何时绑定、最近登录。
#[utoipa::path(get, path = "/api/sso/links", tag = "统一身份认证",
    responses((status = 200, body = Vec<SsoLink>), (status = 403, body = ErrorBody)))]
async fn api_links(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<Vec<SsoLink>>, ApiError> {
    Ok(Json(s.db.sso_links(&u).await?))
}

/// 解除绑定（安全管理员）：该账号下次经此身份源登录时重新按用户名声明绑定。
#[utoipa::path(delete, path = "/api/sso/links/{provider_id}/{user_id}", tag = "统一身份认证",
    params(("provider_id" = i64, Path, description = "身份源编号"), ("user_id" = i64, Path, description = "账号编号")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn api_remove_link(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path((provider_id, user_id)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    s.db.remove_sso_link(&u, provider_id, user_id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- the 安全管理员's page ----

fn input_of(f: &Fields) -> Result<ProviderInput, StoreError> {
    let kind = ProviderKind::from_code(&f.s("kind")).ok_or_else(|| StoreError::invalid("kind", "请选择身份源类型"))?;
    let match_by = match f.s("match_by").trim() {
        "" => None,
        m => Some(MatchBy::from_code(m).ok_or_else(|| StoreError::invalid("match_by", "请选择账号比对方式"))?),
    };
    let config = ProviderConfig {
        issuer: f.s("issuer"),
        client_id: f.s("client_id"),
        client_secret: f.s("client_secret"),
        scopes: f.s("scopes"),
        base_url: f.s("base_url"),
        app_key: f.s("app_key"),
        app_secret: f.s("app_secret"),
        corp_id: f.s("corp_id"),
        username_claim: f.s("username_claim"),
        match_by,
        unit_claim: f.s("unit_claim"),
        ..ProviderConfig::new(kind)
    };
    Ok(ProviderInput {
        name: f.s("name"), config, enabled: f.s("enabled") != "0", version: f.id("version", "版本号")?
    })
}

async fn sso_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): RawQuery) -> Response {
    let ok = q.iter().find(|(k, v)| k == "ok" && !v.is_empty()).map(|(_, v)| v.clone());
    page(&s, &u, StatusCode::OK, ok, None, None).await
}

async fn page(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    ok: Option<String>,
    error: Option<(Option<i64>, String)>,
    kept: Option<&Fields>,
) -> Response {
    let r = async {
        Ok::<_, StoreError>((s.db.sso_providers(u).await?, s.db.password_login().await?, s.db.sso_links(u).await?))
    };
    let (providers, roles, links) = match r.await {
        Ok(v) => v,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let kinds: Vec<_> =
        ProviderKind::ALL.iter().map(|k| context! { code => k.code(), label => k.label_zh() }).collect();
    let match_by: Vec<_> = MatchBy::ALL.iter().map(|m| context! { code => m.code(), label => m.label_zh() }).collect();
    let (error_for, error) = match error {
        Some((id, e)) => (id, Some(e)),
        None => (None, None),
    };
    render(
        s,
        status,
        "sso.html",
        Some(u),
        context! { nav => "sso", providers => providers, password_roles => roles, links => links, kinds => kinds,
        match_by => match_by, ok => ok, error => error, error_for => error_for, kept => kept.map(|f| f.map()),
        origin => s.public_origin.clone().unwrap_or_default() },
    )
}

fn done(msg: &str) -> Response {
    Redirect::to(&crate::pages::with_query("/sso", &[("ok", msg)])).into_response()
}

async fn create_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    match async { s.db.create_sso_provider(&u, &input_of(&f)?, s.clock.now()).await }.await {
        Ok(_) => done("身份源已登记"),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_))) => error_page(&s, Some(&u), &e),
        Err(e) => page(&s, &u, status_of(&e), None, Some((None, e.to_string())), Some(&f)).await,
    }
}

async fn update_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    f: Fields,
) -> Response {
    match async { s.db.update_sso_provider(&u, id, &input_of(&f)?, s.clock.now()).await }.await {
        Ok(()) => done("身份源已保存"),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_) | StoreError::NotFound(_))) => {
            error_page(&s, Some(&u), &e)
        }
        Err(e) => page(&s, &u, status_of(&e), None, Some((Some(id), e.to_string())), Some(&f)).await,
    }
}

async fn test_submit(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>) -> Response {
    match check(&s, &u, id).await {
        Ok(ProviderCheck { ok: true, answer }) => done(&format!("连接测试通过：{answer}")),
        Ok(ProviderCheck { ok: false, answer }) => {
            page(&s, &u, StatusCode::BAD_GATEWAY, None, Some((Some(id), format!("连接测试失败：{answer}"))), None).await
        }
        Err(e) => error_page(&s, Some(&u), &e),
    }
}

async fn password_login_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    let allowed = f.all("allowed");
    let changes: Vec<PasswordLogin> = xietong_supervision::Role::ALL
        .iter()
        .map(|r| PasswordLogin {
            role: r.code().into(),
            role_label: String::new(),
            allowed: allowed.iter().any(|a| a == r.code()) || *r == xietong_supervision::Role::SecurityAdmin,
        })
        .collect();
    match s.db.set_password_login(&u, &changes, s.clock.now()).await {
        Ok(()) => done("密码登录设置已保存"),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_))) => error_page(&s, Some(&u), &e),
        Err(e) => page(&s, &u, status_of(&e), None, Some((None, e.to_string())), None).await,
    }
}

async fn remove_link_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path((provider_id, user_id)): Path<(i64, i64)>,
) -> Response {
    match s.db.remove_sso_link(&u, provider_id, user_id, s.clock.now()).await {
        Ok(()) => done("已解除绑定"),
        Err(e @ StoreError::Conflict(_)) => {
            page(&s, &u, StatusCode::CONFLICT, None, Some((None, e.to_string())), None).await
        }
        Err(e) => error_page(&s, Some(&u), &e),
    }
}
