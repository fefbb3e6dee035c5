//! 月度排名: 试算, 发布 (frozen), settings, the annual assessment, and the ranking's Excel and 通报 Word.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_office::notice::{NoticeDoc, NoticeTable, render_notice};
use xietong_office::table::{Cell, Column};
use xietong_office::xlsx::export_table;
use xietong_storage::StoreError;
use xietong_storage::rankings::{Month, RankingSettings, RankingSummary, RankingView};
use xietong_supervision::Role;
use xietong_supervision::ranking::{AnnualScore, NoticeWeights, ScoreFormula};

use crate::AppState;
use crate::api::{J, Q};
use crate::auth::{ApiUser, PageUser};
use crate::downloads::office_err;
use crate::downloads::{DOCX, XLSX, download};
use crate::error::{ApiError, ErrorBody};
use crate::forms::{Fields, FormView};
use crate::indicators::number;
use crate::notices::notice_template;
use crate::pages::{error_page, render};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_ranking))
        .routes(routes!(ranking_notice))
        .routes(routes!(list_rankings, publish_ranking))
        .routes(routes!(preview_ranking))
        .routes(routes!(get_ranking))
        .routes(routes!(assessment))
        .routes(routes!(get_ranking_settings, put_ranking_settings))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/rankings", get(rankings_page))
        .route("/rankings/publish", post(publish_submit))
        .route("/rankings/settings", post(settings_submit))
        .route("/rankings/{id}", get(ranking_page))
        .route("/assessment", get(assessment_page))
}

#[derive(Deserialize, IntoParams)]
pub struct YearQuery {
    /// 年份，如 2026
    pub year: Option<i32>,
}

/// 已发布的月度排名。
#[utoipa::path(get, path = "/api/rankings", params(YearQuery), tag = "排名", responses((status = 200, body = Vec<RankingSummary>), (status = 401, body = ErrorBody)))]
async fn list_rankings(
    State(s): State<AppState>,
    ApiUser(_u, _): ApiUser,
    Q(q): Q<YearQuery>,
) -> Result<Json<Vec<RankingSummary>>, ApiError> {
    Ok(Json(s.db.list_rankings(q.year).await?))
}

#[derive(Deserialize, IntoParams, ToSchema)]
pub struct RankingQuery {
    /// 工作类别编号
    pub category_id: i64,
    /// 月份 YYYY-MM
    pub month: String,
}

