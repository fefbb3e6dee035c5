//! 科技统计: the district's figures (page `/docking/stats`, API `/api/docking-stats`), each count
//! of records held (在库数) beside the figure the district reported (上报数) with its source and
//! the difference flagged; and the 科技局's form and API for the 上报数, every change audited.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_docking::baseline::FIGURES;
use xietong_storage::StoreError;
use xietong_storage::auth::SessionUser;
use xietong_storage::dockings::{Baseline, DockingStats, NewBaseline};

use crate::AppState;
use crate::api::J;
use crate::auth::{ApiUser, PageUser};
use crate::docking_api::may_read_stats;
use crate::error::{ApiError, ErrorBody, status_of};
use crate::forms::Fields;
use crate::pages::{error_page, render};

/// 科技统计：高新技术企业、科技型企业、载体、研发平台、技术合同成交额（每项为在库数，并列上报数、来源与差额），
/// 对接阶段与转化率。
#[utoipa::path(get, path = "/api/docking-stats", tag = "产学研对接", responses((status = 200, body = DockingStats), (status = 403, body = ErrorBody)))]
async fn stats(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<DockingStats>, ApiError> {
    may_read_stats(&u)?;
    Ok(Json(s.db.docking_stats(s.clock.now().date()).await?))
}

/// 上报数：区里上报的统计数字（如 2020 年底国家高新技术企业 101 家）及其来源文件，与在库数分开保存。
#[utoipa::path(get, path = "/api/docking-baselines", tag = "产学研对接",
    responses((status = 200, body = Vec<Baseline>), (status = 403, body = ErrorBody)))]
async fn baselines(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<Vec<Baseline>>, ApiError> {
    may_read_stats(&u)?;
    Ok(Json(s.db.list_baselines().await?))
}

#[derive(Deserialize, ToSchema)]
pub struct BaselineBody {
    /// 上报数：不小于 0 的数字（家、个为整数；万元可有小数），也可写成文字如 "101"
    #[serde(default)]
    #[schema(value_type = f64)]
    pub value: serde_json::Value,
    /// 统计截至（YYYY-MM-DD）：数量为统计日，年度金额为该年年末
    #[serde(default)]
    pub as_of: String,
    /// 来源文件：上报该数字的文件名称
    #[serde(default)]
    pub source: String,
    /// 文件日期（YYYY-MM-DD，不知道可空）
    #[serde(default)]
    pub source_date: String,
    /// 备注，如原文的表述
    #[serde(default)]
    pub note: String,
    /// 读取时的版本号（尚无上报数时为 0）；与当前版本不符时返回 409，不覆盖他人的修改。不填则不核对
    #[serde(default)]
    pub version: Option<i64>,
}

/// The 上报数 as sent: a JSON number, or a number written as text (full-width digits accepted).
fn reported_value(v: &serde_json::Value) -> Result<f64, StoreError> {
    const FIELD: &str = "上报数";
    match v {
        serde_json::Value::Number(n) => n.as_f64().ok_or_else(|| StoreError::invalid(FIELD, "不是有效的数字")),
        serde_json::Value::String(t) => Ok(xietong_supervision::validate::required_number(FIELD, t)?),
        serde_json::Value::Null => Err(StoreError::invalid(FIELD, "不能为空")),
        _ => Err(StoreError::invalid(FIELD, "应为数字")),
    }
}

/// 录入或修改一项上报数（科技局），每次修改记入审计日志。figure：high_tech_enterprises 国家高新技术企业、
/// tech_smes 科技型中小企业、carriers 创新创业载体、rd_platforms_provincial 省级以上研发平台、
/// rd_platforms_city 市级研发平台、contract_amount 技术合同成交额、technical_income 其中技术性收入。
#[utoipa::path(put, path = "/api/docking-baselines/{figure}", tag = "产学研对接", request_body = BaselineBody,
    params(("figure" = String, Path, description = "统计项，如 high_tech_enterprises")),
    responses((status = 200, body = Baseline), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn put_baseline(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(figure): Path<String>,
    J(b): J<BaselineBody>,
) -> Result<Json<Baseline>, ApiError> {
    let n = NewBaseline {
        value: reported_value(&b.value)?,
        as_of: b.as_of,
        source: b.source,
        source_date: b.source_date,
        note: b.note,
        version: b.version,
    };
    Ok(Json(s.db.set_baseline(&u, &figure, &n, s.clock.now()).await?))
}

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stats)).routes(routes!(baselines)).routes(routes!(put_baseline))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new()
        .route("/docking/stats", get(stats_page))
        .route("/docking/stats/baselines/{figure}", post(baseline_submit))
}

