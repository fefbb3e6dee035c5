//! Does a cheap read stay fast while big spreadsheets are parsed? Prints figures; it is not a test.
//!
//! Starts the real server (`xietong serve --demo`, a release build given by `--server`) on a
//! temporary data directory (SQLite), signs in as the 督查局 (`duchaju`), and builds a 督办任务
//! import file of `--rows` rows (the template's columns; every row valid on its own, all under one
//! 文号, so the server reads and checks the whole file and then refuses it as a whole: nothing is
//! written and every upload costs the same). It then times `--requests` sequential `GET /api/me`
//! twice in the same run: first with nothing else going on, then while `--uploads` clients each
//! upload the file to `POST /api/imports/tasks` again and again. Prints p50 / p99 / max of both,
//! how many uploads were in flight while the reads ran, and the uploads' own times and answers.
//!
//! The server accepts at most 20 000 data rows per import (`xietong_office::xlsx::MAX_ROWS`), so
//! that is the default size (0.7 MiB). An upload may have 2 MiB (axum's default limit for a
//! multipart body, below the router's 4 MiB): some 57 000 rows of this file, which the server
//! reads up to its row limit and then refuses; a 100 000-row file (3.4 MiB) is refused unread
//! (400 「上传文件无法读取：Request payload is too large」, or the connection is cut mid-body).
//!
//! ```text
//! cargo build --release -p xietong -p xietong-bench
//! target/release/upload_bench --server target/release/xietong
//! ```

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use xietong_office::table::Cell;

#[derive(Parser)]
#[command(about = "p50/p99 of GET /api/me with and without concurrent large spreadsheet uploads")]
struct Args {
    /// The server binary (a release build).
    #[arg(long, default_value = "target/release/xietong")]
    server: std::path::PathBuf,
    /// Data rows in the import file.
    #[arg(long, default_value_t = 20_000)]
    rows: usize,
    /// Clients uploading at the same time.
    #[arg(long, default_value_t = 8)]
    uploads: usize,
    /// Sequential `GET /api/me` per phase.
    #[arg(long, default_value_t = 400)]
    requests: usize,
    /// Pause between two reads, so they sample several upload cycles rather than a moment.
    #[arg(long, default_value_t = 10)]
    pause_ms: u64,
}

