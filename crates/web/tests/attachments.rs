//! Evidence attached to task actions, on SQLite and PostgreSQL: type told by content, limits,
//! nothing stored on refusal, downloads under the task's own data scope, and a photo's EXIF
//! capture time shown with the 照片拍摄于交办之前 flag.

mod common;

use common::{Client, dt, fingerprint, with_demo};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

/// Monday 10:00, a working day: the task is created and assigned then.
const NOW: &str = "2026-11-23 10:00";

/// A small real JPEG with an EXIF APP1 segment: DateTimeOriginal `taken` ("YYYY:MM:DD HH:MM:SS")
/// and a GPS position (北纬 31°13'48" = 31.23°, 东经 121°28'12" = 121.47°). The TIFF structure is
/// written here by hand (big-endian) so the test controls every field.
fn exif_jpeg(taken: &str, shade: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(32, 24, |x, y| image::Rgb([(x * 8) as u8, (y * 10) as u8, shade]));
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90).encode_image(&img).unwrap();
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let entry = |t: &mut Vec<u8>, tag: u16, typ: u16, count: u32, value: u32| {
        t.extend(tag.to_be_bytes());
        t.extend(typ.to_be_bytes());
        t.extend(count.to_be_bytes());
        t.extend(value.to_be_bytes());
    };
    const ASCII: u16 = 2;
    const LONG: u16 = 4;
    const RATIONAL: u16 = 5;
    // Offsets from the TIFF header: IFD0 at 8 (2 entries, 30 bytes), Exif IFD at 38 (1 entry, 18),
    // GPS IFD at 56 (4 entries, 54), then the date (20 bytes) at 110, latitude at 130, longitude at 154.
    let mut t: Vec<u8> = b"MM\0\x2a\0\0\0\x08".to_vec();
    t.extend(2u16.to_be_bytes());
    entry(&mut t, 0x8769, LONG, 1, 38);
    entry(&mut t, 0x8825, LONG, 1, 56);
    t.extend(0u32.to_be_bytes());
    t.extend(1u16.to_be_bytes());
    entry(&mut t, 0x9003, ASCII, 20, 110);
    t.extend(0u32.to_be_bytes());
    t.extend(4u16.to_be_bytes());
    entry(&mut t, 1, ASCII, 2, u32::from_be_bytes([b'N', 0, 0, 0]));
    entry(&mut t, 2, RATIONAL, 3, 130);
    entry(&mut t, 3, ASCII, 2, u32::from_be_bytes([b'E', 0, 0, 0]));
    entry(&mut t, 4, RATIONAL, 3, 154);
    t.extend(0u32.to_be_bytes());
    assert_eq!(t.len(), 110);
    assert_eq!(taken.len(), 19);
    t.extend(taken.as_bytes());
    t.push(0);
    for (d, m, s) in [(31u32, 13u32, 48u32), (121, 28, 12)] {
        for v in [d, m, s] {
            t.extend(v.to_be_bytes());
            t.extend(1u32.to_be_bytes());
        }
    }
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(t);
    let mut out = jpeg[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(((app1.len() + 2) as u16).to_be_bytes());
    out.extend(app1);
    out.extend(&jpeg[2..]);
    out
}

fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

/// A ZIP archive (its local-file header and an entry), whatever name it is given.
fn zip_bytes() -> Vec<u8> {
    let mut z = b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00".to_vec();
    z.extend([0u8; 16]);
    z.extend(b"payload.exe MZ");
    z
}

/// A minimal OFD document (GB/T 33190): a ZIP with OFD.xml at its root.
fn ofd_bytes() -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default();
    w.start_file("OFD.xml", o).unwrap();
    w.write_all(b"<?xml version=\"1.0\"?><ofd:OFD xmlns:ofd=\"http://www.ofdspec.org/2016\" Version=\"1.0\"/>")
        .unwrap();
    w.start_file("Doc_0/Document.xml", o).unwrap();
    w.write_all(b"<ofd:Document/>").unwrap();
    w.finish().unwrap().into_inner()
}

fn form(fields: &[(&str, &str)], files: &[(&str, Vec<u8>)]) -> Form {
    let mut f = Form::new();
    for (k, v) in fields {
        f = f.text(k.to_string(), v.to_string());
    }
    for (name, bytes) in files {
        f = f.part("files", Part::bytes(bytes.clone()).file_name(name.to_string()));
    }
    f
}

