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
    deadline: chrono::NaiveDateTime,
    status: String,
    progress: i64,
    /// Calendar days past the deadline (late) or left before it (at risk).
    days: i64,
    /// Why it is 预计逾期 (green tasks whose reports point past the deadline).
    basis: Option<String>,
}

/// The green tasks whose progress reports point past their deadline, with the reason.
async fn forecast_late(s: &AppState, green: Vec<Flagged>) -> Result<Vec<Flagged>, StoreError> {
    let ids: Vec<i64> = green.iter().map(|t| t.id).collect();
    let histories = s.db.report_histories(&ids).await?;
    Ok(green
        .into_iter()
        .filter_map(|mut t| {
            let f = xietong_supervision::forecast::forecast(histories.get(&t.id)?);
            f.at_risk(t.deadline).then(|| {
                t.basis = Some(f.basis(t.deadline));
                t
            })
        })
        .collect())
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
    /// The rank in each month of the trend ("—" when the unit was not ranked that month), for the
    /// table under the chart: every series listed is readable even where lines overlap.
    ranks: Vec<String>,
}

#[derive(Serialize)]
struct Trend {
    category: String,
    months: Vec<(f64, String)>,
    max_rank: i64,
    series: Vec<Series>,
    /// Units beyond the palette, listed in the table only.
    more: Vec<Series>,
}

/// Published rankings by category name, each category's months in order: (month, ranking id).
fn by_category(published: Vec<xietong_storage::rankings::RankingSummary>) -> BTreeMap<String, Vec<(String, i64)>> {
    let mut out: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    for p in published {
        out.entry(p.category_name).or_default().push((p.month, p.id));
    }
    for months in out.values_mut() {
        months.sort();
    }
    out
}

/// One category's trend: a line per unit shown (coloured while the palette lasts), x by month,
/// y by rank. Series that would draw on top of one another are moved apart by 3 px each, so
/// every line listed in the legend is seen; with one month there are no lines, only points.
fn trend(
    category: String,
    months: &[(String, Vec<xietong_supervision::ranking::RankedUnit>)],
    shown: impl Fn(i64) -> bool,
) -> Option<Trend> {
    let mut ranks: BTreeMap<(i64, String), Vec<Option<i64>>> = BTreeMap::new();
    let mut first_seen: Vec<(i64, String)> = vec![];
    for (i, (_, rows)) in months.iter().enumerate() {
        for r in rows.iter().filter(|r| shown(r.unit_id)) {
            let key = (r.unit_id, r.unit_name.clone());
            let e = ranks.entry(key.clone()).or_insert_with(|| {
                first_seen.push(key);
                vec![None; months.len()]
            });
            e[i] = Some(r.rank);
        }
    }
    if ranks.is_empty() {
        return None;
    }
    let max_rank = ranks.values().flatten().flatten().copied().max().unwrap_or(1).max(1);
    let x = |i: usize| 40.0 + i as f64 * if months.len() > 1 { 360.0 / (months.len() - 1) as f64 } else { 0.0 };
    let y = |rank: i64| 20.0 + (rank - 1) as f64 * if max_rank > 1 { 140.0 / (max_rank - 1) as f64 } else { 0.0 };
    let mut drawn: Vec<Vec<Option<i64>>> = vec![];
    let mut series = vec![];
    let mut more = vec![];
    for (k, key) in first_seen.iter().enumerate() {
        let r = &ranks[key];
        let same = drawn.iter().filter(|d| *d == r).count() as f64;
        drawn.push(r.clone());
        let pts: Vec<(f64, f64, i64, usize)> =
            r.iter().enumerate().filter_map(|(i, v)| v.map(|v| (x(i), y(v) + 3.0 * same, v, i))).collect();
        let s = Series {
            name: key.1.clone(),
            color: PALETTE.get(k).copied().unwrap_or("#757575"),
            points: pts.iter().map(|(x, y, _, _)| format!("{x:.0},{y:.0}")).collect::<Vec<_>>().join(" "),
            dots: pts.iter().map(|(x, y, v, i)| (*x, *y, format!("{} {} 第{v}名", key.1, months[*i].0))).collect(),
            ranks: r.iter().map(|v| v.map_or("—".into(), |v| format!("第{v}名"))).collect(),
        };
        if k < PALETTE.len() { series.push(s) } else { more.push(s) }
    }
    Some(Trend {
        category,
        months: months.iter().enumerate().map(|(i, m)| (x(i), m.0.clone())).collect(),
        max_rank,
        series,
        more,
    })
}

