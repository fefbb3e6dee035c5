//! 工作日历 and the supervision rules (escalation, 催办 caps) that run on it (API and page).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use minijinja::context;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_calendar::{DayOverride, parse_date, parse_datetime};
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_supervision::Role;
use xietong_supervision::validate::Checks;

use crate::AppState;
use crate::api::{J, Q};
use crate::auth::{ApiUser, PageUser};
use crate::error::{ApiError, ErrorBody, status_of};
use crate::forms::{Fields, FormView, Unread};
use crate::pages::{error_page, render};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(supervision_rules, save_supervision_rules))
        .routes(routes!(calendar_due))
        .routes(routes!(calendar_days))
        .routes(routes!(set_calendar_day, delete_calendar_day))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/calendar", get(calendar_page))
        .route("/calendar/day", post(calendar_day_submit))
        .route("/calendar/day/delete", post(calendar_day_delete))
        .route("/calendar/office-hours", post(office_hours_submit))
        .route("/calendar/rules", post(rules_submit))
        .route("/calendar/year", post(calendar_year_submit))
}

/// The escalation ladder and the 催办 cap, as the API shows and takes them.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RulesBody {
    pub escalation: xietong_supervision::EscalationRules,
    pub urge: xietong_supervision::UrgeRules,
}

/// 督办规则：黄灯/提醒提前工作日、逾期后通报预警与列入问题台账的工作日、预计逾期提醒天数、每周人工催办上限。
#[utoipa::path(get, path = "/api/rules", tag = "工作日历", responses((status = 200, body = RulesBody), (status = 401, body = ErrorBody)))]
async fn supervision_rules(State(s): State<AppState>, ApiUser(_u, _): ApiUser) -> Result<Json<RulesBody>, ApiError> {
    let r = s.snapshot().rules;
    Ok(Json(RulesBody { escalation: r.escalation, urge: r.urge }))
}

/// 修改督办规则（系统管理员）。立即生效：在办任务的下次检查时间按新规则重算。
#[utoipa::path(put, path = "/api/rules", request_body = RulesBody, tag = "工作日历",
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn save_supervision_rules(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(b): J<RulesBody>,
) -> Result<StatusCode, ApiError> {
    u.actor().may_administer()?;
    let rules = xietong_storage::calendar::Rules { escalation: b.escalation, urge: b.urge };
    s.db.save_rules(&u.username, &rules, s.clock.now()).await?;
    s.settings_changed().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
pub struct DueQuery {
    /// 起算时间 YYYY-MM-DD HH:MM
    pub from: String,
    /// 工作小时数（可为小数）
    pub working_hours: f64,
}

#[derive(Serialize, ToSchema)]
pub struct DueResponse {
    /// YYYY-MM-DD HH:MM
    pub due: String,
    pub provisional: bool,
    pub flag: Option<String>,
}

/// 按工作日历计算到期时间。
#[utoipa::path(get, path = "/api/calendar/due", params(DueQuery), tag = "工作日历",
    responses((status = 200, body = DueResponse), (status = 400, body = ErrorBody)))]
