//! Excel imports (tasks, lists, indicators, problems): templates, all-or-nothing import (API and page).

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xietong_office::table::{Cell, Column};
use xietong_office::xlsx::{RawRow, import_template, read_rows};
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::imports::{
    ImportReport, ListHeader, RowProblem, cell_problems, indicator_columns, list_item_columns, task_columns,
};

use crate::AppState;
use crate::auth::{ApiUser, PageUser};
use crate::downloads::office_err;
use crate::downloads::{XLSX, download};
use crate::error::{ApiError, ErrorBody};
use crate::forms::{Fields, FormView};
use crate::pages::{error_page, render};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(template))
        .routes(routes!(import_tasks))
        .routes(routes!(import_list))
        .routes(routes!(import_indicators))
        .routes(routes!(import_problems))
        .routes(routes!(import_cadres))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new().route("/imports", get(imports_page)).route("/imports/{kind}", post(import_submit))
}

/// Which import template: tasks 督办任务, list 清单事项, indicators 数值指标.
async fn columns_for(s: &AppState, kind: &str) -> Result<(Vec<Column>, &'static str, Vec<Vec<Cell>>), StoreError> {
    let units = s.db.list_units().await?;
    let cats = s.db.list_categories().await?;
    let t = |x: &str| Cell::Text(x.to_string());
    Ok(match kind {
        "tasks" => (
            task_columns(&units, &cats),
            "督办任务导入模板",
            vec![vec![
                t("示例：背街小巷综合整治提升"),
                t("按区政府常务会要求完成整治"),
                t("会议"),
                t("示例〔2026〕1号"),
                t("区政府常务会议纪要"),
                t("2026-11-20"),
                t("精细化管理"),
                t("城管局"),
                t("大学路街道、福华街街道"),
                t("每周"),
                t("2026-12-31"),
            ]],
        ),
        "list" => (
            list_item_columns(&units),
            "清单事项导入模板",
            vec![vec![
                t("示例：马寨镇某村某组受损房屋重建"),
                t("2021年“7·20”特大暴雨受损房屋"),
                t("马寨镇"),
                t("自然资源局"),
                t("每月"),
                t("2026-12-31"),
            ]],
        ),
        "indicators" => (
            indicator_columns(),
            "数值指标导入模板",
            vec![vec![
                t("示例〔2026〕1号"),
                t("城镇新增就业"),
                t("人"),
                Cell::Number(18500.0),
                t("2026-01-01"),
                t("2026-12-31"),
                t("2026-06-30"),
                Cell::Number(11598.0),
                Cell::Number(62.7),
            ]],
        ),
        "problems" => (
            xietong_storage::libraries::problem_columns(),
            "技术难题征集模板",
            vec![vec![
                t("示例：某食品有限公司"),
                t("示例：低温乳品保质期延长"),
                t("希望在不添加防腐剂的前提下将保质期由 7 天延长到 15 天"),
                t("杀菌；保质期"),
                t(""),
                Cell::Number(50.0),
                t("合作开发"),
                t("2027-06-30"),
                t("否"),
            ]],
        ),
        "cadres" => (
            xietong_storage::cadres::roster::roster_columns(
                units.iter().filter(|u| u.kind != "外部单位").map(|u| u.name.clone()).collect(),
            ),
            "干部名册导入模板",
            vec![vec![
                t("示例：马寨镇"),
                t("马寨镇干部（示例）"),
                t("党政办副主任"),
                t("410103199801150012"),
                t("硕士研究生"),
                t("城乡规划"),
                t("一级科员"),
                t("公开引进"),
                t("2023-07-01"),
                t("股级优秀年轻干部库"),
                t("防汛救灾工作中表现突出"),
            ]],
        ),
        other => {
            return Err(StoreError::NotFound(format!(
                "没有名为「{other}」的导入模板（可选 tasks、list、indicators、problems、cadres）"
            )));
        }
    })
}

const INSTRUCTIONS: [&str; 4] = [
    "带 * 的列必填；日期写作 YYYY-MM-DD（如 2026-12-31），办理期限须为工作日。",
    "单位须写系统中的单位全称，可从下拉列表中选择。",
    "以“示例”开头的行不会导入，可删除或保留。",
    "任何一行有错误时整份文件都不导入，系统会列出全部错误的行和列，改正后重新上传即可。",
];

/// 下载导入模板（Excel）。kind：tasks 督办任务、list 清单事项、indicators 数值指标。
#[utoipa::path(get, path = "/api/templates/{kind}", params(("kind" = String, Path, description = "tasks / list / indicators")), tag = "导入导出",
    responses((status = 200, description = "Excel 模板", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 404, body = ErrorBody)))]
pub(crate) async fn template(
    State(s): State<AppState>,
    ApiUser(_u, _): ApiUser,
    Path(kind): Path<String>,
) -> Result<Response, ApiError> {
    let kind = kind.trim_end_matches(".xlsx");
    let (cols, name, example) = columns_for(&s, kind).await?;
    let bytes = s.heavy(move || import_template(name, &cols, &example, &INSTRUCTIONS).map_err(office_err)).await?;
    Ok(download(XLSX, &format!("{name}.xlsx"), bytes))
}

