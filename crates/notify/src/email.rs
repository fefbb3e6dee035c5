//! E-mail over SMTP (lettre): the server and its credentials as an `smtp://` or `smtps://` URL,
//! the password kept apart as the channel's secret; the idempotency key is the `Message-ID`.

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::{Channel, ChannelConfig, ChannelKind, ConfigError, Failure, Outgoing, Receipt, Sending};

pub struct Smtp {
    sender: Mailbox,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl Smtp {
    pub fn new(cfg: ChannelConfig) -> Result<Smtp, ConfigError> {
        let bad = |e: &dyn std::fmt::Display| ConfigError::new("url", format!("邮件服务器地址无效：{e}"));
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::from_url(cfg.url.trim()).map_err(|e| bad(&e))?;
        let url = reqwest::Url::parse(cfg.url.trim()).map_err(|e| bad(&e))?;
        if !cfg.secret.trim().is_empty() {
            b = b.credentials(Credentials::new(url.username().to_string(), cfg.secret.trim().to_string()));
        }
        let sender = cfg
            .sender
            .trim()
            .parse::<Mailbox>()
            .map_err(|_| ConfigError::new("sender", "发件人应为邮箱地址，如 督查局 <duban@example.gov.cn>"))?;
        Ok(Smtp { sender, transport: b.timeout(Some(std::time::Duration::from_secs(10))).build() })
    }
}

/// The message as mailed: subject 【kind】text, the text and the link in the body.
pub fn message(sender: &Mailbox, to: &str, m: &Outgoing) -> Result<Message, Failure> {
    let to: Mailbox = to.parse().map_err(|_| Failure::config(format!("收件人邮箱「{to}」无效")))?;
    let mut body = m.text.clone();
    if let Some(link) = &m.link {
        body.push_str(&format!("\n\n查看详情：{link}"));
    }
    body.push_str("\n\n—— 协同平台自动发送，请勿直接回复");
    Message::builder()
        .from(sender.clone())
        .to(to)
        .subject(crate::cut(&format!("【{}】{}", m.title, m.text.lines().next().unwrap_or("")), 60))
        .message_id(Some(format!("<{}@xietong>", m.idem_key)))
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| Failure::config(format!("邮件无法组成：{e}")))
}

impl Channel for Smtp {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }

    fn send<'a>(&'a self, m: &'a Outgoing) -> Sending<'a> {
        Box::pin(async move {
            let to = crate::address(m.email.as_deref(), "收件人没有电子邮箱")?;
            let mail = message(&self.sender, to, m)?;
            match self.transport.send(mail).await {
                Ok(r) => Ok(Receipt { answer: format!("{} {}", r.code(), r.message().collect::<Vec<_>>().join(" ")) }),
                Err(e) if e.is_permanent() => Err(Failure::config(format!("邮件服务器拒收：{e}"))),
                Err(e) => Err(Failure::retry(format!("邮件发送失败：{e}"))),
            }
        })
    }
}
