//! Demo cadre records (issue 18): the 班子 of 侯寨乡 and 马寨镇 as the district reports them after
//! the 乡镇 party committee elections — 22 members, 8 of them 35 or under (36.36 %), one of 30 or
//! under in each — plus two young 应急办 heads put into the 股级库 for their 防汛 work; the year's
//! 历练 (the report's five 专班, two 调训 classes, three 挂职, two 一线 assignments) and the report's
//! figures as 上报数 (49 引进, 5 专班, 400 抽调, 200 调训, 200 一线). People by post with placeholder
//! names; birth dates and ID numbers are invented (with a valid check character).

use anyhow::{Context, Result, anyhow};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use xietong_cadres::PoolLevel;
use xietong_storage::Db;
use xietong_storage::auth::SessionUser;
use xietong_storage::cadres::CadreInput;
use xietong_storage::cadres::experiences::{ExperienceInput, MemberInput};
use xietong_storage::cadres::roster::ReportedInput;

/// (post, age, education, rank, entry route) of one 班子 seat; the 乡长/镇长 is the unit's head.
const SEATS: [(&str, i32, &str, &str, &str); 11] = [
    ("党委书记", 46, "大学本科", "正科级", "公务员招录"),
    ("HEAD", 41, "硕士研究生", "正科级", "遴选"),
    ("党委副书记", 35, "硕士研究生", "副科级", "选调生"),
    ("人大主席", 53, "大学本科", "正科级", "转任"),
    ("纪委书记", 48, "大学本科", "副科级", "公务员招录"),
    ("组织委员", 34, "硕士研究生", "副科级", "公开引进"),
    ("宣传委员", 44, "大学本科", "副科级", "公务员招录"),
    ("武装部长", 51, "大学专科", "副科级", "转任"),
    ("副职（分管城建）", 32, "硕士研究生", "副科级", "公开引进"),
    ("副职（分管农业）", 38, "大学本科", "副科级", "事业单位招聘"),
    ("副职（分管社会事务）", 29, "硕士研究生", "副科级", "选调生"),
];

/// A made-up 公民身份号码 (the 410103 area is 二七区) with its right check character.
fn id_number(birth: NaiveDate, seq: u32) -> String {
    let s = format!("410103{}{seq:03}", birth.format("%Y%m%d"));
    let mut digits = [0u32; 17];
    for (i, c) in s.chars().enumerate() {
        digits[i] = c.to_digit(10).unwrap_or(0);
    }
    format!("{s}{}", xietong_security::id_number::check_char(&digits))
}

fn input(birth: NaiveDate, seq: u32, education: &str, rank: &str, route: &str, major: &str) -> CadreInput {
    let work_start = NaiveDate::from_ymd_opt(birth.year() + 23, 7, 1).unwrap_or(birth);
    CadreInput {
        id_number: id_number(birth, seq),
        education: education.into(),
        major: major.into(),
        rank: rank.into(),
        entry_route: route.into(),
        work_start: work_start.to_string(),
        version: None,
    }
}

pub(crate) async fn load(
    db: &Db,
    now: NaiveDateTime,
    org: &SessionUser,
    unit: &dyn Fn(&str) -> Result<i64>,
    person: &dyn Fn(&str) -> Result<i64>,
) -> Result<()> {
    let mut seq = 11;
    let mut made = std::collections::HashMap::new();
    for (code, name, head) in [("hzx", "侯寨乡", "p_hzx_head"), ("mzz", "马寨镇", "p_mzz_head")] {
        let unit_id = unit(code)?;
        for (i, (post, age, education, rank, route)) in SEATS.iter().enumerate() {
            let (person_id, post) = if *post == "HEAD" {
                (person(head)?, if code == "hzx" { "乡长" } else { "镇长" })
            } else {
                let mut tx = db.begin().await?;
                let id = db
                    .create_person(
                        &mut tx,
                        "demo",
                        &format!("{code}bz{i:02}"),
                        &format!("{name}{post}（示例）"),
                        post,
                        unit_id,
                        now,
                    )
                    .await?;
                tx.commit().await?;
                made.insert(format!("{code}bz{i:02}"), id);
                (id, *post)
            };
            // Born in mid-January: the age is the same all year but a fortnight.
            let birth = NaiveDate::from_ymd_opt(now.year() - age, 1, 15).ok_or_else(|| anyhow!("出生年份无效"))?;
            let major = if *age <= 35 { "城乡规划" } else { "行政管理" };
            db.save_cadre(org, person_id, &input(birth, seq, education, rank, route, major), now)
                .await
                .with_context(|| format!("演示干部档案 {name}{post}"))?;
            seq += 2;
            db.seat_on_team(org, unit_id, person_id, post).await.with_context(|| format!("演示班子 {name}{post}"))?;
            if *age <= 35 {
                db.enter_pool(org, person_id, PoolLevel::Section, "乡镇换届新进班子的年轻干部，跟踪培养", now).await?;
            }
        }
    }
    for (code, age) in [("p_hzx_zrr", 28), ("p_mzz_zrr", 30)] {
        let id = person(code)?;
        let birth = NaiveDate::from_ymd_opt(now.year() - age, 3, 1).ok_or_else(|| anyhow!("出生年份无效"))?;
        db.save_cadre(org, id, &input(birth, seq, "硕士研究生", "一级科员", "公开引进", "水利工程"), now).await?;
        seq += 2;
        db.enter_pool(org, id, PoolLevel::Stock, "防汛救灾工作中表现突出", now).await?;
    }
    // The 班子 members made above have codes of their own.
    let anyone =
        |code: &str| person(code).or_else(|_| made.get(code).copied().ok_or_else(|| anyhow!("演示人员 {code} 不存在")));
    experiences(db, now, org, &anyone).await
}

