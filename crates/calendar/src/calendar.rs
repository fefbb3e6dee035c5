//! Working-day rules and working-time arithmetic.
//!
//! Model: a global "working clock" that runs only inside office-hour segments on working days.
//! Every instant maps to a clock reading (working time elapsed since some origin); adding N
//! working minutes means finding an instant whose reading is N further on. Because the clock
//! stands still outside office time, many instants share a reading; the functions pick:
//! - `add`: the *earliest* such instant, so 09:00 + 180 min = 12:00, not 13:30;
//! - `sub`: the *latest* such instant, so 14:30 − 60 min = 13:30, not 12:00.
//!
//! Speed: days are never walked one by one. Between two admin/holiday overrides the plain
//! Mon–Fri rule holds, and weekday counting under that rule is closed-form arithmetic, so a
//! computation costs O(log n + overrides it passes over), independent of the span length.
//!
//! Termination and range: the walks only iterate over the (finite) override map, so they always
//! terminate, however many consecutive days an admin marks off; the result is then simply far
//! away. Results beyond chrono's date range (only reachable with absurd inputs such as
//! `i64::MAX` minutes) saturate at `NaiveDate::MAX` last segment end / `NaiveDate::MIN` first
//! segment start instead of panicking.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::office::{NS_PER_SEC, time_ns};
use crate::{CalendarError, Computed, OfficeHours, bundled};

const NS_PER_MIN: i128 = 60 * NS_PER_SEC as i128;

/// More days than chrono can represent (~191M): a walk needing more saturates without
/// computing, which also keeps all day-number arithmetic far inside i64.
const MAX_DAY_INDEX: i128 = 1 << 29;

/// An exception to the Mon–Fri rule: a statutory holiday (`off`), a 调休 working weekend day
/// (`!off`), or an admin edit.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DayOverride {
    pub date: NaiveDate,
    pub off: bool,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum DayKind {
    Workday,
    Weekend,
    /// A day off by override (statutory holiday or admin), with its name.
    Holiday(String),
    /// A Saturday/Sunday that is a working day by override (调休上班).
    MakeupWorkday(String),
}

impl DayKind {
    pub fn is_working(&self) -> bool {
        matches!(self, DayKind::Workday | DayKind::MakeupWorkday(_))
    }

    /// 工作日 / 周末 / 节假日（国庆节） / 调休上班（国庆节）; the parenthesis is omitted for an unnamed override.
    pub fn label_zh(&self) -> String {
        fn named(base: &str, name: &str) -> String {
            if name.trim().is_empty() { base.to_owned() } else { format!("{base}（{name}）") }
        }
        match self {
            DayKind::Workday => "工作日".to_owned(),
            DayKind::Weekend => "周末".to_owned(),
            DayKind::Holiday(n) => named("节假日", n),
            DayKind::MakeupWorkday(n) => named("调休上班", n),
        }
    }
}

/// Working days, office hours and working-time arithmetic.
///
/// A year is *published* when its official schedule has been loaded (bundled data, an imported
/// holiday-cn file, or `mark_year_published`). Unpublished years use plain weekends plus any
/// overrides an admin entered, and every result touching them is flagged provisional.
#[derive(Clone, Debug)]
pub struct WorkCalendar {
    office: OfficeHours,
    overrides: BTreeMap<NaiveDate, DayOverride>,
    /// Day number → working?, only where an override contradicts the plain Mon–Fri rule; the
    /// arithmetic needs nothing else (a holiday on a Sunday changes the label, not the clock).
    flips: BTreeMap<i64, bool>,
    published: BTreeSet<i32>,
}

impl WorkCalendar {
    /// No holiday data and no published years: plain weekends, everything provisional.
    pub fn new(office: OfficeHours) -> Self {
        Self { office, overrides: BTreeMap::new(), flips: BTreeMap::new(), published: BTreeSet::new() }
    }

    /// Default office hours plus the embedded 2020–2026 schedules (years published).
    pub fn with_bundled_holidays() -> Self {
        let mut cal = Self::new(OfficeHours::default());
        for (year, days) in bundled::bundled() {
            for o in days {
                cal.set_override(o.clone());
            }
            cal.mark_year_published(*year);
        }
        cal
    }

    /// Imports one holiday-cn year file and marks its year published; returns the year.
    /// Listed dates replace existing overrides for those dates; other overrides are kept.
    /// On error nothing is changed.
    pub fn load_holiday_cn_json(&mut self, json: &str) -> Result<i32, CalendarError> {
        let (year, days) = crate::parse_holiday_cn_json(json)?;
        for o in days {
            self.set_override(o);
        }
        self.mark_year_published(year);
        Ok(year)
    }

    /// Every override in the embedded files, sorted by date (for seeding a database).
    pub fn bundled_overrides() -> Vec<DayOverride> {
        let mut all: Vec<DayOverride> = bundled::bundled().iter().flat_map(|(_, d)| d.iter().cloned()).collect();
        all.sort_by_key(|o| o.date);
        all
    }

    /// Years with an embedded schedule.
    pub fn bundled_years() -> Vec<i32> {
        bundled::bundled_years()
    }

    /// Adds or replaces the override for `o.date`. Does not mark the year published: an admin
    /// fixing one day does not make a whole year's schedule official.
    pub fn set_override(&mut self, o: DayOverride) {
        let n = day_num(o.date);
        let working = !o.off;
        if working == plain_working(n) {
            self.flips.remove(&n);
        } else {
            self.flips.insert(n, working);
        }
        self.overrides.insert(o.date, o);
    }

