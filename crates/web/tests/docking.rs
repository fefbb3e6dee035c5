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
        assert_eq!((s, a.as_array().map(Vec::len)), (200, Some(0)));
        tdb.cleanup().await;
    });
}
