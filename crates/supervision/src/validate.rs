//! Field validators. Every error names the field in Chinese so a clerk knows what to fix.

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use xietong_calendar::WorkCalendar;

use crate::lifecycle::{ReportCycle, SourceKind};
use crate::text;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema, thiserror::Error)]
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

/// Every field's error at once (a form answered one error at a time is filled in four times).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct FieldErrors(pub Vec<FieldError>);

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let all: Vec<String> = self.0.iter().map(|e| e.to_string()).collect();
        f.write_str(&all.join("；"))
    }
}

/// Collects the errors of a form's fields, one per field (the first found), so a validator can
/// go on checking the rest after one is wrong.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checks(Vec<FieldError>);

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    /// Start from errors found elsewhere (a choice the form could not read).
    pub fn with(errors: Vec<FieldError>) -> Self {
        let mut c = Self::new();
        for e in errors {
            c.add(e);
        }
        c
    }

    /// The value, or `None` once its error is recorded.
    pub fn take<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(e);
                None
            }
        }
    }

    /// Record an error unless its field already has one.
    pub fn add(&mut self, e: FieldError) {
        if !self.has(&e.field) {
            self.0.push(e);
        }
    }

    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.add(FieldError::new(field, message));
    }

    /// Whether `field` already has an error (a later rule about it would only repeat it).
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn errors(&self) -> &[FieldError] {
        &self.0
    }

    /// `Ok` when every field passed.
    pub fn finish(self) -> Result<(), FieldErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(FieldErrors(self.0)) }
    }

    /// `value` when every field passed (it is only built then, from the values taken).
    pub fn done<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, FieldErrors> {
        self.finish()?;
        value().ok_or_else(|| FieldErrors(vec![FieldError::new("表单", "内容不完整")]))
    }
}

/// A date typed as YYYY-MM-DD (the calendar's parser, its message split into field and text).
pub fn date(field: &str, value: &str) -> Result<NaiveDate, FieldError> {
    xietong_calendar::parse_date(field, value).map_err(|e| calendar_field(field, e))
}

/// A date and time ("2026-11-23 09:30", or a browser's "2026-11-23T09:30").
pub fn datetime(field: &str, value: &str) -> Result<NaiveDateTime, FieldError> {
    xietong_calendar::parse_datetime(field, value).map_err(|e| calendar_field(field, e))
}

fn calendar_field(field: &str, e: xietong_calendar::CalendarError) -> FieldError {
    use xietong_calendar::CalendarError as C;
    let shown = |v: &str| v.trim().chars().filter(|c| !text::is_refused(*c)).take(40).collect::<String>();
    match e {
        C::EmptyField { .. } => FieldError::new(field, "不能为空"),
        C::InvalidDate { value, .. } => {
            FieldError::new(field, format!("「{}」不是有效的日期，应为 YYYY-MM-DD", shown(&value)))
        }
        C::InvalidDateTime { value, .. } => {
            FieldError::new(field, format!("「{}」不是有效的日期时间，应为 YYYY-MM-DD HH:MM", shown(&value)))
        }
        other => FieldError::new(field, other.to_string()),
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

/// What a 立项 form or call says, as typed.
#[derive(Clone, Debug, Default)]
pub struct TaskInput<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub source_kind: &'a str,
    pub doc_no: &'a str,
    pub source_title: &'a str,
    pub source_date: &'a str,
    /// Empty: received now.
    pub received_at: &'a str,
    pub report_cycle: &'a str,
    pub deadline: &'a str,
    /// `None` when none was chosen (its error is the caller's, who knows why).
    pub lead_unit_id: Option<i64>,
    pub co_unit_ids: &'a [i64],
}

/// A 立项 whose fields all passed.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskChecked {
    pub title: String,
    pub description: String,
    pub source_kind: SourceKind,
    pub doc_no: String,
    pub source_title: String,
    pub source_date: NaiveDate,
    pub received_at: NaiveDateTime,
    pub report_cycle: ReportCycle,
    pub deadline: NaiveDateTime,
}

/// Check every field of a 立项 at once, recording each error in `c`; the checked task when all passed.
pub fn new_task(cal: &WorkCalendar, now: NaiveDateTime, t: &TaskInput, c: &mut Checks) -> Option<TaskChecked> {
    let title = c.take(required_text("任务名称", t.title, 200));
    let description = c.take(optional_multiline("任务内容", t.description, 5000));
    let source_kind = c.take(
        SourceKind::from_code(t.source_kind.trim())
            .ok_or_else(|| FieldError::new("任务来源", "应为 上级交办、会议 或 领导批示")),
    );
    let doc = c.take(doc_no(t.doc_no));
    let source_title = c.take(optional_text("来源文件/会议名称", t.source_title, 200));
    let report_cycle = c.take(
        ReportCycle::from_code(t.report_cycle.trim())
            .ok_or_else(|| FieldError::new("汇报周期", "应为 每周、每半月、每月 或 按节点")),
    );
    let (source_date, received_at) = source_and_receipt(c, now, t.source_date, t.received_at);
    let deadline = c.take(date("办理期限", t.deadline).and_then(|d| {
        let dl = deadline_on_working_day(cal, "办理期限", d)?;
        match received_at {
            Some(r) => deadline_after("办理期限", dl, r, "收件时间")?,
            None => deadline_after("办理期限", dl, now.date().and_time(chrono::NaiveTime::MIN), "今天")?,
        }
        deadline_within_years("办理期限", dl, now, 5)?;
        Ok(dl)
    }));
    if let Some(lead) = t.lead_unit_id
        && t.co_unit_ids.contains(&lead)
    {
        c.fail("配合单位", "不能包含牵头单位");
    }
    Some(TaskChecked {
        title: title?,
        description: description?.unwrap_or_default(),
        source_kind: source_kind?,
        doc_no: doc?,
        source_title: source_title?.unwrap_or_default(),
        source_date: source_date?,
        received_at: received_at?,
        report_cycle: report_cycle?,
        deadline: deadline?,
    })
}

