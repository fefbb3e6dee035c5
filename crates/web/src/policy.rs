//! The declared permission tables (role × API operation, role × page route), enforced before any
//! handler runs: a request whose role the table does not list for its route is refused with 403,
//! and a route missing from the table is refused for everyone (fail closed). The storage layer
//! then applies the finer rules (数据范围, task state, who leads a unit). Tests walk every
//! operation of the OpenAPI document and every page route against these tables for every role.

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use xietong_storage::auth::SessionUser;
use xietong_supervision::Role::{self, *};

use crate::AppState;
use crate::error::ErrorBody;

/// Who may call an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allow {
    /// No session needed (signing in).
    Public,
    /// Signed-in users of these roles.
    Roles(&'static [Role]),
    /// No session: the operator's monitoring, for this machine, listed addresses or a token
    /// ([`crate::metrics::may_scrape`]); never a page for people.
    Operator,
}

use Allow::{Operator, Public, Roles};

const ALL: &[Role] = &Role::ALL;
/// The district's own staff: supervision work.
const DISTRICT: &[Role] = &[Admin, Supervisor, Leader, Liaison, Responsible, TechBureau];
/// The 产学研 platform's users.
const PLATFORM: &[Role] = &[Admin, Supervisor, Leader, TechBureau, Enterprise, Institution];
/// The district's figures.
const STATS: &[Role] = &[Admin, Supervisor, Leader, TechBureau];
/// Every role with business records (not the security and audit administrators).
const BUSINESS: &[Role] = &[Admin, Supervisor, Leader, Liaison, Responsible, TechBureau, Enterprise, Institution];
const ADMIN: &[Role] = &[Admin];
/// 三员分立: the security and audit administrators each have their own few operations.
const SECURITY: &[Role] = &[SecurityAdmin];
const AUDIT: &[Role] = &[AuditAdmin];
/// Accounts: the 系统管理员 for business roles, the 安全管理员 for the three administrators.
const ACCOUNTS: &[Role] = &[Admin, SecurityAdmin];
const SUPERVISOR: &[Role] = &[Supervisor];
const BUREAU: &[Role] = &[TechBureau];
const LEADERSHIP: &[Role] = &Role::LEADERSHIP;
/// The 组织部's cadre records.
const ORG: &[Role] = &[OrgDept];
/// Who downloads an import template: the district's staff and the 组织部 (its 干部名册).
const TEMPLATES: &[Role] = &[Admin, Supervisor, Leader, Liaison, Responsible, TechBureau, OrgDept];
/// Who may download an attachment (each file's own record decides the rest).
const FILES: &[Role] = &[Admin, Supervisor, Leader, Liaison, Responsible, TechBureau, Enterprise, Institution, OrgDept];

