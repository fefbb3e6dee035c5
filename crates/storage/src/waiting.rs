//! 待办 beyond tasks: what waits for the 科技局, an enterprise or an institution on the 产学研
//! platform. Only what the system asks of that role and what it can do from the linked page:
//!
//! - 科技局: submissions waiting for 形式审核 or 部门审核 (what its 审核台 shows); records returned to
//!   an enterprise or institution that has no account to correct them (the 科技局 resubmits for
//!   them); dockings an enterprise asked for, still at 推荐; dockings with a registered technical
//!   contract whose stage has not reached 签订技术合同 — both moves only the 科技局 makes.
//! - 企业用户: its 难题 returned for revision; 对接洽谈 and 对接活动 of its dockings from today on.
//! - 高校院所用户: its experts and achievements returned for revision; an expert's consent to share
//!   contact details in an open docking (only the institution or the 科技局 records it, and the
//!   expert allows it); 对接活动 of its dockings from today on.
//!
//! Placeholder dockings (standing in for ones a report only counts) wait for nobody. The district's
//! other roles have their tasks (`Db::todo_at`); the 系统管理员, 安全管理员 and 审计管理员 have no
//! step of a workflow waiting on them.

use chrono::NaiveDateTime;
use serde::Serialize;
use xietong_docking::pipeline::Stage;
use xietong_supervision::Role;

use crate::auth::SessionUser;
use crate::libraries::Library;
use crate::{Db, Result, RowExt};

/// One thing waiting for the user that is not a task.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct WaitingItem {
    /// review | returned | docking | consent | activity
    pub kind: String,
    pub kind_label: String,
    /// What is expected, e.g. 「待形式审核」.
    pub what: String,
    pub title: String,
    /// The enterprise or institution concerned.
    pub party: String,
    /// The page where it is done.
    pub link: String,
    /// Since when it waits (the record's last change; for a meeting, its date).
    pub since: String,
}

fn item(kind: &str, what: String, title: String, party: String, link: String, since: String) -> WaitingItem {
    let kind_label = match kind {
        "review" => "审核",
        "returned" => "退回修改",
        "docking" => "对接推进",
        "consent" => "联系方式授权",
        _ => "对接活动",
    };
    WaitingItem { kind: kind.into(), kind_label: kind_label.into(), what, title, party, link, since }
}

/// The stages of a docking still under way.
const OPEN_STAGES: &str = "('recommended','contacting','negotiating','intent_signed',\
                           'contract_signed','transforming')";

impl Db {
    /// Everything not a task that waits for this user, oldest first.
    pub async fn waiting_records(&self, u: &SessionUser, now: NaiveDateTime) -> Result<Vec<WaitingItem>> {
        let mut out = match u.role {
            Role::TechBureau => self.waiting_for_bureau(u).await?,
            Role::Enterprise | Role::Institution => self.waiting_for_party(u, now).await?,
            _ => vec![],
        };
        out.sort_by(|a, b| a.since.cmp(&b.since).then(a.link.cmp(&b.link)));
        Ok(out)
    }

