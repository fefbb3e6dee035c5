//! 钉钉 / 政务钉钉 免登: the page inside the 钉钉 client asks it for a temporary authCode
//! (`dd.runtime.permission.requestAuthCode`); the server exchanges it, with the app's access
//! token, for the user's id (`/topapi/v2/user/getuserinfo`). The base URL is configurable, so a
//! 专有钉钉 endpoint can be used.

use serde_json::{Value, json};
use xietong_notify::dingtalk::AppToken;

use crate::{Finishing, Identity, Pending, Provider, ProviderConfig, ProviderKind, SignonError, Start};

pub struct Dingtalk {
    base: String,
    token: AppToken,
    http: reqwest::Client,
}

/// errcodes that mean the access token is no longer good.
const STALE_TOKEN: [i64; 3] = [40014, 42001, 88];

impl Dingtalk {
    pub fn new(cfg: &ProviderConfig, http: reqwest::Client) -> Dingtalk {
        let base = cfg.dingtalk_base();
        Dingtalk { token: AppToken::new(&base, &cfg.app_key, &cfg.app_secret), base, http }
    }

    /// The user info for `code`, or (errcode, message) when 钉钉 refused it.
    async fn user_info(&self, code: &str) -> Result<Result<Value, (i64, String)>, SignonError> {
        let token = self.token.get(&self.http).await.map_err(|f| SignonError::new(f.message))?;
        let url = format!("{}/topapi/v2/user/getuserinfo", self.base);
        let r = self
            .http
            .post(url)
            .query(&[("access_token", token)])
            .json(&json!({ "code": code }))
            .send()
            .await
            .map_err(|e| SignonError::new(format!("无法连接钉钉开放平台：{e}")))?;
        let status = r.status().as_u16();
        let body = r.text().await.unwrap_or_default();
        let v: Value = serde_json::from_str(&body).map_err(|_| {
            SignonError::new(format!("钉钉的应答无法识别（HTTP {status}）：{}", xietong_notify::cut(&body, 200)))
        })?;
        let errcode = v["errcode"].as_i64().unwrap_or(-1);
        if errcode != 0 {
            let msg = v["errmsg"].as_str().unwrap_or("").to_string();
            return Ok(Err((errcode, msg)));
        }
        Ok(Ok(v["result"].clone()))
    }
}

impl Provider for Dingtalk {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Dingtalk
    }

    fn start(&self, _callback: &str) -> Result<Option<Start>, SignonError> {
        Ok(None)
    }

    fn finish<'a>(&'a self, code: &'a str, _pending: Option<&'a Pending>, _callback: &'a str) -> Finishing<'a> {
        Box::pin(async move {
            let code = code.trim();
            if code.is_empty() || code.len() > 256 {
                return Err(SignonError::new("缺少钉钉授权码，请在钉钉客户端内打开本页"));
            }
            let mut answer = self.user_info(code).await?;
            if matches!(&answer, Err((c, _)) if STALE_TOKEN.contains(c)) {
                self.token.forget().await;
                answer = self.user_info(code).await?;
            }
            let result = answer.map_err(|(c, m)| {
                SignonError::new(format!("钉钉免登失败：{m}（errcode {c}），请在钉钉内重新打开本页"))
            })?;
            let claims = result.as_object().cloned().unwrap_or_default();
            let subject = crate::claims::claim(&claims, "userid")
                .ok_or_else(|| SignonError::new("钉钉没有返回用户ID（userid）"))?;
            Ok(Identity { subject, claims })
        })
    }
}
