//! The JSON API. Every route is declared with `utoipa::path` and registered through
//! `OpenApiRouter`, so the OpenAPI document at /api/openapi.json cannot miss a route.

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::{StatusCode, request::Parts};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_calendar::{DayOverride, parse_date, parse_datetime};
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::org::{Category, Person, Unit, UserRow};
use xietong_storage::tasks::{Command, NewSubtask, NewTask, TaskFilter};

use crate::AppState;
use crate::auth::{ApiUser, ClientAddr};
use crate::error::{ApiError, ErrorBody};
use crate::views::{TaskRow, TaskView, task_row, task_view};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "协同 Xietong API",
        description = "督查督办与政校企产学研对接平台 JSON API。登录后以 `Authorization: Bearer <token>` 调用；浏览器会话调用写操作需带 `X-CSRF-Token`。"
    ),
    components(schemas(ErrorBody))
)]
pub struct ApiDoc;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(login, logout))
        .routes(routes!(change_password))
        .routes(routes!(logout_everywhere))
        .routes(routes!(online))
        .routes(routes!(force_logout))
        .routes(routes!(security_settings, save_security_settings))
        .routes(routes!(supervision_rules, save_supervision_rules))
        .routes(routes!(data_scopes))
        .routes(routes!(save_data_scope))
        .routes(routes!(me))
        .routes(routes!(todo))
        .routes(routes!(todo_records))
        .routes(routes!(list_tasks, create_task))
        .routes(routes!(get_task))
        .routes(routes!(act))
        .routes(routes!(units, create_unit))
        .routes(routes!(people, create_person))
        .routes(routes!(categories))
        .routes(routes!(calendar_due))
        .routes(routes!(calendar_days))
        .routes(routes!(set_calendar_day, delete_calendar_day))
        .routes(routes!(audit_verify))
        .routes(routes!(audit_purge))
        .routes(routes!(export_login_log))
        .routes(routes!(export_audit_log))
        .routes(routes!(list_users, create_user))
        .routes(routes!(reset_password))
        .routes(routes!(set_user_active))
        .merge(crate::outcomes_api::router())
        .merge(crate::office_api::router())
        .merge(crate::projects_api::router())
        .merge(crate::coordination_api::router())
        .merge(crate::docking_api::router())
        .merge(crate::docking_stats::api_router())
        .merge(crate::enterprises::api_router())
        .merge(crate::tasks::api_router())
        .merge(crate::notices::api_router())
}

/// JSON body extractor whose rejections are Chinese 400s naming the field when serde can.
pub struct J<T>(pub T);

fn translate_serde(msg: &str) -> String {
    if let Some(rest) = msg.split("missing field `").nth(1) {
        let field = rest.split('`').next().unwrap_or("");
        return format!("缺少字段「{field}」");
    }
    if let Some(rest) = msg.split("unknown field `").nth(1) {
        let field = rest.split('`').next().unwrap_or("");
        return format!("不认识的字段「{field}」");
    }
    if msg.contains("invalid type") || msg.contains("invalid value") || msg.contains("invalid digit") {
        let path = msg.split(':').next().unwrap_or("");
        return format!("字段类型错误（{path}）");
    }
    "请求格式错误".into()
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for J<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(J(v)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError(StoreError::TooLarge(crate::error::too_large_message(crate::error::BODY_LIMIT))))
            }
            Err(e) => Err(ApiError(StoreError::BadInput(format!(
                "请求体不是有效的 JSON：{}",
                translate_serde(&e.body_text())
            )))),
        }
    }
}

/// Query-string extractor with Chinese 400s.
pub struct Q<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Q(v)),
            Err(e) => Err(ApiError(StoreError::BadInput(format!("查询参数错误：{}", translate_serde(&e.body_text()))))),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub csrf_token: String,
    pub user: SessionUser,
}

