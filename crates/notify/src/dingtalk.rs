//! 钉钉: the group robot (custom robot webhook) and the 工作通知 / 待办 of an internal app.

use std::time::{Duration, Instant};

use base64::Engine;
use chrono::NaiveDateTime;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::{Channel, ChannelConfig, ChannelKind, Failure, Outgoing, Receipt, Sending, answer_of, errcode_answer};

/// The robot's signature: base64 of HmacSHA256 over "timestamp\nsecret", keyed by the secret.
pub fn robot_sign(timestamp_ms: i64, secret: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{timestamp_ms}\n{secret}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The markdown a robot or a 工作通知 shows: a heading, the text, the link, the @mobiles.
pub fn markdown(m: &Outgoing, keyword: &str) -> (String, String) {
    let mut title = m.title.clone();
    // Keyword mode: the robot takes only messages containing the keyword.
    if !keyword.is_empty() && !m.title.contains(keyword) && !m.text.contains(keyword) {
        title = format!("【{keyword}】{title}");
    }
    let mut text = format!("#### {title}\n\n{}", m.text.replace('\n', "\n\n"));
    if let Some(link) = &m.link {
        text.push_str(&format!("\n\n[查看详情]({link})"));
    }
    if !m.mobiles.is_empty() {
        let ats: Vec<String> = m.mobiles.iter().map(|p| format!("@{p}")).collect();
        text.push_str(&format!("\n\n{}", ats.join(" ")));
    }
    (title, text)
}

/// 钉钉 custom group robot.
pub struct Robot {
    cfg: ChannelConfig,
    http: reqwest::Client,
}

impl Robot {
    pub fn new(cfg: ChannelConfig, http: reqwest::Client) -> Robot {
        Robot { cfg, http }
    }

    /// The webhook with `timestamp` and `sign` added when the robot signs.
    pub fn signed_url(&self, now_ms: i64) -> Result<reqwest::Url, Failure> {
        let mut url = reqwest::Url::parse(self.cfg.url.trim()).map_err(|_| Failure::config("Webhook 地址无效"))?;
        let secret = self.cfg.secret.trim();
        if !secret.is_empty() {
            url.query_pairs_mut()
                .append_pair("timestamp", &now_ms.to_string())
                .append_pair("sign", &robot_sign(now_ms, secret));
        }
        Ok(url)
    }
}

impl Channel for Robot {
    fn kind(&self) -> ChannelKind {
        ChannelKind::DingtalkRobot
    }

    fn send<'a>(&'a self, m: &'a Outgoing) -> Sending<'a> {
        Box::pin(async move {
            let url = self.signed_url(chrono::Utc::now().timestamp_millis())?;
            let (title, text) = markdown(m, self.cfg.keyword.trim());
            let body = json!({
                "msgtype": "markdown",
                "markdown": { "title": title, "text": text },
                "at": { "atMobiles": m.mobiles, "isAtAll": false },
            });
            let r = self.http.post(url).header("Idempotency-Key", &m.idem_key).json(&body).send().await;
            let (status, body) = answer_of(r).await?;
            errcode_answer(status, &body, "钉钉机器人")
        })
    }
}

/// An internal app's access token (`gettoken` with its AppKey and AppSecret), fetched once and
/// kept until five minutes before it expires. The 工作通知 channel and the 钉钉 免登 sign-on use it.
pub struct AppToken {
    base: String,
    app_key: String,
    app_secret: String,
    held: tokio::sync::Mutex<Option<(String, Instant)>>,
}

impl AppToken {
    /// `base` is the open platform's address (`https://oapi.dingtalk.com`, or a 专有钉钉's).
    pub fn new(base: &str, app_key: &str, app_secret: &str) -> AppToken {
        AppToken {
            base: base.trim().trim_end_matches('/').to_string(),
            app_key: app_key.trim().to_string(),
            app_secret: app_secret.trim().to_string(),
            held: tokio::sync::Mutex::new(None),
        }
    }

    pub async fn get(&self, http: &reqwest::Client) -> Result<String, Failure> {
        let mut held = self.held.lock().await;
        if let Some((t, until)) = held.as_ref()
            && Instant::now() < *until
        {
            return Ok(t.clone());
        }
        let url = format!("{}/gettoken", self.base);
        let r = http.get(url).query(&[("appkey", &self.app_key), ("appsecret", &self.app_secret)]).send().await;
        let (status, body) = answer_of(r).await?;
        errcode_answer(status, &body, "钉钉获取访问令牌")?;
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let token = v["access_token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Failure::retry(format!("钉钉未返回访问令牌：{body}")))?
            .to_string();
        let life = v["expires_in"].as_u64().unwrap_or(7200).saturating_sub(300).max(60);
        *held = Some((token.clone(), Instant::now() + Duration::from_secs(life)));
        Ok(token)
    }

    /// Drop the kept token (the platform refused it): the next call fetches a new one.
    pub async fn forget(&self) {
        *self.held.lock().await = None;
    }
}

/// 钉钉 工作通知 (corpconversation.asyncsend_v2) and, for a message about a task with a due
/// time, a 待办 (todo API, `sourceId` = the idempotency key, so a repeat makes no second to-do).
pub struct WorkNotice {
    cfg: ChannelConfig,
    http: reqwest::Client,
    token: AppToken,
}

impl WorkNotice {
    pub fn new(cfg: ChannelConfig, http: reqwest::Client) -> WorkNotice {
        let token = AppToken::new(&cfg.dingtalk_base(), &cfg.app_key, &cfg.app_secret);
        WorkNotice { cfg, http, token }
    }

    async fn notice(&self, token: &str, user: &str, m: &Outgoing) -> Result<Receipt, Failure> {
        let (title, text) = markdown(m, "");
        let msg = match &m.link {
            Some(link) => json!({
                "msgtype": "action_card",
                "action_card": { "title": title, "markdown": text, "single_title": "查看详情", "single_url": link },
            }),
            None => json!({ "msgtype": "markdown", "markdown": { "title": title, "text": text } }),
        };
        let agent: i64 = self.cfg.agent_id.trim().parse().map_err(|_| Failure::config("AgentId 应为数字"))?;
        let url = format!("{}/topapi/message/corpconversation/asyncsend_v2", self.cfg.dingtalk_base());
        let r = self
            .http
            .post(url)
            .query(&[("access_token", token)])
            .header("Idempotency-Key", &m.idem_key)
            .json(&json!({ "agent_id": agent, "userid_list": user, "msg": msg }))
            .send()
            .await;
        let (status, body) = answer_of(r).await?;
        errcode_answer(status, &body, "钉钉工作通知")
    }

    async fn todo(&self, token: &str, user: &str, m: &Outgoing, due: NaiveDateTime) -> Result<Receipt, Failure> {
        // 钉钉 takes milliseconds since the epoch; the product's times are Beijing time.
        let due_ms = (due - chrono::Duration::hours(8)).and_utc().timestamp_millis();
        let link = m.link.clone().unwrap_or_default();
        let body = json!({
            "sourceId": m.idem_key,
            "subject": crate::cut(&format!("{}：{}", m.title, m.text), 100),
            "description": m.text,
            "dueTime": due_ms,
            "executorIds": [user],
            "detailUrl": { "appUrl": link, "pcUrl": link },
        });
        let url = format!("{}/v1.0/todo/users/{user}/tasks", self.cfg.dingtalk_base());
        let r = self
            .http
            .post(url)
            .query(&[("operatorId", user)])
            .header("x-acs-dingtalk-access-token", token)
            .header("Idempotency-Key", &m.idem_key)
            .json(&body)
            .send()
            .await;
        let (status, body) = answer_of(r).await?;
        match status {
            200..=299 => Ok(Receipt { answer: body }),
            // The todo API answers a repeated sourceId with a conflict: the to-do is there already.
            409 => Ok(Receipt { answer: body }),
            401 | 403 => Err(Failure::retry(format!("钉钉待办拒绝了访问令牌（HTTP {status}）：{body}"))),
            429 | 500..=599 => Err(Failure::retry(format!("钉钉待办暂时不可用（HTTP {status}）：{body}"))),
            _ => Err(Failure::config(format!("钉钉待办拒绝了请求（HTTP {status}）：{body}"))),
        }
    }

    async fn attempt(&self, user: &str, m: &Outgoing) -> Result<Receipt, Failure> {
        let token = self.token.get(&self.http).await?;
        let mut receipt = self.notice(&token, user, m).await?;
        if let (Some(_), Some(due)) = (m.task_id, m.due) {
            let r = self.todo(&token, user, m, due).await?;
            receipt.answer = format!("{}；待办：{}", receipt.answer, r.answer);
        }
        Ok(receipt)
    }
}

impl Channel for WorkNotice {
    fn kind(&self) -> ChannelKind {
        ChannelKind::DingtalkWork
    }

    fn send<'a>(&'a self, m: &'a Outgoing) -> Sending<'a> {
        Box::pin(async move {
            let user = crate::address(m.user_id.as_deref(), "收件人没有钉钉用户ID")?;
            match self.attempt(user, m).await {
                // An expired or revoked token: fetch a new one and try once more.
                Err(f) if f.message.contains("访问令牌") => {
                    self.token.forget().await;
                    self.attempt(user, m).await
                }
                r => r,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_matches_dingtalks_documented_construction() {
        // HmacSHA256("1700000000000\nSECabc", key "SECabc"), base64 — computed independently with
        // `printf '1700000000000\nSECabc' | openssl dgst -sha256 -hmac SECabc -binary | base64`.
        assert_eq!(robot_sign(1_700_000_000_000, "SECabc"), "jcUpW0QmtKduN03n4JqQ0PBosVjqnM8gU7fIIvsDmCM=");
    }

    #[test]
    fn the_keyword_is_put_in_when_the_text_lacks_it() {
        let m = Outgoing { title: "催办".into(), text: "请按期办结".into(), ..Default::default() };
        assert!(markdown(&m, "督办").0.contains("督办"));
        let m = Outgoing { title: "督办提醒".into(), text: "请按期办结".into(), ..Default::default() };
        assert_eq!(markdown(&m, "督办").0, "督办提醒");
    }
}
