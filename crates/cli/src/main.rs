//! The `xietong` binary: one command for the server and its administration.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use xietong_calendar::parse_datetime;
use xietong_storage::Db;
use xietong_web::{AppState, Clock};

#[derive(Parser)]
#[command(name = "xietong", version, about = "协同：督查督办与政校企产学研对接平台")]
struct Cli {
    /// Data directory: the SQLite database and its sm4.keys, attachments, the search index.
    #[arg(long, global = true, default_value = "./data", env = "XIETONG_DATA_DIR")]
    data_dir: PathBuf,
    /// Use this database instead of the SQLite file, e.g. postgres://user@127.0.0.1:5432/xietong
    #[arg(long, global = true, env = "XIETONG_DATABASE_URL")]
    database_url: Option<String>,
    /// The sentence-embedding model matching runs with (default <data-dir>/models/multilingual-e5-small,
    /// installed by scripts/install-model.sh). Without it matching ranks on words alone.
    #[arg(long, global = true, env = "XIETONG_MODEL_DIR")]
    model_dir: Option<PathBuf>,
    /// Log lines on stderr: text (coloured only on a terminal) or json (one object a line).
    #[arg(long, global = true, env = "XIETONG_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the web server (JSON API, pages, and the escalation scheduler).
    Serve {
        /// Address and port to listen on (0.0.0.0:8080 for every interface).
        #[arg(long, env = "XIETONG_BIND", default_value = "127.0.0.1:8080")]
        bind: std::net::SocketAddr,
        /// Load the demo data first if the database is empty.
        #[arg(long)]
        demo: bool,
        /// Seconds between escalation sweeps.
        #[arg(long, env = "XIETONG_SWEEP_EVERY", default_value_t = 60)]
        sweep_every: u64,
        /// Served over HTTPS (directly or behind a TLS proxy): cookies are marked Secure and every
        /// answer carries Strict-Transport-Security.
        #[arg(long, env = "XIETONG_SECURE_COOKIES", value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::SetTrue)]
        secure_cookies: bool,
        /// Reverse proxies whose X-Forwarded-For names the client: addresses or CIDR blocks,
        /// comma-separated (e.g. 10.0.0.0/8,192.168.1.5). Without it the connection's peer is the client.
        #[arg(long, env = "XIETONG_TRUSTED_PROXIES", default_value = "")]
        trusted_proxies: String,
        /// The origin browsers use (https://host[:port]), checked against Origin/Referer of form
        /// posts; needed only when a proxy rewrites the Host header.
        #[arg(long, env = "XIETONG_PUBLIC_ORIGIN")]
        public_origin: Option<String>,
        /// Largest file one upload may carry, in MiB (imports, the 通报 template).
        #[arg(long, env = "XIETONG_UPLOAD_LIMIT_MB", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=20))]
        upload_limit_mb: u64,
        /// Addresses or CIDR blocks, besides this machine, that may read /metrics (comma-separated).
        #[arg(long, env = "XIETONG_METRICS_ALLOW", default_value = "")]
        metrics_allow: String,
        /// A bearer token (16+ characters) that lets a scraper read /metrics from any address.
        #[arg(long, env = "XIETONG_METRICS_TOKEN", hide_env_values = true)]
        metrics_token: Option<String>,
    },
    /// Load the demo data (Erqi District) into an empty database.
    Demo,
    /// Work-calendar tools.
    Calendar {
        #[command(subcommand)]
        command: CalendarCmd,
    },
    /// Audit-log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCmd,
    },
    /// Copy the database, consistently, while the server may be running: SQLite by VACUUM INTO,
    /// PostgreSQL by pg_dump (custom format, for pg_restore).
    Backup {
        /// Destination file (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Put a backup back, with every server stopped: SQLite — the file becomes
    /// <data-dir>/xietong.db (there must be none yet); PostgreSQL — pg_restore into the empty
    /// database of --database-url. FILE.attachments goes back to <data-dir>/attachments. Then the
    /// audit chain is verified.
    Restore {
        /// The file `backup --out` wrote.
        #[arg(long)]
        from: PathBuf,
    },
    /// Run one escalation sweep now.
    Sweep,
    /// Delete attachment files no record names (left by uploads whose action was then refused),
    /// keeping any younger than the grace period.
    AttachmentsGc {
        /// Keep unnamed files younger than this many hours (an upload may be about to be named).
        #[arg(long, default_value_t = 24)]
        older_than_hours: i64,
    },
    /// Match queries against a library and print a standard TREC run (qid Q0 external_id rank score tag).
    Match {
        /// What to match against.
        #[arg(long, value_parser = ["achievements"])]
        target: String,
        /// Lines of `qid<TAB>text`.
        #[arg(long)]
        queries: PathBuf,
        #[arg(long, default_value_t = 10)]
        top: usize,
        #[arg(long, default_value = "trec", value_parser = ["trec"])]
        format: String,
        /// Rank with the plain BM25 baseline instead of the project's matching (for comparison).
        #[arg(long)]
        baseline: bool,
    },
    /// Rebuild the achievements search index of the data directory from the database, with progress
    /// (the server follows the database's change log and never needs this in normal operation; stop
    /// it first), then compute any missing sentence vectors.
    Reindex,
    /// Print the 产学研 statistics (as on the dashboard): records held (在库) beside the reported figures (上报).
    Stats,
    /// Re-encrypt the sensitive fields (phone numbers, e-mail) under the newest SM4 key: the middle
    /// step of a key rotation (add the new key last in XIETONG_SM4_KEYS or sm4.keys, run this,
    /// then drop the old key).
    Rekey,
    /// 产学研 libraries, review and matching from the command line, with one account's permissions.
    Docking {
        /// The account whose permissions apply (e.g. a 科技局 account).
        #[arg(long = "as", global = true, default_value = "")]
        user: String,
        #[command(subcommand)]
        what: DockingCmd,
    },
    /// Import records from a file (.xlsx, .csv or .tsv with a header row), all or nothing.
    Import {
        #[command(subcommand)]
        what: ImportCmd,
    },
    /// First start without demo data: create a unit and a 系统管理员 account in an empty database;
    /// then, with --role, the first 安全管理员 and 审计管理员 (三员分立: only a 安全管理员 creates
    /// the administrators' accounts on the pages). The password is read from
    /// XIETONG_ADMIN_PASSWORD, or generated and printed once.
    InitAdmin {
        #[arg(long, default_value = "admin")]
        username: String,
        /// The unit the administrator belongs to (created with the 系统管理员, found by name after).
        #[arg(long, default_value = "区政府办")]
        unit: String,
        /// Which of the three administrators.
        #[arg(long, default_value = "admin", value_parser = ["admin", "security_admin", "audit_admin"])]
        role: String,
    },
    /// Print the page permission table (method, route, roles) as JSON: the browser tests visit
    /// every page each role may open from it.
    Pages,
    /// Message channels (钉钉/企业微信 group robots, 钉钉 工作通知, SMS).
    Notify {
        #[command(subcommand)]
        what: NotifyCmd,
    },
    /// 任务抽取: documents (会议纪要, 领导批示, 上级交办) as draft tasks.
    Intake {
        #[command(subcommand)]
        what: IntakeCmd,
    },
}

