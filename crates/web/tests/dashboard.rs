//! The 督导看板 names the late and at-risk tasks, and every count on it is the number of rows of
//! the list it links to (issue 13, item 5): for every leader of the demo, the 督查局 and the
//! administrator, on SQLite and PostgreSQL.

mod common;

use common::{Client, dt, with_demo};

/// `&amp;` and the other entities minijinja writes into attributes, undone.
fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Every `<a … data-count="N" … href="…">` of a page: (N, href).
fn counts(html: &str) -> Vec<(i64, String)> {
    let mut out = vec![];
    for tag in html.split("<a ").skip(1) {
        let tag = tag.split('>').next().unwrap();
        let attr = |name: &str| {
            let value = tag.split(&format!("{name}=\"")).nth(1)?;
            Some(unescape(value.split('"').next().unwrap()))
        };
        if let (Some(n), Some(href)) = (attr("data-count"), attr("href")) {
            out.push((n.parse().unwrap_or_else(|_| panic!("a count: {n}")), href));
        }
    }
    out
}

async fn page(c: &Client, path: &str) -> String {
    let r = c.http.get(format!("{}{path}", c.base)).bearer_auth(&c.token).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

/// The rows a list page shows for a link, following its pages: tasks (table `tasks`) or problems.
async fn rows_behind(c: &Client, href: &str) -> i64 {
    let (table, row) = if href.starts_with("/tasks?") {
        ("id=\"tasks\"", "<td class=\"primary\"><a href=\"/tasks/")
    } else if href.starts_with("/problems?") {
        ("id=\"problems\"", "<tr><td class=\"primary\"><a href=\"/problems/")
    } else {
        panic!("a count links to a list: {href}")
    };
    let mut total = 0;
    for p in 1.. {
        let html = page(c, &format!("{href}&page={p}")).await;
        let body =
            html.split(table).nth(1).unwrap_or_else(|| panic!("{href}: the list")).split("</table>").next().unwrap();
        let n = body.matches(row).count() as i64;
        total += n;
        // The problems ledger is one page; the task list pages by 50.
        if href.starts_with("/problems?") || n < 50 {
            break;
        }
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_count_on_the_dashboard_is_the_rows_of_its_link() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-11-23 10:00")).await else { continue };
        let rows =
            sqlx::query("SELECT username FROM users WHERE role IN ('leader', 'supervisor', 'admin') ORDER BY username")
                .fetch_all(&tdb.db.pool)
                .await
                .unwrap();
        let names: Vec<String> = rows.iter().map(|r| sqlx::Row::try_get(r, "username").unwrap()).collect();
        assert_eq!(names.len(), 9, "six leaders, two of the 督查局, the administrator: {names:?}");
        let mut checked = 0;
        let mut nonzero = 0;
        for name in &names {
            let c = Client::login(&app, name).await;
            let html = page(&c, "/dashboard").await;
            let found = counts(&html);
            // The totals card, both lists' headings, and four per unit in the table and the chart.
            let units = html
                .split("id=\"unit-lights\"")
                .nth(1)
                .map(|t| t.split("</table>").next().unwrap().matches("<tr><td class=\"primary\">").count());
            assert!(found.len() >= 7 + 8 * units.unwrap_or(0), "{name}: {} counts", found.len());
            let mut seen = std::collections::HashMap::new();
            for (n, href) in &found {
                // Each distinct link is followed once; the same link twice must carry the same count.
                if let Some(m) = seen.insert(href.clone(), *n) {
                    assert_eq!(m, *n, "{name}: {href} counted twice differently");
                    continue;
                }
                let shown = rows_behind(&c, href).await;
                assert_eq!(shown, *n, "{name}: {href} says {n}, shows {shown}");
                checked += 1;
                nonzero += (*n > 0) as i64;
            }
            // The late tasks by name, unit and days overdue: the heading's count is the table's rows.
            let late = html.split("id=\"late-tasks\"").nth(1).unwrap().split("</table>").next().unwrap();
            let named = late.matches("<td class=\"primary\"><a href=\"/tasks/").count() as i64;
            let heading = html.split("逾期任务 <a data-count=\"").nth(1).unwrap().split('"').next().unwrap();
            assert_eq!(named, heading.parse::<i64>().unwrap(), "{name}: late tasks named");
            if named > 0 {
                assert!(late.contains("逾期 ") && late.contains(" 天"), "{name}: days overdue shown");
            }
        }
        eprintln!("{b:?}: {} accounts, {checked} count links followed, {nonzero} of them not zero", names.len());
        assert!(checked > 100 && nonzero > 30, "{checked} links followed, {nonzero} not zero");
        // 分管城建交通的副区长: the demo's overdue task of 建设和交通局 is named on his board.
        let c = Client::login(&app, "fqz_cj").await;
        let html = page(&c, "/dashboard").await;
        let late = html.split("id=\"late-tasks\"").nth(1).unwrap().split("</table>").next().unwrap();
        assert!(late.contains("建设和交通局"), "{late}");
        // … and not on the board of the leader for social affairs, whose area it is not in.
        let c = Client::login(&app, "fqz_sh").await;
        let html = page(&c, "/dashboard").await;
        let late = html.split("id=\"late-tasks\"").nth(1).unwrap().split("</table>").next().unwrap();
        assert!(!late.contains("建设和交通局"), "{late}");
        tdb.cleanup().await;
    });
}

