//! Chinese deadline expressions resolved against the document's date and the work calendar:
//! 12月20日前, 月底前, 两周内, 本周内, 12月中旬, 年底前, 春节前, 汛期前, 5个工作日内, 下周三前, 每月25日前,
//! 立即, 长期坚持 … (the rules of `minutes/README.md`). A day without a time of day ends at 18:00. The
//! date the words give is kept as it is, even on a day off; the caller flags that for the clerk.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use regex::Regex;
use std::sync::LazyLock;

/// Dates that depend on the year's calendar, set by the administrator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seasons {
    /// The day before 春节 (春节前).
    pub before_spring_festival: NaiveDate,
    /// The start of the flood season (汛期前).
    pub before_flood_season: NaiveDate,
}

impl Seasons {
    /// The seasons following `date`: 春节 from a table of the coming years, 汛期 from June 1st.
    pub fn after(date: NaiveDate) -> Seasons {
        const SPRING: [(i32, u32, u32); 6] =
            [(2026, 2, 17), (2027, 2, 6), (2028, 1, 26), (2029, 2, 13), (2030, 2, 3), (2031, 1, 23)];
        let spring = SPRING
            .iter()
            .filter_map(|(y, m, d)| NaiveDate::from_ymd_opt(*y, *m, *d))
            .find(|d| *d > date)
            .unwrap_or(date)
            - Duration::days(1);
        let mut flood = NaiveDate::from_ymd_opt(date.year(), 5, 31).unwrap_or(date);
        if flood < date {
            flood = NaiveDate::from_ymd_opt(date.year() + 1, 5, 31).unwrap_or(date);
        }
        Seasons { before_spring_festival: spring, before_flood_season: flood }
    }
}

/// A deadline found in a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The words as printed.
    pub text: String,
    pub start: usize,
    /// `None` for 长期坚持 (no deadline, a recurring report).
    pub at: Option<NaiveDateTime>,
    pub kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// 长期坚持.
    Standing,
    /// 立即.
    Immediately,
    /// 每周五, 每月底前 …
    Recurring,
    /// A date or a span.
    Completion,
}

fn eod(d: NaiveDate) -> NaiveDateTime {
    d.and_time(NaiveTime::from_hms_opt(18, 0, 0).unwrap_or_default())
}

fn month_end(y: i32, m: u32) -> Option<NaiveDate> {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    NaiveDate::from_ymd_opt(ny, nm, 1).map(|d| d - Duration::days(1))
}

fn cn_num(s: &str) -> Option<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    let digit = |c: char| "零一二三四五六七八九".chars().position(|x| x == c).map(|p| p as i64);
    let s = s.replace('两', "二");
    let chars: Vec<char> = s.chars().collect();
    match chars.as_slice() {
        ['十'] => Some(10),
        ['十', b] => Some(10 + digit(*b)?),
        [a, '十'] => Some(digit(*a)? * 10),
        [a, '十', b] => Some(digit(*a)? * 10 + digit(*b)?),
        [a] => digit(*a),
        _ => None,
    }
}

fn weekday(c: &str) -> Option<Weekday> {
    Some(match c {
        "一" => Weekday::Mon,
        "二" => Weekday::Tue,
        "三" => Weekday::Wed,
        "四" => Weekday::Thu,
        "五" => Weekday::Fri,
        "六" => Weekday::Sat,
        "日" | "天" => Weekday::Sun,
        _ => return None,
    })
}

/// A month and day in the document's year, or the next when it would fall before the document.
fn roll(doc: NaiveDate, year: Option<i32>, m: u32, d: Option<u32>) -> Option<NaiveDate> {
    let at = |y: i32| match d {
        Some(d) => NaiveDate::from_ymd_opt(y, m, d),
        None => month_end(y, m),
    };
    match year {
        Some(y) => at(y),
        None => {
            let this = at(doc.year())?;
            if this < doc { at(doc.year() + 1) } else { Some(this) }
        }
    }
}

fn add_months(d: NaiveDate, n: u32) -> Option<NaiveDate> {
    let total = d.month0() + n;
    let (y, m) = (d.year() + (total / 12) as i32, total % 12 + 1);
    let last = month_end(y, m)?.day();
    NaiveDate::from_ymd_opt(y, m, d.day().min(last))
}