#[derive(Subcommand)]
enum IntakeCmd {
    /// Print the draft batch of a document as JSON (文号, date, kind, tasks with 牵头/配合单位,
    /// deadline and leader, the items that assign nothing), unit names as the organisation tree of
    /// the data directory (or --database-url) spells them; the demo district's without a database.
    /// Reads .txt (UTF-8 or GB18030) and .docx; `-` reads standard input.
    Extract {
        #[arg(long)]
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum NotifyCmd {
    /// Send one test message through a channel's adapter (the outbox's own code); exits non-zero
    /// with the receiver's answer when delivery fails.
    Test {
        /// dingtalk (钉钉群机器人), wecom (企业微信群机器人), dingtalk-work (工作通知), sms, email
        #[arg(long)]
        channel: String,
        /// The webhook or gateway URL, the mail server (smtp://user@host:587, smtps://…:465); for
        /// dingtalk-work the open platform's base URL (optional).
        #[arg(long, default_value = "")]
        url: String,
        /// The robot's signing secret (SEC…) or the gateway's token.
        #[arg(long, default_value = "")]
        secret: String,
        /// The 钉钉 robot's keyword, when it checks keywords instead of signatures.
        #[arg(long, default_value = "")]
        keyword: String,
        /// The mobile to text (sms) or to @ in the group.
        #[arg(long)]
        mobile: Option<String>,
        /// 钉钉 工作通知: app key, app secret, agent id and the person's user id.
        #[arg(long, default_value = "")]
        app_key: String,
        #[arg(long, default_value = "")]
        app_secret: String,
        #[arg(long, default_value = "")]
        agent_id: String,
        #[arg(long)]
        user_id: Option<String>,
        /// The SMS template id.
        #[arg(long, default_value = "")]
        template_id: String,
        /// E-mail: the sender and the address to mail.
        #[arg(long, default_value = "")]
        sender: String,
        #[arg(long)]
        to: Option<String>,
        #[arg(long, default_value = "协同平台测试消息，收到即表示通道可用。")]
        text: String,
    },
}

#[derive(Subcommand)]
enum CalendarCmd {
    /// Print the due time N working hours after a moment, then any flag.
    Due {
        #[arg(long)]
        from: String,
        #[arg(long)]
        working_hours: f64,
    },
}

#[derive(Subcommand)]
enum ImportCmd {
    /// 成果库: columns id, title, abstract, keywords (";"-separated), discipline, category; the id
    /// is kept as the external id.
    Achievements {
        #[arg(long)]
        file: PathBuf,
        /// Where the records come from, shown with them.
        #[arg(long, default_value = "")]
        source: String,
    },
    /// 企业库: 企业名称, 统一社会信用代码 (checked), 行业代码 (GB/T 4754-2017), 所在镇街/园区, 资质, 联系人, 联系电话.
    Enterprises {
        #[arg(long)]
        file: PathBuf,
    },
    /// 难题库: problems collected for a campaign (columns of the 技术难题征集模板), entered by a
    /// 科技局 account on the enterprises' behalf; they go to 形式审核.
    Problems {
        #[arg(long)]
        file: PathBuf,
        /// The 科技局 account the import is recorded under.
        #[arg(long = "as")]
        user: String,
        #[arg(long)]
        campaign: Option<i64>,
    },
}

#[derive(Subcommand)]
enum DockingCmd {
    /// Print one library as TSV: problems, experts, institutions, platforms, campaigns, dockings, contracts or reviews (the 审核台 queue).
    List {
        #[arg(value_parser = ["problems", "experts", "institutions", "platforms", "campaigns", "dockings", "contracts", "reviews"])]
        what: String,
    },
    /// One review step: pass_formal, approve, return (with --reason) or renew.
    Review {
        #[arg(long, value_parser = ["problem", "expert", "achievement"])]
        library: String,
        #[arg(long)]
        id: i64,
        #[arg(long)]
        action: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Matches of a published problem (achievements and experts), of an achievement (problems and
    /// enterprises) or of an expert (problems), each with its reasons, as TSV.
    Match {
        #[arg(long, value_parser = ["problem", "achievement", "expert"])]
        of: String,
        #[arg(long)]
        id: i64,
        #[arg(long, default_value_t = 10)]
        top: usize,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Verify the SM3 hash chain; exits non-zero and names the first bad entry.
    Verify,
}

fn keys_configured() -> bool {
    std::env::var(xietong_storage::KEYS_ENV).is_ok_and(|v| !v.trim().is_empty())
}

/// The application state matching runs on, with the configured model (or none, and a warning why),
/// its missing vectors computed first with progress on stderr.
async fn semantic_state(cli: &Cli, db: Db) -> Result<AppState> {
    let dir = cli.model_dir.clone().unwrap_or_else(|| xietong_web::semantic::default_dir(&cli.data_dir));
    let sem = xietong_web::semantic::Semantic::load(&dir);
    if let Some(why) = sem.unavailable() {
        eprintln!("语义匹配不可用，仅按文本检索排序：{why}");
    }
    // The index in memory: a server running on the same data directory holds the one on disk.
    let state = AppState::new(db, Clock::Real).await?.with_semantic(sem)?;
    if state.semantic.model().is_some() {
        let watched = state.clone();
        let watch = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let p = watched.semantic.progress();
                eprint!("\r计算语义向量：{}/{} 项成果", p.done, p.total);
            }
        });
        let p = state.embed_pending().await;
        watch.abort();
        let p = p?;
        eprintln!("\r语义向量：{}/{} 项成果已计算（本次计算 {} 项）", p.done, p.total, p.computed);
    }
    Ok(state)
}

async fn open(cli: &Cli) -> Result<Db> {
    Ok(match &cli.database_url {
        Some(url) => {
            // On PostgreSQL there is no data directory to keep the keys in: they must be configured,
            // or phone numbers written now could not be read after a restart.
            if !keys_configured() {
                anyhow::bail!(
                    "使用 PostgreSQL 时须设置 {}（SM4 密钥，形如 1:32位十六进制），见 README「敏感字段」",
                    xietong_storage::KEYS_ENV
                );
            }
            Db::connect(url, None).await?
        }
        None => Db::open_data_dir(&cli.data_dir).await?,
    })
}

async fn run(cli: Cli) -> Result<ExitCode> {
    match &cli.command {
        Cmd::Notify { what } => return notify(what).await,
        Cmd::Intake { what: IntakeCmd::Extract { file } } => return intake_extract(&cli, file).await,
        Cmd::Serve {
            bind,
            demo,
            sweep_every,
            secure_cookies,
            trusted_proxies,
            public_origin,
            upload_limit_mb,
            metrics_allow,
            metrics_token,
        } => {
            let deployment = xietong_web::Deployment {
                secure_cookies: *secure_cookies,
                trusted_proxies: xietong_web::auth::parse_trusted_proxies(trusted_proxies)
                    .map_err(|e| anyhow::anyhow!("--trusted-proxies：{e}"))?,
                public_origin: public_origin
                    .as_deref()
                    .map(xietong_web::auth::parse_public_origin)
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("--public-origin：{e}"))?,
                upload_limit: *upload_limit_mb as usize * 1024 * 1024,
                metrics: xietong_web::metrics::Access::parse(metrics_allow, metrics_token.as_deref())
                    .map_err(|e| anyhow::anyhow!("--metrics-allow / --metrics-token：{e}"))?,
            };
            let db = open(&cli).await?;
            if *demo && db.is_empty().await? {
                let s = xietong_demo::load(&db, xietong_storage::local_now()).await?;
                tracing::info!(units = s.units, accounts = s.accounts, tasks = s.tasks, "demo data loaded");
            }
            let state =
                AppState::with_data_dir(db, Clock::Real, cli.data_dir.clone()).await?.with_deployment(deployment)?;
            let dir = cli.model_dir.clone().unwrap_or_else(|| xietong_web::semantic::default_dir(&cli.data_dir));
            let sem = xietong_web::semantic::Semantic::load(&dir);
            match sem.unavailable() {
                Some(why) => tracing::warn!("语义匹配不可用，匹配仅按文本检索排序：{why}"),
                None => tracing::info!(model = %dir.display(), "sentence-embedding model loaded"),
            }
            let state = state.with_semantic(sem)?;
            // Build or check the search index now, so the first search does not wait for it.
            if let Err(e) = state.achievements_index().await {
                tracing::warn!(error = %e, "achievements index not ready");
            }
            xietong_web::serve(state, *bind, Duration::from_secs((*sweep_every).max(1))).await?;
        }
        Cmd::Demo => {
            let db = open(&cli).await?;
            let s = xietong_demo::load(&db, xietong_storage::local_now()).await?;
            println!(
                "演示数据已装入：{} 个单位，{} 名人员，{} 个账号，{} 项任务，自动督办 {} 次。演示账号密码：{}",
                s.units,
                s.people,
                s.accounts,
                s.tasks,
                s.escalations_fired,
                xietong_demo::DEMO_PASSWORD
            );
        }
        Cmd::Calendar { command: CalendarCmd::Due { from, working_hours } } => {
            let from = parse_datetime("--from", from)?;
            if !working_hours.is_finite() || *working_hours < 0.0 || *working_hours > 100_000.0 {
                anyhow::bail!("--working-hours 应在 0 到 100000 之间");
            }
            let db = open(&cli).await?;
            let cal = db.load_calendar().await?;
            let due = cal.add_working_minutes(from, (working_hours * 60.0).round() as i64);
            println!("{}", due.value.format("%Y-%m-%d %H:%M"));
            if let Some(flag) = due.flag_zh() {
                println!("{flag}");
            }
        }
        Cmd::Audit { command: AuditCmd::Verify } => {
            let db = open(&cli).await?;
            match db.verify_audit().await? {
                Ok(n) => println!("审计日志完整：共 {n} 条，SM3 哈希链校验通过"),
                Err(e) => {
                    eprintln!("审计日志校验失败：{e}");
                    return Ok(ExitCode::from(2));
                }
            }
        }
        Cmd::Backup { out } => {
            match &cli.database_url {
                // pg_dump reads one consistent snapshot while the server keeps writing; restore the
                // archive with `pg_restore --no-owner --dbname <empty database> <file>`.
                Some(url) => {
                    if out.exists() {
                        anyhow::bail!("备份文件 {} 已存在，不会覆盖", out.display());
                    }
                    let o = std::process::Command::new("pg_dump")
                        .args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
                        .arg(out)
                        .args(["--dbname", url])
                        .output()
                        .context("无法运行 pg_dump（PostgreSQL 客户端工具）")?;
                    if !o.status.success() {
                        let _ = std::fs::remove_file(out);
                        anyhow::bail!("pg_dump 失败：{}", String::from_utf8_lossy(&o.stderr).trim());
                    }
                }
                None => {
                    let db = open(&cli).await?;
                    db.backup_to(out).await.with_context(|| format!("备份到 {} 失败", out.display()))?;
                }
            }
            println!("已备份到 {}", out.display());
            // Attachments after the database: their blobs are written before the rows that name
            // them, so every file the copied database refers to is already there.
            if let Some(dir) = copy_attachments(&cli.data_dir, out)? {
                println!("附件已备份到 {}", dir.display());
            }
        }
        Cmd::Restore { from } => {
            if !from.is_file() {
                anyhow::bail!("备份文件 {} 不存在", from.display());
            }
            match &cli.database_url {
                Some(url) => {
                    if !keys_configured() {
                        anyhow::bail!("恢复到 PostgreSQL 前须设置备份时所用的 {}", xietong_storage::KEYS_ENV);
                    }
                    // One transaction: into a database that is not empty nothing is restored at all.
                    let o = std::process::Command::new("pg_restore")
                        .args(["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"])
                        .args(["--dbname", url])
                        .arg(from)
                        .output()
                        .context("无法运行 pg_restore（PostgreSQL 客户端工具）")?;
                    if !o.status.success() {
                        anyhow::bail!(
                            "pg_restore 失败，未恢复任何数据（目标须为空数据库）：{}",
                            String::from_utf8_lossy(&o.stderr).trim()
                        );
                    }
                }
                None => {
                    let file = cli.data_dir.join("xietong.db");
                    if file.exists() {
                        anyhow::bail!("{} 已存在：恢复不覆盖现有数据，请停止服务并先移走它", file.display());
                    }
                    // Without the keys the backup was written under, a new key would be made and
                    // every encrypted phone number and ID number would be unreadable.
                    if !keys_configured() && !cli.data_dir.join("sm4.keys").exists() {
                        anyhow::bail!(
                            "{} 中没有 sm4.keys，也未设置 {}：请先放回备份时的密钥文件（见 README「敏感字段」）",
                            cli.data_dir.display(),
                            xietong_storage::KEYS_ENV
                        );
                    }
                    // A write-ahead log left beside no database belongs to none; SQLite would
                    // replay it into the restored file.
                    for stale in ["xietong.db-wal", "xietong.db-shm"] {
                        let _ = std::fs::remove_file(cli.data_dir.join(stale));
                    }
                    std::fs::copy(from, &file).with_context(|| format!("无法写入 {}", file.display()))?;
                }
            }
            println!("数据库已从 {} 恢复", from.display());
            let mut saved = from.as_os_str().to_owned();
            saved.push(".attachments");
            let saved = PathBuf::from(saved);
            if saved.is_dir() && std::env::var_os("XIETONG_ATTACHMENTS_S3_BUCKET").is_none() {
                // Content-addressed files: one already there under its name holds the same bytes.
                let to = cli.data_dir.join("attachments");
                copy_dir(&saved, &to).with_context(|| format!("附件恢复到 {} 失败", to.display()))?;
                println!("附件已恢复到 {}", to.display());
            }
            let db = open(&cli).await?;
            match db.verify_audit().await? {
                Ok(n) => println!("审计日志完整：共 {n} 条，SM3 哈希链校验通过"),
                Err(e) => {
                    eprintln!("恢复的数据库审计日志校验失败：{e}");
                    return Ok(ExitCode::from(2));
                }
            }
        }
        Cmd::InitAdmin { username, unit, role } => {
            let role = xietong_supervision::Role::from_code(role).unwrap_or(xietong_supervision::Role::Admin);
            let db = open(&cli).await?;
            let first = role == xietong_supervision::Role::Admin;
            if first && !db.is_empty().await? {
                anyhow::bail!("数据库中已有单位数据；请由现有系统管理员在「组织机构」页面添加账号");
            }
            // The other two only once each, into the organisation the 系统管理员 started.
            let unit_id = if first {
                None
            } else {
                if db.list_users().await?.iter().any(|u| u.role == role.code() && u.active) {
                    anyhow::bail!("已有{}账号；其他管理员账号由安全管理员在「组织机构」页面添加", role.label_zh());
                }
                let units = db.list_units().await?;
                let Some(u) = units.iter().find(|u| u.name == *unit) else {
                    anyhow::bail!("单位「{unit}」不存在：请先运行 init-admin 创建系统管理员，或用 --unit 指定已有单位");
                };
                Some(u.id)
            };
            let (password, generated) = match std::env::var("XIETONG_ADMIN_PASSWORD") {
                Ok(p) => (p, false),
                Err(_) => (generate_password(), true),
            };
            xietong_storage::auth::check_password_policy(&password)?;
            let hash = xietong_storage::auth::hash_password(&password)?;
            let now = xietong_storage::local_now();
            let mut tx = db.begin().await?;
            let unit_id = match unit_id {
                Some(id) => id,
                None => db.create_unit(&mut tx, "cli", "root", unit, "区政府部门", None, now).await?,
            };
            let code = if first { "admin" } else { username.as_str() };
            let post = role.label_zh();
            let person = db.create_person(&mut tx, "cli", code, post, post, unit_id, now).await?;
            let id = db.create_user(&mut tx, "cli", username, &hash, person, role, now).await?;
            if generated {
                // A password printed on a console is an initial one: the first sign-in changes it.
                xietong_storage::Db::require_password_change(&mut tx, id).await?;
            }
            tx.commit().await?;
            println!("已创建{}账号 {username}（单位：{unit}）", role.label_zh());
            if generated {
                println!("初始密码（只显示这一次，首次登录须修改）：{password}");
            }
        }
        Cmd::Import { what: ImportCmd::Achievements { file, source } } => {
            let (rows, cells) = read_import(file, &xietong_storage::achievements::achievement_columns())?;
            let db = open(&cli).await?;
            let r = db.import_achievements("cli", &rows, cells, source, xietong_storage::local_now()).await?;
            println!("已导入 {} 项成果", r.created_ids.len());
        }
        Cmd::Import { what: ImportCmd::Enterprises { file } } => {
            let (rows, cells) = read_import(file, &xietong_storage::enterprises::enterprise_columns())?;
            let db = open(&cli).await?;
            let r = db.import_enterprises("cli", &rows, cells, xietong_storage::local_now()).await?;
            println!("已导入 {} 家企业", r.created_ids.len());
        }
        Cmd::Import { what: ImportCmd::Problems { file, user, campaign } } => {
            let (rows, cells) = read_import(file, &xietong_storage::libraries::problem_columns())?;
            let db = open(&cli).await?;
            let u = db.user_by_name(user).await?.ok_or_else(|| anyhow::anyhow!("没有账号 {user}"))?;
            let r = db.import_problems(&u, &rows, cells, *campaign, xietong_storage::local_now()).await?;
            println!("已导入 {} 项技术难题，待形式审核", r.created_ids.len());
        }
        Cmd::Docking { user, what } => {
            let db = open(&cli).await?;
            if user.is_empty() {
                anyhow::bail!("请用 --as 指定账号（其权限和数据范围适用于本命令）");
            }
            let u = db.user_by_name(user).await?.ok_or_else(|| anyhow::anyhow!("没有账号 {user}"))?;
            let now = xietong_storage::local_now();
            let clean = |x: &str| x.replace(['\t', '\n', '\r'], " ");
            let mut out = String::new();
            let mut line = |cells: Vec<String>| {
                out.push_str(&cells.iter().map(|c| clean(c)).collect::<Vec<_>>().join("\t"));
                out.push('\n');
            };
            match what {
                DockingCmd::List { what } => match what.as_str() {
                    "problems" => {
                        line(vec!["编号".into(), "难题".into(), "企业".into(), "状态".into(), "有效期至".into()]);
                        for p in db.list_problems_for(&u, None).await? {
                            line(vec![
                                p.id.to_string(),
                                p.title,
                                p.enterprise_name,
                                p.review.status_label,
                                p.review.expires_on.unwrap_or_default(),
                            ]);
                        }
                    }
                    "experts" => {
                        line(vec![
                            "编号".into(),
                            "专家".into(),
                            "机构".into(),
                            "学科".into(),
                            "联系电话".into(),
                            "状态".into(),
                        ]);
                        for x in db.list_experts_for(&u, None).await? {
                            line(vec![
                                x.id.to_string(),
                                x.name,
                                x.institution_name,
                                x.disciplines.join("；"),
                                x.phone,
                                x.review.status_label,
                            ]);
                        }
                    }
                    "institutions" => {
                        xietong_web::docking::may_read_libraries(&u)?;
                        line(vec!["编号".into(), "名称".into(), "类型".into(), "所在地".into()]);
                        for i in db.list_institutions().await? {
                            line(vec![i.id.to_string(), i.name, i.kind, i.location]);
                        }
                    }
                    "platforms" => {
                        xietong_web::docking::may_read_libraries(&u)?;
                        line(vec!["名称".into(), "类别".into(), "类型".into(), "级别".into()]);
                        for p in db.list_platforms(None, None).await? {
                            line(vec![p.name, p.group, p.kind, p.level]);
                        }
                    }
                    "campaigns" => {
                        xietong_web::docking::may_read_libraries(&u)?;
                        line(vec![
                            "编号".into(),
                            "征集".into(),
                            "对象".into(),
                            "开始".into(),
                            "截止".into(),
                            "状态".into(),
                            "提交".into(),
                            "已发布".into(),
                        ]);
                        for c in db.list_campaigns(now.date()).await? {
                            line(vec![
                                c.id.to_string(),
                                c.title,
                                c.target_label,
                                c.starts_on,
                                c.ends_on,
                                c.state_label,
                                c.submissions.to_string(),
                                c.published.to_string(),
                            ]);
                        }
                    }
                    "dockings" => {
                        line(vec!["编号".into(), "对接".into(), "企业".into(), "阶段".into()]);
                        for d in db.list_dockings(&u, None).await? {
                            line(vec![d.id.to_string(), d.title, d.enterprise_name, d.stage_label]);
                        }
                    }
                    "contracts" => {
                        xietong_web::docking::may_read_stats(&u)?;
                        line(vec![
                            "登记编号".into(),
                            "类型".into(),
                            "买方".into(),
                            "卖方".into(),
                            "金额（万元）".into(),
                            "签订日期".into(),
                        ]);
                        for c in db.list_contracts(None, None).await? {
                            line(vec![
                                c.contract_no,
                                c.kind_label,
                                c.buyer,
                                c.seller,
                                c.amount_wan.to_string(),
                                c.signed_on,
                            ]);
                        }
                    }
                    _ => {
                        line(vec!["库".into(), "编号".into(), "名称".into(), "提交单位".into(), "状态".into()]);
                        for r in db.review_queue(&u).await? {
                            line(vec![r.library_label, r.id.to_string(), r.title, r.party, r.review.status_label]);
                        }
                    }
                },
                DockingCmd::Review { library, id, action, reason } => {
                    let lib = xietong_storage::libraries::Library::from_code(library)
                        .ok_or_else(|| anyhow::anyhow!("未知库 {library}"))?;
                    let action = xietong_docking::review::ReviewAction::from_code(action).ok_or_else(|| {
                        anyhow::anyhow!("未知审核操作 {action}（pass_formal、approve、return、renew）")
                    })?;
                    let st = db.review(Some(&u), lib, *id, action, reason, now).await?;
                    line(vec![format!("{}「{}」：{}", lib.label_zh(), id, st.label_zh())]);
                }
                DockingCmd::Match { of, id, top } => {
                    let m = match of.as_str() {
                        "problem" => {
                            xietong_web::docking::may_read_libraries(&u)?;
                            let state = semantic_state(&cli, db.clone()).await?;
                            state.match_problem(&u, *id, *top).await?
                        }
                        "achievement" => db.match_achievement(&u, None, *id, *top).await?,
                        _ => db.match_expert(&u, None, *id, *top).await?,
                    };
                    line(vec![
                        "类别".into(),
                        "名次".into(),
                        "编号".into(),
                        "名称".into(),
                        "得分".into(),
                        "匹配理由".into(),
                    ]);
                    for x in m.achievements.iter().chain(&m.experts).chain(&m.problems).chain(&m.enterprises) {
                        line(vec![
                            x.kind.clone(),
                            x.rank.to_string(),
                            x.id.to_string(),
                            x.title.clone(),
                            format!("{:.3}", x.score),
                            x.reasons.join("；"),
                        ]);
                    }
                    for (n, what) in [(m.withheld_achievements, "成果"), (m.withheld_experts, "专家")] {
                        if n > 0 {
                            eprintln!("另有 {n} 项{what}相关度不足，未推荐");
                        }
                    }
                }
            }
            print!("{out}");
        }
        Cmd::Rekey => {
            let db = open(&cli).await?;
            let n = db.rekey_fields(xietong_storage::local_now()).await?;
            println!("已用密钥 {} 重新加密 {n} 个字段值", db.cipher.current_key_id());
        }
        Cmd::Stats => {
            let db = open(&cli).await?;
            let st = db.docking_stats(xietong_storage::local_now().date()).await?;
            // 在库数, then the reported figure (上报数) with the difference and its source.
            for f in &st.figures {
                let reported = match &f.reported {
                    Some(r) => format!("\t{}\t来源：{}", r.message_zh, r.source),
                    None => "\t尚无上报数".into(),
                };
                println!("{}\t在库 {} {}{reported}", f.label, f.value, f.unit);
            }
            for r in &st.contracts_by_year {
                println!("技术合同成交额 {}\t{} 项\t{} 万元", r.period, r.count, r.amount_wan);
            }
            println!("推荐→签订技术合同转化率\t{}%", st.conversion);
        }
        Cmd::Match { target: _, queries, top, format: _, baseline } => {
            if *top == 0 || *top > 1000 {
                anyhow::bail!("--top 应在 1 到 1000 之间");
            }
            let text = std::fs::read_to_string(queries).with_context(|| format!("无法读取 {}", queries.display()))?;
            // Every line is checked before any is run, so a bad file prints nothing but the errors.
            let mut parsed = vec![];
            let mut errors = vec![];
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                match line.split_once('\t') {
                    Some((qid, q))
                        if !qid.trim().is_empty()
                            && !qid.contains(char::is_whitespace)
                            && !q.trim().is_empty()
                            && q.chars().count() <= xietong_search::MAX_QUERY_CHARS =>
                    {
                        parsed.push((qid.trim().to_string(), q.trim().to_string()))
                    }
                    Some((_, q)) if q.chars().count() > xietong_search::MAX_QUERY_CHARS => errors.push(format!(
                        "第 {} 行：查询内容不能超过 {} 个字",
                        i + 1,
                        xietong_search::MAX_QUERY_CHARS
                    )),
                    Some((_, q)) if q.trim().is_empty() => errors.push(format!("第 {} 行：查询内容不能为空", i + 1)),
                    _ => errors.push(format!("第 {} 行：应为「查询编号<TAB>查询内容」，查询编号不能含空白", i + 1)),
                }
            }
            if !errors.is_empty() {
                anyhow::bail!("查询文件有误，未执行：\n{}", errors.join("\n"));
            }
            let db = open(&cli).await?;
            let (idx, rebuilt) = db.achievements_index(&cli.data_dir).await?;
            if rebuilt {
                eprintln!("检索索引已按数据库重建：{} 项成果", idx.num_docs());
            }
            let tag = if *baseline { "bm25" } else { "xietong" };
            let mut out = String::new();
            if *baseline {
                for (qid, q) in &parsed {
                    let hits = idx.baseline_search(q, *top).map_err(|e| anyhow::anyhow!("查询 {qid}：{e}"))?;
                    for h in hits {
                        out.push_str(&format!("{qid} Q0 {} {} {:.6} {tag}\n", h.external_id, h.rank, h.score));
                    }
                }
            } else {
                // The ranking of the problem page: the vectors first brought up to date.
                let state = semantic_state(&cli, db.clone()).await?;
                let model = state.semantic.model().cloned();
                let vectors = match &model {
                    Some(e) => {
                        let id = xietong_web::semantic::model_id(e);
                        Some(db.load_vectors(xietong_storage::embeddings::Kind::Achievement, &id, e.dim()).await?)
                    }
                    None => None,
                };
                for (qid, q) in &parsed {
                    let qv = model
                        .as_ref()
                        .map(|e| e.embed_query(q))
                        .transpose()
                        .map_err(|e| anyhow::anyhow!("查询 {qid}：{e}"))?;
                    let dense = vectors.as_ref().zip(qv.as_deref());
                    let hits = xietong_search::hybrid::rank(&idx, dense, q, *top)
                        .map_err(|e| anyhow::anyhow!("查询 {qid}：{e}"))?;
                    for h in hits {
                        out.push_str(&format!("{qid} Q0 {} {} {:.6} {tag}\n", h.external_id, h.rank, h.score));
                    }
                }
            }
            print!("{out}");
        }
        Cmd::Reindex => {
            let db = open(&cli).await?;
            let head = db.search_changes_head().await?;
            let docs: Vec<_> =
                db.published_achievements().await?.into_iter().map(xietong_storage::search_index::doc_of).collect();
            xietong_web::live::rebuild_on_disk(&cli.data_dir, head, &docs, |done, all| {
                eprint!("\r重建检索索引：{done}/{all} 项成果");
            })?;
            eprintln!();
            semantic_state(&cli, db).await?;
            println!("检索索引已重建：{} 项成果（变更日志至第 {head} 条）", docs.len());
        }
        Cmd::AttachmentsGc { older_than_hours } => {
            let db = open(&cli).await?;
            let blobs = xietong_web::attachments::Blobs::for_data_dir(&cli.data_dir)?;
            let (kept, deleted) =
                blobs.collect_garbage(&db, chrono::Duration::hours((*older_than_hours).max(0))).await?;
            println!("附件清理：保留 {kept} 个文件，删除 {deleted} 个无记录引用的文件");
        }
        Cmd::Pages => println!("{}", xietong_web::policy::pages_json()),
        Cmd::Sweep => {
            let db = open(&cli).await?;
            let cal = db.load_calendar().await?;
            let rules = db.load_rules().await?;
            let r = db
                .sweep(
                    &xietong_storage::tasks::Ctx { cal: &cal, rules: &rules, now: xietong_storage::local_now() },
                    500,
                )
                .await?;
            println!("检查 {} 项任务，触发 {} 个督办环节", r.tasks_checked, r.steps_fired);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The rows of an import file and the problems found in its cells; an unreadable file is refused.
fn read_import(
    file: &std::path::Path,
    cols: &[xietong_office::table::Column],
) -> Result<(Vec<xietong_office::xlsx::RawRow>, Vec<xietong_storage::imports::RowProblem>)> {
    let bytes = std::fs::read(file).with_context(|| format!("无法读取 {}", file.display()))?;
    let name = file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let (rows, cells) = xietong_office::xlsx::read_rows(&name, &bytes, cols)
        .map_err(|e| anyhow::anyhow!("导入未执行（文件有误，未写入任何数据）：\n{e}"))?;
    Ok((rows, xietong_storage::imports::cell_problems(cells)))
}

/// A random password that meets the policy: 16 characters from four classes.
fn generate_password() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let sets: [&[u8]; 4] = [b"ABCDEFGHJKLMNPQRSTUVWXYZ", b"abcdefghijkmnpqrstuvwxyz", b"23456789", b"!@#%+=?"];
    (0..16)
        .map(|i| {
            let set = sets[i % 4];
            set[rng.gen_range(0..set.len())] as char
        })
        .collect()
}

/// Logs go to stderr. Colour codes only when it is a terminal (and NO_COLOR is not set): a log
/// file or a journal would keep them as `\x1b[…m` noise. JSON lines for a log shipper.
fn init_logs(format: LogFormat) {
    use std::io::IsTerminal;
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => {
            logs.with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()).init()
        }
        LogFormat::Json => logs.with_ansi(false).json().flatten_event(true).init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(cli.log_format);
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("无法启动运行时：{e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            // The command line's user is the operator: the detail the web hides from users
            // (a failed migration, say) is what they need.
            match e.downcast_ref::<xietong_storage::StoreError>() {
                Some(xietong_storage::StoreError::Internal(detail)) => eprintln!("错误：{e:#}（{detail}）"),
                _ => eprintln!("错误：{e:#}"),
            }
            ExitCode::FAILURE
        }
    }
}

