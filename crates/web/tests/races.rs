//! Concurrent conflicting requests through the real HTTP server, on SQLite and PostgreSQL: each
//! decision has exactly one outcome, the timeline and the audit log agree with the final row, no
//! request gets a 5xx, and the audit chain verifies — also with the escalation sweep running
//! beside the users.

mod common;

use std::future::Future;
use std::sync::Arc;

use common::{Client, TestApp, dt, with_demo};
use serde_json::{Value, json};
use xietong_storage::Db;

/// Monday 10:00, a working day.
const NOW: &str = "2026-11-23 10:00";
/// Requests fired at once in each race.
const N: usize = 20;

/// Fire `n` requests at once (all released together) and collect their answers.
async fn race<F, Fut>(n: usize, f: F) -> Vec<(u16, Value)>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = (u16, Value)> + Send + 'static,
{
    let gate = Arc::new(tokio::sync::Barrier::new(n));
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        let (gate, req) = (gate.clone(), f(i));
        set.spawn(async move {
            gate.wait().await;
            req.await
        });
    }
    let mut out = vec![];
    while let Some(r) = set.join_next().await {
        out.push(r.expect("request task"));
    }
    out
}

/// How many answers had each status; panics on any 5xx, naming it.
fn tally(answers: &[(u16, Value)]) -> (usize, usize) {
    for (s, v) in answers {
        assert!(*s < 500, "a racing request got {s}: {v}");
        assert!(matches!(*s, 200 | 201 | 409), "unexpected {s}: {v}");
        if *s == 409 {
            let m = v["error"].as_str().unwrap_or_default();
            assert!(!m.is_empty() && !m.is_ascii(), "409 explains itself in Chinese: {v}");
        }
    }
    let ok = answers.iter().filter(|(s, _)| *s == 200 || *s == 201).count();
    (ok, answers.len() - ok)
}

async fn count(db: &Db, sql: &str, id: i64) -> i64 {
    let r = sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).bind(id).fetch_one(&db.pool).await.unwrap();
    sqlx::Row::try_get::<i64, _>(&r, 0).unwrap()
}

async fn text(db: &Db, sql: &str, id: i64) -> Option<String> {
    let r = sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).bind(id).fetch_one(&db.pool).await.unwrap();
    sqlx::Row::try_get::<Option<String>, _>(&r, 0).unwrap()
}

async fn task_audits(db: &Db, id: i64, action: &str) -> i64 {
    let sql = format!(
        "SELECT COUNT(*) FROM audit_log WHERE entity = 'task' AND entity_id = CAST($1 AS TEXT) AND action = '{action}'"
    );
    count(db, &sql, id).await
}

async fn task_events(db: &Db, id: i64, action: &str) -> i64 {
    count(db, &format!("SELECT COUNT(*) FROM task_events WHERE task_id = $1 AND action = '{action}'"), id).await
}

fn new_task(lead: i64, doc_no: &str, deadline: &str) -> Value {
    json!({"title": "并发测试任务", "description": "多人同时办理", "source_kind": "meeting", "doc_no": doc_no,
           "source_title": "区政府常务会议纪要", "source_date": "2026-11-20", "lead_unit_id": lead, "co_unit_ids": [],
           "report_cycle": "weekly", "deadline": deadline, "assign_now": true})
}

/// A task of 建设和交通局, assigned (and, with `to`, carried on to that state).
async fn task_in(app: &TestApp, sup: &Client, lly: &Client, doc_no: &str, to: &str) -> i64 {
    let jsj = sup.unit_id("jsj").await;
    let (s, v) = sup.post("/api/tasks", new_task(jsj, doc_no, "2026-12-18")).await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    if to == "assigned" {
        return id;
    }
    assert_eq!(lly.act(id, "receive", json!({})).await.0, 200);
    let (_, people) = lly.get(&format!("/api/people?unit_id={jsj}")).await;
    let person = people[0]["id"].as_i64().unwrap();
    let sub = json!({"subtasks": [{"title": "制定方案", "dept_unit_id": jsj, "person_id": person, "deadline": "2026-12-11"}]});
    let (s, v) = lly.act(id, "decompose", sub).await;
    assert_eq!(s, 200, "{v}");
    if to == "pending_review" {
        assert_eq!(lly.act(id, "request_completion", json!({"text": "已完成"})).await.0, 200);
    }
    let _ = app;
    id
}