/// 按当前任务数据试算某类别某月的排名（未发布，不冻结）。
#[utoipa::path(get, path = "/api/rankings/preview", params(RankingQuery), tag = "排名",
    responses((status = 200, body = RankingView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn preview_ranking(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(q): Q<RankingQuery>,
) -> Result<Json<RankingView>, ApiError> {
    let month = Month::parse("月份", &q.month)?;
    Ok(Json(s.db.preview_ranking(&u, q.category_id, month, s.clock.now()).await?))
}

/// 发布某类别某月的排名：发布后冻结，此后任务变动不再改变该月排名。
#[utoipa::path(post, path = "/api/rankings", request_body = RankingQuery, tag = "排名",
    responses((status = 201, body = RankingView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn publish_ranking(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(q): J<RankingQuery>,
) -> Result<(StatusCode, Json<RankingView>), ApiError> {
    let month = Month::parse("月份", &q.month)?;
    let id = s.db.publish_ranking(&u, q.category_id, month, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(s.db.get_ranking(id).await?)))
}

/// 一期已发布的排名（与发布时完全一致）。
#[utoipa::path(get, path = "/api/rankings/{id}", params(("id" = i64, Path, description = "排名编号")), tag = "排名",
    responses((status = 200, body = RankingView), (status = 404, body = ErrorBody)))]
async fn get_ranking(
    State(s): State<AppState>,
    ApiUser(_u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<RankingView>, ApiError> {
    Ok(Json(s.db.get_ranking(id).await?))
}

/// 年度考核得分：已发布月度排名得分的平均值，加上通报加减分。
#[utoipa::path(get, path = "/api/assessment", params(YearQuery), tag = "排名",
    responses((status = 200, body = Vec<AnnualScore>), (status = 401, body = ErrorBody)))]
async fn assessment(
    State(s): State<AppState>,
    ApiUser(_u, _): ApiUser,
    Q(q): Q<YearQuery>,
) -> Result<Json<Vec<AnnualScore>>, ApiError> {
    let year = q.year.unwrap_or_else(|| chrono::Datelike::year(&s.clock.now()));
    Ok(Json(s.db.annual_assessment(year).await?))
}

/// 评分公式与通报加减分设置。
#[utoipa::path(get, path = "/api/ranking-settings", tag = "排名", responses((status = 200, body = RankingSettings), (status = 401, body = ErrorBody)))]
async fn get_ranking_settings(
    State(s): State<AppState>,
    ApiUser(_u, _): ApiUser,
) -> Result<Json<RankingSettings>, ApiError> {
    Ok(Json(s.db.ranking_settings().await?))
}

/// 修改评分公式（仅督查局；已发布的月份不受影响）。
#[utoipa::path(put, path = "/api/ranking-settings", request_body = RankingSettings, tag = "排名",
    responses((status = 200, body = RankingSettings), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn put_ranking_settings(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(b): J<RankingSettings>,
) -> Result<Json<RankingSettings>, ApiError> {
    s.db.save_ranking_settings(&u, &b, s.clock.now()).await?;
    Ok(Json(s.db.ranking_settings().await?))
}

#[derive(Deserialize)]
struct RankingsQuery {
    category_id: Option<String>,
    month: Option<String>,
    year: Option<String>,
}

fn last_month(now: chrono::NaiveDateTime) -> String {
    use chrono::Datelike;
    let d = now.date().with_day(1).and_then(|d| d.pred_opt()).unwrap_or(now.date());
    format!("{:04}-{:02}", d.year(), d.month())
}

async fn rankings_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Query(q): Query<RankingsQuery>,
) -> Response {
    rankings_with(&s, &u, &q, None).await
}

/// The rankings page; with `refused`, the 评分公式 form as sent, each error beside its field.
async fn rankings_with(
    s: &AppState,
    u: &xietong_storage::auth::SessionUser,
    q: &RankingsQuery,
    refused: Option<(StatusCode, FormView)>,
) -> Response {
    let now = s.clock.now();
    let categories = s.db.list_categories().await.unwrap_or_default();
    let year_filter = q.year.as_deref().and_then(|y| y.parse::<i32>().ok());
    let published = match s.db.list_rankings(year_filter).await {
        Ok(p) => p,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let month_s = q.month.clone().filter(|m| !m.is_empty()).unwrap_or_else(|| last_month(now));
    let mut preview = None;
    let mut error = None;
    if let Some(cat) = q.category_id.as_deref().filter(|c| !c.is_empty()) {
        let r = async {
            let cat: i64 = cat.parse().map_err(|_| StoreError::invalid("工作类别", "请选择类别"))?;
            let month = Month::parse("月份", &month_s)?;
            s.db.preview_ranking(u, cat, month, now).await
        }
        .await;
        match r {
            Ok(v) => preview = Some(v),
            Err(e) => error = Some(e.to_string()),
        }
    }
    let (status, fs) = match refused {
        Some((st, f)) => (st, Some(f)),
        None if error.is_some() => (StatusCode::BAD_REQUEST, None),
        None => (StatusCode::OK, None),
    };
    let settings = s.db.ranking_settings().await.ok();
    let may_rank = u.role == Role::Supervisor
        || categories.iter().any(|c| u.role == Role::Liaison && c.lead_unit_id == Some(u.unit_id));
    let year = q.year.clone().unwrap_or_default();
    render(
        s,
        status,
        "rankings.html",
        Some(u),
        context! { nav => "rankings", categories => categories, published => published, preview => preview, flash_err => error,
        month => month_s, category_id => q.category_id, may_rank => may_rank, year => year,
        fs => fs.unwrap_or_else(|| FormView::fresh(Fields::default())).value(),
        formula_text => settings.as_ref().map(|s| s.formula.describe_zh()),
        formula_summary => settings.as_ref().map(|s| s.formula.summary_zh()), settings => settings },
    )
}

#[derive(Deserialize)]
struct PublishForm {
    category_id: String,
    month: String,
    /// Set by the confirmation's button; without it the page only shows what would be frozen.
    #[serde(default)]
    confirm: String,
    /// The confirmation's 「返回修改」.
    #[serde(default)]
    back: String,
    /// The ranking the confirmation showed (see [`shown`]): what is frozen is what was seen.
    #[serde(default)]
    shown: String,
}

/// A digest of the ranking as shown (unit, rank, score), so a confirmation of a table that has
/// changed since is shown again rather than published.
fn shown(v: &RankingView) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    for r in &v.rows {
        (r.unit_id, r.rank, format!("{:.1}", r.score)).hash(&mut h);
    }
    format!("{:016x}", h.finish())
}

/// 发布排名 from the page, in two steps: the first submission shows the table that will be frozen,
/// only the confirmation publishes it (a published month cannot be changed).
async fn publish_submit(State(s): State<AppState>, PageUser(u, _): PageUser, Form(f): Form<PublishForm>) -> Response {
    if f.back == "1" {
        let q = serde_urlencoded::to_string([("category_id", f.category_id.trim()), ("month", f.month.trim())]);
        return Redirect::to(&format!("/rankings?{}", q.unwrap_or_default())).into_response();
    }
    let r = async {
        let cat: i64 = f.category_id.trim().parse().map_err(|_| StoreError::invalid("工作类别", "请选择类别"))?;
        let month = Month::parse("月份", &f.month)?;
        let now = s.clock.now();
        let preview = s.db.preview_ranking(&u, cat, month, now).await?;
        // A month that cannot be published is refused now, not after a confirmation.
        if let Some(why) = &preview.publish_refusal {
            return Err(StoreError::Conflict(why.clone()));
        }
        let digest = shown(&preview);
        if f.confirm == "1" && f.shown == digest {
            return s.db.publish_ranking(&u, cat, month, now).await.map(Ok);
        }
        Ok(Err((preview, digest)))
    }
    .await;
    match r {
        Ok(Ok(id)) => Redirect::to(&format!("/rankings/{id}")).into_response(),
        Ok(Err((preview, digest))) => {
            let changed =
                (f.confirm == "1").then_some("排名在您核对之后有变化（任务数据已更新），请重新核对下表后再确认。");
            let rows = vec![
                ("工作类别".to_string(), preview.category_name.clone()),
                ("月份".into(), preview.month.clone()),
                ("参与排名单位".into(), format!("{} 个", preview.rows.len())),
                ("评分规则".into(), preview.formula_text.clone()),
            ];
            let hidden = vec![
                ("category_id".to_string(), preview.category_id.to_string()),
                ("month".into(), preview.month.clone()),
                ("shown".into(), digest),
            ];
            crate::pages::confirm_page(
                &s,
                &u,
                crate::pages::Confirm {
                    title: format!("确认发布 {} {} 月度排名", preview.category_name, preview.month),
                    warning: "发布后该月排名冻结，此后任务变动不再改变它，并计入年度考核，不能撤回。请核对下表。"
                        .into(),
                    rows,
                    action: "/rankings/publish".into(),
                    hidden,
                    button: "确认发布并冻结".into(),
                    extra: context! { preview => preview, changed => changed },
                },
            )
        }
        Err(e) => error_page(&s, Some(&u), &e),
    }
}

async fn settings_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    // Every figure is read; one that is no number is named with the others.
    let mut unread = vec![];
    let mut num = |k: &str, field: &str| {
        number(field, &f.s(k)).unwrap_or_else(|e| {
            unread.extend(e.field_errors());
            0.0
        })
    };
    let settings = RankingSettings {
        formula: ScoreFormula {
            on_time_weight: num("on_time_weight", "按期办结权重"),
            progress_weight: num("progress_weight", "进度达标权重"),
            overdue_penalty: num("overdue_penalty", "逾期未结扣分"),
            rejection_penalty: num("rejection_penalty", "退回整改扣分"),
        },
        notice_weights: NoticeWeights {
            praise: num("praise", "表扬加分"),
            criticism: num("criticism", "批评扣分"),
            warning: num("warning", "预警扣分"),
        },
    };
    let r = if unread.is_empty() {
        s.db.save_ranking_settings(&u, &settings, s.clock.now()).await
    } else {
        Err(StoreError::from(xietong_supervision::validate::FieldErrors(unread)))
    };
    match r {
        Ok(()) => Redirect::to("/rankings#formula").into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_))) => error_page(&s, Some(&u), &e),
        Err(e) => {
            let q = RankingsQuery { category_id: None, month: None, year: None };
            rankings_with(&s, &u, &q, Some((crate::error::status_of(&e), FormView::refused(f, &e)))).await
        }
    }
}

