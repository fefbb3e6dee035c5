//! Who is calling: a session cookie (browsers) or a bearer token (API clients), both resolved on
//! the server against the sessions table with idle and absolute expiry. Cookie-authenticated
//! state changes must carry the session's CSRF token (form field `_csrf` or header `X-CSRF-Token`);
//! the login form carries a pre-session token of its own (cookie and hidden field). Every
//! state-changing request without a bearer token must come from this site's own pages when the
//! browser says where it comes from (`Origin`, else `Referer`). The caller's address is the
//! connection's peer, or — behind a trusted proxy — the nearest untrusted `X-Forwarded-For` hop.

use std::net::IpAddr;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use xietong_storage::auth::SessionUser;

use crate::AppState;
use crate::error::ErrorBody;

pub const COOKIE: &str = "xt_session";

/// The pre-session token of the login form (double submit: this cookie and the form's `_csrf`).
pub const LOGIN_COOKIE: &str = "xt_login";

/// A cookie's value, if sent and not empty.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|c| c.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

/// The raw session token from `Authorization: Bearer` or the cookie, and which it was.
pub fn token_of(parts: &Parts) -> Option<(String, bool)> {
    if let Some(v) = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some(t) = v.strip_prefix("Bearer ")
    {
        return Some((t.trim().to_string(), true));
    }
    cookie(&parts.headers, COOKIE).map(|t| (t, false))
}

pub(crate) async fn resolve(
    parts: &Parts,
    state: &AppState,
) -> Result<Option<(SessionUser, String)>, xietong_storage::StoreError> {
    let Some((token, _)) = token_of(parts) else { return Ok(None) };
    if token.len() > 128 {
        return Ok(None);
    }
    Ok(state.db.session(&token, state.clock.now(), state.policy).await?.map(|u| (u, token)))
}

/// A session already resolved for this request (by the permission guard), so the handler's
/// extractor does not look it up a second time.
#[derive(Clone)]
pub(crate) struct Resolved(pub SessionUser, pub String);

/// The session the permission guard resolved for this request (taken, not copied), or a lookup
/// where no guard ran.
async fn session_of(
    parts: &mut Parts,
    state: &AppState,
) -> Result<Option<(SessionUser, String)>, xietong_storage::StoreError> {
    match parts.extensions.remove::<Resolved>() {
        Some(Resolved(u, t)) => Ok(Some((u, t))),
        None => resolve(parts, state).await,
    }
}

/// Routes an account with an initial password may still use: changing it, and signing out.
const WHILE_MUST_CHANGE: [&str; 5] = ["/api/password", "/api/session", "/password", "/logout", "/api/me"];

/// The signed-in user for API routes; 401 with a Chinese message otherwise.
pub struct ApiUser(pub SessionUser, pub String);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match session_of(parts, state).await {
            Ok(Some((u, _))) if u.must_change_password && !WHILE_MUST_CHANGE.contains(&parts.uri.path()) => Err((
                StatusCode::FORBIDDEN,
                axum::Json(ErrorBody {
                    error: "须先修改初始密码（PUT /api/password）".into(),
                    field: None,
                    fields: vec![],
                }),
            )
                .into_response()),
            Ok(Some((u, t))) => Ok(ApiUser(u, t)),
            Ok(None) => Err((
                StatusCode::UNAUTHORIZED,
                axum::Json(ErrorBody {
                    error: "未登录或会话已过期，请重新登录".into(), field: None, fields: vec![]
                }),
            )
                .into_response()),
            Err(e) => Err(crate::error::ApiError(e).into_response()),
        }
    }
}

