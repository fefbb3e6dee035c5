//! 消息推送: the channels a notification leaves the product by (钉钉/企业微信 group robots, 钉钉
//! 工作通知/待办, SMS), people's addresses and preferences, the 测试发送 button and the delivery log
//! — the 系统管理员's page `/notify` and its JSON API. The outbox itself is the storage layer's;
//! the worker that empties it is [`deliver`].

pub mod deliver;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_notify::{AddressKind, ChannelConfig, ChannelKind, Outgoing};
use xietong_storage::StoreError;
use xietong_storage::outbox::{AddressRow, ChannelInput, Deliveries, NotifyChannel, Pref};

use crate::AppState;
use crate::api::{Created, J, Q};
use crate::auth::{ApiUser, PageUser};
use crate::error::{ApiError, ErrorBody, status_of};
use crate::forms::{Fields, RawQuery};
use crate::pages::{error_page, render};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_channels, api_create_channel))
        .routes(routes!(api_update_channel))
        .routes(routes!(api_test_channel))
        .routes(routes!(api_set_address))
        .routes(routes!(api_addresses))
        .routes(routes!(api_prefs, api_set_pref))
        .routes(routes!(api_deliveries))
        .routes(routes!(api_retry))
}

pub fn page_router() -> crate::policy::Pages {
    use axum::routing::{get, post};
    crate::policy::Pages::new()
        .route("/notify", get(notify_page))
        .route("/notify/channels", post(create_submit))
        .route("/notify/channels/{id}", post(update_submit))
        .route("/notify/channels/{id}/test", post(test_submit))
        .route("/notify/outbox/{id}/retry", post(retry_submit))
        .route("/notify/addresses", post(address_submit))
        .route("/notify/me", get(me_page))
        .route("/notify/me/prefs/{channel_id}", post(pref_submit))
        .route("/notify/me/feed", post(feed_submit))
        .route("/notify/me/feed/revoke", post(feed_revoke_submit))
}

/// 消息推送通道列表（系统管理员；密钥只显示末 4 位）。
#[utoipa::path(get, path = "/api/notify/channels", tag = "消息推送",
    responses((status = 200, body = Vec<NotifyChannel>), (status = 403, body = ErrorBody)))]
