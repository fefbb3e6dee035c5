//! Pages for ledgers that live in Excel today: imports (templates, uploads with row errors),
//! key projects with their bid sections, and 清单.

use axum::extract::{Form, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use minijinja::context;
use serde::Deserialize;
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::projects::{NewProject, NewSection};
use xietong_storage::tasks::NewTask;

use crate::AppState;
use crate::auth::PageUser;
use crate::office_api::{do_import, read_upload, save_notice_template};
use crate::pages::{error_page, render};
use crate::views::task_row;

pub fn router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/imports", get(imports_page))
        .route("/imports/{kind}", post(import_submit))
        .route("/notice-template", post(template_submit))
        .route("/notice-template/reset", post(template_reset))
        .route("/projects", get(projects_page).post(project_submit))
        .route("/projects/{id}", get(project_page))
        .route("/sections/{id}/report", post(section_report))
        .route("/lists", get(lists_page))
        .route("/lists/{id}", get(list_page))
        .route("/achievements", get(achievements_page).post(achievements_search))
}

async fn imports_with(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    ok: Option<String>,
    errors: Vec<String>,
    kind: Option<&str>,
) -> Response {
    let categories = s.db.list_categories().await.unwrap_or_default();
    let lists = s.db.task_lists(u).await.unwrap_or_default();
    let problem_campaigns: Vec<_> =
        s.db.list_campaigns(s.clock.now().date())
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c.open && c.target == xietong_storage::libraries::Library::Problem)
            .collect();
    render(
        s,
        status,
        "imports.html",
        Some(u),
        context! { nav => "imports", categories => categories, flash_ok => ok, errors => errors, kind => kind, lists => lists, problem_campaigns => problem_campaigns,
        today => s.clock.now().date().to_string() },
    )
}

async fn imports_page(State(s): State<AppState>, PageUser(u, _): PageUser) -> Response {
    imports_with(&s, &u, StatusCode::OK, None, vec![], None).await
}

async fn import_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(kind): Path<String>,
    mp: Multipart,
) -> Response {
    if !matches!(kind.as_str(), "tasks" | "list" | "indicators" | "problems") {
        return error_page(&s, Some(&u), &StoreError::NotFound("没有这种导入".into()));
    }
    match do_import(&s, &u, &kind, mp).await {
        Ok(r) => {
            let what = match kind.as_str() {
                "tasks" => "项督办任务（已立项并交办）",
                "list" => "项清单事项（各为一项督办任务）",
                "problems" => "项技术难题（待形式审核）",
                _ => "项数值指标",
            };
            if let Some(l) = r.list_id {
                return Redirect::to(&format!("/lists/{l}")).into_response();
            }
            imports_with(
                &s,
                &u,
                StatusCode::OK,
                Some(format!("导入成功：{} 行，新建 {} {what}", r.rows, r.created_ids.len())),
                vec![],
                Some(&kind),
            )
            .await
        }
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_))) => error_page(&s, Some(&u), &e),
        Err(e) => {
            let lines: Vec<String> = e.to_string().lines().map(str::to_string).collect();
            imports_with(&s, &u, crate::error::status_of(&e), None, lines, Some(&kind)).await
        }
    }
}

async fn template_submit(State(s): State<AppState>, PageUser(u, _): PageUser, mp: Multipart) -> Response {
    let r = async {
        let (_, bytes, _) = read_upload(&s, mp).await?;
        save_notice_template(&s, &u, Some(bytes)).await
    }
    .await;
    template_done(&s, &u, r, "通报模板已更新").await
}

async fn template_reset(State(s): State<AppState>, PageUser(u, _): PageUser) -> Response {
    let r = save_notice_template(&s, &u, None).await;
    template_done(&s, &u, r, "已恢复系统默认通报模板").await
}

async fn template_done(s: &AppState, u: &SessionUser, r: Result<(), StoreError>, ok: &str) -> Response {
    match r {
        Ok(()) => imports_with(s, u, StatusCode::OK, Some(ok.into()), vec![], None).await,
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_))) => error_page(s, Some(u), &e),
        Err(e) => imports_with(s, u, crate::error::status_of(&e), None, vec![e.to_string()], None).await,
    }
}