/// The page, with a refused baseline form (its figure, message and what was typed) kept.
async fn stats_with(
    s: &AppState,
    u: &SessionUser,
    status: StatusCode,
    ok: Option<String>,
    refused: Option<(&str, String, HashMap<String, String>)>,
) -> Response {
    if let Err(e) = may_read_stats(u) {
        return error_page(s, Some(u), &e);
    }
    let (st, baselines) = match (s.db.docking_stats(s.clock.now().date()).await, s.db.list_baselines().await) {
        (Ok(st), Ok(b)) => (st, b),
        (Err(e), _) | (_, Err(e)) => return error_page(s, Some(u), &e),
    };
    // One form per figure, filled from its 上报数 or, after a refusal, from what was typed.
    let forms: Vec<minijinja::Value> = FIGURES
        .iter()
        .map(|f| {
            let b = baselines.iter().find(|b| b.figure == f.key);
            let (err, values) = match &refused {
                Some((key, err, typed)) if *key == f.key => (Some(err.clone()), typed.clone()),
                _ => {
                    let mut v = HashMap::new();
                    if let Some(b) = b {
                        v.insert("value".to_string(), xietong_supervision::indicators::fmt_num(b.value));
                        v.insert("as_of".into(), b.as_of.clone());
                        v.insert("source".into(), b.source.clone());
                        v.insert("source_date".into(), b.source_date.clone().unwrap_or_default());
                        v.insert("note".into(), b.note.clone());
                    }
                    v.insert("version".into(), b.map_or(0, |b| b.version).to_string());
                    (None, v)
                }
            };
            context! { key => f.key, label => f.label, unit => f.unit, b => b, err => err, f => values }
        })
        .collect();
    let d = crate::docking_pages::role_ctx(u);
    render(
        s,
        status,
        "docking_stats.html",
        Some(u),
        context! { nav => "docking", sub => "stats", d => d, st => st, forms => forms, flash_ok => ok,
        flash_err => refused.as_ref().map(|r| r.1.clone()) },
    )
}

async fn stats_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ok = q.into_iter().find(|(k, _)| k == "ok").map(|(_, v)| v);
    stats_with(&s, &u, StatusCode::OK, ok, None).await
}

async fn baseline_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(figure): Path<String>,
    f: Fields,
) -> Response {
    let r = async {
        let value = f.num("value", "上报数")?.ok_or_else(|| StoreError::invalid("上报数", "不能为空"))?;
        let version = match f.opt("version") {
            None => None,
            Some(v) => {
                Some(v.trim().parse::<i64>().map_err(|_| StoreError::invalid("版本", "表单已损坏，请刷新后重填"))?)
            }
        };
        let n = NewBaseline {
            value,
            as_of: f.s("as_of"),
            source: f.s("source"),
            source_date: f.s("source_date"),
            note: f.s("note"),
            version,
        };
        s.db.set_baseline(&u, &figure, &n, s.clock.now()).await
    }
    .await;
    match r {
        Ok(b) => {
            let q = serde_urlencoded::to_string([("ok", format!("{}的上报数已保存", b.label))]).unwrap_or_default();
            Redirect::to(&format!("/docking/stats?{q}#baseline-{}", b.figure)).into_response()
        }
        Err(e @ (StoreError::Denied(_) | StoreError::NotFound(_) | StoreError::Internal(_))) => {
            error_page(&s, Some(&u), &e)
        }
        Err(e) => stats_with(&s, &u, status_of(&e), None, Some((&figure, e.to_string(), f.map()))).await,
    }
}
