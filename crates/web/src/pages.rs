//! Server-rendered Chinese pages. Plain HTML forms (each with the session's `_csrf`), so the
//! product works in the locked-down browsers government offices use.

use axum::extract::{Form, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use minijinja::context;
use serde::Deserialize;
use xietong_calendar::DayOverride;
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::tasks::{NewSubtask, NewTask, TaskFilter};
use xietong_supervision::{ReportCycle, Role, SourceKind, TaskStatus};

use crate::AppState;
use crate::api::{ActionBody, calendar_year, command};
use crate::auth::{PageUser, session_cookie};
use crate::error::status_of;
use crate::views::{task_row, task_view};

pub fn router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/", get(|| async { Redirect::to("/todo") }))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/todo", get(todo_page))
        .route("/tasks", get(tasks_page))
        .route("/tasks/new", get(new_task_page).post(new_task_submit))
        .route("/categories/{id}/evidence-rule", post(evidence_rule_submit))
        .route("/tasks/{id}", get(task_page))
        .route("/tasks/{id}/actions/{action}", post(task_action))
        .route("/calendar", get(calendar_page))
        .route("/calendar/day", post(calendar_day_submit))
        .route("/calendar/day/delete", post(calendar_day_delete))
        .route("/calendar/office-hours", post(office_hours_submit))
        .route("/calendar/rules", post(rules_submit))
        .route("/calendar/year", post(calendar_year_submit))
        .route("/org", get(org_page))
        .route("/org/units", post(org_add_unit))
        .route("/org/people", post(org_add_person))
        .route("/org/users", post(org_add_user))
        .route("/org/users/{id}/password", post(org_reset_password))
        .route("/org/users/{id}/active", post(org_set_active))
        .route("/audit", get(audit_page))
        .route("/audit/purge", post(audit_purge_submit))
}

pub(crate) fn render(
    s: &AppState,
    status: StatusCode,
    name: &str,
    user: Option<&SessionUser>,
    ctx: minijinja::Value,
) -> Response {
    let tmpl = match s.templates.get_template(name) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "template missing");
            return (StatusCode::INTERNAL_SERVER_ERROR, "服务器内部错误").into_response();
        }
    };
    let base = context! { user => user, csrf => user.map(|u| u.csrf.clone()), roles => role_flags(user),
    unread => user.and(crate::inbox::current_unread()) };
    match tmpl.render(context! { ..base, ..ctx }) {
        Ok(html) => (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = ?e, "template render failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "服务器内部错误").into_response()
        }
    }
}

fn role_flags(user: Option<&SessionUser>) -> minijinja::Value {
    let r = user.map(|u| u.role);
    context! {
        admin => r == Some(Role::Admin),
        supervisor => r == Some(Role::Supervisor),
        leader => r == Some(Role::Leader),
        liaison => r == Some(Role::Liaison),
        responsible => r == Some(Role::Responsible),
        tech => r == Some(Role::TechBureau),
        enterprise => r == Some(Role::Enterprise),
        institution => r == Some(Role::Institution),
        security_admin => r == Some(Role::SecurityAdmin),
        audit_admin => r == Some(Role::AuditAdmin),
        label => r.map(|r| r.label_zh()),
    }
}

