//! The 干部名册 in and out (issue 18): an Excel import of the roster, all or nothing with every bad
//! row named; the rows of the pool and structure exports; and the year's figures the district
//! reported (上报数) beside what the records hold (在库数).

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use xietong_cadres::experience::ExperienceKind;
use xietong_cadres::structure;
use xietong_cadres::{EDUCATIONS, ENTRY_ROUTES, PoolLevel, RANKS, age_on};
use xietong_office::table::Column;
use xietong_office::xlsx::RawRow;

use super::{CadreInput, Expect, check, must_be_org_dept, people_in_scope, reaches};
use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::imports::{ImportReport, RowProblem, per_row, problem, refusal, rows_with_problems};
use crate::{Db, Result, RowExt, StoreError};

/// The settings key of the reported figures, by year.
const REPORTED: &str = "cadre_reported";

/// Columns of the 干部名册 import (and its template).
pub fn roster_columns(unit_names: Vec<String>) -> Vec<Column> {
    let list = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let levels: Vec<String> = PoolLevel::ALL.iter().map(|l| l.label_zh().to_string()).collect();
    vec![
        Column::new("unit", "单位").required().width(20.0).note("系统中的单位全称").choices(unit_names),
        Column::new("name", "姓名").required().width(10.0),
        Column::new("post", "职务").required().width(16.0),
        Column::new("id_number", "身份证号").required().width(21.0).note("18 位，出生日期按此读取"),
        Column::new("education", "学历").required().width(12.0).choices(list(&EDUCATIONS)),
        Column::new("major", "专业").width(14.0),
        Column::new("rank", "职级").required().width(10.0).choices(list(&RANKS)),
        Column::new("entry_route", "入职途径").required().width(12.0).choices(list(&ENTRY_ROUTES)),
        Column::new("work_start", "参加工作时间").required().width(13.0).note("YYYY-MM-DD"),
        Column::new("pool", "入库").width(20.0).note("可不填；填写则纳入该级干部库").choices(levels),
        Column::new("pool_reason", "入库理由").width(24.0).note("填写入库时必填"),
    ]
}

/// One figure of the year: what was reported and what the records hold.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ReportFigure {
    pub key: String,
    pub label: String,
    /// 上报数, as the 组织部 entered it (none when not entered).
    pub reported: Option<f64>,
    /// 在库数: counted from the records now.
    pub recorded: f64,
    /// How 在库数 is counted.
    pub basis: String,
    /// The 历练 kind whose people the figure drills to, if any.
    pub drill: Option<ExperienceKind>,
}

/// The figures' keys, labels and how each is counted.
pub const FIGURES: [(&str, &str, &str); 7] = [
    (
        "recruited",
        "公开引进 28 岁以下硕士研究生（人）",
        "入职途径为公开引进、研究生学历、参加工作时未满 28 周岁，截至年末在册",
    ),
    ("task_forces", "工作专班（个）", "当年在运行的工作专班"),
    ("task_force_people", "抽调到专班历练（人）", "当年在专班中的人数（一人多个专班计一人）"),
    ("training", "调训（人次）", "当年调训记录的参训人次"),
    ("frontline", "下沉一线历练（人次）", "当年一线历练记录的人次"),
    ("secondment", "挂职锻炼（人）", "当年挂职的人数"),
    ("young_in_teams", "班子中的年轻干部（人）", "班子结构中按各类单位要求的年龄（默认 35 岁以下）统计"),
];

/// The 上报数 of one year, as entered.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ReportedInput {
    /// 指标键（recruited、task_forces、task_force_people、training、frontline、secondment）到上报数
    pub figures: BTreeMap<String, f64>,
}

