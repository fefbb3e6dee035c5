//! The HTTP layer: a JSON API (documented at /api/openapi.json) and Chinese server-rendered pages,
//! over one shared state. Every handler resolves the signed-in user on the server and passes it
//! to the storage layer, which enforces data scope for every read and write.

pub mod api;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod cadres;
pub mod calendar;
pub mod categories;
pub mod dashboard;
pub mod docking;
pub mod downloads;
pub mod error;
pub mod feeds;
pub mod forms;
pub mod imports;
pub mod inbox;
pub mod indicators;
pub mod inspections;
pub mod intake;
pub mod lists;
pub mod live;
pub mod metrics;
pub mod notices;
pub mod notify;
pub mod org;
pub mod pages;
pub mod policy;
pub mod problems;
pub mod projects;
pub mod rankings;
pub mod records;
pub mod semantic;
pub mod sessions;
pub mod settings;
pub mod signon;
pub mod tasks;
pub mod todo;
pub mod views;
pub mod visits;

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use chrono::NaiveDateTime;
use xietong_calendar::WorkCalendar;
use xietong_storage::auth::SessionPolicy;
use xietong_storage::calendar::Rules;
use xietong_storage::tasks::Ctx;
use xietong_storage::{Db, StoreError};

/// Where "now" comes from: the real clock in production, a fixed instant in tests.
#[derive(Clone, Debug)]
pub enum Clock {
    Real,
    Fixed(Arc<RwLock<NaiveDateTime>>),
}

impl Clock {
    pub fn now(&self) -> NaiveDateTime {
        match self {
            Clock::Real => xietong_storage::local_now(),
            Clock::Fixed(t) => *t.read().unwrap_or_else(|e| e.into_inner()),
        }
    }
}

pub struct Inner {
    pub db: Db,
    pub calendar: RwLock<Arc<WorkCalendar>>,
    pub rules: RwLock<Arc<Rules>>,
    pub clock: Clock,
    pub policy: SessionPolicy,
    pub templates: minijinja::Environment<'static>,
    /// Set the cookies' Secure flag and send HSTS (when served over HTTPS).
    pub secure_cookies: bool,
    /// Proxies whose `X-Forwarded-For` names the client (see [`auth::client_ip`]).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The origin browsers reach the server at; `None`: the request's own `Host`.
    pub public_origin: Option<String>,
    /// Most bytes of an uploaded file.
    pub upload_limit: usize,
    /// Where the search index lives (under the data directory); `None` keeps it in memory.
    pub index_dir: Option<std::path::PathBuf>,
    /// The achievements index and vectors of this node, built once and then following the change log.
    pub live: tokio::sync::Mutex<Option<Arc<live::Live>>>,
    /// Login attempts per network address (the per-account lockout is in the database), rebuilt
    /// when the 安全管理员 changes the per-minute limit.
    pub login_limit: RwLock<Arc<LoginLimit>>,
    /// Permits for CPU-heavy work (see [`AppState::heavy`]).
    pub heavy: Arc<tokio::sync::Semaphore>,
    /// Where attachment bytes are stored (see [`attachments::Blobs`]).
    pub blobs: attachments::Blobs,
    /// The operator's figures at `/metrics`, and who may read them.
    pub metrics: metrics::Metrics,
    /// The sentence-embedding model matching runs with, if any, and its vectors.
    pub semantic: semantic::Semantic,
    /// The outbox's channel adapters (each keeps its own token cache) and their HTTP client.
    pub adapters: notify::deliver::Adapters,
    pub notify_http: reqwest::Client,
    /// The identity providers in use (统一身份认证), and their HTTP client (no redirects followed).
    pub providers: signon::Providers,
    pub signon_http: reqwest::Client,
}

/// How many CPU-heavy jobs may run at once: one core fewer than the machine has (at least one),
/// so at least one core is left for the requests that are cheap.
/// Run short CPU work (a query's embedding, a scan of the vectors) on a blocking thread, without a
/// heavy-work permit: the background embedder holds one for seconds a batch, and a search must not
/// wait behind it.
pub async fn blocking<T, F>(work: F) -> Result<T, StoreError>
where
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work).await.map_err(|e| StoreError::internal(format!("后台任务失败：{e}")))?
}

