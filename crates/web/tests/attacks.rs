//! Attacks a 等保 assessor tries, on SQLite and PostgreSQL: a fixed session id, a tampered cookie or
//! token, SQL and HTML injection through forms and search, and the security headers on every answer.

mod common;

use common::{Client, dt, with_demo};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_id_cannot_be_fixed_or_forged() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        let planted = "a".repeat(64);
        let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        // An attacker plants a cookie; signing in issues a new, different session.
        let r = c
            .post(app.url("/login"))
            .header("cookie", format!("xt_session={planted}"))
            .form(&[("username", "jsj_lly"), ("password", xietong_demo::DEMO_PASSWORD), ("next", "/todo")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
        let issued = set.split(';').next().unwrap().trim_start_matches("xt_session=").to_string();
        assert_ne!(issued, planted);
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
        let r = c.get(app.url("/todo")).header("cookie", format!("xt_session={planted}")).send().await.unwrap();
        assert_eq!(r.status(), 303, "the planted id is no session");
        assert_eq!(
            c.get(app.url("/todo")).header("cookie", format!("xt_session={issued}")).send().await.unwrap().status(),
            200
        );
        // One character changed: refused, for the cookie and for a bearer token.
        let mut tampered = issued.clone().into_bytes();
        tampered[10] = if tampered[10] == b'0' { b'1' } else { b'0' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(
            c.get(app.url("/todo")).header("cookie", format!("xt_session={tampered}")).send().await.unwrap().status(),
            303
        );
        let r = c.get(app.url("/api/me")).bearer_auth(&tampered).send().await.unwrap();
        assert_eq!(r.status(), 401);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"], "未登录或会话已过期，请重新登录");
        // An absurdly long token is not even looked up.
        assert_eq!(c.get(app.url("/api/me")).bearer_auth("x".repeat(10_000)).send().await.unwrap().status(), 401);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injection_strings_are_stored_and_shown_inert() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        let qiye = Client::login(&app, "qiye").await;
        let sql = "架桥机'; DROP TABLE tasks; --";
        let html = "<script>alert('xt')</script><img src=x onerror=alert(1)>焊接残余应力需要消除";
        let (s, v) = qiye
            .post("/api/tech-problems", json!({"title": sql, "description": html, "keywords": "' OR 1=1 --"}))
            .await;
        assert_eq!(s, 201, "{v}");
        let id = v["id"].as_i64().unwrap();
        let (_, list) = qiye.get("/api/tech-problems").await;
        let p = list.as_array().unwrap().iter().find(|p| p["id"] == id).unwrap().clone();
        assert_eq!((p["title"].as_str(), p["description"].as_str()), (Some(sql), Some(html)), "stored as typed");
        let n: i64 = sqlx::Row::try_get(
            &sqlx::query("SELECT COUNT(*) AS n FROM tasks").fetch_one(&tdb.db.pool).await.unwrap(),
            "n",
        )
        .unwrap();
        assert!(n > 0, "the tasks table is still there");
        // The page escapes it.
        let c = reqwest::Client::builder().cookie_store(true).build().unwrap();
        c.post(app.url("/login"))
            .form(&[("username", "qiye"), ("password", xietong_demo::DEMO_PASSWORD), ("next", "/todo")])
            .send()
            .await
            .unwrap();
        let page = c.get(app.url(&format!("/docking/problems/{id}"))).send().await.unwrap().text().await.unwrap();
        assert!(!page.contains("<script>alert") && !page.contains("<img src=x"), "no live markup from user text");
        assert!(page.contains("&lt;script&gt;"), "shown as text");
        // Search and filters take the same strings as data.
        let tech = Client::login(&app, "kejiju").await;
        for q in ["' OR 1=1 --", "\"; DROP TABLE achievements; --", "%' AND '1'='1", "\\\\'", "尼龙) OR (1=1"] {
            let (s, v) = tech.post("/api/achievements/match", json!({"q": q})).await;
            assert!(s == 200 || s == 400, "{q}: {s} {v}");
        }
        let sup = Client::login(&app, "duchaju").await;
        let (s, v) = sup.get("/api/tasks?q=%27%20OR%201%3D1%20--").await;
        assert_eq!((s, v["total"].as_i64()), (200, Some(0)), "{v}");
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_security_headers() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        for path in ["/login", "/todo", "/api/me", "/api/openapi.json", "/health", "/no-such-page"] {
            let r = c.get(app.url(path)).send().await.unwrap();
            let h = r.headers();
            assert_eq!(h["x-frame-options"], "DENY", "{path}");
            assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
            assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"), "{path}");
        }
        tdb.cleanup().await;
    });
}
