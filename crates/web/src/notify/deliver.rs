//! The outbox worker: claims due messages, plans each destination's sends within its budget
//! (`xietong_notify::plan`), sends through the channel's adapter and records the outcome. Runs on
//! every `serve` node; rows are claimed with a lease, so each is sent by one node at a time and a
//! node killed mid-send leaves its rows to be sent again, under the same idempotency keys.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use xietong_notify::plan::{Pending, SEP, Step, plan};
use xietong_notify::{AddressKind, Channel, ChannelKind, Outgoing};
use xietong_storage::outbox::{Attempt, NotifyChannel, OutboxRow};
use xietong_storage::{Result, StoreError};

use crate::AppState;

/// How long a claim holds: longer than one send's timeout (10 s) with room to spare.
fn lease() -> chrono::Duration {
    let secs = std::env::var("XIETONG_OUTBOX_LEASE_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    chrono::Duration::seconds(secs)
}

/// This process's name in claims and the log.
pub fn node() -> &'static str {
    static NODE: OnceLock<String> = OnceLock::new();
    NODE.get_or_init(|| format!("node-{}-{:04x}", std::process::id(), rand::random::<u16>()))
}

/// A channel's adapter and the channel version it was built from.
type Built = (i64, Arc<dyn Channel>);

/// Adapters by channel, rebuilt when the channel's version changes (the 钉钉 token cache lives in one).
#[derive(Default)]
pub struct Adapters(std::sync::Mutex<HashMap<i64, Built>>);

/// A destination: the channel, and the person on a personal channel (`None`: the group).
type Destination = (i64, Option<i64>);

impl Adapters {
    fn get(&self, c: &NotifyChannel, http: &reqwest::Client) -> std::result::Result<Arc<dyn Channel>, String> {
        let mut held = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((v, a)) = held.get(&c.id)
            && *v == c.version
        {
            return Ok(a.clone());
        }
        let a: Arc<dyn Channel> = xietong_notify::adapter(&c.config, http.clone()).map_err(|e| e.message)?.into();
        held.insert(c.id, (c.version, a.clone()));
        Ok(a)
    }
}

pub fn spawn_deliverer(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match deliver_once(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(attempts = n, "outbox delivered"),
                Err(e) => tracing::warn!(error = %e, "outbox delivery failed"),
            }
        }
    })
}

/// One round: every due message claimed and sent or held. Returns the attempts made.
pub async fn deliver_once(state: &AppState) -> Result<usize> {
    let now = state.clock.now();
    let rows = state.db.claim_outbox(node(), now, lease(), 500).await?;
    let mut by_dest: Vec<(Destination, Vec<OutboxRow>)> = vec![];
    let mut channels: HashMap<i64, Option<NotifyChannel>> = HashMap::new();
    for r in rows {
        if let std::collections::hash_map::Entry::Vacant(e) = channels.entry(r.channel_id) {
            e.insert(state.db.notify_channel_for_sending(r.channel_id).await.ok());
        }
        let group = channels[&r.channel_id].as_ref().is_some_and(|c| c.kind.is_group());
        let key = (r.channel_id, if group { None } else { r.person_id });
        match by_dest.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(r),
            None => by_dest.push((key, vec![r])),
        }
    }
    let mut attempts = 0;
    for ((channel_id, person), rows) in by_dest {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let Some(c) = channels[&channel_id].clone().filter(|c| c.enabled) else {
            // A channel switched off keeps its messages for when it is switched on again.
            state.db.hold_outbox(node(), &ids, now + chrono::Duration::minutes(5)).await?;
            continue;
        };
        attempts += deliver_destination(state, &c, person, rows, now).await?;
    }
    Ok(attempts)
}