async fn api_channels(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<Vec<NotifyChannel>>, ApiError> {
    Ok(Json(s.db.notify_channels(&u).await?))
}

/// 新增通道：钉钉/企业微信群机器人（按单位进群）、钉钉工作通知/待办、短信网关。配置不全或格式不对时返回 400 并指明字段。
#[utoipa::path(post, path = "/api/notify/channels", tag = "消息推送", request_body = ChannelInput,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn api_create_channel(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    J(b): J<ChannelInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = s.db.create_notify_channel(&u, &b, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// 修改通道（须带读取时的 `version`，他人先改则 409）；密钥留空或保持「****」即不变。
#[utoipa::path(put, path = "/api/notify/channels/{id}", tag = "消息推送", request_body = ChannelInput,
    params(("id" = i64, Path, description = "通道编号")),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn api_update_channel(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    J(b): J<ChannelInput>,
) -> Result<StatusCode, ApiError> {
    s.db.update_notify_channel(&u, id, &b, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TestSend {
    /// 测试内容（默认「协同平台测试消息」）
    #[serde(default)]
    pub text: Option<String>,
    /// 短信或群内@的手机号（短信通道必填）
    #[serde(default)]
    pub mobile: Option<String>,
    /// 钉钉用户ID（工作通知必填）
    #[serde(default)]
    pub user_id: Option<String>,
    /// 收件邮箱（电子邮件必填）
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TestResult {
    pub ok: bool,
    /// 接收方的应答，或失败原因（中文，含接收方原话）
    pub answer: String,
}

/// 测试发送：经与发件箱相同的适配器发一条测试消息，返回接收方应答或失败原因（记入投递日志）。
#[utoipa::path(post, path = "/api/notify/channels/{id}/test", tag = "消息推送", request_body = TestSend,
    params(("id" = i64, Path, description = "通道编号")),
    responses((status = 200, body = TestResult), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn api_test_channel(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    J(b): J<TestSend>,
) -> Result<Json<TestResult>, ApiError> {
    Ok(Json(test(&s, &u, id, &b).await?))
}

async fn test(
    s: &AppState,
    u: &xietong_storage::auth::SessionUser,
    id: i64,
    b: &TestSend,
) -> Result<TestResult, StoreError> {
    u.actor().may_administer()?;
    let c = s.db.notify_channel_for_sending(id).await?;
    let text =
        b.text.as_deref().map(str::trim).filter(|t| !t.is_empty()).unwrap_or("协同平台测试消息，收到即表示通道可用。");
    if text.chars().count() > 500 {
        return Err(StoreError::invalid("text", "测试内容最多 500 字"));
    }
    let mobile = b.mobile.as_deref().map(str::trim).filter(|m| !m.is_empty());
    if c.kind == ChannelKind::Sms && mobile.is_none() {
        return Err(StoreError::invalid("mobile", "短信测试须填写接收手机号"));
    }
    let user_id = b.user_id.as_deref().map(str::trim).filter(|m| !m.is_empty());
    if c.kind == ChannelKind::DingtalkWork && user_id.is_none() {
        return Err(StoreError::invalid("user_id", "工作通知测试须填写接收人的钉钉用户ID"));
    }
    let email = b.email.as_deref().map(str::trim).filter(|m| !m.is_empty());
    if c.kind == ChannelKind::Email && email.is_none() {
        return Err(StoreError::invalid("email", "邮件测试须填写收件邮箱"));
    }
    let now = s.clock.now();
    let m = Outgoing {
        email: email.map(str::to_string),
        idem_key: format!("xt-test-{}-{}", id, now.and_utc().timestamp()),
        title: "测试".into(),
        text: text.to_string(),
        mobiles: mobile.map(|m| vec![m.to_string()]).unwrap_or_default(),
        user_id: user_id.map(str::to_string),
        ..Outgoing::default()
    };
    let (ok, answer) = match deliver::test_send(&c, &s.notify_http, m).await {
        Ok(a) => (true, a),
        Err(StoreError::BadInput(why)) => (false, why),
        Err(e) => return Err(e),
    };
    s.db.log_test_send(u, id, ok, &answer, now).await?;
    Ok(TestResult { ok, answer })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AddressInput {
    /// mobile 手机号 / dingtalk_user 钉钉用户ID
    pub kind: AddressKind,
    /// 为空即删除
    #[serde(default)]
    pub value: String,
}

/// 设置人员的推送地址（系统管理员；加密存储）。
#[utoipa::path(put, path = "/api/notify/addresses/{person_id}", tag = "消息推送", request_body = AddressInput,
    params(("person_id" = i64, Path, description = "人员编号")),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn api_set_address(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(person_id): Path<i64>,
    J(b): J<AddressInput>,
) -> Result<StatusCode, ApiError> {
    s.db.set_notify_address(&u, person_id, b.kind, &b.value, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 各人员的推送地址（系统管理员；只显示部分，如 138****0001）。
#[utoipa::path(get, path = "/api/notify/addresses", tag = "消息推送",
    responses((status = 200, body = Vec<AddressRow>), (status = 403, body = ErrorBody)))]
async fn api_addresses(State(s): State<AppState>, ApiUser(u, _): ApiUser) -> Result<Json<Vec<AddressRow>>, ApiError> {
    Ok(Json(s.db.notify_addresses(&u).await?))
}

/// 某人在各个人通道上的接收设置（本人或系统管理员）。
#[utoipa::path(get, path = "/api/notify/prefs/{person_id}", tag = "消息推送",
    params(("person_id" = i64, Path, description = "人员编号")),
    responses((status = 200, body = Vec<Pref>), (status = 403, body = ErrorBody)))]
async fn api_prefs(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(person_id): Path<i64>,
) -> Result<Json<Vec<Pref>>, ApiError> {
    Ok(Json(s.db.notify_prefs(&u, person_id).await?))
}

/// 设置某人在一个通道上的接收方式（每条推送 / 每日汇总 / 不接收）与接收的消息类别（本人或系统管理员）。
#[utoipa::path(put, path = "/api/notify/prefs/{person_id}", tag = "消息推送", request_body = Pref,
    params(("person_id" = i64, Path, description = "人员编号")),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn api_set_pref(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(person_id): Path<i64>,
    J(b): J<Pref>,
) -> Result<StatusCode, ApiError> {
    s.db.set_notify_pref(&u, person_id, &b, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct DayQuery {
    /// 统计日期 YYYY-MM-DD（默认今天）
    pub day: Option<String>,
}

fn day_of(s: &AppState, d: Option<&str>) -> Result<chrono::NaiveDate, StoreError> {
    match d.map(str::trim).filter(|d| !d.is_empty()) {
        None => Ok(s.clock.now().date()),
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            StoreError::invalid("day", format!("日期应为 YYYY-MM-DD（当前「{}」）", xietong_notify::cut(d, 20)))
        }),
    }
}

/// 投递日志：最近的发送尝试（成功、失败及原因）、待重试与已放弃的消息、当日每人每通道条数。
#[utoipa::path(get, path = "/api/notify/deliveries", tag = "消息推送", params(DayQuery),
    responses((status = 200, body = Deliveries), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn api_deliveries(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Q(q): Q<DayQuery>,
) -> Result<Json<Deliveries>, ApiError> {
    let day = day_of(&s, q.day.as_deref())?;
    Ok(Json(s.db.deliveries(&u, day).await?))
}

/// 重发一条已放弃的消息（系统管理员；汇总消息整组重发，幂等键不变）。
#[utoipa::path(post, path = "/api/notify/outbox/{id}/retry", tag = "消息推送",
    params(("id" = i64, Path, description = "发件箱消息编号")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn api_retry(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    s.db.retry_dead(&u, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The form's fields as a channel (the kind's unused fields stay empty).
fn input_of(f: &Fields) -> Result<ChannelInput, StoreError> {
    let kind = ChannelKind::from_code(&f.s("kind")).ok_or_else(|| StoreError::invalid("kind", "请选择通道类型"))?;
    let config = ChannelConfig {
        url: f.s("url"),
        secret: f.s("secret"),
        keyword: f.s("keyword"),
        app_key: f.s("app_key"),
        app_secret: f.s("app_secret"),
        agent_id: f.s("agent_id"),
        base_url: f.s("base_url"),
        template_id: f.s("template_id"),
        sign_name: f.s("sign_name"),
        sender: f.s("sender"),
        ..ChannelConfig::new(kind)
    };
    Ok(ChannelInput {
        name: f.s("name"),
        config,
        unit_id: f.id("unit_id", "单位")?,
        per_minute: f.id("per_minute", "每分钟最多条数")?,
        daily_cap: f.id("daily_cap", "每人每天最多条数")?,
        office_hours_only: f.s("office_hours_only") == "1",
        enabled: f.s("enabled") != "0",
        version: f.id("version", "版本号")?,
    })
}

async fn notify_page(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    axum::extract::Query(q): RawQuery,
) -> Response {
    let param = |k: &str| q.iter().find(|(kk, v)| kk == k && !v.is_empty()).map(|(_, v)| v.clone());
    page(&s, &u, StatusCode::OK, param("day").as_deref(), param("ok"), None, None).await
}

async fn page(
    s: &AppState,
    u: &xietong_storage::auth::SessionUser,
    status: StatusCode,
    day: Option<&str>,
    ok: Option<String>,
    error: Option<(Option<i64>, String)>,
    kept: Option<&Fields>,
) -> Response {
    let r = async {
        let day = day_of(s, day)?;
        let channels = s.db.notify_channels(u).await?;
        let d = s.db.deliveries(u, day).await?;
        let units = s.db.list_units().await?;
        let addresses = s.db.notify_addresses(u).await?;
        let people = s.db.list_people(None).await?;
        Ok::<_, StoreError>((day, channels, d, units, addresses, people))
    }
    .await;
    let (day, channels, d, units, addresses, people) = match r {
        Ok(v) => v,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let kinds: Vec<_> = ChannelKind::ALL.iter().map(|k| context! { code => k.code(), label => k.label_zh() }).collect();
    let units: Vec<_> = units.iter().map(|x| context! { id => x.id, name => x.name.clone() }).collect();
    let people: Vec<_> = people
        .iter()
        .map(|p| context! { id => p.id, name => xietong_storage::auth::person_display(&p.unit_name, &p.post, &p.name) })
        .collect();
    let address_kinds: Vec<_> =
        AddressKind::ALL.iter().map(|k| context! { code => k.code(), label => k.label_zh() }).collect();
    let (error_for, error) = match error {
        Some((id, e)) => (id, Some(e)),
        None => (None, None),
    };
    let kept = kept.map(|f| f.map());
    render(
        s,
        status,
        "notify.html",
        Some(u),
        context! { nav => "notify", channels => channels, d => d, day => day.to_string(), kinds => kinds,
        units => units, ok => ok, error => error, error_for => error_for, kept => kept, addresses => addresses,
        people => people, address_kinds => address_kinds },
    )
}

async fn create_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    let r = async { s.db.create_notify_channel(&u, &input_of(&f)?, s.clock.now()).await }.await;
    match r {
        Ok(_) => Redirect::to(&crate::pages::with_query("/notify", &[("ok", "通道已添加")])).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_))) => error_page(&s, Some(&u), &e),
        Err(e) => page(&s, &u, status_of(&e), None, None, Some((None, e.to_string())), Some(&f)).await,
    }
}

async fn update_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    f: Fields,
) -> Response {
    let r = async { s.db.update_notify_channel(&u, id, &input_of(&f)?, s.clock.now()).await }.await;
    match r {
        Ok(()) => Redirect::to(&crate::pages::with_query("/notify", &[("ok", "通道已保存")])).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_) | StoreError::NotFound(_))) => {
            error_page(&s, Some(&u), &e)
        }
        Err(e) => page(&s, &u, status_of(&e), None, None, Some((Some(id), e.to_string())), Some(&f)).await,
    }
}

