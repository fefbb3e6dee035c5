//! Meetings and 对接活动, for one docking or on their own, registered by the 科技局.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use xietong_supervision::validate::{optional_multiline, optional_text, required_text};

use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::libraries::must_be_bureau;
use crate::{Db, Result, RowExt, StoreError, ts};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Activity {
    pub id: i64,
    pub docking_id: Option<i64>,
    pub title: String,
    pub kind: String,
    pub held_on: String,
    pub place: String,
    pub attendees: String,
    pub summary: String,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct NewActivity {
    pub title: String,
    /// 对接洽谈 / 对接活动 / 座谈会 / 现场考察
    pub kind: String,
    /// YYYY-MM-DD
    pub held_on: String,
    #[serde(default)]
    pub place: String,
    /// 参加人员（单位、职务），每行或分号分隔
    #[serde(default)]
    pub attendees: String,
    #[serde(default)]
    pub summary: String,
}

pub const ACTIVITY_KINDS: [&str; 4] = ["对接洽谈", "对接活动", "座谈会", "现场考察"];

impl Db {
    pub async fn add_activity(
        &self,
        u: &SessionUser,
        docking_id: Option<i64>,
        n: &NewActivity,
        now: NaiveDateTime,
    ) -> Result<i64> {
        must_be_bureau(u, "登记对接活动")?;
        // Every field is checked before the answer.
        let mut c = xietong_supervision::validate::Checks::new();
        let title = c.take(required_text("活动名称", &n.title, 200));
        let kind = n.kind.trim();
        if !ACTIVITY_KINDS.contains(&kind) {
            c.fail("活动类型", format!("应为 {}", ACTIVITY_KINDS.join("、")));
        }
        let held = c.take(xietong_supervision::validate::date("活动日期", &n.held_on).and_then(|d| {
            if d > now.date() + chrono::Duration::days(366) {
                Err(xietong_supervision::FieldError::new("活动日期", "不能晚于一年以后"))
            } else {
                Ok(d)
            }
        }));
        let place = c.take(optional_text("地点", &n.place, 200));
        let attendees = c.take(optional_multiline("参加人员", &n.attendees, 2000));
        let summary = c.take(optional_multiline("纪要", &n.summary, 5000));
        c.finish()?;
        let (title, held) = (crate::error::got(title)?, crate::error::got(held)?);
        let place = crate::error::got(place)?.unwrap_or_default();
        let attendees = crate::error::got(attendees)?.unwrap_or_default();
        let summary = crate::error::got(summary)?.unwrap_or_default();
        let mut tx = self.begin().await?;
        if let Some(d) = docking_id
            && sqlx::query("SELECT COUNT(*) AS n FROM dockings WHERE id = $1")
                .bind(d)
                .fetch_one(&mut *tx)
                .await?
                .i("n")?
                == 0
        {
            return Err(StoreError::NotFound(format!("没有编号 {d} 的对接")));
        }
        let id = sqlx::query(
            "INSERT INTO docking_activities (docking_id, title, kind, held_on, place, attendees, summary, actor, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(docking_id)
        .bind(title.clone())
        .bind(kind.to_string())
        .bind(held.to_string())
        .bind(place)
        .bind(attendees)
        .bind(summary)
        .bind(u.username.clone())
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await?
        .i("id")?;
        append(
            &mut tx,
            now,
            Change {
                actor: &u.username,
                action: "docking.activity",
                entity: "docking_activity",
                entity_id: id.to_string(),
                before: String::new(),
                after: serde_json::json!({"docking_id": docking_id, "title": title, "kind": kind, "held_on": held})
                    .to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn activities(&self, docking_id: Option<i64>) -> Result<Vec<Activity>> {
        let rows = sqlx::query(
            "SELECT * FROM docking_activities WHERE $1 = 0 OR docking_id = $1 ORDER BY held_on DESC, id DESC",
        )
        .bind(docking_id.unwrap_or(0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Activity {
                    id: r.i("id")?,
                    docking_id: r.oi("docking_id")?,
                    title: r.s("title")?,
                    kind: r.s("kind")?,
                    held_on: r.s("held_on")?,
                    place: r.s("place")?,
                    attendees: r.s("attendees")?,
                    summary: r.s("summary")?,
                })
            })
            .collect()
    }
}