static PATTERNS: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    let n = r"(\d+|[一二两三四五六七八九十]+)";
    [
        ("ymd", r"(?:(\d{4})年|(明年))?(\d{1,2})月(\d{1,2})[日号](?:(\d{1,2})[时点])?(?:之?前)?"),
        ("month_end", r"(?:(\d{4})年|(明年))?(\d{1,2})月(?:底|末)(?:之?前)?"),
        ("xun", r"(?:(\d{4})年|(明年))?(\d{1,2})月(上旬|中旬|下旬)(?:之?前)?"),
        ("every_month_day", r"每月(\d{1,2})[日号](?:之?前)?"),
        ("every_month_end", r"每月(?:底|末)(?:之?前)?"),
        ("every_week", r"每周([一二三四五六日])"),
        ("this_month_end", r"(?:本月|月)(?:底|末)(?:之?前)?"),
        ("year_end", r"年底(?:之?前)?|年内|元旦前"),
        ("weeks", &format!(r"{n}(?:周|个星期|星期)内")),
        ("workdays", &format!(r"{n}个工作日内")),
        ("days", &format!(r"{n}(?:日|天)内")),
        ("months", &format!(r"{n}个月内")),
        ("this_week", r"本周内"),
        ("next_week", r"下周([一二三四五六日天])(?:之?前)?"),
        ("spring", r"春节前"),
        ("flood", r"汛期前|汛前"),
        ("standing", r"长期坚持"),
        ("now", r"立即|即刻"),
    ]
    .into_iter()
    .map(|(k, p)| (k, Regex::new(p).expect("a valid pattern")))
    .collect()
});

/// Every deadline expression in `text`, in order, resolved against the document date `doc`.
/// `workday` tells working days (for N个工作日内).
pub fn find_all(text: &str, doc: NaiveDate, seasons: &Seasons, workday: &dyn Fn(NaiveDate) -> bool) -> Vec<Found> {
    let mut found: Vec<Found> = vec![];
    let mut taken: Vec<(usize, usize)> = vec![];
    for (kind, re) in PATTERNS.iter() {
        for c in re.captures_iter(text) {
            let Some(m) = c.get(0) else { continue };
            if taken.iter().any(|(s, e)| m.start() < *e && *s < m.end()) {
                continue;
            }
            let year = |i: usize, j: usize| -> Option<i32> {
                c.get(i).and_then(|y| y.as_str().parse().ok()).or_else(|| c.get(j).map(|_| doc.year() + 1))
            };
            let num = |i: usize| c.get(i).and_then(|x| cn_num(x.as_str()));
            let u = |i: usize| num(i).and_then(|x| u32::try_from(x).ok());
            let (at, k): (Option<NaiveDateTime>, Kind) = match *kind {
                "ymd" => {
                    let (Some(mo), Some(d)) = (u(3), u(4)) else { continue };
                    let Some(day) = roll(doc, year(1, 2), mo, Some(d)) else { continue };
                    let hour = u(5).unwrap_or(18).min(23);
                    (day.and_hms_opt(hour, 0, 0), Kind::Completion)
                }
                "month_end" => (u(3).and_then(|mo| roll(doc, year(1, 2), mo, None)).map(eod), Kind::Completion),
                "xun" => {
                    let Some(mo) = u(3) else { continue };
                    let day = match c.get(4).map(|x| x.as_str()) {
                        Some("上旬") => roll(doc, year(1, 2), mo, Some(10)),
                        Some("中旬") => roll(doc, year(1, 2), mo, Some(20)),
                        _ => roll(doc, year(1, 2), mo, None),
                    };
                    (day.map(eod), Kind::Completion)
                }
                "every_month_day" => {
                    let Some(d) = u(1) else { continue };
                    let mut day = NaiveDate::from_ymd_opt(doc.year(), doc.month(), d);
                    if day.is_none_or(|x| x <= doc) {
                        day = add_months(NaiveDate::from_ymd_opt(doc.year(), doc.month(), 1).unwrap_or(doc), 1)
                            .and_then(|f| NaiveDate::from_ymd_opt(f.year(), f.month(), d));
                    }
                    (day.map(eod), Kind::Recurring)
                }
                "every_month_end" => {
                    let mut day = month_end(doc.year(), doc.month());
                    if day.is_none_or(|x| x <= doc) {
                        day = add_months(doc, 1).and_then(|f| month_end(f.year(), f.month()));
                    }
                    (day.map(eod), Kind::Recurring)
                }
                "every_week" => {
                    let Some(w) = c.get(1).and_then(|x| weekday(x.as_str())) else { continue };
                    let mut d = doc + Duration::days(1);
                    while d.weekday() != w {
                        d += Duration::days(1);
                    }
                    (Some(eod(d)), Kind::Recurring)
                }
                "this_month_end" => (month_end(doc.year(), doc.month()).map(eod), Kind::Completion),
                "year_end" => (NaiveDate::from_ymd_opt(doc.year(), 12, 31).map(eod), Kind::Completion),
                "weeks" => (num(1).map(|n| eod(doc + Duration::days(7 * n))), Kind::Completion),
                "days" => (num(1).map(|n| eod(doc + Duration::days(n))), Kind::Completion),
                "months" => (u(1).and_then(|n| add_months(doc, n)).map(eod), Kind::Completion),
                "workdays" => {
                    let Some(n) = num(1) else { continue };
                    let (mut d, mut left) = (doc, n.clamp(0, 366));
                    while left > 0 {
                        d += Duration::days(1);
                        if workday(d) {
                            left -= 1;
                        }
                    }
                    (Some(eod(d)), Kind::Completion)
                }
                "this_week" => {
                    let fri = doc + Duration::days(4 - i64::from(doc.weekday().num_days_from_monday()));
                    (Some(eod(fri)), Kind::Completion)
                }
                "next_week" => {
                    let Some(w) = c.get(1).and_then(|x| weekday(x.as_str())) else { continue };
                    let monday = doc + Duration::days(7 - i64::from(doc.weekday().num_days_from_monday()));
                    (Some(eod(monday + Duration::days(i64::from(w.num_days_from_monday())))), Kind::Completion)
                }
                "spring" => (Some(eod(seasons.before_spring_festival)), Kind::Completion),
                "flood" => (Some(eod(seasons.before_flood_season)), Kind::Completion),
                "standing" => (None, Kind::Standing),
                "now" => (Some(eod(doc)), Kind::Immediately),
                _ => continue,
            };
            if at.is_none() && k != Kind::Standing {
                continue;
            }
            taken.push((m.start(), m.end()));
            found.push(Found { text: m.as_str().to_string(), start: m.start(), at, kind: k });
        }
    }
    found.sort_by_key(|f| f.start);
    found
}

