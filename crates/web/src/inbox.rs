//! 消息中心: the inbox page (`/inbox`), opening a message (`/inbox/{id}`: marked read, then on to
//! its record), 全部标为已读, the JSON API (`/api/inbox…`), and the unread count every page's header
//! shows. The rules of who reads what are the storage layer's (`xietong_storage::inbox`).

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_storage::StoreError;
use xietong_storage::inbox::{InboxFilter, InboxPage, KINDS, Opened};

use crate::AppState;
use crate::api::{J, Q};
use crate::auth::{ApiUser, PageUser};
use crate::error::{ApiError, ErrorBody};
use crate::forms::RawQuery;
use crate::pages::{error_page, render};

tokio::task_local! {
    /// The signed-in account's unread count for the page being rendered (see [`unread_count`]).
    static UNREAD: Option<i64>;
}

/// The unread count of the page being rendered, if the request is a signed-in one.
pub fn current_unread() -> Option<i64> {
    UNREAD.try_with(|n| *n).ok().flatten()
}

/// A route layer on every page, inside the permission guard (which has resolved the session):
/// counts the account's unread messages once, for the header of whatever page is rendered.
pub async fn unread_count(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let n = match req.extensions().get::<crate::auth::Resolved>() {
        Some(crate::auth::Resolved(u, _)) => s.db.unread_count(u).await.ok(),
        None => None,
    };
    UNREAD.scope(n, next.run(req)).await
}

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_inbox)).routes(routes!(api_read)).routes(routes!(api_read_all))
}

pub fn page_router() -> crate::policy::Pages {
    use axum::routing::{get, post};
    crate::policy::Pages::new()
        .route("/inbox", get(inbox_page))
        .route("/inbox/read-all", post(read_all_submit))
        .route("/inbox/{id}", get(open_page))
}

/// 消息中心：发给本人、本单位或本角色的全部消息（交办、催办、预警、批示、审核结果、对接进展等），最新在前；
/// 可按类别、仅未读筛选，分页。`unread` 为本账号未读总数。
#[utoipa::path(get, path = "/api/inbox", params(InboxFilter), tag = "消息中心",
    responses((status = 200, body = InboxPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn api_inbox(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(f): Q<InboxFilter>,
) -> Result<Json<InboxPage>, ApiError> {
    Ok(Json(s.db.inbox(&u, &f).await?))
}

/// 标记一条消息为已读，并给出它所关于的记录的链接。重复标记不报错（`newly_read` 为 false）。
#[utoipa::path(post, path = "/api/inbox/{id}/read", tag = "消息中心", params(("id" = i64, Path, description = "消息编号")),
    responses((status = 200, body = Opened), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn api_read(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Opened>, ApiError> {
    Ok(Json(s.db.open_message(&u, id, s.clock.now()).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReadAll {
    /// 只标记这一类消息（可选）
    #[serde(default)]
    pub kind: Option<String>,
    /// 只标记编号不大于此值的消息（页面显示时最新的一条），之后到达的消息仍为未读（可选）
    #[serde(default)]
    pub up_to: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Marked {
    /// 本次标为已读的条数
    pub marked: u64,
    /// 剩余未读
    pub unread: i64,
}

/// 全部标为已读（可限一类、限编号上界）。
#[utoipa::path(post, path = "/api/inbox/read-all", tag = "消息中心", request_body = ReadAll,
    responses((status = 200, body = Marked), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn api_read_all(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(b): J<ReadAll>,
) -> Result<Json<Marked>, ApiError> {
    let marked = s.db.mark_all_read(&u, b.kind.as_deref(), b.up_to, s.clock.now()).await?;
    Ok(Json(Marked { marked, unread: s.db.unread_count(&u).await? }))
}

fn param<'a>(q: &'a [(String, String)], k: &str) -> Option<&'a str> {
    q.iter().find(|(kk, v)| kk == k && !v.is_empty()).map(|(_, v)| v.as_str())
}

/// A stored link is this site's own page, never somewhere else.
fn local(link: Option<String>) -> Option<String> {
    link.filter(|l| l.starts_with('/') && !l.starts_with("//") && !l.contains('\\'))
}

async fn inbox_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    axum::extract::Query(q): RawQuery,
) -> Response {
    let number = |k: &str| -> Result<Option<i64>, StoreError> {
        param(&q, k)
            .map(|v| v.trim().parse::<i64>().map_err(|_| StoreError::invalid(k, format!("「{v}」不是数字"))))
            .transpose()
    };
    let f = match number("page") {
        Ok(page) => InboxFilter {
            kind: param(&q, "kind").map(str::to_string),
            unread: param(&q, "unread").map(|v| v == "1" || v == "true"),
            page,
            page_size: None,
        },
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    let p = match s.db.inbox(&u, &f).await {
        Ok(p) => p,
        Err(e) => return error_page(&s, Some(&u), &e),
    };
    let pages = ((p.total + p.page_size - 1) / p.page_size).max(1);
    // The filters as a query string, for the paging links.
    let mut keep = vec![];
    if let Some(k) = &f.kind {
        keep.push(("kind", k.clone()));
    }
    if f.unread == Some(true) {
        keep.push(("unread", "1".to_string()));
    }
    let qs = serde_urlencoded::to_string(&keep).unwrap_or_default();
    let kinds: Vec<_> = KINDS.iter().map(|(c, l)| context! { code => c, label => l }).collect();
    let up_to = p.items.iter().map(|m| m.id).max();
    render(
        &s,
        StatusCode::OK,
        "inbox.html",
        Some(&u),
        context! { nav => "inbox", p => p, pages => pages, kinds => kinds, qs => qs, up_to => up_to,
        f => context! { kind => f.kind, unread => f.unread == Some(true) }, ok => param(&q, "ok") },
    )
}

/// Open a message: it is marked read for this account, then the browser goes on to its record
/// (or back to the inbox when it is about none).
async fn open_page(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>) -> Response {
    match s.db.open_message(&u, id, s.clock.now()).await {
        Ok(o) => Redirect::to(&local(o.link).unwrap_or_else(|| "/inbox".into())).into_response(),
        Err(e) => error_page(&s, Some(&u), &e),
    }
}

async fn read_all_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    axum::extract::Form(f): axum::extract::Form<Vec<(String, String)>>,
) -> Response {
    let up_to = match param(&f, "up_to").map(|v| v.trim().parse::<i64>()) {
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => return error_page(&s, Some(&u), &StoreError::invalid("up_to", "不是数字")),
        None => None,
    };
    let kind = param(&f, "kind");
    match s.db.mark_all_read(&u, kind, up_to, s.clock.now()).await {
        Ok(n) => {
            let mut q = vec![("ok", format!("已将 {n} 条消息标为已读"))];
            if let Some(k) = kind {
                q.push(("kind", k.to_string()));
            }
            Redirect::to(&format!("/inbox?{}", serde_urlencoded::to_string(&q).unwrap_or_default())).into_response()
        }
        Err(e) => error_page(&s, Some(&u), &e),
    }
}
