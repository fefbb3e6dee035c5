//! A holiday-cn year file (`parse_holiday_cn_json`, `WorkCalendar::load_holiday_cn_json`): the
//! bundled files today, an administrator's upload when a new year's schedule is published.
#![no_main]

use chrono::Datelike;
use libfuzzer_sys::fuzz_target;
use xietong_calendar::{OfficeHours, WorkCalendar, parse_holiday_cn_json};

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else { return };
    match parse_holiday_cn_json(json) {
        Ok((year, days)) => {
            for d in &days {
                assert!((i64::from(d.date.year()) - i64::from(year)).abs() <= 1, "{} accepted for {year}", d.date);
            }
            let mut cal = WorkCalendar::new(OfficeHours::default());
            assert_eq!(cal.load_holiday_cn_json(json).ok(), Some(year));
            assert!(cal.is_year_published(year));
            if let (Some(first), Some(last)) = (days.first(), days.last()) {
                let _ = cal.working_days_between(first.date, last.date).flag_zh();
            }
            for d in &days {
                let _ = cal.day_kind(d.date).label_zh();
                // The last entry for a date wins.
                let last = days.iter().rev().find(|o| o.date == d.date).map(|o| o.off);
                assert_eq!(Some(!cal.is_working_day(d.date)), last, "{}", d.date);
            }
        }
        Err(e) => assert!(e.to_string().starts_with("节假日数据无效："), "{e}"),
    }
});
