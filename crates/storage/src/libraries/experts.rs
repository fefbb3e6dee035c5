//! 专家库: experts an institution (or the 科技局 on its behalf) submits, with their contacts
//! shown in full, masked or hidden per reader.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use xietong_docking::review::ReviewStatus;
use xietong_security::privacy::{self, Exposure, PersonalField, Relation, exposure};
use xietong_supervision::Role;
use xietong_supervision::validate::{Checks, optional_multiline, optional_text, required_text};

use super::{Library, Owner, ReviewState, keywords, owner_of, reads_all, review_state, split_list};
use crate::auth::SessionUser;
use crate::error::{check, got};
use crate::{Db, Result, RowExt, StoreError, ts};

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
    /// Errors of form fields that could not be read (a number that is none): answered with every
    /// other field's, never stored.
    #[serde(skip)]
    pub unread: Vec<xietong_supervision::FieldError>,
}

fn yes() -> bool {
    true
}

const EXPERT_SELECT: &str = "SELECT x.*, i.name AS institution_name, i.location AS institution_location FROM experts x JOIN institutions i ON i.id = x.institution_id";

/// An expert as `role` may see them, the personal fields shown per the one table in
/// `xietong_security::privacy` (the reader's relation to the expert decides the rest).
fn expert_of(
    r: &sqlx::any::AnyRow,
    achievement_ids: Vec<i64>,
    role: Role,
    relation: Relation,
    cipher: &xietong_security::fields::FieldCipher,
) -> Result<Expert> {
    let show = |col: &str, field: PersonalField| -> Result<String> {
        let e = exposure(role, relation, field);
        if e == Exposure::Hidden {
            // Not even decrypted: a value the reader may not see never enters the response.
            return Ok(privacy::render(e, field, "-"));
        }
        let whole = cipher.open(&r.s(col)?).map_err(|e| StoreError::internal(e.to_string()))?;
        Ok(privacy::render(e, field, &whole))
    };
    let phone = show("phone", PersonalField::ExpertPhone)?;
    let email = show("email", PersonalField::ExpertEmail)?;
    let id_number = show("id_number", PersonalField::ExpertIdNumber)?;
    let contact_visible = exposure(role, relation, PersonalField::ExpertPhone) == Exposure::Whole;
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
        achievement_ids,
        review: review_state(r)?,
    })
}

