//! Forms that forgive (issue 14, item 4), on SQLite and PostgreSQL: a refused form answers every
//! wrong field at once beside its field and keeps everything typed or chosen; 撤销, 办结销号,
//! 发布通报 and 发布排名 show what they will do and need a second, confirming submission; a
//! progress lower than the last report needs a 说明; the 行业 picker finds a class by code or words.

mod common;

use common::{Client, dt, with_demo};
use serde_json::json;

const NOW: &str = "2026-11-23 10:00";

async fn browser(app: &common::TestApp, username: &str) -> reqwest::Client {
    let c = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = common::form_login(&c, app, username, xietong_demo::DEMO_PASSWORD).await;
    assert!(r.status().is_redirection() || r.status() == 200, "login {username}: {}", r.status());
    c
}

async fn page(c: &reqwest::Client, app: &common::TestApp, path: &str) -> (u16, String) {
    let r = c.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn csrf(c: &reqwest::Client, app: &common::TestApp) -> String {
    common::hidden_csrf(&page(c, app, "/todo").await.1)
}

async fn post(c: &reqwest::Client, app: &common::TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String, String) {
    let r = c.post(app.url(path)).form(form).send().await.unwrap();
    let status = r.status().as_u16();
    let to = r.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default();
    (status, to, r.text().await.unwrap())
}

/// The message shown beside a field (the form's `f.err`), if any.
fn beside(html: &str, field: &str) -> Option<String> {
    let tag = format!("data-field=\"{field}\">");
    let at = html.find(&tag)? + tag.len();
    Some(html[at..].split("</span>").next()?.to_string())
}

/// The `value` of the first option of `select` after the empty one.
fn first_option(html: &str, select: &str) -> String {
    let at = html.find(&format!("name=\"{select}\"")).unwrap_or_else(|| panic!("no select {select}"));
    html[at..]
        .split("<option value=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .find(|v| !v.is_empty())
        .unwrap()
}

fn selected(html: &str, select: &str, value: &str) -> bool {
    let at = html.find(&format!("name=\"{select}\"")).unwrap();
    let end = at + html[at..].find("</select>").unwrap();
    html[at..end].contains(&format!("<option value=\"{value}\" selected"))
}

async fn count(db: &xietong_storage::Db, table: &str) -> i64 {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) AS n FROM {table}"))).fetch_one(&db.pool).await;
    sqlx::Row::try_get::<i64, _>(&r.unwrap(), "n").unwrap()
}

/// A task of 建设和交通局 in progress, reported at `progress` %.
async fn task_at(sup: &Client, lly: &Client, doc_no: &str, progress: i64) -> i64 {
    let jsj = sup.unit_id("jsj").await;
    let (s, v) = sup
        .post(
            "/api/tasks",
            json!({"title": "表单测试任务：背街小巷整治", "source_kind": "meeting", "doc_no": doc_no, "source_date": "2026-11-20",
                   "lead_unit_id": jsj, "report_cycle": "weekly", "deadline": "2026-12-18", "assign_now": true}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    assert_eq!(lly.act(id, "receive", json!({})).await.0, 200);
    let (_, people) = lly.get(&format!("/api/people?unit_id={jsj}")).await;
    let person = people[0]["id"].as_i64().unwrap();
    let row = json!({"title": "制定方案", "dept_unit_id": jsj, "person_id": person, "deadline": "2026-12-16"});
    let sub = json!({ "subtasks": [row] });
    let (s, v) = lly.act(id, "decompose", sub).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = lly.act(id, "report", json!({"progress": progress, "text": "按计划推进"})).await;
    assert_eq!(s, 200, "{v}");
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_task_shows_every_error_at_once_and_keeps_every_value() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = browser(&app, "duchaju").await;
        let (s, html) = page(&sup, &app, "/tasks/new").await;
        assert_eq!(s, 200);
        // Dates default sensibly: 来源日期 today, 收件时间 now, neither later than now.
        assert!(
            html.contains("name=\"source_date\" value=\"2026-11-23\" max=\"2026-11-23\""),
            "来源日期 defaults to today"
        );
        assert!(html.contains("name=\"received_at\" value=\"2026-11-23T10:00\""), "收件时间 defaults to now");
        let (category, leader) = (first_option(&html, "category_id"), first_option(&html, "leader_person_id"));
        let api = Client::login(&app, "duchaju").await;
        let (jsj, scj, jyj) = (api.unit_id("jsj").await, api.unit_id("scjgj").await, api.unit_id("jyj").await);
        let (jsj, scj, jyj) = (jsj.to_string(), scj.to_string(), jyj.to_string());
        let token = csrf(&sup, &app).await;
        let tasks = count(&tdb.db, "tasks").await;

        // Four things wrong at once: no 任务名称, a future 来源日期 after a future 收件时间, a
        // Saturday deadline, and the lead unit among the co-units; everything else chosen.
        let description = "按区政府常务会要求，三个月内完成背街小巷整治";
        let form = [
            ("_csrf", token.as_str()),
            ("title", "  "),
            ("description", description),
            ("source_kind", "instruction"),
            ("doc_no", "表单〔2026〕1号"),
            ("source_title", "区政府常务会议纪要"),
            ("source_date", "2026-11-25"),
            ("received_at", "2026-11-24T09:00"),
            ("category_id", category.as_str()),
            ("lead_unit_id", jsj.as_str()),
            ("leader_person_id", leader.as_str()),
            ("report_cycle", "monthly"),
            ("deadline", "2026-12-19"),
            ("co_unit_ids", scj.as_str()),
            ("co_unit_ids", jsj.as_str()),
            ("co_unit_ids", jyj.as_str()),
        ];
        let (s, _, html) = post(&sup, &app, "/tasks/new", &form).await;
        assert_eq!(s, 400);
        assert_eq!(count(&tdb.db, "tasks").await, tasks, "nothing stored");
        assert!(
            html.contains("有 5 处需要修改"),
            "all five errors in one answer: {}",
            &html[html.find("id=\"form-errors\"").unwrap_or(0)..][..1500]
        );
        assert_eq!(beside(&html, "任务名称").as_deref(), Some("不能为空"));
        assert!(beside(&html, "收件时间").unwrap().contains("不能晚于当前时间（2026-11-23 10:00）"));
        assert!(beside(&html, "来源日期").unwrap().contains("不能晚于今天"));
        assert!(beside(&html, "办理期限").unwrap().contains("2026-12-19 是"));
        assert_eq!(beside(&html, "配合单位").as_deref(), Some("不能包含牵头单位"));
        // Every value typed or chosen is still there; the unticked 立即交办 stays unticked.
        assert!(html.contains(description) && html.contains("value=\"表单〔2026〕1号\""));
        assert!(html.contains("name=\"source_date\" value=\"2026-11-25\""));
        assert!(html.contains("name=\"received_at\" value=\"2026-11-24T09:00\""));
        for (select, value) in [
            ("source_kind", "instruction"),
            ("category_id", category.as_str()),
            ("lead_unit_id", jsj.as_str()),
            ("leader_person_id", leader.as_str()),
            ("report_cycle", "monthly"),
            ("co_unit_ids", scj.as_str()),
            ("co_unit_ids", jyj.as_str()),
        ] {
            assert!(selected(&html, select, value), "{select} keeps {value}");
        }
        assert!(!html.contains("name=\"assign_now\" value=\"1\" checked"), "立即交办 stays unticked");

        // No lead unit chosen is named with the rest, not alone.
        let mut without_lead: Vec<(&str, &str)> = form.iter().filter(|(k, _)| *k != "lead_unit_id").copied().collect();
        without_lead.retain(|(k, _)| *k != "co_unit_ids");
        let (s, _, html) = post(&sup, &app, "/tasks/new", &without_lead).await;
        assert_eq!(s, 400);
        assert!(beside(&html, "牵头单位").unwrap().contains("不能为空"));
        assert!(beside(&html, "任务名称").is_some() && beside(&html, "办理期限").is_some());

        // Corrected, the same form is taken at once.
        let fixed: Vec<(&str, &str)> = form
            .iter()
            .filter(|(k, v)| !(*k == "co_unit_ids" && *v == jsj))
            .map(|(k, v)| match *k {
                "title" => (*k, "背街小巷整治"),
                "source_date" => (*k, "2026-11-20"),
                "received_at" => (*k, "2026-11-23T09:00"),
                "deadline" => (*k, "2026-12-18"),
                _ => (*k, *v),
            })
            .collect();
        let (s, to, _) = post(&sup, &app, "/tasks/new", &fixed).await;
        assert_eq!(s, 303, "taken");
        assert!(to.starts_with("/tasks/"), "{to}");
        assert_eq!(count(&tdb.db, "tasks").await, tasks + 1);

        // The API answers every field too.
        let lead = jsj.parse::<i64>().unwrap();
        let bad = json!({"title": "", "source_kind": "x", "doc_no": "", "source_date": "2026-11-20",
                         "lead_unit_id": lead, "report_cycle": "weekly", "deadline": "2026-12-18"});
        let (s, v) = api.post("/api/tasks", bad).await;
        assert_eq!(s, 400);
        let fields: Vec<&str> = v["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["任务名称", "任务来源", "文号"], "{v}");
        assert_eq!(v["field"], "任务名称");
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_and_close_are_previewed_and_done_only_when_confirmed() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let api = Client::login(&app, "duchaju").await;
        let lly = Client::login(&app, "jsj_lly").await;
        let sup = browser(&app, "duchaju").await;
        let status = |v: &serde_json::Value| v["task"]["status"].as_str().unwrap().to_string();

        // 撤销 sits apart from 催办, in the danger style.
        let id = task_at(&api, &lly, "表单〔2026〕2号", 40).await;
        let (_, html) = page(&sup, &app, &format!("/tasks/{id}")).await;
        let (urge, zone) = (html.find("id=\"form-urge\"").unwrap(), html.find("id=\"cancel-zone\"").unwrap());
        assert!(zone > urge && html[zone..].contains("class=\"danger\">撤销任务"), "撤销 apart, danger style");
        let version = api.get(&format!("/api/tasks/{id}")).await.1["task"]["version"].to_string();
        let token = csrf(&sup, &app).await;
        let events = count(&tdb.db, "task_events").await;
        let path = format!("/tasks/{id}/actions/cancel");
        let reason = "区政府已调整该项工作安排";
        let form = [("_csrf", token.as_str()), ("version", version.as_str()), ("reason", reason)];
        let (s, _, html) = post(&sup, &app, &path, &form).await;
        assert_eq!(s, 200);
        assert!(html.contains("确认撤销任务") && html.contains(reason) && html.contains("不能恢复"), "a preview");
        assert_eq!(status(&api.get(&format!("/api/tasks/{id}")).await.1), "in_progress", "one click changes nothing");
        assert_eq!(count(&tdb.db, "task_events").await, events);
        // 返回修改: the task page with the reason kept.
        let (s, _, html) = post(&sup, &app, &path, &[form[0], form[1], form[2], ("back", "1")]).await;
        assert_eq!(s, 200);
        assert!(html.contains(&format!(">{reason}</textarea>")), "the reason is kept");
        // An empty reason is refused before any preview.
        let (s, _, html) = post(&sup, &app, &path, &[form[0], form[1], ("reason", " ")]).await;
        assert_eq!(s, 400);
        assert!(html.contains("撤销原因"));
        let (s, to, _) = post(&sup, &app, &path, &[form[0], form[1], form[2], ("confirm", "1")]).await;
        assert_eq!((s, to), (303, format!("/tasks/{id}?done=cancel")));
        assert_eq!(status(&api.get(&format!("/api/tasks/{id}")).await.1), "cancelled");

        // 办结销号 likewise.
        let id = task_at(&api, &lly, "表单〔2026〕3号", 100).await;
        let (s, v) = lly.act(id, "request_completion", json!({"text": "整治完成，已验收"})).await;
        assert_eq!(s, 200, "{v}");
        let version = v["task"]["version"].to_string();
        let path = format!("/tasks/{id}/actions/approve");
        let form = [("_csrf", token.as_str()), ("version", version.as_str()), ("comment", "同意办结")];
        let (s, _, html) = post(&sup, &app, &path, &form).await;
        assert_eq!(s, 200);
        assert!(html.contains("确认办结销号") && html.contains("整治完成，已验收"), "the preview shows the report");
        assert_eq!(status(&api.get(&format!("/api/tasks/{id}")).await.1), "pending_review");
        let (s, _, _) = post(&sup, &app, &path, &[form[0], form[1], form[2], ("confirm", "1")]).await;
        assert_eq!(s, 303);
        assert_eq!(status(&api.get(&format!("/api/tasks/{id}")).await.1), "closed");
        // A confirmation of a task that moved on since is refused (the version it showed).
        let (s, _, _) = post(&sup, &app, &path, &[form[0], form[1], form[2], ("confirm", "1")]).await;
        assert_eq!(s, 409);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_and_rankings_are_published_only_when_confirmed() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let api = Client::login(&app, "duchaju").await;
        let sup = browser(&app, "duchaju").await;
        let token = csrf(&sup, &app).await;
        let (jsj, scj) = (api.unit_id("jsj").await.to_string(), api.unit_id("scjgj").await.to_string());

        // A bad notice: every field named at once, the units kept.
        let (notices, records) = (count(&tdb.db, "notices").await, count(&tdb.db, "notice_records").await);
        let (s, _, html) = post(
            &sup,
            &app,
            "/notices",
            &[
                ("_csrf", &token),
                ("kind", "criticism"),
                ("doc_no", ""),
                ("issued_on", "2026-11-30"),
                ("title", ""),
                ("body", ""),
                ("unit_id", &jsj),
                ("unit_id", &scj),
            ],
        )
        .await;
        assert_eq!(s, 400);
        for f in ["文号", "发布日期", "通报标题", "通报正文"] {
            assert!(beside(&html, f).is_some(), "{f} named beside its field");
        }
        assert!(
            selected(&html, "unit_id", &jsj)
                && selected(&html, "unit_id", &scj)
                && selected(&html, "kind", "criticism")
        );

        let form = [
            ("_csrf", token.as_str()),
            ("kind", "criticism"),
            ("doc_no", "二七督通〔2026〕31号"),
            ("issued_on", "2026-11-23"),
            ("title", "关于背街小巷整治进度滞后的通报"),
            ("body", "经督查，以下单位进度滞后。"),
            ("unit_id", jsj.as_str()),
        ];
        let (s, _, html) = post(&sup, &app, "/notices", &form).await;
        assert_eq!(s, 200);
        assert!(html.contains("确认发布批评通报") && html.contains("个人政绩记录"), "a preview naming the record");
        assert_eq!(count(&tdb.db, "notices").await, notices, "one click publishes nothing");
        assert_eq!(count(&tdb.db, "notice_records").await, records);
        let mut confirmed = form.to_vec();
        confirmed.push(("confirm", "1"));
        let (s, to, _) = post(&sup, &app, "/notices", &confirmed).await;
        assert_eq!(s, 303, "published when confirmed");
        assert!(to.starts_with("/notices/"));
        assert_eq!(count(&tdb.db, "notices").await, notices + 1);
        assert_eq!(count(&tdb.db, "notice_records").await, records + 1);

        // The 评分公式: a weight sum off 100 and a bonus that is no number, both named, the figures kept.
        let (s, _, html) = post(
            &sup,
            &app,
            "/rankings/settings",
            &[
                ("_csrf", &token),
                ("on_time_weight", "70"),
                ("progress_weight", "40"),
                ("overdue_penalty", "5"),
                ("rejection_penalty", "2"),
                ("praise", "多"),
                ("criticism", "-2"),
                ("warning", "-1"),
            ],
        )
        .await;
        assert_eq!(s, 400);
        assert!(beside(&html, "表扬加分").is_some(), "the bonus named");
        assert!(html.contains("name=\"on_time_weight\" size=\"4\" value=\"70\""), "the figures kept");
        let (s, _, html) = post(
            &sup,
            &app,
            "/rankings/settings",
            &[
                ("_csrf", &token),
                ("on_time_weight", "70"),
                ("progress_weight", "40"),
                ("overdue_penalty", "5"),
                ("rejection_penalty", "2"),
                ("praise", "30"),
                ("criticism", "-2"),
                ("warning", "-1"),
            ],
        )
        .await;
        assert_eq!(s, 400);
        assert!(beside(&html, "按期办结权重").is_some() && beside(&html, "表扬加分").is_some(), "both at once");

        // 发布排名: a month not yet published.
        let (_, published) = api.get("/api/rankings").await;
        let (_, categories) = api.get("/api/categories").await;
        let category = categories[0]["id"].as_i64().unwrap().to_string();
        let month = "2026-09";
        assert!(
            !published
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["month"] == month
                    && r["category_id"].as_i64().map(|c| c.to_string()) == Some(category.clone())),
            "the demo has not published {month}"
        );
        let rankings = count(&tdb.db, "rankings").await;
        // The running month cannot be published: refused at once, no confirmation offered.
        let (s, _, html) = post(
            &sup,
            &app,
            "/rankings/publish",
            &[("_csrf", &token), ("category_id", &category), ("month", "2026-11")],
        )
        .await;
        assert_eq!(s, 409);
        assert!(html.contains("尚未结束") && !html.contains("确认发布并冻结"));
        let form = [("_csrf", token.as_str()), ("category_id", category.as_str()), ("month", month)];
        let (s, _, html) = post(&sup, &app, "/rankings/publish", &form).await;
        assert_eq!(s, 200);
        assert!(html.contains("确认发布并冻结") && html.contains("id=\"ranking-table\""), "the table to be frozen");
        assert_eq!(count(&tdb.db, "rankings").await, rankings, "one click publishes nothing");
        let shown = html.split("name=\"shown\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        // A confirmation of another table than the one now computed is shown again, not published.
        let (s, _, html) =
            post(&sup, &app, "/rankings/publish", &[form[0], form[1], form[2], ("shown", "0"), ("confirm", "1")]).await;
        assert_eq!(s, 200);
        assert!(html.contains("有变化"));
        assert_eq!(count(&tdb.db, "rankings").await, rankings);
        let (s, to, _) =
            post(&sup, &app, "/rankings/publish", &[form[0], form[1], form[2], ("shown", &shown), ("confirm", "1")])
                .await;
        assert_eq!(s, 303, "published when confirmed");
        assert!(to.starts_with("/rankings/"), "{to}");
        assert_eq!(count(&tdb.db, "rankings").await, rankings + 1);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lower_progress_needs_a_reason() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let api = Client::login(&app, "duchaju").await;
        let lly = Client::login(&app, "jsj_lly").await;
        let id = task_at(&api, &lly, "表单〔2026〕4号", 76).await;
        let before = common::fingerprint(&tdb.db).await;

        // API: 40 after 76 without a word is refused naming 说明, nothing changes.
        let (s, v) = lly.act(id, "report", json!({"progress": 40, "text": "重新核定工程量"})).await;
        assert_eq!(s, 400, "{v}");
        assert_eq!(v["field"], "说明");
        assert!(v["error"].as_str().unwrap().contains("由上次汇报的 76% 调低至 40%"), "{v}");
        assert_eq!(common::fingerprint(&tdb.db).await, before);

        // Page: the report form (multipart, as the browser sends it) answers the same, keeping the text.
        let web = browser(&app, "jsj_lly").await;
        let (_, html) = page(&web, &app, &format!("/tasks/{id}")).await;
        assert!(html.contains("name=\"reason\" id=\"report-reason\""), "the form asks for a 说明");
        let token = common::hidden_csrf(&html);
        let version = lly.get(&format!("/api/tasks/{id}")).await.1["task"]["version"].to_string();
        let form = reqwest::multipart::Form::new()
            .text("version", version.clone())
            .text("progress", "40")
            .text("text", "重新核定工程量");
        let url = app.url(&format!("/tasks/{id}/evidence/report?_csrf={}", urlencode(&token)));
        let r = web.post(&url).multipart(form).send().await.unwrap();
        assert_eq!(r.status(), 400);
        let html = r.text().await.unwrap();
        assert!(html.contains("字段「说明」进度由上次汇报的 76% 调低至 40%，须说明原因"), "named on the page");
        assert!(html.contains("重新核定工程量"), "the text is kept");
        assert_eq!(common::fingerprint(&tdb.db).await, before);

        // With the reason it is taken and the timeline says why.
        let (s, v) = lly
            .act(id, "report", json!({"progress": 40, "text": "重新核定工程量", "reason": "新增两条小巷，工程量增加"}))
            .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["task"]["progress"], 40);
        let last = v["events"].as_array().unwrap().last().unwrap()["comment"].as_str().unwrap().to_string();
        assert!(last.contains("由 76% 调低，说明：新增两条小巷，工程量增加"), "{last}");
        // Not lower: no 说明 needed.
        let (s, v) = lly.act(id, "report", json!({"progress": 45, "text": "推进中"})).await;
        assert_eq!(s, 200, "{v}");
        tdb.cleanup().await;
    });
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_industry_picker_finds_a_class_by_words_or_code() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let ent = Client::login(&app, "qiye").await;
        let codes = |v: &serde_json::Value| -> Vec<String> {
            v.as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap().to_string()).collect()
        };
        let (s, v) = ent.get("/api/industries?q=%E8%B5%B7%E9%87%8D").await; // 起重
        assert_eq!(s, 200);
        assert!(codes(&v).contains(&"3514".to_string()), "起重 finds 3514: {:?}", codes(&v));
        let (_, v) = ent.get("/api/industries?q=3514").await;
        assert_eq!(codes(&v)[0], "3514");
        assert_eq!(v[0]["name"], "建筑工程用机械制造");
        // A liaison has no business in the platform's libraries.
        assert_eq!(Client::login(&app, "jsj_lly").await.get("/api/industries?q=3514").await.0, 403);

        let web = browser(&app, "qiye").await;
        let (s, html) = page(&web, &app, "/industries?q=%E8%B5%B7%E9%87%8D").await;
        assert_eq!(s, 200);
        assert!(html.contains("data-code=\"3514\""));
        let (_, html) = page(&web, &app, "/industries?q=3514").await;
        assert!(html.contains("data-code=\"3514\"") && html.contains("建筑工程用机械制造"));

        // In the 难题 form: 「查找行业」 with words lists the classes to choose, keeping the rest.
        let (_, html) = page(&web, &app, "/docking/problems").await;
        assert!(
            html.contains("list=\"gbt4754-list\"")
                && html.contains("<option value=\"3514\">建筑工程用机械制造</option>")
        );
        let token = common::hidden_csrf(&html);
        let typed = [
            ("_csrf", token.as_str()),
            ("title", "塔式起重机回转支承早期磨损"),
            ("description", "回转支承在满载工况下三个月即出现明显磨损，希望找到材料与热处理方案"),
            ("keywords", "回转支承；耐磨"),
            ("industry_code", "起重"),
        ];
        let mut find = typed.to_vec();
        find.push(("find_industry", "1"));
        let problems = count(&tdb.db, "tech_problems").await;
        let (s, _, html) = post(&web, &app, "/docking/problems", &find).await;
        assert_eq!(s, 200);
        assert!(html.contains("name=\"industry_pick\" value=\"3514\""), "3514 offered by 起重");
        assert!(html.contains("塔式起重机回转支承早期磨损"), "the title is kept");
        assert_eq!(count(&tdb.db, "tech_problems").await, problems, "a search stores nothing");
        // Submitted with the words only: refused beside 行业代码, the choices offered.
        let (s, _, html) = post(&web, &app, "/docking/problems", &typed).await;
        assert_eq!(s, 400);
        assert!(beside(&html, "行业代码").is_some() && html.contains("name=\"industry_pick\" value=\"3514\""));
        let mut picked = typed.to_vec();
        picked.push(("industry_pick", "3514"));
        let (s, to, _) = post(&web, &app, "/docking/problems", &picked).await;
        assert_eq!(s, 303, "taken with the class chosen");
        let id: i64 = to.split('/').nth(3).unwrap().split('?').next().unwrap().parse().unwrap();
        let (_, p) = ent.get("/api/tech-problems").await;
        let p = p.as_array().unwrap().iter().find(|p| p["id"] == id).unwrap().clone();
        assert_eq!(p["industry_code"], "3514");
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_and_org_forms_answer_every_field_and_keep_the_rest() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let api = Client::login(&app, "duchaju").await;
        let sup = browser(&app, "duchaju").await;
        let token = csrf(&sup, &app).await;
        let jsj = api.unit_id("jsj").await.to_string();
        let projects = count(&tdb.db, "projects").await;
        let (s, _, html) = post(
            &sup,
            &app,
            "/projects",
            &[
                ("_csrf", &token),
                ("title", "马寨镇污水管网改造"),
                ("doc_no", "表单〔2026〕9号"),
                ("source_date", "2026-11-20"),
                ("lead_unit_id", &jsj),
                ("owner_unit_id", ""),
                ("report_cycle", "monthly"),
                ("deadline", "2026-12-19"),
                ("kind", "government"),
                ("location", ""),
                ("planned_investment", "三千"),
                ("section_name", ""),
                ("section_contractor", ""),
                ("section_start", ""),
                ("section_due", ""),
                ("section_name", "二标段"),
                ("section_contractor", ""),
                ("section_start", "2026-12-01"),
                ("section_due", "2026-11-30"),
            ],
        )
        .await;
        assert_eq!(s, 400);
        assert_eq!(count(&tdb.db, "projects").await, projects, "nothing stored");
        for f in
            ["业主单位", "建设地点", "计划总投资（万元）", "办理期限", "第2个标段的施工单位", "第2个标段的完工期限"]
        {
            assert!(beside(&html, f).is_some(), "{f} named beside its field");
        }
        assert!(
            html.contains("value=\"二标段\"")
                && html.contains("value=\"三千\"")
                && selected(&html, "kind", "government")
        );
        assert!(selected(&html, "lead_unit_id", &jsj));

        // The 组织机构 forms answer on the page, each beside its field, no longer by a redirect.
        let admin = browser(&app, "admin").await;
        let token = csrf(&admin, &app).await;
        let units = count(&tdb.db, "units").await;
        let (s, _, html) = post(
            &admin,
            &app,
            "/org/units",
            &[("_csrf", &token), ("code", ""), ("name", "建设和交通局"), ("kind", "外部单位"), ("parent_id", &jsj)],
        )
        .await;
        assert_eq!(s, 400);
        assert_eq!(count(&tdb.db, "units").await, units);
        assert!(beside(&html, "单位编码").is_some() && beside(&html, "单位名称").unwrap().contains("已存在"));
        assert!(html.contains("<option selected>外部单位</option>") && selected(&html, "parent_id", &jsj));
        let (s, _, html) = post(
            &admin,
            &app,
            "/org/users",
            &[
                ("_csrf", &token),
                ("username", "bad name!"),
                ("password", "短"),
                ("person_id", "1"),
                ("role", "liaison"),
            ],
        )
        .await;
        assert_eq!(s, 400);
        assert!(beside(&html, "用户名").is_some() && beside(&html, "密码").is_some(), "both named at once");
        assert!(html.contains("value=\"bad name!\"") && selected(&html, "role", "liaison"));
        assert!(!html.contains("value=\"短\""), "the password is not sent back");
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docking_library_forms_answer_every_field_and_keep_the_rest() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let kjj = browser(&app, "kejiju").await;
        let token = csrf(&kjj, &app).await;
        let contracts = count(&tdb.db, "contracts").await;
        let (s, _, html) = post(
            &kjj,
            &app,
            "/docking/contracts",
            &[
                ("_csrf", &token),
                ("contract_no", ""),
                ("kind", "service"),
                ("buyer", ""),
                ("seller", "华北水利水电大学"),
                ("amount_wan", "十万"),
                ("technical_income_wan", "5"),
                ("signed_on", "2026-12-01"),
            ],
        )
        .await;
        assert_eq!(s, 400);
        assert_eq!(count(&tdb.db, "contracts").await, contracts, "nothing stored");
        for f in ["合同登记编号", "委托方/受让方", "合同金额（万元）", "签订日期"] {
            assert!(beside(&html, f).is_some(), "{f} named beside its field");
        }
        assert!(
            html.contains("value=\"华北水利水电大学\"")
                && html.contains("value=\"十万\"")
                && selected(&html, "kind", "service")
        );

        let experts = count(&tdb.db, "experts").await;
        let (s, _, html) = post(
            &kjj,
            &app,
            "/docking/experts",
            &[
                ("_csrf", &token),
                ("name", ""),
                ("title", "教授"),
                ("disciplines", "机械工程"),
                ("keywords", "起重机"),
                ("phone", "电话"),
                ("email", "not-an-email"),
                ("achievement_ids", "不存在的成果"),
            ],
        )
        .await;
        assert_eq!(s, 400);
        assert_eq!(count(&tdb.db, "experts").await, experts);
        for f in ["专家姓名", "所在机构", "联系电话", "电子邮箱", "关联成果"] {
            assert!(beside(&html, f).is_some(), "{f} named beside its field");
        }
        assert!(html.contains("value=\"教授\"") && html.contains("value=\"机械工程\""));
        assert!(!html.contains("name=\"share_on_consent\" value=\"1\" checked"), "an unticked box stays unticked");
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_inspection_visit_and_indicator_forms_answer_every_field() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let api = Client::login(&app, "duchaju").await;
        let sup = browser(&app, "duchaju").await;
        let token = csrf(&sup, &app).await;
        let (jsj, scj) = (api.unit_id("jsj").await.to_string(), api.unit_id("scjgj").await.to_string());

        // 问题台账: no title, no description, no lead unit — all three named; the units kept.
        let problems = count(&tdb.db, "problems").await;
        let (s, _, html) =
            post(&sup, &app, "/problems", &[("_csrf", &token), ("title", ""), ("description", " "), ("unit_id", &scj)])
                .await;
        assert_eq!(s, 400);
        assert_eq!(count(&tdb.db, "problems").await, problems);
        for f in ["问题", "问题描述", "牵头单位"] {
            assert!(beside(&html, f).is_some(), "{f} named beside its field");
        }
        assert!(selected(&html, "unit_id", &scj));

        // 督查考核事项: the period backwards and no target units, the rest kept.
        let (s, _, html) = post(
            &sup,
            &app,
            "/inspections",
            &[
                ("_csrf", &token),
                ("name", "安全生产专项督查"),
                ("issuing_unit_id", &jsj),
                ("start_on", "2026-12-10"),
                ("end_on", "2026-12-01"),
                ("subject", ""),
            ],
        )
        .await;
        assert_eq!(s, 400);
        for f in ["结束日期", "督查考核内容", "被督查单位"] {
            assert!(beside(&html, f).is_some(), "{f} named beside its field");
        }
        assert!(html.contains("value=\"安全生产专项督查\"") && selected(&html, "issuing_unit_id", &jsj));

        // 添加指标 on the task page: no name, a target that is no number, the period backwards.
        let lly = Client::login(&app, "jsj_lly").await;
        let id = task_at(&api, &lly, "表单〔2026〕5号", 10).await;
        let (s, _, html) = post(
            &sup,
            &app,
            &format!("/tasks/{id}/indicators"),
            &[
                ("_csrf", &token),
                ("name", ""),
                ("target", "一万"),
                ("unit_label", "人"),
                ("period_start", "2026-12-31"),
                ("period_end", "2026-01-01"),
            ],
        )
        .await;
        assert_eq!(s, 400);
        assert!(beside(&html, "指标名称").is_some() && beside(&html, "目标值").is_some());
        assert!(html.contains("value=\"一万\"") && html.contains("name=\"period_start\" value=\"2026-12-31\""));

        // 记录督导 (a leader): refused on the dashboard, as typed, not on an error page.
        let leader = browser(&app, "fqz_cj").await;
        let token = csrf(&leader, &app).await;
        let (s, _, html) = post(
            &leader,
            &app,
            "/visits",
            &[
                ("_csrf", &token),
                ("visited_on", "2026-11-30"),
                ("place", ""),
                ("findings", "路面破损未修复"),
                ("follow_up", ""),
            ],
        )
        .await;
        assert_eq!(s, 400);
        assert!(beside(&html, "督导日期").is_some() && beside(&html, "督导地点").is_some());
        assert!(html.contains("路面破损未修复</textarea>") && html.contains("id=\"form-visit\""));
        tdb.cleanup().await;
    });
}