async fn ranking_page(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>) -> Response {
    let v = match s.db.get_ranking(id).await {
        Ok(v) => v,
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    // Drill-down: the tasks each score was computed from, for those whose data scope covers them.
    let mut tasks: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    let listed = v.rows.iter().map(|r| &r.facts).chain(v.not_assessed.iter().map(|r| &r.facts));
    for f in listed {
        if u.in_scope(xietong_supervision::UnitId(f.unit_id)) {
            let t = s.db.task_titles(&f.task_ids).await.unwrap_or_default();
            tasks.insert(f.unit_id.to_string(), t);
        }
    }
    let notices: Vec<_> =
        s.db.list_notices().await.unwrap_or_default().into_iter().filter(|n| n.ranking_id == Some(id)).collect();
    render(
        &s,
        StatusCode::OK,
        "ranking.html",
        Some(&u),
        context! { nav => "rankings", v => v, tasks => tasks, notices => notices },
    )
}

#[derive(Deserialize)]
struct YearQ {
    year: Option<String>,
}

async fn assessment_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): Query<YearQ>) -> Response {
    use chrono::Datelike;
    let year = match q.year.as_deref().filter(|y| !y.is_empty()).map(|y| y.parse::<i32>()) {
        None => s.clock.now().year(),
        Some(Ok(y)) if (2000..=2100).contains(&y) => y,
        Some(_) => return error_page(&s, Some(&u), &StoreError::invalid("年份", "应为 2000 到 2100 之间的整数")),
    };
    let scores = match s.db.annual_assessment(year).await {
        Ok(x) => x,
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    let settings = s.db.ranking_settings().await.ok();
    render(
        &s,
        StatusCode::OK,
        "assessment.html",
        Some(&u),
        context! { nav => "rankings", year => year, scores => scores, notice_rule => settings.map(|s| s.notice_weights.describe_zh()) },
    )
}

fn ranking_columns() -> Vec<Column> {
    let c = Column::plain;
    vec![
        c("名次", 6.0),
        c("单位", 18.0),
        c("得分", 8.0),
        c("任务数", 8.0),
        c("应结任务", 12.0),
        c("按期办结", 10.0),
        c("逾期办结", 10.0),
        c("逾期未结", 10.0),
        c("退回整改", 10.0),
        c("进度达标率(%)", 12.0),
        c("说明", 24.0),
    ]
}

fn ranking_cells(v: &RankingView) -> Vec<Vec<Cell>> {
    let unranked = v.not_assessed.iter().map(|r| {
        let mut cells = vec![Cell::Text("—".into()), Cell::Text(r.unit_name.clone()), Cell::Text("不参评".into())];
        cells.push(Cell::Number(r.facts.tasks_total as f64));
        cells.extend((0..6).map(|_| Cell::Text(String::new())));
        cells.push(Cell::Text(r.reason.clone()));
        cells
    });
    v.rows
        .iter()
        .map(|r| {
            vec![
                Cell::Number(r.rank as f64),
                Cell::Text(r.unit_name.clone()),
                Cell::Number(r.score),
                Cell::Number(r.facts.tasks_total as f64),
                Cell::Number(r.facts.due_in_month as f64),
                Cell::Number(r.facts.closed_on_time as f64),
                Cell::Number(r.facts.closed_late as f64),
                Cell::Number(r.facts.overdue_open as f64),
                Cell::Number(r.facts.rejections as f64),
                Cell::Number((r.facts.progress_ratio * 1000.0).round() / 10.0),
                Cell::Text(r.tie_note.clone().unwrap_or_default()),
            ]
        })
        .chain(unranked)
        .collect()
}

/// 导出一期月度排名（Excel）。
#[utoipa::path(get, path = "/api/rankings/{id}/export.xlsx", params(("id" = i64, Path, description = "排名编号")), tag = "导入导出",
    responses((status = 200, description = "Excel 文件", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 404, body = ErrorBody)))]