async fn test_submit(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>, f: Fields) -> Response {
    let b = TestSend {
        text: Some(f.s("text")),
        mobile: Some(f.s("mobile")),
        user_id: Some(f.s("user_id")),
        email: Some(f.s("email")),
    };
    match test(&s, &u, id, &b).await {
        Ok(TestResult { ok: true, answer }) => {
            let msg = format!("测试发送成功，接收方应答：{}", xietong_notify::cut(&answer, 200));
            Redirect::to(&crate::pages::with_query("/notify", &[("ok", &msg)])).into_response()
        }
        Ok(TestResult { ok: false, answer }) => {
            page(&s, &u, StatusCode::BAD_GATEWAY, None, None, Some((Some(id), format!("测试发送失败：{answer}"))), None)
                .await
        }
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_) | StoreError::NotFound(_))) => {
            error_page(&s, Some(&u), &e)
        }
        Err(e) => page(&s, &u, status_of(&e), None, None, Some((Some(id), e.to_string())), None).await,
    }
}

async fn address_submit(State(s): State<AppState>, PageUser(u, _): PageUser, f: Fields) -> Response {
    let r = async {
        let person = f.id("person_id", "人员")?.ok_or_else(|| StoreError::invalid("person_id", "请选择人员"))?;
        let kind = AddressKind::from_code(&f.s("kind")).ok_or_else(|| StoreError::invalid("kind", "请选择地址类型"))?;
        s.db.set_notify_address(&u, person, kind, &f.s("value"), s.clock.now()).await?;
        Ok::<_, StoreError>(f.s("value").trim().is_empty())
    };
    match r.await {
        Ok(cleared) => {
            let msg = if cleared { "推送地址已删除" } else { "推送地址已保存" };
            Redirect::to(&crate::pages::with_query("/notify", &[("ok", msg)])).into_response()
        }
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_))) => error_page(&s, Some(&u), &e),
        Err(e) => page(&s, &u, status_of(&e), None, None, Some((Some(-1), e.to_string())), Some(&f)).await,
    }
}

