//! 消息中心 and 待办 (issue 13, item 4), on SQLite and PostgreSQL: every message in time order with
//! read state per account, the header's unread count, mark-read under concurrency, messages for
//! review results and docking moves reaching exactly the parties (a confidential 难题's title no
//! one else), and every role's 待办 listing exactly what waits for it.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Client, TestApp, dt, with_demo};
use serde_json::{Value, json};

const NOW: &str = "2026-11-23 10:00";

fn new_task(title: &str, lead: i64, doc_no: &str, deadline: &str, assign: bool) -> Value {
    json!({"title": title, "description": "消息与待办测试", "source_kind": "meeting", "doc_no": doc_no,
           "source_title": "区政府常务会议纪要", "source_date": "2026-11-20", "lead_unit_id": lead,
           "report_cycle": "weekly", "deadline": deadline, "assign_now": assign})
}

/// Every active account, signed in through the storage layer (the per-address login limit of the
/// HTTP route would stop 62 sign-ins in a minute): username → a bearer-token client.
async fn everyone(tdb: &common::TestDb, app: &TestApp) -> BTreeMap<String, Client> {
    let rows = sqlx::query("SELECT username FROM users WHERE active = 1 ORDER BY username")
        .fetch_all(&tdb.db.pool)
        .await
        .unwrap();
    let now = *app.now.read().unwrap();
    let mut out = BTreeMap::new();
    for r in rows {
        let name: String = sqlx::Row::try_get(&r, "username").unwrap();
        let s = tdb.db.login(&name, xietong_demo::DEMO_PASSWORD, now, app.state.policy, "127.0.0.1").await.unwrap();
        out.insert(name, Client { http: reqwest::Client::new(), token: s.token, base: app.base.clone() });
    }
    out
}

async fn inbox(c: &Client, query: &str) -> Value {
    let (s, v) = c.get(&format!("/api/inbox{query}")).await;
    assert_eq!(s, 200, "{v}");
    v
}

fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().unwrap().clone()
}

