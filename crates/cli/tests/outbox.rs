//! The outbox survives SIGKILL (issue 16): the server is killed while it delivers a burst of
//! messages to a real HTTP receiver started by this test; after a restart every message arrives,
//! and a message that arrived twice arrived under the same idempotency key with the same body.
//! Then `xietong notify test` against the same receiver: zero on delivery, non-zero with the
//! receiver's answer on refusal. On SQLite (a data directory) and PostgreSQL (a fresh database).

mod common;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use common::{Place, free_port, login, wait_ready, xietong};
use serde_json::{Value, json};
use xietong_storage::Db;

type Hits = Arc<Mutex<Vec<(String, String)>>>;

/// An 企业微信-shaped robot that takes 40 ms a message, so a burst is mid-way when the kill comes.
async fn robot(
    State(hits): State<Hits>,
    Query(q): Query<Vec<(String, String)>>,
    h: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> axum::Json<Value> {
    if !q.iter().any(|(k, v)| k == "key" && v == "good") {
        return axum::Json(json!({"errcode": 93000, "errmsg": "invalid webhook url, please check"}));
    }
    tokio::time::sleep(Duration::from_millis(40)).await;
    let key = h.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    hits.lock().unwrap().push((key, body.to_string()));
    axum::Json(json!({"errcode": 0, "errmsg": "ok"}))
}

async fn receiver() -> (String, Hits) {
    let hits: Hits = Default::default();
    let app = axum::Router::new().route("/cgi-bin/webhook/send", axum::routing::post(robot)).with_state(hits.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, hits)
}

fn serve(place: &Place, port: u16) -> std::process::Child {
    xietong(place)
        .env("XIETONG_OUTBOX_LEASE_SECS", "2")
        .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--sweep-every", "3600"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn run(place: Place, db_of: impl AsyncFn() -> Db) {
    let o = xietong(&place).arg("demo").output().unwrap();
    assert!(o.status.success(), "demo: {}", String::from_utf8_lossy(&o.stderr));
    let (rx, hits) = receiver().await;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = serve(&place, port);
    wait_ready(&http, &base).await;
    let admin = login(&http, &base, "admin").await;
    let sup = common::supervisor(&http, &base).await;
    let channel = json!({"name": "建设交通局工作群", "unit_id": sup.unit, "per_minute": 600,
        "config": {"kind": "wecom_robot", "url": format!("{rx}/cgi-bin/webhook/send?key=good")}});
    let r = http.post(format!("{base}/api/notify/channels")).bearer_auth(&admin).json(&channel).send().await.unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    for i in 0..60 {
        let body = sup.task(&format!("推送崩溃测试{i:02}"), &format!("推送崩溃〔2026〕{i}号"));
        let r = http.post(format!("{base}/api/tasks")).bearer_auth(&sup.token).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 201);
    }
    // Kill once a part of the burst has arrived.
    let t0 = Instant::now();
    while hits.lock().unwrap().len() < 10 && t0.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    let at_kill = hits.lock().unwrap().len();
    assert!(at_kill < 60, "killed mid-burst ({at_kill} of 60 arrived)");

    let mut server = serve(&place, port);
    wait_ready(&http, &base).await;
    let db = db_of().await;
    let keys: Vec<String> = db.outbox_states().await.unwrap().into_iter().map(|(k, _, _)| k).collect();
    assert_eq!(keys.len(), 60);
    let t0 = Instant::now();
    loop {
        let got: std::collections::BTreeSet<String> = hits.lock().unwrap().iter().map(|(k, _)| k.clone()).collect();
        if keys.iter().all(|k| got.contains(k)) {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(90), "{} of 60 arrived after the restart", got.len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut bodies: BTreeMap<String, String> = BTreeMap::new();
    let all = hits.lock().unwrap().clone();
    for (k, body) in &all {
        assert!(keys.contains(k), "a key the outbox holds: {k}");
        if let Some(b) = bodies.insert(k.clone(), body.clone()) {
            assert_eq!(&b, body, "a repeat carries the same message");
        }
    }
    eprintln!("{} deliveries for 60 messages ({at_kill} before the kill)", all.len());
    // Every row ends sent.
    let t0 = Instant::now();
    while !db.outbox_states().await.unwrap().iter().all(|(_, s, _)| s == "sent") {
        assert!(t0.elapsed() < Duration::from_secs(30), "rows marked sent");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();

    // The shell's check, through the same adapter.
    let ok = xietong(&place)
        .args(["notify", "test", "--channel", "wecom", "--url", &format!("{rx}/cgi-bin/webhook/send?key=good")])
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("已送达"));
    let bad = xietong(&place)
        .args(["notify", "test", "--channel", "wecom", "--url", &format!("{rx}/cgi-bin/webhook/send?key=stale")])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("Webhook 地址无效") && err.contains("invalid webhook url"), "{err}");
    let unreachable = xietong(&place)
        .args(["notify", "test", "--channel", "dingtalk", "--url", "http://127.0.0.1:9/robot/send?access_token=x"])
        .args(["--secret", "SECx"])
        .output()
        .unwrap();
    assert!(!unreachable.status.success());
    assert!(String::from_utf8_lossy(&unreachable.stderr).contains("无法连接接收方"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_killed_mid_delivery_is_delivered_after_restart_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    run(Place::Dir(path.clone()), async || Db::open_data_dir(&path).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_killed_mid_delivery_is_delivered_after_restart_on_postgres() {
    let Some((conn, name, url)) = common::fresh_database("outbox").await else { return };
    let u = url.clone();
    let dir = tempfile::tempdir().unwrap();
    run(Place::Pg(url.clone(), dir.path().to_path_buf()), async || Db::connect(&u, None).await.unwrap()).await;
    common::drop_database(conn, &name).await;
}
