//! The 产学研 docking libraries through the API, on SQLite and PostgreSQL (first part: the 企业库
//! and 成果库 that the imports fill).

mod common;

use common::{Client, dt, with_demo};
use xietong_storage::enterprises::{NewEnterprise, Qualification};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libraries_are_read_by_the_roles_that_see_the_district() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-11-23 10:00")).await else { continue };
        let now = dt("2026-11-23 10:00");
        let gaoxin = |expires: &str| {
            vec![Qualification {
                kind: "国家高新技术企业".into(),
                cert_no: "GR202341000001".into(),
                expires_on: Some(expires.into()),
            }]
        };
        let e = |name: &str, code: &str, q| NewEnterprise {
            name: name.into(),
            credit_code: code.into(),
            industry_code: "C1441".into(),
            location: "二七经开区".into(),
            contact_name: String::new(),
            contact_phone: String::new(),
            qualifications: q,
        };
        tdb.db
            .add_enterprise("test", &e("乳品测试企业甲", "91350100M000100Y43", gaoxin("2027-06-30")), now)
            .await
            .unwrap();
        // Same industry, an expired certificate: not counted as 高新 today.
        let code =
            format!("91410103MA0000000{}", xietong_docking::codes::credit_check_char("91410103MA0000000").unwrap());
        tdb.db.add_enterprise("test", &e("乳品测试企业乙", &code, gaoxin("2025-12-31")), now).await.unwrap();
        let err =
            tdb.db.add_enterprise("test", &e("乳品测试企业丙", "91350100M000100Y43", vec![]), now).await.unwrap_err();
        assert!(err.to_string().contains("已在企业库中"), "{err}");

        let sup = Client::login(&app, "duchaju").await;
        let (s, all) = sup.get("/api/enterprises").await;
        assert_eq!(s, 200);
        let jia = all.as_array().unwrap().iter().find(|e| e["name"] == "乳品测试企业甲").expect("listed");
        assert_eq!(jia["industry_name"], "液体乳制造");
        // The demo's one （示例） 高新 enterprise plus 甲; 乙's certificate has expired.
        let (_, gx) = sup.get("/api/enterprises?qualification=国家高新技术企业").await;
        let gx = gx.as_array().unwrap();
        assert_eq!(gx.len(), 2, "an expired certificate does not count");
        assert!(gx.iter().all(|e| e["name"] != "乳品测试企业乙"));
        let lly = Client::login(&app, "jsj_lly").await;
        let (s, _) = lly.get("/api/enterprises").await;
        assert_eq!(s, 403);
        let (s, _) = lly.get("/api/achievements").await;
        assert_eq!(s, 403);
        let (s, a) = sup.get("/api/achievements").await;
        assert_eq!((s, a.as_array().map(Vec::len)), (200, Some(330)), "the demo's CSL papers");
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_problem_description_finds_achievements_with_reasons() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-11-23 10:00")).await else { continue };
        let now = dt("2026-11-23 10:00");
        let cols = xietong_storage::achievements::achievement_columns();
        let tsv = "id\ttitle\tabstract\tkeywords\tdiscipline\tcategory\n\
                   N1\t尼龙复合材料的界面改性\t以尼龙六六为基体，研究玻璃纤维增强复合材料的界面改性方法。\t尼龙;复合材料\t材料科学与工程\t工学\n\
                   N2\t农产品质量追溯系统\t设计基于二维码的农产品质量追溯系统，实现生产流通全程可查。\t追溯\t计算机科学与技术\t工学\n";
        let (rows, cells) = xietong_office::xlsx::read_rows("a.tsv", tsv.as_bytes(), &cols).unwrap();
        assert!(cells.is_empty());
        tdb.db.import_achievements("test", &rows, vec![], "测试", now).await.unwrap();
        let sup = Client::login(&app, "duchaju").await;
        let (s, v) =
            sup.get("/api/achievements/match?q=%E5%B0%BC%E9%BE%99%20%E5%A4%8D%E5%90%88%E6%9D%90%E6%96%99").await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v[0]["external_id"], "N1");
        let reasons: Vec<&str> = v[0]["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
        assert_eq!(reasons, ["命中：尼龙、复合材料"], "words alone without a model");
        assert_eq!((v[0]["offered"].as_bool(), v[0]["cosine"].as_f64()), (Some(true), None));
        assert_eq!(marked(&v[0]["evidence"][0]), ["尼龙复合材料"], "the title first: {v}");
        // A query of 10 000 characters is refused with the field named; garbage finds nothing and is no error.
        let long = "长".repeat(10_000);
        let (s, v) = sup.post("/api/achievements/match", serde_json::json!({ "q": long })).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("q")), "{v}");
        assert!(v["error"].as_str().unwrap().contains("查询内容过长"), "{v}");
        let (s, v) = sup.post("/api/achievements/match", serde_json::json!({ "q": "@@@ ### !!!" })).await;
        assert_eq!((s, v.as_array().map(Vec::len)), (200, Some(0)), "{v}");
        let (s, v) = sup.get("/api/achievements/match?q=%20%20").await;
        assert_eq!((s, v["field"].as_str()), (400, Some("q")), "{v}");
        // A later import makes the index stale; the next search sees the new record.
        let tsv = "id\ttitle\tabstract\nN3\t尼龙回收利用\t废旧尼龙的化学回收与再利用。\n";
        let (rows, _) = xietong_office::xlsx::read_rows("b.tsv", tsv.as_bytes(), &cols).unwrap();
        tdb.db.import_achievements("test", &rows, vec![], "测试", now).await.unwrap();
        let (_, v) = sup.get("/api/achievements/match?q=%E5%B0%BC%E9%BE%99%E5%9B%9E%E6%94%B6").await;
        assert_eq!(v[0]["external_id"], "N3", "{v}");
        let lly = Client::login(&app, "jsj_lly").await;
        let (s, _) = lly.get("/api/achievements/match?q=x").await;
        assert_eq!(s, 403);
        tdb.cleanup().await;
    });
}

