//! 从文件立项 (issue 17, item 1), on SQLite and PostgreSQL: a pasted 会议纪要 becomes a draft batch on
//! the page, the clerk's corrections are kept when the batch is refused, and confirming creates and
//! hands over every ticked item in one transaction, each with the document attached; 16 confirmations
//! of the same batch at once create it once.

mod common;

use common::{Client, dt, with_demo};
use serde_json::json;

const NOW: &str = "2026-11-23 10:00";

/// An invented 纪要: two assigning items (one with a Saturday deadline), one 听取 item.
const MINUTES: &str = concat!(
    "二七区人民政府专题会议纪要\n\n二七政专〔2026〕90号\n\n二七区人民政府办公室　　　　2026年11月20日\n\n",
    "　　2026年11月20日上午，常务副区长主持召开专题会议。现纪要如下：\n\n",
    "　　一、关于冬季道路保洁\n",
    "　　会议要求，由区城管局牵头，大学路街道配合，于12月10日前完成主次干道冬季保洁方案。\n\n",
    "　　二、关于学校周边交通\n",
    "　　会议要求，区教育局会同交警三大队，于12月19日前完成中小学周边交通安全排查。\n\n",
    "　　三、关于财政收支情况\n",
    "　　会议听取了区财政局关于财政收支情况的汇报。\n",
);

fn field(html: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    html.split(&key).nth(1).map(|r| r.split('"').next().unwrap_or("").to_string()).unwrap_or_default()
}

fn selected(html: &str, name: &str) -> Vec<String> {
    let Some(at) = html.find(&format!("name=\"{name}\"")) else { return vec![] };
    let block = &html[at..html[at..].find("</select>").map_or(html.len(), |e| at + e)];
    block
        .split("<option value=\"")
        .skip(1)
        .filter(|o| o.contains("selected"))
        .map(|o| o.split('"').next().unwrap().to_string())
        .collect()
}

/// The confirm form as the page filled it in, with `deadline_1` replaced by `second_deadline`.
fn confirm_form(html: &str, second_deadline: &str) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = vec![];
    for k in ["_csrf", "items", "doc_no", "doc_date", "source_title", "file_name"] {
        f.push((k.into(), field(html, k)));
    }
    f.push(("source_kind".into(), selected(html, "source_kind").first().cloned().unwrap_or_default()));
    let doc = html.split("<textarea name=\"document\" hidden>").nth(1).unwrap().split("</textarea>").next().unwrap();
    f.push(("document".into(), htmlescape(doc)));
    let n: usize = field(html, "items").parse().unwrap();
    for i in 0..n {
        f.push((format!("include_{i}"), "1".into()));
        for k in ["title", "doc_no"] {
            f.push((format!("{k}_{i}"), htmlescape(&field(html, &format!("{k}_{i}")))));
        }
        let deadline = if i == 1 { second_deadline.to_string() } else { field(html, &format!("deadline_{i}")) };
        f.push((format!("deadline_{i}"), deadline));
        f.push((format!("report_cycle_{i}"), "monthly".into()));
        for k in ["lead", "leader"] {
            f.push((format!("{k}_{i}"), selected(html, &format!("{k}_{i}")).first().cloned().unwrap_or_default()));
        }
        for c in selected(html, &format!("co_{i}")) {
            f.push((format!("co_{i}"), c));
        }
    }
    f
}

fn htmlescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&#x27;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