async fn deliver_destination(
    state: &AppState,
    c: &NotifyChannel,
    person: Option<i64>,
    mut rows: Vec<OutboxRow>,
    now: NaiveDateTime,
) -> Result<usize> {
    if !c.kind.is_group() {
        // A message about a task reaches a person only while they may see the task, as in the inbox.
        // Asked once per task: the answer rebuilds the person's accounts and scopes.
        let mut seen: HashMap<i64, bool> = HashMap::new();
        let mut hidden = vec![];
        let mut kept = vec![];
        for r in rows {
            let visible = match (r.person_id, r.task_id) {
                (Some(p), Some(t)) => match seen.get(&t) {
                    Some(v) => *v,
                    None => *seen.entry(t).or_insert(state.db.person_may_view_task(p, t).await?),
                },
                _ => true,
            };
            if visible { kept.push(r) } else { hidden.push(r.id) }
        }
        if !hidden.is_empty() {
            state.db.withhold_outbox(node(), &hidden).await?;
        }
        rows = kept;
        if rows.is_empty() {
            return Ok(0);
        }
    }
    let cal = state.snapshot().cal;
    if c.office_hours_only && !cal.is_office_time(now) {
        // Quiet hours: only what the rules mark urgent goes out now.
        let (urgent, quiet): (Vec<OutboxRow>, Vec<OutboxRow>) = rows.into_iter().partition(|r| r.urgent);
        if !quiet.is_empty() {
            let ids: Vec<i64> = quiet.iter().map(|r| r.id).collect();
            state.db.hold_outbox(node(), &ids, cal.next_office_instant(now).value).await?;
        }
        rows = urgent;
        if rows.is_empty() {
            return Ok(0);
        }
    }
    let minute = c.per_minute - state.db.delivered_since(c.id, person, now - chrono::Duration::seconds(60)).await?;
    let day_start = now.date().and_time(NaiveTime::MIN);
    let day = match (c.daily_cap, person) {
        (cap, Some(p)) if cap > 0 => cap - state.db.delivered_since(c.id, Some(p), day_start).await?,
        _ => i64::MAX,
    };
    let budget = minute.min(day).max(0) as usize;
    let limit = c.kind.limit_bytes();
    let pending: Vec<Pending> = rows
        .iter()
        .map(|r| Pending {
            id: r.id,
            attempts: r.attempts,
            batch_id: r.batch_id,
            digest: r.digest,
            bytes: line(r, state.public_origin.as_deref()).len() + SEP,
        })
        .collect();
    let adapter = match state.adapters.get(c, &state.notify_http) {
        Ok(a) => a,
        Err(why) => {
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            tracing::warn!(channel = c.id, error = %why, "a channel's configuration is refused; its messages wait");
            state.db.hold_outbox(node(), &ids, now + chrono::Duration::minutes(5)).await?;
            return Ok(0);
        }
    };
    let mut n = 0;
    for step in plan(&pending, budget, xietong_notify::body_limit(limit)) {
        match step {
            Step::Hold { ids } => {
                // The daily cap: tomorrow's first office hour; the rate: the next minute.
                let until = if day <= minute {
                    cal.next_office_instant(day_start + chrono::Duration::days(1)).value
                } else {
                    now + chrono::Duration::seconds(60)
                };
                state.db.hold_outbox(node(), &ids, until).await?;
            }
            Step::Send { ids, batch } => {
                let members: Vec<&OutboxRow> = rows.iter().filter(|r| ids.contains(&r.id)).collect();
                if !state.db.begin_attempt(node(), &ids, batch).await? {
                    continue; // another node holds them now
                }
                let m = outgoing(state, c, &members, batch).await?;
                let result = send_parts(adapter.as_ref(), &m, limit).await;
                let (ok, answer) = match &result {
                    Ok(a) => (true, a.clone()),
                    Err(e) => (false, e.clone()),
                };
                let first = members[0];
                let a = Attempt {
                    ids: &ids,
                    channel_id: c.id,
                    person_id: if c.kind.is_group() { None } else { first.person_id },
                    unit_id: first.unit_id,
                    idem_key: &m.idem_key,
                    ok,
                    answer: &answer,
                };
                state.db.finish_attempt(node(), &a, state.clock.now()).await?;
                n += 1;
            }
        }
    }
    Ok(n)
}

