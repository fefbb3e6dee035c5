//! Attachment rows: which record a stored file belongs to, and its EXIF facts. The bytes are
//! in the object store (see the web layer), named by their SHA-256; a row is written only in the
//! transaction of the record it belongs to, so a refused action leaves no row behind (at most a
//! blob nobody references, which is harmless and deduplicated on the next upload).

use chrono::NaiveDateTime;
use serde::Serialize;
use sqlx::any::AnyRow;
use utoipa::ToSchema;

use crate::auth::SessionUser;
use crate::tasks::{Command, Ctx, TaskDetail};
use crate::{Db, Result, RowExt, StoreError, ts};

/// A file checked and stored, waiting for its record.
#[derive(Clone, Debug)]
pub struct NewAttachment {
    pub sha256: String,
    pub size: i64,
    pub mime: String,
    pub original_name: String,
    pub has_thumbnail: bool,
    pub taken_at: Option<NaiveDateTime>,
    pub gps_lat: Option<f64>,
    pub gps_lon: Option<f64>,
}

/// 附件。
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Attachment {
    pub id: i64,
    /// 内容的 SHA-256（十六进制）
    pub sha256: String,
    /// 字节数
    pub size: i64,
    /// 按内容识别的类型
    pub mime: String,
    /// 上传时的文件名
    pub original_name: String,
    /// 所属记录：task_event（汇报、办结申请、延期申请）或 task（任务来源文件）
    pub record_kind: String,
    pub record_id: i64,
    pub task_id: Option<i64>,
    pub uploaded_at: NaiveDateTime,
    /// 是否有缩略图（图片）
    pub has_thumbnail: bool,
    /// 照片 EXIF 拍摄时间
    pub taken_at: Option<NaiveDateTime>,
    /// 照片 EXIF 纬度（北为正）
    pub gps_lat: Option<f64>,
    /// 照片 EXIF 经度（东为正）
    pub gps_lon: Option<f64>,
}

fn attachment(r: &AnyRow) -> Result<Attachment> {
    Ok(Attachment {
        id: r.i("id")?,
        sha256: r.s("sha256")?,
        size: r.i("size")?,
        mime: r.s("mime")?,
        original_name: r.s("original_name")?,
        record_kind: r.s("record_kind")?,
        record_id: r.i("record_id")?,
        task_id: r.oi("task_id")?,
        uploaded_at: r.t("uploaded_at")?,
        has_thumbnail: r.i("has_thumbnail")? != 0,
        taken_at: r.ot("taken_at")?,
        gps_lat: r.of("gps_lat")?,
        gps_lon: r.of("gps_lon")?,
    })
}

async fn insert(
    tx: &mut sqlx::AnyConnection,
    user: &SessionUser,
    (kind, record_id, task_id): (&str, i64, i64),
    a: &NewAttachment,
    now: NaiveDateTime,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO attachments (sha256, size, mime, original_name, record_kind, record_id, task_id, uploaded_by, \
         uploaded_at, has_thumbnail, taken_at, gps_lat, gps_lon) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(a.sha256.clone())
    .bind(a.size)
    .bind(a.mime.clone())
    .bind(a.original_name.clone())
    .bind(kind.to_string())
    .bind(record_id)
    .bind(task_id)
    .bind(if user.user_id > 0 { Some(user.user_id) } else { None })
    .bind(ts(now))
    .bind(i64::from(a.has_thumbnail))
    .bind(a.taken_at.map(ts))
    .bind(a.gps_lat)
    .bind(a.gps_lon)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

impl Db {
    /// Perform a task action and attach `files` to the timeline entry it writes, in one
    /// transaction: a refused action stores no row. The task's row is locked by the action, so the
    /// newest entry of the task afterwards is this action's.
    pub async fn perform_with_files(
        &self,
        user: &SessionUser,
        ctx: &Ctx<'_>,
        task_id: i64,
        cmd: Command,
        seen: Option<i64>,
        files: &[NewAttachment],
    ) -> Result<TaskDetail> {
        crate::locks::retrying(|| async {
            let mut tx = self.begin().await?;
            let detail = self.perform_in(&mut tx, user, ctx, task_id, cmd.clone(), seen).await?;
            if !files.is_empty() {
                let row = sqlx::query("SELECT MAX(id) AS id FROM task_events WHERE task_id = $1")
                    .bind(task_id)
                    .fetch_one(&mut *tx)
                    .await?;
                let event_id = row.oi("id")?.ok_or_else(|| StoreError::internal("操作未写入时间线"))?;
                for f in files {
                    insert(&mut tx, user, ("task_event", event_id, task_id), f, ctx.now).await?;
                }
            }
            tx.commit().await?;
            Ok(detail)
        })
        .await
    }

    /// Attach the task's source documents (the 文件 itself): the 督查局, who may create tasks,
    /// on a task they can see.
    pub async fn attach_to_task(
        &self,
        user: &SessionUser,
        task_id: i64,
        files: &[NewAttachment],
        now: NaiveDateTime,
    ) -> Result<Vec<Attachment>> {
        user.actor().may_create_tasks()?;
        self.get_task(user, xietong_supervision::TaskId(task_id), now).await?;
        let mut tx = self.begin().await?;
        for f in files {
            insert(&mut tx, user, ("task", task_id, task_id), f, now).await?;
        }
        tx.commit().await?;
        let all = self.task_attachments(user, task_id, now).await?;
        Ok(all.into_iter().filter(|a| a.record_kind == "task").collect())
    }

    /// Every attachment of a task (its source documents and its timeline's), for whoever may
    /// view the task.
    pub async fn task_attachments(
        &self,
        user: &SessionUser,
        task_id: i64,
        now: NaiveDateTime,
    ) -> Result<Vec<Attachment>> {
        self.get_task(user, xietong_supervision::TaskId(task_id), now).await?;
        let rows = sqlx::query("SELECT * FROM attachments WHERE task_id = $1 ORDER BY id")
            .bind(task_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(attachment).collect()
    }

    /// One attachment, for whoever may view the record it belongs to (the task's own rule).
    pub async fn attachment(&self, user: &SessionUser, id: i64, now: NaiveDateTime) -> Result<Attachment> {
        let row = sqlx::query("SELECT * FROM attachments WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        let a = row
            .as_ref()
            .map(attachment)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(format!("编号 {id} 的附件不存在")))?;
        match a.task_id {
            Some(t) => {
                self.get_task(user, xietong_supervision::TaskId(t), now).await?;
            }
            // Every kind written today belongs to a task; a row without one is nobody's to read.
            None => return Err(StoreError::NotFound(format!("编号 {id} 的附件不存在"))),
        }
        Ok(a)
    }

    /// The SHA-256 of every stored attachment, for a backup's consistency check.
    pub async fn attachment_hashes(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT DISTINCT sha256 FROM attachments").fetch_all(&self.pool).await?;
        rows.iter().map(|r| r.s("sha256")).collect()
    }
}