    /// Removes the override for `date`, returning it if there was one.
    pub fn remove_override(&mut self, date: NaiveDate) -> Option<DayOverride> {
        self.flips.remove(&day_num(date));
        self.overrides.remove(&date)
    }

    pub fn mark_year_published(&mut self, year: i32) {
        self.published.insert(year);
    }

    /// Undoes `mark_year_published` (e.g. an imported schedule turned out wrong); overrides stay.
    pub fn unmark_year_published(&mut self, year: i32) {
        self.published.remove(&year);
    }

    pub fn published_years(&self) -> &BTreeSet<i32> {
        &self.published
    }

    pub fn is_year_published(&self, year: i32) -> bool {
        self.published.contains(&year)
    }

    /// All overrides, in date order.
    pub fn overrides(&self) -> impl Iterator<Item = &DayOverride> {
        self.overrides.values()
    }

    pub fn override_for(&self, date: NaiveDate) -> Option<&DayOverride> {
        self.overrides.get(&date)
    }

    pub fn office_hours(&self) -> &OfficeHours {
        &self.office
    }

    pub fn set_office_hours(&mut self, office: OfficeHours) {
        self.office = office;
    }

    /// A weekday override with `off: false` is just a `Workday` (e.g. 2020-02-03 in holiday-cn,
    /// a Monday listed as "not off"): calling it 调休上班 would be wrong.
    pub fn day_kind(&self, d: NaiveDate) -> DayKind {
        let plain = plain_working(day_num(d));
        match self.overrides.get(&d) {
            Some(o) if o.off => DayKind::Holiday(o.name.clone()),
            Some(o) if !plain => DayKind::MakeupWorkday(o.name.clone()),
            _ if plain => DayKind::Workday,
            _ => DayKind::Weekend,
        }
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        self.working(day_num(d))
    }

    /// On a working day and inside a segment, ends included (`[start, end]`).
    pub fn is_office_time(&self, t: NaiveDateTime) -> bool {
        let (d, p) = split(t);
        self.working(d) && self.office.spans().any(|(s, e)| s <= p && p <= e)
    }

    /// The first instant at or after `t` at which the working clock runs: `t` itself when
    /// `start <= t < end` of a segment on a working day, else the next segment start on a
    /// working day. Never returns a segment end.
    pub fn next_office_instant(&self, t: NaiveDateTime) -> Computed<NaiveDateTime> {
        let mut years = BTreeSet::new();
        let (d, p) = split(t);
        self.note(&mut years, d, d);
        if self.working(d) {
            for (s, e) in self.office.spans() {
                if p < s {
                    return Computed { value: self.instant(d, s), provisional_years: years };
                }
                if p < e {
                    return Computed { value: t, provisional_years: years };
                }
            }
        }
        let next = self.nth_forward(d + 1, 0);
        self.note(&mut years, d, next);
        Computed { value: self.instant(next, time_ns(self.office.first_start())), provisional_years: years }
    }

    /// The mirror of `next_office_instant`: `t` itself when it is office time (segment ends
    /// included), else the previous segment end on a working day. This is where
    /// `sub_working_minutes` starts walking.
    pub fn prev_office_instant(&self, t: NaiveDateTime) -> Computed<NaiveDateTime> {
        let mut years = BTreeSet::new();
        let (d, p) = split(t);
        self.note(&mut years, d, d);
        if self.working(d) {
            if self.office.spans().any(|(s, e)| s <= p && p <= e) {
                return Computed { value: t, provisional_years: years };
            }
            let before = self.office.office_before(p);
            if before > 0 {
                return Computed { value: self.instant(d, self.office.earliest_pos(before)), provisional_years: years };
            }
        }
        let prev = self.nth_backward(d - 1, 0);
        self.note(&mut years, prev, d);
        Computed { value: self.instant(prev, time_ns(self.office.last_end())), provisional_years: years }
    }

    /// `start` plus `minutes` of office time. The clock starts at `next_office_instant(start)`;
    /// when the minutes run out exactly at a segment end, the result is that segment end.
    /// `minutes == 0` gives `next_office_instant(start)`; negative minutes subtract.
    pub fn add_working_minutes(&self, start: NaiveDateTime, minutes: i64) -> Computed<NaiveDateTime> {
        match minutes.cmp(&0) {
            Ordering::Greater => self.walk_forward(start, i128::from(minutes) * NS_PER_MIN),
            Ordering::Equal => self.next_office_instant(start),
            Ordering::Less => self.walk_backward(start, -i128::from(minutes) * NS_PER_MIN),
        }
    }

    /// `end` minus `minutes` of office time, walking backward from `prev_office_instant(end)`;
    /// when the minutes run out exactly at a segment start, the result is that segment start.
    /// `minutes == 0` gives `prev_office_instant(end)`; negative minutes add.
    pub fn sub_working_minutes(&self, end: NaiveDateTime, minutes: i64) -> Computed<NaiveDateTime> {
        match minutes.cmp(&0) {
            Ordering::Greater => self.walk_backward(end, i128::from(minutes) * NS_PER_MIN),
            Ordering::Equal => self.prev_office_instant(end),
            Ordering::Less => self.walk_forward(end, -i128::from(minutes) * NS_PER_MIN),
        }
    }

