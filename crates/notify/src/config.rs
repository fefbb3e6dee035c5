//! A channel's configuration as the administrator enters it, and its checks (Chinese messages
//! naming the field).

use serde::{Deserialize, Serialize};

/// The kinds of channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// 钉钉群机器人
    DingtalkRobot,
    /// 企业微信群机器人
    WecomRobot,
    /// 钉钉工作通知 / 待办
    DingtalkWork,
    /// 短信网关
    Sms,
    /// 电子邮件（SMTP）
    Email,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 5] =
        [Self::DingtalkRobot, Self::WecomRobot, Self::DingtalkWork, Self::Sms, Self::Email];

    pub fn code(self) -> &'static str {
        match self {
            Self::DingtalkRobot => "dingtalk_robot",
            Self::WecomRobot => "wecom_robot",
            Self::DingtalkWork => "dingtalk_work",
            Self::Sms => "sms",
            Self::Email => "email",
        }
    }

    pub fn from_code(s: &str) -> Option<ChannelKind> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }

    /// The short names the shell's `--channel` takes.
    pub fn from_short(s: &str) -> Option<ChannelKind> {
        match s {
            "dingtalk" => Some(Self::DingtalkRobot),
            "wecom" => Some(Self::WecomRobot),
            "dingtalk-work" => Some(Self::DingtalkWork),
            "sms" => Some(Self::Sms),
            "email" => Some(Self::Email),
            o => Self::from_code(o),
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::DingtalkRobot => "钉钉群机器人",
            Self::WecomRobot => "企业微信群机器人",
            Self::DingtalkWork => "钉钉工作通知/待办",
            Self::Sms => "短信",
            Self::Email => "电子邮件",
        }
    }

    /// A group's channel (one message per group) rather than a person's.
    pub fn is_group(self) -> bool {
        matches!(self, Self::DingtalkRobot | Self::WecomRobot)
    }

    /// The person's address this channel needs.
    pub fn address(self) -> Option<AddressKind> {
        match self {
            Self::DingtalkRobot | Self::WecomRobot => None,
            Self::DingtalkWork => Some(AddressKind::DingtalkUser),
            Self::Sms => Some(AddressKind::Mobile),
            Self::Email => Some(AddressKind::Email),
        }
    }

    /// 企业微信 robots take 2 048 bytes of text; 钉钉 robots more, but a phone shows a long
    /// markdown badly, so both are split at 2 048; an SMS at 600 (about 200 characters, a long
    /// SMS of three segments).
    pub fn limit_bytes(self) -> usize {
        match self {
            Self::DingtalkRobot | Self::WecomRobot => 2048,
            Self::DingtalkWork | Self::Email => 4000,
            Self::Sms => 600,
        }
    }

    /// Messages a minute one destination takes (钉钉 and 企业微信 robots: 20; exceeding blocks the
    /// robot for 10 minutes).
    pub fn default_per_minute(self) -> i64 {
        match self {
            Self::DingtalkRobot | Self::WecomRobot => 20,
            Self::DingtalkWork => 60,
            Self::Sms => 10,
            Self::Email => 30,
        }
    }

    /// Messages a day one person takes: 钉钉 待办 100, SMS what districts found tolerable.
    pub fn default_daily_cap(self) -> i64 {
        match self {
            Self::DingtalkRobot | Self::WecomRobot => 0,
            Self::DingtalkWork => 100,
            Self::Sms => 5,
            Self::Email => 0,
        }
    }
}

/// A person's addresses on the channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AddressKind {
    /// 手机号（短信、群内@）
    Mobile,
    /// 钉钉用户 ID
    DingtalkUser,
    /// 电子邮箱
    Email,
}

impl AddressKind {
    pub const ALL: [AddressKind; 3] = [Self::Mobile, Self::DingtalkUser, Self::Email];
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s.trim())
    }
    /// The address with most of it hidden, for lists: 138****0001, ding***01, z***@example.gov.cn.
    pub fn masked(self, v: &str) -> String {
        let chars: Vec<char> = v.chars().collect();
        let keep = |head: usize, tail: usize| -> String {
            if chars.len() <= head + tail {
                return "*".repeat(chars.len());
            }
            let (h, t) = (&chars[..head], &chars[chars.len() - tail..]);
            format!(
                "{}{}{}",
                h.iter().collect::<String>(),
                "*".repeat(chars.len() - head - tail),
                t.iter().collect::<String>()
            )
        };
        match self {
            Self::Mobile => keep(3, 4),
            Self::DingtalkUser => keep(2, 2),
            Self::Email => match v.split_once('@') {
                Some((local, domain)) => {
                    format!("{}***@{domain}", local.chars().next().map(String::from).unwrap_or_default())
                }
                None => keep(1, 0),
            },
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Self::Mobile => "mobile",
            Self::DingtalkUser => "dingtalk_user",
            Self::Email => "email",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Mobile => "手机号",
            Self::DingtalkUser => "钉钉用户ID",
            Self::Email => "电子邮箱",
        }
    }
}

/// What a channel needs to reach its receiver. Fields a kind does not use stay empty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChannelConfig {
    pub kind: ChannelKind,
    /// Webhook 地址（群机器人）或短信网关地址
    #[serde(default)]
    pub url: String,
    /// 加签密钥（钉钉群机器人，SEC 开头）或短信网关令牌
    #[serde(default)]
    pub secret: String,
    /// 自定义关键词（钉钉群机器人的关键词安全设置）
    #[serde(default)]
    pub keyword: String,
    /// 应用 AppKey（钉钉工作通知）
    #[serde(default)]
    pub app_key: String,
    /// 应用 AppSecret（钉钉工作通知）
    #[serde(default)]
    pub app_secret: String,
    /// 应用 AgentId（钉钉工作通知）
    #[serde(default)]
    pub agent_id: String,
    /// 钉钉开放平台地址，默认 https://oapi.dingtalk.com；专有钉钉（政务钉钉）填其部署地址
    #[serde(default)]
    pub base_url: String,
    /// 短信模板编号
    #[serde(default)]
    pub template_id: String,
    /// 短信签名
    #[serde(default)]
    pub sign_name: String,
    /// 发件人（电子邮件），如 督查局 <duban@example.gov.cn>
    #[serde(default)]
    pub sender: String,
}

