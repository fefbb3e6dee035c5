//! The outbox (issue 16): every message the inbox gets is also written, in the same transaction as
//! the change, into `outbox` once per channel destination that should carry it (a unit's group
//! robot; a person's 工作通知 or SMS, unless they turned it off). A worker on any node claims due
//! rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL), sends them through `xietong-notify`'s adapters
//! and logs every attempt; a message is delivered at least once, each with an idempotency key the
//! receiver can use to drop a repeat. The channels, the people's addresses and preferences are
//! the 系统管理员's; secrets and addresses are stored SM4-sealed.

use chrono::{Duration, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};
use xietong_notify::{AddressKind, ChannelConfig, ChannelKind};
use xietong_supervision::Role;

use crate::auth::SessionUser;
use crate::inbox::To;
use crate::{Db, Result, RowExt, StoreError, Tx, audit, ts};

/// A person's daily digest goes out at this time.
pub const DIGEST_AT: NaiveTime = NaiveTime::from_hms_opt(17, 30, 0).unwrap();
/// Attempts before a message is given up (dead-lettered) for an administrator to look at.
pub const MAX_ATTEMPTS: i64 = 8;

/// The wait before attempt `n + 1` after `n` failed: 30 s doubling, at most 1 h.
pub fn backoff(attempts: i64) -> Duration {
    Duration::seconds((30i64 << attempts.clamp(0, 7)).min(3600))
}

/// A configured channel.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct NotifyChannel {
    pub id: i64,
    pub name: String,
    pub kind: ChannelKind,
    pub kind_label: String,
    /// Secrets come back masked (only the last 4 characters) except to the worker.
    pub config: ChannelConfig,
    /// 群机器人所属单位；个人通道为适用单位（空：全区）
    pub unit_id: Option<i64>,
    pub unit_name: Option<String>,
    pub per_minute: i64,
    pub daily_cap: i64,
    pub office_hours_only: bool,
    pub enabled: bool,
    pub version: i64,
}

/// What an administrator enters for a channel.
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ChannelInput {
    /// 通道名称
    pub name: String,
    pub config: ChannelConfig,
    /// 群机器人所属单位（必填）；个人通道的适用单位（空：全区）
    pub unit_id: Option<i64>,
    /// 每分钟最多条数（空：按类型默认，群机器人 20）
    pub per_minute: Option<i64>,
    /// 每人每天最多条数，0 不限（空：按类型默认，钉钉待办 100、短信 5）
    pub daily_cap: Option<i64>,
    /// 仅工作时间发送（紧急消息除外）
    #[serde(default)]
    pub office_hours_only: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// 修改时必填：读取时的版本号
    pub version: Option<i64>,
}

fn yes() -> bool {
    true
}

/// Kinds that cannot wait for office hours or a digest: a handover (交办不过夜), a leader's 批示,
/// an account's security.
pub fn urgent(kind: &str) -> bool {
    matches!(kind, "assign" | "instruct" | "security")
}

/// Mask a secret for display: its last four characters.
fn mask(s: &str) -> String {
    let n = s.chars().count();
    if n == 0 { String::new() } else { format!("****{}", s.chars().skip(n.saturating_sub(4)).collect::<String>()) }
}

fn masked(mut c: ChannelConfig) -> ChannelConfig {
    c.secret = mask(&c.secret);
    c.app_secret = mask(&c.app_secret);
    c
}

/// The moment a digest message created at `at` goes out: today's [`DIGEST_AT`], or tomorrow's.
pub fn digest_time(at: NaiveDateTime) -> NaiveDateTime {
    let today = at.date().and_time(DIGEST_AT);
    if at < today { today } else { today + Duration::days(1) }
}

