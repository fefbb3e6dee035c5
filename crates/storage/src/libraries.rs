//! The 产学研 libraries beyond 成果库 import: institutions, 征集 campaigns, 难题库 (technical
//! problems), 专家库 (experts), submitted achievements, platforms and carriers — and the review
//! every submission goes through (形式审核 → 部门审核 → 发布, 退回 with a reason, expiry).
//!
//! Who may do what is decided here, on the server: the 科技局 keeps the libraries and reviews;
//! an enterprise user submits its own enterprise's problems; an institution user submits its own
//! achievements and experts. Confidential problems and expert contacts are filtered per reader.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use xietong_calendar::parse_date;
use xietong_docking::matching::{COOPERATION_MODES, MATURITIES};
use xietong_docking::review::{self, ReviewAction, ReviewStatus};
use xietong_supervision::validate::{optional_text, required_text};
use xietong_supervision::Role;

use xietong_office::table::Column;
use xietong_office::xlsx::RawRow;

use crate::audit::{append, Change};
use crate::auth::SessionUser;
use crate::imports::{problem, refusal, ImportReport, RowProblem};
use crate::{ts, Db, Result, RowExt, StoreError};

pub const INSTITUTION_KINDS: [&str; 3] = ["高校", "科研院所", "新型研发机构"];
/// R&D platforms (counted by level), innovation carriers, and school–enterprise bases.
pub const RD_PLATFORM_KINDS: [&str; 4] = ["重点实验室", "工程技术研究中心", "企业技术中心", "新型研发机构"];
pub const CARRIER_KINDS: [&str; 3] = ["众创空间", "孵化器", "创新创业综合体"];
pub const BASE_KINDS: [&str; 1] = ["校企合作基地"];
pub const PLATFORM_LEVELS: [&str; 3] = ["国家", "省", "市"];
/// Validity of published records when no campaign sets one.
pub const DEFAULT_VALIDITY_DAYS: u32 = 365;

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
    fn title_col(self) -> &'static str {
        match self {
            Self::Expert => "name",
            _ => "title",
        }
    }
}

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
    if u.role == Role::TechBureau { Ok(()) } else { Err(StoreError::Denied(format!("无权限：{what}由科技局办理"))) }
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

