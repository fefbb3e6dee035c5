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
    // The district's end-2020 report is kept as reported figures with their source, beside the
    // few records the demo holds; nothing stands in for what the report only counts.
    let st = db.docking_stats(now.date()).await.unwrap();
    let fig = |l: &str| {
        let f = st.figures.iter().find(|f| f.label == l).unwrap();
        let r = f.reported.as_ref().unwrap_or_else(|| panic!("{l}: no 上报数"));
        (f.value, r.value, r.flagged, r.message_zh.clone())
    };
    assert_eq!(
        fig("国家高新技术企业"),
        (1.0, 101.0, true, "在库 1 家，上报 101 家（截至 2020-12-31），差 100 家待补录".into())
    );
    assert_eq!(fig("科技型中小企业").0, 2.0);
    assert_eq!(fig("科技型中小企业").1, 339.0);
    assert_eq!(fig("创新创业载体").1, 20.0);
    assert_eq!(fig("省级以上研发平台").0, 1.0, "the named 尼龙 lab");
    assert_eq!(fig("市级研发平台").1, 117.0);
    let amount = st.figures.iter().find(|f| f.label == "技术合同成交额").unwrap();
    let r = amount.reported.as_ref().unwrap();
    assert_eq!((r.value, r.in_system, r.in_system_href.as_str()), (70_000.0, 0.0, "/docking/contracts?year=2020"));
    assert!(r.source.contains("2020") && r.note.contains("7 亿"), "{r:?}");
    assert!(st.figures.iter().find(|f| f.label == "其中技术性收入").unwrap().reported.is_none());
    // The demo's own contracts: few, from last year and this, none older than 2025.
    let contracts = db.list_contracts(None, None).await.unwrap();
    assert!((3..=8).contains(&contracts.len()), "{}", contracts.len());
    assert!(contracts.iter().all(|c| c.signed_on.as_str() >= "2025-01-01"), "{contracts:?}");
    let years: std::collections::BTreeSet<_> = contracts.iter().map(|c| &c.signed_on[..4]).collect();
    assert_eq!(years.into_iter().collect::<Vec<_>>(), ["2025", "2026"]);
    // No record anywhere is a placeholder.
    let names: Vec<String> = [
        db.list_enterprises(None, now.date()).await.unwrap().into_iter().map(|e| e.name).collect::<Vec<_>>(),
        db.list_platforms(None, None).await.unwrap().into_iter().map(|p| p.name).collect(),
        db.list_institutions().await.unwrap().into_iter().map(|i| i.name).collect(),
        contracts.iter().flat_map(|c| [c.contract_no.clone(), c.buyer.clone(), c.seller.clone()]).collect(),
    ]
    .concat();
    assert!(names.len() > 15);
    assert!(names.iter().all(|n| !n.contains("占位")), "{names:?}");
    let tech = db.user_by_name("kejiju").await.unwrap().unwrap();
    assert_eq!(
        db.review_queue(&tech).await.unwrap().len(),
        2,
        "a resubmitted problem and an achievement awaiting 部门审核"
    );
    // A second load into the same database is refused, not doubled.
    assert!(xietong_demo::load(&db, now).await.is_err());
}
