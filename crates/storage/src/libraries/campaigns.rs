//! 征集 campaigns: a period in which problems, experts or achievements are collected, and the
//! validity their published records get.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use xietong_docking::review;
use xietong_supervision::FieldError;
use xietong_supervision::validate::{self, Checks, optional_multiline, required_text};

use super::{Library, must_be_bureau};
use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::error::got;
use crate::{Db, Result, RowExt, StoreError, ts};

/// Validity of published records when no campaign sets one.
pub const DEFAULT_VALIDITY_DAYS: u32 = 365;

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

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
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
    /// Errors of form fields that could not be read (a number that is none): answered with every
    /// other field's, never stored.
    #[serde(skip)]
    pub unread: Vec<xietong_supervision::FieldError>,
}

impl Db {
    pub async fn create_campaign(&self, u: &SessionUser, n: &NewCampaign, now: NaiveDateTime) -> Result<i64> {
        must_be_bureau(u, "发起征集")?;
        // Every field is checked before the answer.
        let mut c = Checks::with(n.unread.clone());
        let title = c.take(required_text("征集名称", &n.title, 100));
        let target =
            c.take(Library::from_code(n.target.trim()).ok_or_else(|| {
                FieldError::new("征集对象", "应为 难题（problem）、专家（expert）或 成果（achievement）")
            }));
        let starts = c.take(validate::date("开始日期", &n.starts_on));
        let ends = c.take(validate::date("截止日期", &n.ends_on));
        if let (Some(starts), Some(ends)) = (starts, ends) {
            if ends < starts {
                c.fail("截止日期", "不能早于开始日期");
            } else if (ends - starts).num_days() > 366 * 2 {
                c.fail("截止日期", "征集期不能超过两年");
            }
        }
        let validity = c.take(review::validity_days(n.validity_days.unwrap_or(i64::from(DEFAULT_VALIDITY_DAYS))));
        let description = c.take(optional_multiline("征集说明", &n.description, 2000));
        c.finish()?;
        let (title, target, starts, ends) = (got(title)?, got(target)?, got(starts)?, got(ends)?);
        let (validity, description) = (got(validity)?, got(description)?.unwrap_or_default());
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
        append(
            &mut tx,
            now,
            Change {
                actor: &u.username,
                action: "campaign.create",
                entity: "campaign",
                entity_id: id.to_string(),
                before: String::new(),
                after: after.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn list_campaigns(&self, today: NaiveDate) -> Result<Vec<Campaign>> {
        let rows =
            sqlx::query("SELECT * FROM campaigns ORDER BY starts_on DESC, id DESC").fetch_all(&self.pool).await?;
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
                state_label: if open {
                    "征集中"
                } else if today < starts {
                    "未开始"
                } else {
                    "已结束"
                }
                .into(),
                open,
                submissions: counts.i("n")?,
                published: counts.i("p")?,
            });
        }
        Ok(out)
    }

    /// A submission names an open campaign of its library, or none.
    pub(super) async fn check_campaign(
        tx: &mut sqlx::AnyConnection,
        lib: Library,
        id: Option<i64>,
        today: NaiveDate,
    ) -> Result<Option<i64>> {
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
            return Err(StoreError::invalid(
                "征集活动",
                format!(
                    "「{}」的征集期为 {} 至 {}，当前不在征集期内",
                    r.s("title")?,
                    r.s("starts_on")?,
                    r.s("ends_on")?
                ),
            ));
        }
        Ok(Some(id))
    }
}
