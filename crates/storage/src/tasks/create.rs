//! 立项: a new task checked against the calendar and the rules, optionally 交办 at once.

use xietong_supervision::validate::{self, Checks, TaskInput};
use xietong_supervision::{FieldError, TaskId, UnitId};

use super::{Command, Ctx, NewTask, event};
use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::{Db, Result, RowExt, ts};

impl Db {
    /// 立项 (and optionally 交办 at once). Only the 督查局 may do it.
    pub async fn create_task(&self, user: &SessionUser, ctx: &Ctx<'_>, n: &NewTask) -> Result<TaskId> {
        let mut tx = self.begin().await?;
        let id = self.create_task_in(&mut tx, user, ctx, n).await?;
        tx.commit().await?;
        Ok(TaskId(id))
    }

    /// 立项 from a form: `pre` holds the errors of fields the form could not read (a choice that is
    /// no id); they are reported with every other field's, so one answer names them all.
    pub async fn create_task_from_form(
        &self,
        user: &SessionUser,
        ctx: &Ctx<'_>,
        n: &NewTask,
        pre: Vec<FieldError>,
    ) -> Result<TaskId> {
        let mut tx = self.begin().await?;
        let id = self.create_task_checked(&mut tx, user, ctx, n, pre).await?;
        tx.commit().await?;
        Ok(TaskId(id))
    }

    /// 立项 inside a caller's transaction, so an import or a project can create many tasks or
    /// none. With `assign_now`, 交办 happens in the same transaction.
    pub async fn create_task_in(
        &self,
        tx: &mut sqlx::AnyConnection,
        user: &SessionUser,
        ctx: &Ctx<'_>,
        n: &NewTask,
    ) -> Result<i64> {
        self.create_task_checked(tx, user, ctx, n, vec![]).await
    }

    /// 立项 with `pre` errors found by the caller (a form, or the project wrapping the task):
    /// every error is answered at once, nothing is written unless there is none.
    pub(crate) async fn create_task_checked(
        &self,
        tx: &mut sqlx::AnyConnection,
        user: &SessionUser,
        ctx: &Ctx<'_>,
        n: &NewTask,
        pre: Vec<FieldError>,
    ) -> Result<i64> {
        let mut c = Checks::with(pre);
        // A lead unit the form could not read is reported with the rest, not looked up.
        let lead_known = !c.has("牵头单位");
        if lead_known {
            user.actor().may_create_task(UnitId(n.lead_unit_id))?;
        } else {
            user.actor().may_create_tasks()?;
        }
        let input = TaskInput {
            title: &n.title,
            description: &n.description,
            source_kind: &n.source_kind,
            doc_no: &n.doc_no,
            source_title: &n.source_title,
            source_date: &n.source_date,
            received_at: n.received_at.as_deref().unwrap_or(""),
            report_cycle: &n.report_cycle,
            deadline: &n.deadline,
            lead_unit_id: lead_known.then_some(n.lead_unit_id),
            co_unit_ids: &n.co_unit_ids,
        };
        let checked = validate::new_task(ctx.cal, ctx.now, &input, &mut c);

        // What only the database knows, checked for every field too.
        if lead_known && !self.unit_found(tx, n.lead_unit_id).await? {
            c.fail("牵头单位", format!("编号 {} 的单位不存在", n.lead_unit_id));
        }
        for u in &n.co_unit_ids {
            if !self.unit_found(tx, *u).await? {
                c.fail("配合单位", format!("编号 {u} 的单位不存在"));
            }
        }
        if let Some(p) = n.leader_person_id {
            let r = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE person_id = $1 AND role = 'leader'")
                .bind(p)
                .fetch_one(&mut *tx)
                .await?;
            if r.i("n")? == 0 {
                c.fail("分管领导", format!("编号 {p} 的人员不是区领导"));
            }
        }
        if let Some(cat) = n.category_id {
            let r =
                sqlx::query("SELECT COUNT(*) AS n FROM categories WHERE id = $1").bind(cat).fetch_one(&mut *tx).await?;
            if r.i("n")? == 0 {
                c.fail("工作类别", format!("编号 {cat} 的类别不存在"));
            }
        }
        // Look-alikes (full-width digits, zero-width characters) are the same 文号; the unique
        // index on doc_no_key decides between concurrent 立项 of one.
        if let Some(doc) = checked.as_ref().map(|t| t.doc_no.clone()) {
            let dup = sqlx::query("SELECT doc_no FROM tasks WHERE doc_no_key = $1")
                .bind(xietong_supervision::text::doc_no_key(&doc))
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(r) = dup {
                c.fail("文号", crate::tasks::duplicate_doc_no(&doc, &r.s("doc_no")?, "立项"));
            }
        }
        let t = c.done(|| checked)?;
        let (title, doc) = (t.title.clone(), t.doc_no.clone());
        let (source_kind, received_at, deadline) = (t.source_kind, t.received_at, t.deadline);
        let doc_key = xietong_supervision::text::doc_no_key(&doc);
        let id = sqlx::query(
            "INSERT INTO tasks (title, description, source_kind, doc_no, source_title, source_date, category_id, lead_unit_id, \
             leader_person_id, status, report_cycle, round, progress, received_at, deadline, created_by, created_at, updated_at, doc_no_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'draft', $10, 1, 0, $11, $12, $13, $14, $14, $15) RETURNING id",
        )
        .bind(title.clone())
        .bind(t.description)
        .bind(source_kind.code().to_string())
        .bind(doc.clone())
        .bind(t.source_title)
        .bind(t.source_date.to_string())
        .bind(n.category_id)
        .bind(n.lead_unit_id)
        .bind(n.leader_person_id)
        .bind(t.report_cycle.code().to_string())
        .bind(ts(received_at))
        .bind(ts(deadline))
        .bind(user.user_id)
        .bind(ts(ctx.now))
        .bind(doc_key)
        .fetch_one(&mut *tx)
        .await?
        .i("id")?;
        for u in &n.co_unit_ids {
            sqlx::query("INSERT INTO task_co_units (task_id, unit_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(id)
                .bind(*u)
                .execute(&mut *tx)
                .await?;
        }
        event(&mut *tx, id, "create", user, ctx.now, "", "draft", &format!("立项：{title}")).await?;
        let after = serde_json::json!({"title": title, "doc_no": doc, "lead_unit_id": n.lead_unit_id, "co_unit_ids": n.co_unit_ids,
            "deadline": ts(deadline), "received_at": ts(received_at), "source_kind": source_kind.code()});
        append(
            tx,
            ctx.now,
            Change {
                actor: &user.username,
                action: "task.create",
                entity: "task",
                entity_id: id.to_string(),
                before: String::new(),
                after: after.to_string(),
            },
        )
        .await?;
        if n.assign_now {
            self.perform_in(tx, user, ctx, id, Command::Assign { comment: String::new() }, None).await?;
        }
        Ok(id)
    }
}
