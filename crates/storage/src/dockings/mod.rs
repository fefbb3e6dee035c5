//! Dockings (对接): a problem or an enterprise linked with an expert and/or achievement, moved
//! along 推荐 → … → 结项 (or 终止) by the rules in `xietong_docking::pipeline`, with meetings and
//! 对接活动, registered technical contracts, supervised tasks raised per stage, and the figures
//! the district reports.
//!
//! This file holds the docking itself (list, detail, 推荐, stage moves, contact consent, 督办);
//! `activities` the meetings and 对接活动, `contracts` the registered technical contracts, `stats`
//! the district's figures, `baselines` the figures the district reported (上报数) beside them.

mod activities;
mod baselines;
mod contracts;
mod stats;

pub use activities::{ACTIVITY_KINDS, Activity, NewActivity};
pub use baselines::{Baseline, NewBaseline};
pub use contracts::{Contract, NewContract};
pub use stats::{ContractRow, DockingStats, Figure, Reported, StageRow};

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use xietong_docking::pipeline::{Stage, check_move};
use xietong_supervision::Role;
use xietong_supervision::validate::{Checks, optional_multiline, required_text};

use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::libraries::{must_be_bureau, reads_all};
use crate::tasks::{Ctx, NewTask};
use crate::{Db, Result, RowExt, StoreError, ts};
use contracts::contract_of;

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Docking {
    pub id: i64,
    pub title: String,
    pub problem_id: Option<i64>,
    pub problem_title: Option<String>,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub expert_id: Option<i64>,
    pub expert_name: Option<String>,
    pub achievement_id: Option<i64>,
    pub achievement_title: Option<String>,
    pub institution_id: Option<i64>,
    pub institution_name: Option<String>,
    pub stage: Stage,
    pub stage_label: String,
    pub furthest: Stage,
    pub end_reason: String,
    pub contact_shared: bool,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct NewDocking {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub problem_id: Option<i64>,
    /// 不指定难题时必填
    #[serde(default)]
    pub enterprise_id: Option<i64>,
    #[serde(default)]
    pub expert_id: Option<i64>,
    #[serde(default)]
    pub achievement_id: Option<i64>,
    #[serde(default)]
    pub note: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DockingEvent {
    pub from_label: String,
    pub to_label: String,
    pub note: String,
    pub task_id: Option<i64>,
    pub actor: String,
    pub at: NaiveDateTime,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DockingDetail {
    pub docking: Docking,
    pub events: Vec<DockingEvent>,
    pub activities: Vec<Activity>,
    pub contracts: Vec<Contract>,
    /// The next stage on the main line, if any.
    pub next_stage: Option<Stage>,
    pub next_stage_label: Option<String>,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct MoveDocking {
    /// 目标阶段（代码或中文名）
    pub to: String,
    #[serde(default)]
    pub note: String,
    /// 终止时必填
    #[serde(default)]
    pub reason: String,
}

const DOCKING_SELECT: &str = "SELECT d.*, p.title AS problem_title, COALESCE(p.confidential, 0) AS problem_confidential, e.name AS enterprise_name, x.name AS expert_name, a.title AS achievement_title, i.name AS institution_name \
     FROM dockings d JOIN enterprises e ON e.id = d.enterprise_id LEFT JOIN tech_problems p ON p.id = d.problem_id LEFT JOIN experts x ON x.id = d.expert_id \
     LEFT JOIN achievements a ON a.id = d.achievement_id LEFT JOIN institutions i ON i.id = d.institution_id";

/// Shown to district roles in place of a confidential 难题's title.
pub const CONFIDENTIAL_PROBLEM: &str = "（保密难题，仅科技局和对接双方可见）";
const CONFIDENTIAL_DOCKING: &str = "（保密难题的对接）";

fn stage_of(s: &str) -> Result<Stage> {
    Stage::from_code(s).ok_or_else(|| StoreError::internal("未知对接阶段"))
}

fn docking_of(r: &sqlx::any::AnyRow) -> Result<Docking> {
    let stage = stage_of(&r.s("stage")?)?;
    Ok(Docking {
        id: r.i("id")?,
        title: r.s("title")?,
        problem_id: r.oi("problem_id")?,
        problem_title: r.os("problem_title")?,
        enterprise_id: r.i("enterprise_id")?,
        enterprise_name: r.s("enterprise_name")?,
        expert_id: r.oi("expert_id")?,
        expert_name: r.os("expert_name")?,
        achievement_id: r.oi("achievement_id")?,
        achievement_title: r.os("achievement_title")?,
        institution_id: r.oi("institution_id")?,
        institution_name: r.os("institution_name")?,
        stage,
        stage_label: stage.label_zh().into(),
        furthest: stage_of(&r.s("furthest")?)?,
        end_reason: r.s("end_reason")?,
        contact_shared: r.i("contact_shared")? != 0,
        created_by: r.s("created_by")?,
        created_at: r.t("created_at")?,
        updated_at: r.t("updated_at")?,
    })
}

#[allow(clippy::too_many_arguments)]
async fn event(
    tx: &mut sqlx::AnyConnection,
    docking: i64,
    from: &str,
    to: &str,
    note: &str,
    task: Option<i64>,
    actor: &str,
    now: NaiveDateTime,
) -> Result<()> {
    sqlx::query("INSERT INTO docking_events (docking_id, from_stage, to_stage, note, task_id, actor, at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(docking)
        .bind(from.to_string())
        .bind(to.to_string())
        .bind(note.to_string())
        .bind(task)
        .bind(actor.to_string())
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// A message about a docking to the accounts of its enterprise and institution(s) — the parties,
/// who may read the docking even on a confidential 难题 — and to the 科技局.
async fn tell_parties(tx: &mut sqlx::AnyConnection, id: i64, text: &str, now: NaiveDateTime) -> Result<()> {
    use crate::inbox::{To, send};
    let r = sqlx::query(
        "SELECT e.unit_id AS e_unit, i.unit_id AS i_unit, xi.unit_id AS x_unit FROM dockings d \
         JOIN enterprises e ON e.id = d.enterprise_id LEFT JOIN institutions i ON i.id = d.institution_id \
         LEFT JOIN experts x ON x.id = d.expert_id LEFT JOIN institutions xi ON xi.id = x.institution_id \
         WHERE d.id = $1",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    let link = format!("/docking/dockings/{id}");
    let link = Some(link.as_str());
    if let Some(u) = r.oi("e_unit")? {
        send(tx, To::unit_role(u, Role::Enterprise), "docking", text, None, link, now).await?;
    }
    let mut institutions = vec![r.oi("i_unit")?, r.oi("x_unit")?].into_iter().flatten().collect::<Vec<_>>();
    institutions.dedup();
    for u in institutions {
        send(tx, To::unit_role(u, Role::Institution), "docking", text, None, link, now).await?;
    }
    send(tx, To::role(Role::TechBureau), "docking", text, None, link, now).await
}

impl Db {
    /// Dockings this user may read: the 科技局 and district roles all; an enterprise its own; an
    /// institution those of its experts and achievements.
    pub async fn list_dockings(&self, u: &SessionUser, stage: Option<Stage>) -> Result<Vec<Docking>> {
        let party = self.party_of(u).await?;
        let cond = if reads_all(u) {
            "1=1"
        } else if u.role == Role::Enterprise {
            "d.enterprise_id = $2"
        } else if u.role == Role::Institution {
            "(d.institution_id = $2 OR x.institution_id = $2)"
        } else {
            "1=0"
        };
        let own = party.enterprise_id.or(party.institution_id).unwrap_or(-1);
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{DOCKING_SELECT} WHERE ($1 = '' OR d.stage = $1) AND ($2 = $2) AND {cond} \
             ORDER BY d.updated_at DESC, d.id DESC"
        )))
        .bind(stage.map(|s| s.code()).unwrap_or("").to_string())
        .bind(own)
        .fetch_all(&self.pool)
        .await?;
        let mut list = rows.iter().map(docking_of).collect::<Result<Vec<_>>>()?;
        // District roles follow every docking, but a confidential 难题's title is for the 科技局 and
        // the docking's own parties only (the rows above already limit the parties to their own).
        if u.role != Role::TechBureau && reads_all(u) {
            for (d, r) in list.iter_mut().zip(&rows) {
                if r.i("problem_confidential")? != 0 {
                    d.title = CONFIDENTIAL_DOCKING.into();
                    d.problem_title = Some(CONFIDENTIAL_PROBLEM.into());
                }
            }
        }
        Ok(list)
    }

    pub async fn get_docking(&self, u: &SessionUser, id: i64) -> Result<DockingDetail> {
        let docking = self
            .list_dockings(u, None)
            .await?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or_else(|| StoreError::NotFound(format!("没有编号 {id} 的对接，或您无权查看")))?;
        let label = |c: &str| Stage::from_code(c).map(|s| s.label_zh().to_string()).unwrap_or_else(|| "—".into());
        let sql = format!(
            "SELECT e.*, {} FROM docking_events e {} WHERE e.docking_id = $1 ORDER BY e.id",
            crate::auth::ACTOR_COLS,
            crate::auth::actor_join("e")
        );
        let events = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(DockingEvent {
                    from_label: label(&r.s("from_stage")?),
                    to_label: label(&r.s("to_stage")?),
                    note: r.s("note")?,
                    task_id: r.oi("task_id")?,
                    actor: crate::auth::actor_of(r)?,
                    at: r.t("at")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let activities = self.activities(Some(id)).await?;
        let contracts = sqlx::query("SELECT * FROM contracts WHERE docking_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(contract_of)
            .collect::<Result<Vec<_>>>()?;
        let next_stage = docking.stage.next().filter(|_| !docking.stage.is_final());
        Ok(DockingDetail {
            next_stage_label: next_stage.map(|s| s.label_zh().into()),
            next_stage,
            docking,
            events,
            activities,
            contracts,
        })
    }

    /// Start a docking at 推荐. The 科技局 recommends from match results; an enterprise may ask
    /// for a docking on its own problem.
    pub async fn create_docking(&self, u: &SessionUser, n: &NewDocking, now: NaiveDateTime) -> Result<i64> {
        let party = self.party_of(u).await?;
        if !(u.role == Role::TechBureau || u.role == Role::Enterprise) {
            return Err(StoreError::Denied("无权限：对接由科技局推荐或企业申请".into()));
        }
        if n.expert_id.is_none() && n.achievement_id.is_none() {
            return Err(StoreError::invalid("对接对象", "须选择专家或成果"));
        }
        let note = optional_multiline("推荐说明", &n.note, 1000)?.unwrap_or_default();
        let mut tx = self.begin().await?;
        let (enterprise_id, problem_title) = match n.problem_id {
            Some(p) => {
                let r = sqlx::query("SELECT enterprise_id, title, status FROM tech_problems WHERE id = $1")
                    .bind(p)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| StoreError::invalid("技术难题", format!("难题库中没有编号 {p} 的难题")))?;
                if r.s("status")? != "published" {
                    return Err(StoreError::invalid("技术难题", "难题尚未通过审核发布，不能对接"));
                }
                (r.i("enterprise_id")?, Some(r.s("title")?))
            }
            None => (n.enterprise_id.ok_or_else(|| StoreError::invalid("企业", "不指定难题时须选择企业"))?, None),
        };
        if u.role == Role::Enterprise && party.enterprise_id != Some(enterprise_id) {
            return Err(StoreError::Denied("无权限：只能为本企业申请对接".into()));
        }
        let ent = sqlx::query("SELECT name FROM enterprises WHERE id = $1")
            .bind(enterprise_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::invalid("企业", format!("编号 {enterprise_id} 的企业不在企业库中")))?
            .s("name")?;
        let mut institution_id = None;
        let mut partner = String::new();
        if let Some(x) = n.expert_id {
            let r = sqlx::query("SELECT name, institution_id, status FROM experts WHERE id = $1")
                .bind(x)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::invalid("专家", format!("专家库中没有编号 {x} 的专家")))?;
            if r.s("status")? != "published" {
                return Err(StoreError::invalid("专家", "该专家信息尚未发布"));
            }
            institution_id = Some(r.i("institution_id")?);
            partner = r.s("name")?;
        }
        if let Some(a) = n.achievement_id {
            let r = sqlx::query("SELECT title, institution_id, status FROM achievements WHERE id = $1")
                .bind(a)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::invalid("成果", format!("成果库中没有编号 {a} 的成果")))?;
            if r.s("status")? != "published" {
                return Err(StoreError::invalid("成果", "该成果尚未发布"));
            }
            institution_id = institution_id.or(r.oi("institution_id")?);
            if partner.is_empty() {
                partner = r.s("title")?;
            }
        }
        let dup = sqlx::query(
            "SELECT COUNT(*) AS n FROM dockings WHERE enterprise_id = $1 AND COALESCE(problem_id, 0) = $2 AND COALESCE(expert_id, 0) = $3 \
             AND COALESCE(achievement_id, 0) = $4 AND stage NOT IN ('concluded', 'terminated')",
        )
        .bind(enterprise_id)
        .bind(n.problem_id.unwrap_or(0))
        .bind(n.expert_id.unwrap_or(0))
        .bind(n.achievement_id.unwrap_or(0))
        .fetch_one(&mut *tx)
        .await?
        .i("n")?;
        if dup > 0 {
            return Err(StoreError::Conflict("同一企业、难题与专家/成果之间已有进行中的对接".into()));
        }
        let title = match n.title.trim() {
            "" => format!("{} × {}", problem_title.unwrap_or(ent), partner),
            t => required_text("对接名称", t, 200)?,
        };
        let title: String = title.chars().take(200).collect();
        let id = sqlx::query(
            "INSERT INTO dockings (title, problem_id, enterprise_id, expert_id, achievement_id, institution_id, stage, \
             furthest, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'recommended', 'recommended', $7, $8, $8) RETURNING id",
        )
        .bind(title.clone())
        .bind(n.problem_id)
        .bind(enterprise_id)
        .bind(n.expert_id)
        .bind(n.achievement_id)
        .bind(institution_id)
        .bind(u.username.clone())
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await?
        .i("id")?;
        event(&mut tx, id, "", "recommended", &note, None, &u.username, now).await?;
        let by = if u.role == Role::Enterprise { "企业申请" } else { "科技局推荐" };
        tell_parties(&mut tx, id, &format!("新对接「{title}」（{by}），当前阶段「推荐」"), now).await?;
        let after = serde_json::json!({"title": title, "problem_id": n.problem_id, "enterprise_id": enterprise_id, "expert_id": n.expert_id, "achievement_id": n.achievement_id});
        append(
            &mut tx,
            now,
            Change {
                actor: &u.username,
                action: "docking.create",
                entity: "docking",
                entity_id: id.to_string(),
                before: String::new(),
                after: after.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Move a docking to the next stage, or end it (终止 with a reason). Only the 科技局.
    pub async fn move_docking(&self, u: &SessionUser, id: i64, m: &MoveDocking, now: NaiveDateTime) -> Result<Stage> {
        must_be_bureau(u, "推进对接")?;
        // Every field's error at once.
        let mut c = Checks::new();
        let to = Stage::from_code(m.to.trim());
        if to.is_none() {
            c.fail("目标阶段", format!("「{}」不是对接阶段", m.to));
        }
        let note = c.take(optional_multiline("说明", &m.note, 1000));
        let reason = c.take(optional_multiline("终止原因", &m.reason, 500));
        if to == Some(Stage::Terminated) && reason.as_ref().is_some_and(|r| r.is_none()) {
            c.fail("终止原因", "终止对接须写明原因");
        }
        let (to, note, reason) = c.done(|| Some((to?, note?.unwrap_or_default(), reason?.unwrap_or_default())))?;
        let mut tx = self.begin().await?;
        crate::locks::lock_row(&mut tx, crate::locks::Locked::Dockings, id).await?;
        let r = sqlx::query("SELECT stage, furthest FROM dockings WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("没有编号 {id} 的对接")))?;
        let from_code = r.s("stage")?;
        let from = stage_of(&from_code)?;
        let contracts = sqlx::query("SELECT COUNT(*) AS n FROM contracts WHERE docking_id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?
            .i("n")?;
        check_move(from, to, contracts > 0, &reason).map_err(|e| StoreError::Conflict(e.0))?;
        let furthest = if to == Stage::Terminated { stage_of(&r.s("furthest")?)? } else { to };
        let changed = sqlx::query("UPDATE dockings SET stage = $1, furthest = $2, end_reason = $3, updated_at = $4 WHERE id = $5 AND stage = $6")
            .bind(to.code().to_string())
            .bind(furthest.code().to_string())
            .bind(reason.clone())
            .bind(ts(now))
            .bind(id)
            .bind(from_code.clone())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed != 1 {
            return Err(StoreError::stale("对接", from.label_zh()));
        }
        let text = if reason.is_empty() {
            note.clone()
        } else {
            format!("终止原因：{reason}{}", if note.is_empty() { String::new() } else { format!("；{note}") })
        };
        event(&mut tx, id, &from_code, to.code(), &text, None, &u.username, now).await?;
        let title =
            sqlx::query("SELECT title FROM dockings WHERE id = $1").bind(id).fetch_one(&mut *tx).await?.s("title")?;
        let message = format!(
            "对接「{title}」由「{}」进入「{}」{}",
            from.label_zh(),
            to.label_zh(),
            if text.is_empty() { String::new() } else { format!("：{text}") }
        );
        tell_parties(&mut tx, id, &message, now).await?;
        append(
            &mut tx,
            now,
            Change {
                actor: &u.username,
                action: "docking.move",
                entity: "docking",
                entity_id: id.to_string(),
                before: serde_json::json!({"stage": from_code}).to_string(),
                after: serde_json::json!({"stage": to.code(), "note": note, "reason": reason}).to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(to)
    }

    /// Record the expert's consent to share contact details with the docked enterprise: by the
    /// expert's institution, or by the 科技局 on the expert's word.
    pub async fn share_contact(&self, u: &SessionUser, id: i64, now: NaiveDateTime) -> Result<()> {
        let party = self.party_of(u).await?;
        let mut tx = self.begin().await?;
        crate::locks::lock_row(&mut tx, crate::locks::Locked::Dockings, id).await?;
        let r = sqlx::query("SELECT d.expert_id, x.institution_id, x.share_on_consent FROM dockings d LEFT JOIN experts x ON x.id = d.expert_id WHERE d.id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("没有编号 {id} 的对接")))?;
        if r.oi("expert_id")?.is_none() {
            return Err(StoreError::Conflict("该对接没有专家，无联系方式可共享".into()));
        }
        let ok = u.role == Role::TechBureau
            || (u.role == Role::Institution
                && party.institution_id.is_some()
                && party.institution_id == r.oi("institution_id")?);
        if !ok {
            return Err(StoreError::Denied("无权限：联系方式共享须由专家所在机构或科技局确认".into()));
        }
        if r.oi("share_on_consent")? == Some(0) {
            return Err(StoreError::Conflict("该专家设置为联系方式仅科技局可见，不能共享".into()));
        }
        // Guarded: of two confirmations at once only one changes the row (and sends the message).
        let changed =
            sqlx::query("UPDATE dockings SET contact_shared = 1, updated_at = $1 WHERE id = $2 AND contact_shared = 0")
                .bind(ts(now))
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if changed != 1 {
            return Err(StoreError::Conflict("专家已同意提供联系方式，无需重复确认".into()));
        }
        let title =
            sqlx::query("SELECT title FROM dockings WHERE id = $1").bind(id).fetch_one(&mut *tx).await?.s("title")?;
        tell_parties(&mut tx, id, &format!("对接「{title}」：专家已同意向企业提供联系方式"), now).await?;
        append(
            &mut tx,
            now,
            Change {
                actor: &u.username,
                action: "docking.share_contact",
                entity: "docking",
                entity_id: id.to_string(),
                before: String::new(),
                after: "{\"contact_shared\":true}".into(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Raise a supervised task for the docking's current stage (the 督查局 立项并交办; lights and
    /// escalation then apply as to any task). The docking's timeline links to it.
    pub async fn raise_docking_task(
        &self,
        u: &SessionUser,
        ctx: &Ctx<'_>,
        docking_id: i64,
        (n, pre): (&NewTask, Vec<xietong_supervision::FieldError>),
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        let r = sqlx::query(
            "SELECT d.title, d.stage, COALESCE(p.confidential, 0) AS confidential FROM dockings d \
             LEFT JOIN tech_problems p ON p.id = d.problem_id WHERE d.id = $1",
        )
        .bind(docking_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("没有编号 {docking_id} 的对接")))?;
        let stage = stage_of(&r.s("stage")?)?;
        if stage.is_final() {
            return Err(StoreError::Conflict(format!("对接已「{}」，不再督办", stage.label_zh())));
        }
        let mut n = n.clone();
        if n.description.trim().is_empty() {
            // A task is read by district roles: a confidential 难题's docking keeps its placeholder title.
            let title = if r.i("confidential")? != 0 { CONFIDENTIAL_DOCKING.to_string() } else { r.s("title")? };
            n.description = format!("产学研对接「{title}」处于「{}」阶段，督办推进。", stage.label_zh());
        }
        n.assign_now = true;
        // `pre`: fields the form could not read, answered with every other field's error.
        let task = self.create_task_checked(&mut tx, u, ctx, &n, pre).await?;
        event(
            &mut tx,
            docking_id,
            stage.code(),
            stage.code(),
            &format!("督办任务：{}", n.title.trim()),
            Some(task),
            &u.username,
            ctx.now,
        )
        .await?;
        tx.commit().await?;
        Ok(task)
    }
}
