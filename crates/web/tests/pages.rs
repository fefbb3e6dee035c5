//! Every page renders for the roles that may see it, and refuses the others (SQLite and PostgreSQL).

mod common;

use common::{dt, with_demo};

async fn browser(app: &common::TestApp, username: &str) -> reqwest::Client {
    let c =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::limited(5)).build().unwrap();
    let r = common::form_login(&c, app, username, xietong_demo::DEMO_PASSWORD).await;
    assert_eq!(r.status(), 200);
    assert!(r.url().path() == "/todo", "login lands on 待办: {}", r.url());
    c
}

async fn page(c: &reqwest::Client, app: &common::TestApp, path: &str) -> (u16, String) {
    let r = c.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_for_each_role() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-11-23 10:00")).await else { continue };
        let admin = browser(&app, "admin").await;
        for (path, needle) in [
            ("/todo", "我的待办"),
            ("/tasks", "督办任务"),
            ("/calendar", "工作日历 2026 年"),
            ("/calendar?year=2027", "未发布"),
            ("/org", "新增账号"),
            ("/tasks/1", "办理时间线"),
        ] {
            let (s, html) = page(&admin, &app, path).await;
            assert_eq!(s, 200, "admin {path}");
            assert!(html.contains(needle), "admin {path} should show {needle}");
        }
        let sup = browser(&app, "duchaju").await;
        for (path, needle) in [
            ("/todo", "待交办"),
            ("/tasks?light=red", "红灯"),
            ("/tasks?q=%E9%81%93%E8%B7%AF", "道路"),
            ("/tasks/new", "任务立项"),
            ("/tasks/1", "催办"),
        ] {
            let (s, html) = page(&sup, &app, path).await;
            assert_eq!(s, 200, "supervisor {path}");
            assert!(html.contains(needle), "supervisor {path} should show {needle}");
        }
        let (s, html) = page(&sup, &app, "/tasks?page=abc").await;
        assert_eq!(s, 400);
        assert!(html.contains("page"));
        // A bad id and an unknown path: a Chinese page with the user's menu and a way back, never
        // axum's own text.
        for (path, want, words) in [("/tasks/abc", 400, "地址中的编号无效"), ("/no-such-page", 404, "未找到该地址")]
        {
            let (s, html) = page(&sup, &app, path).await;
            assert_eq!(s, want, "{path}");
            assert!(
                html.contains(words) && html.contains("href=\"/todo\"") && html.contains("id=\"main-nav\""),
                "{path}"
            );
            assert!(!html.contains("Invalid URL") && !html.contains("Cannot parse"), "{path}: {html}");
        }
        let (s, _) = page(&sup, &app, "/audit").await;
        assert_eq!(s, 403, "the audit page is the 审计管理员's");
        let (s, _) = page(&admin, &app, "/audit").await;
        assert_eq!(s, 403, "三员分立: not the 系统管理员's either");
        let auditor = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .unwrap();
        let r = common::form_login(&auditor, &app, "shenji", xietong_demo::DEMO_PASSWORD).await;
        assert_eq!(r.url().path(), "/audit", "the 审计管理员's home is the audit page");
        let html = r.text().await.unwrap();
        assert!(html.contains("哈希链完整") && html.contains("登录日志"));
        // Entries read as Chinese: who by post and name, what and on what, each field before and after.
        let html = auditor.get(app.url("/audit?what=task.")).send().await.unwrap().text().await.unwrap();
        let log = html.split("id=\"audit-log\"").nth(1).unwrap().split("</table>").next().unwrap();
        assert!(!log.contains("{&quot;") && !log.contains("{\"") && !log.contains("task.create"), "{log}");
        assert!(log.contains("立项") && log.contains("督办任务") && log.contains("督查局 局长"), "{log}");
        for path in ["/org", "/online"] {
            assert_eq!(page(&auditor, &app, path).await.0, 403, "审计管理员 {path}");
        }
        let lly = browser(&app, "jsj_lly").await;
        let (s, html) = page(&lly, &app, "/tasks/new").await;
        assert_eq!(s, 403);
        assert!(html.contains("无权限"));
        let (s, _) = page(&lly, &app, "/org").await;
        assert_eq!(s, 403);
        // Signed out, every page sends you to the login page.
        let anon = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let r = anon.get(app.url("/tasks/1")).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/login?next=/tasks/1");
        // A wrong password shows the login page again with the reason.
        let (login_cookie, token) = common::login_form_token(&app).await;
        let r = anon
            .post(app.url("/login"))
            .header("cookie", login_cookie)
            .form(&[("_csrf", token.as_str()), ("username", "admin"), ("password", "wrong")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert!(r.text().await.unwrap().contains("用户名或密码错误"));
        tdb.cleanup().await;
    });
}