async fn count(db: &xietong_storage::Db, sql: &str) -> i64 {
    let r = sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(&db.pool).await.unwrap();
    sqlx::Row::try_get::<i64, _>(&r, "n").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pasted_minutes_becomes_tasks_handed_over_in_one_go() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        // The API's draft: two tasks, the 听取 apart; nothing is created.
        let (s, d) = sup.post("/api/intake/extract", json!({"text": MINUTES})).await;
        assert_eq!(s, 200, "{d}");
        assert_eq!(d["doc_no"], "二七政专〔2026〕90号");
        assert_eq!(d["tasks"].as_array().unwrap().len(), 2, "{d}");
        assert_eq!(d["tasks"][0]["lead"], json!(["城管局"]));
        assert_eq!(d["tasks"][0]["co"], json!(["大学路街道"]));
        assert_eq!(d["tasks"][1]["deadline"], "2026-12-19 18:00");
        assert!(d["tasks"][1]["flags"][0].as_str().unwrap().contains("不是工作日"), "{d}");
        assert_eq!(d["non_tasks"].as_array().unwrap().len(), 1);
        let lly = Client::login(&app, "jsj_lly").await;
        assert_eq!(lly.post("/api/intake/extract", json!({"text": MINUTES})).await.0, 403);
        let (s, v) = sup.post("/api/intake/extract", json!({"text": "会议纪要\n\n　　会议听取了汇报。\n"})).await;
        assert_eq!((s, v["tasks"].as_array().map(Vec::len)), (200, Some(0)));

        // The page: paste, read the draft beside the document.
        let web = reqwest::Client::builder().cookie_store(true).build().unwrap();
        assert_eq!(common::form_login(&web, &app, "duchaju", xietong_demo::DEMO_PASSWORD).await.status(), 200);
        let page = web.get(app.url("/intake")).send().await.unwrap().text().await.unwrap();
        let csrf = page.split("/intake/draft?_csrf=").nth(1).unwrap().split('"').next().unwrap().to_string();
        let form = reqwest::multipart::Form::new().text("text", MINUTES);
        let r = web.post(app.url(&format!("/intake/draft?_csrf={csrf}"))).multipart(form).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("<mark class=\"unit\" data-item=\"1\""), "units highlighted");
        assert!(
            html.contains("<mark class=\"due\" data-item=\"2\" title=\"第 2 项\">12月19日前</mark>"),
            "deadline words highlighted"
        );
        assert!(html.contains("不是工作日"));

        // Confirmed as drafted: the Saturday is refused naming the item, nothing is written, the
        // clerk's text stays.
        let before = count(&tdb.db, "SELECT COUNT(*) AS n FROM tasks").await;
        let mut f = confirm_form(&html, "2026-12-19");
        f.iter_mut().filter(|(k, _)| k == "title_0").for_each(|(_, v)| *v = "冬季道路保洁方案（已改）".into());
        let r = web.post(app.url("/intake/confirm")).form(&f).send().await.unwrap();
        assert_eq!(r.status(), 400);
        let again = r.text().await.unwrap();
        assert!(again.contains("第 2 项「办理期限」"), "{}", &again[..again.len().min(3000)]);
        assert!(again.contains("冬季道路保洁方案（已改）"));
        assert_eq!(count(&tdb.db, "SELECT COUNT(*) AS n FROM tasks").await, before);

        // Mended: both created and handed over, each with the document, one audit entry for the batch.
        let f = confirm_form(&again, "2026-12-18");
        let r = web.post(app.url("/intake/confirm")).form(&f).send().await.unwrap();
        assert!(r.url().path().starts_with("/tasks"), "{}", r.url());
        assert_eq!(count(&tdb.db, "SELECT COUNT(*) AS n FROM tasks").await, before + 2);
        let made = count(
            &tdb.db,
            "SELECT COUNT(*) AS n FROM tasks WHERE doc_no LIKE '二七政专〔2026〕90号-%' AND status = 'assigned'",
        )
        .await;
        assert_eq!(made, 2);
        let files = count(
            &tdb.db,
            "SELECT COUNT(*) AS n FROM attachments a JOIN tasks t ON t.id = a.task_id \
             WHERE t.doc_no LIKE '二七政专〔2026〕90号-%' AND a.original_name = '二七政专〔2026〕90号.txt'",
        )
        .await;
        assert_eq!(files, 2);
        assert_eq!(count(&tdb.db, "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'intake.confirm'").await, 1);
        let title = count(&tdb.db, "SELECT COUNT(*) AS n FROM tasks WHERE title = '冬季道路保洁方案（已改）'").await;
        assert_eq!(title, 1, "the clerk's correction is what was created");

        // The same batch confirmed 16 times at once (a double click, several tabs): made once at most.
        let mut racing = vec![];
        let f2: Vec<(String, String)> = f
            .iter()
            .map(|(k, v)| (k.clone(), if k.starts_with("doc_no_") { format!("{v}-再") } else { v.clone() }))
            .collect();
        for _ in 0..16 {
            let (web, url, f2) = (web.clone(), app.url("/intake/confirm"), f2.clone());
            racing.push(tokio::spawn(async move { web.post(url).form(&f2).send().await.unwrap().status().as_u16() }));
        }
        for r in racing {
            let s = r.await.unwrap();
            assert!(s == 200 || s == 400 || s == 409, "{s}");
        }
        let again = count(&tdb.db, "SELECT COUNT(*) AS n FROM tasks WHERE doc_no LIKE '%-再'").await;
        assert_eq!(again, 2, "one batch of the 16");
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_unit_is_flagged_until_an_alias_maps_it() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let text = MINUTES.replace("由区城管局牵头", "由区城管执法局牵头");
        let (_, d) = sup.post("/api/intake/extract", json!({"text": text})).await;
        let first = &d["tasks"][0];
        assert_ne!(first["lead"], json!(["城管局"]), "never guessed: {d}");
        let flags = d["tasks"].as_array().unwrap().iter().flat_map(|t| t["flags"].as_array().unwrap().clone());
        assert!(flags.clone().any(|f| f.as_str().unwrap().contains("区城管执法局")), "{d}");

        let cgj = sup.unit_id("cgj").await;
        let lly = Client::login(&app, "jsj_lly").await;
        assert_eq!(lly.put("/api/intake/aliases", json!({"words": "区城管执法局", "unit_id": cgj})).await.0, 403);
        let (s, v) = sup.put("/api/intake/aliases", json!({"words": "城管局", "unit_id": cgj})).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("words")), "{v}");
        let admin = Client::login(&app, "admin").await;
        assert_eq!(admin.put("/api/intake/aliases", json!({"words": "区城管执法局", "unit_id": cgj})).await.0, 204);
        let (_, d) = sup.post("/api/intake/extract", json!({"text": text})).await;
        assert_eq!(d["tasks"][0]["lead"], json!(["城管局"]), "{d}");
        assert_eq!(d["tasks"][0]["co"], json!(["大学路街道"]));

        let (_, list) = sup.get("/api/intake/aliases").await;
        let id = list[0]["id"].as_i64().unwrap();
        assert_eq!(sup.delete(&format!("/api/intake/aliases/{id}")).await.0, 204);
        assert_eq!(sup.delete(&format!("/api/intake/aliases/{id}")).await.0, 409);
        tdb.cleanup().await;
    });
}

