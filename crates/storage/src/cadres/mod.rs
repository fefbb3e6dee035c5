//! 优秀年轻干部 (issue 18): the 组织部's cadre records — a person's 干部档案, the pools by level with
//! the date and reason of entry and exit, the evidence the supervision records hold of their work,
//! and the 班子 structure check; [`experiences`] holds the 历练 records and [`roster`] the 干部名册's
//! import, exports and the report's figures. Only the 组织部 reads or writes any of it (checked here,
//! for every call), and only for the people of its own 数据范围; the ID number is sealed and shown
//! through the personal-data table.

pub mod experiences;
pub mod roster;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use xietong_cadres::structure::{self, Requirement};
use xietong_cadres::suggest::{Outcome, WorkRecord, reasons};
use xietong_cadres::{EDUCATIONS, ENTRY_ROUTES, PoolLevel, RANKS, age_on};
use xietong_security::privacy::{PersonalField, Relation, show};
use xietong_supervision::ranking::NoticeKind;
use xietong_supervision::validate::{Checks, date, optional_text, required_text};
use xietong_supervision::{DataScope, Role};

use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::{Db, Result, RowExt, StoreError, ts};

/// A person with their 干部档案 if any (the columns [`Db::cadre_of`] reads).
const CADRE_SELECT: &str = "SELECT p.id AS person_id, p.name, p.post, p.unit_id, u.name AS unit_name, \
     c.id AS cadre_id, c.id_number, c.birth_date, c.education, c.major, c.rank, c.entry_route, c.work_start, \
     c.version FROM people p JOIN units u ON u.id = p.unit_id LEFT JOIN cadres c ON c.person_id = p.id";

/// The settings key of the 班子 requirements, by kind of unit.
const REQUIREMENTS: &str = "team_requirements";

fn must_be_org_dept(user: &SessionUser) -> Result<()> {
    if user.role == Role::OrgDept {
        Ok(())
    } else {
        Err(StoreError::Denied("干部档案仅组织部可以查看和维护".into()))
    }
}

/// The 组织部's 数据范围 over people, as an SQL condition on a person's id and unit columns (other
/// roles: none; only numbers are written into it).
pub(crate) fn people_in_scope(user: &SessionUser, person: &str, unit: &str) -> String {
    if user.role != Role::OrgDept {
        return "1 = 1".into();
    }
    match &user.data_scope {
        DataScope::All => "1 = 1".into(),
        DataScope::SelfOnly => format!("{person} = {}", user.person_id),
        _ if user.scope_unit_ids.is_empty() => "1 = 0".into(),
        _ => {
            let ids: Vec<String> = user.scope_unit_ids.iter().map(|u| u.0.to_string()).collect();
            format!("{unit} IN ({})", ids.join(", "))
        }
    }
}

/// Whether a person of `unit_id` is within the 组织部's 数据范围.
pub(crate) fn reaches(user: &SessionUser, person_id: i64, unit_id: i64) -> bool {
    match &user.data_scope {
        DataScope::All => true,
        DataScope::SelfOnly => person_id == user.person_id,
        _ => user.scope_unit_ids.iter().any(|u| u.0 == unit_id),
    }
}

fn out_of_scope(user: &SessionUser) -> StoreError {
    StoreError::Denied(format!("无权限：该人员不在您的数据范围（{}）内", user.data_scope.label_zh()))
}

/// A 干部档案 as typed.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct CadreInput {
    /// 公民身份号码; the birth date is read from it.
    pub id_number: String,
    /// 学历: 博士研究生、硕士研究生、大学本科、大学专科、中专及以下
    pub education: String,
    #[serde(default)]
    pub major: String,
    /// 职级: 正科级、副科级、正股级、副股级、一级科员、二级科员、试用期
    pub rank: String,
    /// 入职途径: 公开引进、选调生、遴选、公务员招录、事业单位招聘、转任
    pub entry_route: String,
    /// 参加工作时间 (YYYY-MM-DD)
    pub work_start: String,
    /// The version as read, for an edit (none for a new record).
    #[serde(default)]
    pub version: Option<i64>,
}

/// What an edit expects of the stored record: the version it was shown, or (a 干部名册 import,
/// which is the roster as the 组织部 keeps it) whatever is there.
#[derive(Clone, Copy)]
enum Expect {
    Version(Option<i64>),
    Any,
}