/// The session's CSRF token, read from any page with a form.
async fn csrf(c: &reqwest::Client, app: &common::TestApp) -> String {
    let (_, html) = page(c, app, "/todo").await;
    let at = html.find("name=\"_csrf\" value=\"").expect("a form with _csrf") + "name=\"_csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcome_pages_render_refuse_and_keep_what_was_typed() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-11-23 10:00")).await else { continue };
        let sup = browser(&app, "duchaju").await;
        for (path, needle) in [
            ("/dashboard", "全区督导看板"),
            ("/rankings", "已发布的排名"),
            ("/rankings?category_id=1&month=2026-10", "试算"),
            ("/assessment", "年度考核得分"),
            ("/notices", "发布通报"),
            ("/problems", "问题台账"),
            ("/problems/1", "协调会"),
            ("/inspections", "合并建议"),
            ("/indicators", "66.3"),
            ("/projects", "登记项目"),
            ("/projects/1", "第四标段"),
            ("/lists", "防汛综合演练"),
            ("/lists/1", "防汛"),
            ("/imports", "下载督办任务导入模板"),
            ("/tasks/1", "列入问题台账"),
            ("/records", "单位业绩记录"),
            ("/achievements", "成果库"),
            ("/enterprises", "企业库"),
            ("/achievements?q=%E5%B0%BC%E9%BE%99", "匹配结果"),
        ] {
            let (s, html) = page(&sup, &app, path).await;
            assert_eq!(s, 200, "supervisor {path}");
            assert!(html.contains(needle), "supervisor {path} should show {needle}");
            let title = html.split("<title>").nth(1).and_then(|t| t.split("</title>").next()).unwrap_or("");
            assert!(
                !title.contains('<') && title.contains("协同督查督办平台"),
                "{path}: a plain page title, got {title:?}"
            );
            assert_eq!(html.matches("<form").count(), html.matches("</form>").count(), "{path}: forms are closed");
        }
        let leader = browser(&app, "fqz_cj").await;
        let (s, html) = page(&leader, &app, "/dashboard").await;
        assert_eq!(s, 200);
        assert!(html.contains("分包督导看板") && html.contains("记录督导"));
        let lly = browser(&app, "jsj_lly").await;
        for path in ["/dashboard", "/inspections", "/achievements", "/enterprises"] {
            let (s, _) = page(&lly, &app, path).await;
            assert_eq!(s, 403, "liaison {path}");
        }
        let (s, html) = page(&lly, &app, "/rankings?month=2026-13&category_id=1").await;
        assert!(s == 403 || (s == 400 && html.contains("月份")), "liaison preview: {s}");

        // A refused project form comes back with what was typed and the field named.
        let token = csrf(&sup, &app).await;
        let r = sup
            .post(app.url("/projects"))
            .form(&[
                ("_csrf", token.as_str()),
                ("title", "二七区某重点项目（测试）"),
                ("doc_no", "测试〔2026〕99号"),
                ("source_date", "2026-11-20"),
                ("lead_unit_id", "8"),
                ("owner_unit_id", "8"),
                ("report_cycle", "monthly"),
                ("deadline", "2026-12-31"),
                ("kind", "key"),
                ("location", "马寨镇"),
                ("planned_investment", "三千"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("计划总投资（万元）") && html.contains("二七区某重点项目（测试）"),
            "the form keeps what was typed"
        );
        // A formula whose weights do not add up to 100 is refused naming the field.
        let r = sup
            .post(app.url("/rankings/settings"))
            .form(&[
                ("_csrf", token.as_str()),
                ("on_time_weight", "70"),
                ("progress_weight", "40"),
                ("overdue_penalty", "5"),
                ("rejection_penalty", "2"),
                ("praise", "2"),
                ("criticism", "-2"),
                ("warning", "-1"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("权重"));
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docking_pages_render_for_each_role_and_refuse_the_others() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-11-23 10:00")).await else { continue };
        let tech = browser(&app, "kejiju").await;
        for (path, needle) in [
            ("/docking/stats", "技术合同成交额"),
            ("/docking/problems", "提交技术难题"),
            ("/docking/problems/1", "匹配专家"),
            ("/docking/problems?status=submitted", "速冻面米制品"),
            ("/docking/experts", "提交专家信息"),
            ("/docking/experts/1", "匹配难题"),
            ("/docking/achievements", "待部门审核"),
            ("/docking/achievements/1", "可能承接的企业"),
            ("/docking/institutions", "河南先宁新材料研究院"),
            ("/docking/campaigns", "2026年度企业技术难题征集"),
            ("/docking/review", "速冻面米制品挤压成型工艺改进"),
            ("/docking/platforms?group=研发平台&level=省级以上", "河南省先进尼龙材料及应用重点实验室"),
            ("/docking/platforms?group=创新创业载体", "当前 1 个"),
            ("/docking/dockings", "三方合作"),
            ("/docking/dockings/1", "三方合作对接洽谈会"),
            ("/docking/contracts?year=2025", "技术许可"),
            ("/docking/contracts?kind=development", "技术开发"),
            ("/enterprises?qualification=国家高新技术企业", "郑州示例智能装备有限公司（示例）"),
            ("/imports", "下载技术难题征集模板"),
        ] {
            let (s, html) = page(&tech, &app, path).await;
            assert_eq!(s, 200, "科技局 {path}");
            assert!(html.contains(needle), "科技局 {path} should show {needle}");
            assert_eq!(html.matches("<form").count(), html.matches("</form>").count(), "{path}: forms are closed");
        }
        // The enterprise: its own problems, published libraries, no statistics, no other firm's problem.
        // Enterprise and institution accounts land on their 待办 (what the platform asks of them).
        let qiye = browser_at(&app, "qiye", "/todo").await;
        for (path, status) in [
            ("/docking/problems/1", 200),
            ("/docking/problems/2", 404),
            ("/docking/experts", 200),
            ("/docking/stats", 403),
            ("/docking/review", 403),
            ("/docking/contracts", 403),
            ("/tasks/new", 403),
        ] {
            let (s, _) = page(&qiye, &app, path).await;
            assert_eq!(s, status, "企业 {path}");
        }
        let (_, html) = page(&qiye, &app, "/docking/achievements/327").await;
        assert!(
            html.contains("完成人（专家库）") && html.contains("华北水利水电大学教授（示例一）"),
            "E1372 is linked to 示例一"
        );
        let (_, html) = page(&qiye, &app, "/docking/experts").await;
        assert!(
            html.contains("（仅科技局可见）") && !html.contains("0371-6000"),
            "contacts are masked for an enterprise"
        );
        let gaoxiao = browser_at(&app, "gaoxiao", "/todo").await;
        let (_, html) = page(&gaoxiao, &app, "/docking/experts").await;
        assert!(html.contains("0371-60000001"), "an institution sees its own experts' contacts");
        let lly = browser(&app, "jsj_lly").await;
        for path in ["/docking/problems", "/docking/stats", "/docking/dockings/1"] {
            let (s, _) = page(&lly, &app, path).await;
            assert_eq!(s, 403, "liaison {path}");
        }

        // Refused forms come back with the field named and what was typed.
        let token = csrf(&tech, &app).await;
        let r = tech
            .post(app.url("/docking/campaigns"))
            .form(&[
                ("_csrf", token.as_str()),
                ("title", "测试征集（日期倒置）"),
                ("target", "problem"),
                ("starts_on", "2026-12-01"),
                ("ends_on", "2026-11-01"),
                ("validity_days", "365"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("截止日期") && html.contains("测试征集（日期倒置）"),
            "the campaign form keeps what was typed"
        );
        let r = tech
            .post(app.url("/docking/review/problem/5"))
            .form(&[("_csrf", token.as_str()), ("action", "return"), ("reason", "")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("退回原因"));
        tdb.cleanup().await;
    });
}

/// Sign in as an account whose home is not 待办 (enterprise and institution accounts land on the platform).
async fn browser_at(app: &common::TestApp, username: &str, landing: &str) -> reqwest::Client {
    let c =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::limited(5)).build().unwrap();
    let r = common::form_login(&c, app, username, xietong_demo::DEMO_PASSWORD).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.url().path(), landing, "{username} lands on {landing}");
    c
}

/// A form loaded before someone else acted on the task is refused with 409, the page shows the
/// current state, and what the user typed is still there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_task_form_is_refused_and_keeps_what_was_typed() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-11-23 10:00")).await else { continue };
        let sup = browser(&app, "duchaju").await;
        let api = common::Client::login(&app, "duchaju").await;
        let jsj = api.unit_id("jsj").await;
        let body = serde_json::json!({"title": "过期表单测试", "source_kind": "meeting", "doc_no": "表单〔2026〕1号", "source_date": "2026-11-20",
                                      "lead_unit_id": jsj, "report_cycle": "weekly", "deadline": "2026-12-18", "assign_now": true});
        let (s, v) = api.post("/api/tasks", body).await;
        assert_eq!(s, 201, "{v}");
        let id = v["id"].as_i64().unwrap();
        let (_, html) = page(&sup, &app, &format!("/tasks/{id}")).await;
        let at = html.find("name=\"version\" value=\"").expect("the form carries the version it shows")
            + "name=\"version\" value=\"".len();
        let seen = html[at..].split('"').next().unwrap().to_string();
        // Meanwhile the liaison signs for it.
        let lly = common::Client::login(&app, "jsj_lly").await;
        assert_eq!(lly.act(id, "receive", serde_json::json!({})).await.0, 200);
        let token = csrf(&sup, &app).await;
        let typed = "请于本周五前报送整治方案";
        let r = sup
            .post(app.url(&format!("/tasks/{id}/actions/urge")))
            .form(&[("_csrf", token.as_str()), ("version", seen.as_str()), ("comment", typed)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("该任务已被他人处理，当前状态：已签收，请刷新后重试"),
            "the message names the current state"
        );
        assert!(html.contains(typed), "the typed text is kept");
        let (_, v) = api.get(&format!("/api/tasks/{id}")).await;
        assert_eq!(v["urge_manual_this_week"], 0, "nothing was done");
        tdb.cleanup().await;
    });
}