    /// Office minutes from `from` to `to`; negative if `to < from`. Sub-minute remainders are
    /// truncated toward zero.
    pub fn working_minutes_between(&self, from: NaiveDateTime, to: NaiveDateTime) -> Computed<i64> {
        let mut years = BTreeSet::new();
        let (a, pa) = split(from);
        let (b, pb) = split(to);
        self.note(&mut years, a, b);
        let days = if a <= b { self.count_working(a, b) } else { -self.count_working(b, a) };
        let ns = i128::from(days) * i128::from(self.office.ns_per_day()) + i128::from(self.pos_part(b, pb))
            - i128::from(self.pos_part(a, pa));
        let minutes = i64::try_from(ns / NS_PER_MIN).unwrap_or(if ns > 0 { i64::MAX } else { i64::MIN });
        Computed { value: minutes, provisional_years: years }
    }

    /// The `n`-th working day after `d` (`n > 0`), before `d` (`n < 0`, counting back from the
    /// day before `d`), or for `n == 0` `d` itself if working, else the next working day.
    /// `working_days_between(d, result) == n` holds for `n > 0`, and for `n < 0` when `d` is a
    /// working day.
    pub fn add_working_days(&self, d: NaiveDate, n: i64) -> Computed<NaiveDate> {
        let mut years = BTreeSet::new();
        let dn = day_num(d);
        let beyond = |k: i64| i128::from(k) > MAX_DAY_INDEX;
        let day = match n.cmp(&0) {
            Ordering::Greater => {
                let r = if beyond(n - 1) { max_day() + 1 } else { self.nth_forward(dn + 1, n - 1) };
                self.note(&mut years, dn + 1, r);
                r
            }
            Ordering::Equal => {
                let r = self.nth_forward(dn, 0);
                self.note(&mut years, dn, r);
                r
            }
            Ordering::Less => {
                let k = -(n + 1);
                let r = if beyond(k) { min_day() - 1 } else { self.nth_backward(dn - 1, k) };
                self.note(&mut years, r, dn - 1);
                r
            }
        };
        let value = date_of(day).unwrap_or(if day > dn { NaiveDate::MAX } else { NaiveDate::MIN });
        Computed { value, provisional_years: years }
    }

    /// Working days in `(from, to]`; negative (minus the count in `(to, from]`) when `to < from`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> Computed<i64> {
        let mut years = BTreeSet::new();
        let (a, b) = (day_num(from), day_num(to));
        let value = match a.cmp(&b) {
            Ordering::Less => {
                self.note(&mut years, a + 1, b);
                self.count_working(a + 1, b + 1)
            }
            Ordering::Equal => 0,
            Ordering::Greater => {
                self.note(&mut years, b + 1, a);
                -self.count_working(b + 1, a + 1)
            }
        };
        Computed { value, provisional_years: years }
    }

    /// 23:59:59 of `d`: the 交办不过夜 (hand over the same day) deadline.
    pub fn end_of_day(d: NaiveDate) -> NaiveDateTime {
        d.and_time(NaiveTime::from_hms_opt(23, 59, 59).expect("constant time is valid"))
    }

    // ---- internals: day numbers are `num_days_from_ce`, positions are ns since midnight ----

    fn working(&self, n: i64) -> bool {
        self.flips.get(&n).copied().unwrap_or_else(|| plain_working(n))
    }

    /// Office time elapsed on day `n` by position `p` (nothing on a day off).
    fn pos_part(&self, n: i64, p: i64) -> i64 {
        if self.working(n) { self.office.office_before(p) } else { 0 }
    }

    /// Working days in `[a, b)`, `a <= b`.
    fn count_working(&self, a: i64, b: i64) -> i64 {
        let flips: i64 = self.flips.range(a..b).map(|(_, &w)| if w { 1 } else { -1 }).sum();
        weekdays_before(b) - weekdays_before(a) + flips
    }

    /// The `k`-th (0-based) working day at or after day `o`.
    fn nth_forward(&self, o: i64, mut k: i64) -> i64 {
        let mut c = o;
        for (&f, &w) in self.flips.range(o..) {
            // [c, f) follows the plain rule.
            let plain = weekdays_before(f) - weekdays_before(c);
            if k < plain {
                return weekday_at(weekdays_before(c) + k);
            }
            k -= plain;
            if w {
                if k == 0 {
                    return f;
                }
                k -= 1;
            }
            c = f + 1;
        }
        weekday_at(weekdays_before(c) + k)
    }

    /// The `k`-th (0-based) working day at or before day `o`, counting backward.
    fn nth_backward(&self, o: i64, mut k: i64) -> i64 {
        let mut c = o;
        for (&f, &w) in self.flips.range(..=o).rev() {
            // (f, c] follows the plain rule.
            let plain = weekdays_before(c + 1) - weekdays_before(f + 1);
            if k < plain {
                return weekday_at(weekdays_before(c + 1) - 1 - k);
            }
            k -= plain;
            if w {
                if k == 0 {
                    return f;
                }
                k -= 1;
            }
            c = f - 1;
        }
        weekday_at(weekdays_before(c + 1) - 1 - k)
    }

    /// Earliest instant whose clock reading is `amount` (> 0) past `start`'s.
    fn walk_forward(&self, start: NaiveDateTime, amount: i128) -> Computed<NaiveDateTime> {
        let mut years = BTreeSet::new();
        let (o, p) = split(start);
        let per_day = i128::from(self.office.ns_per_day());
        let target = i128::from(self.pos_part(o, p)) + amount;
        // Working-day index k (0 = first working day >= o) and offset in (0, per_day]: an exact
        // multiple of a day lands on the previous day's last segment end.
        let k = (target - 1).div_euclid(per_day);
        let rem = (target - k * per_day) as i64;
        let day = if k > MAX_DAY_INDEX { max_day() + 1 } else { self.nth_forward(o, k as i64) };
        self.note(&mut years, o, day);
        Computed { value: self.instant(day, self.office.earliest_pos(rem)), provisional_years: years }
    }

    /// Latest instant whose clock reading is `amount` (> 0) before `end`'s.
    fn walk_backward(&self, end: NaiveDateTime, amount: i128) -> Computed<NaiveDateTime> {
        let mut years = BTreeSet::new();
        let (o, p) = split(end);
        let per_day = i128::from(self.office.ns_per_day());
        let target = i128::from(self.pos_part(o, p)) - amount;
        // Offset in [0, per_day): an exact multiple of a day lands on that day's first start.
        let k = target.div_euclid(per_day);
        let rem = target.rem_euclid(per_day) as i64;
        let day = if k < -MAX_DAY_INDEX {
            min_day() - 1
        } else if k >= 0 {
            self.nth_forward(o, k as i64)
        } else {
            self.nth_backward(o - 1, (-k - 1) as i64)
        };
        self.note(&mut years, day, o);
        Computed { value: self.instant(day, self.office.latest_pos(rem)), provisional_years: years }
    }

    /// The instant at position `pos` of day `n`; days outside chrono's range saturate at the
    /// outermost office instant in that direction.
    fn instant(&self, n: i64, pos: i64) -> NaiveDateTime {
        match date_of(n) {
            Some(d) => d.and_time(ns_to_time(pos)),
            None if n > 0 => NaiveDate::MAX.and_time(self.office.last_end()),
            None => NaiveDate::MIN.and_time(self.office.first_start()),
        }
    }

    /// Records the unpublished years among days `a..=b` (either order).
    fn note(&self, years: &mut BTreeSet<i32>, a: i64, b: i64) {
        let year = |n: i64| date_of(n.clamp(min_day(), max_day())).map_or(0, |d| d.year());
        let (lo, hi) = (year(a.min(b)), year(a.max(b)));
        years.extend((lo..=hi).filter(|y| !self.published.contains(y)));
    }
}

