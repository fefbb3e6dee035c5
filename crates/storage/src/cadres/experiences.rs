//! 历练 records (issue 18): 工作专班 with their purpose, members and the supervised tasks they carry,
//! 调训 with course, place and hours, 挂职 with the host and each member's assessment, and 一线
//! assignments; the year's totals, drillable to the people. The 组织部's alone, and only the
//! members of its 数据范围 are shown, counted or added.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use xietong_cadres::experience::{ASSESSMENTS, ExperienceKind, KindTotal, Seat, Span, span_problems, year_totals};
use xietong_supervision::validate::{Checks, date, optional_text, required_text};

use super::{must_be_org_dept, people_in_scope};
use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::{Db, Result, RowExt, StoreError, ts};

/// A 历练 record as typed.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ExperienceInput {
    /// task_force 工作专班 / training 调训 / secondment 挂职 / frontline 一线历练
    pub kind: String,
    /// 专班名称、班次名称、挂职岗位或一线岗位
    pub name: String,
    /// 牵头单位、培训地点、挂职单位或派驻地
    #[serde(default)]
    pub place: String,
    /// 专班的工作目标（其他类可不填）
    #[serde(default)]
    pub purpose: String,
    /// 调训学时（调训必填）
    #[serde(default)]
    pub hours: Option<f64>,
    /// 开始日期 (YYYY-MM-DD)
    pub started_on: String,
    /// 结束日期 (YYYY-MM-DD)，未结束的留空
    #[serde(default)]
    pub ended_on: String,
    /// The version as read, for an edit.
    #[serde(default)]
    pub version: Option<i64>,
}

/// One person on a record.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ExperienceMember {
    pub person_id: i64,
    pub name: String,
    pub unit_name: String,
    pub post: String,
    /// 组长、成员; a 挂职's post there.
    pub duty: String,
    /// 挂职考核等次 (优秀、称职、基本称职、不称职), empty until assessed.
    pub assessment: String,
}

/// A supervised task a 专班 carries.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LinkedTask {
    pub task_id: i64,
    pub title: String,
    pub doc_no: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Experience {
    pub id: i64,
    pub kind: ExperienceKind,
    pub kind_label: String,
    pub name: String,
    pub place: String,
    pub purpose: String,
    pub hours: Option<f64>,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub version: i64,
    /// The members within the 数据范围.
    pub members: Vec<ExperienceMember>,
    pub tasks: Vec<LinkedTask>,
}

/// A person's 历练, as their page lists it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PersonExperience {
    pub id: i64,
    pub kind: ExperienceKind,
    pub kind_label: String,
    pub name: String,
    pub place: String,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub hours: Option<f64>,
    pub duty: String,
    pub assessment: String,
}

/// A year's totals by kind.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ExperienceTotals {
    pub year: i32,
    pub kinds: Vec<LabelledTotal>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LabelledTotal {
    pub kind: ExperienceKind,
    pub kind_label: String,
    #[serde(flatten)]
    pub total: KindTotal,
}

/// A member to add, or a 挂职 member's assessment to record.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct MemberInput {
    pub person_id: i64,
    /// 组长、副组长、成员，或挂职岗位
    #[serde(default)]
    pub duty: String,
    /// 挂职考核等次：优秀、称职、基本称职、不称职（可不填）
    #[serde(default)]
    pub assessment: String,
}

struct Checked {
    kind: ExperienceKind,
    name: String,
    place: String,
    purpose: String,
    hours: Option<f64>,
    started_on: NaiveDate,
    ended_on: Option<NaiveDate>,
}

