//! Tasks on paper: the 督办通知单 of one task (Word, with its 回执) and the task ledger (Excel)
//! of what the task list shows — its filters applied, every page — or of the rows a clerk
//! ticked. Both read through the storage layer's data scope, as the task page and list do.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use xietong_office::table::{Cell, Column};
use xietong_office::{TaskOrder, render_task_order};
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::tasks::{TaskDetail, TaskFilter};
use xietong_supervision::TaskId;

use crate::api::Q;
use crate::auth::{ApiUser, PageUser};
use crate::downloads::{DOCX, XLSX, download};
use crate::error::{ApiError, ErrorBody};
use crate::views::{TaskRow, task_row};
use crate::{AppState, Snapshot};

/// The issuing office named on paper (setting `issuer_name`).
pub async fn issuer(s: &AppState) -> Result<String, StoreError> {
    Ok(s.db.get_setting("issuer_name").await?.filter(|v| !v.trim().is_empty()).unwrap_or_else(|| "二七区督查局".into()))
}

fn office_err(e: xietong_office::OfficeError) -> StoreError {
    StoreError::BadInput(e.to_string())
}

/// What the 督查局 asks of the unit on every 督办通知单.
fn instructions(d: &TaskDetail) -> String {
    let t = &d.task;
    format!(
        "请于收到本通知单当日签收，2个工作小时内分解到科室和责任人，按“{cycle}”报送进展，{deadline}前办结；\
         确需延期的，应在期限届满前申请。逾期未办结的，将予催办、通报。",
        cycle = t.report_cycle.label_zh(),
        deadline = t.deadline.format("%Y年%m月%d日"),
    )
}

/// The 督办通知单 of a task the user may view (else the same refusal as the task page).
pub async fn task_order(s: &AppState, u: &SessionUser, id: i64) -> Result<(String, Vec<u8>), StoreError> {
    let snap = s.snapshot();
    let d = s.db.get_task(u, TaskId(id), snap.now).await?;
    let t = &d.task;
    let source = match (t.source_title.trim(), t.source_date.trim()) {
        ("", "") => t.source_kind.label_zh().to_string(),
        (title, "") => format!("{}：{title}", t.source_kind.label_zh()),
        (title, date) => format!("{}：{title}（{date}）", t.source_kind.label_zh()),
    };
    let order = TaskOrder {
        issuer: issuer(s).await?,
        serial: format!("督办〔{}〕{}号", t.assigned_at.unwrap_or(t.received_at).format("%Y"), t.id),
        title: t.title.clone(),
        doc_no: t.doc_no.clone(),
        source,
        category: t.category_name.clone().unwrap_or_default(),
        lead_unit: t.lead_unit_name.clone(),
        lead_unit_head: t.lead_unit_head.clone().unwrap_or_default(),
        co_units: d.co_units.iter().map(|c| c.name.clone()).collect(),
        leader: t.leader_name.clone().unwrap_or_default(),
        report_cycle: t.report_cycle.label_zh().to_string(),
        requirements: if t.description.trim().is_empty() { t.title.clone() } else { t.description.clone() },
        deadline: t.deadline,
        instructions: instructions(&d),
        // Issued when handed over; before that, the day it is printed.
        date: t.assigned_at.unwrap_or(snap.now).date(),
    };
    let name = format!("督办通知单（{}）.docx", if t.doc_no.trim().is_empty() { &t.title } else { &t.doc_no });
    let bytes = s.heavy(move || render_task_order(&order).map_err(office_err)).await?;
    Ok((name, bytes))
}

