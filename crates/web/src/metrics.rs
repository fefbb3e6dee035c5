//! The operator's figures at `GET /metrics`, in Prometheus' text exposition format: HTTP requests
//! by method, route template and status, their latency, and the escalation sweep (duration, tasks
//! checked, steps fired). Each server process counts its own (several nodes: scrape each).
//!
//! Who may read them is declared in the page table as [`crate::policy::Allow::Operator`] and
//! decided by [`may_scrape`]: a direct connection from this machine (loopback, with no forwarding
//! header — a proxy on the same host must not open it to the world), an address of
//! `--metrics-allow`, or `Authorization: Bearer <--metrics-token>`. Everyone else gets 403.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry};

use crate::AppState;

/// Who may read `/metrics` besides a direct local connection (see the README's 运行监控).
#[derive(Clone, Debug, Default)]
pub struct Access {
    /// Addresses or CIDR blocks (the client as [`crate::auth::client_ip`] determines it).
    pub allow: Vec<ipnet::IpNet>,
    /// A bearer token a scraper may send instead.
    pub token: Option<String>,
}

impl Access {
    /// From the settings: a list like `--trusted-proxies`, and a token (empty: none).
    pub fn parse(allow: &str, token: Option<&str>) -> Result<Access, String> {
        let token = token.map(str::trim).filter(|t| !t.is_empty()).map(str::to_string);
        if token.as_ref().is_some_and(|t| t.len() < 16) {
            return Err("令牌至少 16 个字符".into());
        }
        Ok(Access { allow: crate::auth::parse_trusted_proxies(allow)?, token })
    }
}

/// One process's registry and the instruments in it.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    sweep_seconds: Histogram,
    sweeps: IntCounterVec,
    sweep_tasks: IntCounter,
    sweep_steps: IntCounter,
    pub access: Access,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        // Names and label sets are constants, so registering cannot fail but on a programming error.
        fn reg<C: prometheus::core::Collector + Clone + 'static>(r: &Registry, c: C) -> C {
            r.register(Box::new(c.clone())).expect("metric names are unique");
            c
        }
        let registry = Registry::new();
        let requests = reg(
            &registry,
            IntCounterVec::new(
                Opts::new(
                    "xietong_http_requests_total",
                    "HTTP requests answered, by method, route template and status",
                ),
                &["method", "route", "status"],
            )
            .expect("valid metric"),
        );
        let latency = reg(
            &registry,
            HistogramVec::new(
                HistogramOpts::new("xietong_http_request_duration_seconds", "Time to answer an HTTP request")
                    .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]),
                &["method", "route"],
            )
            .expect("valid metric"),
        );
        let sweep_seconds = reg(
            &registry,
            Histogram::with_opts(
                HistogramOpts::new("xietong_sweep_duration_seconds", "Duration of one escalation sweep")
                    .buckets(vec![0.001, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0]),
            )
            .expect("valid metric"),
        );
        let sweeps = reg(
            &registry,
            IntCounterVec::new(Opts::new("xietong_sweeps_total", "Escalation sweeps run, by result"), &["result"])
                .expect("valid metric"),
        );
        let sweep_tasks = reg(
            &registry,
            IntCounter::new("xietong_sweep_tasks_checked_total", "Tasks the escalation sweeps looked at")
                .expect("valid metric"),
        );
        let sweep_steps = reg(
            &registry,
            IntCounter::new(
                "xietong_sweep_steps_fired_total",
                "Escalation steps fired (提醒, 催办, 通报预警, 问题台账候选)",
            )
            .expect("valid metric"),
        );
        // Messages are written in the transaction of the change they report; nothing is queued to
        // be sent elsewhere yet (an outbox comes with issue 16), so the backlog is 0 by construction.
        reg(
            &registry,
            IntGauge::new("xietong_outbox_backlog", "Messages waiting to be sent out (no outbox yet: always 0)")
                .expect("valid metric"),
        );
        Metrics {
            registry,
            requests,
            latency,
            sweep_seconds,
            sweeps,
            sweep_tasks,
            sweep_steps,
            access: Access::default(),
        }
    }

    /// Record one escalation sweep: its duration and, when it ran, what it checked and fired.
    pub fn sweep_done(&self, took: Duration, report: Option<&xietong_storage::sweep::SweepReport>) {
        self.sweep_seconds.observe(took.as_secs_f64());
        self.sweeps.with_label_values(&[if report.is_some() { "ok" } else { "error" }]).inc();
        if let Some(r) = report {
            self.sweep_tasks.inc_by(r.tasks_checked.max(0) as u64);
            self.sweep_steps.inc_by(r.steps_fired.max(0) as u64);
        }
    }

    /// Everything, in the text exposition format.
    pub fn render(&self) -> String {
        prometheus::TextEncoder::new().encode_to_string(&self.registry.gather()).unwrap_or_default()
    }
}