fn day_num(d: NaiveDate) -> i64 {
    i64::from(d.num_days_from_ce())
}

fn date_of(n: i64) -> Option<NaiveDate> {
    i32::try_from(n).ok().and_then(NaiveDate::from_num_days_from_ce_opt)
}

fn min_day() -> i64 {
    day_num(NaiveDate::MIN)
}

fn max_day() -> i64 {
    day_num(NaiveDate::MAX)
}

fn split(t: NaiveDateTime) -> (i64, i64) {
    (day_num(t.date()), time_ns(t.time()))
}

/// Only called with positions inside a validated segment, so always a valid time of day.
fn ns_to_time(pos: i64) -> NaiveTime {
    let (secs, nanos) = (pos.div_euclid(NS_PER_SEC), pos.rem_euclid(NS_PER_SEC));
    NaiveTime::from_num_seconds_from_midnight_opt(secs as u32, nanos as u32).expect("position within a day")
}

// Day number 1 (0001-01-01, proleptic Gregorian) is a Monday, so `(n - 1) mod 7` is the
// weekday with Monday = 0. `weekdays_before(n)` counts Mon–Fri days in [1, n) (negative for
// n < 1), which turns plain-rule counting into subtraction; `weekday_at` is its inverse on
// weekdays: the weekday with exactly `i` weekdays before it.

fn plain_working(n: i64) -> bool {
    (n - 1).rem_euclid(7) < 5
}

fn weekdays_before(n: i64) -> i64 {
    let x = n - 1;
    5 * x.div_euclid(7) + x.rem_euclid(7).min(5)
}

