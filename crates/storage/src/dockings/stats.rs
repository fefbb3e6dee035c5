//! The figures the district reports (qualified enterprises, platforms and carriers, contract
//! amounts, the docking funnel), each with the page that lists its records.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use xietong_docking::contract::ContractType;
use xietong_docking::pipeline::{Stage, funnel};

use super::{Contract, stage_of};
use crate::libraries::{CARRIER_KINDS, RD_PLATFORM_KINDS};
use crate::{Db, Result, RowExt, StoreError};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Figure {
    pub label: String,
    pub value: f64,
    /// Of which placeholder records standing in for ones the report only counts.
    pub placeholders: i64,
    pub unit: String,
    /// The page listing the records behind the figure.
    pub href: String,
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
                "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(e.placeholder), 0) AS BIGINT) AS p FROM enterprises e WHERE EXISTS (SELECT 1 FROM enterprise_qualifications q \
                 WHERE q.enterprise_id = e.id AND q.kind = $1 AND (q.expires_on IS NULL OR q.expires_on >= $2))",
            )
            .bind(kind.to_string())
            .bind(today.to_string())
            .fetch_one(&self.pool)
            .await?;
            Ok::<_, StoreError>((r.i("n")?, r.i("p")?))
        };
        let platforms = self.list_platforms(None, None).await?;
        let count = |pred: &dyn Fn(&crate::libraries::Platform) -> bool| {
            let hits: Vec<_> = platforms.iter().filter(|p| pred(p)).collect();
            (hits.len() as i64, hits.iter().filter(|p| p.placeholder).count() as i64)
        };
        let (ht, ht_p) = qual("国家高新技术企业").await?;
        let (sme, sme_p) = qual("科技型中小企业").await?;
        let (car, car_p) = count(&|p| CARRIER_KINDS.contains(&p.kind.as_str()));
        let (prov, prov_p) =
            count(&|p| RD_PLATFORM_KINDS.contains(&p.kind.as_str()) && (p.level == "国家" || p.level == "省"));
        let (city, city_p) = count(&|p| RD_PLATFORM_KINDS.contains(&p.kind.as_str()) && p.level == "市");
        let contracts = self.list_contracts(None, None).await?;
        let total: f64 = contracts.iter().map(|c| c.amount_wan).sum();
        let income: f64 = contracts.iter().map(|c| c.technical_income_wan).sum();
        let c_p = contracts.iter().filter(|c| c.placeholder).count() as i64;
        let fig = |label: &str, value: f64, placeholders: i64, unit: &str, href: &str| Figure {
            label: label.into(),
            value,
            placeholders,
            unit: unit.into(),
            href: href.into(),
        };
        let figures = vec![
            fig("国家高新技术企业", ht as f64, ht_p, "家", "/enterprises?qualification=国家高新技术企业"),
            fig("科技型中小企业", sme as f64, sme_p, "家", "/enterprises?qualification=科技型中小企业"),
            fig("创新创业载体", car as f64, car_p, "个", "/docking/platforms?group=创新创业载体"),
            fig("省级以上研发平台", prov as f64, prov_p, "个", "/docking/platforms?group=研发平台&level=省级以上"),
            fig("市级研发平台", city as f64, city_p, "个", "/docking/platforms?group=研发平台&level=市"),
            fig("技术合同成交额", (total * 100.0).round() / 100.0, c_p, "万元", "/docking/contracts"),
            fig("其中技术性收入", (income * 100.0).round() / 100.0, c_p, "万元", "/docking/contracts"),
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
