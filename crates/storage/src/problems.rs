//! 问题台账: hard problems found in supervision (疑难杂症, 推诿扯皮), raised from a task or on
//! their own, worked through 协调会 / 研判会 whose decisions become supervised tasks, and
//! escalated to the district leadership when they cannot be solved. The ledger shows each
//! problem's age and who holds it.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use xietong_supervision::problems::{
    ProblemAction, ProblemStatus, age_days, next_problem_status, problem_action_allowed,
};
use xietong_supervision::validate::{self, Checks, optional_multiline, required_multiline, required_text};
use xietong_supervision::{FieldError, Role, UnitId};

use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::error::got;
use crate::tasks::{Ctx, NewTask};
use crate::{Db, Result, RowExt, StoreError, ts};

/// The status filter for every problem not yet 已化解.
pub const UNRESOLVED: &str = "unresolved";

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewProblem {
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub source_task_id: Option<i64>,
    pub lead_unit_id: i64,
    /// Other units involved (涉及单位).
    #[serde(default)]
    pub unit_ids: Vec<i64>,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewMeeting {
    /// 协调会 / 研判会
    pub kind: String,
    /// YYYY-MM-DD HH:MM
    pub held_at: String,
    pub place: String,
    pub attendees: String,
    pub decisions: String,
    /// Decisions to follow up, each registered and handed over as a supervised task (督查局 only).
    #[serde(default)]
    pub follow_up_tasks: Vec<NewTask>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemEvent {
    pub action: String,
    pub action_label: String,
    pub actor_name: String,
    pub at: NaiveDateTime,
    pub from_status: String,
    pub to_status: String,
    pub comment: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Meeting {
    pub id: i64,
    pub kind: String,
    pub held_at: NaiveDateTime,
    pub place: String,
    pub attendees: String,
    pub decisions: String,
    /// Follow-up tasks: (id, title).
    pub tasks: Vec<(i64, String)>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub source_task_id: Option<i64>,
    pub source_task_title: Option<String>,
    pub lead_unit_id: i64,
    pub lead_unit_name: String,
    pub lead_unit_head: Option<String>,
    pub units: Vec<(i64, String)>,
    pub status: ProblemStatus,
    pub status_label: String,
    /// Who holds it now (e.g. the lead unit, or 区委区政府 after escalation).
    pub holder: String,
    pub raised_at: NaiveDateTime,
    pub resolved_at: Option<NaiveDateTime>,
    /// Days since raised (until resolved).
    pub age_days: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemDetail {
    pub problem: Problem,
    pub events: Vec<ProblemEvent>,
    pub meetings: Vec<Meeting>,
    /// Actions this user may take now.
    pub allowed_actions: Vec<String>,
}

pub const MEETING_KINDS: [&str; 2] = ["协调会", "研判会"];

fn holder_for(status: ProblemStatus, lead_unit_name: &str) -> String {
    match status {
        ProblemStatus::Pending => "督查局（待研判）".into(),
        ProblemStatus::Coordinating => format!("{lead_unit_name}（牵头协调）"),
        ProblemStatus::Escalated => "区委区政府（待批示）".into(),
        ProblemStatus::Instructed => format!("{lead_unit_name}（落实批示）"),
        ProblemStatus::Resolved => "—（已化解）".into(),
    }
}

/// A liaison of the problem's lead unit (or a unit above it): who coordinates it.
fn is_lead_liaison(user: &SessionUser, lead_unit_id: i64) -> bool {
    user.role == Role::Liaison && user.in_scope(UnitId(lead_unit_id))
}

fn in_scope(user: &SessionUser, units: &[i64]) -> bool {
    units.iter().any(|u| user.in_scope(UnitId(*u)))
}

async fn load_problem(conn: &mut sqlx::AnyConnection, id: i64, today: NaiveDate) -> Result<Problem> {
    let r = sqlx::query(
        "SELECT p.*, u.name AS lead_unit_name, hp.name AS lead_unit_head, t.title AS source_task_title FROM problems p \
         JOIN units u ON u.id = p.lead_unit_id LEFT JOIN people hp ON hp.id = u.head_person_id LEFT JOIN tasks t ON t.id = p.source_task_id WHERE p.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("编号 {id} 的问题不存在")))?;
    let units = sqlx::query("SELECT u.id, u.name FROM problem_units pu JOIN units u ON u.id = pu.unit_id WHERE pu.problem_id = $1 ORDER BY u.sort, u.id")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
    let units = units.iter().map(|x| Ok((x.i("id")?, x.s("name")?))).collect::<Result<Vec<_>>>()?;
    let st = r.s("status")?;
    let status =
        ProblemStatus::from_code(&st).ok_or_else(|| StoreError::internal(format!("数据库中的问题状态无效：{st}")))?;
    let raised_at = r.t("raised_at")?;
    let resolved_at = r.ot("resolved_at")?;
    Ok(Problem {
        id,
        title: r.s("title")?,
        description: r.s("description")?,
        source_task_id: r.oi("source_task_id")?,
        source_task_title: r.os("source_task_title")?,
        lead_unit_id: r.i("lead_unit_id")?,
        lead_unit_name: r.s("lead_unit_name")?,
        lead_unit_head: r.os("lead_unit_head")?,
        units,
        status,
        status_label: status.label_zh().to_string(),
        holder: r.s("holder")?,
        raised_at,
        resolved_at,
        age_days: age_days(raised_at.date(), resolved_at.map(|d| d.date()).unwrap_or(today)),
    })
}

impl Problem {
    fn unit_ids(&self) -> Vec<i64> {
        let mut v: Vec<i64> = self.units.iter().map(|u| u.0).collect();
        v.push(self.lead_unit_id);
        v
    }
}

#[allow(clippy::too_many_arguments)]
async fn problem_event(
    tx: &mut sqlx::AnyConnection,
    id: i64,
    action: &str,
    user: &SessionUser,
    at: NaiveDateTime,
    from: &str,
    to: &str,
    comment: &str,
) -> Result<()> {
    sqlx::query("INSERT INTO problem_events (problem_id, action, actor_name, at, from_status, to_status, comment) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(id)
        .bind(action.to_string())
        .bind(user.display_name())
        .bind(ts(at))
        .bind(from.to_string())
        .bind(to.to_string())
        .bind(comment.to_string())
        .execute(&mut *tx)
        .await?;
    Ok(())
}

impl Db {
    /// Raise a problem into the ledger (督查局 or a district leader), on its own or from a task.
    pub async fn raise_problem(&self, user: &SessionUser, n: &NewProblem, now: NaiveDateTime) -> Result<i64> {
        self.raise_problem_from_form(user, n, now, vec![]).await
    }

    /// [`Db::raise_problem`] from a form: `pre` holds the errors of fields it could not read; every
    /// field is checked and answered at once.
    pub async fn raise_problem_from_form(
        &self,
        user: &SessionUser,
        n: &NewProblem,
        now: NaiveDateTime,
        pre: Vec<FieldError>,
    ) -> Result<i64> {
        if !matches!(user.role, Role::Supervisor | Role::Leader) {
            return Err(StoreError::Denied("无权限：只有督查局或区领导可以将问题列入问题台账".into()));
        }
        let mut c = Checks::with(pre);
        let lead_known = !c.has("牵头单位");
        if lead_known {
            user.actor().must_reach("牵头单位", UnitId(n.lead_unit_id))?;
        }
        let title = c.take(required_text("问题", &n.title, 200));
        let description = c.take(required_multiline("问题描述", &n.description, 5000));
        let mut tx = self.begin().await?;
        if lead_known && !self.unit_found(&mut tx, n.lead_unit_id).await? {
            c.fail("牵头单位", format!("编号 {} 的单位不存在", n.lead_unit_id));
        }
        for u in &n.unit_ids {
            if !self.unit_found(&mut tx, *u).await? {
                c.fail("涉及单位", format!("编号 {u} 的单位不存在"));
            }
        }
        if let Some(t) = n.source_task_id {
            let found = sqlx::query("SELECT COUNT(*) AS n FROM tasks WHERE id = $1")
                .bind(t)
                .fetch_one(&mut *tx)
                .await?
                .i("n")?;
            if found == 0 {
                c.fail("来源任务", format!("编号 {t} 的任务不存在"));
            }
        }
        c.finish()?;
        let (title, description) = (got(title)?, got(description)?);
        let lead_name = sqlx::query("SELECT name FROM units WHERE id = $1")
            .bind(n.lead_unit_id)
            .fetch_one(&mut *tx)
            .await?
            .s("name")?;
        let status = ProblemStatus::Pending;
        let id = sqlx::query(
            "INSERT INTO problems (title, description, source_task_id, lead_unit_id, status, holder, raised_by, raised_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(title.clone())
        .bind(description)
        .bind(n.source_task_id)
        .bind(n.lead_unit_id)
        .bind(status.code().to_string())
        .bind(holder_for(status, &lead_name))
        .bind(user.user_id)
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await?
        .i("id")?;
        for u in &n.unit_ids {
            if *u != n.lead_unit_id {
                sqlx::query("INSERT INTO problem_units (problem_id, unit_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(id)
                    .bind(*u)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        problem_event(&mut tx, id, "raise", user, now, "", status.code(), &format!("列入问题台账：{title}")).await?;
        crate::inbox::send(
            &mut tx,
            crate::inbox::To::unit(n.lead_unit_id),
            "problem",
            &format!("问题「{title}」已列入问题台账，由贵单位牵头协调化解"),
            n.source_task_id,
            Some(&format!("/problems/{id}")),
            now,
        )
        .await?;
        let after = serde_json::json!({"title": title, "lead_unit_id": n.lead_unit_id, "unit_ids": n.unit_ids, "source_task_id": n.source_task_id});
        append(
            &mut tx,
            now,
            Change {
                actor: &user.username,
                action: "problem.raise",
                entity: "problem",
                entity_id: id.to_string(),
                before: String::new(),
                after: after.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    fn problem_allowed(user: &SessionUser, p: &Problem) -> Vec<ProblemAction> {
        let lead_member = is_lead_liaison(user, p.lead_unit_id);
        ProblemAction::ALL
            .into_iter()
            .filter(|a| problem_action_allowed(user.role, lead_member, *a) && next_problem_status(p.status, *a).is_ok())
            .collect()
    }

    /// Move a problem along its lifecycle (研判/协调、上报、批示、化解), with a comment.
    pub async fn act_on_problem(
        &self,
        user: &SessionUser,
        id: i64,
        action: &str,
        comment: &str,
        now: NaiveDateTime,
    ) -> Result<ProblemDetail> {
        let a = ProblemAction::from_code(action)
            .ok_or_else(|| StoreError::NotFound(format!("没有名为「{action}」的问题台账操作")))?;
        if a == ProblemAction::HoldMeeting {
            return Err(StoreError::BadInput("召开协调会请使用“记录协调会”，填写参会人员和议定事项".into()));
        }
        let mut tx = self.begin().await?;
        crate::locks::lock_row(&mut tx, crate::locks::Locked::Problems, id).await?;
        let p = load_problem(&mut tx, id, now.date()).await?;
        if !in_scope(user, &p.unit_ids()) {
            return Err(StoreError::Denied("无权限：该问题不在您的数据范围内".into()));
        }
        let lead_member = is_lead_liaison(user, p.lead_unit_id);
        if !problem_action_allowed(user.role, lead_member, a) {
            return Err(StoreError::Denied(format!("无权限：{}不能执行「{}」", user.role.label_zh(), a.label_zh())));
        }
        let to = next_problem_status(p.status, a).map_err(|e| StoreError::Conflict(e.to_string()))?;
        let comment = match a {
            ProblemAction::Escalate | ProblemAction::Instruct | ProblemAction::Resolve => {
                required_multiline(&format!("{}说明", a.label_zh()), comment, 2000)?
            }
            _ => optional_multiline("说明", comment, 2000)?.unwrap_or_default(),
        };
        let changed = sqlx::query("UPDATE problems SET status = $1, holder = $2, updated_at = $3, resolved_at = $4 WHERE id = $5 AND status = $6")
            .bind(to.code().to_string())
            .bind(holder_for(to, &p.lead_unit_name))
            .bind(ts(now))
            .bind(if to == ProblemStatus::Resolved { Some(ts(now)) } else { None })
            .bind(id)
            .bind(p.status.code().to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed != 1 {
            return Err(StoreError::stale("问题", p.status.label_zh()));
        }
        problem_event(&mut tx, id, a.code(), user, now, p.status.code(), to.code(), &comment).await?;
        let before = serde_json::json!({"status": p.status.code(), "holder": p.holder});
        let after =
            serde_json::json!({"status": to.code(), "holder": holder_for(to, &p.lead_unit_name), "comment": comment});
        append(
            &mut tx,
            now,
            Change {
                actor: &user.username,
                action: &format!("problem.{}", a.code()),
                entity: "problem",
                entity_id: id.to_string(),
                before: before.to_string(),
                after: after.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        self.get_problem(user, id, now).await
    }

    /// Record a 协调会 / 研判会 (督查局 or the lead unit's liaison). Its follow-up decisions
    /// become supervised tasks, registered and handed over in the same transaction (督查局 only).
    pub async fn add_meeting(&self, user: &SessionUser, ctx: &Ctx<'_>, problem_id: i64, m: &NewMeeting) -> Result<i64> {
        let now = ctx.now;
        if !m.follow_up_tasks.is_empty() && user.role != Role::Supervisor {
            return Err(StoreError::Denied("无权限：议定事项转为督办任务须由督查局立项".into()));
        }
        // Every field is checked before the answer.
        let mut c = Checks::new();
        let kind = m.kind.trim();
        if !MEETING_KINDS.contains(&kind) {
            c.fail("会议类型", "应为 协调会 或 研判会");
        }
        let held_at = c.take(validate::datetime("会议时间", &m.held_at).and_then(|t| {
            if t > now {
                Err(FieldError::new("会议时间", "不能晚于当前时间（请在会后记录）"))
            } else {
                Ok(t)
            }
        }));
        let place = c.take(required_text("会议地点", &m.place, 200));
        let attendees = c.take(required_multiline("参会人员", &m.attendees, 2000));
        let decisions = c.take(required_multiline("议定事项", &m.decisions, 5000));
        c.finish()?;
        let (held_at, place, attendees, decisions) = (got(held_at)?, got(place)?, got(attendees)?, got(decisions)?);
        let mut tx = self.begin().await?;
        crate::locks::lock_row(&mut tx, crate::locks::Locked::Problems, problem_id).await?;
        let p = load_problem(&mut tx, problem_id, now.date()).await?;
        if !in_scope(user, &p.unit_ids()) {
            return Err(StoreError::Denied("无权限：该问题不在您的数据范围内".into()));
        }
        let lead_member = is_lead_liaison(user, p.lead_unit_id);
        if !problem_action_allowed(user.role, lead_member, ProblemAction::HoldMeeting) {
            return Err(StoreError::Denied("无权限：只有督查局或牵头单位可以记录协调会".into()));
        }
        let to = next_problem_status(p.status, ProblemAction::HoldMeeting)
            .map_err(|e| StoreError::Conflict(e.to_string()))?;
        let id = sqlx::query(
            "INSERT INTO meetings (problem_id, kind, held_at, place, attendees, decisions, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(problem_id)
        .bind(kind.to_string())
        .bind(ts(held_at))
        .bind(place.clone())
        .bind(attendees)
        .bind(decisions.clone())
        .bind(user.user_id)
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await?
        .i("id")?;
        let mut task_ids = vec![];
        for (i, t) in m.follow_up_tasks.iter().enumerate() {
            let tid = self
                .create_task_in(&mut tx, user, ctx, t)
                .await
                .map_err(|e| e.rename_fields(|f| format!("第{}项议定任务的{f}", i + 1)))?;
            sqlx::query("INSERT INTO meeting_tasks (meeting_id, task_id) VALUES ($1, $2)")
                .bind(id)
                .bind(tid)
                .execute(&mut *tx)
                .await?;
            task_ids.push(tid);
        }
        sqlx::query("UPDATE problems SET status = $1, holder = $2, updated_at = $3 WHERE id = $4")
            .bind(to.code().to_string())
            .bind(holder_for(to, &p.lead_unit_name))
            .bind(ts(now))
            .bind(problem_id)
            .execute(&mut *tx)
            .await?;
        let summary = format!(
            "{kind}（{}，{place}）：{decisions}{}",
            held_at.format("%Y-%m-%d %H:%M"),
            if task_ids.is_empty() {
                String::new()
            } else {
                format!("；议定事项转督办任务 {} 项", task_ids.len())
            }
        );
        problem_event(
            &mut tx,
            problem_id,
            ProblemAction::HoldMeeting.code(),
            user,
            now,
            p.status.code(),
            to.code(),
            &summary,
        )
        .await?;
        let after = serde_json::json!({"problem_id": problem_id, "kind": kind, "held_at": ts(held_at), "place": place, "task_ids": task_ids});
        append(
            &mut tx,
            now,
            Change {
                actor: &user.username,
                action: "problem.meeting",
                entity: "meeting",
                entity_id: id.to_string(),
                before: String::new(),
                after: after.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn get_problem(&self, user: &SessionUser, id: i64, now: NaiveDateTime) -> Result<ProblemDetail> {
        let mut conn = self.pool.acquire().await?;
        let p = load_problem(&mut conn, id, now.date()).await?;
        if !in_scope(user, &p.unit_ids()) {
            return Err(StoreError::Denied("无权限：该问题不在您的数据范围内".into()));
        }
        let ev = sqlx::query("SELECT * FROM problem_events WHERE problem_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
        let events = ev
            .iter()
            .map(|r| {
                let action = r.s("action")?;
                let label = match action.as_str() {
                    "raise" => "列入台账".to_string(),
                    a => ProblemAction::from_code(a).map(|x| x.label_zh().to_string()).unwrap_or_else(|| a.to_string()),
                };
                let label_of = |s: String| ProblemStatus::from_code(&s).map(|x| x.label_zh().to_string()).unwrap_or(s);
                Ok(ProblemEvent {
                    action,
                    action_label: label,
                    actor_name: r.s("actor_name")?,
                    at: r.t("at")?,
                    from_status: label_of(r.s("from_status")?),
                    to_status: label_of(r.s("to_status")?),
                    comment: r.s("comment")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let ms = sqlx::query("SELECT * FROM meetings WHERE problem_id = $1 ORDER BY held_at, id")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
        let mut meetings = vec![];
        for r in &ms {
            let mid = r.i("id")?;
            let ts_ = sqlx::query("SELECT t.id, t.title FROM meeting_tasks mt JOIN tasks t ON t.id = mt.task_id WHERE mt.meeting_id = $1 ORDER BY t.id")
                .bind(mid)
                .fetch_all(&mut *conn)
                .await?;
            meetings.push(Meeting {
                id: mid,
                kind: r.s("kind")?,
                held_at: r.t("held_at")?,
                place: r.s("place")?,
                attendees: r.s("attendees")?,
                decisions: r.s("decisions")?,
                tasks: ts_.iter().map(|x| Ok((x.i("id")?, x.s("title")?))).collect::<Result<Vec<_>>>()?,
            });
        }
        let allowed_actions = Self::problem_allowed(user, &p).into_iter().map(|a| a.code().to_string()).collect();
        Ok(ProblemDetail { problem: p, events, meetings, allowed_actions })
    }

    /// Tasks the escalation ladder proposed for the ledger (问题台账候选) that are still open and
    /// not yet raised: (task id, title, lead unit, deadline, proposed at). For the 督查局 and leaders.
    pub async fn ledger_candidates(
        &self,
        user: &SessionUser,
    ) -> Result<Vec<(i64, String, String, NaiveDateTime, NaiveDateTime)>> {
        if !matches!(user.role, Role::Supervisor | Role::Leader) {
            return Ok(vec![]);
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT t.id, t.title, u.name AS unit_name, t.deadline, MAX(e.fired_at) AS fired_at FROM escalations e JOIN tasks t ON t.id = e.task_id \
             JOIN units u ON u.id = t.lead_unit_id WHERE {} AND e.step = 'ledger_candidate' AND t.status IN ('assigned','received','in_progress','pending_review') \
             AND NOT EXISTS (SELECT 1 FROM problems p WHERE p.source_task_id = t.id) GROUP BY t.id, t.title, u.name, t.deadline ORDER BY t.deadline",
            crate::tasks::scope_sql(user)
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.i("id")?, r.s("title")?, r.s("unit_name")?, r.t("deadline")?, r.t("fired_at")?)))
            .collect()
    }

    /// The ledger within the user's data scope, oldest first: all, one status, or [`UNRESOLVED`].
    pub async fn list_problems(
        &self,
        user: &SessionUser,
        status: Option<&str>,
        now: NaiveDateTime,
    ) -> Result<Vec<Problem>> {
        // `unresolved`: every state but 已化解 (the 督导看板's 未化解问题).
        let (unresolved, st) = match status.filter(|s| !s.is_empty()) {
            Some(UNRESOLVED) => (true, None),
            Some(s) => (
                false,
                Some(
                    ProblemStatus::from_code(s)
                        .ok_or_else(|| StoreError::invalid("状态", format!("「{s}」不是有效的问题状态")))?,
                ),
            ),
            None => (false, None),
        };
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(
            "SELECT id FROM problems WHERE ($1 = '' OR status = $1) AND ($2 = 0 OR status <> $3) \
             ORDER BY raised_at, id",
        )
        .bind(st.map(|s| s.code().to_string()).unwrap_or_default())
        .bind(unresolved as i64)
        .bind(ProblemStatus::Resolved.code().to_string())
        .fetch_all(&mut *conn)
        .await?;
        let mut out = vec![];
        for r in rows {
            let p = load_problem(&mut conn, r.i("id")?, now.date()).await?;
            if in_scope(user, &p.unit_ids()) {
                out.push(p);
            }
        }
        Ok(out)
    }
}
