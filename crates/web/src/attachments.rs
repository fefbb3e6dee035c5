//! Evidence files: stored through `object_store` (a directory under the data dir by default, an
//! S3-compatible bucket by configuration), named by their SHA-256 so the same bytes are stored
//! once; the type is told by content, images get a small JPEG thumbnail and their EXIF capture
//! time and position are kept. Downloads apply the record's own data scope (a task's files:
//! whoever may view the task).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use bytes::Bytes;
use chrono::{NaiveDate, NaiveDateTime};
use minijinja::context;
use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_storage::StoreError;
use xietong_storage::attachments::{Attachment, NewAttachment, Record};
use xietong_storage::auth::SessionUser;
use xietong_supervision::evidence::{self, FileKind};

use crate::AppState;
use crate::auth::{ApiUser, PageUser};
use crate::error::{ApiError, ErrorBody};
use crate::tasks::detail::command;
use crate::views::{TaskView, task_view};

/// The largest request an upload route accepts: one report's files and its text fields. A
/// larger body is refused with 413 before it is read (other routes keep the 4 MiB limit).
pub const UPLOAD_BODY_LIMIT: usize = evidence::MAX_BATCH_BYTES as usize + 1024 * 1024;

/// Actions that carry evidence: reports, 办结申请 and 延期申请.
pub const EVIDENCE_ACTIONS: &[&str] = &["report", "report_subtask", "request_completion", "request_extension"];

/// Thumbnails fit in this square (pixels).
const THUMB_SIZE: u32 = 320;

/// Where attachment bytes live.
#[derive(Clone)]
pub struct Blobs(Arc<dyn ObjectStore>);

impl Blobs {
    /// In memory: tests, and a state without a data directory.
    pub fn in_memory() -> Blobs {
        Blobs(Arc::new(object_store::memory::InMemory::new()))
    }

    /// `<data>/attachments` on the local disk, or the S3-compatible bucket named by
    /// `XIETONG_ATTACHMENTS_S3_BUCKET` (with the standard `AWS_*` settings; needs the `s3` feature).
    pub fn for_data_dir(data_dir: &std::path::Path) -> Result<Blobs, StoreError> {
        if let Ok(bucket) = std::env::var("XIETONG_ATTACHMENTS_S3_BUCKET") {
            return Self::s3(&bucket);
        }
        let dir = data_dir.join("attachments");
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::internal(format!("无法创建附件目录：{e}")))?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(&dir)
            .map_err(|e| StoreError::internal(format!("无法打开附件目录：{e}")))?;
        Ok(Blobs(Arc::new(fs)))
    }

    #[cfg(feature = "s3")]
    fn s3(bucket: &str) -> Result<Blobs, StoreError> {
        let s3 = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()
            .map_err(|e| StoreError::internal(format!("无法连接附件存储桶：{e}")))?;
        Ok(Blobs(Arc::new(s3)))
    }

    #[cfg(not(feature = "s3"))]
    fn s3(_bucket: &str) -> Result<Blobs, StoreError> {
        Err(StoreError::internal("设置了 XIETONG_ATTACHMENTS_S3_BUCKET，但本程序编译时未启用 s3 功能"))
    }

    fn key(sha256: &str) -> ObjectPath {
        ObjectPath::from(format!("sha256/{}/{sha256}", &sha256[..2]))
    }

    fn thumb_key(sha256: &str) -> ObjectPath {
        ObjectPath::from(format!("thumbs/{}/{sha256}.jpg", &sha256[..2]))
    }

    async fn put_once(&self, key: &ObjectPath, bytes: Bytes) -> Result<(), StoreError> {
        // Content-addressed: bytes already there under their hash are the same bytes.
        if self.0.head(key).await.is_ok() {
            return Ok(());
        }
        self.0.put(key, bytes.into()).await.map_err(|e| StoreError::internal(format!("附件保存失败：{e}")))?;
        Ok(())
    }

    async fn get(&self, key: &ObjectPath) -> Result<Bytes, StoreError> {
        let r = self.0.get(key).await.map_err(|e| StoreError::internal(format!("附件读取失败：{e}")))?;
        r.bytes().await.map_err(|e| StoreError::internal(format!("附件读取失败：{e}")))
    }

    /// Whether the file with this hash is stored (for tests and checks).
    pub async fn contains(&self, sha256: &str) -> bool {
        self.0.head(&Self::key(sha256)).await.is_ok()
    }

    /// Delete stored files and thumbnails that no attachment row names and that are older than
    /// `grace` (a file is written just before the transaction naming it, so a young one may be
    /// about to be named). Returns (kept, deleted).
    pub async fn collect_garbage(
        &self,
        db: &xietong_storage::Db,
        grace: chrono::Duration,
    ) -> Result<(usize, usize), StoreError> {
        use futures_util::StreamExt;
        let named: std::collections::HashSet<String> = db.attachment_hashes().await?.into_iter().collect();
        let cutoff = chrono::Utc::now() - grace;
        let mut listing = self.0.list(None);
        let (mut kept, mut doomed) = (0, vec![]);
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(|e| StoreError::internal(format!("附件目录读取失败：{e}")))?;
            let file = meta.location.filename().unwrap_or("");
            let hash = file.strip_suffix(".jpg").unwrap_or(file);
            if named.contains(hash) || meta.last_modified > cutoff {
                kept += 1;
            } else {
                doomed.push(meta.location);
            }
        }
        for key in &doomed {
            self.0.delete(key).await.map_err(|e| StoreError::internal(format!("附件删除失败：{e}")))?;
        }
        Ok((kept, doomed.len()))
    }

    /// How many files and thumbnails are stored.
    pub async fn count(&self) -> usize {
        use futures_util::StreamExt;
        self.0.list(None).count().await
    }
}

