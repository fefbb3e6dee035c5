//! Excel imports of tasks, list items (清单) and indicators: the template columns, row mapping
//! and an all-or-nothing load. Every row is tried inside a savepoint so that all bad rows are
//! reported at once; if any row is bad the whole transaction is rolled back.

use std::collections::HashMap;

use serde::Serialize;
use xietong_office::table::Column;
use xietong_office::xlsx::{RawRow, RowError};
use xietong_supervision::validate::{Checks, date, doc_no, optional_multiline, required_text};
use xietong_supervision::{FieldError, ReportCycle, Role, SourceKind};

use crate::audit::{Change, append};
use crate::auth::SessionUser;
use crate::indicators::{NewIndicator, NewIndicatorReport, validate_indicator, validate_report};
use crate::org::{Category, Unit};
use crate::tasks::{Ctx, NewTask};
use crate::{Db, Result, RowExt, StoreError, ts};

/// What an import did.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub rows: usize,
    pub created_ids: Vec<i64>,
    pub list_id: Option<i64>,
}

/// One bad row (or the file itself, with row 0).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RowProblem {
    pub row: usize,
    pub column: Option<String>,
    pub message: String,
}

impl std::fmt::Display for RowProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.column, self.row) {
            (Some(c), r) if r > 0 => write!(f, "第 {r} 行「{c}」：{}", self.message),
            (None, r) if r > 0 => write!(f, "第 {r} 行：{}", self.message),
            (Some(c), _) => write!(f, "「{c}」：{}", self.message),
            (None, _) => write!(f, "{}", self.message),
        }
    }
}

/// Problems the file reader found in cells (empty required cells, values outside a list), to be
/// reported together with the checks of each row.
pub fn cell_problems(errors: Vec<RowError>) -> Vec<RowProblem> {
    errors.into_iter().map(|e| RowProblem { row: e.row, column: e.column, message: e.message }).collect()
}

/// The rows whose cells already failed: they are skipped, not checked again. A set, because a
/// scan of the problem list for every row was quadratic (20 000 bad rows: 2·10⁸ comparisons).
pub(crate) fn rows_with_problems(problems: &[RowProblem]) -> std::collections::HashSet<usize> {
    problems.iter().map(|p| p.row).collect()
}

/// All the problems of a refused import, one line each; nothing was written.
pub fn refusal(problems: &[RowProblem]) -> StoreError {
    let mut problems = problems.to_vec();
    problems.sort_by_key(|p| p.row);
    let lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    StoreError::BadInput(format!("导入未执行（共 {} 处错误，未写入任何数据）：\n{}", problems.len(), lines.join("\n")))
}

fn col(key: &'static str, header: &str, required: bool, width: f64, note: &str, choices: Vec<String>) -> Column {
    Column { key: key.into(), header: header.into(), required, width, note: note.into(), choices }
}

fn unit_names(units: &[Unit]) -> Vec<String> {
    units.iter().filter(|u| u.kind != "内设科室").map(|u| u.name.clone()).collect()
}

/// Columns of the task import template (督办任务导入模板).
pub fn task_columns(units: &[Unit], categories: &[Category]) -> Vec<Column> {
    vec![
        col("title", "任务名称", true, 40.0, "不超过200字", vec![]),
        col("description", "任务内容", false, 50.0, "具体要求，可换行", vec![]),
        col(
            "source_kind",
            "任务来源",
            true,
            12.0,
            "上级交办 / 会议 / 领导批示",
            SourceKind::ALL.iter().map(|k| k.label_zh().to_string()).collect(),
        ),
        col("doc_no", "文号", true, 24.0, "如：二七政阅〔2026〕12号；同一文号只能立项一次", vec![]),
        col("source_title", "来源文件或会议", false, 30.0, "", vec![]),
        col("source_date", "来源日期", true, 12.0, "YYYY-MM-DD", vec![]),
        col("category", "工作类别", false, 12.0, "", categories.iter().map(|c| c.name.clone()).collect()),
        col("lead_unit", "牵头单位", true, 18.0, "须为系统中的单位全称", unit_names(units)),
        col("co_units", "配合单位", false, 24.0, "多个单位用顿号或逗号分隔", vec![]),
        col(
            "report_cycle",
            "汇报周期",
            true,
            10.0,
            "每周 / 每半月 / 每月 / 按节点",
            ReportCycle::ALL.iter().map(|c| c.label_zh().to_string()).collect(),
        ),
        col("deadline", "办理期限", true, 12.0, "YYYY-MM-DD，须为工作日", vec![]),
    ]
}

