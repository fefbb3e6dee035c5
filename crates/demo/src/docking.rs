//! Demo data of the 产学研 platform: the district's end-2020 figures as reported figures (上报数)
//! with their source, never as invented records; the real institutions and enterprises the report
//! names in their roles; a few made-up records named （示例）; 征集 campaigns with submissions in
//! every review state, experts by post, and dockings and contracts dated over the last year.
//! See data/README.md for what is real and what is illustration.

use anyhow::{Context, Result, anyhow};
use chrono::{Duration, NaiveDateTime};
use xietong_docking::review::ReviewAction;
use xietong_storage::Db;
use xietong_storage::auth::SessionUser;
use xietong_storage::dockings::{MoveDocking, NewActivity, NewBaseline, NewContract, NewDocking};
use xietong_storage::enterprises::{NewEnterprise, Qualification};
use xietong_storage::libraries::{Library, NewCampaign, NewExpert, NewInstitution, NewPlatform, NewProblem};

pub(crate) struct Accounts<'a> {
    pub tech: &'a SessionUser,
    pub enterprise: &'a SessionUser,
    pub institution: &'a SessionUser,
    pub enterprise_unit: i64,
    pub institution_unit: i64,
}

/// (name, GB/T 4754 code, location) of the enterprises the report names.
const NAMED_ENTERPRISES: [(&str, &str, &str); 7] = [
    ("郑州新大方重工科技有限公司", "C3514", "马寨产业集聚区"),
    ("花花牛", "C1441", "二七经开区"),
    ("康师傅饮品中原区域总部", "C1529", "二七经开区"),
    ("仝吉", "C1411", "二七经开区"),
    ("华中食品", "C1432", "二七经开区"),
    ("名扬窗饰", "C1789", "二七经开区"),
    ("帝益肥", "C2625", "二七经开区"),
];

const INSTITUTIONS: [(&str, &str, &str); 4] = [
    ("大连理工大学郑州研究院", "新型研发机构", "郑州市"),
    ("华北水利水电大学", "高校", "郑州市"),
    ("郑州大学", "高校", "郑州市"),
    ("河南先宁新材料研究院", "新型研发机构", "二七区"),
];

/// (enterprise, title, description, keywords, mode, budget 万元)
const PROBLEMS: [(&str, &str, &str, &str, &str, f64); 7] = [
    (
        "郑州新大方重工科技有限公司",
        "大跨度架桥机主梁焊接变形与残余应力控制",
        "公司生产的大吨位架桥机主梁为箱形钢结构，长焊缝焊接后变形和焊接残余应力偏大，影响拼装精度和疲劳寿命。希望引入焊接残余应力消除与变形监测技术，并对架桥机架设钢桁梁工况进行受力分析。",
        "架桥机;焊接残余应力;钢桁梁;焊接变形",
        "合作开发",
        200.0,
    ),
    (
        "花花牛",
        "液态奶杀菌工艺优化与保质期延长",
        "低温液态奶保质期短、冷链要求高。希望优化杀菌工艺（如微波杀菌、动态高压微射流），在保持乳清蛋白等营养成分的同时延长保质期，并快速检测牛奶中的胆固醇等指标。",
        "牛奶;杀菌;乳清蛋白;保质期",
        "合作开发",
        120.0,
    ),
    (
        "康师傅饮品中原区域总部",
        "饮料中果汁含量与溴形态快速检测",
        "需要对果汁饮料中的果汁含量和饮料中的溴酸盐等溴形态进行快速、准确的检测，用于来料和成品质量控制。",
        "饮料;果汁含量;溴酸盐;检测",
        "技术咨询",
        40.0,
    ),
    (
        "仝吉",
        "烘焙食品天然防腐与保鲜技术",
        "面包、糕点等烘焙食品在常温下易霉变，希望用生物防腐剂（如抗菌肽）或乳酸菌发酵替代化学防腐剂，延长货架期。",
        "生物防腐剂;抗菌肽;乳酸菌;烘焙食品",
        "转让",
        80.0,
    ),
    (
        "华中食品",
        "速冻面米制品挤压成型工艺改进",
        "速冻面米制品在挤压成型和冷冻过程中易开裂，希望优化挤压机操作参数，改善产品质构。",
        "挤压;速冻食品;质构",
        "合作开发",
        60.0,
    ),
    (
        "帝益肥",
        "腐植酸水溶肥在设施蔬菜上的应用",
        "公司开发腐植酸类水溶肥，希望在设施蔬菜和果树上开展水肥耦合试验，形成施用技术规程。",
        "腐植酸;水溶肥;水肥耦合;设施蔬菜",
        "许可",
        50.0,
    ),
    (
        "名扬窗饰",
        "遮阳面料阻燃与多功能涂层",
        "遮阳窗饰面料需要达到阻燃要求，同时兼顾抗紫外、防水等功能，希望开发多功能涂层织物工艺。",
        "阻燃;涂层织物;遮阳面料",
        "合作开发",
        90.0,
    ),
];

