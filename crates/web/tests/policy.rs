//! The permission matrix: every operation of the OpenAPI document and every page route has an
//! entry in the declared tables (a new route without one fails here), and for every role the
//! server refuses exactly what the tables do not give it — before any handler runs — on SQLite
//! and PostgreSQL.

mod common;

use common::{Client, dt, with_demo};
use xietong_supervision::Role;
use xietong_web::policy::{Allow, PAGES, REFUSED, TABLE, lookup, lookup_page};

/// One demo account per role.
const ACCOUNTS: [(Role, &str); 10] = [
    (Role::Admin, "admin"),
    (Role::Supervisor, "duchaju"),
    (Role::Leader, "fqz_cj"),
    (Role::Liaison, "jsj_lly"),
    (Role::Responsible, "jsj_dlk"),
    (Role::TechBureau, "kejiju"),
    (Role::Enterprise, "qiye"),
    (Role::Institution, "gaoxiao"),
    (Role::SecurityAdmin, "anquan"),
    (Role::AuditAdmin, "shenji"),
];

/// A concrete URL for a routed path (the guard runs before the handler reads any of it).
fn concrete(path: &str) -> String {
    path.replace("{id}", "1")
        .replace("{user_id}", "1")
        .replace("{date}", "2026-12-01")
        .replace("{kind}", "tasks")
        .replace("{what}", "tech-problems")
        .replace("{library}", "problem")
        .replace("{action}", "report")
        .replace("{role}", "liaison")
        .replace("{lib}", "problem")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_is_refused_exactly_what_the_table_denies() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        let http = reqwest::Client::new();
        let spec: serde_json::Value =
            http.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
        let mut ops = vec![];
        for (path, methods) in spec["paths"].as_object().unwrap() {
            for method in methods.as_object().unwrap().keys() {
                ops.push((method.to_uppercase(), path.clone()));
            }
        }
        let missing: Vec<_> = ops.iter().filter(|(m, p)| lookup(&m.parse().unwrap(), p).is_none()).collect();
        assert!(missing.is_empty(), "operations without a permission entry: {missing:?}");
        let stale: Vec<_> = TABLE.iter().filter(|(m, p, _)| !ops.iter().any(|(om, op)| om == m && op == p)).collect();
        assert!(stale.is_empty(), "table entries for operations that do not exist: {stale:?}");

        for (role, username) in ACCOUNTS {
            assert_eq!(Role::from_code(role.code()), Some(role));
            let c = Client::login(&app, username).await;
            let (_, me) = c.get("/api/me").await;
            assert_eq!(me["role"], role.code(), "{username} is a {}", role.label_zh());
            for (method, path) in &ops {
                let allowed = match lookup(&method.parse().unwrap(), path).unwrap() {
                    Allow::Public | Allow::Operator => true,
                    Allow::Roles(rs) => rs.contains(&role),
                };
                // Only refusals and reads are sent: an allowed write would change the data.
                if allowed && method != "GET" {
                    continue;
                }
                let url = format!("{}{}", app.base, concrete(path));
                let r = http
                    .request(method.parse().unwrap(), &url)
                    .bearer_auth(&c.token)
                    .json(&serde_json::json!({}))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let body: serde_json::Value = r.json().await.unwrap_or(serde_json::Value::Null);
                let by_table = body["error"].as_str().is_some_and(|e| e.starts_with(REFUSED));
                if allowed {
                    assert!(!by_table, "{username} ({}) refused {method} {path} by the table: {body}", role.label_zh());
                    assert!(status < 500, "{username} {method} {path}: {status} {body}");
                } else {
                    assert!(
                        status == 403 && by_table,
                        "{username} ({}) should be refused {method} {path}: {status} {body}",
                        role.label_zh()
                    );
                }
            }
        }
        // Without a session the handler's own 401 answers, not the table.
        let r = http.get(app.url("/api/tasks")).send().await.unwrap();
        assert_eq!(r.status(), 401);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_is_refused_exactly_the_pages_the_table_denies() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        // The routes as the server has them; each answers (no 405) without a session.
        let routed: Vec<(&str, &str)> = xietong_web::page_routes().routes().to_vec();
        for (method, path) in &routed {
            let r =
                http.request(method.parse().unwrap(), format!("{}{}", app.base, concrete(path))).send().await.unwrap();
            assert_ne!(r.status().as_u16(), 405, "{method} {path} is routed");
        }
        assert!(routed.len() > 90, "{} page routes", routed.len());
        let missing: Vec<_> = routed.iter().filter(|(m, p)| lookup_page(&m.parse().unwrap(), p).is_none()).collect();
        assert!(missing.is_empty(), "page routes without a permission entry: {missing:?}");
        let stale: Vec<_> =
            PAGES.iter().filter(|(m, p, _)| !routed.iter().any(|(rm, rp)| rm == m && rp == p)).collect();
        assert!(stale.is_empty(), "page table entries for routes that do not exist: {stale:?}");

        for (role, username) in ACCOUNTS {
            let c = Client::login(&app, username).await;
            for (method, path) in &routed {
                let allowed = match lookup_page(&method.parse().unwrap(), path).unwrap() {
                    Allow::Public | Allow::Operator => continue,
                    Allow::Roles(rs) => rs.contains(&role),
                };
                // Only refusals and reads are sent: an allowed write would change the data.
                if allowed && *method != "GET" {
                    continue;
                }
                let url = format!("{}{}", app.base, concrete(path));
                let r = http
                    .request(method.parse().unwrap(), &url)
                    .bearer_auth(&c.token)
                    .form(&[("x", "1")])
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let html = r.text().await.unwrap();
                let by_table = html.contains(REFUSED);
                if allowed {
                    assert!(!by_table, "{username} ({}) refused page {method} {path} by the table", role.label_zh());
                    assert!(status < 500, "{username} {method} {path}: {status}");
                } else {
                    assert!(
                        status == 403 && by_table,
                        "{username} ({}) should be refused page {method} {path}: {status}",
                        role.label_zh()
                    );
                    assert!(html.contains(role.label_zh()), "the refusal says whose role it is");
                }
            }
        }
        tdb.cleanup().await;
    });
}

