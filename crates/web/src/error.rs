//! Errors leave the server as a status code and a Chinese message: JSON for the API, a page for
//! browsers. Internal details are logged, never shown.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use xietong_storage::StoreError;

#[derive(Debug)]
pub struct ApiError(pub StoreError);

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The message to show, in Chinese.
    pub error: String,
    /// The field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

pub fn status_of(e: &StoreError) -> StatusCode {
    match e {
        StoreError::Invalid(_) | StoreError::BadInput(_) => StatusCode::BAD_REQUEST,
        StoreError::Denied(_) => StatusCode::FORBIDDEN,
        StoreError::Conflict(_) => StatusCode::CONFLICT,
        StoreError::NotFound(_) => StatusCode::NOT_FOUND,
        StoreError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
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
        let field = match &self.0 {
            StoreError::Invalid(f) => Some(f.field.clone()),
            _ => None,
        };
        if let StoreError::Internal(detail) = &self.0 {
            tracing::error!(%detail, "internal error");
        }
        (status_of(&self.0), axum::Json(ErrorBody { error: self.0.to_string(), field })).into_response()
    }
}