/// Columns of a list (清单) import: each row becomes a supervised task under the list's 文号.
pub fn list_item_columns(units: &[Unit]) -> Vec<Column> {
    vec![
        col("title", "事项名称", true, 40.0, "如：某村某组某户房屋重建", vec![]),
        col("description", "具体内容", false, 50.0, "位置、要求等", vec![]),
        col("lead_unit", "责任单位", true, 18.0, "须为系统中的单位全称", unit_names(units)),
        col("co_units", "配合单位", false, 24.0, "多个单位用顿号或逗号分隔", vec![]),
        col(
            "report_cycle",
            "汇报周期",
            false,
            10.0,
            "默认每月",
            ReportCycle::ALL.iter().map(|c| c.label_zh().to_string()).collect(),
        ),
        col("deadline", "完成时限", true, 12.0, "YYYY-MM-DD，须为工作日", vec![]),
    ]
}

/// Columns of the indicator import: targets, and optionally one report of actuals per row.
pub fn indicator_columns() -> Vec<Column> {
    vec![
        col("doc_no", "任务文号", true, 24.0, "指标所属任务的文号", vec![]),
        col("name", "指标名称", true, 24.0, "同一任务内不能重复", vec![]),
        col("unit_label", "计量单位", true, 10.0, "如：人、所、家、万元", vec![]),
        col("target", "目标值", true, 12.0, "数字", vec![]),
        col("period_start", "考核期开始", true, 12.0, "YYYY-MM-DD", vec![]),
        col("period_end", "考核期结束", true, 12.0, "YYYY-MM-DD", vec![]),
        col("as_of", "统计截至日期", false, 12.0, "填写完成值时必填", vec![]),
        col("actual", "累计完成值", false, 12.0, "数字", vec![]),
        col("reported_percent", "上报完成率(%)", false, 12.0, "单位自报的百分比，系统会复核", vec![]),
        col("plan", "分期计划", false, 30.0, "可不填（按时间均匀推进）；如 2026-06-30 55%，2026-09-30 80%", vec![]),
    ]
}

fn split_units(s: &str) -> Vec<String> {
    s.split(['、', ',', '，', ';', '；']).map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect()
}

/// The lead unit (column `lead_unit`, shown as `lead_field`) and co-units of a row, by full name.
fn row_units(by_name: &HashMap<String, i64>, r: &RawRow, lead_field: &str) -> Result<(i64, Vec<i64>)> {
    let lead = *by_name
        .get(r.get("lead_unit").trim())
        .ok_or_else(|| StoreError::invalid(lead_field, format!("「{}」不是系统中的单位", r.get("lead_unit"))))?;
    let mut co = vec![];
    for n in split_units(r.get("co_units")) {
        co.push(*by_name.get(&n).ok_or_else(|| StoreError::invalid("配合单位", format!("「{n}」不是系统中的单位")))?);
    }
    Ok((lead, co))
}

fn number(field: &str, s: &str) -> Result<f64> {
    Ok(xietong_supervision::validate::required_number(field, s)?)
}

/// A row's refusal as problems, one for each column an error names.
pub(crate) fn problem(row: usize, e: StoreError) -> Vec<RowProblem> {
    match e.field_errors() {
        fields if !fields.is_empty() => {
            fields.into_iter().map(|f| RowProblem { row, column: Some(f.field), message: f.message }).collect()
        }
        _ => vec![RowProblem { row, column: None, message: e.to_string() }],
    }
}

/// The task template's column names where a check names the field otherwise.
const TASK_FIELD_NAMES: [(&str, &str); 1] = [("来源文件/会议名称", "来源文件或会议")];

/// The indicator template's column names for the fields a report's checks name.
const INDICATOR_FIELD_NAMES: [(&str, &str); 2] = [("完成值", "累计完成值"), ("上报完成率", "上报完成率(%)")];

/// The list template names some task fields differently; errors use the clerk's column names.
const LIST_FIELD_NAMES: [(&str, &str); 3] =
    [("办理期限", "完成时限"), ("牵头单位", "责任单位"), ("任务名称", "事项名称")];

