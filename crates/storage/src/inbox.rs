//! 消息中心 (the inbox): every notification addressed to a person — to them, to their unit, or to
//! every account of their role — newest first, with read state kept per account, and the one
//! function every change uses to write a message (inside the change's own transaction, so a change
//! that did not happen sends nothing).
//!
//! Who reads a message: its person; the accounts of its unit — only those of the named role when a
//! role is set with the unit (an enterprise's or institution's accounts), and only district roles
//! when none is (the 安全/审计管理员 see no business messages); every account of its role when the
//! message names a role alone (the 科技局). A message about a task is shown only while the reader
//! may see that task (数据范围), so a narrowed scope hides its messages too.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use xietong_supervision::Role;

use crate::auth::SessionUser;
use crate::tasks::{MAX_PAGE, MAX_PAGE_SIZE};
use crate::{Db, Result, RowExt, StoreError, ts};

/// The kinds of message, with the names the inbox filter shows.
pub const KINDS: [(&str, &str); 16] = [
    ("assign", "交办"),
    ("subtask", "子任务指派"),
    ("urge", "催办"),
    ("remind", "到期提醒"),
    ("forecast_late", "预计逾期提醒"),
    ("notice_warning", "通报预警"),
    ("ledger_candidate", "问题台账候选"),
    ("instruct", "领导批示"),
    ("reject", "退回整改"),
    ("notice", "督查通报"),
    ("problem", "问题台账"),
    ("visit", "领导督导"),
    ("submission", "待审核提交"),
    ("review", "审核结果"),
    ("docking", "对接进展"),
    ("security", "账号安全"),
];

pub fn kind_label(code: &str) -> &str {
    KINDS.iter().find(|(c, _)| *c == code).map(|(_, l)| *l).unwrap_or(code)
}

/// Who a message is for (see the module's rules).
#[derive(Clone, Copy, Debug, Default)]
pub struct To {
    pub unit_id: Option<i64>,
    pub person_id: Option<i64>,
    pub role: Option<Role>,
}

impl To {
    pub fn unit(unit_id: i64) -> To {
        To { unit_id: Some(unit_id), ..To::default() }
    }
    pub fn person(person_id: i64) -> To {
        To { person_id: Some(person_id), ..To::default() }
    }
    /// Every account of a role (the 科技局).
    pub fn role(role: Role) -> To {
        To { role: Some(role), ..To::default() }
    }
    /// The accounts of one role in one unit (an enterprise's or institution's own accounts).
    pub fn unit_role(unit_id: i64, role: Role) -> To {
        To { unit_id: Some(unit_id), role: Some(role), ..To::default() }
    }
}

/// Write one message inside the caller's transaction, and its outbox rows.
pub(crate) async fn send(
    tx: &mut sqlx::AnyConnection,
    to: To,
    kind: &str,
    text: &str,
    task_id: Option<i64>,
    link: Option<&str>,
    at: NaiveDateTime,
) -> Result<()> {
    let id = sqlx::query(
        "INSERT INTO notifications (unit_id, person_id, role, task_id, kind, text, link, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(to.unit_id)
    .bind(to.person_id)
    .bind(to.role.map(|r| r.code().to_string()))
    .bind(task_id)
    .bind(kind.to_string())
    .bind(text.to_string())
    .bind(link.map(str::to_string))
    .bind(ts(at))
    .fetch_one(&mut *tx)
    .await?
    .i("id")?;
    // The same message leaves the product through the outbox, in the same transaction.
    crate::outbox::enqueue(tx, id, to, kind, text, task_id, link, at).await
}

/// SQL condition: the notification `n` is addressed to this user and about nothing they may not
/// see. Ids and the role code come from the session, never from user text.
pub(crate) fn addressed_sql(u: &SessionUser) -> String {
    let role = u.role.code();
    let mut arms = vec![
        format!("n.person_id = {}", u.person_id),
        format!("(n.unit_id IS NULL AND n.person_id IS NULL AND n.role = '{role}')"),
        format!("(n.unit_id = {} AND n.role = '{role}')", u.unit_id),
    ];
    if Role::SCOPED.contains(&u.role) {
        arms.push(format!("(n.unit_id = {} AND n.role IS NULL)", u.unit_id));
    }
    format!(
        "({}) AND (n.task_id IS NULL OR EXISTS (SELECT 1 FROM tasks t WHERE t.id = n.task_id AND {}))",
        arms.join(" OR "),
        crate::tasks::scope_sql(u)
    )
}

/// One message as its reader sees it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Message {
    pub id: i64,
    pub kind: String,
    pub kind_label: String,
    pub text: String,
    /// The page of the record the message is about, if any (`/tasks/12`, `/docking/problems/3`…).
    pub link: Option<String>,
    pub task_id: Option<i64>,
    pub created_at: NaiveDateTime,
    /// When this account opened or marked it; `None`: unread.
    pub read_at: Option<NaiveDateTime>,
}