impl ChannelConfig {
    pub fn new(kind: ChannelKind) -> ChannelConfig {
        ChannelConfig {
            kind,
            url: String::new(),
            secret: String::new(),
            keyword: String::new(),
            app_key: String::new(),
            app_secret: String::new(),
            agent_id: String::new(),
            base_url: String::new(),
            template_id: String::new(),
            sign_name: String::new(),
            sender: String::new(),
        }
    }

    /// 钉钉's API root, without a trailing slash.
    pub fn dingtalk_base(&self) -> String {
        let b = self.base_url.trim().trim_end_matches('/');
        if b.is_empty() { "https://oapi.dingtalk.com".into() } else { b.to_string() }
    }

    /// Every field this kind needs is there and well formed.
    pub fn check(&self) -> Result<(), ConfigError> {
        let url = |field: &'static str, label: &str, v: &str| -> Result<(), ConfigError> {
            let v = v.trim();
            if v.is_empty() {
                return Err(ConfigError::new(field, format!("请填写{label}")));
            }
            match reqwest::Url::parse(v) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
                _ => {
                    Err(ConfigError::new(field, format!("{label}应以 http:// 或 https:// 开头（当前「{}」）", cut(v))))
                }
            }
        };
        let need = |field: &'static str, label: &str, v: &str| -> Result<(), ConfigError> {
            if v.trim().is_empty() { Err(ConfigError::new(field, format!("请填写{label}"))) } else { Ok(()) }
        };
        match self.kind {
            ChannelKind::DingtalkRobot => {
                url("url", "Webhook 地址", &self.url)?;
                let s = self.secret.trim();
                if !s.is_empty() && !s.starts_with("SEC") {
                    return Err(ConfigError::new(
                        "secret",
                        "钉钉加签密钥应以 SEC 开头（在机器人安全设置的「加签」处复制）",
                    ));
                }
                if s.is_empty() && self.keyword.trim().is_empty() {
                    return Err(ConfigError::new(
                        "secret",
                        "请填写加签密钥或自定义关键词（钉钉机器人至少启用一种安全设置；仅用IP地址段时填写关键词「督办」之类亦可）",
                    ));
                }
                Ok(())
            }
            ChannelKind::WecomRobot => {
                url("url", "Webhook 地址", &self.url)?;
                let u =
                    reqwest::Url::parse(self.url.trim()).map_err(|_| ConfigError::new("url", "Webhook 地址无效"))?;
                if !u.query_pairs().any(|(k, v)| k == "key" && !v.is_empty()) {
                    return Err(ConfigError::new(
                        "url",
                        "企业微信 Webhook 地址应带 key=… 参数（在群机器人处复制完整地址）",
                    ));
                }
                Ok(())
            }
            ChannelKind::DingtalkWork => {
                need("app_key", "应用 AppKey", &self.app_key)?;
                need("app_secret", "应用 AppSecret", &self.app_secret)?;
                need("agent_id", "应用 AgentId", &self.agent_id)?;
                if self.agent_id.trim().parse::<i64>().is_err() {
                    return Err(ConfigError::new("agent_id", "AgentId 应为数字"));
                }
                if !self.base_url.trim().is_empty() {
                    url("base_url", "开放平台地址", &self.base_url)?;
                }
                Ok(())
            }
            ChannelKind::Sms => {
                url("url", "短信网关地址", &self.url)?;
                need("template_id", "短信模板编号", &self.template_id)
            }
            ChannelKind::Email => {
                let v = self.url.trim();
                match reqwest::Url::parse(v) {
                    Ok(u) if matches!(u.scheme(), "smtp" | "smtps") && u.host().is_some() => {}
                    _ => {
                        return Err(ConfigError::new(
                            "url",
                            format!("邮件服务器应写成 smtp://主机:端口 或 smtps://主机:465（当前「{}」）", cut(v)),
                        ));
                    }
                }
                if self.sender.trim().parse::<lettre::message::Mailbox>().is_err() {
                    return Err(ConfigError::new("sender", "发件人应为邮箱地址，如 督查局 <duban@example.gov.cn>"));
                }
                Ok(())
            }
        }
    }
}

fn cut(s: &str) -> String {
    crate::cut(s, 60)
}

/// A configuration refused, naming the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    pub field: &'static str,
    pub message: String,
}

impl ConfigError {
    pub fn new(field: &'static str, message: impl Into<String>) -> ConfigError {
        ConfigError { field, message: message.into() }
    }
}

#[cfg(test)]
mod address_tests {
    use super::*;

    #[test]
    fn addresses_are_masked_for_lists() {
        assert_eq!(AddressKind::Mobile.masked("13800000001"), "138****0001");
        assert_eq!(AddressKind::DingtalkUser.masked("ding-jsj-01"), "di*******01");
        assert_eq!(AddressKind::Email.masked("zhang@example.gov.cn"), "z***@example.gov.cn");
        assert_eq!(AddressKind::Mobile.masked("123"), "***");
        assert_eq!(AddressKind::from_code("dingtalk_user"), Some(AddressKind::DingtalkUser));
    }
}
