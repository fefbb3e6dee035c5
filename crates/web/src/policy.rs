//! The declared permission table (role × API operation), enforced before any handler runs: a
//! request whose role the table does not list for its operation is refused with 403, and an
//! operation missing from the table is refused for everyone (fail closed). The storage layer then
//! applies the finer rules (data scope, task state, who leads a unit). A test walks every
//! operation of the OpenAPI document against this table for every role.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use xietong_supervision::Role::{self, *};

use crate::error::ErrorBody;
use crate::AppState;

/// Who may call an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allow {
    /// No session needed (signing in).
    Public,
    /// Signed-in users of these roles.
    Roles(&'static [Role]),
}

use Allow::{Public, Roles};

const ALL: &[Role] = &Role::ALL;
/// The district's own staff: supervision work.
const DISTRICT: &[Role] = &[Admin, Supervisor, Leader, Liaison, Responsible, TechBureau];
/// The 产学研 platform's users.
const PLATFORM: &[Role] = &[Admin, Supervisor, Leader, TechBureau, Enterprise, Institution];
/// The district's figures.
const STATS: &[Role] = &[Admin, Supervisor, Leader, TechBureau];
const ADMIN: &[Role] = &[Admin];
/// 三员分立: the security and audit administrators each have their own few operations.
const SECURITY: &[Role] = &[SecurityAdmin];
const AUDIT: &[Role] = &[AuditAdmin];
/// Accounts: the 系统管理员 for business roles, the 安全管理员 for the three administrators.
const ACCOUNTS: &[Role] = &[Admin, SecurityAdmin];
const SUPERVISOR: &[Role] = &[Supervisor];
const BUREAU: &[Role] = &[TechBureau];
const LEADERSHIP: &[Role] = &[Admin, Supervisor, Leader];

