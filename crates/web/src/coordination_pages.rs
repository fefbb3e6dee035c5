//! Pages for 问题台账 with 协调会, 督查统筹 (inspections, merge proposals, burden), and the
//! leader / 督查局 dashboard with its charts (lights by unit, ranking trend, completion vs time).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use minijinja::context;
use serde::Serialize;
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::dashboard::NewVisit;
use xietong_storage::inspections::NewInspection;
use xietong_storage::problems::{MEETING_KINDS, NewMeeting, NewProblem};
use xietong_storage::tasks::NewTask;
use xietong_supervision::Role;
use xietong_supervision::problems::ProblemStatus;

use crate::AppState;
use crate::auth::PageUser;
use crate::error::status_of;
use crate::forms::Fields;
use crate::pages::{error_page, render};

pub fn router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/problems", get(problems_page).post(raise_submit))
        .route("/problems/{id}", get(problem_page))
        .route("/problems/{id}/actions/{action}", post(problem_action))
        .route("/problems/{id}/meetings", post(meeting_submit))
        .route("/inspections", get(inspections_page).post(inspection_submit))
        .route("/inspections/merge", post(merge_submit))
        .route("/dashboard", get(dashboard_page))
        .route("/visits", post(visit_submit))
        .route("/visits/{id}/tasks", post(visit_task_submit))
}

// ---------------------------------------------------------------- 问题台账

async fn problems_with(
    s: &AppState,
    u: &SessionUser,
    status_filter: Option<String>,
    flash_err: Option<(StatusCode, String)>,
    from_task: Option<i64>,
) -> Response {
    let now = s.clock.now();
    let list = match s.db.list_problems(u, status_filter.as_deref(), now).await {
        Ok(l) => l,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let units = s.db.list_units().await.unwrap_or_default();
    let mut statuses: Vec<_> =
        ProblemStatus::ALL.iter().map(|x| context! { code => x.code(), label => x.label_zh() }).collect();
    statuses.insert(0, context! { code => xietong_storage::problems::UNRESOLVED, label => "全部未化解" });
    let source = match from_task {
        Some(t) => s.db.get_task(u, xietong_supervision::TaskId(t), now).await.ok().map(|d| d.task),
        None => None,
    };
    let candidates: Vec<_> = s
        .db
        .ledger_candidates(u)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|(id, title, unit, deadline, at)| context! { id => id, title => title, unit => unit, deadline => deadline.to_string(), at => at.to_string() })
        .collect();
    let (st, err) = flash_err.map(|(a, b)| (a, Some(b))).unwrap_or((StatusCode::OK, None));
    render(
        s,
        st,
        "problems.html",
        Some(u),
        context! { nav => "problems", list => list, units => units, statuses => statuses, f_status => status_filter, flash_err => err, source => source, candidates => candidates },
    )
}

async fn problems_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let from = q.get("from_task").and_then(|x| x.parse::<i64>().ok());
    problems_with(&s, &u, q.get("status").cloned().filter(|x| !x.is_empty()), None, from).await
}

async fn raise_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    let r = async {
        let n = NewProblem {
            title: f.s("title"),
            description: f.s("description"),
            source_task_id: f.id("source_task_id", "来源任务")?,
            lead_unit_id: f
                .id("lead_unit_id", "牵头单位")?
                .ok_or_else(|| StoreError::invalid("牵头单位", "请选择牵头单位"))?,
            unit_ids: f.ids("unit_id", "涉及单位")?,
        };
        s.db.raise_problem(&u, &n, s.clock.now()).await
    }
    .await;
    match r {
        Ok(id) => Redirect::to(&format!("/problems/{id}")).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_))) => error_page(&s, Some(&u), &e),
        Err(e) => {
            problems_with(&s, &u, None, Some((status_of(&e), e.to_string())), f.id("source_task_id", "").ok().flatten())
                .await
        }
    }
}