/// (method, path as routed, who). Sorted by path for reading.
pub const TABLE: &[(&str, &str, Allow)] = &[
    ("GET", "/api/achievements", Roles(PLATFORM)),
    ("POST", "/api/achievements", Roles(&[TechBureau, Institution])),
    ("GET", "/api/achievements/match", Roles(PLATFORM)),
    ("POST", "/api/achievements/match", Roles(PLATFORM)),
    ("PUT", "/api/achievements/{id}", Roles(&[TechBureau, Institution])),
    ("GET", "/api/achievements/{id}/matches", Roles(PLATFORM)),
    ("GET", "/api/assessment", Roles(DISTRICT)),
    ("GET", "/api/activities/{id}/attachments", Roles(PLATFORM)),
    ("POST", "/api/activities/{id}/attachments", Roles(BUREAU)),
    // A file: whoever may read the record it belongs to (the storage layer applies that record's rule).
    ("GET", "/api/attachments/{id}", Roles(BUSINESS)),
    ("GET", "/api/attachments/{id}/thumbnail", Roles(BUSINESS)),
    ("POST", "/api/audit/purge", Roles(AUDIT)),
    ("GET", "/api/audit/verify", Roles(AUDIT)),
    ("GET", "/api/calendar/days", Roles(ALL)),
    ("PUT", "/api/calendar/days/{date}", Roles(ADMIN)),
    ("DELETE", "/api/calendar/days/{date}", Roles(ADMIN)),
    ("GET", "/api/calendar/due", Roles(ALL)),
    ("GET", "/api/campaigns", Roles(PLATFORM)),
    ("POST", "/api/campaigns", Roles(BUREAU)),
    ("GET", "/api/categories", Roles(DISTRICT)),
    ("PUT", "/api/categories/{id}/evidence-rule", Roles(SUPERVISOR)),
    ("GET", "/api/contracts", Roles(STATS)),
    ("GET", "/api/contracts/{id}/attachments", Roles(PLATFORM)),
    ("POST", "/api/contracts/{id}/attachments", Roles(BUREAU)),
    ("POST", "/api/contracts", Roles(BUREAU)),
    ("GET", "/api/docking-baselines", Roles(STATS)),
    ("PUT", "/api/docking-baselines/{figure}", Roles(BUREAU)),
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
    ("GET", "/api/industries", Roles(PLATFORM)),
    ("GET", "/api/experts", Roles(PLATFORM)),
    ("POST", "/api/experts", Roles(&[TechBureau, Institution])),
    ("PUT", "/api/experts/{id}", Roles(&[TechBureau, Institution])),
    ("GET", "/api/experts/{id}/matches", Roles(PLATFORM)),
    ("GET", "/api/experiences", Roles(ORG)),
    ("POST", "/api/experiences", Roles(ORG)),
    ("GET", "/api/experiences/totals", Roles(ORG)),
    ("GET", "/api/experiences/{id}", Roles(ORG)),
    ("PUT", "/api/experiences/{id}", Roles(ORG)),
    ("GET", "/api/experiences/{id}/attachments", Roles(ORG)),
    ("POST", "/api/experiences/{id}/attachments", Roles(ORG)),
    ("POST", "/api/experiences/{id}/members", Roles(ORG)),
    ("PUT", "/api/experiences/{id}/members/{person_id}", Roles(ORG)),
    ("DELETE", "/api/experiences/{id}/members/{person_id}", Roles(ORG)),
    ("POST", "/api/experiences/{id}/tasks", Roles(ORG)),
    ("GET", "/api/exports/audit-log", Roles(AUDIT)),
    ("GET", "/api/exports/cadres", Roles(ORG)),
    ("GET", "/api/exports/docking/{what}", Roles(PLATFORM)),
    ("GET", "/api/exports/experiences", Roles(ORG)),
    ("GET", "/api/exports/login-log", Roles(AUDIT)),
    ("GET", "/api/exports/notices", Roles(DISTRICT)),
    ("GET", "/api/exports/problems", Roles(DISTRICT)),
    ("GET", "/api/exports/projects", Roles(DISTRICT)),
    ("GET", "/api/exports/tasks", Roles(DISTRICT)),
    ("GET", "/api/exports/teams", Roles(&[Admin, OrgDept])),
    ("POST", "/api/imports/cadres", Roles(ORG)),
    ("POST", "/api/imports/indicators", Roles(&[Supervisor, Liaison])),
    ("POST", "/api/imports/lists", Roles(SUPERVISOR)),
    ("POST", "/api/imports/problems", Roles(BUREAU)),
    ("POST", "/api/imports/tasks", Roles(SUPERVISOR)),
    // 消息中心: everyone has one (the storage layer decides which messages are theirs).
    ("GET", "/api/calendar-feed", Roles(ALL)),
    ("POST", "/api/calendar-feed", Roles(ALL)),
    ("DELETE", "/api/calendar-feed", Roles(ALL)),
    ("GET", "/api/notify/channels", Roles(ADMIN)),
    ("POST", "/api/notify/channels", Roles(ADMIN)),
    ("PUT", "/api/notify/channels/{id}", Roles(ADMIN)),
    ("POST", "/api/notify/channels/{id}/test", Roles(ADMIN)),
    ("PUT", "/api/notify/addresses/{person_id}", Roles(ADMIN)),
    ("GET", "/api/notify/addresses", Roles(ADMIN)),
    ("GET", "/api/notify/prefs/{person_id}", Roles(ALL)),
    ("PUT", "/api/notify/prefs/{person_id}", Roles(ALL)),
    ("GET", "/api/notify/deliveries", Roles(ADMIN)),
    ("POST", "/api/notify/outbox/{id}/retry", Roles(ADMIN)),
    ("POST", "/api/intake/extract", Roles(&[Supervisor])),
    ("GET", "/api/intake/aliases", Roles(&[Admin, Supervisor])),
    ("PUT", "/api/intake/aliases", Roles(&[Admin, Supervisor])),
    ("DELETE", "/api/intake/aliases/{id}", Roles(&[Admin, Supervisor])),
    ("GET", "/api/sso/providers", Roles(SECURITY)),
    ("POST", "/api/sso/providers", Roles(SECURITY)),
    ("PUT", "/api/sso/providers/{id}", Roles(SECURITY)),
    ("POST", "/api/sso/providers/{id}/test", Roles(SECURITY)),
    ("GET", "/api/sso/password-login", Roles(SECURITY)),
    ("PUT", "/api/sso/password-login", Roles(SECURITY)),
    ("GET", "/api/sso/links", Roles(SECURITY)),
    ("DELETE", "/api/sso/links/{provider_id}/{user_id}", Roles(SECURITY)),
    ("GET", "/api/inbox", Roles(ALL)),
    ("POST", "/api/inbox/read-all", Roles(ALL)),
    ("POST", "/api/inbox/{id}/read", Roles(ALL)),
    ("GET", "/api/cadres", Roles(&[OrgDept])),
    ("GET", "/api/cadres/figures", Roles(ORG)),
    ("PUT", "/api/cadres/figures/{year}", Roles(ORG)),
    ("GET", "/api/cadres/suggestions", Roles(&[OrgDept])),
    ("GET", "/api/cadres/{id}", Roles(&[OrgDept])),
    ("PUT", "/api/cadres/{id}", Roles(&[OrgDept])),
    ("GET", "/api/cadres/{id}/evidence", Roles(&[OrgDept])),
    ("POST", "/api/cadres/{id}/pools", Roles(&[OrgDept])),
    ("POST", "/api/cadres/{id}/pools/exit", Roles(&[OrgDept])),
    ("GET", "/api/teams", Roles(&[Admin, OrgDept])),
    ("PUT", "/api/teams/requirements/{kind}", Roles(&[Admin, OrgDept])),
    ("GET", "/api/indicators", Roles(DISTRICT)),
    ("POST", "/api/indicators/{id}/reports", Roles(&[Supervisor, Liaison])),
    ("PUT", "/api/indicators/{id}/plan", Roles(&[Supervisor, Liaison])),
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
    ("GET", "/api/notices/{id}/attachments", Roles(DISTRICT)),
    ("POST", "/api/notices/{id}/attachments", Roles(SUPERVISOR)),
    ("GET", "/api/notices/{id}/notice.docx", Roles(DISTRICT)),
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
    ("GET", "/api/problems/{id}/attachments", Roles(DISTRICT)),
    ("POST", "/api/problems/{id}/attachments", Roles(&[Supervisor, Leader, Liaison])),
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
    ("GET", "/api/rules", Roles(ALL)),
    ("PUT", "/api/rules", Roles(ADMIN)),
    ("GET", "/api/data-scopes", Roles(SECURITY)),
    ("PUT", "/api/data-scopes/{role}", Roles(SECURITY)),
    ("POST", "/api/session", Public),
    ("DELETE", "/api/session", Roles(ALL)),
    ("DELETE", "/api/sessions", Roles(ALL)),
    ("GET", "/api/tasks", Roles(DISTRICT)),
    ("POST", "/api/tasks", Roles(SUPERVISOR)),
    // Batch actions: each task still goes through its single-task rules (who may receive or
    // urge it, in which state), answered row by row.
    ("POST", "/api/tasks/batch/export", Roles(DISTRICT)),
    ("POST", "/api/tasks/batch/receive", Roles(&[Liaison])),
    ("POST", "/api/tasks/batch/urge", Roles(SUPERVISOR)),
    ("GET", "/api/tasks/{id}", Roles(DISTRICT)),
    ("POST", "/api/tasks/{id}/actions/{action}", Roles(&[Supervisor, Leader, Liaison, Responsible])),
    ("PUT", "/api/tasks/{id}/site", Roles(SUPERVISOR)),
    ("GET", "/api/tasks/{id}/attachments", Roles(DISTRICT)),
    ("POST", "/api/tasks/{id}/attachments", Roles(SUPERVISOR)),
    ("POST", "/api/tasks/{id}/evidence/{action}", Roles(&[Supervisor, Leader, Liaison, Responsible])),
    ("GET", "/api/tasks/{id}/indicators", Roles(DISTRICT)),
    ("POST", "/api/tasks/{id}/indicators", Roles(SUPERVISOR)),
    ("GET", "/api/tasks/{id}/notice.docx", Roles(DISTRICT)),
    ("GET", "/api/tech-problems", Roles(PLATFORM)),
    ("POST", "/api/tech-problems", Roles(&[TechBureau, Enterprise])),
    ("PUT", "/api/tech-problems/{id}", Roles(&[TechBureau, Enterprise])),
    ("GET", "/api/tech-problems/{id}/matches", Roles(PLATFORM)),
    ("GET", "/api/templates/{kind}", Roles(TEMPLATES)),
    ("GET", "/api/todo", Roles(ALL)),
    ("GET", "/api/todo/records", Roles(ALL)),
    ("GET", "/api/units", Roles(DISTRICT)),
    ("POST", "/api/units", Roles(ADMIN)),
    ("GET", "/api/users", Roles(ACCOUNTS)),
    ("POST", "/api/users", Roles(ACCOUNTS)),
    ("POST", "/api/users/{id}/active", Roles(ACCOUNTS)),
    ("POST", "/api/users/{id}/password", Roles(ACCOUNTS)),
    ("GET", "/api/visits", Roles(LEADERSHIP)),
    ("POST", "/api/visits", Roles(&[Leader])),
    ("GET", "/api/visits/{id}/attachments", Roles(LEADERSHIP)),
    ("POST", "/api/visits/{id}/attachments", Roles(&[Leader])),
    ("POST", "/api/visits/{id}/tasks", Roles(SUPERVISOR)),
];

