//! Excel and Word at the edges: import templates, all-or-nothing imports with row errors,
//! ledger exports, and the monthly 督查通报 in Word built from a replaceable template.

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_office::notice::{NoticeDoc, NoticeTable, check_template, default_template, render_notice};
use xietong_office::table::{Cell, Column};
use xietong_office::xlsx::{RawRow, export_table, import_template, read_rows};
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::imports::{
    ImportReport, RowProblem, cell_problems, indicator_columns, list_item_columns, task_columns,
};
use xietong_storage::rankings::RankingView;
use xietong_supervision::Role;

use crate::AppState;
use crate::api::Q;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorBody};

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const NOTICE_TEMPLATE_KEY: &str = "notice_template_docx_hex";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(template))
        .routes(routes!(import_tasks))
        .routes(routes!(import_list))
        .routes(routes!(import_indicators))
        .routes(routes!(import_problems))
        .routes(routes!(export_ranking))
        .routes(routes!(ranking_notice))
        .routes(routes!(get_notice_template, put_notice_template))
}

/// A file download with a Chinese file name (RFC 5987).
pub fn download(content_type: &'static str, file_name: &str, bytes: Vec<u8>) -> Response {
    let encoded: String = file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }
        })
        .collect();
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"download\"; filename*=UTF-8''{encoded}")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