/// The marked words of one evidence sentence of a match, in order.
fn marked(evidence: &serde_json::Value) -> Vec<&str> {
    let parts = evidence["parts"].as_array().unwrap();
    parts.iter().filter(|p| p["mark"] == true).map(|p| p["text"].as_str().unwrap()).collect()
}

/// Row counts of the docking tables, which a refused request must leave unchanged.
async fn docking_rows(db: &xietong_storage::Db) -> Vec<i64> {
    let mut out = vec![];
    for t in [
        "tech_problems",
        "experts",
        "achievements",
        "review_events",
        "dockings",
        "docking_events",
        "contracts",
        "enterprises",
        "audit_log",
    ] {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) AS n FROM {t}")))
            .fetch_one(&db.pool)
            .await
            .unwrap();
        out.push(sqlx::Row::try_get::<i64, _>(&r, "n").unwrap());
    }
    out
}

fn reasons(m: &serde_json::Value) -> Vec<String> {
    m["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enterprise_problem_is_reviewed_then_matched_with_reasons() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        let qiye = Client::login(&app, "qiye").await;
        let tech = Client::login(&app, "kejiju").await;
        let (_, campaigns) = tech.get("/api/campaigns").await;
        let campaign =
            campaigns.as_array().unwrap().iter().find(|c| c["target"] == "problem" && c["open"] == true).unwrap()["id"]
                .as_i64()
                .unwrap();
        let problem = serde_json::json!({
            "title": "架桥机钢结构焊接残余应力消除",
            "description": "箱形主梁长焊缝焊接后残余应力大，需要消除焊接残余应力并控制焊接变形。",
            "keywords": "焊接残余应力;架桥机",
            "budget_wan": 150,
            "cooperation_mode": "合作开发",
            "campaign_id": campaign
        });

        // Bad input names the field and writes nothing.
        let before = docking_rows(&tdb.db).await;
        let mut bad = problem.clone();
        bad["description"] = "太短".into();
        let (s, v) = qiye.post("/api/tech-problems", bad).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("难题描述")), "{v}");
        let mut bad = problem.clone();
        bad["cooperation_mode"] = "买断".into();
        let (s, v) = qiye.post("/api/tech-problems", bad).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("合作方式")), "{v}");
        let mut other = problem.clone();
        other["enterprise_id"] = 2.into();
        let (s, _) = qiye.post("/api/tech-problems", other).await;
        assert_eq!(s, 403, "an enterprise posts for itself only");
        let lly = Client::login(&app, "jsj_lly").await;
        let (s, _) = lly.post("/api/tech-problems", problem.clone()).await;
        assert_eq!(s, 403);
        assert_eq!(docking_rows(&tdb.db).await, before);

        let (s, v) = qiye.post("/api/tech-problems", problem.clone()).await;
        assert_eq!(s, 201, "{v}");
        let id = v["id"].as_i64().unwrap();
        let path = format!("/api/reviews/problem/{id}");
        // Only the 科技局 reviews; no skipping 形式审核; a return needs a reason.
        let (s, _) = qiye.post(&path, serde_json::json!({"action": "pass_formal"})).await;
        assert_eq!(s, 403);
        let (s, v) = tech.post(&path, serde_json::json!({"action": "approve"})).await;
        assert_eq!(s, 409, "{v}");
        let (s, v) = tech.post(&path, serde_json::json!({"action": "return"})).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("退回原因")), "{v}");
        let (s, v) = tech.post(&path, serde_json::json!({"action": "return", "reason": "请写明目标指标"})).await;
        assert_eq!((s, v["status"].as_str()), (200, Some("returned")), "{v}");
        // Matching waits for publication.
        let (s, _) = qiye.get(&format!("/api/tech-problems/{id}/matches")).await;
        assert_eq!(s, 200);
        let mut fixed = problem.clone();
        fixed["description"] =
            "箱形主梁长焊缝焊接后残余应力大，目标将焊缝区残余拉应力降低 50%，并控制焊接变形。".into();
        let (s, v) = qiye.put(&format!("/api/tech-problems/{id}"), fixed).await;
        assert_eq!(s, 201, "{v}");
        for action in ["pass_formal", "approve"] {
            let (s, v) = tech.post(&path, serde_json::json!({"action": action})).await;
            assert_eq!(s, 200, "{action}: {v}");
        }
        let (_, list) = qiye.get("/api/tech-problems").await;
        let p = list.as_array().unwrap().iter().find(|p| p["id"] == id).unwrap().clone();
        assert_eq!(p["review"]["status"], "published");
        assert_eq!(p["review"]["expires_on"], "2027-11-22", "one year of validity from the campaign");
        let (_, history) = tech.get(&path).await;
        let steps: Vec<&str> = history.as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
        assert_eq!(steps, ["submit", "return", "resubmit", "pass_formal", "approve"]);

        let (s, m) = qiye.get(&format!("/api/tech-problems/{id}/matches?top=5")).await;
        assert_eq!(s, 200, "{m}");
        let top = &m["achievements"][0];
        assert!(top["title"].as_str().unwrap().contains("焊接残余应力"), "{m}");
        let r = reasons(top);
        // Without a model the words rank, and the answer says so; the reasons name subject terms only.
        assert_eq!((m["semantic"].as_bool(), m["withheld_achievements"].as_u64()), (Some(false), Some(0)), "{m}");
        assert!(r[0].starts_with("命中：") && r[0].contains("焊接") && r[0].contains("残余"), "{r:?}");
        for x in m["achievements"].as_array().unwrap().iter().chain(m["experts"].as_array().unwrap()) {
            for t in x["matched_terms"].as_array().unwrap() {
                let t = t.as_str().unwrap();
                assert!(t.chars().count() >= 2 && !xietong_search::stop::is_stop(t), "{t} shown as a reason");
            }
        }
        // The evidence: a sentence of the achievement with the need's words marked.
        let ev = &top["evidence"][0];
        assert!(marked(ev).contains(&"焊接残余应力"), "{ev}");
        assert!(r.iter().any(|x| x == "共同关键词：焊接残余应力"), "{r:?}");
        let expert = &m["experts"][0];
        assert_eq!(expert["title"], "华北水利水电大学教授（示例一）");
        assert!(reasons(expert).iter().any(|x| x.starts_with("学科与行业相符：机械工程 ↔ 3514")), "{expert}");
        // The other directions: an achievement finds the problem and the enterprise, an expert the problem.
        let paper = top["id"].as_i64().unwrap();
        let (s, am) = qiye.get(&format!("/api/achievements/{paper}/matches")).await;
        assert_eq!(s, 200, "{am}");
        assert!(
            am["problems"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["id"] == id && !p["reasons"].as_array().unwrap().is_empty()),
            "{am}"
        );
        assert!(
            am["enterprises"].as_array().unwrap().iter().any(|e| e["title"] == "郑州新大方重工科技有限公司"),
            "{am}"
        );
        let expert_id = expert["id"].as_i64().unwrap();
        let (s, xm) = tech.get(&format!("/api/experts/{expert_id}/matches")).await;
        assert_eq!(s, 200, "{xm}");
        assert!(xm["problems"].as_array().unwrap().iter().take(2).any(|p| p["id"] == id), "{xm}");
        let (s, _) = lly.get(&format!("/api/experts/{expert_id}/matches")).await;
        assert_eq!(s, 403);
        // Other enterprises do not see it; the institution sees it once published (not confidential).
        let gaoxiao = Client::login(&app, "gaoxiao").await;
        let (_, l) = gaoxiao.get("/api/tech-problems").await;
        assert!(l.as_array().unwrap().iter().any(|p| p["id"] == id));
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_docking_reaches_a_contract_and_the_dashboard_total_moves() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        let tech = Client::login(&app, "kejiju").await;
        let qiye = Client::login(&app, "qiye").await;
        let figure = |st: &serde_json::Value, label: &str| {
            st["figures"].as_array().unwrap().iter().find(|f| f["label"] == label).unwrap()["value"].as_f64().unwrap()
        };
        let (s, st) = tech.get("/api/docking-stats").await;
        assert_eq!(s, 200);
        // 在库数 are the demo's few records; the district's end-2020 report stands beside them as
        // reported figures (上报数) with their source, the difference flagged.
        let reported = |label: &str| {
            st["figures"].as_array().unwrap().iter().find(|f| f["label"] == label).unwrap()["reported"].clone()
        };
        assert_eq!(figure(&st, "国家高新技术企业"), 1.0);
        let ht = reported("国家高新技术企业");
        assert_eq!((ht["value"].as_f64(), ht["flagged"].as_bool()), (Some(101.0), Some(true)), "{ht}");
        assert_eq!(ht["message_zh"], "在库 1 家，上报 101 家（截至 2020-12-31），差 100 家待补录");
        assert!(ht["source"].as_str().unwrap().contains("2020"), "{ht}");
        assert_eq!(reported("科技型中小企业")["value"], 339.0);
        assert_eq!(reported("创新创业载体")["value"], 20.0);
        assert_eq!(reported("省级以上研发平台")["value"], 41.0);
        assert_eq!(reported("市级研发平台")["value"], 117.0);
        assert!(reported("其中技术性收入").is_null(), "no reported figure: nothing shown for it");
        assert!(
            st["contracts_by_year"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["period"] == "2025 年" || r["period"] == "2026 年"),
            "the demo's contracts are of the last year and this: {st}"
        );
        let total = figure(&st, "技术合同成交额");
        let (s, _) = qiye.get("/api/docking-stats").await;
        assert_eq!(s, 403, "statistics are the district's");

        // 帝益肥's problem (published) with the 示例六 expert: just recommended in the demo.
        let (_, dockings) = tech.get("/api/dockings?stage=recommended").await;
        let d = dockings.as_array().unwrap()[0]["id"].as_i64().unwrap();
        let mv = |to: &str| serde_json::json!({"to": to});
        let (s, v) = tech.post(&format!("/api/dockings/{d}/move"), mv("intent_signed")).await;
        assert_eq!(s, 409, "no skipping: {v}");
        assert!(v["error"].as_str().unwrap().contains("下一阶段应为「意向沟通」"), "{v}");
        let (s, _) = qiye.post(&format!("/api/dockings/{d}/move"), mv("contacting")).await;
        assert_eq!(s, 403);
        for to in ["contacting", "negotiating", "intent_signed"] {
            let (s, v) = tech.post(&format!("/api/dockings/{d}/move"), mv(to)).await;
            assert_eq!(s, 200, "{to}: {v}");
        }
        let (s, v) = tech.post(&format!("/api/dockings/{d}/move"), mv("contract_signed")).await;
        assert_eq!(s, 409, "a contract first: {v}");
        let contract = serde_json::json!({"contract_no": "2026410103000777", "kind": "技术开发", "buyer": "帝益肥", "seller": "华北水利水电大学",
            "amount_wan": 88.5, "technical_income_wan": 90, "signed_on": "2026-11-20"});
        let before = docking_rows(&tdb.db).await;
        let (s, v) = tech.post(&format!("/api/dockings/{d}/contracts"), contract.clone()).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("技术性收入（万元）")), "{v}");
        let mut future = contract.clone();
        future["technical_income_wan"] = 80.into();
        future["signed_on"] = "2026-12-01".into();
        let (s, v) = tech.post(&format!("/api/dockings/{d}/contracts"), future).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("签订日期")), "{v}");
        assert_eq!(docking_rows(&tdb.db).await, before);
        let mut ok = contract.clone();
        ok["technical_income_wan"] = 80.into();
        let (s, v) = tech.post(&format!("/api/dockings/{d}/contracts"), ok).await;
        assert_eq!(s, 201, "{v}");
        let (s, v) = tech.post(&format!("/api/dockings/{d}/move"), mv("contract_signed")).await;
        assert_eq!((s, v["stage_label"].as_str()), (200, Some("签订技术合同")), "{v}");
        let (_, st2) = tech.get("/api/docking-stats").await;
        assert!((figure(&st2, "技术合同成交额") - (total + 88.5)).abs() < 1e-6, "{st2}");
        let reached = |st: &serde_json::Value| {
            st["stages"].as_array().unwrap().iter().find(|r| r["stage"] == "contract_signed").unwrap()["reached"]
                .as_i64()
                .unwrap()
        };
        assert_eq!(reached(&st2), reached(&st) + 1);

        // The expert's contact: hidden from the enterprise until the institution consents.
        let (_, detail) = tech.get(&format!("/api/dockings/{d}")).await;
        let expert = detail["docking"]["expert_id"].as_i64().unwrap();
        let diyifei = Client::login(&app, "kejiju").await; // the 科技局 sees contacts
        let (_, xs) = diyifei.get("/api/experts").await;
        assert!(
            xs.as_array().unwrap().iter().find(|x| x["id"] == expert).unwrap()["phone"]
                .as_str()
                .unwrap()
                .starts_with("0371")
        );
        let (_, xs) = qiye.get("/api/experts").await;
        assert_eq!(xs.as_array().unwrap().iter().find(|x| x["id"] == expert).unwrap()["phone"], "（仅科技局可见）");
        let (s, _) = qiye.post(&format!("/api/dockings/{d}/share-contact"), serde_json::json!({})).await;
        assert_eq!(s, 403);

        // The 督查局 raises a supervised task for the stage; the docking's timeline links it.
        let sup = Client::login(&app, "duchaju").await;
        let kjj = sup.unit_id("kjj").await;
        let task = serde_json::json!({"title": "推进帝益肥腐植酸水溶肥成果转化", "source_kind": "instruction", "doc_no": "二七督〔2026〕对接1号",
            "source_date": "2026-11-23", "lead_unit_id": kjj, "report_cycle": "weekly", "deadline": "2026-12-18"});
        let (s, _) = tech.post(&format!("/api/dockings/{d}/tasks"), task.clone()).await;
        assert_eq!(s, 403, "立项 is the 督查局's");
        let (s, v) = sup.post(&format!("/api/dockings/{d}/tasks"), task).await;
        assert_eq!(s, 201, "{v}");
        let t = v["id"].as_i64().unwrap();
        let (s, tv) = sup.get(&format!("/api/tasks/{t}")).await;
        assert_eq!((s, tv["task"]["status"].as_str()), (200, Some("assigned")), "{tv}");
        let (_, detail) = tech.get(&format!("/api/dockings/{d}")).await;
        assert!(detail["events"].as_array().unwrap().iter().any(|e| e["task_id"] == t), "{detail}");

        // Ending needs a reason (a field left empty: 400 naming it); nothing moves after the end.
        let (s, v) = tech.post(&format!("/api/dockings/{d}/move"), mv("terminated")).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("终止原因")), "{v}");
        let (s, _) = tech
            .post(
                &format!("/api/dockings/{d}/move"),
                serde_json::json!({"to": "terminated", "reason": "企业资金未落实"}),
            )
            .await;
        assert_eq!(s, 200);
        let (s, _) = tech.post(&format!("/api/dockings/{d}/move"), mv("transforming")).await;
        assert_eq!(s, 409);
        let (_, st3) = tech.get("/api/docking-stats").await;
        assert_eq!(reached(&st3), reached(&st2), "a terminated docking keeps the stages it reached");
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_records_expire_and_can_be_renewed() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        let tech = Client::login(&app, "kejiju").await;
        let (_, list) = tech.get("/api/tech-problems?status=published").await;
        let n = list.as_array().unwrap().len();
        assert_eq!(n, 6);
        // The demo campaign gives 365 days; a year and a day later every one has lapsed.
        let later = dt("2027-11-24 09:00");
        let expired = tdb.db.expire_library_records(later).await.unwrap();
        assert_eq!(expired, 6 + 6, "six problems and six experts");
        let (_, list) = tech.get("/api/tech-problems?status=published").await;
        assert!(list.as_array().unwrap().is_empty());
        let id = tech.get("/api/tech-problems?status=expired").await.1[0]["id"].as_i64().unwrap();
        let (s, v) = tech.post(&format!("/api/reviews/problem/{id}"), serde_json::json!({"action": "renew"})).await;
        assert_eq!((s, v["status"].as_str()), (200, Some("published")), "{v}");
        let (s, _) = tech.get("/api/tech-problems?status=bogus").await;
        assert_eq!(s, 400);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_hold_what_the_reader_may_see() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        let col = |h: &str| xietong_office::table::Column {
            key: h.into(),
            header: h.into(),
            required: false,
            width: 10.0,
            note: String::new(),
            choices: vec![],
        };
        let read = |bytes: &[u8], cols: &[&str]| {
            xietong_office::xlsx::read_table("x.xlsx", bytes, &cols.iter().map(|h| col(h)).collect::<Vec<_>>())
                .expect("export reads back")
        };
        let tech = Client::login(&app, "kejiju").await;
        let qiye = Client::login(&app, "qiye").await;
        let (s, x) = tech.bytes("/api/exports/docking/tech-problems").await;
        assert_eq!(s, 200);
        assert_eq!(read(&x, &["难题", "企业"]).len(), 7, "the 科技局 exports every problem");
        let (_, x) = qiye.bytes("/api/exports/docking/tech-problems").await;
        let rows = read(&x, &["难题", "企业"]);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].get("企业"), "郑州新大方重工科技有限公司", "an enterprise exports its own");
        let (_, x) = qiye.bytes("/api/exports/docking/experts").await;
        assert!(
            read(&x, &["专家", "联系电话"]).iter().all(|r| r.get("联系电话") == "（仅科技局可见）"),
            "contacts stay masked in the export"
        );
        let (s, _) = qiye.bytes("/api/exports/docking/contracts").await;
        assert_eq!(s, 403);
        let (_, x) = tech.bytes("/api/exports/docking/contracts").await;
        let total: f64 =
            read(&x, &["金额（万元）"]).iter().map(|r| r.get("金额（万元）").parse::<f64>().unwrap()).sum();
        assert!((total - 478.0).abs() < 1e-6, "the demo's five contracts: {total}");
        let (s, _) = tech.bytes("/api/exports/docking/nothing").await;
        assert_eq!(s, 404);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_codes_and_queries_are_refused_with_the_field_named() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        let tech = Client::login(&app, "kejiju").await;
        let gaoxiao = Client::login(&app, "gaoxiao").await;
        let before = docking_rows(&tdb.db).await;
        let e =
            serde_json::json!({"name": "校验测试企业", "credit_code": "91350100M000100Y44", "industry_code": "C1441"});
        let (s, v) = tech.post("/api/enterprises", e).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("统一社会信用代码")), "{v}");
        let a = serde_json::json!({"title": "一种尼龙改性方法", "abstract": "提高尼龙韧性的改性方法。", "kind": "专利", "patent_no": "ZL20231012345"});
        let (s, v) = gaoxiao.post("/api/achievements", a.clone()).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("专利号")), "{v}");
        let mut other = a.clone();
        other["institution_id"] = 1.into();
        let (s, _) = gaoxiao.post("/api/achievements", other).await;
        assert_eq!(s, 403, "an institution submits its own achievements only");
        let long = "尼".repeat(10_000);
        let (s, v) = tech.post("/api/achievements/match", serde_json::json!({"q": long})).await;
        assert_eq!((s, v["field"].as_str()), (400, Some("q")), "{v}");
        assert!(v["error"].as_str().unwrap().contains("最多 2000 个字符"), "{v}");
        assert_eq!(docking_rows(&tdb.db).await, before);
        let mut good = a.clone();
        good["patent_no"] = "ZL202310123456.7".into();
        let code = xietong_docking::codes::patent_check_digit("202310123456");
        good["patent_no"] = format!("ZL202310123456.{}", code.unwrap()).into();
        let (s, v) = gaoxiao.post("/api/achievements", good).await;
        assert_eq!(s, 201, "{v}");
        tdb.cleanup().await;
    });
}