/// (method, page route, who): the pages, with the same groups as the API they mirror. Sorted by
/// route for reading.
pub const PAGES: &[(&str, &str, Allow)] = &[
    ("GET", "/", Public),
    ("GET", "/achievements", Roles(PLATFORM)),
    ("POST", "/achievements", Roles(PLATFORM)),
    ("GET", "/assessment", Roles(DISTRICT)),
    ("POST", "/attachments/upload/{kind}/{id}", Roles(&[Supervisor, Leader, Liaison, TechBureau, OrgDept])),
    ("GET", "/attachments/{id}", Roles(FILES)),
    ("GET", "/attachments/{id}/thumbnail", Roles(FILES)),
    ("GET", "/audit", Roles(AUDIT)),
    ("POST", "/audit/purge", Roles(AUDIT)),
    ("GET", "/calendar", Roles(ALL)),
    ("POST", "/calendar/day", Roles(ADMIN)),
    ("POST", "/calendar/day/delete", Roles(ADMIN)),
    ("POST", "/calendar/office-hours", Roles(ADMIN)),
    ("POST", "/calendar/year", Roles(ADMIN)),
    ("POST", "/calendar/rules", Roles(ADMIN)),
    ("GET", "/dashboard", Roles(LEADERSHIP)),
    ("POST", "/data-scopes/{role}", Roles(SECURITY)),
    ("GET", "/docking", Roles(PLATFORM)),
    ("GET", "/docking/achievements", Roles(PLATFORM)),
    ("POST", "/docking/achievements", Roles(&[TechBureau, Institution])),
    ("GET", "/docking/achievements/{id}", Roles(PLATFORM)),
    ("GET", "/docking/campaigns", Roles(PLATFORM)),
    ("POST", "/docking/campaigns", Roles(BUREAU)),
    ("GET", "/docking/contracts", Roles(STATS)),
    ("POST", "/docking/contracts", Roles(BUREAU)),
    ("GET", "/docking/dockings", Roles(PLATFORM)),
    ("POST", "/docking/dockings", Roles(&[TechBureau, Enterprise])),
    ("GET", "/docking/dockings/{id}", Roles(PLATFORM)),
    ("POST", "/docking/dockings/{id}/activities", Roles(BUREAU)),
    ("POST", "/docking/dockings/{id}/contracts", Roles(BUREAU)),
    ("POST", "/docking/dockings/{id}/move", Roles(BUREAU)),
    ("POST", "/docking/dockings/{id}/share-contact", Roles(&[TechBureau, Institution])),
    ("POST", "/docking/dockings/{id}/tasks", Roles(SUPERVISOR)),
    ("GET", "/docking/experts", Roles(PLATFORM)),
    ("POST", "/docking/experts", Roles(&[TechBureau, Institution])),
    ("GET", "/docking/experts/{id}", Roles(PLATFORM)),
    ("GET", "/docking/institutions", Roles(PLATFORM)),
    ("POST", "/docking/institutions", Roles(&[Admin, TechBureau])),
    ("GET", "/docking/platforms", Roles(PLATFORM)),
    ("POST", "/docking/platforms", Roles(&[Admin, TechBureau])),
    ("GET", "/docking/problems", Roles(PLATFORM)),
    ("POST", "/docking/problems", Roles(&[TechBureau, Enterprise])),
    ("GET", "/docking/problems/{id}", Roles(PLATFORM)),
    ("POST", "/docking/problems/{id}/resubmit", Roles(&[TechBureau, Enterprise])),
    ("GET", "/docking/review", Roles(BUREAU)),
    ("POST", "/docking/review/{lib}/{id}", Roles(BUREAU)),
    ("GET", "/docking/stats", Roles(STATS)),
    ("POST", "/docking/stats/baselines/{figure}", Roles(BUREAU)),
    ("GET", "/enterprises", Roles(PLATFORM)),
    ("GET", "/industries", Roles(PLATFORM)),
    ("GET", "/imports", Roles(DISTRICT)),
    ("GET", "/notify", Roles(ADMIN)),
    ("POST", "/notify/channels", Roles(ADMIN)),
    ("POST", "/notify/channels/{id}", Roles(ADMIN)),
    ("POST", "/notify/channels/{id}/test", Roles(ADMIN)),
    ("POST", "/notify/outbox/{id}/retry", Roles(ADMIN)),
    ("POST", "/notify/addresses", Roles(ADMIN)),
    ("GET", "/notify/me", Roles(ALL)),
    ("POST", "/notify/me/prefs/{channel_id}", Roles(ALL)),
    ("POST", "/notify/me/feed", Roles(ALL)),
    ("POST", "/notify/me/feed/revoke", Roles(ALL)),
    // A calendar app fetches it without a session; the token in the path is the key.
    ("GET", "/feeds/{file}", Public),
    ("GET", "/intake", Roles(&[Admin, Supervisor])),
    ("POST", "/intake/aliases", Roles(&[Admin, Supervisor])),
    ("POST", "/intake/aliases/{id}/remove", Roles(&[Admin, Supervisor])),
    ("POST", "/intake/draft", Roles(&[Supervisor])),
    ("POST", "/intake/confirm", Roles(&[Supervisor])),
    ("GET", "/login/sso/{id}", Public),
    ("GET", "/login/sso/{id}/callback", Public),
    ("GET", "/login/dingtalk/{id}", Public),
    ("GET", "/sso", Roles(SECURITY)),
    ("POST", "/sso/providers", Roles(SECURITY)),
    ("POST", "/sso/providers/{id}", Roles(SECURITY)),
    ("POST", "/sso/providers/{id}/test", Roles(SECURITY)),
    ("POST", "/sso/password-login", Roles(SECURITY)),
    ("POST", "/sso/links/{provider_id}/{user_id}/remove", Roles(SECURITY)),
    ("GET", "/inbox", Roles(ALL)),
    ("POST", "/inbox/read-all", Roles(ALL)),
    ("GET", "/inbox/{id}", Roles(ALL)),
    ("POST", "/imports/{kind}", Roles(&[Supervisor, Liaison, TechBureau])),
    ("GET", "/cadres", Roles(&[OrgDept])),
    ("GET", "/cadres/experiences", Roles(ORG)),
    ("POST", "/cadres/experiences", Roles(ORG)),
    ("GET", "/cadres/experiences/{id}", Roles(ORG)),
    ("POST", "/cadres/experiences/{id}", Roles(ORG)),
    ("POST", "/cadres/experiences/{id}/members", Roles(ORG)),
    ("POST", "/cadres/experiences/{id}/members/{person}/assess", Roles(ORG)),
    ("POST", "/cadres/experiences/{id}/members/{person}/remove", Roles(ORG)),
    ("POST", "/cadres/experiences/{id}/tasks", Roles(ORG)),
    ("POST", "/cadres/figures/{year}", Roles(ORG)),
    ("POST", "/cadres/import", Roles(ORG)),
    ("GET", "/cadres/{id}", Roles(&[OrgDept])),
    ("POST", "/cadres/{id}", Roles(&[OrgDept])),
    ("POST", "/cadres/{id}/pool", Roles(&[OrgDept])),
    ("POST", "/cadres/{id}/pool/exit", Roles(&[OrgDept])),
    ("GET", "/teams", Roles(&[Admin, OrgDept])),
    ("POST", "/teams/requirements", Roles(&[Admin, OrgDept])),
    ("GET", "/indicators", Roles(DISTRICT)),
    ("POST", "/indicators/{id}/reports", Roles(&[Supervisor, Liaison])),
    ("POST", "/indicators/{id}/plan", Roles(&[Supervisor, Liaison])),
    ("GET", "/inspections", Roles(LEADERSHIP)),
    ("POST", "/inspections", Roles(SUPERVISOR)),
    ("POST", "/inspections/merge", Roles(SUPERVISOR)),
    ("GET", "/lists", Roles(DISTRICT)),
    ("GET", "/lists/{id}", Roles(DISTRICT)),
    ("GET", "/login", Public),
    ("POST", "/login", Public),
    ("POST", "/logout", Public),
    ("GET", "/metrics", Operator),
    ("POST", "/notice-template", Roles(&[Admin, Supervisor])),
    ("POST", "/notice-template/reset", Roles(&[Admin, Supervisor])),
    ("GET", "/notices", Roles(DISTRICT)),
    ("POST", "/notices", Roles(SUPERVISOR)),
    ("GET", "/notices/{id}", Roles(DISTRICT)),
    ("GET", "/notices/{id}/notice.docx", Roles(DISTRICT)),
    ("GET", "/online", Roles(SECURITY)),
    ("POST", "/online/{user_id}/logout", Roles(SECURITY)),
    ("GET", "/org", Roles(LEADERSHIP)),
    ("POST", "/org/people", Roles(ADMIN)),
    ("POST", "/org/units", Roles(ADMIN)),
    ("POST", "/org/users", Roles(ACCOUNTS)),
    ("POST", "/org/users/{id}/active", Roles(ACCOUNTS)),
    ("POST", "/org/users/{id}/password", Roles(ACCOUNTS)),
    ("GET", "/password", Roles(ALL)),
    ("POST", "/password", Roles(ALL)),
    ("GET", "/problems", Roles(DISTRICT)),
    ("POST", "/problems", Roles(&[Supervisor, Leader, Liaison])),
    ("GET", "/problems/{id}", Roles(DISTRICT)),
    ("POST", "/problems/{id}/actions/{action}", Roles(&[Supervisor, Leader, Liaison])),
    ("POST", "/problems/{id}/meetings", Roles(&[Supervisor, Leader, Liaison])),
    ("GET", "/projects", Roles(DISTRICT)),
    ("POST", "/projects", Roles(SUPERVISOR)),
    ("GET", "/projects/{id}", Roles(DISTRICT)),
    ("GET", "/rankings", Roles(DISTRICT)),
    ("POST", "/rankings/publish", Roles(&[Supervisor, Liaison])),
    ("POST", "/rankings/settings", Roles(SUPERVISOR)),
    ("GET", "/rankings/{id}", Roles(DISTRICT)),
    ("GET", "/records", Roles(DISTRICT)),
    ("POST", "/sections/{id}/report", Roles(&[Supervisor, Liaison])),
    ("POST", "/security-settings", Roles(SECURITY)),
    ("POST", "/sessions/logout-all", Roles(ALL)),
    ("GET", "/tasks", Roles(DISTRICT)),
    ("POST", "/categories/{id}/evidence-rule", Roles(SUPERVISOR)),
    ("POST", "/tasks/{id}/site", Roles(SUPERVISOR)),
    ("GET", "/tasks/new", Roles(SUPERVISOR)),
    ("POST", "/tasks/new", Roles(SUPERVISOR)),
    ("POST", "/tasks/batch/export", Roles(DISTRICT)),
    ("POST", "/tasks/batch/receive", Roles(&[Liaison])),
    ("POST", "/tasks/batch/urge", Roles(SUPERVISOR)),
    ("GET", "/tasks/{id}", Roles(DISTRICT)),
    ("POST", "/tasks/{id}/actions/{action}", Roles(&[Supervisor, Leader, Liaison, Responsible])),
    ("POST", "/tasks/{id}/evidence/{action}", Roles(&[Supervisor, Leader, Liaison, Responsible])),
    ("GET", "/tasks/{id}/notice.docx", Roles(DISTRICT)),
    // Indicators from the task page: the 督查局, or a liaison who may report on the task.
    ("POST", "/tasks/{id}/indicators", Roles(&[Supervisor, Liaison])),
    ("GET", "/todo", Roles(ALL)),
    ("POST", "/visits", Roles(&[Leader])),
    ("POST", "/visits/{id}/tasks", Roles(SUPERVISOR)),
];

