//! End-to-end tests through the HTTP API, each run on SQLite and on PostgreSQL.

mod common;

use common::{Client, dt, fingerprint, with_demo};
use serde_json::json;

/// Monday 10:00, a working day: the tests' "now".
const NOW: &str = "2026-11-23 10:00";

fn new_task(lead: i64, doc_no: &str, deadline: &str) -> serde_json::Value {
    json!({"title": "测试任务：背街小巷整治", "description": "按区政府常务会要求推进", "source_kind": "meeting", "doc_no": doc_no,
           "source_title": "区政府常务会议纪要", "source_date": "2026-11-20", "lead_unit_id": lead, "co_unit_ids": [],
           "report_cycle": "weekly", "deadline": deadline, "assign_now": true})
}

async fn first_person_of(c: &Client, unit_code: &str) -> (i64, i64) {
    let unit = c.unit_id(unit_code).await;
    let (_, people) = c.get(&format!("/api/people?unit_id={unit}")).await;
    (unit, people[0]["id"].as_i64().expect("a person in the unit"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_lifecycle_with_rejection_round() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let lly = Client::login(&app, "jsj_lly").await;
        let jsj = sup.unit_id("jsj").await;
        let (s, v) = sup.post("/api/tasks", new_task(jsj, "测试〔2026〕1号", "2026-12-04")).await;
        assert_eq!(s, 201, "{v}");
        let id = v["id"].as_i64().unwrap();
        assert_eq!(v["task"]["status"], "assigned");
        assert_eq!(v["handover_clock"]["state"], "met");
        assert_eq!(v["decomposition_clock"]["state"], "running");
        assert!(v["task"]["lead_unit_head"].as_str().is_some_and(|h| !h.is_empty()), "一把手 named on the task");

        let (s, v) = lly.act(id, "receive", json!({})).await;
        assert_eq!((s, v["task"]["status"].as_str()), (200, Some("received")));
        app.set_now(dt("2026-11-23 10:25"));
        let (dept, person) = first_person_of(&lly, "jsj").await;
        let (s, v) = lly
            .act(id, "decompose", json!({"subtasks": [{"title": "制定整治方案", "dept_unit_id": dept, "person_id": person, "deadline": "2026-12-02"}]}))
            .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["task"]["status"], "in_progress");
        assert_eq!(v["decomposition_clock"]["state"], "met", "the clock stops at decomposition");
        let (s, v) = lly.act(id, "report", json!({"progress": 60, "text": "方案已印发"})).await;
        assert_eq!(s, 200);
        assert_eq!(v["task"]["progress"], 60);
        assert_eq!(v["report_due"], "2026-11-30T10:25:00", "weekly cycle: next report in 7 days");
        assert_eq!(v["report_overdue"], false);
        let (s, _) = lly.act(id, "request_completion", json!({"text": "已完成"})).await;
        assert_eq!(s, 200);
        let (s, v) = sup.act(id, "reject", json!({"comment": "台账不完整", "new_deadline": "2026-12-11"})).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["task"]["status"], "in_progress");
        assert_eq!(v["task"]["round"], 2);
        assert_eq!(v["task"]["deadline"], "2026-12-11T18:00:00");
        lly.act(id, "request_completion", json!({"text": "台账已补齐"})).await;
        let (s, v) = sup.act(id, "approve", json!({"comment": "同意销号"})).await;
        assert_eq!(s, 200);
        assert_eq!(v["task"]["status"], "closed");
        assert_eq!(v["light"], "none");
        let events = v["events"].as_array().unwrap();
        let actions: Vec<_> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(
            actions,
            [
                "create",
                "assign",
                "receive",
                "decompose",
                "report",
                "request_completion",
                "reject",
                "request_completion",
                "approve"
            ]
        );
        assert!(events.iter().all(|e| !e["actor_name"].as_str().unwrap().is_empty() && !e["at"].is_null()));
        // Every change is in the audit chain, and the chain verifies.
        assert!(tdb.db.verify_audit().await.unwrap().is_ok());
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_naming_the_field_and_changes_nothing() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let lly = Client::login(&app, "jsj_lly").await;
        let jsj = sup.unit_id("jsj").await;
        let (_, v) = sup.post("/api/tasks", new_task(jsj, "测试〔2026〕2号", "2026-12-04")).await;
        let id = v["id"].as_i64().unwrap();
        let before = fingerprint(&tdb.db).await;

        let cases: Vec<(u16, serde_json::Value, &str)> = vec![
            // Wrong transition: decompose before signing.
            {
                let (s, v) = lly.act(id, "decompose", json!({"subtasks": []})).await;
                (s, v, "不能执行「分解」")
            },
            // Deadline on a holiday when working days are required.
            {
                let (s, v) = sup.post("/api/tasks", new_task(jsj, "测试〔2026〕3号", "2026-10-05")).await;
                (s, v, "办理期限")
            },
            // Unknown unit.
            {
                let (s, v) = sup.post("/api/tasks", new_task(999_999, "测试〔2026〕4号", "2026-12-04")).await;
                (s, v, "牵头单位")
            },
            // Duplicate 文号.
            {
                let (s, v) = sup.post("/api/tasks", new_task(jsj, "测试〔2026〕2号", "2026-12-04")).await;
                (s, v, "文号")
            },
            // A typo decades ahead.
            {
                let (s, v) = sup.post("/api/tasks", new_task(jsj, "测试〔2026〕11号", "2062-12-04")).await;
                (s, v, "办理期限」不能晚于当前时间 5 年以上")
            },
            // Malformed date.
            {
                let mut t = new_task(jsj, "测试〔2026〕5号", "2026-12-04");
                t["source_date"] = json!("2026-13-40");
                let (s, v) = sup.post("/api/tasks", t).await;
                (s, v, "来源日期")
            },
            // Missing field.
            {
                let (s, v) = sup.post("/api/tasks", json!({"doc_no": "x"})).await;
                (s, v, "缺少字段")
            },
            // Progress out of range (after a legal receive would be needed; on an assigned task the state is checked first).
            {
                let (s, v) = lly.act(id, "report", json!({"progress": 150, "text": "x"})).await;
                (s, v, "不能执行「进展汇报」")
            },
            // Unknown action.
            {
                let (s, v) = lly.act(id, "fly", json!({})).await;
                (s, v, "没有名为「fly」的操作")
            },
        ];
        for (i, (status, body, needle)) in cases.iter().enumerate() {
            assert!((400..500).contains(status), "case {i}: status {status} {body}");
            let msg = body["error"].as_str().unwrap_or_default();
            assert!(msg.contains(needle), "case {i}: {msg:?} should contain {needle:?}");
            assert!(!msg.contains("sqlx") && !msg.contains("SQL"), "case {i} leaks internals: {msg}");
        }
        // A holiday deadline names the holiday.
        let (_, v) = sup.post("/api/tasks", new_task(jsj, "测试〔2026〕6号", "2026-10-03")).await;
        assert!(v["error"].as_str().unwrap().contains("国庆节"), "{v}");
        assert_eq!(fingerprint(&tdb.db).await, before, "refused requests must not write anything");

        // Out-of-range progress on a task in progress names the field.
        lly.act(id, "receive", json!({})).await;
        let (dept, person) = first_person_of(&lly, "jsj").await;
        lly.act(
            id,
            "decompose",
            json!({"subtasks": [{"title": "a", "dept_unit_id": dept, "person_id": person, "deadline": "2026-12-01"}]}),
        )
        .await;
        let before = fingerprint(&tdb.db).await;
        let (s, v) = lly.act(id, "report", json!({"progress": 150, "text": "x"})).await;
        assert_eq!(s, 400);
        assert_eq!(v["field"], "进度");
        // A sub-task on a day off, and a person outside the chosen department.
        let (s, v) = lly.act(id, "decompose", json!({"subtasks": [{"title": "b", "dept_unit_id": dept, "person_id": person, "deadline": "2026-11-28"}]})).await;
        assert_eq!(s, 400, "{v}");
        assert!(v["error"].as_str().unwrap().contains("第1项子任务的完成时限"), "{v}");
        assert_eq!(fingerprint(&tdb.db).await, before);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_scope_is_enforced_on_the_server() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let other = Client::login(&app, "scjgj_lly").await;
        let jsj = sup.unit_id("jsj").await;
        let (_, v) = sup.post("/api/tasks", new_task(jsj, "测试〔2026〕7号", "2026-12-04")).await;
        let id = v["id"].as_i64().unwrap();
        let before = fingerprint(&tdb.db).await;
        assert_eq!(other.get(&format!("/api/tasks/{id}")).await.0, 403);
        assert_eq!(other.act(id, "receive", json!({})).await.0, 403);
        assert_eq!(other.act(id, "report", json!({"progress": 10, "text": "越权"})).await.0, 403);
        assert_eq!(fingerprint(&tdb.db).await, before);
        // The list holds only tasks of the liaison's own unit (as lead or co-unit).
        let scjgj = sup.unit_id("scjgj").await;
        let (_, list) = other.get("/api/tasks?page_size=500").await;
        assert!(list["total"].as_i64().unwrap() > 0);
        for item in list["items"].as_array().unwrap() {
            let tid = item["task"]["id"].as_i64().unwrap();
            let (s, d) = sup.get(&format!("/api/tasks/{tid}")).await;
            assert_eq!(s, 200);
            let mine = d["task"]["lead_unit_id"] == scjgj
                || d["co_units"].as_array().unwrap().iter().any(|c| c["id"] == scjgj);
            assert!(mine, "task {tid} is outside 市场监管局's scope");
        }
        // A responsible person sees exactly the tasks holding one of their sub-tasks.
        let resp = Client::login(&app, "jsj_dlk").await;
        let (_, me) = resp.get("/api/me").await;
        let (_, list) = resp.get("/api/tasks?page_size=500").await;
        assert!(list["total"].as_i64().unwrap() >= 1);
        for item in list["items"].as_array().unwrap() {
            let (_, d) = resp.get(&format!("/api/tasks/{}", item["task"]["id"])).await;
            assert!(d["subtasks"].as_array().unwrap().iter().any(|s| s["person_id"] == me["person_id"]));
        }
        // A liaison cannot create tasks; a leader cannot hand over.
        let (s, v) = other.post("/api/tasks", new_task(scjgj, "测试〔2026〕8号", "2026-12-04")).await;
        assert_eq!(s, 403, "{v}");
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extension_needs_review_then_the_leader_in_charge() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let lly = Client::login(&app, "jsj_lly").await;
        let leader = Client::login(&app, "fqz_cj").await;
        let other_leader = Client::login(&app, "fqz_sh").await;
        let (_, me) = leader.get("/api/me").await;
        let jsj = sup.unit_id("jsj").await;
        let mut t = new_task(jsj, "测试〔2026〕9号", "2026-12-04");
        t["leader_person_id"] = me["person_id"].clone();
        let (s, v) = sup.post("/api/tasks", t).await;
        assert_eq!(s, 201, "{v}");
        let id = v["id"].as_i64().unwrap();
        lly.act(id, "receive", json!({})).await;
        let (s, v) =
            lly.act(id, "request_extension", json!({"reason": "征迁未完成", "new_deadline": "2026-12-18"})).await;
        assert_eq!(s, 200, "{v}");
        let ext = v["extensions"][0]["id"].as_i64().unwrap();
        // The leader cannot decide before the 督查局 has reviewed.
        let (s, _) = leader.act(id, "decide_extension", json!({"extension_id": ext, "approve": true})).await;
        assert_eq!(s, 409);
        let (s, _) = sup.act(id, "review_extension", json!({"extension_id": ext, "approve": true})).await;
        assert_eq!(s, 200);
        let (s, _) = other_leader.act(id, "decide_extension", json!({"extension_id": ext, "approve": true})).await;
        assert_eq!(s, 403, "only the leader in charge decides");
        let (s, v) =
            leader.act(id, "decide_extension", json!({"extension_id": ext, "approve": true, "comment": "同意"})).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["task"]["deadline"], "2026-12-18T18:00:00");
        // After the deadline, an extension can no longer be requested.
        app.set_now(dt("2026-12-21 09:30"));
        let lly = Client::login(&app, "jsj_lly").await;
        let (s, v) = lly.act(id, "request_extension", json!({"reason": "再延", "new_deadline": "2026-12-25"})).await;
        assert_eq!(s, 409, "{v}");
        assert!(v["error"].as_str().unwrap().contains("之前提出"));
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_urges_are_counted_and_capped_per_week() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let jsj = sup.unit_id("jsj").await;
        let (_, v) = sup.post("/api/tasks", new_task(jsj, "测试〔2026〕10号", "2026-12-04")).await;
        let id = v["id"].as_i64().unwrap();
        for i in 1..=3 {
            let (s, v) = sup.act(id, "urge", json!({"comment": format!("第{i}次催办")})).await;
            assert_eq!(s, 200);
            assert_eq!(v["urge_manual_this_week"], i);
        }
        let before = fingerprint(&tdb.db).await;
        let (s, v) = sup.act(id, "urge", json!({})).await;
        assert_eq!(s, 409);
        assert!(v["error"].as_str().unwrap().contains("已达上限"), "{v}");
        assert_eq!(fingerprint(&tdb.db).await, before);
        // A new week resets the cap; the total keeps counting.
        app.set_now(dt("2026-11-30 10:00"));
        let sup = Client::login(&app, "duchaju").await;
        let (s, v) = sup.act(id, "urge", json!({})).await;
        assert_eq!(s, 200);
        assert_eq!(v["urge_total"], 4);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_and_cookie_writes_need_the_csrf_token() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let http = reqwest::Client::new();
        let r: serde_json::Value = http
            .post(app.url("/api/session"))
            .json(&json!({"username": "duchaju", "password": xietong_demo::DEMO_PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = r["token"].as_str().unwrap();
        let csrf = r["csrf_token"].as_str().unwrap();
        let cookie = format!("xt_session={token}");
        let body = json!({"comment": "催办"});
        let task = 1;
        let s = http
            .post(app.url(&format!("/api/tasks/{task}/actions/urge")))
            .header("cookie", &cookie)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(s, 403, "cookie without CSRF token");
        let s = http
            .post(app.url(&format!("/api/tasks/{task}/actions/urge")))
            .header("cookie", &cookie)
            .header("x-csrf-token", "wrong")
            .json(&body)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(s, 403, "cookie with a wrong CSRF token");
        let s = http
            .post(app.url(&format!("/api/tasks/{task}/actions/urge")))
            .header("cookie", &cookie)
            .header("x-csrf-token", csrf)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status();
        assert_ne!(s, 403, "cookie with the right CSRF token passes the guard");
        // Wrong password: the same message whatever the reason.
        let r = http
            .post(app.url("/api/session"))
            .json(&json!({"username": "duchaju", "password": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let r2 = http
            .post(app.url("/api/session"))
            .json(&json!({"username": "nobody", "password": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.text().await.unwrap(), r2.text().await.unwrap());
        // Idle timeout: 30 minutes without a request ends the session.
        app.set_now(dt("2026-11-23 10:20"));
        assert_eq!(http.get(app.url("/api/me")).bearer_auth(token).send().await.unwrap().status(), 200);
        app.set_now(dt("2026-11-23 10:51"));
        assert_eq!(http.get(app.url("/api/me")).bearer_auth(token).send().await.unwrap().status(), 401);
        // Absolute lifetime: 12 hours even when active.
        let c = Client::login(&app, "duchaju").await;
        for m in (20..=12 * 60).step_by(20) {
            app.set_now(dt("2026-11-23 10:51") + chrono::Duration::minutes(m));
            let s = http.get(app.url("/api/me")).bearer_auth(&c.token).send().await.unwrap().status();
            assert_eq!(s, if m < 12 * 60 { 200 } else { 401 }, "after {m} minutes");
        }
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendar_edits_are_admin_only_and_change_due_times() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let admin = Client::login(&app, "admin").await;
        let lly = Client::login(&app, "jsj_lly").await;
        let (_, v) = admin.get("/api/calendar/due?from=2026-09-30%2017:00&working_hours=2").await;
        assert_eq!(v["due"], "2026-10-08 10:00");
        assert_eq!(v["provisional"], false);
        let (_, v) = admin.get("/api/calendar/due?from=2026-12-31%2017:00&working_hours=2").await;
        assert_eq!((v["due"].as_str(), v["provisional"].as_bool()), (Some("2027-01-01 10:00"), Some(true)));
        assert!(v["flag"].as_str().unwrap().contains("2027"));
        let (s, _) = lly.put("/api/calendar/days/2027-01-01", json!({"off": true, "name": "元旦"})).await;
        assert_eq!(s, 403);
        let (s, v) = admin.put("/api/calendar/days/2027-01-01", json!({"off": true, "name": "元旦"})).await;
        assert_eq!(s, 204, "{v}");
        let (_, v) = admin.get("/api/calendar/due?from=2026-12-31%2017:00&working_hours=2").await;
        assert_eq!(v["due"], "2027-01-04 10:00", "the new holiday is skipped");
        let (s, v) = admin.put("/api/calendar/days/2027-13-01", json!({"off": true, "name": "x"})).await;
        assert_eq!(s, 400);
        assert!(v["error"].as_str().unwrap().contains("日期"));
        let (s, _) = admin.get("/api/calendar/due?from=yesterday&working_hours=2").await;
        assert_eq!(s, 400);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_documents_every_api_route() {
    let Some((tdb, app)) = with_demo(common::Backend::Sqlite, dt(NOW)).await else { return };
    let http = reqwest::Client::new();
    let spec: serde_json::Value = http.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let paths = spec["paths"].as_object().unwrap();
    for p in [
        "/api/session",
        "/api/me",
        "/api/todo",
        "/api/tasks",
        "/api/tasks/{id}",
        "/api/tasks/{id}/actions/{action}",
        "/api/units",
        "/api/people",
        "/api/categories",
        "/api/calendar/due",
        "/api/calendar/days",
        "/api/calendar/days/{date}",
        "/api/audit/verify",
        "/api/users",
        "/api/users/{id}/password",
        "/api/users/{id}/active",
    ] {
        assert!(paths.contains_key(p), "{p} missing from OpenAPI");
    }
    // Every documented operation exists on the server (no 404/405), and refuses strangers.
    for (path, ops) in paths {
        let concrete = path.replace("{id}", "1").replace("{action}", "receive").replace("{date}", "2027-01-01");
        for method in ops.as_object().unwrap().keys() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = http
                .request(m, app.url(&concrete))
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let s = r.status().as_u16();
            assert!(s != 404 && s != 405, "{method} {path}: {s}");
            if path != "/api/session" {
                assert_eq!(s, 401, "{method} {path} must require a session");
            }
        }
    }
    tdb.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_breaches_and_lights_show_in_lists() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        // The demo's 农贸市场 task was handed over a working day ago and is still not decomposed.
        let (_, list) = sup.get("/api/tasks?status=received").await;
        let items = list["items"].as_array().unwrap();
        let late: Vec<_> =
            items.iter().filter(|i| i["clock_breaches"].as_array().unwrap().iter().any(|c| c == "分解超时")).collect();
        assert!(!late.is_empty(), "{list}");
        let (_, d) = sup.get(&format!("/api/tasks/{}", late[0]["task"]["id"])).await;
        assert_eq!(d["decomposition_clock"]["state"], "overdue");
        // Light filters agree with the lights shown.
        for l in ["red", "yellow", "green"] {
            let (s, list) = sup.get(&format!("/api/tasks?light={l}")).await;
            assert_eq!(s, 200);
            assert!(list["total"].as_i64().unwrap() > 0, "demo has {l} tasks");
            for i in list["items"].as_array().unwrap() {
                assert_eq!(i["light"], l, "{i}");
            }
        }
        let (s, v) = sup.get("/api/tasks?light=blue").await;
        assert_eq!(s, 400);
        assert!(v["error"].as_str().unwrap().contains("亮灯"));
        let (s, _) = sup.get("/api/tasks?page=abc").await;
        assert_eq!(s, 400);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrator_manages_units_people_and_accounts() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let admin = Client::login(&app, "admin").await;
        let sup = Client::login(&app, "duchaju").await;
        let (s, all) = admin.get("/api/people").await;
        assert_eq!(s, 200);
        assert_eq!(all.as_array().unwrap().len(), 116, "every demo person (96, and 20 班子 members), no filter");
        let (s, users) = admin.get("/api/users").await;
        assert_eq!((s, users.as_array().unwrap().len()), (200, 63));
        let (s, v) = admin.post("/api/units", json!({"code": "swj", "name": "商务局", "kind": "区政府部门"})).await;
        assert_eq!(s, 201, "{v}");
        let unit = v["id"].as_i64().unwrap();
        let (s, v) = admin.post("/api/units", json!({"code": "swj2", "name": "商务局", "kind": "区政府部门"})).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("单位名称")), "{v}");
        let (s, v) = admin.post("/api/units", json!({"code": "x1", "name": "某单位", "kind": "公司"})).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("单位类型")));
        let (s, v) = admin
            .post(
                "/api/people",
                json!({"name": "商务局局长（示例）", "post": "局长", "unit_id": unit, "head_of_unit": true}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        let (s, v) =
            admin.post("/api/people", json!({"name": "商务局联络员（示例）", "post": "联络员", "unit_id": unit})).await;
        assert_eq!(s, 201);
        let person = v["id"].as_i64().unwrap();
        // Weak passwords are refused, naming the field.
        let (s, v) = admin
            .post(
                "/api/users",
                json!({"username": "swj_lly", "password": "12345678", "person_id": person, "role": "liaison"}),
            )
            .await;
        assert_eq!((s, v["field"].as_str()), (400, Some("密码")));
        let (s, v) = admin
            .post(
                "/api/users",
                json!({"username": "swj_lly", "password": "Shangwu#2026", "person_id": person, "role": "liaison"}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        let user = v["id"].as_i64().unwrap();
        let (s, _) = admin
            .post(
                "/api/users",
                json!({"username": "swj_lly", "password": "Shangwu#2026", "person_id": person, "role": "liaison"}),
            )
            .await;
        assert_eq!(s, 400, "duplicate user name");
        // Only the administrator may do any of this.
        assert_eq!(sup.post("/api/units", json!({"code": "y", "name": "y", "kind": "镇街"})).await.0, 403);
        assert_eq!(sup.get("/api/users").await.0, 403);
        // The new liaison signs in; disabling the account ends the session at once.
        let http = reqwest::Client::new();
        let login = |pw: &'static str| {
            let http = http.clone();
            let url = app.url("/api/session");
            async move { http.post(url).json(&json!({"username": "swj_lly", "password": pw})).send().await.unwrap() }
        };
        let r = login("Shangwu#2026").await;
        assert_eq!(r.status(), 200);
        let token = r.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_string();
        let me = |t: String| {
            let http = http.clone();
            let url = app.url("/api/me");
            async move { http.get(url).bearer_auth(t).send().await.unwrap().status().as_u16() }
        };
        assert_eq!(me(token.clone()).await, 200);
        let (s, _) = admin.post(&format!("/api/users/{user}/active"), json!({"active": false})).await;
        assert_eq!(s, 204);
        assert_eq!(me(token.clone()).await, 401, "disabled account's session ends");
        assert_eq!(login("Shangwu#2026").await.status(), 403);
        admin.post(&format!("/api/users/{user}/active"), json!({"active": true})).await;
        let (s, _) = admin.post(&format!("/api/users/{user}/password"), json!({"password": "Xinmima!2026"})).await;
        assert_eq!(s, 204);
        assert_eq!(login("Shangwu#2026").await.status(), 403);
        assert_eq!(login("Xinmima!2026").await.status(), 200);
        let (_, me_admin) = admin.get("/api/me").await;
        let (s, v) = admin.post(&format!("/api/users/{}/active", me_admin["user_id"]), json!({"active": false})).await;
        assert_eq!(s, 403, "三员分立: the 系统管理员's own account is the 安全管理员's to manage: {v}");
        let sec = Client::login(&app, "anquan").await;
        let (_, me_sec) = sec.get("/api/me").await;
        let (s, v) = sec.post(&format!("/api/users/{}/active", me_sec["user_id"]), json!({"active": false})).await;
        assert_eq!(s, 409, "an administrator cannot lock themself out: {v}");
        assert!(tdb.db.verify_audit().await.unwrap().is_ok());
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn todo_lists_what_each_role_must_do() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let whats = |v: &serde_json::Value| {
            v.as_array().unwrap().iter().map(|i| i["what"].as_str().unwrap().to_string()).collect::<Vec<_>>()
        };
        let sup = Client::login(&app, "duchaju").await;
        let (_, v) = sup.get("/api/todo").await;
        let w = whats(&v);
        assert!(w.contains(&"待交办".to_string()) && w.contains(&"待审核办结".to_string()), "{w:?}");
        // A liaison sees only their own unit's open tasks.
        let lly = Client::login(&app, "jsj_lly").await;
        let jsj = sup.unit_id("jsj").await;
        let (_, v) = lly.get("/api/todo").await;
        assert!(!v.as_array().unwrap().is_empty());
        for i in v.as_array().unwrap() {
            assert_eq!(i["task"]["lead_unit_id"], jsj);
            assert!(["assigned", "received", "in_progress"].contains(&i["task"]["status"].as_str().unwrap()));
        }
        // 分包督导: the leader in charge of 建设和交通局 sees its overdue task.
        let leader = Client::login(&app, "fqz_cj").await;
        let (_, v) = leader.get("/api/todo").await;
        let overdue: Vec<_> = v.as_array().unwrap().iter().filter(|i| i["what"] == "分包督导：已逾期").collect();
        assert!(!overdue.is_empty(), "{v}");
        assert!(overdue.iter().all(|i| i["light"] == "red"));
        // Another leader's area does not include it.
        let other = Client::login(&app, "fqz_sh").await;
        let (_, v) = other.get("/api/todo").await;
        assert!(
            v.as_array().unwrap().iter().all(|i| i["task"]["lead_unit_id"] != jsj || i["what"] != "分包督导：已逾期")
        );
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_give_a_forecast_and_a_late_pace_is_marked_before_the_light_turns() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let lly = Client::login(&app, "jsj_lly").await;
        let jsj = sup.unit_id("jsj").await;
        let (_, v) = sup.post("/api/tasks", new_task(jsj, "预测〔2026〕1号", "2026-12-31")).await;
        let id = v["id"].as_i64().unwrap();
        lly.act(id, "receive", json!({})).await;
        let (dept, person) = first_person_of(&lly, "jsj").await;
        let sub = json!({"subtasks": [{"title": "推进", "dept_unit_id": dept, "person_id": person, "deadline": "2026-12-30"}]});
        assert_eq!(lly.act(id, "decompose", sub).await.0, 200);
        // One report: no date is invented.
        assert_eq!(lly.act(id, "report", json!({"progress": 10, "text": "启动"})).await.0, 200);
        let (_, v) = sup.get(&format!("/api/tasks/{id}")).await;
        assert_eq!(v["forecast"]["date"], serde_json::Value::Null, "{v}");
        assert!(v["forecast"]["basis"].as_str().unwrap().contains("至少两次汇报"));
        // +5 % a week from 10 %: 100 % only at the end of March, long after the 12-31 deadline.
        // (Sessions expire when idle for a week: each visit signs in again.)
        for (day, p) in [("2026-11-30 10:00", 15), ("2026-12-07 10:00", 20)] {
            app.set_now(dt(day));
            let lly = Client::login(&app, "jsj_lly").await;
            assert_eq!(lly.act(id, "report", json!({"progress": p, "text": "推进中"})).await.0, 200);
        }
        let sup = Client::login(&app, "duchaju").await;
        let (_, v) = sup.get(&format!("/api/tasks/{id}")).await;
        assert_eq!(v["forecast"]["at_risk"], true, "{v}");
        assert_eq!(v["light"], "green", "flagged while the light is still green");
        assert_eq!(v["forecast"]["date"], "2027-03-29", "80 % left at 5 % a week: 16 weeks");
        let basis = v["forecast"]["basis"].as_str().unwrap();
        assert!(basis.starts_with("近2次汇报间隔平均每周+5.0%") && basis.contains("晚于期限 88 天"), "{basis}");
        // The list marks it, and the 督导看板 lists it among the green tasks with the reason.
        let (_, html) = sup.bytes("/tasks?q=预测").await;
        assert!(String::from_utf8(html).unwrap().contains("预计逾期"));
        let (_, html) = sup.bytes("/dashboard").await;
        let html = String::from_utf8(html).unwrap();
        let table = html.split("id=\"forecast-late-tasks\"").nth(1).unwrap().split("</table>").next().unwrap();
        assert!(table.contains(&format!("href=\"/tasks/{id}\"")), "{table}");
        assert!(table.contains("晚于期限 88 天"), "{table}");
        // The rules' 预计逾期提醒 (3 days by default) told the lead unit once, in its inbox and the timeline.
        let (_, v) = sup.get(&format!("/api/tasks/{id}")).await;
        let early: Vec<_> =
            v["events"].as_array().unwrap().iter().filter(|e| e["action"] == "escalate:forecast_late").collect();
        assert_eq!(early.len(), 1, "{v}");
        assert_eq!(early[0]["action_label"], "自动预计逾期提醒");
        assert!(early[0]["comment"].as_str().unwrap().contains("晚于期限 88 天"), "{}", early[0]);
        let lly = Client::login(&app, "jsj_lly").await;
        let (_, inbox) = lly.get("/api/inbox?kind=forecast_late").await;
        let items = inbox["items"].as_array().unwrap_or_else(|| panic!("{inbox}"));
        assert_eq!(items.iter().filter(|m| m["task_id"] == id).count(), 1, "{inbox}");
        // A faster pace lifts the mark.
        app.set_now(dt("2026-12-14 10:00"));
        let lly = Client::login(&app, "jsj_lly").await;
        assert_eq!(lly.act(id, "report", json!({"progress": 80, "text": "主体完成"})).await.0, 200);
        let sup = Client::login(&app, "duchaju").await;
        let (_, v) = sup.get(&format!("/api/tasks/{id}")).await;
        assert_eq!(v["forecast"]["at_risk"], false, "{v}");
        let early = v["events"].as_array().unwrap().iter().filter(|e| e["action"] == "escalate:forecast_late").count();
        assert_eq!(early, 1, "once per deadline");
        tdb.cleanup().await;
    });
}