pub(crate) fn office_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::BadInput(e.to_string())
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
        other => {
            return Err(StoreError::NotFound(format!(
                "没有名为「{other}」的导入模板（可选 tasks、list、indicators、problems）"
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
async fn template(
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
pub async fn read_upload(
    s: &AppState,
    mut mp: Multipart,
) -> Result<(String, Vec<u8>, std::collections::HashMap<String, String>), StoreError> {
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
    let mut fields = std::collections::HashMap::new();
    while let Some(f) = mp.next_field().await.map_err(|e| err("上传内容", e))? {
        let name = f.name().unwrap_or("").to_string();
        if name == "file" {
            let fname = f.file_name().unwrap_or("upload.xlsx").to_string();
            let bytes = f.bytes().await.map_err(|e| err("上传文件", e))?;
            if bytes.len() > limit {
                return Err(crate::error::upload_too_large(limit));
            }
            file = Some((fname, bytes.to_vec()));
        } else {
            let v = f.text().await.map_err(|e| err("表单字段", e))?;
            fields.insert(name, v);
        }
    }
    let (n, b) = file.ok_or_else(|| StoreError::invalid("文件", "请选择要上传的文件"))?;
    if b.is_empty() {
        return Err(StoreError::invalid("文件", "上传的文件是空的"));
    }
    Ok((n, b, fields))
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

/// One import of any kind, shared by the API and the import page.
pub async fn do_import(s: &AppState, u: &SessionUser, kind: &str, mp: Multipart) -> Result<ImportReport, StoreError> {
    let (fname, bytes, fields) = read_upload(s, mp).await?;
    let (cols, _, _) = columns_for(s, kind).await?;
    let (rows, cells) = s.heavy(move || parse_rows(&fname, &bytes, &cols)).await?;
    let snap = s.snapshot();
    match kind {
        "tasks" => s.db.import_tasks(u, &snap.ctx(), &rows, cells).await,
        "indicators" => s.db.import_indicators(u, snap.now, &rows, cells).await,
        "problems" => {
            let campaign = match fields.get("campaign_id").map(|c| c.trim()).unwrap_or("") {
                "" => None,
                c => Some(c.parse::<i64>().map_err(|_| StoreError::invalid("征集活动", "编号无效"))?),
            };
            s.db.import_problems(u, &rows, cells, campaign, snap.now).await
        }
        _ => {
            let g = |k: &str| fields.get(k).cloned().unwrap_or_default();
            let cat = match g("category_id").trim() {
                "" => None,
                c => Some(c.parse::<i64>().map_err(|_| StoreError::invalid("工作类别", "编号无效"))?),
            };
            s.db.import_list(
                u,
                &snap.ctx(),
                &g("name"),
                &g("description"),
                &g("doc_no"),
                &g("source_date"),
                cat,
                &rows,
                cells,
            )
            .await
        }
    }
}

fn ranking_columns() -> Vec<Column> {
    let c = Column::plain;
    vec![
        c("名次", 6.0),
        c("单位", 18.0),
        c("得分", 8.0),
        c("任务数", 8.0),
        c("应结任务", 12.0),
        c("按期办结", 10.0),
        c("逾期办结", 10.0),
        c("逾期未结", 10.0),
        c("退回整改", 10.0),
        c("进度达标率(%)", 12.0),
        c("说明", 24.0),
    ]
}

fn ranking_cells(v: &RankingView) -> Vec<Vec<Cell>> {
    let unranked = v.not_assessed.iter().map(|r| {
        let mut cells = vec![Cell::Text("—".into()), Cell::Text(r.unit_name.clone()), Cell::Text("不参评".into())];
        cells.push(Cell::Number(r.facts.tasks_total as f64));
        cells.extend((0..6).map(|_| Cell::Text(String::new())));
        cells.push(Cell::Text(r.reason.clone()));
        cells
    });
    v.rows
        .iter()
        .map(|r| {
            vec![
                Cell::Number(r.rank as f64),
                Cell::Text(r.unit_name.clone()),
                Cell::Number(r.score),
                Cell::Number(r.facts.tasks_total as f64),
                Cell::Number(r.facts.due_in_month as f64),
                Cell::Number(r.facts.closed_on_time as f64),
                Cell::Number(r.facts.closed_late as f64),
                Cell::Number(r.facts.overdue_open as f64),
                Cell::Number(r.facts.rejections as f64),
                Cell::Number((r.facts.progress_ratio * 1000.0).round() / 10.0),
                Cell::Text(r.tie_note.clone().unwrap_or_default()),
            ]
        })
        .chain(unranked)
        .collect()
}

/// 导出一期月度排名（Excel）。
#[utoipa::path(get, path = "/api/rankings/{id}/export.xlsx", params(("id" = i64, Path, description = "排名编号")), tag = "导入导出",
    responses((status = 200, description = "Excel 文件", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 404, body = ErrorBody)))]
async fn export_ranking(
    State(s): State<AppState>,
    ApiUser(_u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let v = s.db.get_ranking(id).await?;
    let title = format!("{} {} 月度排名（{}）", v.category_name, v.month, v.formula_text);
    let (cols, rows) = (ranking_columns(), ranking_cells(&v));
    let bytes = s.heavy(move || export_table("月度排名", Some(&title), &cols, &rows).map_err(office_err)).await?;
    Ok(download(XLSX, &format!("{}_{}_月度排名.xlsx", v.category_name, v.month), bytes))
}

/// Compose the monthly notice from a published ranking: the table, and the laggards named with
/// their 一把手 (工作保障机制: the head answers for the unit).
pub async fn compose_ranking_notice(s: &AppState, v: &RankingView) -> Result<NoticeDoc, StoreError> {
    let units = s.db.list_units().await?;
    let head = |id: i64| units.iter().find(|u| u.id == id).and_then(|u| u.head_name.clone());
    let (y, m) = v.month.split_once('-').unwrap_or((&v.month, ""));
    let m = m.trim_start_matches('0');
    let notices = s.db.list_notices().await?;
    let issued = notices.iter().find(|n| n.ranking_id == v.id);
    let worst = v.rows.iter().map(|r| r.rank).max().unwrap_or(0);
    let mut laggards = vec![];
    for r in &v.rows {
        if (r.rank == worst && v.rows.len() > 1) || r.facts.overdue_open > 0 {
            let h = head(r.unit_id).map(|h| format!("（主要负责人：{h}）")).unwrap_or_default();
            laggards.push(format!(
                "{}{}：第 {} 名，得分 {}，逾期未结 {} 项，退回整改 {} 次",
                r.unit_name, h, r.rank, r.score, r.facts.overdue_open, r.facts.rejections
            ));
        }
    }
    let top: Vec<String> = v.rows.iter().filter(|r| r.rank <= 3).map(|r| r.unit_name.clone()).collect();
    let mut paragraphs = vec![format!(
        "按照“五项督查机制”要求，{}牵头对承担{}任务的{}个单位{}年{}月工作推进情况进行了排名，现将有关情况通报如下。",
        v.lead_unit_name.clone().unwrap_or_else(|| "督查局".into()),
        v.category_name,
        v.rows.len(),
        y,
        m
    )];
    if !v.not_assessed.is_empty() {
        let names: Vec<&str> = v.not_assessed.iter().map(|r| r.unit_name.as_str()).collect();
        paragraphs.push(format!("{}截至月末没有应结任务，在办任务也都刚交办，本月不参评。", names.join("、")));
    }
    if !top.is_empty() {
        paragraphs.push(format!("排名靠前的单位：{}。", top.join("、")));
    }
    if !laggards.is_empty() {
        paragraphs.push(
            "以下单位排名靠后或存在逾期未结任务，请主要负责同志亲自研究、限期整改，整改情况于5个工作日内报督查局。"
                .into(),
        );
    }
    let headers = ["名次", "单位", "得分", "按期办结", "逾期未结", "退回整改", "进度达标率"]
        .iter()
        .map(|x| x.to_string())
        .collect();
    let rows = v
        .rows
        .iter()
        .map(|r| {
            vec![
                r.rank.to_string(),
                r.unit_name.clone(),
                format!("{}", r.score),
                r.facts.closed_on_time.to_string(),
                r.facts.overdue_open.to_string(),
                r.facts.rejections.to_string(),
                format!("{:.1}%", r.facts.progress_ratio * 100.0),
            ]
        })
        .collect();
    let today = s.clock.now().date();
    Ok(NoticeDoc {
        title: format!("关于{}年{}月份{}工作推进情况的通报", y, m, v.category_name),
        doc_no: issued.map(|n| n.doc_no.clone()).unwrap_or_else(|| "二七督通〔　　〕　号".into()),
        issuer: s.db.get_setting("issuer_name").await?.unwrap_or_else(|| "二七区督查局".into()),
        date: issued.map(|n| n.issued_on).unwrap_or(today),
        kind_label: "月度排名".into(),
        paragraphs,
        tables: vec![NoticeTable {
            caption: format!("{}年{}月{}工作排名", y, m, v.category_name), headers, rows
        }],
        laggards,
        // The method as it was when the month was published, once, as an annex line.
        annex: vec![format!("附：评分办法　{}", v.formula_text)],
    })
}

pub(crate) async fn notice_template(s: &AppState) -> Result<Option<Vec<u8>>, StoreError> {
    match s.db.get_setting(NOTICE_TEMPLATE_KEY).await? {
        Some(h) if !h.is_empty() => Ok(Some(hex::decode(h).map_err(|_| StoreError::internal("通报模板数据损坏"))?)),
        _ => Ok(None),
    }
}

/// 生成月度督查通报（Word），含排名表和点名的落后单位，按当前通报模板排版。
#[utoipa::path(get, path = "/api/rankings/{id}/notice.docx", params(("id" = i64, Path, description = "排名编号")), tag = "导入导出",
    responses((status = 200, description = "Word 文件", content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"), (status = 404, body = ErrorBody)))]
async fn ranking_notice(
    State(s): State<AppState>,
    ApiUser(_u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let v = s.db.get_ranking(id).await?;
    let doc = compose_ranking_notice(&s, &v).await?;
    let tpl = notice_template(&s).await?;
    let file_name = format!("{}.docx", doc.title);
    let bytes = s.heavy(move || render_notice(tpl.as_deref(), &doc).map_err(office_err)).await?;
    Ok(download(DOCX, &file_name, bytes))
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
