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
use xietong_supervision::Role;

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

pub(crate) async fn insert(
    tx: &mut sqlx::AnyConnection,
    user: &SessionUser,
    (kind, record_id, task_id): (&str, i64, Option<i64>),
    a: &NewAttachment,
    now: NaiveDateTime,
) -> Result<i64> {
    // Optional floats go as (value, present) pairs: see `crate::opt_f64`.
    let (lat, lat_set) = crate::opt_f64(a.gps_lat);
    let (lon, lon_set) = crate::opt_f64(a.gps_lon);
    let q = sqlx::query(
        "INSERT INTO attachments (sha256, size, mime, original_name, record_kind, record_id, task_id, uploaded_by, \
         uploaded_at, has_thumbnail, taken_at, gps_lat, gps_lon) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
         CASE WHEN $13 = 1 THEN $12 END, CASE WHEN $15 = 1 THEN $14 END) RETURNING id",
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
    .bind(lat)
    .bind(lat_set)
    .bind(lon)
    .bind(lon_set);
    let r = q.fetch_one(&mut *tx).await?;
    r.i("id")
}

/// A record other than a task that evidence can be attached to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record {
    /// 督导记录: the leader's photos and notes of a visit.
    Visit(i64),
    /// 督查通报: the signed, stamped scan.
    Notice(i64),
    /// 问题台账 entry: photos of the problem, meeting minutes.
    Problem(i64),
    /// 对接活动: sign-in sheet, photos.
    DockingActivity(i64),
    /// 技术合同: the contract scan, the registration certificate.
    Contract(i64),
    /// 历练 record: a 专班's set-up notice, a 调训 certificate, a 挂职 assessment form.
    Experience(i64),
}

impl Record {
    /// The stored `record_kind` and id.
    pub fn key(self) -> (&'static str, i64) {
        match self {
            Record::Visit(i) => ("visit", i),
            Record::Notice(i) => ("notice", i),
            Record::Problem(i) => ("problem", i),
            Record::DockingActivity(i) => ("docking_activity", i),
            Record::Contract(i) => ("contract", i),
            Record::Experience(i) => ("experience", i),
        }
    }

    fn from_key(kind: &str, id: i64) -> Option<Record> {
        Some(match kind {
            "visit" => Record::Visit(id),
            "notice" => Record::Notice(id),
            "problem" => Record::Problem(id),
            "docking_activity" => Record::DockingActivity(id),
            "contract" => Record::Contract(id),
            "experience" => Record::Experience(id),
            _ => return None,
        })
    }
}

/// Roles that read district records such as 通报 (the enterprise, institution and the two
/// 三员 without business data do not).
fn reads_district_records(role: Role) -> bool {
    !matches!(role, Role::Enterprise | Role::Institution | Role::SecurityAdmin | Role::AuditAdmin | Role::OrgDept)
}

impl Db {
    /// Whether `user` may read `record` (its own rule, the same as the record's page): Ok or the
    /// record's refusal. Not found and not allowed read alike where the record itself says so.
    pub async fn may_read_record(&self, user: &SessionUser, record: Record, now: NaiveDateTime) -> Result<()> {
        match record {
            Record::Visit(id) => {
                let leader = self.visit_leader(id).await?;
                match user.role {
                    Role::Supervisor | Role::Admin => Ok(()),
                    Role::Leader if leader == user.person_id => Ok(()),
                    _ => Err(StoreError::Denied("无权限：督导记录仅督导的区领导和督查局可见".into())),
                }
            }
            Record::Notice(id) => {
                if !reads_district_records(user.role) {
                    return Err(StoreError::Denied("无权限：督查通报仅区内工作人员可见".into()));
                }
                self.get_notice(id).await.map(|_| ())
            }
            Record::Problem(id) => self.get_problem(user, id, now).await.map(|_| ()),
            Record::DockingActivity(id) => match self.activity_docking(id).await? {
                Some(d) => self.get_docking(user, d).await.map(|_| ()),
                None if Role::LEADERSHIP.contains(&user.role) || user.role == Role::TechBureau => Ok(()),
                None => Err(StoreError::Denied("无权限：对接活动记录仅科技局和区领导可见".into())),
            },
            Record::Contract(id) => {
                let docking = self.contract_docking(id).await?;
                if Role::LEADERSHIP.contains(&user.role) || user.role == Role::TechBureau {
                    return Ok(());
                }
                match docking {
                    // The parties of the docking the contract came from see its files too.
                    Some(d) => self.get_docking(user, d).await.map(|_| ()),
                    None => Err(StoreError::Denied("无权限：技术合同仅科技局和区领导可见".into())),
                }
            }
            // The 组织部's own records (its check refuses everyone else).
            Record::Experience(id) => self.experience(user, id).await.map(|_| ()),
        }
    }

