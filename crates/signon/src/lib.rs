//! 统一身份认证: who someone is, as an identity provider says — OpenID Connect (authorization code
//! with PKCE, the ID token's signature and nonce checked) or 钉钉 / 政务钉钉 免登 (a temporary
//! authCode exchanged for the user id). Both sit behind one [`Provider`] trait; each answers with
//! an [`Identity`]: a stable subject and the claims. Finding the account is the storage layer's:
//! nothing here creates accounts or grants anything.

pub mod claims;
pub mod config;
mod dingtalk;
mod oidc;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use config::{ConfigError, MatchBy, ProviderConfig, ProviderKind};

/// What a provider says about the person signing in.
#[derive(Clone, Debug, PartialEq)]
pub struct Identity {
    /// The provider's stable identifier of the person (OIDC `sub`, 钉钉 `userid`).
    pub subject: String,
    pub claims: Map<String, Value>,
}

/// What must be kept between sending the browser to the provider and its return.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// The `state` parameter: binds the return to this browser's start.
    pub state: String,
    pub nonce: String,
    /// The PKCE code verifier.
    pub verifier: String,
}

/// Where to send the browser, and what to keep.
#[derive(Clone, Debug)]
pub struct Start {
    pub url: String,
    pub pending: Pending,
}

/// Why signing in through a provider failed, in Chinese, with the provider's own words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SignonError {
    pub message: String,
}

impl SignonError {
    pub fn new(message: impl Into<String>) -> SignonError {
        SignonError { message: message.into() }
    }
}

pub type Finishing<'a> = Pin<Box<dyn Future<Output = Result<Identity, SignonError>> + Send + 'a>>;

/// One identity provider, ready to use.
pub trait Provider: Send + Sync {
    fn kind(&self) -> ProviderKind;
    /// Where to send the browser (`callback` is this server's return address), or `None` for a
    /// flow that starts inside an app (钉钉 免登: the 钉钉 client hands the page an authCode).
    fn start(&self, callback: &str) -> Result<Option<Start>, SignonError>;
    /// The identity behind `code` (an authorization code, or 钉钉's authCode), checked against
    /// what was kept at the start.
    fn finish<'a>(&'a self, code: &'a str, pending: Option<&'a Pending>, callback: &'a str) -> Finishing<'a>;
}

/// The HTTP client for providers: short timeouts, and no redirects followed (a provider's
/// endpoints answer directly; following redirects would let a configuration reach elsewhere).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("xietong-signon")
        .build()
        .unwrap_or_default()
}

/// The provider for a configuration: checked, and for OpenID Connect discovered (the issuer's
/// metadata and signing keys fetched), so a wrong issuer shows here rather than at sign-in.
pub async fn connect(cfg: &ProviderConfig, http: &reqwest::Client) -> Result<Box<dyn Provider>, SignonError> {
    cfg.check().map_err(|e| SignonError::new(e.message))?;
    Ok(match cfg.kind {
        ProviderKind::Oidc => Box::new(oidc::Oidc::discover(cfg, http.clone()).await?),
        ProviderKind::Dingtalk => Box::new(dingtalk::Dingtalk::new(cfg, http.clone())),
    })
}
