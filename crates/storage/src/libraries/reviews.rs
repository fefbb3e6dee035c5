//! The review every submission goes through (形式审核 → 部门审核 → 发布, 退回 with a reason,
//! 续期, 到期), its queue and history, and how a (re)submission enters it.

use chrono::NaiveDateTime;
use serde::Serialize;
use xietong_docking::review::{self, ReviewAction, ReviewStatus};
use xietong_supervision::Role;
use xietong_supervision::validate::optional_multiline;

use super::{
    CONFIDENTIAL_IN_AUDIT, DEFAULT_VALIDITY_DAYS, Library, ReviewState, is_bureau, must_be_bureau, review_state,
};
use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::{Db, Result, RowExt, StoreError, ts};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewItem {
    pub library: Library,
    pub library_label: String,
    pub id: i64,
    pub title: String,
    /// 提交单位（企业或高校院所）
    pub party: String,
    pub review: ReviewState,
    pub updated_at: NaiveDateTime,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewEvent {
    pub action: String,
    pub action_label: String,
    pub from_label: String,
    pub to_label: String,
    pub reason: String,
    pub actor: String,
    pub at: NaiveDateTime,
}

impl Db {
    /// For a resubmission: the record must be the caller's and returned.
    pub(super) async fn check_resubmit(
        tx: &mut sqlx::AnyConnection,
        lib: Library,
        id: i64,
        owner_col: &str,
        owner: Option<i64>,
        u: &SessionUser,
    ) -> Result<()> {
        // Locked before its status is read, so two resubmissions cannot both pass the check.
        crate::locks::lock_row(tx, lib.locked(), id).await?;
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT status, {owner_col} AS owner FROM {} WHERE id = $1",
            lib.table()
        )))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("{}中没有编号 {id} 的记录", lib.label_zh())))?;
        if !is_bureau(u) && r.oi("owner")? != owner {
            return Err(StoreError::Denied("无权限：只能修改本单位提交的记录".into()));
        }
        let status = ReviewStatus::from_code(&r.s("status")?).unwrap_or(ReviewStatus::Published);
        review::next_status(status, ReviewAction::Resubmit, "").map_err(|e| StoreError::Conflict(e.0))?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn review_event(
        tx: &mut sqlx::AnyConnection,
        lib: Library,
        id: i64,
        action: &str,
        from: &str,
        to: ReviewStatus,
        reason: &str,
        actor: &str,
        now: NaiveDateTime,
    ) -> Result<()> {
        sqlx::query("INSERT INTO review_events (library, record_id, action, from_status, to_status, reason, actor, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(lib.code().to_string())
            .bind(id)
            .bind(action.to_string())
            .bind(from.to_string())
            .bind(to.code().to_string())
            .bind(reason.to_string())
            .bind(actor.to_string())
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    /// A message to the accounts of the enterprise or institution that submitted a record (none
    /// when it has no accounts yet: the 科技局 entered it for them).
    #[allow(clippy::too_many_arguments)]
    async fn to_submitter(
        tx: &mut sqlx::AnyConnection,
        lib: Library,
        owner: Option<i64>,
        kind: &str,
        text: &str,
        id: i64,
        now: NaiveDateTime,
    ) -> Result<()> {
        let Some(owner) = owner else { return Ok(()) };
        let (table, role) = match lib {
            Library::Problem => ("enterprises", Role::Enterprise),
            _ => ("institutions", Role::Institution),
        };
        let unit = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT unit_id FROM {table} WHERE id = $1")))
            .bind(owner)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.oi("unit_id"))
            .transpose()?
            .flatten();
        if let Some(unit) = unit {
            let link = format!("/docking/{}s/{id}", lib.code());
            crate::inbox::send(tx, crate::inbox::To::unit_role(unit, role), kind, text, None, Some(&link), now).await?;
        }
        Ok(())
    }

    /// A (re)submission enters the review record and the audit chain.
    pub(super) async fn record_submission(
        tx: &mut sqlx::AnyConnection,
        lib: Library,
        id: i64,
        action: &str,
        u: &SessionUser,
        after: serde_json::Value,
        now: NaiveDateTime,
    ) -> Result<()> {
        let from = if action == "submit" { "" } else { "returned" };
        Self::review_event(tx, lib, id, action, from, ReviewStatus::Submitted, "", &u.username, now).await?;
        // The 科技局 hears of what an enterprise or institution submits (not of what it entered itself).
        if u.role != Role::TechBureau {
            let r = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT t.{} AS title FROM {} t WHERE t.id = $1",
                lib.title_col(),
                lib.table()
            )))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let again = if action == "submit" { "提交" } else { "修改后重新提交" };
            let text = format!("{}{again}{}「{}」，待形式审核", u.unit_name, lib.item_zh(), r.s("title")?);
            let link = format!("/docking/{}s/{id}", lib.code());
            crate::inbox::send(
                tx,
                crate::inbox::To::role(Role::TechBureau),
                "submission",
                &text,
                None,
                Some(&link),
                now,
            )
            .await?;
        }
        let entity = match lib {
            Library::Problem => "tech_problem",
            Library::Expert => "expert",
            Library::Achievement => "achievement",
        };
        append(
            tx,
            now,
            Change {
                actor: &u.username,
                action: &format!("{entity}.{action}"),
                entity,
                entity_id: id.to_string(),
                before: String::new(),
                after: after.to_string(),
            },
        )
        .await?;
        Ok(())
    }

    /// One review step by the 科技局 (or the 到期 step by the scheduler, with `u` = None).
    /// Publishing and renewing set the expiry from the record's campaign (default one year).
    pub async fn review(
        &self,
        u: Option<&SessionUser>,
        lib: Library,
        id: i64,
        action: ReviewAction,
        reason: &str,
        now: NaiveDateTime,
    ) -> Result<ReviewStatus> {
        let actor = match u {
            Some(u) => {
                if action == ReviewAction::Expire || action == ReviewAction::Resubmit {
                    return Err(StoreError::BadInput(format!("「{}」不是审核操作", action.label_zh())));
                }
                must_be_bureau(u, "审核")?;
                u.username.clone()
            }
            None => "system".to_string(),
        };
        let reason = optional_multiline("退回原因", reason, 500)?.unwrap_or_default();
        if action == ReviewAction::Return && reason.is_empty() {
            return Err(StoreError::invalid("退回原因", "退回须写明原因，提交人据此修改"));
        }
        let mut tx = self.begin().await?;
        crate::locks::lock_row(&mut tx, lib.locked(), id).await?;
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT t.status, t.{} AS title, {} AS confidential, t.{} AS owner, c.validity_days FROM {} t \
             LEFT JOIN campaigns c ON c.id = t.campaign_id WHERE t.id = $1",
            lib.title_col(),
            lib.confidential_expr(),
            lib.owner_col(),
            lib.table()
        )))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("{}中没有编号 {id} 的记录", lib.label_zh())))?;
        let from_code = r.s("status")?;
        let from = ReviewStatus::from_code(&from_code).ok_or_else(|| StoreError::internal("未知审核状态"))?;
        let to = review::next_status(from, action, &reason).map_err(|e| StoreError::Conflict(e.0))?;
        let validity = r.oi("validity_days")?.map(|d| d as u32).unwrap_or(DEFAULT_VALIDITY_DAYS);
        let expires = matches!(action, ReviewAction::Approve | ReviewAction::Renew)
            .then(|| review::expires_on(now.date(), validity).to_string());
        let return_reason = if action == ReviewAction::Return { reason.clone() } else { String::new() };
        let changed = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {} SET status = $1, return_reason = $2, expires_on = COALESCE($3, expires_on), updated_at = $4 WHERE id = $5 AND status = $6",
            lib.table()
        )))
        .bind(to.code().to_string())
        .bind(return_reason)
        .bind(expires.clone())
        .bind(ts(now))
        .bind(id)
        .bind(from_code.clone())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed != 1 {
            return Err(StoreError::stale("记录", from.label_zh()));
        }
        Self::review_event(&mut tx, lib, id, action.code(), &from_code, to, &reason, &actor, now).await?;
        // The result goes to the submitter's own accounts (who may read the record, confidential or not).
        let text = match action {
            ReviewAction::PassFormal => "已通过形式审核，待部门审核".to_string(),
            ReviewAction::Approve => format!("已审核通过并发布，有效期至 {}", expires.clone().unwrap_or_default()),
            ReviewAction::Return => format!("被退回：{reason}。请修改后重新提交"),
            ReviewAction::Renew => format!("已续期至 {}", expires.clone().unwrap_or_default()),
            ReviewAction::Expire => "已过有效期，不再公开展示；如需继续展示请联系科技局续期".to_string(),
            ReviewAction::Resubmit => String::new(),
        };
        if !text.is_empty() {
            let text = format!("您单位提交的{}「{}」{text}", lib.item_zh(), r.s("title")?);
            Self::to_submitter(&mut tx, lib, r.oi("owner")?, "review", &text, id, now).await?;
        }
        let title = if r.i("confidential")? != 0 { CONFIDENTIAL_IN_AUDIT.to_string() } else { r.s("title")? };
        let after = serde_json::json!({"library": lib.code(), "title": title, "action": action.code(), "to": to.code(), "reason": reason, "expires_on": expires});
        append(
            &mut tx,
            now,
            Change {
                actor: &actor,
                action: &format!("review.{}", action.code()),
                entity: lib.table(),
                entity_id: id.to_string(),
                before: serde_json::json!({"status": from_code}).to_string(),
                after: after.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(to)
    }

    /// Submissions waiting for 形式审核 or 部门审核, oldest first.
    pub async fn review_queue(&self, u: &SessionUser) -> Result<Vec<ReviewItem>> {
        must_be_bureau(u, "审核")?;
        let mut out = vec![];
        for lib in Library::ALL {
            let party = match lib {
                Library::Problem => "(SELECT name FROM enterprises e WHERE e.id = t.enterprise_id)",
                _ => "(SELECT name FROM institutions i WHERE i.id = t.institution_id)",
            };
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT t.id, t.{} AS title, {party} AS party, t.status, t.campaign_id, t.return_reason, t.expires_on, t.updated_at FROM {} t \
                 WHERE t.status IN ('submitted', 'formal_passed') ORDER BY t.updated_at, t.id",
                lib.title_col(),
                lib.table()
            )))
            .fetch_all(&self.pool)
            .await?;
            for r in &rows {
                out.push(ReviewItem {
                    library: lib,
                    library_label: lib.label_zh().into(),
                    id: r.i("id")?,
                    title: r.s("title")?,
                    party: r.os("party")?.unwrap_or_default(),
                    review: review_state(r)?,
                    updated_at: r.t("updated_at")?,
                });
            }
        }
        out.sort_by_key(|a| a.updated_at);
        Ok(out)
    }

    /// A record's review history, return reasons included: for the 科技局 and the enterprise or
    /// institution that submitted the record, nobody else.
    pub async fn review_history(&self, u: &SessionUser, lib: Library, id: i64) -> Result<Vec<ReviewEvent>> {
        if u.role != Role::TechBureau {
            let owner = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {} AS owner FROM {} WHERE id = $1",
                lib.owner_col(),
                lib.table()
            )))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.oi("owner"))
            .transpose()?
            .flatten();
            let party = self.party_of(u).await?;
            let mine = match lib {
                Library::Problem => party.enterprise_id,
                _ => party.institution_id,
            };
            if owner.is_none() || owner != mine {
                return Err(StoreError::Denied("无权限：审核记录仅提交单位和科技局可查看".into()));
            }
        }
        let sql = format!(
            "SELECT e.*, {} FROM review_events e {} WHERE e.library = $1 AND e.record_id = $2 ORDER BY e.id",
            crate::auth::ACTOR_COLS,
            crate::auth::actor_join("e")
        );
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(lib.code().to_string()).bind(id).fetch_all(&self.pool).await?;
        let label =
            |c: &str| ReviewStatus::from_code(c).map(|s| s.label_zh().to_string()).unwrap_or_else(|| "—".into());
        rows.iter()
            .map(|r| {
                let action = r.s("action")?;
                Ok(ReviewEvent {
                    action_label: ReviewAction::from_code(&action)
                        .map(|a| a.label_zh().to_string())
                        .unwrap_or_else(|| if action == "submit" { "提交".into() } else { action.clone() }),
                    action,
                    from_label: label(&r.s("from_status")?),
                    to_label: label(&r.s("to_status")?),
                    reason: r.s("reason")?,
                    actor: crate::auth::actor_of(r)?,
                    at: r.t("at")?,
                })
            })
            .collect()
    }

    /// Expire every published record whose validity ended before `today`; each is audited.
    pub async fn expire_library_records(&self, now: NaiveDateTime) -> Result<usize> {
        let mut n = 0;
        for lib in Library::ALL {
            let ids = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id FROM {} WHERE status = 'published' AND expires_on IS NOT NULL AND expires_on < $1",
                lib.table()
            )))
            .bind(now.date().to_string())
            .fetch_all(&self.pool)
            .await?;
            for r in &ids {
                self.review(None, lib, r.i("id")?, ReviewAction::Expire, "", now).await?;
                n += 1;
            }
        }
        Ok(n)
    }
}
