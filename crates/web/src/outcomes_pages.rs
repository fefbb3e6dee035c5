//! Pages for supervision outcomes: 月度排名 (preview, publish, drill-down to the tasks behind
//! each score), 年度考核, 督查通报 with unit and person records, and indicators.

use std::collections::HashMap;

use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use minijinja::context;
use serde::Deserialize;
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::indicators::{NewIndicator, NewIndicatorReport};
use xietong_storage::notices::{NewNotice, NoticeTarget};
use xietong_storage::rankings::{Month, RankingSettings};
use xietong_supervision::Role;
use xietong_supervision::indicators::CONFIRM_HINT;
use xietong_supervision::ranking::{NoticeKind, NoticeWeights, ScoreFormula};

use crate::AppState;
use crate::auth::PageUser;
use crate::outcomes_api::scoped_records;
use crate::pages::{error_page, render};

pub fn router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/rankings", get(rankings_page))
        .route("/rankings/publish", post(publish_submit))
        .route("/rankings/settings", post(settings_submit))
        .route("/rankings/{id}", get(ranking_page))
        .route("/assessment", get(assessment_page))
        .route("/notices", get(notices_page).post(notice_submit))
        .route("/notices/{id}", get(notice_page))
        .route("/records", get(records_page))
        .route("/indicators", get(indicators_page))
        .route("/tasks/{id}/indicators", post(indicator_submit))
        .route("/indicators/{id}/reports", post(indicator_report_submit))
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
    let now = s.clock.now();
    let categories = s.db.list_categories().await.unwrap_or_default();
    let year_filter = q.year.as_deref().and_then(|y| y.parse::<i32>().ok());
    let published = match s.db.list_rankings(year_filter).await {
        Ok(p) => p,
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    let month_s = q.month.clone().filter(|m| !m.is_empty()).unwrap_or_else(|| last_month(now));
    let mut preview = None;
    let mut error = None;
    if let Some(cat) = q.category_id.as_deref().filter(|c| !c.is_empty()) {
        let r = async {
            let cat: i64 = cat.parse().map_err(|_| StoreError::invalid("工作类别", "请选择类别"))?;
            let month = Month::parse("月份", &month_s)?;
            s.db.preview_ranking(&u, cat, month, now).await
        }
        .await;
        match r {
            Ok(v) => preview = Some(v),
            Err(e) => error = Some(e.to_string()),
        }
    }
    let settings = s.db.ranking_settings().await.ok();
    let may_rank = u.role == Role::Supervisor
        || categories.iter().any(|c| u.role == Role::Liaison && c.lead_unit_id == Some(u.unit_id));
    let year = q.year.clone().unwrap_or_default();
    render(
        &s,
        if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK },
        "rankings.html",
        Some(&u),
        context! { nav => "rankings", categories => categories, published => published, preview => preview, flash_err => error,
        month => month_s, category_id => q.category_id, may_rank => may_rank, year => year,
        formula_text => settings.as_ref().map(|s| s.formula.describe_zh()),
        formula_summary => settings.as_ref().map(|s| s.formula.summary_zh()), settings => settings },
    )
}

#[derive(Deserialize)]
struct PublishForm {
    category_id: String,
    month: String,
}

async fn publish_submit(State(s): State<AppState>, PageUser(u, _): PageUser, Form(f): Form<PublishForm>) -> Response {
    let r = async {
        let cat: i64 = f.category_id.trim().parse().map_err(|_| StoreError::invalid("工作类别", "请选择类别"))?;
        let month = Month::parse("月份", &f.month)?;
        s.db.publish_ranking(&u, cat, month, s.clock.now()).await
    }
    .await;
    match r {
        Ok(id) => Redirect::to(&format!("/rankings/{id}")).into_response(),
        Err(e) => error_page(&s, Some(&u), &e),
    }
}

async fn settings_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let g = |k: &str| f.get(k).cloned().unwrap_or_default();
    let r = async {
        let settings = RankingSettings {
            formula: ScoreFormula {
                on_time_weight: number("按期办结权重", &g("on_time_weight"))?,
                progress_weight: number("进度达标权重", &g("progress_weight"))?,
                overdue_penalty: number("逾期扣分", &g("overdue_penalty"))?,
                rejection_penalty: number("退回整改扣分", &g("rejection_penalty"))?,
            },
            notice_weights: NoticeWeights {
                praise: number("表扬加分", &g("praise"))?,
                criticism: number("批评扣分", &g("criticism"))?,
                warning: number("预警扣分", &g("warning"))?,
            },
        };
        s.db.save_ranking_settings(&u, &settings, s.clock.now()).await
    }
    .await;
    match r {
        Ok(()) => Redirect::to("/rankings#formula").into_response(),
        Err(e) => error_page(&s, Some(&u), &e),
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

async fn notices_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    notices_with(&s, &u, q.get("ranking_id").and_then(|r| r.parse::<i64>().ok()), None, StatusCode::OK).await
}

