//! 督查统筹管理: every planned inspection or assessment (督查考核事项) is registered; overlapping
//! ones are found and proposed for merging ("能合尽合"); a merge keeps every origin; a per-unit
//! burden counter shows inspections per month before and after merging.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use xietong_supervision::inspections::{
    Inspection, Overlap, OverlapRules, UnitBurden, burden, find_overlaps, merge_groups,
};
use xietong_supervision::validate::{self, Checks, required_multiline, required_text};
use xietong_supervision::{FieldError, Role};

use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::error::got;
use crate::{Db, Result, RowExt, StoreError, ts};

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewInspection {
    pub name: String,
    /// 发起单位
    pub issuing_unit_id: i64,
    /// 督查考核内容
    pub subject: String,
    pub start_on: String,
    pub end_on: String,
    /// 被督查单位
    pub target_unit_ids: Vec<i64>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct InspectionRow {
    pub id: i64,
    pub name: String,
    pub issuing_unit_id: i64,
    pub issuing_unit_name: String,
    pub subject: String,
    pub start_on: NaiveDate,
    pub end_on: NaiveDate,
    pub targets: Vec<(i64, String)>,
    pub merge_id: Option<i64>,
    pub merge_name: Option<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MergeProposal {
    /// Inspections to merge into one.
    pub inspection_ids: Vec<i64>,
    pub names: Vec<String>,
    /// The pairwise overlaps behind the proposal, with reasons.
    pub overlaps: Vec<Overlap>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct BurdenRow {
    pub unit_id: i64,
    pub unit_name: String,
    pub month: String,
    pub before: i64,
    pub after: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct InspectionOverview {
    pub inspections: Vec<InspectionRow>,
    /// Merges proposed among inspections not yet merged.
    pub proposals: Vec<MergeProposal>,
    pub burden: Vec<BurdenRow>,
    pub total_before: i64,
    pub total_after: i64,
}

impl InspectionRow {
    fn domain(&self) -> Inspection {
        Inspection {
            id: self.id,
            name: self.name.clone(),
            issuing_unit_id: self.issuing_unit_id,
            target_unit_ids: self.targets.iter().map(|t| t.0).collect(),
            start: self.start_on,
            end: self.end_on,
            subject: self.subject.clone(),
        }
    }
}

/// Months ("YYYY-MM") touched by any of the inspections, in order.
fn months_of(rows: &[InspectionRow]) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for r in rows {
        let mut d = r.start_on.with_day(1).unwrap_or(r.start_on);
        while d <= r.end_on {
            let m = format!("{:04}-{:02}", d.year(), d.month());
            if !out.contains(&m) {
                out.push(m);
            }
            d = if d.month() == 12 {
                NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
            }
            .unwrap_or(NaiveDate::MAX);
        }
    }
    out.sort();
    out
}

impl Db {
    /// Register a planned inspection (督查局).
    pub async fn register_inspection(&self, user: &SessionUser, n: &NewInspection, now: NaiveDateTime) -> Result<i64> {
        self.register_inspection_from_form(user, n, now, vec![]).await
    }

    /// [`Db::register_inspection`] from a form: `pre` holds the errors of fields it could not
    /// read; every field is checked and answered at once.
    pub async fn register_inspection_from_form(
        &self,
        user: &SessionUser,
        n: &NewInspection,
        now: NaiveDateTime,
        pre: Vec<FieldError>,
    ) -> Result<i64> {
        if user.role != Role::Supervisor {
            return Err(StoreError::Denied("无权限：只有督查局可以登记督查考核事项".into()));
        }
        let mut c = Checks::with(pre);
        let name = c.take(required_text("事项名称", &n.name, 200));
        let subject = c.take(required_multiline("督查考核内容", &n.subject, 2000));
        let start = c.take(validate::date("开始日期", &n.start_on));
        let end = c.take(validate::date("结束日期", &n.end_on));
        if let (Some(start), Some(end)) = (start, end) {
            if end < start {
                c.fail("结束日期", "不能早于开始日期");
            } else if (end - start).num_days() > 366 {
                c.fail("结束日期", "一项督查考核的周期不能超过一年");
            }
        }
        if n.target_unit_ids.is_empty() {
            c.fail("被督查单位", "至少选择一个单位");
        }
        let mut tx = self.begin().await?;
        if !c.has("发起单位") && !self.unit_found(&mut tx, n.issuing_unit_id).await? {
            c.fail("发起单位", format!("编号 {} 的单位不存在", n.issuing_unit_id));
        }
        for u in &n.target_unit_ids {
            if !self.unit_found(&mut tx, *u).await? {
                c.fail("被督查单位", format!("编号 {u} 的单位不存在"));
            }
        }
        c.finish()?;
        let (name, subject, start, end) = (got(name)?, got(subject)?, got(start)?, got(end)?);
        let id = sqlx::query(
            "INSERT INTO inspections (name, issuing_unit_id, subject, start_on, end_on, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(name.clone())
        .bind(n.issuing_unit_id)
        .bind(subject.clone())
        .bind(start.to_string())
        .bind(end.to_string())
        .bind(user.user_id)
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await?
        .i("id")?;
        for u in &n.target_unit_ids {
            sqlx::query(
                "INSERT INTO inspection_targets (inspection_id, unit_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(*u)
            .execute(&mut *tx)
            .await?;
        }
        let after = serde_json::json!({"name": name, "issuing_unit_id": n.issuing_unit_id, "subject": subject, "start_on": start.to_string(), "end_on": end.to_string(), "targets": n.target_unit_ids});
        append(
            &mut tx,
            now,
            Change {
                actor: &user.username,
                action: "inspection.register",
                entity: "inspection",
                entity_id: id.to_string(),
                before: String::new(),
                after: after.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn list_inspections(&self) -> Result<Vec<InspectionRow>> {
        let rows = sqlx::query(
            "SELECT i.*, u.name AS issuing_unit_name, m.name AS merge_name FROM inspections i JOIN units u ON u.id = i.issuing_unit_id \
             LEFT JOIN inspection_merges m ON m.id = i.merge_id ORDER BY i.start_on, i.id",
        )
        .fetch_all(&self.pool)
        .await?;
        let targets = sqlx::query("SELECT t.inspection_id, u.id, u.name FROM inspection_targets t JOIN units u ON u.id = t.unit_id ORDER BY u.sort, u.id").fetch_all(&self.pool).await?;
        let mut out = vec![];
        for r in &rows {
            let id = r.i("id")?;
            let mut ts_ = vec![];
            for t in &targets {
                if t.i("inspection_id")? == id {
                    ts_.push((t.i("id")?, t.s("name")?));
                }
            }
            out.push(InspectionRow {
                id,
                name: r.s("name")?,
                issuing_unit_id: r.i("issuing_unit_id")?,
                issuing_unit_name: r.s("issuing_unit_name")?,
                subject: r.s("subject")?,
                start_on: r.d("start_on")?,
                end_on: r.d("end_on")?,
                targets: ts_,
                merge_id: r.oi("merge_id")?,
                merge_name: r.os("merge_name")?,
            });
        }
        Ok(out)
    }

    /// Everything the 督查统筹 page shows: the register, merge proposals with reasons, and the
    /// burden per unit and month before and after the merges made.
    pub async fn inspection_overview(&self, user: &SessionUser) -> Result<InspectionOverview> {
        if !Role::LEADERSHIP.contains(&user.role) {
            return Err(StoreError::Denied("无权限：督查统筹仅督查局、区领导和系统管理员可见".into()));
        }
        let rows = self.list_inspections().await?;
        let rules = OverlapRules::default();
        let open: Vec<Inspection> = rows.iter().filter(|r| r.merge_id.is_none()).map(InspectionRow::domain).collect();
        let overlaps = find_overlaps(&open, &rules);
        let proposals = merge_groups(&open, &overlaps)
            .into_iter()
            .map(|g| MergeProposal {
                names: g.iter().filter_map(|id| rows.iter().find(|r| r.id == *id).map(|r| r.name.clone())).collect(),
                overlaps: overlaps.iter().filter(|o| g.contains(&o.a) && g.contains(&o.b)).cloned().collect(),
                inspection_ids: g,
            })
            .collect();
        // The merges actually made are the groups that count once per unit and month.
        let mut made: Vec<(i64, Vec<i64>)> = vec![];
        for r in &rows {
            if let Some(m) = r.merge_id {
                match made.iter_mut().find(|(mm, _)| *mm == m) {
                    Some((_, v)) => v.push(r.id),
                    None => made.push((m, vec![r.id])),
                }
            }
        }
        let groups: Vec<Vec<i64>> = made.into_iter().map(|(_, v)| v).collect();
        let all: Vec<Inspection> = rows.iter().map(InspectionRow::domain).collect();
        let months = months_of(&rows);
        let units = self.list_units().await?;
        let b: Vec<UnitBurden> = burden(&all, &groups, &months);
        let burden_rows: Vec<BurdenRow> = b
            .into_iter()
            .map(|x| BurdenRow {
                unit_name: units.iter().find(|u| u.id == x.unit_id).map(|u| u.name.clone()).unwrap_or_default(),
                unit_id: x.unit_id,
                month: x.month,
                before: x.before,
                after: x.after,
            })
            .collect();
        let total_before = burden_rows.iter().map(|r| r.before).sum();
        let total_after = burden_rows.iter().map(|r| r.after).sum();
        Ok(InspectionOverview { inspections: rows, proposals, burden: burden_rows, total_before, total_after })
    }

    /// Merge inspections into one ("能合尽合"); each keeps its own row and origin.
    pub async fn merge_inspections(
        &self,
        user: &SessionUser,
        ids: &[i64],
        name: &str,
        reason: &str,
        now: NaiveDateTime,
    ) -> Result<i64> {
        if user.role != Role::Supervisor {
            return Err(StoreError::Denied("无权限：只有督查局可以合并督查考核事项".into()));
        }
        let name = required_text("合并后名称", name, 200)?;
        let reason = required_multiline("合并理由", reason, 2000)?;
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() < 2 {
            return Err(StoreError::invalid("合并事项", "至少选择两项"));
        }
        let mut tx = self.begin().await?;
        // In ascending id order (sorted above), so two merges of overlapping sets lock alike.
        for id in &ids {
            crate::locks::lock_row(&mut tx, crate::locks::Locked::Inspections, *id).await?;
            let r = sqlx::query("SELECT merge_id FROM inspections WHERE id = $1")
                .bind(*id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::invalid("合并事项", format!("编号 {id} 的督查考核事项不存在")))?;
            if r.oi("merge_id")?.is_some() {
                return Err(StoreError::Conflict(format!("编号 {id} 的事项已经合并过，不能重复合并")));
            }
        }
        let mid = sqlx::query(
            "INSERT INTO inspection_merges (name, reason, created_by, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(name.clone())
        .bind(reason.clone())
        .bind(user.user_id)
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await?
        .i("id")?;
        for id in &ids {
            let n = sqlx::query("UPDATE inspections SET merge_id = $1 WHERE id = $2 AND merge_id IS NULL")
                .bind(mid)
                .bind(*id)
                .execute(&mut *tx)
                .await?;
            if n.rows_affected() != 1 {
                return Err(StoreError::Conflict(format!("编号 {id} 的事项刚被他人合并，请刷新后重试")));
            }
        }
        let after = serde_json::json!({"name": name, "reason": reason, "inspection_ids": ids});
        append(
            &mut tx,
            now,
            Change {
                actor: &user.username,
                action: "inspection.merge",
                entity: "inspection_merge",
                entity_id: mid.to_string(),
                before: String::new(),
                after: after.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(mid)
    }
}
