//! The pages' plumbing: rendering a template with the signed-in user's menu, the Chinese error page,
//! and the router that gathers every resource's pages.

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::context;
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_supervision::Role;

use crate::AppState;
use crate::error::status_of;

/// Every page route, each resource's from its own module (roles in [`crate::policy::PAGES`]).
pub fn router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/", get(|| async { Redirect::to("/todo") }))
        .merge(crate::sessions::page_router())
        .merge(crate::settings::page_router())
        .merge(crate::todo::page_router())
        .merge(crate::inbox::page_router())
        .merge(crate::notify::page_router())
        .merge(crate::signon::page_router())
        .merge(crate::intake::page_router())
        .merge(crate::cadres::page_router())
        .merge(crate::feeds::page_router())
        .merge(crate::tasks::page_router())
        .merge(crate::categories::page_router())
        .merge(crate::attachments::page_router())
        .merge(crate::org::page_router())
        .merge(crate::calendar::page_router())
        .merge(crate::audit::page_router())
        .merge(crate::dashboard::page_router())
        .merge(crate::problems::page_router())
        .merge(crate::inspections::page_router())
        .merge(crate::visits::page_router())
        .merge(crate::indicators::page_router())
        .merge(crate::rankings::page_router())
        .merge(crate::notices::page_router())
        .merge(crate::records::page_router())
        .merge(crate::imports::page_router())
        .merge(crate::projects::page_router())
        .merge(crate::lists::page_router())
        .merge(crate::docking::page_router())
}

pub(crate) fn render(
    s: &AppState,
    status: StatusCode,
    name: &str,
    user: Option<&SessionUser>,
    ctx: minijinja::Value,
) -> Response {
    let tmpl = match s.templates.get_template(name) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "template missing");
            return (StatusCode::INTERNAL_SERVER_ERROR, "服务器内部错误").into_response();
        }
    };
    let base = context! { user => user, csrf => user.map(|u| u.csrf.clone()), roles => role_flags(user),
    unread => user.and(crate::inbox::current_unread()) };
    match tmpl.render(context! { ..base, ..ctx }) {
        Ok(html) => (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = ?e, "template render failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "服务器内部错误").into_response()
        }
    }
}

fn role_flags(user: Option<&SessionUser>) -> minijinja::Value {
    let r = user.map(|u| u.role);
    context! {
        admin => r == Some(Role::Admin),
        supervisor => r == Some(Role::Supervisor),
        leader => r == Some(Role::Leader),
        liaison => r == Some(Role::Liaison),
        responsible => r == Some(Role::Responsible),
        tech => r == Some(Role::TechBureau),
        enterprise => r == Some(Role::Enterprise),
        institution => r == Some(Role::Institution),
        security_admin => r == Some(Role::SecurityAdmin),
        audit_admin => r == Some(Role::AuditAdmin),
        org_dept => r == Some(Role::OrgDept),
        label => r.map(|r| r.label_zh()),
    }
}

/// `path` with a query string of `pairs`, each value encoded (a message after a redirect).
pub fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    format!("{path}?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
}

pub fn error_page(s: &AppState, user: Option<&SessionUser>, e: &StoreError) -> Response {
    let status = status_of(e);
    if let StoreError::Internal(d) = e {
        tracing::error!(detail = %d, "internal error");
    }
    render(s, status, "error.html", user, context! { message => e.to_string(), status => status.as_u16() })
}

/// The second screen of an irreversible action (撤销, 办结销号, 发布通报, 发布排名): what will
/// happen, and a form that sends the same fields again with `confirm=1` — or `back=1` to return to
/// the form with everything kept. Plain HTML: it needs no script.
pub(crate) struct Confirm {
    pub title: String,
    /// What cannot be undone, in one sentence.
    pub warning: String,
    /// (label, value) lines of what will be done.
    pub rows: Vec<(String, String)>,
    /// Where the form posts (the same route as the first submission).
    pub action: String,
    /// The fields of the first submission, sent again.
    pub hidden: Vec<(String, String)>,
    pub button: String,
    /// More for the template (a ranking table to publish).
    pub extra: minijinja::Value,
}

pub(crate) fn confirm_page(s: &AppState, u: &SessionUser, c: Confirm) -> Response {
    // The token and the flags are the new form's own.
    let hidden: Vec<(String, String)> =
        c.hidden.into_iter().filter(|(k, _)| !matches!(k.as_str(), "_csrf" | "confirm" | "back")).collect();
    render(
        s,
        StatusCode::OK,
        "confirm.html",
        Some(u),
        context! { title => c.title, warning => c.warning, rows => c.rows, action => c.action, hidden => hidden,
        button => c.button, ..c.extra },
    )
}