/// The signed-in user for pages; a redirect to the login page otherwise.
pub struct PageUser(pub SessionUser, pub String);

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match session_of(parts, state).await {
            Ok(Some((u, _))) if u.must_change_password && !WHILE_MUST_CHANGE.contains(&parts.uri.path()) => {
                Err(Redirect::to("/password").into_response())
            }
            Ok(Some((u, t))) => Ok(PageUser(u, t)),
            Ok(None) => {
                let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                let next: String = url_escape(next);
                Err(Redirect::to(&format!("/login?next={next}")).into_response())
            }
            Err(e) => Err(crate::pages::error_page(state, None, &e)),
        }
    }
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The caller's network address, for the login limits and the 登录日志: the connection's peer,
/// or, when the peer is a trusted proxy, the address the proxies say they were reached from.
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
        Ok(ClientAddr(match peer {
            Some(peer) => client_ip(peer, &parts.headers, &state.trusted_proxies).to_string(),
            None => String::new(),
        }))
    }
}

/// The client behind `peer`: each proxy appends the address it was reached from to
/// `X-Forwarded-For`, so walking the list from the right, past the trusted proxies, the first
/// address that is not one of them is the client — anything left of it may be made up. A peer
/// that is not trusted is the client itself, whatever the header says.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(&canonical(*ip)));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut nearest = peer;
    for hop in hops.iter().rev() {
        // A hop that is not an address was written by whoever the last trusted proxy heard from.
        let Ok(ip) = hop.parse::<IpAddr>() else { return nearest };
        if !is_trusted(&ip) {
            return ip;
        }
        nearest = ip;
    }
    nearest
}

/// An IPv4 address mapped into IPv6 (a dual-stack listener's peers) as plain IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// Parse the trusted-proxy list: addresses or CIDR blocks, separated by commas or spaces.
pub fn parse_trusted_proxies(s: &str) -> Result<Vec<ipnet::IpNet>, String> {
    s.split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| {
            x.parse::<ipnet::IpNet>()
                .or_else(|_| x.parse::<IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| format!("「{x}」不是 IP 地址或 CIDR 网段（如 10.0.0.0/8）"))
        })
        .collect()
}

/// Whether one more login attempt from `addr` is allowed now.
pub fn login_allowed(state: &AppState, addr: &str) -> bool {
    state.login_limit().limiter.check_key(&addr.to_string()).is_ok()
}

pub const TOO_MANY_LOGINS: &str = "登录尝试过于频繁，请一分钟后再试";

pub fn session_cookie(token: &str, secure: bool, max_age_secs: i64) -> String {
    format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The login form's token: the one the browser already holds (so two open login tabs both
/// work), else a new one; and the cookie to set for a new one.
pub fn login_token(headers: &HeaderMap, secure: bool) -> (String, Option<String>) {
    match cookie(headers, LOGIN_COOKIE).filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())) {
        Some(t) => (t, None),
        None => {
            let t = random_hex();
            // Only the login form's own POST needs it back.
            let c = format!(
                "{LOGIN_COOKIE}={t}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=43200{}",
                if secure { "; Secure" } else { "" }
            );
            (t, Some(c))
        }
    }
}

/// 32 random bytes as hex: a token a browser holds before it has a session.
pub fn random_hex() -> String {
    let mut b = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut b);
    hex::encode(b)
}

/// Does the login form's `_csrf` match the token cookie it was served with?
pub fn login_token_ok(headers: &HeaderMap, submitted: Option<&str>) -> bool {
    match (cookie(headers, LOGIN_COOKIE), submitted) {
        (Some(c), Some(f)) => !c.is_empty() && constant_time_eq(c.as_bytes(), f.as_bytes()),
        _ => false,
    }
}