async fn retry_submit(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>) -> Response {
    match s.db.retry_dead(&u, id, s.clock.now()).await {
        Ok(()) => Redirect::to(&crate::pages::with_query("/notify", &[("ok", "已重新排队发送")])).into_response(),
        Err(e) => error_page(&s, Some(&u), &e),
    }
}

/// 我的消息设置: what this person takes on each personal channel, and their calendar subscription.
async fn me_page(State(s): State<AppState>, PageUser(u, _): PageUser, axum::extract::Query(q): RawQuery) -> Response {
    let ok = q.iter().find(|(k, v)| k == "ok" && !v.is_empty()).map(|(_, v)| v.clone());
    me(&s, &u, StatusCode::OK, ok, None, None).await
}

async fn me(
    s: &AppState,
    u: &xietong_storage::auth::SessionUser,
    status: StatusCode,
    ok: Option<String>,
    error: Option<String>,
    new_feed: Option<String>,
) -> Response {
    let r =
        async { Ok::<_, StoreError>((s.db.notify_prefs(u, u.person_id).await?, s.db.calendar_feed_status(u).await?)) };
    let (prefs, feed) = match r.await {
        Ok(v) => v,
        Err(e) => return error_page(s, Some(u), &e),
    };
    let kinds: Vec<_> = xietong_storage::inbox::KINDS.iter().map(|(c, l)| context! { code => c, label => l }).collect();
    let prefs: Vec<_> = prefs
        .iter()
        .map(|p| {
            let taken: Vec<&str> = p.kinds.split(',').map(str::trim).filter(|k| !k.is_empty()).collect();
            context! { channel_id => p.channel_id, channel => p.channel.clone(), mode => p.mode.clone(), kinds => taken }
        })
        .collect();
    render(
        s,
        status,
        "notify_me.html",
        Some(u),
        context! { nav => "notify_me", prefs => prefs, kinds => kinds, feed => feed, new_feed => new_feed,
        ok => ok, error => error },
    )
}