fn renamed(mut problems: Vec<RowProblem>, names: &[(&str, &str)]) -> Vec<RowProblem> {
    for p in &mut problems {
        if let Some(c) = &p.column
            && let Some((_, to)) = names.iter().find(|(from, _)| from == c)
        {
            p.column = Some(to.to_string());
        }
    }
    problems
}

/// Run `f` for each row inside a savepoint; collect every row's problem.
macro_rules! per_row {
    ($tx:expr, $row:expr, $problems:expr, $body:expr) => {{
        sqlx::query("SAVEPOINT import_row").execute(&mut *$tx).await?;
        let res = $body;
        match res {
            Ok(v) => {
                sqlx::query("RELEASE SAVEPOINT import_row").execute(&mut *$tx).await?;
                Some(v)
            }
            Err(e) => {
                if let StoreError::Internal(_) = e {
                    return Err(e);
                }
                sqlx::query("ROLLBACK TO SAVEPOINT import_row").execute(&mut *$tx).await?;
                sqlx::query("RELEASE SAVEPOINT import_row").execute(&mut *$tx).await?;
                $problems.extend(problem($row, e));
                None
            }
        }
    }};
}
pub(crate) use per_row;

/// A 清单's own fields, as typed on the import form beside its file.
#[derive(Clone, Copy, Debug, Default)]
pub struct ListHeader<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub doc_no: &'a str,
    pub source_date: &'a str,
    pub category_id: Option<i64>,
}
impl Db {
    fn unit_lookup(units: &[Unit]) -> HashMap<String, i64> {
        units.iter().map(|u| (u.name.clone(), u.id)).collect()
    }