async fn verify(db: &Db) {
    let v = db.verify_audit().await.unwrap();
    assert!(v.is_ok(), "audit chain: {v:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn approve_and_reject_at_once_leave_one_outcome() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Arc::new(Client::login(&app, "duchaju").await);
        let lly = Client::login(&app, "jsj_lly").await;
        let id = task_in(&app, &sup, &lly, "并发〔2026〕1号", "pending_review").await;
        let answers = race(N, |i| {
            let sup = sup.clone();
            async move {
                if i % 2 == 0 {
                    sup.act(id, "approve", json!({"comment": "同意销号"})).await
                } else {
                    sup.act(id, "reject", json!({"comment": "台账不全", "new_deadline": "2026-12-25"})).await
                }
            }
        })
        .await;
        assert_eq!(tally(&answers), (1, N - 1), "exactly one decision");
        let (_, v) = sup.get(&format!("/api/tasks/{id}")).await;
        let approved = v["task"]["status"] == "closed";
        let (approves, rejects) = (task_events(&tdb.db, id, "approve").await, task_events(&tdb.db, id, "reject").await);
        assert_eq!(approves + rejects, 1, "one decision on the timeline");
        assert_eq!(
            (task_audits(&tdb.db, id, "task.approve").await, task_audits(&tdb.db, id, "task.reject").await),
            (approves, rejects)
        );
        if approved {
            assert_eq!((approves, v["task"]["round"].as_i64()), (1, Some(1)));
            assert!(!v["task"]["closed_at"].is_null());
        } else {
            assert_eq!(v["task"]["status"], "in_progress");
            assert_eq!((rejects, v["task"]["round"].as_i64()), (1, Some(2)), "one 退回 costs one round");
            assert!(v["task"]["closed_at"].is_null(), "a task sent back is not closed");
        }
        // A form loaded before the decision, sent now with the version it showed, is refused.
        let stale = v["task"]["version"].as_i64().unwrap() - 1;
        let (s, e) = sup.act(id, "urge", json!({"comment": "请抓紧", "version": stale})).await;
        assert_eq!(s, 409, "{e}");
        assert!(e["error"].as_str().unwrap().contains("已被他人处理，当前状态"), "{e}");
        verify(&tdb.db).await;
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn urges_at_once_stop_at_the_weekly_cap() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Arc::new(Client::login(&app, "duchaju").await);
        let lly = Client::login(&app, "jsj_lly").await;
        let id = task_in(&app, &sup, &lly, "并发〔2026〕2号", "in_progress").await;
        let answers = race(N, |_| {
            let sup = sup.clone();
            async move { sup.act(id, "urge", json!({"comment": "请抓紧办理"})).await }
        })
        .await;
        assert_eq!(tally(&answers), (3, N - 3), "the weekly cap is 3");
        assert!(answers.iter().any(|(s, v)| *s == 409 && v["error"].as_str().unwrap().contains("已达上限")));
        let (_, v) = sup.get(&format!("/api/tasks/{id}")).await;
        assert_eq!(v["urge_manual_this_week"], 3);
        assert_eq!(count(&tdb.db, "SELECT COUNT(*) FROM urges WHERE task_id = $1 AND manual = 1", id).await, 3);
        assert_eq!(task_events(&tdb.db, id, "urge").await, 3);
        assert_eq!(task_audits(&tdb.db, id, "task.urge").await, 3);
        verify(&tdb.db).await;
        tdb.cleanup().await;
    });
}

