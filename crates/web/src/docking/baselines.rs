//! 上报数: the figures the district reported, kept beside the records held (在库数) on the 科技统计
//! page — their API (`/api/docking-baselines…`) and the 科技局's form
//! (`/docking/stats/baselines/{figure}`), every change audited, a stale version refused with 409.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_storage::StoreError;
use xietong_storage::dockings::{Baseline, NewBaseline};

use crate::AppState;
use crate::api::J;
use crate::auth::{ApiUser, PageUser};
use crate::docking::hub::may_read_stats;
use crate::docking::stats::stats_with;
use crate::error::{ApiError, ErrorBody, status_of};
use crate::forms::Fields;
use crate::pages::error_page;

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
    OpenApiRouter::new().routes(routes!(baselines)).routes(routes!(put_baseline))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new().route("/docking/stats/baselines/{figure}", post(baseline_submit))
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
