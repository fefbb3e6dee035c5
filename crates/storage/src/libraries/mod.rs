//! The 产学研 libraries beyond 成果库 import: institutions, 征集 campaigns, 难题库 (technical
//! problems), 专家库 (experts), submitted achievements, platforms and carriers — and the review
//! every submission goes through (形式审核 → 部门审核 → 发布, 退回 with a reason, expiry).
//!
//! Who may do what is decided here, on the server: the 科技局 keeps the libraries and reviews;
//! an enterprise user submits its own enterprise's problems; an institution user submits its own
//! achievements and experts. Confidential problems and expert contacts are filtered per reader.
//!
//! One file per library and concern: `institutions`, `campaigns` (征集), `tech_problems` (难题库),
//! `experts` (专家库), `achievement_submissions` (成果 submitted through a campaign), `platforms`
//! (平台载体), `reviews` (the review every submission goes through, and expiry) and
//! `problem_import` (难题 collected on paper or in Excel). This file holds what they share.

mod achievement_submissions;
mod campaigns;
mod experts;
mod institutions;
mod platforms;
mod problem_import;
mod reviews;
mod tech_problems;

pub use achievement_submissions::NewAchievement;
pub use campaigns::{Campaign, DEFAULT_VALIDITY_DAYS, NewCampaign};
pub use experts::{Expert, NewExpert};
pub use institutions::{INSTITUTION_KINDS, Institution, NewInstitution};
pub use platforms::{
    BASE_KINDS, CARRIER_KINDS, NewPlatform, PLATFORM_LEVELS, Platform, RD_PLATFORM_KINDS, platform_group,
};
pub use problem_import::problem_columns;
pub use reviews::{ReviewEvent, ReviewItem};
pub use tech_problems::{NewProblem, TechProblem};

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use xietong_docking::review::ReviewStatus;
use xietong_supervision::Role;

use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::{Db, Result, RowExt, StoreError};

/// The three reviewed libraries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Library {
    Problem,
    Expert,
    Achievement,
}

impl Library {
    pub const ALL: [Library; 3] = [Self::Problem, Self::Expert, Self::Achievement];
    pub fn code(self) -> &'static str {
        match self {
            Self::Problem => "problem",
            Self::Expert => "expert",
            Self::Achievement => "achievement",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Problem => "难题库",
            Self::Expert => "专家库",
            Self::Achievement => "成果库",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.code() == s)
    }
    fn table(self) -> &'static str {
        match self {
            Self::Problem => "tech_problems",
            Self::Expert => "experts",
            Self::Achievement => "achievements",
        }
    }
    fn locked(self) -> crate::locks::Locked {
        match self {
            Self::Problem => crate::locks::Locked::TechProblems,
            Self::Expert => crate::locks::Locked::Experts,
            Self::Achievement => crate::locks::Locked::Achievements,
        }
    }
    /// 1 for a confidential record (only 难题 can be), as an expression over the table `t`.
    fn confidential_expr(self) -> &'static str {
        match self {
            Self::Problem => "t.confidential",
            _ => "0",
        }
    }
    /// The column naming the enterprise or institution that submitted the record.
    fn owner_col(self) -> &'static str {
        match self {
            Self::Problem => "enterprise_id",
            _ => "institution_id",
        }
    }
    /// What one record of the library is, in a sentence: 技术难题 / 专家信息 / 成果.
    pub fn item_zh(self) -> &'static str {
        match self {
            Self::Problem => "技术难题",
            Self::Expert => "专家信息",
            Self::Achievement => "成果",
        }
    }
    fn title_col(self) -> &'static str {
        match self {
            Self::Expert => "name",
            _ => "title",
        }
    }
}

/// Written in the audit log in place of a confidential 难题's title: the 审计管理员 reads who did
/// what and when, not what the enterprise keeps confidential.
pub(crate) const CONFIDENTIAL_IN_AUDIT: &str = "（保密难题）";

/// The enterprise or institution an account acts for (through its unit).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Party {
    pub enterprise_id: Option<i64>,
    pub institution_id: Option<i64>,
}

pub(crate) fn is_bureau(u: &SessionUser) -> bool {
    matches!(u.role, Role::TechBureau | Role::Admin)
}

/// Readers of every record, confidential ones included: the 科技局 and the district-wide roles.
pub fn reads_all(u: &SessionUser) -> bool {
    u.role.sees_all_libraries()
}

pub fn must_be_bureau(u: &SessionUser, what: &str) -> Result<()> {
    if u.role == Role::TechBureau {
        Ok(())
    } else {
        Err(StoreError::Denied(format!("无权限：{what}由科技局办理")))
    }
}

