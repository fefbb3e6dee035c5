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
                    Allow::Public => true,
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
                    Allow::Public => continue,
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
