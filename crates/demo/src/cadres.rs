//! Demo cadre records (issue 18): the 班子 of 侯寨乡 and 马寨镇 as the district reports them after
//! the 乡镇 party committee elections — 22 members, 8 of them 35 or under (36.36 %), one of 30 or
//! under in each — plus two young 应急办 heads put into the 股级库 for their 防汛 work. People by post
//! with placeholder names; birth dates and ID numbers are invented (with a valid check character).

use anyhow::{Context, Result, anyhow};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use xietong_cadres::PoolLevel;
use xietong_storage::Db;
use xietong_storage::auth::SessionUser;
use xietong_storage::cadres::CadreInput;

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
    Ok(())
}
