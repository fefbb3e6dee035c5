//! 审计日志 and 登录日志: verification, export and purge (API and page).

use axum::Json;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_calendar::parse_date;
use xietong_storage::StoreError;

use crate::AppState;
use crate::api::{J, Q};
use crate::auth::{ApiUser, PageUser};
use crate::error::{ApiError, ErrorBody};
use crate::pages::{error_page, render};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(audit_verify))
        .routes(routes!(audit_purge))
        .routes(routes!(export_login_log))
        .routes(routes!(export_audit_log))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new().route("/audit", get(audit_page)).route("/audit/purge", post(audit_purge_submit))
}

#[derive(Serialize, ToSchema)]
pub struct AuditStatus {
    pub ok: bool,
    pub entries: i64,
    pub error: Option<String>,
}

/// 导出登录日志（Excel，按查询条件，最多 10 万条）。仅审计管理员。
#[utoipa::path(get, path = "/api/exports/login-log", params(xietong_storage::auth::LogQuery), tag = "审计",
    responses((status = 200, description = "Excel 文件", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn export_login_log(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(q): Q<xietong_storage::auth::LogQuery>,
) -> Result<axum::response::Response, ApiError> {
    use xietong_office::table::{Cell, Column};
    u.actor().may_audit()?;
    let rows: Vec<Vec<Cell>> =
        s.db.search_logins(&q, 100_000)
            .await?
            .into_iter()
            .map(|l| {
                vec![
                    Cell::DateTime(l.at),
                    Cell::Text(l.username),
                    Cell::Text(l.address),
                    Cell::Text(if l.ok { "成功" } else { "失败" }.into()),
                    Cell::Text(l.message),
                ]
            })
            .collect();
    let cols: Vec<Column> = [("时间", 18.0), ("用户名", 14.0), ("地址", 16.0), ("结果", 8.0), ("说明", 50.0)]
        .iter()
        .map(|(h, w)| Column::plain(h, *w))
        .collect();
    log_download(&s, "登录日志", cols, rows).await
}

/// 导出操作日志（审计链，Excel，按查询条件，最多 10 万条）。仅审计管理员。
#[utoipa::path(get, path = "/api/exports/audit-log", params(xietong_storage::auth::LogQuery), tag = "审计",
    responses((status = 200, description = "Excel 文件", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn export_audit_log(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(q): Q<xietong_storage::auth::LogQuery>,
) -> Result<axum::response::Response, ApiError> {
    use xietong_office::table::{Cell, Column};
    u.actor().may_audit()?;
    let rows: Vec<Vec<Cell>> =
        s.db.search_audit(&q, 100_000)
            .await?
            .into_iter()
            .map(|e| {
                vec![
                    Cell::Number(e.seq as f64),
                    Cell::Text(e.at),
                    Cell::Text(e.actor),
                    Cell::Text(e.action),
                    Cell::Text(format!("{} #{}", e.entity, e.entity_id)),
                    Cell::Text(e.before),
                    Cell::Text(e.after),
                    Cell::Text(e.hash),
                ]
            })
            .collect();
    let cols: Vec<Column> = [
        ("序号", 8.0),
        ("时间", 18.0),
        ("操作人", 14.0),
        ("操作", 20.0),
        ("对象", 20.0),
        ("变更前", 40.0),
        ("变更后", 40.0),
        ("SM3", 30.0),
    ]
    .iter()
    .map(|(h, w)| Column::plain(h, *w))
    .collect();
    log_download(&s, "操作日志", cols, rows).await
}

async fn log_download(
    s: &AppState,
    name: &'static str,
    cols: Vec<xietong_office::table::Column>,
    rows: Vec<Vec<xietong_office::table::Cell>>,
) -> Result<axum::response::Response, ApiError> {
    let now = s.clock.now();
    let title = format!("{name}（导出时间 {}）", now.format("%Y-%m-%d %H:%M"));
    let bytes = s
        .heavy(move || {
            let internal = |e: xietong_office::OfficeError| StoreError::internal(e.to_string());
            xietong_office::xlsx::export_table(name, Some(&title), &cols, &rows).map_err(internal)
        })
        .await?;
    Ok(crate::downloads::download(crate::downloads::XLSX, &format!("{name}_{}.xlsx", now.format("%Y%m%d")), bytes))
}

/// 校验审计日志哈希链（SM3）。仅审计管理员。
#[utoipa::path(get, path = "/api/audit/verify", tag = "审计", responses((status = 200, body = AuditStatus), (status = 403, body = ErrorBody)))]
async fn audit_verify(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<AuditStatus>, ApiError> {
    u.actor().may_audit()?;
    Ok(Json(match s.db.verify_audit().await? {
        Ok(n) => AuditStatus { ok: true, entries: n, error: None },
        Err(e) => AuditStatus { ok: false, entries: 0, error: Some(e.to_string()) },
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct PurgeLogs {
    /// 清理此日期（不含）之前的操作日志和登录日志，YYYY-MM-DD；须早于今天 180 天以上
    pub before: String,
}

/// 清理保留期（180 天）以前的操作日志和登录日志。仅审计管理员；清理本身记入审计日志。
#[utoipa::path(post, path = "/api/audit/purge", request_body = PurgeLogs, tag = "审计",
    responses((status = 200, body = xietong_storage::audit::Purged), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn audit_purge(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(b): J<PurgeLogs>,
) -> Result<Json<xietong_storage::audit::Purged>, ApiError> {
    let before = parse_date("清理截止日期", b.before.trim())?;
    Ok(Json(s.db.purge_logs(&u, before, s.clock.now()).await?))
}

async fn audit_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    axum::extract::Query(lq): axum::extract::Query<xietong_storage::auth::LogQuery>,
    axum::extract::Query(raw): axum::extract::Query<Vec<(String, String)>>,
) -> Response {
    if let Err(e) = u.actor().may_audit() {
        return error_page(&s, Some(&u), &e.into());
    }
    let verify = match s.db.verify_audit().await {
        Ok(Ok(n)) => context! { ok => true, entries => n },
        Ok(Err(e)) => context! { ok => false, error => e.to_string() },
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    // One search form per log: `log=login` applies the filters to the 登录日志, otherwise to the operation log.
    let login_search = raw.iter().any(|(k, v)| k == "log" && v == "login");
    let none = xietong_storage::auth::LogQuery::default();
    let (aq, lq2) = if login_search { (&none, &lq) } else { (&lq, &none) };
    let (recent, logins) = match (s.db.search_audit(aq, 200).await, s.db.search_logins(lq2, 200).await) {
        (Ok(a), Ok(l)) => (a, l),
        (Err(e), _) | (_, Err(e)) => return error_page(&s, Some(&u), &e),
    };
    let names = match s.db.display_names(&recent.iter().map(|e| e.actor.clone()).collect::<Vec<_>>()).await {
        Ok(n) => n,
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    let recent: Vec<AuditRow> = recent.iter().map(|e| audit_row(e, &names)).collect();
    let login_names = match s.db.display_names(&logins.iter().map(|l| l.username.clone()).collect::<Vec<_>>()).await {
        Ok(n) => n,
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    let logins: Vec<_> = logins
        .into_iter()
        .map(|l| {
            let person = login_names.get(&l.username).cloned();
            context! { at => l.at, username => l.username, person => person, address => l.address, ok => l.ok,
            message => l.message }
        })
        .collect();
    let groups: Vec<_> =
        xietong_storage::labels::AUDIT_GROUPS.iter().map(|(c, l)| context! { code => c, label => l }).collect();
    let flash_ok = raw.iter().find(|(k, _)| k == "ok").map(|(_, v)| v.clone());
    let oldest_allowed = xietong_storage::audit::oldest_purgeable(s.clock.now());
    render(
        &s,
        StatusCode::OK,
        "audit.html",
        Some(&u),
        context! { nav => "audit", verify => verify, recent => recent, logins => logins, flash_ok => flash_ok,
        groups => groups,
        oldest_allowed => oldest_allowed.to_string(), retention => xietong_storage::audit::RETENTION_DAYS,
        q => serde_json::json!({"who": lq.who, "what": lq.what, "from": lq.from, "to": lq.to, "login": login_search}) },
    )
}

/// An audit entry as a person reads it: who (post and name), what (操作), on what (对象), and each
/// changed field before and after, in Chinese. The raw entry stays in the export and the chain.
#[derive(Serialize)]
struct AuditRow {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    object: String,
    changes: Vec<FieldChange>,
}

#[derive(Serialize)]
struct FieldChange {
    field: String,
    before: String,
    after: String,
}

fn audit_row(e: &xietong_storage::audit::AuditEntry, names: &std::collections::HashMap<String, String>) -> AuditRow {
    use xietong_storage::labels::{Kind, label};
    let parse = |t: &str| -> serde_json::Map<String, serde_json::Value> {
        match serde_json::from_str::<serde_json::Value>(t) {
            Ok(serde_json::Value::Object(m)) => m,
            Ok(serde_json::Value::Null) | Err(_) if t.trim().is_empty() => Default::default(),
            Ok(v) => [("values".to_string(), v)].into_iter().collect(),
            Err(_) => [("note".to_string(), serde_json::Value::String(t.to_string()))].into_iter().collect(),
        }
    };
    let (before, mut after) = (parse(&e.before), parse(&e.after));
    // A review records the status before and the status reached as `to`.
    if before.contains_key("status")
        && !after.contains_key("status")
        && let Some(to) = after.remove("to")
    {
        after.insert("status".into(), to);
    }
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    let show = |m: &serde_json::Map<String, serde_json::Value>, k: &str| m.get(k).map(|v| audit_value(&e.entity, k, v));
    // A field only in `before` was not recorded after (a review keeps only what it changed).
    let changes = keys
        .into_iter()
        .filter_map(|k| {
            let (b, a) = (show(&before, k), show(&after, k));
            let (before, after) = match (b, a) {
                (Some(b), Some(a)) if a == b => (String::new(), a),
                (Some(b), Some(a)) => (b, a),
                (None, Some(a)) => (String::new(), a),
                (Some(b), None) => (String::new(), format!("{b}（变更前）")),
                (None, None) => return None,
            };
            Some(FieldChange { field: label(Kind::Field, k), before, after })
        })
        .collect();
    AuditRow {
        seq: e.seq,
        at: e.at.replace('T', " ").chars().take(19).collect(),
        actor: names.get(&e.actor).cloned().unwrap_or_else(|| e.actor.clone()),
        action: label(Kind::AuditAction, &e.action),
        // A reported figure is named by its key; other records by their number.
        object: match e.entity.as_str() {
            "reported_baseline" => {
                format!("{}：{}", label(Kind::Record, &e.entity), label(Kind::Baseline, &e.entity_id))
            }
            _ => format!("{} {}", label(Kind::Record, &e.entity), e.entity_id),
        },
        changes,
    }
}

/// One value of an audit entry in words: codes through the label table, yes/no for flags.
fn audit_value(entity: &str, key: &str, v: &serde_json::Value) -> String {
    use serde_json::Value;
    use xietong_storage::labels::{Kind, label, lookup};
    match v {
        Value::Null => "空".into(),
        Value::Bool(b) => if *b { "是" } else { "否" }.into(),
        Value::Number(n) => n
            .as_f64()
            .map(|f| if f.fract() == 0.0 { format!("{}", f as i64) } else { format!("{f}") })
            .unwrap_or_else(|| n.to_string()),
        Value::Array(a) => {
            let parts: Vec<String> = a.iter().map(|x| audit_value(entity, key, x)).collect();
            if parts.is_empty() { "无".into() } else { parts.join("、") }
        }
        Value::Object(m) => m
            .iter()
            .map(|(k, x)| format!("{}：{}", label(Kind::Field, k), audit_value(entity, k, x)))
            .collect::<Vec<_>>()
            .join("；"),
        Value::String(s) => {
            // Only a code-shaped string is looked up; anything a person typed is shown as typed.
            if s.is_empty() || !s.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                return if s.is_empty() { "空".into() } else { s.clone() };
            }
            let kinds: &[Kind] = match (entity, key) {
                ("task", _) => &[Kind::TaskStatus, Kind::Source, Kind::Cycle],
                ("problem", _) => &[Kind::ProblemStatus],
                ("docking", _) => &[Kind::Stage],
                ("project", _) => &[Kind::ProjectKind],
                ("tech_problems" | "experts" | "achievements", "action") => &[Kind::ReviewAction],
                ("tech_problems" | "experts" | "achievements", _) => &[Kind::ReviewStatus],
                (_, "role") => &[Kind::Role],
                (_, "kind") => &[Kind::NoticeKind, Kind::ContractType, Kind::DataScope],
                _ => &[],
            };
            let everything = Kind::ALL;
            kinds
                .iter()
                .chain(everything.iter().filter(|k| **k != Kind::Field))
                .find_map(|k| lookup(*k, s))
                .unwrap_or_else(|| format!("未知（{s}）"))
        }
    }
}

async fn audit_purge_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let before = f.iter().find(|(k, _)| k == "before").map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    let r = match xietong_calendar::parse_date("清理截止日期", &before) {
        Ok(d) => s.db.purge_logs(&u, d, s.clock.now()).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(p) => {
            let msg = format!(
                "已清理 {before} 之前的操作日志 {} 条、登录日志 {} 条；哈希链从第 {} 条继续校验",
                p.audit_entries, p.logins, p.kept_from_seq
            );
            Redirect::to(&format!("/audit?{}", serde_urlencoded::to_string([("ok", msg)]).unwrap_or_default()))
                .into_response()
        }
        Err(e) => error_page(&s, Some(&u), &e),
    }
}