/// 16 confirmations at once (a double click, several tabs): one is done, the others are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_confirmations_at_once_do_it_once() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let api = Client::login(&app, "duchaju").await;
        let lly = Client::login(&app, "jsj_lly").await;
        let sup = browser(&app, "duchaju").await;
        let token = csrf(&sup, &app).await;
        let id = task_at(&api, &lly, "表单〔2026〕6号", 30).await;
        let version = api.get(&format!("/api/tasks/{id}")).await.1["task"]["version"].to_string();
        let path = format!("/tasks/{id}/actions/cancel");
        let form = [("_csrf", token.as_str()), ("version", &version), ("reason", "重复立项"), ("confirm", "1")];
        let answers = futures_join(16, || post(&sup, &app, &path, &form)).await;
        let done = answers.iter().filter(|(s, ..)| *s == 303).count();
        assert_eq!(done, 1, "{:?}", answers.iter().map(|a| a.0).collect::<Vec<_>>());
        assert!(answers.iter().all(|(s, ..)| *s == 303 || *s == 409));
        let (_, v) = api.get(&format!("/api/tasks/{id}")).await;
        let cancels = v["events"].as_array().unwrap().iter().filter(|e| e["action"] == "cancel").count();
        assert_eq!(cancels, 1);

        let jsj = api.unit_id("jsj").await.to_string();
        let notices = count(&tdb.db, "notices").await;
        let form = [
            ("_csrf", token.as_str()),
            ("kind", "praise"),
            ("doc_no", "二七督通〔2026〕41号"),
            ("issued_on", "2026-11-23"),
            ("title", "关于表扬建设和交通局的通报"),
            ("body", "按期完成背街小巷整治。"),
            ("unit_id", &jsj),
            ("confirm", "1"),
        ];
        let answers = futures_join(16, || post(&sup, &app, "/notices", &form)).await;
        assert_eq!(answers.iter().filter(|(s, ..)| *s == 303).count(), 1);
        assert!(answers.iter().all(|(s, ..)| *s == 303 || *s == 400 || *s == 409), "the others are refused");
        assert_eq!(count(&tdb.db, "notices").await, notices + 1);
        tdb.cleanup().await;
    });
}