/// A file taken from a form: its name as uploaded and its bytes.
pub struct Upload {
    pub name: String,
    pub bytes: Bytes,
}

/// A form's text fields (in order) and its files.
pub struct Parts {
    pub fields: Vec<(String, String)>,
    pub files: Vec<Upload>,
}

/// The file's own name, without any folder a browser may send along.
fn clean_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("").trim();
    let base: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if base.is_empty() { "未命名文件".to_string() } else { base }
}

/// Read a multipart form: parts with a file name are files (an empty one, sent when no file
/// was chosen, is skipped), the others text fields.
pub async fn read_parts(mut mp: Multipart) -> Result<Parts, StoreError> {
    let mut parts = Parts { fields: vec![], files: vec![] };
    let bad = |e: axum::extract::multipart::MultipartError| {
        StoreError::BadInput(format!("上传内容无法读取（{}）", e.body_text()))
    };
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        match field.file_name().map(str::to_string) {
            Some(file_name) => {
                let bytes = field.bytes().await.map_err(bad)?;
                if file_name.is_empty() && bytes.is_empty() {
                    continue;
                }
                parts.files.push(Upload { name: clean_name(&file_name), bytes });
            }
            None => parts.fields.push((name, field.text().await.map_err(bad)?)),
        }
    }
    Ok(parts)
}

/// What reading one file found.
struct Inspected {
    new: NewAttachment,
    bytes: Bytes,
    thumb: Option<Vec<u8>>,
}

const ALLOWED: &str = "JPEG、PNG、PDF、OFD、DOCX、XLSX";

/// An OFD document: a ZIP whose root holds `OFD.xml`. Only the archive's directory is read,
/// nothing is unpacked.
fn is_ofd(bytes: &[u8]) -> bool {
    zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .is_ok_and(|z| z.file_names().any(|n| n.is_ok_and(|n| n == "OFD.xml")))
}

/// Tell the type by content, hash it, read a photo's EXIF and make its thumbnail. CPU work: runs
/// on the heavy-work threads.
fn inspect(up: Upload) -> Result<Inspected, StoreError> {
    let name = &up.name;
    let kind = infer::get(&up.bytes).and_then(|t| match t.mime_type() {
        "application/zip" if is_ofd(&up.bytes) => Some(FileKind::Ofd),
        m => FileKind::from_mime(m),
    });
    let Some(kind) = kind else {
        let found = infer::get(&up.bytes).map(|t| t.extension().to_uppercase()).unwrap_or_else(|| "未知".into());
        return Err(StoreError::BadInput(format!(
            "附件「{name}」的实际内容是 {found} 格式，不是允许的类型（只接受 {ALLOWED}，按文件内容判断而不是扩展名）"
        )));
    };
    let sha256 = hex::encode(Sha256::digest(&up.bytes));
    let (mut taken_at, mut gps_lat, mut gps_lon, mut thumb) = (None, None, None, None);
    if kind.is_image() {
        (taken_at, gps_lat, gps_lon) = read_exif(&up.bytes);
        thumb = Some(
            thumbnail(&up.bytes)
                .map_err(|e| StoreError::BadInput(format!("附件「{name}」不是可以读取的图片（{e}）")))?,
        );
    }
    let new = NewAttachment {
        sha256,
        size: up.bytes.len() as i64,
        mime: kind.mime().to_string(),
        original_name: up.name,
        has_thumbnail: thumb.is_some(),
        taken_at,
        gps_lat,
        gps_lon,
    };
    Ok(Inspected { new, bytes: up.bytes, thumb })
}

