//! `xietong-bench`: how the storage layer holds up with a district's worth of open supervision tasks.
//!
//! What it measures, in order, on a fresh database:
//!
//! 1. **Set-up**: loads the demo organisation (`xietong_demo::load`: 34 units, 57 accounts, 16 tasks),
//!    then bulk-loads `--tasks` open tasks with multi-row INSERTs (1 000 rows per statement,
//!    10 000 rows per transaction) and reports rows/s. Each task has a unique 文号, a lead unit
//!    drawn with a Zipf-like skew from the units that are not 内设科室 (units with a 联络员 ranked
//!    first, so the busiest unit has a liaison to ask for its 待办), a status mix of
//!    assigned / received / in_progress, a received time in the past, a deadline at the end of a
//!    working day, and `next_check_at` from `lights::next_check_at`, exactly as 交办 would store it.
//!    About `--due-share` of the tasks have deadlines from 15 working days ago to 2 working days
//!    ahead, so an escalation step (提醒 / 催办 / 通报预警 / 问题台账候选) is due now; the rest are due
//!    later, spread over the next 120 working days.
//! 2. **Sweep**: `db.sweep(&ctx, 500)` once as the catch-up that fires every due step (tasks
//!    checked, steps fired, seconds, steps/s); again at once (the steady state, which should find
//!    ~0 due tasks); and once with `now` moved forward by one working day.
//! 3. **待办 / lists**: `db.todo_at(user, now, 50)` (what `db.todo` runs, at the benchmark's clock)
//!    30 times each for the liaison of the busiest unit, the supervisor `duchaju`, and a district
//!    leader whose 分包 area covers the busiest unit; and `list_tasks` with `light=red`, page 1 of
//!    50, for `duchaju` (p50 / p95 / min / max milliseconds, rows returned, and the list's total).
//! 4. Peak RSS (`VmHWM`) and total wall time.
//!
//! The database is a temporary SQLite directory (its path and final file size are printed; it is
//! removed at the end unless `--keep`), or with `--database-url` a fresh PostgreSQL schema
//! `bench_<pid>`, dropped at the end. Nothing is ANALYZEd unless `--analyze` is given, so the
//! query planner sees what a server that never runs ANALYZE would see. The clock is the real
//! local time (China Standard Time) unless `--now 'YYYY-MM-DD HH:MM'` fixes it; on a weekend or
//! at night the "+1 working day" sweep lands at the end of the next working day.
//!
//! Run it (release build; the figures of a debug build mean little):
//!
//! ```text
//! cargo run --release -p xietong-bench -- --tasks 1000000
//! cargo run --release -p xietong-bench -- --tasks 1000000 --database-url postgres://postgres@127.0.0.1:5432/test
//! cargo run -p xietong-bench -- --tasks 20000            # quick check of the command itself
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use chrono::{Datelike, NaiveDateTime};
use clap::Parser;
use rand::distributions::{Distribution, WeightedIndex};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::{Connection, Executor, Row};
use xietong_calendar::parse_datetime;
use xietong_storage::auth::SessionUser;
use xietong_storage::tasks::{Ctx, TaskFilter};
use xietong_storage::{Backend, Db, ts};
use xietong_supervision::lights;

#[derive(Parser, Debug)]
#[command(
    name = "xietong-bench",
    about = "Load N open supervision tasks, time the escalation sweep and the 待办 query"
)]
struct Args {
    /// How many open tasks to bulk-load (besides the 16 demo tasks).
    #[arg(long, default_value_t = 1_000_000)]
    tasks: u64,
    /// Benchmark PostgreSQL instead of a temporary SQLite file; a fresh schema bench_<pid> is used and dropped.
    #[arg(long)]
    database_url: Option<String>,
    /// Share of the loaded tasks with an escalation step due now (0–1).
    #[arg(long, default_value_t = 0.02)]
    due_share: f64,
    /// The "current" local time, 'YYYY-MM-DD HH:MM'; defaults to now in China Standard Time.
    #[arg(long)]
    now: Option<String>,
    /// Rows per transaction during the bulk load.
    #[arg(long, default_value_t = 10_000)]
    tx_rows: usize,
    /// Timed runs of each query.
    #[arg(long, default_value_t = 30)]
    runs: usize,
    /// Run ANALYZE after the bulk load (off by default: the server never runs it).
    #[arg(long)]
    analyze: bool,
    /// Keep the temporary SQLite directory (or the PostgreSQL schema) for inspection.
    #[arg(long)]
    keep: bool,
    /// Random seed for the generated tasks.
    #[arg(long, default_value_t = 20_26)]
    seed: u64,
}