pub fn heavy_permits() -> usize {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    cores.saturating_sub(1).max(1)
}

/// What the operator sets for a deployment (command line or environment, see the README's
/// 部署 section).
#[derive(Clone, Debug)]
pub struct Deployment {
    /// Served over HTTPS: cookies carry `Secure`, and answers `Strict-Transport-Security`.
    pub secure_cookies: bool,
    /// Reverse proxies (addresses or CIDR blocks) whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `https://host[:port]` as browsers reach the server, for the Origin check behind a proxy
    /// that rewrites `Host`.
    pub public_origin: Option<String>,
    /// Most bytes of an uploaded file (imports, the 通报 template).
    pub upload_limit: usize,
    /// Who may read `/metrics` besides a direct local connection.
    pub metrics: metrics::Access,
}

/// The upload limit, in MiB, when none is set: a 20 000-row import fits easily, and the readers
/// refuse larger files anyway ([`xietong_office::read::MAX_BYTES`]).
pub const DEFAULT_UPLOAD_LIMIT_MB: usize = 20;

impl Default for Deployment {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            trusted_proxies: vec![],
            public_origin: None,
            upload_limit: DEFAULT_UPLOAD_LIMIT_MB * 1024 * 1024,
            metrics: metrics::Access::default(),
        }
    }
}

/// The per-address login limiter and the setting it was built from.
pub struct LoginLimit {
    pub per_minute: i64,
    pub limiter: governor::DefaultKeyedRateLimiter<String>,
}

impl LoginLimit {
    fn new(per_minute: i64) -> LoginLimit {
        let n = std::num::NonZeroU32::new(per_minute.clamp(1, 10_000) as u32).unwrap_or(std::num::NonZeroU32::MIN);
        LoginLimit { per_minute, limiter: governor::RateLimiter::keyed(governor::Quota::per_minute(n)) }
    }
}

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// A snapshot of what computations need, taken once per request.
pub struct Snapshot {
    pub cal: Arc<WorkCalendar>,
    pub rules: Arc<Rules>,
    pub now: NaiveDateTime,
}

impl Snapshot {
    pub fn ctx(&self) -> Ctx<'_> {
        Ctx { cal: &self.cal, rules: &self.rules, now: self.now }
    }
}

impl AppState {
    pub async fn new(db: Db, clock: Clock) -> Result<AppState, StoreError> {
        let calendar = db.load_calendar().await?;
        let rules = db.load_rules().await?;
        let per_minute = db.security_settings().await?.login_per_minute;
        Ok(AppState(Arc::new(Inner {
            db,
            calendar: RwLock::new(Arc::new(calendar)),
            rules: RwLock::new(Arc::new(rules)),
            clock,
            policy: SessionPolicy::default(),
            templates: views::environment(),
            secure_cookies: false,
            trusted_proxies: vec![],
            public_origin: None,
            upload_limit: Deployment::default().upload_limit,
            index_dir: None,
            live: tokio::sync::Mutex::new(None),
            login_limit: RwLock::new(Arc::new(LoginLimit::new(per_minute))),
            heavy: Arc::new(tokio::sync::Semaphore::new(heavy_permits())),
            blobs: attachments::Blobs::in_memory(),
            metrics: metrics::Metrics::new(),
            semantic: semantic::Semantic::off(format!("未配置语义模型（模型目录设置：{}）", semantic::SETTING)),
            adapters: Default::default(),
            notify_http: xietong_notify::http_client(),
            providers: Default::default(),
            signon_http: xietong_signon::http_client(),
        })))
    }

