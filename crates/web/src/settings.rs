//! The 安全管理员's settings: session and login limits, and each role's 数据范围 (API and pages).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_storage::StoreError;
use xietong_storage::auth::SecuritySettings;
use xietong_storage::scopes::DataScopeChange;
use xietong_supervision::Role;
use xietong_supervision::validate::Checks;

use crate::AppState;
use crate::api::J;
use crate::auth::{ApiUser, PageUser};
use crate::error::{ApiError, ErrorBody, status_of};
use crate::forms::{Fields, FormView, Unread};
use crate::pages::error_page;
use crate::sessions::online_with;

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(security_settings, save_security_settings))
        .routes(routes!(data_scopes))
        .routes(routes!(save_data_scope))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/security-settings", post(security_settings_submit))
        .route("/data-scopes/{role}", post(data_scope_submit))
}

/// 安全设置：密码策略、登录失败锁定、每地址登录频率。
#[utoipa::path(get, path = "/api/security-settings", tag = "系统管理", responses((status = 200, body = xietong_storage::auth::SecuritySettings), (status = 403, body = ErrorBody)))]
async fn security_settings(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
) -> Result<Json<xietong_storage::auth::SecuritySettings>, ApiError> {
    u.actor().may_secure()?;
    Ok(Json(s.db.security_settings().await?))
}

/// 修改安全设置（安全管理员；低于等保要求的值被拒绝）。保存后立即生效，无需重启。
#[utoipa::path(put, path = "/api/security-settings", request_body = xietong_storage::auth::SecuritySettings, tag = "系统管理",
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn save_security_settings(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(b): J<xietong_storage::auth::SecuritySettings>,
) -> Result<StatusCode, ApiError> {
    s.db.save_security_settings(&u, &b, s.clock.now()).await?;
    s.reload().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 数据范围：每个角色的全部 / 自定 / 本单位 / 本单位及以下 / 仅本人（安全管理员）。
#[utoipa::path(get, path = "/api/data-scopes", tag = "系统管理", responses((status = 200, body = Vec<xietong_storage::scopes::RoleDataScope>), (status = 403, body = ErrorBody)))]
async fn data_scopes(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
) -> Result<Json<Vec<xietong_storage::scopes::RoleDataScope>>, ApiError> {
    u.actor().may_secure()?;
    Ok(Json(s.db.data_scopes().await?))
}

/// 设置一个角色的数据范围（安全管理员）；各会话在下一次请求时生效。
#[utoipa::path(put, path = "/api/data-scopes/{role}", params(("role" = String, Path, description = "角色代码，如 liaison")),
    request_body = xietong_storage::scopes::DataScopeChange, tag = "系统管理",
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn save_data_scope(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(role): Path<String>,
    J(b): J<xietong_storage::scopes::DataScopeChange>,
) -> Result<StatusCode, ApiError> {
    let role = xietong_supervision::Role::from_code(&role)
        .ok_or_else(|| StoreError::NotFound(format!("角色「{}」不存在", role.chars().take(40).collect::<String>())))?;
    s.db.save_data_scope(&u, role, &b, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn security_settings_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    let r = async {
        let mut unread = Unread::default();
        let mut int = |k: &str, label: &str| unread.required_int(&f, k, label);
        let settings = SecuritySettings {
            password_min_length: int("password_min_length", "密码最小长度"),
            password_min_classes: int("password_min_classes", "密码字符类别数"),
            lockout_attempts: int("lockout_attempts", "连续失败次数"),
            lockout_minutes: int("lockout_minutes", "锁定时长（分钟）"),
            login_per_minute: int("login_per_minute", "每分钟登录尝试次数"),
        };
        u.actor().may_secure()?;
        settings.check(Checks::with(unread.0))?;
        s.db.save_security_settings(&u, &settings, s.clock.now()).await?;
        s.reload().await
    }
    .await;
    match r {
        Ok(()) => Redirect::to(&crate::pages::with_query("/online", &[("ok", "安全设置已保存")])).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_))) => error_page(&s, Some(&u), &e),
        Err(e) => online_with(&s, &u, status_of(&e), &[], FormView::flash(&e), FormView::refused(f, &e)).await,
    }
}

async fn data_scope_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(role): Path<String>,
    f: Fields,
) -> Response {
    let r = async {
        let role = Role::from_code(&role).ok_or_else(|| StoreError::NotFound("角色不存在".into()))?;
        let mut unit_ids = vec![];
        for v in f.all("unit_id").iter().filter(|v| !v.trim().is_empty()) {
            unit_ids.push(
                v.trim()
                    .parse::<i64>()
                    .map_err(|_| StoreError::invalid("自定数据权限的单位", format!("「{}」不是单位编号", v.trim())))?,
            );
        }
        let change = DataScopeChange { kind: f.s("kind"), unit_ids };
        s.db.save_data_scope(&u, role, &change, s.clock.now()).await.map(|()| role)
    }
    .await;
    match r {
        Ok(role) => Redirect::to(&format!(
            "/online?{}",
            serde_urlencoded::to_string([("ok", format!("{}的数据范围已保存", role.label_zh()))]).unwrap_or_default()
        ))
        .into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_) | StoreError::NotFound(_))) => {
            error_page(&s, Some(&u), &e)
        }
        Err(e) => {
            online_with(&s, &u, status_of(&e), &[], Some(e.to_string()), FormView::fresh(Fields::default())).await
        }
    }
}
