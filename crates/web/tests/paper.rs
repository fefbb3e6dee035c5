//! Paper where paper is the habit (issue 13, item 6), on both backends: the 督办通知单 and a
//! single 通报 as Word, every list exported as it is shown (filters, data scope, redactions),
//! the print layout of the exports checked by printing them with LibreOffice, and batch
//! 签收 / 催办 / 导出 — one audited action per task, answered row by row, also when the same
//! batch is fired 16 times at once.

mod common;

use std::sync::Arc;

use common::{Client, TestApp, dt, with_demo};
use serde_json::{Value, json};
use xietong_office::pdf::Tools;
use xietong_office::table::Column;
use xietong_storage::Db;

/// Monday 10:00, a working day.
const NOW: &str = "2026-11-23 10:00";

const LEDGER_HEADERS: [&str; 15] = [
    "编号",
    "亮灯",
    "任务名称",
    "文号",
    "任务来源",
    "工作类别",
    "牵头单位",
    "一把手",
    "分管领导",
    "状态",
    "进度(%)",
    "办理期限",
    "收件时间",
    "交办时间",
    "分解时间",
];

fn new_task(lead: i64, doc_no: &str, title: &str, deadline: &str) -> Value {
    json!({"title": title, "description": "按区政府常务会要求完成整治，年底前全部完工。", "source_kind": "meeting",
           "doc_no": doc_no, "source_title": "区政府常务会议纪要", "source_date": "2026-11-20", "lead_unit_id": lead,
           "co_unit_ids": [], "report_cycle": "weekly", "deadline": deadline, "assign_now": true})
}

/// A browser signed in through the login form (cookies kept).
async fn browser(app: &TestApp, username: &str) -> reqwest::Client {
    let c = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let r = common::form_login(&c, app, username, xietong_demo::DEMO_PASSWORD).await;
    assert!(r.status().is_success(), "sign in {username}: {}", r.status());
    c
}

async fn page(c: &reqwest::Client, app: &TestApp, path: &str) -> String {
    let r = c.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200, "GET {path}");
    r.text().await.unwrap()
}

/// The `href` of the element with this id, unescaped as the browser would.
fn href_of(html: &str, id: &str) -> String {
    let tag_at = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no element #{id}"));
    let tag_start = html[..tag_at].rfind('<').unwrap();
    let tag = &html[tag_start..html[tag_start..].find('>').unwrap() + tag_start];
    let h = tag.split("href=\"").nth(1).unwrap_or_else(|| panic!("#{id} has no href: {tag}"));
    h.split('"').next().unwrap().replace("&amp;", "&")
}

async fn download(c: &reqwest::Client, app: &TestApp, path: &str, content_type: &str) -> Vec<u8> {
    let r = c.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200, "GET {path}");
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert_eq!(ct, content_type, "GET {path}");
    r.bytes().await.unwrap().to_vec()
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// The data rows of an export's first sheet (title row and header skipped), by header.
fn ledger_rows(bytes: &[u8], headers: &[&str]) -> Vec<Vec<String>> {
    let cols: Vec<Column> = headers.iter().map(|h| Column::new(*h, *h)).collect();
    xietong_office::read::read_table("export.xlsx", bytes, &cols).unwrap().into_iter().map(|r| r.values).collect()
}

/// The print setup every export carries, read from the sheet's XML.
fn assert_print_layout(bytes: &[u8], what: &str) {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut sheet = String::new();
    zip.by_name("xl/worksheets/sheet1.xml").unwrap().read_to_string(&mut sheet).unwrap();
    let mut book = String::new();
    zip.by_name("xl/workbook.xml").unwrap().read_to_string(&mut book).unwrap();
    assert!(sheet.contains("<pageSetUpPr fitToPage=\"1\"/>"), "{what}: fit to page");
    let setup = sheet.split("<pageSetup ").nth(1).unwrap_or_else(|| panic!("{what}: no pageSetup")).to_string();
    for want in ["paperSize=\"9\"", "orientation=\"landscape\"", "fitToHeight=\"0\""] {
        assert!(setup.contains(want), "{what}: pageSetup lacks {want}: {setup}");
    }
    assert!(!setup.contains("fitToWidth=\"") || setup.contains("fitToWidth=\"1\""), "{what}: one page wide");
    assert!(book.contains("_xlnm.Print_Titles"), "{what}: the header row repeats on every page");
}