/// Who a submission is for, in the words of its refusals.
struct Owner<'a> {
    /// The role that submits for itself (企业用户 or 高校院所用户).
    role: Role,
    /// 企业 / 高校院所
    kind: &'a str,
    /// The form field where the 科技局 chooses it.
    field: &'a str,
    /// 技术难题 / 专家信息 / 成果
    record: &'a str,
}

/// The enterprise or institution a submission belongs to: the submitter's own, or — when the
/// 科技局 enters it on someone's behalf — the one chosen in the form. Nobody else submits.
fn owner_of(u: &SessionUser, own: Option<i64>, chosen: Option<i64>, o: Owner<'_>) -> Result<i64> {
    if u.role == o.role {
        let own = own.ok_or_else(|| StoreError::Denied(format!("无权限：您的账号未关联{}，请联系科技局", o.kind)))?;
        if chosen.is_some_and(|c| c != own) {
            return Err(StoreError::Denied(format!("无权限：只能提交本{}的{}", o.kind, o.record)));
        }
        Ok(own)
    } else if u.role == Role::TechBureau {
        chosen.ok_or_else(|| StoreError::invalid(o.field, format!("代为提交时须选择{}", o.kind)))
    } else {
        Err(StoreError::Denied(format!("无权限：{}由{}或科技局提交", o.record, o.kind)))
    }
}

fn money(field: &str, v: Option<f64>) -> Result<f64> {
    match v {
        None => Ok(0.0),
        Some(x) if x.is_finite() && (0.0..=1e7).contains(&x) => Ok(x),
        Some(_) => Err(StoreError::invalid(field, "应在 0 到 10000000（万元）之间")),
    }
}

fn keywords(field: &str, s: &str) -> Result<String> {
    let s = xietong_supervision::text::single_line(field, s)?;
    let list: Vec<&str> = s.split([';', '；', ',', '，', '、']).map(str::trim).filter(|k| !k.is_empty()).collect();
    if list.len() > 30 {
        return Err(StoreError::invalid(field, format!("不能超过 30 个（当前 {} 个）", list.len())));
    }
    if let Some(k) = list.iter().find(|k| k.chars().count() > 30) {
        return Err(StoreError::invalid(field, format!("「{k}」过长，每个不超过 30 个字")));
    }
    Ok(list.join(";"))
}

pub fn split_list(s: &str) -> Vec<String> {
    s.split(';').map(str::trim).filter(|k| !k.is_empty()).map(String::from).collect()
}

/// What every reviewed record shows about its review.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewState {
    pub status: ReviewStatus,
    pub status_label: String,
    pub campaign_id: Option<i64>,
    pub return_reason: String,
    pub expires_on: Option<String>,
}

fn review_state(r: &sqlx::any::AnyRow) -> Result<ReviewState> {
    let status = ReviewStatus::from_code(&r.s("status")?).ok_or_else(|| StoreError::internal("未知审核状态"))?;
    Ok(ReviewState {
        status,
        status_label: status.label_zh().into(),
        campaign_id: r.oi("campaign_id")?,
        return_reason: r.s("return_reason")?,
        expires_on: r.os("expires_on")?,
    })
}

impl Db {
    /// The enterprise or institution whose unit the user belongs to.
    pub async fn party_of(&self, u: &SessionUser) -> Result<Party> {
        let e = sqlx::query("SELECT id FROM enterprises WHERE unit_id = $1")
            .bind(u.unit_id)
            .fetch_optional(&self.pool)
            .await?;
        let i = sqlx::query("SELECT id FROM institutions WHERE unit_id = $1")
            .bind(u.unit_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(Party {
            enterprise_id: e.map(|r| r.i("id")).transpose()?,
            institution_id: i.map(|r| r.i("id")).transpose()?,
        })
    }

    /// Give an enterprise or institution the unit whose accounts act for it (set up by the admin).
    pub async fn link_party_unit(
        &self,
        actor: &str,
        enterprise_id: Option<i64>,
        institution_id: Option<i64>,
        unit_id: i64,
        now: NaiveDateTime,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let (table, id) = match (enterprise_id, institution_id) {
            (Some(e), None) => ("enterprises", e),
            (None, Some(i)) => ("institutions", i),
            _ => return Err(StoreError::BadInput("须指定企业或高校院所之一".into())),
        };
        let n = sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE {table} SET unit_id = $1 WHERE id = $2")))
            .bind(unit_id)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound(format!("编号 {id} 的记录不存在")));
        }
        append(
            &mut tx,
            now,
            Change {
                actor,
                action: "party.link_unit",
                entity: table,
                entity_id: id.to_string(),
                before: String::new(),
                after: serde_json::json!({"unit_id": unit_id}).to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
