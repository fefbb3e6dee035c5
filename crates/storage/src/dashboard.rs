//! What the leader and 督查局 dashboards are computed from: the open tasks of a supervision area
//! (分包: units and/or categories), and 督导 visits.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use xietong_supervision::validate::{self, Checks, optional_multiline, required_multiline, required_text};
use xietong_supervision::{FieldError, Role};

use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::error::got;
use crate::tasks::{Ctx, NewTask, TASK_SELECT, Task};
use crate::{Db, Result, RowExt, StoreError, ts};

/// A supervision area: the units and categories a leader is responsible for (empty = everything).
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Area {
    pub units: Vec<(i64, String)>,
    pub categories: Vec<(i64, String)>,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewVisit {
    #[serde(default)]
    pub unit_id: Option<i64>,
    pub visited_on: String,
    pub place: String,
    pub findings: String,
    #[serde(default)]
    pub follow_up: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Visit {
    pub id: i64,
    pub leader_name: String,
    pub unit_id: Option<i64>,
    pub unit_name: Option<String>,
    pub visited_on: NaiveDate,
    pub place: String,
    pub findings: String,
    pub follow_up: String,
    /// Follow-up tasks registered from the visit: (id, title).
    pub tasks: Vec<(i64, String)>,
}

/// How many open tasks of one lead unit and category have one light.
#[derive(Clone, Debug, Serialize)]
pub struct LightCount {
    pub unit_id: i64,
    pub unit_name: String,
    pub category_id: Option<i64>,
    pub category_name: Option<String>,
    /// red | yellow | green
    pub light: String,
    pub n: i64,
}

/// SQL condition: task `t` is in the area (led by one of its units or in one of its categories);
/// `None` for an empty area.
pub(crate) fn area_sql(a: &Area) -> Option<String> {
    let us = a.units.iter().map(|u| u.0.to_string()).collect::<Vec<_>>().join(",");
    let cs = a.categories.iter().map(|c| c.0.to_string()).collect::<Vec<_>>().join(",");
    let mut parts = vec![];
    if !us.is_empty() {
        parts.push(format!("t.lead_unit_id IN ({us})"));
    }
    if !cs.is_empty() {
        parts.push(format!("t.category_id IN ({cs})"));
    }
    (!parts.is_empty()).then(|| format!("({})", parts.join(" OR ")))
}

/// SQL condition for the dashboard's tasks: open, in the 数据范围, in the area if one is given.
fn open_in_area(user: &SessionUser, area: Option<&Area>) -> Result<String> {
    if !Role::LEADERSHIP.contains(&user.role) {
        return Err(StoreError::Denied("无权限：只有区领导和督查局可以查看督导看板".into()));
    }
    let mut cond = format!("t.status IN {} AND {}", crate::tasks::OPEN_STATUSES, crate::tasks::scope_sql(user));
    if let Some(a) = area {
        cond = format!("{cond} AND {}", area_sql(a).unwrap_or_else(|| "1=0".into()));
    }
    Ok(cond)
}

impl Db {
    /// The leader's 分包 area; for other roles that see everything, the whole district.
    pub async fn area_of(&self, person_id: i64) -> Result<Area> {
        let rows = sqlx::query(
            "SELECT a.unit_id, u.name AS unit_name, a.category_id, c.name AS category_name FROM leader_areas a \
             LEFT JOIN units u ON u.id = a.unit_id LEFT JOIN categories c ON c.id = a.category_id WHERE a.leader_person_id = $1 ORDER BY a.id",
        )
        .bind(person_id)
        .fetch_all(&self.pool)
        .await?;
        let mut area = Area::default();
        for r in &rows {
            if let (Some(id), Some(n)) = (r.oi("unit_id")?, r.os("unit_name")?) {
                area.units.push((id, n));
            }
            if let (Some(id), Some(n)) = (r.oi("category_id")?, r.os("category_name")?) {
                area.categories.push((id, n));
            }
        }
        Ok(area)
    }

    /// Open tasks (交办 to 办结申请) led by the area's units or in its categories; all open tasks
    /// when `area` is `None` (督查局 and leaders without an area); always within the 数据范围.
    pub async fn open_tasks_in(&self, user: &SessionUser, area: Option<&Area>) -> Result<Vec<Task>> {
        let cond = open_in_area(user, area)?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{TASK_SELECT} WHERE {cond} ORDER BY u.sort, t.lead_unit_id, t.deadline LIMIT 5000"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(crate::tasks::task).collect()
    }

    /// The lights of the open tasks of an area (all when `None`), counted per lead unit and
    /// category by the same conditions as the task list's `light` filter, so each count equals the
    /// rows of the list it links to.
    pub async fn area_lights(&self, u: &SessionUser, ctx: &Ctx<'_>, area: Option<&Area>) -> Result<Vec<LightCount>> {
        let cond = open_in_area(u, area)?;
        let yellow = crate::tasks::id_list(&self.yellow_task_ids(ctx).await?);
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT lead_unit_id, unit_name, sort, category_id, category_name, light, COUNT(*) AS n FROM \
             (SELECT t.lead_unit_id, u.name AS unit_name, u.sort, t.category_id, c.name AS category_name, \
             CASE WHEN t.deadline < $1 THEN 'red' WHEN t.id IN ({yellow}) THEN 'yellow' ELSE 'green' END AS light \
             FROM tasks t JOIN units u ON u.id = t.lead_unit_id LEFT JOIN categories c ON c.id = t.category_id \
             WHERE {cond}) x \
             GROUP BY lead_unit_id, unit_name, sort, category_id, category_name, light ORDER BY sort, lead_unit_id"
        )))
        .bind(ts(ctx.now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LightCount {
                    unit_id: r.i("lead_unit_id")?,
                    unit_name: r.s("unit_name")?,
                    category_id: r.oi("category_id")?,
                    category_name: r.os("category_name")?,
                    light: r.s("light")?,
                    n: r.i("n")?,
                })
            })
            .collect()
    }

    /// Record a 督导 visit (区领导, for their own area).
    pub async fn record_visit(&self, user: &SessionUser, v: &NewVisit, now: NaiveDateTime) -> Result<i64> {
        if user.role != Role::Leader {
            return Err(StoreError::Denied("无权限：只有区领导可以记录督导".into()));
        }
        // Every field is checked before the answer.
        let mut c = Checks::new();
        let day = c.take(validate::date("督导日期", &v.visited_on).and_then(|d| {
            if d > now.date() {
                Err(FieldError::new("督导日期", format!("不能晚于今天（{}）", now.date())))
            } else {
                Ok(d)
            }
        }));
        let place = c.take(required_text("督导地点", &v.place, 200));
        let findings = c.take(required_multiline("发现问题", &v.findings, 5000));
        let follow = c.take(optional_multiline("跟进要求", &v.follow_up, 5000));
        let mut tx = self.begin().await?;
        if let Some(u) = v.unit_id
            && !self.unit_found(&mut tx, u).await?
        {
            c.fail("督导单位", format!("编号 {u} 的单位不存在"));
        }
        c.finish()?;
        let (day, place, findings) = (got(day)?, got(place)?, got(findings)?);
        let follow = got(follow)?.unwrap_or_default();
        let id = sqlx::query(
            "INSERT INTO supervision_visits (leader_person_id, unit_id, visited_on, place, findings, follow_up, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(user.person_id)
        .bind(v.unit_id)
        .bind(day.to_string())
        .bind(place.clone())
        .bind(findings.clone())
        .bind(follow.clone())
        .bind(user.user_id)
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await?
        .i("id")?;
        if let Some(u) = v.unit_id {
            let text = format!(
                "{}督导（{place}）：{findings}{}",
                user.person_name,
                if follow.is_empty() { String::new() } else { format!("；跟进要求：{follow}") }
            );
            crate::inbox::send(&mut tx, crate::inbox::To::unit(u), "visit", &text, None, None, now).await?;
        }
        let after = serde_json::json!({"unit_id": v.unit_id, "visited_on": day.to_string(), "place": place, "findings": findings, "follow_up": follow});
        append(
            &mut tx,
            now,
            Change {
                actor: &user.username,
                action: "visit.record",
                entity: "supervision_visit",
                entity_id: id.to_string(),
                before: String::new(),
                after: after.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Register a follow-up of a visit as a supervised task (督查局: 领导督导 → 立项交办), linked to the visit.
    pub async fn visit_follow_up(&self, user: &SessionUser, ctx: &Ctx<'_>, visit_id: i64, n: &NewTask) -> Result<i64> {
        let mut tx = self.begin().await?;
        let v = sqlx::query("SELECT v.id, v.visited_on, v.place, p.name AS leader_name, v.leader_person_id FROM supervision_visits v JOIN people p ON p.id = v.leader_person_id WHERE v.id = $1")
            .bind(visit_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("编号 {visit_id} 的督导记录不存在")))?;
        let n_before = sqlx::query("SELECT COUNT(*) AS n FROM visit_tasks WHERE visit_id = $1")
            .bind(visit_id)
            .fetch_one(&mut *tx)
            .await?
            .i("n")?;
        let mut n = n.clone();
        if n.doc_no.trim().is_empty() {
            n.doc_no = format!("二七督导〔{}〕{visit_id}-{}号", ctx.now.format("%Y"), n_before + 1);
        }
        n.source_kind = "instruction".into();
        if n.source_title.trim().is_empty() {
            n.source_title = format!("{}督导（{}，{}）", v.s("leader_name")?, v.s("visited_on")?, v.s("place")?);
        }
        if n.source_date.trim().is_empty() {
            n.source_date = v.s("visited_on")?;
        }
        n.leader_person_id = n.leader_person_id.or(Some(v.i("leader_person_id")?));
        let id = self.create_task_in(&mut tx, user, ctx, &n).await?;
        sqlx::query("INSERT INTO visit_tasks (visit_id, task_id) VALUES ($1, $2)")
            .bind(visit_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        append(
            &mut tx,
            ctx.now,
            Change {
                actor: &user.username,
                action: "visit.follow_up",
                entity: "supervision_visit",
                entity_id: visit_id.to_string(),
                before: String::new(),
                after: serde_json::json!({"task_id": id}).to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Visits, newest first: one leader's, or everyone's.
    pub async fn visits(&self, leader_person_id: Option<i64>, limit: i64) -> Result<Vec<Visit>> {
        let rows = sqlx::query(
            "SELECT v.*, p.name AS leader_name, u.name AS unit_name FROM supervision_visits v JOIN people p ON p.id = v.leader_person_id \
             LEFT JOIN units u ON u.id = v.unit_id WHERE $1 = 0 OR v.leader_person_id = $1 ORDER BY v.visited_on DESC, v.id DESC LIMIT $2",
        )
        .bind(leader_person_id.unwrap_or(0))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let links = sqlx::query(
            "SELECT vt.visit_id, t.id, t.title FROM visit_tasks vt JOIN tasks t ON t.id = vt.task_id ORDER BY t.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id = r.i("id")?;
                let mut tasks = vec![];
                for l in &links {
                    if l.i("visit_id")? == id {
                        tasks.push((l.i("id")?, l.s("title")?));
                    }
                }
                Ok(Visit {
                    tasks,
                    id,
                    leader_name: r.s("leader_name")?,
                    unit_id: r.oi("unit_id")?,
                    unit_name: r.os("unit_name")?,
                    visited_on: r.d("visited_on")?,
                    place: r.s("place")?,
                    findings: r.s("findings")?,
                    follow_up: r.s("follow_up")?,
                })
            })
            .collect()
    }
}
