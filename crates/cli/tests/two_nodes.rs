//! Two `xietong serve` processes on one PostgreSQL database, both sweeping every second: every
//! escalation step of every overdue task fires exactly once, with exactly one notification, one
//! timeline entry and (for 催办) one automatic urge, and the audit chain verifies.

mod common;

use std::time::{Duration, Instant};

use common::{Place, free_port, login, start_sweeping, wait_ready, xietong};
use xietong_storage::Db;

async fn count(db: &Db, sql: &'static str) -> i64 {
    sqlx::Row::try_get(&sqlx::query(sql).fetch_one(&db.pool).await.unwrap(), "n").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_fire_every_escalation_step_once() {
    let Some((conn, name, url)) = common::fresh_database("twonodes").await else { return };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Place::Pg(url.clone(), dir_a.path().to_path_buf());
    let b = Place::Pg(url.clone(), dir_b.path().to_path_buf());
    let o = xietong(&a).arg("demo").output().unwrap();
    assert!(o.status.success(), "demo: {}", String::from_utf8_lossy(&o.stderr));
    let db = Db::connect(&url, None).await.unwrap();
    let (pa, pb) = (free_port(), free_port());
    let mut servers = [start_sweeping(&a, pa, 1), start_sweeping(&b, pb, 1)];
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let bases = [format!("http://127.0.0.1:{pa}"), format!("http://127.0.0.1:{pb}")];
    for base in &bases {
        wait_ready(&http, base).await;
    }
    let sup = common::supervisor(&http, &bases[0]).await;
    let (token, unit) = (&sup.token, sup.unit);
    // Overdue from the start: received six weeks ago, due on a working day three weeks ago.
    let cal = db.load_calendar().await.unwrap();
    let now = xietong_storage::local_now();
    let mut due = now.date() - chrono::Duration::days(21);
    while !cal.is_working_day(due) {
        due -= chrono::Duration::days(1);
    }
    let received = now.date() - chrono::Duration::days(42);
    for i in 0..30 {
        // Half the tasks through each server.
        let base = &bases[i % 2];
        let body = serde_json::json!({"title": format!("双节点测试任务 {i}"), "source_kind": "meeting", "doc_no": format!("双节点测试〔2026〕{i}号"),
            "source_date": received.to_string(), "received_at": format!("{received} 09:00"), "lead_unit_id": unit, "report_cycle": "weekly",
            "deadline": due.to_string(), "assign_now": true});
        let r = http.post(format!("{base}/api/tasks")).bearer_auth(token).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    }
    // Both sweep; wait until the escalations stop growing for three seconds.
    let esc =
        "SELECT COUNT(*) AS n FROM escalations e JOIN tasks t ON t.id = e.task_id WHERE t.doc_no LIKE '双节点测试%'";
    let (mut last, mut stable_since, t0) = (-1, Instant::now(), Instant::now());
    while t0.elapsed() < Duration::from_secs(60) {
        let n = count(&db, esc).await;
        if n != last {
            (last, stable_since) = (n, Instant::now());
        } else if n > 0 && stable_since.elapsed() > Duration::from_secs(3) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for s in &mut servers {
        assert!(s.try_wait().unwrap().is_none(), "both servers still running");
        s.kill().unwrap();
        s.wait().unwrap();
    }
    let fired = count(&db, esc).await;
    assert!(fired >= 30, "every overdue task escalated at least once: {fired}");
    let events = count(&db, "SELECT COUNT(*) AS n FROM task_events ev JOIN tasks t ON t.id = ev.task_id WHERE t.doc_no LIKE '双节点测试%' AND ev.action LIKE 'escalate:%'").await;
    let notes = count(&db, "SELECT COUNT(*) AS n FROM notifications x JOIN tasks t ON t.id = x.task_id WHERE t.doc_no LIKE '双节点测试%' AND x.kind IN ('remind', 'urge', 'notice_warning', 'ledger_candidate')").await;
    let urges = count(&db, "SELECT COUNT(*) AS n FROM urges u JOIN tasks t ON t.id = u.task_id WHERE t.doc_no LIKE '双节点测试%' AND u.manual = 0").await;
    let urge_steps = count(&db, "SELECT COUNT(*) AS n FROM escalations e JOIN tasks t ON t.id = e.task_id WHERE t.doc_no LIKE '双节点测试%' AND e.step = 'urge'").await;
    assert_eq!(events, fired, "one timeline entry per step");
    assert_eq!(notes, fired, "one notification per step");
    assert_eq!(urges, urge_steps, "one automatic urge per 催办 step");
    assert!(db.verify_audit().await.unwrap().is_ok(), "the audit chain verifies with two writers");
    eprintln!("two servers: {fired} escalation steps on 30 tasks, each once");
    db.pool.close().await;
    common::drop_database(conn, &name).await;
}

/// The titles node `base` matches for `q`, best first.
async fn matched(http: &reqwest::Client, base: &str, token: &str, q: &str) -> Vec<String> {
    let r = http.post(format!("{base}/api/achievements/match")).bearer_auth(token).json(&serde_json::json!({"q": q}));
    let v: serde_json::Value = r.send().await.unwrap().json().await.unwrap();
    v.as_array().unwrap().iter().map(|h| h["title"].as_str().unwrap().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_achievement_published_through_one_server_is_matched_through_the_other_within_5_s() {
    let Some((conn, name, url)) = common::fresh_database("twoindex").await else { return };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Place::Pg(url.clone(), dir_a.path().to_path_buf());
    let b = Place::Pg(url.clone(), dir_b.path().to_path_buf());
    let o = xietong(&a).arg("demo").output().unwrap();
    assert!(o.status.success(), "demo: {}", String::from_utf8_lossy(&o.stderr));
    let (pa, pb) = (free_port(), free_port());
    let mut servers = [common::start(&a, pa), common::start(&b, pb)];
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let (base_a, base_b) = (format!("http://127.0.0.1:{pa}"), format!("http://127.0.0.1:{pb}"));
    wait_ready(&http, &base_a).await;
    wait_ready(&http, &base_b).await;
    let (gaoxiao, tech_a, tech_b) = (
        login(&http, &base_a, "gaoxiao").await,
        login(&http, &base_a, "kejiju").await,
        login(&http, &base_b, "kejiju").await,
    );
    let q = "钢箱梁焊缝应力在线监测";
    let title = "架桥机钢箱梁焊缝应力的光纤光栅在线监测方法";
    // Node B has built its index (from the demo) before the record exists.
    assert!(!matched(&http, &base_b, &tech_b, q).await.contains(&title.to_string()));

    let body = serde_json::json!({"title": title, "abstract": "提出一种钢箱梁焊缝应力的光纤光栅在线监测方法，用于架桥机作业时的实时预警。",
        "kind": "论文", "keywords": "焊缝应力；光纤光栅；在线监测"});
    let r = http.post(format!("{base_a}/api/achievements")).bearer_auth(&gaoxiao).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap();
    for action in ["pass_formal", "approve"] {
        let r = http
            .post(format!("{base_a}/api/reviews/achievement/{id}"))
            .bearer_auth(&tech_a)
            .json(&serde_json::json!({"action": action}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{action}: {}", r.text().await.unwrap_or_default());
    }
    let published = Instant::now();
    // Node B matches it without a rebuild: it follows the change log.
    let mut seen = None;
    while published.elapsed() < Duration::from_secs(5) {
        if matched(&http, &base_b, &tech_b, q).await.first().map(String::as_str) == Some(title) {
            seen = Some(published.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = seen.expect("node B matched the record published through node A within 5 s");
    // Node B's index on disk says which change it holds: the last of the log.
    let db = xietong_storage::Db::connect(&url, None).await.unwrap();
    let head = db.search_changes_head().await.unwrap();
    let through: i64 =
        std::fs::read_to_string(dir_b.path().join("index/achievements-live.seq")).unwrap().trim().parse().unwrap();
    assert_eq!(through, head, "node B applied every change");
    eprintln!("published through node A, first matched through node B after {} ms", seen.as_millis());
    for s in &mut servers {
        s.kill().unwrap();
        s.wait().unwrap();
    }
    db.pool.close().await;
    common::drop_database(conn, &name).await;
}
