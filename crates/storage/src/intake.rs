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

/// A name documents use for a unit.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct UnitAlias {
    pub id: i64,
    /// 文件中的写法，如「区住建局」
    pub words: String,
    pub unit_id: i64,
    pub unit_name: String,
}

fn may_keep_aliases(user: &SessionUser) -> Result<()> {
    if matches!(user.role, Role::Admin | Role::Supervisor) {
        Ok(())
    } else {
        Err(StoreError::Denied("无权限：只有系统管理员和督查局可以维护单位别名".into()))
    }
}

impl Db {
    /// Every alias (anyone who reads documents into tasks uses them).
    pub async fn unit_aliases(&self) -> Result<Vec<UnitAlias>> {
        let rows = sqlx::query(
            "SELECT a.id, a.words, a.unit_id, u.name FROM unit_aliases a JOIN units u ON u.id = a.unit_id \
             ORDER BY u.sort, u.id, a.words",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                use crate::RowExt;
                Ok(UnitAlias {
                    id: r.i("id")?,
                    words: r.s("words")?,
                    unit_id: r.i("unit_id")?,
                    unit_name: r.s("name")?,
                })
            })
            .collect()
    }

    /// Add an alias, or point an existing one at another unit (系统管理员, 督查局).
    pub async fn set_unit_alias(
        &self,
        user: &SessionUser,
        words: &str,
        unit_id: i64,
        now: chrono::NaiveDateTime,
    ) -> Result<()> {
        use crate::RowExt;
        may_keep_aliases(user)?;
        let words = words.trim();
        let n = words.chars().count();
        if !(2..=30).contains(&n) || words.chars().any(|c| c.is_whitespace() || c.is_ascii_control()) {
            return Err(StoreError::invalid("words", "别名应为 2–30 个字，不含空格"));
        }
        let mut tx = self.begin().await?;
        let unit = sqlx::query("SELECT name FROM units WHERE id = $1")
            .bind(unit_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::invalid("unit_id", format!("编号 {unit_id} 的单位不存在")))?
            .s("name")?;
        let clash = sqlx::query("SELECT name FROM units WHERE name = $1")
            .bind(words.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        if clash.is_some() {
            return Err(StoreError::invalid("words", format!("「{words}」是一个单位的正式名称，不能作为别名")));
        }
        sqlx::query(
            "INSERT INTO unit_aliases (words, unit_id, created_by, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (words) DO UPDATE SET unit_id = excluded.unit_id",
        )
        .bind(words.to_string())
        .bind(unit_id)
        .bind(user.username.clone())
        .bind(crate::ts(now))
        .execute(&mut *tx)
        .await?;
        let change = audit::Change {
            actor: &user.username,
            action: "intake.alias.set",
            entity: "unit",
            entity_id: unit_id.to_string(),
            before: String::new(),
            after: serde_json::json!({"words": words, "unit": unit}).to_string(),
        };
        audit::append(&mut tx, now, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Remove an alias (系统管理员, 督查局); 409 when it is gone already.
    pub async fn remove_unit_alias(&self, user: &SessionUser, id: i64, now: chrono::NaiveDateTime) -> Result<()> {
        use crate::RowExt;
        may_keep_aliases(user)?;
        let mut tx = self.begin().await?;
        let gone = sqlx::query("DELETE FROM unit_aliases WHERE id = $1 RETURNING words, unit_id")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::Conflict("该别名已不存在（可能已被他人删除）".into()))?;
        let change = audit::Change {
            actor: &user.username,
            action: "intake.alias.remove",
            entity: "unit",
            entity_id: gone.i("unit_id")?.to_string(),
            before: serde_json::json!({"words": gone.s("words")?}).to_string(),
            after: String::new(),
        };
        audit::append(&mut tx, now, change).await?;
        tx.commit().await?;
        Ok(())
    }
}