/// Rows of `reported_baselines` and `baseline.set` audit entries: unchanged by a refused request.
async fn baseline_rows(db: &xietong_storage::Db) -> (i64, i64, Vec<(String, f64, i64)>) {
    let n = |sql: &'static str| async move {
        let r = sqlx::query(sql).fetch_one(&db.pool).await.unwrap();
        sqlx::Row::try_get::<i64, _>(&r, "n").unwrap()
    };
    let rows = db.list_baselines().await.unwrap().into_iter().map(|b| (b.figure, b.value, b.version)).collect();
    (
        n("SELECT COUNT(*) AS n FROM reported_baselines").await,
        n("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'baseline.set'").await,
        rows,
    )
}

async fn page_client(app: &common::TestApp, username: &str) -> reqwest::Client {
    let c = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = common::form_login(&c, app, username, xietong_demo::DEMO_PASSWORD).await;
    assert_eq!(r.status(), 303, "signed in");
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reported_figures_stand_beside_the_records_and_every_edit_is_audited() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-11-23 10:00")).await else { continue };
        let tech = Client::login(&app, "kejiju").await;
        let sup = Client::login(&app, "duchaju").await;

        // The page: 在库 (linking to its records) beside 上报 with its source, the gap flagged.
        let browser = page_client(&app, "kejiju").await;
        let html = browser.get(app.url("/docking/stats")).send().await.unwrap().text().await.unwrap();
        for needle in [
            // Each 在库数 links to its records (the template escapes the slashes).
            "enterprises?qualification=国家高新技术企业\"",
            "上报 <strong data-reported=\"high_tech_enterprises\">101 家</strong>（截至 2020-12-31）",
            "在库 1 家，上报 101 家（截至 2020-12-31），差 100 家待补录",
            "2020 年在库 0 万元，上报 70000 万元，差 70000 万元待补录",
            "contracts?year=2020\">2020 年的记录</a>",
            "来源：二七区 2020 年底",
            "报告表述为“技术合同成交额超过 7 亿元”",
            "id=\"baseline-high_tech_enterprises\"",
        ] {
            assert!(html.contains(needle), "the stats page should show {needle}");
        }
        assert!(!html.contains("占位"), "no placeholder anywhere on the page");
        let sup_page = page_client(&app, "duchaju").await;
        let html = sup_page.get(app.url("/docking/stats")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("差 100 家待补录") && !html.contains("id=\"baseline-"), "督查局 reads, does not edit");

        // Bad input: refused in Chinese naming the field, nothing stored, nothing audited.
        let before = baseline_rows(&tdb.db).await;
        let path = "/api/docking-baselines/high_tech_enterprises";
        let good = serde_json::json!({"value": 120, "as_of": "2025-12-31", "source": "二七区 2025 年科技工作总结（示例）",
            "source_date": "2026-01-15", "version": 1});
        for (change, field) in [
            (serde_json::json!({"value": -1}), "上报数"),
            (serde_json::json!({"value": "abc"}), "上报数"),
            (serde_json::json!({"value": true}), "上报数"),
            (serde_json::json!({"value": null}), "上报数"),
            (serde_json::json!({"value": 100.5}), "上报数"),
            (serde_json::json!({"as_of": ""}), "统计截至"),
            (serde_json::json!({"as_of": "2025-02-30"}), "统计截至"),
            (serde_json::json!({"as_of": "2027-01-01"}), "统计截至"),
            (serde_json::json!({"source": "  "}), "来源文件"),
            (serde_json::json!({"source_date": "2025-06-30"}), "文件日期"),
        ] {
            let mut body = good.clone();
            for (k, v) in change.as_object().unwrap() {
                body[k] = v.clone();
            }
            let (s, v) = tech.put(path, body.clone()).await;
            assert_eq!((s, v["field"].as_str()), (400, Some(field)), "{body}: {v}");
            assert!(v["error"].as_str().unwrap().contains(&format!("「{field}」")), "{v}");
        }
        let (s, v) = tech.put("/api/docking-baselines/nonsense", good.clone()).await;
        assert_eq!(s, 404, "{v}");
        assert!(v["error"].as_str().unwrap().contains("没有「nonsense」这项统计数字"), "{v}");
        let (s, _) = sup.put(path, good.clone()).await;
        assert_eq!(s, 403, "the 科技局 keeps the 上报数");
        assert_eq!(baseline_rows(&tdb.db).await, before, "nothing stored on refusal");

        // A change: stored, versioned, audited with before and after; the figure follows.
        let (s, v) = tech.put(path, good.clone()).await;
        assert_eq!((s, v["version"].as_i64(), v["period"].as_str()), (200, Some(2), Some("截至 2025-12-31")), "{v}");
        assert_eq!(v["updated_by"], "局长 科技局局长（示例）", "by post and name, not login");
        let (_, st) = tech.get("/api/docking-stats").await;
        let ht = st["figures"].as_array().unwrap().iter().find(|f| f["key"] == "high_tech_enterprises").unwrap();
        assert_eq!(ht["reported"]["message_zh"], "在库 1 家，上报 120 家（截至 2025-12-31），差 119 家待补录");
        let r = sqlx::query(
            "SELECT actor, before, after FROM audit_log WHERE action = 'baseline.set' AND entity_id = $1 \
             ORDER BY seq DESC",
        )
        .bind("high_tech_enterprises")
        .fetch_one(&tdb.db.pool)
        .await
        .unwrap();
        let get = |c: &str| sqlx::Row::try_get::<String, _>(&r, c).unwrap();
        assert_eq!(get("actor"), "kejiju");
        assert!(get("before").contains("101") && get("after").contains("120"), "{} → {}", get("before"), get("after"));
        // The same again changes nothing and audits nothing; a stale version with other figures is 409.
        let audited = baseline_rows(&tdb.db).await.1;
        let (s, _) = tech.put(path, good.clone()).await;
        assert_eq!(s, 200);
        assert_eq!(baseline_rows(&tdb.db).await.1, audited, "no change, no audit entry");
        let mut stale = good.clone();
        stale["value"] = 130.into();
        let (s, v) = tech.put(path, stale).await;
        assert_eq!(s, 409, "{v}");
        assert!(v["error"].as_str().unwrap().contains("已被他人修改"), "{v}");

        // The form: a bad number comes back with the field named and what was typed kept.
        let html = browser.get(app.url("/docking/stats")).send().await.unwrap().text().await.unwrap();
        let csrf = common::hidden_csrf(&html);
        let form = |value: &str, version: &str| {
            vec![
                ("_csrf".to_string(), csrf.clone()),
                ("version".into(), version.into()),
                ("value".into(), value.into()),
                ("as_of".into(), "2025-12-31".into()),
                ("source".into(), "二七区 2025 年科技工作总结（示例）".into()),
                ("source_date".into(), String::new()),
                ("note".into(), "表单录入".into()),
            ]
        };
        let before = baseline_rows(&tdb.db).await;
        let r =
            browser.post(app.url("/docking/stats/baselines/tech_smes")).form(&form("三百", "1")).send().await.unwrap();
        assert_eq!(r.status(), 400);
        let html = r.text().await.unwrap();
        assert!(html.contains("字段「上报数」「三百」不是有效的数字"), "{html}");
        assert!(html.contains("value=\"三百\"") && html.contains("value=\"表单录入\""), "what was typed is kept");
        let r =
            browser.post(app.url("/docking/stats/baselines/tech_smes")).form(&form("-5", "1")).send().await.unwrap();
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("字段「上报数」不能为负数"));
        assert_eq!(baseline_rows(&tdb.db).await, before, "nothing stored on refusal");
        let r = browser
            .post(app.url("/docking/stats/baselines/tech_smes"))
            .form(&form("３５０", "1"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "saved");
        let after = baseline_rows(&tdb.db).await;
        assert_eq!(after.1, before.1 + 1, "audited");
        assert!(after.2.contains(&("tech_smes".into(), 350.0, 2)), "{:?}", after.2);
        let r =
            sup_page.post(app.url("/docking/stats/baselines/tech_smes")).form(&form("1", "2")).send().await.unwrap();
        assert_eq!(r.status(), 403);
        tdb.cleanup().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_parallel_edits_of_one_reported_figure_make_one_change() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-11-23 10:00")).await else { continue };
        let tech = Client::login(&app, "kejiju").await;
        let before = baseline_rows(&tdb.db).await;
        let mut set = tokio::task::JoinSet::new();
        for i in 0..16 {
            let (http, url, token) =
                (tech.http.clone(), format!("{}/api/docking-baselines/carriers", tech.base), tech.token.clone());
            set.spawn(async move {
                let body = serde_json::json!({"value": 21 + i, "as_of": "2025-12-31", "source": "二七区 2025 年报告（示例）",
                    "version": 1});
                let r = http.put(url).bearer_auth(token).json(&body).send().await.unwrap();
                (r.status().as_u16(), 21 + i)
            });
        }
        let mut answers = vec![];
        while let Some(r) = set.join_next().await {
            answers.push(r.unwrap());
        }
        let won: Vec<_> = answers.iter().filter(|(s, _)| *s == 200).collect();
        assert_eq!(won.len(), 1, "one edit wins: {answers:?}");
        assert!(answers.iter().all(|(s, _)| *s == 200 || *s == 409), "the others are told to reload: {answers:?}");
        let after = baseline_rows(&tdb.db).await;
        assert_eq!(after.1, before.1 + 1, "one change, one audit entry");
        assert!(after.2.contains(&("carriers".into(), won[0].1 as f64, 2)), "{:?}", after.2);
        tdb.cleanup().await;
    });
}