/// Columns written per task by the bulk load, in order.
const COLUMNS: &[&str] = &[
    "title",
    "source_kind",
    "doc_no",
    "source_title",
    "source_date",
    "category_id",
    "lead_unit_id",
    "leader_person_id",
    "status",
    "report_cycle",
    "progress",
    "received_at",
    "assigned_at",
    "signed_at",
    "decomposed_at",
    "deadline",
    "next_check_at",
    "created_by",
    "created_at",
    "updated_at",
    "doc_no_key",
];
/// Rows per INSERT statement: 1 000 × 21 = 21 000 parameters, under SQLite's 32 766 and PostgreSQL's 65 535.
const ROWS_PER_STMT: usize = 1_000;

fn line(key: &str, rest: impl std::fmt::Display) {
    println!("{key:<24}{rest}");
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Peak resident set size from /proc/self/status, in MiB.
fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// This process's CPU time so far (user, system) from /proc/self/stat, in seconds. The SQLite
/// engine runs in sqlx's worker thread inside this process, so it is counted; a PostgreSQL
/// server's own CPU is not.
#[derive(Clone, Copy, Default)]
struct Cpu {
    user: f64,
    sys: f64,
}

fn cpu() -> Cpu {
    let read = || -> Option<Cpu> {
        let s = std::fs::read_to_string("/proc/self/stat").ok()?;
        // Fields after the parenthesised command name; utime and stime are fields 14 and 15,
        // in USER_HZ ticks (100 per second on Linux).
        let rest = &s[s.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        Some(Cpu { user: f.get(11)?.parse::<f64>().ok()? / 100.0, sys: f.get(12)?.parse::<f64>().ok()? / 100.0 })
    };
    read().unwrap_or_default()
}

impl Cpu {
    fn since(self, start: Cpu) -> String {
        format!("cpu_user_s={:.1} cpu_sys_s={:.1}", self.user - start.user, self.sys - start.sys)
    }
}

fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// min / p50 / p95 / max of timed runs, nearest rank.
struct Stats {
    min: f64,
    p50: f64,
    p95: f64,
    max: f64,
}

fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort();
    let rank = |p: f64| {
        let i = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
        ms(v[i])
    };
    Stats { min: ms(v[0]), p50: rank(0.50), p95: rank(0.95), max: ms(v[v.len() - 1]) }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "p50_ms={:.2} p95_ms={:.2} min_ms={:.2} max_ms={:.2}", self.p50, self.p95, self.min, self.max)
    }
}

