//! Demo data of the 产学研 platform: the district's end-2020 figures (placeholders where the report
//! only counts), the real institutions and enterprises it names in their roles, 征集 campaigns with
//! submissions in every review state, experts by post, and dockings at several stages.
//! See data/README.md for what is real and what is illustration.

use anyhow::{Context, Result, anyhow};
use chrono::{Duration, NaiveDateTime};
use xietong_docking::review::ReviewAction;
use xietong_storage::Db;
use xietong_storage::auth::SessionUser;
use xietong_storage::dockings::{MoveDocking, NewActivity, NewContract, NewDocking};
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

fn code3(i: usize) -> String {
    format!("{:03}", i)
}

pub(crate) async fn load(db: &Db, now: NaiveDateTime, a: &Accounts<'_>) -> Result<()> {
    let tech = a.tech;
    let at = |mins: i64| now - Duration::minutes(mins);
    let today = now.date();

    // --- institutions and the enterprises the report names -------------------------------------
    let mut inst = std::collections::HashMap::new();
    for (name, kind, loc) in INSTITUTIONS {
        let id = db
            .create_institution(
                tech,
                &NewInstitution { name: name.into(), kind: kind.into(), location: loc.into() },
                false,
                at(600),
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
            db.add_reported_enterprise("demo", &n, false, at(600)).await.with_context(|| format!("企业 {name}"))?,
        );
    }
    db.link_party_unit("demo", Some(ent["郑州新大方重工科技有限公司"]), None, a.enterprise_unit, at(600)).await?;
    db.link_party_unit("demo", None, Some(inst["华北水利水电大学"]), a.institution_unit, at(600)).await?;

    // --- placeholders for what the end-2020 report only counts -------------------------------
    let valid_until = (today + Duration::days(400)).to_string();
    let industries = ["C3514", "C3511", "C2929", "C2651", "C3989", "I6513", "C2710", "C3831"];
    for (kind, count, label) in
        [("国家高新技术企业", 101, "国家高新技术企业"), ("科技型中小企业", 339, "科技型中小企业")]
    {
        for i in 1..=count {
            let q = Qualification {
                kind: kind.into(),
                cert_no: "（占位，报告仅计数）".into(),
                expires_on: Some(valid_until.clone()),
            };
            let n = NewEnterprise {
                name: format!("{label}（占位 {}）", code3(i)),
                credit_code: String::new(),
                industry_code: industries[i % industries.len()].into(),
                location: "二七区".into(),
                contact_name: String::new(),
                contact_phone: String::new(),
                qualifications: vec![q],
            };
            db.add_reported_enterprise("demo", &n, true, at(590))
                .await
                .with_context(|| format!("占位企业 {label} {i}"))?;
        }
    }
    let carriers = ["众创空间", "孵化器", "创新创业综合体"];
    for i in 1..=20 {
        let p = NewPlatform {
            unread: vec![],
            name: format!("创新创业载体（占位 {}）", code3(i)),
            kind: carriers[i % 3].into(),
            level: String::new(),
            host: String::new(),
            approved_year: Some(2020),
        };
        db.create_platform(tech, &p, true, at(580)).await?;
    }
    let rd = ["重点实验室", "工程技术研究中心", "企业技术中心"];
    // The named lab is one of the 41 省级以上.
    db.create_platform(
        tech,
        &NewPlatform {
            unread: vec![],
            name: "河南省先进尼龙材料及应用重点实验室".into(),
            kind: "重点实验室".into(),
            level: "省".into(),
            host: "河南先宁新材料研究院".into(),
            approved_year: Some(2020),
        },
        false,
        at(580),
    )
    .await?;
    for i in 1..=40 {
        let level = if i <= 3 { "国家" } else { "省" };
        let p = NewPlatform {
            unread: vec![],
            name: format!("省级以上研发平台（占位 {}）", code3(i)),
            kind: rd[i % 3].into(),
            level: level.into(),
            host: String::new(),
            approved_year: Some(2020),
        };
        db.create_platform(tech, &p, true, at(580)).await?;
    }
    for i in 1..=117 {
        let p = NewPlatform {
            unread: vec![],
            name: format!("市级研发平台（占位 {}）", code3(i)),
            kind: rd[i % 3].into(),
            level: "市".into(),
            host: String::new(),
            approved_year: Some(2020),
        };
        db.create_platform(tech, &p, true, at(580)).await?;
    }
    // 2020 技术合同成交额 7.058 亿元 (70 580 万元), spread over the five types.
    let kinds = ["技术开发", "技术服务", "技术转让", "技术咨询", "技术许可"];
    let weights: Vec<f64> = (0..24).map(|i| 1.0 + ((i * 7919) % 97) as f64 / 40.0).collect();
    let total: f64 = weights.iter().sum();
    let mut amounts: Vec<f64> = weights.iter().map(|w| (70_580.0 * w / total).round()).collect();
    let rest: f64 = amounts[..23].iter().sum();
    amounts[23] = 70_580.0 - rest;
    if amounts[23] <= 0.0 {
        return Err(anyhow!("占位合同金额分配错误"));
    }
    for (i, amount) in amounts.iter().enumerate() {
        let n = NewContract {
            unread: vec![],
            contract_no: format!("2020410103{:06}（占位）", i + 1),
            kind: kinds[i % 5].into(),
            buyer: format!("二七区企业（占位 {}）", code3(i + 1)),
            seller: "高校院所（占位）".into(),
            amount_wan: *amount,
            technical_income_wan: (amount * 0.8).round(),
            signed_on: format!("2020-{:02}-15", 1 + i % 12),
        };
        db.register_contract(tech, None, &n, true, at(570)).await?;
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
        campaign.insert(lib, db.create_campaign(tech, &c, at(560)).await?);
    }
    let approve = |lib: Library, id: i64, mins: i64| async move {
        db.review(Some(tech), lib, id, ReviewAction::PassFormal, "", at(mins)).await?;
        db.review(Some(tech), lib, id, ReviewAction::Approve, "", at(mins - 1)).await?;
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
            db.submit_problem(who, None, &n, at(500 - i as i64 * 5)).await.with_context(|| format!("难题 {title}"))?;
        problem.insert(*e, id);
    }
    for e in ["郑州新大方重工科技有限公司", "花花牛", "康师傅饮品中原区域总部", "仝吉", "帝益肥", "名扬窗饰"]
    {
        approve(Library::Problem, problem[e], 400).await?;
    }
    // 华中食品's stays in the queue: returned once for a missing figure, then resubmitted.
    db.review(
        Some(tech),
        Library::Problem,
        problem["华中食品"],
        ReviewAction::Return,
        "请补充目前的开裂率和目标指标",
        at(390),
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
    db.submit_problem(tech, Some(problem["华中食品"]), &fix, at(380)).await?;

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
        let id = db.submit_expert(who, None, &n, at(370 - i as i64)).await.with_context(|| format!("专家 {name}"))?;
        approve(Library::Expert, id, 360).await?;
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
    let sub_id = db.submit_achievement(a.institution, None, &sub, at(350)).await?;
    db.review(Some(tech), Library::Achievement, sub_id, ReviewAction::PassFormal, "", at(340)).await?;

    // --- dockings -----------------------------------------------------------------------------
    let mv = |id: i64, to: &'static str, mins: i64| async move {
        db.move_docking(tech, id, &MoveDocking { to: to.into(), note: String::new(), reason: String::new() }, at(mins))
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
            false,
            at(300),
        )
        .await?;
    mv(d1, "contacting", 290).await?;
    mv(d1, "negotiating", 280).await?;
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
        at(275),
    )
    .await?;
    mv(d1, "intent_signed", 270).await?;

    // 花花牛 × 郑州大学 expert: through to a registered contract.
    let d2 = db
        .create_docking(
            tech,
            &NewDocking { problem_id: Some(problem["花花牛"]), expert_id: Some(expert[1]), ..Default::default() },
            false,
            at(260),
        )
        .await?;
    for (to, m) in [("contacting", 250), ("negotiating", 240), ("intent_signed", 230)] {
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
    db.register_contract(tech, Some(d2), &c, false, at(225)).await?;
    mv(d2, "contract_signed", 220).await?;
    db.share_contact(tech, d2, at(219)).await?;

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
            false,
            at(210),
        )
        .await?;
    mv(d3, "contacting", 200).await?;
    mv(d3, "negotiating", 190).await?;
    // 帝益肥: just recommended; 名扬窗饰: ended.
    db.create_docking(
        tech,
        &NewDocking { problem_id: Some(problem["帝益肥"]), expert_id: Some(expert[5]), ..Default::default() },
        false,
        at(180),
    )
    .await?;
    let d5 = db
        .create_docking(
            tech,
            &NewDocking { problem_id: Some(problem["名扬窗饰"]), expert_id: Some(expert[2]), ..Default::default() },
            false,
            at(170),
        )
        .await?;
    mv(d5, "contacting", 160).await?;
    db.move_docking(
        tech,
        d5,
        &MoveDocking {
            to: "terminated".into(), note: String::new(), reason: "企业调整产品方向，暂缓合作".into()
        },
        at(150),
    )
    .await?;

    // The lab co-building agreement the report names.
    db.add_activity(
        tech,
        None,
        &NewActivity {
            title: "河南先宁新材料研究院与河南省先进尼龙材料及应用重点实验室共建签约".into(),
            kind: "对接活动".into(),
            held_on: "2020-11-20".into(),
            place: "二七区".into(),
            attendees: "河南先宁新材料研究院负责人；区科技局局长".into(),
            summary: "签订共建协议（演示记录）。".into(),
        },
        at(140),
    )
    .await?;
    Ok(())
}
