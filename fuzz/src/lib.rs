//! What the fuzz targets share: column sets that mirror the real importers' (built here, so the
//! fuzz crate does not pull in xietong-storage and sqlx), and the properties every import result
//! must have, whatever the file.

use xietong_calendar::{WorkCalendar, parse_date};
use xietong_office::{Column, ImportErrors, RawRow, RowError};

fn col(key: &str, header: &str, required: bool, choices: &[&str]) -> Column {
    let c = Column::new(key, header).choices(choices.iter().copied());
    if required { c.required() } else { c }
}

/// Units as a district has them, full-width brackets included (matched ignoring width).
pub const UNITS: [&str; 4] = ["区委办（督查室）", "区城管局", "区住建局", "二七区教育局"];

/// `xietong_storage::imports::task_columns`: required columns, choices from enums, units and
/// categories, and two date columns.
pub fn task_columns() -> Vec<Column> {
    vec![
        col("title", "任务名称", true, &[]),
        col("description", "任务内容", false, &[]),
        col("source_kind", "任务来源", true, &["上级交办", "会议", "领导批示"]),
        col("doc_no", "文号", true, &[]),
        col("source_title", "来源文件或会议", false, &[]),
        col("source_date", "来源日期", true, &[]),
        col("category", "工作类别", false, &["城建交通", "民生保障", "营商环境"]),
        col("lead_unit", "牵头单位", true, &UNITS),
        col("co_units", "配合单位", false, &[]),
        col("report_cycle", "汇报周期", true, &["每周", "每半月", "每月", "按节点"]),
        col("deadline", "办理期限", true, &[]),
    ]
}

/// `xietong_storage::imports::indicator_columns`: every column free text, headers with brackets.
pub fn indicator_columns() -> Vec<Column> {
    vec![
        col("doc_no", "任务文号", true, &[]),
        col("name", "指标名称", true, &[]),
        col("unit_label", "计量单位", true, &[]),
        col("target", "目标值", true, &[]),
        col("period_start", "考核期开始", true, &[]),
        col("period_end", "考核期结束", true, &[]),
        col("as_of", "统计截至日期", false, &[]),
        col("actual", "累计完成值", false, &[]),
        col("reported_percent", "上报完成率(%)", false, &[]),
    ]
}

/// `xietong_storage::libraries::problem_columns`: a full-width bracket header and 是/否 choices.
pub fn problem_columns() -> Vec<Column> {
    vec![
        col("enterprise", "企业名称", true, &[]),
        col("title", "难题名称", true, &[]),
        col("description", "难题描述", true, &[]),
        col("keywords", "关键词", false, &[]),
        col("industry_code", "行业代码", false, &[]),
        col("budget_wan", "预算（万元）", false, &[]),
        col("cooperation_mode", "合作方式", false, &["转让", "许可", "作价入股", "合作开发", "技术咨询"]),
        col("wanted_by", "期望解决日期", false, &[]),
        col("confidential", "是否保密", false, &["是", "否"]),
    ]
}

/// `xietong_storage::achievements::achievement_columns`: ASCII headers.
pub fn achievement_columns() -> Vec<Column> {
    vec![
        col("id", "id", true, &[]),
        col("title", "title", true, &[]),
        col("abstract", "abstract", true, &[]),
        col("keywords", "keywords", false, &[]),
        col("discipline", "discipline", false, &[]),
        col("category", "category", false, &[]),
    ]
}

/// Every column set an importer reads with; the task import's first.
pub fn column_sets() -> Vec<Vec<Column>> {
    vec![task_columns(), indicator_columns(), problem_columns(), achievement_columns()]
}

/// The column sets one input is read with: the task import's always (choices, required and
/// date columns), and one of the others picked by the input's length, so each input is read
/// twice rather than four times and every set still gets its share.
pub fn sets_for(sets: &[Vec<Column>], data: &[u8]) -> [usize; 2] {
    [0, 1 + data.len() % (sets.len() - 1)]
}

/// Keys of the columns the importers then read as dates (`parse_date`), with deadlines that
/// must also be working days.
const DATE_KEYS: [&str; 6] = ["source_date", "deadline", "period_start", "period_end", "as_of", "wanted_by"];

/// The properties of one `read_rows` result. Panics (so the fuzzer reports a crash) when one
/// does not hold.
pub fn check_import(cols: &[Column], result: &Result<(Vec<RawRow>, Vec<RowError>), ImportErrors>, cal: &WorkCalendar) {
    let known = |c: &Option<String>| c.as_ref().is_none_or(|h| cols.iter().any(|k| &k.header == h));
    match result {
        Err(e) => {
            assert!(!e.0.is_empty(), "a refused file says why");
            for re in &e.0 {
                assert!(!re.message.trim().is_empty(), "an empty message: {re:?}");
                assert!(known(&re.column), "an error names a column that was not asked for: {re:?}");
            }
            assert!(!e.to_string().is_empty());
        }
        Ok((rows, errors)) => {
            let mut last = 0;
            for r in rows {
                assert!(r.row > last, "rows out of order or numbered 0: {} after {last}", r.row);
                last = r.row;
                assert_eq!(r.values.len(), cols.len(), "one value per column");
                for (c, v) in cols.iter().zip(&r.values) {
                    assert_eq!(r.get(&c.key), v.as_str());
                    assert_eq!(v.trim(), v.as_str(), "row {} 「{}」: value not trimmed: {v:?}", r.row, c.header);
                    let flagged = errors.iter().any(|e| e.row == r.row && e.column.as_deref() == Some(c.header.as_str()));
                    if v.is_empty() {
                        assert!(!c.required || flagged, "row {} 「{}」: a required column is empty and not reported", r.row, c.header);
                    } else if !c.choices.is_empty() && !c.choices.contains(v) {
                        assert!(flagged, "row {} 「{}」: {v:?} is not a choice and not reported", r.row, c.header);
                    }
                    // What the importers do next with a date column.
                    if DATE_KEYS.contains(&c.key.as_str()) && !v.is_empty() {
                        check_date(&c.header, v, cal);
                    }
                }
            }
            let mut prev = 0;
            for e in errors {
                assert!(e.row >= prev, "errors not sorted by row");
                prev = e.row;
                assert!(rows.iter().any(|r| r.row == e.row), "an error for row {} that was not returned: {e:?}", e.row);
                assert!(e.column.is_some(), "a cell error names its column: {e:?}");
                assert!(known(&e.column), "an error names a column that was not asked for: {e:?}");
                assert!(!e.message.trim().is_empty());
            }
            let _ = ImportErrors(errors.clone()).to_string();
        }
    }
}

/// `parse_date` on any text: an error names the field; a date prints back as itself and can be
/// asked whether it is a working day.
pub fn check_date(field: &str, s: &str, cal: &WorkCalendar) -> Option<chrono::NaiveDate> {
    match parse_date(field, s) {
        Ok(d) => {
            let text = d.format("%Y-%m-%d").to_string();
            assert_eq!(parse_date(field, &text).ok(), Some(d), "{s:?} → {d} does not read back from {text:?}");
            let _ = cal.is_working_day(d);
            let _ = cal.day_kind(d).label_zh();
            Some(d)
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains(field), "the error does not name the field: {msg}");
            None
        }
    }
}
