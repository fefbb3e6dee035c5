//! Office files out: their MIME types and the download answer (Content-Disposition with the Chinese
//! file name).

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use xietong_storage::StoreError;

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// A file download with a Chinese file name (RFC 5987).
pub fn download(content_type: &'static str, file_name: &str, bytes: Vec<u8>) -> Response {
    let encoded: String = file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }
        })
        .collect();
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"download\"; filename*=UTF-8''{encoded}")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

pub(crate) fn office_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::BadInput(e.to_string())
}