async fn projects_with(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    flash_err: Option<String>,
    form: Vec<(String, String)>,
) -> Response {
    let projects = match s.db.list_projects(u, s.clock.now().date()).await {
        Ok(p) => p,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let units = s.db.list_units().await.unwrap_or_default();
    let categories = s.db.list_categories().await.unwrap_or_default();
    // What the clerk typed comes back on a refusal; repeated section fields keep their order.
    let one = |k: &str| form.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let many = |k: &str| form.iter().filter(|(kk, _)| kk == k).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let keys = [
        "title",
        "doc_no",
        "source_title",
        "source_date",
        "category_id",
        "lead_unit_id",
        "report_cycle",
        "deadline",
        "kind",
        "owner_unit_id",
        "location",
        "planned_investment",
        "annual_output",
        "annual_tax",
        "approvals_pending",
        "problems",
    ];
    let f: std::collections::HashMap<&str, String> = keys.iter().map(|k| (*k, one(k))).collect();
    let sections: Vec<_> = (0..4)
        .map(|i| {
            let at = |k: &str| many(k).get(i).cloned().unwrap_or_default();
            context! { name => at("section_name"), contractor => at("section_contractor"), start => at("section_start"), due => at("section_due") }
        })
        .collect();
    render(
        s,
        status,
        "projects.html",
        Some(u),
        context! { nav => "projects", projects => projects, units => units, categories => categories, flash_err => flash_err, f => f, sections => sections,
        kinds => xietong_storage::projects::PROJECT_KINDS.iter().map(|(c, l)| context! { code => c, label => l }).collect::<Vec<_>>(),
        cycles => xietong_supervision::ReportCycle::ALL.iter().map(|c| context! { code => c.code(), label => c.label_zh() }).collect::<Vec<_>>(),
        today => s.clock.now().date().to_string() },
    )
}

async fn projects_page(State(s): State<AppState>, PageUser(u, _): PageUser) -> Response {
    projects_with(&s, &u, StatusCode::OK, None, vec![]).await
}

fn parse_amount(field: &str, v: &str) -> Result<Option<f64>, StoreError> {
    Ok(xietong_supervision::validate::parse_number(field, v)?)
}

async fn project_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let one = |k: &str| form.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let many = |k: &str| form.iter().filter(|(kk, _)| kk == k).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let id = |k: &str, field: &str| -> Result<Option<i64>, StoreError> {
        match one(k).trim() {
            "" => Ok(None),
            v => v.parse::<i64>().map(Some).map_err(|_| StoreError::invalid(field, "请选择")),
        }
    };
    let snap = s.snapshot();
    let r = async {
        let lead = id("lead_unit_id", "牵头单位")?.ok_or_else(|| StoreError::invalid("牵头单位", "请选择"))?;
        let (names, contractors, starts, dues) =
            (many("section_name"), many("section_contractor"), many("section_start"), many("section_due"));
        let sections = names
            .iter()
            .enumerate()
            .filter(|(_, n)| !n.trim().is_empty())
            .map(|(i, n)| NewSection {
                name: n.clone(),
                contractor: contractors.get(i).cloned().unwrap_or_default(),
                start_on: starts.get(i).cloned().unwrap_or_default(),
                due_on: dues.get(i).cloned().unwrap_or_default(),
            })
            .collect();
        let n = NewProject {
            task: NewTask {
                title: one("title"),
                description: one("problems"),
                source_kind: "meeting".into(),
                doc_no: one("doc_no"),
                source_title: one("source_title"),
                source_date: one("source_date"),
                category_id: id("category_id", "工作类别")?,
                lead_unit_id: lead,
                report_cycle: one("report_cycle"),
                deadline: one("deadline"),
                assign_now: true,
                ..Default::default()
            },
            kind: one("kind"),
            owner_unit_id: id("owner_unit_id", "业主单位")?.ok_or_else(|| StoreError::invalid("业主单位", "请选择"))?,
            location: one("location"),
            planned_investment: parse_amount("计划总投资（万元）", &one("planned_investment"))?
                .ok_or_else(|| StoreError::invalid("计划总投资（万元）", "不能为空"))?,
            annual_output: parse_amount("预计年产值（万元）", &one("annual_output"))?,
            annual_tax: parse_amount("预计年税收（万元）", &one("annual_tax"))?,
            approvals_pending: one("approvals_pending"),
            problems: one("problems"),
            sections,
        };
        s.db.create_project(&u, &snap.ctx(), &n).await
    }
    .await;
    match r {
        Ok(id) => Redirect::to(&format!("/projects/{id}")).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_))) => error_page(&s, Some(&u), &e),
        Err(e) => projects_with(&s, &u, crate::error::status_of(&e), Some(e.to_string()), form).await,
    }
}

