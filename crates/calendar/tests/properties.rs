//! Property tests for the working-time arithmetic, against random office hours and random admin
//! overrides on top of the bundled holidays, plus a minute-by-minute reference implementation.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};
use proptest::prelude::*;
use xietong_calendar::{DayOverride, OfficeHours, WorkCalendar};

fn base_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2019, 6, 1).unwrap()
}

/// 1–3 segments from strictly increasing minute marks (so ordered and non-touching), or the default.
fn arb_office() -> impl Strategy<Value = OfficeHours> {
    let random = proptest::collection::btree_set(0u32..1440, 2..=6).prop_map(|marks| {
        let m: Vec<u32> = marks.into_iter().collect();
        let t = |x: u32| NaiveTime::from_hms_opt(x / 60, x % 60, 0).unwrap();
        let segs = m.chunks_exact(2).map(|c| (t(c[0]), t(c[1]))).collect();
        OfficeHours::new(segs).unwrap()
    });
    prop_oneof![2 => Just(OfficeHours::default()), 1 => random]
}

/// Runs of admin overrides (up to a month long, so multi-week closures happen) over 2019–2028.
fn arb_overrides() -> impl Strategy<Value = Vec<DayOverride>> {
    proptest::collection::vec((0u64..3650, 1u64..30, any::<bool>()), 0..12).prop_map(|runs| {
        let mut out = Vec::new();
        for (offset, len, off) in runs {
            for i in 0..len {
                let date = base_date() + chrono::Days::new(offset + i);
                out.push(DayOverride { date, off, name: "管理员调整".into() });
            }
        }
        out
    })
}

fn arb_calendar() -> impl Strategy<Value = WorkCalendar> {
    (arb_office(), arb_overrides()).prop_map(|(office, overrides)| {
        let mut cal = WorkCalendar::with_bundled_holidays();
        cal.set_office_hours(office);
        for o in overrides {
            cal.set_override(o);
        }
        cal
    })
}

/// Minute-resolution instants in mid-2019 … mid-2028.
fn arb_minute() -> impl Strategy<Value = NaiveDateTime> {
    (0i64..9 * 366 * 1440).prop_map(|m| base_date().and_hms_opt(0, 0, 0).unwrap() + Duration::minutes(m))
}

/// Like `arb_minute`, sometimes with seconds and nanoseconds.
fn arb_instant() -> impl Strategy<Value = NaiveDateTime> {
    (arb_minute(), prop_oneof![3 => Just(0i64), 1 => 0i64..60_000_000_000])
        .prop_map(|(t, ns)| t + Duration::nanoseconds(ns))
}

fn arb_date() -> impl Strategy<Value = NaiveDate> {
    (0u64..9 * 366).prop_map(|d| base_date() + chrono::Days::new(d))
}

// ---- minute-by-minute reference implementation (minute-aligned instants only) ----

/// Is the minute [t, t+1) office time?
fn office_minute(cal: &WorkCalendar, t: NaiveDateTime) -> bool {
    cal.is_working_day(t.date()) && cal.office_hours().segments().iter().any(|&(s, e)| s <= t.time() && t.time() < e)
}

fn naive_add(cal: &WorkCalendar, start: NaiveDateTime, n: i64) -> NaiveDateTime {
    let mut t = start;
    if n == 0 {
        while !office_minute(cal, t) {
            t += Duration::minutes(1);
        }
        return t;
    }
    let mut left = n;
    loop {
        if office_minute(cal, t) {
            left -= 1;
            if left == 0 {
                return t + Duration::minutes(1);
            }
        }
        t += Duration::minutes(1);
    }
}

fn naive_sub(cal: &WorkCalendar, end: NaiveDateTime, n: i64) -> NaiveDateTime {
    let mut t = end;
    if n == 0 {
        let inside = |t: NaiveDateTime| {
            cal.is_working_day(t.date())
                && cal.office_hours().segments().iter().any(|&(s, e)| s <= t.time() && t.time() <= e)
        };
        while !inside(t) {
            t -= Duration::minutes(1);
        }
        return t;
    }
    let mut left = n;
    loop {
        t -= Duration::minutes(1);
        if office_minute(cal, t) {
            left -= 1;
            if left == 0 {
                return t;
            }
        }
    }
}