    /// Whether `user` may add evidence to `record`: who writes the record keeps its file.
    pub async fn may_attach_to(&self, user: &SessionUser, record: Record, now: NaiveDateTime) -> Result<()> {
        // Each arm reads the record once and applies its read rule before the keeper's.
        let ok = match record {
            Record::Visit(id) => {
                let leader = self.visit_leader(id).await?;
                let keeper = user.role == Role::Leader && leader == user.person_id;
                if !keeper {
                    self.may_read_record(user, record, now).await?;
                }
                keeper
            }
            Record::Problem(id) => {
                let p = self.get_problem(user, id, now).await?;
                matches!(user.role, Role::Supervisor | Role::Leader)
                    || (user.role == Role::Liaison
                        && user.in_scope(xietong_supervision::UnitId(p.problem.lead_unit_id)))
            }
            Record::Notice(_) => {
                self.may_read_record(user, record, now).await?;
                user.role == Role::Supervisor
            }
            Record::DockingActivity(_) | Record::Contract(_) => {
                self.may_read_record(user, record, now).await?;
                user.role == Role::TechBureau
            }
            Record::Experience(_) => {
                self.may_read_record(user, record, now).await?;
                true
            }
        };
        if ok {
            Ok(())
        } else {
            let who = match record {
                Record::Visit(_) => "督导的区领导",
                Record::Notice(_) => "督查局",
                Record::Problem(_) => "督查局、区领导和牵头单位联络员",
                Record::DockingActivity(_) | Record::Contract(_) => "科技局",
                Record::Experience(_) => "组织部",
            };
            Err(StoreError::Denied(format!("无权限：只有{who}可以上传该记录的附件")))
        }
    }

    /// Attach files to a record other than a task, with one audit entry per file.
    pub async fn attach_to_record(
        &self,
        user: &SessionUser,
        record: Record,
        files: &[NewAttachment],
        now: NaiveDateTime,
    ) -> Result<Vec<Attachment>> {
        self.may_attach_to(user, record, now).await?;
        let (kind, id) = record.key();
        let mut tx = self.begin().await?;
        for f in files {
            let row = insert(&mut tx, user, (kind, id, None), f, now).await?;
            crate::audit::append(
                &mut tx,
                now,
                crate::audit::Change {
                    actor: &user.username,
                    action: "attachment.add",
                    entity: kind,
                    entity_id: id.to_string(),
                    before: String::new(),
                    after: serde_json::json!({"attachment_id": row, "name": f.original_name, "sha256": f.sha256})
                        .to_string(),
                },
            )
            .await?;
        }
        tx.commit().await?;
        self.record_attachments(user, record, now).await
    }

    /// The files of a record, for whoever may read the record.
    pub async fn record_attachments(
        &self,
        user: &SessionUser,
        record: Record,
        now: NaiveDateTime,
    ) -> Result<Vec<Attachment>> {
        self.may_read_record(user, record, now).await?;
        let (kind, id) = record.key();
        let rows = sqlx::query("SELECT * FROM attachments WHERE record_kind = $1 AND record_id = $2 ORDER BY id")
            .bind(kind)
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(attachment).collect()
    }

