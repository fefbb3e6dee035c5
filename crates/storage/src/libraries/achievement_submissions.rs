//! 成果 submitted through a campaign by an institution (or the 科技局 on its behalf); the 成果库
//! itself and its imports are in `crate::achievements`.

use chrono::NaiveDateTime;
use serde::Deserialize;
use xietong_docking::matching::{COOPERATION_MODES, MATURITIES};
use xietong_supervision::Role;
use xietong_supervision::validate::{Checks, optional_text, required_multiline, required_text};

use super::{Library, Owner, keywords, money, owner_of, split_list};
use crate::auth::SessionUser;
use crate::error::{check, got};
use crate::{Db, Result, RowExt, ts};

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
    /// Errors of form fields that could not be read (a number that is none): answered with every
    /// other field's, never stored.
    #[serde(skip)]
    pub unread: Vec<xietong_supervision::FieldError>,
}

impl Db {
    pub async fn submit_achievement(
        &self,
        u: &SessionUser,
        id: Option<i64>,
        n: &NewAchievement,
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
                Owner { role: Role::Institution, kind: "高校院所", field: "完成单位", record: "成果" },
            ),
        )?;
        let title = check(&mut c, required_text("成果名称", &n.title, 300))?;
        let abstract_text = check(&mut c, required_multiline("成果简介", &n.abstract_text, 20_000))?;
        let kind = n.kind.trim();
        if !crate::achievements::KINDS.contains(&kind) {
            c.fail("成果类型", format!("应为 {}", crate::achievements::KINDS.join("、")));
        }
        let patent_no = if kind == "专利" {
            check(&mut c, xietong_docking::codes::patent_number(&n.patent_no))?.map(|p| Some(p.as_str().to_string()))
        } else if n.patent_no.trim().is_empty() {
            Some(None)
        } else {
            c.fail("专利号", "只有类型为「专利」的成果填写专利号");
            None
        };
        let kw = check(&mut c, keywords("关键词", &n.keywords))?;
        let discipline = check(&mut c, optional_text("学科", &n.discipline, 100))?;
        let maturity = n.maturity.trim();
        if !maturity.is_empty() && !MATURITIES.contains(&maturity) {
            c.fail("成熟度", format!("应为 {}", MATURITIES.join("、")));
        }
        let modes = check(&mut c, keywords("转化方式", &n.transfer_modes))?;
        if let Some(m) = modes
            .as_deref()
            .and_then(|modes| split_list(modes).into_iter().find(|m| !COOPERATION_MODES[..4].contains(&m.as_str())))
        {
            c.fail("转化方式", format!("「{m}」无效，应为 {}", COOPERATION_MODES[..4].join("、")));
        }
        let lo = check(&mut c, money("意向价格下限（万元）", n.price_min_wan))?;
        let hi = check(&mut c, money("意向价格上限（万元）", n.price_max_wan))?;
        if let (Some(lo), Some(hi)) = (lo, hi)
            && hi > 0.0
            && lo > hi
        {
            c.fail("意向价格上限（万元）", "不能低于下限");
        }
        let mut tx = self.begin().await?;
        let inst = match institution_id {
            Some(i) => {
                let r =
                    sqlx::query("SELECT name FROM institutions WHERE id = $1").bind(i).fetch_optional(&mut *tx).await?;
                if r.is_none() {
                    c.fail("完成单位", format!("编号 {i} 的高校院所未登记"));
                }
                r.map(|r| r.s("name")).transpose()?
            }
            None => None,
        };
        let campaign =
            check(&mut c, Self::check_campaign(&mut tx, Library::Achievement, n.campaign_id, now.date()).await)?;
        c.finish()?;
        let (institution_id, title, abstract_text, patent_no) =
            (got(institution_id)?, got(title)?, got(abstract_text)?, got(patent_no)?);
        let (kw, discipline, modes, lo, hi) =
            (got(kw)?, got(discipline)?.unwrap_or_default(), got(modes)?, got(lo)?, got(hi)?);
        let (inst, campaign) = (got(inst)?, got(campaign)?);
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
                sqlx::query("UPDATE achievements SET external_id = $1 WHERE id = $2")
                    .bind(format!("XT-{id}"))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                (id, "submit")
            }
            Some(id) => {
                Self::check_resubmit(&mut tx, Library::Achievement, id, "institution_id", Some(institution_id), u)
                    .await?;
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
}