/// A page as the browser gets it (bearer sessions are accepted by pages too).
async fn page(c: &Client, path: &str) -> (u16, String) {
    let r = c.http.get(format!("{}{path}", c.base)).bearer_auth(&c.token).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The unread count in a page's header, if shown.
fn header_count(html: &str) -> Option<i64> {
    let link = html.split("id=\"inbox-link\"").nth(1).expect("every page has the inbox link");
    let link = link.split("</a>").next().unwrap();
    link.split("class=\"count\"").nth(1).map(|b| {
        let after = b.split('>').nth(1).unwrap();
        after.split('<').next().unwrap().trim().parse().unwrap()
    })
}

async fn notification_rows(db: &xietong_storage::Db) -> i64 {
    let r = sqlx::query("SELECT COUNT(*) AS n FROM notifications").fetch_one(&db.pool).await.unwrap();
    sqlx::Row::try_get(&r, "n").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_lists_opens_and_counts_messages_per_account() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let slj = sup.unit_id("slj").await;
        let dcj = sup.unit_id("dcj").await;
        let lly = Client::login(&app, "slj_lly").await;

        // Newest first, every message unread at first, the header says how many.
        let first = inbox(&lly, "?page_size=500").await;
        let list = items(&first);
        assert!(!list.is_empty(), "the demo's tasks of 水利局 sent messages");
        assert_eq!(first["unread"], first["total"]);
        let times: Vec<&str> = list.iter().map(|m| m["created_at"].as_str().unwrap()).collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first: {times:?}");
        let (s, html) = page(&lly, "/todo").await;
        assert_eq!(s, 200);
        assert_eq!(header_count(&html), first["unread"].as_i64());

        // 交办 and 催办 reach the lead unit, linked to the task.
        let (s, v) =
            sup.post("/api/tasks", new_task("消息测试：河道清淤", slj, "消息〔2026〕1号", "2026-12-18", true)).await;
        assert_eq!(s, 201, "{v}");
        let task = v["id"].as_i64().unwrap();
        let (s, v) = sup.act(task, "urge", json!({"comment": "请加快进度"})).await;
        assert_eq!(s, 200, "{v}");
        let now = inbox(&lly, "").await;
        let newest = items(&now);
        assert_eq!(now["unread"].as_i64().unwrap(), first["unread"].as_i64().unwrap() + 2);
        assert_eq!(newest[0]["kind"], "urge", "{now}");
        assert!(newest[0]["text"].as_str().unwrap().contains("督查局催办「消息测试：河道清淤」：请加快进度"));
        assert_eq!(newest[1]["kind"], "assign");
        for m in &newest[..2] {
            assert_eq!(m["link"], format!("/tasks/{task}"));
            assert!(m["read_at"].is_null());
        }
        let urge = newest[0]["id"].as_i64().unwrap();

        // Twenty opens of one message at once: all answered, one of them marked it, one row.
        let path = format!("/api/inbox/{urge}/read");
        let opens = (0..20).map(|_| lly.post(&path, Value::Null));
        let answers = futures_util::future::join_all(opens).await;
        assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
        assert_eq!(answers.iter().filter(|(_, v)| v["newly_read"] == true).count(), 1, "{answers:?}");
        assert!(answers.iter().all(|(_, v)| v["link"] == format!("/tasks/{task}")));
        let r = sqlx::query("SELECT COUNT(*) AS n FROM notification_reads WHERE notification_id = $1")
            .bind(urge)
            .fetch_one(&tdb.db.pool)
            .await
            .unwrap();
        assert_eq!(sqlx::Row::try_get::<i64, _>(&r, "n").unwrap(), 1);
        let after = inbox(&lly, "").await;
        assert_eq!(after["unread"].as_i64().unwrap(), now["unread"].as_i64().unwrap() - 1);
        assert!(items(&after)[0]["read_at"].is_string());
        let (_, html) = page(&lly, "/inbox").await;
        assert_eq!(header_count(&html), after["unread"].as_i64());
        assert!(html.contains(&format!("data-id=\"{urge}\"")) && html.contains("已读"));

        // Filters and pages.
        let urges = inbox(&lly, "?kind=urge&page_size=500").await;
        assert!(items(&urges).iter().all(|m| m["kind"] == "urge") && !items(&urges).is_empty());
        let unread = inbox(&lly, "?unread=true&page_size=500").await;
        assert_eq!(unread["total"], after["unread"]);
        assert!(items(&unread).iter().all(|m| m["read_at"].is_null()));
        assert!(items(&unread).iter().all(|m| m["id"] != urge));
        let p1 = inbox(&lly, "?page_size=1&page=1").await;
        let p2 = inbox(&lly, "?page_size=1&page=2").await;
        assert_eq!((items(&p1).len(), items(&p2).len()), (1, 1));
        assert_eq!(p1["total"], after["total"]);
        assert_eq!(items(&p1)[0]["id"], items(&after)[0]["id"]);
        assert_eq!(items(&p2)[0]["id"], items(&after)[1]["id"]);
        let (s, v) = lly.get("/api/inbox?kind=nonsense").await;
        assert_eq!((s, v["field"].as_str()), (400, Some("kind")), "{v}");
        assert!(v["error"].as_str().unwrap().contains("不是消息类别"));
        let (s, v) = lly.get("/api/inbox?page=0").await;
        assert_eq!((s, v["field"].as_str()), (400, Some("page")), "{v}");

        // Opening on the page: marked read, then on to the record.
        let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let assign = items(&after)[1]["id"].as_i64().unwrap();
        let r = no_redirect.get(app.url(&format!("/inbox/{assign}"))).bearer_auth(&lly.token).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], format!("/tasks/{task}"));
        // Someone else's message is not there for them.
        let jsj_lly = Client::login(&app, "jsj_lly").await;
        let (s, v) = jsj_lly.post(&format!("/api/inbox/{assign}/read"), Value::Null).await;
        assert_eq!(s, 404, "{v}");
        let (s, html) = page(&jsj_lly, &format!("/inbox/{assign}")).await;
        assert!(s == 404 && html.contains("不是发给您的"), "{s}");

        // 全部标为已读 up to the newest message shown: one that arrives after it stays unread.
        let shown = inbox(&lly, "?page_size=500").await;
        let up_to = items(&shown).iter().map(|m| m["id"].as_i64().unwrap()).max().unwrap();
        let (s, _) = sup.act(task, "urge", json!({"comment": "再次催办"})).await;
        assert_eq!(s, 200);
        let (s, v) = lly.post("/api/inbox/read-all", json!({"up_to": up_to})).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["marked"], shown["unread"]);
        assert_eq!(v["unread"], 1, "the 催办 sent after the page was shown: {v}");
        let (s, v) = lly.post("/api/inbox/read-all", json!({})).await;
        assert_eq!((s, v["marked"].as_i64(), v["unread"].as_i64()), (200, Some(1), Some(0)), "{v}");
        let (_, html) = page(&lly, "/todo").await;
        assert_eq!(header_count(&html), None, "nothing unread, no count");

        // A message to a unit is read by each of its people on their own; the 安全/审计管理员 of the
        // same unit see no business messages at all.
        let shuji = Client::login(&app, "shuji").await;
        let visit =
            json!({"unit_id": dcj, "visited_on": "2026-11-20", "place": "督查局", "findings": "台账更新不及时"});
        let (s, v) = shuji.post("/api/visits", visit).await;
        assert_eq!(s, 201, "{v}");
        let mut ids = BTreeMap::new();
        for name in ["duchaju", "duchazy", "admin"] {
            let c = Client::login(&app, name).await;
            let v = inbox(&c, "?kind=visit").await;
            let m = items(&v).into_iter().find(|m| m["text"].as_str().unwrap().contains("台账更新不及时"));
            ids.insert(name, (c, m.unwrap_or_else(|| panic!("{name} has the visit"))["id"].as_i64().unwrap()));
        }
        let (c, id) = &ids["duchaju"];
        let before = inbox(c, "").await["unread"].as_i64().unwrap();
        let r = no_redirect.get(app.url(&format!("/inbox/{id}"))).bearer_auth(&c.token).send().await.unwrap();
        assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, "/inbox"));
        assert_eq!(inbox(c, "").await["unread"].as_i64().unwrap(), before - 1);
        let (zy, _) = &ids["duchazy"];
        let v = inbox(zy, "?kind=visit").await;
        assert!(items(&v).iter().any(|m| m["id"] == *id && m["read_at"].is_null()), "still unread for 督查专员");
        for name in ["anquan", "shenji"] {
            let c = Client::login(&app, name).await;
            let v = inbox(&c, "?page_size=500").await;
            assert!(items(&v).iter().all(|m| m["kind"] == "security"), "{name}: {v}");
            let (s, html) = page(&c, "/inbox").await;
            assert!(s == 200 && html.contains("消息中心"), "{name}");
            let (s, _) = c.post(&format!("/api/inbox/{id}/read"), Value::Null).await;
            assert_eq!(s, 404, "{name} may not open the unit's message");
        }

        // A narrower 数据范围 hides the messages about tasks the reader no longer sees.
        let anquan = Client::login(&app, "anquan").await;
        let (s, v) = anquan.put("/api/data-scopes/liaison", json!({"kind": "self", "unit_ids": []})).await;
        assert_eq!(s, 204, "{v}");
        let v = inbox(&lly, "?page_size=500").await;
        assert!(items(&v).iter().all(|m| m["task_id"].is_null()), "{v}");
        let (s, _) = lly.post(&format!("/api/inbox/{urge}/read"), Value::Null).await;
        assert_eq!(s, 404);

        // Enterprise and institution accounts have an inbox too, with the count in the header.
        for name in ["qiye", "gaoxiao"] {
            let c = Client::login(&app, name).await;
            let (s, html) = page(&c, "/inbox").await;
            assert!(s == 200 && html.contains("id=\"inbox-link\""), "{name}");
        }
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_results_and_docking_moves_reach_exactly_the_parties() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let qiye = Client::login(&app, "qiye").await;
        let tech = Client::login(&app, "kejiju").await;
        let gaoxiao = Client::login(&app, "gaoxiao").await;
        let secret = "保密难题：盾构刀盘耐磨层激光熔覆";
        let problem = json!({"title": secret, "description": "盾构机刀盘耐磨层磨损快，需要激光熔覆耐磨涂层工艺，寿命提高一倍。",
            "keywords": "激光熔覆;耐磨", "budget_wan": 80, "cooperation_mode": "合作开发", "confidential": true});
        let (s, v) = qiye.post("/api/tech-problems", problem.clone()).await;
        assert_eq!(s, 201, "{v}");
        let id = v["id"].as_i64().unwrap();
        let newest = |v: &Value| items(v).first().cloned().unwrap_or(Value::Null);
        // The 科技局 hears of the submission.
        let m = newest(&inbox(&tech, "?kind=submission").await);
        assert!(m["text"].as_str().unwrap().contains(secret), "{m}");
        assert_eq!(m["link"], format!("/docking/problems/{id}"));

        // Review results go to the submitter: a return with its reason, then 形式审核, then 发布.
        let review = |action: &str, reason: &str| {
            let (tech, path) = (&tech, format!("/api/reviews/problem/{id}"));
            let body = json!({"action": action, "reason": reason});
            async move { tech.post(&path, body).await }
        };
        let (s, v) = review("return", "请补充现有刀盘材料牌号").await;
        assert_eq!(s, 200, "{v}");
        let m = newest(&inbox(&qiye, "?kind=review").await);
        assert!(m["text"].as_str().unwrap().contains("被退回：请补充现有刀盘材料牌号"), "{m}");
        assert_eq!(m["link"], format!("/docking/problems/{id}"));
        let (s, v) = qiye.put(&format!("/api/tech-problems/{id}"), problem.clone()).await;
        assert_eq!(s, 201, "{v}");
        assert!(newest(&inbox(&tech, "?kind=submission").await)["text"].as_str().unwrap().contains("修改后重新提交"));
        for (action, says) in [("pass_formal", "已通过形式审核"), ("approve", "已审核通过并发布")] {
            let (s, v) = review(action, "").await;
            assert_eq!(s, 200, "{v}");
            let m = newest(&inbox(&qiye, "?kind=review").await);
            assert!(m["text"].as_str().unwrap().contains(says), "{action}: {m}");
        }
        // A refused step sends nothing.
        let rows = notification_rows(&tdb.db).await;
        let (s, _) = review("approve", "").await;
        assert_eq!(s, 409);
        assert_eq!(notification_rows(&tdb.db).await, rows);
        let theirs = inbox(&gaoxiao, "?kind=review&page_size=500").await;
        assert!(items(&theirs).iter().all(|m| m["link"] != format!("/docking/problems/{id}")), "{theirs}");

        // A docking on the confidential problem with the institution's expert: every move reaches
        // the enterprise, the institution and the 科技局.
        let (_, experts) = tech.get("/api/experts").await;
        let expert = experts
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["institution_name"] == "华北水利水电大学" && x["review"]["status"] == "published")
            .expect("a published expert of the institution")["id"]
            .as_i64()
            .unwrap();
        let (s, v) = tech.post("/api/dockings", json!({"problem_id": id, "expert_id": expert})).await;
        assert_eq!(s, 201, "{v}");
        let d = v["id"].as_i64().unwrap();
        for c in [&qiye, &gaoxiao, &tech] {
            let m = newest(&inbox(c, "?kind=docking").await);
            assert!(m["text"].as_str().unwrap().contains("新对接") && m["text"].as_str().unwrap().contains(secret));
            assert_eq!(m["link"], format!("/docking/dockings/{d}"));
        }
        let rows = notification_rows(&tdb.db).await;
        let (s, _) = tech.post(&format!("/api/dockings/{d}/move"), json!({"to": "negotiating"})).await;
        assert_eq!(s, 409, "no skipping");
        assert_eq!(notification_rows(&tdb.db).await, rows, "a move that did not happen sends nothing");
        // Ten moves to the next stage at once: one happens, one message to each party.
        let path = format!("/api/dockings/{d}/move");
        let moves = (0..10).map(|_| tech.post(&path, json!({"to": "contacting"})));
        let answers = futures_util::future::join_all(moves).await;
        assert_eq!(answers.iter().filter(|(s, _)| *s == 200).count(), 1, "{answers:?}");
        assert!(answers.iter().all(|(s, _)| *s == 200 || *s == 409), "{answers:?}");
        assert_eq!(notification_rows(&tdb.db).await, rows + 3);
        for c in [&qiye, &gaoxiao, &tech] {
            let v = inbox(c, "?kind=docking&page_size=500").await;
            let moved: Vec<_> = items(&v)
                .into_iter()
                .filter(|m| {
                    m["link"] == format!("/docking/dockings/{d}")
                        && m["text"].as_str().unwrap().contains("进入「意向沟通」")
                })
                .collect();
            assert_eq!(moved.len(), 1, "{v}");
        }
        // The expert's consent is news for the enterprise.
        let (s, v) = gaoxiao.post(&format!("/api/dockings/{d}/share-contact"), Value::Null).await;
        assert_eq!(s, 204, "{v}");
        let m = newest(&inbox(&qiye, "?kind=docking").await);
        assert!(m["text"].as_str().unwrap().contains("专家已同意"), "{m}");
        let (s, _) = gaoxiao.post(&format!("/api/dockings/{d}/share-contact"), Value::Null).await;
        assert_eq!(s, 409, "once is enough");

        // Nobody else reads the confidential title in a message (every account's whole inbox).
        let readers: BTreeSet<&str> = ["kejiju", "qiye", "gaoxiao"].into();
        for (name, c) in everyone(&tdb, &app).await {
            let v = inbox(&c, "?page_size=500").await;
            let saw = items(&v).iter().any(|m| m["text"].as_str().unwrap().contains("盾构刀盘"));
            assert_eq!(saw, readers.contains(name.as_str()), "{name}");
            if !readers.contains(name.as_str()) {
                assert!(items(&v).iter().all(|m| m["kind"] != "docking" && m["kind"] != "review"), "{name}: {v}");
            }
        }
        tdb.cleanup().await;
    });
}