async fn calendar_due(
    State(s): State<AppState>,
    ApiUser(_u, _t): ApiUser,
    Q(q): Q<DueQuery>,
) -> Result<Json<DueResponse>, ApiError> {
    let from = parse_datetime("起算时间", &q.from)?;
    if !(0.0..=100_000.0).contains(&q.working_hours) {
        return Err(StoreError::invalid("工作小时数", "应在 0 到 100000 之间").into());
    }
    let snap = s.snapshot();
    let due = snap.cal.add_working_minutes(from, (q.working_hours * 60.0).round() as i64);
    Ok(Json(DueResponse {
        due: due.value.format("%Y-%m-%d %H:%M").to_string(),
        provisional: due.is_provisional(),
        flag: due.flag_zh(),
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct YearQuery {
    pub year: Option<i32>,
}

#[derive(Serialize, ToSchema)]
pub struct CalendarDay {
    pub date: String,
    pub off: bool,
    pub name: String,
    pub kind_label: String,
}

#[derive(Serialize, ToSchema)]
pub struct CalendarYear {
    pub year: i32,
    /// 是否已发布节假日安排；未发布的年份计算结果为暂定。
    pub published: bool,
    pub office_hours: String,
    pub working_days: i64,
    pub days: Vec<CalendarDay>,
}

pub fn calendar_year(cal: &xietong_calendar::WorkCalendar, year: i32) -> CalendarYear {
    let days = cal
        .overrides()
        .filter(|o| chrono::Datelike::year(&o.date) == year)
        .map(|o| CalendarDay {
            date: o.date.to_string(),
            off: o.off,
            name: o.name.clone(),
            kind_label: cal.day_kind(o.date).label_zh(),
        })
        .collect();
    let start = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
    let end = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default();
    let working_days = cal.working_days_between(start, end).value + i64::from(cal.is_working_day(start));
    CalendarYear {
        year,
        published: cal.is_year_published(year),
        office_hours: cal.office_hours().to_string(),
        working_days,
        days,
    }
}

/// 某年的节假日与调休安排。
#[utoipa::path(get, path = "/api/calendar/days", params(YearQuery), tag = "工作日历", responses((status = 200, body = CalendarYear), (status = 400, body = ErrorBody)))]
async fn calendar_days(
    State(s): State<AppState>,
    ApiUser(_u, _t): ApiUser,
    Q(q): Q<YearQuery>,
) -> Result<Json<CalendarYear>, ApiError> {
    let snap = s.snapshot();
    let year = q.year.unwrap_or_else(|| chrono::Datelike::year(&snap.now.date()));
    if !(2000..=2100).contains(&year) {
        return Err(StoreError::invalid("年份", "应在 2000 到 2100 之间").into());
    }
    Ok(Json(calendar_year(&snap.cal, year)))
}

#[derive(Deserialize, ToSchema)]
pub struct DayBody {
    /// true 放假，false 上班（调休）
    pub off: bool,
    pub name: String,
}

/// 设置某日为放假或调休上班。仅系统管理员。
#[utoipa::path(put, path = "/api/calendar/days/{date}", request_body = DayBody, params(("date" = String, Path, description = "YYYY-MM-DD")), tag = "工作日历",
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn set_calendar_day(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(date): Path<String>,
    J(b): J<DayBody>,
) -> Result<StatusCode, ApiError> {
    u.actor().may_administer()?;
    let date = parse_date("日期", &date)?;
    s.db.set_calendar_day(&u.username, &DayOverride { date, off: b.off, name: b.name }, s.clock.now()).await?;
    s.settings_changed().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 删除某日的特殊安排。仅系统管理员。
#[utoipa::path(delete, path = "/api/calendar/days/{date}", params(("date" = String, Path, description = "YYYY-MM-DD")), tag = "工作日历",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_calendar_day(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(date): Path<String>,
) -> Result<StatusCode, ApiError> {
    u.actor().may_administer()?;
    let date = parse_date("日期", &date)?;
    s.db.remove_calendar_day(&u.username, date, s.clock.now()).await?;
    s.settings_changed().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct CalQuery {
    year: Option<String>,
    ok: Option<String>,
    err: Option<String>,
}

/// The calendar page's forms, one of which may come back refused.
enum CalForm {
    Day,
    OfficeHours,
    Rules,
}

async fn calendar_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    axum::extract::Query(q): axum::extract::Query<CalQuery>,
) -> Response {
    let year = match q.year.as_deref().filter(|y| !y.is_empty()) {
        Some(y) => match y.parse::<i32>() {
            Ok(y) if (2000..=2100).contains(&y) => y,
            _ => return error_page(&s, Some(&u), &StoreError::invalid("年份", "应为 2000 到 2100 之间的整数")),
        },
        None => chrono::Datelike::year(&s.snapshot().now.date()),
    };
    calendar_with(&s, &u, year, StatusCode::OK, (q.ok, q.err), None)
}

/// The page for `year`, with a refused form (its values and every error beside its field) if any.
fn calendar_with(
    s: &AppState,
    u: &SessionUser,
    year: i32,
    status: StatusCode,
    (flash_ok, flash_err): (Option<String>, Option<String>),
    refused: Option<(CalForm, FormView)>,
) -> Response {
    let snap = s.snapshot();
    let cy = calendar_year(&snap.cal, year);
    let fresh = || FormView::fresh(Fields::default());
    let (mut fd, mut fo, mut fr) = (fresh(), fresh(), fresh());
    match refused {
        Some((CalForm::Day, f)) => fd = f,
        Some((CalForm::OfficeHours, f)) => fo = f,
        Some((CalForm::Rules, f)) => fr = f,
        None => {}
    }
    render(
        s,
        status,
        "calendar.html",
        Some(u),
        context! { nav => "calendar", cy => cy, year => year, months => crate::views::calendar_months(&snap.cal, year),
        prev => year - 1, next => year + 1, can_edit => u.role == Role::Admin, rules => snap.rules.as_ref().clone(),
        published_years => snap.cal.published_years().iter().copied().collect::<Vec<_>>(), flash_ok => flash_ok,
        flash_err => flash_err, fd => fd.value(), fo => fo.value(), fr => fr.value() },
    )
}

/// After a calendar form: the page of the year it belongs to, with a message; a refused form
/// comes back with what was typed and every error beside its field.
fn after_calendar_form(
    s: &AppState,
    u: &SessionUser,
    year: &str,
    r: Result<(), StoreError>,
    ok: &str,
    refused: (CalForm, Fields),
) -> Response {
    let page_year = year.trim().parse::<i32>().ok().filter(|y| (2000..=2100).contains(y));
    match r {
        Ok(()) => Redirect::to(&crate::pages::with_query("/calendar", &[("year", year), ("ok", ok)])).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_))) => error_page(s, Some(u), &e),
        Err(e) => {
            let year = page_year.unwrap_or_else(|| chrono::Datelike::year(&s.snapshot().now.date()));
            let (which, f) = refused;
            calendar_with(
                s,
                u,
                year,
                status_of(&e),
                (None, FormView::flash(&e)),
                Some((which, FormView::refused(f, &e))),
            )
        }
    }
}

async fn calendar_day_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    if let Err(e) = u.actor().may_administer() {
        return error_page(&s, Some(&u), &e.into());
    }
    let date = f.trimmed("date");
    let r = async {
        let mut c = Checks::new();
        let day = c.take(xietong_supervision::validate::date("日期", &date));
        c.take(xietong_supervision::validate::required_text("名称", &f.s("name"), 32));
        if !matches!(f.s("off").as_str(), "0" | "1") {
            c.fail("安排", "请选择放假或调休上班");
        }
        let day = c.done(|| day)?;
        let o = DayOverride { date: day, off: f.s("off") == "1", name: f.s("name") };
        s.db.set_calendar_day(&u.username, &o, s.clock.now()).await?;
        s.settings_changed().await
    }
    .await;
    let year = date.get(0..4).map(str::to_string).unwrap_or_else(|| f.s("year"));
    after_calendar_form(&s, &u, &year, r, "已保存", (CalForm::Day, f))
}