pub fn error_page(s: &AppState, user: Option<&SessionUser>, e: &StoreError) -> Response {
    let status = status_of(e);
    if let StoreError::Internal(d) = e {
        tracing::error!(detail = %d, "internal error");
    }
    render(s, status, "error.html", user, context! { message => e.to_string(), status => status.as_u16() })
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

fn safe_next(n: Option<&str>) -> String {
    match n {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/todo".into(),
    }
}

/// The login page with its pre-session token (and the cookie holding it, when new).
fn login_form(
    s: &AppState,
    headers: &axum::http::HeaderMap,
    status: StatusCode,
    next: String,
    error: Option<String>,
    username: Option<String>,
) -> Response {
    let (token, set) = crate::auth::login_token(headers, s.secure_cookies);
    let page = render(
        s,
        status,
        "login.html",
        None,
        context! { next => next, error => error, username => username, login_csrf => token },
    );
    match set {
        Some(c) => ([(header::SET_COOKIE, c)], page).into_response(),
        None => page,
    }
}

async fn login_page(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
    axum::extract::Query(q): axum::extract::Query<NextQuery>,
) -> Response {
    login_form(&s, &headers, StatusCode::OK, safe_next(q.next.as_deref()), None, None)
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
    #[serde(rename = "_csrf")]
    csrf: Option<String>,
}

async fn login_submit(
    State(s): State<AppState>,
    crate::auth::ClientAddr(addr): crate::auth::ClientAddr,
    headers: axum::http::HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = safe_next(f.next.as_deref());
    // Login CSRF: a form posted from another site would sign the browser into the attacker's account.
    if !crate::auth::login_token_ok(&headers, f.csrf.as_deref()) {
        let msg = "登录页面已过期或来源无效，请重新输入后登录".to_string();
        return login_form(&s, &headers, StatusCode::FORBIDDEN, next, Some(msg), Some(f.username));
    }
    if !crate::auth::login_allowed(&s, &addr) {
        let msg = crate::auth::TOO_MANY_LOGINS.to_string();
        return login_form(&s, &headers, StatusCode::TOO_MANY_REQUESTS, next, Some(msg), Some(f.username));
    }
    match s.db.login(&f.username, &f.password, s.clock.now(), s.policy, &addr).await {
        Ok(ns) => {
            let cookie = session_cookie(&ns.token, s.secure_cookies, s.policy.absolute.num_seconds());
            ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
        }
        Err(e) => login_form(&s, &headers, status_of(&e), next, Some(e.to_string()), Some(f.username)),
    }
}

async fn logout(State(s): State<AppState>, PageUser(_, token): PageUser) -> Response {
    let _ = s.db.logout(&token).await;
    ([(header::SET_COOKIE, session_cookie("", s.secure_cookies, 0))], Redirect::to("/login")).into_response()
}

async fn todo_page(State(s): State<AppState>, PageUser(u, _): PageUser) -> Response {
    // The security and audit administrators see no business data and no workflow waits on them;
    // their home is their own page.
    match u.role {
        Role::SecurityAdmin => return Redirect::to("/online").into_response(),
        Role::AuditAdmin => return Redirect::to("/audit").into_response(),
        _ => {}
    }
    let snap = s.snapshot();
    // Enterprise and institution accounts have no supervised tasks, only what the platform asks of them.
    let items = match u.role {
        Role::Enterprise | Role::Institution => vec![],
        _ => match s.db.todo_at(&u, snap.now, 200).await {
            Ok(i) => i,
            Err(e) => return error_page(&s, Some(&u), &e),
        },
    };
    let rows: Vec<_> =
        items.into_iter().map(|i| task_row(i.task, &snap.cal, &snap.rules, snap.now, Some(i.what))).collect();
    let records = match s.db.waiting_records(&u, snap.now).await {
        Ok(r) => r,
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    let f = xietong_storage::inbox::InboxFilter { unread: Some(true), page_size: Some(5), ..Default::default() };
    let unread = s.db.inbox(&u, &f).await.map(|p| p.items).unwrap_or_default();
    render(
        &s,
        StatusCode::OK,
        "todo.html",
        Some(&u),
        context! { nav => "todo", rows => rows, records => records, unread_notes => unread, back => "/todo",
        now => snap.now.to_string(), platform => matches!(u.role, Role::Enterprise | Role::Institution) },
    )
}

async fn tasks_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    axum::extract::Query(raw): axum::extract::Query<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| raw.iter().find(|(kk, v)| kk == k && !v.is_empty()).map(|(_, v)| v.clone());
    let num = |k: &str| -> Result<Option<i64>, StoreError> {
        get(k).map(|v| v.parse::<i64>().map_err(|_| StoreError::invalid(k, format!("「{v}」不是数字")))).transpose()
    };
    let f = match (|| -> Result<TaskFilter, StoreError> {
        Ok(TaskFilter {
            status: get("status"),
            light: get("light"),
            lead_unit_id: num("lead_unit_id")?,
            category_id: num("category_id")?,
            source_kind: get("source_kind"),
            q: get("q"),
            area: get("area"),
            page: num("page")?,
            page_size: None,
        })
    })() {
        Ok(f) => f,
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    let snap = s.snapshot();
    let page = match s.db.list_tasks(&u, &snap.ctx(), &f).await {
        Ok(p) => p,
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    let rows: Vec<_> = page.items.into_iter().map(|t| task_row(t, &snap.cal, &snap.rules, snap.now, None)).collect();
    let units = s.db.list_units().await.unwrap_or_default();
    let categories = s.db.list_categories().await.unwrap_or_default();
    let mut statuses: Vec<_> =
        TaskStatus::ALL.iter().map(|s| context! { code => s.code(), label => s.label_zh() }).collect();
    statuses.insert(0, context! { code => "open", label => "全部在办（交办至待审核）" });
    let sources: Vec<_> =
        SourceKind::ALL.iter().map(|s| context! { code => s.code(), label => s.label_zh() }).collect();
    let pages = (page.total + page.page_size - 1) / page.page_size;
    // Every filter but the page, for the paging links.
    let qs = serde_urlencoded::to_string(raw.iter().filter(|(k, v)| k != "page" && !v.is_empty()).collect::<Vec<_>>())
        .unwrap_or_default();
    let export_query = crate::tasks::paper::export_query(&f);
    let back = format!("/tasks{export_query}");
    render(
        &s,
        StatusCode::OK,
        "tasks.html",
        Some(&u),
        context! { nav => "tasks", rows => rows, total => page.total, page => page.page, pages => pages, units => units, categories => categories,
        statuses => statuses, sources => sources, qs => qs, export_query => export_query, back => back,
        f => context! { status => f.status, light => f.light, lead_unit_id => f.lead_unit_id,
        category_id => f.category_id, source_kind => f.source_kind, q => f.q, area => f.area } },
    )
}

/// What a user typed into one of the task page's forms, shown again after a refusal.
#[derive(Default)]
pub(crate) struct Typed {
    pub(crate) action: String,
    pub(crate) fields: std::collections::BTreeMap<String, String>,
    /// The indicator whose report form the fields belong to.
    pub(crate) indicator: Option<i64>,
    /// Show that form's “确认数值无误” checkbox (the figure was refused as implausible).
    pub(crate) confirm_large: bool,
}

async fn task_page_with(
    s: &AppState,
    u: &SessionUser,
    id: i64,
    flash_ok: Option<String>,
    flash_err: Option<(StatusCode, String)>,
) -> Response {
    task_page_typed(s, u, id, flash_ok, flash_err, Typed::default()).await
}

pub(crate) async fn task_page_typed(
    s: &AppState,
    u: &SessionUser,
    id: i64,
    flash_ok: Option<String>,
    flash_err: Option<(StatusCode, String)>,
    typed: Typed,
) -> Response {
    let snap = s.snapshot();
    let d = match s.db.get_task(u, xietong_supervision::TaskId(id), snap.now).await {
        Ok(d) => d,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let lead = d.task.lead_unit_id;
    let atts = s.db.task_attachments(u, id, snap.now).await.unwrap_or_default();
    let (evidence, sources) =
        crate::attachments::evidence_for_page(&atts, d.task.assigned_at, (d.task.site_lat, d.task.site_lon));
    let co: Vec<i64> = d.co_units.iter().map(|c| c.id).collect();
    let v = task_view(d, u, &snap.cal, &snap.rules, snap.now);
    // Decomposition choices: the lead unit, its 内设科室, and co-units; people in those.
    let (depts, people) = if v.allowed_actions.iter().any(|a| a.code == "decompose") {
        let mut allowed = s.db.unit_and_descendants(lead).await.unwrap_or_default();
        allowed.extend(co);
        let units: Vec<_> =
            s.db.list_units().await.unwrap_or_default().into_iter().filter(|x| allowed.contains(&x.id)).collect();
        let people: Vec<_> =
            s.db.list_people(None)
                .await
                .unwrap_or_default()
                .into_iter()
                .filter(|p| allowed.contains(&p.unit_id))
                .collect();
        (units, people)
    } else {
        (vec![], vec![])
    };
    let (status, err) = match flash_err {
        Some((st, m)) => (st, Some(m)),
        None => (StatusCode::OK, None),
    };
    let default_deadline = v.task.deadline.date().to_string();
    let indicators = s.db.task_indicators(u, id, snap.now).await.unwrap_or_default();
    let project_id = s.db.project_of_task(id).await.ok().flatten();
    let completion_evidence = match v.task.category_id {
        Some(c) => s.db.list_categories().await.unwrap_or_default().iter().any(|x| x.id == c && x.completion_evidence),
        None => false,
    };
    // Indicators are maintained by the 督查局 and by the liaisons who report on the task.
    let may_indicate = u.role == Role::Supervisor || v.allowed_actions.iter().any(|a| a.code == "report");
    // Typed text whose form is gone (the task moved on) is shown on its own, so it can be copied.
    let typed_orphan = typed.indicator.is_none()
        && !typed.action.is_empty()
        && !v.allowed_actions.iter().any(|a| a.code == typed.action)
        && typed.fields.values().any(|x| !x.trim().is_empty());
    render(
        s,
        status,
        "task.html",
        Some(u),
        context! { nav => "tasks", v => v, depts => depts, people => people, flash_ok => flash_ok, flash_err => err,
        default_deadline => default_deadline, now => snap.now.to_string(), indicators => indicators,
        may_indicate => may_indicate, today => snap.now.date().to_string(), project_id => project_id,
        typed_action => typed.action, typed => typed.fields, typed_orphan => typed_orphan,
        typed_indicator => typed.indicator, confirm_large => typed.confirm_large,
        evidence => evidence, sources => sources, may_attach_sources => u.role == Role::Supervisor,
        completion_evidence => completion_evidence },
    )
}

#[derive(Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

/// The task page again with an error from one of its forms, so nothing typed is lost on the way.
pub(crate) async fn task_page_error(s: &AppState, u: &SessionUser, id: i64, e: StoreError) -> Response {
    if matches!(e, StoreError::Denied(_) | StoreError::NotFound(_) | StoreError::Internal(_)) {
        return error_page(s, Some(u), &e);
    }
    task_page_with(s, u, id, None, Some((status_of(&e), e.to_string()))).await
}

async fn task_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<DoneQuery>,
) -> Response {
    let ok =
        q.done.as_deref().and_then(xietong_supervision::Action::from_code).map(|a| format!("已完成：{}", a.label_zh()));
    let ok = ok.or_else(|| (q.done.as_deref() == Some("report_subtask")).then(|| "已完成：子任务汇报".to_string()));
    let ok = ok.or_else(|| (q.done.as_deref() == Some("indicator")).then(|| "已保存指标".to_string()));
    task_page_with(&s, &u, id, ok, None).await
}

/// Build an action body from form fields; decomposition rows come as repeated `sub_*` fields.
pub(crate) fn action_body(form: &[(String, String)]) -> Result<ActionBody, StoreError> {
    let get = |k: &str| form.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.clone());
    let all = |k: &str| form.iter().filter(|(kk, _)| kk == k).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let int = |k: &str, label: &str| -> Result<Option<i64>, StoreError> {
        match get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
            Some(v) => v.parse::<i64>().map(Some).map_err(|_| StoreError::invalid(label, format!("「{v}」不是整数"))),
            None => Ok(None),
        }
    };
    let titles = all("sub_title");
    let subtasks = if titles.is_empty() {
        None
    } else {
        let (depts, people, deadlines) = (all("sub_dept"), all("sub_person"), all("sub_deadline"));
        let mut out = vec![];
        for (i, title) in titles.iter().enumerate() {
            let row = i + 1;
            let pick = |v: &Vec<String>, label: &str| -> Result<i64, StoreError> {
                let f = format!("第{row}项子任务的{label}");
                let x = v
                    .get(i)
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| StoreError::invalid(&f, "不能为空"))?;
                x.parse::<i64>().map_err(|_| StoreError::invalid(&f, "选择无效"))
            };
            out.push(NewSubtask {
                title: title.clone(),
                dept_unit_id: pick(&depts, "责任科室")?,
                person_id: pick(&people, "责任人")?,
                deadline: deadlines.get(i).cloned().unwrap_or_default(),
            });
        }
        Some(out)
    };
    Ok(ActionBody {
        comment: get("comment"),
        text: get("text"),
        reason: get("reason"),
        progress: int("progress", "进度")?,
        new_deadline: get("new_deadline"),
        extension_id: int("extension_id", "延期申请")?,
        approve: get("approve").map(|v| v == "1" || v == "true"),
        subtask_id: int("subtask_id", "子任务")?,
        subtasks,
        version: None,
    })
}