async fn notices_with(
    s: &AppState,
    u: &SessionUser,
    ranking_id: Option<i64>,
    flash_err: Option<String>,
    status: StatusCode,
) -> Response {
    let notices = match s.db.list_notices().await {
        Ok(n) => n,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let units = s.db.list_units().await.unwrap_or_default();
    let ranking = match ranking_id {
        Some(r) => s.db.get_ranking(r).await.ok(),
        None => None,
    };
    let kinds: Vec<_> = NoticeKind::ALL.iter().map(|k| context! { code => k.code(), label => k.label_zh() }).collect();
    render(
        s,
        status,
        "notices.html",
        Some(u),
        context! { nav => "notices", notices => notices, units => units, kinds => kinds, ranking => ranking, flash_err => flash_err,
        today => s.clock.now().date().to_string() },
    )
}

async fn notice_submit(State(s): State<AppState>, PageUser(u, _): PageUser, form: crate::forms::Fields) -> Response {
    let get = |k: &str| form.s(k);
    let ranking_id = get("ranking_id").trim().parse::<i64>().ok();
    let targets: Result<Vec<NoticeTarget>, StoreError> = form
        .ids("unit_id", "通报对象")
        .map(|ids| ids.into_iter().map(|unit_id| NoticeTarget { unit_id, person_id: None, task_id: None }).collect());
    let r = async {
        let n = NewNotice {
            kind: get("kind"),
            doc_no: get("doc_no"),
            title: get("title"),
            body: get("body"),
            issued_on: get("issued_on"),
            targets: targets?,
            ranking_id,
        };
        s.db.issue_notice(&u, &n, s.clock.now()).await
    }
    .await;
    match r {
        Ok(id) => Redirect::to(&format!("/notices/{id}")).into_response(),
        Err(e) => {
            let st = crate::error::status_of(&e);
            notices_with(&s, &u, ranking_id, Some(e.to_string()), st).await
        }
    }
}

async fn notice_page(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>) -> Response {
    match s.db.get_notice(id).await {
        Ok(n) => {
            let (files, can_attach) =
                crate::attachments::record_files_for_page(&s, &u, xietong_storage::attachments::Record::Notice(id))
                    .await;
            let ctx = context! { nav => "notices", n => n, files => files, can_attach => can_attach };
            render(&s, StatusCode::OK, "notice.html", Some(&u), ctx)
        }
        Err(e) => error_page(&s, Some(&u), &e),
    }
}

#[derive(Deserialize)]
struct RecordsQ {
    unit_id: Option<String>,
    person_id: Option<String>,
}

async fn records_page(State(s): State<AppState>, PageUser(u, _): PageUser, Query(q): Query<RecordsQ>) -> Response {
    let unit = q.unit_id.as_deref().and_then(|x| x.parse::<i64>().ok());
    let person = q.person_id.as_deref().and_then(|x| x.parse::<i64>().ok());
    let unit = if unit.is_none() && person.is_none() { Some(u.unit_id) } else { unit };
    let recs = match s.db.notice_records(unit, person).await {
        Ok(r) => scoped_records(&u, r),
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    let units = s.db.list_units().await.unwrap_or_default();
    render(
        &s,
        StatusCode::OK,
        "records.html",
        Some(&u),
        context! { nav => "notices", recs => recs, units => units, unit_id => unit, person_id => person },
    )
}

async fn indicators_page(State(s): State<AppState>, PageUser(u, _): PageUser) -> Response {
    match s.db.all_indicators(&u, s.clock.now().date()).await {
        Ok(list) => {
            render(&s, StatusCode::OK, "indicators.html", Some(&u), context! { nav => "indicators", list => list })
        }
        Err(e) => error_page(&s, Some(&u), &e),
    }
}

fn number(field: &str, v: &str) -> Result<f64, StoreError> {
    Ok(xietong_supervision::validate::required_number(field, v)?)
}

async fn indicator_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(task_id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let g = |k: &str| f.get(k).cloned().unwrap_or_default();
    let r = async {
        let n = NewIndicator {
            name: g("name"),
            unit_label: g("unit_label"),
            target: number("目标值", &g("target"))?,
            period_start: g("period_start"),
            period_end: g("period_end"),
        };
        s.db.add_indicator(&u, s.clock.now(), task_id, &n).await
    }
    .await;
    match r {
        Ok(_) => Redirect::to(&format!("/tasks/{task_id}?done=indicator#indicators")).into_response(),
        Err(e) => crate::pages::task_page_error(&s, &u, task_id, e).await,
    }
}

async fn indicator_report_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let g = |k: &str| f.get(k).cloned().unwrap_or_default();
    let r = async {
        let pct = g("reported_percent");
        let pct = if pct.trim().is_empty() {
            None
        } else {
            Some(number("上报完成率", pct.trim().trim_end_matches('%'))?)
        };
        let rep = NewIndicatorReport {
            as_of: g("as_of"),
            actual: number("完成值", &g("actual"))?,
            reported_percent: pct,
            note: g("note"),
            confirm_large: !g("confirm_large").is_empty(),
        };
        s.db.report_indicator(&u, s.clock.now(), id, &rep).await
    }
    .await;
    let task_id = f.get("task_id").and_then(|t| t.parse::<i64>().ok()).unwrap_or(0);
    match r {
        Ok(v) => Redirect::to(&format!("/tasks/{}?done=indicator#indicators", v.task_id)).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::NotFound(_) | StoreError::Internal(_))) => {
            error_page(&s, Some(&u), &e)
        }
        Err(e) if task_id > 0 => {
            // The typed figures come back in the form; an implausible actual brings the checkbox.
            let confirm_large = matches!(&e, StoreError::Invalid(fe) if fe.message.contains(CONFIRM_HINT));
            let kept = ["as_of", "actual", "reported_percent"];
            let fields = f.into_iter().filter(|(k, _)| kept.contains(&k.as_str())).collect();
            let typed = crate::pages::Typed { fields, indicator: Some(id), confirm_large, ..Default::default() };
            let flash = Some((crate::error::status_of(&e), e.to_string()));
            crate::pages::task_page_typed(&s, &u, task_id, None, flash, typed).await
        }
        Err(e) => error_page(&s, Some(&u), &e),
    }
}
