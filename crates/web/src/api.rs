//! The JSON API's plumbing: the OpenAPI document, extractors whose rejections are Chinese 400s, and the
//! router that gathers every resource's API routes.

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use xietong_storage::StoreError;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "协同 Xietong API",
        description = "督查督办与政校企产学研对接平台 JSON API。登录后以 `Authorization: Bearer <token>` 调用；浏览器会话调用写操作需带 `X-CSRF-Token`。"
    ),
    components(schemas(ErrorBody))
)]
pub struct ApiDoc;

/// Every API route, each resource's from its own module (roles in [`crate::policy::TABLE`]).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(crate::sessions::api_router())
        .merge(crate::settings::api_router())
        .merge(crate::todo::api_router())
        .merge(crate::inbox::api_router())
        .merge(crate::notify::api_router())
        .merge(crate::signon::api_router())
        .merge(crate::intake::api_router())
        .merge(crate::cadres::api_router())
        .merge(crate::feeds::api_router())
        .merge(crate::tasks::api_router())
        .merge(crate::categories::api_router())
        .merge(crate::attachments::api_router())
        .merge(crate::org::api_router())
        .merge(crate::calendar::api_router())
        .merge(crate::audit::api_router())
        .merge(crate::problems::api_router())
        .merge(crate::inspections::api_router())
        .merge(crate::visits::api_router())
        .merge(crate::indicators::api_router())
        .merge(crate::rankings::api_router())
        .merge(crate::notices::api_router())
        .merge(crate::records::api_router())
        .merge(crate::imports::api_router())
        .merge(crate::projects::api_router())
        .merge(crate::lists::api_router())
        .merge(crate::docking::api_router())
}

/// JSON body extractor whose rejections are Chinese 400s naming the field when serde can.
pub struct J<T>(pub T);

fn translate_serde(msg: &str) -> String {
    if let Some(rest) = msg.split("missing field `").nth(1) {
        let field = rest.split('`').next().unwrap_or("");
        return format!("缺少字段「{field}」");
    }
    if let Some(rest) = msg.split("unknown field `").nth(1) {
        let field = rest.split('`').next().unwrap_or("");
        return format!("不认识的字段「{field}」");
    }
    if msg.contains("invalid type") || msg.contains("invalid value") || msg.contains("invalid digit") {
        let path = msg.split(':').next().unwrap_or("");
        return format!("字段类型错误（{path}）");
    }
    "请求格式错误".into()
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for J<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(J(v)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError(StoreError::TooLarge(crate::error::too_large_message(crate::error::BODY_LIMIT))))
            }
            Err(e) => Err(ApiError(StoreError::BadInput(format!(
                "请求体不是有效的 JSON：{}",
                translate_serde(&e.body_text())
            )))),
        }
    }
}

/// Query-string extractor with Chinese 400s.
pub struct Q<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Q(v)),
            Err(e) => Err(ApiError(StoreError::BadInput(format!("查询参数错误：{}", translate_serde(&e.body_text()))))),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}
