//! An identity provider's configuration, as the 安全管理员 registers it, and its checks (in Chinese,
//! naming the field).

use serde::{Deserialize, Serialize};

/// How a provider proves who someone is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// OpenID Connect (authorization code with PKCE; discovery from the issuer).
    Oidc,
    /// 钉钉 / 政务钉钉 免登: a temporary authCode from the 钉钉 client, exchanged for the user id.
    Dingtalk,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 2] = [Self::Oidc, Self::Dingtalk];
    pub fn code(self) -> &'static str {
        match self {
            Self::Oidc => "oidc",
            Self::Dingtalk => "dingtalk",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s.trim())
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Oidc => "OpenID Connect 统一身份认证",
            Self::Dingtalk => "钉钉（政务钉钉）免登",
        }
    }
}

/// What the provider's username claim is compared with to find the account at the first sign-in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchBy {
    /// 账号用户名
    #[default]
    Username,
    /// The person's 钉钉 user id (消息推送 address).
    DingtalkUser,
    /// The person's mobile number (消息推送 address).
    Mobile,
    /// The person's e-mail address (消息推送 address).
    Email,
}

impl MatchBy {
    pub const ALL: [MatchBy; 4] = [Self::Username, Self::DingtalkUser, Self::Mobile, Self::Email];
    pub fn code(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::DingtalkUser => "dingtalk_user",
            Self::Mobile => "mobile",
            Self::Email => "email",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s.trim())
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Username => "账号用户名",
            Self::DingtalkUser => "人员的钉钉用户ID",
            Self::Mobile => "人员的手机号",
            Self::Email => "人员的电子邮箱",
        }
    }
}

/// One provider's settings. Secrets are stored SM4-sealed by the storage layer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProviderConfig {
    pub kind: ProviderKind,
    /// 发行方地址（OpenID Connect），如 https://sso.example.gov.cn/realms/zw
    #[serde(default)]
    pub issuer: String,
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub client_secret: String,
    /// 申请的范围，空格分隔（默认 openid profile）
    #[serde(default)]
    pub scopes: String,
    /// 钉钉开放平台地址（默认 https://oapi.dingtalk.com；专有钉钉填其地址）
    #[serde(default)]
    pub base_url: String,
    #[serde(default)]
    pub app_key: String,
    #[serde(default)]
    pub app_secret: String,
    /// 钉钉企业 CorpId（免登页面向钉钉客户端申请授权码时用）
    #[serde(default)]
    pub corp_id: String,
    /// 用户名声明（默认 OpenID Connect 为 preferred_username，钉钉为 userid）
    #[serde(default)]
    pub username_claim: String,
    /// 首次登录时，用户名声明与什么比对来找到账号（默认 OpenID Connect 比对账号用户名，钉钉比对人员的钉钉用户ID）
    #[serde(default)]
    pub match_by: Option<MatchBy>,
    /// 单位声明（可选）：给出时，须与账号所在单位的名称一致
    #[serde(default)]
    pub unit_claim: String,
}

/// What is wrong with a configuration, and in which field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    pub field: &'static str,
    pub message: String,
}

fn err(field: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError { field, message: message.into() }
}

/// An http(s) address; plain http only for this machine (a test or a local gateway).
fn check_url(field: &'static str, label: &str, v: &str) -> Result<(), ConfigError> {
    let v = v.trim();
    if v.is_empty() {
        return Err(err(field, format!("请填写{label}")));
    }
    let u = url::Url::parse(v).map_err(|_| err(field, format!("{label}不是有效的网址（应形如 https://…）")))?;
    let local = matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match u.scheme() {
        "https" => Ok(()),
        "http" if local => Ok(()),
        _ => Err(err(field, format!("{label}须以 https:// 开头（仅本机地址可用 http://）"))),
    }
}

/// A claim name: letters, digits and `_ . : -` (a dot reaches into an object), at most 64.
fn check_claim(field: &'static str, label: &str, v: &str) -> Result<(), ConfigError> {
    let ok = v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(err(field, format!("{label}只能含字母、数字和 _ . : -，最多 64 个字符")))
    }
}

impl ProviderConfig {
    pub fn new(kind: ProviderKind) -> ProviderConfig {
        ProviderConfig {
            kind,
            issuer: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            scopes: String::new(),
            base_url: String::new(),
            app_key: String::new(),
            app_secret: String::new(),
            corp_id: String::new(),
            username_claim: String::new(),
            match_by: None,
            unit_claim: String::new(),
        }
    }

    /// The claim that names the person, with the kind's default.
    pub fn username_claim(&self) -> &str {
        match (self.username_claim.trim(), self.kind) {
            ("", ProviderKind::Oidc) => "preferred_username",
            ("", ProviderKind::Dingtalk) => "userid",
            (c, _) => c,
        }
    }

    /// What the username claim is compared with, with the kind's default.
    pub fn match_by(&self) -> MatchBy {
        self.match_by.unwrap_or(match self.kind {
            ProviderKind::Oidc => MatchBy::Username,
            ProviderKind::Dingtalk => MatchBy::DingtalkUser,
        })
    }

