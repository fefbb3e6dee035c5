//! 数值指标 of tasks and their reports (时间过半、任务过半) (API and pages).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_storage::StoreError;
use xietong_storage::indicators::{IndicatorView, NewIndicator, NewIndicatorReport, PlanChange};
use xietong_supervision::indicators::CONFIRM_HINT;

use crate::AppState;
use crate::api::{Created, J};
use crate::auth::{ApiUser, PageUser};
use crate::error::{ApiError, ErrorBody};
use crate::pages::{error_page, render};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(task_indicators, add_indicator))
        .routes(routes!(report_indicator))
        .routes(routes!(set_indicator_plan))
        .routes(routes!(all_indicators))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/indicators", get(indicators_page))
        .route("/tasks/{id}/indicators", post(indicator_submit))
        .route("/indicators/{id}/reports", post(indicator_report_submit))
        .route("/indicators/{id}/plan", post(indicator_plan_submit))
}

/// 任务的数值指标（目标、上报值、完成率与时间进度）。
#[utoipa::path(get, path = "/api/tasks/{id}/indicators", params(("id" = i64, Path, description = "任务编号")), tag = "指标",
    responses((status = 200, body = Vec<IndicatorView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn task_indicators(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<IndicatorView>>, ApiError> {
    Ok(Json(s.db.task_indicators(&u, id, s.clock.now()).await?))
}

/// 为任务设置数值指标（督查局或牵头/配合单位联络员）。
#[utoipa::path(post, path = "/api/tasks/{id}/indicators", params(("id" = i64, Path, description = "任务编号")), request_body = NewIndicator, tag = "指标",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn add_indicator(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    J(n): J<NewIndicator>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = s.db.add_indicator(&u, s.clock.now(), id, &n).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// 上报指标完成值；系统按数据重算完成率，并标出与上报百分比不符之处。
#[utoipa::path(post, path = "/api/indicators/{id}/reports", params(("id" = i64, Path, description = "指标编号")), request_body = NewIndicatorReport, tag = "指标",
    responses((status = 200, body = IndicatorView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn report_indicator(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    J(r): J<NewIndicatorReport>,
) -> Result<Json<IndicatorView>, ApiError> {
    Ok(Json(s.db.report_indicator(&u, s.clock.now(), id, &r).await?))
}

/// 修改指标的分期计划（如季节性的累计进度节点；空表示按时间均匀推进）。须带上读取时的 version，过期则 409。
#[utoipa::path(put, path = "/api/indicators/{id}/plan", params(("id" = i64, Path, description = "指标编号")), request_body = PlanChange, tag = "指标",
    responses((status = 200, body = IndicatorView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn set_indicator_plan(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    J(c): J<PlanChange>,
) -> Result<Json<IndicatorView>, ApiError> {
    Ok(Json(s.db.set_indicator_plan(&u, s.clock.now(), id, &c).await?))
}

/// 数据范围内的全部指标（“时间过半、任务过半”核查）。
#[utoipa::path(get, path = "/api/indicators", tag = "指标", responses((status = 200, body = Vec<IndicatorView>), (status = 401, body = ErrorBody)))]
async fn all_indicators(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
) -> Result<Json<Vec<IndicatorView>>, ApiError> {
    Ok(Json(s.db.all_indicators(&u, s.clock.now().date()).await?))
}

async fn indicators_page(State(s): State<AppState>, PageUser(u, _): PageUser) -> Response {
    let today = s.clock.now().date();
    match s.db.all_indicators(&u, today).await {
        Ok(list) => {
            let mut rows: Vec<_> = list.into_iter().map(|i| trajectory_row(i, today)).collect();
            // The lagging ones first, then those whose pace falls short, then the rest.
            rows.sort_by_key(|(i, t, _)| (!i.status.lagging, !t.at_risk));
            let list: Vec<_> =
                rows.into_iter().map(|(i, t, chart)| context! { i => i, t => t, chart => chart }).collect();
            render(&s, StatusCode::OK, "indicators.html", Some(&u), context! { nav => "indicators", list => list })
        }
        Err(e) => crate::pages::error_page(&s, Some(&u), &e),
    }
}

/// An indicator, its trajectory, and the chart's coordinates (a 240 × 64 box; the top is 120 % of
/// the target).
fn trajectory_row(
    i: IndicatorView,
    today: chrono::NaiveDate,
) -> (IndicatorView, xietong_supervision::indicators::Trajectory, minijinja::Value) {
    use xietong_supervision::indicators::{time_progress, trajectory};
    let t = trajectory(&i.domain(), &i.domain_reports());
    let (w, h) = (240.0, 64.0);
    let px = |(x, y): (f64, f64)| format!("{:.1},{:.1}", x / 100.0 * w, h - y / 120.0 * h);
    let actual: Vec<String> = t.actual.iter().map(|p| px(*p)).collect();
    let chart = minijinja::context! {
        planned => t.planned.iter().map(|p| px(*p)).collect::<Vec<_>>().join(" "),
        target_y => format!("{:.1}", h - 100.0 / 120.0 * h),
        actual => actual.join(" "),
        last => actual.last().cloned(),
        forecast => t.forecast.map(|(a, b)| format!("{} {}", px(a), px(b))),
        today_x => format!("{:.1}", time_progress(i.period_start, i.period_end, today) / 100.0 * w),
    };
    (i, t, chart)
}

pub(crate) fn number(field: &str, v: &str) -> Result<f64, StoreError> {
    Ok(xietong_supervision::validate::required_number(field, v)?)
}

/// The task page's 「添加指标」 form, as [`crate::tasks::detail::Typed::action`].
pub(crate) const ADD_INDICATOR: &str = "add_indicator";

async fn indicator_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(task_id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let g = |k: &str| f.get(k).cloned().unwrap_or_default();
    // A target or plan that cannot be read is answered with every other field's error.
    let mut pre = vec![];
    let target = number("目标值", &g("target")).unwrap_or_else(|e| {
        pre.extend(e.field_errors());
        0.0
    });
    let plan = xietong_supervision::indicators::parse_plan(&g("plan")).unwrap_or_else(|e| {
        pre.push(e);
        vec![]
    });
    let n = NewIndicator {
        name: g("name"),
        unit_label: g("unit_label"),
        target,
        period_start: g("period_start"),
        period_end: g("period_end"),
        plan,
    };
    match s.db.add_indicator_from_form(&u, s.clock.now(), task_id, &n, pre).await {
        Ok(_) => Redirect::to(&format!("/tasks/{task_id}?done=indicator#indicators")).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::NotFound(_) | StoreError::Internal(_))) => {
            error_page(&s, Some(&u), &e)
        }
        Err(e) => {
            // The form as typed, each error beside its field.
            let kept = ["name", "target", "unit_label", "period_start", "period_end", "plan"];
            let fields = f.into_iter().filter(|(k, _)| kept.contains(&k.as_str())).collect();
            let typed = crate::tasks::detail::Typed {
                action: ADD_INDICATOR.into(),
                fields,
                errors: e.field_errors(),
                ..Default::default()
            };
            let flash = Some((crate::error::status_of(&e), e.to_string()));
            crate::tasks::detail::task_page_typed(&s, &u, task_id, None, flash, typed).await
        }
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
    after_indicator_form(&s, &u, r, task_id, "indicator", |e| {
        // The typed figures come back in the form; an implausible actual brings the checkbox.
        let confirm_large = matches!(e, StoreError::Invalid(fe) if fe.message.contains(CONFIRM_HINT));
        let kept = ["as_of", "actual", "reported_percent"];
        let fields = f.into_iter().filter(|(k, _)| kept.contains(&k.as_str())).collect();
        crate::tasks::detail::Typed { fields, indicator: Some(id), confirm_large, ..Default::default() }
    })
    .await
}

/// The task page's 分期计划 form of one indicator: the plan as typed and the version it was shown at.
async fn indicator_plan_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let g = |k: &str| f.get(k).cloned().unwrap_or_default();
    let r = async {
        let plan = xietong_supervision::indicators::parse_plan(&g("plan"))?;
        let version = g("version").trim().parse().map_err(|_| StoreError::invalid("版本", "页面已过期，请刷新"))?;
        s.db.set_indicator_plan(&u, s.clock.now(), id, &PlanChange { plan, version }).await
    }
    .await;
    let task_id = f.get("task_id").and_then(|t| t.parse::<i64>().ok()).unwrap_or(0);
    after_indicator_form(&s, &u, r, task_id, "indicator_plan", |e| {
        // What was typed comes back beside the indicator, with the reason.
        let fields = f.into_iter().filter(|(k, _)| k == "plan").collect();
        crate::tasks::detail::Typed { fields, plan_indicator: Some(id), errors: e.field_errors(), ..Default::default() }
    })
    .await
}

/// After an indicator's form on the task page: back to the task with what was done, or the task
/// page again with the refusal and what was typed (`typed`); a refusal of the person or a form
/// without its task is the error page.
async fn after_indicator_form(
    s: &AppState,
    u: &xietong_storage::auth::SessionUser,
    r: Result<IndicatorView, StoreError>,
    task_id: i64,
    done: &str,
    typed: impl FnOnce(&StoreError) -> crate::tasks::detail::Typed,
) -> Response {
    match r {
        Ok(v) => Redirect::to(&format!("/tasks/{}?done={done}#indicators", v.task_id)).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::NotFound(_) | StoreError::Internal(_))) => {
            error_page(s, Some(u), &e)
        }
        Err(e) if task_id > 0 => {
            let typed = typed(&e);
            let flash = Some((crate::error::status_of(&e), e.to_string()));
            crate::tasks::detail::task_page_typed(s, u, task_id, None, flash, typed).await
        }
        Err(e) => error_page(s, Some(u), &e),
    }
}
