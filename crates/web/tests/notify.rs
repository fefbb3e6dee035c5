//! The outbox and its channels (issue 16), on SQLite and PostgreSQL, against real HTTP receivers
//! this test starts on local ports in the shapes of 钉钉's robot and open API, 企业微信's robot and
//! an SMS gateway: each receiver checks the signature and the payload and records what arrived
//! and when. The worker is driven round by round (`deliver_once`) with the test's clock.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use base64::Engine;
use common::{Client, TestApp, dt, with_demo};
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};
use xietong_web::notify::deliver::deliver_once;

const NOW: &str = "2026-11-23 10:00";

/// What a receiver got.
#[derive(Clone, Debug)]
struct Hit {
    path: String,
    key: String,
    body: Value,
    at: Instant,
}

#[derive(Clone, Default)]
struct Receiver {
    hits: Arc<Mutex<Vec<Hit>>>,
    /// The 钉钉 robot's secret the receiver checks signatures with.
    secret: Arc<Mutex<String>>,
    /// Answer 500 to everything (a receiver that is down).
    down: Arc<Mutex<bool>>,
    tokens_issued: Arc<Mutex<usize>>,
}

impl Receiver {
    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
}

fn sign(ts: &str, secret: &str) -> String {
    let mut mac = hmac::Hmac::<sha2_11::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{ts}\n{secret}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

async fn record(r: &Receiver, path: &str, h: &HeaderMap, body: &Value) {
    let key = h.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    r.hits.lock().unwrap().push(Hit { path: path.into(), key, body: body.clone(), at: Instant::now() });
}

fn q(query: &[(String, String)], k: &str) -> String {
    query.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.clone()).unwrap_or_default()
}