async fn problem_with(s: &AppState, u: &SessionUser, id: i64, flash_err: Option<(StatusCode, String)>) -> Response {
    let d = match s.db.get_problem(u, id, s.clock.now()).await {
        Ok(d) => d,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let units = s.db.list_units().await.unwrap_or_default();
    let may_meet = d.allowed_actions.iter().any(|a| a == "hold_meeting");
    let actions: Vec<_> = d
        .allowed_actions
        .iter()
        .filter(|a| *a != "hold_meeting")
        .filter_map(|a| {
            xietong_supervision::problems::ProblemAction::from_code(a)
                .map(|x| context! { code => x.code(), label => x.label_zh() })
        })
        .collect();
    let (st, err) = flash_err.map(|(a, b)| (a, Some(b))).unwrap_or((StatusCode::OK, None));
    let (files, can_attach) =
        crate::attachments::record_files_for_page(s, u, xietong_storage::attachments::Record::Problem(id)).await;
    render(
        s,
        st,
        "problem.html",
        Some(u),
        context! { nav => "problems", d => d, actions => actions, files => files, can_attach => can_attach, may_meet => may_meet, kinds => MEETING_KINDS, units => units, flash_err => err,
        now => s.clock.now().format("%Y-%m-%dT%H:%M").to_string(),
        default_deadline => s.snapshot().cal.add_working_days(s.clock.now().date(), 10).value.to_string() },
    )
}

async fn problem_page(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>) -> Response {
    problem_with(&s, &u, id, None).await
}

async fn problem_action(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path((id, action)): Path<(i64, String)>,
    f: Fields,
) -> Response {
    match s.db.act_on_problem(&u, id, &action, &f.s("comment"), s.clock.now()).await {
        Ok(_) => Redirect::to(&format!("/problems/{id}")).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_) | StoreError::NotFound(_))) => {
            error_page(&s, Some(&u), &e)
        }
        Err(e) => problem_with(&s, &u, id, Some((status_of(&e), e.to_string()))).await,
    }
}

async fn meeting_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    f: Fields,
) -> Response {
    let snap = s.snapshot();
    let r = async {
        // Follow-up decisions typed as rows: title, lead unit, deadline (督查局 turns them into tasks).
        let titles: Vec<String> = f.all("task_title");
        let leads: Vec<String> = f.all("task_lead");
        let deadlines: Vec<String> = f.all("task_deadline");
        let mut tasks = vec![];
        for (i, t) in titles.iter().enumerate() {
            if t.trim().is_empty() {
                continue;
            }
            let lead = leads
                .get(i)
                .and_then(|x| x.trim().parse::<i64>().ok())
                .ok_or_else(|| StoreError::invalid(&format!("第{}项议定任务的牵头单位", i + 1), "请选择"))?;
            tasks.push(NewTask {
                title: t.clone(),
                description: format!("问题台账第{id}号问题协调会议定事项"),
                source_kind: "meeting".into(),
                doc_no: format!("问题台账〔{}〕{id}-{}-{}", snap.now.format("%Y"), snap.now.format("%m%d%H%M"), i + 1),
                source_title: f.s("kind"),
                source_date: snap.now.date().to_string(),
                lead_unit_id: lead,
                report_cycle: "weekly".into(),
                deadline: deadlines.get(i).cloned().unwrap_or_default(),
                assign_now: true,
                ..Default::default()
            });
        }
        let m = NewMeeting {
            kind: f.s("kind"),
            held_at: f.s("held_at").replace('T', " "),
            place: f.s("place"),
            attendees: f.s("attendees"),
            decisions: f.s("decisions"),
            follow_up_tasks: tasks,
        };
        s.db.add_meeting(&u, &snap.ctx(), id, &m).await
    }
    .await;
    match r {
        Ok(_) => Redirect::to(&format!("/problems/{id}")).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_) | StoreError::NotFound(_))) => {
            error_page(&s, Some(&u), &e)
        }
        Err(e) => problem_with(&s, &u, id, Some((status_of(&e), e.to_string()))).await,
    }
}

// ---------------------------------------------------------------- 督查统筹