/// The task's deadline among those found: the last completion time, else a recurring one, else
/// 立即, else 长期坚持 (a start such as 立即 yields to the completion time that follows).
pub fn choose(found: &[Found]) -> Option<&Found> {
    let best = found.iter().map(|f| f.kind).max()?;
    found.iter().rev().find(|f| f.kind == best)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn resolve(text: &str, doc: &str) -> Option<String> {
        let doc = d(doc);
        let all = find_all(text, doc, &Seasons::after(doc), &|x| x.weekday().num_days_from_monday() < 5);
        choose(&all).map(|f| match f.at {
            Some(t) => t.format("%Y-%m-%d %H:%M").to_string(),
            None => f.text.clone(),
        })
    }

    #[test]
    fn the_readme_rules() {
        let doc = "2026-11-18";
        for (text, want) in [
            ("于12月20日前全部完成", "2026-12-20 18:00"),
            ("1月10日前报送", "2027-01-10 18:00"),
            ("2027年4月15日前完成", "2027-04-15 18:00"),
            ("明年3月底前完成", "2027-03-31 18:00"),
            ("12月6日12时前报送", "2026-12-06 12:00"),
            ("12月底前完成", "2026-12-31 18:00"),
            ("月底前完成", "2026-11-30 18:00"),
            ("年底前完成", "2026-12-31 18:00"),
            ("12月中旬前完成", "2026-12-20 18:00"),
            ("12月上旬完成", "2026-12-10 18:00"),
            ("12月下旬完成", "2026-12-31 18:00"),
            ("一周内拿出方案", "2026-11-25 18:00"),
            ("两周内完成", "2026-12-02 18:00"),
            ("10日内完成", "2026-11-28 18:00"),
            ("一个月内形成报告", "2026-12-18 18:00"),
            ("5个工作日内完成", "2026-11-25 18:00"),
            ("本周内完成", "2026-11-20 18:00"),
            ("下周三前报我", "2026-11-25 18:00"),
            ("春节前发放到位", "2027-02-05 18:00"),
            ("汛期前整改到位", "2027-05-31 18:00"),
            ("立即组织排查", "2026-11-18 18:00"),
            ("立即组织排查，春节前实现动态清零", "2027-02-05 18:00"),
            ("每周五报送进展", "2026-11-20 18:00"),
            ("每月25日前报送", "2026-11-25 18:00"),
            ("每月底前报送", "2026-11-30 18:00"),
            ("实行周调度、月通报，长期坚持", "长期坚持"),
        ] {
            assert_eq!(resolve(text, doc).as_deref(), Some(want), "{text}");
        }
        assert_eq!(resolve("抓紧研究，尽快落实", doc), None);
    }

    proptest! {
        #[test]
        fn any_text_resolves_without_panic_and_never_before_the_document(
            text in "\\PC{0,40}",
            m in 1u32..13,
            day in 1u32..29,
        ) {
            let doc = d("2026-12-04");
            let all = find_all(&text, doc, &Seasons::after(doc), &|_| true);
            for f in &all {
                prop_assert!(text.contains(&f.text));
            }
            let t = format!("{m}月{day}日前");
            let got = resolve(&t, "2026-12-04").unwrap();
            prop_assert!(got.as_str() >= "2026-12-04");
        }
    }
}