/// Where the benchmark database lives, and how to get rid of it.
enum Target {
    Sqlite { dir: tempfile::TempDir },
    Postgres { url: String, schema: String },
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !(0.0..=1.0).contains(&args.due_share) {
        eprintln!("错误：--due-share 应在 0 到 1 之间");
        return ExitCode::FAILURE;
    }
    if args.tx_rows == 0 || args.runs == 0 {
        eprintln!("错误：--tx-rows 和 --runs 应大于 0");
        return ExitCode::FAILURE;
    }
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("无法启动运行时：{e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误：{e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<()> {
    let started = Instant::now();
    sqlx::any::install_default_drivers();
    let now = match &args.now {
        Some(s) => parse_datetime("--now", s)?,
        None => xietong_storage::local_now(),
    };
    println!("== xietong-bench ==");
    line("machine.nproc", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
    line("build", if cfg!(debug_assertions) { "debug (figures are not representative)" } else { "release" });
    line("now", ts(now));
    line("tasks.requested", args.tasks);
    line("due_share", args.due_share);

    let (target, db) = match &args.database_url {
        Some(url) => {
            let schema = format!("bench_{}", std::process::id());
            let mut conn = sqlx::AnyConnection::connect(url).await.context("无法连接 PostgreSQL")?;
            let exists: i64 =
                sqlx::query("SELECT COUNT(*) AS n FROM information_schema.schemata WHERE schema_name = $1")
                    .bind(schema.clone())
                    .fetch_one(&mut conn)
                    .await?
                    .try_get("n")?;
            conn.close().await?;
            if exists > 0 {
                bail!("模式 {schema} 已存在（上次运行遗留？），请先手工删除");
            }
            line("database", format!("postgres schema={schema}"));
            let db = Db::connect(url, Some(&schema)).await?;
            (Target::Postgres { url: url.clone(), schema }, db)
        }
        None => {
            let dir = tempfile::Builder::new().prefix("xietong-bench-").tempdir().context("无法创建临时目录")?;
            line("database", format!("sqlite path={}", dir.path().join("xietong.db").display()));
            let db = Db::open_data_dir(dir.path()).await?;
            (Target::Sqlite { dir }, db)
        }
    };

    let result = bench(&args, &db, now).await;
    db.pool.close().await;

    match target {
        Target::Sqlite { dir } => {
            let file = dir.path().join("xietong.db");
            line(
                "sqlite.file_size",
                format!(
                    "mib={:.1} wal_mib={:.1}",
                    mib(file_size(&file)),
                    mib(file_size(&PathBuf::from(format!("{}-wal", file.display()))))
                ),
            );
            if args.keep {
                line("sqlite.kept", dir.keep().display());
            }
        }
        Target::Postgres { url, schema } => {
            if args.keep {
                line("postgres.kept", format!("schema={schema}"));
            } else {
                let dropped = async {
                    let mut conn = sqlx::AnyConnection::connect(&url).await?;
                    conn.execute(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).await?;
                    conn.close().await?;
                    anyhow::Ok(())
                }
                .await;
                match dropped {
                    Ok(()) => line("postgres.dropped", format!("schema={schema}")),
                    Err(e) => eprintln!("警告：删除模式 {schema} 失败：{e:#}"),
                }
            }
        }
    }
    result?;
    if let Some(rss) = peak_rss_mib() {
        line("peak_rss", format!("mib={rss:.1}"));
    }
    line("wall", format!("secs={:.1} {}", secs(started.elapsed()), cpu().since(Cpu::default())));
    Ok(())
}

async fn bench(args: &Args, db: &Db, now: NaiveDateTime) -> Result<()> {
    // 1. The demo organisation.
    let t = Instant::now();
    let demo = xietong_demo::load(db, now).await?;
    line(
        "load.demo",
        format!("units={} accounts={} tasks={} secs={:.2}", demo.units, demo.accounts, demo.tasks, secs(t.elapsed())),
    );

    let cal = db.load_calendar().await?;
    let rules = db.load_rules().await?;
    let supervisor = db.user_by_name("duchaju").await?.ok_or_else(|| anyhow!("演示数据缺少督查局账号 duchaju"))?;

    // 2. Bulk-load the tasks.
    let plan = Plan::new(db, &cal, &rules, now, supervisor.user_id).await?;
    let (t, c) = (Instant::now(), cpu());
    let loaded = plan.load(db, args).await?;
    let load_time = t.elapsed();
    let load_cpu = cpu().since(c);
    line(
        "insert.tasks",
        format!(
            "rows={} due_now={} secs={:.1} rows_per_s={:.0} {load_cpu}",
            loaded.rows,
            loaded.due,
            secs(load_time),
            loaded.rows as f64 / secs(load_time).max(1e-9)
        ),
    );
    let (busiest_unit, busiest_name, busiest_rows) = loaded.busiest.clone().ok_or_else(|| anyhow!("没有装入任务"))?;
    line("insert.busiest_unit", format!("unit={busiest_name} rows={busiest_rows}"));

    if args.analyze {
        let t = Instant::now();
        sqlx::query("ANALYZE").execute(&db.pool).await?;
        line("analyze", format!("secs={:.2}", secs(t.elapsed())));
    }

    // 3. The escalation sweep.
    let ctx = Ctx { cal: &cal, rules: &rules, now };
    let (t, c) = (Instant::now(), cpu());
    let r = db.sweep(&ctx, 500).await?;
    let d = t.elapsed();
    line(
        "sweep.catch_up",
        format!(
            "tasks={} fired={} secs={:.2} steps_per_s={:.0} {}",
            r.tasks_checked,
            r.steps_fired,
            secs(d),
            r.steps_fired as f64 / secs(d).max(1e-9),
            cpu().since(c)
        ),
    );
    let t = Instant::now();
    let r = db.sweep(&ctx, 500).await?;
    line("sweep.steady", format!("tasks={} fired={} ms={:.1}", r.tasks_checked, r.steps_fired, ms(t.elapsed())));
    let day = cal.office_hours().minutes_per_day();
    let tomorrow = cal.add_working_minutes(now, day).value;
    let (t, c) = (Instant::now(), cpu());
    let r = db.sweep(&Ctx { cal: &cal, rules: &rules, now: tomorrow }, 500).await?;
    let d = t.elapsed();
    line(
        "sweep.next_working_day",
        format!(
            "now={} tasks={} fired={} secs={:.2} {}",
            ts(tomorrow),
            r.tasks_checked,
            r.steps_fired,
            secs(d),
            cpu().since(c)
        ),
    );

    // 4. 待办 and the red list.
    let liaison_name: Option<String> = sqlx::query(
        "SELECT us.username FROM users us JOIN people p ON p.id = us.person_id \
         WHERE us.role = 'liaison' AND us.active = 1 AND p.unit_id = $1 ORDER BY us.id LIMIT 1",
    )
    .bind(busiest_unit)
    .fetch_optional(&db.pool)
    .await?
    .map(|r| r.try_get("username"))
    .transpose()?;
    let liaison_name = liaison_name.ok_or_else(|| anyhow!("最忙的单位 {busiest_name} 没有联络员账号"))?;
    let liaison = db.user_by_name(&liaison_name).await?.ok_or_else(|| anyhow!("账号 {liaison_name} 不存在"))?;
    time_todo(db, "todo.liaison", &liaison, now, args.runs).await?;
    time_todo(db, "todo.supervisor", &supervisor, now, args.runs).await?;
    // A district leader whose 分包 area covers the busiest unit (their 待办 includes its overdue tasks).
    let leader_name: Option<String> = sqlx::query(
        "SELECT us.username FROM leader_areas a JOIN users us ON us.person_id = a.leader_person_id \
         WHERE us.role = 'leader' AND a.unit_id = $1 ORDER BY us.id LIMIT 1",
    )
    .bind(busiest_unit)
    .fetch_optional(&db.pool)
    .await?
    .map(|r| r.try_get("username"))
    .transpose()?;
    match leader_name {
        Some(name) => {
            let leader = db.user_by_name(&name).await?.ok_or_else(|| anyhow!("账号 {name} 不存在"))?;
            time_todo(db, "todo.leader", &leader, now, args.runs).await?;
        }
        None => line("todo.leader", format!("skipped: no leader's area covers {busiest_name}")),
    }

    let filter = TaskFilter { light: Some("red".into()), page: Some(1), page_size: Some(50), ..Default::default() };
    let mut times = Vec::with_capacity(args.runs);
    let mut total = 0;
    let mut rows = 0;
    for _ in 0..args.runs {
        let t = Instant::now();
        let page = db.list_tasks(&supervisor, &ctx, &filter).await?;
        times.push(t.elapsed());
        total = page.total;
        rows = page.items.len();
    }
    line("list.red", format!("user={} total={} rows={} {}", supervisor.username, total, rows, stats(times)));

    // What the sweeps left behind.
    let count = |sql: &'static str| async move {
        let n: i64 = sqlx::query(sql).fetch_one(&db.pool).await?.try_get("n")?;
        anyhow::Ok(n)
    };
    line(
        "rows.after",
        format!(
            "tasks={} escalations={} notifications={} audit_log={}",
            count("SELECT COUNT(*) AS n FROM tasks").await?,
            count("SELECT COUNT(*) AS n FROM escalations").await?,
            count("SELECT COUNT(*) AS n FROM notifications").await?,
            count("SELECT COUNT(*) AS n FROM audit_log").await?,
        ),
    );
    if db.backend == Backend::Postgres {
        let size: i64 = sqlx::query("SELECT CAST(SUM(pg_total_relation_size(c.oid)) AS BIGINT) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'")
            .fetch_one(&db.pool)
            .await?
            .try_get("n")?;
        line("postgres.schema_size", format!("mib={:.1}", mib(size.max(0) as u64)));
    }
    Ok(())
}

async fn time_todo(db: &Db, key: &str, user: &SessionUser, now: NaiveDateTime, runs: usize) -> Result<()> {
    let mut times = Vec::with_capacity(runs);
    let mut rows = 0;
    for _ in 0..runs {
        let t = Instant::now();
        // `todo` is `todo_at` with the server clock; the benchmark's own `now` keeps the clocks agreeing.
        rows = db.todo_at(user, now, 50).await?.len();
        times.push(t.elapsed());
    }
    line(key, format!("user={} rows={} {}", user.username, rows, stats(times)));
    Ok(())
}

/// One deadline the generator may use, with what follows from it.
struct DeadlineSlot {
    deadline: String,
    next_check_at: String,
    /// Possible receipt times (all in the past and before the deadline).
    received: Vec<NaiveDateTime>,
}

struct UnitPick {
    id: i64,
    name: String,
}

/// Everything the generator draws from, computed once.
struct Plan {
    now: NaiveDateTime,
    units: Vec<UnitPick>,
    unit_weights: WeightedIndex<f64>,
    categories: Vec<i64>,
    leaders: Vec<i64>,
    due: Vec<DeadlineSlot>,
    later: Vec<DeadlineSlot>,
    created_by: i64,
}

struct Loaded {
    rows: u64,
    due: u64,
    busiest: Option<(i64, String, u64)>,
}

const TITLES: &[&str] = &[
    "主干道路面修复与交通疏导",
    "老旧小区改造进度督查",
    "秋冬季大气污染防治攻坚",
    "城乡结合部环境综合整治",
    "重点项目开工手续办理",
    "安全生产隐患排查整改",
    "学前教育学位扩容",
    "背街小巷提质改造",
    "防汛设施检修与物资储备",
    "营商环境投诉办理回访",
];
const SOURCE_KINDS: &[&str] = &["superior", "meeting", "instruction"];
const CYCLES: &[&str] = &["weekly", "semimonthly", "monthly", "milestone"];

impl Plan {
    async fn new(
        db: &Db,
        cal: &xietong_calendar::WorkCalendar,
        rules: &xietong_storage::calendar::Rules,
        now: NaiveDateTime,
        created_by: i64,
    ) -> Result<Plan> {
        // Lead units: every unit but 内设科室, those with a liaison ranked first, busiest first.
        let with_liaison: Vec<i64> = sqlx::query(
            "SELECT DISTINCT p.unit_id FROM users us JOIN people p ON p.id = us.person_id WHERE us.role = 'liaison'",
        )
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>("unit_id"))
        .collect::<Result<_, _>>()?;
        let mut units: Vec<(bool, i64, String)> = db
            .list_units()
            .await?
            .into_iter()
            .filter(|u| u.kind != "内设科室")
            .map(|u| (!with_liaison.contains(&u.id), u.id, u.name))
            .collect();
        units.sort();
        if units.is_empty() {
            bail!("演示数据中没有可作牵头单位的单位");
        }
        // Zipf (s = 1): the busiest unit gets about a quarter of the tasks, the quietest under 1 %.
        let unit_weights = WeightedIndex::new((0..units.len()).map(|i| 1.0 / (i as f64 + 1.0)))?;
        let units = units.into_iter().map(|(_, id, name)| UnitPick { id, name }).collect();
        let categories: Vec<i64> = sqlx::query("SELECT id FROM categories ORDER BY id")
            .fetch_all(&db.pool)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>("id"))
            .collect::<Result<_, _>>()?;
        let leaders: Vec<i64> = sqlx::query("SELECT person_id FROM users WHERE role = 'leader' ORDER BY id")
            .fetch_all(&db.pool)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>("person_id"))
            .collect::<Result<_, _>>()?;
        if categories.is_empty() || leaders.is_empty() {
            bail!("演示数据缺少工作类别或区领导");
        }

        // Deadlines: end of office hours on working days from 15 back to 120 ahead. Each one's
        // first check is the 提醒 time; it is due now or later, which sorts it into `due` or `later`.
        let end = cal.office_hours().segments().last().map(|s| s.1).ok_or_else(|| anyhow!("办公时间为空"))?;
        let day = cal.office_hours().minutes_per_day();
        let mut due = vec![];
        let mut later = vec![];
        for k in -15i64..=120 {
            let date = cal.add_working_days(now.date(), k).value;
            let deadline = date.and_time(end);
            let Some(check) = lights::next_check_at(cal, &rules.escalation, deadline, &[], now) else { continue };
            // Received 1 to 40 working days before the earlier of now and the deadline.
            let anchor = now.min(deadline - chrono::Duration::minutes(1));
            let received =
                (0..16).map(|j| cal.sub_working_minutes(anchor, day * (1 + j * 5 / 2) + 37 * j).value).collect();
            let slot = DeadlineSlot { deadline: ts(deadline), next_check_at: ts(check), received };
            if check <= now { due.push(slot) } else { later.push(slot) }
        }
        if due.is_empty() || later.is_empty() {
            bail!("无法生成到期和未到期两类期限（当前时间 {}）", ts(now));
        }
        Ok(Plan { now, units, unit_weights, categories, leaders, due, later, created_by })
    }

    async fn load(&self, db: &Db, args: &Args) -> Result<Loaded> {
        let mut rng = StdRng::seed_from_u64(args.seed);
        let year = self.now.year();
        let mut per_unit = vec![0u64; self.units.len()];
        let mut due_count = 0u64;
        let mut stmt_cache: Option<(usize, String)> = None;
        let mut next = 0u64;
        while next < args.tasks {
            let tx_end = (next + args.tx_rows as u64).min(args.tasks);
            let mut tx = db.begin().await?;
            while next < tx_end {
                let n = ((tx_end - next) as usize).min(ROWS_PER_STMT);
                let sql = match &stmt_cache {
                    Some((k, s)) if *k == n => s.clone(),
                    _ => {
                        let s = insert_sql(db.backend, n);
                        stmt_cache = Some((n, s.clone()));
                        s
                    }
                };
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for i in next..next + n as u64 {
                    let u = self.unit_weights.sample(&mut rng);
                    per_unit[u] += 1;
                    let is_due = rng.gen_bool(args.due_share);
                    due_count += is_due as u64;
                    let slots = if is_due { &self.due } else { &self.later };
                    let slot = &slots[rng.gen_range(0..slots.len())];
                    let received = slot.received[rng.gen_range(0..slot.received.len())];
                    let status = match rng.gen_range(0..100) {
                        0..20 => "assigned",
                        20..35 => "received",
                        _ => "in_progress",
                    };
                    let assigned = (received + chrono::Duration::minutes(15)).min(self.now);
                    let signed =
                        (status != "assigned").then(|| (assigned + chrono::Duration::minutes(30)).min(self.now));
                    let decomposed =
                        (status == "in_progress").then(|| (assigned + chrono::Duration::minutes(90)).min(self.now));
                    let updated = decomposed.or(signed).unwrap_or(assigned);
                    let progress = if status == "in_progress" { rng.gen_range(0..10) * 10 } else { 0 };
                    let title = TITLES[(i % TITLES.len() as u64) as usize];
                    q = q
                        .bind(format!("{title}（压测{i}）"))
                        .bind(SOURCE_KINDS[rng.gen_range(0..SOURCE_KINDS.len())])
                        .bind(doc_no(year, i))
                        .bind("压测批量任务")
                        .bind(received.date().to_string())
                        .bind(self.categories[rng.gen_range(0..self.categories.len())])
                        .bind(self.units[u].id)
                        .bind(self.leaders[rng.gen_range(0..self.leaders.len())])
                        .bind(status)
                        .bind(CYCLES[rng.gen_range(0..CYCLES.len())])
                        .bind(progress as i64)
                        .bind(ts(received))
                        .bind(ts(assigned))
                        .bind(signed.map(ts))
                        .bind(decomposed.map(ts))
                        .bind(slot.deadline.clone())
                        .bind(slot.next_check_at.clone())
                        .bind(self.created_by)
                        .bind(ts(received + chrono::Duration::minutes(5)))
                        .bind(ts(updated))
                        .bind(xietong_supervision::text::doc_no_key(&doc_no(year, i)));
                }
                q.execute(&mut *tx).await.context("批量插入任务失败")?;
                next += n as u64;
            }
            tx.commit().await?;
        }
        let busiest = per_unit
            .iter()
            .enumerate()
            .max_by_key(|(_, n)| **n)
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| (self.units[i].id, self.units[i].name.clone(), *n));
        Ok(Loaded { rows: args.tasks, due: due_count, busiest })
    }
}

fn doc_no(year: i32, i: u64) -> String {
    format!("压测〔{year}〕{i}号")
}

/// `INSERT INTO tasks (…) VALUES (…), (…)` for `rows` rows. SQLite gets anonymous `?`
/// placeholders: with numbered `$n` ones, sqlx binds each through `sqlite3_bind_parameter_name`,
/// a linear walk of the statement's parameter list, so a 20 000-parameter statement costs
/// 20 000² / 2 steps to bind (measured: ~0.6 s per 1 000-row statement, 1 600 rows/s).
fn insert_sql(backend: Backend, rows: usize) -> String {
    let cols = COLUMNS.len();
    let mut s = format!("INSERT INTO tasks ({}) VALUES ", COLUMNS.join(", "));
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            match backend {
                Backend::Sqlite => s.push('?'),
                Backend::Postgres => {
                    s.push('$');
                    s.push_str(&(r * cols + c + 1).to_string());
                }
            }
        }
        s.push(')');
    }
    s
}
