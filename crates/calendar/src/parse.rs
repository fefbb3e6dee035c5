use chrono::{NaiveDate, NaiveDateTime, Timelike};

use crate::CalendarError;

/// Most specific first: "%H:%M" would reject a trailing ":SS", so order does not change results,
/// but the common form is tried early.
const DATETIME_FORMATS: [&str; 4] = ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"];

/// Parses a form/API value. Accepts `YYYY-MM-DD HH:MM`, `YYYY-MM-DD HH:MM:SS` and the
/// `T`-separated forms that HTML `datetime-local` inputs send. `field` is the Chinese field
/// name used in the error message.
pub fn parse_datetime(field: &str, s: &str) -> Result<NaiveDateTime, CalendarError> {
    let v = s.trim();
    if v.is_empty() {
        return Err(CalendarError::EmptyField { field: field.to_owned() });
    }
    DATETIME_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(v, f).ok())
        // chrono reads ":60" in any minute as a leap second (second 59 plus a second's worth of
        // nanoseconds), which the working-time arithmetic cannot round-trip; no clock a deadline
        // is kept by shows one, so it is refused like any other impossible time.
        .filter(|t| t.nanosecond() < 1_000_000_000)
        .ok_or_else(|| CalendarError::InvalidDateTime { field: field.to_owned(), value: s.to_owned() })
}

/// Parses `YYYY-MM-DD`; `field` is the Chinese field name used in the error message.
pub fn parse_date(field: &str, s: &str) -> Result<NaiveDate, CalendarError> {
    let v = s.trim();
    if v.is_empty() {
        return Err(CalendarError::EmptyField { field: field.to_owned() });
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| CalendarError::InvalidDate { field: field.to_owned(), value: s.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

    fn at(y: i32, m: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d).unwrap().and_time(NaiveTime::from_hms_opt(h, mi, s).unwrap())
    }

    #[test]
    fn datetime_accepts_all_forms() {
        assert_eq!(parse_datetime("开始时间", "2026-09-30 17:00").unwrap(), at(2026, 9, 30, 17, 0, 0));
        assert_eq!(parse_datetime("开始时间", "2026-09-30 17:00:05").unwrap(), at(2026, 9, 30, 17, 0, 5));
        assert_eq!(parse_datetime("开始时间", "2026-09-30T17:00").unwrap(), at(2026, 9, 30, 17, 0, 0));
        assert_eq!(parse_datetime("开始时间", "2026-09-30T17:00:05").unwrap(), at(2026, 9, 30, 17, 0, 5));
        assert_eq!(parse_datetime("开始时间", "  2026-09-30 17:00 ").unwrap(), at(2026, 9, 30, 17, 0, 0));
    }

    #[test]
    fn datetime_errors_name_the_field() {
        let e = parse_datetime("开始时间", "2026-13-01 09:00").unwrap_err();
        assert_eq!(e.to_string(), "字段「开始时间」的值「2026-13-01 09:00」不是有效的日期时间，应为 YYYY-MM-DD HH:MM");
        assert!(parse_datetime("开始时间", "2026-02-30 09:00").is_err());
        assert!(parse_datetime("开始时间", "2026-01-01").is_err());
        assert!(parse_datetime("开始时间", "2026-01-01 25:00").is_err());
        assert!(parse_datetime("开始时间", "2026-01-01 09:00 extra").is_err());
        assert_eq!(parse_datetime("截止时间", " ").unwrap_err().to_string(), "字段「截止时间」不能为空");
    }

    #[test]
    fn date_parses_and_errors() {
        assert_eq!(parse_date("日期", "2026-06-30").unwrap(), NaiveDate::from_ymd_opt(2026, 6, 30).unwrap());
        assert_eq!(
            parse_date("日期", "2026-06-31").unwrap_err().to_string(),
            "字段「日期」的值「2026-06-31」不是有效的日期，应为 YYYY-MM-DD"
        );
        assert!(parse_date("日期", "2026-06-30 09:00").is_err());
        assert_eq!(parse_date("日期", "").unwrap_err(), CalendarError::EmptyField { field: "日期".into() });
    }
}