/// 来源日期 ≤ 收件时间 ≤ now: a document is received after it is dated, and not in the future.
/// An empty 收件时间 is now; each wrong one is refused naming its field.
pub fn source_and_receipt(
    c: &mut Checks,
    now: NaiveDateTime,
    source_date: &str,
    received_at: &str,
) -> (Option<NaiveDate>, Option<NaiveDateTime>) {
    let source = c.take(date("来源日期", source_date));
    let received = if received_at.trim().is_empty() { Ok(now) } else { datetime("收件时间", received_at) };
    let received = c.take(received.and_then(|r| {
        if r > now {
            Err(FieldError::new("收件时间", format!("不能晚于当前时间（{}）", now.format("%Y-%m-%d %H:%M"))))
        } else if r < now - chrono::Duration::days(366 * 5) {
            Err(FieldError::new("收件时间", "不能早于当前时间 5 年以上"))
        } else {
            Ok(r)
        }
    }));
    let source = source.and_then(|d| {
        let latest = received.map(|r| r.date()).unwrap_or(now.date());
        if d > latest {
            let what = if received.is_some() { "收件时间" } else { "今天" };
            c.fail("来源日期", format!("不能晚于{what}（{latest}）"));
            None
        } else {
            Some(d)
        }
    });
    (source, received)
}

/// A progress report (task or sub-task): 0–100, and lower than the last report only with a
/// 说明 saying why — a figure that goes back without a word is a typo or a problem nobody raised.
/// `field` names the figure (进度, 标段进度). Returns the progress and the cleaned 说明 (if any).
pub fn progress_report(field: &str, last: i64, new: i64, reason: &str) -> Result<(i64, Option<String>), FieldError> {
    let p = progress(field, new)?;
    let reason = optional_multiline("说明", reason, 1000)?;
    if p < last && reason.is_none() {
        return Err(FieldError::new("说明", format!("进度由上次汇报的 {last}% 调低至 {p}%，须说明原因")));
    }
    Ok((p, reason))
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

    #[test]
    fn a_task_form_reports_every_wrong_field_at_once() {
        let cal = WorkCalendar::with_bundled_holidays();
        let now = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap().and_hms_opt(10, 0, 0).unwrap();
        let t = TaskInput {
            title: " ",
            source_kind: "x",
            doc_no: "",
            source_date: "2026-11-24",
            received_at: "2026-11-23 11:00",
            report_cycle: "weekly",
            deadline: "2026-10-03",
            lead_unit_id: Some(3),
            co_unit_ids: &[3],
            ..TaskInput::default()
        };
        let mut c = Checks::new();
        assert!(new_task(&cal, now, &t, &mut c).is_none());
        let fields: Vec<&str> = c.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["任务名称", "任务来源", "文号", "收件时间", "来源日期", "办理期限", "配合单位"]);
        assert!(c.errors()[4].message.contains("今天"), "{:?}", c.errors()[4]);
        // Fixed, the same form passes; an empty 收件时间 is now.
        let ok = TaskInput {
            title: "道路整治",
            source_kind: "meeting",
            doc_no: "二七政文〔2026〕1号",
            source_date: "2026-11-23",
            received_at: "",
            deadline: "2026-12-18",
            co_unit_ids: &[4],
            ..t
        };
        let mut c = Checks::new();
        let v = new_task(&cal, now, &ok, &mut c).unwrap();
        assert!(c.is_empty());
        assert_eq!((v.received_at, v.source_kind), (now, SourceKind::Meeting));
        // 来源日期 after a given 收件时间 names 收件时间's date.
        let mut c = Checks::new();
        source_and_receipt(&mut c, now, "2026-11-20", "2026-11-19 09:00");
        assert_eq!(c.errors(), [FieldError::new("来源日期", "不能晚于收件时间（2026-11-19）")]);
        assert_eq!(FieldErrors(c.errors().to_vec()).to_string(), "字段「来源日期」不能晚于收件时间（2026-11-19）");
    }

    #[test]
    fn lower_progress_needs_a_reason() {
        assert_eq!(progress_report("进度", 76, 80, ""), Ok((80, None)));
        let e = progress_report("进度", 76, 40, "  ").unwrap_err();
        assert_eq!(e.to_string(), "字段「说明」进度由上次汇报的 76% 调低至 40%，须说明原因");
        assert_eq!(progress_report("进度", 76, 40, "口径调整"), Ok((40, Some("口径调整".into()))));
        assert_eq!(progress_report("进度", 0, 101, "").unwrap_err().field, "进度");
    }

    proptest::proptest! {
        /// A report is taken exactly when it is in range and, if lower than the last, says why;
        /// a lower one that is taken always carries its 说明.
        #[test]
        fn progress_goes_back_only_with_a_reason(last in 0i64..=100, new in -5i64..=105, reason in "[ 说明a]{0,3}") {
            let r = progress_report("进度", last, new, &reason);
            let in_range = (0..=100).contains(&new);
            let said = !reason.trim().is_empty();
            proptest::prop_assert_eq!(r.is_ok(), in_range && (new >= last || said));
            if let Ok((p, why)) = r {
                proptest::prop_assert_eq!(p, new);
                if p < last {
                    proptest::prop_assert!(why.is_some());
                }
            } else if let Err(e) = r {
                let want = if in_range { "说明" } else { "进度" };
                proptest::prop_assert_eq!(e.field, want);
            }
        }
    }
}