/// Reports at once on a task whose pace points past its deadline: every report is kept, and the
/// 预计逾期提醒 is sent once, with one timeline entry, one message and one audit entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reports_at_once_send_one_forecast_reminder() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let lly = Client::login(&app, "jsj_lly").await;
        let id = task_in(&app, &sup, &lly, "并发〔2026〕9号", "in_progress").await;
        assert_eq!(lly.act(id, "report", json!({"progress": 10, "text": "启动"})).await.0, 200);
        // A week later, 15 %: 5 % a week leaves 17 weeks for 85 %, far past 12-18.
        app.set_now(dt("2026-11-30 10:00"));
        let lly = Arc::new(Client::login(&app, "jsj_lly").await);
        let answers = race(N, |i| {
            let lly = lly.clone();
            async move { lly.act(id, "report", json!({"progress": 15, "text": format!("第{i}次汇报")})).await }
        })
        .await;
        assert_eq!(tally(&answers), (N, 0));
        assert_eq!(task_events(&tdb.db, id, "report").await, N as i64 + 1);
        let fired = "SELECT COUNT(*) FROM escalations WHERE task_id = $1 AND step = 'forecast_late'";
        assert_eq!(count(&tdb.db, fired, id).await, 1);
        assert_eq!(task_events(&tdb.db, id, "escalate:forecast_late").await, 1);
        let sent = "SELECT COUNT(*) FROM notifications WHERE task_id = $1 AND kind = 'forecast_late'";
        assert_eq!(count(&tdb.db, sent, id).await, 1);
        assert_eq!(task_audits(&tdb.db, id, "task.escalate").await, 1);
        verify(&tdb.db).await;
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn receipts_and_extension_requests_at_once_count_once() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let lly = Arc::new(Client::login(&app, "jsj_lly").await);
        let id = task_in(&app, &sup, &lly, "并发〔2026〕3号", "assigned").await;
        let answers = race(N, |_| {
            let lly = lly.clone();
            async move { lly.act(id, "receive", json!({"comment": "收到"})).await }
        })
        .await;
        assert_eq!(tally(&answers), (1, N - 1));
        assert_eq!((task_events(&tdb.db, id, "receive").await, task_audits(&tdb.db, id, "task.receive").await), (1, 1));

        let other = task_in(&app, &sup, &lly, "并发〔2026〕4号", "in_progress").await;
        let answers = race(N, |i| {
            let lly = lly.clone();
            async move {
                let day = 21 + (i % 3);
                lly.act(
                    other,
                    "request_extension",
                    json!({"reason": "征地手续未完成", "new_deadline": format!("2026-12-{day}")}),
                )
                .await
            }
        })
        .await;
        assert_eq!(tally(&answers), (1, N - 1), "one extension request in progress at a time");
        assert_eq!(count(&tdb.db, "SELECT COUNT(*) FROM extensions WHERE task_id = $1", other).await, 1);
        assert_eq!(task_events(&tdb.db, other, "request_extension").await, 1);
        assert_eq!(task_audits(&tdb.db, other, "task.request_extension").await, 1);
        verify(&tdb.db).await;
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn docking_moves_reviews_and_ledger_moves_at_once_have_one_effect() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let tech = Arc::new(Client::login(&app, "kejiju").await);

        // A docking: everyone moves it to the next stage at once.
        let (_, dockings) = tech.get("/api/dockings?stage=recommended").await;
        let d = dockings.as_array().unwrap()[0]["id"].as_i64().unwrap();
        let before = count(&tdb.db, "SELECT COUNT(*) FROM docking_events WHERE docking_id = $1", d).await;
        let answers = race(N, |i| {
            let tech = tech.clone();
            async move {
                tech.post(&format!("/api/dockings/{d}/move"), json!({"to": "contacting", "note": format!("第{i}次")}))
                    .await
            }
        })
        .await;
        assert_eq!(tally(&answers), (1, N - 1));
        let stage = text(&tdb.db, "SELECT stage FROM dockings WHERE id = $1", d).await.unwrap();
        assert_eq!(count(&tdb.db, "SELECT COUNT(*) FROM docking_events WHERE docking_id = $1", d).await, before + 1);
        let last =
            text(&tdb.db, "SELECT to_stage FROM docking_events WHERE docking_id = $1 ORDER BY id DESC LIMIT 1", d)
                .await
                .unwrap();
        assert_eq!(last, stage, "the timeline ends where the docking is");

        // One technical contract registered by 20 requests at once.
        let contract = json!({"contract_no": "2026410103009999", "kind": "技术开发", "buyer": "帝益肥", "seller": "华北水利水电大学",
            "amount_wan": 88.5, "technical_income_wan": 80, "signed_on": "2026-11-20"});
        let answers = race(N, |_| {
            let (tech, contract) = (tech.clone(), contract.clone());
            async move { tech.post(&format!("/api/dockings/{d}/contracts"), contract).await }
        })
        .await;
        // A number already registered is the user's input at fault: 400 naming the field, whoever won.
        assert_eq!(answers.iter().filter(|(s, _)| *s == 201).count(), 1);
        assert!(answers.iter().all(|(s, v)| *s == 201 || (*s == 400 && v["field"] == "合同登记编号")), "{answers:?}");
        assert_eq!(count(&tdb.db, "SELECT COUNT(*) FROM contracts WHERE docking_id = $1", d).await, 1);
        let registered = count(&tdb.db, "SELECT COUNT(*) FROM audit_log WHERE action = 'contract.register' AND after LIKE '%2026410103009999%' AND $1 > 0", 1).await;
        assert_eq!(registered, 1);

        // A submitted library record: 20 形式审核 passes at once.
        let (_, queue) = tech.get("/api/reviews").await;
        let item = queue
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["review"]["status"] == "submitted")
            .expect("a submitted record in the demo")
            .clone();
        let (lib, rid) = (item["library"].as_str().unwrap().to_string(), item["id"].as_i64().unwrap());
        let answers = race(N, |_| {
            let (tech, lib) = (tech.clone(), lib.clone());
            async move { tech.post(&format!("/api/reviews/{lib}/{rid}"), json!({"action": "pass_formal"})).await }
        })
        .await;
        assert_eq!(tally(&answers), (1, N - 1));
        let sql = format!(
            "SELECT COUNT(*) FROM review_events WHERE library = '{lib}' AND record_id = $1 AND action = 'pass_formal'"
        );
        assert_eq!(count(&tdb.db, &sql, rid).await, 1);

        // A problem in the 问题台账: half escalate it, half resolve it.
        let sup = Client::login(&app, "duchaju").await;
        let lead = Arc::new(Client::login(&app, "mzz_lly").await);
        let body = json!({"title": "防汛物资储备用地协调", "description": "物资仓库选址涉及两个单位", "lead_unit_id": sup.unit_id("mzz").await, "unit_ids": []});
        let (s, v) = sup.post("/api/problems", body).await;
        assert_eq!(s, 201, "{v}");
        let p = v["problem"]["id"].as_i64().unwrap();
        let meeting = json!({"kind": "协调会", "held_at": "2026-11-23 09:00", "place": "镇政府", "attendees": "镇长", "decisions": "3日内确定选址"});
        assert_eq!(lead.post(&format!("/api/problems/{p}/meetings"), meeting).await.0, 201);
        let answers = race(N, |i| {
            let lead = lead.clone();
            async move {
                let action = if i % 2 == 0 { "escalate" } else { "resolve" };
                lead.post(&format!("/api/problems/{p}/actions/{action}"), json!({"comment": "并发测试说明"})).await
            }
        })
        .await;
        assert_eq!(tally(&answers), (1, N - 1));
        let status = text(&tdb.db, "SELECT status FROM problems WHERE id = $1", p).await.unwrap();
        let moves = count(
            &tdb.db,
            "SELECT COUNT(*) FROM problem_events WHERE problem_id = $1 AND action IN ('escalate', 'resolve')",
            p,
        )
        .await;
        assert_eq!(moves, 1);
        let last =
            text(&tdb.db, "SELECT to_status FROM problem_events WHERE problem_id = $1 ORDER BY id DESC LIMIT 1", p)
                .await
                .unwrap();
        assert_eq!(last, status);
        verify(&tdb.db).await;
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_month_is_published_once() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-12-01 09:30")).await else { continue };
        let sup = Arc::new(Client::login(&app, "duchaju").await);
        let (_, cats) = sup.get("/api/categories").await;
        let cat = cats.as_array().unwrap().iter().find(|c| c["name"] == "项目建设").unwrap()["id"].as_i64().unwrap();
        let published = "SELECT COUNT(*) FROM audit_log WHERE action = 'ranking.publish' AND $1 > 0";
        let before = count(&tdb.db, published, 1).await;
        let answers = race(N, |_| {
            let sup = sup.clone();
            async move { sup.post("/api/rankings", json!({"category_id": cat, "month": "2026-11"})).await }
        })
        .await;
        assert_eq!(tally(&answers), (1, N - 1));
        assert_eq!(
            count(&tdb.db, "SELECT COUNT(*) FROM rankings WHERE category_id = $1 AND month = '2026-11'", cat).await,
            1
        );
        assert_eq!(count(&tdb.db, published, 1).await, before + 1);
        verify(&tdb.db).await;
        tdb.cleanup().await;
    });
}

