//! 历练 (issue 18): the 组织部's 专班, 调训, 挂职 and 一线 records — API and pages — with the year's
//! totals drillable to the people, and the figures the district reported (上报数) beside the
//! records' (在库数).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_cadres::experience::{ASSESSMENTS, ExperienceKind};
use xietong_storage::StoreError;
use xietong_storage::attachments::Record;
use xietong_storage::auth::SessionUser;
use xietong_storage::cadres::experiences::{Experience, ExperienceInput, ExperienceTotals, MemberInput};
use xietong_storage::cadres::roster::{ReportFigure, ReportedInput, recent_years};

use crate::AppState;
use crate::api::J;
use crate::auth::{ApiUser, PageUser};
use crate::error::{ApiError, ErrorBody, status_of};
use crate::forms::{Fields, FormView};
use crate::pages::{error_page, render, with_query};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_list, api_create))
        .routes(routes!(api_totals))
        .routes(routes!(api_experience, api_update))
        .routes(routes!(api_add_member))
        .routes(routes!(api_assess, api_remove_member))
        .routes(routes!(api_link_task))
        .routes(routes!(api_figures))
        .routes(routes!(api_set_figures))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/cadres/experiences", get(list_page).post(create_submit))
        .route("/cadres/experiences/{id}", get(detail_page).post(update_submit))
        .route("/cadres/experiences/{id}/members", post(member_submit))
        .route("/cadres/experiences/{id}/members/{person}/assess", post(assess_submit))
        .route("/cadres/experiences/{id}/members/{person}/remove", post(remove_submit))
        .route("/cadres/experiences/{id}/tasks", post(task_submit))
        .route("/cadres/figures/{year}", post(figures_submit))
}

#[derive(Deserialize, IntoParams)]
pub struct ExperienceQuery {
    /// 年度（记录在该年内任一天进行即计入）
    pub year: Option<i32>,
    /// task_force 工作专班 / training 调训 / secondment 挂职 / frontline 一线历练
    pub kind: Option<String>,
}

pub(super) fn kind_of(code: Option<&str>) -> Result<Option<ExperienceKind>, StoreError> {
    match code.map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) => ExperienceKind::from_code(c)
            .map(Some)
            .ok_or_else(|| StoreError::invalid("历练类别", "应为 task_force、training、secondment 或 frontline")),
    }
}

/// 历练记录（工作专班、调训、挂职、一线历练），可按年度和类别筛选（仅组织部）。
#[utoipa::path(get, path = "/api/experiences", params(ExperienceQuery), tag = "干部",
    responses((status = 200, body = Vec<Experience>), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
async fn api_list(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Query(q): Query<ExperienceQuery>,
) -> Result<Json<Vec<Experience>>, ApiError> {
    Ok(Json(s.db.experiences(&u, q.year, kind_of(q.kind.as_deref())?).await?))
}

/// 新建历练记录。结束日期早于开始日期、调训不填学时等一并指出字段。
#[utoipa::path(post, path = "/api/experiences", request_body = ExperienceInput, tag = "干部",
    responses((status = 201, body = Experience), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn api_create(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(b): J<ExperienceInput>,
) -> Result<(StatusCode, Json<Experience>), ApiError> {
    Ok((StatusCode::CREATED, Json(s.db.save_experience(&u, None, &b, s.clock.now()).await?)))
}

#[derive(Deserialize, IntoParams)]
pub struct YearQuery {
    /// 年度，默认今年
    pub year: Option<i32>,
}

/// 年度历练合计：各类记录数、人次、人数、调训学时（数据范围内的人员）。
#[utoipa::path(get, path = "/api/experiences/totals", params(YearQuery), tag = "干部",
    responses((status = 200, body = ExperienceTotals), (status = 403, body = ErrorBody)))]
async fn api_totals(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Query(q): Query<YearQuery>,
) -> Result<Json<ExperienceTotals>, ApiError> {
    let year = q.year.unwrap_or(chrono::Datelike::year(&s.clock.now()));
    Ok(Json(s.db.experience_totals(&u, year).await?))
}