/// Read an uploaded file (field `file`) and the other text fields of a multipart form. A file
/// over the upload limit is refused (413) naming the limit.
pub async fn read_upload(s: &AppState, mp: Multipart) -> Result<(String, Vec<u8>, Fields), StoreError> {
    let (file, fields) = read_form(s, mp).await?;
    let (n, b) = file?;
    Ok((n, b, fields))
}

/// A multipart form: its file (or why there is none usable) and its other fields, which are read
/// even when the file is missing so a refused form can be shown again as it was filled in.
pub async fn read_form(
    s: &AppState,
    mut mp: Multipart,
) -> Result<(Result<(String, Vec<u8>), StoreError>, Fields), StoreError> {
    let limit = s.upload_limit;
    // The body was cut off at the limit (413), or the form itself is broken (400).
    let err = |what: &str, e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            crate::error::upload_too_large(limit)
        } else {
            StoreError::BadInput(format!("{what}无法读取：请以 multipart/form-data 表单上传，文件放在 file 字段"))
        }
    };
    let mut file = None;
    let mut fields = vec![];
    while let Some(f) = mp.next_field().await.map_err(|e| err("上传内容", e))? {
        let name = f.name().unwrap_or("").to_string();
        if name == "file" {
            let fname = f.file_name().map(str::to_string);
            let bytes = f.bytes().await.map_err(|e| err("上传文件", e))?;
            if bytes.len() > limit {
                return Err(crate::error::upload_too_large(limit));
            }
            file = Some((fname, bytes.to_vec()));
        } else {
            let v = f.text().await.map_err(|e| err("表单字段", e))?;
            fields.push((name, v));
        }
    }
    let file = match file {
        Some((n, b)) if !b.is_empty() => Ok((n.unwrap_or_else(|| "upload.xlsx".into()), b)),
        // A form sent with no file chosen carries a file part with an empty name and no bytes.
        Some((Some(n), _)) if !n.is_empty() => Err(StoreError::invalid("文件", "上传的文件是空的")),
        _ => Err(StoreError::invalid("文件", "请选择要上传的文件")),
    };
    Ok((file, Fields(fields)))
}