/// (institution, post-based name, title, disciplines, fields, keywords, linked CSL paper ids)
const EXPERTS: [(&str, &str, &str, &str, &str, &str, &str); 6] = [
    (
        "华北水利水电大学",
        "华北水利水电大学教授（示例一）",
        "教授",
        "土木工程;机械工程",
        "桥梁施工装备与钢结构焊接",
        "架桥机;焊接残余应力;钢桁梁",
        "E0411;E1372",
    ),
    (
        "郑州大学",
        "郑州大学教授（示例二）",
        "教授",
        "食品科学与工程",
        "乳品加工与食品杀菌技术",
        "乳清蛋白;微波杀菌;牛奶",
        "E1030;E0679",
    ),
    (
        "郑州大学",
        "郑州大学副教授（示例三）",
        "副教授",
        "纺织科学与工程",
        "功能纺织品与阻燃整理",
        "阻燃;涂层织物;纺织",
        "E1078;E0492",
    ),
    (
        "大连理工大学郑州研究院",
        "大连理工大学郑州研究院研究员（示例四）",
        "研究员",
        "材料科学与工程;机械工程",
        "金属基复合材料与智能制造装备",
        "复合材料;焊接;智能装备",
        "E0821;E0863",
    ),
    (
        "河南先宁新材料研究院",
        "河南先宁新材料研究院研究员（示例五）",
        "研究员",
        "材料科学与工程;化学/化学工程与技术",
        "尼龙等先进高分子材料及其复合材料",
        "尼龙;聚酰胺;复合材料",
        "",
    ),
    (
        "华北水利水电大学",
        "华北水利水电大学副教授（示例六）",
        "副教授",
        "农业资源利用;水利工程",
        "腐植酸肥料与水肥一体化",
        "腐植酸;水肥耦合;节水",
        "E0733;E1288",
    ),
];

/// (buyer, seller, type, 万元, of which technical income, signed how many days before loading):
/// the demo's contracts that did not come through a docking, spread over the last year or so.
const CONTRACTS: [(&str, &str, &str, f64, f64, i64); 4] = [
    ("郑州示例智能装备有限公司（示例）", "大连理工大学郑州研究院", "技术开发", 260.0, 230.0, 300),
    ("郑州示例食品科技有限公司（示例）", "郑州大学", "技术服务", 35.0, 30.0, 75),
    ("郑州示例智能装备有限公司（示例）", "华北水利水电大学", "技术咨询", 18.0, 18.0, 160),
    ("郑州示例食品科技有限公司（示例）", "河南先宁新材料研究院", "技术许可", 45.0, 40.0, 400),
];

/// The district's end-2020 report, kept as what it is: reported figures (上报数) with their source,
/// never as records. (figure key, value, note)
const REPORTED: [(&str, f64, &str); 6] = [
    ("high_tech_enterprises", 101.0, ""),
    ("tech_smes", 339.0, "报告表述为“科技型企业”"),
    ("carriers", 20.0, ""),
    ("rd_platforms_provincial", 41.0, ""),
    ("rd_platforms_city", 117.0, ""),
    ("contract_amount", 70_000.0, "报告表述为“技术合同成交额超过 7 亿元”，按 7 亿元录入"),
];
const REPORT_SOURCE: &str = "二七区 2020 年底科技工作上报材料（演示：文件名称与日期待科技局核实）";