/// [`PAGES`] as JSON: `[{"method", "path", "roles": [role codes] | "public" | "operator"}]`.
pub fn pages_json() -> String {
    let rows: Vec<serde_json::Value> = PAGES
        .iter()
        .map(|(m, p, a)| {
            let roles = match a {
                Public => serde_json::json!("public"),
                // The scraper of /metrics, not a person's role.
                Operator => serde_json::json!("operator"),
                Roles(r) => serde_json::json!(r.iter().map(|r| r.code()).collect::<Vec<_>>()),
            };
            serde_json::json!({ "method": m, "path": p, "roles": roles })
        })
        .collect();
    serde_json::Value::Array(rows).to_string()
}

/// A router of pages that remembers its routes (method and path), so the permission test can walk
/// every one.
#[derive(Default)]
pub struct Pages {
    router: Router<AppState>,
    routes: Vec<(&'static str, &'static str)>,
}

impl Pages {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn route(mut self, path: &'static str, methods: MethodRouter<AppState>) -> Self {
        // axum has no accessor for a method router's methods; its Debug output names each one,
        // with `None` for those not routed.
        let debug = format!("{methods:?}");
        for m in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            if debug.contains(&format!(" {}: ", m.to_lowercase()))
                && !debug.contains(&format!(" {}: None", m.to_lowercase()))
            {
                self.routes.push((m, path));
            }
        }
        self.router = self.router.route(path, methods);
        self
    }
    pub fn merge(mut self, other: Pages) -> Self {
        self.routes.extend(other.routes);
        self.router = self.router.merge(other.router);
        self
    }
    /// (method, path) of every page route.
    pub fn routes(&self) -> &[(&'static str, &'static str)] {
        &self.routes
    }
    /// The routes behind the page table's guard.
    pub fn guarded(self, state: AppState) -> Router<AppState> {
        // The last layer runs first: the guard resolves the session, then the header's unread count.
        self.router
            .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::inbox::unread_count))
            .route_layer(axum::middleware::from_fn_with_state(state, page_guard))
    }
}