/// The rows of an upload and the problems found in its cells; a file that cannot be read at all
/// is refused here.
pub fn parse_rows(
    file_name: &str,
    bytes: &[u8],
    cols: &[Column],
) -> Result<(Vec<RawRow>, Vec<RowProblem>), StoreError> {
    let (rows, errors) = read_rows(file_name, bytes, cols)
        .map_err(|e| StoreError::BadInput(format!("导入未执行（文件有误，未写入任何数据）：\n{e}")))?;
    Ok((rows, cell_problems(errors)))
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Upload {
    /// .xlsx、.csv 或 .tsv 文件
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// 导入督办任务（立项并交办）。任何一行有误则全部不导入，并列出所有错误。仅督查局。
#[utoipa::path(post, path = "/api/imports/tasks", request_body(content = Upload, content_type = "multipart/form-data"), tag = "导入导出",
    responses((status = 201, body = ImportReport), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn import_tasks(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    mp: Multipart,
) -> Result<(StatusCode, Json<ImportReport>), ApiError> {
    Ok((StatusCode::CREATED, Json(do_import(&s, &u, "tasks", mp).await?)))
}

/// 导入清单（如灾后重建房屋、防汛整改事项），每项成为一项督办任务。表单字段：name、doc_no、source_date、category_id、description、file。
#[utoipa::path(post, path = "/api/imports/lists", request_body(content = Upload, content_type = "multipart/form-data"), tag = "导入导出",
    responses((status = 201, body = ImportReport), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn import_list(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    mp: Multipart,
) -> Result<(StatusCode, Json<ImportReport>), ApiError> {
    Ok((StatusCode::CREATED, Json(do_import(&s, &u, "list", mp).await?)))
}

/// 导入数值指标（可含一期完成值）。
#[utoipa::path(post, path = "/api/imports/indicators", request_body(content = Upload, content_type = "multipart/form-data"), tag = "导入导出",
    responses((status = 201, body = ImportReport), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn import_indicators(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    mp: Multipart,
) -> Result<(StatusCode, Json<ImportReport>), ApiError> {
    Ok((StatusCode::CREATED, Json(do_import(&s, &u, "indicators", mp).await?)))
}

/// 导入征集到的技术难题（科技局代企业录入），进入形式审核。表单字段：campaign_id（征集活动，可不填）、file。
#[utoipa::path(post, path = "/api/imports/problems", request_body(content = Upload, content_type = "multipart/form-data"), tag = "导入导出",
    responses((status = 201, body = ImportReport), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn import_problems(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    mp: Multipart,
) -> Result<(StatusCode, Json<ImportReport>), ApiError> {
    Ok((StatusCode::CREATED, Json(do_import(&s, &u, "problems", mp).await?)))
}

/// 导入干部名册（组织部）：按单位和姓名找到人员（没有的加入该单位），写入干部档案，填了入库的纳入该级干部库。
/// 任何一行有误则全部不导入，并列出所有错误的行和列。
#[utoipa::path(post, path = "/api/imports/cadres", tag = "导入导出",
    request_body(content = Upload, content_type = "multipart/form-data"),
    responses((status = 201, body = ImportReport), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn import_cadres(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    mp: Multipart,
) -> Result<(StatusCode, Json<ImportReport>), ApiError> {
    Ok((StatusCode::CREATED, Json(do_import(&s, &u, "cadres", mp).await?)))
}

/// One import of any kind, shared by the API and the import page.
pub async fn do_import(s: &AppState, u: &SessionUser, kind: &str, mp: Multipart) -> Result<ImportReport, StoreError> {
    let (fname, bytes, fields) = read_upload(s, mp).await?;
    import_upload(s, u, kind, Ok((fname, bytes)), &fields).await
}

/// An upload already read: its file and the form's other fields.
pub(crate) async fn import_upload(
    s: &AppState,
    u: &SessionUser,
    kind: &str,
    file: Result<(String, Vec<u8>), StoreError>,
    form: &Fields,
) -> Result<ImportReport, StoreError> {
    let (cols, _, _) = columns_for(s, kind).await?;
    // A 清单 without its file still has its own fields checked, so one answer names them all.
    let (rows, cells, mut pre) = match file {
        Ok((fname, bytes)) => {
            let (rows, cells) = s.heavy(move || parse_rows(&fname, &bytes, &cols)).await?;
            (rows, cells, vec![])
        }
        Err(e) if kind == "list" && !e.field_errors().is_empty() => (vec![], vec![], e.field_errors()),
        Err(e) => return Err(e),
    };
    let snap = s.snapshot();
    match kind {
        "tasks" => s.db.import_tasks(u, &snap.ctx(), &rows, cells).await,
        "indicators" => s.db.import_indicators(u, snap.now, &rows, cells).await,
        "cadres" => s.db.import_roster(u, snap.now, &rows, cells).await,
        "problems" => {
            let campaign = form.id("campaign_id", "征集活动")?;
            s.db.import_problems(u, &rows, cells, campaign, snap.now).await
        }
        _ => {
            let mut unread = crate::forms::Unread::default();
            let category_id = unread.id(form, "category_id", "工作类别");
            pre.extend(unread.0);
            let (name, description, doc_no, source_date) =
                (form.s("name"), form.s("description"), form.s("doc_no"), form.s("source_date"));
            let h = ListHeader {
                name: &name,
                description: &description,
                doc_no: &doc_no,
                source_date: &source_date,
                category_id,
            };
            s.db.import_list(u, &snap.ctx(), &h, (&rows, cells), pre).await
        }
    }
}

pub(crate) async fn imports_with(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    ok: Option<String>,
    errors: Vec<String>,
    (kind, form): (Option<&str>, FormView),
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
        context! { nav => "imports", categories => categories, flash_ok => ok, errors => errors, kind => kind,
        lists => lists, problem_campaigns => problem_campaigns, f => form.value(),
        today => s.clock.now().date().to_string() },
    )
}

async fn imports_page(State(s): State<AppState>, PageUser(u, _): PageUser) -> Response {
    imports_with(&s, &u, StatusCode::OK, None, vec![], (None, FormView::fresh(Fields::default()))).await
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
    let (file, fields) = match read_form(&s, mp).await {
        Ok(x) => x,
        Err(e) => {
            return imports_with(
                &s,
                &u,
                crate::error::status_of(&e),
                None,
                vec![e.to_string()],
                (Some(&kind), FormView::fresh(Fields::default())),
            )
            .await;
        }
    };
    // The form's own fields refill it when the import is refused (a file input cannot be refilled).
    let r = import_upload(&s, &u, &kind, file, &fields).await;
    match r {
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
            let ok = format!("导入成功：{} 行，新建 {} {what}", r.rows, r.created_ids.len());
            let fresh = FormView::fresh(Fields::default());
            imports_with(&s, &u, StatusCode::OK, Some(ok), vec![], (Some(&kind), fresh)).await
        }
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_))) => error_page(&s, Some(&u), &e),
        Err(e) => {
            // Field errors go beside their fields; a file's row errors are listed above, one per line.
            // (the list form shows its fields' errors itself; the file-only forms list them all).
            let lines: Vec<String> = match kind == "list" && !e.field_errors().is_empty() {
                false => e.to_string().lines().map(str::to_string).collect(),
                true => vec![],
            };
            let form = FormView::refused(fields, &e);
            imports_with(&s, &u, crate::error::status_of(&e), None, lines, (Some(&kind), form)).await
        }
    }
}