    /// The same state with the search index kept under `data_dir` (the server's choice).
    pub async fn with_data_dir(db: Db, clock: Clock, data_dir: std::path::PathBuf) -> Result<AppState, StoreError> {
        let s = Self::new(db, clock).await?;
        let mut inner = Arc::try_unwrap(s.0).map_err(|_| StoreError::internal("状态初始化失败"))?;
        inner.blobs = attachments::Blobs::for_data_dir(&data_dir)?;
        inner.index_dir = Some(data_dir);
        Ok(AppState(Arc::new(inner)))
    }

    /// The same state matching with this model (or with none, and why).
    pub fn with_semantic(self, sem: semantic::Semantic) -> Result<AppState, StoreError> {
        let mut inner = Arc::try_unwrap(self.0).map_err(|_| StoreError::internal("状态初始化失败"))?;
        inner.semantic = sem;
        Ok(AppState(Arc::new(inner)))
    }

    /// The same state as deployed: HTTPS cookies, trusted proxies, public origin, upload limit.
    pub fn with_deployment(self, d: Deployment) -> Result<AppState, StoreError> {
        let mut inner = Arc::try_unwrap(self.0).map_err(|_| StoreError::internal("状态初始化失败"))?;
        inner.secure_cookies = d.secure_cookies;
        inner.trusted_proxies = d.trusted_proxies;
        inner.public_origin = d.public_origin;
        inner.upload_limit = d.upload_limit;
        inner.metrics.access = d.metrics;
        Ok(AppState(Arc::new(inner)))
    }

    /// Run CPU-heavy work (parsing or writing a spreadsheet or Word file, building the search
    /// index) on a blocking thread, at most [`heavy_permits`] jobs at a time; further jobs wait
    /// here without holding a thread. On the request threads such work stalled every other
    /// request: eight big uploads at once made `/api/me` take seconds.
    pub async fn heavy<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnOnce() -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let permit =
            self.heavy.clone().acquire_owned().await.map_err(|_| StoreError::internal("后台任务队列已关闭"))?;
        // The permit goes with the work: a request that is dropped meanwhile does not free it early.
        blocking(move || {
            let _permit = permit;
            work()
        })
        .await
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            cal: self.calendar.read().unwrap_or_else(|e| e.into_inner()).clone(),
            rules: self.rules.read().unwrap_or_else(|e| e.into_inner()).clone(),
            now: self.clock.now(),
        }
    }

    /// Reload calendar, rules and the login limit after an edit (here or, via the scheduler, in
    /// another process), so they take effect without a restart.
    pub async fn reload(&self) -> Result<(), StoreError> {
        let cal = self.db.load_calendar().await?;
        let rules = self.db.load_rules().await?;
        let per_minute = self.db.security_settings().await?.login_per_minute;
        *self.calendar.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(cal);
        *self.rules.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(rules);
        if self.login_limit().per_minute != per_minute {
            *self.login_limit.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(LoginLimit::new(per_minute));
        }
        Ok(())
    }

    /// After this process changed the calendar or the rules: reload them and store the open
    /// tasks' next check times as the new ones give them (other processes only reload).
    pub async fn settings_changed(&self) -> Result<(), StoreError> {
        self.reload().await?;
        let snap = self.snapshot();
        let n = self.db.recompute_next_checks(&snap.ctx(), 1000).await?;
        tracing::info!(changed = n, "next check times recomputed after a settings change");
        Ok(())
    }

    pub fn login_limit(&self) -> Arc<LoginLimit> {
        self.login_limit.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Every page route, in one router that remembers them (see [`policy::PAGES`]).
pub fn page_routes() -> policy::Pages {
    pages::router().merge(metrics::page_router())
}

pub fn router(state: AppState) -> Router {
    let (api_router, openapi) = api::router().split_for_parts();
    let openapi = serde_json::to_value(&openapi).unwrap_or_default();
    let openapi = Arc::new(policy::document_roles(local_times(openapi)));
    // Every documented API operation passes the declared permission table first.
    let api_router = api_router.route_layer(axum::middleware::from_fn_with_state(state.clone(), policy::guard));
    Router::new()
        .merge(api_router)
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let o = openapi.clone();
                async move { axum::Json((*o).clone()) }
            }),
        )
        .merge(page_routes().guarded(state.clone()))
        .route("/health", axum::routing::get(|| async { "ok" }))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::csrf_guard))
        .layer(axum::middleware::from_fn_with_state(state.clone(), error::plain_errors))
        .layer(axum::middleware::from_fn_with_state(state.clone(), error::body_limit))
        // The limits are error::body_limit's; the extractors' own default (2 MB) would undercut them.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(state.clone(), security_headers))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .with_state(state)
}

