//! 督查通报: issuing and reading notices, the 通报 Word template, a single notice as Word and the list
//! as Excel (API and pages). Notices are published documents that every district role reads.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_office::notice::{NoticeDoc, NoticeTable, check_template, default_template, render_notice};
use xietong_office::table::{Cell, Column};
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::notices::{NewNotice, Notice, NoticeTarget};
use xietong_supervision::Role;
use xietong_supervision::ranking::NoticeKind;

use crate::AppState;
use crate::api::{J, Q};
use crate::auth::{ApiUser, PageUser};
use crate::downloads::office_err;
use crate::downloads::{DOCX, XLSX, download};
use crate::error::{ApiError, ErrorBody};
use crate::forms::{Fields, FormView};
use crate::imports::{Upload, imports_with, read_upload};
use crate::pages::{error_page, render};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_notice_template, put_notice_template))
        .routes(routes!(list_notices, issue_notice))
        .routes(routes!(get_notice))
        .routes(routes!(notice_docx_api))
        .routes(routes!(export_api))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/notices", get(notices_page).post(notice_submit))
        .route("/notices/{id}", get(notice_page))
        .route("/notice-template", post(template_submit))
        .route("/notice-template/reset", post(template_reset))
        .route("/notices/{id}/notice.docx", get(notice_docx_page))
}

/// 督查通报列表。
#[utoipa::path(get, path = "/api/notices", tag = "通报", responses((status = 200, body = Vec<Notice>), (status = 401, body = ErrorBody)))]
async fn list_notices(State(s): State<AppState>, ApiUser(_u, _): ApiUser) -> Result<Json<Vec<Notice>>, ApiError> {
    Ok(Json(s.db.list_notices().await?))
}

/// 发布督查通报（表扬 / 批评 / 预警），记入单位业绩和个人政绩记录。仅督查局。
#[utoipa::path(post, path = "/api/notices", request_body = NewNotice, tag = "通报",
    responses((status = 201, body = Notice), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn issue_notice(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(n): J<NewNotice>,
) -> Result<(StatusCode, Json<Notice>), ApiError> {
    let id = s.db.issue_notice(&u, &n, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(s.db.get_notice(id).await?)))
}

/// 一份通报及其记录。
#[utoipa::path(get, path = "/api/notices/{id}", params(("id" = i64, Path, description = "通报编号")), tag = "通报",
    responses((status = 200, body = Notice), (status = 404, body = ErrorBody)))]