// ---------------------------------------------------------------------------------------------
// Records

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Institution {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub location: String,
    pub placeholder: bool,
    pub experts: i64,
    pub achievements: i64,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewInstitution {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub location: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Campaign {
    pub id: i64,
    pub title: String,
    pub target: Library,
    pub target_label: String,
    pub starts_on: String,
    pub ends_on: String,
    pub validity_days: i64,
    pub description: String,
    /// 征集中 / 未开始 / 已结束
    pub state_label: String,
    pub open: bool,
    pub submissions: i64,
    pub published: i64,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewCampaign {
    pub title: String,
    /// problem | expert | achievement
    pub target: String,
    pub starts_on: String,
    pub ends_on: String,
    /// 发布后的有效期（天），默认 365
    #[serde(default)]
    pub validity_days: Option<i64>,
    #[serde(default)]
    pub description: String,
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
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Expert {
    pub id: i64,
    pub name: String,
    pub institution_id: i64,
    pub institution_name: String,
    pub institution_location: String,
    pub title: String,
    pub disciplines: Vec<String>,
    pub fields: String,
    pub keywords: Vec<String>,
    /// Shown only to the 科技局, the expert's institution, and an enterprise the expert consented
    /// to in a docking; otherwise "（仅科技局可见）".
    pub phone: String,
    pub email: String,
    /// 身份证号: in full for the 科技局 and the expert's institution only; 脱敏 for district
    /// leadership and a consenting docking's enterprise; hidden otherwise.
    pub id_number: String,
    pub contact_visible: bool,
    pub share_on_consent: bool,
    pub placeholder: bool,
    pub achievement_ids: Vec<i64>,
    pub review: ReviewState,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct NewExpert {
    pub name: String,
    /// 高校院所用户提交时为本机构
    #[serde(default)]
    pub institution_id: Option<i64>,
    #[serde(default)]
    pub title: String,
    /// 学科，分号分隔
    #[serde(default)]
    pub disciplines: String,
    /// 研究方向
    #[serde(default)]
    pub fields: String,
    #[serde(default)]
    pub keywords: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    /// 身份证号（18 位，选填；加密存储）
    #[serde(default)]
    pub id_number: String,
    #[serde(default = "yes")]
    pub share_on_consent: bool,
    /// 关联成果（成果库编号）
    #[serde(default)]
    pub achievement_ids: Vec<i64>,
    #[serde(default)]
    pub campaign_id: Option<i64>,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct NewAchievement {
    pub title: String,
    #[serde(rename = "abstract")]
    pub abstract_text: String,
    /// 专利 / 论文 / 技术 / 软件著作权 / 新品种
    pub kind: String,
    #[serde(default)]
    pub patent_no: String,
    #[serde(default)]
    pub keywords: String,
    #[serde(default)]
    pub discipline: String,
    /// 实验室 / 小试 / 中试 / 产业化
    #[serde(default)]
    pub maturity: String,
    /// 转让、许可、作价入股、合作开发（可多选，分号分隔）
    #[serde(default)]
    pub transfer_modes: String,
    #[serde(default)]
    pub price_min_wan: Option<f64>,
    #[serde(default)]
    pub price_max_wan: Option<f64>,
    #[serde(default)]
    pub institution_id: Option<i64>,
    #[serde(default)]
    pub campaign_id: Option<i64>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Platform {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub level: String,
    /// 研发平台 / 创新创业载体 / 校企合作基地
    pub group: String,
    pub host: String,
    pub approved_year: Option<i64>,
    pub placeholder: bool,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct NewPlatform {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub approved_year: Option<i64>,
}

pub fn platform_group(kind: &str) -> &'static str {
    if RD_PLATFORM_KINDS.contains(&kind) {
        "研发平台"
    } else if CARRIER_KINDS.contains(&kind) {
        "创新创业载体"
    } else {
        "校企合作基地"
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewItem {
    pub library: Library,
    pub library_label: String,
    pub id: i64,
    pub title: String,
    /// 提交单位（企业或高校院所）
    pub party: String,
    pub review: ReviewState,
    pub updated_at: NaiveDateTime,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewEvent {
    pub action: String,
    pub action_label: String,
    pub from_label: String,
    pub to_label: String,
    pub reason: String,
    pub actor: String,
    pub at: NaiveDateTime,
}

// ---------------------------------------------------------------------------------------------

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

const EXPERT_SELECT: &str =
    "SELECT x.*, i.name AS institution_name, i.location AS institution_location FROM experts x JOIN institutions i ON i.id = x.institution_id";

/// How much of an expert's contact a reader sees.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Contact {
    /// The 科技局, the expert's institution, an enterprise the expert consented to.
    Full,
    /// District leadership: 脱敏.
    Masked,
    Hidden,
}

/// `contact` governs phone and e-mail; `identity` the ID number, which a consenting enterprise
/// sees only masked.
fn expert_of(r: &sqlx::any::AnyRow, achievement_ids: Vec<i64>, contact: Contact, identity: Contact, cipher: &xietong_security::fields::FieldCipher) -> Result<Expert> {
    let hidden = "（仅科技局可见）".to_string();
    let open = |col: &str| -> Result<String> { cipher.open(&r.s(col)?).map_err(|e| StoreError::internal(e.to_string())) };
    let (phone, email) = match contact {
        Contact::Full => (open("phone")?, open("email")?),
        Contact::Masked => {
            let email = open("email")?;
            let masked_email = match email.split_once('@') {
                Some((name, domain)) => format!("{}***@{domain}", name.chars().next().unwrap_or('*')),
                None => String::new(),
            };
            (xietong_security::fields::mask_phone(&open("phone")?), masked_email)
        }
        Contact::Hidden => (hidden.clone(), hidden.clone()),
    };
    let id_number = match identity {
        Contact::Full => open("id_number")?,
        Contact::Masked => xietong_security::fields::mask_id_number(&open("id_number")?),
        Contact::Hidden => hidden,
    };
    let contact_visible = contact == Contact::Full;
    Ok(Expert {
        id: r.i("id")?,
        name: r.s("name")?,
        institution_id: r.i("institution_id")?,
        institution_name: r.s("institution_name")?,
        institution_location: r.s("institution_location")?,
        title: r.s("title")?,
        disciplines: split_list(&r.s("disciplines")?),
        fields: r.s("fields")?,
        keywords: split_list(&r.s("keywords")?),
        phone,
        email,
        id_number,
        contact_visible,
        share_on_consent: r.i("share_on_consent")? != 0,
        placeholder: r.i("placeholder")? != 0,
        achievement_ids,
        review: review_state(r)?,
    })
}

impl Db {
    /// The enterprise or institution whose unit the user belongs to.
    pub async fn party_of(&self, u: &SessionUser) -> Result<Party> {
        let e = sqlx::query("SELECT id FROM enterprises WHERE unit_id = $1").bind(u.unit_id).fetch_optional(&self.pool).await?;
        let i = sqlx::query("SELECT id FROM institutions WHERE unit_id = $1").bind(u.unit_id).fetch_optional(&self.pool).await?;
        Ok(Party { enterprise_id: e.map(|r| r.i("id")).transpose()?, institution_id: i.map(|r| r.i("id")).transpose()? })
    }

    /// Give an enterprise or institution the unit whose accounts act for it (set up by the admin).
    pub async fn link_party_unit(&self, actor: &str, enterprise_id: Option<i64>, institution_id: Option<i64>, unit_id: i64, now: NaiveDateTime) -> Result<()> {
        let mut tx = self.begin().await?;
        let (table, id) = match (enterprise_id, institution_id) {
            (Some(e), None) => ("enterprises", e),
            (None, Some(i)) => ("institutions", i),
            _ => return Err(StoreError::BadInput("须指定企业或高校院所之一".into())),
        };
        let n = sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE {table} SET unit_id = $1 WHERE id = $2"))).bind(unit_id).bind(id).execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound(format!("编号 {id} 的记录不存在")));
        }
        append(&mut tx, now, Change { actor, action: "party.link_unit", entity: table, entity_id: id.to_string(), before: String::new(), after: serde_json::json!({"unit_id": unit_id}).to_string() }).await?;
        tx.commit().await?;
        Ok(())
    }

    // --- institutions -------------------------------------------------------------------------

    pub async fn create_institution(&self, u: &SessionUser, n: &NewInstitution, placeholder: bool, now: NaiveDateTime) -> Result<i64> {
        if !is_bureau(u) {
            return Err(StoreError::Denied("无权限：高校院所登记由科技局办理".into()));
        }
        let name = required_text("机构名称", &n.name, 100)?;
        let kind = n.kind.trim();
        if !INSTITUTION_KINDS.contains(&kind) {
            return Err(StoreError::invalid("机构类型", format!("应为 {}", INSTITUTION_KINDS.join("、"))));
        }
        let location = optional_text("所在地", &n.location, 100)?.unwrap_or_default();
        let mut tx = self.begin().await?;
        if sqlx::query("SELECT COUNT(*) AS n FROM institutions WHERE name = $1").bind(name.clone()).fetch_one(&mut *tx).await?.i("n")? > 0 {
            return Err(StoreError::invalid("机构名称", format!("「{name}」已登记")));
        }
        let id = sqlx::query("INSERT INTO institutions (name, kind, location, placeholder, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(name.clone())
            .bind(kind.to_string())
            .bind(location)
            .bind(placeholder as i64)
            .bind(ts(now))
            .fetch_one(&mut *tx)
            .await?
            .i("id")?;
        append(&mut tx, now, Change { actor: &u.username, action: "institution.create", entity: "institution", entity_id: id.to_string(), before: String::new(), after: serde_json::json!({"name": name, "kind": kind}).to_string() }).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn list_institutions(&self) -> Result<Vec<Institution>> {
        let rows = sqlx::query(
            "SELECT i.*, (SELECT COUNT(*) FROM experts x WHERE x.institution_id = i.id AND x.status = 'published') AS experts, \
             (SELECT COUNT(*) FROM achievements a WHERE a.institution_id = i.id AND a.status = 'published') AS achievements \
             FROM institutions i ORDER BY i.placeholder, i.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Institution {
                    id: r.i("id")?,
                    name: r.s("name")?,
                    kind: r.s("kind")?,
                    location: r.s("location")?,
                    placeholder: r.i("placeholder")? != 0,
                    experts: r.i("experts")?,
                    achievements: r.i("achievements")?,
                })
            })
            .collect()
    }

    // --- campaigns ----------------------------------------------------------------------------

    pub async fn create_campaign(&self, u: &SessionUser, n: &NewCampaign, now: NaiveDateTime) -> Result<i64> {
        must_be_bureau(u, "发起征集")?;
        let title = required_text("征集名称", &n.title, 100)?;
        let target = Library::from_code(n.target.trim()).ok_or_else(|| StoreError::invalid("征集对象", "应为 难题（problem）、专家（expert）或 成果（achievement）"))?;
        let starts = parse_date("开始日期", &n.starts_on)?;
        let ends = parse_date("截止日期", &n.ends_on)?;
        if ends < starts {
            return Err(StoreError::invalid("截止日期", "不能早于开始日期"));
        }
        if (ends - starts).num_days() > 366 * 2 {
            return Err(StoreError::invalid("截止日期", "征集期不能超过两年"));
        }
        let validity = review::validity_days(n.validity_days.unwrap_or(i64::from(DEFAULT_VALIDITY_DAYS)))?;
        let description = optional_text("征集说明", &n.description, 2000)?.unwrap_or_default();
        let mut tx = self.begin().await?;
        let id = sqlx::query(
            "INSERT INTO campaigns (title, target, starts_on, ends_on, validity_days, description, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(title.clone())
        .bind(target.code().to_string())
        .bind(starts.to_string())
        .bind(ends.to_string())
        .bind(i64::from(validity))
        .bind(description)
        .bind(u.username.clone())
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await?
        .i("id")?;
        let after = serde_json::json!({"title": title, "target": target.code(), "starts_on": starts, "ends_on": ends, "validity_days": validity});
        append(&mut tx, now, Change { actor: &u.username, action: "campaign.create", entity: "campaign", entity_id: id.to_string(), before: String::new(), after: after.to_string() }).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn list_campaigns(&self, today: NaiveDate) -> Result<Vec<Campaign>> {
        let rows = sqlx::query("SELECT * FROM campaigns ORDER BY starts_on DESC, id DESC").fetch_all(&self.pool).await?;
        let mut out = vec![];
        for r in &rows {
            let target = Library::from_code(&r.s("target")?).ok_or_else(|| StoreError::internal("未知征集对象"))?;
            let id = r.i("id")?;
            let counts = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(CASE WHEN status = 'published' THEN 1 ELSE 0 END), 0) AS BIGINT) AS p FROM {} WHERE campaign_id = $1",
                target.table()
            )))
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
            let (starts, ends) = (r.d("starts_on")?, r.d("ends_on")?);
            let open = starts <= today && today <= ends;
            out.push(Campaign {
                id,
                title: r.s("title")?,
                target,
                target_label: target.label_zh().into(),
                starts_on: starts.to_string(),
                ends_on: ends.to_string(),
                validity_days: r.i("validity_days")?,
                description: r.s("description")?,
                state_label: if open { "征集中" } else if today < starts { "未开始" } else { "已结束" }.into(),
                open,
                submissions: counts.i("n")?,
                published: counts.i("p")?,
            });
        }
        Ok(out)
    }

    /// A submission names an open campaign of its library, or none.
    async fn check_campaign(tx: &mut sqlx::AnyConnection, lib: Library, id: Option<i64>, today: NaiveDate) -> Result<Option<i64>> {
        let Some(id) = id else { return Ok(None) };
        let r = sqlx::query("SELECT target, starts_on, ends_on, title FROM campaigns WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::invalid("征集活动", format!("编号 {id} 的征集不存在")))?;
        if r.s("target")? != lib.code() {
            return Err(StoreError::invalid("征集活动", format!("「{}」不是{}的征集", r.s("title")?, lib.label_zh())));
        }
        if today < r.d("starts_on")? || today > r.d("ends_on")? {
            return Err(StoreError::invalid("征集活动", format!("「{}」的征集期为 {} 至 {}，当前不在征集期内", r.s("title")?, r.s("starts_on")?, r.s("ends_on")?)));
        }
        Ok(Some(id))
    }

    /// For a resubmission: the record must be the caller's and returned.
    async fn check_resubmit(tx: &mut sqlx::AnyConnection, lib: Library, id: i64, owner_col: &str, owner: Option<i64>, u: &SessionUser) -> Result<()> {
        // Locked before its status is read, so two resubmissions cannot both pass the check.
        crate::locks::lock_row(tx, lib.locked(), id).await?;
        let r = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT status, {owner_col} AS owner FROM {} WHERE id = $1", lib.table())))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("{}中没有编号 {id} 的记录", lib.label_zh())))?;
        if !is_bureau(u) && r.oi("owner")? != owner {
            return Err(StoreError::Denied("无权限：只能修改本单位提交的记录".into()));
        }
        let status = ReviewStatus::from_code(&r.s("status")?).unwrap_or(ReviewStatus::Published);
        review::next_status(status, ReviewAction::Resubmit, "").map_err(|e| StoreError::Conflict(e.0))?;
        Ok(())
    }

    async fn review_event(tx: &mut sqlx::AnyConnection, lib: Library, id: i64, action: &str, from: &str, to: ReviewStatus, reason: &str, actor: &str, now: NaiveDateTime) -> Result<()> {
        sqlx::query("INSERT INTO review_events (library, record_id, action, from_status, to_status, reason, actor, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(lib.code().to_string())
            .bind(id)
            .bind(action.to_string())
            .bind(from.to_string())
            .bind(to.code().to_string())
            .bind(reason.to_string())
            .bind(actor.to_string())
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    /// A (re)submission enters the review record and the audit chain.
    async fn record_submission(tx: &mut sqlx::AnyConnection, lib: Library, id: i64, action: &str, u: &SessionUser, after: serde_json::Value, now: NaiveDateTime) -> Result<()> {
        let from = if action == "submit" { "" } else { "returned" };
        Self::review_event(tx, lib, id, action, from, ReviewStatus::Submitted, "", &u.username, now).await?;
        let entity = match lib {
            Library::Problem => "tech_problem",
            Library::Expert => "expert",
            Library::Achievement => "achievement",
        };
        append(tx, now, Change { actor: &u.username, action: &format!("{entity}.{action}"), entity, entity_id: id.to_string(), before: String::new(), after: after.to_string() }).await?;
        Ok(())
    }

    // --- 难题库 -------------------------------------------------------------------------------

    /// Submit a technical problem (or, with `id`, resubmit a returned one with corrections).
    /// Enterprise users submit for their own enterprise; the 科技局 may submit for any.
    pub async fn submit_problem(&self, u: &SessionUser, id: Option<i64>, n: &NewProblem, now: NaiveDateTime) -> Result<i64> {
        let party = self.party_of(u).await?;
        let mut tx = self.begin().await?;
        let id = Self::submit_problem_in(&mut tx, u, party, id, n, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// [`Db::submit_problem`] inside the caller's transaction (an import writes all rows or none).
    async fn submit_problem_in(tx: &mut sqlx::AnyConnection, u: &SessionUser, party: Party, id: Option<i64>, n: &NewProblem, now: NaiveDateTime) -> Result<i64> {
        let enterprise_id = owner_of(u, party.enterprise_id, n.enterprise_id, Owner { role: Role::Enterprise, kind: "企业", field: "企业", record: "技术难题" })?;
        let title = required_text("难题名称", &n.title, 100)?;
        let description = required_text("难题描述", &n.description, 5000)?;
        if description.chars().count() < 10 {
            return Err(StoreError::invalid("难题描述", "至少 10 个字，写明技术指标和现状，便于匹配专家和成果"));
        }
        let kw = keywords("关键词", &n.keywords)?;
        let budget = money("预算（万元）", n.budget_wan)?;
        let mode = n.cooperation_mode.trim();
        if !mode.is_empty() && !COOPERATION_MODES.contains(&mode) {
            return Err(StoreError::invalid("合作方式", format!("应为 {}", COOPERATION_MODES.join("、"))));
        }
        let today = now.date();
        let wanted_by = match n.wanted_by.trim() {
            "" => None,
            s => {
                let d = parse_date("期望解决日期", s)?;
                if d < today {
                    return Err(StoreError::invalid("期望解决日期", "不能早于今天"));
                }
                Some(d.to_string())
            }
        };
        let ent = sqlx::query("SELECT industry_code FROM enterprises WHERE id = $1")
            .bind(enterprise_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::invalid("企业", format!("编号 {enterprise_id} 的企业不在企业库中")))?;
        let industry = match n.industry_code.trim() {
            "" => ent.os("industry_code")?,
            c => Some(Self::industry_code(tx, c).await?),
        };
        let campaign = Self::check_campaign(tx, Library::Problem, n.campaign_id, today).await?;
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
        let after = serde_json::json!({"title": title, "enterprise_id": enterprise_id, "industry_code": industry, "budget_wan": budget, "cooperation_mode": mode, "confidential": n.confidential, "campaign_id": campaign});
        Self::record_submission(tx, Library::Problem, id, action, u, after, now).await?;
        Ok(id)
    }

    /// Problems this user may read. The 科技局 and district roles read all; an enterprise its own;
    /// others the published, non-confidential ones plus confidential ones they are docked with.
    pub async fn list_problems_for(&self, u: &SessionUser, status: Option<ReviewStatus>) -> Result<Vec<TechProblem>> {
        let party = self.party_of(u).await?;
        let (cond, a, b) = if reads_all(u) {
            ("1=1".to_string(), 0, 0)
        } else if u.role == Role::Enterprise {
            ("p.enterprise_id = $2".to_string(), party.enterprise_id.unwrap_or(-1), 0)
        } else {
            (
                "p.status = 'published' AND (p.confidential = 0 OR EXISTS (SELECT 1 FROM dockings d LEFT JOIN experts x ON x.id = d.expert_id \
                 WHERE d.problem_id = p.id AND (d.institution_id = $3 OR x.institution_id = $3)))"
                    .to_string(),
                0,
                party.institution_id.unwrap_or(-1),
            )
        };
        let sql = format!("{PROBLEM_SELECT} WHERE ($1 = '' OR p.status = $1) AND ($2 = $2) AND ($3 = $3) AND {cond} ORDER BY p.id DESC");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(status.map(|s| s.code()).unwrap_or("").to_string()).bind(a).bind(b).fetch_all(&self.pool).await?;
        rows.iter().map(problem_of).collect()
    }

    pub async fn get_tech_problem(&self, u: &SessionUser, id: i64) -> Result<TechProblem> {
        self.list_problems_for(u, None)
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| StoreError::NotFound(format!("难题库中没有编号 {id} 的难题，或您无权查看")))
    }

    /// Published problems, confidential included (for matching by the 科技局).
    pub(crate) async fn published_problems(&self) -> Result<Vec<TechProblem>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{PROBLEM_SELECT} WHERE p.status = 'published' ORDER BY p.id"))).fetch_all(&self.pool).await?;
        rows.iter().map(problem_of).collect()
    }

    // --- 专家库 -------------------------------------------------------------------------------

    pub async fn submit_expert(&self, u: &SessionUser, id: Option<i64>, n: &NewExpert, now: NaiveDateTime) -> Result<i64> {
        let party = self.party_of(u).await?;
        let institution_id = owner_of(u, party.institution_id, n.institution_id, Owner { role: Role::Institution, kind: "高校院所", field: "所在机构", record: "专家信息" })?;
        let name = required_text("专家姓名", &n.name, 50)?;
        let title = optional_text("职称", &n.title, 50)?.unwrap_or_default();
        let disciplines = keywords("学科", &n.disciplines)?;
        let fields = optional_text("研究方向", &n.fields, 1000)?.unwrap_or_default();
        let kw = keywords("关键词", &n.keywords)?;
        if fields.is_empty() && kw.is_empty() {
            return Err(StoreError::invalid("研究方向", "研究方向和关键词至少填写一项，否则无法匹配"));
        }
        let phone = optional_text("联系电话", &n.phone, 30)?.unwrap_or_default();
        if !phone.is_empty() && !phone.chars().all(|c| c.is_ascii_digit() || c == '-' || c == ' ' || c == '+') {
            return Err(StoreError::invalid("联系电话", "只能包含数字、空格、+ 和 -"));
        }
        let email = optional_text("电子邮箱", &n.email, 100)?.unwrap_or_default();
        if !email.is_empty() && !(email.contains('@') && email.rsplit('@').next().is_some_and(|d| d.contains('.'))) {
            return Err(StoreError::invalid("电子邮箱", format!("「{email}」不是有效的邮箱地址")));
        }
        let id_number = if n.id_number.trim().is_empty() { String::new() } else { xietong_security::id_number::check_id_number("身份证号", &n.id_number)? };
        let mut tx = self.begin().await?;
        if sqlx::query("SELECT COUNT(*) AS n FROM institutions WHERE id = $1").bind(institution_id).fetch_one(&mut *tx).await?.i("n")? == 0 {
            return Err(StoreError::invalid("所在机构", format!("编号 {institution_id} 的高校院所未登记")));
        }
        for a in &n.achievement_ids {
            if sqlx::query("SELECT COUNT(*) AS n FROM achievements WHERE id = $1").bind(*a).fetch_one(&mut *tx).await?.i("n")? == 0 {
                return Err(StoreError::invalid("关联成果", format!("成果库中没有编号 {a} 的成果")));
            }
        }
        let campaign = Self::check_campaign(&mut tx, Library::Expert, n.campaign_id, now.date()).await?;
        let (id, action) = match id {
            None => {
                let id = sqlx::query(
                    "INSERT INTO experts (name, institution_id, title, disciplines, fields, keywords, phone, email, share_on_consent, status, campaign_id, submitted_by, created_at, updated_at, id_number) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'submitted', $10, $11, $12, $12, $13) RETURNING id",
                )
                .bind(name.clone())
                .bind(institution_id)
                .bind(title.clone())
                .bind(disciplines.clone())
                .bind(fields.clone())
                .bind(kw.clone())
                .bind(self.seal(&phone))
                .bind(self.seal(&email))
                .bind(n.share_on_consent as i64)
                .bind(campaign)
                .bind(u.user_id)
                .bind(ts(now))
                .bind(self.seal(&id_number))
                .fetch_one(&mut *tx)
                .await?
                .i("id")?;
                (id, "submit")
            }
            Some(id) => {
                Self::check_resubmit(&mut tx, Library::Expert, id, "institution_id", Some(institution_id), u).await?;
                sqlx::query(
                    "UPDATE experts SET name = $1, title = $2, disciplines = $3, fields = $4, keywords = $5, phone = $6, email = $7, share_on_consent = $8, \
                     status = 'submitted', updated_at = $9, id_number = $11 WHERE id = $10",
                )
                .bind(name.clone())
                .bind(title.clone())
                .bind(disciplines.clone())
                .bind(fields.clone())
                .bind(kw.clone())
                .bind(self.seal(&phone))
                .bind(self.seal(&email))
                .bind(n.share_on_consent as i64)
                .bind(ts(now))
                .bind(id)
                .bind(self.seal(&id_number))
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM expert_achievements WHERE expert_id = $1").bind(id).execute(&mut *tx).await?;
                (id, "resubmit")
            }
        };
        for a in &n.achievement_ids {
            sqlx::query("INSERT INTO expert_achievements (expert_id, achievement_id) VALUES ($1, $2) ON CONFLICT DO NOTHING").bind(id).bind(*a).execute(&mut *tx).await?;
        }
        // Contact details stay out of the audit text.
        let after = serde_json::json!({"name": name, "institution_id": institution_id, "title": title, "disciplines": disciplines, "keywords": kw, "achievements": n.achievement_ids});
        Self::record_submission(&mut tx, Library::Expert, id, action, u, after, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Experts this user may read, contacts masked unless the reader may see them.
    pub async fn list_experts_for(&self, u: &SessionUser, status: Option<ReviewStatus>) -> Result<Vec<Expert>> {
        let party = self.party_of(u).await?;
        let own_inst = party.institution_id.unwrap_or(-1);
        let cond = if reads_all(u) { "1=1" } else if u.role == Role::Institution { "(x.status = 'published' OR x.institution_id = $2)" } else { "x.status = 'published'" };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{EXPERT_SELECT} WHERE ($1 = '' OR x.status = $1) AND ($2 = $2) AND {cond} ORDER BY x.placeholder, x.id")))
            .bind(status.map(|s| s.code()).unwrap_or("").to_string())
            .bind(own_inst)
            .fetch_all(&self.pool)
            .await?;
        let links = sqlx::query("SELECT expert_id, achievement_id FROM expert_achievements ORDER BY achievement_id").fetch_all(&self.pool).await?;
        // Experts who consented to share with this enterprise in a docking.
        let consented: Vec<i64> = match party.enterprise_id {
            Some(e) => sqlx::query("SELECT expert_id FROM dockings WHERE enterprise_id = $1 AND contact_shared = 1 AND expert_id IS NOT NULL")
                .bind(e)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| r.i("expert_id"))
                .collect::<Result<_>>()?,
            None => vec![],
        };
        let mut out = vec![];
        for r in &rows {
            let id = r.i("id")?;
            let mut ids = vec![];
            for l in &links {
                if l.i("expert_id")? == id {
                    ids.push(l.i("achievement_id")?);
                }
            }
            let own = is_bureau(u) || r.i("institution_id")? == own_inst;
            let contact = if own || consented.contains(&id) {
                Contact::Full
            } else if reads_all(u) {
                Contact::Masked
            } else {
                Contact::Hidden
            };
            let identity = if own { Contact::Full } else if reads_all(u) || consented.contains(&id) { Contact::Masked } else { Contact::Hidden };
            out.push(expert_of(r, ids, contact, identity, &self.cipher)?);
        }
        Ok(out)
    }

    /// The experts an achievement is linked to (its inventors or authors in the 专家库), published only.
    pub async fn experts_of_achievement(&self, achievement_id: i64) -> Result<Vec<(i64, String, String)>> {
        let rows = sqlx::query(
            "SELECT x.id, x.name, i.name AS institution_name FROM expert_achievements ea JOIN experts x ON x.id = ea.expert_id \
             JOIN institutions i ON i.id = x.institution_id WHERE ea.achievement_id = $1 AND x.status = 'published' ORDER BY x.id",
        )
        .bind(achievement_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.i("id")?, r.s("name")?, r.s("institution_name")?))).collect()
    }

    pub(crate) async fn published_experts(&self) -> Result<Vec<Expert>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{EXPERT_SELECT} WHERE x.status = 'published' ORDER BY x.id"))).fetch_all(&self.pool).await?;
        let links = sqlx::query("SELECT expert_id, achievement_id FROM expert_achievements").fetch_all(&self.pool).await?;
        let mut out = vec![];
        for r in &rows {
            let id = r.i("id")?;
            let ids = links.iter().filter(|l| l.i("expert_id").ok() == Some(id)).map(|l| l.i("achievement_id")).collect::<Result<Vec<_>>>()?;
            out.push(expert_of(r, ids, Contact::Hidden, Contact::Hidden, &self.cipher)?);
        }
        Ok(out)
    }

    // --- 成果 submitted through a campaign ----------------------------------------------------

    pub async fn submit_achievement(&self, u: &SessionUser, id: Option<i64>, n: &NewAchievement, now: NaiveDateTime) -> Result<i64> {
        let party = self.party_of(u).await?;
        let institution_id = owner_of(u, party.institution_id, n.institution_id, Owner { role: Role::Institution, kind: "高校院所", field: "完成单位", record: "成果" })?;
        let title = required_text("成果名称", &n.title, 300)?;
        let abstract_text = required_text("成果简介", &n.abstract_text, 20_000)?;
        let kind = n.kind.trim();
        if !crate::achievements::KINDS.contains(&kind) {
            return Err(StoreError::invalid("成果类型", format!("应为 {}", crate::achievements::KINDS.join("、"))));
        }
        let patent_no = if kind == "专利" {
            Some(xietong_docking::codes::patent_number(&n.patent_no)?.as_str().to_string())
        } else if n.patent_no.trim().is_empty() {
            None
        } else {
            return Err(StoreError::invalid("专利号", "只有类型为「专利」的成果填写专利号"));
        };
        let kw = keywords("关键词", &n.keywords)?;
        let discipline = optional_text("学科", &n.discipline, 100)?.unwrap_or_default();
        let maturity = n.maturity.trim();
        if !maturity.is_empty() && !MATURITIES.contains(&maturity) {
            return Err(StoreError::invalid("成熟度", format!("应为 {}", MATURITIES.join("、"))));
        }
        let modes = keywords("转化方式", &n.transfer_modes)?;
        if let Some(m) = split_list(&modes).into_iter().find(|m| !COOPERATION_MODES[..4].contains(&m.as_str())) {
            return Err(StoreError::invalid("转化方式", format!("「{m}」无效，应为 {}", COOPERATION_MODES[..4].join("、"))));
        }
        let (lo, hi) = (money("意向价格下限（万元）", n.price_min_wan)?, money("意向价格上限（万元）", n.price_max_wan)?);
        if hi > 0.0 && lo > hi {
            return Err(StoreError::invalid("意向价格上限（万元）", "不能低于下限"));
        }
        let mut tx = self.begin().await?;
        let inst = sqlx::query("SELECT name FROM institutions WHERE id = $1")
            .bind(institution_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::invalid("完成单位", format!("编号 {institution_id} 的高校院所未登记")))?
            .s("name")?;
        let campaign = Self::check_campaign(&mut tx, Library::Achievement, n.campaign_id, now.date()).await?;
        let (id, action) = match id {
            None => {
                let tmp = format!("pending-{}-{}", u.user_id, ts(now));
                let id = sqlx::query(
                    "INSERT INTO achievements (external_id, title, abstract, keywords, discipline, category, kind, patent_no, institution, maturity, status, source, \
                     institution_id, transfer_modes, price_min_wan, price_max_wan, campaign_id, submitted_by, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, '', $6, $7, $8, $9, 'submitted', '征集提交', $10, $11, $12, $13, $14, $15, $16, $16) RETURNING id",
                )
                .bind(tmp)
                .bind(title.clone())
                .bind(abstract_text)
                .bind(kw.clone())
                .bind(discipline.clone())
                .bind(kind.to_string())
                .bind(patent_no.clone())
                .bind(inst)
                .bind(maturity.to_string())
                .bind(institution_id)
                .bind(modes.clone())
                .bind(lo)
                .bind(hi)
                .bind(campaign)
                .bind(u.user_id)
                .bind(ts(now))
                .fetch_one(&mut *tx)
                .await?
                .i("id")?;
                sqlx::query("UPDATE achievements SET external_id = $1 WHERE id = $2").bind(format!("XT-{id}")).bind(id).execute(&mut *tx).await?;
                (id, "submit")
            }
            Some(id) => {
                Self::check_resubmit(&mut tx, Library::Achievement, id, "institution_id", Some(institution_id), u).await?;
                sqlx::query(
                    "UPDATE achievements SET title = $1, abstract = $2, keywords = $3, discipline = $4, kind = $5, patent_no = $6, maturity = $7, \
                     transfer_modes = $8, price_min_wan = $9, price_max_wan = $10, status = 'submitted', updated_at = $11 WHERE id = $12",
                )
                .bind(title.clone())
                .bind(abstract_text)
                .bind(kw.clone())
                .bind(discipline.clone())
                .bind(kind.to_string())
                .bind(patent_no.clone())
                .bind(maturity.to_string())
                .bind(modes.clone())
                .bind(lo)
                .bind(hi)
                .bind(ts(now))
                .bind(id)
                .execute(&mut *tx)
                .await?;
                (id, "resubmit")
            }
        };
        let after = serde_json::json!({"title": title, "kind": kind, "patent_no": patent_no, "institution_id": institution_id, "maturity": maturity, "transfer_modes": modes, "campaign_id": campaign});
        Self::record_submission(&mut tx, Library::Achievement, id, action, u, after, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    // --- review -------------------------------------------------------------------------------

    /// One review step by the 科技局 (or the 到期 step by the scheduler, with `u` = None).
    /// Publishing and renewing set the expiry from the record's campaign (default one year).
    pub async fn review(&self, u: Option<&SessionUser>, lib: Library, id: i64, action: ReviewAction, reason: &str, now: NaiveDateTime) -> Result<ReviewStatus> {
        let actor = match u {
            Some(u) => {
                if action == ReviewAction::Expire || action == ReviewAction::Resubmit {
                    return Err(StoreError::BadInput(format!("「{}」不是审核操作", action.label_zh())));
                }
                must_be_bureau(u, "审核")?;
                u.username.clone()
            }
            None => "system".to_string(),
        };
        let reason = optional_text("退回原因", reason, 500)?.unwrap_or_default();
        if action == ReviewAction::Return && reason.is_empty() {
            return Err(StoreError::invalid("退回原因", "退回须写明原因，提交人据此修改"));
        }
        let mut tx = self.begin().await?;
        crate::locks::lock_row(&mut tx, lib.locked(), id).await?;
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT t.status, t.{} AS title, c.validity_days FROM {} t LEFT JOIN campaigns c ON c.id = t.campaign_id WHERE t.id = $1",
            lib.title_col(),
            lib.table()
        )))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("{}中没有编号 {id} 的记录", lib.label_zh())))?;
        let from_code = r.s("status")?;
        let from = ReviewStatus::from_code(&from_code).ok_or_else(|| StoreError::internal("未知审核状态"))?;
        let to = review::next_status(from, action, &reason).map_err(|e| StoreError::Conflict(e.0))?;
        let validity = r.oi("validity_days")?.map(|d| d as u32).unwrap_or(DEFAULT_VALIDITY_DAYS);
        let expires = matches!(action, ReviewAction::Approve | ReviewAction::Renew).then(|| review::expires_on(now.date(), validity).to_string());
        let return_reason = if action == ReviewAction::Return { reason.clone() } else { String::new() };
        let changed = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {} SET status = $1, return_reason = $2, expires_on = COALESCE($3, expires_on), updated_at = $4 WHERE id = $5 AND status = $6",
            lib.table()
        )))
        .bind(to.code().to_string())
        .bind(return_reason)
        .bind(expires.clone())
        .bind(ts(now))
        .bind(id)
        .bind(from_code.clone())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed != 1 {
            return Err(StoreError::stale("记录", from.label_zh()));
        }
        Self::review_event(&mut tx, lib, id, action.code(), &from_code, to, &reason, &actor, now).await?;
        let after = serde_json::json!({"library": lib.code(), "title": r.s("title")?, "action": action.code(), "to": to.code(), "reason": reason, "expires_on": expires});
        append(&mut tx, now, Change { actor: &actor, action: &format!("review.{}", action.code()), entity: lib.table(), entity_id: id.to_string(), before: serde_json::json!({"status": from_code}).to_string(), after: after.to_string() }).await?;
        tx.commit().await?;
        Ok(to)
    }

    /// Submissions waiting for 形式审核 or 部门审核, oldest first.
    pub async fn review_queue(&self, u: &SessionUser) -> Result<Vec<ReviewItem>> {
        must_be_bureau(u, "审核")?;
        let mut out = vec![];
        for lib in Library::ALL {
            let party = match lib {
                Library::Problem => "(SELECT name FROM enterprises e WHERE e.id = t.enterprise_id)",
                _ => "(SELECT name FROM institutions i WHERE i.id = t.institution_id)",
            };
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT t.id, t.{} AS title, {party} AS party, t.status, t.campaign_id, t.return_reason, t.expires_on, t.updated_at FROM {} t \
                 WHERE t.status IN ('submitted', 'formal_passed') ORDER BY t.updated_at, t.id",
                lib.title_col(),
                lib.table()
            )))
            .fetch_all(&self.pool)
            .await?;
            for r in &rows {
                out.push(ReviewItem {
                    library: lib,
                    library_label: lib.label_zh().into(),
                    id: r.i("id")?,
                    title: r.s("title")?,
                    party: r.os("party")?.unwrap_or_default(),
                    review: review_state(r)?,
                    updated_at: r.t("updated_at")?,
                });
            }
        }
        out.sort_by(|a, b| a.updated_at.cmp(&b.updated_at));
        Ok(out)
    }

    pub async fn review_history(&self, lib: Library, id: i64) -> Result<Vec<ReviewEvent>> {
        let rows = sqlx::query("SELECT * FROM review_events WHERE library = $1 AND record_id = $2 ORDER BY id").bind(lib.code().to_string()).bind(id).fetch_all(&self.pool).await?;
        let label = |c: &str| ReviewStatus::from_code(c).map(|s| s.label_zh().to_string()).unwrap_or_else(|| "—".into());
        rows.iter()
            .map(|r| {
                let action = r.s("action")?;
                Ok(ReviewEvent {
                    action_label: ReviewAction::from_code(&action).map(|a| a.label_zh().to_string()).unwrap_or_else(|| if action == "submit" { "提交".into() } else { action.clone() }),
                    action,
                    from_label: label(&r.s("from_status")?),
                    to_label: label(&r.s("to_status")?),
                    reason: r.s("reason")?,
                    actor: r.s("actor")?,
                    at: r.t("at")?,
                })
            })
            .collect()
    }

    /// Expire every published record whose validity ended before `today`; each is audited.
    pub async fn expire_library_records(&self, now: NaiveDateTime) -> Result<usize> {
        let mut n = 0;
        for lib in Library::ALL {
            let ids = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT id FROM {} WHERE status = 'published' AND expires_on IS NOT NULL AND expires_on < $1", lib.table())))
                .bind(now.date().to_string())
                .fetch_all(&self.pool)
                .await?;
            for r in &ids {
                self.review(None, lib, r.i("id")?, ReviewAction::Expire, "", now).await?;
                n += 1;
            }
        }
        Ok(n)
    }

    // --- platforms and carriers ---------------------------------------------------------------

    pub async fn create_platform(&self, u: &SessionUser, n: &NewPlatform, placeholder: bool, now: NaiveDateTime) -> Result<i64> {
        if !is_bureau(u) {
            return Err(StoreError::Denied("无权限：平台载体登记由科技局办理".into()));
        }
        let name = required_text("平台名称", &n.name, 150)?;
        let kind = n.kind.trim();
        let all: Vec<&str> = RD_PLATFORM_KINDS.iter().chain(&CARRIER_KINDS).chain(&BASE_KINDS).copied().collect();
        if !all.contains(&kind) {
            return Err(StoreError::invalid("平台类型", format!("应为 {}", all.join("、"))));
        }
        let level = n.level.trim();
        if !level.is_empty() && !PLATFORM_LEVELS.contains(&level) {
            return Err(StoreError::invalid("级别", "应为 国家、省 或 市"));
        }
        if RD_PLATFORM_KINDS.contains(&kind) && level.is_empty() {
            return Err(StoreError::invalid("级别", "研发平台须填写级别（国家、省、市）"));
        }
        if let Some(y) = n.approved_year {
            if !(1949..=now.date().format("%Y").to_string().parse::<i64>().unwrap_or(2100)).contains(&y) {
                return Err(StoreError::invalid("认定年份", format!("{y} 不是有效年份")));
            }
        }
        let host = optional_text("依托单位", &n.host, 100)?.unwrap_or_default();
        let mut tx = self.begin().await?;
        if sqlx::query("SELECT COUNT(*) AS n FROM platforms WHERE name = $1").bind(name.clone()).fetch_one(&mut *tx).await?.i("n")? > 0 {
            return Err(StoreError::invalid("平台名称", format!("「{name}」已登记")));
        }
        let ent = sqlx::query("SELECT id FROM enterprises WHERE name = $1").bind(host.clone()).fetch_optional(&mut *tx).await?.map(|r| r.i("id")).transpose()?;
        let inst = sqlx::query("SELECT id FROM institutions WHERE name = $1").bind(host.clone()).fetch_optional(&mut *tx).await?.map(|r| r.i("id")).transpose()?;
        let id = sqlx::query(
            "INSERT INTO platforms (name, kind, level, host, enterprise_id, institution_id, approved_year, placeholder, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(name.clone())
        .bind(kind.to_string())
        .bind(level.to_string())
        .bind(host)
        .bind(ent)
        .bind(inst)
        .bind(n.approved_year)
        .bind(placeholder as i64)
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await?
        .i("id")?;
        append(&mut tx, now, Change { actor: &u.username, action: "platform.create", entity: "platform", entity_id: id.to_string(), before: String::new(), after: serde_json::json!({"name": name, "kind": kind, "level": level, "placeholder": placeholder}).to_string() }).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Platforms, optionally of one group (研发平台 / 创新创业载体 / 校企合作基地) and level filter
    /// ("省级以上" = 国家 or 省).
    pub async fn list_platforms(&self, group: Option<&str>, level: Option<&str>) -> Result<Vec<Platform>> {
        let rows = sqlx::query("SELECT * FROM platforms ORDER BY placeholder, id").fetch_all(&self.pool).await?;
        let mut out = vec![];
        for r in &rows {
            let kind = r.s("kind")?;
            let lvl = r.s("level")?;
            let g = platform_group(&kind);
            if group.is_some_and(|x| x != g) {
                continue;
            }
            match level {
                Some("省级以上") if !(lvl == "国家" || lvl == "省") => continue,
                Some(l) if l != "省级以上" && l != lvl => continue,
                _ => {}
            }
            out.push(Platform {
                id: r.i("id")?,
                name: r.s("name")?,
                group: g.into(),
                kind,
                level: lvl,
                host: r.s("host")?,
                approved_year: r.oi("approved_year")?,
                placeholder: r.i("placeholder")? != 0,
            });
        }
        Ok(out)
    }

    /// Import technical problems collected on paper or in Excel for a campaign, all or nothing:
    /// every bad row is reported. The 科技局 enters them on the enterprises' behalf.
    pub async fn import_problems(&self, u: &SessionUser, rows: &[RawRow], cell_problems: Vec<RowProblem>, campaign_id: Option<i64>, now: NaiveDateTime) -> Result<ImportReport> {
        must_be_bureau(u, "难题导入")?;
        if rows.is_empty() {
            return Err(StoreError::BadInput("文件中没有数据行".into()));
        }
        let enterprises: std::collections::HashMap<String, i64> =
            sqlx::query("SELECT id, name FROM enterprises").fetch_all(&self.pool).await?.iter().map(|r| Ok((r.s("name")?, r.i("id")?))).collect::<Result<_>>()?;
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
                let enterprise_id = *enterprises.get(&name).ok_or_else(|| StoreError::invalid("企业名称", format!("「{name}」不在企业库中，请先登记企业")))?;
                let budget = match r.get("budget_wan").trim().replace([',', '，'], "") {
                    b if b.is_empty() => None,
                    b => Some(b.parse::<f64>().map_err(|_| StoreError::invalid("预算（万元）", format!("「{b}」不是数字")))?),
                };
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
                })
            })();
            let n = match n {
                Ok(n) => n,
                Err(e) => {
                    problems.push(problem(r.row, e));
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
                    problems.push(problem(r.row, e));
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
    let c = |key: &str, header: &str, required: bool, width: f64, note: &str, choices: Vec<String>| Column { key: key.into(), header: header.into(), required, width, note: note.into(), choices };
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