/// Copy `<data>/attachments` (content-addressed files, never changed once written) beside the
/// backup as `<out>.attachments`; restore by copying that folder back to `<data>/attachments`.
/// Nothing to do when attachments are kept in an S3-compatible bucket (back that up by its own
/// means) or none were ever stored.
fn copy_attachments(data_dir: &std::path::Path, out: &std::path::Path) -> anyhow::Result<Option<PathBuf>> {
    let from = data_dir.join("attachments");
    if std::env::var_os("XIETONG_ATTACHMENTS_S3_BUCKET").is_some() || !from.is_dir() {
        return Ok(None);
    }
    let mut to = out.as_os_str().to_owned();
    to.push(".attachments");
    let to = PathBuf::from(to);
    if to.exists() {
        anyhow::bail!("附件备份目录 {} 已存在，不会覆盖", to.display());
    }
    copy_dir(&from, &to).with_context(|| format!("附件备份到 {} 失败", to.display()))?;
    Ok(Some(to))
}

/// Copy a directory tree (attachments: files are never changed once written).
fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// `xietong notify test`: one message through the adapter the outbox uses, no database needed.
/// A document's text: a Word file's paragraphs, or plain text in UTF-8 (else GB18030).
fn document_text(file: &std::path::Path) -> Result<String> {
    let bytes = if file.as_os_str() == "-" {
        let mut b = vec![];
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b)?;
        b
    } else {
        std::fs::read(file).with_context(|| format!("无法读取 {}", file.display()))?
    };
    Ok(xietong_office::document_text(&bytes)?)
}

