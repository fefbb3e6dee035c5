//! 高校院所: the institutions experts and achievements belong to, registered by the 科技局.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use xietong_supervision::validate::{Checks, optional_text, required_text};

use super::is_bureau;
use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::error::got;
use crate::{Db, Result, RowExt, StoreError, ts};

pub const INSTITUTION_KINDS: [&str; 3] = ["高校", "科研院所", "新型研发机构"];

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Institution {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub location: String,
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

impl Db {
    pub async fn create_institution(&self, u: &SessionUser, n: &NewInstitution, now: NaiveDateTime) -> Result<i64> {
        if !is_bureau(u) {
            return Err(StoreError::Denied("无权限：高校院所登记由科技局办理".into()));
        }
        // Every field is checked before the answer.
        let mut c = Checks::new();
        let name = c.take(required_text("机构名称", &n.name, 100));
        let kind = n.kind.trim();
        if !INSTITUTION_KINDS.contains(&kind) {
            c.fail("机构类型", format!("应为 {}", INSTITUTION_KINDS.join("、")));
        }
        let location = c.take(optional_text("所在地", &n.location, 100));
        let mut tx = self.begin().await?;
        if let Some(name) = &name
            && sqlx::query("SELECT COUNT(*) AS n FROM institutions WHERE name = $1")
                .bind(name.clone())
                .fetch_one(&mut *tx)
                .await?
                .i("n")?
                > 0
        {
            c.fail("机构名称", format!("「{name}」已登记"));
        }
        c.finish()?;
        let (name, location) = (got(name)?, got(location)?.unwrap_or_default());
        let id = sqlx::query(
            "INSERT INTO institutions (name, kind, location, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(name.clone())
        .bind(kind.to_string())
        .bind(location)
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await?
        .i("id")?;
        append(
            &mut tx,
            now,
            Change {
                actor: &u.username,
                action: "institution.create",
                entity: "institution",
                entity_id: id.to_string(),
                before: String::new(),
                after: serde_json::json!({"name": name, "kind": kind}).to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn list_institutions(&self) -> Result<Vec<Institution>> {
        let rows = sqlx::query(
            "SELECT i.*, (SELECT COUNT(*) FROM experts x WHERE x.institution_id = i.id AND x.status = 'published') AS experts, \
             (SELECT COUNT(*) FROM achievements a WHERE a.institution_id = i.id AND a.status = 'published') AS achievements \
             FROM institutions i ORDER BY i.id",
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
                    experts: r.i("experts")?,
                    achievements: r.i("achievements")?,
                })
            })
            .collect()
    }
}
