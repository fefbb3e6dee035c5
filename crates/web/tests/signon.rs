//! 统一身份认证 (issue 16, item 3), on SQLite and PostgreSQL: the 钉钉 免登 provider against a real
//! HTTP receiver in the shape of 钉钉's open API (`gettoken`, `topapi/v2/user/getuserinfo`) that
//! this test starts on a local port; linking at the first sign-in, and every refusal; which roles
//! may still use passwords; providers' configuration checks and version races. The OpenID Connect
//! provider is tested end to end in the browser against a real `oidc-provider`
//! (tests/browser/signon.test.mjs).

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use common::{Client, TestApp, dt, with_demo};
use serde_json::{Value, json};

const NOW: &str = "2026-11-23 10:00";

/// A 钉钉 open platform: one app (AppKey `ding-app`, AppSecret `app-secret`), and authCodes that
/// name users. Counts the tokens it issued.
#[derive(Clone, Default)]
struct Dingtalk {
    codes: Arc<Mutex<Vec<(String, String)>>>,
    tokens: Arc<Mutex<usize>>,
}

async fn gettoken(State(d): State<Dingtalk>, Query(q): Query<Vec<(String, String)>>) -> axum::Json<Value> {
    let has = |k: &str, v: &str| q.iter().any(|(kk, vv)| kk == k && vv == v);
    if !(has("appkey", "ding-app") && has("appsecret", "app-secret")) {
        return axum::Json(json!({"errcode": 40089, "errmsg": "不合法的corpid或corpsecret"}));
    }
    *d.tokens.lock().unwrap() += 1;
    axum::Json(json!({"errcode": 0, "errmsg": "ok", "access_token": "tok-1", "expires_in": 7200}))
}

async fn getuserinfo(
    State(d): State<Dingtalk>,
    Query(q): Query<Vec<(String, String)>>,
    axum::Json(body): axum::Json<Value>,
) -> axum::Json<Value> {
    if !q.iter().any(|(k, v)| k == "access_token" && v == "tok-1") {
        return axum::Json(json!({"errcode": 40014, "errmsg": "不合法的access_token"}));
    }
    let code = body["code"].as_str().unwrap_or("");
    match d.codes.lock().unwrap().iter().find(|(c, _)| c == code) {
        Some((_, user)) => axum::Json(json!({"errcode": 0, "errmsg": "ok", "request_id": "r1",
            "result": {"userid": user, "unionid": format!("u-{user}"), "name": "示例", "sys": false, "sys_level": 0}})),
        None => axum::Json(json!({"errcode": 40078, "errmsg": "不存在的临时授权码"})),
    }
}

async fn start_dingtalk() -> (String, Dingtalk) {
    let d = Dingtalk::default();
    let app = axum::Router::new()
        .route("/gettoken", axum::routing::get(gettoken))
        .route("/topapi/v2/user/getuserinfo", axum::routing::post(getuserinfo))
        .with_state(d.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, d)
}

/// A browser without redirects followed: the answers are checked one by one.
fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap().to_string())
}