    /// The files of many records of one kind (a list page), without a check: the caller lists
    /// only records the user may read.
    pub async fn attachments_of(&self, kind: &str, ids: &[i64]) -> Result<Vec<Attachment>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let list = ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT * FROM attachments WHERE record_kind = $1 AND record_id IN ({list}) ORDER BY id"
        )))
        .bind(kind.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(attachment).collect()
    }

    async fn visit_leader(&self, id: i64) -> Result<i64> {
        sqlx::query("SELECT leader_person_id FROM supervision_visits WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("编号 {id} 的督导记录不存在")))?
            .i("leader_person_id")
    }

    /// The docking an activity belongs to, if any (its page is the docking's).
    pub async fn activity_docking_id(&self, id: i64) -> Result<Option<i64>> {
        self.activity_docking(id).await
    }

    async fn activity_docking(&self, id: i64) -> Result<Option<i64>> {
        sqlx::query("SELECT docking_id FROM docking_activities WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("编号 {id} 的对接活动不存在")))?
            .oi("docking_id")
    }

    async fn contract_docking(&self, id: i64) -> Result<Option<i64>> {
        sqlx::query("SELECT docking_id FROM contracts WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("编号 {id} 的技术合同不存在")))?
            .oi("docking_id")
    }

    /// Whether 办结申请 of this task's category must carry evidence (办结证据要求).
    async fn completion_needs_evidence(&self, tx: &mut sqlx::AnyConnection, task_id: i64) -> Result<bool> {
        let r = sqlx::query(
            "SELECT c.completion_evidence FROM tasks t JOIN categories c ON c.id = t.category_id WHERE t.id = $1",
        )
        .bind(task_id)
        .fetch_optional(&mut *tx)
        .await?;
        Ok(match r {
            Some(r) => r.i("completion_evidence")? != 0,
            None => false,
        })
    }

    /// Refuse a 办结申请 without files where the task's category requires evidence.
    pub(crate) async fn check_completion_evidence(
        &self,
        tx: &mut sqlx::AnyConnection,
        task_id: i64,
        cmd: &Command,
        files: usize,
    ) -> Result<()> {
        if matches!(cmd, Command::RequestCompletion { .. })
            && files == 0
            && self.completion_needs_evidence(tx, task_id).await?
        {
            return Err(StoreError::invalid(
                "附件",
                "该类别的任务申请办结须附证明材料（现场照片、验收单、文件扫描件等），请选择文件后再提交",
            ));
        }
        Ok(())
    }

    /// Set or clear a task's site (督查局, on a task in their scope). Bumps the version, so a form
    /// shown before the change is told the task moved on.
    pub async fn set_task_site(
        &self,
        user: &SessionUser,
        task_id: i64,
        name: &str,
        lat: Option<f64>,
        lon: Option<f64>,
        now: NaiveDateTime,
    ) -> Result<()> {
        user.actor().may_create_tasks()?;
        let site = xietong_supervision::evidence::check_site(lat, lon).map_err(|(f, m)| StoreError::invalid(f, m))?;
        let name = xietong_supervision::validate::optional_text("地点名称", name, 100)?.unwrap_or_default();
        self.get_task(user, xietong_supervision::TaskId(task_id), now).await?;
        let mut tx = self.begin().await?;
        let (lat, set) = crate::opt_f64(site.map(|s| s.0));
        let (lon, _) = crate::opt_f64(site.map(|s| s.1));
        let q = sqlx::query(
            "UPDATE tasks SET site_name = $1, updated_at = $2, version = version + 1, \
             site_lat = CASE WHEN $5 = 1 THEN $4 END, site_lon = CASE WHEN $5 = 1 THEN $6 END WHERE id = $3",
        )
        .bind(name.clone())
        .bind(ts(now))
        .bind(task_id)
        .bind(lat)
        .bind(set)
        .bind(lon);
        let n = q.execute(&mut *tx).await?.rows_affected();
        if n != 1 {
            return Err(StoreError::NotFound(format!("编号 {task_id} 的任务不存在")));
        }
        crate::audit::append(
            &mut tx,
            now,
            crate::audit::Change {
                actor: &user.username,
                action: "task.site",
                entity: "task",
                entity_id: task_id.to_string(),
                before: String::new(),
                after:
                    serde_json::json!({"site_name": name, "site_lat": site.map(|s| s.0), "site_lon": site.map(|s| s.1)})
                        .to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Set or clear a category's 办结证据要求 (督查局).
    pub async fn set_completion_evidence(
        &self,
        user: &SessionUser,
        category_id: i64,
        required: bool,
        now: NaiveDateTime,
    ) -> Result<()> {
        if user.role != Role::Supervisor {
            return Err(StoreError::Denied("无权限：办结证据要求由督查局设置".into()));
        }
        let mut tx = self.begin().await?;
        let before = sqlx::query("SELECT completion_evidence FROM categories WHERE id = $1")
            .bind(category_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("编号 {category_id} 的工作类别不存在")))?
            .i("completion_evidence")?;
        if (before != 0) == required {
            return Ok(());
        }
        let n =
            sqlx::query("UPDATE categories SET completion_evidence = $1 WHERE id = $2 AND completion_evidence = $3")
                .bind(i64::from(required))
                .bind(category_id)
                .bind(before)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if n == 0 {
            // Someone set it at the same moment: the value asked for is there.
            return Ok(());
        }
        crate::audit::append(
            &mut tx,
            now,
            crate::audit::Change {
                actor: &user.username,
                action: "category.completion_evidence",
                entity: "category",
                entity_id: category_id.to_string(),
                before: serde_json::json!({"completion_evidence": before != 0}).to_string(),
                after: serde_json::json!({"completion_evidence": required}).to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

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
            self.check_completion_evidence(&mut tx, task_id, &cmd, files.len()).await?;
            if !files.is_empty() {
                let row = sqlx::query("SELECT MAX(id) AS id FROM task_events WHERE task_id = $1")
                    .bind(task_id)
                    .fetch_one(&mut *tx)
                    .await?;
                let event_id = row.oi("id")?.ok_or_else(|| StoreError::internal("操作未写入时间线"))?;
                for f in files {
                    insert(&mut tx, user, ("task_event", event_id, Some(task_id)), f, ctx.now).await?;
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
            insert(&mut tx, user, ("task", task_id, Some(task_id)), f, now).await?;
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
        match (a.task_id, Record::from_key(&a.record_kind, a.record_id)) {
            (Some(t), _) => {
                self.get_task(user, xietong_supervision::TaskId(t), now).await?;
            }
            (None, Some(record)) => self.may_read_record(user, record, now).await?,
            // A row of no known record is nobody's to read.
            (None, None) => return Err(StoreError::NotFound(format!("编号 {id} 的附件不存在"))),
        }
        Ok(a)
    }

    /// The SHA-256 of every stored attachment, for a backup's consistency check.
    pub async fn attachment_hashes(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT DISTINCT sha256 FROM attachments").fetch_all(&self.pool).await?;
        rows.iter().map(|r| r.s("sha256")).collect()
    }
}