/// A checked record.
struct Checked {
    id_number: String,
    birth: NaiveDate,
    education: String,
    major: String,
    rank: String,
    entry_route: String,
    work_start: NaiveDate,
}

fn one_of(c: &mut Checks, field: &str, v: &str, allowed: &[&str]) -> String {
    let v = v.trim();
    if !allowed.contains(&v) {
        c.fail(field, format!("应为{}之一（当前「{v}」）", allowed.join("、")));
    }
    v.to_string()
}

/// Every field's error at once, naming it; dates that cannot be (work before the age of 16, or
/// before birth) refused.
fn check(i: &CadreInput, today: NaiveDate) -> Result<Checked> {
    let mut c = Checks::new();
    let id_number = c.take(xietong_security::id_number::check_id_number("身份证号", &i.id_number));
    let birth = id_number.as_deref().and_then(xietong_security::id_number::birth_date);
    let education = one_of(&mut c, "学历", &i.education, &EDUCATIONS);
    let major = c.take(optional_text("专业", &i.major, 50)).flatten().unwrap_or_default();
    let rank = one_of(&mut c, "职级", &i.rank, &RANKS);
    let entry_route = one_of(&mut c, "入职途径", &i.entry_route, &ENTRY_ROUTES);
    let work_start = c.take(date("参加工作时间", i.work_start.trim()));
    if let (Some(b), Some(w)) = (birth, work_start)
        && age_on(b, w) < 16
    {
        c.fail("参加工作时间", format!("{w} 时年龄不满 16 周岁（出生日期 {b}，按身份证号），请核对"));
    }
    if let Some(w) = work_start
        && w > today
    {
        c.fail("参加工作时间", "不能晚于今天");
    }
    c.finish()?;
    let (id_number, birth, work_start) =
        (crate::error::got(id_number)?, crate::error::got(birth)?, crate::error::got(work_start)?);
    Ok(Checked { id_number, birth, education, major, rank, entry_route, work_start })
}

/// One pool membership.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PoolEntry {
    pub id: i64,
    pub level: PoolLevel,
    pub level_label: String,
    pub entered_on: NaiveDate,
    pub entry_reason: String,
    pub exited_on: Option<NaiveDate>,
    pub exit_reason: String,
}

/// A person as the 组织部 sees them.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Cadre {
    pub person_id: i64,
    pub name: String,
    pub post: String,
    pub unit_id: i64,
    pub unit_name: String,
    /// Whether a 干部档案 exists (the rest is empty when not).
    pub recorded: bool,
    pub id_number: String,
    pub birth_date: String,
    /// 周岁 today, computed.
    pub age: Option<i32>,
    pub education: String,
    pub major: String,
    pub rank: String,
    pub entry_route: String,
    pub work_start: String,
    pub version: i64,
    pub pools: Vec<PoolEntry>,
}

/// The supervision records of a person's work.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CadreEvidence {
    pub subtasks: Vec<EvidenceSubtask>,
    pub notices: Vec<EvidenceNotice>,
    /// 历练: 专班, 调训, 挂职, 一线 (newest first).
    pub experiences: Vec<experiences::PersonExperience>,
    /// 督导 findings that became tasks the person worked on.
    pub visits: Vec<EvidenceVisit>,
    /// Reasons to look at the person for the pool (suggestions only).
    pub reasons: Vec<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct EvidenceSubtask {
    pub task_id: i64,
    pub task_title: String,
    pub category: String,
    pub title: String,
    pub deadline: NaiveDateTime,
    pub progress: i64,
    pub outcome: Outcome,
    /// 按期办结, 逾期办结, 逾期未完成, 退回整改, 在办
    pub outcome_label: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct EvidenceNotice {
    pub notice_id: i64,
    pub doc_no: String,
    pub title: String,
    pub kind_label: String,
    pub category: String,
    pub issued_on: String,
}

/// A leader's 督导 finding that was handed over as a task the person had a sub-task of.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct EvidenceVisit {
    pub visit_id: i64,
    pub visited_on: String,
    pub leader: String,
    pub place: String,
    pub findings: String,
    pub task_id: i64,
    pub task_title: String,
}

/// A suggested candidate.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CadreSuggestion {
    pub person_id: i64,
    pub name: String,
    pub post: String,
    pub unit_name: String,
    pub reasons: Vec<String>,
}