/// 钉钉 robot: checks `timestamp` (within an hour) and `sign`, the markdown shape; answers as 钉钉 does.
async fn dingtalk_robot(
    State(r): State<Receiver>,
    Query(query): Query<Vec<(String, String)>>,
    h: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> axum::Json<Value> {
    if *r.down.lock().unwrap() {
        return axum::Json(json!({"errcode": 130101, "errmsg": "send too fast"}));
    }
    let ts = q(&query, "timestamp");
    let secret = r.secret.lock().unwrap().clone();
    let fresh = ts.parse::<i64>().is_ok_and(|t| (chrono::Utc::now().timestamp_millis() - t).abs() < 3_600_000);
    if !fresh || q(&query, "sign") != sign(&ts, &secret) {
        return axum::Json(json!({"errcode": 310000, "errmsg": "sign not match"}));
    }
    let shape = body["msgtype"] == "markdown"
        && body["markdown"]["title"].is_string()
        && body["markdown"]["text"].is_string()
        && body["at"]["atMobiles"].is_array();
    if !shape {
        return axum::Json(json!({"errcode": 40035, "errmsg": "缺少参数 json"}));
    }
    record(&r, "/robot/send", &h, &body).await;
    axum::Json(json!({"errcode": 0, "errmsg": "ok"}))
}

/// 企业微信 robot: the key in the URL, markdown or text with `mentioned_mobile_list`, ≤ 2 048 bytes.
async fn wecom_robot(
    State(r): State<Receiver>,
    Query(query): Query<Vec<(String, String)>>,
    h: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> axum::Json<Value> {
    if q(&query, "key") != "wecom-key" {
        return axum::Json(json!({"errcode": 93000, "errmsg": "invalid webhook url"}));
    }
    let content = body["markdown"]["content"].as_str().or(body["text"]["content"].as_str()).unwrap_or("");
    if content.is_empty() || content.len() > 4096 || (body["msgtype"] == "text" && content.len() > 2048) {
        return axum::Json(json!({"errcode": 40058, "errmsg": "content exceed max length"}));
    }
    record(&r, "/cgi-bin/webhook/send", &h, &body).await;
    axum::Json(json!({"errcode": 0, "errmsg": "ok"}))
}

/// An SMS gateway: bearer token, mobile, template and `out_id`.
async fn sms_gateway(
    State(r): State<Receiver>,
    h: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> axum::Json<Value> {
    if h.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer sms-token") {
        return axum::Json(json!({"code": "401", "message": "令牌无效"}));
    }
    if *r.down.lock().unwrap() {
        return axum::Json(json!({"code": "isv.BUSINESS_LIMIT_CONTROL", "message": "触发流控"}));
    }
    let ok = body["mobile"].as_str().is_some_and(|m| m.len() == 11)
        && body["template_id"] == "SMS_001"
        && body["out_id"].as_str().is_some_and(|k| k.starts_with("xt-"));
    if !ok {
        return axum::Json(json!({"code": "isv.INVALID_PARAMETERS", "message": "参数错误"}));
    }
    record(&r, "/sms", &h, &body).await;
    axum::Json(json!({"code": "OK", "message": "OK"}))
}

/// 钉钉 open API: gettoken, 工作通知 asyncsend_v2 and the todo API, the token checked on each.
async fn dingtalk_token(State(r): State<Receiver>, Query(query): Query<Vec<(String, String)>>) -> axum::Json<Value> {
    if q(&query, "appkey") != "ding-app" || q(&query, "appsecret") != "ding-secret" {
        return axum::Json(json!({"errcode": 40089, "errmsg": "不合法的corpid或corpsecret"}));
    }
    *r.tokens_issued.lock().unwrap() += 1;
    axum::Json(json!({"errcode": 0, "errmsg": "ok", "access_token": "tok-1", "expires_in": 7200}))
}

async fn dingtalk_notice(
    State(r): State<Receiver>,
    Query(query): Query<Vec<(String, String)>>,
    h: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> axum::Json<Value> {
    if q(&query, "access_token") != "tok-1" {
        return axum::Json(json!({"errcode": 40014, "errmsg": "不合法的access_token"}));
    }
    if body["agent_id"] != 1001 || !body["userid_list"].is_string() || !body["msg"]["msgtype"].is_string() {
        return axum::Json(json!({"errcode": 40035, "errmsg": "缺少参数"}));
    }
    record(&r, "/topapi/message/corpconversation/asyncsend_v2", &h, &body).await;
    axum::Json(json!({"errcode": 0, "task_id": 1, "request_id": "r1"}))
}

async fn dingtalk_todo(
    State(r): State<Receiver>,
    axum::extract::Path(user): axum::extract::Path<String>,
    h: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> (axum::http::StatusCode, axum::Json<Value>) {
    if h.get("x-acs-dingtalk-access-token").and_then(|v| v.to_str().ok()) != Some("tok-1") {
        return (axum::http::StatusCode::UNAUTHORIZED, axum::Json(json!({"code": "InvalidAuthentication"})));
    }
    let ok = body["sourceId"].is_string() && body["dueTime"].is_i64() && body["executorIds"][0] == user.as_str();
    if !ok {
        return (axum::http::StatusCode::BAD_REQUEST, axum::Json(json!({"code": "param.error"})));
    }
    record(&r, "/v1.0/todo", &h, &body).await;
    (axum::http::StatusCode::OK, axum::Json(json!({"id": "todo-1"})))
}

async fn start_receiver() -> (String, Receiver) {
    use axum::routing::{get, post};
    let r = Receiver::default();
    *r.secret.lock().unwrap() = "SECgood".into();
    let app = axum::Router::new()
        .route("/robot/send", post(dingtalk_robot))
        .route("/cgi-bin/webhook/send", post(wecom_robot))
        .route("/sms", post(sms_gateway))
        .route("/gettoken", get(dingtalk_token))
        .route("/topapi/message/corpconversation/asyncsend_v2", post(dingtalk_notice))
        .route("/v1.0/todo/users/{user}/tasks", post(dingtalk_todo))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, r)
}

fn new_task(title: &str, lead: i64, doc_no: &str) -> Value {
    json!({"title": title, "description": "推送测试", "source_kind": "meeting", "doc_no": doc_no,
           "source_title": "区政府常务会议纪要", "source_date": "2026-11-20", "lead_unit_id": lead,
           "report_cycle": "weekly", "deadline": "2026-12-18", "assign_now": true})
}

async fn person_of(tdb: &common::TestDb, username: &str) -> i64 {
    let r = sqlx::query("SELECT person_id FROM users WHERE username = $1")
        .bind(username.to_string())
        .fetch_one(&tdb.db.pool)
        .await
        .unwrap();
    sqlx::Row::try_get(&r, "person_id").unwrap()
}

/// An SMS channel without a daily cap, and a mobile for 水利局's liaison.
async fn sms_for_the_liaison(tdb: &common::TestDb, admin: &Client, base: &str) {
    let lly = person_of(tdb, "slj_lly").await;
    let (s, v) =
        admin.put(&format!("/api/notify/addresses/{lly}"), json!({"kind": "mobile", "value": "13800138000"})).await;
    assert_eq!(s, 204, "{v}");
    let ch = json!({"name": "短信", "daily_cap": 0,
        "config": {"kind": "sms", "url": format!("{base}/sms"), "secret": "sms-token", "template_id": "SMS_001"}});
    let (s, v) = admin.post("/api/notify/channels", ch).await;
    assert_eq!(s, 201, "{v}");
}

/// Rounds of the worker, the clock a minute on after each, until nothing is due or `max` rounds.
async fn drain(app: &TestApp, max: usize) {
    for _ in 0..max {
        deliver_once(&app.state).await.unwrap();
        let pending = app.state.db.outbox_states().await.unwrap().iter().filter(|(_, s, _)| s == "pending").count();
        if pending == 0 {
            return;
        }
        let now = *app.now.read().unwrap();
        app.set_now(now + chrono::Duration::seconds(61));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_reaches_the_units_robot_signed_within_its_rate_and_nothing_is_lost() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let (base, rx) = start_receiver().await;
        let admin = Client::login(&app, "admin").await;
        let sup = Client::login(&app, "duchaju").await;
        let slj = sup.unit_id("slj").await;

        // A wrong secret is refused in Chinese, naming the field; a right one is stored sealed.
        let mut ch = json!({"name": "水利局工作群", "unit_id": slj,
            "config": {"kind": "dingtalk_robot", "url": format!("{base}/robot/send?access_token=abc"), "secret": "bad"}});
        let (s, v) = admin.post("/api/notify/channels", ch.clone()).await;
        assert_eq!(s, 400, "{v}");
        assert!(v["error"].as_str().unwrap().contains("SEC"), "{v}");
        ch["config"]["secret"] = json!("SECwrong");
        let (s, v) = admin.post("/api/notify/channels", ch.clone()).await;
        assert_eq!(s, 201, "{v}");
        let channel = v["id"].as_i64().unwrap();
        let (_, list) = admin.get("/api/notify/channels").await;
        assert_eq!(list[0]["config"]["secret"], "****rong", "secrets come back masked: {list}");

        // 测试发送 with the wrong secret: the receiver's refusal, in Chinese, on the page and in the log.
        let (s, v) = admin.post(&format!("/api/notify/channels/{channel}/test"), json!({})).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["ok"], false);
        assert!(v["answer"].as_str().unwrap().contains("加签"), "{v}");

        // 50 handovers to 水利局 at once: the wrong secret fails them all, nothing is lost.
        for i in 0..50 {
            let (s, v) = sup
                .post("/api/tasks", new_task(&format!("推送测试任务{i:02}"), slj, &format!("推送〔2026〕{i}号")))
                .await;
            assert_eq!(s, 201, "{v}");
        }
        deliver_once(&app.state).await.unwrap();
        assert!(rx.hits().is_empty());
        let states = app.state.db.outbox_states().await.unwrap();
        assert_eq!(states.len(), 50, "one row per handover for the unit's group");
        assert!(states.iter().all(|(_, s, a)| s == "pending" && *a == 1), "{states:?}");
        let (_, d) = admin.get("/api/notify/deliveries").await;
        assert!(d["waiting"][0]["last_error"].as_str().unwrap().contains("钉钉机器人校验未通过"), "{d}");

        // The administrator mends the secret (the version read), the outbox catches up.
        let (_, list) = admin.get("/api/notify/channels").await;
        ch["config"]["secret"] = json!("SECgood");
        ch["version"] = list[0]["version"].clone();
        // 16 saves of the version read, at once: one wins, the others are told it changed.
        let racing: Vec<_> = (0..16)
            .map(|_| {
                let c = Client { http: admin.http.clone(), token: admin.token.clone(), base: app.base.clone() };
                let body = ch.clone();
                tokio::spawn(async move { c.put(&format!("/api/notify/channels/{channel}"), body).await })
            })
            .collect();
        let mut codes = vec![];
        for r in racing {
            let (s, v) = r.await.unwrap();
            if s == 409 {
                assert!(v["error"].as_str().unwrap().contains("已被他人修改"), "{v}");
            }
            codes.push(s);
        }
        assert_eq!(codes.iter().filter(|s| **s == 204).count(), 1, "{codes:?}");
        assert_eq!(codes.iter().filter(|s| **s == 409).count(), 15, "{codes:?}");
        app.set_now(dt(NOW) + chrono::Duration::minutes(10));
        drain(&app, 10).await;
        let hits = rx.hits();
        let texts: String = hits.iter().map(|h| h.body["markdown"]["text"].as_str().unwrap().to_string()).collect();
        for i in 0..50 {
            assert!(texts.contains(&format!("推送测试任务{i:02}")), "task {i} arrived: {texts}");
        }
        // 50 over a budget of 20: tried as digests, resent as the same digests; none went out twice.
        let mut keys: Vec<&str> = hits.iter().map(|h| h.key.as_str()).collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n, "no key twice");
        let first = hits[0].at;
        assert!(hits.iter().filter(|h| h.at.duration_since(first).as_secs() < 60).count() <= 20, "20 a minute");
        assert!(app.state.db.outbox_states().await.unwrap().iter().all(|(_, s, _)| s == "sent"));

        // Fresh messages over the budget become digests: 45 more in one minute → few messages.
        let before = rx.hits().len();
        for i in 50..95 {
            let (s, v) = sup
                .post("/api/tasks", new_task(&format!("推送测试任务{i:02}"), slj, &format!("推送〔2026〕{i}号")))
                .await;
            assert_eq!(s, 201, "{v}");
        }
        drain(&app, 10).await;
        let digests: Vec<Hit> = rx.hits()[before..].to_vec();
        assert!(digests.len() < 10, "{} messages for 45 handovers", digests.len());
        let texts: String = digests.iter().map(|h| h.body["markdown"]["text"].as_str().unwrap().to_string()).collect();
        assert!(texts.contains("消息汇总"), "{texts}");
        for i in 50..95 {
            assert!(texts.contains(&format!("推送测试任务{i:02}")), "task {i} in a digest");
        }
        assert!(digests.iter().all(|h| h.body["markdown"]["text"].as_str().unwrap().len() <= 2048));

        // The page shows the log and the channel to the 系统管理员 alone.
        let (s, html) = admin.bytes("/notify").await;
        assert_eq!(s, 200);
        let html = String::from_utf8(html).unwrap();
        assert!(html.contains("水利局工作群") && html.contains("投递日志") && html.contains("送达"), "{html}");
        let (s, _) = sup.bytes("/notify").await;
        assert_eq!(s, 403);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_workers_at_once_send_each_message_once() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let (base, rx) = start_receiver().await;
        let admin = Client::login(&app, "admin").await;
        let sup = Client::login(&app, "duchaju").await;
        let slj = sup.unit_id("slj").await;
        let ch = json!({"name": "水利局工作群", "unit_id": slj, "per_minute": 600,
            "config": {"kind": "wecom_robot", "url": format!("{base}/cgi-bin/webhook/send?key=wecom-key")}});
        let (s, v) = admin.post("/api/notify/channels", ch).await;
        assert_eq!(s, 201, "{v}");
        for i in 0..40 {
            let (s, v) =
                sup.post("/api/tasks", new_task(&format!("并发推送{i:02}"), slj, &format!("并发〔2026〕{i}号"))).await;
            assert_eq!(s, 201, "{v}");
        }
        let mut workers = vec![];
        for _ in 0..16 {
            let state = app.state.clone();
            workers.push(tokio::spawn(async move { deliver_once(&state).await }));
        }
        for w in workers {
            w.await.unwrap().unwrap();
        }
        let hits = rx.hits();
        let mut keys: Vec<String> = hits.iter().map(|h| h.key.clone()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), hits.len(), "no message sent twice");
        assert_eq!(hits.len(), 40, "every message sent once");
        assert!(hits.iter().all(|h| h.body["msgtype"] == "markdown"));
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_waits_for_office_hours_is_capped_and_urges_once_a_day() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let (base, rx) = start_receiver().await;
        let admin = Client::login(&app, "admin").await;
        let sup = Client::login(&app, "duchaju").await;
        let slj = sup.unit_id("slj").await;
        let lly = person_of(&tdb, "slj_lly").await;
        let (s, v) =
            admin.put(&format!("/api/notify/addresses/{lly}"), json!({"kind": "mobile", "value": "1380013"})).await;
        assert_eq!(s, 400, "{v}");
        assert!(v["error"].as_str().unwrap().contains("手机号"), "{v}");
        let (s, v) =
            admin.put(&format!("/api/notify/addresses/{lly}"), json!({"kind": "mobile", "value": "13800138000"})).await;
        assert_eq!(s, 204, "{v}");
        let ch = json!({"name": "短信", "daily_cap": 2, "office_hours_only": true,
            "config": {"kind": "sms", "url": format!("{base}/sms"), "secret": "sms-token", "template_id": "SMS_001"}});
        let (s, v) = admin.post("/api/notify/channels", ch).await;
        assert_eq!(s, 201, "{v}");

        // A task handed over at 10:00 (office hours): texted at once.
        let (_, v) = sup.post("/api/tasks", new_task("短信测试任务", slj, "短信〔2026〕1号")).await;
        let task = v["id"].as_i64().unwrap();
        deliver_once(&app.state).await.unwrap();
        assert_eq!(rx.hits().len(), 1);
        assert_eq!(rx.hits()[0].body["mobile"], "13800138000");
        assert_eq!(rx.hits()[0].body["params"]["kind"], "交办");

        // Two 催办 the same day: one SMS row for the person.
        let (s, v) = sup.act(task, "urge", json!({"comment": "请加快"})).await;
        assert_eq!(s, 200, "{v}");
        let (s, v) = sup.act(task, "urge", json!({"comment": "再催"})).await;
        assert_eq!(s, 200, "{v}");
        let urges = app.state.db.outbox_states().await.unwrap().len();
        assert_eq!(urges, 2, "交办 + one 催办");

        // At 22:00 a 催办 (not urgent) waits for the next office hour; the cap (2 a day) holds.
        app.set_now(dt("2026-11-23 22:00"));
        deliver_once(&app.state).await.unwrap();
        assert_eq!(rx.hits().len(), 1, "quiet hours");
        app.set_now(dt("2026-11-24 09:00"));
        deliver_once(&app.state).await.unwrap();
        assert_eq!(rx.hits().len(), 2, "sent in the morning");

        // One left of today's cap of 2, two handovers: one SMS carrying both, not one dropped.
        let sup = Client::login(&app, "duchaju").await;
        for i in 2..4 {
            let (s, v) =
                sup.post("/api/tasks", new_task(&format!("短信上限测试{i}"), slj, &format!("短信〔2026〕{i}号"))).await;
            assert_eq!(s, 201, "{v}");
        }
        deliver_once(&app.state).await.unwrap();
        assert_eq!(rx.hits().len(), 3);
        let text = rx.hits()[2].body["params"]["text"].as_str().unwrap().to_string();
        assert!(text.contains("短信上限测试2") && text.contains("短信上限测试3"), "{text}");
        // The cap reached: the next waits for tomorrow's office hours.
        let (_, v) = sup.post("/api/tasks", new_task("短信上限测试4", slj, "短信〔2026〕4号")).await;
        assert!(v["id"].is_i64());
        app.set_now(dt("2026-11-24 15:00"));
        deliver_once(&app.state).await.unwrap();
        assert_eq!(rx.hits().len(), 3, "capped");
        app.set_now(dt("2026-11-25 09:00"));
        deliver_once(&app.state).await.unwrap();
        assert_eq!(rx.hits().len(), 4, "the next day");
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_notices_cache_the_token_and_make_todos_and_a_dead_receiver_is_retried_then_given_up() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let (base, rx) = start_receiver().await;
        let admin = Client::login(&app, "admin").await;
        let sup = Client::login(&app, "duchaju").await;
        let slj = sup.unit_id("slj").await;
        let lly = person_of(&tdb, "slj_lly").await;
        let (s, _) = admin
            .put(&format!("/api/notify/addresses/{lly}"), json!({"kind": "dingtalk_user", "value": "ding-lly"}))
            .await;
        assert_eq!(s, 204);
        let ch = json!({"name": "钉钉工作通知", "config": {"kind": "dingtalk_work", "app_key": "ding-app",
            "app_secret": "ding-secret", "agent_id": "1001", "base_url": base}});
        let (s, v) = admin.post("/api/notify/channels", ch).await;
        assert_eq!(s, 201, "{v}");
        for i in 0..3 {
            let (s, v) =
                sup.post("/api/tasks", new_task(&format!("钉钉待办测试{i}"), slj, &format!("钉钉〔2026〕{i}号"))).await;
            assert_eq!(s, 201, "{v}");
        }
        deliver_once(&app.state).await.unwrap();
        assert_eq!(*rx.tokens_issued.lock().unwrap(), 1, "one token for three messages");
        let hits = rx.hits();
        let notices: Vec<&Hit> = hits.iter().filter(|h| h.path.contains("asyncsend")).collect();
        let todos: Vec<&Hit> = hits.iter().filter(|h| h.path == "/v1.0/todo").collect();
        // The liaison is one of 水利局's accounts; each handover is one notice and one to-do for them.
        assert!(notices.iter().all(|h| h.body["userid_list"] == "ding-lly"));
        assert_eq!(notices.len(), 3, "{hits:?}");
        assert_eq!(todos.len(), 3);
        for t in &todos {
            assert_eq!(t.body["sourceId"].as_str().unwrap(), t.key, "the to-do's sourceId is the idempotency key");
            assert!(t.body["detailUrl"]["pcUrl"].as_str().unwrap().contains("/tasks/"));
            // 2026-12-18 18:00 Beijing time.
            assert_eq!(t.body["dueTime"], 1_797_588_000_000i64);
        }

        // A person who turned the channel off gets nothing more; the preference is theirs to set.
        let me = Client::login(&app, "slj_lly").await;
        let (_, prefs) = me.get(&format!("/api/notify/prefs/{lly}")).await;
        let channel = prefs[0]["channel_id"].as_i64().unwrap();
        let (s, v) = me.put(&format!("/api/notify/prefs/{lly}"), json!({"channel_id": channel, "mode": "off"})).await;
        assert_eq!(s, 204, "{v}");
        let other = person_of(&tdb, "duchaju").await;
        let (s, _) = me.put(&format!("/api/notify/prefs/{other}"), json!({"channel_id": channel, "mode": "off"})).await;
        assert_eq!(s, 403, "nobody else's");
        let (_, v) = sup.post("/api/tasks", new_task("关闭后的任务", slj, "钉钉〔2026〕9号")).await;
        assert!(v["id"].is_i64());
        assert_eq!(app.state.db.outbox_states().await.unwrap().len(), 3);

        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_receiver_is_retried_with_back_off_then_given_up_and_resent_by_hand() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let (base, rx) = start_receiver().await;
        *rx.down.lock().unwrap() = true;
        let admin = Client::login(&app, "admin").await;
        let sup = Client::login(&app, "duchaju").await;
        let slj = sup.unit_id("slj").await;
        sms_for_the_liaison(&tdb, &admin, &base).await;
        let (_, v) = sup.post("/api/tasks", new_task("重试测试", slj, "重试〔2026〕1号")).await;
        assert!(v["id"].is_i64(), "{v}");

        // Each round after the back-off: tried again; 30 s, 60 s, 120 s … apart.
        let mut t = dt(NOW);
        let mut tries = vec![];
        for _ in 0..300 {
            deliver_once(&app.state).await.unwrap();
            let (_, a, n) = app.state.db.outbox_states().await.unwrap()[0].clone();
            if tries.last().map(|(_, m)| *m) != Some(n) {
                tries.push((*app.now.read().unwrap(), n));
            }
            if a == "dead" {
                break;
            }
            t += chrono::Duration::seconds(30);
            app.set_now(t);
        }
        let (_, state, attempts) = app.state.db.outbox_states().await.unwrap()[0].clone();
        assert_eq!((state.as_str(), attempts), ("dead", 8), "given up after 8 tries");
        let gaps: Vec<i64> = tries.windows(2).map(|w| (w[1].0 - w[0].0).num_seconds()).collect();
        assert_eq!(gaps, [30, 60, 120, 240, 480, 960, 1920], "back-off doubles from 30 s");
        assert!(rx.hits().is_empty());
        let admin = Client::login(&app, "admin").await; // the first session expired meanwhile
        let (s, d) = admin.get("/api/notify/deliveries").await;
        assert_eq!(s, 200, "{d}");
        assert_eq!(d["dead"], 1);
        let id = d["waiting"][0]["id"].as_i64().unwrap();
        assert!(d["waiting"][0]["last_error"].as_str().unwrap().contains("触发流控"), "{d}");
        assert_eq!(d["per_person"][0]["failed"], 8, "{d}");

        // The 系统管理员 resends it once the gateway is back; the same key reaches the gateway.
        *rx.down.lock().unwrap() = false;
        let (s, v) = admin.post(&format!("/api/notify/outbox/{id}/retry"), json!({})).await;
        assert_eq!(s, 204, "{v}");
        let (s, v) = admin.post(&format!("/api/notify/outbox/{id}/retry"), json!({})).await;
        assert_eq!(s, 409, "not given up any more: {v}");
        deliver_once(&app.state).await.unwrap();
        assert_eq!(rx.hits().len(), 1);
        assert_eq!(rx.hits()[0].body["out_id"], app.state.db.outbox_states().await.unwrap()[0].0);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persons_calendar_feed_lists_their_deadlines_and_stops_when_replaced_or_revoked() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let slj = sup.unit_id("slj").await;
        let jsj = sup.unit_id("jsj").await;
        let (s, v) = sup.post("/api/tasks", new_task("订阅测试：汛前河道清障", slj, "订阅〔2026〕1号")).await;
        assert_eq!(s, 201, "{v}");
        let mine = v["id"].as_i64().unwrap();
        let (s, _) = sup.post("/api/tasks", new_task("订阅测试：别家的任务", jsj, "订阅〔2026〕2号")).await;
        assert_eq!(s, 201);

        let lly = Client::login(&app, "slj_lly").await;
        let (_, st) = lly.get("/api/calendar-feed").await;
        assert_eq!(st["active"], false);
        let (s, f) = lly.post("/api/calendar-feed", json!({})).await;
        assert_eq!(s, 201, "{f}");
        let path = f["path"].as_str().unwrap().to_string();
        let http = reqwest::Client::new();
        let r = http.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
        let ics = r.text().await.unwrap();
        assert!(ics.starts_with("BEGIN:VCALENDAR") && ics.trim_end().ends_with("END:VCALENDAR"), "{ics}");
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains("【督办期限】订阅测试：汛前河道清障"), "{unfolded}");
        assert!(unfolded.contains(&format!("UID:task-{mine}@xietong")));
        assert!(unfolded.contains("DTSTART;VALUE=DATE:20261218"), "{unfolded}");
        assert!(unfolded.contains("BEGIN:VALARM"));
        assert!(!unfolded.contains("别家的任务"), "another unit's task is not theirs");
        let (_, st) = lly.get("/api/calendar-feed").await;
        assert_eq!(st["active"], true);
        assert!(st["last_used_at"].is_string());

        // Replaced: the old address is gone; revoked: the new one too. A guess gets the same 404.
        let (_, f2) = lly.post("/api/calendar-feed", json!({})).await;
        let path2 = f2["path"].as_str().unwrap().to_string();
        assert_eq!(http.get(app.url(&path)).send().await.unwrap().status(), 404);
        assert_eq!(http.get(app.url(&path2)).send().await.unwrap().status(), 200);
        let (s, _) = lly.delete("/api/calendar-feed").await;
        assert_eq!(s, 204);
        assert_eq!(http.get(app.url(&path2)).send().await.unwrap().status(), 404);
        let (s, _) = lly.delete("/api/calendar-feed").await;
        assert_eq!(s, 404);
        let guess = format!("/feeds/{}.ics", "0".repeat(64));
        assert_eq!(http.get(app.url(&guess)).send().await.unwrap().status(), 404);

        // 16 new addresses asked for at once: each answered, exactly one live afterwards.
        let racing: Vec<_> = (0..16)
            .map(|_| {
                let c = Client { http: lly.http.clone(), token: lly.token.clone(), base: app.base.clone() };
                tokio::spawn(async move { c.post("/api/calendar-feed", json!({})).await })
            })
            .collect();
        let mut paths = vec![];
        for r in racing {
            let (s, f) = r.await.unwrap();
            assert_eq!(s, 201, "{f}");
            paths.push(f["path"].as_str().unwrap().to_string());
        }
        let mut live = 0;
        for p in &paths {
            live += usize::from(http.get(app.url(p)).send().await.unwrap().status() == 200);
        }
        assert_eq!(live, 1, "one of the 16 addresses works");
        assert_eq!(lly.delete("/api/calendar-feed").await.0, 204);

        // The page: a fresh address shown once, the preference forms.
        let (s, html) = lly.bytes("/notify/me").await;
        assert_eq!(s, 200);
        assert!(String::from_utf8(html).unwrap().contains("开通日历订阅"));
        tdb.cleanup().await;
    });
}

