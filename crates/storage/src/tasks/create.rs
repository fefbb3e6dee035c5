//! 立项: a new task checked against the calendar and the rules, optionally 交办 at once.

use xietong_calendar::{parse_date, parse_datetime};
use xietong_supervision::lifecycle::{ReportCycle, SourceKind};
use xietong_supervision::validate::{
    deadline_after, deadline_on_working_day, deadline_within_years, doc_no, optional_multiline, optional_text,
    required_text,
};
use xietong_supervision::{TaskId, UnitId};

use super::{Command, Ctx, NewTask, event};
use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::{Db, Result, RowExt, StoreError, ts};

impl Db {
    /// 立项 (and optionally 交办 at once). Only the 督查局 may do it.
    pub async fn create_task(&self, user: &SessionUser, ctx: &Ctx<'_>, n: &NewTask) -> Result<TaskId> {
        let mut tx = self.begin().await?;
        let id = self.create_task_in(&mut tx, user, ctx, n).await?;
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
        user.actor().may_create_task(UnitId(n.lead_unit_id))?;
        let title = required_text("任务名称", &n.title, 200)?;
        let description = optional_multiline("任务内容", &n.description, 5000)?.unwrap_or_default();
        let source_kind = SourceKind::from_code(n.source_kind.trim())
            .ok_or_else(|| StoreError::invalid("任务来源", "应为 上级交办、会议 或 领导批示"))?;
        let doc = doc_no(&n.doc_no)?;
        let source_title = optional_text("来源文件/会议名称", &n.source_title, 200)?.unwrap_or_default();
        let source_date = parse_date("来源日期", n.source_date.trim())?;
        let cycle = ReportCycle::from_code(n.report_cycle.trim())
            .ok_or_else(|| StoreError::invalid("汇报周期", "应为 每周、每半月、每月 或 按节点"))?;
        let received_at = match n.received_at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => parse_datetime("收件时间", s)?,
            None => ctx.now,
        };
        if received_at > ctx.now {
            return Err(StoreError::invalid("收件时间", "不能晚于当前时间"));
        }
        if source_date > received_at.date() {
            return Err(StoreError::invalid("来源日期", "不能晚于收件时间"));
        }
        let deadline = deadline_on_working_day(ctx.cal, "办理期限", parse_date("办理期限", n.deadline.trim())?)?;
        deadline_after("办理期限", deadline, received_at, "收件时间")?;
        deadline_within_years("办理期限", deadline, ctx.now, 5)?;
        if received_at < ctx.now - chrono::Duration::days(366 * 5) {
            return Err(StoreError::invalid("收件时间", "不能早于当前时间 5 年以上"));
        }
        if n.co_unit_ids.contains(&n.lead_unit_id) {
            return Err(StoreError::invalid("配合单位", "不能包含牵头单位"));
        }

        self.unit_exists(tx, "牵头单位", n.lead_unit_id).await?;
        for u in &n.co_unit_ids {
            self.unit_exists(tx, "配合单位", *u).await?;
        }
        if let Some(p) = n.leader_person_id {
            let r = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE person_id = $1 AND role = 'leader'")
                .bind(p)
                .fetch_one(&mut *tx)
                .await?;
            if r.i("n")? == 0 {
                return Err(StoreError::invalid("分管领导", format!("编号 {p} 的人员不是区领导")));
            }
        }
        if let Some(c) = n.category_id {
            let r =
                sqlx::query("SELECT COUNT(*) AS n FROM categories WHERE id = $1").bind(c).fetch_one(&mut *tx).await?;
            if r.i("n")? == 0 {
                return Err(StoreError::invalid("工作类别", format!("编号 {c} 的类别不存在")));
            }
        }
        // Look-alikes (full-width digits, zero-width characters) are the same 文号; the unique
        // index on doc_no_key decides between concurrent 立项 of one.
        let doc_key = xietong_supervision::text::doc_no_key(&doc);
        let dup = sqlx::query("SELECT doc_no FROM tasks WHERE doc_no_key = $1")
            .bind(doc_key.clone())
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(r) = dup {
            return Err(StoreError::invalid("文号", crate::tasks::duplicate_doc_no(&doc, &r.s("doc_no")?, "立项")));
        }
        let id = sqlx::query(
            "INSERT INTO tasks (title, description, source_kind, doc_no, source_title, source_date, category_id, lead_unit_id, \
             leader_person_id, status, report_cycle, round, progress, received_at, deadline, created_by, created_at, updated_at, doc_no_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'draft', $10, 1, 0, $11, $12, $13, $14, $14, $15) RETURNING id",
        )
        .bind(title.clone())
        .bind(description)
        .bind(source_kind.code().to_string())
        .bind(doc.clone())
        .bind(source_title)
        .bind(source_date.to_string())
        .bind(n.category_id)
        .bind(n.lead_unit_id)
        .bind(n.leader_person_id)
        .bind(cycle.code().to_string())
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