/// Two tokens compared in constant time.
pub fn login_token_matches(a: &str, b: &str) -> bool {
    !a.is_empty() && constant_time_eq(a.as_bytes(), b.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Where the request says it comes from — `Origin`, else the origin of `Referer` — compared with
/// this site: the configured public origin, else the scheme the browser used and the `Host` it
/// asked for. `None` when the browser said nothing (the CSRF token still has to match).
pub fn from_this_site(headers: &HeaderMap, uri: &axum::http::Uri, public_origin: Option<&str>) -> Option<bool> {
    let claimed = match headers.get(header::ORIGIN) {
        Some(o) => o.to_str().unwrap_or("null").trim().to_string(),
        None => headers.get(header::REFERER)?.to_str().unwrap_or("null").trim().to_string(),
    };
    // "null" (a sandboxed frame, a file, some redirects) is nobody's origin.
    let Ok(claimed) = url::Url::parse(&claimed) else { return Some(false) };
    let claimed = claimed.origin();
    if !claimed.is_tuple() {
        return Some(false);
    }
    if let Some(p) = public_origin {
        return Some(url::Url::parse(p).is_ok_and(|p| p.origin() == claimed));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| uri.authority().map(|a| a.to_string()));
    let Some(host) = host else { return Some(false) };
    let scheme = claimed.ascii_serialization();
    let scheme = scheme.split("://").next().unwrap_or("http");
    Some(url::Url::parse(&format!("{scheme}://{host}")).is_ok_and(|ours| ours.origin() == claimed))
}

/// A configured public origin in its normal form (`https://host[:port]`, no path).
pub fn parse_public_origin(s: &str) -> Result<String, String> {
    let u =
        url::Url::parse(s.trim()).map_err(|_| format!("「{s}」不是有效的地址，应形如 https://xt.example.gov.cn"))?;
    let o = u.origin();
    if !o.is_tuple() || !matches!(u.scheme(), "http" | "https") {
        return Err(format!("「{s}」应以 https:// 或 http:// 开头"));
    }
    Ok(o.ascii_serialization())
}

pub const FOREIGN_ORIGIN: &str = "请求来源与本站不一致，已拒绝（请从本系统页面提交）";

fn csrf_refused() -> Response {
    (
        StatusCode::FORBIDDEN,
        axum::Json(ErrorBody {
            error: "CSRF 校验失败，请刷新页面后重试".into(), field: None, fields: vec![]
        }),
    )
        .into_response()
}

/// Refuse state changes from other sites (by `Origin`/`Referer`) unless a bearer token is sent,
/// and cookie-authenticated state changes that lack the session's CSRF token.
pub async fn csrf_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let session = token_of(&parts);
    // A bearer token is never sent by a browser on its own, so it cannot be forged cross-site.
    if !matches!(session, Some((_, true)))
        && from_this_site(&parts.headers, &parts.uri, state.public_origin.as_deref()) == Some(false)
    {
        return crate::error::error_response(&state, parts.uri.path(), StatusCode::FORBIDDEN, FOREIGN_ORIGIN);
    }
    // The login form checks its own pre-session token (a browser may still hold an old session).
    if parts.uri.path() == "/login" {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let (token, bearer) = match session {
        Some(t) => t,
        // No session: the handler answers 401 or shows the login page.
        None => return next.run(Request::from_parts(parts, body)).await,
    };
    if bearer {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let expected = match state.db.session(&token, state.clock.now(), state.policy).await {
        Ok(Some(u)) => u.csrf,
        _ => return next.run(Request::from_parts(parts, body)).await,
    };
    if let Some(h) = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        return if h == expected { next.run(Request::from_parts(parts, body)).await } else { csrf_refused() };
    }
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type.starts_with("multipart/form-data") {
        // File uploads from pages carry the token in the form's action URL: the body is a file
        // that should not be buffered and parsed twice.
        let q = parts.uri.query().unwrap_or("");
        let ok = serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .map(|kv| kv.iter().any(|(k, v)| k == "_csrf" && *v == expected))
            .unwrap_or(false);
        return if ok { next.run(Request::from_parts(parts, body)).await } else { csrf_refused() };
    }
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    if !is_form {
        return csrf_refused();
    }
    let bytes = match axum::body::to_bytes(body, crate::error::BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            return crate::error::error_response(
                &state,
                parts.uri.path(),
                StatusCode::PAYLOAD_TOO_LARGE,
                &crate::error::too_large_message(crate::error::BODY_LIMIT),
            );
        }
    };
    let ok = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .map(|kv| kv.iter().any(|(k, v)| k == "_csrf" && *v == expected))
        .unwrap_or(false);
    if !ok {
        return csrf_refused();
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}