/// A plain SMTP server (RFC 5321's happy path) that keeps each message's DATA.
async fn start_smtp() -> (String, Arc<Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let mails: Arc<Mutex<Vec<String>>> = Default::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let kept = mails.clone();
    tokio::spawn(async move {
        loop {
            let (sock, _) = listener.accept().await.unwrap();
            let kept = kept.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 test ESMTP\r\n").await.unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250-test\r\n250 8BITMIME\r\n",
                        "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
                        "DATA" => {
                            w.write_all(b"354 go ahead\r\n").await.unwrap();
                            let mut data = String::new();
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                                data.push_str(&l);
                                data.push('\n');
                            }
                            kept.lock().unwrap().push(data);
                            b"250 2.0.0 queued\r\n"
                        }
                        "QUIT" => {
                            let _ = w.write_all(b"221 bye\r\n").await;
                            break;
                        }
                        _ => b"502 unknown\r\n",
                    };
                    w.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (format!("smtp://{addr}"), mails)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e_mail_goes_out_over_smtp_with_the_idempotency_key_as_its_message_id() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let (url, mails) = start_smtp().await;
        let admin = Client::login(&app, "admin").await;
        let sup = Client::login(&app, "duchaju").await;
        let slj = sup.unit_id("slj").await;
        let lly = person_of(&tdb, "slj_lly").await;
        let (s, _) = admin
            .put(&format!("/api/notify/addresses/{lly}"), json!({"kind": "email", "value": "lly@example.org"}))
            .await;
        assert_eq!(s, 204);
        let mut ch = json!({"name": "邮件", "config": {"kind": "email", "url": url, "sender": "不是邮箱"}});
        let (s, v) = admin.post("/api/notify/channels", ch.clone()).await;
        assert_eq!(s, 400, "{v}");
        assert!(v["error"].as_str().unwrap().contains("发件人"), "{v}");
        ch["config"]["sender"] = json!("督查局 <duban@example.org>");
        let (s, v) = admin.post("/api/notify/channels", ch).await;
        assert_eq!(s, 201, "{v}");
        let (_, v) = sup.post("/api/tasks", new_task("邮件测试任务", slj, "邮件〔2026〕1号")).await;
        assert!(v["id"].is_i64(), "{v}");
        deliver_once(&app.state).await.unwrap();
        let got = mails.lock().unwrap().clone();
        assert_eq!(got.len(), 1, "{got:?}");
        let key = &app.state.db.outbox_states().await.unwrap()[0].0;
        assert!(got[0].contains(&format!("Message-ID: <{key}@xietong>")), "{}", got[0]);
        assert!(got[0].contains("To: lly@example.org"));
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_message_is_not_pushed_to_a_person_whose_scope_hides_the_task() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let (base, rx) = start_receiver().await;
        let admin = Client::login(&app, "admin").await;
        let anquan = Client::login(&app, "anquan").await;
        let sup = Client::login(&app, "duchaju").await;
        let slj = sup.unit_id("slj").await;
        sms_for_the_liaison(&tdb, &admin, &base).await;
        let (_, v) = sup.post("/api/tasks", new_task("范围测试一", slj, "范围〔2026〕1号")).await;
        assert!(v["id"].is_i64(), "{v}");
        // The 安全管理员 narrows liaisons to their own items: the unit's handover no longer reaches
        // the liaison's inbox, and so not their phone either.
        let (s, v) = anquan.put("/api/data-scopes/liaison", json!({"kind": "self"})).await;
        assert_eq!(s, 204, "{v}");
        deliver_once(&app.state).await.unwrap();
        assert!(rx.hits().is_empty(), "{:?}", rx.hits());
        assert_eq!(app.state.db.outbox_states().await.unwrap()[0].1, "withheld");
        let (s, v) = anquan.put("/api/data-scopes/liaison", json!({"kind": "unit"})).await;
        assert_eq!(s, 204, "{v}");
        let (_, v) = sup.post("/api/tasks", new_task("范围测试二", slj, "范围〔2026〕2号")).await;
        assert!(v["id"].is_i64(), "{v}");
        deliver_once(&app.state).await.unwrap();
        assert_eq!(rx.hits().len(), 1);
        tdb.cleanup().await;
    });
}
