//! Delivery channels for the outbox. Each channel is an adapter behind one trait, [`Channel`]:
//! given one [`Outgoing`] message it makes one delivery attempt and says whether it arrived, and
//! if not whether trying again can help. What to send when (rates, quiet hours, digests, retries)
//! is the outbox worker's business, not the adapters'; the adapters know their receiver's shape:
//!
//! - 钉钉 group robot ([`dingtalk::Robot`]): markdown with @mobiles, HmacSHA256 `timestamp`+`sign`,
//!   or the keyword mode (the keyword is put into every message);
//! - 企业微信 group robot ([`wecom::Robot`]): markdown, or text with `mentioned_mobile_list`;
//! - 钉钉 工作通知 and 待办 ([`dingtalk::WorkNotice`]): an access token cached until it expires, a
//!   configurable base URL so a 政务钉钉 (专有钉钉) endpoint can be used;
//! - an SMS gateway over HTTP ([`sms::Gateway`]): template id and parameters;
//! - e-mail over SMTP ([`email::Smtp`], lettre).
//!
//! Every message carries an idempotency key: robots get it as an `Idempotency-Key` header, 待办 as
//! its `sourceId`, the SMS gateway as `out_id`, e-mail as its `Message-ID`, so a receiver can drop a repeat.

pub mod config;
pub mod dingtalk;
pub mod email;
pub mod plan;
pub mod sms;
pub mod split;
pub mod wecom;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::NaiveDateTime;

pub use config::{AddressKind, ChannelConfig, ChannelKind, ConfigError};

/// One message to one destination (a group, or a person on a personal channel).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outgoing {
    /// The same for every attempt at the same message, different for every other message.
    pub idem_key: String,
    /// What kind of message, as the inbox names it (交办, 催办…).
    pub title: String,
    pub text: String,
    /// The record's page, absolute when the server knows its public origin.
    pub link: Option<String>,
    /// Mobiles to @ in a group (robots), or the person's mobile (SMS).
    pub mobiles: Vec<String>,
    /// The person's 钉钉 user id (工作通知 / 待办).
    pub user_id: Option<String>,
    /// The person's e-mail address.
    pub email: Option<String>,
    /// When the work is due (待办's `dueTime`).
    pub due: Option<NaiveDateTime>,
    /// Whether this message is about a task (a 待办 is made only for those).
    pub task_id: Option<i64>,
}

/// What the receiver answered when it took the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub answer: String,
}

/// Why a delivery did not arrive.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// Chinese, with the receiver's own answer where there was one.
    pub message: String,
    /// False when trying again cannot help (a wrong secret, a refused template): the outbox still
    /// retries, since an administrator may fix the configuration meanwhile, but says so.
    pub retryable: bool,
}

impl Failure {
    pub fn retry(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), retryable: true }
    }
    pub fn config(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), retryable: false }
    }
}

pub type Sending<'a> = Pin<Box<dyn Future<Output = Result<Receipt, Failure>> + Send + 'a>>;

/// Bytes of a message's body when `limit` is what the channel takes: room is kept for the title,
/// the link and the @-mentions the adapter adds.
pub fn body_limit(limit: usize) -> usize {
    limit - (limit / 4).min(200)
}

/// A delivery channel.
pub trait Channel: Send + Sync {
    fn kind(&self) -> ChannelKind;
    /// The most bytes one message may carry; longer texts are split by the outbox.
    fn limit_bytes(&self) -> usize {
        self.kind().limit_bytes()
    }
    /// One attempt.
    fn send<'a>(&'a self, m: &'a Outgoing) -> Sending<'a>;
}

/// The HTTP client the adapters share: a short timeout, so a hung receiver holds a worker for
/// seconds, not minutes.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .user_agent("xietong-notify")
        .build()
        .unwrap_or_default()
}

/// The adapter for a configuration (checked first).
pub fn adapter(cfg: &ChannelConfig, http: reqwest::Client) -> Result<Box<dyn Channel>, ConfigError> {
    cfg.check()?;
    Ok(match cfg.kind {
        ChannelKind::DingtalkRobot => Box::new(dingtalk::Robot::new(cfg.clone(), http)),
        ChannelKind::WecomRobot => Box::new(wecom::Robot::new(cfg.clone(), http)),
        ChannelKind::DingtalkWork => Box::new(dingtalk::WorkNotice::new(cfg.clone(), http)),
        ChannelKind::Sms => Box::new(sms::Gateway::new(cfg.clone(), http)),
        ChannelKind::Email => Box::new(email::Smtp::new(cfg.clone())?),
    })
}

/// Reads a receiver's answer: HTTP status and body, the body cut to what a log line can hold.
pub(crate) async fn answer_of(r: Result<reqwest::Response, reqwest::Error>) -> Result<(u16, String), Failure> {
    let r = r.map_err(|e| {
        let why = if e.is_timeout() {
            "接收方超时未应答"
        } else if e.is_connect() {
            "无法连接接收方"
        } else {
            "发送请求失败"
        };
        Failure::retry(format!("{why}：{e}"))
    })?;
    let status = r.status().as_u16();
    let body = r.text().await.unwrap_or_default();
    Ok((status, cut(&body, 500)))
}

/// The recipient's address a personal channel needs, or why the message cannot go.
pub(crate) fn address<'a>(v: Option<&'a str>, missing: &str) -> Result<&'a str, Failure> {
    v.map(str::trim).filter(|a| !a.is_empty()).ok_or_else(|| Failure::config(missing))
}

/// At most `max` characters, marked when cut.
pub fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max { s.to_string() } else { format!("{}…", s.chars().take(max).collect::<String>()) }
}

/// The `errcode`/`errmsg` answer both robots and 钉钉's API give; `Ok` for errcode 0.
pub(crate) fn errcode_answer(status: u16, body: &str, who: &str) -> Result<Receipt, Failure> {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or(serde_json::Value::Null);
    let code = v.get("errcode").and_then(|c| c.as_i64());
    match (status, code) {
        (200..=299, Some(0)) => Ok(Receipt { answer: body.to_string() }),
        (429, _) | (500..=599, _) => Err(Failure::retry(format!("{who}暂时不可用（HTTP {status}）：{body}"))),
        (200..=299, Some(c)) => {
            let msg = v.get("errmsg").and_then(|m| m.as_str()).unwrap_or("");
            Err(explain_errcode(who, c, msg, body))
        }
        _ => Err(Failure::config(format!("{who}拒绝了消息（HTTP {status}）：{body}"))),
    }
}

fn explain_errcode(who: &str, code: i64, msg: &str, body: &str) -> Failure {
    match code {
        // 钉钉: 310000 signature, keyword or IP check failed; 企业微信 93000 invalid webhook key.
        310000 => {
            Failure::config(format!("{who}校验未通过（签名、关键词或IP地址不符，请核对加签密钥或关键词）：{msg}"))
        }
        93000 => Failure::config(format!("{who}的 Webhook 地址无效（key 不存在）：{msg}")),
        // 钉钉 130101 and 企业微信 45009: sent too fast; the robot is blocked for a while.
        130101 | 45009 => Failure::retry(format!("{who}发送过快被限流：{msg}")),
        // 钉钉 40014 / 42001 / 88: the access token is invalid or expired.
        40014 | 42001 | 88 => Failure::retry(format!("{who}的访问令牌无效或过期：{msg}")),
        40089 | 40001 => Failure::config(format!("{who}拒绝了应用凭证（AppKey/AppSecret 不符）：{msg}")),
        _ => Failure::config(format!("{who}返回错误 {code}：{body}")),
    }
}