async fn export_ranking(
    State(s): State<AppState>,
    ApiUser(_u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let v = s.db.get_ranking(id).await?;
    let title = format!("{} {} 月度排名（{}）", v.category_name, v.month, v.formula_text);
    let (cols, rows) = (ranking_columns(), ranking_cells(&v));
    let bytes = s.heavy(move || export_table("月度排名", Some(&title), &cols, &rows).map_err(office_err)).await?;
    Ok(download(XLSX, &format!("{}_{}_月度排名.xlsx", v.category_name, v.month), bytes))
}

/// Compose the monthly notice from a published ranking: the table, and the laggards named with
/// their 一把手 (工作保障机制: the head answers for the unit).
pub async fn compose_ranking_notice(s: &AppState, v: &RankingView) -> Result<NoticeDoc, StoreError> {
    let units = s.db.list_units().await?;
    let head = |id: i64| units.iter().find(|u| u.id == id).and_then(|u| u.head_name.clone());
    let (y, m) = v.month.split_once('-').unwrap_or((&v.month, ""));
    let m = m.trim_start_matches('0');
    let notices = s.db.list_notices().await?;
    let issued = notices.iter().find(|n| n.ranking_id == v.id);
    let worst = v.rows.iter().map(|r| r.rank).max().unwrap_or(0);
    let mut laggards = vec![];
    for r in &v.rows {
        if (r.rank == worst && v.rows.len() > 1) || r.facts.overdue_open > 0 {
            let h = head(r.unit_id).map(|h| format!("（主要负责人：{h}）")).unwrap_or_default();
            laggards.push(format!(
                "{}{}：第 {} 名，得分 {}，逾期未结 {} 项，退回整改 {} 次",
                r.unit_name, h, r.rank, r.score, r.facts.overdue_open, r.facts.rejections
            ));
        }
    }
    let top: Vec<String> = v.rows.iter().filter(|r| r.rank <= 3).map(|r| r.unit_name.clone()).collect();
    let mut paragraphs = vec![format!(
        "按照“五项督查机制”要求，{}牵头对承担{}任务的{}个单位{}年{}月工作推进情况进行了排名，现将有关情况通报如下。",
        v.lead_unit_name.clone().unwrap_or_else(|| "督查局".into()),
        v.category_name,
        v.rows.len(),
        y,
        m
    )];
    if !v.not_assessed.is_empty() {
        let names: Vec<&str> = v.not_assessed.iter().map(|r| r.unit_name.as_str()).collect();
        paragraphs.push(format!("{}截至月末没有应结任务，在办任务也都刚交办，本月不参评。", names.join("、")));
    }
    if !top.is_empty() {
        paragraphs.push(format!("排名靠前的单位：{}。", top.join("、")));
    }
    if !laggards.is_empty() {
        paragraphs.push(
            "以下单位排名靠后或存在逾期未结任务，请主要负责同志亲自研究、限期整改，整改情况于5个工作日内报督查局。"
                .into(),
        );
    }
    let headers = ["名次", "单位", "得分", "按期办结", "逾期未结", "退回整改", "进度达标率"]
        .iter()
        .map(|x| x.to_string())
        .collect();
    let rows = v
        .rows
        .iter()
        .map(|r| {
            vec![
                r.rank.to_string(),
                r.unit_name.clone(),
                format!("{}", r.score),
                r.facts.closed_on_time.to_string(),
                r.facts.overdue_open.to_string(),
                r.facts.rejections.to_string(),
                format!("{:.1}%", r.facts.progress_ratio * 100.0),
            ]
        })
        .collect();
    let today = s.clock.now().date();
    Ok(NoticeDoc {
        title: format!("关于{}年{}月份{}工作推进情况的通报", y, m, v.category_name),
        doc_no: issued.map(|n| n.doc_no.clone()).unwrap_or_else(|| "二七督通〔　　〕　号".into()),
        issuer: s.db.get_setting("issuer_name").await?.unwrap_or_else(|| "二七区督查局".into()),
        date: issued.map(|n| n.issued_on).unwrap_or(today),
        kind_label: "月度排名".into(),
        paragraphs,
        tables: vec![NoticeTable {
            caption: format!("{}年{}月{}工作排名", y, m, v.category_name), headers, rows
        }],
        laggards,
        // The method as it was when the month was published, once, as an annex line.
        annex: vec![format!("附：评分办法　{}", v.formula_text)],
    })
}

/// 生成月度督查通报（Word），含排名表和点名的落后单位，按当前通报模板排版。
#[utoipa::path(get, path = "/api/rankings/{id}/notice.docx", params(("id" = i64, Path, description = "排名编号")), tag = "导入导出",
    responses((status = 200, description = "Word 文件", content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"), (status = 404, body = ErrorBody)))]
async fn ranking_notice(
    State(s): State<AppState>,
    ApiUser(_u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let v = s.db.get_ranking(id).await?;
    let doc = compose_ranking_notice(&s, &v).await?;
    let tpl = notice_template(&s).await?;
    let file_name = format!("{}.docx", doc.title);
    let bytes = s.heavy(move || render_notice(tpl.as_deref(), &doc).map_err(office_err)).await?;
    Ok(download(DOCX, &file_name, bytes))
}