    /// Import 督办任务 rows: 立项 and 交办 each, all or nothing. Only the 督查局.
    pub async fn import_tasks(
        &self,
        user: &SessionUser,
        ctx: &Ctx<'_>,
        rows: &[RawRow],
        cell_problems: Vec<RowProblem>,
    ) -> Result<ImportReport> {
        if user.role != Role::Supervisor {
            return Err(StoreError::Denied("无权限：只有督查局可以导入任务".into()));
        }
        if rows.is_empty() {
            return Err(StoreError::BadInput("文件中没有数据行".into()));
        }
        let units = self.list_units().await?;
        let cats = self.list_categories().await?;
        let by_name = Self::unit_lookup(&units);
        let cat_by_name: HashMap<String, i64> = cats.iter().map(|c| (c.name.clone(), c.id)).collect();
        let bad_cells = rows_with_problems(&cell_problems);
        let mut problems = cell_problems;
        let mut ids = vec![];
        let mut seen_doc: HashMap<String, usize> = HashMap::new();
        let mut tx = self.begin().await?;
        for r in rows {
            if bad_cells.contains(&r.row) {
                continue;
            }
            let new = (|| -> Result<NewTask> {
                let doc = doc_no(r.get("doc_no"))?;
                if let Some(first) = seen_doc.insert(xietong_supervision::text::doc_no_key(&doc), r.row) {
                    return Err(StoreError::invalid("文号", format!("与第 {first} 行重复")));
                }
                let (lead, co) = row_units(&by_name, r, "牵头单位")?;
                let category_id = match r.get("category").trim() {
                    "" => None,
                    c => Some(
                        *cat_by_name
                            .get(c)
                            .ok_or_else(|| StoreError::invalid("工作类别", format!("「{c}」不是已设置的类别")))?,
                    ),
                };
                Ok(NewTask {
                    title: r.get("title").into(),
                    description: r.get("description").into(),
                    source_kind: r.get("source_kind").into(),
                    doc_no: doc,
                    source_title: r.get("source_title").into(),
                    source_date: r.get("source_date").into(),
                    category_id,
                    lead_unit_id: lead,
                    co_unit_ids: co,
                    leader_person_id: None,
                    report_cycle: r.get("report_cycle").into(),
                    deadline: r.get("deadline").into(),
                    received_at: None,
                    assign_now: true,
                })
            })();
            let new = match new {
                Ok(n) => n,
                Err(e) => {
                    problems.extend(problem(r.row, e));
                    continue;
                }
            };
            if let Some(id) = per_row!(tx, r.row, problems, self.create_task_in(&mut tx, user, ctx, &new).await) {
                ids.push(id);
            }
        }
        if !problems.is_empty() {
            tx.rollback().await?;
            return Err(refusal(&renamed(problems, &TASK_FIELD_NAMES)));
        }
        append(
            &mut tx,
            ctx.now,
            Change {
                actor: &user.username,
                action: "import.tasks",
                entity: "import",
                entity_id: ids.len().to_string(),
                before: String::new(),
                after: serde_json::json!({"task_ids": ids}).to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(ImportReport { rows: rows.len(), created_ids: ids, list_id: None })
    }

    /// Import a list (清单): the list, then one supervised task per row under `list_doc_no`-NNN.
    #[allow(clippy::too_many_arguments)]
    pub async fn import_list(
        &self,
        user: &SessionUser,
        ctx: &Ctx<'_>,
        h: &ListHeader<'_>,
        (rows, cell_problems): (&[RawRow], Vec<RowProblem>),
        pre: Vec<FieldError>,
    ) -> Result<ImportReport> {
        let ListHeader { name, description, doc_no: list_doc_no, source_date, category_id } = *h;
        if user.role != Role::Supervisor {
            return Err(StoreError::Denied("无权限：只有督查局可以导入清单".into()));
        }
        // The list's own fields are checked together (every error at once, with `pre`: a missing
        // file, a choice the form could not read), before its rows.
        let mut c = Checks::with(pre);
        let name = c.take(required_text("清单名称", name, 100));
        let description = c.take(optional_multiline("清单说明", description, 2000));
        let list_doc = c.take(required_text("清单文号", list_doc_no, 64));
        if let Some(d) = c.take(date("来源日期", source_date.trim()))
            && d > ctx.now.date()
        {
            c.fail("来源日期", "不能晚于今天");
        }
        if rows.is_empty() && !c.has("文件") {
            c.fail("文件", "文件中没有数据行");
        }
        let units = self.list_units().await?;
        let by_name = Self::unit_lookup(&units);
        let mut tx = self.begin().await?;
        if let Some(n) = &name {
            let dup = sqlx::query("SELECT COUNT(*) AS n FROM task_lists WHERE name = $1")
                .bind(n.clone())
                .fetch_one(&mut *tx)
                .await?
                .i("n")?;
            if dup > 0 {
                c.fail("清单名称", format!("「{n}」已存在"));
            }
        }
        let (name, description, list_doc) = c.done(|| Some((name?, description?.unwrap_or_default(), list_doc?)))?;
        let list_id = sqlx::query("INSERT INTO task_lists (name, description, category_id, created_by, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(name.clone())
            .bind(description.clone())
            .bind(category_id)
            .bind(user.user_id)
            .bind(ts(ctx.now))
            .fetch_one(&mut *tx)
            .await?
            .i("id")?;
        let bad_cells = rows_with_problems(&cell_problems);
        let mut problems = cell_problems;
        let mut ids = vec![];
        for (i, r) in rows.iter().enumerate() {
            if bad_cells.contains(&r.row) {
                continue;
            }
            let new = (|| -> Result<NewTask> {
                let (lead, co) = row_units(&by_name, r, "责任单位")?;
                let cycle = match r.get("report_cycle").trim() {
                    "" => "monthly".to_string(),
                    c => c.to_string(),
                };
                Ok(NewTask {
                    title: r.get("title").into(),
                    description: format!(
                        "{}{}",
                        r.get("description"),
                        if description.is_empty() { String::new() } else { format!("\n（{name}）") }
                    ),
                    source_kind: "superior".into(),
                    doc_no: format!("{list_doc}-{:03}", i + 1),
                    source_title: name.clone(),
                    source_date: source_date.into(),
                    category_id,
                    lead_unit_id: lead,
                    co_unit_ids: co,
                    leader_person_id: None,
                    report_cycle: cycle,
                    deadline: r.get("deadline").into(),
                    received_at: None,
                    assign_now: true,
                })
            })();
            let new = match new {
                Ok(n) => n,
                Err(e) => {
                    problems.extend(problem(r.row, e));
                    continue;
                }
            };
            let created = per_row!(
                tx,
                r.row,
                problems,
                async {
                    let id = self.create_task_in(&mut tx, user, ctx, &new).await?;
                    sqlx::query("INSERT INTO task_list_items (list_id, task_id, row_no) VALUES ($1, $2, $3)")
                        .bind(list_id)
                        .bind(id)
                        .bind(r.row as i64)
                        .execute(&mut *tx)
                        .await?;
                    Ok::<i64, StoreError>(id)
                }
                .await
            );
            if let Some(id) = created {
                ids.push(id);
            }
        }
        if !problems.is_empty() {
            tx.rollback().await?;
            return Err(refusal(&renamed(problems, &LIST_FIELD_NAMES)));
        }
        let after = serde_json::json!({"name": name, "doc_no": list_doc, "task_ids": ids});
        append(
            &mut tx,
            ctx.now,
            Change {
                actor: &user.username,
                action: "import.list",
                entity: "task_list",
                entity_id: list_id.to_string(),
                before: String::new(),
                after: after.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(ImportReport { rows: rows.len(), created_ids: ids, list_id: Some(list_id) })
    }

    /// Import indicators (and optional actuals) for existing tasks, all or nothing.
    pub async fn import_indicators(
        &self,
        user: &SessionUser,
        now: chrono::NaiveDateTime,
        rows: &[RawRow],
        cell_problems: Vec<RowProblem>,
    ) -> Result<ImportReport> {
        if rows.is_empty() {
            return Err(StoreError::BadInput("文件中没有数据行".into()));
        }
        let bad_cells = rows_with_problems(&cell_problems);
        let mut problems = cell_problems;
        let mut ids = vec![];
        let mut tx = self.begin().await?;
        for r in rows {
            if bad_cells.contains(&r.row) {
                continue;
            }
            let parsed = (|| -> Result<(NewIndicator, Option<NewIndicatorReport>)> {
                let target = number("目标值", r.get("target"))?;
                let n = NewIndicator {
                    name: r.get("name").into(),
                    unit_label: r.get("unit_label").into(),
                    target,
                    period_start: r.get("period_start").into(),
                    period_end: r.get("period_end").into(),
                    plan: xietong_supervision::indicators::parse_plan(r.get("plan"))?,
                };
                let ind = validate_indicator(&n)?;
                let rep = if r.get("actual").trim().is_empty() {
                    None
                } else {
                    let actual = number("累计完成值", r.get("actual"))?;
                    let pct = match r.get("reported_percent").trim().trim_end_matches('%') {
                        "" => None,
                        p => Some(number("上报完成率(%)", p)?),
                    };
                    let rep = NewIndicatorReport {
                        as_of: r.get("as_of").into(),
                        actual,
                        reported_percent: pct,
                        note: "Excel 导入".into(),
                        confirm_large: false,
                    };
                    // A file has no checkbox: an implausible figure is entered on the task's page.
                    let (checked, _) =
                        validate_report(&ind, &NewIndicatorReport { confirm_large: true, ..rep.clone() })?;
                    if checked.needs_confirmation(ind.target) {
                        return Err(StoreError::invalid(
                            "累计完成值",
                            format!(
                                "{} 超过目标值的 {} 倍，请核对数值和计量单位；确属实请在任务页面上报并勾选“{}”",
                                r.get("actual").trim(),
                                xietong_supervision::indicators::CONFIRM_RATIO,
                                xietong_supervision::indicators::CONFIRM_HINT
                            ),
                        ));
                    }
                    Some(rep)
                };
                Ok((n, rep))
            })();
            let (n, rep) = match parsed {
                Ok(x) => x,
                Err(e) => {
                    problems.extend(problem(r.row, e));
                    continue;
                }
            };
            let doc = r.get("doc_no").trim().to_string();
            let doc_key = xietong_supervision::text::doc_no_key(&doc);
            let created = per_row!(
                tx,
                r.row,
                problems,
                async {
                    let task = sqlx::query("SELECT id FROM tasks WHERE doc_no_key = $1")
                        .bind(doc_key.clone())
                        .fetch_optional(&mut *tx)
                        .await?;
                    let task = task
                        .ok_or_else(|| StoreError::invalid("任务文号", format!("「{doc}」没有对应的任务")))?
                        .i("id")?;
                    let ind = validate_indicator(&n)?;
                    let id = self.add_indicator_in(&mut tx, user, now, task, &ind).await?;
                    if let Some(rep) = &rep {
                        self.report_indicator_in(&mut tx, user, now, id, rep).await?;
                    }
                    Ok::<i64, StoreError>(id)
                }
                .await
            );
            if let Some(id) = created {
                ids.push(id);
            }
        }
        if !problems.is_empty() {
            tx.rollback().await?;
            return Err(refusal(&renamed(problems, &INDICATOR_FIELD_NAMES)));
        }
        tx.commit().await?;
        Ok(ImportReport { rows: rows.len(), created_ids: ids, list_id: None })
    }
}