/// Every field's error at once, naming it.
fn check(i: &ExperienceInput) -> Result<Checked> {
    let mut c = Checks::new();
    let kind = ExperienceKind::from_code(i.kind.trim());
    if kind.is_none() {
        c.fail("历练类别", "应为 task_force（工作专班）、training（调训）、secondment（挂职）或 frontline（一线历练）");
    }
    let name_label = kind.map(|k| k.name_label()).unwrap_or("名称");
    let name = c.take(required_text(name_label, &i.name, 100));
    let place_label = kind.map(|k| k.place_label()).unwrap_or("地点");
    let place = match kind {
        Some(ExperienceKind::Secondment | ExperienceKind::Training) => {
            c.take(required_text(place_label, &i.place, 100))
        }
        _ => c.take(optional_text(place_label, &i.place, 100)).map(Option::unwrap_or_default),
    };
    let purpose = c.take(optional_text("工作目标", &i.purpose, 500)).flatten().unwrap_or_default();
    let started_on = c.take(date("开始日期", i.started_on.trim()));
    let ended_on = match i.ended_on.trim() {
        "" => None,
        e => c.take(date("结束日期", e)),
    };
    let hours = i.hours;
    for (field, message) in span_problems(&Span { kind, started_on, ended_on, hours }) {
        c.fail(&field, message);
    }
    c.finish()?;
    Ok(Checked {
        kind: crate::error::got(kind)?,
        name: crate::error::got(name)?,
        place: crate::error::got(place)?,
        purpose,
        hours: hours.filter(|_| kind == Some(ExperienceKind::Training)),
        started_on: crate::error::got(started_on)?,
        ended_on,
    })
}

fn kind_of(r: &sqlx::any::AnyRow) -> Result<ExperienceKind> {
    let code = r.s("kind")?;
    ExperienceKind::from_code(&code).ok_or_else(|| StoreError::internal(format!("未知的历练类别 {code}")))
}

/// The record's fields in the audit, as read (类别 in Chinese).
fn audited(c: &Checked) -> serde_json::Value {
    serde_json::json!({"kind": c.kind.label_zh(), "name": c.name, "place": c.place, "purpose": c.purpose,
        "hours": c.hours, "started_on": c.started_on.to_string(), "ended_on": c.ended_on.map(|d| d.to_string())})
}

impl Db {
    /// 历练 records: in `year` when given (a record counts in every year it runs), of `kind` when
    /// given, newest first; members outside the 数据范围 left out.
    pub async fn experiences(
        &self,
        user: &SessionUser,
        year: Option<i32>,
        kind: Option<ExperienceKind>,
    ) -> Result<Vec<Experience>> {
        must_be_org_dept(user)?;
        let rows =
            sqlx::query("SELECT * FROM experiences ORDER BY started_on DESC, id DESC").fetch_all(&self.pool).await?;
        let mut out = vec![];
        for r in rows {
            let (k, started_on, ended_on) = (kind_of(&r)?, r.d("started_on")?, r.od("ended_on")?);
            if kind.is_some_and(|want| want != k)
                || year.is_some_and(|y| !xietong_cadres::experience::in_year(started_on, ended_on, y))
            {
                continue;
            }
            out.push(Experience {
                id: r.i("id")?,
                kind: k,
                kind_label: k.label_zh().into(),
                name: r.s("name")?,
                place: r.s("place")?,
                purpose: r.s("purpose")?,
                hours: r.of("hours")?,
                started_on,
                ended_on,
                version: r.i("version")?,
                members: vec![],
                tasks: vec![],
            });
        }
        self.fill_experiences(user, &mut out).await?;
        Ok(out)
    }