impl Db {
    pub async fn submit_expert(
        &self,
        u: &SessionUser,
        id: Option<i64>,
        n: &NewExpert,
        now: NaiveDateTime,
    ) -> Result<i64> {
        let party = self.party_of(u).await?;
        // Every field is checked, each error named, before anything is written.
        let mut c = Checks::with(n.unread.clone());
        let institution_id = check(
            &mut c,
            owner_of(
                u,
                party.institution_id,
                n.institution_id,
                Owner { role: Role::Institution, kind: "高校院所", field: "所在机构", record: "专家信息" },
            ),
        )?;
        let name = check(&mut c, required_text("专家姓名", &n.name, 50))?;
        let title = check(&mut c, optional_text("职称", &n.title, 50))?;
        let disciplines = check(&mut c, keywords("学科", &n.disciplines))?;
        let fields = check(&mut c, optional_multiline("研究方向", &n.fields, 1000))?;
        let kw = check(&mut c, keywords("关键词", &n.keywords))?;
        if let (Some(None), Some(kw)) = (&fields, &kw)
            && kw.is_empty()
        {
            c.fail("研究方向", "研究方向和关键词至少填写一项，否则无法匹配");
        }
        let phone = check(&mut c, optional_text("联系电话", &n.phone, 30))?;
        if let Some(Some(phone)) = &phone
            && !phone.chars().all(|c| c.is_ascii_digit() || c == '-' || c == ' ' || c == '+')
        {
            c.fail("联系电话", "只能包含数字、空格、+ 和 -");
        }
        let email = check(&mut c, optional_text("电子邮箱", &n.email, 100))?;
        if let Some(Some(email)) = &email
            && (!email.contains('@') || !email.rsplit('@').next().is_some_and(|d| d.contains('.')))
        {
            c.fail("电子邮箱", format!("「{email}」不是有效的邮箱地址"));
        }
        let id_number = if n.id_number.trim().is_empty() {
            Some(String::new())
        } else {
            check(&mut c, xietong_security::id_number::check_id_number("身份证号", &n.id_number))?
        };
        let mut tx = self.begin().await?;
        if let Some(i) = institution_id
            && sqlx::query("SELECT COUNT(*) AS n FROM institutions WHERE id = $1")
                .bind(i)
                .fetch_one(&mut *tx)
                .await?
                .i("n")?
                == 0
        {
            c.fail("所在机构", format!("编号 {i} 的高校院所未登记"));
        }
        for a in &n.achievement_ids {
            if sqlx::query("SELECT COUNT(*) AS n FROM achievements WHERE id = $1")
                .bind(*a)
                .fetch_one(&mut *tx)
                .await?
                .i("n")?
                == 0
            {
                c.fail("关联成果", format!("成果库中没有编号 {a} 的成果"));
            }
        }
        let campaign = check(&mut c, Self::check_campaign(&mut tx, Library::Expert, n.campaign_id, now.date()).await)?;
        c.finish()?;
        let (institution_id, name, title, disciplines) =
            (got(institution_id)?, got(name)?, got(title)?.unwrap_or_default(), got(disciplines)?);
        let (fields, kw, phone) = (got(fields)?.unwrap_or_default(), got(kw)?, got(phone)?.unwrap_or_default());
        let (email, id_number, campaign) = (got(email)?.unwrap_or_default(), got(id_number)?, got(campaign)?);
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
            sqlx::query(
                "INSERT INTO expert_achievements (expert_id, achievement_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(*a)
            .execute(&mut *tx)
            .await?;
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
        let cond = if reads_all(u) {
            "1=1"
        } else if u.role == Role::Institution {
            "(x.status = 'published' OR x.institution_id = $2)"
        } else {
            "x.status = 'published'"
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{EXPERT_SELECT} WHERE ($1 = '' OR x.status = $1) AND ($2 = $2) AND {cond} ORDER BY x.id"
        )))
        .bind(status.map(|s| s.code()).unwrap_or("").to_string())
        .bind(own_inst)
        .fetch_all(&self.pool)
        .await?;
        let links = sqlx::query("SELECT expert_id, achievement_id FROM expert_achievements ORDER BY achievement_id")
            .fetch_all(&self.pool)
            .await?;
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
            let relation = if r.i("institution_id")? == own_inst {
                Relation::Own
            } else if consented.contains(&id) {
                Relation::Consented
            } else {
                Relation::Other
            };
            out.push(expert_of(r, ids, u.role, relation, &self.cipher)?);
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
        self.published_experts_by(None).await
    }

    /// The published expert `id` (none when it is not published), as matching sees it.
    pub(crate) async fn published_expert(&self, id: i64) -> Result<Option<Expert>> {
        Ok(self.published_experts_by(Some(id)).await?.pop())
    }

    /// Published experts (all, or the one of `id`), with no personal field: what matching may show.
    async fn published_experts_by(&self, id: Option<i64>) -> Result<Vec<Expert>> {
        let id = id.unwrap_or(-1);
        let sql = format!("{EXPERT_SELECT} WHERE x.status = 'published' AND ($1 < 0 OR x.id = $1) ORDER BY x.id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_all(&self.pool).await?;
        let links =
            sqlx::query("SELECT expert_id, achievement_id FROM expert_achievements WHERE $1 < 0 OR expert_id = $1")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        let mut by_expert: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
        for l in &links {
            by_expert.entry(l.i("expert_id")?).or_default().push(l.i("achievement_id")?);
        }
        let mut out = vec![];
        for r in &rows {
            let ids = by_expert.remove(&r.i("id")?).unwrap_or_default();
            // For matching: no personal field leaves (a role that sees none of them).
            out.push(expert_of(r, ids, Role::AuditAdmin, Relation::Other, &self.cipher)?);
        }
        Ok(out)
    }
}