async fn count(db: &Db, sql: &str, id: i64) -> i64 {
    let r = sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).bind(id).fetch_one(&db.pool).await.unwrap();
    sqlx::Row::try_get::<i64, _>(&r, 0).unwrap()
}

async fn receipts(db: &Db, id: i64) -> (i64, i64) {
    let events = count(db, "SELECT COUNT(*) FROM task_events WHERE task_id = $1 AND action = 'receive'", id).await;
    let audits = count(
        db,
        "SELECT COUNT(*) FROM audit_log \
         WHERE entity = 'task' AND entity_id = CAST($1 AS TEXT) AND action = 'task.receive'",
        id,
    )
    .await;
    (events, audits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_ledger_prints_every_column_on_page_one_with_the_header_on_every_page() {
    // Printing is the same on both backends; the export's rows are checked on both below.
    let Some((tdb, app)) = with_demo(common::Backend::Sqlite, dt(NOW)).await else { return };
    let sup = Client::login(&app, "duchaju").await;
    // Enough tasks for several printed pages.
    let jsj = sup.unit_id("jsj").await;
    for i in 1..=60 {
        let title = format!("背街小巷综合整治提升第{i}批：路面、管网、立面和绿化改造");
        let (s, v) = sup.post("/api/tasks", new_task(jsj, &format!("打印〔2026〕{i}号"), &title, "2026-12-31")).await;
        assert_eq!(s, 201, "{v}");
    }
    let web = browser(&app, "duchaju").await;
    let html = page(&web, &app, "/tasks").await;
    let link = href_of(&html, "export");
    assert_eq!(link, "/api/exports/tasks", "no filter, no query");
    let bytes = download(&web, &app, &link, XLSX).await;
    assert_print_layout(&bytes, "task ledger");
    let rows = ledger_rows(&bytes, &LEDGER_HEADERS);
    assert!(rows.len() > 60, "every page of the list, not only the first 50: {}", rows.len());

    let Some(tools) = Tools::for_tests() else { return tdb.cleanup().await };
    let printed = tools.print_as(&bytes, "xlsx", "task-ledger").unwrap();
    eprintln!("task ledger: {} rows on {} pages; page 1:\n{}", rows.len(), printed.pages, printed.page(1));
    assert!(printed.pages >= 2, "a multi-page export: {} pages", printed.pages);
    for h in LEDGER_HEADERS {
        assert!(printed.page(1).contains(h), "page 1 shows the column {h}");
        assert!(printed.page(2).contains(h), "page 2 repeats the header {h}");
    }
    let lights: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    for light in ["红灯（已逾期）", "绿灯（正常推进）"] {
        assert!(lights.contains(&light), "the demo has {light} tasks");
        assert!(printed.text().contains(light), "the 亮灯 text {light} is printed whole");
    }
    let red_row = rows.iter().position(|r| r[1] == "红灯（已逾期）").unwrap();
    let first_page_rows = rows.iter().take_while(|r| printed.page(1).contains(&r[3])).count();
    assert!(first_page_rows > 5, "page 1 carries rows: {first_page_rows}");
    if red_row < first_page_rows {
        assert!(printed.page(1).contains("红灯（已逾期）"), "page 1 shows 红灯（已逾期） whole");
    }
    tdb.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_exports_what_it_shows() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = browser(&app, "duchaju").await;

        // Tasks: the page's filters ride on the export link; its rows are the list's rows.
        let html = page(&sup, &app, "/tasks?light=red&status=&q=").await;
        let link = href_of(&html, "export");
        assert_eq!(link, "/api/exports/tasks?light=red");
        let shown = html.matches("name=\"id\" value=").count();
        let rows = ledger_rows(&download(&sup, &app, &link, XLSX).await, &LEDGER_HEADERS);
        assert!(shown > 0 && rows.len() == shown, "red tasks: {} exported, {shown} shown", rows.len());
        assert!(rows.iter().all(|r| r[1] == "红灯（已逾期）"), "only red tasks");

        // Data scope: a liaison's export holds only his unit's tasks, as his list does.
        let lly = browser(&app, "jsj_lly").await;
        let html = page(&lly, &app, "/tasks").await;
        let rows = ledger_rows(&download(&lly, &app, &href_of(&html, "export"), XLSX).await, &LEDGER_HEADERS);
        let (_, listed) = Client::login(&app, "jsj_lly").await.get("/api/tasks?page_size=500").await;
        assert_eq!(rows.len() as i64, listed["total"].as_i64().unwrap(), "the liaison's scope");
        let mut ids: Vec<String> = rows.iter().map(|r| r[0].clone()).collect();
        let mut want: Vec<String> =
            listed["items"].as_array().unwrap().iter().map(|t| t["task"]["id"].to_string()).collect();
        ids.sort();
        want.sort();
        assert_eq!(ids, want);

        // Problems, with the status filter of the page.
        let problem_headers = ["编号", "问题", "来源任务", "牵头单位", "一把手", "涉及单位", "状态"];
        let all = ledger_rows(&download(&sup, &app, "/api/exports/problems", XLSX).await, &problem_headers);
        assert!(!all.is_empty(), "the demo has problems");
        let status = "coordinating";
        let html = page(&sup, &app, &format!("/problems?status={status}")).await;
        let link = href_of(&html, "export");
        assert_eq!(link, format!("/api/exports/problems?status={status}"));
        let bytes = download(&sup, &app, &link, XLSX).await;
        assert_print_layout(&bytes, "problems");
        let some = ledger_rows(&bytes, &problem_headers);
        let table = html.split("id=\"problems\"").nth(1).unwrap().split("</table>").next().unwrap();
        let shown = table.matches("<a href=\"/problems/").count();
        assert_eq!(some.len(), shown, "the filtered problems, as the page shows them");
        assert!(some.len() < all.len() && some.iter().all(|r| r[6] == "协调中"), "{some:?}");

        // Projects and notices: the page's link, the page's rows.
        for (path, headers, table_id) in [
            ("/projects", vec!["项目", "类型", "业主单位"], "projects"),
            ("/notices", vec!["编号", "发布日期", "类型", "文号", "标题"], "notices"),
        ] {
            let html = page(&sup, &app, path).await;
            let bytes = download(&sup, &app, &href_of(&html, "export"), XLSX).await;
            assert_print_layout(&bytes, path);
            let rows = ledger_rows(&bytes, &headers);
            let table = html.split(&format!("id=\"{table_id}\"")).nth(1).unwrap().split("</table>").next().unwrap();
            for r in &rows {
                let title = if path == "/projects" { &r[0] } else { &r[4] };
                assert!(table.contains(title.as_str()), "{path}: exported {title} is on the page");
            }
            assert!(!rows.is_empty(), "{path} exports rows");
        }

        // Every other export has the print layout too.
        for path in ["/api/exports/docking/dockings", "/api/exports/docking/contracts", "/api/templates/tasks"] {
            let bytes = download(&sup, &app, path, XLSX).await;
            assert_print_layout(&bytes, path);
        }
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docking_export_keeps_the_stage_filter_and_the_confidential_redaction() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let bureau = Client::login(&app, "kejiju").await;
        let qiye = Client::login(&app, "qiye").await;
        let secret = "保密难题：盾构主轴承密封寿命";
        let body = json!({"title": secret, "description": "盾构主轴承唇形密封在高水压下寿命不足，需延长至 5000 小时以上。",
            "keywords": "密封", "cooperation_mode": "合作开发", "confidential": true});
        let (s, v) = qiye.post("/api/tech-problems", body).await;
        assert_eq!(s, 201, "{v}");
        let id = v["id"].as_i64().unwrap();
        for action in ["pass_formal", "approve"] {
            let (s, v) = bureau.post(&format!("/api/reviews/problem/{id}"), json!({"action": action})).await;
            assert_eq!(s, 200, "{action}: {v}");
        }
        let (_, experts) = bureau.get("/api/experts").await;
        let expert = experts[0]["id"].as_i64().unwrap();
        let (s, v) = bureau
            .post("/api/dockings", json!({"title": "保密难题的对接", "problem_id": id, "expert_id": expert}))
            .await;
        assert_eq!(s, 201, "{v}");

        let headers = ["编号", "对接", "企业", "难题", "专家", "成果", "机构", "阶段"];
        let sup = browser(&app, "duchaju").await;
        let html = page(&sup, &app, "/docking/dockings?stage=recommended").await;
        assert!(!html.contains(secret), "the page hides the confidential title from the 督查局");
        let link = href_of(&html, "export");
        assert_eq!(link, "/api/exports/docking/dockings?stage=recommended");
        let bytes = download(&sup, &app, &link, XLSX).await;
        let rows = ledger_rows(&bytes, &headers);
        let table = html.split("id=\"dockings\"").nth(1).unwrap().split("</table>").next().unwrap();
        assert_eq!(rows.len(), table.matches("<a href=\"/docking/dockings/").count(), "the page's rows");
        assert!(rows.iter().all(|r| r[7] == "推荐"), "only the stage shown: {rows:?}");
        let flat: String = rows.iter().flatten().cloned().collect();
        assert!(!flat.contains(secret), "the export keeps the confidential title hidden");
        assert!(flat.contains(xietong_storage::dockings::CONFIDENTIAL_PROBLEM), "redacted as on screen");
        // The 科技局 sees the title on the page and in the export alike.
        let kj = browser(&app, "kejiju").await;
        let html = page(&kj, &app, "/docking/dockings?stage=recommended").await;
        assert!(html.contains(secret));
        let flat: String =
            ledger_rows(&download(&kj, &app, &href_of(&html, "export"), XLSX).await, &headers).concat().concat();
        assert!(flat.contains(secret));
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_order_is_a_printable_word_file_with_its_receipt() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let jsj = sup.unit_id("jsj").await;
        let title = "京广路易涝点综合整治";
        let (s, v) = sup.post("/api/tasks", new_task(jsj, "二七政阅〔2026〕88号", title, "2026-12-31")).await;
        assert_eq!(s, 201, "{v}");
        let id = v["id"].as_i64().unwrap();
        let lead = v["task"]["lead_unit_name"].as_str().unwrap().to_string();
        let head = v["task"]["lead_unit_head"].as_str().unwrap().to_string();

        // The task page links it; the liaison of the lead unit downloads it as the page does.
        let lly = browser(&app, "jsj_lly").await;
        let html = page(&lly, &app, &format!("/tasks/{id}")).await;
        let link = href_of(&html, "task-notice-docx");
        assert_eq!(link, format!("/tasks/{id}/notice.docx"));
        let bytes = download(&lly, &app, &link, DOCX).await;
        let api = Client::login(&app, "jsj_lly").await;
        let (s, from_api) = api.bytes(&format!("/api/tasks/{id}/notice.docx")).await;
        assert_eq!(s, 200);
        let text = xietong_office::notice::notice_text(&bytes).unwrap();
        assert_eq!(text, xietong_office::notice::notice_text(&from_api).unwrap(), "page and API give the same order");
        for want in
            ["督办通知单", "二七政阅〔2026〕88号", title, &lead, &head, "回执", "签收单位", "签收人", "联系电话"]
        {
            assert!(text.contains(want), "the order says {want}:\n{text}");
        }

        // Same scope as the task: another unit's liaison and a responsible person are refused.
        let other = Client::login(&app, "scjgj_lly").await;
        let (s, _) = other.bytes(&format!("/api/tasks/{id}/notice.docx")).await;
        assert!(s == 403 || s == 404, "another unit's liaison: {s}");
        let (s, _) = other.get(&format!("/api/tasks/{id}")).await;
        assert!(s == 403 || s == 404, "as for the task itself: {s}");
        let web = browser(&app, "scjgj_lly").await;
        let r = web.get(app.url(&format!("/tasks/{id}/notice.docx"))).send().await.unwrap();
        assert!(r.status() == 403 || r.status() == 404, "the page route too: {}", r.status());
        assert!(r.text().await.unwrap().contains("<html"), "refused with a page");
        let (s, _) = Client::login(&app, "qiye").await.bytes(&format!("/api/tasks/{id}/notice.docx")).await;
        assert_eq!(s, 403, "the permission table refuses platform roles");

        // On paper: LibreOffice prints it on one sheet with every fact and the 回执.
        if let Some(tools) = Tools::for_tests() {
            let printed = tools.print_as(&bytes, "docx", &format!("task-order-{b:?}")).unwrap();
            let flat: String = printed.text().split_whitespace().collect();
            eprintln!("督办通知单: {} page(s)\n{}", printed.pages, printed.text());
            assert_eq!(printed.pages, 1, "the order and its 回执 on one sheet");
            for want in ["二七政阅〔2026〕88号", title, &lead, "回执", "签收时间", "联系电话"] {
                assert!(flat.contains(want), "the printed order shows {want}");
            }
        }
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_notice_downloads_as_word() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let jsj = sup.unit_id("jsj").await;
        let body = json!({"kind": "criticism", "doc_no": "二七督通〔2026〕21号", "title": "关于京广路易涝点整治进度滞后的通报",
            "body": "京广路易涝点整治进度滞后，现予通报批评。\n请于5个工作日内报送整改情况。", "issued_on": "2026-11-23",
            "targets": [{"unit_id": jsj}]});
        let (s, v) = sup.post("/api/notices", body).await;
        assert_eq!(s, 201, "{v}");
        let id = v["id"].as_i64().unwrap();
        let unit = v["records"][0]["unit_name"].as_str().unwrap().to_string();
        let lly = browser(&app, "scjgj_lly").await;
        let html = page(&lly, &app, &format!("/notices/{id}")).await;
        let link = href_of(&html, "notice-docx");
        let bytes = download(&lly, &app, &link, DOCX).await;
        let text = xietong_office::notice::notice_text(&bytes).unwrap();
        for want in [
            "关于京广路易涝点整治进度滞后的通报",
            "二七督通〔2026〕21号",
            "请于5个工作日内报送整改情况。",
            &unit,
            "2026年11月23日",
        ] {
            assert!(text.contains(want), "the notice says {want}:\n{text}");
        }
        let (s, _) = Client::login(&app, "duchaju").await.bytes("/api/notices/999999/notice.docx").await;
        assert_eq!(s, 404);
        if let Some(tools) = Tools::for_tests() {
            let printed = tools.print_as(&bytes, "docx", &format!("notice-{b:?}")).unwrap();
            assert!(printed.text().split_whitespace().collect::<String>().contains("二七督通〔2026〕21号"));
        }
        tdb.cleanup().await;
    });
}

