//! 督导看板: a leader's or the 督查局's view of lights, late tasks and trends.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use minijinja::context;
use serde::Serialize;
use xietong_storage::StoreError;
use xietong_supervision::Role;

use crate::AppState;
use crate::auth::PageUser;
use crate::pages::{error_page, render};

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new().route("/dashboard", get(dashboard_page))
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
