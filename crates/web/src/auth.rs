//! Who is calling: a session cookie (browsers) or a bearer token (API clients), both resolved on
//! the server against the sessions table with idle and absolute expiry. Cookie-authenticated
//! state changes must carry the session's CSRF token (form field `_csrf` or header `X-CSRF-Token`).

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{Method, StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use xietong_storage::auth::SessionUser;

use crate::AppState;
use crate::error::ErrorBody;

pub const COOKIE: &str = "xt_session";

/// The raw session token from `Authorization: Bearer` or the cookie, and which it was.
pub fn token_of(parts: &Parts) -> Option<(String, bool)> {
    if let Some(v) = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some(t) = v.strip_prefix("Bearer ")
    {
        return Some((t.trim().to_string(), true));
    }
    let cookies = parts.headers.get_all(header::COOKIE);
    for c in cookies.iter().filter_map(|v| v.to_str().ok()) {
        for kv in c.split(';') {
            if let Some((k, v)) = kv.trim().split_once('=')
                && k == COOKIE
                && !v.is_empty()
            {
                return Some((v.to_string(), false));
            }
        }
    }
    None
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
                axum::Json(ErrorBody { error: "须先修改初始密码（PUT /api/password）".into(), field: None }),
            )
                .into_response()),
            Ok(Some((u, t))) => Ok(ApiUser(u, t)),
            Ok(None) => Err((
                StatusCode::UNAUTHORIZED,
                axum::Json(ErrorBody { error: "未登录或会话已过期，请重新登录".into(), field: None }),
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

/// The caller's network address (the peer of the connection), for the login limit and log.
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let addr = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_default();
        Ok(ClientAddr(addr))
    }
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

fn csrf_refused() -> Response {
    (StatusCode::FORBIDDEN, axum::Json(ErrorBody { error: "CSRF 校验失败，请刷新页面后重试".into(), field: None }))
        .into_response()
}

/// Refuse cookie-authenticated state changes that lack the session's CSRF token.
pub async fn csrf_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let (token, bearer) = match token_of(&parts) {
        Some(t) => t,
        // No session: the handler answers 401 or shows the login page.
        None => return next.run(Request::from_parts(parts, body)).await,
    };
    if bearer {
        // A bearer token is never sent by a browser on its own, so it cannot be forged cross-site.
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
    let bytes = match axum::body::to_bytes(body, 4 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "请求过大").into_response(),
    };
    let ok = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .map(|kv| kv.iter().any(|(k, v)| k == "_csrf" && *v == expected))
        .unwrap_or(false);
    if !ok {
        return csrf_refused();
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}