/// (method, path as routed, who). Sorted by path for reading.
pub const TABLE: &[(&str, &str, Allow)] = &[
    ("GET", "/api/achievements", Roles(PLATFORM)),
    ("POST", "/api/achievements", Roles(&[TechBureau, Institution])),
    ("GET", "/api/achievements/match", Roles(PLATFORM)),
    ("POST", "/api/achievements/match", Roles(PLATFORM)),
    ("PUT", "/api/achievements/{id}", Roles(&[TechBureau, Institution])),
    ("GET", "/api/achievements/{id}/matches", Roles(PLATFORM)),
    ("GET", "/api/assessment", Roles(DISTRICT)),
    ("GET", "/api/audit/verify", Roles(AUDIT)),
    ("GET", "/api/calendar/days", Roles(ALL)),
    ("PUT", "/api/calendar/days/{date}", Roles(ADMIN)),
    ("DELETE", "/api/calendar/days/{date}", Roles(ADMIN)),
    ("GET", "/api/calendar/due", Roles(ALL)),
    ("GET", "/api/campaigns", Roles(PLATFORM)),
    ("POST", "/api/campaigns", Roles(BUREAU)),
    ("GET", "/api/categories", Roles(DISTRICT)),
    ("GET", "/api/contracts", Roles(STATS)),
    ("POST", "/api/contracts", Roles(BUREAU)),
    ("GET", "/api/docking-stats", Roles(STATS)),
    ("GET", "/api/dockings", Roles(PLATFORM)),
    ("POST", "/api/dockings", Roles(&[TechBureau, Enterprise])),
    ("GET", "/api/dockings/{id}", Roles(PLATFORM)),
    ("POST", "/api/dockings/{id}/activities", Roles(BUREAU)),
    ("POST", "/api/dockings/{id}/contracts", Roles(BUREAU)),
    ("POST", "/api/dockings/{id}/move", Roles(BUREAU)),
    ("POST", "/api/dockings/{id}/share-contact", Roles(&[TechBureau, Institution])),
    ("POST", "/api/dockings/{id}/tasks", Roles(SUPERVISOR)),
    ("GET", "/api/enterprises", Roles(PLATFORM)),
    ("POST", "/api/enterprises", Roles(BUREAU)),
    ("GET", "/api/experts", Roles(PLATFORM)),
    ("POST", "/api/experts", Roles(&[TechBureau, Institution])),
    ("PUT", "/api/experts/{id}", Roles(&[TechBureau, Institution])),
    ("GET", "/api/experts/{id}/matches", Roles(PLATFORM)),
    ("GET", "/api/exports/audit-log", Roles(AUDIT)),
    ("GET", "/api/exports/docking/{what}", Roles(PLATFORM)),
    ("GET", "/api/exports/login-log", Roles(AUDIT)),
    ("GET", "/api/exports/problems", Roles(DISTRICT)),
    ("GET", "/api/exports/projects", Roles(DISTRICT)),
    ("GET", "/api/exports/tasks", Roles(DISTRICT)),
    ("POST", "/api/imports/indicators", Roles(&[Supervisor, Liaison])),
    ("POST", "/api/imports/lists", Roles(SUPERVISOR)),
    ("POST", "/api/imports/problems", Roles(BUREAU)),
    ("POST", "/api/imports/tasks", Roles(SUPERVISOR)),
    ("GET", "/api/indicators", Roles(DISTRICT)),
    ("POST", "/api/indicators/{id}/reports", Roles(&[Supervisor, Liaison])),
    ("GET", "/api/inspections", Roles(LEADERSHIP)),
    ("POST", "/api/inspections", Roles(SUPERVISOR)),
    ("POST", "/api/inspections/merges", Roles(SUPERVISOR)),
    ("GET", "/api/institutions", Roles(PLATFORM)),
    ("POST", "/api/institutions", Roles(&[Admin, TechBureau])),
    ("GET", "/api/lists", Roles(DISTRICT)),
    ("GET", "/api/lists/{id}", Roles(DISTRICT)),
    ("GET", "/api/me", Roles(ALL)),
    ("GET", "/api/notice-template", Roles(&[Admin, Supervisor])),
    ("PUT", "/api/notice-template", Roles(&[Admin, Supervisor])),
    ("GET", "/api/notices", Roles(DISTRICT)),
    ("POST", "/api/notices", Roles(SUPERVISOR)),
    ("GET", "/api/notices/{id}", Roles(DISTRICT)),
    ("GET", "/api/online", Roles(SECURITY)),
    ("DELETE", "/api/online/{user_id}", Roles(SECURITY)),
    ("PUT", "/api/password", Roles(ALL)),
    ("GET", "/api/people", Roles(DISTRICT)),
    ("POST", "/api/people", Roles(ADMIN)),
    ("GET", "/api/platforms", Roles(PLATFORM)),
    ("POST", "/api/platforms", Roles(&[Admin, TechBureau])),
    ("GET", "/api/problems", Roles(DISTRICT)),
    ("POST", "/api/problems", Roles(&[Supervisor, Leader, Liaison])),
    ("GET", "/api/problems/{id}", Roles(DISTRICT)),
    ("POST", "/api/problems/{id}/actions/{action}", Roles(&[Supervisor, Leader, Liaison])),
    ("POST", "/api/problems/{id}/meetings", Roles(&[Supervisor, Leader, Liaison])),
    ("GET", "/api/projects", Roles(DISTRICT)),
    ("POST", "/api/projects", Roles(SUPERVISOR)),
    ("GET", "/api/projects/{id}", Roles(DISTRICT)),
    ("GET", "/api/ranking-settings", Roles(DISTRICT)),
    ("PUT", "/api/ranking-settings", Roles(SUPERVISOR)),
    ("GET", "/api/rankings", Roles(DISTRICT)),
    ("POST", "/api/rankings", Roles(&[Supervisor, Liaison])),
    ("GET", "/api/rankings/preview", Roles(DISTRICT)),
    ("GET", "/api/rankings/{id}", Roles(DISTRICT)),
    ("GET", "/api/rankings/{id}/export.xlsx", Roles(DISTRICT)),
    ("GET", "/api/rankings/{id}/notice.docx", Roles(DISTRICT)),
    ("GET", "/api/records", Roles(DISTRICT)),
    ("GET", "/api/reviews", Roles(BUREAU)),
    ("GET", "/api/reviews/{library}/{id}", Roles(PLATFORM)),
    ("POST", "/api/reviews/{library}/{id}", Roles(BUREAU)),
    ("POST", "/api/sections/{id}/reports", Roles(&[Supervisor, Liaison])),
    ("GET", "/api/security-settings", Roles(SECURITY)),
    ("PUT", "/api/security-settings", Roles(SECURITY)),
    ("POST", "/api/session", Public),
    ("DELETE", "/api/session", Roles(ALL)),
    ("DELETE", "/api/sessions", Roles(ALL)),
    ("GET", "/api/tasks", Roles(DISTRICT)),
    ("POST", "/api/tasks", Roles(SUPERVISOR)),
    ("GET", "/api/tasks/{id}", Roles(DISTRICT)),
    ("POST", "/api/tasks/{id}/actions/{action}", Roles(&[Supervisor, Leader, Liaison, Responsible])),
    ("GET", "/api/tasks/{id}/indicators", Roles(DISTRICT)),
    ("POST", "/api/tasks/{id}/indicators", Roles(SUPERVISOR)),
    ("GET", "/api/tech-problems", Roles(PLATFORM)),
    ("POST", "/api/tech-problems", Roles(&[TechBureau, Enterprise])),
    ("PUT", "/api/tech-problems/{id}", Roles(&[TechBureau, Enterprise])),
    ("GET", "/api/tech-problems/{id}/matches", Roles(PLATFORM)),
    ("GET", "/api/templates/{kind}", Roles(DISTRICT)),
    ("GET", "/api/todo", Roles(ALL)),
    ("GET", "/api/units", Roles(DISTRICT)),
    ("POST", "/api/units", Roles(ADMIN)),
    ("GET", "/api/users", Roles(ACCOUNTS)),
    ("POST", "/api/users", Roles(ACCOUNTS)),
    ("POST", "/api/users/{id}/active", Roles(ACCOUNTS)),
    ("POST", "/api/users/{id}/password", Roles(ACCOUNTS)),
    ("GET", "/api/visits", Roles(LEADERSHIP)),
    ("POST", "/api/visits", Roles(&[Leader])),
    ("POST", "/api/visits/{id}/tasks", Roles(SUPERVISOR)),
];