async fn task_action(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let snap = s.snapshot();
    // The version the page showed: if the task moved on since, the action is refused, not applied.
    let seen = form.iter().find(|(k, _)| k == "version").and_then(|(_, v)| v.trim().parse::<i64>().ok());
    let result = match action_body(&form).and_then(|b| command(&action, b)) {
        Ok(cmd) => s.db.perform_seen(&u, &snap.ctx(), xietong_supervision::TaskId(id), cmd, seen).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Redirect::to(&format!("/tasks/{id}?done={action}")).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::NotFound(_) | StoreError::Internal(_))) => {
            error_page(&s, Some(&u), &e)
        }
        Err(e) => {
            let kept = ["comment", "text", "reason", "progress", "new_deadline"];
            let fields = form.into_iter().filter(|(k, _)| kept.contains(&k.as_str())).collect();
            let typed = Typed { action, fields, ..Typed::default() };
            task_page_typed(&s, &u, id, None, Some((status_of(&e), e.to_string())), typed).await
        }
    }
}

async fn new_task_form(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    error: Option<String>,
    values: minijinja::Value,
) -> Response {
    let units = s.db.list_units().await.unwrap_or_default();
    let categories = s.db.list_categories().await.unwrap_or_default();
    let leaders: Vec<_> = s.db.list_users().await.unwrap_or_default();
    let people = s.db.list_people(None).await.unwrap_or_default();
    // Leaders are people whose account has the leader role.
    let leader_people: Vec<_> = people
        .into_iter()
        .filter(|p| leaders.iter().any(|l| l.role == "leader" && l.person_name == p.name && l.unit_name == p.unit_name))
        .collect();
    let sources: Vec<_> =
        SourceKind::ALL.iter().map(|s| context! { code => s.code(), label => s.label_zh() }).collect();
    let cycles: Vec<_> =
        ReportCycle::ALL.iter().map(|s| context! { code => s.code(), label => s.label_zh() }).collect();
    let snap = s.snapshot();
    render(
        s,
        status,
        "task_new.html",
        Some(u),
        context! { nav => "new", units => units, categories => categories, leaders => leader_people, sources => sources, cycles => cycles,
        error => error, v => values, today => snap.now.date().to_string() },
    )
}