/// Filters of the inbox; all optional.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
pub struct InboxFilter {
    /// 消息类别代码（assign、urge、remind、notice_warning、instruct、review、docking 等）
    pub kind: Option<String>,
    /// 仅未读
    pub unread: Option<bool>,
    /// 页码，1–100000（默认 1）
    pub page: Option<i64>,
    /// 每页条数，1–500（默认 30）
    pub page_size: Option<i64>,
}

impl InboxFilter {
    fn bounds(&self) -> Result<(i64, i64)> {
        let page = self.page.unwrap_or(1);
        if !(1..=MAX_PAGE).contains(&page) {
            return Err(StoreError::invalid("page", format!("页码应在 1 到 {MAX_PAGE} 之间（当前 {page}）")));
        }
        let size = self.page_size.unwrap_or(30);
        if !(1..=MAX_PAGE_SIZE).contains(&size) {
            return Err(StoreError::invalid(
                "page_size",
                format!("每页条数应在 1 到 {MAX_PAGE_SIZE} 之间（当前 {size}）"),
            ));
        }
        Ok((page, size))
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct InboxPage {
    /// Messages matching the filters.
    pub total: i64,
    /// Unread messages of this account, whatever the filters.
    pub unread: i64,
    pub page: i64,
    pub page_size: i64,
    pub items: Vec<Message>,
}

/// What opening or marking one message did.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Opened {
    pub id: i64,
    /// False when it was already read (by this account, perhaps in another window at the same moment).
    pub newly_read: bool,
    pub link: Option<String>,
}

fn message(r: &sqlx::any::AnyRow) -> Result<Message> {
    let kind = r.s("kind")?;
    let task_id = r.oi("task_id")?;
    Ok(Message {
        id: r.i("id")?,
        kind_label: kind_label(&kind).to_string(),
        kind,
        text: r.s("text")?,
        link: r.os("link")?.or_else(|| task_id.map(|t| format!("/tasks/{t}"))),
        task_id,
        created_at: r.t("created_at")?,
        read_at: r.ot("read_at")?,
    })
}

impl Db {
    /// The user's inbox, newest first, with the filters and the page asked for.
    pub async fn inbox(&self, u: &SessionUser, f: &InboxFilter) -> Result<InboxPage> {
        let (page, page_size) = f.bounds()?;
        let kind = match f.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            Some(k) => Some(
                KINDS
                    .iter()
                    .find(|(c, _)| *c == k)
                    .map(|(c, _)| *c)
                    .ok_or_else(|| StoreError::invalid("kind", format!("「{k}」不是消息类别")))?,
            ),
            None => None,
        };
        let mut cond = addressed_sql(u);
        if f.unread == Some(true) {
            cond.push_str(" AND r.read_at IS NULL");
        }
        let from = "FROM notifications n LEFT JOIN notification_reads r \
                    ON r.notification_id = n.id AND r.user_id = $1";
        let total = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n {from} WHERE {cond} AND ($2 = '' OR n.kind = $2)"
        )))
        .bind(u.user_id)
        .bind(kind.unwrap_or("").to_string())
        .fetch_one(&self.pool)
        .await?
        .i("n")?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT n.id, n.kind, n.text, n.link, n.task_id, n.created_at, r.read_at {from} \
             WHERE {cond} AND ($2 = '' OR n.kind = $2) ORDER BY n.created_at DESC, n.id DESC \
             LIMIT {page_size} OFFSET {}",
            // Bounded by InboxFilter::bounds, so this cannot overflow.
            (page - 1).saturating_mul(page_size)
        )))
        .bind(u.user_id)
        .bind(kind.unwrap_or("").to_string())
        .fetch_all(&self.pool)
        .await?;
        let items = rows.iter().map(message).collect::<Result<Vec<_>>>()?;
        let unread = self.unread_count(u).await?;
        Ok(InboxPage { total, unread, page, page_size, items })
    }

    /// How many of the user's messages this account has not read (the count in every page's header).
    pub async fn unread_count(&self, u: &SessionUser) -> Result<i64> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM notifications n WHERE {} AND NOT EXISTS \
             (SELECT 1 FROM notification_reads r WHERE r.notification_id = n.id AND r.user_id = $1)",
            addressed_sql(u)
        )))
        .bind(u.user_id)
        .fetch_one(&self.pool)
        .await?;
        r.i("n")
    }

    /// Open one message: mark it read for this account (once; a second open, even at the same
    /// moment, changes nothing) and give the page it is about.
    pub async fn open_message(&self, u: &SessionUser, id: i64, now: NaiveDateTime) -> Result<Opened> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT n.id, n.link, n.task_id FROM notifications n WHERE n.id = $1 AND {}",
            addressed_sql(u)
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("没有编号 {id} 的消息，或该消息不是发给您的")))?;
        let link = r.os("link")?.or(r.oi("task_id")?.map(|t| format!("/tasks/{t}")));
        let inserted = sqlx::query(
            "INSERT INTO notification_reads (notification_id, user_id, read_at) VALUES ($1, $2, $3) \
             ON CONFLICT (notification_id, user_id) DO NOTHING",
        )
        .bind(id)
        .bind(u.user_id)
        .bind(ts(now))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(Opened { id, newly_read: inserted == 1, link })
    }

    /// 全部标为已读: every unread message of the user up to `up_to` (the newest one the page showed,
    /// so a message that arrived after it stays unread), optionally of one kind. Returns how many
    /// this call marked.
    pub async fn mark_all_read(
        &self,
        u: &SessionUser,
        kind: Option<&str>,
        up_to: Option<i64>,
        now: NaiveDateTime,
    ) -> Result<u64> {
        let kind = match kind.map(str::trim).filter(|k| !k.is_empty()) {
            Some(k) if KINDS.iter().any(|(c, _)| *c == k) => k.to_string(),
            Some(k) => return Err(StoreError::invalid("kind", format!("「{k}」不是消息类别"))),
            None => String::new(),
        };
        let n = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO notification_reads (notification_id, user_id, read_at) \
             SELECT n.id, $1, $2 FROM notifications n WHERE {} AND ($3 = '' OR n.kind = $3) AND n.id <= $4 \
             AND NOT EXISTS (SELECT 1 FROM notification_reads r WHERE r.notification_id = n.id AND r.user_id = $1) \
             ON CONFLICT (notification_id, user_id) DO NOTHING",
            addressed_sql(u)
        )))
        .bind(u.user_id)
        .bind(ts(now))
        .bind(kind)
        .bind(up_to.unwrap_or(i64::MAX))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n)
    }

    /// The newest messages addressed to the user (their unit, their person, their role): time,
    /// text and task.
    pub async fn notifications(
        &self,
        u: &SessionUser,
        limit: i64,
    ) -> Result<Vec<(NaiveDateTime, String, Option<i64>)>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT n.created_at, n.text, n.task_id FROM notifications n WHERE {} \
             ORDER BY n.created_at DESC, n.id DESC LIMIT $1",
            addressed_sql(u)
        )))
        .bind(limit.clamp(1, 500))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.t("created_at")?, r.s("text")?, r.oi("task_id")?))).collect()
    }
}