/// The start of every refusal by the table, so a client (and the test) can tell it from the
/// finer refusals of data scope and state.
pub const REFUSED: &str = "无权限（权限表）";

pub fn lookup(method: &Method, path: &str) -> Option<Allow> {
    TABLE.iter().find(|(m, p, _)| *m == method.as_str() && *p == path).map(|(_, _, a)| *a)
}

fn refuse(message: String) -> Response {
    (StatusCode::FORBIDDEN, axum::Json(ErrorBody { error: message, field: None })).into_response()
}

/// The guard on every API route (a route layer, so the matched path is known).
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(path) = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()) else { return next.run(req).await };
    match lookup(req.method(), &path) {
        None => refuse(format!("{REFUSED}：接口 {} {path} 未在权限表中声明", req.method())),
        Some(Public) => next.run(req).await,
        Some(Roles(roles)) => {
            let (mut parts, body) = req.into_parts();
            match crate::auth::resolve(&parts, &state).await {
                // No session: the handler answers 401 in its own words.
                Ok(None) => next.run(Request::from_parts(parts, body)).await,
                Ok(Some((u, t))) if roles.contains(&u.role) => {
                    parts.extensions.insert(crate::auth::Resolved(u, t));
                    next.run(Request::from_parts(parts, body)).await
                }
                Ok(Some((u, _))) => refuse(format!("{REFUSED}：{}不能调用 {} {path}", u.role.label_zh(), parts.method)),
                Err(e) => crate::error::ApiError(e).into_response(),
            }
        }
    }
}