/// A message as one line of a digest.
fn line(r: &OutboxRow, origin: Option<&str>) -> String {
    match absolute(r.link.as_deref(), origin) {
        Some(l) => format!("【{}】{} {l}", r.title, r.text),
        None => format!("【{}】{}", r.title, r.text),
    }
}

fn absolute(link: Option<&str>, origin: Option<&str>) -> Option<String> {
    let link = link?;
    Some(match origin {
        Some(o) if link.starts_with('/') => format!("{}{link}", o.trim_end_matches('/')),
        _ => link.to_string(),
    })
}

/// A deadline as stored ('YYYY-MM-DD' or a full time) as the end of its working day.
fn due_of(s: &str) -> Option<NaiveDateTime> {
    xietong_storage::parse_ts(s)
        .ok()
        .or_else(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().map(|d| d.and_hms_opt(18, 0, 0).unwrap_or_default()))
}

async fn outgoing(state: &AppState, c: &NotifyChannel, members: &[&OutboxRow], batch: Option<i64>) -> Result<Outgoing> {
    let origin = state.public_origin.as_deref();
    let first = members[0];
    let mut m = match batch {
        None => Outgoing {
            idem_key: first.idem_key.clone(),
            title: first.title.clone(),
            text: first.text.clone(),
            link: absolute(first.link.as_deref(), origin),
            task_id: first.task_id,
            due: first.due.as_deref().and_then(due_of),
            ..Outgoing::default()
        },
        Some(b) => Outgoing {
            idem_key: format!("xt-b{b}"),
            title: format!("消息汇总（{}条）", members.len()),
            text: members.iter().map(|r| line(r, origin)).collect::<Vec<_>>().join("\n"),
            ..Outgoing::default()
        },
    };
    let mut people: Vec<i64> = members.iter().filter_map(|r| r.person_id).collect();
    people.dedup();
    match c.kind {
        ChannelKind::DingtalkRobot | ChannelKind::WecomRobot | ChannelKind::Sms => {
            for p in people {
                if let Some(mobile) = state.db.notify_address(p, AddressKind::Mobile).await? {
                    m.mobiles.push(mobile);
                }
            }
        }
        ChannelKind::DingtalkWork => {
            if let Some(p) = first.person_id {
                m.user_id = state.db.notify_address(p, AddressKind::DingtalkUser).await?;
            }
        }
        ChannelKind::Email => {
            if let Some(p) = first.person_id {
                m.email = state.db.notify_address(p, AddressKind::Email).await?;
            }
        }
    }
    Ok(m)
}

/// Send a message, in parts when it is longer than the channel takes (each part its own key, the
/// same on every attempt). The receiver's answer, or why it failed.
async fn send_parts(adapter: &dyn Channel, m: &Outgoing, limit: usize) -> std::result::Result<String, String> {
    let parts = xietong_notify::split::split(&m.text, xietong_notify::body_limit(limit));
    let total = parts.len();
    let mut answers = vec![];
    for (i, text) in parts.into_iter().enumerate() {
        let mut part = m.clone();
        if total > 1 {
            part.idem_key = format!("{}-p{}", m.idem_key, i + 1);
            part.title = format!("{}（{}/{}）", m.title, i + 1, total);
            part.text = text;
        }
        match adapter.send(&part).await {
            Ok(r) => answers.push(r.answer),
            Err(f) => return Err(f.message),
        }
    }
    Ok(answers.join("；"))
}

/// One 测试发送 through a channel's adapter, as the outbox would send it.
pub async fn test_send(
    c: &NotifyChannel,
    http: &reqwest::Client,
    to: Outgoing,
) -> std::result::Result<String, StoreError> {
    let adapter =
        xietong_notify::adapter(&c.config, http.clone()).map_err(|e| StoreError::invalid(e.field, e.message))?;
    send_parts(adapter.as_ref(), &to, c.kind.limit_bytes()).await.map_err(StoreError::BadInput)
}