/// Open the 免登 page as the 钉钉 client would: its binding cookie and the token it embeds.
async fn dingtalk_page(app: &TestApp, id: i64) -> (String, String) {
    let r = browser().get(app.url(&format!("/login/dingtalk/{id}"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("https://g.alicdn.com"), "{csp}");
    let cookie = set_cookie(&r, "xt_sso").expect("the page binds the browser");
    let html = r.text().await.unwrap();
    let at = html.find("data-token=\"").unwrap() + "data-token=\"".len();
    (cookie, html[at..].split('"').next().unwrap().to_string())
}

/// The page's script going on with `code`: the answer (not followed).
async fn dingtalk_sign_in(app: &TestApp, id: i64, cookie: &str, token: &str, code: &str) -> reqwest::Response {
    browser()
        .get(app.url(&format!("/login/dingtalk/{id}?code={code}&t={token}")))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

async fn who(app: &TestApp, session: &str) -> String {
    let r = browser().get(app.url("/api/me")).header("cookie", session).send().await.unwrap();
    let v: Value = r.json().await.unwrap();
    v["username"].as_str().unwrap_or("").to_string()
}

/// (account id, person id) of a login.
async fn account(db: &xietong_storage::Db, username: &str) -> (i64, i64) {
    let r = sqlx::query("SELECT id, person_id FROM users WHERE username = $1")
        .bind(username.to_string())
        .fetch_one(&db.pool)
        .await
        .unwrap();
    (sqlx::Row::try_get(&r, "id").unwrap(), sqlx::Row::try_get(&r, "person_id").unwrap())
}

async fn links(db: &xietong_storage::Db) -> i64 {
    let r = sqlx::query("SELECT COUNT(*) AS n FROM sso_links").fetch_one(&db.pool).await.unwrap();
    sqlx::Row::try_get::<i64, _>(&r, "n").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dingtalk_sign_in_links_an_existing_account_once_and_refuses_the_rest_in_chinese() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let (base, dd) = start_dingtalk().await;
        let anquan = Client::login(&app, "anquan").await;
        let admin = Client::login(&app, "admin").await;

        // A configuration without its secret is refused, naming the field.
        let mut p =
            json!({"name": "区政务钉钉", "config": {"kind": "dingtalk", "base_url": base, "app_key": "ding-app"}});
        let (s, v) = anquan.post("/api/sso/providers", p.clone()).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("app_secret")), "{v}");
        p["config"]["app_secret"] = json!("app-secret");
        let (s, v) = anquan.post("/api/sso/providers", p.clone()).await;
        assert_eq!(s, 201, "{v}");
        let id = v["id"].as_i64().unwrap();
        // Only the 安全管理员 registers providers.
        assert_eq!(admin.post("/api/sso/providers", p.clone()).await.0, 403);
        let (_, list) = anquan.get("/api/sso/providers").await;
        assert_eq!(list[0]["config"]["app_secret"], "****cret", "{list}");
        let (_, check) = anquan.post(&format!("/api/sso/providers/{id}/test"), json!({})).await;
        assert_eq!(check["ok"], true, "{check}");
        // The login page offers it.
        let login = reqwest::get(app.url("/login")).await.unwrap().text().await.unwrap();
        assert!(login.contains("使用「区政务钉钉」登录"), "{login}");

        // The 联络员 of 建设和交通局 has 钉钉 user id ding-jsj in the 消息推送 addresses.
        let (jsj_user, jsj) = account(&tdb.db, "jsj_lly").await;
        let (s, _) = admin
            .put(&format!("/api/notify/addresses/{jsj}"), json!({"kind": "dingtalk_user", "value": "ding-jsj"}))
            .await;
        assert_eq!(s, 204);
        dd.codes.lock().unwrap().extend([
            ("code-jsj".to_string(), "ding-jsj".to_string()),
            ("code-jsj-2".to_string(), "ding-jsj".to_string()),
            ("code-nobody".to_string(), "ding-nobody".to_string()),
        ]);

        // First sign-in: linked by the address, audited, a session.
        let before_audit = tdb.db.search_audit(&Default::default(), 1000).await.unwrap().len();
        let (cookie, token) = dingtalk_page(&app, id).await;
        let r = dingtalk_sign_in(&app, id, &cookie, &token, "code-jsj").await;
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/todo");
        let session = set_cookie(&r, "xt_session").unwrap();
        assert_eq!(who(&app, &session).await, "jsj_lly");
        assert_eq!(links(&tdb.db).await, 1);
        let audit = tdb.db.search_audit(&Default::default(), 1000).await.unwrap();
        assert_eq!(audit.len(), before_audit + 1);
        assert!(audit.iter().any(|e| e.action == "sso.link"));

        // The same page's token again (a replay): refused, nothing new.
        let r = dingtalk_sign_in(&app, id, &cookie, &token, "code-jsj-2").await;
        assert_eq!(r.status(), 403);
        assert!(r.text().await.unwrap().contains("登录已过期或已使用"));
        // A code without the page's cookie (sent from elsewhere): refused.
        let (_, token) = dingtalk_page(&app, id).await;
        let r = dingtalk_sign_in(&app, id, "xt_sso=forged", &token, "code-jsj-2").await;
        assert_eq!(r.status(), 403);
        assert!(r.text().await.unwrap().contains("不是从本浏览器发起"));
        // A second sign-in finds the link; one token was fetched for all.
        let (cookie, token) = dingtalk_page(&app, id).await;
        let r = dingtalk_sign_in(&app, id, &cookie, &token, "code-jsj-2").await;
        assert_eq!(r.status(), 303);
        assert_eq!(links(&tdb.db).await, 1);
        assert_eq!(*dd.tokens.lock().unwrap(), 2, "one for the 连接测试, one kept for sign-ins");

        // 16 first sign-ins of one person at once: one link, one audit entry, every one signed in.
        let (_, slj) = account(&tdb.db, "slj_lly").await;
        let (s, _) = admin
            .put(&format!("/api/notify/addresses/{slj}"), json!({"kind": "dingtalk_user", "value": "ding-slj"}))
            .await;
        assert_eq!(s, 204);
        let mut pages = vec![];
        for i in 0..16 {
            dd.codes.lock().unwrap().push((format!("code-slj-{i}"), "ding-slj".into()));
            pages.push((i, dingtalk_page(&app, id).await));
        }
        let before_audit = tdb.db.search_audit(&Default::default(), 1000).await.unwrap().len();
        let racing: Vec<_> = pages
            .into_iter()
            .map(|(i, (cookie, token))| {
                let base = app.base.clone();
                tokio::spawn(async move {
                    let url = format!("{base}/login/dingtalk/{id}?code=code-slj-{i}&t={token}");
                    browser().get(url).header("cookie", cookie).send().await.unwrap().status().as_u16()
                })
            })
            .collect();
        let mut codes = vec![];
        for r in racing {
            codes.push(r.await.unwrap());
        }
        assert!(codes.iter().all(|c| *c == 303 || *c == 409), "{codes:?}");
        assert!(codes.iter().filter(|c| **c == 303).count() >= 1, "{codes:?}");
        assert_eq!(links(&tdb.db).await, 2);
        let audit = tdb.db.search_audit(&Default::default(), 1000).await.unwrap();
        assert_eq!(audit.len(), before_audit + 1, "one sso.link for the 16");

        // 钉钉 refuses an unknown code: its words, in the login page.
        let (cookie, token) = dingtalk_page(&app, id).await;
        let r = dingtalk_sign_in(&app, id, &cookie, &token, "code-forged").await;
        assert_eq!(r.status(), 403);
        let html = r.text().await.unwrap();
        assert!(html.contains("钉钉免登失败：不存在的临时授权码（errcode 40078）"), "{html}");
        // A 钉钉 user with no account: refused, nothing linked, no account made.
        let users = sqlx::query("SELECT COUNT(*) AS n FROM users").fetch_one(&tdb.db.pool).await.unwrap();
        let (cookie, token) = dingtalk_page(&app, id).await;
        let r = dingtalk_sign_in(&app, id, &cookie, &token, "code-nobody").await;
        assert_eq!(r.status(), 403);
        let html = r.text().await.unwrap();
        assert!(html.contains("「ding-nobody」在本系统没有对应账号"), "{html}");
        assert!(html.contains("不会自动开设账号"), "{html}");
        assert_eq!(links(&tdb.db).await, 2);
        let after = sqlx::query("SELECT COUNT(*) AS n FROM users").fetch_one(&tdb.db.pool).await.unwrap();
        assert_eq!(
            sqlx::Row::try_get::<i64, _>(&users, "n").unwrap(),
            sqlx::Row::try_get::<i64, _>(&after, "n").unwrap()
        );
        // Each refusal is in the 登录日志.
        let log = tdb.db.recent_logins(50).await.unwrap();
        assert!(log.iter().any(|l| !l.ok && l.message.contains("不存在的临时授权码")), "{log:?}");

        // A disabled account cannot sign in this way either.
        let (s, v) = admin.post(&format!("/api/users/{jsj_user}/active"), json!({"active": false})).await;
        assert!(s < 300, "{s} {v}");
        dd.codes.lock().unwrap().push(("code-jsj-3".into(), "ding-jsj".into()));
        let (cookie, token) = dingtalk_page(&app, id).await;
        let r = dingtalk_sign_in(&app, id, &cookie, &token, "code-jsj-3").await;
        assert_eq!(r.status(), 403);
        assert!(r.text().await.unwrap().contains("已停用"));

        // Removing the link: 409 the second time.
        assert_eq!(anquan.delete(&format!("/api/sso/links/{id}/{jsj_user}")).await.0, 204);
        assert_eq!(anquan.delete(&format!("/api/sso/links/{id}/{jsj_user}")).await.0, 409);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_without_passwords_signs_in_only_through_a_provider() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let anquan = Client::login(&app, "anquan").await;
        // The 安全管理员 keeps the password whatever is asked.
        let (s, v) = anquan.put("/api/sso/password-login", json!([{"role": "security_admin", "allowed": false}])).await;
        assert_eq!(s, 400);
        assert!(v["error"].as_str().unwrap().contains("安全管理员须保留密码登录"), "{v}");
        let (s, v) = anquan.put("/api/sso/password-login", json!([{"role": "nobody", "allowed": false}])).await;
        assert_eq!(s, 400, "{v}");
        let (s, _) = anquan.put("/api/sso/password-login", json!([{"role": "liaison", "allowed": false}])).await;
        assert_eq!(s, 204);
        let (_, roles) = anquan.get("/api/sso/password-login").await;
        let liaison = roles.as_array().unwrap().iter().find(|r| r["role"] == "liaison").unwrap();
        assert_eq!(liaison["allowed"], false);

        // A liaison's right password opens nothing; the answer says why; other roles are unaffected.
        let r = reqwest::Client::new()
            .post(app.url("/api/session"))
            .json(&json!({"username": "jsj_lly", "password": xietong_demo::DEMO_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let v: Value = r.json().await.unwrap();
        assert!(v["error"].as_str().unwrap().contains("已停用密码登录"), "{v}");
        Client::login(&app, "duchaju").await;
        // A wrong password still gets the usual answer (nothing tells the role of a name).
        let r = reqwest::Client::new()
            .post(app.url("/api/session"))
            .json(&json!({"username": "jsj_lly", "password": "wrong"}))
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        assert!(!v["error"].as_str().unwrap().contains("停用"), "{v}");
        // Turned back on, the password works again.
        assert_eq!(anquan.put("/api/sso/password-login", json!([{"role": "liaison", "allowed": true}])).await.0, 204);
        Client::login(&app, "jsj_lly").await;
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_checks_name_the_field_and_racing_edits_get_one_winner() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let anquan = Client::login(&app, "anquan").await;
        let oidc = |issuer: &str| {
            json!({"name": "政务统一身份认证", "config": {"kind": "oidc", "issuer": issuer, "client_id": "xietong",
                "client_secret": "s3cret", "unit_claim": "unit"}})
        };
        for (issuer, field, words) in
            [("http://sso.example.gov.cn", "issuer", "须以 https:// 开头"), ("sso", "issuer", "不是有效的网址")]
        {
            let (s, v) = anquan.post("/api/sso/providers", oidc(issuer)).await;
            assert_eq!((s, v["field"].as_str()), (400, Some(field)), "{v}");
            assert!(v["error"].as_str().unwrap().contains(words), "{v}");
        }
        let mut bad_claim = oidc("https://sso.example.gov.cn");
        bad_claim["config"]["username_claim"] = json!("用户 名");
        assert_eq!(anquan.post("/api/sso/providers", bad_claim).await.1["field"], "username_claim");

        // A dead issuer: created, but the 连接测试 says in Chinese what failed.
        let (s, v) = anquan.post("/api/sso/providers", oidc("http://127.0.0.1:9")).await;
        assert_eq!(s, 201, "{v}");
        let id = v["id"].as_i64().unwrap();
        let (s, check) = anquan.post(&format!("/api/sso/providers/{id}/test"), json!({})).await;
        assert_eq!(s, 200);
        assert_eq!(check["ok"], false);
        assert!(check["answer"].as_str().unwrap().starts_with("无法读取身份源的发现文档"), "{check}");
        // Signing in through it sends the browser back to the login page with the reason.
        let r = browser().get(app.url(&format!("/login/sso/{id}"))).send().await.unwrap();
        assert_eq!(r.status(), 502);
        assert!(r.text().await.unwrap().contains("统一身份认证暂不可用"));

        // 16 edits from the same version: one wins, the rest are told in Chinese; one audit entry.
        let before = tdb.db.search_audit(&Default::default(), 1000).await.unwrap().len();
        let mut edit = oidc("http://127.0.0.1:9");
        edit["version"] = json!(1);
        let mut tasks = vec![];
        for i in 0..16 {
            let (c, mut e) = (
                Client { http: anquan.http.clone(), token: anquan.token.clone(), base: app.base.clone() },
                edit.clone(),
            );
            e["name"] = json!(format!("政务统一身份认证{i}"));
            tasks.push(tokio::spawn(async move { c.put(&format!("/api/sso/providers/{id}"), e).await }));
        }
        let mut codes = vec![];
        for t in tasks {
            let (s, v) = t.await.unwrap();
            if s == 409 {
                assert!(v["error"].as_str().unwrap().contains("已被他人修改"), "{v}");
            }
            codes.push(s);
        }
        assert_eq!(codes.iter().filter(|s| **s == 204).count(), 1, "{codes:?}");
        assert_eq!(codes.iter().filter(|s| **s == 409).count(), 15, "{codes:?}");
        assert_eq!(tdb.db.search_audit(&Default::default(), 1000).await.unwrap().len(), before + 1);
        tdb.cleanup().await;
    });
}