/// The sweep runs in a loop while users act on the same overdue tasks: no deadlock, no 5xx, no
/// sweep error, each step fired once with one timeline entry, and no due task left unchecked.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_sweep_beside_the_users() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Arc::new(Client::login(&app, "duchaju").await);
        let mut ids = vec![];
        for k in 0..12 {
            let jsj = sup.unit_id("jsj").await;
            let (s, v) = sup.post("/api/tasks", new_task(jsj, &format!("扫描〔2026〕{k}号"), "2026-11-25")).await;
            assert_eq!(s, 201, "{v}");
            ids.push(v["id"].as_i64().unwrap());
        }
        // Two weeks later every one of them is overdue by more than the 通报预警 threshold.
        app.set_now(dt("2026-12-09 10:00"));
        // Sessions time out over two weeks: sign in again.
        let sup = Arc::new(Client::login(&app, "duchaju").await);
        let lly = Arc::new(Client::login(&app, "jsj_lly").await);
        let leader = Arc::new(Client::login(&app, "quzhang").await);
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sweeper = {
            let (db, state, stop) = (tdb.db.clone(), app.state.clone(), stop.clone());
            tokio::spawn(async move {
                let mut rounds = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let snap = state.snapshot();
                    db.sweep(&snap.ctx(), 3).await.expect("the sweep never fails beside users");
                    rounds += 1;
                }
                rounds
            })
        };
        let ids = Arc::new(ids);
        let answers = race(ids.len() * 3, |i| {
            let (sup, lly, leader, ids) = (sup.clone(), lly.clone(), leader.clone(), ids.clone());
            async move {
                let id = ids[i / 3];
                match i % 3 {
                    0 => lly.act(id, "receive", json!({})).await,
                    1 => sup.act(id, "urge", json!({"comment": "请立即办理"})).await,
                    _ => leader.act(id, "instruct", json!({"text": "限期整改"})).await,
                }
            }
        })
        .await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let rounds = sweeper.await.expect("sweep loop");
        assert!(rounds > 0);
        let (ok, _) = tally(&answers);
        assert_eq!(ok, answers.len(), "different actions on different tasks all succeed");
        // Whatever the sweep skipped while users held a task is found by the next one.
        let snap = app.state.snapshot();
        tdb.db.sweep(&snap.ctx(), 100).await.unwrap();
        for id in ids.iter().copied() {
            let steps = count(&tdb.db, "SELECT COUNT(*) FROM escalations WHERE task_id = $1", id).await;
            let events =
                count(&tdb.db, "SELECT COUNT(*) FROM task_events WHERE task_id = $1 AND action LIKE 'escalate:%'", id)
                    .await;
            let audits = task_audits(&tdb.db, id, "task.escalate").await;
            assert_eq!(
                (steps, events, audits),
                (2, 2, 2),
                "催办 and 通报预警 once each for task {id}; no 提醒 once overdue"
            );
            let reminders =
                count(&tdb.db, "SELECT COUNT(*) FROM notifications WHERE task_id = $1 AND kind = 'remind'", id).await;
            assert_eq!(reminders, 0, "no 将于…到期 for a task already overdue");
            let next = text(&tdb.db, "SELECT next_check_at FROM tasks WHERE id = $1", id).await;
            assert!(next.is_some(), "the 问题台账 step is still ahead for task {id}");
            assert_eq!(task_events(&tdb.db, id, "receive").await, 1);
        }
        verify(&tdb.db).await;
        tdb.cleanup().await;
    });
}

