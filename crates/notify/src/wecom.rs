//! 企业微信 group robot: markdown, or text when people are to be @-mentioned (企业微信's markdown
//! cannot mention by mobile).

use serde_json::json;

use crate::{Channel, ChannelConfig, ChannelKind, Outgoing, Sending, answer_of, errcode_answer};

pub struct Robot {
    cfg: ChannelConfig,
    http: reqwest::Client,
}

impl Robot {
    pub fn new(cfg: ChannelConfig, http: reqwest::Client) -> Robot {
        Robot { cfg, http }
    }
}

/// The robot's JSON body for a message.
pub fn body(m: &Outgoing) -> serde_json::Value {
    let mut text = format!("【{}】{}", m.title, m.text);
    if let Some(link) = &m.link {
        text.push_str(&format!("\n查看详情：{link}"));
    }
    if m.mobiles.is_empty() {
        json!({ "msgtype": "markdown", "markdown": { "content": text } })
    } else {
        json!({ "msgtype": "text", "text": { "content": text, "mentioned_mobile_list": m.mobiles } })
    }
}

impl Channel for Robot {
    fn kind(&self) -> ChannelKind {
        ChannelKind::WecomRobot
    }

    fn send<'a>(&'a self, m: &'a Outgoing) -> Sending<'a> {
        Box::pin(async move {
            let r =
                self.http.post(self.cfg.url.trim()).header("Idempotency-Key", &m.idem_key).json(&body(m)).send().await;
            let (status, body) = answer_of(r).await?;
            errcode_answer(status, &body, "企业微信机器人")
        })
    }
}