async fn new_task_page(State(s): State<AppState>, PageUser(u, _): PageUser) -> Response {
    if let Err(e) = u.actor().may_create_tasks() {
        return error_page(&s, Some(&u), &e.into());
    }
    new_task_form(&s, &u, StatusCode::OK, None, context! {}).await
}

/// 办结证据要求 from the 立项 page's table: set or clear, then back to the table.
async fn evidence_rule_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let required = form.iter().any(|(k, v)| k == "completion_evidence" && v == "1");
    match s.db.set_completion_evidence(&u, id, required, s.clock.now()).await {
        Ok(()) => Redirect::to("/tasks/new#evidence-rules").into_response(),
        Err(e) => error_page(&s, Some(&u), &e),
    }
}

async fn new_task_submit(State(s): State<AppState>, PageUser(u, _): PageUser, form: crate::forms::Fields) -> Response {
    let get = |k: &str| form.trimmed(k);
    let values = context! { title => get("title"), description => get("description"), doc_no => get("doc_no"), source_title => get("source_title"),
    source_date => get("source_date"), deadline => get("deadline"), source_kind => get("source_kind"), report_cycle => get("report_cycle") };
    let parse = || -> Result<NewTask, StoreError> {
        let id = |k: &str, label: &str| -> Result<Option<i64>, StoreError> {
            let v = get(k);
            if v.is_empty() {
                Ok(None)
            } else {
                v.parse().map(Some).map_err(|_| StoreError::invalid(label, "选择无效"))
            }
        };
        let co = form.ids("co_unit_ids", "配合单位");
        Ok(NewTask {
            title: get("title"),
            description: get("description"),
            source_kind: get("source_kind"),
            doc_no: get("doc_no"),
            source_title: get("source_title"),
            source_date: get("source_date"),
            category_id: id("category_id", "工作类别")?,
            lead_unit_id: id("lead_unit_id", "牵头单位")?.ok_or_else(|| StoreError::invalid("牵头单位", "不能为空"))?,
            co_unit_ids: co?,
            leader_person_id: id("leader_person_id", "分管领导")?,
            report_cycle: get("report_cycle"),
            deadline: get("deadline"),
            received_at: Some(get("received_at")).filter(|v| !v.is_empty()),
            assign_now: get("assign_now") == "1",
        })
    };
    let snap = s.snapshot();
    let result = match parse() {
        Ok(n) => s.db.create_task(&u, &snap.ctx(), &n).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(id) => Redirect::to(&format!("/tasks/{id}")).into_response(),
        Err(e @ StoreError::Denied(_)) => error_page(&s, Some(&u), &e),
        Err(e) => new_task_form(&s, &u, status_of(&e), Some(e.to_string()), values).await,
    }
}

