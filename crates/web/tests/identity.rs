//! Identity controls (issue 5, first part; issue 12) on SQLite and PostgreSQL: wrong passwords lock
//! the (name, address) pair, far more lock the account and notify, names that do not exist are
//! answered and checked the same, the per-address login limit, forced change of initial passwords, signing out everywhere, the
//! administrator's 在线用户 with 强制下线, and the security settings.

mod common;

use common::{Client, dt, with_demo};
use serde_json::json;

async fn try_login(app: &common::TestApp, username: &str, password: &str) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new()
        .post(app.url("/api/session"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(serde_json::Value::Null))
}

/// An account the administrator creates for the 城管局 head, with the initial password "Init@2026x".
async fn new_account(admin: &Client, username: &str) {
    let (_, people) = admin.get("/api/people").await;
    let person = people.as_array().unwrap().iter().find(|p| p["post"] == "局长" && p["unit_name"] == "城管局").unwrap()
        ["id"]
        .as_i64()
        .unwrap();
    let (s, v) = admin
        .post(
            "/api/users",
            json!({"username": username, "password": "Init@2026x", "person_id": person, "role": "liaison"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
}

/// A sign-in from `address`, as a trusted proxy in front of the server reports it.
async fn login_from(app: &common::TestApp, address: &str, username: &str, password: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(app.url("/api/session"))
        .header("x-forwarded-for", address)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    let v: serde_json::Value = r.json().await.unwrap_or(serde_json::Value::Null);
    (s, v["error"].as_str().unwrap_or("").to_string())
}

/// The demo behind a proxy at 127.0.0.1, so each test request may come from an address of its own.
async fn behind_proxy(b: common::Backend, now: chrono::NaiveDateTime) -> Option<(common::TestDb, common::TestApp)> {
    let tdb = common::fresh(b).await?;
    xietong_demo::load(&tdb.db, now).await.unwrap();
    let deployment = xietong_web::Deployment {
        trusted_proxies: xietong_web::auth::parse_trusted_proxies("127.0.0.1").unwrap(),
        ..Default::default()
    };
    let app = common::spawn_app_with(tdb.db.clone(), now, deployment).await;
    Some((tdb, app))
}

fn checks(db: &xietong_storage::Db) -> u64 {
    db.password_checks.load(std::sync::atomic::Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_lock_the_name_at_that_address_only() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = behind_proxy(b, now).await else { continue };
        let pw = xietong_demo::DEMO_PASSWORD;
        for i in 1..=4 {
            assert_eq!(
                login_from(&app, "10.1.0.1", "jsj_lly", "Wrong@2026").await,
                (403, "用户名或密码错误".into()),
                "attempt {i}"
            );
        }
        let (s, e) = login_from(&app, "10.1.0.1", "jsj_lly", "Wrong@2026").await;
        assert_eq!((s, e.as_str()), (403, "用户名或密码错误；连续 5 次错误，该账号在此地址锁定至 10:15"));
        // From that address even the right password is refused, and says until when …
        let (s, e) = login_from(&app, "10.1.0.1", "jsj_lly", pw).await;
        assert_eq!(s, 403);
        assert!(e.starts_with("账号已锁定（在此地址连续 5 次密码错误），请于 10:15 后重试"), "{e}");
        // … but the owner at his own desk signs in: a stranger cannot lock him out.
        assert_eq!(login_from(&app, "10.1.0.2", "jsj_lly", pw).await.0, 200);
        assert_eq!(login_from(&app, "10.1.0.1", "scjgj_lly", pw).await.0, 200, "other names from that address too");
        // The log keeps every attempt with the address it came from.
        let logins = tdb.db.recent_logins(20).await.unwrap();
        let failed: Vec<_> = logins.iter().filter(|l| l.username == "jsj_lly" && !l.ok).collect();
        assert_eq!(failed.len(), 6);
        assert!(failed.iter().all(|l| l.address == "10.1.0.1"), "{failed:?}");
        app.set_now(dt("2026-11-23 10:16"));
        assert_eq!(login_from(&app, "10.1.0.1", "jsj_lly", pw).await.0, 200, "unlocked when the time is up");
        // A success clears the pair's count: four more failures do not lock.
        for _ in 0..4 {
            login_from(&app, "10.1.0.1", "jsj_lly", "Wrong@2026").await;
        }
        assert_eq!(login_from(&app, "10.1.0.1", "jsj_lly", pw).await.0, 200);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_does_not_exist_is_answered_and_checked_the_same() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = behind_proxy(b, now).await else { continue };
        let mut answers = vec![];
        for (name, address) in [("jsj_lly", "10.2.0.1"), ("jsj_llx", "10.2.0.2")] {
            let mut seen = vec![];
            for _ in 0..6 {
                let before = checks(&tdb.db);
                let (s, e) = login_from(&app, address, name, "Wrong@2026").await;
                // argon2 ran for every attempt that was looked at, real account or not.
                seen.push((s, e, checks(&tdb.db) - before));
            }
            answers.push(seen);
        }
        assert_eq!(answers[0], answers[1], "the same words, and the same work, for a name that does not exist");
        let counted: Vec<u64> = answers[0].iter().map(|a| a.2).collect();
        assert_eq!(counted, [1, 1, 1, 1, 1, 0], "five checked, the sixth refused before any check");
        assert!(answers[1][5].1.starts_with("账号已锁定"), "{:?}", answers[1]);
        // A disabled account costs a check too, and says nothing more.
        let admin = Client::login(&app, "admin").await;
        let (_, users) = admin.get("/api/users").await;
        let uid =
            users.as_array().unwrap().iter().find(|u| u["username"] == "jyj_lly").unwrap()["id"].as_i64().unwrap();
        let (s, v) = admin.post(&format!("/api/users/{uid}/active"), json!({"active": false})).await;
        assert!(s == 200 || s == 204, "{s} {v}");
        let before = checks(&tdb.db);
        let (s, e) = login_from(&app, "10.2.0.3", "jyj_lly", xietong_demo::DEMO_PASSWORD).await;
        assert_eq!((s, e.as_str(), checks(&tdb.db) - before), (403, "用户名或密码错误", 1));
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_failures_from_many_addresses_lock_the_account_and_tell_its_owner() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = behind_proxy(b, now).await else { continue };
        let app = std::sync::Arc::new(app);
        // Ten addresses, five wrong passwords each (each pair locks at its fifth), for a real name
        // and for one that does not exist; the addresses run side by side.
        let mut answers = std::collections::BTreeMap::new();
        for name in ["duchaju", "duchaju_x"] {
            let mut set = tokio::task::JoinSet::new();
            for a in 0..10 {
                let (app, name) = (app.clone(), name.to_string());
                set.spawn(async move {
                    let mut out = vec![];
                    for _ in 0..5 {
                        out.push(login_from(&app, &format!("10.3.{a}.1"), &name, "Wrong@2026").await);
                    }
                    out
                });
            }
            let mut all = vec![];
            while let Some(r) = set.join_next().await {
                all.extend(r.unwrap());
            }
            all.sort();
            answers.insert(name, all);
        }
        let real = &answers["duchaju"];
        assert!(real.iter().all(|(s, _)| *s == 403), "{real:?}");
        let locking: Vec<_> = real.iter().filter(|(_, e)| e.contains("短时间内密码错误次数过多")).collect();
        assert_eq!(locking.len(), 1, "the fiftieth locks the account: {real:?}");
        assert!(locking[0].1.contains("锁定") && locking[0].1.contains("10:15"), "{locking:?}");
        assert_eq!(answers["duchaju"], answers["duchaju_x"], "no difference for a name that does not exist");
        // Now locked for every address, the right password too.
        let (s, e) = login_from(&app, "10.3.99.1", "duchaju", xietong_demo::DEMO_PASSWORD).await;
        assert_eq!(s, 403);
        assert!(e.starts_with("账号已锁定（短时间内密码错误次数过多），请于 10:15 后重试"), "{e}");
        // The owner and the 安全管理员 are told, once each, and the audit chain records it.
        let notes = sqlx::query(
            "SELECT p.name AS who, n.text FROM notifications n JOIN people p ON p.id = n.person_id WHERE n.kind = 'security'",
        )
        .fetch_all(&tdb.db.pool)
        .await
        .unwrap();
        assert_eq!(notes.len(), 2, "the owner and the one 安全管理员");
        for n in &notes {
            let text: String = sqlx::Row::try_get(n, "text").unwrap();
            assert!(text.contains("账号 duchaju") && text.contains("50 次") && text.contains("10 个地址"), "{text}");
        }
        let audited: i64 = sqlx::Row::try_get(
            &sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'security.account_locked'")
                .fetch_one(&tdb.db.pool)
                .await
                .unwrap(),
            "n",
        )
        .unwrap();
        assert_eq!(audited, 1, "the name that does not exist is nobody's to tell");
        assert!(tdb.db.verify_audit().await.unwrap().is_ok());
        // The 安全管理员 sees it on the 在线用户 page.
        let c = reqwest::Client::builder().cookie_store(true).build().unwrap();
        common::form_login(&c, &app, "anquan", xietong_demo::DEMO_PASSWORD).await;
        let html = c.get(app.url("/online")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("账号 duchaju 在 60 分钟内密码错误达 50 次"), "{html}");
        // Over when the time is up; an administrator's reset ends it at once.
        app.set_now(dt("2026-11-23 10:16"));
        assert_eq!(login_from(&app, "10.3.99.1", "duchaju", xietong_demo::DEMO_PASSWORD).await.0, 200);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_may_not_try_logins_faster_than_the_limit() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        // 30 a minute by default, for any usernames; then refused before any password check. The
        // quota refills one attempt every 2 s, so a slow (debug, loaded) run may see a few more.
        let start = std::time::Instant::now();
        let mut statuses = vec![];
        for i in 0..40 {
            statuses.push(try_login(&app, &format!("nobody{i}"), "Wrong@2026").await);
        }
        let refill = (start.elapsed().as_secs() / 2) as usize + 1;
        assert!(statuses[..30].iter().all(|(s, _)| *s == 403));
        let checked = statuses.iter().filter(|(s, _)| *s == 403).count();
        assert!(checked <= 30 + refill, "{checked} attempts checked in {:?}", start.elapsed());
        let refused = statuses.iter().find(|(s, _)| *s == 429).expect("attempts beyond the limit are refused");
        assert_eq!(refused.1["error"], "登录尝试过于频繁，请一分钟后再试");
        while try_login(&app, "nobody", "Wrong@2026").await.0 != 429 {}
        let before = tdb.db.recent_logins(100).await.unwrap().len();
        assert_eq!(try_login(&app, "admin", xietong_demo::DEMO_PASSWORD).await.0, 429, "a right password too");
        assert_eq!(tdb.db.recent_logins(100).await.unwrap().len(), before, "a refused attempt is not even checked");
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_initial_password_must_be_changed_first() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        let admin = Client::login(&app, "admin").await;
        new_account(&admin, "cgj_new").await;
        let new = Client::login_with(&app, "cgj_new", "Init@2026x").await;
        let (s, v) = new.get("/api/todo").await;
        assert_eq!(s, 403);
        assert!(v["error"].as_str().unwrap().contains("须先修改初始密码"), "{v}");
        let (s, me) = new.get("/api/me").await;
        assert_eq!((s, me["must_change_password"].as_bool()), (200, Some(true)));
        // Weak, same as before, or a wrong old password: refused with the field named.
        for (old, newpw, field) in [
            ("Init@2026x", "short", "新密码"),
            ("Init@2026x", "Init@2026x", "新密码"),
            ("Wrong@2026", "Better@2026", "原密码"),
        ] {
            let (s, v) = new.put("/api/password", json!({"old_password": old, "new_password": newpw})).await;
            assert_eq!((s, v["field"].as_str()), (400, Some(field)), "{v}");
        }
        let (s, _) =
            new.put("/api/password", json!({"old_password": "Init@2026x", "new_password": "Better@2026"})).await;
        assert_eq!(s, 204);
        assert_eq!(new.get("/api/todo").await.0, 200, "the same session goes on");
        // An administrator's reset makes it initial again and ends its sessions.
        let uid = me["user_id"].as_i64().unwrap();
        let (s, _) = admin.post(&format!("/api/users/{uid}/password"), json!({"password": "Reset@2026x"})).await;
        assert!(s == 200 || s == 204, "{s}");
        assert_eq!(new.get("/api/todo").await.0, 401);
        let again = Client::login_with(&app, "cgj_new", "Reset@2026x").await;
        assert_eq!(again.get("/api/todo").await.0, 403);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_everywhere_and_the_administrator_sees_and_ends_them() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        let a = Client::login(&app, "jsj_lly").await;
        let b2 = Client::login(&app, "jsj_lly").await;
        assert_ne!(a.token, b2.token, "every sign-in gets a new session");
        let admin = Client::login(&app, "anquan").await;
        let (s, online) = admin.get("/api/online").await;
        assert_eq!(s, 200);
        assert_eq!(online.as_array().unwrap().iter().filter(|o| o["username"] == "jsj_lly").count(), 2);
        let (s, _) = a.get("/api/online").await;
        assert_eq!(s, 403, "the 在线用户 list is the administrator's");
        let (s, v) = a.delete("/api/sessions").await;
        assert_eq!((s, v["sessions"].as_u64()), (200, Some(2)));
        assert_eq!(a.get("/api/me").await.0, 401);
        assert_eq!(b2.get("/api/me").await.0, 401);
        let c = Client::login(&app, "jsj_lly").await;
        let uid = c.get("/api/me").await.1["user_id"].as_i64().unwrap();
        let (s, v) = admin.delete(&format!("/api/online/{uid}")).await;
        assert_eq!((s, v["sessions"].as_u64()), (200, Some(1)));
        assert_eq!(c.get("/api/me").await.0, 401, "强制下线 ends it at once");

        // Security settings: weaker than the assessment allows is refused; a stricter one applies.
        let (s, cur) = admin.get("/api/security-settings").await;
        assert_eq!((s, cur["lockout_attempts"].as_i64()), (200, Some(5)));
        let mut weak = cur.clone();
        weak["password_min_length"] = 6.into();
        let (s, v) = admin.put("/api/security-settings", weak).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("密码最小长度")), "{v}");
        let mut strict = cur.clone();
        strict["password_min_length"] = 14.into();
        assert_eq!(admin.put("/api/security-settings", strict).await.0, 204);
        let (s, v) = c.put("/api/password", json!({"old_password": "x", "new_password": "Short@2026a"})).await;
        assert_eq!(s, 401, "{v}");
        let d = Client::login(&app, "jsj_lly").await;
        let (s, v) = d
            .put("/api/password", json!({"old_password": xietong_demo::DEMO_PASSWORD, "new_password": "Short@2026a"}))
            .await;
        assert_eq!(s, 400);
        assert!(v["error"].as_str().unwrap().contains("至少 14 位"), "{v}");
        assert_eq!(a.get("/api/security-settings").await.0, 401);
        let e = Client::login(&app, "scjgj_lly").await;
        assert_eq!(e.get("/api/security-settings").await.0, 403);
        // 三员分立: the administrators' accounts are the 安全管理员's, everyone else's the 系统管理员's.
        let sys = Client::login(&app, "admin").await;
        let (_, people) = sys.get("/api/people").await;
        let person = people.as_array().unwrap()[0]["id"].as_i64().unwrap();
        // 14 characters at least: the stricter policy set above applies.
        let account = |username: &str, role: &str| json!({"username": username, "password": "Init@2026-xietong", "person_id": person, "role": role});
        assert_eq!(
            sys.post("/api/users", account("aud2", "audit_admin")).await.0,
            403,
            "the 系统管理员 cannot make an administrator"
        );
        assert_eq!(
            admin.post("/api/users", account("lly2", "liaison")).await.0,
            403,
            "the 安全管理员 cannot make business accounts"
        );
        assert_eq!(admin.post("/api/users", account("aud2", "audit_admin")).await.0, 201);
        // 三员分立: the 系统管理员 and the 审计管理员 cannot touch security settings or sessions.
        for other in ["admin", "shenji"] {
            let o = Client::login(&app, other).await;
            assert_eq!(o.get("/api/security-settings").await.0, 403, "{other}");
            assert_eq!(o.delete(&format!("/api/online/{uid}")).await.0, 403, "{other}");
        }
        tdb.cleanup().await;
    });
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"_csrf\" value=\"").expect("a form with _csrf") + "name=\"_csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_send_an_initial_password_to_the_change_form() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        let admin = Client::login(&app, "admin").await;
        new_account(&admin, "cgj_page").await;
        let c = reqwest::Client::builder().cookie_store(true).build().unwrap();
        let r = common::form_login(&c, &app, "cgj_page", "Init@2026x").await;
        assert_eq!(r.url().path(), "/password", "an initial password goes to the change form");
        let html = r.text().await.unwrap();
        assert!(html.contains("初始密码"), "{html}");
        let token = csrf_of(&html);
        let r = c.get(app.url("/tasks")).send().await.unwrap();
        assert_eq!(r.url().path(), "/password", "every page leads there until it is changed");
        let r = c
            .post(app.url("/password"))
            .form(&[
                ("_csrf", token.as_str()),
                ("old_password", "Init@2026x"),
                ("new_password", "Better@2026"),
                ("new_password_again", "Better@2027"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("两次输入的新密码不一致"));
        let r = c
            .post(app.url("/password"))
            .form(&[
                ("_csrf", token.as_str()),
                ("old_password", "Init@2026x"),
                ("new_password", "Better@2026"),
                ("new_password_again", "Better@2026"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.url().as_str().rsplit('/').next(), Some("password?ok=1"));
        assert_eq!(c.get(app.url("/todo")).send().await.unwrap().url().path(), "/todo");

        // The administrator's 在线用户 page lists the session and ends it.
        let ac = reqwest::Client::builder().cookie_store(true).build().unwrap();
        common::form_login(&ac, &app, "anquan", xietong_demo::DEMO_PASSWORD).await;
        let html = ac.get(app.url("/online")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("cgj_page") && html.contains("强制下线"), "{html}");
        let uid = admin
            .get("/api/users")
            .await
            .1
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == "cgj_page")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let r = ac
            .post(app.url(&format!("/online/{uid}/logout")))
            .form(&[("_csrf", csrf_of(&html).as_str())])
            .send()
            .await
            .unwrap();
        assert!(r.text().await.unwrap().contains("已强制下线"));
        assert_eq!(
            c.get(app.url("/todo")).send().await.unwrap().url().path(),
            "/login",
            "the forced-out browser is signed out"
        );
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_numbers_are_encrypted_at_rest_and_masked_for_leadership() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        // In the database: ciphertext only.
        let rows = sqlx::query("SELECT phone, email FROM experts").fetch_all(&tdb.db.pool).await.unwrap();
        assert!(!rows.is_empty());
        for r in &rows {
            let phone: String = sqlx::Row::try_get(r, "phone").unwrap();
            let email: String = sqlx::Row::try_get(r, "email").unwrap();
            // The sealed text is hex after its key id: a plain "0371-…" or "@" can never show through (a
            // check for "0371" alone failed once, when random ciphertext happened to hold those four digits).
            for sealed in [&phone, &email] {
                let body = sealed.strip_prefix("sm4:").and_then(|s| s.split_once(':')).map(|(_, hex)| hex);
                assert!(body.is_some_and(|h| h.chars().all(|c| c.is_ascii_hexdigit())), "{sealed}");
            }
            assert!(tdb.db.cipher.open(&phone).unwrap().contains("0371"), "{phone}");
        }
        // Through the API: whole for the 科技局, masked for a leader, hidden for an enterprise.
        let phone_of = |list: &serde_json::Value| {
            list.as_array().unwrap().iter().find(|x| x["name"] == "华北水利水电大学教授（示例一）").unwrap()["phone"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(phone_of(&Client::login(&app, "kejiju").await.get("/api/experts").await.1), "0371-60000001");
        assert_eq!(phone_of(&Client::login(&app, "fqz_cj").await.get("/api/experts").await.1), "037******0001");
        assert_eq!(phone_of(&Client::login(&app, "qiye").await.get("/api/experts").await.1), "（仅科技局可见）");

        // Rotation: rows under an old key are re-encrypted under the new one and still read.
        use xietong_security::fields::FieldCipher;
        for sql in ["UPDATE experts SET phone = '', email = ''", "UPDATE enterprises SET contact_phone = ''"] {
            sqlx::query(sql).execute(&tdb.db.pool).await.unwrap();
        }
        let old = FieldCipher::generate_spec("a");
        let mut a = tdb.db.clone();
        a.cipher = std::sync::Arc::new(FieldCipher::from_config(&old).unwrap());
        sqlx::query("UPDATE experts SET phone = $1 WHERE id = 1")
            .bind(a.cipher.seal("13800000000"))
            .execute(&tdb.db.pool)
            .await
            .unwrap();
        sqlx::query("UPDATE experts SET email = 'plain@example.cn' WHERE id = 2").execute(&tdb.db.pool).await.unwrap();
        let mut both = tdb.db.clone();
        both.cipher = std::sync::Arc::new(
            FieldCipher::from_config(&format!("{old},{}", FieldCipher::generate_spec("b"))).unwrap(),
        );
        assert_eq!(both.rekey_fields(now).await.unwrap(), 2, "the old-key value and the plaintext one");
        let raw: String = sqlx::Row::try_get(
            &sqlx::query("SELECT phone FROM experts WHERE id = 1").fetch_one(&tdb.db.pool).await.unwrap(),
            "phone",
        )
        .unwrap();
        assert!(raw.starts_with("sm4:b:"), "{raw}");
        assert_eq!(both.cipher.open(&raw).unwrap(), "13800000000");
        assert_eq!(both.rekey_fields(now).await.unwrap(), 0, "nothing left to do");
        assert!(tdb.db.verify_audit().await.unwrap().is_ok());
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_auditor_searches_and_exports_the_logs() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        for _ in 0..2 {
            try_login(&app, "jsj_lly", "Wrong@2026").await;
        }
        let auditor = Client::login(&app, "shenji").await;
        let (s, v) = auditor.get("/api/audit/verify").await;
        assert_eq!((s, v["ok"].as_bool()), (200, Some(true)), "{v}");
        assert_eq!(Client::login(&app, "admin").await.get("/api/audit/verify").await.0, 403, "三员分立");
        let col = |h: &str| xietong_office::table::Column {
            key: h.into(),
            header: h.into(),
            required: false,
            width: 10.0,
            note: String::new(),
            choices: vec![],
        };
        let (s, x) = auditor.bytes("/api/exports/login-log?who=jsj&what=fail").await;
        assert_eq!(s, 200);
        let rows = xietong_office::xlsx::read_table("l.xlsx", &x, &[col("用户名"), col("结果"), col("地址")]).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(
            rows.iter()
                .all(|r| r.get("用户名") == "jsj_lly" && r.get("结果") == "失败" && r.get("地址") == "127.0.0.1")
        );
        let (s, x) = auditor.bytes("/api/exports/audit-log?what=docking.").await;
        assert_eq!(s, 200);
        let rows = xietong_office::xlsx::read_table("a.xlsx", &x, &[col("操作"), col("SM3")]).unwrap();
        assert!(!rows.is_empty() && rows.iter().all(|r| r.get("操作").starts_with("docking.")), "the demo's dockings");
        let (s, v) = auditor.get("/api/exports/login-log?from=2026-13-01").await;
        assert!(s == 400 && v["error"].as_str().unwrap().contains("起始日期"), "{v}");
        assert_eq!(Client::login(&app, "anquan").await.bytes("/api/exports/audit-log").await.0, 403);
        // The page: the login search keeps its filters and shows the address.
        let c = reqwest::Client::builder().cookie_store(true).build().unwrap();
        common::form_login(&c, &app, "shenji", xietong_demo::DEMO_PASSWORD).await;
        let html = c.get(app.url("/audit?log=login&who=jsj&what=fail")).send().await.unwrap().text().await.unwrap();
        let table = html.split("id=\"login-log\"").nth(1).unwrap();
        assert_eq!(table.matches("127.0.0.1").count(), 2, "only jsj's two failures");
        assert!(!table.contains("登录成功"));
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_numbers_are_checked_encrypted_and_shown_only_to_who_needs_them() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        let gaoxiao = Client::login(&app, "gaoxiao").await;
        let tech = Client::login(&app, "kejiju").await;
        let expert = |id: &str| json!({"name": "华北水利水电大学教授（示例九）", "title": "教授", "disciplines": "水利工程", "fields": "大坝安全监测", "keywords": "渗流；监测", "id_number": id});
        // A typo in the check character is refused with the field named; nothing is written.
        let before = common::fingerprint(&tdb.db).await;
        let (s, v) = gaoxiao.post("/api/experts", expert("110105194912310021")).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("身份证号")), "{v}");
        assert!(v["error"].as_str().unwrap().contains("校验位"), "{v}");
        assert_eq!(common::fingerprint(&tdb.db).await, before);
        // The example number of GB 11643-1999 itself.
        let (s, v) = gaoxiao.post("/api/experts", expert("11010519491231002x")).await;
        assert_eq!(s, 201, "{v}");
        let id = v["id"].as_i64().unwrap();
        let raw: String = sqlx::Row::try_get(
            &sqlx::query("SELECT id_number FROM experts WHERE id = $1").bind(id).fetch_one(&tdb.db.pool).await.unwrap(),
            "id_number",
        )
        .unwrap();
        assert!(raw.starts_with("sm4:") && !raw.contains("1949"), "ciphertext at rest: {raw}");
        for action in ["pass_formal", "approve"] {
            let (s, v) = tech.post(&format!("/api/reviews/expert/{id}"), json!({"action": action})).await;
            assert_eq!(s, 200, "{action}: {v}");
        }
        let id_of = |list: &serde_json::Value| {
            list.as_array().unwrap().iter().find(|x| x["id"] == id).unwrap()["id_number"].as_str().unwrap().to_string()
        };
        assert_eq!(id_of(&tech.get("/api/experts").await.1), "11010519491231002X", "the 科技局 in full");
        assert_eq!(
            id_of(&gaoxiao.get("/api/experts").await.1),
            "11010519491231002X",
            "the expert's own institution in full"
        );
        assert_eq!(
            id_of(&Client::login(&app, "fqz_cj").await.get("/api/experts").await.1),
            "110105********002X",
            "leadership 脱敏"
        );
        assert_eq!(id_of(&Client::login(&app, "qiye").await.get("/api/experts").await.1), "（仅科技局可见）");
        // The Excel export follows the same rule.
        let col = |h: &str| xietong_office::table::Column {
            key: h.into(),
            header: h.into(),
            required: false,
            width: 10.0,
            note: String::new(),
            choices: vec![],
        };
        let (_, x) = Client::login(&app, "fqz_cj").await.bytes("/api/exports/docking/experts").await;
        let rows = xietong_office::xlsx::read_table("x.xlsx", &x, &[col("专家"), col("身份证号")]).unwrap();
        assert_eq!(
            rows.iter().find(|r| r.get("专家") == "华北水利水电大学教授（示例九）").unwrap().get("身份证号"),
            "110105********002X"
        );
        tdb.cleanup().await;
    });
}