async fn upload(c: &Client, path: &str, f: Form) -> (u16, Value) {
    let r = c.http.post(format!("{}{}", c.base, path)).bearer_auth(&c.token).multipart(f).send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn attachment_rows(db: &xietong_storage::Db) -> i64 {
    let r = sqlx::query("SELECT COUNT(*) AS n FROM attachments").fetch_one(&db.pool).await.unwrap();
    sqlx::Row::try_get::<i64, _>(&r, "n").unwrap()
}

/// A task of the 教育局 (jsj), assigned at NOW, received and decomposed by its liaison.
async fn task_in_progress(sup: &Client, lly: &Client, doc_no: &str) -> i64 {
    let jsj = sup.unit_id("jsj").await;
    let (s, v) = sup
        .post(
            "/api/tasks",
            json!({"title": "附件测试任务：背街小巷整治", "description": "按区政府常务会要求推进", "source_kind": "meeting",
                   "doc_no": doc_no, "source_title": "区政府常务会议纪要", "source_date": "2026-11-20", "lead_unit_id": jsj,
                   "co_unit_ids": [], "report_cycle": "weekly", "deadline": "2026-12-04", "assign_now": true}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    assert_eq!(lly.act(id, "receive", json!({})).await.0, 200);
    let (_, people) = lly.get(&format!("/api/people?unit_id={jsj}")).await;
    let person = people[0]["id"].as_i64().unwrap();
    let (s, v) = lly
        .act(id, "decompose", json!({"subtasks": [{"title": "制定整治方案", "dept_unit_id": jsj, "person_id": person, "deadline": "2026-12-02"}]}))
        .await;
    assert_eq!(s, 200, "{v}");
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_with_photo_and_pdf_stores_them_with_exif_and_flags_an_old_photo() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let lly = Client::login(&app, "jsj_lly").await;
        let id = task_in_progress(&sup, &lly, "附件〔2026〕1号").await;

        // A photo taken three days before the task was assigned, and a PDF.
        let old_photo = exif_jpeg("2026:11:20 14:03:00", 10);
        let f = form(
            &[("progress", "40"), ("text", "现场已清理")],
            &[("现场照片.jpg", old_photo.clone()), ("整治方案.pdf", pdf())],
        );
        let (s, v) = upload(&lly, &format!("/api/tasks/{id}/evidence/report"), f).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["task"]["progress"], 40);

        let (s, atts) = lly.get(&format!("/api/tasks/{id}/attachments")).await;
        assert_eq!(s, 200, "{atts}");
        let atts = atts.as_array().unwrap().clone();
        assert_eq!(atts.len(), 2);
        let photo = atts.iter().find(|a| a["original_name"] == "现场照片.jpg").unwrap();
        assert_eq!(photo["mime"], "image/jpeg");
        assert_eq!(photo["taken_at"], "2026-11-20T14:03:00");
        assert!((photo["gps_lat"].as_f64().unwrap() - 31.23).abs() < 1e-9, "{photo}");
        assert!((photo["gps_lon"].as_f64().unwrap() - 121.47).abs() < 1e-9, "{photo}");
        assert_eq!(photo["has_thumbnail"], true);
        assert_eq!(photo["record_kind"], "task_event");
        use sha2::Digest;
        assert_eq!(photo["sha256"], hex::encode(sha2::Sha256::digest(&old_photo)));
        let doc = atts.iter().find(|a| a["original_name"] == "整治方案.pdf").unwrap();
        assert_eq!(doc["mime"], "application/pdf");
        assert_eq!(doc["has_thumbnail"], false);
        assert!(doc["taken_at"].is_null());
        // The attachments belong to the report's timeline entry.
        let (_, t) = lly.get(&format!("/api/tasks/{id}")).await;
        let report = t["events"].as_array().unwrap().iter().rev().find(|e| e["action"] == "report").unwrap().clone();
        assert_eq!(photo["record_id"], report["id"]);

        // Download: the same bytes, the original name (RFC 5987), nosniff.
        let pid = photo["id"].as_i64().unwrap();
        let r = lly
            .http
            .get(app.url(&format!("/api/attachments/{}", doc["id"])))
            .bearer_auth(&lly.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let cd = r.headers()["content-disposition"].to_str().unwrap().to_string();
        assert!(
            cd.starts_with("attachment;") && cd.contains("filename*=UTF-8''%E6%95%B4%E6%B2%BB%E6%96%B9%E6%A1%88.pdf"),
            "{cd}"
        );
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(r.headers()["content-type"], "application/pdf");
        assert_eq!(r.bytes().await.unwrap().to_vec(), pdf());
        let (s, bytes) = lly.bytes(&format!("/api/attachments/{pid}")).await;
        assert_eq!((s, bytes == old_photo), (200, true));
        let (s, thumb) = lly.bytes(&format!("/api/attachments/{pid}/thumbnail")).await;
        assert_eq!(s, 200);
        let decoded = image::load_from_memory(&thumb).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (32, 24), "a small image is not enlarged");
        assert_eq!(lly.bytes(&format!("/api/attachments/{}/thumbnail", doc["id"])).await.0, 404);

        // A second report with a photo taken after the assignment, and the first photo again:
        // same bytes are stored once.
        let blobs_before = app.state.blobs.count().await;
        let new_photo = exif_jpeg("2026:11:23 10:00:30", 200);
        let f = form(
            &[("progress", "60"), ("text", "整改过半")],
            &[("整改后.jpg", new_photo), ("现场照片-副本.jpg", old_photo.clone())],
        );
        let (s, v) = upload(&lly, &format!("/api/tasks/{id}/evidence/report"), f).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(
            app.state.blobs.count().await,
            blobs_before + 2,
            "one new file and its thumbnail; the copy is not stored again"
        );
        assert_eq!(attachment_rows(&tdb.db).await, 4);

        // The task page shows the capture time and place beside the report, and flags only the old photo.
        let r = lly.http.get(app.url(&format!("/tasks/{id}"))).bearer_auth(&lly.token).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("拍摄于 2026-11-20 14:03，北纬 31.2300°，东经 121.4700°"), "EXIF shown");
        assert!(html.contains("拍摄于 2026-11-23 10:00"), "the new photo's time shown");
        assert_eq!(html.matches("照片拍摄于交办之前").count(), 2, "the old photo in both reports, not the new one");
        assert!(html.contains(&format!("/attachments/{pid}/thumbnail")));
        assert!(html.contains("enctype=\"multipart/form-data\""), "the report form takes files");

        // 办结申请 with its evidence; a page download of it works with the same rule.
        let f = form(&[("text", "已全部完成")], &[("验收报告.pdf", pdf())]);
        let (s, v) = upload(&lly, &format!("/api/tasks/{id}/evidence/request_completion"), f).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["task"]["status"], "pending_review");
        assert_eq!(attachment_rows(&tdb.db).await, 5);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disguised_oversized_and_unreachable_uploads_are_refused_and_store_nothing() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let lly = Client::login(&app, "jsj_lly").await;
        let id = task_in_progress(&sup, &lly, "附件〔2026〕2号").await;
        let before = fingerprint(&tdb.db).await;
        let blobs = app.state.blobs.count().await;
        let path = format!("/api/tasks/{id}/evidence/report");
        let fields = [("progress", "50"), ("text", "进展")];

        // A ZIP named .jpg, next to a good PDF: the whole report is refused, naming the file.
        let (s, v) =
            upload(&lly, &path, form(&fields, &[("整治方案.pdf", pdf()), ("现场照片.jpg", zip_bytes())])).await;
        assert_eq!(s, 400, "{v}");
        let msg = v["error"].as_str().unwrap();
        assert!(msg.contains("「现场照片.jpg」") && msg.contains("ZIP"), "{msg}");
        // Neither an executable.
        let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff".to_vec();
        exe.extend([0u8; 64]);
        let (s, v) = upload(&lly, &path, form(&fields, &[("说明.docx", exe)])).await;
        assert_eq!(s, 400, "{v}");
        assert!(v["error"].as_str().unwrap().contains("「说明.docx」"), "{v}");
        // A file over 20 MiB.
        let mut big = pdf();
        big.resize(21 * 1024 * 1024, b' ');
        let (s, v) = upload(&lly, &path, form(&fields, &[("扫描件.pdf", big)])).await;
        assert_eq!(s, 400, "{v}");
        assert!(v["error"].as_str().unwrap().contains("「扫描件.pdf」过大"), "{v}");
        // Ten files, one more than a report may carry.
        let ten: Vec<(&str, Vec<u8>)> = (0..10).map(|_| ("p.pdf", pdf())).collect();
        let (s, v) = upload(&lly, &path, form(&fields, &ten)).await;
        assert_eq!(s, 400, "{v}");
        assert!(v["error"].as_str().unwrap().contains("数量"), "{v}");
        // A liaison of another unit cannot reach the task: 403, and the file is not even stored.
        let other = Client::login(&app, "scjgj_lly").await;
        let (s, _) =
            upload(&other, &path, form(&fields, &[("现场照片.jpg", exif_jpeg("2026:11:23 11:00:00", 1))])).await;
        assert_eq!(s, 403);
        // Files on an action that carries none (签收 is done; 催办 by the 督查局) are refused.
        let (s, v) = upload(
            &sup,
            &format!("/api/tasks/{id}/evidence/urge"),
            form(&[("comment", "请加快")], &[("a.pdf", pdf())]),
        )
        .await;
        assert_eq!(s, 400, "{v}");

        // Other routes keep their 4 MiB limit: 413, or the connection closed while the client was
        // still sending (the server answers on the declared length without reading the body).
        let huge = "x".repeat(5 * 1024 * 1024);
        let r = lly
            .http
            .post(app.url(&format!("/api/tasks/{id}/actions/report")))
            .bearer_auth(&lly.token)
            .json(&json!({"progress": 50, "text": huge}))
            .send()
            .await;
        match r {
            Ok(r) => assert_eq!(r.status(), 413),
            Err(e) => assert!(e.is_request(), "{e}"),
        }

        assert_eq!(fingerprint(&tdb.db).await, before, "no timeline entry, no row");
        assert_eq!(attachment_rows(&tdb.db).await, 0);
        assert_eq!(app.state.blobs.count().await, blobs, "no file stored");

        // The page form: refused with the message naming the file, the typed text kept.
        let r = lly
            .http
            .post(app.url(&format!("/tasks/{id}/evidence/report")))
            .bearer_auth(&lly.token)
            .multipart(form(&[("progress", "55"), ("text", "背街小巷已完成清理七处")], &[("现场.jpg", zip_bytes())]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let html = r.text().await.unwrap();
        assert!(html.contains("「现场.jpg」"), "the file is named");
        assert!(html.contains("背街小巷已完成清理七处"), "the typed text is kept");
        assert_eq!(attachment_rows(&tdb.db).await, 0);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_downloads_exactly_when_it_may_view_the_task() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let lly = Client::login(&app, "jsj_lly").await;
        let id = task_in_progress(&sup, &lly, "附件〔2026〕3号").await;
        let f = form(&[("progress", "30"), ("text", "推进中")], &[("现场.jpg", exif_jpeg("2026:11:23 11:00:00", 7))]);
        assert_eq!(upload(&lly, &format!("/api/tasks/{id}/evidence/report"), f).await.0, 200);
        // A source document on the task itself, by the 督查局.
        let (s, v) = upload(&sup, &format!("/api/tasks/{id}/attachments"), form(&[], &[("会议纪要.pdf", pdf())])).await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(v[0]["record_kind"], "task");
        // Only the 督查局 adds source documents.
        let (s, _) = upload(&lly, &format!("/api/tasks/{id}/attachments"), form(&[], &[("x.pdf", pdf())])).await;
        assert_eq!(s, 403);
        let (_, atts) = sup.get(&format!("/api/tasks/{id}/attachments")).await;
        let ids: Vec<i64> = atts.as_array().unwrap().iter().map(|a| a["id"].as_i64().unwrap()).collect();
        assert_eq!(ids.len(), 2);

        // Every account signs in from this one address: lift the per-address login limit.
        let sec = Client::login(&app, "anquan").await;
        let (_, mut settings) = sec.get("/api/security-settings").await;
        settings["login_per_minute"] = json!(600);
        assert_eq!(sec.put("/api/security-settings", settings).await.0, 204);
        let rows = sqlx::query("SELECT username FROM users WHERE active = 1 ORDER BY username")
            .fetch_all(&tdb.db.pool)
            .await
            .unwrap();
        let users: Vec<String> = rows.iter().map(|r| sqlx::Row::try_get::<String, _>(r, "username").unwrap()).collect();
        assert!(users.len() >= 10, "{users:?}");
        let (mut allowed, mut refused) = (0, 0);
        for name in &users {
            let c = Client::login(&app, name).await;
            let may_view = c.get(&format!("/api/tasks/{id}")).await.0 == 200;
            for a in &ids {
                let (s, _) = c.bytes(&format!("/api/attachments/{a}")).await;
                let (list, _) = c.get(&format!("/api/tasks/{id}/attachments")).await;
                if may_view {
                    assert_eq!((s, list), (200, 200), "{name} views the task, so downloads its files");
                    allowed += 1;
                } else {
                    assert!(matches!(s, 403 | 404), "{name} may not view the task but got {s}");
                    assert!(matches!(list, 403 | 404), "{name}: list {list}");
                    refused += 1;
                }
            }
        }
        assert!(allowed > 0 && refused > 0, "both kinds of user exist ({allowed}, {refused})");
        assert_eq!(sup.bytes("/api/attachments/999999").await.0, 404);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_page_report_form_uploads_a_photo_in_a_browser_session() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let lly = Client::login(&app, "jsj_lly").await;
        let id = task_in_progress(&sup, &lly, "附件〔2026〕4号").await;
        // A browser: the login form and the session cookie, no bearer token.
        let web = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .unwrap();
        let r = common::form_login(&web, &app, "jsj_lly", xietong_demo::DEMO_PASSWORD).await;
        assert_eq!(r.status(), 200);
        let html = web.get(app.url(&format!("/tasks/{id}"))).send().await.unwrap().text().await.unwrap();
        // The report form as the page renders it: multipart, posting to the evidence route.
        let at = html.find("id=\"form-report\"").expect("the report form");
        let start = html[..at].rfind("<form").unwrap();
        let tag = &html[start..at];
        assert!(html[start..].starts_with("<form") && html[at..].contains("multipart/form-data"));
        let action = tag.split("action=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
        assert!(action.starts_with(&format!("/tasks/{id}/evidence/report?_csrf=")), "{action}");
        let version = lly.get(&format!("/api/tasks/{id}")).await.1["task"]["version"].to_string();

        // Without the token in the URL the upload is refused as cross-site.
        let f = form(
            &[("version", &version), ("progress", "20"), ("text", "已启动")],
            &[("a.jpg", exif_jpeg("2026:11:23 10:01:00", 3))],
        );
        let r = web.post(app.url(&format!("/tasks/{id}/evidence/report"))).multipart(f).send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(attachment_rows(&tdb.db).await, 0);

        let f = form(
            &[("version", &version), ("progress", "20"), ("text", "已启动")],
            &[("启动会.jpg", exif_jpeg("2026:11:23 10:01:00", 3))],
        );
        let r = web.post(app.url(&action)).multipart(f).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.url().query().unwrap_or("").contains("done=report"), "{}", r.url());
        let html = r.text().await.unwrap();
        assert!(html.contains("启动会.jpg") && html.contains("拍摄于 2026-11-23 10:01"), "the photo beside the report");
        assert!(!html.contains("照片拍摄于交办之前"));
        assert_eq!(attachment_rows(&tdb.db).await, 1);
        tdb.cleanup().await;
    });
}