pub(crate) async fn load(db: &Db, now: NaiveDateTime, a: &Accounts<'_>) -> Result<()> {
    let tech = a.tech;
    // Times are days (and minutes) before loading, so the demo reads as the last year's work
    // whatever day it is loaded on.
    let ago = |days: i64, mins: i64| now - Duration::days(days) - Duration::minutes(mins);
    let today = now.date();

    // --- institutions and the enterprises the report names -------------------------------------
    let mut inst = std::collections::HashMap::new();
    for (name, kind, loc) in INSTITUTIONS {
        let id = db
            .create_institution(
                tech,
                &NewInstitution { name: name.into(), kind: kind.into(), location: loc.into() },
                ago(420, 0),
            )
            .await?;
        inst.insert(name, id);
    }
    let mut ent = std::collections::HashMap::new();
    for (name, code, loc) in NAMED_ENTERPRISES {
        let n = NewEnterprise {
            name: name.into(),
            credit_code: String::new(),
            industry_code: code.into(),
            location: loc.into(),
            contact_name: String::new(),
            contact_phone: String::new(),
            qualifications: vec![],
        };
        ent.insert(
            name,
            db.add_reported_enterprise("demo", &n, ago(420, 0)).await.with_context(|| format!("企业 {name}"))?,
        );
    }
    db.link_party_unit("demo", Some(ent["郑州新大方重工科技有限公司"]), None, a.enterprise_unit, ago(420, 0)).await?;
    db.link_party_unit("demo", None, Some(inst["华北水利水电大学"]), a.institution_unit, ago(420, 0)).await?;

    // --- a few made-up records, named as such, so the figures have something behind them ------
    let valid_until = (today + Duration::days(400)).to_string();
    let qual = |kind: &str, no: &str| Qualification {
        kind: kind.into(),
        cert_no: format!("{no}（示例）"),
        expires_on: Some(valid_until.clone()),
    };
    for (name, code, quals) in [
        (
            "郑州示例智能装备有限公司（示例）",
            "C3514",
            vec![qual("国家高新技术企业", "GR2025410001"), qual("科技型中小企业", "2025410103A0001")],
        ),
        ("郑州示例食品科技有限公司（示例）", "C1441", vec![qual("科技型中小企业", "2025410103A0002")]),
    ] {
        let n = NewEnterprise {
            name: name.into(),
            credit_code: String::new(),
            industry_code: code.into(),
            location: "二七区".into(),
            contact_name: String::new(),
            contact_phone: String::new(),
            qualifications: quals,
        };
        db.add_reported_enterprise("demo", &n, ago(400, 0)).await.with_context(|| format!("企业 {name}"))?;
    }
    // The named lab is real (the report names its co-building agreement); its year is not given.
    for (name, kind, level, host) in [
        ("河南省先进尼龙材料及应用重点实验室", "重点实验室", "省", "河南先宁新材料研究院"),
        ("二七区示例众创空间（示例）", "众创空间", "", ""),
    ] {
        let p = NewPlatform {
            unread: vec![],
            name: name.into(),
            kind: kind.into(),
            level: level.into(),
            host: host.into(),
            approved_year: None,
        };
        db.create_platform(tech, &p, ago(390, 0)).await?;
    }
    for (key, value, note) in REPORTED {
        let b = NewBaseline {
            value,
            as_of: "2020-12-31".into(),
            source: REPORT_SOURCE.into(),
            source_date: String::new(),
            note: note.into(),
            version: Some(0),
        };
        db.set_baseline(tech, key, &b, ago(380, 0)).await.with_context(|| format!("上报数 {key}"))?;
    }
    for (i, (buyer, seller, kind, amount, income, days)) in CONTRACTS.iter().enumerate() {
        let signed = today - Duration::days(*days);
        let n = NewContract {
            unread: vec![],
            contract_no: format!("{}410103{:06}（示例）", signed.format("%Y"), i + 11),
            kind: (*kind).into(),
            buyer: (*buyer).into(),
            seller: (*seller).into(),
            amount_wan: *amount,
            technical_income_wan: *income,
            signed_on: signed.to_string(),
        };
        // Registered a couple of days after signing.
        db.register_contract(tech, None, &n, ago(days - 2, 0)).await.with_context(|| format!("合同 {buyer}"))?;
    }

    // --- campaigns and submissions ------------------------------------------------------------
    let starts = (today - Duration::days(40)).to_string();
    let ends = (today + Duration::days(50)).to_string();
    let mut campaign = std::collections::HashMap::new();
    for (lib, title) in [
        ("problem", "2026年度企业技术难题征集"),
        ("expert", "2026年度专家库信息征集"),
        ("achievement", "2026年度高校院所科技成果征集"),
    ] {
        let c = NewCampaign {
            unread: vec![],
            title: title.into(),
            target: lib.into(),
            starts_on: starts.clone(),
            ends_on: ends.clone(),
            validity_days: Some(365),
            description: "通过二七区产学研对接平台在线填报或下载 Excel 模板填报。".into(),
        };
        campaign.insert(lib, db.create_campaign(tech, &c, ago(41, 0)).await?);
    }
    let approve = |lib: Library, id: i64, days: i64| async move {
        db.review(Some(tech), lib, id, ReviewAction::PassFormal, "", ago(days, 10)).await?;
        db.review(Some(tech), lib, id, ReviewAction::Approve, "", ago(days, 0)).await?;
        Ok::<_, anyhow::Error>(())
    };
    let mut problem = std::collections::HashMap::new();
    for (i, (e, title, desc, kw, mode, budget)) in PROBLEMS.iter().enumerate() {
        let n = NewProblem {
            title: (*title).into(),
            description: (*desc).into(),
            keywords: (*kw).into(),
            enterprise_id: Some(ent[e]),
            budget_wan: Some(*budget),
            cooperation_mode: (*mode).into(),
            campaign_id: Some(campaign["problem"]),
            ..Default::default()
        };
        // 新大方 posts its own through its account; the 科技局 enters the others from the 征集 forms.
        let who = if *e == "郑州新大方重工科技有限公司" { a.enterprise } else { tech };
        let id =
            db.submit_problem(who, None, &n, ago(38 - i as i64, 0)).await.with_context(|| format!("难题 {title}"))?;
        problem.insert(*e, id);
    }
    for e in ["郑州新大方重工科技有限公司", "花花牛", "康师傅饮品中原区域总部", "仝吉", "帝益肥", "名扬窗饰"]
    {
        approve(Library::Problem, problem[e], 30).await?;
    }
    // 华中食品's stays in the queue: returned once for a missing figure, then resubmitted.
    db.review(
        Some(tech),
        Library::Problem,
        problem["华中食品"],
        ReviewAction::Return,
        "请补充目前的开裂率和目标指标",
        ago(29, 0),
    )
    .await?;
    let fix = NewProblem {
        title: PROBLEMS[4].1.into(),
        description: format!("{}目前开裂率约 8%，目标降到 2% 以下。", PROBLEMS[4].2),
        keywords: PROBLEMS[4].3.into(),
        enterprise_id: Some(ent["华中食品"]),
        budget_wan: Some(PROBLEMS[4].5),
        cooperation_mode: PROBLEMS[4].4.into(),
        campaign_id: Some(campaign["problem"]),
        ..Default::default()
    };
    db.submit_problem(tech, Some(problem["华中食品"]), &fix, ago(27, 0)).await?;

    let mut expert = vec![];
    for (i, (inst_name, name, title, disc, fields, kw, papers)) in EXPERTS.iter().enumerate() {
        let mut ach = vec![];
        for p in papers.split(';').filter(|p| !p.is_empty()) {
            let found = db.achievements_by_external_id(&[p.to_string()]).await?;
            ach.push(found.first().ok_or_else(|| anyhow!("演示成果 {p} 不在成果库中"))?.id);
        }
        let n = NewExpert {
            unread: vec![],
            name: (*name).into(),
            institution_id: Some(inst[inst_name]),
            title: (*title).into(),
            disciplines: (*disc).into(),
            fields: (*fields).into(),
            keywords: (*kw).into(),
            phone: format!("0371-6000{:04}", i + 1),
            email: format!("expert{}@example.edu.cn", i + 1),
            // No ID numbers in the demo: a made-up valid one could be a real person's.
            id_number: String::new(),
            share_on_consent: true,
            achievement_ids: ach,
            campaign_id: Some(campaign["expert"]),
        };
        let who = if *inst_name == "华北水利水电大学" { a.institution } else { tech };
        let id = db.submit_expert(who, None, &n, ago(35, i as i64)).await.with_context(|| format!("专家 {name}"))?;
        approve(Library::Expert, id, 28).await?;
        expert.push(id);
    }
    // One achievement submitted by 华北水利水电大学 through the campaign, waiting for 部门审核.
    let sub = xietong_storage::libraries::NewAchievement {
        title: "架桥机主梁焊接残余应力超声冲击消除工艺".into(),
        abstract_text: "针对架桥机箱形主梁长焊缝的焊接残余应力，采用超声冲击处理并结合数值模拟确定冲击参数，可使焊缝区残余拉应力显著降低。".into(),
        kind: "技术".into(),
        keywords: "超声冲击;焊接残余应力;架桥机".into(),
        discipline: "机械工程".into(),
        maturity: "中试".into(),
        transfer_modes: "许可;合作开发".into(),
        price_min_wan: Some(30.0),
        price_max_wan: Some(80.0),
        institution_id: Some(inst["华北水利水电大学"]),
        campaign_id: Some(campaign["achievement"]),
        ..Default::default()
    };
    let sub_id = db.submit_achievement(a.institution, None, &sub, ago(20, 0)).await?;
    db.review(Some(tech), Library::Achievement, sub_id, ReviewAction::PassFormal, "", ago(18, 0)).await?;

    // --- dockings -----------------------------------------------------------------------------
    let mv = |id: i64, to: &'static str, days: i64| async move {
        db.move_docking(
            tech,
            id,
            &MoveDocking { to: to.into(), note: String::new(), reason: String::new() },
            ago(days, 0),
        )
        .await
        .with_context(|| format!("对接 {id} → {to}"))
    };
    // The three-party intent agreement the report names.
    let d1 = db
        .create_docking(
            tech,
            &NewDocking {
                title: "大连理工大学郑州研究院、华北水利水电大学与郑州新大方重工科技有限公司三方合作".into(),
                problem_id: Some(problem["郑州新大方重工科技有限公司"]),
                expert_id: Some(expert[0]),
                note: "依据难题匹配结果推荐".into(),
                ..Default::default()
            },
            ago(25, 0),
        )
        .await?;
    mv(d1, "contacting", 24).await?;
    mv(d1, "negotiating", 20).await?;
    db.add_activity(
        tech,
        Some(d1),
        &NewActivity {
            title: "三方合作对接洽谈会".into(),
            kind: "对接洽谈".into(),
            held_on: (today - Duration::days(10)).to_string(),
            place: "二七区科技局会议室".into(),
            attendees: "大连理工大学郑州研究院负责人；华北水利水电大学科研处负责人；郑州新大方重工科技有限公司技术负责人；区科技局局长".into(),
            summary: "三方就架桥机焊接质量控制开展合作达成一致，约定签订三方合作意向书。".into(),
        },
        ago(10, 0),
    )
    .await?;
    mv(d1, "intent_signed", 9).await?;

    // 花花牛 × 郑州大学 expert: through to a registered contract.
    let d2 = db
        .create_docking(
            tech,
            &NewDocking { problem_id: Some(problem["花花牛"]), expert_id: Some(expert[1]), ..Default::default() },
            ago(22, 0),
        )
        .await?;
    for (to, m) in [("contacting", 21), ("negotiating", 18), ("intent_signed", 12)] {
        mv(d2, to, m).await?;
    }
    let c = NewContract {
        unread: vec![],
        contract_no: format!("{}410103000001（示例）", today.format("%Y")),
        kind: "技术开发".into(),
        buyer: "花花牛".into(),
        seller: "郑州大学".into(),
        amount_wan: 120.0,
        technical_income_wan: 100.0,
        signed_on: (today - Duration::days(3)).to_string(),
    };
    db.register_contract(tech, Some(d2), &c, ago(2, 30)).await?;
    mv(d2, "contract_signed", 2).await?;
    db.share_contact(tech, d2, ago(1, 0)).await?;

    // 仝吉 × an achievement: in negotiation.
    let antimicrobial = db
        .achievements_by_external_id(&["E1367".to_string()])
        .await?
        .first()
        .map(|a| a.id)
        .ok_or_else(|| anyhow!("演示成果 E1367 缺失"))?;
    let d3 = db
        .create_docking(
            tech,
            &NewDocking {
                problem_id: Some(problem["仝吉"]),
                achievement_id: Some(antimicrobial),
                ..Default::default()
            },
            ago(15, 0),
        )
        .await?;
    mv(d3, "contacting", 14).await?;
    mv(d3, "negotiating", 8).await?;
    // 帝益肥: just recommended; 名扬窗饰: ended.
    db.create_docking(
        tech,
        &NewDocking { problem_id: Some(problem["帝益肥"]), expert_id: Some(expert[5]), ..Default::default() },
        ago(5, 0),
    )
    .await?;
    let d5 = db
        .create_docking(
            tech,
            &NewDocking { problem_id: Some(problem["名扬窗饰"]), expert_id: Some(expert[2]), ..Default::default() },
            ago(20, 0),
        )
        .await?;
    mv(d5, "contacting", 17).await?;
    db.move_docking(
        tech,
        d5,
        &MoveDocking {
            to: "terminated".into(), note: String::new(), reason: "企业调整产品方向，暂缓合作".into()
        },
        ago(6, 0),
    )
    .await?;

    // The lab co-building agreement the report names.
    db.add_activity(
        tech,
        None,
        &NewActivity {
            title: "河南先宁新材料研究院与河南省先进尼龙材料及应用重点实验室共建签约".into(),
            kind: "对接活动".into(),
            held_on: (today - Duration::days(200)).to_string(),
            place: "二七区".into(),
            attendees: "河南先宁新材料研究院负责人；区科技局局长".into(),
            summary: "演示记录：报告提到双方签订共建协议，此处的日期和内容是示例。".into(),
        },
        ago(198, 0),
    )
    .await?;
    Ok(())
}
