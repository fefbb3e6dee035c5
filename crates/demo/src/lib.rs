//! Demo data from Erqi District's public reports (see data/README.md), loaded through the same
//! storage calls the web layer uses, with back-dated times, so every task has a real timeline,
//! real clocks and an audit trail. People appear by post with placeholder names.

use std::collections::HashMap;

use anyhow::{Context, Result, anyhow, bail};
use chrono::{Duration, NaiveDateTime};
use serde::Deserialize;
use xietong_calendar::WorkCalendar;
use xietong_storage::Db;
use xietong_storage::auth::{SessionUser, hash_password};
use xietong_storage::tasks::{Command, Ctx, NewSubtask, NewTask};
use xietong_supervision::Role;

mod cadres;
mod docking;
mod outcomes;

/// Password of every demo account (shown in the README; demo use only).
pub const DEMO_PASSWORD: &str = "Xietong@2026";

const DATA: &str = include_str!("../data/erqi.json");
const CSL: &str = include_str!("../data/csl_achievements.tsv");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Demo {
    categories: Vec<String>,
    units: Vec<DUnit>,
    people: Vec<DPerson>,
    leader_areas: Vec<DArea>,
    tasks: Vec<DTask>,
}

/// The demo district's units as (name, kind): the organisation tree the intake benchmark reads
/// documents against.
pub fn org_units() -> Vec<(String, String)> {
    serde_json::from_str::<Demo>(DATA)
        .map(|d| d.units.into_iter().map(|u| (u.name, u.kind)).collect())
        .unwrap_or_default()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DUnit {
    code: String,
    name: String,
    kind: String,
    parent: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DPerson {
    code: String,
    name: String,
    post: String,
    unit: String,
    head_of_unit: bool,
    role: Option<String>,
    username: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DArea {
    leader: String,
    units: Vec<String>,
    categories: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DTask {
    code: String,
    title: String,
    description: String,
    source_kind: String,
    source_doc_no: String,
    source_title: String,
    category: String,
    lead_unit: String,
    co_units: Vec<String>,
    leader: String,
    received_working_days_ago: i64,
    deadline_working_days_from_now: i64,
    report_cycle: String,
    stage: String,
    subtasks: Vec<DSubtask>,
    reports: Vec<DReport>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DSubtask {
    title: String,
    dept: String,
    person: String,
    deadline_working_days_from_now: i64,
    progress: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DReport {
    working_days_ago: i64,
    progress: i64,
    text: String,
}

#[derive(Debug, Default)]
pub struct Summary {
    pub units: usize,
    pub people: usize,
    pub accounts: usize,
    pub tasks: usize,
    pub escalations_fired: i64,
}

/// Load the demo data into an empty database, as of `now`.
pub async fn load(db: &Db, now: NaiveDateTime) -> Result<Summary> {
    let demo: Demo = serde_json::from_str(DATA).context("演示数据文件格式错误")?;
    if !db.is_empty().await? {
        bail!("数据库中已有单位数据，演示数据只能装入空库（请换一个 --data-dir）");
    }
    let cal = db.load_calendar().await?;
    let rules = db.load_rules().await?;
    let day = cal.office_hours().minutes_per_day();
    let ago = |wd: i64| cal.sub_working_minutes(now, wd * day).value;
    // Organisation set-up happens "before" every task, so timelines read in order.
    let setup_at = ago(demo.tasks.iter().map(|t| t.received_working_days_ago).max().unwrap_or(0) + 2);

    let mut tx = db.begin().await?;
    let mut cat_ids = HashMap::new();
    for (i, c) in demo.categories.iter().enumerate() {
        cat_ids.insert(c.clone(), db.create_category(&mut tx, "demo", c, i as i64, setup_at).await?);
    }
    let mut unit_ids: HashMap<String, i64> = HashMap::new();
    for u in &demo.units {
        let parent = match &u.parent {
            Some(p) => Some(*unit_ids.get(p).ok_or_else(|| anyhow!("单位 {} 的上级 {p} 须排在它之前", u.code))?),
            None => None,
        };
        let id = db.create_unit(&mut tx, "demo", &u.code, &u.name, &u.kind, parent, setup_at).await?;
        unit_ids.insert(u.code.clone(), id);
    }
    let unit = |c: &str| unit_ids.get(c).copied().ok_or_else(|| anyhow!("未知单位编码 {c}"));
    // One argon2 hash for the shared demo password keeps loading fast; real accounts get their own.
    let hash = hash_password(DEMO_PASSWORD)?;
    let mut person_ids: HashMap<String, i64> = HashMap::new();
    let mut accounts = 0;
    for p in &demo.people {
        let uid = unit(&p.unit)?;
        let id = db.create_person(&mut tx, "demo", &p.code, &p.name, &p.post, uid, setup_at).await?;
        person_ids.insert(p.code.clone(), id);
        if p.head_of_unit {
            db.set_unit_head(&mut tx, "demo", uid, id, setup_at).await?;
        }
        if let (Some(role), Some(username)) = (&p.role, &p.username) {
            let role = Role::from_code(role).ok_or_else(|| anyhow!("未知角色 {role}"))?;
            db.create_user(&mut tx, "demo", username, &hash, id, role, setup_at).await?;
            accounts += 1;
        }
    }
    let person = |c: &str| person_ids.get(c).copied().ok_or_else(|| anyhow!("未知人员编码 {c}"));
    for a in &demo.leader_areas {
        let l = person(&a.leader)?;
        for u in &a.units {
            db.add_leader_area(&mut tx, "demo", l, Some(unit(u)?), None, setup_at).await?;
        }
        for c in &a.categories {
            let cid = *cat_ids.get(c).ok_or_else(|| anyhow!("未知类别 {c}"))?;
            db.add_leader_area(&mut tx, "demo", l, None, Some(cid), setup_at).await?;
        }
    }
    tx.commit().await?;

    let user_of =
        |pred: &dyn Fn(&DPerson) -> bool| demo.people.iter().find(|p| pred(p)).and_then(|p| p.username.clone());
    let supervisor_name =
        user_of(&|p| p.role.as_deref() == Some("supervisor")).ok_or_else(|| anyhow!("演示数据缺少督查局账号"))?;
    let supervisor = session(db, &supervisor_name).await?;

    for t in &demo.tasks {
        load_task(db, &cal, &rules, now, t, &supervisor, &unit, &person, &cat_ids, &demo.people)
            .await
            .with_context(|| format!("装入演示任务 {} 失败", t.code))?;
    }
    let doc_nos: HashMap<String, String> =
        demo.tasks.iter().map(|t| (t.code.clone(), t.source_doc_no.clone())).collect();
    let task_doc_no = |c: &str| doc_nos.get(c).cloned().ok_or_else(|| anyhow!("未知演示任务 {c}"));
    outcomes::load(
        db,
        now,
        &supervisor,
        &outcomes::Refs { unit: &unit, task_doc_no: &task_doc_no, categories: &cat_ids },
    )
    .await
    .context("装入督查成果演示数据失败")?;
    // 成果库: real papers of the CSL dataset (see data/README.md), imported as the CLI would.
    let cols = xietong_storage::achievements::achievement_columns();
    let (rows, cells) = xietong_office::xlsx::read_rows("csl_achievements.tsv", CSL.as_bytes(), &cols)
        .map_err(|e| anyhow!("演示成果数据格式错误：{e}"))?;
    db.import_achievements(
        "demo",
        &rows,
        xietong_storage::imports::cell_problems(cells),
        "CSL 中文科学文献摘要数据集（Apache-2.0 许可）",
        now,
    )
    .await
    .context("装入演示成果失败")?;
    let tech = session(db, "kejiju").await?;
    let enterprise = session(db, "qiye").await?;
    let institution = session(db, "gaoxiao").await?;
    let parties = docking::Accounts {
        tech: &tech,
        enterprise: &enterprise,
        institution: &institution,
        enterprise_unit: unit("xdf")?,
        institution_unit: unit("ncwu")?,
    };
    docking::load(db, now, &parties).await.context("装入产学研对接演示数据失败")?;
    let org = session(db, "zuzhibu").await?;
    cadres::load(db, now, &org, &unit, &person).await.context("装入干部演示数据失败")?;
    let swept = db.sweep(&Ctx { cal: &cal, rules: &rules, now }, 500).await?;
    Ok(Summary {
        units: demo.units.len(),
        people: demo.people.len(),
        accounts,
        tasks: demo.tasks.len(),
        escalations_fired: swept.steps_fired,
    })
}

async fn session(db: &Db, username: &str) -> Result<SessionUser> {
    db.user_by_name(username).await?.ok_or_else(|| anyhow!("演示账号 {username} 不存在"))
}

#[allow(clippy::too_many_arguments)]
async fn load_task(
    db: &Db,
    cal: &WorkCalendar,
    rules: &xietong_storage::calendar::Rules,
    now: NaiveDateTime,
    t: &DTask,
    supervisor: &SessionUser,
    unit: &dyn Fn(&str) -> Result<i64>,
    person: &dyn Fn(&str) -> Result<i64>,
    cats: &HashMap<String, i64>,
    people: &[DPerson],
) -> Result<()> {
    let day = cal.office_hours().minutes_per_day();
    let deadline_date = |wd: i64| cal.add_working_days(now.date(), wd).value.to_string();
    let received = if t.received_working_days_ago == 0 {
        now - Duration::minutes(20)
    } else {
        cal.sub_working_minutes(now, t.received_working_days_ago * day).value
    };
    let ctx_at = |at: NaiveDateTime| Ctx { cal, rules, now: at };
    let new = NewTask {
        title: t.title.clone(),
        description: t.description.clone(),
        source_kind: t.source_kind.clone(),
        doc_no: t.source_doc_no.clone(),
        source_title: t.source_title.clone(),
        source_date: received.date().to_string(),
        category_id: Some(*cats.get(&t.category).ok_or_else(|| anyhow!("未知类别 {}", t.category))?),
        lead_unit_id: unit(&t.lead_unit)?,
        co_unit_ids: t.co_units.iter().map(|c| unit(c)).collect::<Result<_>>()?,
        leader_person_id: Some(person(&t.leader)?),
        report_cycle: t.report_cycle.clone(),
        deadline: deadline_date(t.deadline_working_days_from_now),
        received_at: Some(received.format("%Y-%m-%d %H:%M:%S").to_string()),
        assign_now: false,
    };
    let id = db.create_task(supervisor, &ctx_at(received + Duration::minutes(5)), &new).await?;
    if t.stage == "draft" {
        return Ok(());
    }
    let step = |n: i64| (received + Duration::minutes(n)).min(now);
    db.perform(
        supervisor,
        &ctx_at(step(15)),
        id,
        Command::Assign { comment: "请按“交办不过夜”要求立即签收办理".into() },
    )
    .await?;
    if t.stage == "assigned" {
        return Ok(());
    }
    let liaison_name = people
        .iter()
        .find(|p| p.role.as_deref() == Some("liaison") && p.unit == t.lead_unit)
        .and_then(|p| p.username.clone())
        .ok_or_else(|| anyhow!("牵头单位 {} 没有联络员账号", t.lead_unit))?;
    let liaison = session(db, &liaison_name).await?;
    // Decompose within the 2-hour clock: sign and decompose in the first office hour after hand-over.
    let office = cal.next_office_instant(step(15)).value;
    db.perform(&liaison, &ctx_at(office.max(step(16))), id, Command::Receive { comment: "已签收".into() }).await?;
    if t.stage == "received" {
        return Ok(());
    }
    let decompose_at = cal.add_working_minutes(office, 60).value.min(now);
    let subtasks = t
        .subtasks
        .iter()
        .map(|s| {
            Ok(NewSubtask {
                title: s.title.clone(),
                dept_unit_id: unit(&s.dept)?,
                person_id: person(&s.person)?,
                deadline: deadline_date(s.deadline_working_days_from_now),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    db.perform(&liaison, &ctx_at(decompose_at), id, Command::Decompose { subtasks, comment: String::new() }).await?;
    let mut last = decompose_at;
    let mut reports: Vec<&DReport> = t.reports.iter().collect();
    reports.sort_by_key(|r| -r.working_days_ago);
    for r in reports {
        let at = cal.sub_working_minutes(now, r.working_days_ago * day).value.max(last + Duration::minutes(1)).min(now);
        db.perform(
            &liaison,
            &ctx_at(at),
            id,
            Command::Report { progress: r.progress, text: r.text.clone(), reason: String::new() },
        )
        .await?;
        last = at;
    }
    let detail = db.get_task(&liaison, id, now).await?;
    for (s, d) in detail.subtasks.iter().zip(&t.subtasks) {
        if d.progress > 0 {
            let at = (last + Duration::minutes(1)).min(now);
            db.perform(
                &liaison,
                &ctx_at(at),
                id,
                Command::ReportSubtask {
                    subtask_id: s.id,
                    progress: d.progress,
                    text: format!("完成{}%", d.progress),
                    reason: String::new(),
                },
            )
            .await?;
            last = at;
        }
    }
    if t.stage == "pending_review" || t.stage == "closed" {
        let at = (last + Duration::minutes(10)).min(now);
        db.perform(
            &liaison,
            &ctx_at(at),
            id,
            Command::RequestCompletion { text: "各项子任务已完成，申请办结销号".into() },
        )
        .await?;
        last = at;
    }
    if t.stage == "closed" {
        db.perform(
            supervisor,
            &ctx_at((last + Duration::minutes(30)).min(now)),
            id,
            Command::Approve { comment: "经核查，同意办结销号".into() },
        )
        .await?;
    }
    Ok(())
}
