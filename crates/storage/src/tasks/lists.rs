//! The lists people work from: the task list within a data scope, 待办, and the lookups by id and
//! 文号.

use chrono::NaiveDateTime;
use xietong_supervision::Role;
use xietong_supervision::lifecycle::{SourceKind, TaskStatus};

use xietong_supervision::lights;

use super::{Ctx, OPEN_STATUSES, TASK_SELECT, TaskFilter, TaskPage, TodoItem, scope_sql, task};
use crate::auth::SessionUser;
use crate::{Db, Result, RowExt, StoreError, ts};

impl Db {
    /// The task list within the user's data scope, with filters.
    pub async fn list_tasks(&self, user: &SessionUser, ctx: &Ctx<'_>, f: &TaskFilter) -> Result<TaskPage> {
        let mut conds = vec![scope_sql(user)];
        let mut binds: Vec<String> = vec![];
        let mut int_binds: Vec<i64> = vec![];
        match f.status.as_deref().filter(|s| !s.is_empty()) {
            Some("open") => conds.push(format!("t.status IN {OPEN_STATUSES}")),
            Some(s) => {
                let s = TaskStatus::from_code(s)
                    .ok_or_else(|| StoreError::invalid("状态", format!("「{s}」不是有效状态")))?;
                binds.push(s.code().into());
                conds.push(format!("t.status = $S{}", binds.len()));
            }
            None => {}
        }
        match f.area.as_deref().filter(|s| !s.is_empty()) {
            Some("mine") => {
                let area = self.area_of(user.person_id).await?;
                conds.push(crate::dashboard::area_sql(&area).unwrap_or_else(|| "1=0".into()));
            }
            Some(a) => return Err(StoreError::invalid("area", format!("「{a}」不是有效值，应为 mine"))),
            None => {}
        }
        if let Some(k) = f.source_kind.as_deref().filter(|s| !s.is_empty()) {
            let k = SourceKind::from_code(k)
                .ok_or_else(|| StoreError::invalid("任务来源", format!("「{k}」不是有效来源")))?;
            binds.push(k.code().into());
            conds.push(format!("t.source_kind = $S{}", binds.len()));
        }
        let q = f.q.as_deref().map(|q| xietong_supervision::text::single_line("搜索", q)).transpose()?;
        if let Some(q) = q.as_deref().filter(|s| !s.is_empty()) {
            let q =
                q.chars().take(50).collect::<String>().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            binds.push(format!("%{q}%"));
            let n = binds.len();
            conds.push(format!("(t.title LIKE $S{n} ESCAPE '\\' OR t.doc_no LIKE $S{n} ESCAPE '\\')"));
        }
        if let Some(u) = f.lead_unit_id {
            int_binds.push(u);
            conds.push(format!("t.lead_unit_id = $I{}", int_binds.len()));
        }
        if let Some(c) = f.category_id {
            int_binds.push(c);
            conds.push(format!("t.category_id = $I{}", int_binds.len()));
        }
        if let Some(l) = f.light.as_deref().filter(|s| !s.is_empty()) {
            let open = format!("t.status IN {OPEN_STATUSES}");
            binds.push(ts(ctx.now));
            let now_n = binds.len();
            conds.push(match l {
                "red" => format!("{open} AND t.deadline < $S{now_n}"),
                "yellow" => format!("{open} AND t.id IN ({})", id_list(&self.yellow_task_ids(ctx).await?)),
                "green" => format!(
                    "{open} AND t.deadline >= $S{now_n} AND t.id NOT IN ({})",
                    id_list(&self.yellow_task_ids(ctx).await?)
                ),
                o => return Err(StoreError::invalid("亮灯", format!("「{o}」不是有效值，应为 red、yellow 或 green"))),
            });
        }
        // Number the placeholders: strings first, then integers.
        let s_count = binds.len();
        let mut where_sql = conds.join(" AND ");
        for i in (1..=int_binds.len()).rev() {
            where_sql = where_sql.replace(&format!("$I{i}"), &format!("${}", s_count + i));
        }
        for i in (1..=s_count).rev() {
            where_sql = where_sql.replace(&format!("$S{i}"), &format!("${i}"));
        }
        let (page, page_size) = f.bounds()?;
        let count_sql = format!("SELECT COUNT(*) AS n FROM tasks t WHERE {where_sql}");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(count_sql));
        for b in &binds {
            q = q.bind(b.clone());
        }
        for b in &int_binds {
            q = q.bind(*b);
        }
        let total = q.fetch_one(&self.pool).await?.i("n")?;
        let list_sql = format!(
            "{TASK_SELECT} WHERE {where_sql} ORDER BY t.deadline, t.id LIMIT {page_size} OFFSET {}",
            // Bounded by TaskFilter::bounds, so this cannot overflow; saturating all the same.
            (page - 1).saturating_mul(page_size)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(list_sql));
        for b in &binds {
            q = q.bind(b.clone());
        }
        for b in &int_binds {
            q = q.bind(*b);
        }
        let items = q.fetch_all(&self.pool).await?.iter().map(task).collect::<Result<Vec<_>>>()?;
        Ok(TaskPage { total, page, page_size, items })
    }

    /// The open tasks whose light is yellow now, exactly as [`lights::light`] decides it: the
    /// candidates due between now and just past the yellow window, each checked by the rule itself
    /// (the window's edges depend on office hours and holidays, which SQL does not know).
    pub(crate) async fn yellow_task_ids(&self, ctx: &Ctx<'_>) -> Result<Vec<i64>> {
        let window = ctx.rules.escalation.yellow_working_days * ctx.cal.office_hours().minutes_per_day();
        // Past this, even the last office minute of the window is behind: the light is green.
        let bound = ctx.cal.add_working_minutes(ctx.now, window + 1).value;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, status, deadline FROM tasks \
             WHERE status IN {OPEN_STATUSES} AND deadline >= $1 AND deadline <= $2"
        )))
        .bind(ts(ctx.now))
        .bind(ts(bound))
        .fetch_all(&self.pool)
        .await?;
        let mut ids = vec![];
        for r in &rows {
            let status = TaskStatus::from_code(&r.s("status")?).unwrap_or(TaskStatus::Draft);
            let light = lights::light(ctx.cal, &ctx.rules.escalation, status, r.t("deadline")?, ctx.now);
            if light == lights::Light::Yellow {
                ids.push(r.i("id")?);
            }
        }
        Ok(ids)
    }

    /// 待办 as of the server's clock.
    pub async fn todo(&self, user: &SessionUser, limit: i64) -> Result<Vec<TodoItem>> {
        self.todo_at(user, crate::local_now(), limit).await
    }

    /// 待办: what this user is expected to do next, most urgent first.
    pub async fn todo_at(&self, user: &SessionUser, now: NaiveDateTime, limit: i64) -> Result<Vec<TodoItem>> {
        let limit = limit.clamp(1, 500);
        let scope = scope_sql(user);
        let (sql, labels): (String, &[(&str, &str)]) = match user.role {
            Role::Supervisor => (
                // One UNION instead of an OR, so PostgreSQL uses the indexes rather than scanning every task.
                format!(
                    "{TASK_SELECT} WHERE {scope} AND t.id IN (SELECT id FROM tasks WHERE status IN ('draft','pending_review') \
                     UNION SELECT task_id FROM extensions WHERE status = 'pending') ORDER BY t.deadline LIMIT {limit}"
                ),
                &[("draft", "待交办"), ("pending_review", "待审核办结"), ("*", "待审核延期申请")],
            ),
            Role::Leader => {
                let me = user.person_id;
                let mut out = self
                    .todo_query(
                        format!(
                            "{TASK_SELECT} WHERE {scope} AND t.id IN (SELECT e.task_id FROM extensions e JOIN tasks t2 ON t2.id = e.task_id \
                             WHERE e.status = 'reviewed' AND t2.leader_person_id = {me}) ORDER BY t.deadline LIMIT {limit}"
                        ),
                        vec![],
                        &[("*", "待审批延期申请")],
                    )
                    .await?;
                // 分包督导: overdue tasks in the leader's supervision area (units or categories),
                // the most urgent per unit and per category through the open-task indexes.
                let areas = sqlx::query("SELECT unit_id, category_id FROM leader_areas WHERE leader_person_id = $1")
                    .bind(me)
                    .fetch_all(&self.pool)
                    .await?;
                let mut arms = vec![];
                for (i, a) in areas.iter().enumerate() {
                    let (col, val) = match (a.oi("unit_id")?, a.oi("category_id")?) {
                        (Some(u), _) => ("lead_unit_id", u),
                        (None, Some(c)) => ("category_id", c),
                        _ => continue,
                    };
                    arms.push(format!(
                        "SELECT id FROM (SELECT id FROM tasks WHERE {col} = {val} AND status IN ('assigned','received','in_progress') \
                         AND deadline < $1 ORDER BY deadline LIMIT {limit}) AS a{i}"
                    ));
                }
                let overdue = if arms.is_empty() {
                    vec![]
                } else {
                    self.todo_query(
                        format!(
                            "{TASK_SELECT} WHERE {scope} AND t.id IN ({}) ORDER BY t.deadline, t.id LIMIT {limit}",
                            arms.join(" UNION ")
                        ),
                        vec![ts(now)],
                        &[("*", "分包督导：已逾期")],
                    )
                    .await?
                };
                out.extend(
                    overdue.into_iter().filter(|o| !out.iter().any(|x| x.task.id == o.task.id)).collect::<Vec<_>>(),
                );
                return Ok(out);
            }
            Role::Liaison if user.scope_unit_ids.is_empty() => (
                // 全部 or 仅本人: no per-unit lists to merge.
                format!(
                    "{TASK_SELECT} WHERE {scope} AND t.status IN ('assigned','received','in_progress') ORDER BY t.deadline, t.id LIMIT {limit}"
                ),
                &[("assigned", "待签收"), ("received", "待分解（2个工作小时内）"), ("in_progress", "推进中，按期汇报")],
            ),
            Role::Liaison => {
                // The most urgent `limit` open tasks of each unit in scope (via the partial index
                // tasks_open_lead_deadline), then the most urgent of those: no sort of a unit's history.
                let per_unit = user
                    .scope_unit_ids
                    .iter()
                    .map(|u| {
                        format!(
                            "SELECT id FROM (SELECT id FROM tasks WHERE lead_unit_id = {u} AND status IN ('assigned','received','in_progress') \
                             ORDER BY deadline LIMIT {limit}) AS u{u}"
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" UNION ALL ");
                (
                    format!("{TASK_SELECT} WHERE t.id IN ({per_unit}) ORDER BY t.deadline, t.id LIMIT {limit}"),
                    &[
                        ("assigned", "待签收"),
                        ("received", "待分解（2个工作小时内）"),
                        ("in_progress", "推进中，按期汇报"),
                    ],
                )
            }
            Role::Responsible => (
                format!("{TASK_SELECT} WHERE {scope} AND t.status = 'in_progress' ORDER BY t.deadline LIMIT {limit}"),
                &[("in_progress", "汇报子任务进展")],
            ),
            Role::Admin
            | Role::TechBureau
            | Role::Enterprise
            | Role::Institution
            | Role::SecurityAdmin
            | Role::AuditAdmin
            | Role::OrgDept => return Ok(vec![]),
        };
        self.todo_query(sql, vec![], labels).await
    }

    async fn todo_query(&self, sql: String, binds: Vec<String>, labels: &[(&str, &str)]) -> Result<Vec<TodoItem>> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = q.bind(b);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let t = task(r)?;
                let what = labels
                    .iter()
                    .find(|(s, _)| *s == t.status.code())
                    .or_else(|| labels.iter().find(|(s, _)| *s == "*"))
                    .map(|(_, l)| l.to_string())
                    .unwrap_or_default();
                Ok(TodoItem { task: t, what })
            })
            .collect()
    }
}

impl Db {
    /// Titles of the given tasks, for drill-down lists (ids come from stored rankings, not users).
    pub async fn task_titles(&self, ids: &[i64]) -> Result<Vec<(i64, String)>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let list = ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT id, title FROM tasks WHERE id IN ({list}) ORDER BY id")))
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|r| Ok((r.i("id")?, r.s("title")?))).collect()
    }
}

impl Db {
    /// The task registered under a 文号 or a look-alike of it, if any (文号 are unique).
    pub async fn task_id_by_doc_no(&self, doc_no: &str) -> Result<Option<i64>> {
        let r = sqlx::query("SELECT id FROM tasks WHERE doc_no_key = $1")
            .bind(xietong_supervision::text::doc_no_key(doc_no))
            .fetch_optional(&self.pool)
            .await?;
        r.map(|r| r.i("id")).transpose()
    }
}

/// Ids for an `IN (…)` list (integers from the database); `-1` for none, which matches no task.
pub(crate) fn id_list(ids: &[i64]) -> String {
    if ids.is_empty() { "-1".into() } else { ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",") }
}