/// The start of every refusal by the table, so a client (and the test) can tell it from the
/// finer refusals of data scope and state.
pub const REFUSED: &str = "无权限（权限表）";

fn find(table: &[(&str, &str, Allow)], method: &Method, path: &str) -> Option<Allow> {
    table.iter().find(|(m, p, _)| *m == method.as_str() && *p == path).map(|(_, _, a)| *a)
}

pub fn lookup(method: &Method, path: &str) -> Option<Allow> {
    find(TABLE, method, path)
}

pub fn lookup_page(method: &Method, path: &str) -> Option<Allow> {
    find(PAGES, method, path)
}

/// What a table says about one request.
enum Verdict {
    /// On to the handler (with the resolved session, if any, for its extractor).
    Pass(Request),
    /// The route is not in the table.
    Undeclared(String),
    /// Signed in with a role the table does not list for the route.
    Denied(SessionUser),
    /// Not a caller the operator's routes admit.
    NotOperator,
    Failed(xietong_storage::StoreError),
}

/// Requests without a session pass: the handler answers in its own words (401, or the login page).
async fn judge(table: &[(&str, &str, Allow)], state: &AppState, req: Request) -> Verdict {
    let Some(path) = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()) else {
        return Verdict::Pass(req);
    };
    match find(table, req.method(), &path) {
        None => Verdict::Undeclared(format!("{} {path}", req.method())),
        Some(Public) => Verdict::Pass(req),
        Some(Operator) if crate::metrics::may_scrape(state, &req) => Verdict::Pass(req),
        Some(Operator) => Verdict::NotOperator,
        Some(Roles(roles)) => {
            let (mut parts, body) = req.into_parts();
            match crate::auth::resolve(&parts, state).await {
                Ok(None) => Verdict::Pass(Request::from_parts(parts, body)),
                Ok(Some((u, t))) if roles.contains(&u.role) => {
                    parts.extensions.insert(crate::auth::Resolved(u, t));
                    Verdict::Pass(Request::from_parts(parts, body))
                }
                Ok(Some((u, _))) => Verdict::Denied(u),
                Err(e) => Verdict::Failed(e),
            }
        }
    }
}