/// Sign every active demo account in (the per-address login limit lifted first).
async fn all_users(app: &common::TestApp, tdb: &common::TestDb) -> Vec<(String, Client)> {
    let sec = Client::login(app, "anquan").await;
    let (_, mut settings) = sec.get("/api/security-settings").await;
    settings["login_per_minute"] = json!(600);
    assert_eq!(sec.put("/api/security-settings", settings).await.0, 204);
    let rows = sqlx::query("SELECT username FROM users WHERE active = 1 ORDER BY username")
        .fetch_all(&tdb.db.pool)
        .await
        .unwrap();
    let mut out = vec![];
    for r in &rows {
        let name: String = sqlx::Row::try_get(r, "username").unwrap();
        let c = Client::login(app, &name).await;
        out.push((name, c));
    }
    out
}

fn ids_of(v: &Value) -> Vec<i64> {
    v.as_array().map(|a| a.iter().filter_map(|x| x["id"].as_i64()).collect()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_kind_carries_files_that_reach_exactly_its_readers() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let leader = Client::login(&app, "fqz_cj").await;
        let tech = Client::login(&app, "kejiju").await;
        let lly = Client::login(&app, "jsj_lly").await;

        // One record of each kind, and who may add files to it.
        let (s, v) = leader
            .post("/api/visits", json!({"visited_on": "2026-11-22", "place": "大学路施工现场", "findings": "围挡破损"}))
            .await;
        assert_eq!(s, 201, "{v}");
        let visit = v["id"].as_i64().unwrap();
        let notice = ids_of(&sup.get("/api/notices").await.1)[0];
        let problem = ids_of(&sup.get("/api/problems").await.1)[0];
        let docking = ids_of(&tech.get("/api/dockings").await.1)[0];
        let (s, v) = tech
            .post(
                &format!("/api/dockings/{docking}/activities"),
                json!({"title": "现场对接会", "kind": "座谈会", "held_on": "2026-11-20", "place": "科技局"}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        let activity = v["id"].as_i64().unwrap();
        let (s, v) = tech
            .post(
                "/api/contracts",
                json!({"contract_no": "2026410100000999", "kind": "技术开发", "buyer": "郑州某公司", "seller": "某高校",
                       "amount_wan": 50.0, "technical_income_wan": 40.0, "signed_on": "2026-11-10"}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        let contract = v["id"].as_i64().unwrap();
        let records = [
            ("visits", visit, &leader),
            ("notices", notice, &sup),
            ("problems", problem, &sup),
            ("activities", activity, &tech),
            ("contracts", contract, &tech),
        ];
        for (kind, id, who) in records {
            let path = format!("/api/{kind}/{id}/attachments");
            // Someone who does not keep the record adds nothing, and nothing is stored.
            let before = attachment_rows(&tdb.db).await;
            let (s, v) = upload(&lly, &path, form(&[], &[("x.pdf", pdf())])).await;
            assert!(matches!(s, 403 | 404), "{kind}: jsj_lly uploads → {s} {v}");
            assert_eq!(attachment_rows(&tdb.db).await, before, "{kind}");
            // A disguised file is refused by its name.
            let (s, v) = upload(who, &path, form(&[], &[("照片.jpg", zip_bytes())])).await;
            assert_eq!(s, 400, "{kind}: {v}");
            assert!(v["error"].as_str().unwrap_or("").contains("照片.jpg"), "{v}");
            assert_eq!(attachment_rows(&tdb.db).await, before, "{kind}");
            // The notice's stamped copy comes as OFD, the others as PDF.
            let file = if kind == "notices" {
                ("通报.ofd".to_string(), ofd_bytes())
            } else {
                (format!("{kind}.pdf"), pdf())
            };
            let (s, v) = upload(who, &path, form(&[], &[(&file.0, file.1)])).await;
            assert_eq!(s, 201, "{kind}: {v}");
            assert_eq!(v.as_array().unwrap().len(), 1, "{kind}: {v}");
            let mime = if kind == "notices" { "application/ofd" } else { "application/pdf" };
            assert_eq!(v[0]["mime"], mime, "{kind}: {v}");
        }
        // The stored file of each record, to try by id as every account.
        let mut file_of = std::collections::HashMap::new();
        for r in sqlx::query("SELECT id, record_kind FROM attachments").fetch_all(&tdb.db.pool).await.unwrap() {
            let kind: String = sqlx::Row::try_get(&r, "record_kind").unwrap();
            file_of.insert(kind, sqlx::Row::try_get::<i64, _>(&r, "id").unwrap());
        }
        assert_eq!(file_of.len(), 5, "{file_of:?}");
        let stored = |kind: &str| {
            let k = match kind {
                "visits" => "visit",
                "notices" => "notice",
                "problems" => "problem",
                "activities" => "docking_activity",
                _ => "contract",
            };
            file_of[k]
        };

        // Every account: the files of a record are readable exactly when the record is, judged
        // by the record's own endpoint.
        let mut seen = [0usize; 2];
        for (name, c) in all_users(&app, &tdb).await {
            let reads = [
                ("visits", visit, ids_of(&c.get("/api/visits").await.1).contains(&visit)),
                ("notices", notice, c.get(&format!("/api/notices/{notice}")).await.0 == 200),
                ("problems", problem, c.get(&format!("/api/problems/{problem}")).await.0 == 200),
                ("activities", activity, c.get(&format!("/api/dockings/{docking}")).await.0 == 200),
                ("contracts", contract, ids_of(&c.get("/api/contracts").await.1).contains(&contract)),
            ];
            for (kind, id, may_read) in reads {
                let (ls, list) = c.get(&format!("/api/{kind}/{id}/attachments")).await;
                if may_read {
                    assert_eq!(ls, 200, "{name} reads {kind} {id} so lists its files: {list}");
                    let files = ids_of(&list);
                    assert_eq!(files, vec![stored(kind)], "{name} {kind}");
                    assert_eq!(c.bytes(&format!("/api/attachments/{}", files[0])).await.0, 200, "{name} {kind}");
                    seen[0] += 1;
                } else {
                    assert!(matches!(ls, 403 | 404), "{name} may not read {kind} {id} but lists its files: {ls}");
                    let s = c.bytes(&format!("/api/attachments/{}", stored(kind))).await.0;
                    assert!(matches!(s, 403 | 404), "{name} may not read {kind} {id} but downloads its file: {s}");
                    let s = c.bytes(&format!("/api/attachments/{}/thumbnail", stored(kind))).await.0;
                    assert!(matches!(s, 403 | 404), "{name}: thumbnail {s}");
                    seen[1] += 1;
                }
            }
        }
        assert!(seen[0] > 10 && seen[1] > 10, "readers and non-readers both exist: {seen:?}");
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_category_can_require_evidence_for_completion() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let lly = Client::login(&app, "jsj_lly").await;
        let id = task_in_progress(&sup, &lly, "附件〔2026〕5号").await;
        let (_, t) = sup.get(&format!("/api/tasks/{id}")).await;
        let category = t["task"]["category_id"].as_i64();
        let category = match category {
            Some(c) => c,
            None => {
                // The task has no category: give it the first one, as the 立项 form would.
                let c = ids_of(&sup.get("/api/categories").await.1)[0];
                sqlx::query("UPDATE tasks SET category_id = $1 WHERE id = $2")
                    .bind(c)
                    .bind(id)
                    .execute(&tdb.db.pool)
                    .await
                    .unwrap();
                c
            }
        };
        let rule = format!("/api/categories/{category}/evidence-rule");
        // Only the 督查局 sets the rule.
        assert_eq!(lly.put(&rule, json!({"completion_evidence": true})).await.0, 403);
        assert_eq!(sup.put(&rule, json!({"completion_evidence": true})).await.0, 204);
        let (_, cats) = sup.get("/api/categories").await;
        let c = cats.as_array().unwrap().iter().find(|c| c["id"] == category).unwrap();
        assert_eq!(c["completion_evidence"], true);

        // Without a file the 办结申请 is refused and nothing changes; through the JSON route too.
        let (s, v) = lly.act(id, "request_completion", json!({"text": "已完成整治"})).await;
        assert_eq!(s, 400, "{v}");
        assert!(v["error"].as_str().unwrap().contains("须附证明材料"), "{v}");
        let f = form(&[("text", "已完成整治")], &[]);
        let (s, v) = upload(&lly, &format!("/api/tasks/{id}/evidence/request_completion"), f).await;
        assert_eq!(s, 400, "{v}");
        let (_, t) = lly.get(&format!("/api/tasks/{id}")).await;
        assert_eq!(t["task"]["status"], "in_progress");
        // With the acceptance scan it goes through.
        let f = form(&[("text", "已完成整治")], &[("验收单.pdf", pdf())]);
        let (s, v) = upload(&lly, &format!("/api/tasks/{id}/evidence/request_completion"), f).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["task"]["status"], "pending_review");
        // Cleared again, the rule no longer applies (and clearing twice is no change).
        assert_eq!(sup.put(&rule, json!({"completion_evidence": false})).await.0, 204);
        assert_eq!(sup.put(&rule, json!({"completion_evidence": false})).await.0, 204);
        let n = sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'category.completion_evidence'")
            .fetch_one(&tdb.db.pool)
            .await
            .unwrap();
        assert_eq!(sqlx::Row::try_get::<i64, _>(&n, "n").unwrap(), 2, "one audit entry per real change");

        // The 立项 page's table sets it in a browser session.
        let web = reqwest::Client::builder().cookie_store(true).build().unwrap();
        assert_eq!(common::form_login(&web, &app, "duchaju", xietong_demo::DEMO_PASSWORD).await.status(), 200);
        let html = web.get(app.url("/tasks/new")).send().await.unwrap().text().await.unwrap();
        let form_at = html.find(&format!("action=\"/categories/{category}/evidence-rule\"")).expect("the rule form");
        let csrf = html[form_at..].split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap();
        let r = web
            .post(app.url(&format!("/categories/{category}/evidence-rule")))
            .form(&[("_csrf", csrf), ("completion_evidence", "1")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let (_, cats) = sup.get("/api/categories").await;
        assert_eq!(cats.as_array().unwrap().iter().find(|c| c["id"] == category).unwrap()["completion_evidence"], true);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_problem_page_upload_form_stores_a_photo_in_a_browser_session() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let problem = ids_of(&sup.get("/api/problems").await.1)[0];
        let web = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .unwrap();
        let r = common::form_login(&web, &app, "duchaju", xietong_demo::DEMO_PASSWORD).await;
        assert_eq!(r.status(), 200);
        let html = web.get(app.url(&format!("/problems/{problem}"))).send().await.unwrap().text().await.unwrap();
        let at = html.find(&format!("id=\"upload-problem-{problem}\"")).expect("the upload form");
        let start = html[..at].rfind("<form").unwrap();
        let action =
            html[start..at].split("action=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
        assert!(action.starts_with(&format!("/attachments/upload/problem/{problem}?_csrf=")), "{action}");
        let r = web
            .post(app.url(&action))
            .multipart(form(&[], &[("积水现场.jpg", exif_jpeg("2026:11:22 09:30:00", 5))]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("积水现场.jpg") && html.contains("拍摄于 2026-11-22 09:30"), "the photo on the page");
        assert_eq!(attachment_rows(&tdb.db).await, 1);
        // A liaison of an unrelated unit has no form and its upload is refused.
        let other = reqwest::Client::builder().cookie_store(true).build().unwrap();
        common::form_login(&other, &app, "jyj_lly", xietong_demo::DEMO_PASSWORD).await;
        let html = other.get(app.url(&format!("/problems/{problem}"))).send().await.unwrap().text().await.unwrap();
        assert!(!html.contains("upload-problem-"), "no upload form for a reader who does not keep the record");
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_taken_far_from_the_task_site_is_flagged() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let lly = Client::login(&app, "jsj_lly").await;
        let id = task_in_progress(&sup, &lly, "附件〔2026〕6号").await;
        let site = format!("/api/tasks/{id}/site");
        // Only the 督查局 sets it; bad coordinates are refused naming the field.
        assert_eq!(lly.put(&site, json!({"name": "二七广场", "lat": 34.75, "lon": 113.67})).await.0, 403);
        let (s, v) = sup.put(&site, json!({"name": "二七广场", "lat": 134.75, "lon": 113.67})).await;
        assert_eq!(s, 400);
        assert!(v["error"].as_str().unwrap().contains("纬度"), "{v}");
        let (s, v) = sup.put(&site, json!({"name": "二七广场", "lat": 34.75})).await;
        assert_eq!(s, 400, "{v}");
        assert!(v["error"].as_str().unwrap().contains("经度"), "{v}");
        assert_eq!(sup.put(&site, json!({"name": "二七广场", "lat": 34.7536, "lon": 113.6656})).await.0, 204);
        let (_, t) = lly.get(&format!("/api/tasks/{id}")).await;
        assert_eq!(
            (t["task"]["site_lat"].as_f64(), t["task"]["site_name"].as_str()),
            (Some(34.7536), Some("二七广场"))
        );

        // The test photo carries 北纬 31.23°、东经 121.47° (Shanghai): about 830 km away.
        let f =
            form(&[("progress", "40"), ("text", "现场已整治")], &[("现场.jpg", exif_jpeg("2026:11:23 11:00:00", 9))]);
        assert_eq!(upload(&lly, &format!("/api/tasks/{id}/evidence/report"), f).await.0, 200);
        let web = reqwest::Client::builder().cookie_store(true).build().unwrap();
        assert_eq!(common::form_login(&web, &app, "jsj_lly", xietong_demo::DEMO_PASSWORD).await.status(), 200);
        let page = |web: reqwest::Client| {
            let url = app.url(&format!("/tasks/{id}"));
            async move { web.get(url).send().await.unwrap().text().await.unwrap() }
        };
        let html = page(web.clone()).await;
        let flag =
            html.split("照片拍摄地点距任务地点约 ").nth(1).expect("the distance flag").split(' ').next().unwrap();
        let km: f64 = flag.parse().unwrap();
        assert!((800.0..860.0).contains(&km), "{km}");
        assert!(!html.contains("照片拍摄于交办之前"), "taken after 交办");
        // Cleared, the flag goes; a site next door raises none.
        assert_eq!(sup.put(&site, json!({"name": "", "lat": null, "lon": null})).await.0, 204);
        assert!(!page(web.clone()).await.contains("照片拍摄地点距任务地点"));
        assert_eq!(sup.put(&site, json!({"name": "人民广场", "lat": 31.2304, "lon": 121.4737})).await.0, 204);
        assert!(!page(web.clone()).await.contains("照片拍摄地点距任务地点"));
        // Cleared and set in turn, on whichever pooled connection: a float written after a cleared
        // one once failed on PostgreSQL (a NULL float bound through the Any driver poisoned the
        // connection's cached statement).
        for i in 0..8 {
            let body = if i % 2 == 0 { json!({"lat": null, "lon": null}) } else { json!({"lat": 34.7, "lon": 113.6}) };
            assert_eq!(sup.put(&site, body).await.0, 204, "round {i}");
            let f = if i % 2 == 0 {
                form(&[("progress", "50"), ("text", "扫描件")], &[(&format!("扫描{i}.pdf"), pdf())])
            } else {
                form(
                    &[("progress", "50"), ("text", "照片")],
                    &[(&format!("照片{i}.jpg"), exif_jpeg("2026:11:23 11:00:00", i))],
                )
            };
            assert_eq!(upload(&lly, &format!("/api/tasks/{id}/evidence/report"), f).await.0, 200, "round {i}");
        }
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_parallel_settings_of_one_evidence_rule_make_one_change() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt(NOW)).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let category = ids_of(&sup.get("/api/categories").await.1)[0];
        let path = format!("/api/categories/{category}/evidence-rule");
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let (http, url, token) = (sup.http.clone(), format!("{}{path}", sup.base), sup.token.clone());
            set.spawn(async move {
                let r = http.put(url).bearer_auth(token).json(&json!({"completion_evidence": true})).send().await;
                r.unwrap().status().as_u16()
            });
        }
        while let Some(s) = set.join_next().await {
            // Every request gets the value it asked for; none fails.
            assert_eq!(s.unwrap(), 204);
        }
        let (_, cats) = sup.get("/api/categories").await;
        assert_eq!(cats.as_array().unwrap().iter().find(|c| c["id"] == category).unwrap()["completion_evidence"], true);
        let n = sqlx::query(
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'category.completion_evidence' AND entity_id = $1",
        )
        .bind(category.to_string())
        .fetch_one(&tdb.db.pool)
        .await
        .unwrap();
        assert_eq!(sqlx::Row::try_get::<i64, _>(&n, "n").unwrap(), 1, "one change, one audit entry");
        tdb.cleanup().await;
    });
}