/// Write the outbox rows for one notification, inside its transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn enqueue(
    tx: &mut sqlx::AnyConnection,
    notification_id: i64,
    to: To,
    kind: &str,
    text: &str,
    task_id: Option<i64>,
    link: Option<&str>,
    at: NaiveDateTime,
) -> Result<()> {
    let channels = sqlx::query("SELECT id, kind, unit_id FROM notify_channels WHERE enabled = 1 ORDER BY id")
        .fetch_all(&mut *tx)
        .await?;
    if channels.is_empty() {
        return Ok(());
    }
    let people = recipients(tx, to).await?;
    let due = match task_id {
        Some(t) => sqlx::query("SELECT deadline FROM tasks WHERE id = $1")
            .bind(t)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.s("deadline"))
            .transpose()?,
        None => None,
    };
    let title = crate::inbox::kind_label(kind).to_string();
    let day = at.date().to_string();
    for c in &channels {
        let (channel_id, unit) = (c.i("id")?, c.oi("unit_id")?);
        let Some(ck) = ChannelKind::from_code(&c.s("kind")?) else { continue };
        let mut rows: Vec<(Option<i64>, Option<i64>, bool, String)> = vec![];
        if ck.is_group() {
            // The unit's group takes what is addressed to the unit or to any of its people; the
            // person named (if any) is @-mentioned.
            let Some(u) = unit else { continue };
            if to.unit_id == Some(u) || people.iter().any(|(_, pu)| *pu == u) {
                let at_person = to.person_id.filter(|p| people.iter().any(|(q, pu)| q == p && *pu == u));
                rows.push((at_person, Some(u), false, format!("xt-{notification_id}-{channel_id}-g")));
            }
        } else {
            let address = ck.address().map(|a| a.code()).unwrap_or_default();
            let people: Vec<(i64, i64)> =
                people.iter().copied().filter(|(_, pu)| unit.is_none_or(|u| u == *pu)).collect();
            if people.is_empty() {
                continue;
            }
            // One read for everyone: only people with an address on this channel (a row for anyone
            // else could only fail), with their setting for it. Ids come from the database.
            let ids = id_list(&people.iter().map(|(p, _)| *p).collect::<Vec<_>>());
            let sql = format!(
                "SELECT a.person_id, COALESCE(pr.mode, 'each') AS mode, COALESCE(pr.kinds, '') AS kinds \
                 FROM notify_addresses a LEFT JOIN notify_prefs pr ON pr.person_id = a.person_id AND pr.channel_id = $1 \
                 WHERE a.kind = $2 AND a.person_id IN ({ids})"
            );
            let takers =
                sqlx::query(sqlx::AssertSqlSafe(sql)).bind(channel_id).bind(address).fetch_all(&mut *tx).await?;
            for (p, pu) in &people {
                let Some(t) = takers.iter().find(|t| t.i("person_id").ok() == Some(*p)) else { continue };
                let (mode, kinds) = (t.s("mode")?, t.s("kinds")?);
                let takes_kind = kinds.trim().is_empty() || kinds.split(',').any(|k| k.trim() == kind);
                if mode == "off" || !takes_kind {
                    continue;
                }
                rows.push((Some(*p), Some(*pu), mode == "digest", format!("xt-{notification_id}-{channel_id}-{p}")));
            }
        }
        for (person, unit_id, digest, idem) in rows {
            let dest = person.map(|p| p.to_string()).unwrap_or_else(|| format!("u{}", unit_id.unwrap_or(0)));
            // One 催办 per task per day per channel per destination, whatever the sweep does.
            let once =
                (kind == "urge").then(|| task_id.map(|t| format!("urge-{t}-{channel_id}-{dest}-{day}"))).flatten();
            let next_at = if digest && !urgent(kind) { digest_time(at) } else { at };
            sqlx::query(
                "INSERT INTO outbox (notification_id, channel_id, person_id, unit_id, kind, title, text, link, task_id, \
                 due, urgent, digest, idem_key, once_key, next_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT DO NOTHING",
            )
            .bind(notification_id)
            .bind(channel_id)
            .bind(person)
            .bind(unit_id)
            .bind(kind.to_string())
            .bind(title.clone())
            .bind(text.to_string())
            .bind(link.map(str::to_string))
            .bind(task_id)
            .bind(due.clone())
            .bind(urgent(kind) as i64)
            .bind((digest && !urgent(kind)) as i64)
            .bind(idem)
            .bind(once)
            .bind(ts(next_at))
            .bind(ts(at))
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(())
}

/// The people a message reaches, with their units, as the inbox's rules read it (see `inbox`).
async fn recipients(tx: &mut sqlx::AnyConnection, to: To) -> Result<Vec<(i64, i64)>> {
    let scoped: Vec<String> = Role::SCOPED.iter().map(|r| format!("'{}'", r.code())).collect();
    let mut arms = vec![];
    if let Some(p) = to.person_id {
        arms.push(format!("p.id = {p}"));
    }
    match (to.unit_id, to.role) {
        (Some(u), Some(r)) => arms.push(format!("(p.unit_id = {u} AND us.role = '{}')", r.code())),
        (Some(u), None) => arms.push(format!("(p.unit_id = {u} AND us.role IN ({}))", scoped.join(", "))),
        (None, Some(r)) if to.person_id.is_none() => arms.push(format!("us.role = '{}'", r.code())),
        _ => {}
    }
    if arms.is_empty() {
        return Ok(vec![]);
    }
    // Ids and role codes come from the code, never from user text.
    let sql = format!(
        "SELECT DISTINCT p.id, p.unit_id FROM people p LEFT JOIN users us ON us.person_id = p.id AND us.active = 1 \
         WHERE {} ORDER BY p.id",
        arms.join(" OR ")
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *tx).await?;
    rows.iter().map(|r| Ok((r.i("id")?, r.i("unit_id")?))).collect()
}

/// A claimed message, as the worker sends it.
#[derive(Clone, Debug)]
pub struct OutboxRow {
    pub id: i64,
    pub channel_id: i64,
    pub person_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub kind: String,
    pub title: String,
    pub text: String,
    pub link: Option<String>,
    pub task_id: Option<i64>,
    pub due: Option<String>,
    pub urgent: bool,
    pub digest: bool,
    pub idem_key: String,
    pub attempts: i64,
    pub batch_id: Option<i64>,
}

fn outbox_row(r: &sqlx::any::AnyRow) -> Result<OutboxRow> {
    Ok(OutboxRow {
        id: r.i("id")?,
        channel_id: r.i("channel_id")?,
        person_id: r.oi("person_id")?,
        unit_id: r.oi("unit_id")?,
        kind: r.s("kind")?,
        title: r.s("title")?,
        text: r.s("text")?,
        link: r.os("link")?,
        task_id: r.oi("task_id")?,
        due: r.os("due")?,
        urgent: r.i("urgent")? == 1,
        digest: r.i("digest")? == 1,
        idem_key: r.s("idem_key")?,
        attempts: r.i("attempts")?,
        batch_id: r.oi("batch_id")?,
    })
}

/// How one attempt ended.
pub struct Attempt<'a> {
    pub ids: &'a [i64],
    pub channel_id: i64,
    pub person_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub idem_key: &'a str,
    pub ok: bool,
    pub answer: &'a str,
}

