//! Demo supervision outcomes (data/erqi_outcomes.json): category lead departments, indicators
//! with the district's own mid-year figures (including its miscomputed 66.3 %), notices, and
//! last month's published rankings.

use std::collections::HashMap;

use anyhow::{Context, Result, anyhow};
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use serde::Deserialize;
use xietong_storage::Db;
use xietong_storage::auth::SessionUser;
use xietong_storage::dashboard::NewVisit;
use xietong_storage::indicators::{NewIndicator, NewIndicatorReport};
use xietong_storage::inspections::NewInspection;
use xietong_storage::notices::{NewNotice, NoticeTarget};
use xietong_storage::problems::{NewMeeting, NewProblem};
use xietong_storage::projects::{NewProject, NewSection};
use xietong_storage::rankings::Month;
use xietong_storage::tasks::NewTask;

const DATA: &str = include_str!("../data/erqi_outcomes.json");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Outcomes {
    category_leads: HashMap<String, String>,
    indicators: Vec<DIndicator>,
    notices: Vec<DNotice>,
    publish_rankings: Vec<String>,
    projects: Vec<DProject>,
    lists: Vec<DList>,
    problems: Vec<DProblem>,
    inspections: Vec<DInspection>,
    visits: Vec<DVisit>,
    #[serde(rename = "_note")]
    _note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DProject {
    task: String,
    kind: String,
    owner_unit: String,
    location: String,
    planned_investment: f64,
    annual_output: Option<f64>,
    annual_tax: Option<f64>,
    approvals_pending: String,
    problems: String,
    sections: Vec<DSection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DSection {
    name: String,
    contractor: String,
    progress: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DProblem {
    title: String,
    description: String,
    source_task: Option<String>,
    lead_unit: String,
    units: Vec<String>,
    days_ago: i64,
    #[serde(default)]
    meeting: Option<DMeeting>,
    #[serde(default)]
    escalate: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DMeeting {
    kind: String,
    days_ago: i64,
    place: String,
    attendees: String,
    decisions: String,
    follow_up: Vec<DFollowUp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DFollowUp {
    title: String,
    lead_unit: String,
    deadline_working_days: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DInspection {
    name: String,
    issuing_unit: String,
    subject: String,
    start_days: i64,
    end_days: i64,
    targets: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DVisit {
    leader: String,
    unit: String,
    days_ago: i64,
    place: String,
    findings: String,
    follow_up: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DList {
    name: String,
    description: String,
    category: String,
    tasks: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DIndicator {
    task: String,
    name: String,
    unit_label: String,
    target: f64,
    /// 分期计划 as ("MM-DD" in the current year, cumulative percent); none for the linear plan.
    #[serde(default)]
    plan: Vec<(String, f64)>,
    reports: Vec<DIndicatorReport>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DIndicatorReport {
    /// "MM-DD" in the current year.
    as_of: String,
    actual: f64,
    reported_percent: Option<f64>,
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DNotice {
    kind: String,
    doc_no: String,
    title: String,
    body: String,
    days_ago: i64,
    targets: Vec<DTarget>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DTarget {
    unit: String,
    task: Option<String>,
}

pub(crate) struct Refs<'a> {
    pub unit: &'a dyn Fn(&str) -> Result<i64>,
    /// Demo task code → 文号, to find the stored task.
    pub task_doc_no: &'a dyn Fn(&str) -> Result<String>,
    pub categories: &'a HashMap<String, i64>,
}

pub(crate) async fn load(db: &Db, now: NaiveDateTime, supervisor: &SessionUser, r: &Refs<'_>) -> Result<()> {
    let o: Outcomes = serde_json::from_str(DATA).context("演示数据 erqi_outcomes.json 格式错误")?;
    let task_id = |code: &str| {
        let code = code.to_string();
        async move {
            let doc = (r.task_doc_no)(&code)?;
            db.task_id_by_doc_no(&doc).await?.ok_or_else(|| anyhow!("演示任务 {code} 未装入"))
        }
    };
    let mut tx = db.begin().await?;
    for (cat, unit) in &o.category_leads {
        let cid = *r.categories.get(cat).ok_or_else(|| anyhow!("未知类别 {cat}"))?;
        db.set_category_lead(&mut tx, "demo", cid, Some((r.unit)(unit)?), now).await?;
    }
    tx.commit().await?;

    for p in &o.projects {
        let tid = task_id(&p.task).await?;
        let detail = db.get_task(supervisor, xietong_supervision::TaskId(tid), now).await?;
        let start = detail.task.assigned_at.unwrap_or(detail.task.received_at).date();
        let due = detail.task.deadline.date();
        let sections = p
            .sections
            .iter()
            .map(|s| NewSection {
                name: s.name.clone(),
                contractor: s.contractor.clone(),
                start_on: start.to_string(),
                due_on: due.to_string(),
            })
            .collect();
        let np = NewProject {
            task: NewTask::default(),
            kind: p.kind.clone(),
            owner_unit_id: (r.unit)(&p.owner_unit)?,
            location: p.location.clone(),
            planned_investment: p.planned_investment,
            annual_output: p.annual_output,
            annual_tax: p.annual_tax,
            approvals_pending: p.approvals_pending.clone(),
            problems: p.problems.clone(),
            sections,
        };
        let cal = db.load_calendar().await?;
        let rules = db.load_rules().await?;
        let ctx = xietong_storage::tasks::Ctx { cal: &cal, rules: &rules, now };
        let mut tx = db.begin().await?;
        let pid = db
            .create_project_in(&mut tx, supervisor, &ctx, &np, Some(tid))
            .await
            .with_context(|| format!("演示项目 {}", p.task))?;
        tx.commit().await?;
        let project = db.get_project(supervisor, pid, now).await?;
        for (s, d) in project.sections.iter().zip(&p.sections) {
            db.set_section_progress("demo", s.id, d.progress, now).await?;
        }
    }
    for l in &o.lists {
        let mut ids = vec![];
        for t in &l.tasks {
            ids.push(task_id(t).await?);
        }
        let cid = *r.categories.get(&l.category).ok_or_else(|| anyhow!("未知类别 {}", l.category))?;
        db.create_list_of(supervisor, &l.name, &l.description, Some(cid), &ids, now)
            .await
            .with_context(|| format!("演示清单 {}", l.name))?;
    }

    let year_start = NaiveDate::from_ymd_opt(now.year(), 1, 1).ok_or_else(|| anyhow!("年份无效"))?;
    let year_end = NaiveDate::from_ymd_opt(now.year(), 12, 31).ok_or_else(|| anyhow!("年份无效"))?;
    for i in &o.indicators {
        let tid = task_id(&i.task).await?;
        let n = NewIndicator {
            name: i.name.clone(),
            unit_label: i.unit_label.clone(),
            target: i.target,
            period_start: year_start.to_string(),
            period_end: year_end.to_string(),
            plan: i
                .plan
                .iter()
                .map(|(md, percent)| {
                    let by = NaiveDate::parse_from_str(&format!("{}-{md}", now.year()), "%Y-%m-%d")
                        .with_context(|| format!("演示指标 {} 的分期计划日期 {md}", i.name))?;
                    Ok(xietong_supervision::indicators::PlanPoint { by, percent: *percent })
                })
                .collect::<Result<Vec<_>>>()?,
        };
        let iid = db.add_indicator(supervisor, now, tid, &n).await.with_context(|| format!("演示指标 {}", i.name))?;
        for rep in &i.reports {
            let as_of = format!("{}-{}", now.year(), rep.as_of);
            if as_of.as_str() > now.date().to_string().as_str() {
                continue;
            }
            let nr = NewIndicatorReport {
                as_of,
                actual: rep.actual,
                reported_percent: rep.reported_percent,
                note: rep.note.clone(),
                confirm_large: false,
            };
            db.report_indicator(supervisor, now, iid, &nr).await.with_context(|| format!("演示指标上报 {}", i.name))?;
        }
    }

    // The last three months' rankings (oldest first, each published on the 1st of the next
    // month), so the dashboards have a trend; a category without tasks in a month, or whose
    // units are all 不参评 (nothing due, no task yet to judge on progress), is skipped.
    let mut firsts = vec![now.date().with_day(1).ok_or_else(|| anyhow!("日期无效"))?];
    for _ in 0..2 {
        let prev = firsts[0].pred_opt().and_then(|d| d.with_day(1)).ok_or_else(|| anyhow!("日期无效"))?;
        firsts.insert(0, prev);
    }
    for w in firsts.windows(2) {
        let month = Month::parse("月份", &format!("{:04}-{:02}", w[0].year(), w[0].month()))?;
        let at = w[1].and_hms_opt(9, 0, 0).unwrap_or(now).min(now);
        for cat in &o.publish_rankings {
            let cid = *r.categories.get(cat).ok_or_else(|| anyhow!("未知类别 {cat}"))?;
            match db.publish_ranking(supervisor, cid, month, at).await {
                Ok(_) => {}
                Err(xietong_storage::StoreError::Conflict(m)) if m.contains("没有可排名的任务") => {}
                Err(e) => return Err(anyhow::Error::from(e).context(format!("发布演示排名 {cat}"))),
            }
        }
    }

    for n in &o.notices {
        let mut targets = vec![];
        for t in &n.targets {
            let task = match &t.task {
                Some(c) => Some(task_id(c).await?),
                None => None,
            };
            targets.push(NoticeTarget { unit_id: (r.unit)(&t.unit)?, person_id: None, task_id: task });
        }
        let issued = (now - Duration::days(n.days_ago)).date();
        let nn = NewNotice {
            kind: n.kind.clone(),
            doc_no: n.doc_no.clone(),
            title: n.title.clone(),
            body: n.body.clone(),
            issued_on: issued.to_string(),
            targets,
            ranking_id: None,
        };
        db.issue_notice(supervisor, &nn, now).await.with_context(|| format!("演示通报 {}", n.doc_no))?;
    }

    // 问题台账: raised days ago, one worked through a 协调会, one escalated.
    let cal = db.load_calendar().await?;
    let rules = db.load_rules().await?;
    let leader = db.user_by_name("cwfqz").await?.ok_or_else(|| anyhow!("演示账号 cwfqz 不存在"))?;
    for (k, p) in o.problems.iter().enumerate() {
        let raised = now - Duration::days(p.days_ago);
        let source = match &p.source_task {
            Some(c) => Some(task_id(c).await?),
            None => None,
        };
        let units = p.units.iter().map(|u| (r.unit)(u)).collect::<Result<Vec<_>>>()?;
        let np = NewProblem {
            title: p.title.clone(),
            description: p.description.clone(),
            source_task_id: source,
            lead_unit_id: (r.unit)(&p.lead_unit)?,
            unit_ids: units,
        };
        let pid = db.raise_problem(supervisor, &np, raised).await.with_context(|| format!("演示问题 {}", p.title))?;
        if let Some(m) = &p.meeting {
            let held = now - Duration::days(m.days_ago);
            let held = held.date().and_hms_opt(15, 0, 0).unwrap_or(held).min(now);
            let mut tasks = vec![];
            for (i, f) in m.follow_up.iter().enumerate() {
                tasks.push(NewTask {
                    title: f.title.clone(),
                    description: format!("问题台账协调会议定事项：{}", p.title),
                    source_kind: "meeting".into(),
                    doc_no: format!("二七督协〔{}〕{}号", now.year(), k * 10 + i + 1),
                    source_title: format!("{}纪要", m.kind),
                    source_date: held.date().to_string(),
                    lead_unit_id: (r.unit)(&f.lead_unit)?,
                    report_cycle: "weekly".into(),
                    deadline: cal.add_working_days(now.date(), f.deadline_working_days).value.to_string(),
                    assign_now: true,
                    ..Default::default()
                });
            }
            let nm = NewMeeting {
                kind: m.kind.clone(),
                held_at: held.format("%Y-%m-%d %H:%M").to_string(),
                place: m.place.clone(),
                attendees: m.attendees.clone(),
                decisions: m.decisions.clone(),
                follow_up_tasks: tasks,
            };
            let ctx = xietong_storage::tasks::Ctx { cal: &cal, rules: &rules, now };
            db.add_meeting(supervisor, &ctx, pid, &nm).await.with_context(|| format!("演示协调会 {}", p.title))?;
        }
        if let Some(reason) = &p.escalate {
            db.act_on_problem(supervisor, pid, "start_coordination", "交牵头单位协调", raised + Duration::hours(2))
                .await?;
            db.act_on_problem(supervisor, pid, "escalate", reason, now - Duration::days(2)).await?;
            db.act_on_problem(
                &leader,
                pid,
                "instruct",
                "请攻坚办会同建设和交通局一周内完成沿线征迁，确保第四标段按期完工。",
                now - Duration::days(1),
            )
            .await?;
        }
    }

    // 督查统筹: two overlapping safety inspections of the same 镇街 (the system proposes merging them) and an unrelated one.
    for i in &o.inspections {
        let ni = NewInspection {
            name: i.name.clone(),
            issuing_unit_id: (r.unit)(&i.issuing_unit)?,
            subject: i.subject.clone(),
            start_on: (now.date() + Duration::days(i.start_days)).to_string(),
            end_on: (now.date() + Duration::days(i.end_days)).to_string(),
            target_unit_ids: i.targets.iter().map(|u| (r.unit)(u)).collect::<Result<Vec<_>>>()?,
        };
        db.register_inspection(supervisor, &ni, now).await.with_context(|| format!("演示督查考核事项 {}", i.name))?;
    }

    for v in &o.visits {
        let who = db.user_by_name(&v.leader).await?.ok_or_else(|| anyhow!("演示账号 {} 不存在", v.leader))?;
        let nv = NewVisit {
            unit_id: Some((r.unit)(&v.unit)?),
            visited_on: (now.date() - Duration::days(v.days_ago)).to_string(),
            place: v.place.clone(),
            findings: v.findings.clone(),
            follow_up: v.follow_up.clone(),
        };
        db.record_visit(&who, &nv, now).await.context("演示督导记录")?;
    }
    Ok(())
}