/// A 纪要 uploaded as PDF (printed by LibreOffice, as a clerk's 另存为 PDF) gives the same draft, and
/// each task keeps the PDF itself, not only its text. A form naming a file that is not stored
/// falls back to the text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_pdf_is_read_and_kept_with_the_tasks() {
    use sha2::Digest;
    let Some(tools) = xietong_office::pdf::Tools::for_tests() else { return };
    let pdf = tools.to_pdf(MINUTES.as_bytes(), "txt").expect("LibreOffice prints the minutes");
    let pdf_sha = hex::encode(sha2::Sha256::digest(&pdf));
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let web = reqwest::Client::builder().cookie_store(true).build().unwrap();
        assert_eq!(common::form_login(&web, &app, "duchaju", xietong_demo::DEMO_PASSWORD).await.status(), 200);
        let page = web.get(app.url("/intake")).send().await.unwrap().text().await.unwrap();
        let csrf = page.split("/intake/draft?_csrf=").nth(1).unwrap().split('"').next().unwrap().to_string();
        let part = reqwest::multipart::Part::bytes(pdf.clone()).file_name("专题会议纪要.pdf");
        let form = reqwest::multipart::Form::new().part("file", part);
        let r = web.post(app.url(&format!("/intake/draft?_csrf={csrf}"))).multipart(form).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert_eq!(field(&html, "items"), "2", "the PDF's two assigning items");
        assert_eq!(field(&html, "doc_no"), "二七政专〔2026〕90号");
        assert_eq!(field(&html, "file_sha256"), pdf_sha, "the upload is stored and named by its hash");

        let mut f = confirm_form(&html, "2026-12-18");
        f.push(("file_sha256".into(), field(&html, "file_sha256")));
        let r = web.post(app.url("/intake/confirm")).form(&f).send().await.unwrap();
        assert!(r.url().path().starts_with("/tasks"), "{}", r.url());
        let kept = count(
            &tdb.db,
            &format!(
                "SELECT COUNT(*) AS n FROM attachments a JOIN tasks t ON t.id = a.task_id \
                 WHERE t.doc_no LIKE '二七政专〔2026〕90号-%' AND a.original_name = '专题会议纪要.pdf' \
                 AND a.mime = 'application/pdf' AND a.sha256 = '{pdf_sha}'"
            ),
        )
        .await;
        assert_eq!(kept, 2, "each task carries the PDF as uploaded");

        // A hash that names nothing stored: the tasks get the text instead, never a dangling file.
        let f: Vec<(String, String)> = f
            .into_iter()
            .map(|(k, v)| match k.as_str() {
                "file_sha256" => (k, "0".repeat(64)),
                k2 if k2.starts_with("doc_no_") => (k, format!("{v}-乙")),
                _ => (k, v),
            })
            .collect();
        let r = web.post(app.url("/intake/confirm")).form(&f).send().await.unwrap();
        assert!(r.url().path().starts_with("/tasks"), "{}", r.url());
        let text = count(
            &tdb.db,
            "SELECT COUNT(*) AS n FROM attachments a JOIN tasks t ON t.id = a.task_id \
             WHERE t.doc_no LIKE '%-乙' AND a.mime = 'text/plain'",
        )
        .await;
        assert_eq!(text, 2);
        tdb.cleanup().await;
    });
}

