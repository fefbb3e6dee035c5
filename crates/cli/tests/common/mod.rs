//! Running the real `xietong` binary as a server: on a data directory or a PostgreSQL database,
//! with fixed SM4 keys, on a free port.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const KEYS: &str = "1:00112233445566778899aabbccddeeff";
pub const PASSWORD: &str = "Xietong@2026";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Where the server keeps its data: a directory, or a PostgreSQL URL.
#[derive(Clone)]
pub enum Place {
    Dir(std::path::PathBuf),
    /// The URL, and a directory for the search index.
    Pg(String, std::path::PathBuf),
}

pub fn xietong(place: &Place) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xietong"));
    c.env("XIETONG_SM4_KEYS", KEYS).env_remove("XIETONG_DATABASE_URL").env("RUST_LOG", "warn");
    match place {
        Place::Dir(d) => c.arg("--data-dir").arg(d),
        Place::Pg(url, dir) => c.arg("--data-dir").arg(dir).arg("--database-url").arg(url),
    };
    c
}

pub fn start(place: &Place, port: u16) -> Child {
    start_sweeping(place, port, 3600)
}

/// A server whose escalation sweep runs every `secs` seconds.
pub fn start_sweeping(place: &Place, port: u16, secs: u64) -> Child {
    xietong(place)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--sweep-every", &secs.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

pub async fn wait_ready(http: &reqwest::Client, base: &str) {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(60) {
        if let Ok(r) = http.get(format!("{base}/health")).send().await
            && r.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server not ready within 60 s");
}

/// A fresh PostgreSQL database for one test (dropped by the returned guard's owner with
/// [`drop_database`]); `None` when PostgreSQL is unreachable outside CI.
pub async fn fresh_database(tag: &str) -> Option<(sqlx::PgConnection, String, String)> {
    use sqlx::Connection;
    let admin_url =
        std::env::var("XIETONG_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let mut conn = match sqlx::PgConnection::connect(&admin_url).await {
        Ok(c) => c,
        Err(e) if std::env::var_os("CI").is_some() => panic!("PostgreSQL at {admin_url} unreachable in CI: {e}"),
        Err(e) => {
            eprintln!("SKIPPING PostgreSQL run: {e}");
            return None;
        }
    };
    let name = format!("xietong_{tag}_{}", std::process::id());
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).execute(&mut conn).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.unwrap();
    let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
    Some((conn, name, url))
}

pub async fn drop_database(mut conn: sqlx::PgConnection, name: &str) {
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
        .execute(&mut conn)
        .await
        .unwrap();
}

/// The 督查局's session on a running demo server, the unit its test tasks go to (建设和交通局),
/// and a deadline far enough ahead to be valid.
pub struct Supervisor {
    pub token: String,
    pub unit: i64,
    pub deadline: String,
}

/// The API token of a demo account signed in on the server at `base`.
pub async fn login(http: &reqwest::Client, base: &str, user: &str) -> String {
    let v: serde_json::Value = http
        .post(format!("{base}/api/session"))
        .json(&serde_json::json!({"username": user, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["token"].as_str().unwrap().to_string()
}

pub async fn supervisor(http: &reqwest::Client, base: &str) -> Supervisor {
    let token = login(http, base, "duchaju").await;
    let units: serde_json::Value =
        http.get(format!("{base}/api/units")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let unit = units.as_array().unwrap().iter().find(|u| u["code"] == "jsj").unwrap()["id"].as_i64().unwrap();
    let due: serde_json::Value = http
        .get(format!("{base}/api/calendar/due?from=2026-11-23%2010:00&working_hours=400"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let deadline = due["due"].as_str().unwrap()[..10].to_string();
    Supervisor { token, unit, deadline }
}

impl Supervisor {
    /// A task to 立项并交办, as the API takes it.
    pub fn task(&self, title: &str, doc_no: &str) -> serde_json::Value {
        serde_json::json!({"title": title, "source_kind": "meeting", "doc_no": doc_no, "source_date": "2026-11-20", "lead_unit_id": self.unit,
            "report_cycle": "weekly", "deadline": self.deadline, "assign_now": true})
    }
}
