//! 班子结构: a 班子's young members against the requirement for its kind of unit. "35岁以下" counts
//! 35 itself (以下 includes the number, as in law). The figures are shown as the district reports
//! them: 8 / 22 = 36.36 %.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::age_on;

/// What a kind of unit's 班子 must have; set by the administrator.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Requirement {
    /// "Young": this age or under (35).
    pub young_age: i32,
    /// The least share of young members, percent.
    pub min_young_percent: f64,
    /// "Youngest": this age or under (30).
    pub youngest_age: i32,
    /// How many of those at least.
    pub min_youngest: usize,
}

impl Default for Requirement {
    /// An example, to be set to the district's own rule: a fifth 35 or under, one 30 or under.
    fn default() -> Self {
        Self { young_age: 35, min_young_percent: 20.0, youngest_age: 30, min_youngest: 1 }
    }
}

impl Requirement {
    /// Every field's error at once, as (field, message).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = vec![];
        let mut fail = |f: &str, m: String| out.push((f.to_string(), m));
        if !(18..=60).contains(&self.young_age) {
            fail("年轻干部年龄上限", format!("应在 18 到 60 之间（当前 {}）", self.young_age));
        }
        if !(18..=self.young_age.max(18)).contains(&self.youngest_age) {
            fail(
                "最年轻干部年龄上限",
                format!("应在 18 到 {} 之间（当前 {}）", self.young_age.max(18), self.youngest_age),
            );
        }
        if !self.min_young_percent.is_finite() || !(0.0..=100.0).contains(&self.min_young_percent) {
            fail("年轻干部最低占比", "应在 0 到 100 之间".into());
        }
        if self.min_youngest > 20 {
            fail("最年轻干部最少人数", format!("不能超过 20（当前 {}）", self.min_youngest));
        }
        out
    }
}

/// Where a 班子 stands.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Check {
    pub members: usize,
    pub young: usize,
    pub youngest: usize,
    /// young ÷ members, percent, two decimals (36.36).
    pub young_percent: f64,
    pub meets: bool,
    /// What falls short, in Chinese; empty when it meets the requirement.
    pub shortfalls: Vec<String>,
}

fn percent(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { (a as f64 / b as f64 * 10_000.0).round() / 100.0 }
}

/// Several 班子 together (the district's line): members, young members, and the share as
/// [`Check::young_percent`] gives it (two decimals: 8 of 22 → 36.36).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Total {
    pub members: usize,
    pub young: usize,
    pub young_percent: f64,
}

pub fn total<'a>(checks: impl IntoIterator<Item = &'a Check>) -> Total {
    let (members, young) = checks.into_iter().fold((0, 0), |(m, y), c| (m + c.members, y + c.young));
    Total { members, young, young_percent: percent(young, members) }
}

/// The check of a 班子 whose members were born on `births`, on `day`.
pub fn check(births: &[NaiveDate], day: NaiveDate, req: &Requirement) -> Check {
    let ages: Vec<i32> = births.iter().map(|b| age_on(*b, day)).collect();
    let young = ages.iter().filter(|a| **a <= req.young_age).count();
    let youngest = ages.iter().filter(|a| **a <= req.youngest_age).count();
    let young_percent = percent(young, ages.len());
    let mut shortfalls = vec![];
    // Compared in hundredths, as shown.
    if (young_percent * 100.0).round() < (req.min_young_percent * 100.0).round() {
        shortfalls.push(format!(
            "{} 岁以下 {young} 人，占 {young_percent:.2}%，低于要求的 {}%",
            req.young_age, req.min_young_percent
        ));
    }
    if youngest < req.min_youngest {
        shortfalls.push(format!("{} 岁以下 {youngest} 人，要求至少 {} 人", req.youngest_age, req.min_youngest));
    }
    Check { members: ages.len(), young, youngest, young_percent, meets: shortfalls.is_empty(), shortfalls }
}

/// The check if `candidate` joined the 班子, or took the place of the member born on `replacing`.
pub fn with_candidate(
    births: &[NaiveDate],
    candidate: NaiveDate,
    replacing: Option<NaiveDate>,
    day: NaiveDate,
    req: &Requirement,
) -> Check {
    let mut b = births.to_vec();
    if let Some(r) = replacing
        && let Some(i) = b.iter().position(|x| *x == r)
    {
        b.remove(i);
    }
    b.push(candidate);
    check(&b, day, req)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_reported_figure() {
        // 22 members, 8 of them 35 or under, 2 of those 30 or under: 36.36 %.
        let day = d("2026-12-06");
        let mut births = vec![d("1994-03-01"), d("1997-05-01")];
        births.extend((0..6).map(|i| d(&format!("199{}-01-01", i + 1))));
        births.extend((0..14).map(|i| d(&format!("19{}-06-01", 70 + i))));
        let c = check(&births, day, &Requirement::default());
        assert_eq!((c.members, c.young, c.youngest, c.young_percent), (22, 8, 2, 36.36));
        assert!(c.meets);
        let strict = Requirement { min_young_percent: 40.0, min_youngest: 3, ..Requirement::default() };
        let c = check(&births, day, &strict);
        assert_eq!(c.shortfalls, ["35 岁以下 8 人，占 36.36%，低于要求的 40%", "30 岁以下 2 人，要求至少 3 人"]);
        // A 28-year-old in place of one of the 1970s members: 9 of 22.
        let w = with_candidate(&births, d("1998-07-01"), Some(d("1970-06-01")), day, &strict);
        assert_eq!((w.members, w.young, w.youngest, w.young_percent), (22, 9, 3, 40.91));
        assert!(w.meets);
        // 35 counts as 35岁以下; 36 does not.
        assert_eq!(check(&[d("1991-12-06")], day, &Requirement::default()).young, 1);
        assert_eq!(check(&[d("1990-12-06")], day, &Requirement::default()).young, 0);
        assert_eq!(check(&[], day, &Requirement::default()).young_percent, 0.0);
        // Two 班子 of 11 (the young all in the first) make the district's line.
        let (a, b) =
            (check(&births[..11], day, &Requirement::default()), check(&births[11..], day, &Requirement::default()));
        assert_eq!((a.young, b.young), (8, 0), "the first 11 hold the young");
        assert_eq!(total([&a, &b]), Total { members: 22, young: 8, young_percent: 36.36 });
        assert_eq!(total([]), Total::default());
    }

    proptest! {
        /// Counts stay within the members, the youngest are among the young, and adding a young
        /// candidate never makes the share fall.
        #[test]
        fn counts_are_consistent(years in proptest::collection::vec(1950i32..2005, 0..40), cand in 1992i32..2004) {
            let day = d("2026-12-06");
            let births: Vec<NaiveDate> = years.iter().map(|y| NaiveDate::from_ymd_opt(*y, 6, 1).unwrap()).collect();
            let r = Requirement::default();
            let c = check(&births, day, &r);
            prop_assert!(c.youngest <= c.young && c.young <= c.members);
            prop_assert!((0.0..=100.0).contains(&c.young_percent));
            let w = with_candidate(&births, NaiveDate::from_ymd_opt(cand, 6, 1).unwrap(), None, day, &r);
            prop_assert!(w.young_percent >= c.young_percent || c.members == 0);
        }
    }
}