/// A 班子 and its structure check.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TeamCheck {
    pub unit_id: i64,
    pub unit_name: String,
    pub unit_kind: String,
    pub requirement: Requirement,
    pub check: structure::Check,
    /// Members without a 干部档案 (no birth date): not counted, named so they are added.
    pub unrecorded: Vec<String>,
    /// For a 班子 below its requirement, and for the 组织部 only: what the youngest member of the
    /// 科级库 not on it would change, in place of its oldest member.
    pub candidate: Option<String>,
}

impl Db {
    fn cadre_of(&self, user: &SessionUser, r: &sqlx::any::AnyRow, today: NaiveDate) -> Result<Cadre> {
        let recorded = r.oi("cadre_id")?.is_some();
        let birth = r.os("birth_date")?.unwrap_or_default();
        let age = r.od("birth_date")?.map(|b| age_on(b, today));
        let id_number = match r.os("id_number")? {
            Some(sealed) if !sealed.is_empty() => self.open_field(&sealed)?,
            _ => String::new(),
        };
        let (role, own) = (user.role, Relation::Other);
        Ok(Cadre {
            person_id: r.i("person_id")?,
            name: r.s("name")?,
            post: r.s("post")?,
            unit_id: r.i("unit_id")?,
            unit_name: r.s("unit_name")?,
            recorded,
            id_number: show(role, own, PersonalField::CadreIdNumber, &id_number),
            birth_date: show(role, own, PersonalField::CadreBirthDate, &birth),
            age: age.filter(|_| role == Role::OrgDept),
            education: r.os("education")?.unwrap_or_default(),
            major: r.os("major")?.unwrap_or_default(),
            rank: r.os("rank")?.unwrap_or_default(),
            entry_route: r.os("entry_route")?.unwrap_or_default(),
            work_start: r.os("work_start")?.unwrap_or_default(),
            version: r.oi("version")?.unwrap_or(0),
            pools: vec![],
        })
    }