fn weekday_at(i: i64) -> i64 {
    1 + 7 * i.div_euclid(5) + i.rem_euclid(5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_datetime;

    fn dt(s: &str) -> NaiveDateTime {
        parse_datetime("时间", s).unwrap()
    }
    fn date(s: &str) -> NaiveDate {
        crate::parse_date("日期", s).unwrap()
    }
    fn cal() -> WorkCalendar {
        WorkCalendar::with_bundled_holidays()
    }

    #[test]
    fn weekday_arithmetic_matches_chrono() {
        use chrono::Weekday;
        let start = date("2019-12-01");
        let mut count = 0;
        for i in 0..800 {
            let d = start + chrono::Days::new(i);
            let n = day_num(d);
            let weekday = !matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
            assert_eq!(plain_working(n), weekday, "{d}");
            assert_eq!(weekdays_before(n) - weekdays_before(day_num(start)), count, "{d}");
            if weekday {
                assert_eq!(weekday_at(weekdays_before(n)), n);
                count += 1;
            }
        }
        // Also across day number 1 and below, where the floor division matters.
        for n in -30..30 {
            assert_eq!(weekdays_before(n + 1) - weekdays_before(n), i64::from(plain_working(n)));
        }
    }

    #[test]
    fn known_days() {
        let c = cal();
        assert_eq!(c.day_kind(date("2026-06-30")), DayKind::Workday); // Tuesday
        assert_eq!(c.day_kind(date("2026-09-20")), DayKind::MakeupWorkday("国庆节".into())); // Sunday 调休
        assert_eq!(c.day_kind(date("2026-10-10")), DayKind::MakeupWorkday("国庆节".into())); // Saturday 调休
        assert_eq!(c.day_kind(date("2026-10-01")), DayKind::Holiday("国庆节".into()));
        assert_eq!(c.day_kind(date("2026-10-03")), DayKind::Holiday("国庆节".into())); // Saturday inside the holiday
        assert_eq!(c.day_kind(date("2026-10-08")), DayKind::Workday);
        assert_eq!(c.day_kind(date("2026-10-11")), DayKind::Weekend);
        assert_eq!(c.day_kind(date("2027-10-01")), DayKind::Workday); // unpublished: plain Friday
        // holiday-cn lists Monday 2020-02-03 as "not off" (end of the extended 春节): a plain Workday.
        assert_eq!(c.day_kind(date("2020-02-03")), DayKind::Workday);
        assert!(c.is_working_day(date("2026-09-20")));
        assert!(c.is_working_day(date("2026-06-30")));
        assert!(!c.is_working_day(date("2026-10-05")));
        assert!(!c.is_working_day(date("2026-10-11")));
    }

    #[test]
    fn labels() {
        assert_eq!(DayKind::Workday.label_zh(), "工作日");
        assert_eq!(DayKind::Weekend.label_zh(), "周末");
        assert_eq!(DayKind::Holiday("国庆节".into()).label_zh(), "节假日（国庆节）");
        assert_eq!(DayKind::MakeupWorkday("国庆节".into()).label_zh(), "调休上班（国庆节）");
        assert_eq!(DayKind::Holiday(String::new()).label_zh(), "节假日");
        assert!(DayKind::MakeupWorkday("x".into()).is_working());
        assert!(!DayKind::Holiday("x".into()).is_working());
        assert!(!DayKind::Weekend.is_working());
        assert_eq!(serde_json::to_string(&DayKind::Holiday("元旦".into())).unwrap(), r#"{"Holiday":"元旦"}"#);
    }

    #[test]
    fn bundled_data() {
        let c = cal();
        assert_eq!(WorkCalendar::bundled_years(), (2020..=2026).collect::<Vec<_>>());
        assert_eq!(c.published_years(), &(2020..=2026).collect::<BTreeSet<_>>());
        assert!(c.is_year_published(2026));
        assert!(!c.is_year_published(2027));
        let all = WorkCalendar::bundled_overrides();
        assert!(all.windows(2).all(|w| w[0].date < w[1].date));
        assert_eq!(all.len(), c.overrides().count());
        assert!(all.iter().any(|o| o.date == date("2022-12-31")));
        assert_eq!(c.overrides().next().unwrap().date, all[0].date);
    }

    #[test]
    fn new_calendar_is_plain_and_provisional() {
        let c = WorkCalendar::new(OfficeHours::default());
        assert!(c.published_years().is_empty());
        assert_eq!(c.overrides().count(), 0);
        assert_eq!(c.day_kind(date("2026-10-01")), DayKind::Workday);
        let r = c.add_working_minutes(dt("2026-09-30 17:00"), 120);
        assert_eq!(r.value, dt("2026-10-01 10:00"));
        assert_eq!(r.provisional_years, [2026].into());
    }

    #[test]
    fn load_json_marks_year() {
        let mut c = WorkCalendar::new(OfficeHours::default());
        let json = r#"{"year": 2027, "papers": [], "days": [
            {"name": "国庆节", "date": "2027-10-01", "isOffDay": true},
            {"name": "国庆节", "date": "2027-10-09", "isOffDay": false}]}"#;
        assert_eq!(c.load_holiday_cn_json(json).unwrap(), 2027);
        assert!(c.is_year_published(2027));
        assert_eq!(c.day_kind(date("2027-10-01")), DayKind::Holiday("国庆节".into()));
        assert_eq!(c.day_kind(date("2027-10-09")), DayKind::MakeupWorkday("国庆节".into()));
        assert!(!c.add_working_days(date("2027-09-30"), 1).is_provisional());
        // A bad file changes nothing.
        assert!(
            c.load_holiday_cn_json(r#"{"year": 2028, "days": [{"name": "x", "date": "bad", "isOffDay": true}]}"#)
                .is_err()
        );
        assert!(!c.is_year_published(2028));
        assert_eq!(c.overrides().count(), 2);
    }

    #[test]
    fn overrides_edit_and_do_not_publish() {
        let mut c = cal();
        let d = date("2027-03-01"); // Monday
        c.set_override(DayOverride { date: d, off: true, name: "临时停工".into() });
        assert!(!c.is_year_published(2027));
        assert_eq!(c.day_kind(d), DayKind::Holiday("临时停工".into()));
        assert!(!c.is_working_day(d));
        let r = c.add_working_days(date("2027-02-26"), 1);
        assert_eq!(r.value, date("2027-03-02"));
        assert!(r.is_provisional());
        // Replacing flips it back to working.
        c.set_override(DayOverride { date: d, off: false, name: "照常".into() });
        assert!(c.is_working_day(d));
        assert_eq!(c.day_kind(d), DayKind::Workday);
        assert_eq!(c.remove_override(d).unwrap().name, "照常");
        assert!(c.remove_override(d).is_none());
        assert!(c.is_working_day(d));
        // Removing a bundled holiday makes it a plain weekday again.
        c.remove_override(date("2026-10-08"));
        c.remove_override(date("2026-10-01"));
        assert!(c.is_working_day(date("2026-10-01")));
        c.mark_year_published(2027);
        assert!(c.is_year_published(2027));
        c.unmark_year_published(2027);
        assert!(!c.is_year_published(2027));
        assert_eq!(c.override_for(date("2026-10-02")).unwrap().name, "国庆节");
    }

    #[test]
    fn office_time() {
        let c = cal();
        assert!(c.is_office_time(dt("2026-06-30 09:00")));
        assert!(c.is_office_time(dt("2026-06-30 12:00")));
        assert!(!c.is_office_time(dt("2026-06-30 12:01")));
        assert!(c.is_office_time(dt("2026-06-30 13:30")));
        assert!(c.is_office_time(dt("2026-06-30 18:00")));
        assert!(!c.is_office_time(dt("2026-06-30 18:00:01")));
        assert!(!c.is_office_time(dt("2026-06-30 08:59:59")));
        assert!(!c.is_office_time(dt("2026-10-01 10:00")));
        assert!(c.is_office_time(dt("2026-10-10 10:00")));
    }

    #[test]
    fn next_office_instant_cases() {
        let c = cal();
        let n = |s| c.next_office_instant(dt(s)).value;
        assert_eq!(n("2026-06-30 10:15:30"), dt("2026-06-30 10:15:30"));
        assert_eq!(n("2026-06-30 09:00"), dt("2026-06-30 09:00"));
        assert_eq!(n("2026-06-30 07:00"), dt("2026-06-30 09:00"));
        assert_eq!(n("2026-06-30 12:00"), dt("2026-06-30 13:30"));
        assert_eq!(n("2026-06-30 12:45"), dt("2026-06-30 13:30"));
        assert_eq!(n("2026-06-30 18:00"), dt("2026-07-01 09:00"));
        assert_eq!(n("2026-09-30 18:30"), dt("2026-10-08 09:00"));
        assert_eq!(n("2026-09-19 10:00"), dt("2026-09-20 09:00")); // Saturday → 调休 Sunday
        assert!(!c.next_office_instant(dt("2026-06-30 10:00")).is_provisional());
        // 2027 is unpublished, so 2027-01-01 (a Friday) counts as a plain working day.
        let p = c.next_office_instant(dt("2026-12-31 18:30"));
        assert_eq!(p.value, dt("2027-01-01 09:00"));
        assert_eq!(p.provisional_years, [2027].into());
    }

    #[test]
    fn prev_office_instant_cases() {
        let c = cal();
        let p = |s| c.prev_office_instant(dt(s)).value;
        assert_eq!(p("2026-06-30 10:15"), dt("2026-06-30 10:15"));
        assert_eq!(p("2026-06-30 12:00"), dt("2026-06-30 12:00"));
        assert_eq!(p("2026-06-30 13:30"), dt("2026-06-30 13:30"));
        assert_eq!(p("2026-06-30 12:45"), dt("2026-06-30 12:00"));
        assert_eq!(p("2026-06-30 20:00"), dt("2026-06-30 18:00"));
        assert_eq!(p("2026-06-30 08:00"), dt("2026-06-29 18:00"));
        assert_eq!(p("2026-10-08 08:00"), dt("2026-09-30 18:00"));
        assert_eq!(p("2026-10-11 10:00"), dt("2026-10-10 18:00"));
    }

    #[test]
    fn add_minutes_cases() {
        let c = cal();
        let add = |s, m| c.add_working_minutes(dt(s), m).value;
        // The spec's example: across the National Day holiday.
        assert_eq!(add("2026-09-30 17:00", 120), dt("2026-10-08 10:00"));
        assert_eq!(add("2026-06-30 09:00", 180), dt("2026-06-30 12:00"));
        assert_eq!(add("2026-06-30 09:00", 181), dt("2026-06-30 13:31"));
        assert_eq!(add("2026-06-30 09:00", 450), dt("2026-06-30 18:00"));
        assert_eq!(add("2026-06-30 09:00", 451), dt("2026-07-01 09:01"));
        assert_eq!(add("2026-06-30 12:30", 60), dt("2026-06-30 14:30"));
        assert_eq!(add("2026-06-30 20:00", 60), dt("2026-07-01 10:00"));
        assert_eq!(add("2026-06-30 10:00:30", 1), dt("2026-06-30 10:01:30"));
        assert_eq!(add("2026-06-30 12:00", 0), dt("2026-06-30 13:30"));
        assert_eq!(add("2026-06-30 11:00", 0), dt("2026-06-30 11:00"));
        assert_eq!(add("2026-06-30 11:00", -60), dt("2026-06-30 10:00"));
        // Friday 17:00 + 2h → Monday 10:00; Saturday 调休 counts.
        assert_eq!(add("2026-11-20 17:00", 120), dt("2026-11-23 10:00"));
        assert_eq!(add("2026-10-09 17:00", 120), dt("2026-10-10 10:00"));
        // Twenty working days of minutes from 2026-09-21 (Mon): Sept 20 not included, holiday skipped.
        assert_eq!(add("2026-09-21 09:00", 20 * 450), dt("2026-10-23 18:00"));
        let r = c.add_working_minutes(dt("2026-09-30 17:00"), 120);
        assert!(!r.is_provisional());
    }

    #[test]
    fn add_minutes_preserves_subsecond_precision() {
        let c = cal();
        let t = dt("2026-06-30 10:00") + chrono::Duration::nanoseconds(123_456_789);
        assert_eq!(c.next_office_instant(t).value, t);
        let r = c.add_working_minutes(t, 480).value;
        assert_eq!(r, dt("2026-07-01 10:30") + chrono::Duration::nanoseconds(123_456_789));
        assert_eq!(c.sub_working_minutes(r, 480).value, t);
        assert_eq!(c.working_minutes_between(t, r).value, 480);
    }

    #[test]
    fn sub_minutes_cases() {
        let c = cal();
        let sub = |s, m| c.sub_working_minutes(dt(s), m).value;
        assert_eq!(sub("2026-06-30 14:30", 60), dt("2026-06-30 13:30"));
        assert_eq!(sub("2026-06-30 10:00", 60), dt("2026-06-30 09:00"));
        assert_eq!(sub("2026-06-30 14:30", 61), dt("2026-06-30 11:59"));
        assert_eq!(sub("2026-06-30 09:00", 1), dt("2026-06-29 17:59"));
        assert_eq!(sub("2026-06-30 09:00", 0), dt("2026-06-30 09:00"));
        assert_eq!(sub("2026-06-30 12:40", 0), dt("2026-06-30 12:00"));
        assert_eq!(sub("2026-06-30 12:40", 60), dt("2026-06-30 11:00"));
        assert_eq!(sub("2026-06-30 19:00", 30), dt("2026-06-30 17:30"));
        assert_eq!(sub("2026-10-08 10:00", 120), dt("2026-09-30 17:00"));
        assert_eq!(sub("2026-10-08 07:00", 60), dt("2026-09-30 17:00"));
        // Three whole days back from Friday 18:00 lands on Wednesday's first segment start.
        assert_eq!(sub("2026-11-27 18:00", 3 * 450), dt("2026-11-25 09:00"));
        assert_eq!(sub("2026-06-30 10:00", -60), dt("2026-06-30 11:00"));
        let r = c.sub_working_minutes(dt("2027-01-04 10:00"), 120);
        assert_eq!(r.value, dt("2027-01-01 17:00"));
        assert_eq!(r.provisional_years, [2027].into());
    }

    #[test]
    fn minutes_between_cases() {
        let c = cal();
        let between = |a, b| c.working_minutes_between(dt(a), dt(b)).value;
        assert_eq!(between("2026-09-30 17:00", "2026-10-08 10:00"), 120);
        assert_eq!(between("2026-10-08 10:00", "2026-09-30 17:00"), -120);
        assert_eq!(between("2026-06-30 12:10", "2026-06-30 13:40"), 10);
        assert_eq!(between("2026-06-30 00:00", "2026-07-01 00:00"), 450);
        assert_eq!(between("2026-06-30 10:00", "2026-06-30 10:00"), 0);
        assert_eq!(between("2026-06-30 10:00:00", "2026-06-30 10:00:59"), 0);
        assert_eq!(between("2026-06-30 10:00:59", "2026-06-30 10:00:00"), 0);
        assert_eq!(between("2026-10-01 10:00", "2026-10-07 16:00"), 0);
        assert_eq!(
            between("2026-01-01 00:00", "2027-01-01 00:00"),
            450 * c.working_days_between(date("2025-12-31"), date("2026-12-31")).value
        );
        let r = c.working_minutes_between(dt("2026-12-31 17:00"), dt("2027-01-04 10:00"));
        assert_eq!(r.value, 60 + 450 + 60); // 2027-01-01 is a plain Friday while unpublished
        assert_eq!(r.provisional_years, [2027].into());
        assert!(!c.working_minutes_between(dt("2026-06-30 09:00"), dt("2026-07-30 09:00")).is_provisional());
    }

    #[test]
    fn add_days_cases() {
        let c = cal();
        let add = |s, n| c.add_working_days(date(s), n).value;
        assert_eq!(add("2026-09-30", 1), date("2026-10-08"));
        assert_eq!(add("2026-10-08", -1), date("2026-09-30"));
        assert_eq!(add("2026-10-09", 1), date("2026-10-10")); // Saturday 调休
        assert_eq!(add("2026-10-01", 0), date("2026-10-08"));
        assert_eq!(add("2026-06-30", 0), date("2026-06-30"));
        assert_eq!(add("2026-09-18", 1), date("2026-09-20")); // Friday → 调休 Sunday
        assert_eq!(add("2026-10-03", -1), date("2026-09-30"));
        assert_eq!(add("2026-11-21", 1), date("2026-11-23")); // Saturday → Monday
        assert_eq!(add("2026-11-21", -1), date("2026-11-20"));
        assert_eq!(add("2026-06-30", 5), date("2026-07-07"));
        assert_eq!(add("2026-06-30", -5), date("2026-06-23"));
        // 2026: 261 weekdays − 19 weekday holidays + 6 调休 weekend days.
        assert_eq!(c.working_days_between(date("2025-12-31"), date("2026-12-31")).value, 248);
        let p = c.add_working_days(date("2026-12-31"), 1);
        assert_eq!(p.value, date("2027-01-01")); // unpublished 2027: plain Friday
        assert_eq!(p.provisional_years, [2027].into());
        assert!(!c.add_working_days(date("2026-12-30"), 1).is_provisional());
    }

    #[test]
    fn days_between_cases() {
        let c = cal();
        let between = |a, b| c.working_days_between(date(a), date(b)).value;
        assert_eq!(between("2026-09-30", "2026-10-08"), 1);
        assert_eq!(between("2026-10-08", "2026-09-30"), -1);
        assert_eq!(between("2026-10-01", "2026-10-07"), 0);
        assert_eq!(between("2026-06-30", "2026-06-30"), 0);
        assert_eq!(between("2026-06-29", "2026-06-30"), 1);
        assert_eq!(between("2026-09-14", "2026-09-21"), 6); // includes 调休 Sunday 09-20
        let r = c.working_days_between(date("2026-12-31"), date("2027-01-04"));
        assert_eq!(r.value, 2);
        assert_eq!(r.provisional_years, [2027].into());
        // (from, to]: from itself is not inspected.
        assert!(!c.working_days_between(date("2026-01-01"), date("2026-01-01")).is_provisional());
    }

    #[test]
    fn end_of_day_is_last_second() {
        assert_eq!(WorkCalendar::end_of_day(date("2026-06-30")), dt("2026-06-30 23:59:59"));
    }

    #[test]
    fn custom_office_hours() {
        let mut c = cal();
        c.set_office_hours(OfficeHours::parse("08:30-12:00,14:30-17:30,19:00-20:00").unwrap());
        assert_eq!(c.office_hours().minutes_per_day(), 210 + 180 + 60);
        assert_eq!(c.add_working_minutes(dt("2026-06-30 17:00"), 60).value, dt("2026-06-30 19:30"));
        assert_eq!(c.add_working_minutes(dt("2026-06-30 17:00"), 30).value, dt("2026-06-30 17:30"));
        assert_eq!(c.sub_working_minutes(dt("2026-06-30 19:30"), 30).value, dt("2026-06-30 19:00"));
        assert_eq!(c.next_office_instant(dt("2026-06-30 18:00")).value, dt("2026-06-30 19:00"));
    }

    #[test]
    fn long_runs_of_days_off_terminate() {
        // An admin marks twelve years off: no working day in the 10-year window, still exact.
        let mut c = WorkCalendar::new(OfficeHours::default());
        let start = date("2030-01-01");
        let mut d = start;
        while d < date("2042-01-01") {
            c.set_override(DayOverride { date: d, off: true, name: "停工".into() });
            d = d.succ_opt().unwrap();
        }
        assert_eq!(c.add_working_days(date("2029-12-31"), 1).value, date("2042-01-01"));
        assert_eq!(c.add_working_minutes(dt("2029-12-31 17:00"), 120).value, dt("2042-01-01 10:00"));
        assert_eq!(c.sub_working_minutes(dt("2042-01-01 10:00"), 120).value, dt("2029-12-31 17:00"));
        let r = c.next_office_instant(dt("2030-06-01 10:00"));
        assert_eq!(r.value, dt("2042-01-01 09:00"));
        assert_eq!(r.provisional_years.len(), 13);
    }

    #[test]
    fn extremes_saturate_without_panicking() {
        let c = cal();
        let max = NaiveDateTime::MAX;
        let min = NaiveDateTime::MIN;
        let end = NaiveDate::MAX.and_time(c.office_hours().last_end());
        let begin = NaiveDate::MIN.and_time(c.office_hours().first_start());
        assert_eq!(c.add_working_minutes(dt("2026-06-30 10:00"), i64::MAX).value, end);
        assert_eq!(c.add_working_minutes(dt("2026-06-30 10:00"), i64::MIN).value, begin);
        assert_eq!(c.sub_working_minutes(dt("2026-06-30 10:00"), i64::MIN).value, end);
        assert_eq!(c.sub_working_minutes(dt("2026-06-30 10:00"), i64::MAX).value, begin);
        assert_eq!(c.next_office_instant(max).value, end);
        assert_eq!(c.prev_office_instant(min).value, begin);
        let _ = c.add_working_minutes(max, 1);
        let _ = c.sub_working_minutes(min, 1);
        let _ = c.add_working_minutes(min, 1);
        let _ = c.working_minutes_between(min, max);
        let _ = c.working_minutes_between(max, min);
        assert_eq!(c.add_working_days(date("2026-06-30"), i64::MAX).value, NaiveDate::MAX);
        assert_eq!(c.add_working_days(date("2026-06-30"), i64::MIN).value, NaiveDate::MIN);
        let _ = c.add_working_days(NaiveDate::MAX, 1);
        let _ = c.add_working_days(NaiveDate::MIN, -1);
        let _ = c.add_working_days(NaiveDate::MAX, 0);
        let _ = c.working_days_between(NaiveDate::MIN, NaiveDate::MAX);
    }

    #[test]
    fn override_serde() {
        let o = DayOverride { date: date("2026-10-01"), off: true, name: "国庆节".into() };
        let j = serde_json::to_string(&o).unwrap();
        assert_eq!(j, r#"{"date":"2026-10-01","off":true,"name":"国庆节"}"#);
        assert_eq!(serde_json::from_str::<DayOverride>(&j).unwrap(), o);
    }
}
