//! 难题库: technical problems an enterprise (or the 科技局 on its behalf) submits, and who may
//! read them (confidential ones only by the 科技局, district roles, the enterprise and those docked with it).

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use xietong_docking::matching::COOPERATION_MODES;
use xietong_docking::review::ReviewStatus;
use xietong_supervision::validate::{self, Checks, required_multiline, required_text};
use xietong_supervision::{FieldError, Role};

use super::{Library, Owner, Party, ReviewState, keywords, money, owner_of, reads_all, review_state, split_list};
use crate::auth::SessionUser;
use crate::error::{check, got};
use crate::{Db, Result, RowExt, StoreError, ts};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TechProblem {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub enterprise_location: String,
    pub industry_code: Option<String>,
    pub industry_name: Option<String>,
    /// 万元；0 为面议
    pub budget_wan: f64,
    pub cooperation_mode: String,
    pub wanted_by: Option<String>,
    pub confidential: bool,
    pub review: ReviewState,
    pub created_at: NaiveDateTime,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = NewTechProblem)]
pub struct NewProblem {
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub keywords: String,
    /// 科技局代企业提交时必填；企业用户提交时为本企业
    #[serde(default)]
    pub enterprise_id: Option<i64>,
    /// 默认为企业的行业
    #[serde(default)]
    pub industry_code: String,
    #[serde(default)]
    pub budget_wan: Option<f64>,
    #[serde(default)]
    pub cooperation_mode: String,
    /// 期望解决日期 YYYY-MM-DD
    #[serde(default)]
    pub wanted_by: String,
    #[serde(default)]
    pub confidential: bool,
    #[serde(default)]
    pub campaign_id: Option<i64>,
    /// Errors of form fields that could not be read (a number that is none): answered with every
    /// other field's, never stored.
    #[serde(skip)]
    pub unread: Vec<xietong_supervision::FieldError>,
}

const PROBLEM_SELECT: &str = "SELECT p.*, e.name AS enterprise_name, e.location AS enterprise_location, i.name AS industry_name \
     FROM tech_problems p JOIN enterprises e ON e.id = p.enterprise_id LEFT JOIN industries i ON i.code = p.industry_code";

fn problem_of(r: &sqlx::any::AnyRow) -> Result<TechProblem> {
    Ok(TechProblem {
        id: r.i("id")?,
        title: r.s("title")?,
        description: r.s("description")?,
        keywords: split_list(&r.s("keywords")?),
        enterprise_id: r.i("enterprise_id")?,
        enterprise_name: r.s("enterprise_name")?,
        enterprise_location: r.s("enterprise_location")?,
        industry_code: r.os("industry_code")?,
        industry_name: r.os("industry_name")?,
        budget_wan: r.f("budget_wan")?,
        cooperation_mode: r.s("cooperation_mode")?,
        wanted_by: r.os("wanted_by")?,
        confidential: r.i("confidential")? != 0,
        review: review_state(r)?,
        created_at: r.t("created_at")?,
    })
}