/// Capture time (DateTimeOriginal, else DateTime) and GPS position from a photo's EXIF; a photo
/// without EXIF, or with a broken one, simply has none.
fn read_exif(bytes: &[u8]) -> (Option<NaiveDateTime>, Option<f64>, Option<f64>) {
    use exif::{In, Tag, Value};
    let Ok(ex) = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(bytes)) else {
        return (None, None, None);
    };
    let time = [Tag::DateTimeOriginal, Tag::DateTime].into_iter().find_map(|tag| {
        let f = ex.get_field(tag, In::PRIMARY)?;
        let Value::Ascii(ref v) = f.value else { return None };
        let d = exif::DateTime::from_ascii(v.first()?).ok()?;
        NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())?.and_hms_opt(
            d.hour.into(),
            d.minute.into(),
            d.second.into(),
        )
    });
    let coord = |tag: Tag, reference: Tag, negative: &str| -> Option<f64> {
        let f = ex.get_field(tag, In::PRIMARY)?;
        let Value::Rational(ref v) = f.value else { return None };
        if v.len() < 3 || v.iter().any(|r| r.denom == 0) {
            return None;
        }
        let deg = v[0].to_f64() + v[1].to_f64() / 60.0 + v[2].to_f64() / 3600.0;
        let neg = ex.get_field(reference, In::PRIMARY).map(|r| r.display_value().to_string().contains(negative));
        Some(if neg == Some(true) { -deg } else { deg })
    };
    let lat = coord(Tag::GPSLatitude, Tag::GPSLatitudeRef, "S");
    let lon = coord(Tag::GPSLongitude, Tag::GPSLongitudeRef, "W");
    match (lat, lon) {
        (Some(a), Some(o)) if (-90.0..=90.0).contains(&a) && (-180.0..=180.0).contains(&o) => (time, Some(a), Some(o)),
        _ => (time, None, None),
    }
}

/// A small JPEG of the image, decoded within memory limits (a decompression bomb is refused).
fn thumbnail(bytes: &[u8]) -> Result<Vec<u8>, image::ImageError> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format()?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(20_000);
    limits.max_image_height = Some(20_000);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let img = reader.decode()?;
    // Only ever smaller: a photo already within the square keeps its size.
    let img =
        if img.width() > THUMB_SIZE || img.height() > THUMB_SIZE { img.thumbnail(THUMB_SIZE, THUMB_SIZE) } else { img };
    let img = img.to_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 75).encode_image(&img)?;
    Ok(out)
}

/// Check a batch (count and sizes first, then every file's content) and store it. Nothing is
/// stored unless every file passes, so a refusal leaves no trace; files of an action that is then
/// refused stay in the store unreferenced (harmless: the next upload of the same bytes reuses them).
pub async fn check_and_store(s: &AppState, files: Vec<Upload>) -> Result<Vec<NewAttachment>, StoreError> {
    evidence::check_batch(files.iter().map(|f| (f.name.as_str(), f.bytes.len() as u64)))
        .map_err(StoreError::BadInput)?;
    if files.is_empty() {
        return Ok(vec![]);
    }
    let inspected = s.heavy(move || files.into_iter().map(inspect).collect::<Result<Vec<_>, _>>()).await?;
    let mut out = Vec::with_capacity(inspected.len());
    for i in inspected {
        s.blobs.put_once(&Blobs::key(&i.new.sha256), i.bytes).await?;
        if let Some(t) = i.thumb {
            s.blobs.put_once(&Blobs::thumb_key(&i.new.sha256), t.into()).await?;
        }
        out.push(i.new);
    }
    Ok(out)
}

/// Store a document's text as a UTF-8 .txt attachment (the source of tasks made from it).
pub async fn store_text(s: &AppState, name: &str, text: &str) -> Result<NewAttachment, StoreError> {
    store_document(s, name, Bytes::from(text.as_bytes().to_vec())).await
}

/// The type of a source document by its content: Word or PDF as uploaded, anything else kept as
/// text (a .txt in UTF-8 or GB18030 is stored as it was read, in UTF-8).
fn document_mime(bytes: &[u8]) -> &'static str {
    match infer::get(bytes).and_then(|t| FileKind::from_mime(t.mime_type())) {
        Some(k @ (FileKind::Docx | FileKind::Pdf)) => k.mime(),
        _ => "text/plain",
    }
}