async fn get_notice(
    State(s): State<AppState>,
    ApiUser(_u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Notice>, ApiError> {
    Ok(Json(s.db.get_notice(id).await?))
}

async fn notices_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let ranking_id = q.get("ranking_id").and_then(|r| r.parse::<i64>().ok());
    notices_with(&s, &u, ranking_id, None, StatusCode::OK, FormView::fresh(Fields::default())).await
}

async fn notices_with(
    s: &AppState,
    u: &SessionUser,
    ranking_id: Option<i64>,
    flash_err: Option<String>,
    status: StatusCode,
    form: FormView,
) -> Response {
    let notices = match s.db.list_notices().await {
        Ok(n) => n,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let units = s.db.list_units().await.unwrap_or_default();
    let ranking = match ranking_id {
        Some(r) => s.db.get_ranking(r).await.ok(),
        None => None,
    };
    let kinds: Vec<_> = NoticeKind::ALL.iter().map(|k| context! { code => k.code(), label => k.label_zh() }).collect();
    render(
        s,
        status,
        "notices.html",
        Some(u),
        context! { nav => "notices", notices => notices, units => units, kinds => kinds, ranking => ranking, flash_err => flash_err,
        today => s.clock.now().date().to_string(), f => form.value() },
    )
}

/// 发布通报 from the page, in two steps: the first submission shows what will be published (and
/// whose 政绩 record it names), only the second — with `confirm` — publishes it. A notice cannot
/// be withdrawn, so one click never publishes it.
async fn notice_submit(State(s): State<AppState>, PageUser(u, _): PageUser, form: Fields) -> Response {
    let get = |k: &str| form.s(k);
    let ranking_id = get("ranking_id").trim().parse::<i64>().ok();
    if form.on("back") {
        return notices_with(&s, &u, ranking_id, None, StatusCode::OK, FormView::kept(form)).await;
    }
    let r = async {
        let targets = form
            .ids("unit_id", "通报对象")?
            .into_iter()
            .map(|unit_id| NoticeTarget { unit_id, person_id: None, task_id: None })
            .collect();
        let n = NewNotice {
            kind: get("kind"),
            doc_no: get("doc_no"),
            title: get("title"),
            body: get("body"),
            issued_on: get("issued_on"),
            targets,
            ranking_id,
        };
        if form.on("confirm") {
            s.db.issue_notice(&u, &n, s.clock.now()).await.map(Ok)
        } else {
            s.db.preview_notice(&u, &n, s.clock.now()).await.map(Err)
        }
    }
    .await;
    match r {
        Ok(Ok(id)) => Redirect::to(&format!("/notices/{id}")).into_response(),
        Ok(Err(p)) => {
            let mut rows = vec![
                ("通报类型".to_string(), p.kind_label.clone()),
                ("文号".into(), p.doc_no.clone()),
                ("发布日期".into(), p.issued_on.to_string()),
                ("标题".into(), p.title.clone()),
                ("正文".into(), p.body.clone()),
            ];
            for t in &p.targets {
                let who = t.person_name.clone().unwrap_or_else(|| "（该单位未设一把手，仅记入单位业绩）".into());
                rows.push(("通报对象".into(), format!("{}，记入 {who} 的个人政绩记录", t.unit_name)));
            }
            crate::pages::confirm_page(
                &s,
                &u,
                crate::pages::Confirm {
                    title: format!("确认发布{}通报", p.kind_label),
                    warning: "通报发布后即通知被通报单位并记入单位业绩和个人政绩记录，计入年度考核，不能撤回。请核对以下内容。"
                        .into(),
                    rows,
                    action: "/notices".into(),
                    hidden: form.0.clone(),
                    button: "确认发布".into(),
                    extra: context! {},
                },
            )
        }
        Err(e @ StoreError::Denied(_)) => error_page(&s, Some(&u), &e),
        Err(e) => {
            let st = crate::error::status_of(&e);
            notices_with(&s, &u, ranking_id, FormView::flash(&e), st, FormView::refused(form, &e)).await
        }
    }
}

async fn notice_page(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>) -> Response {
    match s.db.get_notice(id).await {
        Ok(n) => {
            let (files, can_attach) =
                crate::attachments::record_files_for_page(&s, &u, xietong_storage::attachments::Record::Notice(id))
                    .await;
            let ctx = context! { nav => "notices", n => n, files => files, can_attach => can_attach };
            render(&s, StatusCode::OK, "notice.html", Some(&u), ctx)
        }
        Err(e) => error_page(&s, Some(&u), &e),
    }
}

const NOTICE_TEMPLATE_KEY: &str = "notice_template_docx_hex";

pub(crate) async fn notice_template(s: &AppState) -> Result<Option<Vec<u8>>, StoreError> {
    match s.db.get_setting(NOTICE_TEMPLATE_KEY).await? {
        Some(h) if !h.is_empty() => Ok(Some(hex::decode(h).map_err(|_| StoreError::internal("通报模板数据损坏"))?)),
        _ => Ok(None),
    }
}

/// 下载当前通报模板（Word）；未上传时为系统默认模板。管理员可在 Word/WPS 中修改版头、字体后上传替换。
#[utoipa::path(get, path = "/api/notice-template", tag = "导入导出",
    responses((status = 200, description = "Word 模板", content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document")))]
async fn get_notice_template(State(s): State<AppState>, ApiUser(_u, _): ApiUser) -> Result<Response, ApiError> {
    let bytes = match notice_template(&s).await? {
        Some(b) => b,
        None => s.heavy(|| Ok(default_template())).await?,
    };
    Ok(download(DOCX, "督查通报模板.docx", bytes))
}

#[derive(Deserialize, IntoParams)]
pub struct ResetQuery {
    /// true：恢复系统默认模板
    pub reset: Option<bool>,
}

/// 上传替换通报模板（系统管理员或督查局）。模板须含 {{标题}}、{{正文}}、{{表格}} 等占位符。
#[utoipa::path(put, path = "/api/notice-template", params(ResetQuery), request_body(content = Upload, content_type = "multipart/form-data"), tag = "导入导出",
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn put_notice_template(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(q): Q<ResetQuery>,
    mp: Multipart,
) -> Result<StatusCode, ApiError> {
    save_notice_template(&s, &u, if q.reset == Some(true) { None } else { Some(read_upload(&s, mp).await?.1) }).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn save_notice_template(s: &AppState, u: &SessionUser, bytes: Option<Vec<u8>>) -> Result<(), StoreError> {
    if !matches!(u.role, Role::Admin | Role::Supervisor) {
        return Err(StoreError::Denied("无权限：只有系统管理员或督查局可以更换通报模板".into()));
    }
    let (value, note) = match bytes {
        Some(b) => {
            let note = format!("上传模板 {} 字节", b.len());
            let value = s.heavy(move || check_template(&b).map(|_| hex::encode(&b)).map_err(office_err)).await?;
            (value, note)
        }
        None => (String::new(), "恢复默认模板".to_string()),
    };
    s.db.save_setting_audited(&u.username, NOTICE_TEMPLATE_KEY, &value, s.clock.now(), note).await
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
        Ok(()) => {
            imports_with(s, u, StatusCode::OK, Some(ok.into()), vec![], (None, FormView::fresh(Fields::default())))
                .await
        }
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_))) => error_page(s, Some(u), &e),
        Err(e) => {
            imports_with(
                s,
                u,
                crate::error::status_of(&e),
                None,
                vec![e.to_string()],
                (None, FormView::fresh(Fields::default())),
            )
            .await
        }
    }
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