/// Stored sentence vectors: computed once per passage, recomputed after an edit, and sixteen writers
/// of the same vector make one row and one change-log entry (the values are stand-ins: this is the
/// storage, the model's own tests are in crates/embed and crates/cli/tests/semantic.rs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vectors_are_stored_once_per_passage_and_parallel_writers_make_one_row() {
    use xietong_storage::embeddings::{Kind, Pending};
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, _app)) = with_demo(b, now).await else { continue };
        let db = &tdb.db;
        let model = "test-model/3";
        let (pending, p) = db.pending_embeddings(Kind::Achievement, model).await.unwrap();
        assert_eq!((p.done, p.total, pending.len()), (0, 330, 330));
        let first: Vec<(Pending, Vec<f32>)> =
            pending.iter().take(5).enumerate().map(|(i, x)| (x.clone(), vec![i as f32, 1.0, 0.5])).collect();
        assert_eq!(db.store_embeddings(Kind::Achievement, model, &first, now).await.unwrap(), 5);
        let head = db.search_changes_head().await.unwrap();
        // The same vectors again, from sixteen writers at once: nothing written, nothing logged.
        let writes = (0..16).map(|_| db.store_embeddings(Kind::Achievement, model, &first, now));
        let written: usize = futures_util::future::join_all(writes).await.into_iter().map(|r| r.unwrap()).sum();
        assert_eq!((written, db.search_changes_head().await.unwrap()), (0, head));
        let (_, p) = db.pending_embeddings(Kind::Achievement, model).await.unwrap();
        assert_eq!((p.done, p.total), (5, 330));
        // An edit makes the vector stale; sixteen writers of the new one make one write.
        let key = first[0].0.key.clone();
        sqlx::query("UPDATE achievements SET abstract = abstract || '（修订）' WHERE external_id = $1")
            .bind(key.clone())
            .execute(&db.pool)
            .await
            .unwrap();
        let (pending, p) = db.pending_embeddings(Kind::Achievement, model).await.unwrap();
        assert_eq!(p.done, 4);
        let stale = pending.into_iter().find(|x| x.key == key).expect("the edited record is pending again");
        let item = [(stale, vec![9.0, 9.0, 9.0])];
        let writes = (0..16).map(|_| db.store_embeddings(Kind::Achievement, model, &item, now));
        let written: usize = futures_util::future::join_all(writes).await.into_iter().map(|r| r.unwrap()).sum();
        assert_eq!(written, 1, "one writer stores the new vector, the others find it there");
        let v = db.load_vectors(Kind::Achievement, model, 3).await.unwrap();
        let near_nine = |x: Vec<f32>| x.iter().all(|c| (c - 9.0).abs() < 1e-3);
        assert_eq!((v.len(), v.get(&key).map(near_nine)), (5, Some(true)));
        // A vector with a NaN is refused before anything is written.
        let bad = [(first[1].0.clone(), vec![f32::NAN, 0.0, 0.0])];
        assert!(db.store_embeddings(Kind::Achievement, model, &bad, now).await.is_err());
        tdb.cleanup().await;
    });
}