/// Store a source document (the uploaded 纪要 itself, or pasted text) under its hash.
pub async fn store_document(s: &AppState, name: &str, bytes: Bytes) -> Result<NewAttachment, StoreError> {
    let mime = document_mime(&bytes);
    let bytes = if mime == "text/plain" {
        Bytes::from(xietong_office::document_text(&bytes).unwrap_or_default().into_bytes())
    } else {
        bytes
    };
    let sha256 = hex::encode(Sha256::digest(&bytes));
    s.blobs.put_once(&Blobs::key(&sha256), bytes.clone()).await?;
    Ok(document_attachment(name, sha256, &bytes))
}

/// The attachment row of a stored source document: its type read from its bytes.
fn document_attachment(name: &str, sha256: String, bytes: &[u8]) -> NewAttachment {
    NewAttachment {
        sha256,
        size: bytes.len() as i64,
        mime: document_mime(bytes).into(),
        original_name: name.into(),
        has_thumbnail: false,
        taken_at: None,
        gps_lat: None,
        gps_lon: None,
    }
}

/// A document stored earlier (by [`store_document`]) and named again by its hash: its type and
/// size are read from the stored bytes, never taken from the form. `None` when no such file is
/// stored (a hash not in hex, or one the garbage collection has since removed). Naming a hash
/// gives nothing away: a content address is known only to whoever had the content.
pub async fn stored_document(s: &AppState, name: &str, sha256: &str) -> Option<NewAttachment> {
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
        return None;
    }
    let bytes = s.blobs.get(&Blobs::key(sha256)).await.ok()?;
    Some(document_attachment(name, sha256.into(), &bytes))
}

/// Perform a task action with its evidence: the task must be reachable before anything is
/// stored, and the action and its attachment rows are one transaction.
async fn act_with_files(
    s: &AppState,
    u: &SessionUser,
    id: i64,
    action: &str,
    parts: Parts,
) -> Result<xietong_storage::tasks::TaskDetail, StoreError> {
    let snap = s.snapshot();
    s.db.get_task(u, xietong_supervision::TaskId(id), snap.now).await?;
    if !parts.files.is_empty() && !EVIDENCE_ACTIONS.contains(&action) {
        return Err(StoreError::BadInput(format!("操作「{action}」不能附带附件")));
    }
    let seen = parts.fields.iter().find(|(k, _)| k == "version").and_then(|(_, v)| v.trim().parse::<i64>().ok());
    let cmd = crate::tasks::detail::action_body(&parts.fields).and_then(|b| command(action, b))?;
    let files = check_and_store(s, parts.files).await?;
    let snap = s.snapshot();
    s.db.perform_with_files(u, &snap.ctx(), id, cmd, seen, &files).await
}

/// The multipart body of an action with evidence (documentation only).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EvidenceForm {
    /// 与 JSON 操作相同的字段（text、progress、reason、new_deadline、subtask_id、version），以表单字段提交
    pub text: Option<String>,
    pub progress: Option<i64>,
    pub reason: Option<String>,
    pub new_deadline: Option<String>,
    pub subtask_id: Option<i64>,
    pub version: Option<i64>,
    /// 附件（可多个，最多 9 个，单个不超过 20 MB，合计不超过 50 MB；JPEG、PNG、PDF、OFD、DOCX、XLSX）
    #[schema(value_type = Vec<String>, format = Binary)]
    pub files: Vec<Vec<u8>>,
}

/// 带附件执行操作（multipart/form-data）：report 进展汇报、report_subtask 子任务汇报、request_completion 办结申请、
/// request_extension 延期申请。操作与附件在同一事务中记录；任一附件不合格则整体拒绝，消息指明文件名。
#[utoipa::path(post, path = "/api/tasks/{id}/evidence/{action}", tag = "督查督办",
    request_body(content = EvidenceForm, content_type = "multipart/form-data"),
    params(("id" = i64, Path, description = "任务编号"), ("action" = String, Path, description = "操作名")),
    responses((status = 200, body = TaskView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody)))]
async fn api_act_with_files(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path((id, action)): Path<(i64, String)>,
    mp: Multipart,
) -> Result<Json<TaskView>, ApiError> {
    let parts = read_parts(mp).await?;
    let d = act_with_files(&s, &u, id, &action, parts).await?;
    let snap = s.snapshot();
    Ok(Json(task_view(d, &u, &snap.cal, &snap.rules, snap.now)))
}