/// Times in the API are the district's local time without an offset (`2026-11-25T09:30:00`,
/// UTC+8), which is not an RFC 3339 `date-time`: the document says what is really sent.
fn local_times(mut v: serde_json::Value) -> serde_json::Value {
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                let fmt = m.get("format").and_then(|f| f.as_str()).map(str::to_string);
                if let Some("date-time") = fmt.as_deref() {
                    m.remove("format");
                    m.insert(
                        "pattern".into(),
                        serde_json::Value::String(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$".into()),
                    );
                    m.entry("description")
                        .or_insert_with(|| serde_json::Value::String("本地时间（UTC+8），不带时区".into()));
                }
                m.values_mut().for_each(walk);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

async fn security_headers(
    axum::extract::State(s): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::header::{HeaderName, HeaderValue};
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if s.secure_cookies {
        // A year, this host only: other hosts of the domain may not be on HTTPS yet.
        h.insert(HeaderName::from_static("strict-transport-security"), HeaderValue::from_static("max-age=31536000"));
    }
    h.insert(HeaderName::from_static("x-frame-options"), HeaderValue::from_static("DENY"));
    h.insert(HeaderName::from_static("x-content-type-options"), HeaderValue::from_static("nosniff"));
    h.insert(HeaderName::from_static("referrer-policy"), HeaderValue::from_static("same-origin"));
    // A page that loads a script from elsewhere (the 钉钉 免登 page) sets its own, narrower addition.
    if !h.contains_key("content-security-policy") {
        h.insert(
            HeaderName::from_static("content-security-policy"),
            HeaderValue::from_static("default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"),
        );
    }
    res
}

/// The in-process scheduler: sweeps escalations every `every`, and reloads the calendar and rules
/// so an edit made through another server process is picked up. No cron needed.
pub fn spawn_scheduler(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            state.login_limit().limiter.retain_recent();
            if let Err(e) = state.db.purge_login_failures(state.clock.now()).await {
                tracing::warn!(error = %e, "purging old login failure counts failed");
            }
            if let Err(e) = state.reload().await {
                tracing::warn!(error = %e, "reloading calendar failed");
            }
            let snap = state.snapshot();
            let t0 = std::time::Instant::now();
            let swept = state.db.sweep(&snap.ctx(), 500).await;
            state.metrics.sweep_done(t0.elapsed(), swept.as_ref().ok());
            match swept {
                Ok(r) if r.steps_fired > 0 => {
                    tracing::info!(checked = r.tasks_checked, fired = r.steps_fired, "escalation sweep")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "escalation sweep failed"),
            }
            // 征集 records past their validity leave the libraries (each step audited).
            match state.db.expire_library_records(snap.now).await {
                Ok(n) if n > 0 => tracing::info!(expired = n, "library records expired"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "expiring library records failed"),
            }
        }
    })
}

pub async fn serve(state: AppState, bind: SocketAddr, sweep_every: Duration) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    tracing::info!("xietong listening on http://{}", listener.local_addr()?);
    let _scheduler = spawn_scheduler(state.clone(), sweep_every);
    let _embedder = semantic::spawn_embedder(state.clone(), Duration::from_secs(5));
    let _follower = live::spawn_follower(state.clone(), Duration::from_secs(1));
    let _deliverer = notify::deliver::spawn_deliverer(state.clone(), Duration::from_secs(1));
    // The peer address feeds the per-address login limit and the 登录日志.
    axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
