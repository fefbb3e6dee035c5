//! The date and time text users type: `parse_date` (dates in forms and imports),
//! `parse_datetime` (起算时间, 会议时间, datetime-local inputs), `OfficeHours::parse` (办公时间
//! setting), and what the server does next with the values: the working-time arithmetic of
//! `/api/calendar/due` and the working-day checks of deadlines.
//!
//! The input is "datetime|amount|office hours": every parser is run on the whole text and on
//! the first field; the amount is a number of working minutes (an integer, clamped to ten times
//! what the API allows) or of working hours as the API takes them (a decimal, 0–100000).
#![no_main]

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDateTime};
use libfuzzer_sys::fuzz_target;
use xietong_calendar::{OfficeHours, WorkCalendar, parse_datetime};
use xietong_fuzz::check_date;

/// Minutes /api/calendar/due can ask for (100000 working hours), times ten.
const LIMIT: i64 = 10 * 100_000 * 60;

static CAL: LazyLock<WorkCalendar> = LazyLock::new(WorkCalendar::with_bundled_holidays);

fn check_datetime(s: &str) -> Option<NaiveDateTime> {
    match parse_datetime("起算时间", s) {
        Ok(t) => {
            for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
                let text = t.format(f).to_string();
                assert_eq!(parse_datetime("起算时间", &text).ok(), Some(t), "{s:?} → {t} does not read back from {text:?}");
            }
            Some(t)
        }
        Err(e) => {
            assert!(e.to_string().contains("起算时间"), "the error does not name the field: {e}");
            None
        }
    }
}

fn check_office(s: &str) -> Option<OfficeHours> {
    match OfficeHours::parse(s) {
        Ok(o) => {
            assert_eq!(OfficeHours::parse(&o.to_string()).as_ref(), Ok(&o), "{s:?} → {o} does not read back");
            assert!((1..=1439).contains(&o.minutes_per_day()), "{o}: {} minutes a day", o.minutes_per_day());
            assert!(o.segments().windows(2).all(|w| w[0].1 < w[1].0), "{o}: segments overlap");
            Some(o)
        }
        Err(e) => {
            assert!(e.to_string().starts_with("办公时间设置无效："), "{e}");
            None
        }
    }
}

/// Far from the ends of chrono's range, where results saturate instead of being exact.
fn inner(t: NaiveDateTime) -> bool {
    (-262_000..=262_000).contains(&t.year())
}

fn check_arithmetic(cal: &WorkCalendar, t: NaiveDateTime, minutes: i64) {
    let a = cal.add_working_minutes(t, minutes);
    let _ = a.flag_zh();
    let _ = a.value.format("%Y-%m-%d %H:%M").to_string();
    let b = cal.sub_working_minutes(t, minutes);
    let _ = b.flag_zh();
    if minutes != 0 && minutes != i64::MIN {
        assert_eq!(cal.add_working_minutes(t, -minutes), b, "negative minutes do not mirror");
    }
    let exact = inner(t) && inner(a.value) && inner(b.value);
    if !exact {
        return;
    }
    let o = cal.office_hours();
    if minutes > 0 {
        assert!(a.value > t, "{t} + {minutes} min = {} is not later", a.value);
        assert!(cal.is_office_time(a.value), "{t} + {minutes} min = {} is not office time", a.value);
        assert!(o.first_start() <= a.value.time() && a.value.time() <= o.last_end());
        assert_eq!(cal.working_minutes_between(t, a.value).value, minutes, "{t} + {minutes} min = {}", a.value);
        let s = cal.next_office_instant(t).value;
        assert_eq!(cal.sub_working_minutes(a.value, minutes).value, s, "sub does not undo add from {t}");
        assert!(b.value <= t, "{t} - {minutes} min = {} is not earlier", b.value);
        assert!(cal.is_office_time(b.value), "{t} - {minutes} min = {} is not office time", b.value);
        assert_eq!(cal.working_minutes_between(b.value, t).value, minutes, "{t} - {minutes} min = {}", b.value);
    }
    // The same amount as working days, from the date.
    let n = minutes.clamp(-100_000, 100_000);
    let d = t.date();
    let r = cal.add_working_days(d, n).value;
    if inner(r.and_time(t.time())) {
        assert!(cal.is_working_day(r), "{d} + {n} working days = {r}, not a working day");
        if n > 0 {
            assert_eq!(cal.working_days_between(d, r).value, n, "{d} + {n} working days = {r}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let mut fields = s.splitn(3, '|');
    let first = fields.next().unwrap_or("");
    let amount = fields.next();
    let office = fields.next();

    let mut dates = vec![];
    let mut times = vec![];
    for text in [s, first] {
        dates.extend(check_date("日期", text, &CAL));
        times.extend(check_datetime(text));
        check_office(text);
    }

    let custom;
    let cal: &WorkCalendar = match office.and_then(check_office) {
        Some(o) => {
            let mut c = CAL.clone();
            c.set_office_hours(o);
            custom = c;
            &custom
        }
        None => &CAL,
    };
    let amounts: Vec<i64> = match amount.map(str::trim) {
        None => vec![0, 1, 450, 6_000_000],
        Some(a) => match (a.parse::<i64>(), a.parse::<f64>()) {
            // Up to ten times what the API allows either way: enough to run past the ends of
            // chrono's range from a date near them (where results saturate) without every input
            // paying for a provisional-year set spanning half a million years.
            (Ok(m), _) => vec![m.clamp(-LIMIT, LIMIT)],
            // What /api/calendar/due does with 工作小时数.
            (_, Ok(h)) if (0.0..=100_000.0).contains(&h) => vec![(h * 60.0).round() as i64],
            _ => vec![],
        },
    };
    let starts = times.into_iter().chain(dates.into_iter().map(|d| d.and_time(chrono::NaiveTime::MIN)));
    for t in starts {
        let _ = cal.is_office_time(t);
        let _ = cal.next_office_instant(t).flag_zh();
        let _ = cal.prev_office_instant(t).flag_zh();
        let _ = WorkCalendar::end_of_day(t.date());
        for &m in &amounts {
            check_arithmetic(cal, t, m);
        }
    }
});