/// Every write to a problem, an enterprise or an expert's linked achievements appends to the change log
/// in its transaction (migration 0021), and pruning keeps the newest rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn problem_enterprise_and_expert_link_writes_reach_the_change_log_and_it_is_pruned() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, _app)) = with_demo(b, now).await else { continue };
        let db = &tdb.db;
        let kinds = |after: i64| async move {
            let rows = db.search_changes_after(after, 100).await.unwrap();
            rows.into_iter().map(|c| (c.kind, c.record_key)).collect::<Vec<_>>()
        };
        let head = db.search_changes_head().await.unwrap();
        let problem: i64 = sqlx::query_scalar("SELECT MIN(id) FROM tech_problems").fetch_one(&db.pool).await.unwrap();
        let ent: i64 = sqlx::query_scalar("SELECT MIN(id) FROM enterprises").fetch_one(&db.pool).await.unwrap();
        let (expert, ach): (i64, i64) = sqlx::query_as(
            "SELECT x.id, a.id FROM experts x, achievements a WHERE NOT EXISTS \
             (SELECT 1 FROM expert_achievements l WHERE l.expert_id = x.id AND l.achievement_id = a.id) \
             ORDER BY x.id, a.id LIMIT 1",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
        for sql in [
            "UPDATE tech_problems SET title = title || '（修订）' WHERE id = $1",
            "UPDATE enterprises SET location = location WHERE id = $1",
        ] {
            let id = if sql.contains("tech_problems") { problem } else { ent };
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).execute(&db.pool).await.unwrap();
        }
        sqlx::query("INSERT INTO expert_achievements (expert_id, achievement_id) VALUES ($1, $2)")
            .bind(expert)
            .bind(ach)
            .execute(&db.pool)
            .await
            .unwrap();
        let want = vec![
            ("problem".to_string(), problem.to_string()),
            ("enterprise".to_string(), ent.to_string()),
            ("expert".to_string(), expert.to_string()),
        ];
        assert_eq!(kinds(head).await, want);
        // Pruning keeps the newest rows (any node may prune; a node behind them rebuilds at start):
        // sixteen nodes pruning at once delete each row once between them.
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM search_changes").fetch_one(&db.pool).await.unwrap();
        let prunes = (0..16).map(|_| db.prune_search_changes(2));
        let deleted: u64 = futures_util::future::join_all(prunes).await.into_iter().map(|r| r.unwrap()).sum();
        assert_eq!(deleted as i64, rows - 2);
        let oldest = db.search_changes_oldest().await.unwrap().unwrap();
        assert_eq!((oldest, db.search_changes_head().await.unwrap()), (head + 2, head + 3));
        assert_eq!(db.prune_search_changes(2).await.unwrap(), 0, "nothing more to cut");
        tdb.cleanup().await;
    });
}

