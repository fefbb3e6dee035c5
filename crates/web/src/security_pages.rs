//! Pages of the identity controls: changing one's own password (forced for initial ones), signing
//! out everywhere, and for the administrator the 在线用户 list with 强制下线 and the security settings.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use xietong_security::AccountLockPolicy;
use xietong_storage::StoreError;
use xietong_storage::auth::{SecuritySettings, SessionUser};
use xietong_storage::scopes::DataScopeChange;
use xietong_supervision::{DataScope, Role};

use crate::AppState;
use crate::auth::{PageUser, session_cookie};
use crate::error::status_of;
use crate::forms::Fields;
use crate::pages::{error_page, render};

pub fn router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/password", get(password_page).post(password_submit))
        .route("/sessions/logout-all", post(logout_all))
        .route("/online", get(online_page))
        .route("/online/{user_id}/logout", post(force_logout))
        .route("/security-settings", post(settings_submit))
        .route("/data-scopes/{role}", post(data_scope_submit))
}

type Raw = Query<Vec<(String, String)>>;

async fn password_with(s: &AppState, u: &SessionUser, status: StatusCode, ok: bool, err: Option<String>) -> Response {
    let policy =
        s.db.security_settings().await.ok().and_then(|x| x.password().ok()).map(|p| p.describe()).unwrap_or_default();
    render(
        s,
        status,
        "password.html",
        Some(u),
        context! { nav => "password", must_change => u.must_change_password, policy => policy, ok => ok, flash_err => err },
    )
}

async fn password_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): Raw) -> Response {
    password_with(&s, &u, StatusCode::OK, q.iter().any(|(k, _)| k == "ok"), None).await
}

async fn password_submit(State(s): State<AppState>, PageUser(u, token): PageUser, f: Fields) -> Response {
    let (old, new, again) = (f.s("old_password"), f.s("new_password"), f.s("new_password_again"));
    let r = if new != again {
        Err(StoreError::invalid("确认新密码", "两次输入的新密码不一致"))
    } else {
        s.db.change_password(&u, &old, &new, &token, s.clock.now()).await
    };
    match r {
        Ok(()) => Redirect::to("/password?ok=1").into_response(),
        Err(e @ StoreError::Internal(_)) => error_page(&s, Some(&u), &e),
        Err(e) => password_with(&s, &u, status_of(&e), false, Some(e.to_string())).await,
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

async fn online_with(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    q: &[(String, String)],
    err: Option<String>,
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
        context! { nav => "online", sessions => sessions, settings => settings, scopes => scopes, units => units, kinds => kinds, notes => notes, account_lock => account_lock, flash_ok => q.iter().find(|(k, _)| k == "ok").map(|(_, v)| v.clone()), flash_err => err },
    )
}

async fn online_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): Raw) -> Response {
    online_with(&s, &u, StatusCode::OK, &q, None).await
}

async fn force_logout(State(s): State<AppState>, PageUser(u, _): PageUser, Path(user_id): Path<i64>) -> Response {
    match s.db.force_logout(&u, user_id, s.clock.now()).await {
        Ok(n) => Redirect::to(&format!(
            "/online?{}",
            serde_urlencoded::to_string([("ok", format!("已强制下线（结束 {n} 个会话）"))]).unwrap_or_default()
        ))
        .into_response(),
        Err(e) => error_page(&s, Some(&u), &e),
    }
}

async fn settings_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    let num = |k: &str, label: &str| {
        f.s(k).trim().parse::<i64>().map_err(|_| StoreError::invalid(label, format!("「{}」不是整数", f.s(k).trim())))
    };
    let r = async {
        let settings = SecuritySettings {
            password_min_length: num("password_min_length", "密码最小长度")?,
            password_min_classes: num("password_min_classes", "密码字符类别数")?,
            lockout_attempts: num("lockout_attempts", "连续失败次数")?,
            lockout_minutes: num("lockout_minutes", "锁定时长（分钟）")?,
            login_per_minute: num("login_per_minute", "每分钟登录尝试次数")?,
        };
        s.db.save_security_settings(&u, &settings, s.clock.now()).await?;
        s.reload().await
    }
    .await;
    match r {
        Ok(()) => Redirect::to(&format!(
            "/online?{}",
            serde_urlencoded::to_string([("ok", "安全设置已保存")]).unwrap_or_default()
        ))
        .into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_))) => error_page(&s, Some(&u), &e),
        Err(e) => online_with(&s, &u, status_of(&e), &[], Some(e.to_string())).await,
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
        Err(e) => online_with(&s, &u, status_of(&e), &[], Some(e.to_string())).await,
    }
}
