//! The operator's `/metrics`: the figures move with the traffic, in Prometheus' text format, and
//! only this machine, listed addresses or the token holder may read them — on both backends.

mod common;

use common::{Client, dt};

/// The value of one sample line (`name{labels} value`), if the exposition has it.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_and_are_refused_to_strangers() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some(tdb) = common::fresh(b).await else { continue };
        xietong_demo::load(&tdb.db, now).await.unwrap();
        let token = "scrape-token-0123456789";
        let deployment = xietong_web::Deployment {
            trusted_proxies: xietong_web::auth::parse_trusted_proxies("127.0.0.1").unwrap(),
            metrics: xietong_web::metrics::Access::parse("198.51.100.0/24", Some(token)).unwrap(),
            ..Default::default()
        };
        let app = common::spawn_app_with(tdb.db.clone(), now, deployment).await;
        let http = reqwest::Client::new();
        let scrape = || async { http.get(app.url("/metrics")).send().await.unwrap() };

        let r = scrape().await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/plain; version=0.0.4");
        let before = r.text().await.unwrap();
        let tasks_before =
            sample(&before, r#"xietong_http_requests_total{method="GET",route="/tasks/{id}",status="200"}"#);

        // Traffic: three task pages and an API read by the 督查局, a refusal, an unknown path.
        let c = Client::login(&app, "duchaju").await;
        for id in [1, 2, 3] {
            let r = c.http.get(app.url(&format!("/tasks/{id}"))).bearer_auth(&c.token).send().await.unwrap();
            assert_eq!(r.status(), 200);
        }
        assert_eq!(c.get("/api/tasks").await.0, 200);
        let liaison = Client::login(&app, "jsj_lly").await;
        assert_eq!(liaison.get("/api/online").await.0, 403);
        assert_eq!(http.get(app.url("/no/such/page")).send().await.unwrap().status(), 404);
        // The sweep, as the scheduler runs it, is timed and its steps counted.
        let snap = app.state.snapshot();
        let t0 = std::time::Instant::now();
        let swept = app.state.db.sweep(&snap.ctx(), 500).await;
        app.state.metrics.sweep_done(t0.elapsed(), swept.as_ref().ok());
        let fired = swept.unwrap().steps_fired as f64;

        let after = scrape().await.text().await.unwrap();
        let count = |series: &str| sample(&after, series).unwrap_or_else(|| panic!("{series} missing:\n{after}"));
        assert_eq!(
            count(r#"xietong_http_requests_total{method="GET",route="/tasks/{id}",status="200"}"#),
            tasks_before.unwrap_or(0.0) + 3.0,
            "the route template, not the path, is the label"
        );
        assert!(!after.contains("route=\"/tasks/1\""), "one series per route, not per path");
        assert_eq!(count(r#"xietong_http_requests_total{method="GET",route="/api/tasks",status="200"}"#), 1.0);
        assert_eq!(count(r#"xietong_http_requests_total{method="POST",route="/api/session",status="200"}"#), 2.0);
        assert_eq!(count(r#"xietong_http_requests_total{method="GET",route="/api/online",status="403"}"#), 1.0);
        assert_eq!(count(r#"xietong_http_requests_total{method="GET",route="unmatched",status="404"}"#), 1.0);
        // The histogram: cumulative buckets up to +Inf, a count and a sum per route.
        assert_eq!(count(r#"xietong_http_request_duration_seconds_count{method="GET",route="/tasks/{id}"}"#), 3.0);
        assert_eq!(
            count(r#"xietong_http_request_duration_seconds_bucket{method="GET",route="/tasks/{id}",le="+Inf"}"#),
            3.0
        );
        assert!(count(r#"xietong_http_request_duration_seconds_sum{method="GET",route="/tasks/{id}"}"#) > 0.0);
        assert!(after.contains("# TYPE xietong_http_request_duration_seconds histogram"));
        assert_eq!(count("xietong_sweep_duration_seconds_count"), 1.0);
        assert_eq!(count("xietong_sweep_steps_fired_total"), fired);
        assert_eq!(count(r#"xietong_sweeps_total{result="ok"}"#), 1.0);
        assert_eq!(count("xietong_outbox_backlog"), 0.0);
        eprintln!("/metrics after this traffic: {} bytes, {} lines", after.len(), after.lines().count());

        // Strangers: a request through a proxy (its client is not this machine), with a session
        // of any role, or with a wrong token — 403 in Chinese, and no figures.
        let stranger = |xff: &'static str| http.get(app.url("/metrics")).header("x-forwarded-for", xff);
        for (what, r) in [
            ("through the proxy", stranger("203.0.113.9").send().await.unwrap()),
            ("an administrator's session", stranger("203.0.113.9").bearer_auth(&c.token).send().await.unwrap()),
            ("a wrong token", stranger("203.0.113.9").bearer_auth("scrape-token-0123456780").send().await.unwrap()),
            ("a made-up loopback hop", stranger("127.0.0.1").send().await.unwrap()),
        ] {
            assert_eq!(r.status(), 403, "{what}");
            let body = r.text().await.unwrap();
            assert!(body.contains("无权读取运行指标") && !body.contains("xietong_http"), "{what}: {body}");
        }
        // A listed address and the token holder are let in.
        assert_eq!(stranger("198.51.100.7").send().await.unwrap().status(), 200, "--metrics-allow");
        assert_eq!(stranger("203.0.113.9").bearer_auth(token).send().await.unwrap().status(), 200, "the token");
        let refused = scrape().await.text().await.unwrap();
        assert_eq!(count_in(&refused, r#"route="/metrics",status="403""#), 4.0, "refusals are counted too");

        // Without a trusted proxy every forwarded request is refused, whatever it claims.
        let plain = common::spawn_app(tdb.db.clone(), now).await;
        let r = http.get(plain.url("/metrics")).header("x-forwarded-for", "127.0.0.1").send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(http.get(plain.url("/metrics")).send().await.unwrap().status(), 200);
        tdb.cleanup().await;
    });
}

/// The value of the one request counter whose labels contain `labels`.
fn count_in(text: &str, labels: &str) -> f64 {
    let line = text
        .lines()
        .find(|l| l.starts_with("xietong_http_requests_total{") && l.contains(labels))
        .unwrap_or_else(|| panic!("no counter with {labels}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}
