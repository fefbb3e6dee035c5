//! Batch actions on tasks, for a clerk with many at once: 批量签收 (a liaison receives the tasks
//! handed to the unit), 批量催办 (the 督查局 urges), 批量导出 (the ticked rows as a ledger).
//!
//! A batch is not a transaction: each task goes through the single-task path
//! ([`xietong_storage::Db::perform`]) — its own transaction, scope and state check, timeline
//! entry and audit entry — and the answer says, row by row, what was done and why the rest was
//! refused (in Chinese). Some rows may succeed while others are refused; unlike an import, that
//! is what a clerk wants here. Fired twice at once, a task is still received once: the second
//! finds it 已签收 and is refused.

use axum::Json;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::tasks::Command;
use xietong_supervision::TaskId;

use crate::AppState;
use crate::api::J;
use crate::auth::{ApiUser, PageUser};
use crate::error::{ApiError, ErrorBody, status_of};
use crate::views::task_row;

/// The most tasks one batch takes (a page of the task list is 50).
pub const MAX_BATCH: usize = 200;

/// What a batch can do to each task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchAction {
    Receive,
    Urge,
}

impl BatchAction {
    fn label(self) -> &'static str {
        match self {
            Self::Receive => "签收",
            Self::Urge => "催办",
        }
    }

    fn command(self, comment: &str) -> Command {
        match self {
            Self::Receive => Command::Receive { comment: comment.to_string() },
            Self::Urge => Command::Urge { comment: comment.to_string() },
        }
    }
}

#[derive(Deserialize, ToSchema, Debug, Default)]
pub struct BatchBody {
    /// 任务编号，1–200 个；重复的只办理一次
    pub ids: Vec<i64>,
    /// 签收意见或催办内容（可不填，催办默认“请抓紧办理”）
    #[serde(default)]
    pub comment: Option<String>,
}

/// What happened to one task of a batch.
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct BatchOutcome {
    pub id: i64,
    /// 任务名称（仅当前账号可查看的任务）
    pub title: Option<String>,
    pub ok: bool,
    /// 单独办理这一项时的状态码：200 已办理；400 / 403 / 404 / 409 / 503 未办理
    pub status: u16,
    /// “已签收” / “已催办”，或未办理的原因
    pub message: String,
}

/// The answer to a batch: one outcome per task, in the order given.
#[derive(Serialize, ToSchema, Debug)]
pub struct BatchReport {
    /// 办理成功的项数
    pub done: usize,
    /// 未办理的项数
    pub refused: usize,
    pub results: Vec<BatchOutcome>,
}

/// The ids of a batch, checked: 1–[`MAX_BATCH`] of them, repeats dropped (first kept).
pub fn batch_ids(ids: &[i64]) -> Result<Vec<i64>, StoreError> {
    let mut out: Vec<i64> = vec![];
    for id in ids {
        if !out.contains(id) {
            out.push(*id);
        }
    }
    if out.is_empty() {
        return Err(StoreError::invalid("ids", "请至少选择一项任务"));
    }
    if out.len() > MAX_BATCH {
        return Err(StoreError::invalid("ids", format!("一次最多办理 {MAX_BATCH} 项任务（当前 {} 项）", out.len())));
    }
    Ok(out)
}

/// The title of a task the user may view; `None` otherwise (a refusal names no title it hides).
async fn visible_title(s: &AppState, u: &SessionUser, id: i64) -> Option<String> {
    s.db.get_task(u, TaskId(id), s.clock.now()).await.ok().map(|d| d.task.title)
}

/// Do `action` to each task in turn, each through [`xietong_storage::Db::perform`].
pub async fn run(
    s: &AppState,
    u: &SessionUser,
    action: BatchAction,
    ids: &[i64],
    comment: &str,
) -> Result<BatchReport, StoreError> {
    let ids = batch_ids(ids)?;
    let mut results = Vec::with_capacity(ids.len());
    for id in ids {
        let snap = s.snapshot();
        let outcome = match s.db.perform(u, &snap.ctx(), TaskId(id), action.command(comment)).await {
            Ok(d) => BatchOutcome {
                id,
                title: Some(d.task.title),
                ok: true,
                status: 200,
                message: format!("已{}", action.label()),
            },
            Err(e) => {
                if let StoreError::Internal(detail) = &e {
                    tracing::error!(%detail, task = id, "batch {} failed", action.label());
                }
                BatchOutcome {
                    id,
                    title: visible_title(s, u, id).await,
                    ok: false,
                    status: status_of(&e).as_u16(),
                    message: e.to_string(),
                }
            }
        };
        results.push(outcome);
    }
    let done = results.iter().filter(|r| r.ok).count();
    Ok(BatchReport { done, refused: results.len() - done, results })
}

/// 批量签收：联络员一次签收多项已交办给本单位的任务。每项单独办理、单独记入时间线和审计日志；
/// 逐项答复成功或未办理的原因（部分成功时仍为 200）。
#[utoipa::path(post, path = "/api/tasks/batch/receive", request_body = BatchBody, tag = "督查督办",
    responses(
        (status = 200, body = BatchReport),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)
    ))]
pub(super) async fn receive_api(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(b): J<BatchBody>,
) -> Result<Json<BatchReport>, ApiError> {
    Ok(Json(run(&s, &u, BatchAction::Receive, &b.ids, b.comment.as_deref().unwrap_or("")).await?))
}