async fn inspections_with(s: &AppState, u: &SessionUser, flash_err: Option<(StatusCode, String)>) -> Response {
    let o = match s.db.inspection_overview(u).await {
        Ok(o) => o,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let units = s.db.list_units().await.unwrap_or_default();
    // Burden as a unit × month grid ("before → after").
    let months: BTreeSet<String> = o.burden.iter().map(|b| b.month.clone()).collect();
    let mut grid: BTreeMap<String, BTreeMap<String, (i64, i64)>> = BTreeMap::new();
    for b in &o.burden {
        grid.entry(b.unit_name.clone()).or_default().insert(b.month.clone(), (b.before, b.after));
    }
    let grid: Vec<_> = grid
        .into_iter()
        .map(|(unit, m)| context! { unit => unit, cells => months.iter().map(|mm| m.get(mm).copied().unwrap_or((0, 0))).collect::<Vec<_>>() })
        .collect();
    let (st, err) = flash_err.map(|(a, b)| (a, Some(b))).unwrap_or((StatusCode::OK, None));
    render(
        s,
        st,
        "inspections.html",
        Some(u),
        context! { nav => "inspections", o => o, units => units, months => months, grid => grid, flash_err => err },
    )
}

async fn inspections_page(State(s): State<AppState>, PageUser(u, _): PageUser) -> Response {
    inspections_with(&s, &u, None).await
}

async fn inspection_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    let r = async {
        let n = NewInspection {
            name: f.s("name"),
            issuing_unit_id: f
                .id("issuing_unit_id", "发起单位")?
                .ok_or_else(|| StoreError::invalid("发起单位", "请选择"))?,
            subject: f.s("subject"),
            start_on: f.s("start_on"),
            end_on: f.s("end_on"),
            target_unit_ids: f.ids("target_unit_id", "被督查单位")?,
        };
        s.db.register_inspection(&u, &n, s.clock.now()).await
    }
    .await;
    match r {
        Ok(_) => Redirect::to("/inspections").into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_))) => error_page(&s, Some(&u), &e),
        Err(e) => inspections_with(&s, &u, Some((status_of(&e), e.to_string()))).await,
    }
}

async fn merge_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    let r = async {
        s.db.merge_inspections(&u, &f.ids("inspection_id", "合并事项")?, &f.s("name"), &f.s("reason"), s.clock.now())
            .await
    }
    .await;
    match r {
        Ok(_) => Redirect::to("/inspections").into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_))) => error_page(&s, Some(&u), &e),
        Err(e) => inspections_with(&s, &u, Some((status_of(&e), e.to_string()))).await,
    }
}

// ---------------------------------------------------------------- 督导看板

#[derive(Serialize, Default)]
struct LightCount {
    id: i64,
    name: String,
    green: i64,
    yellow: i64,
    red: i64,
    total: i64,
    /// The task list behind these counts: add `&light=…` for one light.
    link: String,
}

impl LightCount {
    fn add(&mut self, light: &str, n: i64) {
        self.total += n;
        match light {
            "red" => self.red += n,
            "yellow" => self.yellow += n,
            _ => self.green += n,
        }
    }
}

/// A late or at-risk task of the dashboard, by name, unit and days.
#[derive(Serialize)]
struct Flagged {
    id: i64,
    title: String,
    unit: String,
    head: Option<String>,
    leader: Option<String>,
    deadline: String,
    status: String,
    progress: i64,
    /// Calendar days past the deadline (late) or left before it (at risk).
    days: i64,
}

/// The task list of the dashboard's tasks (open, in the leader's area when there is one) with
/// further filters.
fn tasks_link(area: bool, extra: &[(&str, String)]) -> String {
    let mut q: Vec<(&str, String)> = vec![("status", "open".into())];
    if area {
        q.push(("area", "mine".into()));
    }
    q.extend(extra.iter().cloned());
    format!("/tasks?{}", serde_urlencoded::to_string(&q).unwrap_or_default())
}

#[derive(Serialize)]
struct Series {
    name: String,
    color: &'static str,
    /// SVG polyline points.
    points: String,
    dots: Vec<(f64, f64, String)>,
}

#[derive(Serialize)]
struct Trend {
    category: String,
    months: Vec<(f64, String)>,
    max_rank: i64,
    series: Vec<Series>,
}

