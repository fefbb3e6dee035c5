//! The demo loads into a fresh SQLite database as of any working day, and what it loads is
//! consistent (the web tests load it on PostgreSQL too).

use xietong_storage::Db;

#[tokio::test]
async fn demo_loads_with_outcomes_and_a_valid_audit_chain() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open_data_dir(dir.path()).await.unwrap();
    let now = xietong_calendar::parse_datetime("t", "2026-11-23 10:00").unwrap();
    let s = xietong_demo::load(&db, now).await.unwrap();
    assert!(s.tasks >= 16);
    assert!(db.verify_audit().await.unwrap().is_ok(), "audit chain verifies");
    let sup = db.user_by_name("duchaju").await.unwrap().unwrap();
    let inds = db.all_indicators(&sup, now.date()).await.unwrap();
    let jobs = inds.iter().find(|i| i.name == "城镇新增就业").unwrap();
    assert_eq!(jobs.status.completion_percent, 62.7);
    assert!(jobs.status.disagreement.is_some());
    assert_eq!(db.list_projects(&sup, now.date()).await.unwrap().len(), 1);
    let rankings = db.list_rankings(Some(2026)).await.unwrap();
    // 食品安全 had no one to rank for October (its one task was young and nothing was due: 不参评),
    // so two of the three categories are published; this once said three, when "nothing due"
    // counted as a 100 % on-time rate.
    let october: Vec<_> = rankings.iter().filter(|r| r.month == "2026-10").map(|r| r.category_name.as_str()).collect();
    assert_eq!(october, ["民生保障", "防汛应急"]);
    assert!(rankings.len() > 3, "earlier months too, for the trend");
    assert_eq!(db.list_problems(&sup, None, now).await.unwrap().len(), 2);
    assert_eq!(db.inspection_overview(&sup).await.unwrap().proposals.len(), 1);
    assert_eq!(db.published_achievements().await.unwrap().len(), 330, "330 CSL papers in the 成果库");
    // The 产学研 figures of the district's end-2020 report, placeholders included and counted.
    let st = db.docking_stats(now.date()).await.unwrap();
    let fig = |l: &str| st.figures.iter().find(|f| f.label == l).map(|f| (f.value, f.placeholders)).unwrap();
    assert_eq!(fig("国家高新技术企业"), (101.0, 101));
    assert_eq!(fig("科技型中小企业"), (339.0, 339));
    assert_eq!(fig("创新创业载体"), (20.0, 20));
    assert_eq!(fig("省级以上研发平台"), (41.0, 40), "the named 尼龙 lab is real");
    assert_eq!(fig("市级研发平台"), (117.0, 117));
    assert_eq!(st.contracts_by_year.iter().find(|r| r.period == "2020 年").map(|r| r.amount_wan), Some(70_580.0));
    let tech = db.user_by_name("kejiju").await.unwrap().unwrap();
    assert_eq!(
        db.review_queue(&tech).await.unwrap().len(),
        2,
        "a resubmitted problem and an achievement awaiting 部门审核"
    );
    // A second load into the same database is refused, not doubled.
    assert!(xietong_demo::load(&db, now).await.is_err());
}
