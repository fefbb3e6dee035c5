//! The figures the district reports (qualified enterprises, platforms and carriers, contract
//! amounts, the docking funnel), each with the page that lists its records and, where the
//! district's reported figure (上报数) is on record, that figure beside it with the difference.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use xietong_docking::baseline::{self, Span};
use xietong_docking::contract::ContractType;
use xietong_docking::pipeline::{Stage, funnel};

use super::{Contract, stage_of};
use crate::libraries::{CARRIER_KINDS, RD_PLATFORM_KINDS};
use crate::{Db, Result, RowExt, StoreError};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Figure {
    /// Key of the figure, as its 上报数 is stored.
    pub key: String,
    pub label: String,
    /// 在库数: the records in the system (enterprises holding a valid certificate today,
    /// platforms, every registered contract).
    pub value: f64,
    pub unit: String,
    /// The page listing the records behind the figure.
    pub href: String,
    /// The district's reported figure (上报数) beside it, when one is on record.
    pub reported: Option<Reported>,
}

/// A reported figure (上报数) with its source, against the records held for the same scope.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Reported {
    /// 上报数
    pub value: f64,
    /// 「截至 2020-12-31」 or 「2020 年」
    pub period: String,
    pub as_of: String,
    /// 来源文件 and its date.
    pub source: String,
    pub source_date: Option<String>,
    pub note: String,
    /// 在库数 for the same scope: the figure itself for a count, the reported year's records for
    /// an amount.
    pub in_system: f64,
    /// The records behind `in_system`.
    pub in_system_href: String,
    /// 上报数 − 在库数 (positive: records still to be entered).
    pub gap: f64,
    /// The two differ.
    pub flagged: bool,
    /// 「在库 12 家，上报 101 家（截至 2020-12-31），差 89 家待补录」
    pub message_zh: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ContractRow {
    pub period: String,
    pub kind_label: String,
    pub count: i64,
    pub amount_wan: f64,
    pub technical_income_wan: f64,
    pub href: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct StageRow {
    pub stage: Stage,
    pub label: String,
    /// Dockings now at this stage.
    pub now: i64,
    /// Dockings that reached it (funnel), and their share of all dockings in percent.
    pub reached: i64,
    pub share: f64,
    pub href: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DockingStats {
    pub figures: Vec<Figure>,
    pub contracts_by_year: Vec<ContractRow>,
    pub contracts_by_kind: Vec<ContractRow>,
    pub stages: Vec<StageRow>,
    pub terminated: i64,
    /// 推荐 → 签订技术合同, percent.
    pub conversion: f64,
}

impl Db {
    /// The figures the district reports, each with the page that lists its records.
    pub async fn docking_stats(&self, today: NaiveDate) -> Result<DockingStats> {
        let qual = |kind: &'static str| async move {
            let r = sqlx::query(
                "SELECT COUNT(*) AS n FROM enterprises e WHERE EXISTS (SELECT 1 FROM enterprise_qualifications q \
                 WHERE q.enterprise_id = e.id AND q.kind = $1 AND (q.expires_on IS NULL OR q.expires_on >= $2))",
            )
            .bind(kind.to_string())
            .bind(today.to_string())
            .fetch_one(&self.pool)
            .await?;
            r.i("n")
        };
        let platforms = self.list_platforms(None, None).await?;
        let count = |pred: &dyn Fn(&crate::libraries::Platform) -> bool| platforms.iter().filter(|p| pred(p)).count();
        let ht = qual("国家高新技术企业").await?;
        let sme = qual("科技型中小企业").await?;
        let car = count(&|p| CARRIER_KINDS.contains(&p.kind.as_str()));
        let prov = count(&|p| RD_PLATFORM_KINDS.contains(&p.kind.as_str()) && (p.level == "国家" || p.level == "省"));
        let city = count(&|p| RD_PLATFORM_KINDS.contains(&p.kind.as_str()) && p.level == "市");
        let contracts = self.list_contracts(None, None).await?;
        let wan = |x: f64| (x * 100.0).round() / 100.0;
        fn amount(c: &Contract) -> f64 {
            c.amount_wan
        }
        fn income(c: &Contract) -> f64 {
            c.technical_income_wan
        }
        let baselines = self.list_baselines().await?;
        let fig = |key: &str, value: f64, href: &str, of: Option<fn(&Contract) -> f64>| -> Result<Figure> {
            let f = baseline::figure(key).ok_or_else(|| StoreError::internal(format!("统计项 {key} 未定义")))?;
            let reported = match baselines.iter().find(|b| b.figure == key) {
                None => None,
                Some(b) => {
                    let as_of = NaiveDate::parse_from_str(&b.as_of, "%Y-%m-%d")
                        .map_err(|_| StoreError::internal(format!("上报数 {key} 的统计截至日期无效")))?;
                    // An amount is compared with the records of the year it reports, a count
                    // with the records held now.
                    let (in_system, in_system_href) = match (f.span, of) {
                        (Span::Year, Some(of)) => {
                            let year = format!("{}-", as_of.year());
                            let of_year = contracts
                                .iter()
                                .filter(|c| c.signed_on.starts_with(&year) && c.signed_on <= b.as_of)
                                .map(of)
                                .sum::<f64>();
                            (wan(of_year), format!("/docking/contracts?year={}", as_of.year()))
                        }
                        _ => (value, href.to_string()),
                    };
                    let c = baseline::compare(f, b.value, in_system, as_of);
                    Some(Reported {
                        value: b.value,
                        period: b.period.clone(),
                        as_of: b.as_of.clone(),
                        source: b.source.clone(),
                        source_date: b.source_date.clone(),
                        note: b.note.clone(),
                        in_system,
                        in_system_href,
                        gap: c.gap,
                        flagged: c.flagged,
                        message_zh: c.message_zh,
                    })
                }
            };
            Ok(Figure {
                key: key.into(),
                label: f.label.into(),
                value,
                unit: f.unit.into(),
                href: href.into(),
                reported,
            })
        };
        let total = wan(contracts.iter().map(amount).sum());
        let income_total = wan(contracts.iter().map(income).sum());
        let figures = vec![
            fig("high_tech_enterprises", ht as f64, "/enterprises?qualification=国家高新技术企业", None)?,
            fig("tech_smes", sme as f64, "/enterprises?qualification=科技型中小企业", None)?,
            fig("carriers", car as f64, "/docking/platforms?group=创新创业载体", None)?,
            fig("rd_platforms_provincial", prov as f64, "/docking/platforms?group=研发平台&level=省级以上", None)?,
            fig("rd_platforms_city", city as f64, "/docking/platforms?group=研发平台&level=市", None)?,
            fig("contract_amount", total, "/docking/contracts", Some(amount))?,
            fig("technical_income", income_total, "/docking/contracts", Some(income))?,
        ];
        let mut years: Vec<i32> = contracts
            .iter()
            .filter_map(|c| NaiveDate::parse_from_str(&c.signed_on, "%Y-%m-%d").ok())
            .map(|d| d.year())
            .collect();
        years.sort_unstable();
        years.dedup();
        let row = |period: String, kind_label: String, list: Vec<&Contract>, href: String| ContractRow {
            period,
            kind_label,
            count: list.len() as i64,
            amount_wan: (list.iter().map(|c| c.amount_wan).sum::<f64>() * 100.0).round() / 100.0,
            technical_income_wan: (list.iter().map(|c| c.technical_income_wan).sum::<f64>() * 100.0).round() / 100.0,
            href,
        };
        let contracts_by_year = years
            .iter()
            .rev()
            .map(|y| {
                row(
                    format!("{y} 年"),
                    "全部".into(),
                    contracts.iter().filter(|c| c.signed_on.starts_with(&format!("{y}-"))).collect(),
                    format!("/docking/contracts?year={y}"),
                )
            })
            .collect();
        let contracts_by_kind = ContractType::ALL
            .iter()
            .map(|k| {
                row(
                    "全部".into(),
                    k.label_zh().into(),
                    contracts.iter().filter(|c| c.kind == *k).collect(),
                    format!("/docking/contracts?kind={}", k.code()),
                )
            })
            .collect();
        let rows = sqlx::query("SELECT stage, furthest FROM dockings").fetch_all(&self.pool).await?;
        let mut now_at = vec![];
        let mut furthest = vec![];
        for r in &rows {
            now_at.push(stage_of(&r.s("stage")?)?);
            furthest.push(stage_of(&r.s("furthest")?)?);
        }
        let stages: Vec<StageRow> = funnel(&furthest)
            .into_iter()
            .map(|(s, reached, share)| StageRow {
                stage: s,
                label: s.label_zh().into(),
                now: now_at.iter().filter(|x| **x == s).count() as i64,
                reached: reached as i64,
                share: (share * 1000.0).round() / 10.0,
                href: format!("/docking/dockings?stage={}", s.code()),
            })
            .collect();
        let conversion = stages.iter().find(|s| s.stage == Stage::ContractSigned).map(|s| s.share).unwrap_or(0.0);
        Ok(DockingStats {
            figures,
            contracts_by_year,
            contracts_by_kind,
            stages,
            terminated: now_at.iter().filter(|s| **s == Stage::Terminated).count() as i64,
            conversion,
        })
    }
}
