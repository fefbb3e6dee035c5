//! Every page renders for the roles that may see it, and refuses the others (SQLite and PostgreSQL).

mod common;

use common::{dt, with_demo};

async fn browser(app: &common::TestApp, username: &str) -> reqwest::Client {
    let c = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::limited(5)).build().unwrap();
    let r = c.post(app.url("/login")).form(&[("username", username), ("password", xietong_demo::DEMO_PASSWORD), ("next", "/todo")]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.url().path() == "/todo", "login lands on 待办: {}", r.url());
    c
}

async fn page(c: &reqwest::Client, app: &common::TestApp, path: &str) -> (u16, String) {
    let r = c.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_for_each_role() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-11-23 10:00")).await else { continue };
        let admin = browser(&app, "admin").await;
        for (path, needle) in [("/todo", "我的待办"), ("/tasks", "督办任务"), ("/calendar", "工作日历 2026 年"), ("/calendar?year=2027", "未发布"),
                               ("/org", "新增账号"), ("/audit", "哈希链完整"), ("/audit", "登录日志"), ("/tasks/1", "办理时间线")] {
            let (s, html) = page(&admin, &app, path).await;
            assert_eq!(s, 200, "admin {path}");
            assert!(html.contains(needle), "admin {path} should show {needle}");
        }
        let sup = browser(&app, "duchaju").await;
        for (path, needle) in [("/todo", "待交办"), ("/tasks?light=red", "红灯"), ("/tasks?q=%E9%81%93%E8%B7%AF", "道路"), ("/tasks/new", "任务立项"), ("/tasks/1", "催办")] {
            let (s, html) = page(&sup, &app, path).await;
            assert_eq!(s, 200, "supervisor {path}");
            assert!(html.contains(needle), "supervisor {path} should show {needle}");
        }
        let (s, html) = page(&sup, &app, "/tasks?page=abc").await;
        assert_eq!(s, 400);
        assert!(html.contains("page"));
        let (s, _) = page(&sup, &app, "/audit").await;
        assert_eq!(s, 403, "the audit page is the administrator's");
        let lly = browser(&app, "jsj_lly").await;
        let (s, html) = page(&lly, &app, "/tasks/new").await;
        assert_eq!(s, 403);
        assert!(html.contains("无权限"));
        let (s, _) = page(&lly, &app, "/org").await;
        assert_eq!(s, 403);
        // Signed out, every page sends you to the login page.
        let anon = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let r = anon.get(app.url("/tasks/1")).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/login?next=/tasks/1");
        // A wrong password shows the login page again with the reason.
        let r = anon.post(app.url("/login")).form(&[("username", "admin"), ("password", "wrong")]).send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert!(r.text().await.unwrap().contains("用户名或密码错误"));
        tdb.cleanup().await;
    });
}
