//! 清单: named sets of supervised tasks imported from Excel (e.g. houses to rebuild after the
//! 2021 flood, flood-drill rectification items). The items are ordinary tasks.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::auth::SessionUser;
use crate::tasks::{TASK_SELECT, Task, scope_sql};
use crate::{Db, Result, RowExt, StoreError};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TaskList {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub category_name: Option<String>,
    pub created_at: NaiveDateTime,
    /// Items within the user's data scope.
    pub items: i64,
    pub closed: i64,
}

impl Db {
    pub async fn task_lists(&self, user: &SessionUser) -> Result<Vec<TaskList>> {
        let sql = format!(
            "SELECT l.id, l.name, l.description, c.name AS category_name, l.created_at, \
             (SELECT COUNT(*) FROM task_list_items i JOIN tasks t ON t.id = i.task_id WHERE i.list_id = l.id AND {s}) AS items, \
             (SELECT COUNT(*) FROM task_list_items i JOIN tasks t ON t.id = i.task_id WHERE i.list_id = l.id AND t.status = 'closed' AND {s}) AS closed \
             FROM task_lists l LEFT JOIN categories c ON c.id = l.category_id ORDER BY l.id DESC",
            s = scope_sql(user)
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(TaskList {
                    id: r.i("id")?,
                    name: r.s("name")?,
                    description: r.s("description")?,
                    category_name: r.os("category_name")?,
                    created_at: r.t("created_at")?,
                    items: r.i("items")?,
                    closed: r.i("closed")?,
                })
            })
            .collect()
    }

    /// The list and its items within the user's data scope, in spreadsheet row order.
    pub async fn list_items(&self, user: &SessionUser, list_id: i64) -> Result<(TaskList, Vec<Task>)> {
        let list = self
            .task_lists(user)
            .await?
            .into_iter()
            .find(|l| l.id == list_id)
            .ok_or_else(|| StoreError::NotFound(format!("编号 {list_id} 的清单不存在")))?;
        let sql = format!(
            "{TASK_SELECT} JOIN task_list_items li ON li.task_id = t.id WHERE li.list_id = $1 AND {} ORDER BY li.row_no",
            scope_sql(user)
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(list_id).fetch_all(&self.pool).await?;
        let tasks = rows.iter().map(crate::tasks::task).collect::<Result<Vec<_>>>()?;
        Ok((list, tasks))
    }
}

impl Db {
    /// Group existing tasks into a list (督查局), e.g. the items of an inspection report.
    pub async fn create_list_of(
        &self,
        user: &SessionUser,
        name: &str,
        description: &str,
        category_id: Option<i64>,
        task_ids: &[i64],
        now: NaiveDateTime,
    ) -> Result<i64> {
        if user.role != xietong_supervision::Role::Supervisor {
            return Err(StoreError::Denied("无权限：只有督查局可以建立清单".into()));
        }
        let name = xietong_supervision::validate::required_text("清单名称", name, 100)?;
        let mut tx = self.begin().await?;
        let id = sqlx::query("INSERT INTO task_lists (name, description, category_id, created_by, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(name.clone())
            .bind(description.to_string())
            .bind(category_id)
            .bind(user.user_id)
            .bind(crate::ts(now))
            .fetch_one(&mut *tx)
            .await?
            .i("id")?;
        for (i, t) in task_ids.iter().enumerate() {
            sqlx::query("INSERT INTO task_list_items (list_id, task_id, row_no) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(*t)
                .bind(i as i64 + 1)
                .execute(&mut *tx)
                .await?;
        }
        let after = serde_json::json!({"name": name, "task_ids": task_ids});
        crate::audit::append(
            &mut tx,
            now,
            crate::audit::Change {
                actor: &user.username,
                action: "list.create",
                entity: "task_list",
                entity_id: id.to_string(),
                before: String::new(),
                after: after.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }
}
