//! 难题 collected on paper or in Excel for a campaign, imported all or nothing.

use chrono::NaiveDateTime;
use xietong_docking::matching::COOPERATION_MODES;
use xietong_office::table::Column;
use xietong_office::xlsx::RawRow;
use xietong_supervision::validate::required_text;

use super::{NewProblem, Party, must_be_bureau};
use crate::auth::SessionUser;
use crate::imports::{ImportReport, RowProblem, problem, refusal};
use crate::{Db, Result, RowExt, StoreError};

impl Db {
    /// Import technical problems collected on paper or in Excel for a campaign, all or nothing:
    /// every bad row is reported. The 科技局 enters them on the enterprises' behalf.
    pub async fn import_problems(
        &self,
        u: &SessionUser,
        rows: &[RawRow],
        cell_problems: Vec<RowProblem>,
        campaign_id: Option<i64>,
        now: NaiveDateTime,
    ) -> Result<ImportReport> {
        must_be_bureau(u, "难题导入")?;
        if rows.is_empty() {
            return Err(StoreError::BadInput("文件中没有数据行".into()));
        }
        let enterprises: std::collections::HashMap<String, i64> = sqlx::query("SELECT id, name FROM enterprises")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.s("name")?, r.i("id")?)))
            .collect::<Result<_>>()?;
        let bad_cells = crate::imports::rows_with_problems(&cell_problems);
        let mut problems = cell_problems;
        let mut ids = vec![];
        let mut tx = self.begin().await?;
        for r in rows {
            if bad_cells.contains(&r.row) {
                continue;
            }
            let n = (|| -> Result<NewProblem> {
                let name = required_text("企业名称", r.get("enterprise"), 100)?;
                let enterprise_id = *enterprises
                    .get(&name)
                    .ok_or_else(|| StoreError::invalid("企业名称", format!("「{name}」不在企业库中，请先登记企业")))?;
                let budget = xietong_supervision::validate::parse_number("预算（万元）", r.get("budget_wan"))?;
                let confidential = match r.get("confidential").trim() {
                    "" | "否" => false,
                    "是" => true,
                    other => return Err(StoreError::invalid("是否保密", format!("应填“是”或“否”，不是「{other}」"))),
                };
                Ok(NewProblem {
                    title: r.get("title").into(),
                    description: r.get("description").into(),
                    keywords: r.get("keywords").into(),
                    enterprise_id: Some(enterprise_id),
                    industry_code: r.get("industry_code").into(),
                    budget_wan: budget,
                    cooperation_mode: r.get("cooperation_mode").into(),
                    wanted_by: r.get("wanted_by").into(),
                    confidential,
                    campaign_id,
                    unread: vec![],
                })
            })();
            let n = match n {
                Ok(n) => n,
                Err(e) => {
                    problems.extend(problem(r.row, e));
                    continue;
                }
            };
            // Each row in a savepoint, so one bad row does not hide the next one's problems.
            sqlx::query("SAVEPOINT import_row").execute(&mut *tx).await?;
            match Self::submit_problem_in(&mut tx, u, Party::default(), None, &n, now).await {
                Ok(id) => {
                    sqlx::query("RELEASE SAVEPOINT import_row").execute(&mut *tx).await?;
                    ids.push(id);
                }
                Err(e @ (StoreError::Internal(_) | StoreError::Denied(_))) => return Err(e),
                Err(e) => {
                    sqlx::query("ROLLBACK TO SAVEPOINT import_row").execute(&mut *tx).await?;
                    sqlx::query("RELEASE SAVEPOINT import_row").execute(&mut *tx).await?;
                    problems.extend(problem(r.row, e));
                }
            }
        }
        if !problems.is_empty() {
            tx.rollback().await?;
            return Err(refusal(&problems));
        }
        tx.commit().await?;
        Ok(ImportReport { rows: rows.len(), created_ids: ids, list_id: None })
    }
}

/// Columns of the 难题 import template (征集 on paper or in Excel).
pub fn problem_columns() -> Vec<Column> {
    let c = |key: &str, header: &str, required: bool, width: f64, note: &str, choices: Vec<String>| Column {
        key: key.into(),
        header: header.into(),
        required,
        width,
        note: note.into(),
        choices,
    };
    vec![
        c("enterprise", "企业名称", true, 30.0, "企业库中的企业全称", vec![]),
        c("title", "难题名称", true, 30.0, "", vec![]),
        c("description", "难题描述", true, 50.0, "技术指标、现状和目标，至少 10 个字", vec![]),
        c("keywords", "关键词", false, 20.0, "分号分隔", vec![]),
        c("industry_code", "行业代码", false, 10.0, "GB/T 4754-2017，默认为企业的行业", vec![]),
        c("budget_wan", "预算（万元）", false, 10.0, "空为面议", vec![]),
        c("cooperation_mode", "合作方式", false, 12.0, "", COOPERATION_MODES.iter().map(|m| m.to_string()).collect()),
        c("wanted_by", "期望解决日期", false, 14.0, "YYYY-MM-DD", vec![]),
        c("confidential", "是否保密", false, 8.0, "是/否", vec!["是".into(), "否".into()]),
    ]
}