const PALETTE: [&str; 8] = ["#b71c1c", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#5d4037", "#455a64"];

async fn dashboard_page(State(s): State<AppState>, PageUser(u, _): PageUser) -> Response {
    let snap = s.snapshot();
    let area = if u.role == Role::Leader {
        match s.db.area_of(u.person_id).await {
            Ok(a) if !a.units.is_empty() || !a.categories.is_empty() => Some(a),
            Ok(_) => None,
            Err(e) => return error_page(&s, Some(&u), &e),
        }
    } else {
        None
    };
    // Lights by unit and by category, counted as the task list filters them: every count links
    // to the list it counts.
    let in_area = area.is_some();
    let counts = match s.db.area_lights(&u, &snap.ctx(), area.as_ref()).await {
        Ok(c) => c,
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    let mut all = LightCount { name: "合计".into(), link: tasks_link(in_area, &[]), ..Default::default() };
    let mut by_unit: BTreeMap<i64, LightCount> = BTreeMap::new();
    let mut by_cat: BTreeMap<i64, LightCount> = BTreeMap::new();
    let mut unit_order = vec![];
    for c in &counts {
        all.add(&c.light, c.n);
        let e = by_unit.entry(c.unit_id).or_insert_with(|| {
            unit_order.push(c.unit_id);
            LightCount {
                id: c.unit_id,
                name: c.unit_name.clone(),
                link: tasks_link(in_area, &[("lead_unit_id", c.unit_id.to_string())]),
                ..Default::default()
            }
        });
        e.add(&c.light, c.n);
        if let (Some(cid), Some(cn)) = (c.category_id, c.category_name.clone()) {
            by_cat
                .entry(cid)
                .or_insert_with(|| LightCount {
                    id: cid,
                    name: cn,
                    link: tasks_link(in_area, &[("category_id", cid.to_string())]),
                    ..Default::default()
                })
                .add(&c.light, c.n);
        }
    }
    let mut units: Vec<LightCount> = unit_order.iter().filter_map(|id| by_unit.remove(id)).collect();
    units.sort_by(|a, b| b.red.cmp(&a.red).then(b.yellow.cmp(&a.yellow)).then(b.total.cmp(&a.total)));
    let cats: Vec<LightCount> = by_cat.into_values().collect();
    // The late (red) and at-risk (yellow) tasks by name: the very rows of the lists the counts link to.
    let flagged = |light: &'static str| {
        let f = xietong_storage::tasks::TaskFilter {
            status: Some("open".into()),
            light: Some(light.into()),
            area: in_area.then(|| "mine".into()),
            page_size: Some(xietong_storage::tasks::MAX_PAGE_SIZE),
            ..Default::default()
        };
        let (s, u, snap) = (&s, &u, &snap);
        async move {
            let page = s.db.list_tasks(u, &snap.ctx(), &f).await?;
            let today = snap.now.date();
            Ok::<_, StoreError>(
                page.items
                    .into_iter()
                    .map(|t| Flagged {
                        days: if light == "red" {
                            (today - t.deadline.date()).num_days()
                        } else {
                            (t.deadline.date() - today).num_days()
                        },
                        id: t.id,
                        unit: t.lead_unit_name,
                        head: t.lead_unit_head,
                        leader: t.leader_name,
                        deadline: t.deadline.to_string(),
                        status: t.status.label_zh().into(),
                        progress: t.progress,
                        title: t.title,
                    })
                    .collect::<Vec<_>>(),
            )
        }
    };
    let (late, at_risk) = match (flagged("red").await, flagged("yellow").await) {
        (Ok(l), Ok(a)) => (l, a),
        (Err(e), _) | (_, Err(e)) => return error_page(&s, Some(&u), &e),
    };
    let max_total = units.iter().map(|c| c.total).max().unwrap_or(1).max(1);

    // Ranking trend: per category, each unit's rank over the published months (top = 1st).
    let mut trends = vec![];
    let published = s.db.list_rankings(None).await.unwrap_or_default();
    let area_units: Option<Vec<i64>> =
        area.as_ref().filter(|a| !a.units.is_empty()).map(|a| a.units.iter().map(|x| x.0).collect());
    let mut by_cat_r: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    for p in &published {
        by_cat_r.entry(p.category_name.clone()).or_default().push((p.month.clone(), p.id));
    }
    for (cat, mut months) in by_cat_r {
        months.sort();
        let mut series: BTreeMap<String, Vec<(usize, i64)>> = BTreeMap::new();
        let mut max_rank = 1;
        for (i, (_, rid)) in months.iter().enumerate() {
            if let Ok(v) = s.db.get_ranking(*rid).await {
                for r in v.rows {
                    if area_units.as_ref().is_some_and(|a| !a.contains(&r.unit_id)) {
                        continue;
                    }
                    max_rank = max_rank.max(r.rank);
                    series.entry(r.unit_name.clone()).or_default().push((i, r.rank));
                }
            }
        }
        let x = |i: usize| 40.0 + i as f64 * if months.len() > 1 { 360.0 / (months.len() - 1) as f64 } else { 0.0 };
        let y = |rank: i64| 20.0 + (rank - 1) as f64 * if max_rank > 1 { 140.0 / (max_rank - 1) as f64 } else { 0.0 };
        let series: Vec<Series> = series
            .into_iter()
            .take(PALETTE.len())
            .enumerate()
            .map(|(k, (name, pts))| Series {
                color: PALETTE[k],
                points: pts.iter().map(|(i, r)| format!("{:.0},{:.0}", x(*i), y(*r))).collect::<Vec<_>>().join(" "),
                dots: pts.iter().map(|(i, r)| (x(*i), y(*r), format!("{name} {} 第{r}名", months[*i].0))).collect(),
                name,
            })
            .collect();
        if series.is_empty() {
            continue;
        }
        trends.push(Trend {
            category: cat,
            months: months.iter().enumerate().map(|(i, m)| (x(i), m.0.clone())).collect(),
            max_rank,
            series,
        });
    }

    let mut indicators = s.db.all_indicators(&u, snap.now.date()).await.unwrap_or_default();
    if let Some(a) = &area_units {
        indicators.retain(|i| a.contains(&i.lead_unit_id));
    }
    let visits =
        s.db.visits(if u.role == Role::Leader { Some(u.person_id) } else { None }, 20).await.unwrap_or_default();
    let all_units = if u.role == Role::Supervisor { s.db.list_units().await.unwrap_or_default() } else { vec![] };
    // The same list /problems?status=unresolved shows.
    let open_problems = match s.db.list_problems(&u, Some(xietong_storage::problems::UNRESOLVED), snap.now).await {
        Ok(p) => p.len(),
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    let visit_ids: Vec<i64> = visits.iter().map(|v| v.id).collect();
    let visit_files = crate::attachments::files_by_record(&s, "visit", &visit_ids).await;
    render(
        &s,
        StatusCode::OK,
        "dashboard.html",
        Some(&u),
        context! { nav => "dashboard", area => area, units => units, cats => cats, max_total => max_total, trends => trends,
        all => all, late => late, at_risk => at_risk, visit_files => visit_files,
        indicators => indicators, visits => visits, open_problems => open_problems, today => snap.now.date().to_string(),
        all_units => all_units, default_deadline => snap.cal.add_working_days(snap.now.date(), 10).value.to_string() },
    )
}

async fn visit_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    let r = async {
        let v = NewVisit {
            unit_id: f.id("unit_id", "督导单位")?,
            visited_on: f.s("visited_on"),
            place: f.s("place"),
            findings: f.s("findings"),
            follow_up: f.s("follow_up"),
        };
        s.db.record_visit(&u, &v, s.clock.now()).await
    }
    .await;
    match r {
        Ok(_) => Redirect::to("/dashboard#visits").into_response(),
        Err(e) => error_page(&s, Some(&u), &e),
    }
}

async fn visit_task_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    f: Fields,
) -> Response {
    let snap = s.snapshot();
    let r = async {
        let n = NewTask {
            title: f.s("title"),
            description: f.s("description"),
            lead_unit_id: f.id("lead_unit_id", "牵头单位")?.ok_or_else(|| StoreError::invalid("牵头单位", "请选择"))?,
            report_cycle: "weekly".into(),
            deadline: f.s("deadline"),
            assign_now: true,
            ..Default::default()
        };
        s.db.visit_follow_up(&u, &snap.ctx(), id, &n).await
    }
    .await;
    match r {
        Ok(t) => Redirect::to(&format!("/tasks/{t}")).into_response(),
        Err(e) => error_page(&s, Some(&u), &e),
    }
}