/// One 历练 record: kind, name, place, purpose, hours, start and end (month-day of this year, or of
/// last year when marked "-"), members (person code, duty, assessment) and linked tasks by name.
type Record<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    Option<f64>,
    &'a str,
    &'a str,
    &'a [(&'a str, &'a str, &'a str)],
    &'a [&'a str],
);

const RECORDS: [Record<'static>; 12] = [
    (
        "task_force",
        "重点项目推进专班",
        "区发展改革委",
        "道路改造、产业集聚区项目开工入库的协调推进",
        None,
        "03-01",
        "",
        &[
            ("p_fgw_zrr", "组长", ""),
            ("p_jsj_gck_zrr1", "成员", ""),
            ("p_jsj_gck_zrr2", "成员", ""),
            ("p_gxj_zrr", "成员", ""),
            ("p_mzjq_zrr", "成员", ""),
        ],
        &["“一环十横十纵”道路综合改造三期工程6月底前完工", "马寨产业集聚区重点工业项目集中开工及入库纳统"],
    ),
    (
        "task_force",
        "招商引资专班",
        "区工业和信息化局",
        "重点产业链招商和签约项目落地",
        None,
        "02-15",
        "",
        &[("p_gxj_lly", "组长", ""), ("p_jkq_zrr", "成员", ""), ("p_mzjq_lly", "成员", "")],
        &[],
    ),
    (
        "task_force",
        "社区治理专班",
        "区民政局",
        "老旧小区和背街小巷治理、社区服务提升",
        None,
        "04-01",
        "",
        &[("p_mzj_zrr", "组长", ""), ("p_dxl_zrr", "成员", ""), ("p_mfz_lly", "成员", ""), ("p_wlb_lly", "成员", "")],
        &["大学路街道背街小巷综合整治提升"],
    ),
    (
        "task_force",
        "疫情防控专班",
        "区卫生健康委",
        "重点场所常态化防控和应急处置",
        None,
        "01-05",
        "03-31",
        &[
            ("p_scjgj_spk_zrr", "组长", ""),
            ("p_jyj_xqk_zrr", "成员", ""),
            ("p_sbj_zrr", "成员", ""),
            ("p_yjj_zrr2", "成员", ""),
            ("p_hzx_lly", "成员", ""),
        ],
        &[],
    ),
    (
        "task_force",
        "防汛救灾专班",
        "区水利局",
        "汛前排查整治、汛期值守和抢险救援",
        None,
        "06-01",
        "09-30",
        &[
            ("p_slj_zrr1", "组长", ""),
            ("p_slj_zrr2", "成员", ""),
            ("p_yjj_zrr", "成员", ""),
            ("p_hzx_zrr", "成员", ""),
            ("p_mzz_zrr", "成员", ""),
            ("p_zrj_zrr", "成员", ""),
        ],
        &["防汛风险点拉网式排查整治", "城区道路易涝积水点汛前整治"],
    ),
    (
        "training",
        "中青年干部培训班",
        "区委党校",
        "",
        Some(120.0),
        "04-07",
        "04-30",
        &[
            ("p_hzx_zrr", "学员", ""),
            ("p_mzz_zrr", "学员", ""),
            ("p_jsj_dlk_zrr2", "学员", ""),
            ("p_jsj_gck_zrr2", "学员", ""),
            ("p_yjj_zrr2", "学员", ""),
            ("hzxbz02", "学员", ""),
            ("hzxbz05", "学员", ""),
            ("hzxbz08", "学员", ""),
            ("hzxbz10", "学员", ""),
            ("mzzbz02", "学员", ""),
            ("mzzbz05", "学员", ""),
            ("mzzbz08", "学员", ""),
            ("mzzbz10", "学员", ""),
        ],
        &[],
    ),
    (
        "training",
        "党性教育专题培训",
        "二七纪念馆",
        "",
        Some(8.0),
        "06-28",
        "06-28",
        &[
            ("p_fgw_lly", "学员", ""),
            ("p_gxj_lly", "学员", ""),
            ("p_jsj_lly", "学员", ""),
            ("p_cgj_lly", "学员", ""),
            ("p_lyj_lly", "学员", ""),
            ("p_slj_lly", "学员", ""),
            ("p_yjj_lly", "学员", ""),
            ("p_zrj_lly", "学员", ""),
            ("p_sbj_lly", "学员", ""),
            ("p_mzj_lly", "学员", ""),
            ("p_scjgj_lly", "学员", ""),
            ("p_jyj_lly", "学员", ""),
            ("p_dxl_lly", "学员", ""),
            ("p_mzz_lly", "学员", ""),
            ("p_hzx_lly", "学员", ""),
        ],
        &[],
    ),
    (
        "secondment",
        "行长助理",
        "某商业银行二七支行（示例）",
        "",
        None,
        "-09-01",
        "08-31",
        &[("p_fgw_zrr", "行长助理", "优秀")],
        &[],
    ),
    (
        "secondment",
        "副总经理",
        "区城市发展投资有限公司（示例）",
        "",
        None,
        "03-01",
        "",
        &[("p_mzz_zrr", "副总经理", "")],
        &[],
    ),
    (
        "secondment",
        "处长助理",
        "市发展改革委",
        "",
        None,
        "02-01",
        "07-31",
        &[("p_jsj_dlk_zrr1", "处长助理", "称职")],
        &[],
    ),
    (
        "frontline",
        "产业集聚区项目指挥部",
        "马寨产业集聚区",
        "",
        None,
        "05-01",
        "10-31",
        &[("p_jsj_gck_zrr2", "驻点", ""), ("p_zrj_zrr", "驻点", ""), ("p_fgw_lly", "驻点", "")],
        &[],
    ),
    (
        "frontline",
        "防汛一线值守",
        "侯寨乡",
        "",
        None,
        "07-15",
        "08-31",
        &[("p_slj_zrr2", "驻村", ""), ("p_yjj_zrr2", "驻村", "")],
        &[],
    ),
];