/// One line of the delivery log.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LogLine {
    pub id: i64,
    pub at: NaiveDateTime,
    pub channel: String,
    pub kind_label: String,
    /// 收件人（群机器人为所属单位）
    pub to: String,
    pub messages: i64,
    pub idem_key: String,
    pub ok: bool,
    pub answer: String,
    pub node: String,
}

/// A message that is waiting or was given up.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Waiting {
    pub id: i64,
    pub channel: String,
    pub to: String,
    pub title: String,
    pub text: String,
    /// pending 待发送 / dead 已放弃
    pub state: String,
    pub attempts: i64,
    pub next_at: NaiveDateTime,
    pub last_error: String,
}

/// Messages sent to one person on one channel on one day (the noise counter).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DayCount {
    pub person: String,
    pub unit: String,
    pub channel: String,
    pub sent: i64,
    pub failed: i64,
}

/// The 系统管理员's delivery page in one read.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Deliveries {
    pub log: Vec<LogLine>,
    pub waiting: Vec<Waiting>,
    pub per_person: Vec<DayCount>,
    pub pending: i64,
    pub dead: i64,
}

/// One of a person's addresses, masked.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AddressRow {
    pub person_id: i64,
    pub person: String,
    pub kind: AddressKind,
    pub kind_label: String,
    /// 部分隐藏的地址
    pub masked: String,
}

/// One person's setting on one channel.
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct Pref {
    pub channel_id: i64,
    /// 通道名称（读取时给出，设置时忽略）
    #[serde(default)]
    pub channel: String,
    /// each 每条推送 / digest 每日汇总（17:30） / off 不接收
    pub mode: String,
    /// 接收的消息类别代码，逗号分隔；空为全部
    #[serde(default)]
    pub kinds: String,
}

impl Db {
    fn channel_of(&self, r: &sqlx::any::AnyRow, secrets: bool) -> Result<NotifyChannel> {
        let config: ChannelConfig = serde_json::from_str(&self.open_field(&r.s("config")?)?)
            .map_err(|e| StoreError::internal(format!("通道配置无法读取：{e}")))?;
        let kind = config.kind;
        Ok(NotifyChannel {
            id: r.i("id")?,
            name: r.s("name")?,
            kind,
            kind_label: kind.label_zh().into(),
            config: if secrets { config } else { masked(config) },
            unit_id: r.oi("unit_id")?,
            unit_name: r.os("unit_name")?,
            per_minute: r.i("per_minute")?,
            daily_cap: r.i("daily_cap")?,
            office_hours_only: r.i("office_hours_only")? == 1,
            enabled: r.i("enabled")? == 1,
            version: r.i("version")?,
        })
    }

    const CHANNEL_SQL: &str =
        "SELECT c.*, un.name AS unit_name FROM notify_channels c LEFT JOIN units un ON un.id = c.unit_id";

    /// Every channel, secrets masked (系统管理员).
    pub async fn notify_channels(&self, u: &SessionUser) -> Result<Vec<NotifyChannel>> {
        u.actor().may_administer()?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{} ORDER BY c.id", Self::CHANNEL_SQL)))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| self.channel_of(r, false)).collect()
    }