/// What is waiting for one account: ("task" or the record kind, title, what is expected).
async fn waiting(c: &Client) -> Vec<(String, String, String)> {
    let (s, tasks) = c.get("/api/todo").await;
    assert_eq!(s, 200, "{tasks}");
    let (s, records) = c.get("/api/todo/records").await;
    assert_eq!(s, 200, "{records}");
    let mut out: Vec<(String, String, String)> = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| ("task".into(), t["task"]["title"].as_str().unwrap().into(), t["what"].as_str().unwrap().into()))
        .collect();
    out.extend(records.as_array().unwrap().iter().map(|r| {
        (r["kind"].as_str().unwrap().into(), r["title"].as_str().unwrap().into(), r["what"].as_str().unwrap().into())
    }));
    out
}

fn problem(title: &str) -> Value {
    json!({"title": title, "description": "起重机主梁焊缝疲劳裂纹频发，需要焊接工艺改进与寿命评估方法。",
           "keywords": "焊接;疲劳", "budget_wan": 50, "cooperation_mode": "合作开发"})
}

async fn submit_problem(app: &TestApp, who: &str, body: Value) -> i64 {
    let (s, v) = Client::login(app, who).await.post("/api/tech-problems", body).await;
    assert_eq!(s, 201, "{v}");
    v["id"].as_i64().unwrap()
}

