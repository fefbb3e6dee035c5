//! An SMS gateway over HTTP, as districts run them in front of the operators' platforms: one POST
//! per message with the template id, the parameters and an `out_id` the gateway uses to drop a
//! repeat; the token, if any, as a bearer token.

use serde_json::json;

use crate::{Channel, ChannelConfig, ChannelKind, Failure, Outgoing, Receipt, Sending, answer_of};

pub struct Gateway {
    cfg: ChannelConfig,
    http: reqwest::Client,
}

impl Gateway {
    pub fn new(cfg: ChannelConfig, http: reqwest::Client) -> Gateway {
        Gateway { cfg, http }
    }
}

/// The gateway's JSON body: the template's parameters are the kind, the text and the link.
pub fn body(cfg: &ChannelConfig, mobile: &str, m: &Outgoing) -> serde_json::Value {
    json!({
        "mobile": mobile,
        "template_id": cfg.template_id.trim(),
        "sign_name": cfg.sign_name.trim(),
        "params": { "kind": m.title, "text": m.text, "link": m.link.clone().unwrap_or_default() },
        "out_id": m.idem_key,
    })
}

impl Channel for Gateway {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Sms
    }

    fn send<'a>(&'a self, m: &'a Outgoing) -> Sending<'a> {
        Box::pin(async move {
            let mobile = crate::address(m.mobiles.first().map(String::as_str), "收件人没有手机号")?;
            let mut req = self.http.post(self.cfg.url.trim()).header("Idempotency-Key", &m.idem_key);
            if !self.cfg.secret.trim().is_empty() {
                req = req.bearer_auth(self.cfg.secret.trim());
            }
            let (status, answer) = answer_of(req.json(&body(&self.cfg, mobile, m)).send().await).await?;
            // A gateway answers 2xx; a JSON `code` other than 0 / "0" / "OK" is a refusal.
            let v: serde_json::Value = serde_json::from_str(&answer).unwrap_or_default();
            let refused = match &v["code"] {
                serde_json::Value::Null => false,
                serde_json::Value::Number(n) => n.as_i64() != Some(0),
                serde_json::Value::String(s) => !matches!(s.as_str(), "0" | "OK" | "ok"),
                _ => true,
            };
            match status {
                200..=299 if !refused => Ok(Receipt { answer }),
                200..=299 => Err(Failure::config(format!("短信网关拒绝发送：{answer}"))),
                401 | 403 => Err(Failure::config(format!("短信网关拒绝了令牌（HTTP {status}）：{answer}"))),
                429 | 500..=599 => Err(Failure::retry(format!("短信网关暂时不可用（HTTP {status}）：{answer}"))),
                _ => Err(Failure::config(format!("短信网关拒绝了请求（HTTP {status}）：{answer}"))),
            }
        })
    }
}