#[derive(Deserialize)]
struct CalQuery {
    year: Option<String>,
    ok: Option<String>,
    err: Option<String>,
}

async fn calendar_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    axum::extract::Query(q): axum::extract::Query<CalQuery>,
) -> Response {
    let snap = s.snapshot();
    let year = match q.year.as_deref().filter(|y| !y.is_empty()) {
        Some(y) => match y.parse::<i32>() {
            Ok(y) if (2000..=2100).contains(&y) => y,
            _ => return error_page(&s, Some(&u), &StoreError::invalid("年份", "应为 2000 到 2100 之间的整数")),
        },
        None => chrono::Datelike::year(&snap.now.date()),
    };
    let cy = calendar_year(&snap.cal, year);
    render(
        &s,
        StatusCode::OK,
        "calendar.html",
        Some(&u),
        context! { nav => "calendar", cy => cy, year => year, months => crate::views::calendar_months(&snap.cal, year), prev => year - 1, next => year + 1, can_edit => u.role == Role::Admin, rules => snap.rules.as_ref().clone(), rules => snap.rules.as_ref().clone(),
        published_years => snap.cal.published_years().iter().copied().collect::<Vec<_>>(), flash_ok => q.ok, flash_err => q.err },
    )
}

fn back_to_calendar(year: &str, r: Result<(), StoreError>, ok: &str) -> Response {
    let enc = |m: &str| {
        m.bytes()
            .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect::<String>()
    };
    match r {
        Ok(()) => Redirect::to(&format!("/calendar?year={}&ok={}", enc(year), enc(ok))).into_response(),
        Err(e) => Redirect::to(&format!("/calendar?year={}&err={}", enc(year), enc(&e.to_string()))).into_response(),
    }
}