/// The experts index is this node's, kept current from the change log: an expert published after the
/// first match is matched at the next request, without a rebuild.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expert_published_after_the_first_match_is_matched_next() {
    each_backend!(|b| {
        let now = dt("2026-11-23 10:00");
        let Some((tdb, app)) = with_demo(b, now).await else { continue };
        let (tech, gaoxiao) = (Client::login(&app, "kejiju").await, Client::login(&app, "gaoxiao").await);
        let (_, list) = tech.get("/api/tech-problems").await;
        let p = list.as_array().unwrap().iter().find(|p| p["review"]["status"] == "published").unwrap().clone();
        let path = format!("/api/tech-problems/{}/matches?top=10", p["id"]);
        let (s, before) = tech.get(&path).await;
        assert_eq!(s, 200, "{before}");
        let name = "示例专家（索引跟随测试）";
        let keywords: Vec<&str> = p["keywords"].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
        let expert = serde_json::json!({"name": name, "title": "研究员", "disciplines": "机械工程",
            "fields": format!("{} {}", p["title"].as_str().unwrap(), p["description"].as_str().unwrap()),
            "keywords": keywords.join(";")});
        let (s, v) = gaoxiao.post("/api/experts", expert).await;
        assert_eq!(s, 201, "{v}");
        let id = v["id"].as_i64().unwrap();
        let listed = |m: &serde_json::Value| m["experts"].as_array().unwrap().iter().any(|x| x["id"] == id);
        assert!(!listed(&before));
        let (_, pending) = tech.get(&path).await;
        assert!(!listed(&pending), "not published yet: {pending}");
        for action in ["pass_formal", "approve"] {
            let (s, v) = tech.post(&format!("/api/reviews/expert/{id}"), serde_json::json!({"action": action})).await;
            assert_eq!(s, 200, "{action}: {v}");
        }
        let (_, after) = tech.get(&path).await;
        assert!(listed(&after), "the expert whose fields are the need itself: {after}");
        tdb.cleanup().await;
    });
}
