//! OpenID Connect: discovery, the authorization code flow with PKCE and a nonce, the ID token's
//! signature checked against the issuer's keys, and the userinfo endpoint's claims (where custom
//! claims such as a unit usually are).

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreProviderMetadata};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, TokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Finishing, Identity, Pending, Provider, ProviderConfig, ProviderKind, SignonError, Start};

/// Every claim the provider sends beyond the standard ones, whatever its name.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct AnyClaims {
    #[serde(flatten)]
    rest: Map<String, Value>,
}
impl AdditionalClaims for AnyClaims {}

type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

pub struct Oidc {
    metadata: CoreProviderMetadata,
    client_id: String,
    client_secret: String,
    scopes: Vec<String>,
    http: reqwest::Client,
}

/// An error with its causes, as one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push('：');
            s.push_str(&t);
        }
        cause = c.source();
    }
    s
}

impl Oidc {
    pub async fn discover(cfg: &ProviderConfig, http: reqwest::Client) -> Result<Oidc, SignonError> {
        let issuer = cfg.issuer.trim().to_string();
        let url = IssuerUrl::new(issuer.clone()).map_err(|_| SignonError::new("发行方地址不是有效的网址"))?;
        let metadata = CoreProviderMetadata::discover_async(url, &http).await.map_err(|e| {
            let well_known = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
            SignonError::new(format!("无法读取身份源的发现文档（{well_known}）：{}", chain(&e)))
        })?;
        Ok(Oidc {
            metadata,
            client_id: cfg.client_id.trim().to_string(),
            client_secret: cfg.client_secret.trim().to_string(),
            scopes: cfg.scopes(),
            http,
        })
    }

    fn client(&self, callback: &str) -> Result<Client, SignonError> {
        let redirect = RedirectUrl::new(callback.to_string())
            .map_err(|_| SignonError::new(format!("本系统的回调地址「{callback}」无效，请检查对外地址设置")))?;
        Ok(CoreClient::from_provider_metadata(
            self.metadata.clone(),
            ClientId::new(self.client_id.clone()),
            Some(ClientSecret::new(self.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }

    async fn identity(&self, code: &str, pending: &Pending, callback: &str) -> Result<Identity, SignonError> {
        let client = self.client(callback)?;
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| SignonError::new(format!("身份源的发现文档没有令牌地址：{e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r) => SignonError::new(format!(
                    "身份源拒绝了授权码：{}{}",
                    r.error(),
                    r.error_description().map(|d| format!("（{d}）")).unwrap_or_default()
                )),
                e => SignonError::new(format!("向身份源换取令牌失败：{}", chain(&e))),
            })?;
        let id_token =
            token.id_token().ok_or_else(|| SignonError::new("身份源没有返回 ID Token（范围须含 openid）"))?;
        let claims = id_token
            .claims(&client.id_token_verifier(), &Nonce::new(pending.nonce.clone()))
            .map_err(|e| SignonError::new(format!("ID Token 校验未通过：{}", chain(&e))))?;
        let subject = claims.subject().to_string();
        let mut all = match serde_json::to_value(claims) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        // Custom claims (a unit, a staff number) usually come from the userinfo endpoint.
        if let Ok(request) = client.user_info(token.access_token().clone(), Some(claims.subject().clone())) {
            let info: UserInfoClaims<AnyClaims, CoreGenderClaim> = request
                .request_async(&self.http)
                .await
                .map_err(|e| SignonError::new(format!("读取身份源的用户信息失败：{}", chain(&e))))?;
            if let Ok(Value::Object(m)) = serde_json::to_value(&info) {
                all.extend(m);
            }
        }
        Ok(Identity { subject, claims: all })
    }
}

impl Provider for Oidc {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Oidc
    }

    fn start(&self, callback: &str) -> Result<Option<Start>, SignonError> {
        let client = self.client(callback)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request =
            client.authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random);
        for s in &self.scopes {
            request = request.add_scope(Scope::new(s.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        let pending = Pending {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
        };
        Ok(Some(Start { url: url.to_string(), pending }))
    }

    fn finish<'a>(&'a self, code: &'a str, pending: Option<&'a Pending>, callback: &'a str) -> Finishing<'a> {
        Box::pin(async move {
            let pending = pending.ok_or_else(|| SignonError::new("登录已过期或不是从本系统发起，请重新登录"))?;
            self.identity(code, pending, callback).await
        })
    }
}
