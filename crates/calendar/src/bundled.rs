//! Holiday schedules embedded at compile time (NateScarlet/holiday-cn, MIT; see
//! assets/holiday-cn/README.md), so a fresh install computes correct deadlines without any files.

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use crate::{CalendarError, DayOverride};

/// One entry per published year. A new year: add the file to assets/holiday-cn and a line here.
const FILES: [(i32, &str); 7] = [
    (2020, include_str!("../../../assets/holiday-cn/2020.json")),
    (2021, include_str!("../../../assets/holiday-cn/2021.json")),
    (2022, include_str!("../../../assets/holiday-cn/2022.json")),
    (2023, include_str!("../../../assets/holiday-cn/2023.json")),
    (2024, include_str!("../../../assets/holiday-cn/2024.json")),
    (2025, include_str!("../../../assets/holiday-cn/2025.json")),
    (2026, include_str!("../../../assets/holiday-cn/2026.json")),
];

#[derive(Deserialize)]
struct HolidayFile {
    year: i32,
    days: Vec<HolidayDay>,
}

#[derive(Deserialize)]
struct HolidayDay {
    name: String,
    date: String,
    #[serde(rename = "isOffDay")]
    is_off_day: bool,
}

/// Parses one holiday-cn year file (`{"year", "papers", "days": [{"name", "date", "isOffDay"}]}`)
/// into its year and overrides. All-or-nothing: any bad entry rejects the whole file.
/// Dates may spill into the neighbouring years (2023.json holds 2022-12-31), but no further,
/// which catches a file pasted under the wrong year.
pub fn parse_holiday_cn_json(json: &str) -> Result<(i32, Vec<DayOverride>), CalendarError> {
    let file: HolidayFile = serde_json::from_str(json)
        .map_err(|e| CalendarError::InvalidHolidayData(format!("不是有效的 holiday-cn JSON 文件（{e}）")))?;
    let year = file.year;
    let mut out = Vec::with_capacity(file.days.len());
    for d in file.days {
        let date = NaiveDate::parse_from_str(d.date.trim(), "%Y-%m-%d")
            .map_err(|_| CalendarError::InvalidHolidayData(format!("日期「{}」不是有效的 YYYY-MM-DD 日期", d.date)))?;
        // In i64: `year` is whatever the file says, and i32 arithmetic overflows near its ends.
        if (i64::from(date.year()) - i64::from(year)).abs() > 1 {
            return Err(CalendarError::InvalidHolidayData(format!("日期 {date} 不属于 {year} 年的节假日安排")));
        }
        out.push(DayOverride { date, off: d.is_off_day, name: d.name });
    }
    Ok((year, out))
}

/// Parsed once per process: `with_bundled_holidays` may be called per request.
pub(crate) fn bundled() -> &'static [(i32, Vec<DayOverride>)] {
    static PARSED: OnceLock<Vec<(i32, Vec<DayOverride>)>> = OnceLock::new();
    PARSED.get_or_init(|| {
        FILES
            .iter()
            .map(|&(_, json)| parse_holiday_cn_json(json).expect("bundled holiday data is valid (checked by tests)"))
            .collect()
    })
}

pub(crate) fn bundled_years() -> Vec<i32> {
    FILES.iter().map(|&(y, _)| y).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_file_parses_and_matches_its_slot() {
        for &(year, json) in &FILES {
            let (y, days) = parse_holiday_cn_json(json).unwrap();
            assert_eq!(y, year);
            assert!(days.len() >= 20, "{year} has {} entries", days.len());
        }
        assert_eq!(bundled().len(), FILES.len());
    }

    #[test]
    fn parse_known_entries() {
        let (y, days) = parse_holiday_cn_json(FILES[6].1).unwrap();
        assert_eq!(y, 2026);
        let d = NaiveDate::from_ymd_opt(2026, 10, 10).unwrap();
        assert_eq!(
            days.iter().find(|o| o.date == d).unwrap(),
            &DayOverride { date: d, off: false, name: "国庆节".into() }
        );
        // 2023.json reaches back into 2022.
        let (_, d23) = parse_holiday_cn_json(FILES[3].1).unwrap();
        assert!(d23.iter().any(|o| o.date == NaiveDate::from_ymd_opt(2022, 12, 31).unwrap() && o.off));
    }

    #[test]
    fn parse_rejects_bad_files() {
        let e = |j: &str| parse_holiday_cn_json(j).unwrap_err().to_string();
        assert!(e("not json").starts_with("节假日数据无效：不是有效的 holiday-cn JSON 文件"));
        assert!(e(r#"{"year": 2027}"#).contains("不是有效的 holiday-cn JSON"));
        assert_eq!(
            e(r#"{"year": 2027, "days": [{"name": "元旦", "date": "2027-02-30", "isOffDay": true}]}"#),
            "节假日数据无效：日期「2027-02-30」不是有效的 YYYY-MM-DD 日期"
        );
        assert_eq!(
            e(r#"{"year": 2027, "days": [{"name": "元旦", "date": "2029-01-01", "isOffDay": true}]}"#),
            "节假日数据无效：日期 2029-01-01 不属于 2027 年的节假日安排"
        );
        // Papers are optional; an empty schedule is a valid "no exceptions" year.
        assert_eq!(parse_holiday_cn_json(r#"{"year": 2027, "days": []}"#).unwrap(), (2027, vec![]));
    }
}