#[derive(Deserialize)]
struct DayForm {
    date: String,
    off: String,
    name: String,
}

async fn calendar_day_submit(State(s): State<AppState>, PageUser(u, _): PageUser, Form(f): Form<DayForm>) -> Response {
    if let Err(e) = u.actor().may_administer() {
        return error_page(&s, Some(&u), &e.into());
    }
    let r = async {
        let date = xietong_calendar::parse_date("日期", f.date.trim())?;
        s.db.set_calendar_day(
            &u.username,
            &DayOverride { date, off: f.off == "1", name: f.name.clone() },
            s.clock.now(),
        )
        .await?;
        s.settings_changed().await
    }
    .await;
    back_to_calendar(f.date.get(0..4).unwrap_or(""), r, "已保存")
}

#[derive(Deserialize)]
struct DateForm {
    date: String,
}

async fn calendar_day_delete(State(s): State<AppState>, PageUser(u, _): PageUser, Form(f): Form<DateForm>) -> Response {
    if let Err(e) = u.actor().may_administer() {
        return error_page(&s, Some(&u), &e.into());
    }
    let r = async {
        let date = xietong_calendar::parse_date("日期", f.date.trim())?;
        s.db.remove_calendar_day(&u.username, date, s.clock.now()).await?;
        s.settings_changed().await
    }
    .await;
    back_to_calendar(f.date.get(0..4).unwrap_or(""), r, "已删除")
}

#[derive(Deserialize)]
struct OfficeForm {
    spec: String,
    year: String,
}

async fn office_hours_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Form(f): Form<OfficeForm>,
) -> Response {
    if let Err(e) = u.actor().may_administer() {
        return error_page(&s, Some(&u), &e.into());
    }
    let r = async {
        s.db.set_office_hours(&u.username, &f.spec, s.clock.now()).await?;
        s.settings_changed().await
    }
    .await;
    back_to_calendar(&f.year, r, "办公时间已保存")
}