/// A 长期坚持 item has no end date, but a task needs one: the draft proposes the year's last working
/// day, says so, and the clerk confirms or changes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standing_item_is_proposed_the_year_end() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let web = reqwest::Client::builder().cookie_store(true).build().unwrap();
        assert_eq!(common::form_login(&web, &app, "duchaju", xietong_demo::DEMO_PASSWORD).await.status(), 200);
        let page = web.get(app.url("/intake")).send().await.unwrap().text().await.unwrap();
        let csrf = page.split("/intake/draft?_csrf=").nth(1).unwrap().split('"').next().unwrap().to_string();
        let text = concat!(
            "二七区人民政府专题会议纪要\n\n二七政专〔2026〕91号\n\n二七区人民政府办公室　　　　2026年11月20日\n\n",
            "　　一、关于冬季园林绿地防火\n",
            "　　会议要求，区园林局加强公园绿地冬季巡查，严防火灾发生。（责任单位：区园林局；完成时限：长期坚持）\n",
        );
        let form = reqwest::multipart::Form::new().text("text", text);
        let r = web.post(app.url(&format!("/intake/draft?_csrf={csrf}"))).multipart(form).send().await.unwrap();
        let html = r.text().await.unwrap();
        assert_eq!(field(&html, "items"), "1", "{html}");
        assert_eq!(field(&html, "deadline_0"), "2026-12-31");
        assert!(html.contains("长期坚持：任务须有办理期限，已暂按 2026-12-31"), "the clerk is told why");
        tdb.cleanup().await;
    });
}