async fn pref_submit(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(channel_id): Path<i64>,
    f: Fields,
) -> Response {
    let p = Pref { channel_id, channel: String::new(), mode: f.s("mode"), kinds: f.all("kind").join(",") };
    match s.db.set_notify_pref(&u, u.person_id, &p, s.clock.now()).await {
        Ok(()) => Redirect::to(&crate::pages::with_query("/notify/me", &[("ok", "接收设置已保存")])).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::Internal(_) | StoreError::NotFound(_))) => {
            error_page(&s, Some(&u), &e)
        }
        Err(e) => me(&s, &u, status_of(&e), None, Some(e.to_string()), None).await,
    }
}

async fn feed_submit(State(s): State<AppState>, PageUser(u, _): PageUser) -> Response {
    match s.db.create_calendar_feed(&u, s.clock.now()).await {
        Ok(f) => {
            let url = crate::feeds::feed_url(&s, &f);
            me(&s, &u, StatusCode::OK, Some("订阅地址已生成，旧地址（如有）已失效".into()), None, Some(url)).await
        }
        Err(e) => error_page(&s, Some(&u), &e),
    }
}

async fn feed_revoke_submit(State(s): State<AppState>, PageUser(u, _): PageUser) -> Response {
    match s.db.revoke_calendar_feed(&u, s.clock.now()).await {
        Ok(true) => Redirect::to(&crate::pages::with_query("/notify/me", &[("ok", "日历订阅已撤销")])).into_response(),
        Ok(false) => me(&s, &u, StatusCode::CONFLICT, None, Some("尚未开通日历订阅".into()), None).await,
        Err(e) => error_page(&s, Some(&u), &e),
    }
}
