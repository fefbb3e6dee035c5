//! Field validators. Every error names the field in Chinese so a clerk knows what to fix.

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use xietong_calendar::WorkCalendar;

use crate::text;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("字段「{field}」{message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.to_string(), message: message.into() }
    }
}

/// A required single-line text (name, title, code): cleaned by [`text::single_line`], non-empty,
/// at most `max` characters.
pub fn required_text(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    bounded(field, text::single_line(field, value)?, max)
}

/// Optional single-line text: empty (after cleaning) becomes `None`.
pub fn optional_text(field: &str, value: &str, max: usize) -> Result<Option<String>, FieldError> {
    optional(field, text::single_line(field, value)?, max)
}

/// A required multi-line text (description, comment, minutes): cleaned by [`text::multi_line`],
/// non-empty, at most `max` characters.
pub fn required_multiline(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    bounded(field, text::multi_line(field, value)?, max)
}

/// Optional multi-line text: empty (after cleaning) becomes `None`.
pub fn optional_multiline(field: &str, value: &str, max: usize) -> Result<Option<String>, FieldError> {
    optional(field, text::multi_line(field, value)?, max)
}

fn bounded(field: &str, v: String, max: usize) -> Result<String, FieldError> {
    if v.is_empty() {
        return Err(FieldError::new(field, "不能为空"));
    }
    let n = v.chars().count();
    if n > max {
        return Err(FieldError::new(field, format!("不能超过 {max} 个字（当前 {n} 个）")));
    }
    Ok(v)
}

fn optional(field: &str, v: String, max: usize) -> Result<Option<String>, FieldError> {
    if v.is_empty() { Ok(None) } else { bounded(field, v, max).map(Some) }
}

/// 文号 such as "二七政文〔2026〕15号": one line, at most 64 characters. Uniqueness is decided on
/// [`text::doc_no_key`], so look-alikes are the same 文号.
pub fn doc_no(value: &str) -> Result<String, FieldError> {
    required_text("文号", value, 64)
}

/// A number as typed into a form or a spreadsheet cell: full-width digits and thousands
/// separators allowed, empty is `None`. NaN and infinities, which Rust's parser accepts ("NaN",
/// "inf"), are not numbers anyone reported.
pub fn parse_number(field: &str, value: &str) -> Result<Option<f64>, FieldError> {
    use unicode_normalization::UnicodeNormalization;
    let t: String = value.nfkc().filter(|c| !c.is_whitespace() && *c != ',').collect();
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(Some(x)),
        _ => {
            let shown: String = value.trim().chars().filter(|c| !text::is_refused(*c)).take(40).collect();
            Err(FieldError::new(field, format!("「{shown}」不是有效的数字")))
        }
    }
}

/// [`parse_number`] for a required number.
pub fn required_number(field: &str, value: &str) -> Result<f64, FieldError> {
    parse_number(field, value)?.ok_or_else(|| FieldError::new(field, "不能为空"))
}

/// A number within `min..=max` (finite: NaN and infinities are not figures anyone reported).
pub fn number_in(field: &str, value: f64, min: f64, max: f64) -> Result<f64, FieldError> {
    if value.is_finite() && (min..=max).contains(&value) {
        Ok(value)
    } else if !value.is_finite() {
        Err(FieldError::new(field, "不是有效的数字"))
    } else {
        let show = |x: f64| crate::indicators::fmt_num(x);
        Err(FieldError::new(field, format!("应在 {} 到 {} 之间（当前 {}）", show(min), show(max), show(value))))
    }
}

/// An integer count or score within `min..=max`.
pub fn int_in(field: &str, value: i64, min: i64, max: i64) -> Result<i64, FieldError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(FieldError::new(field, format!("应在 {min} 到 {max} 之间（当前 {value}）")))
    }
}

/// Progress in percent, 0–100.
pub fn progress(field: &str, value: i64) -> Result<i64, FieldError> {
    if (0..=100).contains(&value) {
        Ok(value)
    } else {
        Err(FieldError::new(field, format!("应在 0 到 100 之间（当前 {value}）")))
    }
}