/// 下载一项任务的督办通知单（Word，含回执，可直接打印盖章）。与查看任务的数据范围相同。
#[utoipa::path(get, path = "/api/tasks/{id}/notice.docx", tag = "督查督办",
    params(("id" = i64, Path, description = "任务编号")),
    responses(
        (status = 200, description = "Word 文件",
            content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn notice_api(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let (name, bytes) = task_order(&s, &u, id).await?;
    Ok(download(DOCX, &name, bytes))
}

/// The task page's 督办通知单 link: the file, or the task page's refusal as a page.
pub(super) async fn notice_page(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>) -> Response {
    match task_order(&s, &u, id).await {
        Ok((name, bytes)) => download(DOCX, &name, bytes),
        Err(e) => crate::pages::error_page(&s, Some(&u), &e),
    }
}

/// The columns of the task ledger.
fn ledger_columns() -> Vec<Column> {
    [
        "编号",
        "亮灯",
        "任务名称",
        "文号",
        "任务来源",
        "工作类别",
        "牵头单位",
        "一把手",
        "分管领导",
        "状态",
        "进度(%)",
        "办理期限",
        "收件时间",
        "交办时间",
        "分解时间",
    ]
    .iter()
    .map(|h| Column::plain(h, 12.0))
    .collect()
}

fn ledger_cells(r: &TaskRow) -> Vec<Cell> {
    let t = &r.task;
    let dt = |x: Option<chrono::NaiveDateTime>| {
        x.map(|x| Cell::Text(x.format("%Y-%m-%d %H:%M").to_string())).unwrap_or(Cell::Empty)
    };
    let breaches =
        if r.clock_breaches.is_empty() { String::new() } else { format!("（{}）", r.clock_breaches.join("、")) };
    vec![
        Cell::Number(t.id as f64),
        Cell::Text(r.light_label.clone()),
        Cell::Text(t.title.clone()),
        Cell::Text(t.doc_no.clone()),
        Cell::Text(t.source_kind.label_zh().into()),
        Cell::Text(t.category_name.clone().unwrap_or_default()),
        Cell::Text(t.lead_unit_name.clone()),
        Cell::Text(t.lead_unit_head.clone().unwrap_or_default()),
        Cell::Text(t.leader_name.clone().unwrap_or_default()),
        Cell::Text(format!("{}{breaches}", r.status_label)),
        Cell::Number(t.progress as f64),
        dt(Some(t.deadline)),
        dt(Some(t.received_at)),
        dt(t.assigned_at),
        dt(t.decomposed_at),
    ]
}

/// The task ledger of these rows as .xlsx; `refused` (id, reason) become a second sheet.
pub async fn ledger_xlsx(
    s: &AppState,
    snap: &Snapshot,
    what: &str,
    rows: &[TaskRow],
    refused: Vec<(i64, String)>,
) -> Result<Response, StoreError> {
    let title = format!("督办任务台账{what}（导出时间 {}）", snap.now.format("%Y-%m-%d %H:%M"));
    let cells: Vec<Vec<Cell>> = rows.iter().map(ledger_cells).collect();
    let mut sheets = vec![xietong_office::SheetData {
        name: "任务台账".into(),
        title: Some(title),
        columns: ledger_columns(),
        rows: cells,
    }];
    if !refused.is_empty() {
        sheets.push(xietong_office::SheetData {
            name: "未导出".into(),
            title: Some("以下任务未导出".into()),
            columns: vec![Column::plain("编号", 8.0), Column::plain("原因", 40.0)],
            rows: refused.into_iter().map(|(id, why)| vec![Cell::Number(id as f64), Cell::Text(why)]).collect(),
        });
    }
    let bytes = s.heavy(move || xietong_office::export_workbook(&sheets).map_err(office_err)).await?;
    Ok(download(XLSX, &format!("督办任务台账_{}.xlsx", snap.now.format("%Y%m%d")), bytes))
}

/// At most this many rows in one ledger export.
const MAX_EXPORT_ROWS: usize = 100_000;

/// Every task the filter selects (all pages, as the list would page through them).
pub async fn filtered_rows(
    s: &AppState,
    u: &SessionUser,
    snap: &Snapshot,
    f: &TaskFilter,
) -> Result<Vec<TaskRow>, StoreError> {
    const PAGE: i64 = 500;
    let mut f = f.clone();
    f.page_size = Some(PAGE);
    let mut rows = vec![];
    for page in 1.. {
        f.page = Some(page);
        let p = s.db.list_tasks(u, &snap.ctx(), &f).await?;
        let n = p.items.len() as i64;
        rows.extend(p.items.into_iter().map(|t| task_row(t, &snap.cal, &snap.rules, snap.now, None)));
        if n < PAGE || rows.len() >= MAX_EXPORT_ROWS {
            break;
        }
    }
    Ok(rows)
}

/// The query string of the task list's 导出 link: the filters the list shows, without its page.
pub fn export_query(f: &TaskFilter) -> String {
    let mut pairs: Vec<(&str, String)> = vec![];
    let mut put = |k, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            pairs.push((k, v));
        }
    };
    put("status", f.status.clone());
    put("light", f.light.clone());
    put("lead_unit_id", f.lead_unit_id.map(|v| v.to_string()));
    put("category_id", f.category_id.map(|v| v.to_string()));
    put("source_kind", f.source_kind.clone());
    put("q", f.q.clone());
    put("area", f.area.clone());
    if pairs.is_empty() {
        String::new()
    } else {
        format!("?{}", serde_urlencoded::to_string(&pairs).unwrap_or_default())
    }
}

/// 导出任务台账（Excel）：与任务列表相同的筛选条件和数据范围，导出全部页（不分页）；打印版式为 A4 横向、
/// 所有列缩放到一页宽、每页重复表头。
#[utoipa::path(get, path = "/api/exports/tasks", params(TaskFilter), tag = "导入导出",
    responses(
        (status = 200, description = "Excel 文件",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, body = ErrorBody)))]
pub(super) async fn export_api(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(f): Q<TaskFilter>,
) -> Result<Response, ApiError> {
    let snap = s.snapshot();
    let rows = filtered_rows(&s, &u, &snap, &f).await?;
    Ok(ledger_xlsx(&s, &snap, "", &rows, vec![]).await?.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_export_link_carries_the_filters_but_not_the_page() {
        let f = TaskFilter {
            status: Some("assigned".into()),
            light: Some(String::new()),
            lead_unit_id: Some(7),
            q: Some("道路 改造&".into()),
            page: Some(3),
            ..TaskFilter::default()
        };
        assert_eq!(export_query(&f), "?status=assigned&lead_unit_id=7&q=%E9%81%93%E8%B7%AF+%E6%94%B9%E9%80%A0%26");
        assert_eq!(export_query(&TaskFilter::default()), "");
    }
}
