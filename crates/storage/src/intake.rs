//! 任务抽取's last step: the clerk's corrected draft batch is created and handed over (立项并交办)
//! in one transaction — every item or none, each refusal naming its item and field — and every task
//! is linked to the document it came from, kept as an attachment.

use crate::attachments::NewAttachment;
use crate::auth::SessionUser;
use crate::imports::{RowProblem, per_row, problem};
use crate::tasks::{Ctx, NewTask};
use crate::{Db, Result, StoreError, audit};
use xietong_supervision::Role;

fn refusal(problems: &[RowProblem]) -> StoreError {
    let lines: Vec<String> = problems
        .iter()
        .map(|p| match &p.column {
            Some(c) => format!("第 {} 项「{c}」：{}", p.row, p.message),
            None => format!("第 {} 项：{}", p.row, p.message),
        })
        .collect();
    StoreError::BadInput(format!("未立项（共 {} 处错误，未写入任何数据）：\n{}", problems.len(), lines.join("\n")))
}

impl Db {
    /// Create and hand over every item, all or nothing (督查局). `document` is stored once and
    /// linked to each task. Returns the new tasks' ids, in the items' order.
    pub async fn confirm_intake(
        &self,
        user: &SessionUser,
        ctx: &Ctx<'_>,
        items: &[NewTask],
        document: Option<&NewAttachment>,
    ) -> Result<Vec<i64>> {
        if user.role != Role::Supervisor {
            return Err(StoreError::Denied("无权限：只有督查局可以从文件立项".into()));
        }
        if items.is_empty() {
            return Err(StoreError::BadInput("没有要立项的事项：请至少勾选一项".into()));
        }
        let mut problems: Vec<RowProblem> = vec![];
        let mut ids = vec![];
        let mut tx = self.begin().await?;
        for (i, n) in items.iter().enumerate() {
            if let Some(id) = per_row!(tx, i + 1, problems, self.create_task_in(&mut tx, user, ctx, n).await) {
                ids.push(id);
            }
        }
        if !problems.is_empty() {
            tx.rollback().await?;
            return Err(refusal(&problems));
        }
        if let Some(doc) = document {
            for id in &ids {
                crate::attachments::insert(&mut tx, user, ("task", *id, Some(*id)), doc, ctx.now).await?;
            }
        }
        let change = audit::Change {
            actor: &user.username,
            action: "intake.confirm",
            entity: "import",
            entity_id: ids.len().to_string(),
            before: String::new(),
            after: serde_json::json!({"task_ids": ids, "document": document.map(|d| d.original_name.clone())})
                .to_string(),
        };
        audit::append(&mut tx, ctx.now, change).await?;
        tx.commit().await?;
        Ok(ids)
    }
}
