//! The 干部名册 in and out (issue 18): the roster's import from the 干部库 page (all or nothing,
//! every bad row named; the API's is `/api/imports/cadres`), and Excel exports of the pool, of the
//! 班子结构 table and of a year's 历练 with their people.

use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_office::table::{Cell, Column};
use xietong_office::xlsx::export_table;

use super::{PoolQuery, pool_of};
use crate::AppState;
use crate::auth::{ApiUser, PageUser};
use crate::downloads::{XLSX, download, office_err};
use crate::error::{ApiError, ErrorBody};
use crate::pages::with_query;

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export_pool)).routes(routes!(export_teams)).routes(routes!(export_experiences))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new().route("/cadres/import", post(import_submit))
}

fn columns(spec: &[(&str, f64)]) -> Vec<Column> {
    spec.iter().map(|(h, w)| Column::plain(h, *w)).collect()
}

/// 导出优秀年轻干部库（Excel）：每条在库记录一行，含年龄、学历、职级、入库日期和理由；不含身份证号。
#[utoipa::path(get, path = "/api/exports/cadres", params(PoolQuery), tag = "导入导出",
    responses((status = 200, description = "Excel 文件",
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn export_pool(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Query(q): Query<PoolQuery>,
) -> Result<Response, ApiError> {
    let now = s.clock.now();
    let level = pool_of(&q)?;
    // Everyone with their entries (or only that level's members); the rows below keep open entries.
    let list = s.db.cadres(&u, level, now.date()).await?;
    let cols = columns(&[
        ("干部库", 20.0),
        ("单位", 18.0),
        ("姓名", 12.0),
        ("职务", 18.0),
        ("年龄", 6.0),
        ("出生年月", 10.0),
        ("学历", 12.0),
        ("专业", 12.0),
        ("职级", 10.0),
        ("入职途径", 12.0),
        ("参加工作时间", 12.0),
        ("入库日期", 12.0),
        ("入库理由", 30.0),
    ]);
    let t = |x: &str| Cell::Text(x.to_string());
    let mut rows = vec![];
    // The 科级库 first, then the 股级库, each in the list's order (unit, person).
    for l in xietong_cadres::PoolLevel::ALL.into_iter().filter(|l| level.is_none_or(|want| want == *l)) {
        for (c, p) in list.iter().flat_map(|c| c.pools.iter().map(move |p| (c, p))) {
            if p.level != l || p.exited_on.is_some() {
                continue;
            }
            rows.push(vec![
                t(&p.level_label),
                t(&c.unit_name),
                t(&c.name),
                t(&c.post),
                c.age.map(|a| Cell::Number(f64::from(a))).unwrap_or(Cell::Empty),
                t(c.birth_date.get(..7).unwrap_or_default()),
                t(&c.education),
                t(&c.major),
                t(&c.rank),
                t(&c.entry_route),
                t(&c.work_start),
                t(&p.entered_on.to_string()),
                t(&p.entry_reason),
            ]);
        }
    }
    let title = format!("优秀年轻干部库（导出时间 {}）", now.format("%Y-%m-%d %H:%M"));
    let bytes = s.heavy(move || export_table("优秀年轻干部库", Some(&title), &cols, &rows).map_err(office_err)).await?;
    Ok(download(XLSX, &format!("优秀年轻干部库_{}.xlsx", now.format("%Y%m%d")), bytes))
}

/// 导出班子结构表（Excel）：各班子成员数、35 岁以下人数和占比、30 岁以下人数、要求与核查结果，末行合计。
#[utoipa::path(get, path = "/api/exports/teams", tag = "导入导出",
    responses((status = 200, description = "Excel 文件",
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403, body = ErrorBody)))]
async fn export_teams(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Response, ApiError> {
    let now = s.clock.now();
    let teams = s.db.teams(&u, now.date()).await?;
    let cols = columns(&[
        ("单位", 18.0),
        ("单位类型", 10.0),
        ("班子成员", 9.0),
        ("35岁以下", 9.0),
        ("占比(%)", 9.0),
        ("30岁以下", 9.0),
        ("要求", 34.0),
        ("核查", 40.0),
    ]);
    let t = |x: &str| Cell::Text(x.to_string());
    let n = |x: usize| Cell::Number(x as f64);
    let mut rows: Vec<Vec<Cell>> = teams
        .iter()
        .map(|x| {
            let r = &x.requirement;
            let verdict = if x.check.meets { "符合要求".to_string() } else { x.check.shortfalls.join("；") };
            vec![
                t(&x.unit_name),
                t(&x.unit_kind),
                n(x.check.members),
                n(x.check.young),
                Cell::Number(x.check.young_percent),
                n(x.check.youngest),
                t(&format!(
                    "{} 岁以下不低于 {}%，{} 岁以下至少 {} 人",
                    r.young_age, r.min_young_percent, r.youngest_age, r.min_youngest
                )),
                t(&verdict),
            ]
        })
        .collect();
    let total = xietong_cadres::structure::total(teams.iter().map(|x| &x.check));
    rows.push(vec![
        t("合计"),
        Cell::Empty,
        n(total.members),
        n(total.young),
        Cell::Number(total.young_percent),
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
    ]);
    let title = format!("班子结构（{}）", now.format("%Y-%m-%d"));
    let bytes = s.heavy(move || export_table("班子结构", Some(&title), &cols, &rows).map_err(office_err)).await?;
    Ok(download(XLSX, &format!("班子结构_{}.xlsx", now.format("%Y%m%d")), bytes))
}

/// 导出某年度的历练记录（Excel）：每名成员一行，含类别、名称、地点或单位、起止日期、学时、职责和考核等次；
/// 可按类别筛选，与历练页面相同的数据范围。
#[utoipa::path(get, path = "/api/exports/experiences", params(super::experiences::ExperienceQuery), tag = "导入导出",
    responses((status = 200, description = "Excel 文件",
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn export_experiences(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Query(q): Query<super::experiences::ExperienceQuery>,
) -> Result<Response, ApiError> {
    let now = s.clock.now();
    let year = q.year.unwrap_or(chrono::Datelike::year(&now));
    let kind = super::experiences::kind_of(q.kind.as_deref())?;
    let list = s.db.experiences(&u, Some(year), kind).await?;
    let cols = columns(&[
        ("类别", 10.0),
        ("名称", 22.0),
        ("地点或单位", 20.0),
        ("开始日期", 12.0),
        ("结束日期", 12.0),
        ("学时", 7.0),
        ("姓名", 14.0),
        ("单位", 16.0),
        ("职务", 14.0),
        ("职责", 12.0),
        ("考核等次", 9.0),
    ]);
    let t = |x: &str| Cell::Text(x.to_string());
    let mut rows = vec![];
    for e in &list {
        let ended = e.ended_on.map(|d| d.to_string()).unwrap_or_default();
        let hours = e.hours.map(Cell::Number).unwrap_or(Cell::Empty);
        for m in &e.members {
            rows.push(vec![
                t(&e.kind_label),
                t(&e.name),
                t(&e.place),
                t(&e.started_on.to_string()),
                t(&ended),
                hours.clone(),
                t(&m.name),
                t(&m.unit_name),
                t(&m.post),
                t(&m.duty),
                t(&m.assessment),
            ]);
        }
    }
    let what = kind.map(|k| k.label_zh()).unwrap_or("历练");
    let title = format!("{year} 年{what}记录（导出时间 {}）", now.format("%Y-%m-%d %H:%M"));
    let bytes = s.heavy(move || export_table("历练记录", Some(&title), &cols, &rows).map_err(office_err)).await?;
    Ok(download(XLSX, &format!("{year}年{what}记录.xlsx"), bytes))
}

/// The 干部库 page's roster upload: all or nothing; a refusal lists every bad row on the page.
async fn import_submit(State(s): State<AppState>, PageUser(u, _): PageUser, mp: Multipart) -> Response {
    let r = async {
        let (file, fields) = crate::imports::read_form(&s, mp).await?;
        crate::imports::import_upload(&s, &u, "cadres", file, &fields).await
    };
    match r.await {
        Ok(r) => {
            let ok = format!("干部名册导入成功：{} 行，涉及 {} 人", r.rows, r.created_ids.len());
            Redirect::to(&with_query("/cadres", &[("ok", &ok)])).into_response()
        }
        Err(e) => {
            let status = crate::error::status_of(&e);
            if status == StatusCode::FORBIDDEN {
                return crate::pages::error_page(&s, Some(&u), &e);
            }
            let lines: Vec<String> = e.to_string().lines().map(str::to_string).collect();
            super::cadres_view(&s, &u, status, String::new(), None, lines).await
        }
    }
}