/// 登录，返回会话令牌。同一账号在同一地址连续密码错误达到设定次数（默认 5 次）即锁定该账号在该地址的
/// 登录（默认 15 分钟），其他地址不受影响；同一账号 60 分钟内各地址合计错误 50 次才对所有地址锁定，并通知
/// 本人和安全管理员。不存在的用户名得到同样的答复。同一地址每分钟的登录尝试有上限（默认 30 次）。
/// 初始密码须先修改（`user.must_change_password`）。
#[utoipa::path(post, path = "/api/session", request_body = LoginRequest, tag = "会话",
    responses((status = 200, body = LoginResponse), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(
    State(s): State<AppState>,
    ClientAddr(addr): ClientAddr,
    J(b): J<LoginRequest>,
) -> Result<Json<LoginResponse>, axum::response::Response> {
    use axum::response::IntoResponse;
    if !crate::auth::login_allowed(&s, &addr) {
        return Err((
            StatusCode::TOO_MANY_REQUESTS,
            Json(ErrorBody { error: crate::auth::TOO_MANY_LOGINS.into(), field: None }),
        )
            .into_response());
    }
    let ns =
        s.db.login(&b.username, &b.password, s.clock.now(), s.policy, &addr)
            .await
            .map_err(|e| ApiError(e).into_response())?;
    Ok(Json(LoginResponse { token: ns.token, csrf_token: ns.csrf, user: ns.user }))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    pub old_password: String,
    pub new_password: String,
}

/// 修改本人密码（初始密码须先修改）。本账号的其他会话随即失效。
#[utoipa::path(put, path = "/api/password", request_body = PasswordChange, tag = "会话",
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn change_password(
    State(s): State<AppState>,
    ApiUser(u, token): ApiUser,
    J(b): J<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    s.db.change_password(&u, &b.old_password, &b.new_password, &token, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Ended {
    /// 结束的会话数
    pub sessions: u64,
}

/// 退出所有设备：结束本账号的全部会话（含当前会话）。
#[utoipa::path(delete, path = "/api/sessions", tag = "会话", responses((status = 200, body = Ended), (status = 401, body = ErrorBody)))]
async fn logout_everywhere(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<Ended>, ApiError> {
    Ok(Json(Ended { sessions: s.db.logout_everywhere(&u, s.clock.now()).await? }))
}

/// 在线用户（安全管理员）。
#[utoipa::path(get, path = "/api/online", tag = "系统管理", responses((status = 200, body = Vec<xietong_storage::auth::OnlineSession>), (status = 403, body = ErrorBody)))]
async fn online(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
) -> Result<Json<Vec<xietong_storage::auth::OnlineSession>>, ApiError> {
    Ok(Json(s.db.online_sessions(&u, s.clock.now(), s.policy).await?))
}

/// 强制下线：结束某账号的全部会话（安全管理员）。
#[utoipa::path(delete, path = "/api/online/{user_id}", params(("user_id" = i64, Path, description = "账号编号")), tag = "系统管理",
    responses((status = 200, body = Ended), (status = 403, body = ErrorBody)))]
async fn force_logout(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(user_id): Path<i64>,
) -> Result<Json<Ended>, ApiError> {
    Ok(Json(Ended { sessions: s.db.force_logout(&u, user_id, s.clock.now()).await? }))
}

/// 安全设置：密码策略、登录失败锁定、每地址登录频率。
#[utoipa::path(get, path = "/api/security-settings", tag = "系统管理", responses((status = 200, body = xietong_storage::auth::SecuritySettings), (status = 403, body = ErrorBody)))]
async fn security_settings(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
) -> Result<Json<xietong_storage::auth::SecuritySettings>, ApiError> {
    u.actor().may_secure()?;
    Ok(Json(s.db.security_settings().await?))
}

/// 修改安全设置（安全管理员；低于等保要求的值被拒绝）。保存后立即生效，无需重启。
#[utoipa::path(put, path = "/api/security-settings", request_body = xietong_storage::auth::SecuritySettings, tag = "系统管理",
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn save_security_settings(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(b): J<xietong_storage::auth::SecuritySettings>,
) -> Result<StatusCode, ApiError> {
    s.db.save_security_settings(&u, &b, s.clock.now()).await?;
    s.reload().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The escalation ladder and the 催办 cap, as the API shows and takes them.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RulesBody {
    pub escalation: xietong_supervision::EscalationRules,
    pub urge: xietong_supervision::UrgeRules,
}

/// 督办规则：黄灯/提醒提前工作日、逾期后通报预警与列入问题台账的工作日、每周人工催办上限。
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

/// 数据范围：每个角色的全部 / 自定 / 本单位 / 本单位及以下 / 仅本人（安全管理员）。
#[utoipa::path(get, path = "/api/data-scopes", tag = "系统管理", responses((status = 200, body = Vec<xietong_storage::scopes::RoleDataScope>), (status = 403, body = ErrorBody)))]
async fn data_scopes(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
) -> Result<Json<Vec<xietong_storage::scopes::RoleDataScope>>, ApiError> {
    u.actor().may_secure()?;
    Ok(Json(s.db.data_scopes().await?))
}

/// 设置一个角色的数据范围（安全管理员）；各会话在下一次请求时生效。
#[utoipa::path(put, path = "/api/data-scopes/{role}", params(("role" = String, Path, description = "角色代码，如 liaison")),
    request_body = xietong_storage::scopes::DataScopeChange, tag = "系统管理",
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn save_data_scope(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(role): Path<String>,
    J(b): J<xietong_storage::scopes::DataScopeChange>,
) -> Result<StatusCode, ApiError> {
    let role = xietong_supervision::Role::from_code(&role)
        .ok_or_else(|| StoreError::NotFound(format!("角色「{}」不存在", role.chars().take(40).collect::<String>())))?;
    s.db.save_data_scope(&u, role, &b, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 退出登录（使当前令牌失效）。
#[utoipa::path(delete, path = "/api/session", tag = "会话", responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(State(s): State<AppState>, ApiUser(_u, token): ApiUser) -> Result<StatusCode, ApiError> {
    s.db.logout(&token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 当前用户。
#[utoipa::path(get, path = "/api/me", tag = "会话", responses((status = 200, body = SessionUser), (status = 401, body = ErrorBody)))]
async fn me(ApiUser(u, _): ApiUser) -> Json<SessionUser> {
    Json(u)
}

/// 我的待办。
#[utoipa::path(get, path = "/api/todo", tag = "督查督办", responses((status = 200, body = Vec<TaskRow>), (status = 401, body = ErrorBody)))]
async fn todo(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<Vec<TaskRow>>, ApiError> {
    let snap = s.snapshot();
    let items = s.db.todo_at(&u, snap.now, 200).await?;
    Ok(Json(items.into_iter().map(|i| task_row(i.task, &snap.cal, &snap.rules, snap.now, Some(i.what))).collect()))
}

/// 我的待办中的非任务事项：科技局的待审核提交和待推进对接，企业、高校院所被退回待修改的提交、
/// 待确认的专家联系方式授权和即将举行的对接活动。每项带办理页面的链接。
#[utoipa::path(get, path = "/api/todo/records", tag = "督查督办",
    responses((status = 200, body = Vec<xietong_storage::waiting::WaitingItem>), (status = 401, body = ErrorBody)))]
async fn todo_records(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
) -> Result<Json<Vec<xietong_storage::waiting::WaitingItem>>, ApiError> {
    Ok(Json(s.db.waiting_records(&u, s.clock.now()).await?))
}

#[derive(Serialize, ToSchema)]
pub struct TaskPageView {
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
    pub items: Vec<TaskRow>,
}

/// 任务列表（按数据范围过滤，可按状态、亮灯、单位、类别、来源、关键词筛选）。
#[utoipa::path(get, path = "/api/tasks", params(TaskFilter), tag = "督查督办",
    responses((status = 200, body = TaskPageView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn list_tasks(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(f): Q<TaskFilter>,
) -> Result<Json<TaskPageView>, ApiError> {
    let snap = s.snapshot();
    let p = s.db.list_tasks(&u, &snap.ctx(), &f).await?;
    Ok(Json(TaskPageView {
        total: p.total,
        page: p.page,
        page_size: p.page_size,
        items: p.items.into_iter().map(|t| task_row(t, &snap.cal, &snap.rules, snap.now, None)).collect(),
    }))
}

/// 立项（可同时交办）。仅督查局。
#[utoipa::path(post, path = "/api/tasks", request_body = NewTask, tag = "督查督办",
    responses((status = 201, body = TaskView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_task(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(n): J<NewTask>,
) -> Result<(StatusCode, Json<TaskView>), ApiError> {
    let snap = s.snapshot();
    let id = s.db.create_task(&u, &snap.ctx(), &n).await?;
    let snap = s.snapshot();
    let d = s.db.get_task(&u, id, snap.now).await?;
    Ok((StatusCode::CREATED, Json(task_view(d, &u, &snap.cal, &snap.rules, snap.now))))
}

/// 任务详情：时间线、计时、亮灯、可执行操作。
#[utoipa::path(get, path = "/api/tasks/{id}", params(("id" = i64, Path, description = "任务编号")), tag = "督查督办",
    responses((status = 200, body = TaskView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_task(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<xietong_supervision::TaskId>,
) -> Result<Json<TaskView>, ApiError> {
    let snap = s.snapshot();
    let d = s.db.get_task(&u, id, snap.now).await?;
    Ok(Json(task_view(d, &u, &snap.cal, &snap.rules, snap.now)))
}

/// The body of any task action; which fields are required depends on the action.
#[derive(Deserialize, ToSchema, Default, Debug)]
pub struct ActionBody {
    /// 意见 / 说明 (assign, receive, decompose, approve, urge; reject: 退回原因; review/decide: 审批意见)
    pub comment: Option<String>,
    /// 进展情况 (report, report_subtask), 办结情况 (request_completion), 批示内容 (instruct)
    pub text: Option<String>,
    /// 延期理由 (request_extension), 撤销原因 (cancel)
    pub reason: Option<String>,
    /// 进度 0–100 (report, report_subtask)
    pub progress: Option<i64>,
    /// YYYY-MM-DD (reject: 整改期限; request_extension: 申请延期至)
    pub new_deadline: Option<String>,
    /// review_extension, decide_extension
    pub extension_id: Option<i64>,
    /// review_extension, decide_extension: 同意 (true) or 不同意 (false)
    pub approve: Option<bool>,
    /// report_subtask
    pub subtask_id: Option<i64>,
    /// decompose
    pub subtasks: Option<Vec<NewSubtask>>,
    /// The task's `version` the caller saw; if given and the task has moved on since, nothing is
    /// done and the answer is 409 naming the current state.
    pub version: Option<i64>,
}

fn need<T>(v: Option<T>, field: &str) -> Result<T, StoreError> {
    v.ok_or_else(|| StoreError::invalid(field, "不能为空"))
}

/// Turn an action name and its body into a storage command.
pub fn command(action: &str, b: ActionBody) -> Result<Command, StoreError> {
    let c = b.comment.unwrap_or_default();
    Ok(match action {
        "assign" => Command::Assign { comment: c },
        "receive" => Command::Receive { comment: c },
        "decompose" => Command::Decompose { subtasks: b.subtasks.unwrap_or_default(), comment: c },
        "report" => Command::Report { progress: need(b.progress, "进度")?, text: b.text.unwrap_or_default() },
        "request_completion" => Command::RequestCompletion { text: b.text.unwrap_or_default() },
        "approve" => Command::Approve { comment: c },
        "reject" => Command::Reject { comment: c, new_deadline: need(b.new_deadline, "整改期限")? },
        "request_extension" => Command::RequestExtension {
            reason: b.reason.unwrap_or_default(),
            new_deadline: need(b.new_deadline, "申请延期至")?,
        },
        "review_extension" => Command::ReviewExtension {
            extension_id: need(b.extension_id, "延期申请")?,
            approve: need(b.approve, "审核结论")?,
            comment: c,
        },
        "decide_extension" => Command::DecideExtension {
            extension_id: need(b.extension_id, "延期申请")?,
            approve: need(b.approve, "审批结论")?,
            comment: c,
        },
        "cancel" => Command::Cancel { reason: b.reason.unwrap_or_default() },
        "urge" => Command::Urge { comment: c },
        "instruct" => Command::Instruct { text: b.text.unwrap_or_default() },
        "report_subtask" => Command::ReportSubtask {
            subtask_id: need(b.subtask_id, "子任务")?,
            progress: need(b.progress, "进度")?,
            text: b.text.unwrap_or_default(),
        },
        other => return Err(StoreError::NotFound(format!("没有名为「{other}」的操作"))),
    })
}

/// 对任务执行操作：assign 交办、receive 签收、decompose 分解、report 进展汇报、report_subtask 子任务汇报、
/// request_completion 办结申请、approve 审核通过、reject 退回整改、request_extension 延期申请、
/// review_extension 延期审核、decide_extension 延期审批、cancel 撤销、urge 催办、instruct 领导批示。
#[utoipa::path(post, path = "/api/tasks/{id}/actions/{action}", request_body = ActionBody, tag = "督查督办",
    params(("id" = i64, Path, description = "任务编号"), ("action" = String, Path, description = "操作名")),
    responses((status = 200, body = TaskView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn act(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path((id, action)): Path<(xietong_supervision::TaskId, String)>,
    J(b): J<ActionBody>,
) -> Result<Json<TaskView>, ApiError> {
    let seen = b.version;
    let cmd = command(&action, b)?;
    let snap = s.snapshot();
    let d = s.db.perform_seen(&u, &snap.ctx(), id, cmd, seen).await?;
    Ok(Json(task_view(d, &u, &snap.cal, &snap.rules, snap.now)))
}

/// 单位（树形，含一把手）。
#[utoipa::path(get, path = "/api/units", tag = "组织", responses((status = 200, body = Vec<Unit>), (status = 401, body = ErrorBody)))]
async fn units(State(s): State<AppState>, ApiUser(_u, _t): ApiUser) -> Result<Json<Vec<Unit>>, ApiError> {
    Ok(Json(s.db.list_units().await?))
}

#[derive(Deserialize, IntoParams)]
pub struct PeopleQuery {
    /// 只列出该单位的人员
    pub unit_id: Option<i64>,
}

/// 人员（按职务，示例数据为占位姓名）。
#[utoipa::path(get, path = "/api/people", params(PeopleQuery), tag = "组织", responses((status = 200, body = Vec<Person>), (status = 401, body = ErrorBody)))]
async fn people(
    State(s): State<AppState>,
    ApiUser(_u, _t): ApiUser,
    Q(q): Q<PeopleQuery>,
) -> Result<Json<Vec<Person>>, ApiError> {
    Ok(Json(s.db.list_people(q.unit_id).await?))
}

/// 工作类别。
#[utoipa::path(get, path = "/api/categories", tag = "组织", responses((status = 200, body = Vec<Category>), (status = 401, body = ErrorBody)))]
async fn categories(State(s): State<AppState>, ApiUser(_u, _t): ApiUser) -> Result<Json<Vec<Category>>, ApiError> {
    Ok(Json(s.db.list_categories().await?))
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

#[derive(Serialize, ToSchema)]
pub struct AuditStatus {
    pub ok: bool,
    pub entries: i64,
    pub error: Option<String>,
}

/// 导出登录日志（Excel，按查询条件，最多 10 万条）。仅审计管理员。
#[utoipa::path(get, path = "/api/exports/login-log", params(xietong_storage::auth::LogQuery), tag = "审计",
    responses((status = 200, description = "Excel 文件", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn export_login_log(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(q): Q<xietong_storage::auth::LogQuery>,
) -> Result<axum::response::Response, ApiError> {
    use xietong_office::table::{Cell, Column};
    u.actor().may_audit()?;
    let rows: Vec<Vec<Cell>> =
        s.db.search_logins(&q, 100_000)
            .await?
            .into_iter()
            .map(|l| {
                vec![
                    Cell::DateTime(l.at),
                    Cell::Text(l.username),
                    Cell::Text(l.address),
                    Cell::Text(if l.ok { "成功" } else { "失败" }.into()),
                    Cell::Text(l.message),
                ]
            })
            .collect();
    let cols: Vec<Column> = [("时间", 18.0), ("用户名", 14.0), ("地址", 16.0), ("结果", 8.0), ("说明", 50.0)]
        .iter()
        .map(|(h, w)| Column::plain(h, *w))
        .collect();
    log_download(&s, "登录日志", cols, rows).await
}

/// 导出操作日志（审计链，Excel，按查询条件，最多 10 万条）。仅审计管理员。
#[utoipa::path(get, path = "/api/exports/audit-log", params(xietong_storage::auth::LogQuery), tag = "审计",
    responses((status = 200, description = "Excel 文件", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn export_audit_log(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(q): Q<xietong_storage::auth::LogQuery>,
) -> Result<axum::response::Response, ApiError> {
    use xietong_office::table::{Cell, Column};
    u.actor().may_audit()?;
    let rows: Vec<Vec<Cell>> =
        s.db.search_audit(&q, 100_000)
            .await?
            .into_iter()
            .map(|e| {
                vec![
                    Cell::Number(e.seq as f64),
                    Cell::Text(e.at),
                    Cell::Text(e.actor),
                    Cell::Text(e.action),
                    Cell::Text(format!("{} #{}", e.entity, e.entity_id)),
                    Cell::Text(e.before),
                    Cell::Text(e.after),
                    Cell::Text(e.hash),
                ]
            })
            .collect();
    let cols: Vec<Column> = [
        ("序号", 8.0),
        ("时间", 18.0),
        ("操作人", 14.0),
        ("操作", 20.0),
        ("对象", 20.0),
        ("变更前", 40.0),
        ("变更后", 40.0),
        ("SM3", 30.0),
    ]
    .iter()
    .map(|(h, w)| Column::plain(h, *w))
    .collect();
    log_download(&s, "操作日志", cols, rows).await
}

async fn log_download(
    s: &AppState,
    name: &'static str,
    cols: Vec<xietong_office::table::Column>,
    rows: Vec<Vec<xietong_office::table::Cell>>,
) -> Result<axum::response::Response, ApiError> {
    let now = s.clock.now();
    let title = format!("{name}（导出时间 {}）", now.format("%Y-%m-%d %H:%M"));
    let bytes = s
        .heavy(move || {
            let internal = |e: xietong_office::OfficeError| StoreError::internal(e.to_string());
            xietong_office::xlsx::export_table(name, Some(&title), &cols, &rows).map_err(internal)
        })
        .await?;
    Ok(crate::office_api::download(crate::office_api::XLSX, &format!("{name}_{}.xlsx", now.format("%Y%m%d")), bytes))
}

/// 校验审计日志哈希链（SM3）。仅审计管理员。
#[utoipa::path(get, path = "/api/audit/verify", tag = "审计", responses((status = 200, body = AuditStatus), (status = 403, body = ErrorBody)))]
async fn audit_verify(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<AuditStatus>, ApiError> {
    u.actor().may_audit()?;
    Ok(Json(match s.db.verify_audit().await? {
        Ok(n) => AuditStatus { ok: true, entries: n, error: None },
        Err(e) => AuditStatus { ok: false, entries: 0, error: Some(e.to_string()) },
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct PurgeLogs {
    /// 清理此日期（不含）之前的操作日志和登录日志，YYYY-MM-DD；须早于今天 180 天以上
    pub before: String,
}

/// 清理保留期（180 天）以前的操作日志和登录日志。仅审计管理员；清理本身记入审计日志。
#[utoipa::path(post, path = "/api/audit/purge", request_body = PurgeLogs, tag = "审计",
    responses((status = 200, body = xietong_storage::audit::Purged), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn audit_purge(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(b): J<PurgeLogs>,
) -> Result<Json<xietong_storage::audit::Purged>, ApiError> {
    let before = parse_date("清理截止日期", b.before.trim())?;
    Ok(Json(s.db.purge_logs(&u, before, s.clock.now()).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

#[derive(Deserialize, ToSchema)]
pub struct NewUnit {
    pub code: String,
    pub name: String,
    /// 区委部门 / 区政府部门 / 镇街 / 管委会 / 外部单位 / 内设科室
    pub kind: String,
    pub parent_id: Option<i64>,
}

/// 新增单位。仅系统管理员。
#[utoipa::path(post, path = "/api/units", request_body = NewUnit, tag = "组织",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_unit(
    State(s): State<AppState>,
    ApiUser(u, _t): ApiUser,
    J(b): J<NewUnit>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = s.db.add_unit(&u, &b.code, &b.name, &b.kind, b.parent_id, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Deserialize, ToSchema)]
pub struct NewPerson {
    pub name: String,
    /// 职务，如 局长、联络员
    pub post: String,
    pub unit_id: i64,
    /// 设为该单位一把手
    #[serde(default)]
    pub head_of_unit: bool,
}

/// 新增人员。仅系统管理员。
#[utoipa::path(post, path = "/api/people", request_body = NewPerson, tag = "组织",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_person(
    State(s): State<AppState>,
    ApiUser(u, _t): ApiUser,
    J(b): J<NewPerson>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = s.db.add_person(&u, &b.name, &b.post, b.unit_id, b.head_of_unit, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// 账号列表。仅系统管理员。
#[utoipa::path(get, path = "/api/users", tag = "组织", responses((status = 200, body = Vec<UserRow>), (status = 403, body = ErrorBody)))]
async fn list_users(State(s): State<AppState>, ApiUser(u, _t): ApiUser) -> Result<Json<Vec<UserRow>>, ApiError> {
    if u.actor().may_administer().is_err() {
        u.actor().may_secure()?;
    }
    Ok(Json(s.db.list_users().await?))
}

#[derive(Deserialize, ToSchema)]
pub struct NewUser {
    pub username: String,
    /// 至少 8 位，含大写、小写、数字、符号中的三类
    pub password: String,
    pub person_id: i64,
    /// admin / supervisor / leader / liaison / responsible
    pub role: String,
}

/// 新增账号。仅系统管理员。
#[utoipa::path(post, path = "/api/users", request_body = NewUser, tag = "组织",
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_user(
    State(s): State<AppState>,
    ApiUser(u, _t): ApiUser,
    J(b): J<NewUser>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let role = xietong_supervision::Role::from_code(&b.role).ok_or_else(|| {
        StoreError::invalid("角色", format!("应为 {}", xietong_supervision::Role::ALL.map(|r| r.code()).join("、")))
    })?;
    let id = s.db.add_user(&u, &b.username, &b.password, b.person_id, role, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordBody {
    pub password: String,
}

/// 重置密码（该账号的所有会话随即失效）。仅系统管理员。
#[utoipa::path(post, path = "/api/users/{id}/password", request_body = PasswordBody, params(("id" = i64, Path, description = "账号编号")), tag = "组织",
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn reset_password(
    State(s): State<AppState>,
    ApiUser(u, _t): ApiUser,
    Path(id): Path<i64>,
    J(b): J<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    s.db.reset_password(&u, id, &b.password, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct ActiveBody {
    pub active: bool,
}

/// 启用或停用账号（停用即刻结束其会话）。仅系统管理员。
#[utoipa::path(post, path = "/api/users/{id}/active", request_body = ActiveBody, params(("id" = i64, Path, description = "账号编号")), tag = "组织",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn set_user_active(
    State(s): State<AppState>,
    ApiUser(u, _t): ApiUser,
    Path(id): Path<i64>,
    J(b): J<ActiveBody>,
) -> Result<StatusCode, ApiError> {
    s.db.set_user_active(&u, id, b.active, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