    /// One channel with its secrets: for the worker and the 测试发送 button only.
    pub async fn notify_channel_for_sending(&self, id: i64) -> Result<NotifyChannel> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!("{} WHERE c.id = $1", Self::CHANNEL_SQL)))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("消息通道 {id} 不存在")))?;
        self.channel_of(&r, true)
    }

    /// The input checked, with the secrets of `old` kept where the form left them masked or empty:
    /// the configuration, sealed for storage, and the limits.
    async fn checked_input(
        &self,
        b: &ChannelInput,
        old: Option<&ChannelConfig>,
    ) -> Result<(ChannelConfig, String, i64, i64)> {
        let name = b.name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(StoreError::invalid("name", "通道名称应为 1–60 个字"));
        }
        let mut cfg = b.config.clone();
        if let Some(old) = old.filter(|o| o.kind == cfg.kind) {
            for (new, was) in [(&mut cfg.secret, &old.secret), (&mut cfg.app_secret, &old.app_secret)] {
                if new.trim().is_empty() || new.starts_with("****") {
                    *new = was.clone();
                }
            }
        }
        cfg.check().map_err(|e| StoreError::invalid(e.field, e.message))?;
        let kind = cfg.kind;
        if kind.is_group() && b.unit_id.is_none() {
            return Err(StoreError::invalid("unit_id", "群机器人须选择所属单位（消息按单位进群）"));
        }
        if let Some(unit) = b.unit_id
            && sqlx::query("SELECT id FROM units WHERE id = $1").bind(unit).fetch_optional(&self.pool).await?.is_none()
        {
            return Err(StoreError::invalid("unit_id", format!("单位 {unit} 不存在")));
        }
        let per_minute = b.per_minute.unwrap_or(kind.default_per_minute());
        if !(1..=600).contains(&per_minute) {
            return Err(StoreError::invalid("per_minute", "每分钟最多条数应在 1 到 600 之间"));
        }
        let daily_cap = b.daily_cap.unwrap_or(kind.default_daily_cap());
        if !(0..=1000).contains(&daily_cap) {
            return Err(StoreError::invalid("daily_cap", "每人每天最多条数应在 0 到 1000 之间（0 为不限）"));
        }
        let sealed = self.seal(&serde_json::to_string(&cfg).map_err(|e| StoreError::internal(e.to_string()))?);
        Ok((cfg, sealed, per_minute, daily_cap))
    }

    /// Add a channel (系统管理员). Audited, without its secrets.
    pub async fn create_notify_channel(&self, u: &SessionUser, b: &ChannelInput, now: NaiveDateTime) -> Result<i64> {
        u.actor().may_administer()?;
        let (cfg, sealed, per_minute, daily_cap) = self.checked_input(b, None).await?;
        let mut tx = self.begin().await?;
        let id = sqlx::query(
            "INSERT INTO notify_channels (name, kind, config, unit_id, per_minute, daily_cap, office_hours_only, \
             enabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
             ON CONFLICT (name) DO NOTHING RETURNING id",
        )
        .bind(b.name.trim().to_string())
        .bind(cfg.kind.code().to_string())
        .bind(sealed)
        .bind(b.unit_id)
        .bind(per_minute)
        .bind(daily_cap)
        .bind(b.office_hours_only as i64)
        .bind(b.enabled as i64)
        .bind(ts(now))
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::invalid("name", format!("已有名为「{}」的通道", b.name.trim())))?
        .i("id")?;
        self.audit_channel(&mut tx, u, "notify.channel.create", id, &masked(cfg), now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Change a channel (系统管理员), against the version it was read at: 409 when someone else
    /// changed it meanwhile.
    pub async fn update_notify_channel(
        &self,
        u: &SessionUser,
        id: i64,
        b: &ChannelInput,
        now: NaiveDateTime,
    ) -> Result<()> {
        u.actor().may_administer()?;
        let old = self.notify_channel_for_sending(id).await?;
        let version = b.version.ok_or_else(|| StoreError::invalid("version", "请提供读取时的版本号"))?;
        let (cfg, sealed, per_minute, daily_cap) = self.checked_input(b, Some(&old.config)).await?;
        let mut tx = self.begin().await?;
        if crate::name_taken(&mut tx, crate::Named::NotifyChannels, b.name.trim(), id).await? {
            return Err(StoreError::invalid("name", format!("已有名为「{}」的通道", b.name.trim())));
        }
        let n = sqlx::query(
            "UPDATE notify_channels SET name = $1, kind = $2, config = $3, unit_id = $4, per_minute = $5, \
             daily_cap = $6, office_hours_only = $7, enabled = $8, version = version + 1, updated_at = $9 \
             WHERE id = $10 AND version = $11",
        )
        .bind(b.name.trim().to_string())
        .bind(cfg.kind.code().to_string())
        .bind(sealed)
        .bind(b.unit_id)
        .bind(per_minute)
        .bind(daily_cap)
        .bind(b.office_hours_only as i64)
        .bind(b.enabled as i64)
        .bind(ts(now))
        .bind(id)
        .bind(version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict("该通道已被他人修改，请刷新后再改".into()));
        }
        self.audit_channel(&mut tx, u, "notify.channel.update", id, &masked(cfg), now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit_channel(
        &self,
        tx: &mut Tx,
        u: &SessionUser,
        action: &'static str,
        id: i64,
        cfg: &ChannelConfig,
        now: NaiveDateTime,
    ) -> Result<()> {
        let after = serde_json::json!({"kind": cfg.kind.code(), "url": cfg.url, "base_url": cfg.base_url}).to_string();
        let change = audit::Change {
            actor: &u.username,
            action,
            entity: "notify_channel",
            entity_id: id.to_string(),
            before: String::new(),
            after,
        };
        audit::append(tx, now, change).await.map(|_| ())
    }

    /// Set (or clear, with an empty value) a person's address (系统管理员). Stored sealed.
    pub async fn set_notify_address(
        &self,
        u: &SessionUser,
        person_id: i64,
        kind: AddressKind,
        value: &str,
        now: NaiveDateTime,
    ) -> Result<()> {
        u.actor().may_administer()?;
        let v = value.trim();
        if kind == AddressKind::Mobile
            && !v.is_empty()
            && !(v.len() == 11 && v.starts_with('1') && v.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(StoreError::invalid(
                "mobile",
                format!("手机号应为 1 开头的 11 位数字（当前「{}」）", xietong_notify::cut(v, 20)),
            ));
        }
        if v.chars().count() > 64 {
            return Err(StoreError::invalid(kind.code(), format!("{}过长（最多 64 个字符）", kind.label_zh())));
        }
        let mut tx = self.begin().await?;
        if sqlx::query("SELECT id FROM people WHERE id = $1").bind(person_id).fetch_optional(&mut *tx).await?.is_none()
        {
            return Err(StoreError::NotFound(format!("人员 {person_id} 不存在")));
        }
        sqlx::query("DELETE FROM notify_addresses WHERE person_id = $1 AND kind = $2")
            .bind(person_id)
            .bind(kind.code().to_string())
            .execute(&mut *tx)
            .await?;
        if !v.is_empty() {
            sqlx::query("INSERT INTO notify_addresses (person_id, kind, value) VALUES ($1, $2, $3)")
                .bind(person_id)
                .bind(kind.code().to_string())
                .bind(self.seal(v))
                .execute(&mut *tx)
                .await?;
        }
        let change = audit::Change {
            actor: &u.username,
            action: "notify.address.set",
            entity: "person",
            entity_id: person_id.to_string(),
            before: String::new(),
            after: serde_json::json!({"kind": kind.code(), "set": !v.is_empty()}).to_string(),
        };
        audit::append(&mut tx, now, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Everyone's addresses, masked (系统管理员): who can be reached on which kind of channel.
    pub async fn notify_addresses(&self, u: &SessionUser) -> Result<Vec<AddressRow>> {
        u.actor().may_administer()?;
        let rows = sqlx::query(
            "SELECT a.person_id, a.kind, a.value, p.name, p.post, un.name AS unit_name FROM notify_addresses a \
             JOIN people p ON p.id = a.person_id JOIN units un ON un.id = p.unit_id \
             ORDER BY un.sort, un.id, p.id, a.kind",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = vec![];
        for r in &rows {
            let Some(kind) = AddressKind::from_code(&r.s("kind")?) else { continue };
            out.push(AddressRow {
                person_id: r.i("person_id")?,
                person: crate::auth::person_display(&r.s("unit_name")?, &r.s("post")?, &r.s("name")?),
                kind,
                kind_label: kind.label_zh().into(),
                masked: kind.masked(&self.open_field(&r.s("value")?)?),
            });
        }
        Ok(out)
    }

    /// A person's address of one kind, opened (the worker).
    pub async fn notify_address(&self, person_id: i64, kind: AddressKind) -> Result<Option<String>> {
        let r = sqlx::query("SELECT value FROM notify_addresses WHERE person_id = $1 AND kind = $2")
            .bind(person_id)
            .bind(kind.code().to_string())
            .fetch_optional(&self.pool)
            .await?;
        r.map(|r| self.open_field(&r.s("value")?)).transpose()
    }

    /// A person's settings on every personal channel (their own, or any person's for the 系统管理员).
    pub async fn notify_prefs(&self, u: &SessionUser, person_id: i64) -> Result<Vec<Pref>> {
        if person_id != u.person_id {
            u.actor().may_administer()?;
        }
        let rows = sqlx::query(
            "SELECT c.id, c.name, COALESCE(p.mode, 'each') AS mode, COALESCE(p.kinds, '') AS kinds FROM notify_channels c \
             LEFT JOIN notify_prefs p ON p.channel_id = c.id AND p.person_id = $1 \
             WHERE c.kind NOT IN ('dingtalk_robot', 'wecom_robot') ORDER BY c.id",
        )
        .bind(person_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Pref { channel_id: r.i("id")?, channel: r.s("name")?, mode: r.s("mode")?, kinds: r.s("kinds")? })
            })
            .collect()
    }

    /// Set what a person takes on a channel (their own, or any person's for the 系统管理员).
    pub async fn set_notify_pref(&self, u: &SessionUser, person_id: i64, p: &Pref, now: NaiveDateTime) -> Result<()> {
        if person_id != u.person_id {
            u.actor().may_administer()?;
        }
        if !matches!(p.mode.as_str(), "each" | "digest" | "off") {
            return Err(StoreError::invalid("mode", "接收方式应为 每条推送、每日汇总 或 不接收"));
        }
        let kinds: Vec<&str> = p.kinds.split(',').map(str::trim).filter(|k| !k.is_empty()).collect();
        if let Some(bad) = kinds.iter().find(|k| !crate::inbox::KINDS.iter().any(|(c, _)| c == *k)) {
            return Err(StoreError::invalid("kinds", format!("未知的消息类别「{}」", xietong_notify::cut(bad, 20))));
        }
        let mut tx = self.begin().await?;
        let ch = sqlx::query("SELECT kind FROM notify_channels WHERE id = $1")
            .bind(p.channel_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("消息通道 {} 不存在", p.channel_id)))?;
        if ChannelKind::from_code(&ch.s("kind")?).is_some_and(|k| k.is_group()) {
            return Err(StoreError::invalid("channel_id", "群机器人按单位发送，不能按人设置"));
        }
        sqlx::query(
            "INSERT INTO notify_prefs (person_id, channel_id, mode, kinds) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (person_id, channel_id) DO UPDATE SET mode = excluded.mode, kinds = excluded.kinds",
        )
        .bind(person_id)
        .bind(p.channel_id)
        .bind(p.mode.clone())
        .bind(kinds.join(","))
        .execute(&mut *tx)
        .await?;
        let change = audit::Change {
            actor: &u.username,
            action: "notify.pref.set",
            entity: "person",
            entity_id: person_id.to_string(),
            before: String::new(),
            after: serde_json::json!({"channel": p.channel_id, "mode": p.mode, "kinds": kinds.join(",")}).to_string(),
        };
        audit::append(&mut tx, now, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Claim up to `limit` due messages for `node` for `lease` (another node takes them over only
    /// after the lease, so a node killed mid-send loses nothing).
    pub async fn claim_outbox(
        &self,
        node: &str,
        now: NaiveDateTime,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<OutboxRow>> {
        let mut tx = self.begin().await?;
        let skip = crate::backend::Backend::of(&tx).dialect().skip_locked();
        let sql = format!(
            "UPDATE outbox SET claimed_by = $1, claimed_until = $2 WHERE id IN (SELECT id FROM outbox \
             WHERE state = 'pending' AND next_at <= $3 AND (claimed_until IS NULL OR claimed_until < $3) \
             ORDER BY id LIMIT $4{skip}) RETURNING *"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(node.to_string())
            .bind(ts(now + lease))
            .bind(ts(now))
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut out = rows.iter().map(outbox_row).collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|r| r.id);
        Ok(out)
    }

    /// Messages that arrived at a destination since `since` (a group robot: its channel; a person:
    /// theirs on the channel).
    pub async fn delivered_since(&self, channel_id: i64, person_id: Option<i64>, since: NaiveDateTime) -> Result<i64> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS n FROM outbox_log WHERE channel_id = $1 AND at >= $2 AND ok = 1 \
             AND ($3 = 0 OR person_id = $4)",
        )
        .bind(channel_id)
        .bind(ts(since))
        .bind(person_id.is_some() as i64)
        .bind(person_id.unwrap_or(0))
        .fetch_one(&self.pool)
        .await?;
        r.i("n")
    }

    /// Before an attempt: count it and fix the digest's members. False when this node no longer
    /// holds every message (its lease ran out and another node took them).
    pub async fn begin_attempt(&self, node: &str, ids: &[i64], batch: Option<i64>) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE outbox SET attempts = attempts + 1, batch_id = $1 WHERE id IN ({}) AND claimed_by = $2 \
             AND state = 'pending'",
            id_list(ids)
        )))
        .bind(batch)
        .bind(node.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n as usize != ids.len() {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// After an attempt: sent, or back to waiting with its back-off (dead after [`MAX_ATTEMPTS`]);
    /// the attempt logged either way.
    pub async fn finish_attempt(&self, node: &str, a: &Attempt<'_>, now: NaiveDateTime) -> Result<()> {
        let mut tx = self.begin().await?;
        let ids = id_list(a.ids);
        if a.ok {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE outbox SET state = 'sent', sent_at = $1, claimed_until = NULL, last_error = '' \
                 WHERE id IN ({ids}) AND state = 'pending'"
            )))
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        } else {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT id, attempts FROM outbox WHERE id IN ({ids})")))
                .fetch_all(&mut *tx)
                .await?;
            for r in rows {
                let attempts = r.i("attempts")?;
                let state = if attempts >= MAX_ATTEMPTS { "dead" } else { "pending" };
                sqlx::query(
                    "UPDATE outbox SET state = $1, next_at = $2, claimed_until = NULL, last_error = $3 \
                     WHERE id = $4 AND state = 'pending'",
                )
                .bind(state)
                .bind(ts(now + backoff(attempts - 1)))
                .bind(a.answer.to_string())
                .bind(r.i("id")?)
                .execute(&mut *tx)
                .await?;
            }
        }
        sqlx::query(
            "INSERT INTO outbox_log (channel_id, person_id, unit_id, first_id, messages, idem_key, ok, answer, node, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(a.channel_id)
        .bind(a.person_id)
        .bind(a.unit_id)
        .bind(a.ids.first().copied())
        .bind(a.ids.len() as i64)
        .bind(a.idem_key.to_string())
        .bind(a.ok as i64)
        .bind(xietong_notify::cut(a.answer, 500))
        .bind(node.to_string())
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether any active account of the person may see the task now (the inbox's rule: a message
    /// about a task is shown only while the reader may see the task).
    pub async fn person_may_view_task(&self, person_id: i64, task_id: i64) -> Result<bool> {
        let users = sqlx::query("SELECT id FROM users WHERE person_id = $1 AND active = 1")
            .bind(person_id)
            .fetch_all(&self.pool)
            .await?;
        if users.is_empty() {
            // A person without an account (a 责任人 reached by SMS only) has no scope to narrow.
            return Ok(true);
        }
        for r in users {
            let u = self.user_by_id(r.i("id")?).await?;
            let sql = format!("SELECT t.id FROM tasks t WHERE t.id = $1 AND {}", crate::tasks::scope_sql(&u));
            if sqlx::query(sqlx::AssertSqlSafe(sql)).bind(task_id).fetch_optional(&self.pool).await?.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Never send these: the person may not see what they are about.
    pub async fn withhold_outbox(&self, node: &str, ids: &[i64]) -> Result<()> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE outbox SET state = 'withheld', claimed_until = NULL, last_error = '收件人的数据范围不含该任务，未推送' \
             WHERE id IN ({}) AND claimed_by = $1 AND state = 'pending'",
            id_list(ids)
        )))
        .bind(node.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Hold messages until `until` without counting an attempt (a rate, a cap, quiet hours).
    pub async fn hold_outbox(&self, node: &str, ids: &[i64], until: NaiveDateTime) -> Result<()> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE outbox SET next_at = $1, claimed_until = NULL WHERE id IN ({}) AND claimed_by = $2 AND state = 'pending'",
            id_list(ids)
        )))
        .bind(ts(until))
        .bind(node.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Log a 测试发送 (it is not in the outbox: nothing to retry).
    pub async fn log_test_send(
        &self,
        u: &SessionUser,
        channel_id: i64,
        ok: bool,
        answer: &str,
        now: NaiveDateTime,
    ) -> Result<()> {
        u.actor().may_administer()?;
        sqlx::query(
            "INSERT INTO outbox_log (channel_id, person_id, unit_id, first_id, messages, idem_key, ok, answer, node, at) \
             VALUES ($1, NULL, NULL, NULL, 1, $2, $3, $4, $5, $6)",
        )
        .bind(channel_id)
        .bind(format!("xt-test-{}", now.and_utc().timestamp_micros()))
        .bind(ok as i64)
        .bind(xietong_notify::cut(answer, 500))
        .bind(format!("测试发送（{}）", u.username))
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Send a given-up message again from now (系统管理员).
    pub async fn retry_dead(&self, u: &SessionUser, id: i64, now: NaiveDateTime) -> Result<()> {
        u.actor().may_administer()?;
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "UPDATE outbox SET state = 'pending', attempts = 0, batch_id = NULL, next_at = $1, claimed_until = NULL \
             WHERE id = $2 AND state = 'dead' AND batch_id IS NULL",
        )
        .bind(ts(now))
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            // A digest's members go back together, so it is resent as the same digest.
            let n = sqlx::query(
                "UPDATE outbox SET state = 'pending', next_at = $1, claimed_until = NULL, attempts = 1 \
                 WHERE state = 'dead' AND batch_id = (SELECT batch_id FROM outbox WHERE id = $2 AND state = 'dead')",
            )
            .bind(ts(now))
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::Conflict("该消息不在已放弃状态（可能已被他人重发）".into()));
            }
        }
        let change = audit::Change {
            actor: &u.username,
            action: "notify.retry",
            entity: "outbox",
            entity_id: id.to_string(),
            before: String::new(),
            after: String::new(),
        };
        audit::append(&mut tx, now, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The delivery page: the newest attempts, what waits or was given up, and messages per person
    /// per channel on `day` (系统管理员).
    pub async fn deliveries(&self, u: &SessionUser, day: chrono::NaiveDate) -> Result<Deliveries> {
        u.actor().may_administer()?;
        let to_sql = "COALESCE(pe.name || '（' || pe.post || '）', un.name || '群', '')";
        let log = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT l.*, c.name AS channel, {to_sql} AS to_name, o.kind AS kind FROM outbox_log l \
             JOIN notify_channels c ON c.id = l.channel_id LEFT JOIN people pe ON pe.id = l.person_id \
             LEFT JOIN units un ON un.id = l.unit_id LEFT JOIN outbox o ON o.id = l.first_id \
             ORDER BY l.id DESC LIMIT 200"
        )))
        .fetch_all(&self.pool)
        .await?;
        let log = log
            .iter()
            .map(|r| {
                let kind = r.os("kind")?.unwrap_or_default();
                Ok(LogLine {
                    id: r.i("id")?,
                    at: r.t("at")?,
                    channel: r.s("channel")?,
                    kind_label: if kind.is_empty() {
                        "测试发送".into()
                    } else {
                        crate::inbox::kind_label(&kind).into()
                    },
                    to: r.s("to_name")?,
                    messages: r.i("messages")?,
                    idem_key: r.s("idem_key")?,
                    ok: r.i("ok")? == 1,
                    answer: r.s("answer")?,
                    node: r.s("node")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let waiting = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT o.*, c.name AS channel, {to_sql} AS to_name FROM outbox o JOIN notify_channels c ON c.id = o.channel_id \
             LEFT JOIN people pe ON pe.id = o.person_id LEFT JOIN units un ON un.id = o.unit_id \
             WHERE o.state = 'dead' OR (o.state = 'pending' AND o.attempts > 0) ORDER BY o.id DESC LIMIT 200"
        )))
        .fetch_all(&self.pool)
        .await?;
        let waiting = waiting
            .iter()
            .map(|r| {
                Ok(Waiting {
                    id: r.i("id")?,
                    channel: r.s("channel")?,
                    to: r.s("to_name")?,
                    title: r.s("title")?,
                    text: r.s("text")?,
                    state: r.s("state")?,
                    attempts: r.i("attempts")?,
                    next_at: r.t("next_at")?,
                    last_error: r.s("last_error")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let from = day.and_time(NaiveTime::MIN);
        let per_person = sqlx::query(
            "SELECT pe.name || '（' || pe.post || '）' AS person, un.name AS unit, c.name AS channel, \
             CAST(SUM(CASE WHEN l.ok = 1 THEN l.messages ELSE 0 END) AS BIGINT) AS sent, \
             CAST(SUM(CASE WHEN l.ok = 0 THEN 1 ELSE 0 END) AS BIGINT) AS failed \
             FROM outbox_log l JOIN people pe ON pe.id = l.person_id JOIN units un ON un.id = pe.unit_id \
             JOIN notify_channels c ON c.id = l.channel_id WHERE l.at >= $1 AND l.at < $2 \
             GROUP BY pe.name, pe.post, un.name, c.name ORDER BY sent DESC, person",
        )
        .bind(ts(from))
        .bind(ts(from + Duration::days(1)))
        .fetch_all(&self.pool)
        .await?;
        let per_person = per_person
            .iter()
            .map(|r| {
                Ok(DayCount {
                    person: r.s("person")?,
                    unit: r.s("unit")?,
                    channel: r.s("channel")?,
                    sent: r.i("sent")?,
                    failed: r.i("failed")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let counts = sqlx::query(
            "SELECT CAST(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END) AS BIGINT) AS pending, \
             CAST(SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END) AS BIGINT) AS dead FROM outbox",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(Deliveries {
            log,
            waiting,
            per_person,
            pending: counts.oi("pending")?.unwrap_or(0),
            dead: counts.oi("dead")?.unwrap_or(0),
        })
    }

    /// Every outbox row's idempotency key and state (tests and the shell's checks).
    pub async fn outbox_states(&self) -> Result<Vec<(String, String, i64)>> {
        let rows =
            sqlx::query("SELECT idem_key, state, attempts FROM outbox ORDER BY id").fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((r.s("idem_key")?, r.s("state")?, r.i("attempts")?))).collect()
    }
}

/// Ids for an `IN (…)` list (numbers from the database, never user text).
fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_goes_out_at_half_past_five_today_or_tomorrow() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        assert_eq!(digest_time(d.and_hms_opt(9, 0, 0).unwrap()), d.and_time(DIGEST_AT));
        assert_eq!(digest_time(d.and_hms_opt(17, 30, 0).unwrap()), d.succ_opt().unwrap().and_time(DIGEST_AT));
    }

    #[test]
    fn back_off_doubles_to_an_hour() {
        assert_eq!(backoff(0), Duration::seconds(30));
        assert_eq!(backoff(1), Duration::seconds(60));
        assert_eq!(backoff(20), Duration::seconds(3600));
    }
}