const PALETTE: [&str; 8] = ["#b71c1c", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#5d4037", "#455a64"];

async fn dashboard_page(State(s): State<AppState>, PageUser(u, _): PageUser) -> Response {
    dashboard_with(s, u, StatusCode::OK, crate::forms::FormView::fresh(crate::forms::Fields::default())).await
}

/// The dashboard, with the 记录督导 form as sent when it was refused (`visit`).
pub(crate) async fn dashboard_with(
    s: AppState,
    u: xietong_storage::auth::SessionUser,
    status: StatusCode,
    visit: crate::forms::FormView,
) -> Response {
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
                        deadline: t.deadline,
                        status: t.status.label_zh().into(),
                        progress: t.progress,
                        title: t.title,
                        basis: None,
                    })
                    .collect::<Vec<_>>(),
            )
        }
    };
    let (late, at_risk, green) = match (flagged("red").await, flagged("yellow").await, flagged("green").await) {
        (Ok(l), Ok(a), Ok(g)) => (l, a, g),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return error_page(&s, Some(&u), &e),
    };
    // 预计逾期: still green, but the reports point past the deadline — the earliest warning.
    let forecast_late = match forecast_late(&s, green).await {
        Ok(v) => v,
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    let max_total = units.iter().map(|c| c.total).max().unwrap_or(1).max(1);

    // Ranking trend: per category, each unit's rank over the published months (top = 1st). A
    // leader sees a category of his area whole, and in other categories the units of his area.
    let published = match s.db.list_rankings(None).await {
        Ok(p) => p,
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    let mut trends = vec![];
    for (category, rankings) in by_category(published) {
        let whole = area.as_ref().is_none_or(|a| a.categories.iter().any(|c| c.1 == category));
        let mut views = vec![];
        for (month, id) in rankings {
            match s.db.get_ranking(id).await {
                Ok(v) => views.push((month, v.rows)),
                Err(e) => return error_page(&s, Some(&u), &e),
            }
        }
        let shown = |unit_id: i64| whole || area.as_ref().is_some_and(|a| a.units.iter().any(|x| x.0 == unit_id));
        if let Some(t) = trend(category, &views, shown) {
            trends.push(t);
        }
    }
    let area_units: Option<Vec<i64>> =
        area.as_ref().filter(|a| !a.units.is_empty()).map(|a| a.units.iter().map(|x| x.0).collect());

    let mut indicators = match s.db.all_indicators(&u, snap.now.date()).await {
        Ok(i) => i,
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    if let Some(a) = &area_units {
        indicators.retain(|i| a.contains(&i.lead_unit_id));
    }
    let visits = match s.db.visits(if u.role == Role::Leader { Some(u.person_id) } else { None }, 20).await {
        Ok(v) => v,
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    let all_units = match u.role {
        Role::Supervisor => match s.db.list_units().await {
            Ok(units) => units,
            Err(e) => return error_page(&s, Some(&u), &e),
        },
        _ => vec![],
    };
    // The same list /problems?status=unresolved shows.
    let open_problems = match s.db.list_problems(&u, Some(xietong_storage::problems::UNRESOLVED), snap.now).await {
        Ok(p) => p.len(),
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    let visit_ids: Vec<i64> = visits.iter().map(|v| v.id).collect();
    let visit_files = crate::attachments::files_by_record(&s, "visit", &visit_ids).await;
    render(
        &s,
        status,
        "dashboard.html",
        Some(&u),
        context! { nav => "dashboard", area => area, units => units, cats => cats, max_total => max_total, trends => trends,
        all => all, late => late, at_risk => at_risk, forecast_late => forecast_late, visit_files => visit_files,
        indicators => indicators, visits => visits, open_problems => open_problems, today => snap.now.date().to_string(),
        all_units => all_units, default_deadline => snap.cal.add_working_days(snap.now.date(), 10).value.to_string(),
        f => visit.value() },
    )
}