/// 督办规则 from the calendar page; takes effect at once (next check times recomputed).
async fn rules_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: crate::forms::Fields) -> Response {
    if let Err(e) = u.actor().may_administer() {
        return error_page(&s, Some(&u), &e.into());
    }
    let get = |k: &str| f.trimmed(k);
    let num = |k: &str, label: &str| {
        get(k).parse::<i64>().map_err(|_| StoreError::invalid(label, format!("「{}」不是整数", get(k))))
    };
    let r = async {
        let rules = xietong_storage::calendar::Rules {
            escalation: xietong_supervision::EscalationRules {
                yellow_working_days: num("yellow_working_days", "黄灯提前工作日")?,
                notice_after_working_days: num("notice_after_working_days", "逾期后通报预警工作日")?,
                ledger_after_working_days: num("ledger_after_working_days", "逾期后列入问题台账工作日")?,
            },
            urge: xietong_supervision::UrgeRules { cap_per_week: num("cap_per_week", "每周催办上限")? },
        };
        s.db.save_rules(&u.username, &rules, s.clock.now()).await?;
        s.settings_changed().await
    }
    .await;
    back_to_calendar(&get("year"), r, "督办规则已保存，已按新规则重算在办任务的检查时间")
}

#[derive(Deserialize)]
struct YearForm {
    year: String,
    published: String,
}

async fn calendar_year_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Form(f): Form<YearForm>,
) -> Response {
    if let Err(e) = u.actor().may_administer() {
        return error_page(&s, Some(&u), &e.into());
    }
    let r = async {
        let y: i32 = f.year.trim().parse().map_err(|_| StoreError::invalid("年份", "应为整数"))?;
        s.db.set_year_published(&u.username, y, f.published == "1", s.clock.now()).await?;
        s.settings_changed().await
    }
    .await;
    back_to_calendar(&f.year, r, "已更新")
}

#[derive(Deserialize)]
struct FlashQuery {
    ok: Option<String>,
    err: Option<String>,
}

async fn org_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    axum::extract::Query(q): axum::extract::Query<FlashQuery>,
) -> Response {
    if !Role::LEADERSHIP.contains(&u.role) {
        return error_page(
            &s,
            Some(&u),
            &StoreError::Denied("无权限：组织机构页面仅限系统管理员、督查局和区领导".into()),
        );
    }
    let units = s.db.list_units().await.unwrap_or_default();
    let people = s.db.list_people(None).await.unwrap_or_default();
    let users = if u.role == Role::Admin { s.db.list_users().await.unwrap_or_default() } else { vec![] };
    let areas = s.db.list_leader_areas().await.unwrap_or_default();
    let roles: Vec<_> = Role::ALL.iter().map(|r| context! { code => r.code(), label => r.label_zh() }).collect();
    render(
        &s,
        StatusCode::OK,
        "org.html",
        Some(&u),
        context! { nav => "org", units => units, people => people, users => users, areas => areas, roles_all => roles,
        unit_kinds => xietong_storage::org::UNIT_KINDS, can_edit => u.role == Role::Admin, flash_ok => q.ok, flash_err => q.err },
    )
}

fn back_to_org(r: Result<(), StoreError>, ok: &str) -> Response {
    let enc = |m: &str| {
        m.bytes()
            .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect::<String>()
    };
    match r {
        Ok(()) => Redirect::to(&format!("/org?ok={}", enc(ok))).into_response(),
        Err(e) => Redirect::to(&format!("/org?err={}", enc(&e.to_string()))).into_response(),
    }
}

fn form_get(form: &[(String, String)], k: &str) -> String {
    form.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.trim().to_string()).unwrap_or_default()
}

fn form_id(form: &[(String, String)], k: &str, label: &str) -> Result<Option<i64>, StoreError> {
    let v = form_get(form, k);
    if v.is_empty() { Ok(None) } else { v.parse().map(Some).map_err(|_| StoreError::invalid(label, "选择无效")) }
}

async fn org_add_unit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let r = async {
        let parent = form_id(&f, "parent_id", "上级单位")?;
        s.db.add_unit(&u, &form_get(&f, "code"), &form_get(&f, "name"), &form_get(&f, "kind"), parent, s.clock.now())
            .await
            .map(|_| ())
    }
    .await;
    if let Err(e @ StoreError::Denied(_)) = &r {
        return error_page(&s, Some(&u), e);
    }
    back_to_org(r, "单位已添加")
}