/// 任务的全部附件（来源文件与时间线上的证据），与任务本身同样的数据范围。
#[utoipa::path(get, path = "/api/tasks/{id}/attachments", tag = "督查督办",
    params(("id" = i64, Path, description = "任务编号")),
    responses((status = 200, body = Vec<Attachment>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_task_attachments(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<Attachment>>, ApiError> {
    Ok(Json(s.db.task_attachments(&u, id, s.clock.now()).await?))
}

/// 上传任务来源文件（文件本身，如交办的通知、批示件扫描件；multipart/form-data，字段 files）。督查局可用。
#[utoipa::path(post, path = "/api/tasks/{id}/attachments", tag = "督查督办",
    request_body(content = EvidenceForm, content_type = "multipart/form-data"),
    params(("id" = i64, Path, description = "任务编号")),
    responses((status = 201, body = Vec<Attachment>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn upload_task_sources(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    mp: Multipart,
) -> Result<(StatusCode, Json<Vec<Attachment>>), ApiError> {
    let parts = read_parts(mp).await?;
    Ok((StatusCode::CREATED, Json(upload_sources(&s, &u, id, parts).await?)))
}

/// A task's source documents: access first, so nothing is stored for a task the user cannot
/// reach or may not change.
async fn upload_sources(s: &AppState, u: &SessionUser, id: i64, parts: Parts) -> Result<Vec<Attachment>, StoreError> {
    let now = s.clock.now();
    u.actor().may_create_tasks()?;
    s.db.get_task(u, xietong_supervision::TaskId(id), now).await?;
    if parts.files.is_empty() {
        return Err(StoreError::invalid("附件", "请选择要上传的文件"));
    }
    let files = check_and_store(s, parts.files).await?;
    s.db.attach_to_task(u, id, &files, now).await
}

/// Content-Disposition with the original name: an ASCII fallback and the UTF-8 name (RFC 5987),
/// so a Chinese name arrives intact.
pub fn content_disposition(kind: &str, name: &str) -> String {
    let fallback: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_ ".contains(c) { c } else { '_' }).collect();
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'!'
            | b'#'
            | b'$'
            | b'&'
            | b'+'
            | b'-'
            | b'.'
            | b'^'
            | b'_'
            | b'`'
            | b'|'
            | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

async fn download(s: &AppState, u: &SessionUser, id: i64, thumb: bool) -> Result<Response, StoreError> {
    let a = s.db.attachment(u, id, s.clock.now()).await?;
    if thumb && !a.has_thumbnail {
        return Err(StoreError::NotFound("该附件没有缩略图".into()));
    }
    let key = if thumb { Blobs::thumb_key(&a.sha256) } else { Blobs::key(&a.sha256) };
    let bytes = s.blobs.get(&key).await?;
    let (mime, disposition) = if thumb {
        ("image/jpeg".to_string(), "inline".to_string())
    } else {
        // Images open in the browser; documents download under their own name.
        let kind = if a.mime.starts_with("image/") { "inline" } else { "attachment" };
        (a.mime.clone(), content_disposition(kind, &a.original_name))
    };
    let mut res = Response::new(Body::from(bytes));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
    Ok(res)
}

/// 下载附件（原文件名，按所属记录的数据范围授权）。
#[utoipa::path(get, path = "/api/attachments/{id}", tag = "督查督办",
    params(("id" = i64, Path, description = "附件编号")),
    responses((status = 200, description = "文件内容"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn api_download(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(download(&s, &u, id, false).await?)
}

/// 图片附件的缩略图（JPEG）。
#[utoipa::path(get, path = "/api/attachments/{id}/thumbnail", tag = "督查督办",
    params(("id" = i64, Path, description = "附件编号")),
    responses((status = 200, description = "JPEG 缩略图"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn api_thumbnail(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(download(&s, &u, id, true).await?)
}

/// Check the user may add files to the record before anything is stored, then store and attach.
async fn upload_to(s: &AppState, u: &SessionUser, record: Record, parts: Parts) -> Result<Vec<Attachment>, StoreError> {
    let now = s.clock.now();
    s.db.may_attach_to(u, record, now).await?;
    if parts.files.is_empty() {
        return Err(StoreError::invalid("附件", "请选择要上传的文件"));
    }
    let files = check_and_store(s, parts.files).await?;
    s.db.attach_to_record(u, record, &files, now).await
}

/// The API pair (list, upload) of one kind of record: thin handlers with their own paths and
/// documentation, all going through [`upload_to`] and the record's own read rule.
macro_rules! record_files {
    ($list:ident, $upload:ident, $path:literal, $variant:ident, $what:literal, $who:literal) => {
        #[doc = concat!($what, "的附件，与该记录同样的可见范围。")]
        #[utoipa::path(get, path = $path, tag = "附件",
            params(("id" = i64, Path, description = concat!($what, "编号"))),
            responses((status = 200, body = Vec<Attachment>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
        async fn $list(
            State(s): State<AppState>,
            ApiUser(u, _): ApiUser,
            Path(id): Path<i64>,
        ) -> Result<Json<Vec<Attachment>>, ApiError> {
            Ok(Json(s.db.record_attachments(&u, Record::$variant(id), s.clock.now()).await?))
        }

        #[doc = concat!("为", $what, "上传附件（multipart/form-data，字段 files，可多个）。", $who, "可用；任一文件不合格则整体拒绝，消息指明文件名。")]
        #[utoipa::path(post, path = $path, tag = "附件",
            request_body(content = EvidenceForm, content_type = "multipart/form-data"),
            params(("id" = i64, Path, description = concat!($what, "编号"))),
            responses((status = 201, body = Vec<Attachment>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
                (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
        async fn $upload(
            State(s): State<AppState>,
            ApiUser(u, _): ApiUser,
            Path(id): Path<i64>,
            mp: Multipart,
        ) -> Result<(StatusCode, Json<Vec<Attachment>>), ApiError> {
            let parts = read_parts(mp).await?;
            Ok((StatusCode::CREATED, Json(upload_to(&s, &u, Record::$variant(id), parts).await?)))
        }
    };
}

record_files!(visit_files, upload_visit_files, "/api/visits/{id}/attachments", Visit, "督导记录", "督导的区领导");
record_files!(notice_files, upload_notice_files, "/api/notices/{id}/attachments", Notice, "督查通报", "督查局");
record_files!(
    problem_files,
    upload_problem_files,
    "/api/problems/{id}/attachments",
    Problem,
    "问题台账条目",
    "督查局、区领导和牵头单位联络员"
);
record_files!(
    activity_files,
    upload_activity_files,
    "/api/activities/{id}/attachments",
    DockingActivity,
    "对接活动",
    "科技局"
);
record_files!(contract_files, upload_contract_files, "/api/contracts/{id}/attachments", Contract, "技术合同", "科技局");
record_files!(
    experience_files,
    upload_experience_files,
    "/api/experiences/{id}/attachments",
    Experience,
    "历练记录",
    "组织部"
);

#[derive(serde::Deserialize, ToSchema)]
pub struct EvidenceRule {
    /// 该类别的任务申请办结时是否必须附证明材料
    pub completion_evidence: bool,
}

/// 设置工作类别的办结证据要求（督查局）：要求时，该类别任务的办结申请不附文件即被拒绝。
#[utoipa::path(put, path = "/api/categories/{id}/evidence-rule", tag = "附件", request_body = EvidenceRule,
    params(("id" = i64, Path, description = "工作类别编号")),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn put_evidence_rule(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    crate::api::J(b): crate::api::J<EvidenceRule>,
) -> Result<StatusCode, ApiError> {
    s.db.set_completion_evidence(&u, id, b.completion_evidence, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize, ToSchema)]
pub struct TaskSite {
    /// 地点名称，如“大学路与航海路交叉口”
    #[serde(default)]
    pub name: String,
    /// 纬度（北为正），与经度同时填写或同时留空
    pub lat: Option<f64>,
    /// 经度（东为正）
    pub lon: Option<f64>,
}

/// 设置任务地点（督查局）：设置后，距该地点超过 3 公里拍摄的现场照片在任务页上标注“照片拍摄地点距任务地点约 N 公里”。
/// 纬度、经度同时留空即清除。
#[utoipa::path(put, path = "/api/tasks/{id}/site", tag = "督查督办", request_body = TaskSite,
    params(("id" = i64, Path, description = "任务编号")),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn put_task_site(
    State(s): State<AppState>,
    ApiUser(u, _): ApiUser,
    Path(id): Path<i64>,
    crate::api::J(b): crate::api::J<TaskSite>,
) -> Result<StatusCode, ApiError> {
    s.db.set_task_site(&u, id, &b.name, b.lat, b.lon, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_act_with_files))
        .routes(routes!(list_task_attachments, upload_task_sources))
        .routes(routes!(visit_files, upload_visit_files))
        .routes(routes!(notice_files, upload_notice_files))
        .routes(routes!(problem_files, upload_problem_files))
        .routes(routes!(activity_files, upload_activity_files))
        .routes(routes!(contract_files, upload_contract_files))
        .routes(routes!(experience_files, upload_experience_files))
        .routes(routes!(put_evidence_rule))
        .routes(routes!(put_task_site))
        .routes(routes!(api_download))
        .routes(routes!(api_thumbnail))
        .layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT))
}

async fn page_act_with_files(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path((id, action)): Path<(i64, String)>,
    mp: Multipart,
) -> Response {
    let parts = match read_parts(mp).await {
        Ok(p) => p,
        Err(e) => return crate::tasks::detail::task_page_error(&s, &u, id, e).await,
    };
    let kept = ["comment", "text", "reason", "progress", "new_deadline"];
    let fields: BTreeMap<String, String> =
        parts.fields.iter().filter(|(k, _)| kept.contains(&k.as_str())).cloned().collect();
    match act_with_files(&s, &u, id, &action, parts).await {
        Ok(_) => Redirect::to(&format!("/tasks/{id}?done={action}")).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::NotFound(_) | StoreError::Internal(_))) => {
            crate::pages::error_page(&s, Some(&u), &e)
        }
        Err(e) => {
            let msg = format!("{e}（已填写的内容已保留，请重新选择附件）");
            let typed = crate::tasks::detail::Typed { action, fields, ..Default::default() };
            crate::tasks::detail::task_page_typed(&s, &u, id, None, Some((crate::error::status_of(&e), msg)), typed)
                .await
        }
    }
}

async fn page_download(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>) -> Response {
    match download(&s, &u, id, false).await {
        Ok(r) => r,
        Err(e) => crate::pages::error_page(&s, Some(&u), &e),
    }
}

async fn page_thumbnail(State(s): State<AppState>, PageUser(u, _): PageUser, Path(id): Path<i64>) -> Response {
    match download(&s, &u, id, true).await {
        Ok(r) => r,
        Err(e) => crate::pages::error_page(&s, Some(&u), &e),
    }
}

/// The record a page upload names, and the page to go back to.
fn page_record(kind: &str, id: i64) -> Option<(Option<Record>, String)> {
    Some(match kind {
        "task" => (None, format!("/tasks/{id}#sources")),
        "visit" => (Some(Record::Visit(id)), "/dashboard#visits".to_string()),
        "notice" => (Some(Record::Notice(id)), format!("/notices/{id}#evidence")),
        "problem" => (Some(Record::Problem(id)), format!("/problems/{id}#evidence")),
        "activity" => (Some(Record::DockingActivity(id)), "/docking/dockings".to_string()),
        "contract" => (Some(Record::Contract(id)), "/docking/contracts#evidence".to_string()),
        "experience" => (Some(Record::Experience(id)), format!("/cadres/experiences/{id}#evidence")),
        _ => return None,
    })
}

/// One upload form for every record page (the CSRF token rides in the URL, the body is files).
/// A refusal shows the message, which names the file; nothing is stored.
async fn page_upload(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path((kind, id)): Path<(String, i64)>,
    mp: Multipart,
) -> Response {
    let Some((record, back)) = page_record(&kind, id) else {
        return crate::pages::error_page(&s, Some(&u), &StoreError::NotFound("没有这类记录".into()));
    };
    let r = async {
        let parts = read_parts(mp).await?;
        match record {
            Some(rec) => upload_to(&s, &u, rec, parts).await.map(|v| v.len()),
            None => upload_sources(&s, &u, id, parts).await.map(|v| v.len()),
        }
    }
    .await;
    match r {
        Ok(_) => {
            // The activity's page is its docking's; find it for the way back.
            let back = match record {
                Some(Record::DockingActivity(a)) => match s.db.activity_docking_id(a).await {
                    Ok(Some(d)) => format!("/docking/dockings/{d}#evidence"),
                    _ => back,
                },
                _ => back,
            };
            Redirect::to(&back).into_response()
        }
        Err(e) => crate::pages::error_page(&s, Some(&u), &e),
    }
}

/// The task page's 任务地点 form (督查局): empty coordinates clear it.
async fn page_task_site(
    State(s): State<AppState>,
    PageUser(u, _): PageUser,
    Path(id): Path<i64>,
    f: crate::forms::Fields,
) -> Response {
    let r = async {
        let (lat, lon) = (f.num("lat", "纬度")?, f.num("lon", "经度")?);
        s.db.set_task_site(&u, id, &f.trimmed("name"), lat, lon, s.clock.now()).await
    }
    .await;
    match r {
        Ok(()) => Redirect::to(&format!("/tasks/{id}#sources")).into_response(),
        Err(e @ (StoreError::Denied(_) | StoreError::NotFound(_) | StoreError::Internal(_))) => {
            crate::pages::error_page(&s, Some(&u), &e)
        }
        Err(e) => {
            let msg = format!("任务地点未保存：{e}");
            crate::tasks::detail::task_page_error(&s, &u, id, StoreError::BadInput(msg)).await
        }
    }
}

pub fn page_router() -> crate::policy::Pages {
    use axum::routing::{get, post};
    crate::policy::Pages::new()
        .route(
            "/tasks/{id}/evidence/{action}",
            post(page_act_with_files).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        )
        .route("/tasks/{id}/site", post(page_task_site))
        .route("/attachments/upload/{kind}/{id}", post(page_upload).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)))
        .route("/attachments/{id}", get(page_download))
        .route("/attachments/{id}/thumbnail", get(page_thumbnail))
}

/// The task page's evidence: per timeline entry (by its id) and the task's own source files,
/// each with what its EXIF says and the 拍摄于交办之前 flag.
pub fn evidence_for_page(
    atts: &[Attachment],
    assigned_at: Option<NaiveDateTime>,
    site: (Option<f64>, Option<f64>),
) -> (BTreeMap<String, Vec<minijinja::Value>>, Vec<minijinja::Value>) {
    let mut by_event: BTreeMap<String, Vec<minijinja::Value>> = BTreeMap::new();
    let mut sources = vec![];
    for a in atts {
        let v = file_view(a, assigned_at, site);
        match a.record_kind.as_str() {
            "task_event" => by_event.entry(a.record_id.to_string()).or_default().push(v),
            _ => sources.push(v),
        }
    }
    (by_event, sources)
}

/// A record's files as the page shows them, and whether this user may add more.
pub async fn record_files_for_page(s: &AppState, u: &SessionUser, record: Record) -> (Vec<minijinja::Value>, bool) {
    let now = s.clock.now();
    let files = s.db.record_attachments(u, record, now).await.unwrap_or_default();
    let can_attach = s.db.may_attach_to(u, record, now).await.is_ok();
    (files.iter().map(|a| file_view(a, None, (None, None))).collect(), can_attach)
}

/// The files of many records of one kind, by record id as text (for list pages; the caller
/// lists only records the user may read).
pub async fn files_by_record(s: &AppState, kind: &str, ids: &[i64]) -> BTreeMap<String, Vec<minijinja::Value>> {
    let mut out: BTreeMap<String, Vec<minijinja::Value>> = BTreeMap::new();
    for a in s.db.attachments_of(kind, ids).await.unwrap_or_default() {
        out.entry(a.record_id.to_string()).or_default().push(file_view(&a, None, (None, None)));
    }
    out
}

/// One file as a page shows it, with the flags its EXIF raises against the task's 交办 time and
/// site (when the record is a task's and they are known).
fn file_view(a: &Attachment, assigned_at: Option<NaiveDateTime>, site: (Option<f64>, Option<f64>)) -> minijinja::Value {
    context! {
        id => a.id, name => a.original_name, size_kb => (a.size.max(0) as u64).div_ceil(1024), mime => a.mime,
        thumb => a.has_thumbnail,
        exif => evidence::describe(a.taken_at, a.gps_lat, a.gps_lon),
        flag => evidence::taken_before_assignment(a.taken_at, assigned_at).then_some(evidence::TAKEN_BEFORE_ASSIGNMENT),
        far => evidence::far_from_site((a.gps_lat, a.gps_lon), site),
    }
}

/// The routes that take a report's evidence, whose bodies may be larger than other uploads
/// (`crate::error::body_limit` applies [`UPLOAD_BODY_LIMIT`] to them).
pub fn takes_evidence(path: &str) -> bool {
    let record = [
        "/api/tasks/",
        "/tasks/",
        "/api/visits/",
        "/api/notices/",
        "/api/problems/",
        "/api/activities/",
        "/api/contracts/",
        "/api/experiences/",
    ]
    .iter()
    .any(|p| path.starts_with(p));
    (record && (path.contains("/evidence/") || path.ends_with("/attachments")))
        || path.starts_with("/attachments/upload/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_upload_routes_take_large_bodies() {
        for p in [
            "/api/tasks/7/evidence/report",
            "/tasks/7/evidence/report",
            "/api/tasks/7/attachments",
            "/api/notices/2/attachments",
            "/api/contracts/2/attachments",
            "/attachments/upload/problem/3",
        ] {
            assert!(takes_evidence(p), "{p}");
        }
        for p in ["/api/tasks/7/actions/report", "/api/imports/tasks", "/api/session", "/attachments/3", "/api/notices"]
        {
            assert!(!takes_evidence(p), "{p}");
        }
    }

    #[test]
    fn a_chinese_name_survives_content_disposition() {
        assert_eq!(
            content_disposition("attachment", "方案 v2.pdf"),
            "attachment; filename=\"__ v2.pdf\"; filename*=UTF-8''%E6%96%B9%E6%A1%88%20v2.pdf"
        );
        // A quote or a line break in a name cannot end the header value early.
        let h = content_disposition("attachment", "a\"b\r\n.pdf");
        assert!(!h.contains('\r') && h.matches('"').count() == 2, "{h}");
        assert_eq!(clean_name("C:\\Users\\李\\现场.jpg"), "现场.jpg");
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name(""), "未命名文件");
    }
}