/// A month-day of this year, or of last year when it begins with "-".
fn on(now: NaiveDateTime, md: &str) -> String {
    match md.strip_prefix('-') {
        Some(md) => format!("{}-{md}", now.year() - 1),
        None if md.is_empty() => String::new(),
        None => format!("{}-{md}", now.year()),
    }
}

async fn experiences(
    db: &Db,
    now: NaiveDateTime,
    org: &SessionUser,
    person: &dyn Fn(&str) -> Result<i64>,
) -> Result<()> {
    for (kind, name, place, purpose, hours, start, end, members, tasks) in RECORDS {
        let input = ExperienceInput {
            kind: kind.into(),
            name: name.into(),
            place: place.into(),
            purpose: purpose.into(),
            hours,
            started_on: on(now, start),
            ended_on: on(now, end),
            version: None,
        };
        let e = db.save_experience(org, None, &input, now).await.with_context(|| format!("演示历练 {name}"))?;
        for (code, duty, assessment) in members {
            let person_id = person(code)?;
            let m = MemberInput { person_id, duty: duty.to_string(), assessment: assessment.to_string() };
            db.add_experience_member(org, e.id, &m, now)
                .await
                .with_context(|| format!("演示历练 {name} 成员 {code}"))?;
        }
        for task in tasks {
            db.link_experience_task(org, e.id, task, now).await.with_context(|| format!("演示专班 {name} 任务"))?;
        }
    }
    let figures = [
        ("recruited", 49.0),
        ("task_forces", 5.0),
        ("task_force_people", 400.0),
        ("training", 200.0),
        ("frontline", 200.0),
        ("young_in_teams", 8.0),
    ];
    let input = ReportedInput { figures: figures.iter().map(|(k, v)| (k.to_string(), *v)).collect() };
    db.set_reported_figures(org, now.year(), &input, now).await?;
    Ok(())
}
