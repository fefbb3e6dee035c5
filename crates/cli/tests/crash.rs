//! Crash safety: again and again, writes go through the API while the server is killed with
//! SIGKILL at a random moment; after every restart each write the API acknowledged is there and
//! the audit chain verifies. On SQLite (a data directory) and PostgreSQL (a fresh database).
//! Rounds: `XIETONG_CRASH_ROUNDS` (default 100).

mod common;

use std::time::Duration;

use common::{free_port, start, wait_ready, xietong, Place, PASSWORD};
use rand::Rng;
use xietong_storage::Db;

fn rounds() -> usize {
    std::env::var("XIETONG_CRASH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(100)
}

async fn run(place: Place, db_of: impl AsyncFn() -> Db) {
    let o = xietong(&place).arg("demo").output().unwrap();
    assert!(o.status.success(), "demo: {}", String::from_utf8_lossy(&o.stderr));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(&place, port);
    wait_ready(&http, &base).await;
    // One session for every round: sessions live in the database and survive restarts.
    let v: serde_json::Value = http.post(format!("{base}/api/session")).json(&serde_json::json!({"username": "duchaju", "password": PASSWORD})).send().await.unwrap().json().await.unwrap();
    let token = v["token"].as_str().unwrap().to_string();
    let units: serde_json::Value = http.get(format!("{base}/api/units")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let unit = units.as_array().unwrap().iter().find(|u| u["code"] == "jsj").unwrap()["id"].as_i64().unwrap();
    let due: serde_json::Value = http.get(format!("{base}/api/calendar/due?from=2026-11-23%2010:00&working_hours=400")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let deadline = due["due"].as_str().unwrap()[..10].to_string();
    let mut acknowledged: Vec<String> = vec![];
    let mut rng = rand::thread_rng();
    for round in 0..rounds() {
        if round > 0 {
            server = start(&place, port);
            wait_ready(&http, &base).await;
        }
        let kill_after = Duration::from_millis(rng.gen_range(20..400));
        let mut writers = vec![];
        for w in 0..4 {
            let (http, base, token, deadline) = (http.clone(), base.clone(), token.clone(), deadline.clone());
            writers.push(tokio::spawn(async move {
                let mut done = vec![];
                for i in 0.. {
                    let doc_no = format!("崩溃测试〔{round}〕{w}-{i}号");
                    let body = serde_json::json!({"title": format!("崩溃测试任务 {round}-{w}-{i}"), "source_kind": "meeting", "doc_no": doc_no,
                        "source_date": "2026-11-20", "lead_unit_id": unit, "report_cycle": "weekly", "deadline": deadline, "assign_now": true});
                    match http.post(format!("{base}/api/tasks")).bearer_auth(&token).json(&body).send().await {
                        Ok(r) if r.status() == 201 => done.push(doc_no),
                        Ok(r) => panic!("round {round}: a write was refused: {} {}", r.status(), r.text().await.unwrap_or_default()),
                        Err(_) => break, // the server is gone
                    }
                }
                done
            }));
        }
        tokio::time::sleep(kill_after).await;
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();
        for w in writers {
            acknowledged.extend(w.await.unwrap());
        }
    }
    let db = db_of().await;
    let mut missing = vec![];
    for doc in &acknowledged {
        if db.task_id_by_doc_no(doc).await.unwrap().is_none() {
            missing.push(doc.clone());
        }
    }
    assert!(missing.is_empty(), "{} of {} acknowledged writes lost: {:?}", missing.len(), acknowledged.len(), &missing[..missing.len().min(5)]);
    assert!(acknowledged.len() > rounds(), "the writers got through: {} writes in {} rounds", acknowledged.len(), rounds());
    assert!(db.verify_audit().await.unwrap().is_ok(), "the audit chain verifies after {} kills", rounds());
    eprintln!("{} rounds, {} acknowledged writes, none lost", rounds(), acknowledged.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    run(Place::Dir(path.clone()), async || Db::open_data_dir(&path).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_on_postgres() {
    let Some((conn, name, url)) = common::fresh_database("crash").await else { return };
    let u = url.clone();
    let dir = tempfile::tempdir().unwrap();
    run(Place::Pg(url.clone(), dir.path().to_path_buf()), async || Db::connect(&u, None).await.unwrap()).await;
    common::drop_database(conn, &name).await;
}