impl Db {
    /// Submit a technical problem (or, with `id`, resubmit a returned one with corrections).
    /// Enterprise users submit for their own enterprise; the 科技局 may submit for any.
    pub async fn submit_problem(
        &self,
        u: &SessionUser,
        id: Option<i64>,
        n: &NewProblem,
        now: NaiveDateTime,
    ) -> Result<i64> {
        let party = self.party_of(u).await?;
        let mut tx = self.begin().await?;
        let id = Self::submit_problem_in(&mut tx, u, party, id, n, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// [`Db::submit_problem`] inside the caller's transaction (an import writes all rows or none).
    pub(super) async fn submit_problem_in(
        tx: &mut sqlx::AnyConnection,
        u: &SessionUser,
        party: Party,
        id: Option<i64>,
        n: &NewProblem,
        now: NaiveDateTime,
    ) -> Result<i64> {
        let enterprise_id = owner_of(
            u,
            party.enterprise_id,
            n.enterprise_id,
            Owner { role: Role::Enterprise, kind: "企业", field: "企业", record: "技术难题" },
        );
        // Every field is checked, each error named, before anything is written.
        let mut c = Checks::with(n.unread.clone());
        let enterprise_id = check(&mut c, enterprise_id)?;
        let title = c.take(required_text("难题名称", &n.title, 100));
        let description = c.take(required_multiline("难题描述", &n.description, 5000).and_then(|d| {
            if d.chars().count() < 10 {
                Err(FieldError::new("难题描述", "至少 10 个字，写明技术指标和现状，便于匹配专家和成果"))
            } else {
                Ok(d)
            }
        }));
        let kw = check(&mut c, keywords("关键词", &n.keywords))?;
        let budget = check(&mut c, money("预算（万元）", n.budget_wan))?;
        let mode = n.cooperation_mode.trim();
        if !mode.is_empty() && !COOPERATION_MODES.contains(&mode) {
            c.fail("合作方式", format!("应为 {}", COOPERATION_MODES.join("、")));
        }
        let today = now.date();
        let wanted_by = match n.wanted_by.trim() {
            "" => Some(None),
            s => c.take(validate::date("期望解决日期", s).and_then(|d| {
                if d < today {
                    Err(FieldError::new("期望解决日期", format!("不能早于今天（{today}）")))
                } else {
                    Ok(Some(d.to_string()))
                }
            })),
        };
        let ent = match enterprise_id {
            Some(e) => {
                let r = sqlx::query("SELECT industry_code FROM enterprises WHERE id = $1")
                    .bind(e)
                    .fetch_optional(&mut *tx)
                    .await?;
                if r.is_none() {
                    c.fail("企业", format!("编号 {e} 的企业不在企业库中"));
                }
                r
            }
            None => None,
        };
        let industry = match n.industry_code.trim() {
            "" => match &ent {
                Some(ent) => Some(ent.os("industry_code")?),
                None => None,
            },
            code => check(&mut c, Self::industry_code(tx, code).await)?.map(Some),
        };
        let campaign = check(&mut c, Self::check_campaign(tx, Library::Problem, n.campaign_id, today).await)?;
        c.finish()?;
        let (enterprise_id, title, description, kw, budget) =
            (got(enterprise_id)?, got(title)?, got(description)?, got(kw)?, got(budget)?);
        let (wanted_by, industry, campaign) = (got(wanted_by)?, got(industry)?, got(campaign)?);
        let (id, action) = match id {
            None => {
                let id = sqlx::query(
                    "INSERT INTO tech_problems (title, description, keywords, enterprise_id, industry_code, budget_wan, cooperation_mode, wanted_by, confidential, \
                     status, campaign_id, submitted_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'submitted', $10, $11, $12, $12) RETURNING id",
                )
                .bind(title.clone())
                .bind(description.clone())
                .bind(kw.clone())
                .bind(enterprise_id)
                .bind(industry.clone())
                .bind(budget)
                .bind(mode.to_string())
                .bind(wanted_by.clone())
                .bind(n.confidential as i64)
                .bind(campaign)
                .bind(u.user_id)
                .bind(ts(now))
                .fetch_one(&mut *tx)
                .await?
                .i("id")?;
                (id, "submit")
            }
            Some(id) => {
                Self::check_resubmit(tx, Library::Problem, id, "enterprise_id", Some(enterprise_id), u).await?;
                sqlx::query(
                    "UPDATE tech_problems SET title = $1, description = $2, keywords = $3, industry_code = $4, budget_wan = $5, cooperation_mode = $6, \
                     wanted_by = $7, confidential = $8, status = 'submitted', updated_at = $9 WHERE id = $10",
                )
                .bind(title.clone())
                .bind(description.clone())
                .bind(kw.clone())
                .bind(industry.clone())
                .bind(budget)
                .bind(mode.to_string())
                .bind(wanted_by.clone())
                .bind(n.confidential as i64)
                .bind(ts(now))
                .bind(id)
                .execute(&mut *tx)
                .await?;
                (id, "resubmit")
            }
        };
        let title = if n.confidential { super::CONFIDENTIAL_IN_AUDIT.to_string() } else { title };
        let after = serde_json::json!({"title": title, "enterprise_id": enterprise_id, "industry_code": industry, "budget_wan": budget, "cooperation_mode": mode, "confidential": n.confidential, "campaign_id": campaign});
        Self::record_submission(tx, Library::Problem, id, action, u, after, now).await?;
        Ok(id)
    }

    /// Problems this user may read. The 科技局 reads all; an enterprise its own; district roles
    /// every problem except confidential ones (issue 12: a confidential 难题 is for the 科技局, the
    /// owning enterprise and the parties of a docking on it); others the published, non-confidential
    /// ones plus confidential ones they are docked with.
    pub async fn list_problems_for(&self, u: &SessionUser, status: Option<ReviewStatus>) -> Result<Vec<TechProblem>> {
        let party = self.party_of(u).await?;
        let docked = "EXISTS (SELECT 1 FROM dockings d LEFT JOIN experts x ON x.id = d.expert_id \
                      WHERE d.problem_id = p.id AND (d.institution_id = $3 OR x.institution_id = $3))";
        let (cond, a, b) = if u.role == Role::TechBureau {
            ("1=1".to_string(), 0, 0)
        } else if u.role == Role::Enterprise {
            ("p.enterprise_id = $2".to_string(), party.enterprise_id.unwrap_or(-1), 0)
        } else if reads_all(u) {
            ("p.confidential = 0".to_string(), 0, 0)
        } else {
            (
                format!("p.status = 'published' AND (p.confidential = 0 OR {docked})"),
                0,
                party.institution_id.unwrap_or(-1),
            )
        };
        let sql = format!(
            "{PROBLEM_SELECT} WHERE ($1 = '' OR p.status = $1) AND ($2 = $2) AND ($3 = $3) AND {cond} ORDER BY p.id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(status.map(|s| s.code()).unwrap_or("").to_string())
            .bind(a)
            .bind(b)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(problem_of).collect()
    }

    /// Published problems (all, or the one of `id`) whoever may read them: for the matching index,
    /// whose results are cut to what the asking user may read.
    pub(crate) async fn published_problems_by(&self, id: Option<i64>) -> Result<Vec<TechProblem>> {
        let sql = format!("{PROBLEM_SELECT} WHERE p.status = 'published' AND ($1 < 0 OR p.id = $1) ORDER BY p.id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.unwrap_or(-1)).fetch_all(&self.pool).await?;
        rows.iter().map(problem_of).collect()
    }

    pub async fn get_tech_problem(&self, u: &SessionUser, id: i64) -> Result<TechProblem> {
        self.list_problems_for(u, None)
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| StoreError::NotFound(format!("难题库中没有编号 {id} 的难题，或您无权查看")))
    }
}