    /// Fill in the pool entries of `out` (read at once, in entry order); `only` reads one person's.
    async fn with_pools(&self, out: &mut [Cadre], only: Option<i64>) -> Result<()> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT e.*, c.person_id FROM cadre_pool_entries e JOIN cadres c ON c.id = e.cadre_id {} \
             ORDER BY e.entered_on, e.id",
            if only.is_some() { "WHERE c.person_id = $1" } else { "" }
        )));
        if let Some(id) = only {
            q = q.bind(id);
        }
        let at: std::collections::HashMap<i64, usize> = out.iter().enumerate().map(|(i, c)| (c.person_id, i)).collect();
        for r in q.fetch_all(&self.pool).await? {
            let Some(i) = at.get(&r.i("person_id")?) else { continue };
            let level = PoolLevel::from_code(&r.s("level")?).unwrap_or(PoolLevel::Stock);
            out[*i].pools.push(PoolEntry {
                id: r.i("id")?,
                level,
                level_label: level.label_zh().into(),
                entered_on: r.d("entered_on")?,
                entry_reason: r.s("entry_reason")?,
                exited_on: r.od("exited_on")?,
                exit_reason: r.s("exit_reason")?,
            });
        }
        Ok(())
    }

    /// Every person of the district's units with their 干部档案 if any; `pool` limits to those in
    /// that level's pool now.
    pub async fn cadres(&self, user: &SessionUser, pool: Option<PoolLevel>, today: NaiveDate) -> Result<Vec<Cadre>> {
        must_be_org_dept(user)?;
        let filter = match pool {
            Some(l) => format!(
                "AND c.id IN (SELECT cadre_id FROM cadre_pool_entries WHERE exited_on IS NULL AND level = '{}')",
                l.code()
            ),
            None => String::new(),
        };
        let scope = people_in_scope(user, "p.id", "p.unit_id");
        let sql = format!("{CADRE_SELECT} WHERE u.kind <> '外部单位' AND {scope} {filter} ORDER BY u.id, p.id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        let mut out = rows.iter().map(|r| self.cadre_of(user, r, today)).collect::<Result<Vec<_>>>()?;
        self.with_pools(&mut out, None).await?;
        Ok(out)
    }

    pub async fn cadre(&self, user: &SessionUser, person_id: i64, today: NaiveDate) -> Result<Cadre> {
        must_be_org_dept(user)?;
        let r = sqlx::query(sqlx::AssertSqlSafe(format!("{CADRE_SELECT} WHERE p.id = $1")))
            .bind(person_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("编号 {person_id} 的人员不存在")))?;
        let mut out = [self.cadre_of(user, &r, today)?];
        if !reaches(user, person_id, out[0].unit_id) {
            return Err(out_of_scope(user));
        }
        self.with_pools(&mut out, Some(person_id)).await?;
        let [c] = out;
        Ok(c)
    }

    /// Create or correct a person's 干部档案. An edit must carry the version it was shown: of edits
    /// made at once one is kept, the others are answered 409.
    pub async fn save_cadre(
        &self,
        user: &SessionUser,
        person_id: i64,
        i: &CadreInput,
        now: NaiveDateTime,
    ) -> Result<Cadre> {
        self.cadre(user, person_id, now.date()).await?;
        let c = check(i, now.date())?;
        let mut tx = self.begin().await?;
        self.save_cadre_in(&mut tx, user, person_id, &c, Expect::Version(i.version), now).await?;
        tx.commit().await?;
        self.cadre(user, person_id, now.date()).await
    }

    /// Write a checked 干部档案 and its audit entry inside `tx`.
    async fn save_cadre_in(
        &self,
        tx: &mut crate::Tx,
        user: &SessionUser,
        person_id: i64,
        c: &Checked,
        expect: Expect,
        now: NaiveDateTime,
    ) -> Result<()> {
        let existing = sqlx::query("SELECT id, version FROM cadres WHERE person_id = $1")
            .bind(person_id)
            .fetch_optional(&mut **tx)
            .await?;
        let version = existing.map(|r| r.i("version")).transpose()?;
        if let (Expect::Version(shown), Some(v)) = (expect, version)
            && shown != Some(v)
        {
            return Err(StoreError::Conflict("干部档案已被他人修改，请刷新后再改".into()));
        }
        // One statement for both: a record made or changed by someone else since the read above
        // fails its version condition, and nothing is written.
        let n = sqlx::query(
            "INSERT INTO cadres (person_id, id_number, birth_date, education, major, rank, entry_route, work_start, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT (person_id) DO UPDATE \
             SET id_number = excluded.id_number, birth_date = excluded.birth_date, education = excluded.education, \
             major = excluded.major, rank = excluded.rank, entry_route = excluded.entry_route, \
             work_start = excluded.work_start, updated_at = excluded.updated_at, version = cadres.version + 1 \
             WHERE cadres.version = $10",
        )
        .bind(person_id)
        .bind(self.seal(&c.id_number))
        .bind(c.birth.to_string())
        .bind(c.education.clone())
        .bind(c.major.clone())
        .bind(c.rank.clone())
        .bind(c.entry_route.clone())
        .bind(c.work_start.to_string())
        .bind(ts(now))
        .bind(version.unwrap_or(0))
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict("干部档案已被他人修改，请刷新后再改".into()));
        }
        let (action, before) = match version {
            None => ("cadre.create", String::new()),
            Some(v) => ("cadre.update", serde_json::json!({"version": v}).to_string()),
        };
        // The audit keeps what changed, the ID number masked.
        let after = serde_json::json!({"person_id": person_id,
            "id_number": xietong_security::fields::mask_id_number(&c.id_number), "education": c.education,
            "major": c.major, "rank": c.rank, "entry_route": c.entry_route, "work_start": c.work_start.to_string()});
        audit(tx, user, action, person_id, before, after.to_string(), now).await
    }

    /// Put a person into a level's pool, with the date and the reason. A person already in that
    /// level's pool is refused (the database's partial unique index decides races).
    pub async fn enter_pool(
        &self,
        user: &SessionUser,
        person_id: i64,
        level: PoolLevel,
        reason: &str,
        now: NaiveDateTime,
    ) -> Result<Cadre> {
        self.cadre(user, person_id, now.date()).await?;
        let mut tx = self.begin().await?;
        self.enter_pool_in(&mut tx, user, person_id, level, reason, now, false).await?;
        tx.commit().await?;
        self.cadre(user, person_id, now.date()).await
    }

    /// The pool entry and its audit entry inside `tx`; `already_ok` (a roster import) lets a
    /// person already in that level's pool stay as they are. Whether an entry was made.
    #[allow(clippy::too_many_arguments)]
    async fn enter_pool_in(
        &self,
        tx: &mut crate::Tx,
        user: &SessionUser,
        person_id: i64,
        level: PoolLevel,
        reason: &str,
        now: NaiveDateTime,
        already_ok: bool,
    ) -> Result<bool> {
        let reason = required_text("入库理由", reason, 200)?;
        let cadre_id = sqlx::query("SELECT id FROM cadres WHERE person_id = $1")
            .bind(person_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| {
                StoreError::invalid("干部档案", "请先建立该人员的干部档案（身份证号、学历、职级等），再纳入干部库")
            })?
            .i("id")?;
        let open = sqlx::query(
            "SELECT COUNT(*) AS n FROM cadre_pool_entries WHERE cadre_id = $1 AND level = $2 AND exited_on IS NULL",
        )
        .bind(cadre_id)
        .bind(level.code())
        .fetch_one(&mut **tx)
        .await?
        .i("n")?;
        if open > 0 && already_ok {
            return Ok(false);
        }
        if open > 0 {
            return Err(StoreError::Conflict(format!("该干部已在{}中，同一级只能在库一次", level.label_zh())));
        }
        sqlx::query(
            "INSERT INTO cadre_pool_entries (cadre_id, level, entered_on, entry_reason, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(cadre_id)
        .bind(level.code())
        .bind(now.date().to_string())
        .bind(reason.clone())
        .bind(user.username.clone())
        .bind(ts(now))
        .execute(&mut **tx)
        .await?;
        pool_audit(tx, user, ("cadre.pool_enter", person_id, level, &reason), now).await?;
        Ok(true)
    }

    /// Take a person out of a level's pool, with the reason (the entry is kept, closed).
    pub async fn exit_pool(
        &self,
        user: &SessionUser,
        person_id: i64,
        level: PoolLevel,
        reason: &str,
        now: NaiveDateTime,
    ) -> Result<Cadre> {
        self.cadre(user, person_id, now.date()).await?;
        let reason = required_text("出库理由", reason, 200)?;
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "UPDATE cadre_pool_entries SET exited_on = $1, exit_reason = $2 WHERE exited_on IS NULL AND level = $3 \
             AND cadre_id = (SELECT id FROM cadres WHERE person_id = $4)",
        )
        .bind(now.date().to_string())
        .bind(reason.clone())
        .bind(level.code())
        .bind(person_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict(format!("该人员不在{}中（可能刚由他人调出）", level.label_zh())));
        }
        pool_audit(&mut tx, user, ("cadre.pool_exit", person_id, level, &reason), now).await?;
        tx.commit().await?;
        self.cadre(user, person_id, now.date()).await
    }

    /// What the supervision records hold of a person's work: the sub-tasks they were responsible
    /// for and how each ended, the 通报 that named them, and their 历练.
    pub async fn cadre_evidence(
        &self,
        user: &SessionUser,
        person_id: i64,
        now: NaiveDateTime,
    ) -> Result<CadreEvidence> {
        self.cadre(user, person_id, now.date()).await?;
        let mut work = self.work_of(Some(person_id), now).await?;
        let w = work.remove(&person_id).unwrap_or_default();
        let experiences = self.experiences_of(user, person_id).await?;
        let record = work_record(&w, &experiences);
        let visits = self.visits_behind(person_id).await?;
        Ok(CadreEvidence { subtasks: w.subtasks, notices: w.notices, experiences, visits, reasons: reasons(&record) })
    }

    /// The 督导 visits whose follow-up tasks the person had a sub-task of.
    async fn visits_behind(&self, person_id: i64) -> Result<Vec<EvidenceVisit>> {
        let rows = sqlx::query(
            "SELECT DISTINCT v.id, v.visited_on, v.place, v.findings, COALESCE(l.name, '') AS leader, \
             t.id AS task_id, t.title FROM supervision_visits v JOIN visit_tasks vt ON vt.visit_id = v.id \
             JOIN tasks t ON t.id = vt.task_id JOIN subtasks s ON s.task_id = t.id \
             LEFT JOIN people l ON l.id = v.leader_person_id WHERE s.person_id = $1 ORDER BY v.visited_on DESC, v.id, t.id",
        )
        .bind(person_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(EvidenceVisit {
                    visit_id: r.i("id")?,
                    visited_on: r.s("visited_on")?,
                    leader: r.s("leader")?,
                    place: r.s("place")?,
                    findings: r.s("findings")?,
                    task_id: r.i("task_id")?,
                    task_title: r.s("title")?,
                })
            })
            .collect()
    }

    /// The sub-tasks and 通报 of one person, or of everybody (`None`), by person: two queries.
    async fn work_of(&self, person: Option<i64>, now: NaiveDateTime) -> Result<std::collections::HashMap<i64, Work>> {
        let only = |col: &str| match person {
            Some(_) => format!("{col} = $1"),
            None => format!("{col} IS NOT NULL"),
        };
        let sql = format!(
            "SELECT s.person_id, s.task_id, t.title AS task_title, COALESCE(c.name, '') AS category, s.title, \
             s.deadline, s.progress, s.updated_at, t.status, t.closed_at, t.round FROM subtasks s \
             JOIN tasks t ON t.id = s.task_id LEFT JOIN categories c ON c.id = t.category_id WHERE {} \
             ORDER BY s.deadline DESC, s.id",
            only("s.person_id")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(p) = person {
            q = q.bind(p);
        }
        let mut out: std::collections::HashMap<i64, Work> = Default::default();
        for r in q.fetch_all(&self.pool).await? {
            let deadline = r.t("deadline")?;
            let closed = r.s("status")? == "closed";
            let done = r.i("progress")? >= 100 || closed;
            let finished = if closed { r.ot("closed_at")? } else { Some(r.t("updated_at")?) };
            // A task starts in round 1; each 退回整改 begins another.
            let outcome = Outcome::of(done, finished, deadline, now, r.i("round")? > 1);
            out.entry(r.i("person_id")?).or_default().subtasks.push(EvidenceSubtask {
                task_id: r.i("task_id")?,
                task_title: r.s("task_title")?,
                category: r.s("category")?,
                title: r.s("title")?,
                deadline,
                progress: r.i("progress")?,
                outcome,
                outcome_label: outcome.label_zh().into(),
            });
        }
        let sql = format!(
            "SELECT r.person_id, n.id, n.doc_no, n.title, r.kind, r.issued_on, COALESCE(c.name, '') AS category \
             FROM notice_records r JOIN notices n ON n.id = r.notice_id LEFT JOIN tasks t ON t.id = r.task_id \
             LEFT JOIN categories c ON c.id = t.category_id WHERE {} ORDER BY r.issued_on DESC, n.id",
            only("r.person_id")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(p) = person {
            q = q.bind(p);
        }
        for r in q.fetch_all(&self.pool).await? {
            let kind = NoticeKind::from_code(&r.s("kind")?);
            out.entry(r.i("person_id")?).or_default().notices.push(EvidenceNotice {
                notice_id: r.i("id")?,
                doc_no: r.s("doc_no")?,
                title: r.s("title")?,
                kind_label: kind.map(|k| k.label_zh()).unwrap_or("").into(),
                category: r.s("category")?,
                issued_on: r.s("issued_on")?,
            });
        }
        Ok(out)
    }

    /// People the records suggest for the pool, with the reasons; those already in a pool, and
    /// those outside the 数据范围, are left out. Suggestions only. Four queries in all.
    pub async fn cadre_suggestions(&self, user: &SessionUser, now: NaiveDateTime) -> Result<Vec<CadreSuggestion>> {
        must_be_org_dept(user)?;
        let scope = people_in_scope(user, "p.id", "p.unit_id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT p.id, p.name, p.post, u.name AS unit_name FROM people p JOIN units u ON u.id = p.unit_id \
             WHERE {scope} AND p.id NOT IN (SELECT c.person_id FROM cadres c JOIN cadre_pool_entries e \
             ON e.cadre_id = c.id WHERE e.exited_on IS NULL) ORDER BY p.id"
        )))
        .fetch_all(&self.pool)
        .await?;
        let work = self.work_of(None, now).await?;
        let forces = self.task_force_counts().await?;
        let mut out = vec![];
        for r in rows {
            let id = r.i("id")?;
            let Some(w) = work.get(&id) else { continue };
            let mut record = work_record(w, &[]);
            record.task_forces = forces.get(&id).copied().unwrap_or(0);
            let why = reasons(&record);
            if !why.is_empty() {
                out.push(CadreSuggestion {
                    person_id: id,
                    name: r.s("name")?,
                    post: r.s("post")?,
                    unit_name: r.s("unit_name")?,
                    reasons: why,
                });
            }
        }
        Ok(out)
    }

    /// The 班子 requirements by kind of unit (the default where none is set).
    pub async fn team_requirements(&self) -> Result<std::collections::BTreeMap<String, Requirement>> {
        Ok(match self.get_setting(REQUIREMENTS).await? {
            Some(s) => {
                serde_json::from_str(&s).map_err(|e| StoreError::internal(format!("班子结构要求设置无效：{e}")))?
            }
            None => Default::default(),
        })
    }

    /// Set one kind of unit's requirement (the 系统管理员 or the 组织部).
    pub async fn set_team_requirement(
        &self,
        user: &SessionUser,
        unit_kind: &str,
        req: &Requirement,
        now: NaiveDateTime,
    ) -> Result<()> {
        if !matches!(user.role, Role::Admin | Role::OrgDept) {
            return Err(StoreError::Denied("班子结构要求由系统管理员或组织部设置".into()));
        }
        let mut c = Checks::new();
        for (field, message) in req.problems() {
            c.fail(&field, message);
        }
        let kind = unit_kind.trim().to_string();
        if !crate::org::UNIT_KINDS.contains(&kind.as_str()) {
            c.fail("单位类型", format!("应为{}之一", crate::org::UNIT_KINDS.join("、")));
        }
        c.finish()?;
        let mut tx = self.begin().await?;
        let mut all = self.team_requirements().await?;
        let before = serde_json::to_string(&all.get(&kind)).unwrap_or_default();
        all.insert(kind.clone(), *req);
        self.set_setting(&mut tx, REQUIREMENTS, &serde_json::to_string(&all).unwrap_or_default()).await?;
        append(
            &mut tx,
            now,
            Change {
                actor: &user.username,
                action: "settings.team_requirement",
                entity: "settings",
                entity_id: kind,
                before,
                after: serde_json::to_string(req).unwrap_or_default(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every 班子 with its check on `today`: counts only, no person's age (the 系统管理员 sees this
    /// page too).
    pub async fn teams(&self, user: &SessionUser, today: NaiveDate) -> Result<Vec<TeamCheck>> {
        if !matches!(user.role, Role::Admin | Role::OrgDept) {
            return Err(StoreError::Denied("班子结构仅组织部和系统管理员可以查看".into()));
        }
        let reqs = self.team_requirements().await?;
        // The 组织部 sees the 班子 of its 数据范围's units (the 系统管理员 every one, counts only).
        let scope = people_in_scope(user, "s.person_id", "s.unit_id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT s.unit_id, u.name AS unit_name, u.kind, p.name, c.birth_date FROM team_seats s \
             JOIN units u ON u.id = s.unit_id JOIN people p ON p.id = s.person_id \
             LEFT JOIN cadres c ON c.person_id = s.person_id WHERE {scope} ORDER BY s.unit_id, s.id"
        )))
        .fetch_all(&self.pool)
        .await?;
        // The seats come grouped by unit: each group is one 班子.
        let mut out: Vec<TeamCheck> = vec![];
        let mut births: Vec<Vec<NaiveDate>> = vec![];
        for r in rows {
            let unit_id = r.i("unit_id")?;
            if out.last().is_none_or(|t| t.unit_id != unit_id) {
                let unit_kind = r.s("kind")?;
                let requirement = reqs.get(&unit_kind).copied().unwrap_or_default();
                out.push(TeamCheck {
                    unit_id,
                    unit_name: r.s("unit_name")?,
                    unit_kind,
                    requirement,
                    check: structure::check(&[], today, &requirement),
                    unrecorded: vec![],
                    candidate: None,
                });
                births.push(vec![]);
            }
            let (Some(t), Some(b)) = (out.last_mut(), births.last_mut()) else { continue };
            match r.od("birth_date")? {
                Some(d) => b.push(d),
                None => t.unrecorded.push(r.s("name")?),
            }
        }
        // The 科级库's members, youngest first, with the 班子 they sit on (names are the 组织部's).
        let pool = if user.role == Role::OrgDept {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT p.name, c.birth_date, c.person_id, \
                 (SELECT MIN(s.unit_id) FROM team_seats s WHERE s.person_id = c.person_id) AS seat \
                 FROM cadres c JOIN people p ON p.id = c.person_id JOIN cadre_pool_entries e ON e.cadre_id = c.id \
                 WHERE e.level = 'section' AND e.exited_on IS NULL AND {} ORDER BY c.birth_date DESC, c.id",
                people_in_scope(user, "p.id", "p.unit_id")
            )))
            .fetch_all(&self.pool)
            .await?
        } else {
            vec![]
        };
        for (t, b) in out.iter_mut().zip(&births) {
            t.check = structure::check(b, today, &t.requirement);
            if t.check.meets {
                continue;
            }
            let free = pool.iter().find(|r| r.oi("seat").ok().flatten().is_none_or(|seat| seat != t.unit_id));
            let Some(r) = free else { continue };
            let (name, birth) = (r.s("name")?, r.d("birth_date")?);
            let oldest = b.iter().min().copied();
            let w = structure::with_candidate(b, birth, oldest, today, &t.requirement);
            let verdict = if w.meets { "符合要求".to_string() } else { w.shortfalls.join("；") };
            t.candidate = Some(format!(
                "若由科级库的{name}（{} 岁）接替一名最年长成员：35 岁以下 {} 人，占 {:.2}%，{}人 30 岁以下，{verdict}",
                age_on(birth, today),
                w.young,
                w.young_percent,
                w.youngest
            ));
        }
        Ok(out)
    }

    /// Seat a person on a unit's 班子 (the 组织部; demo loading).
    pub async fn seat_on_team(&self, user: &SessionUser, unit_id: i64, person_id: i64, post: &str) -> Result<()> {
        must_be_org_dept(user)?;
        let post = required_text("班子职务", post, 30)?;
        sqlx::query("INSERT INTO team_seats (unit_id, person_id, post) VALUES ($1, $2, $3)")
            .bind(unit_id)
            .bind(person_id)
            .bind(post)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// The audit entry of a change to a person's cadre record, inside its transaction.
async fn audit(
    tx: &mut sqlx::AnyConnection,
    user: &SessionUser,
    action: &str,
    person_id: i64,
    before: String,
    after: String,
    now: NaiveDateTime,
) -> Result<()> {
    let change =
        Change { actor: &user.username, action, entity: "cadre", entity_id: person_id.to_string(), before, after };
    append(tx, now, change).await.map(|_| ())
}

/// One person's sub-tasks and 通报.
#[derive(Default)]
struct Work {
    subtasks: Vec<EvidenceSubtask>,
    notices: Vec<EvidenceNotice>,
}

/// A pool change's audit entry: the level as read (科级优秀年轻干部库), not its code, since the
/// audit shows what it records.
async fn pool_audit(
    tx: &mut sqlx::AnyConnection,
    user: &SessionUser,
    (action, person_id, level, reason): (&str, i64, PoolLevel, &str),
    now: NaiveDateTime,
) -> Result<()> {
    let after = serde_json::json!({"person_id": person_id, "level": level.label_zh(), "reason": reason});
    audit(tx, user, action, person_id, String::new(), after.to_string(), now).await
}

/// The counts [`reasons`] reads, from the evidence.
fn work_record(w: &Work, experiences: &[experiences::PersonExperience]) -> WorkRecord {
    let mut by: std::collections::BTreeMap<String, usize> = Default::default();
    for s in w.subtasks.iter().filter(|s| s.outcome == Outcome::OnTime && !s.category.is_empty()) {
        *by.entry(s.category.clone()).or_default() += 1;
    }
    WorkRecord {
        on_time_by_category: by.into_iter().collect(),
        overdue: w.subtasks.iter().filter(|s| s.outcome.is_late()).count(),
        returned: w.subtasks.iter().filter(|s| s.outcome == Outcome::Returned).count(),
        praised: w
            .notices
            .iter()
            .filter(|n| n.kind_label == NoticeKind::Praise.label_zh())
            .map(|n| (n.category.clone(), n.doc_no.clone()))
            .collect(),
        criticised: w.notices.iter().filter(|n| n.kind_label == NoticeKind::Criticism.label_zh()).count(),
        task_forces: experiences
            .iter()
            .filter(|e| e.kind == xietong_cadres::experience::ExperienceKind::TaskForce)
            .count(),
    }
}
