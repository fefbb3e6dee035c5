//! 科技统计 and the libraries' Excel export (API and page). Each figure is the count of records
//! held (在库数) beside the district's reported figure (上报数, kept in `baselines`) with the gap.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use minijinja::context;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_docking::baseline::FIGURES;
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::dockings::DockingStats;

use crate::AppState;
use crate::api::Q;
use crate::auth::{ApiUser, PageUser};
use crate::docking::dockings::{StageQuery, stage_param};
use crate::docking::hub::{may_read_libraries, may_read_stats, ok_msg, page};
use crate::error::{ApiError, ErrorBody};
use crate::forms::RawQuery;
use crate::pages::error_page;

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stats)).routes(routes!(export))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new().route("/docking/stats", get(stats_page))
}

/// 科技统计：高新技术企业、科技型企业、载体、研发平台、技术合同成交额（每项为在库数，有上报数的并列上报数、
/// 来源与差额），对接阶段与转化率。
#[utoipa::path(get, path = "/api/docking-stats", tag = "产学研对接",
    responses((status = 200, body = DockingStats), (status = 403, body = ErrorBody)))]
pub(crate) async fn stats(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<DockingStats>, ApiError> {
    may_read_stats(&u)?;
    Ok(Json(s.db.docking_stats(s.clock.now().date()).await?))
}

/// 导出产学研台账（Excel，按当前账号可见的范围）。what：tech-problems 难题库、experts 专家库、
/// dockings 对接（可按 stage 筛选，与对接页相同）、contracts 技术合同、platforms 平台载体。
#[utoipa::path(get, path = "/api/exports/docking/{what}", tag = "导入导出",
    params(
        ("what" = String, Path, description = "tech-problems / experts / dockings / contracts / platforms"),
        StageQuery
    ),
    responses((status = 200, description = "Excel 文件", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn export(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(what): Path<String>,
    Q(q): Q<StageQuery>,
) -> Result<axum::response::Response, ApiError> {
    use xietong_office::table::{Cell, Column};
    may_read_libraries(&u)?;
    let now = s.clock.now();
    let t = |x: &str| Cell::Text(x.to_string());
    let n = |x: f64| Cell::Number(x);
    // A sheet: its name, its columns (header, width) and its rows.
    type Sheet<'a> = (&'a str, Vec<(&'a str, f64)>, Vec<Vec<Cell>>);
    let (name, cols, rows): Sheet = match what.as_str() {
        "tech-problems" => (
            "难题库",
            vec![
                ("编号", 6.0),
                ("难题", 36.0),
                ("企业", 26.0),
                ("行业", 20.0),
                ("预算（万元）", 10.0),
                ("合作方式", 10.0),
                ("关键词", 24.0),
                ("保密", 6.0),
                ("状态", 10.0),
                ("有效期至", 12.0),
                ("描述", 60.0),
            ],
            s.db.list_problems_for(&u, None)
                .await?
                .iter()
                .map(|p| {
                    vec![
                        n(p.id as f64),
                        t(&p.title),
                        t(&p.enterprise_name),
                        t(p.industry_name.as_deref().unwrap_or("")),
                        n(p.budget_wan),
                        t(&p.cooperation_mode),
                        t(&p.keywords.join("；")),
                        t(if p.confidential { "是" } else { "否" }),
                        t(&p.review.status_label),
                        t(p.review.expires_on.as_deref().unwrap_or("")),
                        t(&p.description),
                    ]
                })
                .collect(),
        ),
        "experts" => (
            "专家库",
            vec![
                ("编号", 6.0),
                ("专家", 30.0),
                ("所在机构", 26.0),
                ("职称", 10.0),
                ("学科", 24.0),
                ("研究方向", 36.0),
                ("关键词", 24.0),
                ("联系电话", 16.0),
                ("电子邮箱", 24.0),
                ("身份证号", 22.0),
                ("状态", 10.0),
            ],
            s.db.list_experts_for(&u, None)
                .await?
                .iter()
                .map(|x| {
                    vec![
                        n(x.id as f64),
                        t(&x.name),
                        t(&x.institution_name),
                        t(&x.title),
                        t(&x.disciplines.join("；")),
                        t(&x.fields),
                        t(&x.keywords.join("；")),
                        t(&x.phone),
                        t(&x.email),
                        t(&x.id_number),
                        t(&x.review.status_label),
                    ]
                })
                .collect(),
        ),
        "dockings" => (
            "产学研对接",
            vec![
                ("编号", 6.0),
                ("对接", 40.0),
                ("企业", 26.0),
                ("难题", 30.0),
                ("专家", 24.0),
                ("成果", 30.0),
                ("机构", 24.0),
                ("阶段", 14.0),
                ("终止原因", 20.0),
            ],
            s.db.list_dockings(&u, stage_param(q.stage.as_deref())?)
                .await?
                .iter()
                .map(|d| {
                    vec![
                        n(d.id as f64),
                        t(&d.title),
                        t(&d.enterprise_name),
                        t(d.problem_title.as_deref().unwrap_or("")),
                        t(d.expert_name.as_deref().unwrap_or("")),
                        t(d.achievement_title.as_deref().unwrap_or("")),
                        t(d.institution_name.as_deref().unwrap_or("")),
                        t(&d.stage_label),
                        t(&d.end_reason),
                    ]
                })
                .collect(),
        ),
        "contracts" => {
            may_read_stats(&u)?;
            (
                "技术合同",
                vec![
                    ("登记编号", 26.0),
                    ("类型", 10.0),
                    ("买方", 26.0),
                    ("卖方", 26.0),
                    ("金额（万元）", 12.0),
                    ("技术性收入（万元）", 14.0),
                    ("签订日期", 12.0),
                ],
                s.db.list_contracts(None, None)
                    .await?
                    .iter()
                    .map(|c| {
                        vec![
                            t(&c.contract_no),
                            t(&c.kind_label),
                            t(&c.buyer),
                            t(&c.seller),
                            n(c.amount_wan),
                            n(c.technical_income_wan),
                            t(&c.signed_on),
                        ]
                    })
                    .collect(),
            )
        }
        "platforms" => (
            "平台载体",
            vec![("名称", 36.0), ("类别", 14.0), ("类型", 16.0), ("级别", 8.0), ("依托单位", 26.0), ("认定年份", 10.0)],
            s.db.list_platforms(None, None)
                .await?
                .iter()
                .map(|p| {
                    vec![
                        t(&p.name),
                        t(&p.group),
                        t(&p.kind),
                        t(&p.level),
                        t(&p.host),
                        p.approved_year.map(|y| n(y as f64)).unwrap_or(Cell::Empty),
                    ]
                })
                .collect(),
        ),
        other => {
            return Err(StoreError::NotFound(format!(
                "没有「{other}」台账（可选 tech-problems、experts、dockings、contracts、platforms）"
            ))
            .into());
        }
    };
    let cols: Vec<Column> = cols.iter().map(|(h, w)| Column::plain(h, *w)).collect();
    let title = format!("{name}（导出时间 {}）", now.format("%Y-%m-%d %H:%M"));
    let bytes = s
        .heavy(move || {
            let internal = |e: xietong_office::OfficeError| StoreError::internal(e.to_string());
            xietong_office::xlsx::export_table(name, Some(&title), &cols, &rows).map_err(internal)
        })
        .await?;
    Ok(crate::downloads::download(crate::downloads::XLSX, &format!("{name}_{}.xlsx", now.format("%Y%m%d")), bytes))
}

// --- statistics --------------------------------------------------------------------------------

/// The page, with a refused 上报数 form (its figure, message and what was typed) kept.
pub(crate) async fn stats_with(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    ok: Option<String>,
    refused: Option<(&str, String, HashMap<String, String>)>,
) -> Response {
    if let Err(e) = may_read_stats(u) {
        return error_page(s, Some(u), &e);
    }
    let (st, baselines) = match (s.db.docking_stats(s.clock.now().date()).await, s.db.list_baselines().await) {
        (Ok(st), Ok(b)) => (st, b),
        (Err(e), _) | (_, Err(e)) => return error_page(s, Some(u), &e),
    };
    // One form per figure, filled from its 上报数 or, after a refusal, from what was typed.
    let forms: Vec<minijinja::Value> = FIGURES
        .iter()
        .map(|f| {
            let b = baselines.iter().find(|b| b.figure == f.key);
            let (err, values) = match &refused {
                Some((key, err, typed)) if *key == f.key => (Some(err.clone()), typed.clone()),
                _ => {
                    let mut v = HashMap::new();
                    if let Some(b) = b {
                        v.insert("value".to_string(), xietong_supervision::indicators::fmt_num(b.value));
                        v.insert("as_of".into(), b.as_of.clone());
                        v.insert("source".into(), b.source.clone());
                        v.insert("source_date".into(), b.source_date.clone().unwrap_or_default());
                        v.insert("note".into(), b.note.clone());
                    }
                    v.insert("version".into(), b.map_or(0, |b| b.version).to_string());
                    (None, v)
                }
            };
            context! { key => f.key, label => f.label, unit => f.unit, b => b, err => err, f => values }
        })
        .collect();
    let flash_err = refused.as_ref().map(|r| r.1.clone());
    let ctx = context! { st => st, forms => forms, flash_ok => ok, flash_err => flash_err };
    page(s, u, status, "docking_stats.html", "stats", ctx)
}

async fn stats_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): RawQuery) -> Response {
    stats_with(&s, &u, StatusCode::OK, ok_msg(&q), None).await
}
