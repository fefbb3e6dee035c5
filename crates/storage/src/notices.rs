//! 督查通报: notices the 督查局 issues (表扬 / 批评 / 预警 / 月度排名), each naming tasks, units
//! and people. Issuing one writes a record per named unit (业绩) and person (政绩), which the
//! annual assessment counts.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use xietong_supervision::ranking::NoticeKind;
use xietong_supervision::validate::{self, Checks, doc_no, required_multiline, required_text};
use xietong_supervision::{FieldError, Role};

use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::{Db, Result, RowExt, StoreError, ts};

#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct NoticeTarget {
    pub unit_id: i64,
    /// The person named; when empty the unit's 一把手 is recorded, who answers for the unit.
    #[serde(default)]
    pub person_id: Option<i64>,
    #[serde(default)]
    pub task_id: Option<i64>,
}

/// A notice as it would be published: checked, each unit with the person its record will name.
#[derive(Clone, Debug, Serialize)]
pub struct NoticePreview {
    pub kind: NoticeKind,
    pub kind_label: String,
    pub doc_no: String,
    pub title: String,
    pub body: String,
    pub issued_on: NaiveDate,
    pub targets: Vec<PreviewTarget>,
    pub ranking_id: Option<i64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PreviewTarget {
    pub unit_id: i64,
    pub unit_name: String,
    pub person_id: Option<i64>,
    /// The named person, or the unit's 一把手.
    pub person_name: Option<String>,
    pub task_id: Option<i64>,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewNotice {
    /// praise 表扬 / criticism 批评 / warning 预警
    pub kind: String,
    pub doc_no: String,
    pub title: String,
    pub body: String,
    pub issued_on: String,
    pub targets: Vec<NoticeTarget>,
    #[serde(default)]
    pub ranking_id: Option<i64>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct NoticeRecord {
    pub notice_id: i64,
    pub notice_title: String,
    pub doc_no: String,
    pub kind: NoticeKind,
    pub kind_label: String,
    pub issued_on: NaiveDate,
    pub unit_id: i64,
    pub unit_name: String,
    pub person_id: Option<i64>,
    pub person_name: Option<String>,
    pub person_post: Option<String>,
    pub task_id: Option<i64>,
    pub task_title: Option<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Notice {
    pub id: i64,
    pub kind: NoticeKind,
    pub kind_label: String,
    pub doc_no: String,
    pub title: String,
    pub body: String,
    pub issued_on: NaiveDate,
    pub ranking_id: Option<i64>,
    pub records: Vec<NoticeRecord>,
}

const RECORD_SELECT: &str = "SELECT r.notice_id, n.title AS notice_title, n.doc_no, r.kind, r.issued_on, r.unit_id, u.name AS unit_name, \
     r.person_id, p.name AS person_name, p.post AS person_post, r.task_id, t.title AS task_title \
     FROM notice_records r JOIN notices n ON n.id = r.notice_id JOIN units u ON u.id = r.unit_id \
     LEFT JOIN people p ON p.id = r.person_id LEFT JOIN tasks t ON t.id = r.task_id";

fn record(r: &sqlx::any::AnyRow) -> Result<NoticeRecord> {
    let kind_s = r.s("kind")?;
    let kind = NoticeKind::from_code(&kind_s)
        .ok_or_else(|| StoreError::internal(format!("数据库中的通报类型无效：{kind_s}")))?;
    Ok(NoticeRecord {
        notice_id: r.i("notice_id")?,
        notice_title: r.s("notice_title")?,
        doc_no: r.s("doc_no")?,
        kind,
        kind_label: kind.label_zh().to_string(),
        issued_on: r.d("issued_on")?,
        unit_id: r.i("unit_id")?,
        unit_name: r.s("unit_name")?,
        person_id: r.oi("person_id")?,
        person_name: r.os("person_name")?,
        person_post: r.os("person_post")?,
        task_id: r.oi("task_id")?,
        task_title: r.os("task_title")?,
    })
}

impl Db {
    /// Issue a notice (督查局 only), recording it for every named unit and person in one transaction.
    /// What issuing `n` would publish, every field checked at once, nothing written: the 督查局
    /// confirms this before a notice goes out (a published notice cannot be withdrawn).
    pub async fn preview_notice(&self, user: &SessionUser, n: &NewNotice, now: NaiveDateTime) -> Result<NoticePreview> {
        let mut tx = self.begin().await?;
        let p = self.check_notice(&mut tx, user, n, now).await?;
        // Read only: dropping the transaction rolls nothing back.
        drop(tx);
        Ok(p)
    }

    async fn check_notice(
        &self,
        tx: &mut sqlx::AnyConnection,
        user: &SessionUser,
        n: &NewNotice,
        now: NaiveDateTime,
    ) -> Result<NoticePreview> {
        if user.role != Role::Supervisor {
            return Err(StoreError::Denied("无权限：只有督查局可以发布通报".into()));
        }
        let actor = user.actor();
        for (i, t) in n.targets.iter().enumerate() {
            actor.must_reach(&format!("通报对象第 {} 行的单位", i + 1), xietong_supervision::UnitId(t.unit_id))?;
        }
        let mut c = Checks::new();
        let kind = c.take(
            NoticeKind::from_code(n.kind.trim()).ok_or_else(|| FieldError::new("通报类型", "应为 表扬、批评 或 预警")),
        );
        let doc = c.take(doc_no(&n.doc_no));
        let title = c.take(required_text("通报标题", &n.title, 200));
        let body = c.take(required_multiline("通报正文", &n.body, 20000));
        let issued_on = c.take(validate::date("发布日期", &n.issued_on).and_then(|d| {
            if d > now.date() {
                Err(FieldError::new("发布日期", format!("不能晚于今天（{}）", now.date())))
            } else {
                Ok(d)
            }
        }));
        if n.targets.is_empty() {
            c.fail("通报对象", "至少指明一个单位");
        }
        if let Some(doc) = &doc {
            let dup = sqlx::query("SELECT doc_no FROM notices WHERE doc_no_key = $1")
                .bind(xietong_supervision::text::doc_no_key(doc))
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(r) = dup {
                c.fail("文号", crate::tasks::duplicate_doc_no(doc, &r.s("doc_no")?, "发布"));
            }
        }
        let mut targets = vec![];
        for (i, t) in n.targets.iter().enumerate() {
            let row = i + 1;
            let u = sqlx::query(
                "SELECT u.name, u.head_person_id, p.name AS head_name FROM units u \
                 LEFT JOIN people p ON p.id = u.head_person_id WHERE u.id = $1",
            )
            .bind(t.unit_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(u) = u else {
                c.fail(&format!("第{row}个通报对象的单位"), format!("编号 {} 的单位不存在", t.unit_id));
                continue;
            };
            let (person_id, person_name) = match t.person_id {
                Some(p) => {
                    let pu =
                        sqlx::query("SELECT name FROM people WHERE id = $1").bind(p).fetch_optional(&mut *tx).await?;
                    match pu {
                        None => {
                            c.fail(&format!("第{row}个通报对象的责任人"), format!("编号 {p} 的人员不存在"));
                            (None, None)
                        }
                        Some(r) => (Some(p), Some(r.s("name")?)),
                    }
                }
                None => (u.oi("head_person_id")?, u.os("head_name")?),
            };
            if let Some(task) = t.task_id {
                let ok =
                    sqlx::query("SELECT COUNT(*) AS n FROM tasks WHERE id = $1").bind(task).fetch_one(&mut *tx).await?;
                if ok.i("n")? == 0 {
                    c.fail(&format!("第{row}个通报对象的任务"), format!("编号 {task} 的任务不存在"));
                }
            }
            targets.push(PreviewTarget {
                unit_id: t.unit_id,
                unit_name: u.s("name")?,
                person_id,
                person_name,
                task_id: t.task_id,
            });
        }
        let preview = || {
            let kind = kind?;
            Some(NoticePreview {
                kind,
                kind_label: kind.label_zh().to_string(),
                doc_no: doc?,
                title: title?,
                body: body?,
                issued_on: issued_on?,
                targets,
                ranking_id: n.ranking_id,
            })
        };
        Ok(c.done(preview)?)
    }

    pub async fn issue_notice(&self, user: &SessionUser, n: &NewNotice, now: NaiveDateTime) -> Result<i64> {
        let mut tx = self.begin().await?;
        let p = self.check_notice(&mut tx, user, n, now).await?;
        let (kind, doc, title, issued_on) = (p.kind, p.doc_no.clone(), p.title.clone(), p.issued_on);
        let doc_key = xietong_supervision::text::doc_no_key(&doc);
        let id = sqlx::query(
            "INSERT INTO notices (kind, doc_no, title, body, issued_on, ranking_id, issued_by, created_at, doc_no_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(kind.code().to_string())
        .bind(doc.clone())
        .bind(title.clone())
        .bind(p.body.clone())
        .bind(issued_on.to_string())
        .bind(n.ranking_id)
        .bind(user.user_id)
        .bind(ts(now))
        .bind(doc_key)
        .fetch_one(&mut *tx)
        .await?
        .i("id")?;
        for t in &p.targets {
            let person = t.person_id;
            sqlx::query("INSERT INTO notice_records (notice_id, unit_id, person_id, task_id, kind, issued_on) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(id)
                .bind(t.unit_id)
                .bind(person)
                .bind(t.task_id)
                .bind(kind.code().to_string())
                .bind(issued_on.to_string())
                .execute(&mut *tx)
                .await?;
            crate::inbox::send(
                &mut tx,
                crate::inbox::To { unit_id: Some(t.unit_id), person_id: person, role: None },
                "notice",
                &format!("督查局{}通报：{title}（{doc}）", kind.label_zh()),
                t.task_id,
                Some(&format!("/notices/{id}")),
                now,
            )
            .await?;
        }
        let after = serde_json::json!({"kind": kind.code(), "doc_no": doc, "title": title, "issued_on": issued_on.to_string(), "targets": n.targets});
        append(
            &mut tx,
            now,
            Change {
                actor: &user.username,
                action: "notice.issue",
                entity: "notice",
                entity_id: id.to_string(),
                before: String::new(),
                after: after.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn get_notice(&self, id: i64) -> Result<Notice> {
        let r = sqlx::query("SELECT * FROM notices WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("编号 {id} 的通报不存在")))?;
        let kind_s = r.s("kind")?;
        let kind = NoticeKind::from_code(&kind_s)
            .ok_or_else(|| StoreError::internal(format!("数据库中的通报类型无效：{kind_s}")))?;
        let recs = sqlx::query(sqlx::AssertSqlSafe(format!("{RECORD_SELECT} WHERE r.notice_id = $1 ORDER BY r.id")))
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        Ok(Notice {
            id,
            kind,
            kind_label: kind.label_zh().to_string(),
            doc_no: r.s("doc_no")?,
            title: r.s("title")?,
            body: r.s("body")?,
            issued_on: r.d("issued_on")?,
            ranking_id: r.oi("ranking_id")?,
            records: recs.iter().map(record).collect::<Result<_>>()?,
        })
    }

    pub async fn list_notices(&self) -> Result<Vec<Notice>> {
        let ids = sqlx::query("SELECT id FROM notices ORDER BY issued_on DESC, id DESC").fetch_all(&self.pool).await?;
        let mut out = vec![];
        for r in ids {
            out.push(self.get_notice(r.i("id")?).await?);
        }
        Ok(out)
    }

    /// A unit's 业绩 record or a person's 政绩 record: every notice that named them.
    pub async fn notice_records(&self, unit_id: Option<i64>, person_id: Option<i64>) -> Result<Vec<NoticeRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{RECORD_SELECT} WHERE ($1 = 0 OR r.unit_id = $1) AND ($2 = 0 OR r.person_id = $2) ORDER BY r.issued_on DESC, r.id DESC"
        )))
        .bind(unit_id.unwrap_or(0))
        .bind(person_id.unwrap_or(0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(record).collect()
    }
}