fn refuse(message: String) -> Response {
    (StatusCode::FORBIDDEN, axum::Json(ErrorBody { error: message, field: None, fields: vec![] })).into_response()
}

/// The guard on every API route (a route layer, so the matched path is known).
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = format!("{} {}", req.method(), req.extensions().get::<MatchedPath>().map(|m| m.as_str()).unwrap_or(""));
    match judge(TABLE, &state, req).await {
        Verdict::Pass(req) => next.run(req).await,
        Verdict::Undeclared(r) => refuse(format!("{REFUSED}：接口 {r} 未在权限表中声明")),
        Verdict::Denied(u) => refuse(format!("{REFUSED}：{}不能调用 {route}", u.role.label_zh())),
        Verdict::NotOperator => refuse(crate::metrics::REFUSAL.into()),
        Verdict::Failed(e) => crate::error::ApiError(e).into_response(),
    }
}

/// The guard on every page route: refusals are a page in Chinese.
pub async fn page_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let denied = |u: Option<&SessionUser>, message: String| {
        crate::pages::error_page(&state, u, &xietong_storage::StoreError::Denied(message))
    };
    match judge(PAGES, &state, req).await {
        Verdict::Pass(req) => next.run(req).await,
        Verdict::Undeclared(r) => denied(None, format!("{REFUSED}：页面 {r} 未在权限表中声明")),
        Verdict::Denied(u) => denied(Some(&u), format!("{REFUSED}：{}不能访问此页面", u.role.label_zh())),
        Verdict::NotOperator => denied(None, crate::metrics::REFUSAL.into()),
        Verdict::Failed(e) => crate::pages::error_page(&state, None, &e),
    }
}