/// The 系统管理员 edits the 督办规则 on the calendar page; others see them read-only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_are_edited_on_the_calendar_page() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-11-23 10:00")).await else { continue };
        let admin = browser(&app, "admin").await;
        let token = csrf(&admin, &app).await;
        let form = |ledger: &'static str| {
            vec![
                ("_csrf", token.clone()),
                ("year", "2026".to_string()),
                ("yellow_working_days", "5".into()),
                ("notice_after_working_days", "3".into()),
                ("ledger_after_working_days", ledger.to_string()),
                ("forecast_late_days", "0".into()),
                ("cap_per_week", "4".into()),
            ]
        };
        let r = admin.post(app.url("/calendar/rules")).form(&form("2")).send().await.unwrap();
        let html = r.text().await.unwrap();
        assert!(html.contains("问题台账工作日"), "a refused value is named");
        assert!(html.contains("每周人工催办最多 3 次"), "nothing changed");
        let r = admin.post(app.url("/calendar/rules")).form(&form("12")).send().await.unwrap();
        let html = r.text().await.unwrap();
        assert!(html.contains("督办规则已保存"));
        assert!(html.contains("到期前 5 个工作日黄灯提醒") && html.contains("每周人工催办最多 4 次"));
        assert!(html.contains("不发预计逾期提醒"), "the forecast reminder turned off");
        let sup = browser(&app, "duchaju").await;
        let (_, html) = page(&sup, &app, "/calendar").await;
        assert!(html.contains("每周人工催办最多 4 次") && !html.contains("form-rules"), "read-only for the 督查局");
        tdb.cleanup().await;
    });
}