/// 批量催办：督查局一次催办多项任务（每项计入每周催办上限）。每项单独办理、单独记入时间线和审计日志；
/// 逐项答复成功或未办理的原因（部分成功时仍为 200）。
#[utoipa::path(post, path = "/api/tasks/batch/urge", request_body = BatchBody, tag = "督查督办",
    responses(
        (status = 200, body = BatchReport),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)
    ))]
pub(super) async fn urge_api(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(b): J<BatchBody>,
) -> Result<Json<BatchReport>, ApiError> {
    Ok(Json(run(&s, &u, BatchAction::Urge, &b.ids, b.comment.as_deref().unwrap_or("")).await?))
}

/// The ticked tasks as a ledger: those the user may view, in the order given; the others on a
/// second sheet 未导出 with the reason.
async fn export_selected(s: &AppState, u: &SessionUser, ids: &[i64]) -> Result<Response, StoreError> {
    let ids = batch_ids(ids)?;
    let snap = s.snapshot();
    let (mut rows, mut refused) = (vec![], vec![]);
    for id in ids {
        match s.db.get_task(u, TaskId(id), snap.now).await {
            Ok(d) => rows.push(task_row(d.task, &snap.cal, &snap.rules, snap.now, None)),
            Err(e @ (StoreError::Denied(_) | StoreError::NotFound(_))) => refused.push((id, e.to_string())),
            Err(e) => return Err(e),
        }
    }
    super::paper::ledger_xlsx(s, &snap, "（所选任务）", &rows, refused).await
}

#[derive(Deserialize, ToSchema, Debug)]
pub struct ExportBody {
    /// 任务编号，1–200 个
    pub ids: Vec<i64>,
}

/// 批量导出：所选任务的台账（Excel，打印版式同任务台账）。无权查看的任务不导出，列在“未导出”工作表并说明原因。
#[utoipa::path(post, path = "/api/tasks/batch/export", request_body = ExportBody, tag = "导入导出",
    responses(
        (status = 200, description = "Excel 文件",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn export_api(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(b): J<ExportBody>,
) -> Result<Response, ApiError> {
    Ok(export_selected(&s, &u, &b.ids).await?)
}

/// A batch form of the task list or 待办: the ticked `id`s, a comment, where to go back to.
struct BatchForm {
    ids: Result<Vec<i64>, StoreError>,
    comment: String,
    back: String,
}

fn batch_form(form: &[(String, String)]) -> BatchForm {
    let ids = form
        .iter()
        .filter(|(k, v)| k == "id" && !v.trim().is_empty())
        .map(|(_, v)| v.trim().parse::<i64>().map_err(|_| StoreError::invalid("任务", format!("「{v}」不是任务编号"))))
        .collect();
    let get = |k: &str| form.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    // Back to the list the form was on, never to another site.
    let back = get("back");
    let back =
        if back.starts_with('/') && !back.starts_with("//") && !back.contains('\\') { back } else { "/tasks".into() };
    BatchForm { ids, comment: get("comment"), back }
}

async fn batch_page(s: &AppState, u: &SessionUser, action: BatchAction, form: &[(String, String)]) -> Response {
    let f = batch_form(form);
    let result = match f.ids {
        Ok(ids) => run(s, u, action, &ids, &f.comment).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(report) => crate::pages::render(
            s,
            StatusCode::OK,
            "task_batch.html",
            Some(u),
            context! { nav => "tasks", action => action.label(), report => report, back => f.back },
        ),
        Err(e) => crate::pages::error_page(s, Some(u), &e),
    }
}

/// 批量签收 from the task list or 待办.
pub(super) async fn receive_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    batch_page(&s, &u, BatchAction::Receive, &form).await
}

/// 批量催办 from the task list or 待办.
pub(super) async fn urge_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    batch_page(&s, &u, BatchAction::Urge, &form).await
}

/// 批量导出 from the task list or 待办: the file, or a page saying what is wrong.
pub(super) async fn export_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let f = batch_form(form.as_slice());
    let result = match f.ids {
        Ok(ids) => export_selected(&s, &u, &ids).await,
        Err(e) => Err(e),
    };
    result.unwrap_or_else(|e| crate::pages::error_page(&s, Some(&u), &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_and_deduplicated() {
        assert_eq!(batch_ids(&[3, 1, 3, 2, 1]).unwrap(), vec![3, 1, 2]);
        assert!(batch_ids(&[]).unwrap_err().to_string().contains("请至少选择一项任务"));
        let many: Vec<i64> = (0..=MAX_BATCH as i64).collect();
        assert!(batch_ids(&many).unwrap_err().to_string().contains("一次最多办理 200 项"));
        assert_eq!(batch_ids(&[5; 500]).unwrap(), vec![5]);
    }

    #[test]
    fn the_form_goes_back_only_to_this_site() {
        let form = |back: &str| vec![("id".to_string(), "4".to_string()), ("back".to_string(), back.to_string())];
        assert_eq!(batch_form(&form("/todo")).back, "/todo");
        assert_eq!(batch_form(&form("//evil.example")).back, "/tasks");
        assert_eq!(batch_form(&form("https://evil.example")).back, "/tasks");
        assert!(batch_form(&[("id".into(), "x".into())]).ids.is_err());
    }
}