async fn org_add_person(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let r = async {
        let unit = form_id(&f, "unit_id", "所属单位")?.ok_or_else(|| StoreError::invalid("所属单位", "不能为空"))?;
        s.db.add_person(
            &u,
            &form_get(&f, "name"),
            &form_get(&f, "post"),
            unit,
            form_get(&f, "head_of_unit") == "1",
            s.clock.now(),
        )
        .await
        .map(|_| ())
    }
    .await;
    if let Err(e @ StoreError::Denied(_)) = &r {
        return error_page(&s, Some(&u), e);
    }
    back_to_org(r, "人员已添加")
}

async fn org_add_user(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let r = async {
        let person = form_id(&f, "person_id", "人员")?.ok_or_else(|| StoreError::invalid("人员", "不能为空"))?;
        let role = Role::from_code(&form_get(&f, "role")).ok_or_else(|| StoreError::invalid("角色", "选择无效"))?;
        s.db.add_user(&u, &form_get(&f, "username"), &form_get(&f, "password"), person, role, s.clock.now())
            .await
            .map(|_| ())
    }
    .await;
    if let Err(e @ StoreError::Denied(_)) = &r {
        return error_page(&s, Some(&u), e);
    }
    back_to_org(r, "账号已创建")
}

async fn org_reset_password(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let r = s.db.reset_password(&u, id, &form_get(&f, "password"), s.clock.now()).await;
    if let Err(e @ StoreError::Denied(_)) = &r {
        return error_page(&s, Some(&u), e);
    }
    back_to_org(r, "密码已重置")
}

async fn org_set_active(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let r = s.db.set_user_active(&u, id, form_get(&f, "active") == "1", s.clock.now()).await;
    if let Err(e @ StoreError::Denied(_)) = &r {
        return error_page(&s, Some(&u), e);
    }
    back_to_org(r, "账号状态已更新")
}

async fn audit_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    axum::extract::Query(lq): axum::extract::Query<xietong_storage::auth::LogQuery>,
    axum::extract::Query(raw): axum::extract::Query<Vec<(String, String)>>,
) -> Response {
    if let Err(e) = u.actor().may_audit() {
        return error_page(&s, Some(&u), &e.into());
    }
    let verify = match s.db.verify_audit().await {
        Ok(Ok(n)) => context! { ok => true, entries => n },
        Ok(Err(e)) => context! { ok => false, error => e.to_string() },
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    // One search form per log: `log=login` applies the filters to the 登录日志, otherwise to the operation log.
    let login_search = raw.iter().any(|(k, v)| k == "log" && v == "login");
    let none = xietong_storage::auth::LogQuery::default();
    let (aq, lq2) = if login_search { (&none, &lq) } else { (&lq, &none) };
    let (recent, logins) = match (s.db.search_audit(aq, 200).await, s.db.search_logins(lq2, 200).await) {
        (Ok(a), Ok(l)) => (a, l),
        (Err(e), _) | (_, Err(e)) => return error_page(&s, Some(&u), &e),
    };
    let flash_ok = raw.iter().find(|(k, _)| k == "ok").map(|(_, v)| v.clone());
    let oldest_allowed = xietong_storage::audit::oldest_purgeable(s.clock.now());
    render(
        &s,
        StatusCode::OK,
        "audit.html",
        Some(&u),
        context! { nav => "audit", verify => verify, recent => recent, logins => logins, flash_ok => flash_ok,
        oldest_allowed => oldest_allowed.to_string(), retention => xietong_storage::audit::RETENTION_DAYS,
        q => serde_json::json!({"who": lq.who, "what": lq.what, "from": lq.from, "to": lq.to, "login": login_search}) },
    )
}

async fn audit_purge_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let before = f.iter().find(|(k, _)| k == "before").map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    let r = match xietong_calendar::parse_date("清理截止日期", &before) {
        Ok(d) => s.db.purge_logs(&u, d, s.clock.now()).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(p) => {
            let msg = format!(
                "已清理 {before} 之前的操作日志 {} 条、登录日志 {} 条；哈希链从第 {} 条继续校验",
                p.audit_entries, p.logins, p.kept_from_seq
            );
            Redirect::to(&format!("/audit?{}", serde_urlencoded::to_string([("ok", msg)]).unwrap_or_default()))
                .into_response()
        }
        Err(e) => error_page(&s, Some(&u), &e),
    }
}