async fn project_with(s: &AppState, u: &SessionUser, id: i64, flash_err: Option<(StatusCode, String)>) -> Response {
    let p = match s.db.get_project(u, id, s.clock.now()).await {
        Ok(p) => p,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let snap = s.snapshot();
    let task =
        s.db.get_task(u, xietong_supervision::TaskId(p.task_id), snap.now)
            .await
            .ok()
            .map(|d| crate::views::task_view(d, u, &snap.cal, &snap.rules, snap.now));
    let may_report = task.as_ref().is_some_and(|t| t.allowed_actions.iter().any(|a| a.code == "report"));
    let (status, err) = match flash_err {
        Some((st, m)) => (st, Some(m)),
        None => (StatusCode::OK, None),
    };
    render(
        s,
        status,
        "project.html",
        Some(u),
        context! { nav => "projects", p => p, task => task, may_report => may_report, flash_err => err },
    )
}

async fn project_page(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>) -> Response {
    project_with(&s, &u, id, None).await
}

#[derive(Deserialize)]
struct SectionForm {
    project_id: i64,
    progress: String,
    text: String,
}

async fn section_report(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<SectionForm>,
) -> Response {
    let snap = s.snapshot();
    let r = async {
        let p = f
            .progress
            .trim()
            .parse::<i64>()
            .map_err(|_| StoreError::invalid("标段进度", format!("「{}」不是整数", f.progress.trim())))?;
        s.db.report_section(&u, &snap.ctx(), id, p, &f.text).await
    }
    .await;
    match r {
        Ok(p) => Redirect::to(&format!("/projects/{}", p.id)).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_) | StoreError::NotFound(_))) => {
            error_page(&s, Some(&u), &e)
        }
        Err(e) => project_with(&s, &u, f.project_id, Some((crate::error::status_of(&e), e.to_string()))).await,
    }
}

async fn lists_page(State(s): State<AppState>, PageUser(u, _): PageUser) -> Response {
    match s.db.task_lists(&u).await {
        Ok(l) => render(&s, StatusCode::OK, "lists.html", Some(&u), context! { nav => "lists", lists => l }),
        Err(e) => error_page(&s, Some(&u), &e),
    }
}

async fn list_page(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>) -> Response {
    let snap = s.snapshot();
    match s.db.list_items(&u, id).await {
        Ok((l, tasks)) => {
            let rows: Vec<_> = tasks.into_iter().map(|t| task_row(t, &snap.cal, &snap.rules, snap.now, None)).collect();
            render(&s, StatusCode::OK, "list.html", Some(&u), context! { nav => "lists", l => l, rows => rows })
        }
        Err(e) => error_page(&s, Some(&u), &e),
    }
}

async fn achievements_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    achievements_with(&s, &u, q.get("q").cloned().unwrap_or_default()).await
}

/// The search form posts, so a pasted description of any length reaches the length check and
/// gets its Chinese message (a URL that long would be refused before the application sees it).
async fn achievements_search(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Form(f): Form<std::collections::HashMap<String, String>>,
) -> Response {
    achievements_with(&s, &u, f.get("q").cloned().unwrap_or_default()).await
}

async fn achievements_with(s: &AppState, u: &SessionUser, query: String) -> Response {
    let (s, u) = (s.clone(), u.clone());
    if let Err(e) = crate::docking_api::may_read_libraries(&u) {
        return error_page(&s, Some(&u), &e);
    }
    let (hits, err) = if query.trim().is_empty() {
        (vec![], None)
    } else {
        match crate::docking_api::run_match(&s, &u, &query, 20).await {
            Ok(h) => (h, None),
            Err(e @ StoreError::Internal(_)) => return error_page(&s, Some(&u), &e),
            Err(e) => (vec![], Some(e.to_string())),
        }
    };
    let all = s.db.published_achievements().await.unwrap_or_default();
    let total = all.len();
    let recent: Vec<_> = all.into_iter().rev().take(30).collect();
    render(
        &s,
        if err.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK },
        "achievements.html",
        Some(&u),
        context! { nav => "achievements", sub => "library", d => crate::docking_pages::role_ctx(&u), q => query, hits => hits, flash_err => err, total => total, recent => recent },
    )
}
