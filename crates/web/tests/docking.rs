//! The 产学研 docking libraries through the API, on SQLite and PostgreSQL (first part: the 企业库
//! and 成果库 that the imports fill).

mod common;

use common::{dt, with_demo, Client};
use xietong_storage::enterprises::{NewEnterprise, Qualification};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libraries_are_read_by_the_roles_that_see_the_district() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-11-23 10:00")).await else { continue };
        let now = dt("2026-11-23 10:00");
        let gaoxin = |expires: &str| vec![Qualification { kind: "国家高新技术企业".into(), cert_no: "GR202341000001".into(), expires_on: Some(expires.into()) }];
        let e = |name: &str, code: &str, q| NewEnterprise { name: name.into(), credit_code: code.into(), industry_code: "C1441".into(), location: "二七经开区".into(), contact_name: String::new(), contact_phone: String::new(), qualifications: q };
        tdb.db.add_enterprise("test", &e("乳品测试企业甲", "91350100M000100Y43", gaoxin("2027-06-30")), false, now).await.unwrap();
        // Same industry, an expired certificate: not counted as 高新 today.
        let code = format!("91410103MA0000000{}", xietong_docking::codes::credit_check_char("91410103MA0000000").unwrap());
        tdb.db.add_enterprise("test", &e("乳品测试企业乙", &code, gaoxin("2025-12-31")), false, now).await.unwrap();
        let err = tdb.db.add_enterprise("test", &e("乳品测试企业丙", "91350100M000100Y43", vec![]), false, now).await.unwrap_err();
        assert!(err.to_string().contains("已在企业库中"), "{err}");

        let sup = Client::login(&app, "duchaju").await;
        let (s, all) = sup.get("/api/enterprises").await;
        assert_eq!(s, 200);
        assert_eq!(all.as_array().unwrap().len(), 2);
        assert_eq!(all[0]["industry_name"], "液体乳制造");
        let (_, gx) = sup.get("/api/enterprises?qualification=国家高新技术企业").await;
        assert_eq!(gx.as_array().unwrap().len(), 1, "an expired certificate does not count: {gx}");
        let lly = Client::login(&app, "jsj_lly").await;
        let (s, _) = lly.get("/api/enterprises").await;
        assert_eq!(s, 403);
        let (s, _) = lly.get("/api/achievements").await;
        assert_eq!(s, 403);
        let (s, a) = sup.get("/api/achievements").await;
        assert_eq!((s, a.as_array().map(Vec::len)), (200, Some(300)), "the demo's CSL papers");
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
        let (s, v) = sup.get("/api/achievements/match?q=%E5%B0%BC%E9%BE%99%20%E5%A4%8D%E5%90%88%E6%9D%90%E6%96%99").await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v[0]["external_id"], "N1");
        let reasons: Vec<&str> = v[0]["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
        assert!(reasons.iter().any(|r| r.starts_with("标题命中")) && reasons.iter().any(|r| r.contains("完整短语")), "{reasons:?}");
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