/// A deadline given as a date: it must be a working day, and it is due at the end of that day's office hours.
pub fn deadline_on_working_day(cal: &WorkCalendar, field: &str, date: NaiveDate) -> Result<NaiveDateTime, FieldError> {
    if !cal.is_working_day(date) {
        return Err(FieldError::new(field, format!("{date} 是{}，期限须为工作日", cal.day_kind(date).label_zh())));
    }
    let end = cal.office_hours().segments().last().map(|s| s.1).unwrap_or_default();
    Ok(date.and_time(end))
}

/// A deadline must lie after `after` (e.g. the task's receipt, or the current deadline for an extension).
pub fn deadline_after(
    field: &str,
    deadline: NaiveDateTime,
    after: NaiveDateTime,
    what: &str,
) -> Result<(), FieldError> {
    if deadline > after {
        Ok(())
    } else {
        Err(FieldError::new(field, format!("须晚于{what}（{}）", after.format("%Y-%m-%d %H:%M"))))
    }
}

/// A deadline no more than `years` after `now`: further out is almost always a typo (2062 for 2026).
pub fn deadline_within_years(
    field: &str,
    deadline: NaiveDateTime,
    now: NaiveDateTime,
    years: i64,
) -> Result<(), FieldError> {
    if deadline <= now + chrono::Duration::days(366 * years) {
        Ok(())
    } else {
        Err(FieldError::new(field, format!("不能晚于当前时间 {years} 年以上（{}）", deadline.format("%Y-%m-%d"))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_field() {
        assert_eq!(required_text("任务名称", "  ", 10).unwrap_err().to_string(), "字段「任务名称」不能为空");
        assert!(
            required_text("任务名称", "一二三四五六七八九十十一", 10)
                .unwrap_err()
                .to_string()
                .contains("不能超过 10 个字")
        );
        assert_eq!(progress("进度", 101).unwrap_err().to_string(), "字段「进度」应在 0 到 100 之间（当前 101）");
    }

    #[test]
    fn numbers_are_finite_and_may_be_typed_full_width() {
        assert_eq!(parse_number("完成值", " １２，３４５.５ "), Ok(Some(12345.5)));
        assert_eq!(parse_number("完成值", "18,500"), Ok(Some(18500.0)));
        assert_eq!(parse_number("完成值", "  "), Ok(None));
        for bad in ["NaN", "inf", "-infinity", "1e309", "12a"] {
            let e = parse_number("完成值", bad).unwrap_err();
            assert_eq!(e.to_string(), format!("字段「完成值」「{bad}」不是有效的数字"));
        }
        assert_eq!(required_number("目标值", "").unwrap_err().message, "不能为空");
        assert!(number_in("合同金额", 1e308, 0.0, 1e7).unwrap_err().message.contains("当前 1e308"));
    }

    #[test]
    fn far_deadlines_are_typos() {
        let now = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap().and_hms_opt(10, 0, 0).unwrap();
        let far = NaiveDate::from_ymd_opt(2062, 11, 23).unwrap().and_hms_opt(18, 0, 0).unwrap();
        assert!(deadline_within_years("办理期限", far, now, 5).unwrap_err().to_string().contains("5 年"));
        assert!(deadline_within_years("办理期限", now + chrono::Duration::days(300), now, 5).is_ok());
    }

    #[test]
    fn deadline_on_holiday_is_refused() {
        let cal = WorkCalendar::with_bundled_holidays();
        let e = deadline_on_working_day(&cal, "办理期限", NaiveDate::from_ymd_opt(2026, 10, 3).unwrap()).unwrap_err();
        assert!(e.to_string().starts_with("字段「办理期限」2026-10-03 是"), "{e}");
        assert!(e.to_string().contains("国庆节"), "{e}");
        let ok = deadline_on_working_day(&cal, "办理期限", NaiveDate::from_ymd_opt(2026, 10, 10).unwrap()).unwrap();
        assert_eq!(ok.format("%Y-%m-%d %H:%M").to_string(), "2026-10-10 18:00");
    }
}