async fn intake_extract(cli: &Cli, file: &std::path::Path) -> Result<ExitCode> {
    let text = document_text(file)?;
    let have_db = cli.database_url.is_some() || cli.data_dir.join("xietong.db").exists();
    let (units, cal) = if have_db {
        let db = open(cli).await?;
        let units: Vec<xietong_intake::OrgUnit> = db
            .list_units()
            .await?
            .into_iter()
            .map(|u| xietong_intake::OrgUnit { name: u.name, kind: u.kind })
            .collect();
        (units, db.load_calendar().await?)
    } else {
        (vec![], xietong_calendar::WorkCalendar::with_bundled_holidays())
    };
    let units = if units.is_empty() {
        xietong_demo::org_units().into_iter().map(|(name, kind)| xietong_intake::OrgUnit { name, kind }).collect()
    } else {
        units
    };
    let org = xietong_intake::Org::new(units, &xietong_intake::default_aliases());
    let workday = |d: chrono::NaiveDate| xietong_intake::working_day(&cal, d);
    let draft = xietong_intake::extract(&text, &org, &workday, None);
    println!("{}", serde_json::to_string_pretty(&draft)?);
    if draft.tasks.is_empty() {
        eprintln!("未识别出交办事项：文中没有明确由哪个单位办理的事项");
    }
    Ok(ExitCode::SUCCESS)
}