/// Tasks handed to the 建设和交通局, waiting for its liaison's 签收.
async fn assigned_tasks(sup: &Client, n: usize, tag: &str) -> Vec<i64> {
    let jsj = sup.unit_id("jsj").await;
    let mut ids = vec![];
    for i in 0..n {
        let (s, v) = sup
            .post("/api/tasks", new_task(jsj, &format!("{tag}〔2026〕{i}号"), &format!("{tag}任务{i}"), "2026-12-31"))
            .await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(v["task"]["status"], "assigned");
        ids.push(v["id"].as_i64().unwrap());
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_receive_from_the_todo_page_answers_row_by_row() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let ids = assigned_tasks(&sup, 3, "批量").await;
        let scj = sup.unit_id("scjgj").await;
        let (_, v) = sup.post("/api/tasks", new_task(scj, "他单位〔2026〕1号", "他单位的任务", "2026-12-31")).await;
        let foreign = v["id"].as_i64().unwrap();

        let web = browser(&app, "jsj_lly").await;
        let html = page(&web, &app, "/todo").await;
        for id in &ids {
            assert!(html.contains(&format!("name=\"id\" value=\"{id}\" form=\"batch\"")), "task {id} can be ticked");
        }
        assert!(html.contains("id=\"batch-receive\""), "the liaison gets 批量签收");
        assert!(!html.contains("id=\"batch-urge\""), "and no 批量催办");
        let csrf = common::hidden_csrf(&html);
        let mut form: Vec<(&str, String)> = vec![("_csrf", csrf.clone()), ("back", "/todo".into())];
        for id in ids.iter().chain([ids[0], foreign].iter()) {
            form.push(("id", id.to_string()));
        }
        // Without the token nothing is done.
        let no_token: Vec<_> = form.iter().filter(|(k, _)| *k != "_csrf").cloned().collect();
        let r = web.post(app.url("/tasks/batch/receive")).form(&no_token).send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(receipts(&tdb.db, ids[0]).await, (0, 0));

        let r = web.post(app.url("/tasks/batch/receive")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("已签收 3 项，未办理 1 项"), "{html}");
        assert!(!html.contains("他单位的任务"), "a task out of scope is not named");
        assert!(html.contains(&format!("编号 {foreign}")), "it is answered by number");
        for id in &ids {
            assert_eq!(receipts(&tdb.db, *id).await, (1, 1), "task {id}: one timeline entry, one audit entry");
            let (_, t) = sup.get(&format!("/api/tasks/{id}")).await;
            assert_eq!(t["task"]["status"], "received");
        }
        assert_eq!(receipts(&tdb.db, foreign).await, (0, 0));

        // Again: each is refused, with the reason in Chinese.
        let r = web.post(app.url("/tasks/batch/receive")).form(&form).send().await.unwrap();
        let html = r.text().await.unwrap();
        assert!(html.contains("已签收 0 项，未办理 4 项"), "{html}");
        assert!(html.contains("不能执行「签收」"), "{html}");

        // The API: the 督查局 may not receive, and the table says so before any task is touched.
        let (s, v) = sup.post("/api/tasks/batch/receive", json!({"ids": ids})).await;
        assert_eq!(s, 403, "{v}");
        let (s, v) = Client::login(&app, "jsj_lly").await.post("/api/tasks/batch/receive", json!({"ids": []})).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("ids")), "{v}");
        assert!(tdb.db.verify_audit().await.unwrap().is_ok());
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_urge_counts_each_task_against_its_weekly_cap() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let ids = assigned_tasks(&sup, 2, "催办").await;
        // The first task already had three 催办 this week (the default cap).
        for _ in 0..3 {
            let (s, v) = sup.act(ids[0], "urge", json!({"comment": "请抓紧"})).await;
            assert_eq!(s, 200, "{v}");
        }
        let (s, v) =
            sup.post("/api/tasks/batch/urge", json!({"ids": [ids[0], ids[1], 999_999], "comment": "月底前完成"})).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!((v["done"].as_u64(), v["refused"].as_u64()), (Some(1), Some(2)), "{v}");
        let r = v["results"].as_array().unwrap();
        assert_eq!((r[0]["ok"].as_bool(), r[0]["status"].as_u64()), (Some(false), Some(409)), "{v}");
        assert!(r[0]["message"].as_str().unwrap().contains("上限"), "the cap, in Chinese: {v}");
        assert_eq!(r[0]["title"], "催办任务0");
        assert_eq!((r[1]["ok"].as_bool(), r[1]["message"].as_str()), (Some(true), Some("已催办")));
        assert_eq!((r[2]["ok"].as_bool(), r[2]["status"].as_u64()), (Some(false), Some(404)));
        assert!(r[2]["title"].is_null());
        let urges = |id| count(&tdb.db, "SELECT COUNT(*) FROM urges WHERE task_id = $1 AND manual = 1", id);
        assert_eq!((urges(ids[0]).await, urges(ids[1]).await), (3, 1));
        let audits = count(
            &tdb.db,
            "SELECT COUNT(*) FROM audit_log \
             WHERE entity = 'task' AND entity_id = CAST($1 AS TEXT) AND action = 'task.urge'",
            ids[1],
        )
        .await;
        assert_eq!(audits, 1, "one audit entry for the one 催办");
        // A liaison may not urge.
        let lly = Client::login(&app, "jsj_lly").await;
        let (s, _) = lly.post("/api/tasks/batch/urge", json!({"ids": [ids[1]]})).await;
        assert_eq!(s, 403);

        // The page: the 督查局's list offers 批量催办 and 批量导出.
        let web = browser(&app, "duchaju").await;
        let html = page(&web, &app, "/tasks").await;
        assert!(html.contains("id=\"batch-urge\"") && html.contains("id=\"batch-export\""));
        assert!(!html.contains("id=\"batch-receive\""));
        let csrf = common::hidden_csrf(&html);
        let form = [("_csrf", csrf), ("id", ids[1].to_string()), ("comment", "请于本周五前报送".into())];
        let r = web.post(app.url("/tasks/batch/urge")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains("已催办 1 项，未办理 0 项"));
        assert_eq!(urges(ids[1]).await, 2);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_export_gives_the_ticked_rows_and_names_the_rest() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let ids = assigned_tasks(&sup, 3, "导出").await;
        let scj = sup.unit_id("scjgj").await;
        let (_, v) = sup.post("/api/tasks", new_task(scj, "他单位〔2026〕2号", "他单位的任务", "2026-12-31")).await;
        let foreign = v["id"].as_i64().unwrap();

        let web = browser(&app, "jsj_lly").await;
        let csrf = common::hidden_csrf(&page(&web, &app, "/tasks").await);
        let form =
            [("_csrf", csrf), ("id", ids[2].to_string()), ("id", foreign.to_string()), ("id", ids[0].to_string())];
        let r = web.post(app.url("/tasks/batch/export")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let bytes = r.bytes().await.unwrap().to_vec();
        assert_print_layout(&bytes, "batch export");
        let rows = ledger_rows(&bytes, &LEDGER_HEADERS);
        let got: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
        let want = [ids[2].to_string(), ids[0].to_string()];
        assert_eq!(got, want, "the ticked rows in order, the foreign one left out");
        let sheets = calamine_sheets(&bytes);
        assert_eq!(sheets, ["任务台账", "未导出"]);
        let r = web
            .post(app.url("/tasks/batch/export"))
            .form(&[("_csrf", common::hidden_csrf(&page(&web, &app, "/tasks").await))])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "nothing ticked");
        assert!(r.text().await.unwrap().contains("请至少选择一项任务"));
        tdb.cleanup().await;
    });
}