/// 一条历练记录，含成员（数据范围内）和关联的督办任务。
#[utoipa::path(get, path = "/api/experiences/{id}", params(("id" = i64, Path, description = "历练记录编号")), tag = "干部",
    responses((status = 200, body = Experience), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn api_experience(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Experience>, ApiError> {
    Ok(Json(s.db.experience(&u, id).await?))
}

/// 修改历练记录（须带读取时的 version，过期则 409；类别不能改）。
#[utoipa::path(put, path = "/api/experiences/{id}", params(("id" = i64, Path, description = "历练记录编号")),
    request_body = ExperienceInput, tag = "干部",
    responses((status = 200, body = Experience), (status = 400, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn api_update(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    J(b): J<ExperienceInput>,
) -> Result<Json<Experience>, ApiError> {
    Ok(Json(s.db.save_experience(&u, Some(id), &b, s.clock.now()).await?))
}

/// 加入成员（同一人只能加入一次，重复为 409）。
#[utoipa::path(post, path = "/api/experiences/{id}/members", params(("id" = i64, Path, description = "历练记录编号")),
    request_body = MemberInput, tag = "干部",
    responses((status = 200, body = Experience), (status = 400, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn api_add_member(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    J(b): J<MemberInput>,
) -> Result<Json<Experience>, ApiError> {
    Ok(Json(s.db.add_experience_member(&u, id, &b, s.clock.now()).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct Assessment {
    /// 优秀、称职、基本称职、不称职
    pub assessment: String,
}

/// 记录挂职人员的考核等次。
#[utoipa::path(put, path = "/api/experiences/{id}/members/{person_id}", tag = "干部", request_body = Assessment,
    params(("id" = i64, Path, description = "历练记录编号"), ("person_id" = i64, Path, description = "人员编号")),
    responses((status = 200, body = Experience), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody)))]
async fn api_assess(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path((id, person_id)): Path<(i64, i64)>,
    J(b): J<Assessment>,
) -> Result<Json<Experience>, ApiError> {
    let m = MemberInput { person_id, assessment: b.assessment, ..Default::default() };
    Ok(Json(s.db.assess_member(&u, id, &m, s.clock.now()).await?))
}

/// 移出成员（审计日志保留其曾在该记录中）。
#[utoipa::path(delete, path = "/api/experiences/{id}/members/{person_id}", tag = "干部",
    params(("id" = i64, Path, description = "历练记录编号"), ("person_id" = i64, Path, description = "人员编号")),
    responses((status = 200, body = Experience), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, body = ErrorBody)))]
async fn api_remove_member(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path((id, person_id)): Path<(i64, i64)>,
) -> Result<Json<Experience>, ApiError> {
    Ok(Json(s.db.remove_experience_member(&u, id, person_id, s.clock.now()).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct TaskLink {
    /// 督办任务的编号、文号或名称
    pub task: String,
}

/// 为工作专班关联督办任务（按编号、文号或名称）。
#[utoipa::path(post, path = "/api/experiences/{id}/tasks", params(("id" = i64, Path, description = "历练记录编号")),
    request_body = TaskLink, tag = "干部", responses((status = 200, body = Experience), (status = 400, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn api_link_task(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    J(b): J<TaskLink>,
) -> Result<Json<Experience>, ApiError> {
    Ok(Json(s.db.link_experience_task(&u, id, &b.task, s.clock.now()).await?))
}

/// 年度上报数与在库数对照（引进、专班、调训、一线、挂职）。
#[utoipa::path(get, path = "/api/cadres/figures", params(YearQuery), tag = "干部",
    responses((status = 200, body = Vec<ReportFigure>), (status = 403, body = ErrorBody)))]
async fn api_figures(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Query(q): Query<YearQuery>,
) -> Result<Json<Vec<ReportFigure>>, ApiError> {
    let year = q.year.unwrap_or(chrono::Datelike::year(&s.clock.now()));
    Ok(Json(s.db.report_figures(&u, year, s.clock.now().date()).await?))
}

/// 填报某年度的上报数（未列出的指标视为未填）。
#[utoipa::path(put, path = "/api/cadres/figures/{year}", params(("year" = i32, Path, description = "年度")),
    request_body = ReportedInput, tag = "干部",
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn api_set_figures(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(year): Path<i32>,
    J(b): J<ReportedInput>,
) -> Result<StatusCode, ApiError> {
    s.db.set_reported_figures(&u, year, &b, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- pages ----

fn input_of(f: &Fields) -> Result<ExperienceInput, StoreError> {
    Ok(ExperienceInput {
        kind: f.s("kind"),
        name: f.s("name"),
        place: f.s("place"),
        purpose: f.s("purpose"),
        hours: f.num("hours", "学时")?,
        started_on: f.s("started_on"),
        ended_on: f.s("ended_on"),
        version: f.trimmed("version").parse().ok(),
    })
}

fn kinds() -> Vec<minijinja::Value> {
    ExperienceKind::ALL
        .iter()
        .map(|k| context! { code => k.code(), label => k.label_zh(), name => k.name_label(), place => k.place_label() })
        .collect()
}

async fn list_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    axum::extract::Query(q): crate::forms::RawQuery,
) -> Response {
    let get = |k: &str| q.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let year = get("year").parse().ok();
    let view =
        ListView { year, kind: get("kind"), ok: Some(get("ok")).filter(|o| !o.is_empty()), ..Default::default() };
    list_view(&s, &u, view).await
}

#[derive(Default)]
struct ListView {
    year: Option<i32>,
    kind: String,
    ok: Option<String>,
    status: Option<StatusCode>,
    error: Option<String>,
    form: FormView,
}

async fn list_view(s: &AppState, u: &SessionUser, v: ListView) -> Response {
    let now = s.clock.now();
    let year = v.year.unwrap_or(chrono::Datelike::year(&now));
    let r = async {
        let kind = kind_of(Some(&v.kind))?;
        let list = s.db.experiences(u, Some(year), kind).await?;
        let totals = s.db.experience_totals(u, year).await?;
        let figures = s.db.report_figures(u, year, now.date()).await?;
        let people = match kind {
            Some(k) => s.db.experience_people(u, year, k).await?,
            None => vec![],
        };
        Ok::<_, StoreError>((kind, list, totals, figures, people))
    };
    match r.await {
        Ok((kind, list, totals, figures, people)) => {
            let people: Vec<_> =
                people.into_iter().map(|(m, records)| context! { m => m, records => records.join("、") }).collect();
            render(
                s,
                v.status.unwrap_or(StatusCode::OK),
                "experiences.html",
                Some(u),
                context! { nav => "experiences", year => year, years => recent_years(now),
                kind => kind.map(|k| k.code()),
                kind_label => kind.map(|k| k.label_zh()), list => list, totals => totals.kinds, figures => figures,
                people => people, kinds => kinds(), ok => v.ok, error => v.error, f => v.form.value() },
            )
        }
        Err(e) => error_page(s, Some(u), &e),
    }
}

/// A refusal on the list page: the typed record kept beside its fields.
async fn list_refused(s: &AppState, u: &SessionUser, year: Option<i32>, f: Fields, e: StoreError) -> Response {
    if matches!(e, StoreError::Denied(_) | StoreError::NotFound(_) | StoreError::Internal(_)) {
        return error_page(s, Some(u), &e);
    }
    let form = FormView::refused(f, &e);
    let view = ListView { year, status: Some(status_of(&e)), error: Some(e.to_string()), form, ..Default::default() };
    list_view(s, u, view).await
}

async fn create_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    let r = async { s.db.save_experience(&u, None, &input_of(&f)?, s.clock.now()).await };
    match r.await {
        Ok(e) => Redirect::to(&with_query(&format!("/cadres/experiences/{}", e.id), &[("ok", "历练记录已建立")]))
            .into_response(),
        Err(e) => list_refused(&s, &u, None, f, e).await,
    }
}

async fn figures_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(year): Path<i32>,
    f: Fields,
) -> Response {
    let r = async {
        let mut unread = crate::forms::Unread::default();
        let mut figures = std::collections::BTreeMap::new();
        for (key, label, _) in xietong_storage::cadres::roster::FIGURES {
            if let Some(v) = unread.num(&f, key, label) {
                figures.insert(key.to_string(), v);
            }
        }
        if !unread.0.is_empty() {
            return Err(StoreError::Fields(xietong_supervision::validate::FieldErrors(unread.0)));
        }
        s.db.set_reported_figures(&u, year, &ReportedInput { figures }, s.clock.now()).await
    };
    match r.await {
        Ok(()) => {
            let back = with_query("/cadres/experiences", &[("year", &year.to_string()), ("ok", "上报数已保存")]);
            Redirect::to(&format!("{back}#figures")).into_response()
        }
        Err(e) => list_refused(&s, &u, Some(year), f, e).await,
    }
}

async fn detail_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    axum::extract::Query(q): crate::forms::RawQuery,
) -> Response {
    let ok = q.iter().find(|(k, _)| k == "ok").map(|(_, v)| v.clone());
    detail_view(&s, &u, id, (StatusCode::OK, ok, None), FormView::default()).await
}

async fn detail_view(
    s: &AppState,
    u: &SessionUser,
    id: i64,
    (status, ok, error): (StatusCode, Option<String>, Option<String>),
    form: FormView,
) -> Response {
    let now = s.clock.now();
    let r = async { Ok::<_, StoreError>((s.db.experience(u, id).await?, s.db.cadres(u, None, now.date()).await?)) };
    match r.await {
        Ok((e, people)) => {
            let (files, can_attach) = crate::attachments::record_files_for_page(s, u, Record::Experience(id)).await;
            let on: std::collections::HashSet<i64> = e.members.iter().map(|m| m.person_id).collect();
            let people: Vec<_> = people
                .iter()
                .filter(|p| !on.contains(&p.person_id))
                .map(|p| context! { id => p.person_id, label => format!("{}（{} {}）", p.name, p.unit_name, p.post) })
                .collect();
            let k = e.kind;
            render(
                s,
                status,
                "experience.html",
                Some(u),
                context! { nav => "experiences", e => e, people => people, files => files, can_attach => can_attach,
                name_label => k.name_label(), place_label => k.place_label(), assessments => ASSESSMENTS,
                secondment => k == ExperienceKind::Secondment, task_force => k == ExperienceKind::TaskForce,
                training => k == ExperienceKind::Training, ok => ok, error => error, f => form.value() },
            )
        }
        Err(e) => error_page(s, Some(u), &e),
    }
}

/// A refusal on the record's page: the message, and what was typed kept beside its fields.
async fn detail_refused(s: &AppState, u: &SessionUser, id: i64, f: Fields, e: StoreError) -> Response {
    if matches!(e, StoreError::Denied(_) | StoreError::NotFound(_) | StoreError::Internal(_)) {
        return error_page(s, Some(u), &e);
    }
    let form = FormView::refused(f, &e);
    detail_view(s, u, id, (status_of(&e), None, Some(e.to_string())), form).await
}

fn back(id: i64, ok: &str) -> Response {
    Redirect::to(&with_query(&format!("/cadres/experiences/{id}"), &[("ok", ok)])).into_response()
}

async fn update_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    f: Fields,
) -> Response {
    let r = async { s.db.save_experience(&u, Some(id), &input_of(&f)?, s.clock.now()).await };
    match r.await {
        Ok(_) => back(id, "历练记录已保存"),
        Err(e) => detail_refused(&s, &u, id, f, e).await,
    }
}

async fn member_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    f: Fields,
) -> Response {
    let r = async {
        let person_id = f.id("person_id", "人员")?.ok_or_else(|| StoreError::invalid("人员", "请选择人员"))?;
        let m = MemberInput { person_id, duty: f.s("duty"), assessment: f.s("assessment") };
        s.db.add_experience_member(&u, id, &m, s.clock.now()).await
    };
    match r.await {
        Ok(_) => back(id, "已加入成员"),
        Err(e) => detail_refused(&s, &u, id, f, e).await,
    }
}

async fn assess_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path((id, person_id)): Path<(i64, i64)>,
    f: Fields,
) -> Response {
    let m = MemberInput { person_id, assessment: f.s("assessment"), ..Default::default() };
    match s.db.assess_member(&u, id, &m, s.clock.now()).await {
        Ok(_) => back(id, "考核等次已记录"),
        Err(e) => detail_refused(&s, &u, id, f, e).await,
    }
}

async fn remove_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path((id, person_id)): Path<(i64, i64)>,
    f: Fields,
) -> Response {
    match s.db.remove_experience_member(&u, id, person_id, s.clock.now()).await {
        Ok(_) => back(id, "已移出成员"),
        Err(e) => detail_refused(&s, &u, id, f, e).await,
    }
}

async fn task_submit(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>, f: Fields) -> Response {
    match s.db.link_experience_task(&u, id, &f.s("task"), s.clock.now()).await {
        Ok(_) => back(id, "已关联督办任务"),
        Err(e) => detail_refused(&s, &u, id, f, e).await,
    }
}
