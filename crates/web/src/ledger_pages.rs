//! Pages for ledgers that live in Excel today: imports (templates, uploads with row errors),
//! key projects with their bid sections, and 清单.

use axum::extract::{Form, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use minijinja::context;
use serde::Deserialize;
use xietong_storage::auth::SessionUser;
use xietong_storage::StoreError;

use crate::auth::PageUser;
use crate::office_api::{do_import, read_upload, save_notice_template};
use crate::pages::{error_page, render};
use crate::views::task_row;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/imports", get(imports_page))
        .route("/imports/{kind}", post(import_submit))
        .route("/notice-template", post(template_submit))
        .route("/notice-template/reset", post(template_reset))
        .route("/projects", get(projects_page))
        .route("/projects/{id}", get(project_page))
        .route("/sections/{id}/report", post(section_report))
        .route("/lists", get(lists_page))
        .route("/lists/{id}", get(list_page))
}

async fn imports_with(s: &AppState, u: &SessionUser, status: StatusCode, ok: Option<String>, errors: Vec<String>, kind: Option<&str>) -> Response {
    let categories = s.db.list_categories().await.unwrap_or_default();
    let lists = s.db.task_lists(u).await.unwrap_or_default();
    render(
        s,
        status,
        "imports.html",
        Some(u),
        context! { nav => "imports", categories => categories, flash_ok => ok, errors => errors, kind => kind, lists => lists,
                   today => s.clock.now().date().to_string() },
    )
}

async fn imports_page(State(s): State<AppState>, PageUser(u, _): PageUser) -> Response {
    imports_with(&s, &u, StatusCode::OK, None, vec![], None).await
}

async fn import_submit(State(s): State<AppState>, PageUser(u, _): PageUser, Path(kind): Path<String>, mp: Multipart) -> Response {
    if !matches!(kind.as_str(), "tasks" | "list" | "indicators") {
        return error_page(&s, Some(&u), &StoreError::NotFound("没有这种导入".into()));
    }
    match do_import(&s, &u, &kind, mp).await {
        Ok(r) => {
            let what = match kind.as_str() {
                "tasks" => "项督办任务（已立项并交办）",
                "list" => "项清单事项（各为一项督办任务）",
                _ => "项数值指标",
            };
            if let Some(l) = r.list_id {
                return Redirect::to(&format!("/lists/{l}")).into_response();
            }
            imports_with(&s, &u, StatusCode::OK, Some(format!("导入成功：{} 行，新建 {} {what}", r.rows, r.created_ids.len())), vec![], Some(&kind)).await
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
        let (_, bytes, _) = read_upload(mp).await?;
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

async fn projects_page(State(s): State<AppState>, PageUser(u, _): PageUser) -> Response {
    match s.db.list_projects(&u, s.clock.now().date()).await {
        Ok(p) => render(&s, StatusCode::OK, "projects.html", Some(&u), context! { nav => "projects", projects => p }),
        Err(e) => error_page(&s, Some(&u), &e),
    }
}

async fn project_with(s: &AppState, u: &SessionUser, id: i64, flash_err: Option<(StatusCode, String)>) -> Response {
    let p = match s.db.get_project(u, id, s.clock.now()).await {
        Ok(p) => p,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let snap = s.snapshot();
    let task = s.db.get_task(u, p.task_id, snap.now).await.ok().map(|d| crate::views::task_view(d, u, &snap.cal, &snap.rules, snap.now));
    let may_report = task.as_ref().is_some_and(|t| t.allowed_actions.iter().any(|a| a.code == "report"));
    let (status, err) = match flash_err {
        Some((st, m)) => (st, Some(m)),
        None => (StatusCode::OK, None),
    };
    render(s, status, "project.html", Some(u), context! { nav => "projects", p => p, task => task, may_report => may_report, flash_err => err })
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

async fn section_report(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>, Form(f): Form<SectionForm>) -> Response {
    let snap = s.snapshot();
    let r = async {
        let p = f.progress.trim().parse::<i64>().map_err(|_| StoreError::invalid("标段进度", format!("「{}」不是整数", f.progress.trim())))?;
        s.db.report_section(&u, &snap.ctx(), id, p, &f.text).await
    }
    .await;
    match r {
        Ok(p) => Redirect::to(&format!("/projects/{}", p.id)).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_) | StoreError::NotFound(_))) => error_page(&s, Some(&u), &e),
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
