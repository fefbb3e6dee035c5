//! 日历订阅: each person's private iCalendar feed of their tasks' and sub-tasks' deadlines
//! (`/feeds/<token>.ics`, no session: calendars fetch it on their own), made, replaced and revoked
//! from 我的消息设置 (`/notify/me`) or the API. Which deadlines are theirs is the storage layer's
//! rule (`xietong_storage::calendar_feeds`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use icalendar::{Alarm, Calendar, Component, EventLike};
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_storage::StoreError;
use xietong_storage::calendar_feeds::{FeedEvent, FeedStatus, NewFeed};

use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorBody};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_status, api_create, api_revoke))
}

pub fn page_router() -> crate::policy::Pages {
    crate::policy::Pages::new().route("/feeds/{file}", axum::routing::get(feed))
}

/// The feed's full address: the public origin when configured, else the path alone.
pub fn feed_url(s: &AppState, f: &NewFeed) -> String {
    match &s.public_origin {
        Some(o) => format!("{}{}", o.trim_end_matches('/'), f.path),
        None => f.path.clone(),
    }
}

/// 本人日历订阅的状态（是否已开通、开通时间、日历最后一次读取时间）。
#[utoipa::path(get, path = "/api/calendar-feed", tag = "消息推送",
    responses((status = 200, body = FeedStatus), (status = 401, body = ErrorBody)))]
async fn api_status(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<FeedStatus>, ApiError> {
    Ok(Json(s.db.calendar_feed_status(&u).await?))
}

/// 开通或更换本人的日历订阅地址（iCalendar，钉钉、Outlook、手机日历可订阅）；旧地址立即失效。地址只显示这一次。
#[utoipa::path(post, path = "/api/calendar-feed", tag = "消息推送",
    responses((status = 201, body = NewFeed), (status = 401, body = ErrorBody)))]
async fn api_create(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
) -> Result<(StatusCode, Json<NewFeed>), ApiError> {
    let mut f = s.db.create_calendar_feed(&u, s.clock.now()).await?;
    f.path = feed_url(&s, &f);
    Ok((StatusCode::CREATED, Json(f)))
}

/// 撤销本人的日历订阅地址（之后日历读取返回 404）。
#[utoipa::path(delete, path = "/api/calendar-feed", tag = "消息推送",
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn api_revoke(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<StatusCode, ApiError> {
    if s.db.revoke_calendar_feed(&u, s.clock.now()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(StoreError::NotFound("尚未开通日历订阅".into()).into())
    }
}

/// The calendar: one all-day event per deadline, reminded the day before at 09:00.
pub fn ics(events: &[FeedEvent], origin: Option<&str>) -> String {
    let mut cal = Calendar::new();
    cal.name("协同·督办期限").description("协同平台：本人任务与子任务的办理期限");
    for e in events {
        let link = match origin {
            Some(o) => format!("{}{}", o.trim_end_matches('/'), e.link),
            None => e.link.clone(),
        };
        let mut ev = icalendar::Event::new();
        ev.uid(&e.uid)
            .summary(&e.summary)
            .description(&format!("{}\n{link}", e.description))
            .all_day(e.due)
            .alarm(Alarm::display(&e.summary, -chrono::Duration::hours(15)));
        if link.starts_with("http") {
            ev.url(&link);
        }
        cal.push(ev.done());
    }
    cal.done().to_string()
}

async fn feed(State(s): State<AppState>, Path(file): Path<String>) -> Response {
    let token = file.strip_suffix(".ics").unwrap_or(&file);
    match s.db.calendar_feed(token, s.clock.now()).await {
        Ok((_, events)) => {
            let body = ics(&events, s.public_origin.as_deref());
            let mut r = body.into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/calendar; charset=utf-8"));
            // A private URL: no shared cache keeps it.
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
            r
        }
        Err(StoreError::NotFound(m)) => (StatusCode::NOT_FOUND, m).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "calendar feed failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "服务器内部错误").into_response()
        }
    }
}