/// The server process, stopped (and its data directory removed) when dropped.
struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn start(server: &std::path::Path) -> Result<Server> {
    let dir = tempfile::tempdir()?;
    let port = free_port()?;
    let log = std::fs::File::create(dir.path().join("server.log"))?;
    let child = Command::new(server)
        .args(["serve", "--demo", "--sweep-every", "3600", "--bind", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .spawn()
        .with_context(|| format!("cannot start {}", server.display()))?;
    let s = Server { child, base: format!("http://127.0.0.1:{port}"), _dir: dir };
    let http = reqwest::Client::new();
    for _ in 0..480 {
        if http.get(format!("{}/health", s.base)).send().await.is_ok_and(|r| r.status().is_success()) {
            return Ok(s);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    bail!("the server did not answer /health within 2 minutes")
}

async fn login(http: &reqwest::Client, base: &str, username: &str) -> Result<String> {
    let body = serde_json::json!({"username": username, "password": xietong_demo::DEMO_PASSWORD});
    let r = http.post(format!("{base}/api/session")).json(&body).send().await?;
    if !r.status().is_success() {
        bail!("login {username}: {}", r.status());
    }
    let v: serde_json::Value = r.json().await?;
    Ok(v["token"].as_str().context("no token in the login answer")?.to_string())
}

/// A 督办任务 import with the template's headers: each row valid on its own (real units and
/// category, a working-day deadline), all under one 文号, which the import refuses to repeat.
fn task_file(rows: usize) -> Result<Vec<u8>> {
    let cols = xietong_storage::imports::task_columns(&[], &[]);
    let t = |s: &str| Cell::Text(s.to_string());
    let data: Vec<Vec<Cell>> = (1..=rows)
        .map(|i| {
            vec![
                t(&format!("背街小巷综合整治提升第{i}段")),
                t("按区政府常务会议要求，完成路面修复、立面整治、线缆规整和照明提升，每周报送进度。"),
                t("会议"),
                t("二七政阅〔2026〕99号"),
                t("区政府第30次常务会议纪要"),
                t("2026-11-20"),
                t("精细化管理"),
                t("城管局"),
                t("大学路街道、福华街街道"),
                t("每周"),
                t("2027-03-31"),
            ]
        })
        .collect();
    Ok(xietong_office::xlsx::export_table("督办任务", None, &cols, &data)?)
}

/// `n` sequential `GET /api/me`, `pause` apart; milliseconds each, and the uploads in flight when
/// each began.
async fn me_latencies(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    (n, pause): (usize, Duration),
    in_flight: &AtomicUsize,
) -> Result<(Vec<f64>, Vec<usize>)> {
    let (mut ms, mut busy) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        tokio::time::sleep(pause).await;
        busy.push(in_flight.load(Ordering::SeqCst));
        let t = Instant::now();
        let r = http.get(format!("{base}/api/me")).bearer_auth(token).send().await?;
        let status = r.status();
        r.bytes().await?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        if !status.is_success() {
            bail!("GET /api/me: {status}");
        }
    }
    Ok((ms, busy))
}

fn summary(ms: &[f64]) -> String {
    let mut v = ms.to_vec();
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1];
    format!("p50 {:7.2} ms   p99 {:7.2} ms   max {:7.2} ms", q(0.50), q(0.99), v[v.len() - 1])
}

/// One upload's time and answer (status and the first line of the message).
struct Done {
    secs: f64,
    status: u16,
    first_line: String,
}

async fn upload(http: &reqwest::Client, base: &str, token: &str, file: &[u8]) -> Result<Done> {
    let part = reqwest::multipart::Part::bytes(file.to_vec()).file_name("督办任务.xlsx");
    let form = reqwest::multipart::Form::new().part("file", part);
    let t = Instant::now();
    let r = match http.post(format!("{base}/api/imports/tasks")).bearer_auth(token).multipart(form).send().await {
        Ok(r) => r,
        // A body the server refuses by its size is cut off while it is still being sent.
        Err(e) => return Ok(Done { secs: t.elapsed().as_secs_f64(), status: 0, first_line: format!("not sent: {e}") }),
    };
    let status = r.status().as_u16();
    let v: serde_json::Value = r.json().await.unwrap_or(serde_json::Value::Null);
    let first_line = match v["error"].as_str() {
        Some(e) => e.lines().take(2).collect::<Vec<_>>().join(" / "),
        None => v.to_string(),
    };
    Ok(Done { secs: t.elapsed().as_secs_f64(), status, first_line })
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let t = Instant::now();
    let file = Arc::new(task_file(args.rows)?);
    let mib = file.len() as f64 / 1048576.0;
    println!("import file: {} rows, {mib:.2} MiB (.xlsx, built in {:.1} s)", args.rows, t.elapsed().as_secs_f64());
    if file.len() > 2 * 1024 * 1024 {
        println!("note: larger than the 2 MiB an upload may have; the server refuses it unread");
    } else if args.rows > xietong_office::xlsx::MAX_ROWS {
        let most = xietong_office::xlsx::MAX_ROWS;
        println!("note: more than {most} rows; the server stops reading there and refuses the file");
    }
    let server = start(&args.server).await?;
    let base = server.base.clone();
    let http = reqwest::Client::new();
    let token = login(&http, &base, "duchaju").await?;
    let idle = AtomicUsize::new(0);
    let reads = (args.requests, Duration::from_millis(args.pause_ms));
    me_latencies(&http, &base, &token, (20, Duration::ZERO), &idle).await?;

    let t = Instant::now();
    let (quiet, _) = me_latencies(&http, &base, &token, reads, &idle).await?;
    let quiet_window = t.elapsed().as_secs_f64();

    let in_flight = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = vec![];
    for _ in 0..args.uploads {
        let (file, base, in_flight, stop) = (file.clone(), base.clone(), in_flight.clone(), stop.clone());
        let (up, token) = (reqwest::Client::new(), token.clone());
        clients.push(tokio::spawn(async move {
            let mut done = vec![];
            while !stop.load(Ordering::SeqCst) {
                in_flight.fetch_add(1, Ordering::SeqCst);
                let r = upload(&up, &base, &token, &file).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                done.push(r?);
            }
            anyhow::Ok(done)
        }));
    }
    // Let the bodies arrive and the parsing begin before measuring.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let t = Instant::now();
    let (loaded, busy) = me_latencies(&http, &base, &token, reads, &in_flight).await?;
    let window = t.elapsed().as_secs_f64();
    stop.store(true, Ordering::SeqCst);
    let mut done = vec![];
    for c in clients {
        done.extend(c.await??);
    }

    println!(
        "server {} on {cores} cores, SQLite, demo data; {} sequential GET /api/me per phase, {} ms apart",
        args.server.display(),
        args.requests,
        args.pause_ms
    );
    println!("GET /api/me, no uploads:            {}   (over {quiet_window:.1} s)", summary(&quiet));
    println!("GET /api/me, {} uploads at once:     {}   (over {window:.1} s)", args.uploads, summary(&loaded));
    let lo = busy.iter().min().copied().unwrap_or(0);
    let mean = busy.iter().sum::<usize>() as f64 / busy.len().max(1) as f64;
    println!("uploads in flight while reading:    min {lo}, mean {mean:.1}");
    let mut secs: Vec<f64> = done.iter().map(|d| d.secs).collect();
    secs.sort_by(f64::total_cmp);
    let median = secs.get(secs.len() / 2).copied().unwrap_or(0.0);
    let max = secs.last().copied().unwrap_or(0.0);
    println!("uploads finished: {}, each took median {median:.2} s, max {max:.2} s", done.len());
    let mut answers: Vec<(u16, String)> = done.iter().map(|d| (d.status, d.first_line.clone())).collect();
    answers.sort();
    answers.dedup();
    for (status, line) in answers {
        let line: String = line.chars().take(100).collect();
        println!("  upload answer {status}: {line}");
    }
    Ok(())
}