    /// The scopes to ask for; `openid` always.
    pub fn scopes(&self) -> Vec<String> {
        let mut v: Vec<String> = self.scopes.split_whitespace().map(str::to_string).collect();
        if v.is_empty() {
            v.push("profile".into());
        }
        v.retain(|s| s != "openid");
        v
    }

    pub fn dingtalk_base(&self) -> String {
        let b = self.base_url.trim().trim_end_matches('/');
        if b.is_empty() { "https://oapi.dingtalk.com".into() } else { b.to_string() }
    }

    /// Every field this kind needs is there and well formed.
    pub fn check(&self) -> Result<(), ConfigError> {
        match self.kind {
            ProviderKind::Oidc => {
                check_url("issuer", "发行方地址", &self.issuer)?;
                if self.client_id.trim().is_empty() {
                    return Err(err("client_id", "请填写客户端标识（client_id）"));
                }
                if self.client_secret.trim().is_empty() {
                    return Err(err("client_secret", "请填写客户端密钥（client_secret）"));
                }
                if self.scopes.len() > 200 || !self.scopes.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
                    return Err(err("scopes", "范围应为空格分隔的英文名称，如 openid profile"));
                }
            }
            ProviderKind::Dingtalk => {
                if !self.base_url.trim().is_empty() {
                    check_url("base_url", "开放平台地址", &self.base_url)?;
                }
                if self.app_key.trim().is_empty() {
                    return Err(err("app_key", "请填写应用的 AppKey"));
                }
                if self.app_secret.trim().is_empty() {
                    return Err(err("app_secret", "请填写应用的 AppSecret"));
                }
            }
        }
        check_claim("username_claim", "用户名声明", &self.username_claim)?;
        check_claim("unit_claim", "单位声明", &self.unit_claim)?;
        Ok(())
    }

    /// The configuration with its secrets shown only by their last four characters.
    pub fn masked(&self) -> ProviderConfig {
        let mask = |s: &str| -> String {
            let n = s.chars().count();
            if n == 0 {
                String::new()
            } else {
                format!("****{}", s.chars().skip(n.saturating_sub(4)).collect::<String>())
            }
        };
        ProviderConfig { client_secret: mask(&self.client_secret), app_secret: mask(&self.app_secret), ..self.clone() }
    }

    /// This configuration with the secrets of `old` kept where the form left them empty or masked.
    pub fn keeping_secrets_of(mut self, old: &ProviderConfig) -> ProviderConfig {
        if old.kind == self.kind {
            for (new, was) in [(&mut self.client_secret, &old.client_secret), (&mut self.app_secret, &old.app_secret)] {
                if new.trim().is_empty() || new.starts_with("****") {
                    *new = was.clone();
                }
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oidc() -> ProviderConfig {
        ProviderConfig {
            issuer: "https://sso.example.gov.cn".into(),
            client_id: "xietong".into(),
            client_secret: "s3cret-value".into(),
            ..ProviderConfig::new(ProviderKind::Oidc)
        }
    }

    #[test]
    fn a_plain_http_issuer_is_refused_unless_local() {
        assert!(oidc().check().is_ok());
        let e = ProviderConfig { issuer: "http://sso.example.gov.cn".into(), ..oidc() }.check().unwrap_err();
        assert_eq!(e.field, "issuer");
        assert!(e.message.contains("https://"), "{e}");
        assert!(ProviderConfig { issuer: "http://127.0.0.1:4000".into(), ..oidc() }.check().is_ok());
        let e = ProviderConfig { issuer: "sso".into(), ..oidc() }.check().unwrap_err();
        assert!(e.message.contains("不是有效的网址"), "{e}");
    }

    #[test]
    fn missing_secrets_and_odd_claims_name_their_field() {
        let e = ProviderConfig { client_secret: " ".into(), ..oidc() }.check().unwrap_err();
        assert_eq!(e.field, "client_secret");
        let e = ProviderConfig { unit_claim: "单位".into(), ..oidc() }.check().unwrap_err();
        assert_eq!(e.field, "unit_claim");
        let d = ProviderConfig { app_key: "ding1".into(), ..ProviderConfig::new(ProviderKind::Dingtalk) };
        assert_eq!(d.check().unwrap_err().field, "app_secret");
    }

    #[test]
    fn masked_secrets_are_kept_on_save() {
        let m = oidc().masked();
        assert_eq!(m.client_secret, "****alue");
        assert_eq!(m.keeping_secrets_of(&oidc()).client_secret, "s3cret-value");
        let changed = ProviderConfig { client_secret: "new".into(), ..oidc() };
        assert_eq!(changed.keeping_secrets_of(&oidc()).client_secret, "new");
    }

    #[test]
    fn defaults_follow_the_kind() {
        assert_eq!(oidc().username_claim(), "preferred_username");
        assert_eq!(oidc().scopes(), vec!["profile".to_string()]);
        let d = ProviderConfig::new(ProviderKind::Dingtalk);
        assert_eq!((d.username_claim(), d.match_by()), ("userid", MatchBy::DingtalkUser));
        assert_eq!(oidc().match_by(), MatchBy::Username);
        assert_eq!(d.dingtalk_base(), "https://oapi.dingtalk.com");
    }
}