fn naive_between(cal: &WorkCalendar, a: NaiveDateTime, b: NaiveDateTime) -> i64 {
    let (lo, hi, sign) = if a <= b { (a, b, 1) } else { (b, a, -1) };
    let mut t = lo;
    let mut n = 0;
    while t < hi {
        n += i64::from(office_minute(cal, t));
        t += Duration::minutes(1);
    }
    sign * n
}

fn naive_days_between(cal: &WorkCalendar, from: NaiveDate, to: NaiveDate) -> i64 {
    let (lo, hi, sign) = if from <= to { (from, to, 1) } else { (to, from, -1) };
    let mut n = 0;
    let mut d = lo;
    while d < hi {
        d = d.succ_opt().unwrap();
        n += i64::from(cal.is_working_day(d));
    }
    sign * n
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// sub undoes add from any canonical start.
    #[test]
    fn sub_inverts_add(cal in arb_calendar(), start in arb_instant(), n in 0i64..=100_000) {
        let s = cal.next_office_instant(start).value;
        let a = cal.add_working_minutes(s, n).value;
        prop_assert_eq!(cal.sub_working_minutes(a, n).value, s);
    }

    /// add lands on office time (a segment end at the latest) on a working day, and the working
    /// minutes between the start and the result are exactly n.
    #[test]
    fn add_lands_in_office_time(cal in arb_calendar(), start in arb_instant(), n in 0i64..=100_000) {
        let s = cal.next_office_instant(start).value;
        let a = cal.add_working_minutes(start, n).value;
        prop_assert_eq!(a, cal.add_working_minutes(s, n).value);
        prop_assert!(cal.is_office_time(a), "{} not office time", a);
        prop_assert!(cal.is_working_day(a.date()));
        let o = cal.office_hours();
        prop_assert!(o.first_start() <= a.time() && a.time() <= o.last_end());
        prop_assert_eq!(cal.working_minutes_between(s, a).value, n);
        prop_assert_eq!(cal.working_minutes_between(start, a).value, n);
        prop_assert_eq!(cal.working_minutes_between(a, s).value, -n);
    }

    /// next_office_instant is a running instant (never a segment end), not before t, and t
    /// itself when the clock is running at t.
    #[test]
    fn next_office_instant_is_running(cal in arb_calendar(), t in arb_instant()) {
        let s = cal.next_office_instant(t).value;
        prop_assert!(s >= t);
        prop_assert!(cal.is_working_day(s.date()));
        let segs = cal.office_hours().segments();
        prop_assert!(segs.iter().any(|&(a, e)| a <= s.time() && s.time() < e));
        let running = cal.is_working_day(t.date()) && segs.iter().any(|&(a, e)| a <= t.time() && t.time() < e);
        prop_assert_eq!(running, s == t);
        prop_assert_eq!(cal.working_minutes_between(t, s).value, 0);
    }

    /// sub lands on office time at or after a segment start on a working day, n minutes back.
    #[test]
    fn sub_lands_in_office_time(cal in arb_calendar(), end in arb_instant(), n in 0i64..=100_000) {
        let r = cal.sub_working_minutes(end, n).value;
        prop_assert!(r <= end);
        prop_assert!(cal.is_office_time(r));
        prop_assert_eq!(cal.working_minutes_between(r, end).value, n);
        if n > 0 {
            // Never a segment end: walking back stops at starts, not ends.
            let segs = cal.office_hours().segments();
            prop_assert!(segs.iter().any(|&(a, e)| a <= r.time() && r.time() < e));
        }
    }

    #[test]
    fn add_is_monotonic(cal in arb_calendar(), start in arb_instant(), n in 0i64..=50_000, m in 0i64..=50_000) {
        let a = cal.add_working_minutes(start, n).value;
        let b = cal.add_working_minutes(start, n + m).value;
        prop_assert!(a <= b);
        if m > 0 {
            prop_assert!(a < b);
        }
    }

    #[test]
    fn negative_minutes_mirror(cal in arb_calendar(), t in arb_instant(), n in 1i64..=100_000) {
        prop_assert_eq!(cal.add_working_minutes(t, -n), cal.sub_working_minutes(t, n));
        prop_assert_eq!(cal.sub_working_minutes(t, -n), cal.add_working_minutes(t, n));
    }

    #[test]
    fn minutes_between_is_antisymmetric(cal in arb_calendar(), a in arb_instant(), b in arb_instant()) {
        let ab = cal.working_minutes_between(a, b).value;
        prop_assert_eq!(cal.working_minutes_between(b, a).value, -ab);
    }

    /// Additive on whole minutes (sub-minute remainders are truncated, so not in general).
    #[test]
    fn minutes_between_is_additive(cal in arb_calendar(), a in arb_minute(), b in arb_minute(), c in arb_minute()) {
        let ab = cal.working_minutes_between(a, b).value;
        prop_assert_eq!(ab + cal.working_minutes_between(b, c).value, cal.working_minutes_between(a, c).value);
    }

    #[test]
    fn add_days_gives_working_days(cal in arb_calendar(), d in arb_date(), n in -400i64..=400) {
        let r = cal.add_working_days(d, n).value;
        prop_assert!(cal.is_working_day(r));
        match n {
            0 => {
                prop_assert!(r >= d);
                prop_assert_eq!(cal.working_days_between(d, r).value, i64::from(r != d));
            }
            n if n > 0 => prop_assert_eq!(cal.working_days_between(d, r).value, n),
            n => {
                prop_assert!(r < d);
                if cal.is_working_day(d) {
                    prop_assert_eq!(cal.working_days_between(d, r).value, n);
                } else {
                    prop_assert_eq!(cal.working_days_between(d, r).value, n + 1);
                }
            }
        }
    }

    #[test]
    fn days_between_matches_reference(cal in arb_calendar(), a in arb_date(), span in -120i64..=120) {
        let b = a + Duration::days(span);
        let v = cal.working_days_between(a, b).value;
        prop_assert_eq!(v, naive_days_between(&cal, a, b));
        prop_assert_eq!(cal.working_days_between(b, a).value, -v);
    }

    /// With bundled data only, exactly the touched years outside 2020–2026 are provisional.
    #[test]
    fn provisional_years_are_the_unpublished_ones_touched(start in arb_instant(), n in -100_000i64..=100_000) {
        let cal = WorkCalendar::with_bundled_holidays();
        let r = cal.add_working_minutes(start, n);
        let (lo, hi) = if r.value >= start { (start.year(), r.value.year()) } else { (r.value.year(), start.year()) };
        let expected: BTreeSet<i32> = (lo..=hi).filter(|y| !(2020..=2026).contains(y)).collect();
        prop_assert_eq!(r.provisional_years, expected);
    }
}

proptest! {
    // The reference walks minute by minute, so spans are kept small.
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn add_matches_reference(cal in arb_calendar(), start in arb_minute(), n in 0i64..=1_500) {
        // Tiny random office days would make the minute-by-minute reference walk for years.
        let n = n.min(3 * cal.office_hours().minutes_per_day());
        prop_assert_eq!(cal.add_working_minutes(start, n).value, naive_add(&cal, start, n));
    }

    #[test]
    fn sub_matches_reference(cal in arb_calendar(), end in arb_minute(), n in 0i64..=1_500) {
        // Tiny random office days would make the minute-by-minute reference walk for years.
        let n = n.min(3 * cal.office_hours().minutes_per_day());
        prop_assert_eq!(cal.sub_working_minutes(end, n).value, naive_sub(&cal, end, n));
    }

    #[test]
    fn between_matches_reference(cal in arb_calendar(), a in arb_minute(), span in -8_000i64..=8_000) {
        let b = a + Duration::minutes(span);
        prop_assert_eq!(cal.working_minutes_between(a, b).value, naive_between(&cal, a, b));
    }
}