async fn notify(what: &NotifyCmd) -> Result<ExitCode> {
    let NotifyCmd::Test {
        channel,
        url,
        secret,
        keyword,
        mobile,
        app_key,
        app_secret,
        agent_id,
        user_id,
        template_id,
        sender,
        to,
        text,
    } = what;
    let Some(kind) = xietong_notify::ChannelKind::from_short(channel) else {
        eprintln!("未知通道「{channel}」：应为 dingtalk、wecom、dingtalk-work、sms 或 email");
        return Ok(ExitCode::from(2));
    };
    let mut cfg = xietong_notify::ChannelConfig::new(kind);
    if kind == xietong_notify::ChannelKind::DingtalkWork {
        cfg.base_url = url.clone();
    } else {
        cfg.url = url.clone();
    }
    cfg.secret = secret.clone();
    cfg.keyword = keyword.clone();
    cfg.app_key = app_key.clone();
    cfg.app_secret = app_secret.clone();
    cfg.agent_id = agent_id.clone();
    cfg.template_id = template_id.clone();
    cfg.sender = sender.clone();
    let adapter = match xietong_notify::adapter(&cfg, xietong_notify::http_client()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("配置有误（{}）：{}", e.field, e.message);
            return Ok(ExitCode::from(2));
        }
    };
    let m = xietong_notify::Outgoing {
        idem_key: format!("xt-test-{}", chrono::Utc::now().timestamp_millis()),
        title: "测试".into(),
        text: text.clone(),
        mobiles: mobile.iter().cloned().collect(),
        user_id: user_id.clone(),
        email: to.clone(),
        ..Default::default()
    };
    match adapter.send(&m).await {
        Ok(r) => {
            println!("已送达（{}）：{}", kind.label_zh(), r.answer);
            Ok(ExitCode::SUCCESS)
        }
        Err(f) => {
            eprintln!("发送失败（{}）：{}", kind.label_zh(), f.message);
            Ok(ExitCode::FAILURE)
        }
    }
}