/// The middleware that counts and times every request (a layer over the whole router; the
/// route template, not the path, keeps the number of series bounded).
pub async fn track(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    let method: &'static str = match req.method().as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    };
    let t0 = Instant::now();
    let res = next.run(req).await;
    let route = route.as_deref().unwrap_or("unmatched");
    s.metrics.latency.with_label_values(&[method, route]).observe(t0.elapsed().as_secs_f64());
    s.metrics.requests.with_label_values(&[method, route, res.status().as_str()]).inc();
    res
}

/// Whether this request may read `/metrics` (see the module's documentation).
pub fn may_scrape(state: &AppState, req: &Request) -> bool {
    let access = &state.metrics.access;
    if let Some(token) = &access.token
        && bearer(req.headers()).is_some_and(|t| same(t.as_bytes(), token.as_bytes()))
    {
        return true;
    }
    let Some(peer) = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip())
    else {
        return false;
    };
    let client = crate::auth::client_ip(peer, req.headers(), &state.trusted_proxies).to_canonical();
    let forwarded = ["x-forwarded-for", "forwarded", "x-real-ip"].iter().any(|h| req.headers().contains_key(*h));
    (client.is_loopback() && peer.to_canonical().is_loopback() && !forwarded)
        || access.allow.iter().any(|n| n.contains(&client))
}

fn bearer(h: &HeaderMap) -> Option<&str> {
    h.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// Comparison whose time does not depend on where the bytes differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why the page table's guard refuses a caller (as a Chinese error page, like any refusal).
pub const REFUSAL: &str =
    "无权读取运行指标：仅限本机直接访问、--metrics-allow 所列地址或携带 --metrics-token 令牌的请求";

async fn metrics_page(State(s): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)], s.metrics.render()).into_response()
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new().route("/metrics", axum::routing::get(metrics_page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_compared_whole() {
        assert!(same(b"0123456789abcdef", b"0123456789abcdef"));
        assert!(!same(b"0123456789abcdef", b"0123456789abcdeF"));
        assert!(!same(b"0123456789abcdef", b"0123456789abcde"));
        assert!(Access::parse("", Some("short")).is_err(), "a guessable token is refused");
        assert!(Access::parse("10.0.0.0/33", None).is_err());
        let a = Access::parse("10.0.0.0/8, 192.168.1.5", Some("  ")).unwrap();
        assert_eq!((a.allow.len(), a.token), (2, None));
    }

    #[test]
    fn the_exposition_names_every_figure() {
        let m = Metrics::new();
        m.sweep_done(
            Duration::from_millis(3),
            Some(&xietong_storage::sweep::SweepReport { tasks_checked: 4, steps_fired: 2 }),
        );
        m.sweep_done(Duration::from_millis(1), None);
        m.requests.with_label_values(&["GET", "/tasks/{id}", "200"]).inc();
        m.latency.with_label_values(&["GET", "/tasks/{id}"]).observe(0.002);
        let text = m.render();
        for line in [
            "xietong_sweep_steps_fired_total 2",
            "xietong_sweep_tasks_checked_total 4",
            "xietong_sweeps_total{result=\"error\"} 1",
            "xietong_sweep_duration_seconds_count 2",
            "xietong_outbox_backlog 0",
            "xietong_http_requests_total{method=\"GET\",route=\"/tasks/{id}\",status=\"200\"} 1",
            "xietong_http_request_duration_seconds_bucket{method=\"GET\",route=\"/tasks/{id}\",le=\"0.0025\"} 1",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }
}
