//! Editing the supervision rules, the calendar and the login limit takes effect without a
//! restart: the open tasks' stored next-check times are recomputed, so a step moved earlier fires
//! at its new time (SQLite and PostgreSQL).

mod common;

use common::{Client, dt, with_demo};
use serde_json::json;
use xietong_storage::Db;

const NOW: &str = "2026-11-23 10:00";

async fn next_check(db: &Db, id: i64) -> Option<String> {
    let r = sqlx::query("SELECT next_check_at FROM tasks WHERE id = $1").bind(id).fetch_one(&db.pool).await.unwrap();
    sqlx::Row::try_get::<Option<String>, _>(&r, 0).unwrap()
}

async fn reminders(db: &Db, id: i64) -> i64 {
    let r = sqlx::query("SELECT COUNT(*) FROM escalations WHERE task_id = $1 AND step = 'remind'")
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    sqlx::Row::try_get::<i64, _>(&r, 0).unwrap()
}

/// A task of 建设和交通局 due Friday 2026-12-18, assigned now.
async fn task_due_dec_18(sup: &Client, doc_no: &str) -> i64 {
    let jsj = sup.unit_id("jsj").await;
    let body = json!({"title": "规则测试任务", "source_kind": "meeting", "doc_no": doc_no, "source_date": "2026-11-20", "lead_unit_id": jsj,
                      "report_cycle": "weekly", "deadline": "2026-12-18", "assign_now": true});
    let (s, v) = sup.post("/api/tasks", body).await;
    assert_eq!(s, 201, "{v}");
    v["id"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_change_moves_the_next_check_and_the_step_fires_at_its_new_time() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let admin = Client::login(&app, "admin").await;
        let sup = Client::login(&app, "duchaju").await;
        let id = task_due_dec_18(&sup, "规则〔2026〕1号").await;
        let before = next_check(&tdb.db, id).await.unwrap();
        assert_eq!(
            before, "2026-12-16 09:00:00",
            "提醒 three working days before the deadline (Tuesday's close is Wednesday's start)"
        );

        // Refused changes name the field and change nothing.
        let (_, rules) = sup.get("/api/rules").await;
        assert_eq!(rules["escalation"]["yellow_working_days"], 3);
        let mut wider = rules.clone();
        wider["escalation"]["yellow_working_days"] = json!(10);
        let (s, _) = sup.put("/api/rules", wider.clone()).await;
        assert_eq!(s, 403, "the 督查局 reads the rules; the 系统管理员 sets them");
        let mut bad = rules.clone();
        bad["escalation"]["ledger_after_working_days"] = json!(2);
        let (s, v) = admin.put("/api/rules", bad).await;
        assert_eq!(s, 400, "{v}");
        assert!(v["error"].as_str().unwrap().contains("问题台账"), "{v}");
        let mut bad = rules.clone();
        bad["urge"]["cap_per_week"] = json!(0);
        let (s, v) = admin.put("/api/rules", bad).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("每周催办上限")), "{v}");
        assert_eq!(admin.get("/api/rules").await.1, rules);
        assert_eq!(next_check(&tdb.db, id).await.unwrap(), before);

        // 提醒 ten working days ahead: the stored next check moves to Monday 2026-12-07 09:00.
        let (s, v) = admin.put("/api/rules", wider).await;
        assert_eq!(s, 204, "{v}");
        assert_eq!(sup.get("/api/rules").await.1["escalation"]["yellow_working_days"], 10);
        assert_eq!(next_check(&tdb.db, id).await.unwrap(), "2026-12-07 09:00:00");
        app.set_now(dt("2026-12-07 09:30"));
        let snap = app.state.snapshot();
        tdb.db.sweep(&snap.ctx(), 100).await.unwrap();
        assert_eq!(reminders(&tdb.db, id).await, 1, "the 提醒 fired at its new, earlier time");
        assert!(tdb.db.verify_audit().await.unwrap().is_ok());
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_calendar_change_moves_the_next_check() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let admin = Client::login(&app, "admin").await;
        let sup = Client::login(&app, "duchaju").await;
        let id = task_due_dec_18(&sup, "规则〔2026〕2号").await;
        assert_eq!(next_check(&tdb.db, id).await.unwrap(), "2026-12-16 09:00:00");
        // Two days off in the week of the deadline push three working days back to Monday the 14th.
        for day in ["2026-12-16", "2026-12-17"] {
            let (s, v) =
                admin.put(&format!("/api/calendar/days/{day}"), json!({"off": true, "name": "测试调休"})).await;
            assert_eq!(s, 204, "{v}");
        }
        assert_eq!(next_check(&tdb.db, id).await.unwrap(), "2026-12-14 09:00:00");
        app.set_now(dt("2026-12-14 09:30"));
        let snap = app.state.snapshot();
        tdb.db.sweep(&snap.ctx(), 100).await.unwrap();
        assert_eq!(reminders(&tdb.db, id).await, 1, "before the change nothing was due on the 14th");
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_limit_applies_at_once() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sec = Client::login(&app, "anquan").await;
        let (_, mut settings) = sec.get("/api/security-settings").await;
        settings["login_per_minute"] = json!(5);
        let (s, v) = sec.put("/api/security-settings", settings).await;
        assert_eq!(s, 204, "{v}");
        let http = reqwest::Client::new();
        let mut statuses = vec![];
        for _ in 0..7 {
            let r = http
                .post(app.url("/api/session"))
                .json(&json!({"username": "nobody", "password": "x"}))
                .send()
                .await
                .unwrap();
            statuses.push(r.status().as_u16());
        }
        assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 2, "5 a minute, without a restart: {statuses:?}");
        tdb.cleanup().await;
    });
}