async fn calendar_day_delete(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    if let Err(e) = u.actor().may_administer() {
        return error_page(&s, Some(&u), &e.into());
    }
    let date = f.trimmed("date");
    let r = async {
        let date = xietong_calendar::parse_date("日期", &date)?;
        s.db.remove_calendar_day(&u.username, date, s.clock.now()).await?;
        s.settings_changed().await
    }
    .await;
    let year = date.get(0..4).unwrap_or("").to_string();
    after_calendar_form(&s, &u, &year, r, "已删除", (CalForm::Day, Fields::default()))
}

async fn office_hours_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    if let Err(e) = u.actor().may_administer() {
        return error_page(&s, Some(&u), &e.into());
    }
    let r = async {
        s.db.set_office_hours(&u.username, &f.s("spec"), s.clock.now()).await?;
        s.settings_changed().await
    }
    .await;
    after_calendar_form(&s, &u, &f.s("year"), r, "办公时间已保存", (CalForm::OfficeHours, f))
}

/// 督办规则 from the calendar page; takes effect at once (next check times recomputed).
async fn rules_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    if let Err(e) = u.actor().may_administer() {
        return error_page(&s, Some(&u), &e.into());
    }
    let r = async {
        let mut unread = Unread::default();
        let mut int = |k: &str, label: &str| unread.required_int(&f, k, label);
        let rules = xietong_storage::calendar::Rules {
            escalation: xietong_supervision::EscalationRules {
                yellow_working_days: int("yellow_working_days", "黄灯提前工作日"),
                notice_after_working_days: int("notice_after_working_days", "逾期后通报预警工作日"),
                ledger_after_working_days: int("ledger_after_working_days", "逾期后列入问题台账工作日"),
                forecast_late_days: int("forecast_late_days", "预计逾期提醒天数"),
            },
            urge: xietong_supervision::UrgeRules { cap_per_week: int("cap_per_week", "每周催办上限") },
        };
        rules.check(Checks::with(unread.0))?;
        s.db.save_rules(&u.username, &rules, s.clock.now()).await?;
        s.settings_changed().await
    }
    .await;
    let ok = "督办规则已保存，已按新规则重算在办任务的检查时间";
    after_calendar_form(&s, &u, &f.s("year"), r, ok, (CalForm::Rules, f))
}

async fn calendar_year_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    if let Err(e) = u.actor().may_administer() {
        return error_page(&s, Some(&u), &e.into());
    }
    let r = async {
        let y: i32 = f.trimmed("year").parse().map_err(|_| StoreError::invalid("年份", "应为整数"))?;
        s.db.set_year_published(&u.username, y, f.s("published") == "1", s.clock.now()).await?;
        s.settings_changed().await
    }
    .await;
    after_calendar_form(&s, &u, &f.s("year"), r, "已更新", (CalForm::Day, Fields::default()))
}