/// The list's light filter is the light each row shows, also in the evening before the yellow
/// window opens: a task due Thursday 18:00 turns yellow on Tuesday 09:00 (three office days
/// before), so on Monday evening it is green — an SQL cut-off of "now + 3 office days" said yellow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_light_filter_is_the_light_each_row_shows() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-11-23 20:00")).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let slj = sup.unit_id("slj").await;
        let task = serde_json::json!({"title": "亮灯测试：周四到期", "source_kind": "meeting",
            "doc_no": "亮灯〔2026〕1号", "source_date": "2026-11-20", "lead_unit_id": slj, "report_cycle": "weekly",
            "deadline": "2026-11-26", "assign_now": true});
        let (s, v) = sup.post("/api/tasks", task).await;
        assert_eq!(s, 201, "{v}");
        let id = v["id"].clone();
        for (at, light) in
            [("2026-11-23 20:00", "green"), ("2026-11-24 08:59", "green"), ("2026-11-24 09:00", "yellow")]
        {
            app.set_now(dt(at));
            let sup = Client::login(&app, "duchaju").await;
            let (_, open) = sup.get("/api/tasks?status=open&page_size=500").await;
            let mut sum = 0;
            for l in ["red", "yellow", "green"] {
                let (s, v) = sup.get(&format!("/api/tasks?light={l}&page_size=500")).await;
                assert_eq!(s, 200, "{v}");
                let rows = v["items"].as_array().unwrap();
                assert!(rows.iter().all(|r| r["light"] == l), "{at}: the {l} list shows other lights");
                assert_eq!(rows.iter().any(|r| r["task"]["id"] == id), l == light, "{at}: our task is {light}");
                sum += v["total"].as_i64().unwrap();
            }
            assert_eq!(sum, open["total"].as_i64().unwrap(), "{at}: every open task has one light");
        }
        tdb.cleanup().await;
    });
}

/// The ranking trend shows what was published: a leader sees each category of his 分包 area
/// whole (the 区长's area holds every ranked category, and his board said 「尚无已发布的月度排名」
/// while five were published), and every unit a trend lists has its line drawn and its ranks in
/// the table under the chart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ranking_trend_draws_every_unit_it_lists() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-12-05 10:00")).await else { continue };
        let sup = Client::login(&app, "duchaju").await;
        let (s, list) = sup.get("/api/rankings").await;
        assert_eq!(s, 200, "{list}");
        // Units ranked per category over all published months.
        let mut units: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
        for r in list.as_array().unwrap() {
            let (_, v) = sup.get(&format!("/api/rankings/{}", r["id"])).await;
            let cat = r["category_name"].as_str().unwrap().to_string();
            for row in v["rows"].as_array().unwrap() {
                units.entry(cat.clone()).or_default().insert(row["unit_name"].as_str().unwrap().to_string());
            }
        }
        assert!(units.len() >= 3 && units.values().any(|u| u.len() >= 5), "{units:?}");
        let trends = |html: &str| -> Vec<(String, usize, usize, usize)> {
            html.split("<div class=\"card trend\"><b>")
                .skip(1)
                .map(|card| {
                    let card = card.split("查看各期排名").next().unwrap();
                    let name = card.split("</b>").next().unwrap().to_string();
                    let legend = card
                        .split("class=\"chart-legend\"")
                        .nth(1)
                        .map_or(0, |l| l.split("</div>").next().unwrap().matches("■").count());
                    let table = card.split("trend-table").nth(1).unwrap().split("</table>").next().unwrap();
                    (name, card.matches("<polyline").count(), legend, table.matches("<tr><td>").count())
                })
                .collect()
        };
        for (name, whole) in [("quzhang", true), ("duchaju", true), ("fqz_cj", false), ("fqz_sh", false)] {
            let c = Client::login(&app, name).await;
            let html = page(&c, "/dashboard").await;
            assert!(html.contains("id=\"legend-lights\""), "{name}: the lights chart has a legend");
            let found = trends(&html);
            if whole {
                assert!(!html.contains("尚无已发布的月度排名"), "{name}");
                let names: Vec<&String> = found.iter().map(|t| &t.0).collect();
                assert_eq!(names, units.keys().collect::<Vec<_>>(), "{name}: every ranked category");
            }
            for (cat, lines, legend, rows) in &found {
                if whole {
                    assert_eq!(*rows, units[cat].len(), "{name}: {cat} lists every ranked unit");
                }
                assert_eq!(lines, legend, "{name}: {cat} draws a line for every unit of its legend");
                assert!(rows >= legend, "{name}: {cat}");
            }
        }
        tdb.cleanup().await;
    });
}