/// Wrong passwords tried in parallel each count: the lockout cannot be outrun; and overlapping
/// 督查统筹 merges fired at once merge each inspection once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_lock_and_merges_merge_once() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let http = reqwest::Client::new();
        let url = app.url("/api/session");
        let answers = race(N, |_| {
            let (http, url) = (http.clone(), url.clone());
            async move {
                let r = http
                    .post(url)
                    .json(&json!({"username": "jyj_lly", "password": "Wrong@2026"}))
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
            }
        })
        .await;
        assert!(answers.iter().all(|(s, _)| *s == 403), "{answers:?}");
        let r = http
            .post(app.url("/api/session"))
            .json(&json!({"username": "jyj_lly", "password": xietong_demo::DEMO_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "20 wrong passwords at once lock the name at this address (5 allowed)");
        assert!(r.text().await.unwrap().contains("账号已锁定"));
        // Counted exactly: the five before the pair locked reached the account's counter (a lost
        // update would leave fewer), the fifteen let in meanwhile found the pair locked.
        let failures = count(
            &tdb.db,
            "SELECT failures FROM login_failures WHERE username = 'jyj_lly' AND address = '*' AND $1 > 0",
            1,
        )
        .await;
        assert_eq!(failures, 5);
        let logged = count(&tdb.db, "SELECT COUNT(*) FROM login_log WHERE username = 'jyj_lly' AND ok = $1", 0).await;
        assert_eq!(logged, N as i64 + 1, "every attempt is in the 登录日志");

        let sup = Arc::new(Client::login(&app, "duchaju").await);
        let (_, o) = sup.get("/api/inspections").await;
        let ids = o["proposals"][0]["inspection_ids"].clone();
        let answers = race(N, |i| {
            let (sup, ids) = (sup.clone(), ids.clone());
            async move {
                sup.post(
                    "/api/inspections/merges",
                    json!({"inspection_ids": ids, "name": format!("联合督查{i}"), "reason": "能合尽合"}),
                )
                .await
            }
        })
        .await;
        assert_eq!(tally(&answers), (1, N - 1));
        let merges = count(&tdb.db, "SELECT COUNT(*) FROM inspection_merges WHERE $1 > 0", 1).await;
        let audits =
            count(&tdb.db, "SELECT COUNT(*) FROM audit_log WHERE action = 'inspection.merge' AND $1 > 0", 1).await;
        assert_eq!((merges, audits), (1, 1));
        verify(&tdb.db).await;
        tdb.cleanup().await;
    });
}