    async fn waiting_for_bureau(&self, u: &SessionUser) -> Result<Vec<WaitingItem>> {
        let mut out: Vec<WaitingItem> = self
            .review_queue(u)
            .await?
            .into_iter()
            .map(|r| {
                let link = format!("/docking/{}s/{}", r.library.code(), r.id);
                let title = format!("{}：{}", r.library_label, r.title);
                item("review", r.review.status_label, title, r.party, link, r.updated_at.to_string())
            })
            .collect();
        // Returned to a submitter with no active account of its role: nobody but the 科技局 can correct it.
        for lib in Library::ALL {
            let (owner_table, owner_col, role, title_col, table) = match lib {
                Library::Problem => ("enterprises", "enterprise_id", Role::Enterprise, "title", "tech_problems"),
                Library::Expert => ("institutions", "institution_id", Role::Institution, "name", "experts"),
                Library::Achievement => ("institutions", "institution_id", Role::Institution, "title", "achievements"),
            };
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT t.id, t.{title_col} AS title, o.name AS party, t.return_reason, t.updated_at FROM {table} t \
                 LEFT JOIN {owner_table} o ON o.id = t.{owner_col} WHERE t.status = 'returned' \
                 AND NOT EXISTS (SELECT 1 FROM users us JOIN people pp ON pp.id = us.person_id \
                 WHERE pp.unit_id = o.unit_id AND us.active = 1 AND us.role = $1) \
                 ORDER BY t.updated_at, t.id"
            )))
            .bind(role.code().to_string())
            .fetch_all(&self.pool)
            .await?;
            for r in &rows {
                out.push(item(
                    "returned",
                    format!("已退回（{}），提交单位无账号，待科技局代为修改后重新提交", r.s("return_reason")?),
                    format!("{}：{}", lib.label_zh(), r.s("title")?),
                    r.os("party")?.unwrap_or_default(),
                    format!("/docking/{}s/{}", lib.code(), r.i("id")?),
                    r.s("updated_at")?,
                ));
            }
        }
        // Dockings waiting for the 科技局's move.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT d.id, d.title, d.stage, e.name AS party, d.updated_at, \
             (SELECT COUNT(*) FROM users us WHERE us.username = d.created_by AND us.role = 'enterprise') AS asked, \
             (SELECT COUNT(*) FROM contracts c WHERE c.docking_id = d.id) AS contracts \
             FROM dockings d JOIN enterprises e ON e.id = d.enterprise_id \
             WHERE d.stage IN {OPEN_STAGES} \
             ORDER BY d.updated_at, d.id"
        )))
        .fetch_all(&self.pool)
        .await?;
        for r in &rows {
            let stage = Stage::from_code(&r.s("stage")?).unwrap_or(Stage::Recommended);
            let what = if stage == Stage::Recommended && r.i("asked")? > 0 {
                "企业申请的对接，待推进至「意向沟通」（或终止）".to_string()
            } else if stage < Stage::ContractSigned && r.i("contracts")? > 0 {
                let next = stage.next().map(|s| s.label_zh()).unwrap_or("—");
                format!("已登记技术合同，当前「{}」，待推进至「{next}」", stage.label_zh())
            } else {
                continue;
            };
            let link = format!("/docking/dockings/{}", r.i("id")?);
            out.push(item("docking", what, r.s("title")?, r.s("party")?, link, r.s("updated_at")?));
        }
        Ok(out)
    }

    async fn waiting_for_party(&self, u: &SessionUser, now: NaiveDateTime) -> Result<Vec<WaitingItem>> {
        let party = self.party_of(u).await?;
        let mut out = vec![];
        let (mine, libs): (i64, &[(Library, &str, &str)]) = match (u.role, party.enterprise_id, party.institution_id) {
            (Role::Enterprise, Some(e), _) => (e, &[(Library::Problem, "tech_problems", "title")][..]),
            (Role::Institution, _, Some(i)) => {
                (i, &[(Library::Expert, "experts", "name"), (Library::Achievement, "achievements", "title")][..])
            }
            // An account whose unit is linked to no enterprise or institution has nothing of its own.
            _ => return Ok(vec![]),
        };
        for (lib, table, title_col) in libs {
            let owner = if *lib == Library::Problem { "enterprise_id" } else { "institution_id" };
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id, {title_col} AS title, return_reason, updated_at FROM {table} \
                 WHERE {owner} = $1 AND status = 'returned' ORDER BY updated_at, id"
            )))
            .bind(mine)
            .fetch_all(&self.pool)
            .await?;
            for r in &rows {
                out.push(item(
                    "returned",
                    format!("已退回，待修改后重新提交（退回原因：{}）", r.s("return_reason")?),
                    format!("{}：{}", lib.label_zh(), r.s("title")?),
                    u.unit_name.clone(),
                    format!("/docking/{}s/{}", lib.code(), r.i("id")?),
                    r.s("updated_at")?,
                ));
            }
        }
        // The dockings this party is in (as list_dockings reads them).
        let ours = if u.role == Role::Enterprise {
            "d.enterprise_id = $1"
        } else {
            "(d.institution_id = $1 OR x.institution_id = $1)"
        };
        if u.role == Role::Institution {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT d.id, d.title, x.name AS expert, e.name AS party, d.updated_at FROM dockings d \
                 JOIN experts x ON x.id = d.expert_id JOIN enterprises e ON e.id = d.enterprise_id \
                 WHERE d.institution_id = $1 AND x.institution_id = $1 AND d.contact_shared = 0 \
                 AND x.share_on_consent = 1 AND d.stage IN {OPEN_STAGES} \
                 ORDER BY d.updated_at, d.id"
            )))
            .bind(mine)
            .fetch_all(&self.pool)
            .await?;
            for r in &rows {
                out.push(item(
                    "consent",
                    format!("待确认专家{}是否同意向企业提供联系方式", r.s("expert")?),
                    r.s("title")?,
                    r.s("party")?,
                    format!("/docking/dockings/{}", r.i("id")?),
                    r.s("updated_at")?,
                ));
            }
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT a.kind, a.title, a.held_on, a.place, d.id AS docking_id, d.title AS docking_title, \
             e.name AS party FROM docking_activities a JOIN dockings d ON d.id = a.docking_id \
             JOIN enterprises e ON e.id = d.enterprise_id LEFT JOIN experts x ON x.id = d.expert_id \
             WHERE {ours} AND a.held_on >= $2 AND d.stage IN {OPEN_STAGES} \
             ORDER BY a.held_on, a.id"
        )))
        .bind(mine)
        .bind(now.date().to_string())
        .fetch_all(&self.pool)
        .await?;
        for r in &rows {
            let place = r.s("place")?;
            let at = if place.is_empty() { String::new() } else { format!("，{place}") };
            out.push(item(
                "activity",
                format!("待参加{}「{}」（{}{at}）", r.s("kind")?, r.s("title")?, r.s("held_on")?),
                r.s("docking_title")?,
                r.s("party")?,
                format!("/docking/dockings/{}", r.i("docking_id")?),
                r.s("held_on")?,
            ));
        }
        Ok(out)
    }
}