/// The OpenAPI document names the roles of each operation exactly as the permission table does,
/// and a role named in an operation's summary (e.g. 「在线用户（安全管理员）」) is one that may call it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_states_the_roles_of_the_table() {
    let Some((tdb, app)) = with_demo(common::Backend::Sqlite, dt("2026-11-23 10:00")).await else { return };
    let spec: serde_json::Value = reqwest::get(app.url("/api/openapi.json")).await.unwrap().json().await.unwrap();
    let mut checked = 0;
    let mut wrong = vec![];
    for (path, methods) in spec["paths"].as_object().unwrap() {
        for (method, op) in methods.as_object().unwrap() {
            let allow = lookup(&method.to_uppercase().parse().unwrap(), path).unwrap();
            let documented: Vec<&str> = op["x-roles"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
            let table: Vec<&str> = match allow {
                Allow::Public | Allow::Operator => vec![],
                Allow::Roles(rs) => rs.iter().map(|r| r.label_zh()).collect(),
            };
            assert_eq!(documented, table, "{method} {path}: x-roles");
            let description = op["description"].as_str().unwrap_or_default();
            assert!(description.contains("可用角色：") || description.contains("无需登录"), "{method} {path}");
            let summary = op["summary"].as_str().unwrap_or_default();
            for role in Role::ALL {
                // Only the role named as the operation's user, in the summary's brackets.
                let named = summary.rsplit_once('（').is_some_and(|(_, tail)| {
                    tail.trim_end_matches(['。', '）']).split(['、', '或', '/', '，']).any(|w| w == role.label_zh())
                });
                if named && !table.contains(&role.label_zh()) {
                    wrong.push(format!("{method} {path}: 「{summary}」 names {}", role.label_zh()));
                }
            }
            checked += 1;
        }
    }
    assert!(wrong.is_empty(), "summaries naming a role the table refuses:\n{}", wrong.join("\n"));
    assert!(checked > 100, "{checked} operations");
    tdb.cleanup().await;
}

/// Each schema name in the document stands for one Rust type: two types deriving `ToSchema` under
/// one name would silently share a schema (the 难题 form was documented as the 问题台账 form).
#[test]
fn each_schema_name_is_one_type() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut names: std::collections::HashMap<String, Vec<String>> = Default::default();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() && !p.ends_with("tests") && !p.ends_with("target") {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let src = std::fs::read_to_string(&p).unwrap();
                let mut pending: Option<Option<String>> = None;
                for line in src.lines() {
                    let l = line.trim();
                    if l.starts_with("#[derive(") && l.contains("ToSchema") {
                        pending = Some(None);
                    } else if let Some(alias) = l.strip_prefix("#[schema(as = ") {
                        if let Some(p) = pending.as_mut() {
                            *p = Some(alias.trim_end_matches(")]").rsplit("::").next().unwrap().to_string());
                        }
                    } else if let Some(rest) = l.strip_prefix("pub struct ").or_else(|| l.strip_prefix("pub enum "))
                        && let Some(alias) = pending.take()
                    {
                        let name = rest.split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap();
                        let name = alias.unwrap_or_else(|| name.to_string());
                        names.entry(name).or_default().push(p.display().to_string());
                    }
                }
            }
        }
    }
    assert!(names.len() > 50, "found the schema types ({})", names.len());
    let twice: Vec<_> = names.iter().filter(|(_, at)| at.len() > 1).collect();
    assert!(twice.is_empty(), "schema names used by more than one type: {twice:?}");
}