fn calamine_sheets(bytes: &[u8]) -> Vec<String> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut book = String::new();
    zip.by_name("xl/workbook.xml").unwrap().read_to_string(&mut book).unwrap();
    book.split("<sheet name=\"").skip(1).map(|s| s.split('"').next().unwrap().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_batch_fired_16_times_at_once_receives_each_task_once() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let ids = assigned_tasks(&sup, 8, "并发").await;
        let lly = Arc::new(Client::login(&app, "jsj_lly").await);
        let gate = Arc::new(tokio::sync::Barrier::new(16));
        let mut set = tokio::task::JoinSet::new();
        for i in 0..16 {
            let (gate, lly) = (gate.clone(), lly.clone());
            // Each batch lists the tasks in its own order, so batches meet on different rows.
            let mut mine = ids.clone();
            mine.rotate_left(i % ids.len());
            set.spawn(async move {
                gate.wait().await;
                lly.post("/api/tasks/batch/receive", json!({"ids": mine, "comment": "已签收"})).await
            });
        }
        let started = std::time::Instant::now();
        let (mut done, mut conflicts) = (std::collections::HashMap::<i64, usize>::new(), 0);
        while let Some(r) = set.join_next().await {
            let (s, v) = r.unwrap();
            assert_eq!(s, 200, "every batch is answered: {v}");
            for row in v["results"].as_array().unwrap() {
                let status = row["status"].as_u64().unwrap();
                assert!(status < 500, "no row fails on the server: {row}");
                if row["ok"] == true {
                    *done.entry(row["id"].as_i64().unwrap()).or_default() += 1;
                } else {
                    assert_eq!(status, 409, "a task received by another batch is a conflict: {row}");
                    conflicts += 1;
                    assert!(row["message"].as_str().unwrap().contains("签收"), "{row}");
                }
            }
        }
        eprintln!("{b:?}: 16 batches × {} tasks in {:?}, {conflicts} rows refused", ids.len(), started.elapsed());
        assert_eq!(conflicts, 15 * ids.len(), "every other batch was refused each task");
        for id in &ids {
            assert_eq!(done.get(id), Some(&1), "task {id} received by exactly one batch");
            assert_eq!(receipts(&tdb.db, *id).await, (1, 1), "task {id}: one timeline and one audit entry");
        }
        assert!(tdb.db.verify_audit().await.unwrap().is_ok());
        tdb.cleanup().await;
    });
}
