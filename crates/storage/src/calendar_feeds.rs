//! A person's private calendar subscription (日历订阅): the deadlines of their open tasks and
//! sub-tasks as an iCalendar feed at a URL with a random token, which they can replace or revoke.
//! The token is stored as a digest only. Each fetch reads as the account reads now — its role, its
//! 数据范围, whether it is still active — so a narrowed scope or a disabled account shows at once.

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use crate::auth::{SessionUser, random_token, token_digest};
use crate::{Db, Result, RowExt, StoreError, audit, ts};

/// Whether the account has a live feed.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FeedStatus {
    pub active: bool,
    pub created_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
}

/// A new feed: the token is shown this once.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct NewFeed {
    pub token: String,
    /// 订阅地址的路径（前面加上本系统的网址）
    pub path: String,
}

/// One deadline in the feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedEvent {
    /// Stable across fetches, so calendars update an event rather than add one.
    pub uid: String,
    pub summary: String,
    pub description: String,
    pub due: NaiveDate,
    pub link: String,
}

/// At most this many deadlines in one feed.
const MAX_EVENTS: i64 = 1000;

fn date_of(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

impl Db {
    /// Make (or replace) the account's feed; the old URL stops working.
    pub async fn create_calendar_feed(&self, u: &SessionUser, now: NaiveDateTime) -> Result<NewFeed> {
        let token = random_token();
        let mut tx = self.begin().await?;
        // The account's row serialises its feed changes: two at once would both find no live feed.
        crate::locks::lock_row(&mut tx, crate::locks::Locked::Users, u.user_id).await?;
        sqlx::query("UPDATE calendar_feeds SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(ts(now))
            .bind(u.user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO calendar_feeds (token_hash, user_id, created_at) VALUES ($1, $2, $3)")
            .bind(token_digest(&token))
            .bind(u.user_id)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        let change = audit::Change {
            actor: &u.username,
            action: "calendar_feed.create",
            entity: "user",
            entity_id: u.user_id.to_string(),
            before: String::new(),
            after: String::new(),
        };
        audit::append(&mut tx, now, change).await?;
        tx.commit().await?;
        Ok(NewFeed { path: format!("/feeds/{token}.ics"), token })
    }

    /// Revoke the account's feed. False when there was none.
    pub async fn revoke_calendar_feed(&self, u: &SessionUser, now: NaiveDateTime) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE calendar_feeds SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(ts(now))
            .bind(u.user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n > 0 {
            let change = audit::Change {
                actor: &u.username,
                action: "calendar_feed.revoke",
                entity: "user",
                entity_id: u.user_id.to_string(),
                before: String::new(),
                after: String::new(),
            };
            audit::append(&mut tx, now, change).await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    pub async fn calendar_feed_status(&self, u: &SessionUser) -> Result<FeedStatus> {
        let r = sqlx::query(
            "SELECT created_at, last_used_at FROM calendar_feeds WHERE user_id = $1 AND revoked_at IS NULL",
        )
        .bind(u.user_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match r {
            Some(r) => {
                FeedStatus { active: true, created_at: Some(r.t("created_at")?), last_used_at: r.ot("last_used_at")? }
            }
            None => FeedStatus { active: false, created_at: None, last_used_at: None },
        })
    }

    /// The deadlines behind a token, read as its account reads now; `NotFound` for a token that is
    /// unknown, revoked, or whose account is disabled (the same answer for each, so a guess learns nothing).
    pub async fn calendar_feed(&self, token: &str, now: NaiveDateTime) -> Result<(SessionUser, Vec<FeedEvent>)> {
        let gone = || StoreError::NotFound("订阅地址无效或已被撤销".into());
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(gone());
        }
        let r = sqlx::query(
            "SELECT f.id, f.user_id FROM calendar_feeds f JOIN users us ON us.id = f.user_id \
             WHERE f.token_hash = $1 AND f.revoked_at IS NULL AND us.active = 1",
        )
        .bind(token_digest(token))
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(gone)?;
        sqlx::query("UPDATE calendar_feeds SET last_used_at = $1 WHERE id = $2")
            .bind(ts(now))
            .bind(r.i("id")?)
            .execute(&self.pool)
            .await?;
        let u = self.user_by_id(r.i("user_id")?).await?;
        let scope = crate::tasks::scope_sql(&u);
        // Theirs: tasks they created, lead, or whose unit leads or joins, and sub-tasks they hold.
        let sql = format!(
            "SELECT t.id, t.title, t.doc_no, t.deadline, un.name AS lead FROM tasks t JOIN units un ON un.id = t.lead_unit_id \
             WHERE t.status <> 'closed' AND {scope} AND (t.created_by = {user} OR t.leader_person_id = {person} \
             OR t.lead_unit_id = {unit} OR EXISTS (SELECT 1 FROM task_co_units cu WHERE cu.task_id = t.id AND cu.unit_id = {unit})) \
             ORDER BY t.deadline, t.id LIMIT {MAX_EVENTS}",
            user = u.user_id,
            person = u.person_id,
            unit = u.unit_id
        );
        let mut events = vec![];
        for r in sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let Some(due) = date_of(&r.s("deadline")?) else { continue };
            let id = r.i("id")?;
            events.push(FeedEvent {
                uid: format!("task-{id}@xietong"),
                summary: format!("【督办期限】{}", r.s("title")?),
                description: format!("文号：{}；牵头单位：{}", r.s("doc_no")?, r.s("lead")?),
                due,
                link: format!("/tasks/{id}"),
            });
        }
        let sql = format!(
            "SELECT st.id, st.title, st.deadline, t.id AS task_id, t.title AS task_title FROM subtasks st \
             JOIN tasks t ON t.id = st.task_id WHERE st.person_id = {person} AND t.status <> 'closed' AND {scope} \
             ORDER BY st.deadline, st.id LIMIT {MAX_EVENTS}",
            person = u.person_id
        );
        for r in sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let Some(due) = date_of(&r.s("deadline")?) else { continue };
            let task = r.i("task_id")?;
            events.push(FeedEvent {
                uid: format!("subtask-{}@xietong", r.i("id")?),
                summary: format!("【子任务期限】{}", r.s("title")?),
                description: format!("所属任务：{}", r.s("task_title")?),
                due,
                link: format!("/tasks/{task}"),
            });
        }
        Ok((u, events))
    }
}
