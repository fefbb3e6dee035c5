//! Key projects (重点项目) and government-invested projects, with their bid sections (标段).
//! A project is a supervised task underneath (lights, escalation and ranking apply); each
//! section has its own contractor and progress and is ranked against its siblings.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use xietong_supervision::projects::{BidSection, RankedSection, project_progress, rank_sections, validate_amount};
use xietong_supervision::validate::{self, Checks, optional_multiline, required_multiline, required_text};
use xietong_supervision::{Action, FieldError, Role, TaskStatus};

use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::error::{check, got};
use crate::tasks::{Command, Ctx, NewTask, load_detail, scope_sql};
use crate::{Db, Result, RowExt, StoreError, ts};

/// 项目类型.
pub const PROJECT_KINDS: [(&str, &str); 2] = [("key", "重点项目"), ("government", "政府投资项目")];

pub fn project_kind_label(code: &str) -> Option<&'static str> {
    PROJECT_KINDS.iter().find(|(c, l)| *c == code || *l == code).map(|(_, l)| *l)
}

fn project_kind_code(s: &str) -> Option<&'static str> {
    PROJECT_KINDS.iter().find(|(c, l)| *c == s || *l == s).map(|(c, _)| *c)
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewSection {
    pub name: String,
    pub contractor: String,
    pub start_on: String,
    pub due_on: String,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewProject {
    /// The supervised task underneath (立项 and 交办 at once); its lead unit answers for the project.
    pub task: NewTask,
    /// key 重点项目 / government 政府投资项目
    pub kind: String,
    pub owner_unit_id: i64,
    pub location: String,
    /// 计划总投资（万元）
    pub planned_investment: f64,
    /// 预计年产值（万元）
    #[serde(default)]
    pub annual_output: Option<f64>,
    /// 预计年税收（万元）
    #[serde(default)]
    pub annual_tax: Option<f64>,
    /// 待办手续
    #[serde(default)]
    pub approvals_pending: String,
    #[serde(default)]
    pub problems: String,
    #[serde(default)]
    pub sections: Vec<NewSection>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SectionRow {
    pub id: i64,
    pub name: String,
    pub contractor: String,
    pub start_on: NaiveDate,
    pub due_on: NaiveDate,
    pub progress: i64,
    pub updated_at: NaiveDateTime,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Project {
    pub id: i64,
    pub task_id: i64,
    pub title: String,
    pub status: TaskStatus,
    pub deadline: NaiveDateTime,
    pub lead_unit_id: i64,
    pub lead_unit_name: String,
    pub kind: String,
    pub kind_label: String,
    pub owner_unit_id: i64,
    pub owner_unit_name: String,
    pub location: String,
    pub planned_investment: f64,
    pub completed_investment: f64,
    pub annual_output: Option<f64>,
    pub annual_tax: Option<f64>,
    pub approvals_pending: String,
    pub problems: String,
    pub progress: i64,
    pub sections: Vec<SectionRow>,
    /// Sections ranked against each other (lagging last), as of today.
    pub ranked_sections: Vec<RankedSection>,
}

const PROJECT_SELECT: &str = "SELECT p.*, t.title, t.status, t.deadline, t.lead_unit_id, t.progress, lu.name AS lead_unit_name, ou.name AS owner_unit_name \
     FROM projects p JOIN tasks t ON t.id = p.task_id JOIN units lu ON lu.id = t.lead_unit_id JOIN units ou ON ou.id = p.owner_unit_id";

fn amount(field: &str, v: Option<f64>) -> Result<Option<f64>> {
    match v {
        Some(x) => Ok(Some(validate_amount(field, x)?)),
        None => Ok(None),
    }
}

impl Db {
    /// 立项 a project: the task (交办 at once when asked), the project row and its sections, in one
    /// transaction. Only the 督查局 registers projects, as it registers every supervised task.
    pub async fn create_project(&self, user: &SessionUser, ctx: &Ctx<'_>, n: &NewProject) -> Result<i64> {
        self.create_project_from_form(user, ctx, n, vec![]).await
    }

    /// [`Db::create_project`] from a form: `pre` holds the errors of fields the form could not read;
    /// every field of the project and of its task is checked and answered at once.
    pub async fn create_project_from_form(
        &self,
        user: &SessionUser,
        ctx: &Ctx<'_>,
        n: &NewProject,
        pre: Vec<FieldError>,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        let id = self.create_project_checked(&mut tx, user, ctx, n, None, pre).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// With `existing_task`, wrap a task already registered instead of creating one.
    pub async fn create_project_in(
        &self,
        tx: &mut sqlx::AnyConnection,
        user: &SessionUser,
        ctx: &Ctx<'_>,
        n: &NewProject,
        existing_task: Option<i64>,
    ) -> Result<i64> {
        self.create_project_checked(tx, user, ctx, n, existing_task, vec![]).await
    }

    async fn create_project_checked(
        &self,
        tx: &mut sqlx::AnyConnection,
        user: &SessionUser,
        ctx: &Ctx<'_>,
        n: &NewProject,
        existing_task: Option<i64>,
        pre: Vec<FieldError>,
    ) -> Result<i64> {
        if user.role != Role::Supervisor {
            return Err(StoreError::Denied("无权限：只有督查局可以登记项目".into()));
        }
        let mut c = Checks::with(pre);
        let kind = c.take(
            project_kind_code(n.kind.trim())
                .ok_or_else(|| FieldError::new("项目类型", "应为 重点项目 或 政府投资项目")),
        );
        let location = c.take(required_text("建设地点", &n.location, 200));
        let planned = c.take(validate_amount("计划总投资（万元）", n.planned_investment));
        let output = check(&mut c, amount("预计年产值（万元）", n.annual_output))?;
        let tax = check(&mut c, amount("预计年税收（万元）", n.annual_tax))?;
        let approvals = c.take(optional_multiline("待办手续", &n.approvals_pending, 2000));
        let problems = c.take(optional_multiline("存在问题", &n.problems, 2000));
        let mut sections: Vec<(String, String, NaiveDate, NaiveDate)> = vec![];
        for (i, s) in n.sections.iter().enumerate() {
            let row = i + 1;
            let field = |what: &str| format!("第{row}个标段的{what}");
            let name = c.take(required_text(&field("名称"), &s.name, 100));
            let contractor = c.take(required_text(&field("施工单位"), &s.contractor, 200));
            let start = c.take(validate::date(&field("开工日期"), &s.start_on));
            let due = c.take(validate::date(&field("完工期限"), &s.due_on));
            if let (Some(start), Some(due)) = (start, due)
                && due <= start
            {
                c.fail(&field("完工期限"), "应晚于开工日期");
            }
            if let Some(name) = &name
                && sections.iter().any(|(n2, ..)| n2 == name)
            {
                c.fail(&field("名称"), format!("「{name}」重复"));
            }
            if let (Some(name), Some(contractor), Some(start), Some(due)) = (name, contractor, start, due) {
                sections.push((name, contractor, start, due));
            }
        }
        if !c.has("业主单位") && !self.unit_found(tx, n.owner_unit_id).await? {
            c.fail("业主单位", format!("编号 {} 的单位不存在", n.owner_unit_id));
        }
        // The task's fields are checked with the project's and answered together.
        let task_id = match existing_task {
            Some(t) => {
                c.finish()?;
                t
            }
            None => self.create_task_checked(tx, user, ctx, &n.task, c.errors().to_vec()).await?,
        };
        let (kind, location, planned, output, tax) =
            (got(kind)?, got(location)?, got(planned)?, got(output)?, got(tax)?);
        let (approvals, problems) = (got(approvals)?.unwrap_or_default(), got(problems)?.unwrap_or_default());
        let id = sqlx::query(
            "INSERT INTO projects (task_id, kind, owner_unit_id, location, planned_investment, annual_output, annual_tax, approvals_pending, problems, created_at) \
             VALUES ($1, $2, $3, $4, $5, CASE WHEN $11 = 1 THEN $6 END, CASE WHEN $12 = 1 THEN $7 END, $8, $9, $10) RETURNING id",
        )
        .bind(task_id)
        .bind(kind.to_string())
        .bind(n.owner_unit_id)
        .bind(location.clone())
        .bind(planned)
        .bind(crate::opt_f64(output).0)
        .bind(crate::opt_f64(tax).0)
        .bind(approvals)
        .bind(problems)
        .bind(ts(ctx.now))
        .bind(crate::opt_f64(output).1)
        .bind(crate::opt_f64(tax).1)
        .fetch_one(&mut *tx)
        .await?
        .i("id")?;
        for (name, contractor, start, due) in &sections {
            sqlx::query("INSERT INTO bid_sections (project_id, name, contractor, start_on, due_on, progress, updated_at) VALUES ($1, $2, $3, $4, $5, 0, $6)")
                .bind(id)
                .bind(name.clone())
                .bind(contractor.clone())
                .bind(start.to_string())
                .bind(due.to_string())
                .bind(ts(ctx.now))
                .execute(&mut *tx)
                .await?;
        }
        let after = serde_json::json!({"task_id": task_id, "kind": kind, "owner_unit_id": n.owner_unit_id, "location": location,
            "planned_investment": planned, "sections": sections.iter().map(|s| &s.0).collect::<Vec<_>>()});
        append(
            tx,
            ctx.now,
            Change {
                actor: &user.username,
                action: "project.create",
                entity: "project",
                entity_id: id.to_string(),
                before: String::new(),
                after: after.to_string(),
            },
        )
        .await?;
        Ok(id)
    }

    /// Report one section's progress (lead-unit liaison, while the task is being carried out). The
    /// task's own progress becomes the mean of its sections, reported on its timeline.
    pub async fn report_section(
        &self,
        user: &SessionUser,
        ctx: &Ctx<'_>,
        section_id: i64,
        progress: i64,
        text: &str,
        reason: &str,
    ) -> Result<Project> {
        let mut tx = self.begin().await?;
        let r = sqlx::query("SELECT s.project_id, s.name, s.progress, p.task_id FROM bid_sections s JOIN projects p ON p.id = s.project_id WHERE s.id = $1")
            .bind(section_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("编号 {section_id} 的标段不存在")))?;
        let task_id = r.i("task_id")?;
        // The project's task is the business row (see crate::locks): locked before its sections are
        // read, so two section reports at once both count in the project's progress.
        crate::locks::lock_row(&mut tx, crate::locks::Locked::Tasks, task_id).await?;
        let r = sqlx::query("SELECT project_id, name, progress FROM bid_sections WHERE id = $1")
            .bind(section_id)
            .fetch_one(&mut *tx)
            .await?;
        let (project_id, name, before) = (r.i("project_id")?, r.s("name")?, r.i("progress")?);
        let d = load_detail(&mut tx, task_id, ctx.now).await?;
        user.actor().authorize(Action::Report, &d.parties())?;
        // Sections belong to the lead unit (谁主管、谁负责); co-units report on the task itself.
        if !(user.role == Role::Liaison && user.in_scope(xietong_supervision::UnitId(d.task.lead_unit_id))) {
            return Err(StoreError::Denied("无权限：只有牵头单位联络员可以汇报标段进度".into()));
        }
        if d.task.status != TaskStatus::InProgress {
            return Err(StoreError::Conflict(format!(
                "项目任务当前状态为「{}」，分解推进后才能汇报标段进度",
                d.task.status.label_zh()
            )));
        }
        let mut c = xietong_supervision::validate::Checks::new();
        let p = c.take(xietong_supervision::validate::progress_report("标段进度", before, progress, reason));
        let text = c.take(required_multiline("进展情况", text, 2000));
        c.finish()?;
        let ((p, why), text) = p.zip(text).ok_or_else(|| StoreError::internal("汇报校验不完整"))?;
        let text = match &why {
            Some(why) => format!("{text}（标段进度由 {before}% 调低，说明：{why}）"),
            None => text,
        };
        sqlx::query("UPDATE bid_sections SET progress = $1, updated_at = $2 WHERE id = $3")
            .bind(p)
            .bind(ts(ctx.now))
            .bind(section_id)
            .execute(&mut *tx)
            .await?;
        let sections = load_sections(&mut tx, project_id).await?;
        let overall = project_progress(&sections.iter().map(domain_section).collect::<Vec<_>>());
        self.perform_in(
            &mut tx,
            user,
            ctx,
            task_id,
            Command::Report {
                progress: overall,
                text: format!("{name}进度 {p}%：{text}"),
                // The project's figure is the mean of its sections: lower only when a section is.
                reason: if overall < d.task.progress {
                    why.unwrap_or_else(|| "按各标段进度重新计算".into())
                } else {
                    String::new()
                },
            },
            None,
        )
        .await?;
        let after = serde_json::json!({"section_id": section_id, "progress": p, "project_progress": overall});
        append(
            &mut tx,
            ctx.now,
            Change {
                actor: &user.username,
                action: "project.section_report",
                entity: "bid_section",
                entity_id: section_id.to_string(),
                before: serde_json::json!({"progress": before}).to_string(),
                after: after.to_string(),
            },
        )
        .await?;
        let out = load_project(&mut tx, project_id, ctx.now.date()).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Projects within the user's data scope (through their tasks).
    pub async fn list_projects(&self, user: &SessionUser, today: NaiveDate) -> Result<Vec<Project>> {
        let mut conn = self.pool.acquire().await?;
        let ids = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT p.id FROM projects p JOIN tasks t ON t.id = p.task_id WHERE {} ORDER BY p.id",
            scope_sql(user)
        )))
        .fetch_all(&mut *conn)
        .await?;
        let mut out = vec![];
        for r in ids {
            out.push(load_project(&mut conn, r.i("id")?, today).await?);
        }
        Ok(out)
    }

    pub async fn get_project(&self, user: &SessionUser, id: i64, now: NaiveDateTime) -> Result<Project> {
        let mut conn = self.pool.acquire().await?;
        let p = load_project(&mut conn, id, now.date()).await?;
        let d = load_detail(&mut conn, p.task_id, now).await?;
        if !user.actor().can_view(&d.parties()) {
            return Err(StoreError::Denied("无权限：该项目不在您的数据范围内".into()));
        }
        Ok(p)
    }

    /// The project wrapping a task, if the task is a project.
    pub async fn project_of_task(&self, task_id: i64) -> Result<Option<i64>> {
        let r =
            sqlx::query("SELECT id FROM projects WHERE task_id = $1").bind(task_id).fetch_optional(&self.pool).await?;
        r.map(|r| r.i("id")).transpose()
    }

    /// Set a section's progress directly (demo loading and corrections by the 督查局), audited.
    pub async fn set_section_progress(
        &self,
        actor: &str,
        section_id: i64,
        progress: i64,
        now: NaiveDateTime,
    ) -> Result<()> {
        let p = xietong_supervision::validate::progress("标段进度", progress)?;
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE bid_sections SET progress = $1, updated_at = $2 WHERE id = $3")
            .bind(p)
            .bind(ts(now))
            .bind(section_id)
            .execute(&mut *tx)
            .await?;
        append(
            &mut tx,
            now,
            Change {
                actor,
                action: "project.section_set",
                entity: "bid_section",
                entity_id: section_id.to_string(),
                before: String::new(),
                after: serde_json::json!({"progress": p}).to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn domain_section(s: &SectionRow) -> BidSection {
    BidSection {
        id: s.id,
        name: s.name.clone(),
        contractor: s.contractor.clone(),
        start: s.start_on,
        due: s.due_on,
        progress: s.progress,
    }
}

async fn load_sections(conn: &mut sqlx::AnyConnection, project_id: i64) -> Result<Vec<SectionRow>> {
    let rows = sqlx::query("SELECT * FROM bid_sections WHERE project_id = $1 ORDER BY id")
        .bind(project_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(SectionRow {
                id: r.i("id")?,
                name: r.s("name")?,
                contractor: r.s("contractor")?,
                start_on: r.d("start_on")?,
                due_on: r.d("due_on")?,
                progress: r.i("progress")?,
                updated_at: r.t("updated_at")?,
            })
        })
        .collect()
}

pub(crate) async fn load_project(conn: &mut sqlx::AnyConnection, id: i64, today: NaiveDate) -> Result<Project> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!("{PROJECT_SELECT} WHERE p.id = $1")))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("编号 {id} 的项目不存在")))?;
    let sections = load_sections(conn, id).await?;
    let ranked = rank_sections(&sections.iter().map(domain_section).collect::<Vec<_>>(), today);
    let status = r.s("status")?;
    let kind = r.s("kind")?;
    Ok(Project {
        id,
        task_id: r.i("task_id")?,
        title: r.s("title")?,
        status: TaskStatus::from_code(&status)
            .ok_or_else(|| StoreError::internal(format!("数据库中的状态无效：{status}")))?,
        deadline: r.t("deadline")?,
        lead_unit_id: r.i("lead_unit_id")?,
        lead_unit_name: r.s("lead_unit_name")?,
        kind_label: project_kind_label(&kind).unwrap_or("").to_string(),
        kind,
        owner_unit_id: r.i("owner_unit_id")?,
        owner_unit_name: r.s("owner_unit_name")?,
        location: r.s("location")?,
        planned_investment: r.f("planned_investment")?,
        completed_investment: r.f("completed_investment")?,
        annual_output: r.of("annual_output")?,
        annual_tax: r.of("annual_tax")?,
        approvals_pending: r.s("approvals_pending")?,
        problems: r.s("problems")?,
        progress: if sections.is_empty() {
            r.i("progress")?
        } else {
            project_progress(&sections.iter().map(domain_section).collect::<Vec<_>>())
        },
        sections,
        ranked_sections: ranked,
    })
}