/// The OpenAPI document states who may call each operation, taken from [`TABLE`] so the two cannot
/// differ: an `x-roles` list of role names and a closing sentence in the description.
pub fn document_roles(mut doc: serde_json::Value) -> serde_json::Value {
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else { return doc };
    for (path, ops) in paths.iter_mut() {
        let Some(ops) = ops.as_object_mut() else { continue };
        for (method, op) in ops.iter_mut() {
            let Ok(m) = Method::from_bytes(method.to_uppercase().as_bytes()) else { continue };
            let Some(allow) = lookup(&m, path) else { continue };
            let Some(op) = op.as_object_mut() else { continue };
            let (roles, line) = match allow {
                Public => (vec![], "无需登录。".to_string()),
                Operator => (vec![], "运维监控：仅限本机或所列地址。".to_string()),
                Roles(r) => {
                    let labels: Vec<&str> = r.iter().map(|r| r.label_zh()).collect();
                    let line = format!("可用角色：{}。", labels.join("、"));
                    (labels, line)
                }
            };
            op.insert("x-roles".into(), serde_json::json!(roles));
            let description = match op.get("description").and_then(|d| d.as_str()) {
                Some(d) if !d.is_empty() => format!("{d}\n\n{line}"),
                _ => line,
            };
            op.insert("description".into(), description.into());
        }
    }
    doc
}