/// 科技统计: every figure that counts records is the number of records its link lists, and the
/// contracts' sums are the sums of what their links list — read through the API the pages use,
/// with the same filters, for the 科技局 and the 区长.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_figure_of_the_statistics_is_what_its_link_lists() {
    each_backend!(|b| {
        let Some((tdb, app)) = with_demo(b, dt("2026-12-05 10:00")).await else { continue };
        for name in ["kejiju", "quzhang"] {
            let c = Client::login(&app, name).await;
            let (s, st) = c.get("/api/docking-stats").await;
            assert_eq!(s, 200, "{st}");
            // A page link and the API list with the same filters.
            let list = |href: &str| {
                let (path, query) = href.split_once('?').unwrap_or((href, ""));
                let api = match path {
                    "/enterprises" => "/api/enterprises",
                    "/docking/platforms" => "/api/platforms",
                    "/docking/contracts" => "/api/contracts",
                    "/docking/dockings" => "/api/dockings",
                    other => panic!("a figure links to a list: {other}"),
                };
                format!("{api}?{query}")
            };
            let mut checked = 0;
            for f in st["figures"].as_array().unwrap() {
                let (s, rows) = c.get(&list(f["href"].as_str().unwrap())).await;
                assert_eq!(s, 200, "{f}: {rows}");
                let rows = rows.as_array().unwrap();
                let value = f["value"].as_f64().unwrap();
                let shown = match f["key"].as_str().unwrap() {
                    "contract_amount" => rows.iter().map(|r| r["amount_wan"].as_f64().unwrap()).sum::<f64>(),
                    "technical_income" => rows.iter().map(|r| r["technical_income_wan"].as_f64().unwrap()).sum(),
                    _ => rows.len() as f64,
                };
                assert!((shown - value).abs() < 0.01, "{name}: {} says {value}, its list {shown}", f["label"]);
                checked += 1;
            }
            for table in ["contracts_by_year", "contracts_by_kind"] {
                for r in st[table].as_array().unwrap() {
                    let (_, rows) = c.get(&list(r["href"].as_str().unwrap())).await;
                    let rows = rows.as_array().unwrap();
                    assert_eq!(rows.len() as i64, r["count"].as_i64().unwrap(), "{name}: {table} {r}");
                    let sum: f64 = rows.iter().map(|x| x["amount_wan"].as_f64().unwrap()).sum();
                    assert!((sum - r["amount_wan"].as_f64().unwrap()).abs() < 0.01, "{name}: {table} {r}");
                    checked += 1;
                }
            }
            for r in st["stages"].as_array().unwrap() {
                let (_, rows) = c.get(&list(r["href"].as_str().unwrap())).await;
                assert_eq!(rows.as_array().unwrap().len() as i64, r["now"].as_i64().unwrap(), "{name}: {r}");
                checked += 1;
            }
            assert!(checked >= 7 + 2 + 5, "{name}: {checked} figures checked");
        }
        tdb.cleanup().await;
    });
}
