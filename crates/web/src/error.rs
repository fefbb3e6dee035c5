//! Errors leave the server as a status code and a Chinese message: JSON for the API, a page for
//! browsers. Internal details are logged, never shown. That holds for the answers the router
//! itself gives (a body over the limit, a malformed request, an unknown route) too: see
//! [`body_limit`] and [`plain_errors`].

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use xietong_storage::StoreError;

#[derive(Debug)]
pub struct ApiError(pub StoreError);

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The message to show, in Chinese.
    pub error: String,
    /// The field at fault, when there is one (the first, when there are several).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every field at fault with its message, when the request was checked as a whole.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub fields: Vec<xietong_supervision::FieldError>,
}

pub fn status_of(e: &StoreError) -> StatusCode {
    match e {
        StoreError::Invalid(_) | StoreError::Fields(_) | StoreError::BadInput(_) => StatusCode::BAD_REQUEST,
        StoreError::Denied(_) => StatusCode::FORBIDDEN,
        StoreError::Conflict(_) => StatusCode::CONFLICT,
        StoreError::NotFound(_) => StatusCode::NOT_FOUND,
        StoreError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
        StoreError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        StoreError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl<E: Into<StoreError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let fields = self.0.field_errors();
        let field = fields.first().map(|f| f.field.clone());
        if let StoreError::Internal(detail) = &self.0 {
            tracing::error!(%detail, "internal error");
        }
        (status_of(&self.0), axum::Json(ErrorBody { error: self.0.to_string(), field, fields })).into_response()
    }
}

/// Bodies other than file uploads (JSON, forms): far more than any form needs.
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;
/// A refused body up to this size is read to its end before the answer (see [`body_limit`]).
const DRAIN_AT_MOST: u64 = 64 * 1024 * 1024;
/// What a multipart body may add to its file (boundaries, the other form fields).
const MULTIPART_OVERHEAD: usize = 256 * 1024;

pub fn too_large_message(limit: usize) -> String {
    format!("请求内容过大：超过 {} MB 的上限", limit.div_ceil(1024 * 1024))
}

pub fn upload_too_large(limit: usize) -> StoreError {
    StoreError::TooLarge(format!("上传文件过大：超过 {} MB 的上限，请拆分后分批上传", limit.div_ceil(1024 * 1024)))
}

/// An error in the shape the caller reads: the API's JSON for `/api/…`, a Chinese page otherwise.
pub fn error_response(s: &crate::AppState, path: &str, status: StatusCode, message: &str) -> Response {
    error_response_for(s, path, status, message, None)
}

/// [`error_response`] with the signed-in user's menu on the page, when there is one.
fn error_response_for(
    s: &crate::AppState,
    path: &str,
    status: StatusCode,
    message: &str,
    user: Option<&xietong_storage::auth::SessionUser>,
) -> Response {
    if path.starts_with("/api/") {
        (status, axum::Json(ErrorBody { error: message.to_string(), field: None, fields: vec![] })).into_response()
    } else {
        crate::pages::render(
            s,
            status,
            "error.html",
            user,
            minijinja::context! { message => message, status => status.as_u16() },
        )
    }
}

/// The body limits: a file upload (multipart) may be as large as the configured upload limit,
/// anything else [`BODY_LIMIT`]. A declared length over the limit is refused before reading; a
/// body without one is cut off where it passes the limit (the extractors then answer 413).
pub async fn body_limit(State(s): State<crate::AppState>, req: Request, next: Next) -> Response {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    let path = req.uri().path().to_string();
    // Evidence for one report may be several files (crate::attachments checks each by name).
    let upload_limit =
        if crate::attachments::takes_evidence(&path) { crate::attachments::UPLOAD_BODY_LIMIT } else { s.upload_limit };
    let (limit, shown) =
        if multipart { (upload_limit + MULTIPART_OVERHEAD, upload_limit) } else { (BODY_LIMIT, BODY_LIMIT) };
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let message = if multipart { upload_too_large(shown).to_string() } else { too_large_message(shown) };
    if let Some(n) = declared.filter(|n| *n > limit as u64) {
        // Read and drop what is sent (within bounds) before answering: a client still sending
        // when the connection closes sees a broken pipe instead of this answer.
        if n <= DRAIN_AT_MOST {
            let drain = async {
                let mut body = req.into_body();
                while let Some(Ok(_)) = http_body_util::BodyExt::frame(&mut body).await {}
            };
            let _ = tokio::time::timeout(std::time::Duration::from_secs(30), drain).await;
        }
        return error_response(&s, &path, StatusCode::PAYLOAD_TOO_LARGE, &message);
    }
    let req = req.map(|b| axum::body::Body::new(http_body_util::Limited::new(b, limit)));
    let res = next.run(req).await;
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE && !shaped(&res) {
        return error_response(&s, &path, StatusCode::PAYLOAD_TOO_LARGE, &message);
    }
    res
}

/// Already a JSON error or a page.
fn shaped(res: &Response) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json") || c.starts_with("text/html"))
}

/// Errors answered by the router and axum's extractors (plain English text, or nothing) in the
/// shape of every other error. A 413 is [`body_limit`]'s, which knows the limit.
pub async fn plain_errors(State(s): State<crate::AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    // Kept to show the signed-in user's menu on an error page (an unknown path has no guard that
    // resolved the session).
    let headers = req.headers().clone();
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error())
        || status == StatusCode::PAYLOAD_TOO_LARGE
        || shaped(&res)
    {
        return res;
    }
    if status == StatusCode::BAD_REQUEST {
        // A path parameter that is not a number (`/tasks/abc`): axum says "Cannot parse `abc` to a
        // `i64`"; say in Chinese that the address's number is wrong (without echoing it).
        let body = axum::body::to_bytes(res.into_body(), 4096).await.unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        let message = if text.contains("Cannot parse") {
            "地址中的编号无效：编号应为数字，请从列表中打开记录"
        } else {
            "请求格式错误：路径、查询参数或请求内容无法识别"
        };
        return error_response_for(&s, &path, status, message, page_user(&s, &path, headers).await.as_ref());
    }
    let message = match status {
        StatusCode::NOT_FOUND => "未找到该地址",
        StatusCode::METHOD_NOT_ALLOWED => "该地址不支持这种请求方式",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            "请求内容的类型不受支持（JSON 接口请用 application/json，上传请用 multipart/form-data）"
        }
        StatusCode::UNPROCESSABLE_ENTITY => "请求内容无法识别",
        StatusCode::UNAUTHORIZED => "未登录或会话已过期，请重新登录",
        StatusCode::FORBIDDEN => "无权限",
        StatusCode::TOO_MANY_REQUESTS => "请求过于频繁，请稍后再试",
        s if s.is_server_error() => "服务器内部错误",
        _ => "请求未完成",
    };
    error_response_for(&s, &path, status, message, page_user(&s, &path, headers).await.as_ref())
}

/// The signed-in user of a page request, from its cookie (none for the API).
async fn page_user(
    s: &crate::AppState,
    path: &str,
    headers: axum::http::HeaderMap,
) -> Option<xietong_storage::auth::SessionUser> {
    if path.starts_with("/api/") {
        return None;
    }
    let mut req = axum::http::Request::new(());
    *req.headers_mut() = headers;
    let (parts, ()) = req.into_parts();
    crate::auth::resolve(&parts, s).await.ok().flatten().map(|(u, _)| u)
}
