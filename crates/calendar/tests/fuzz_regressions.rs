//! Inputs the fuzz targets (fuzz/, scripts/fuzz.sh) found breaking a property, kept as tests
//! once fixed.

use xietong_calendar::{WorkCalendar, parse_datetime, parse_holiday_cn_json};

/// fuzz target `datetime`, inputs "2027-12-21 13:59:60" and "2026-12-31 13:29:60": chrono reads
/// ":60" in any minute as a leap second, which shares its working-clock reading with the next
/// minute, so `sub_working_minutes(add_working_minutes(t, n), n)` came back as 14:00:00 instead
/// of 13:59:60. No clock a deadline is kept by shows a 60th second: it is refused.
#[test]
fn a_sixtieth_second_is_refused() {
    for s in ["2027-12-21 13:59:60", "2026-12-31 13:29:60", "2026-06-30T23:59:60", " 2026-12-31 23:59:60 "] {
        let e = parse_datetime("起算时间", s).unwrap_err();
        assert_eq!(e.to_string(), format!("字段「起算时间」的值「{s}」不是有效的日期时间，应为 YYYY-MM-DD HH:MM"));
    }
    // The second before still parses, and the property that failed holds for it.
    let cal = WorkCalendar::with_bundled_holidays();
    let t = parse_datetime("起算时间", "2027-12-21 13:59:59").unwrap();
    let start = cal.next_office_instant(t).value;
    for n in [1, 450, 6_000_000] {
        let due = cal.add_working_minutes(t, n).value;
        assert_eq!(cal.sub_working_minutes(due, n).value, start, "{n} minutes");
        assert_eq!(cal.working_minutes_between(t, due).value, n);
    }
}

/// Not found by the fuzzer: seen while writing the `holiday_json` target (`date.year() - year`
/// in i32 with the year taken from the file) and confirmed by running this input through it
/// ("attempt to subtract with overflow" in `parse_holiday_cn_json`); two runs of 150–180 s did
/// not reach a year that far out by themselves. Such a file is refused like any other year
/// mismatch.
#[test]
fn a_year_at_the_ends_of_i32_is_refused() {
    for (year, date) in
        [(i32::MIN, "2026-01-01"), (-2_147_481_622, "2026-01-01"), (i32::MAX, "-1000-01-01"), (i32::MAX, "2026-01-01")]
    {
        let json = format!(r#"{{"year": {year}, "days": [{{"name": "元旦", "date": "{date}", "isOffDay": true}}]}}"#);
        let e = parse_holiday_cn_json(&json).unwrap_err().to_string();
        assert!(e.starts_with("节假日数据无效：日期 ") && e.ends_with(&format!("不属于 {year} 年的节假日安排")), "{e}");
    }
}