    /// The members (within the 数据范围) and linked tasks of `out`, two queries reading only
    /// their rows (one record's page, read before and after each change, reads that record's).
    async fn fill_experiences(&self, user: &SessionUser, out: &mut [Experience]) -> Result<()> {
        if out.is_empty() {
            return Ok(());
        }
        let at: std::collections::HashMap<i64, usize> = out.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
        // Only numbers are written into the statement.
        let ids = out.iter().map(|e| e.id.to_string()).collect::<Vec<_>>().join(", ");
        let scope = people_in_scope(user, "p.id", "p.unit_id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT m.experience_id, m.person_id, p.name, p.post, u.name AS unit_name, m.duty, m.assessment \
             FROM experience_members m JOIN people p ON p.id = m.person_id JOIN units u ON u.id = p.unit_id \
             WHERE m.experience_id IN ({ids}) AND {scope} ORDER BY m.experience_id, m.id"
        )))
        .fetch_all(&self.pool)
        .await?;
        for r in rows {
            let Some(i) = at.get(&r.i("experience_id")?) else { continue };
            out[*i].members.push(ExperienceMember {
                person_id: r.i("person_id")?,
                name: r.s("name")?,
                unit_name: r.s("unit_name")?,
                post: r.s("post")?,
                duty: r.s("duty")?,
                assessment: r.s("assessment")?,
            });
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT x.experience_id, t.id, t.title, t.doc_no FROM experience_tasks x JOIN tasks t ON t.id = x.task_id \
             WHERE x.experience_id IN ({ids}) ORDER BY x.experience_id, x.id"
        )))
        .fetch_all(&self.pool)
        .await?;
        for r in rows {
            let Some(i) = at.get(&r.i("experience_id")?) else { continue };
            out[*i].tasks.push(LinkedTask { task_id: r.i("id")?, title: r.s("title")?, doc_no: r.s("doc_no")? });
        }
        Ok(())
    }

    pub async fn experience(&self, user: &SessionUser, id: i64) -> Result<Experience> {
        must_be_org_dept(user)?;
        let r = sqlx::query("SELECT * FROM experiences WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("编号 {id} 的历练记录不存在")))?;
        let k = kind_of(&r)?;
        let mut out = [Experience {
            id,
            kind: k,
            kind_label: k.label_zh().into(),
            name: r.s("name")?,
            place: r.s("place")?,
            purpose: r.s("purpose")?,
            hours: r.of("hours")?,
            started_on: r.d("started_on")?,
            ended_on: r.od("ended_on")?,
            version: r.i("version")?,
            members: vec![],
            tasks: vec![],
        }];
        self.fill_experiences(user, &mut out).await?;
        let [e] = out;
        Ok(e)
    }

    /// Record a new 历练 (`id` none) or correct one, with the version it was shown: of edits made
    /// at once one is kept, the others are answered 409. A record's kind cannot change.
    pub async fn save_experience(
        &self,
        user: &SessionUser,
        id: Option<i64>,
        i: &ExperienceInput,
        now: NaiveDateTime,
    ) -> Result<Experience> {
        must_be_org_dept(user)?;
        let c = check(i)?;
        // Read before the transaction: on SQLite a writer waiting for a pooled connection while
        // holding the write lock would stall every other writer.
        let old = match id {
            Some(id) => Some(self.experience(user, id).await?),
            None => None,
        };
        let mut tx = self.begin().await?;
        let (hours, hours_set) = crate::opt_f64(c.hours);
        let (action, id, before) = match id {
            None => {
                let r = sqlx::query(
                    "INSERT INTO experiences (kind, name, place, purpose, hours, started_on, ended_on, created_by, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, CASE WHEN $6 = 1 THEN $5 END, $7, $8, $9, $10, \
                     $10) RETURNING id",
                )
                .bind(c.kind.code())
                .bind(c.name.clone())
                .bind(c.place.clone())
                .bind(c.purpose.clone())
                .bind(hours)
                .bind(hours_set)
                .bind(c.started_on.to_string())
                .bind(c.ended_on.map(|d| d.to_string()))
                .bind(user.username.clone())
                .bind(ts(now))
                .fetch_one(&mut *tx)
                .await?;
                ("experience.create", r.i("id")?, String::new())
            }
            Some(id) => {
                let old = old.ok_or_else(|| StoreError::internal("历练记录未读出"))?;
                if old.kind != c.kind {
                    return Err(StoreError::invalid("历练类别", "已建立的记录不能改类别，请新建一条"));
                }
                let n = sqlx::query(
                    "UPDATE experiences SET name = $1, place = $2, purpose = $3, hours = CASE WHEN $5 = 1 THEN $4 END, \
                     started_on = $6, ended_on = $7, updated_at = $8, version = version + 1 \
                     WHERE id = $9 AND version = $10",
                )
                .bind(c.name.clone())
                .bind(c.place.clone())
                .bind(c.purpose.clone())
                .bind(hours)
                .bind(hours_set)
                .bind(c.started_on.to_string())
                .bind(c.ended_on.map(|d| d.to_string()))
                .bind(ts(now))
                .bind(id)
                .bind(i.version.unwrap_or(-1))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n != 1 {
                    return Err(StoreError::Conflict("该历练记录已被他人修改，请刷新后再改".into()));
                }
                ("experience.update", id, serde_json::json!({"version": old.version}).to_string())
            }
        };
        self.experience_audit(&mut tx, user, (action, id), before, audited(&c), now).await?;
        tx.commit().await?;
        self.experience(user, id).await
    }

    /// Add a person to a record, for a 挂职 optionally with the assessment (a second add of the
    /// same person is refused by the unique key; two at once, one wins).
    pub async fn add_experience_member(
        &self,
        user: &SessionUser,
        id: i64,
        m: &MemberInput,
        now: NaiveDateTime,
    ) -> Result<Experience> {
        let e = self.experience(user, id).await?;
        let person = self.cadre(user, m.person_id, now.date()).await?;
        let mut c = Checks::new();
        let duty = c.take(optional_text("职责", &m.duty, 30)).flatten().unwrap_or_default();
        let assessment = m.assessment.trim().to_string();
        if !assessment.is_empty()
            && (e.kind != ExperienceKind::Secondment || !ASSESSMENTS.contains(&assessment.as_str()))
        {
            c.fail("考核等次", format!("挂职考核等次应为{}之一，其他历练不填", ASSESSMENTS.join("、")));
        }
        c.finish()?;
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO experience_members (experience_id, person_id, duty, assessment) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(m.person_id)
        .bind(duty.clone())
        .bind(assessment.clone())
        .execute(&mut *tx)
        .await?;
        let after = serde_json::json!({"person": person.name, "duty": duty, "assessment": assessment});
        self.experience_changed(tx, user, ("experience.member_add", id), after, now).await
    }

    /// Record a 挂职 member's assessment.
    pub async fn assess_member(
        &self,
        user: &SessionUser,
        id: i64,
        m: &MemberInput,
        now: NaiveDateTime,
    ) -> Result<Experience> {
        let e = self.experience(user, id).await?;
        let person = self.cadre(user, m.person_id, now.date()).await?;
        let assessment = m.assessment.trim();
        if e.kind != ExperienceKind::Secondment {
            return Err(StoreError::invalid("考核等次", "只有挂职记录填写考核等次"));
        }
        if !ASSESSMENTS.contains(&assessment) {
            return Err(StoreError::invalid("考核等次", format!("应为{}之一", ASSESSMENTS.join("、"))));
        }
        let mut tx = self.begin().await?;
        let n =
            sqlx::query("UPDATE experience_members SET assessment = $1 WHERE experience_id = $2 AND person_id = $3")
                .bind(assessment)
                .bind(id)
                .bind(m.person_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if n != 1 {
            return Err(StoreError::NotFound(format!("{}不在这条挂职记录中", person.name)));
        }
        let after = serde_json::json!({"person": person.name, "assessment": assessment});
        self.experience_changed(tx, user, ("experience.assess", id), after, now).await
    }

    /// Take a person off a record (the audit keeps that they were on it).
    pub async fn remove_experience_member(
        &self,
        user: &SessionUser,
        id: i64,
        person_id: i64,
        now: NaiveDateTime,
    ) -> Result<Experience> {
        self.experience(user, id).await?;
        let person = self.cadre(user, person_id, now.date()).await?;
        let mut tx = self.begin().await?;
        let n = sqlx::query("DELETE FROM experience_members WHERE experience_id = $1 AND person_id = $2")
            .bind(id)
            .bind(person_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict(format!("{}已不在这条历练记录中（可能刚由他人移出）", person.name)));
        }
        let after = serde_json::json!({"person": person.name});
        self.experience_changed(tx, user, ("experience.member_remove", id), after, now).await
    }

    /// Link a supervised task to a 专班 (by its number, 文号 or exact name).
    pub async fn link_experience_task(
        &self,
        user: &SessionUser,
        id: i64,
        task: &str,
        now: NaiveDateTime,
    ) -> Result<Experience> {
        let e = self.experience(user, id).await?;
        if e.kind != ExperienceKind::TaskForce {
            return Err(StoreError::invalid("关联任务", "只有工作专班关联督办任务"));
        }
        let task = required_text("关联任务", task, 60)?;
        let key = xietong_supervision::text::doc_no_key(&task);
        let r = sqlx::query(
            "SELECT id, title FROM tasks WHERE doc_no_key = $1 OR CAST(id AS TEXT) = $2 OR title = $2 ORDER BY id",
        )
        .bind(key)
        .bind(task.clone())
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::invalid("关联任务", format!("「{task}」不是督办任务的编号、文号或名称")))?;
        let (task_id, title) = (r.i("id")?, r.s("title")?);
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO experience_tasks (experience_id, task_id) VALUES ($1, $2)")
            .bind(id)
            .bind(task_id)
            .execute(&mut *tx)
            .await?;
        let after = serde_json::json!({"task": title});
        self.experience_changed(tx, user, ("experience.task_link", id), after, now).await
    }

    /// A member or task change's audit entry, the commit, and the record as now.
    async fn experience_changed(
        &self,
        mut tx: crate::Tx,
        user: &SessionUser,
        (action, id): (&str, i64),
        after: serde_json::Value,
        now: NaiveDateTime,
    ) -> Result<Experience> {
        self.experience_audit(&mut tx, user, (action, id), String::new(), after, now).await?;
        tx.commit().await?;
        self.experience(user, id).await
    }

    async fn experience_audit(
        &self,
        tx: &mut sqlx::AnyConnection,
        user: &SessionUser,
        (action, id): (&str, i64),
        before: String,
        after: serde_json::Value,
        now: NaiveDateTime,
    ) -> Result<()> {
        let change = Change {
            actor: &user.username,
            action,
            entity: "experience",
            entity_id: id.to_string(),
            before,
            after: after.to_string(),
        };
        append(tx, now, change).await.map(|_| ())
    }

    /// A person's 历练, newest first.
    pub async fn experiences_of(&self, user: &SessionUser, person_id: i64) -> Result<Vec<PersonExperience>> {
        must_be_org_dept(user)?;
        let rows = sqlx::query(
            "SELECT e.*, m.duty, m.assessment FROM experience_members m JOIN experiences e ON e.id = m.experience_id \
             WHERE m.person_id = $1 ORDER BY e.started_on DESC, e.id DESC",
        )
        .bind(person_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let k = kind_of(r)?;
                Ok(PersonExperience {
                    id: r.i("id")?,
                    kind: k,
                    kind_label: k.label_zh().into(),
                    name: r.s("name")?,
                    place: r.s("place")?,
                    started_on: r.d("started_on")?,
                    ended_on: r.od("ended_on")?,
                    hours: r.of("hours")?,
                    duty: r.s("duty")?,
                    assessment: r.s("assessment")?,
                })
            })
            .collect()
    }

    /// How many 专班 each person served in (for the suggestions' reasons).
    pub(crate) async fn task_force_counts(&self) -> Result<std::collections::HashMap<i64, usize>> {
        let rows = sqlx::query(
            "SELECT m.person_id, COUNT(*) AS n FROM experience_members m JOIN experiences e ON e.id = m.experience_id \
             WHERE e.kind = 'task_force' GROUP BY m.person_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.i("person_id")?, r.i("n")?.max(0) as usize))).collect()
    }

    /// The year's totals by kind: records, 人次, people and 调训 hours (people of the 数据范围).
    pub async fn experience_totals(&self, user: &SessionUser, year: i32) -> Result<ExperienceTotals> {
        must_be_org_dept(user)?;
        let records: Vec<(i64, ExperienceKind, NaiveDate, Option<NaiveDate>)> =
            sqlx::query("SELECT id, kind, started_on, ended_on FROM experiences")
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| Ok((r.i("id")?, kind_of(r)?, r.d("started_on")?, r.od("ended_on")?)))
                .collect::<Result<_>>()?;
        let scope = people_in_scope(user, "p.id", "p.unit_id");
        let seats: Vec<Seat> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT e.id, e.kind, e.started_on, e.ended_on, e.hours, m.person_id FROM experience_members m \
             JOIN experiences e ON e.id = m.experience_id JOIN people p ON p.id = m.person_id WHERE {scope}"
        )))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(Seat {
                kind: kind_of(r)?,
                record_id: r.i("id")?,
                person_id: r.i("person_id")?,
                started_on: r.d("started_on")?,
                ended_on: r.od("ended_on")?,
                hours: r.of("hours")?,
            })
        })
        .collect::<Result<_>>()?;
        let kinds = year_totals(&records, &seats, year)
            .into_iter()
            .filter_map(|t| t.kind.map(|k| LabelledTotal { kind: k, kind_label: k.label_zh().into(), total: t }))
            .collect();
        Ok(ExperienceTotals { year, kinds })
    }

    /// The people behind a year's figure for one kind, each with the records that count.
    pub async fn experience_people(
        &self,
        user: &SessionUser,
        year: i32,
        kind: ExperienceKind,
    ) -> Result<Vec<(ExperienceMember, Vec<String>)>> {
        let list = self.experiences(user, Some(year), Some(kind)).await?;
        let mut by: std::collections::BTreeMap<i64, (ExperienceMember, Vec<String>)> = Default::default();
        for e in list {
            for m in e.members {
                by.entry(m.person_id).or_insert_with(|| (m.clone(), vec![])).1.push(e.name.clone());
            }
        }
        Ok(by.into_values().collect())
    }
}