/// Run `n` copies of a request at once (every one is sent before any answer is awaited).
async fn futures_join<F, Fut, T>(n: usize, make: F) -> Vec<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    futures_util::future::join_all((0..n).map(|_| make())).await
}

/// The `value` attribute an `<input name=…>` shows, if any.
fn input_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let tag = &html[at..at + html[at..].find('>')?];
    Some(tag.split("value=\"").nth(1)?.split('"').next()?.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendar_security_and_password_forms_answer_every_field() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let before = common::fingerprint(&tdb.db).await;

        // 督办规则: four wrong numbers, four errors at once, each kept as typed; nothing saved.
        let admin = browser(&app, "admin").await;
        let token = common::hidden_csrf(&page(&admin, &app, "/calendar").await.1);
        let form = [
            ("_csrf", token.as_str()),
            ("year", "2026"),
            ("yellow_working_days", "99"),
            ("notice_after_working_days", "三"),
            ("ledger_after_working_days", "1"),
            ("forecast_late_days", "3"),
            ("cap_per_week", "0"),
        ];
        let (s, _, html) = post(&admin, &app, "/calendar/rules", &form).await;
        assert_eq!(s, 400);
        assert!(beside(&html, "黄灯提前工作日").unwrap().contains("应在 0 到 60 之间"));
        assert!(beside(&html, "逾期后通报预警工作日").unwrap().contains("不是整数"));
        assert!(beside(&html, "逾期后列入问题台账工作日").unwrap().contains("应大于通报预警工作日"));
        assert!(beside(&html, "每周催办上限").unwrap().contains("应在 1 到 50 之间"));
        assert!(html.contains("有 4 处需要修改"));
        for (k, v) in &form[2..] {
            assert_eq!(input_value(&html, k).as_deref(), Some(*v), "{k} keeps what was typed");
        }
        // 设置某日: no date and no name, both named; the choice 调休上班 kept.
        let form = [("_csrf", token.as_str()), ("year", "2026"), ("date", ""), ("off", "0"), ("name", " ")];
        let (s, _, html) = post(&admin, &app, "/calendar/day", &form).await;
        assert_eq!(s, 400);
        assert!(beside(&html, "日期").is_some() && beside(&html, "名称").is_some());
        assert!(html.contains("<option value=\"0\" selected>调休上班"));
        // 办公时间: refused with what was typed.
        let form = [("_csrf", token.as_str()), ("year", "2026"), ("spec", "25:00-12:00")];
        let (s, _, html) = post(&admin, &app, "/calendar/office-hours", &form).await;
        assert_eq!(s, 400);
        assert!(beside(&html, "办公时间").is_some());
        assert_eq!(input_value(&html, "spec").as_deref(), Some("25:00-12:00"));

        // 安全设置: five wrong values, five errors at once, kept.
        let sec = browser(&app, "anquan").await;
        let token = common::hidden_csrf(&page(&sec, &app, "/online").await.1);
        let form = [
            ("_csrf", token.as_str()),
            ("password_min_length", "6"),
            ("password_min_classes", "5"),
            ("lockout_attempts", "x"),
            ("lockout_minutes", "0"),
            ("login_per_minute", "1000"),
        ];
        let (s, _, html) = post(&sec, &app, "/security-settings", &form).await;
        assert_eq!(s, 400);
        assert!(html.contains("有 5 处需要修改"), "every setting at once");
        for f in ["密码最小长度", "密码字符类别数", "连续失败次数", "锁定时长（分钟）", "每分钟登录尝试次数"]
        {
            assert!(beside(&html, f).is_some(), "{f} named beside its field");
        }
        for (k, v) in &form[1..] {
            assert_eq!(input_value(&html, k).as_deref(), Some(*v), "{k} keeps what was typed");
        }

        // 修改密码: a wrong old password, a weak new one and a different confirmation, all named at
        // once; no password is sent back to the browser.
        let lly = browser(&app, "jsj_lly").await;
        let token = common::hidden_csrf(&page(&lly, &app, "/password").await.1);
        let form = [
            ("_csrf", token.as_str()),
            ("old_password", "wrong-old-1"),
            ("new_password", "short7"),
            ("new_password_again", "short8"),
        ];
        let (s, _, html) = post(&lly, &app, "/password", &form).await;
        assert_eq!(s, 400);
        assert_eq!(beside(&html, "原密码").as_deref(), Some("不正确"));
        assert!(beside(&html, "新密码").unwrap().contains("至少"));
        assert_eq!(beside(&html, "确认新密码").as_deref(), Some("两次输入的新密码不一致"));
        assert!(!html.contains("wrong-old-1") && !html.contains("short7"), "passwords are not sent back");
        assert_eq!(common::fingerprint(&tdb.db).await, before, "nothing changed");
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_decomposition_and_docking_forms_answer_every_field() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let api = Client::login(&app, "duchaju").await;
        let before = common::fingerprint(&tdb.db).await;

        // 清单 import: no name, no 文号, a future 来源日期 and no file, all named; the rest kept.
        let sup = browser(&app, "duchaju").await;
        let html = page(&sup, &app, "/imports").await.1;
        let (token, category) = (common::hidden_csrf(&html), first_option(&html, "category_id"));
        let form = reqwest::multipart::Form::new()
            .text("name", "")
            .text("doc_no", " ")
            .text("source_date", "2026-12-01")
            .text("category_id", category.clone())
            .text("description", "防汛隐患整改事项")
            .part("file", reqwest::multipart::Part::bytes(vec![]).file_name(""));
        let url = app.url(&format!("/imports/list?_csrf={}", urlencode(&token)));
        let r = sup.post(&url).multipart(form).send().await.unwrap();
        assert_eq!(r.status(), 400);
        let html = r.text().await.unwrap();
        assert_eq!(beside(&html, "清单名称").as_deref(), Some("不能为空"));
        assert_eq!(beside(&html, "清单文号").as_deref(), Some("不能为空"));
        assert_eq!(beside(&html, "来源日期").as_deref(), Some("不能晚于今天"));
        assert_eq!(beside(&html, "文件").as_deref(), Some("请选择要上传的文件"));
        assert_eq!(input_value(&html, "source_date").as_deref(), Some("2026-12-01"));
        assert_eq!(input_value(&html, "description").as_deref(), Some("防汛隐患整改事项"));
        assert!(selected(&html, "category_id", &category));
        assert_eq!(common::fingerprint(&tdb.db).await, before, "nothing imported");

        // 分解: two rows, three errors, each beside its row; both rows come back as sent.
        let lly = Client::login(&app, "jsj_lly").await;
        let jsj = api.unit_id("jsj").await;
        let task = json!({"title": "表单测试任务：分解", "source_kind": "meeting", "doc_no": "表单〔2026〕9号",
            "source_date": "2026-11-20", "lead_unit_id": jsj, "report_cycle": "weekly", "deadline": "2026-12-18",
            "assign_now": true});
        let (s, v) = api.post("/api/tasks", task).await;
        assert_eq!(s, 201, "{v}");
        let id = v["id"].as_i64().unwrap();
        assert_eq!(lly.act(id, "receive", json!({})).await.0, 200);
        let person = lly.get(&format!("/api/people?unit_id={jsj}")).await.1[0]["id"].to_string();
        let web = browser(&app, "jsj_lly").await;
        let token = common::hidden_csrf(&page(&web, &app, &format!("/tasks/{id}")).await.1);
        let jsj_s = jsj.to_string();
        let form = [
            ("_csrf", token.as_str()),
            ("sub_title", ""),
            ("sub_dept", jsj_s.as_str()),
            ("sub_person", person.as_str()),
            ("sub_deadline", "2026-12-19"),
            ("sub_title", "拟定整治方案"),
            ("sub_dept", jsj_s.as_str()),
            ("sub_person", person.as_str()),
            ("sub_deadline", "2027-01-08"),
        ];
        let before_sub = count(&tdb.db, "subtasks").await;
        let (s, _, html) = post(&web, &app, &format!("/tasks/{id}/actions/decompose"), &form).await;
        assert_eq!(s, 400);
        assert_eq!(beside(&html, "第1项子任务的名称").as_deref(), Some("不能为空"));
        assert!(beside(&html, "第1项子任务的完成时限").unwrap().contains("2026-12-19 是"));
        assert!(beside(&html, "第2项子任务的完成时限").unwrap().contains("不能晚于任务办理期限"));
        assert_eq!(html.matches("class=\"sub-row\"").count(), 2, "both rows come back");
        assert!(html.contains("value=\"拟定整治方案\"") && html.contains("value=\"2027-01-08\""));
        assert_eq!(count(&tdb.db, "subtasks").await, before_sub, "no row written");

        // 对接: 立项督办 with nothing filled in names every field; 终止 without a reason keeps the 说明.
        let tech = Client::login(&app, "kejiju").await;
        let open = tech.get("/api/dockings").await.1;
        let docking = open
            .as_array()
            .unwrap()
            .iter()
            .find(|d| !matches!(d["stage"].as_str(), Some("concluded" | "terminated")))
            .expect("an open docking in the demo")["id"]
            .as_i64()
            .unwrap();
        let path = format!("/docking/dockings/{docking}");
        let token = common::hidden_csrf(&page(&sup, &app, &path).await.1);
        let form = [("_csrf", token.as_str()), ("title", " "), ("doc_no", ""), ("lead_unit_id", ""), ("deadline", "")];
        let (s, _, html) = post(&sup, &app, &format!("{path}/tasks"), &form).await;
        assert_eq!(s, 400);
        for f in ["任务名称", "文号", "牵头单位", "办理期限"] {
            assert!(beside(&html, f).is_some(), "{f} named: {}", &html[html.find("form-task").unwrap_or(0)..][..800]);
        }
        let tech_web = browser(&app, "kejiju").await;
        let token = common::hidden_csrf(&page(&tech_web, &app, &path).await.1);
        let form = [("_csrf", token.as_str()), ("to", "terminated"), ("note", "企业暂缓投入"), ("reason", "")];
        let (s, _, html) = post(&tech_web, &app, &format!("{path}/move"), &form).await;
        assert_eq!(s, 400);
        assert_eq!(beside(&html, "终止原因").as_deref(), Some("终止对接须写明原因"));
        assert_eq!(input_value(&html, "note").as_deref(), Some("企业暂缓投入"));
        assert!(html.contains("value=\"terminated\" checked"), "终止 stays chosen");
        tdb.cleanup().await;
    });
}
