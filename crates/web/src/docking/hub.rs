//! The docking section's shared parts: who may read the libraries and the statistics, the page frame
//! with its sub-menu, and form answers.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::context;
use serde::Deserialize;
use utoipa::IntoParams;
use xietong_docking::review::ReviewStatus;
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_supervision::Role;

use crate::AppState;
use crate::api::Created;
use crate::auth::PageUser;
use crate::error::ApiError;
use crate::pages::render;

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new().route("/docking", get(hub))
}

/// The 成果库 and 企业库 are district-wide records kept by the 科技局: readable by it, the
/// district-wide roles, and the enterprises and institutions that use the platform — not by the
/// supervision liaisons, whose work they are not.
pub fn may_read_libraries(u: &xietong_storage::auth::SessionUser) -> Result<(), StoreError> {
    use xietong_supervision::Role;
    if u.role.sees_all_libraries() || matches!(u.role, Role::Enterprise | Role::Institution) {
        Ok(())
    } else {
        Err(StoreError::Denied("无权限：产学研对接库仅科技局、督查局、区领导、企业和高校院所用户可查看".into()))
    }
}

pub(crate) type CreatedResp = Result<(StatusCode, Json<Created>), ApiError>;

pub(crate) fn created(id: i64) -> CreatedResp {
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Deserialize, IntoParams)]
pub struct StatusQuery {
    /// submitted / formal_passed / returned / published / expired
    pub status: Option<String>,
}

pub(crate) fn review_status(q: &StatusQuery) -> Result<Option<ReviewStatus>, StoreError> {
    match q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => ReviewStatus::from_code(s)
            .map(Some)
            .ok_or_else(|| StoreError::invalid("status", format!("「{s}」不是审核状态"))),
    }
}

#[derive(Deserialize, IntoParams)]
pub struct TopQuery {
    /// 返回条数，默认 10，最多 50
    pub top: Option<usize>,
}

/// Statistics are the district's: the 科技局 and the district-wide roles.
pub fn may_read_stats(u: &xietong_storage::auth::SessionUser) -> Result<(), StoreError> {
    if u.role.sees_all_libraries() {
        Ok(())
    } else {
        Err(StoreError::Denied("无权限：科技统计仅科技局、督查局和区领导可查看".into()))
    }
}

pub(crate) fn with_ok(path: &str, msg: &str) -> Response {
    let q = serde_urlencoded::to_string([("ok", msg)]).unwrap_or_default();
    let sep = if path.contains('?') { '&' } else { '?' };
    let (base, anchor) = path
        .split_once('#')
        .map(|(b, a)| (b.to_string(), format!("#{a}")))
        .unwrap_or((path.to_string(), String::new()));
    Redirect::to(&format!("{base}{sep}{q}{anchor}")).into_response()
}

/// Where a failed form goes: a refusal of the user's input comes back to the page with the
/// message; a permission refusal or our own failure is an error page.
pub(crate) fn refused(s: &AppState, u: &SessionUser, e: &StoreError) -> bool {
    let _ = (s, u);
    matches!(e, StoreError::Denied(_) | StoreError::Internal(_))
}

pub(crate) fn role_ctx(u: &SessionUser) -> minijinja::Value {
    context! {
        tech => u.role == Role::TechBureau,
        enterprise => u.role == Role::Enterprise,
        institution => u.role == Role::Institution,
        supervisor => u.role == Role::Supervisor,
        stats => may_read_stats(u).is_ok(),
    }
}

pub(crate) fn page(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    name: &str,
    sub: &str,
    ctx: minijinja::Value,
) -> Response {
    render(s, status, name, Some(u), context! { nav => "docking", sub => sub, d => role_ctx(u), ..ctx })
}

pub(crate) fn ok_msg(q: &[(String, String)]) -> Option<String> {
    q.iter().find(|(k, _)| k == "ok").map(|(_, v)| v.clone())
}

async fn hub(PageUser(u, _): PageUser) -> Response {
    let to = match u.role {
        Role::Enterprise => "/docking/problems",
        Role::Institution => "/docking/experts",
        _ => "/docking/stats",
    };
    Redirect::to(to).into_response()
}