impl Db {
    /// Import a 干部名册: each row's person is found by unit and name (or added to the unit), their
    /// 干部档案 written as the roster has it, and a pool entry made when the row names a pool the
    /// person is not in. All or nothing: any bad row, and nothing is written; every bad row named.
    pub async fn import_roster(
        &self,
        user: &SessionUser,
        now: NaiveDateTime,
        rows: &[RawRow],
        cell_problems: Vec<RowProblem>,
    ) -> Result<ImportReport> {
        must_be_org_dept(user)?;
        if rows.is_empty() {
            return Err(StoreError::BadInput("文件中没有数据行".into()));
        }
        let units: HashMap<String, i64> = sqlx::query("SELECT id, name FROM units")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.s("name")?, r.i("id")?)))
            .collect::<Result<_>>()?;
        let bad_cells = rows_with_problems(&cell_problems);
        let mut problems = cell_problems;
        let (mut seen_people, mut seen_ids) = (HashMap::new(), HashMap::new());
        let mut ids = vec![];
        let mut tx = self.begin().await?;
        for r in rows {
            if bad_cells.contains(&r.row) {
                continue;
            }
            let input = CadreInput {
                id_number: r.get("id_number").into(),
                education: r.get("education").into(),
                major: r.get("major").into(),
                rank: r.get("rank").into(),
                entry_route: r.get("entry_route").into(),
                work_start: r.get("work_start").into(),
                version: None,
            };
            let parsed = (|| -> Result<_> {
                let c = check(&input, now.date())?;
                let unit_name = r.get("unit").trim();
                let unit = *units
                    .get(unit_name)
                    .ok_or_else(|| StoreError::invalid("单位", format!("「{unit_name}」不是系统中的单位")))?;
                if !reaches(user, 0, unit) {
                    return Err(StoreError::invalid("单位", format!("「{unit_name}」不在您的数据范围内")));
                }
                let pool = match r.get("pool").trim() {
                    "" => None,
                    p => Some(PoolLevel::ALL.into_iter().find(|l| l.label_zh() == p).ok_or_else(|| {
                        StoreError::invalid("入库", "应为科级优秀年轻干部库或股级优秀年轻干部库，或不填")
                    })?),
                };
                let reason = r.get("pool_reason").trim().to_string();
                if pool.is_some() && reason.is_empty() {
                    return Err(StoreError::invalid("入库理由", "填写入库时必填"));
                }
                Ok((c, unit, pool, reason))
            })();
            let (c, unit, pool, reason) = match parsed {
                Ok(x) => x,
                Err(e) => {
                    problems.extend(problem(r.row, e));
                    continue;
                }
            };
            let (name, post) = (r.get("name").trim().to_string(), r.get("post").trim().to_string());
            // The same person, or the same ID number, twice in one file: the second row is named.
            if let Some(first) = seen_people.insert((unit, name.clone()), r.row) {
                problems.push(row_problem(r.row, "姓名", format!("与第 {first} 行是同一单位的同一人")));
                continue;
            }
            if let Some(first) = seen_ids.insert(c.id_number.clone(), r.row) {
                problems.push(row_problem(r.row, "身份证号", format!("与第 {first} 行相同")));
                continue;
            }
            let done = per_row!(
                tx,
                r.row,
                problems,
                async {
                    let found = sqlx::query("SELECT id FROM people WHERE unit_id = $1 AND name = $2 ORDER BY id")
                        .bind(unit)
                        .bind(name.clone())
                        .fetch_optional(&mut *tx)
                        .await?;
                    let person_id = match found {
                        Some(p) => p.i("id")?,
                        None => {
                            let code = format!("gbmc{}{:05}", now.format("%Y%m%d%H%M%S"), r.row);
                            self.create_person(&mut tx, &user.username, &code, &name, &post, unit, now).await?
                        }
                    };
                    self.save_cadre_in(&mut tx, user, person_id, &c, Expect::Any, now).await?;
                    if let Some(level) = pool {
                        self.enter_pool_in(&mut tx, user, person_id, level, &reason, now, true).await?;
                    }
                    Ok::<i64, StoreError>(person_id)
                }
                .await
            );
            if let Some(id) = done {
                ids.push(id);
            }
        }
        if !problems.is_empty() {
            tx.rollback().await?;
            return Err(refusal(&problems));
        }
        let after = serde_json::json!({"rows": rows.len(), "people": ids.len()});
        append(
            &mut tx,
            now,
            Change {
                actor: &user.username,
                action: "import.cadres",
                entity: "cadre",
                entity_id: String::new(),
                before: String::new(),
                after: after.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(ImportReport { rows: rows.len(), created_ids: ids, list_id: None })
    }

    /// The figures of `year`: 上报数 as entered beside 在库数 from the records (people of the
    /// 数据范围).
    pub async fn report_figures(&self, user: &SessionUser, year: i32, today: NaiveDate) -> Result<Vec<ReportFigure>> {
        must_be_org_dept(user)?;
        let reported = self.reported(year).await?;
        let totals = self.experience_totals(user, year).await?;
        let of = |k: ExperienceKind| totals.kinds.iter().find(|t| t.kind == k).map(|t| &t.total);
        let year_end = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default();
        let scope = people_in_scope(user, "p.id", "p.unit_id");
        let recruited = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT c.birth_date, c.work_start FROM cadres c JOIN people p ON p.id = c.person_id \
             WHERE c.entry_route = '公开引进' AND c.education IN ('硕士研究生', '博士研究生') AND {scope}"
        )))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .filter(|r| {
            let (Ok(b), Ok(w)) = (r.d("birth_date"), r.d("work_start")) else { return false };
            w <= year_end && age_on(b, w) < 28
        })
        .count();
        // The 班子 as they stand by the year's end (today for this year).
        let teams = self.teams(user, today.min(year_end)).await?;
        let total = structure::total(teams.iter().map(|t| &t.check));
        let mut out = vec![];
        for (key, label, basis) in FIGURES {
            let (recorded, drill) = match key {
                "young_in_teams" => (total.young, None),
                "recruited" => (recruited, None),
                "task_forces" => {
                    (of(ExperienceKind::TaskForce).map_or(0, |t| t.records), Some(ExperienceKind::TaskForce))
                }
                "task_force_people" => {
                    (of(ExperienceKind::TaskForce).map_or(0, |t| t.people), Some(ExperienceKind::TaskForce))
                }
                "training" => (of(ExperienceKind::Training).map_or(0, |t| t.seats), Some(ExperienceKind::Training)),
                "frontline" => (of(ExperienceKind::Frontline).map_or(0, |t| t.seats), Some(ExperienceKind::Frontline)),
                _ => (of(ExperienceKind::Secondment).map_or(0, |t| t.people), Some(ExperienceKind::Secondment)),
            };
            out.push(ReportFigure {
                key: key.into(),
                label: label.into(),
                reported: reported.get(key).copied(),
                recorded: recorded as f64,
                basis: match key {
                    "young_in_teams" if total.members > 0 => format!(
                        "{basis}：班子成员 {} 人，其中 {} 人，占 {:.2}%",
                        total.members, total.young, total.young_percent
                    ),
                    _ => basis.into(),
                },
                drill,
            });
        }
        Ok(out)
    }

    async fn reported(&self, year: i32) -> Result<BTreeMap<String, f64>> {
        let all: BTreeMap<i32, BTreeMap<String, f64>> = match self.get_setting(REPORTED).await? {
            Some(s) => serde_json::from_str(&s).map_err(|e| StoreError::internal(format!("上报数设置无效：{e}")))?,
            None => Default::default(),
        };
        Ok(all.get(&year).cloned().unwrap_or_default())
    }

    /// Enter a year's 上报数 (the 组织部): each a whole number from 0 to 100 000; a figure left out
    /// is cleared.
    pub async fn set_reported_figures(
        &self,
        user: &SessionUser,
        year: i32,
        input: &ReportedInput,
        now: NaiveDateTime,
    ) -> Result<()> {
        must_be_org_dept(user)?;
        let mut c = xietong_supervision::validate::Checks::new();
        if !(2000..=2100).contains(&year) {
            c.fail("年度", format!("应在 2000 到 2100 之间（当前 {year}）"));
        }
        for (key, v) in &input.figures {
            let Some((_, label, _)) = FIGURES.iter().find(|(k, _, _)| k == key) else {
                c.fail("指标", format!("没有「{key}」这项上报数"));
                continue;
            };
            if !v.is_finite() || *v < 0.0 || *v > 100_000.0 || v.fract() != 0.0 {
                c.fail(label, format!("应为 0 到 100000 之间的整数（当前 {v}）"));
            }
        }
        c.finish()?;
        let mut tx = self.begin().await?;
        let mut all: BTreeMap<i32, BTreeMap<String, f64>> = match self.get_setting(REPORTED).await? {
            Some(s) => serde_json::from_str(&s).unwrap_or_default(),
            None => Default::default(),
        };
        let before = serde_json::to_string(&all.get(&year)).unwrap_or_default();
        all.insert(year, input.figures.clone());
        self.set_setting(&mut tx, REPORTED, &serde_json::to_string(&all).unwrap_or_default()).await?;
        // The audit names each figure as read.
        let after: BTreeMap<&str, f64> = input
            .figures
            .iter()
            .filter_map(|(k, v)| FIGURES.iter().find(|(key, _, _)| key == k).map(|(_, label, _)| (*label, *v)))
            .collect();
        append(
            &mut tx,
            now,
            Change {
                actor: &user.username,
                action: "settings.cadre_reported",
                entity: "settings",
                entity_id: year.to_string(),
                before,
                after: serde_json::to_string(&after).unwrap_or_default(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn row_problem(row: usize, column: &str, message: String) -> RowProblem {
    RowProblem { row, column: Some(column.into()), message }
}

/// The years a page offers: this year and the four before it.
pub fn recent_years(now: NaiveDateTime) -> Vec<i32> {
    (0..5).map(|i| now.year() - i).collect()
}