async fn review_step(tech: &Client, lib: &str, id: i64, action: &str) {
    let (s, v) =
        tech.post(&format!("/api/reviews/{lib}/{id}"), json!({"action": action, "reason": "请补充材料"})).await;
    assert_eq!(s, 200, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_todo_lists_what_waits_for_exactly_them() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let lly = Client::login(&app, "slj_lly").await;
        let tech = Client::login(&app, "kejiju").await;
        let qiye = Client::login(&app, "qiye").await;
        let gaoxiao = Client::login(&app, "gaoxiao").await;
        let slj = sup.unit_id("slj").await;
        let (_, fqz_sl) = Client::login(&app, "fqz_sl").await.get("/api/me").await;
        let person = |name: &str| {
            let db = tdb.db.clone();
            let name = name.to_string();
            async move {
                let r = sqlx::query("SELECT person_id FROM users WHERE username = $1")
                    .bind(name)
                    .fetch_one(&db.pool)
                    .await
                    .unwrap();
                sqlx::Row::try_get::<i64, _>(&r, "person_id").unwrap()
            }
        };
        let mut n = 0;
        let mut task = |title: &str, deadline: &str, assign: bool| {
            n += 1;
            let mut t = new_task(title, slj, &format!("待办〔2026〕{n}号"), deadline, assign);
            t["leader_person_id"] = fqz_sl["person_id"].clone();
            let sup = &sup;
            async move {
                let (s, v) = sup.post("/api/tasks", t).await;
                assert_eq!(s, 201, "{v}");
                v["id"].as_i64().unwrap()
            }
        };
        // Supervised tasks, one in each waiting state.
        task("待办A：待交办", "2026-12-18", false).await;
        task("待办B：待签收", "2026-12-18", true).await;
        let c = task("待办C：待审核办结", "2026-12-18", true).await;
        let d = task("待办D：延期待审核", "2026-12-18", true).await;
        let e = task("待办E：延期待审批", "2026-12-18", true).await;
        let f = task("待办F：子任务", "2026-12-18", true).await;
        task("待办G：逾期", "2026-11-24", true).await;
        let zrr1 = person("slj_zrr1").await;
        for id in [c, d, e, f] {
            let (s, v) = lly.act(id, "receive", json!({})).await;
            assert_eq!(s, 200, "{v}");
        }
        for id in [c, f] {
            let sub = json!({"subtasks": [{"title": "清淤方案", "dept_unit_id": slj, "person_id": zrr1,
                "deadline": "2026-12-10"}]});
            let (s, v) = lly.act(id, "decompose", sub).await;
            assert_eq!(s, 200, "{v}");
        }
        let (s, v) = lly.act(c, "request_completion", json!({"text": "已完成"})).await;
        assert_eq!(s, 200, "{v}");
        for id in [d, e] {
            let (s, v) =
                lly.act(id, "request_extension", json!({"reason": "汛后施工", "new_deadline": "2026-12-25"})).await;
            assert_eq!(s, 200, "{v}");
        }
        let (_, v) = sup.get(&format!("/api/tasks/{e}")).await;
        let ext = v["extensions"][0]["id"].as_i64().unwrap();
        let (s, v) = sup.act(e, "review_extension", json!({"extension_id": ext, "approve": true})).await;
        assert_eq!(s, 200, "{v}");

        // The platform: submissions to review, records returned, dockings to move, consent, a meeting.
        let submit = |who: &'static str, title: &str| submit_problem(&app, who, problem(title));
        let review = |lib: &'static str, id: i64, action: &'static str| review_step(&tech, lib, id, action);
        submit("qiye", "待办H：待形式审核难题").await;
        let h2 = submit("qiye", "待办H2：待部门审核难题").await;
        review("problem", h2, "pass_formal").await;
        let i = submit("qiye", "待办I：退回难题").await;
        review("problem", i, "return").await;
        let expert = json!({"name": "待办J：退回专家", "title": "教授", "disciplines": "水利工程", "fields": "大坝安全",
            "keywords": "渗流"});
        let (s, v) = gaoxiao.post("/api/experts", expert).await;
        assert_eq!(s, 201, "{v}");
        review("expert", v["id"].as_i64().unwrap(), "return").await;
        // 科技局 entering a problem for an enterprise with no account: returned, it waits for the 科技局.
        let no_account: i64 = sqlx::Row::try_get(
            &sqlx::query("SELECT MIN(id) AS id FROM enterprises WHERE unit_id IS NULL")
                .fetch_one(&tdb.db.pool)
                .await
                .unwrap(),
            "id",
        )
        .unwrap();
        let mut k = problem("待办K：代为修改难题");
        k["enterprise_id"] = no_account.into();
        let (s, v) = tech.post("/api/tech-problems", k).await;
        assert_eq!(s, 201, "{v}");
        review("problem", v["id"].as_i64().unwrap(), "return").await;
        // A published problem of the enterprise, and the institution's and another published expert.
        let own = submit("qiye", "待办：已发布难题").await;
        review("problem", own, "pass_formal").await;
        review("problem", own, "approve").await;
        let (_, experts) = tech.get("/api/experts").await;
        let published: Vec<&Value> =
            experts.as_array().unwrap().iter().filter(|x| x["review"]["status"] == "published").collect();
        let ncwu = published.iter().find(|x| x["institution_name"] == "华北水利水电大学").unwrap()["id"].clone();
        let (_, achievements) = tech.get("/api/achievements").await;
        let papers: Vec<Value> = achievements
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["status"] == "published" && a["institution_id"].is_null())
            .map(|a| a["id"].clone())
            .collect();
        let paper = |k: usize| papers[k].clone();
        // L: asked for by the enterprise (an achievement with no institution, so nobody else is a party).
        let (s, v) = qiye
            .post(
                "/api/dockings",
                json!({"title": "待办L：企业申请对接", "problem_id": own, "achievement_id": paper(0)}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        // M: recommended by the 科技局 with the institution's expert, whose consent is pending.
        let (s, v) =
            tech.post("/api/dockings", json!({"title": "待办M：专家授权", "problem_id": own, "expert_id": ncwu})).await;
        assert_eq!(s, 201, "{v}");
        let m = v["id"].as_i64().unwrap();
        // N: a contract registered while the docking is still at 推荐.
        let (s, v) = tech
            .post("/api/dockings", json!({"title": "待办N：合同待推进", "problem_id": own, "achievement_id": paper(1)}))
            .await;
        assert_eq!(s, 201, "{v}");
        let contract = json!({"contract_no": "2026410103000999", "kind": "技术开发", "buyer": "新大方", "seller": "某研究院",
            "amount_wan": 30, "technical_income_wan": 20, "signed_on": "2026-11-20"});
        let (s, v) = tech.post(&format!("/api/dockings/{}/contracts", v["id"]), contract).await;
        assert_eq!(s, 201, "{v}");
        // O: a 对接洽谈 of docking M ahead.
        let meeting =
            json!({"title": "待办O：洽谈会", "kind": "对接洽谈", "held_on": "2026-12-10", "place": "科技局三楼"});
        let (s, v) = tech.post(&format!("/api/dockings/{m}/activities"), meeting).await;
        assert_eq!(s, 201, "{v}");

        // Three days on, task G is overdue.
        app.set_now(dt("2026-11-26 10:00"));
        let all = everyone(&tdb, &app).await;
        let mut lists = BTreeMap::new();
        for (name, c) in &all {
            lists.insert(name.clone(), waiting(c).await);
        }
        let expect: &[(&str, &str, &str, &[&str])] = &[
            ("task", "待办A", "待交办", &["duchaju", "duchazy"]),
            ("task", "待办B", "待签收", &["slj_lly"]),
            ("task", "待办C", "待审核办结", &["duchaju", "duchazy"]),
            ("task", "待办D", "待审核延期申请", &["duchaju", "duchazy"]),
            ("task", "待办E", "待审批延期申请", &["fqz_sl"]),
            ("task", "待办F", "汇报子任务进展", &["slj_zrr1"]),
            ("task", "待办F", "推进中，按期汇报", &["slj_lly"]),
            ("task", "待办G", "分包督导：已逾期", &["fqz_sl"]),
            ("review", "待办H：", "待形式审核", &["kejiju"]),
            ("review", "待办H2", "待部门审核", &["kejiju"]),
            ("returned", "待办I", "已退回，待修改后重新提交", &["qiye"]),
            ("returned", "待办J", "已退回，待修改后重新提交", &["gaoxiao"]),
            ("returned", "待办K", "待科技局代为修改", &["kejiju"]),
            ("docking", "待办L", "企业申请的对接", &["kejiju"]),
            ("consent", "待办M", "待确认专家", &["gaoxiao"]),
            ("docking", "待办N", "已登记技术合同", &["kejiju"]),
            ("activity", "待办M", "待参加对接洽谈「待办O：洽谈会」", &["qiye", "gaoxiao"]),
        ];
        for (kind, title, what, who) in expect {
            let found: BTreeSet<&str> = lists
                .iter()
                .filter(|(_, l)| l.iter().any(|(k, t, w)| k == kind && t.contains(title) && w.contains(what)))
                .map(|(n, _)| n.as_str())
                .collect();
            let want: BTreeSet<&str> = who.iter().copied().collect();
            assert_eq!(found, want, "{kind} {title} {what}");
        }
        // Nothing of these reaches anyone else under another label either.
        let owners: BTreeSet<&str> = expect.iter().flat_map(|e| e.3.iter().copied()).collect();
        for (name, l) in &lists {
            if !owners.contains(name.as_str()) {
                assert!(l.iter().all(|(_, t, w)| !t.contains("待办") && !w.contains("待办")), "{name}: {l:?}");
            }
        }
        // The 科技局's 待办 holds everything its 审核台 holds.
        let (_, queue) = all["kejiju"].get("/api/reviews").await;
        let reviews = lists["kejiju"].iter().filter(|(k, _, _)| k == "review").count();
        assert_eq!(reviews, queue.as_array().unwrap().len());
        assert!(reviews >= 2);
        // And the page shows them with their links, for the enterprise too.
        let (s, html) = page(&all["kejiju"], "/todo").await;
        let linked =
            html.contains("href=\"/docking/problems/") || html.contains("href=\"&#x2f;docking&#x2f;problems&#x2f;");
        assert!(s == 200 && html.contains("待办H：待形式审核难题") && linked, "{html}");
        let (s, html) = page(&all["qiye"], "/todo").await;
        assert!(s == 200 && html.contains("待办I：退回难题") && html.contains("待办O：洽谈会"), "{html}");
        tdb.cleanup().await;
    });
}
