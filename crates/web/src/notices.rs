//! 督查通报 on paper (issue 13, item 6): a single notice as Word — through the administrator's
//! 通报模板, like the monthly notice — and the notice list as Excel. The notices' API and pages
//! are in [`crate::outcomes_api`] and [`crate::outcomes_pages`]; notices are published documents
//! that every district role reads, so these follow the same rule.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_office::notice::{NoticeDoc, NoticeTable, render_notice};
use xietong_office::table::{Cell, Column};
use xietong_storage::StoreError;
use xietong_storage::notices::Notice;

use crate::AppState;
use crate::auth::{ApiUser, PageUser};
use crate::error::{ApiError, ErrorBody};
use crate::office_api::{DOCX, XLSX, download, notice_template};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(notice_docx_api)).routes(routes!(export_api))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new().route("/notices/{id}/notice.docx", get(notice_docx_page))
}

fn office_err(e: xietong_office::OfficeError) -> StoreError {
    StoreError::BadInput(e.to_string())
}

/// A notice as its Word document says it: the body, and the units and people it names (each
/// unit's 一把手 when no one else was named) with their tasks.
fn notice_doc(n: &Notice, issuer: String) -> NoticeDoc {
    let rows: Vec<Vec<String>> = n
        .records
        .iter()
        .map(|r| {
            let person = match (&r.person_name, &r.person_post) {
                (Some(name), Some(post)) if !post.is_empty() => format!("{name}（{post}）"),
                (Some(name), _) => name.clone(),
                _ => "—".into(),
            };
            vec![r.unit_name.clone(), person, r.task_title.clone().unwrap_or_else(|| "—".into())]
        })
        .collect();
    NoticeDoc {
        title: n.title.clone(),
        doc_no: n.doc_no.clone(),
        issuer,
        date: n.issued_on,
        kind_label: n.kind_label.clone(),
        paragraphs: vec![n.body.clone()],
        tables: if rows.is_empty() {
            vec![]
        } else {
            vec![NoticeTable {
                caption: format!("{}对象", n.kind_label),
                headers: ["单位", "责任人", "涉及任务"].iter().map(|h| h.to_string()).collect(),
                rows,
            }]
        },
        laggards: vec![],
        annex: vec![],
    }
}

async fn notice_file(s: &AppState, id: i64) -> Result<(String, Vec<u8>), StoreError> {
    let n = s.db.get_notice(id).await?;
    let doc = notice_doc(&n, crate::tasks::paper::issuer(s).await?);
    let template = notice_template(s).await?;
    let name = format!("{}.docx", n.title);
    let bytes = s.heavy(move || render_notice(template.as_deref(), &doc).map_err(office_err)).await?;
    Ok((name, bytes))
}

/// 下载一份督查通报（Word），按当前通报模板排版，含通报对象表。
#[utoipa::path(get, path = "/api/notices/{id}/notice.docx", tag = "通报",
    params(("id" = i64, Path, description = "通报编号")),
    responses(
        (status = 200, description = "Word 文件",
            content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (status = 404, body = ErrorBody)))]
async fn notice_docx_api(
    State(s): State<AppState>,
    ApiUser(_u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let (name, bytes) = notice_file(&s, id).await?;
    Ok(download(DOCX, &name, bytes))
}

/// The notice page's Word link.
async fn notice_docx_page(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>) -> Response {
    match notice_file(&s, id).await {
        Ok((name, bytes)) => download(DOCX, &name, bytes),
        Err(e) => crate::pages::error_page(&s, Some(&u), &e),
    }
}

/// 导出督查通报列表（Excel，与通报页相同），每个通报对象一行。
#[utoipa::path(get, path = "/api/exports/notices", tag = "导入导出",
    responses(
        (status = 200, description = "Excel 文件",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
async fn export_api(State(s): State<AppState>, ApiUser(_u, _): ApiUser) -> Result<Response, ApiError> {
    let now = s.clock.now();
    let notices = s.db.list_notices().await?;
    let cols: Vec<Column> = ["编号", "发布日期", "类型", "文号", "标题", "通报对象", "责任人", "涉及任务"]
        .iter()
        .map(|h| Column::plain(h, 12.0))
        .collect();
    let mut rows = vec![];
    for n in &notices {
        let head = |rows: &mut Vec<Vec<Cell>>, tail: [Cell; 3]| {
            let mut r = vec![
                Cell::Number(n.id as f64),
                Cell::Date(n.issued_on),
                Cell::Text(n.kind_label.clone()),
                Cell::Text(n.doc_no.clone()),
                Cell::Text(n.title.clone()),
            ];
            r.extend(tail);
            rows.push(r);
        };
        if n.records.is_empty() {
            head(&mut rows, [Cell::Empty, Cell::Empty, Cell::Empty]);
        }
        for r in &n.records {
            head(
                &mut rows,
                [Cell::Text(r.unit_name.clone()), Cell::from(r.person_name.clone()), Cell::from(r.task_title.clone())],
            );
        }
    }
    let title = format!("督查通报（导出时间 {}）", now.format("%Y-%m-%d %H:%M"));
    let bytes = s
        .heavy(move || xietong_office::export_table("督查通报", Some(&title), &cols, &rows).map_err(office_err))
        .await?;
    Ok(download(XLSX, &format!("督查通报_{}.xlsx", now.format("%Y%m%d")), bytes))
}
