//! 优秀年轻干部 选育管用 (issue 18), the rules as pure code (the 公民身份号码 check is
//! `xietong_security::id_number`'s):
//! - [`age_on`]: age in full years (周岁), computed from the birth date, never stored;
//! - [`structure`]: a 班子's share of young members against its unit kind's requirement, and what
//!   one candidate would change;
//! - [`suggest`]: reasons from the supervision records to look at a person for the pool —
//!   suggestions only, a person decides.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

pub mod experience;
pub mod structure;
pub mod suggest;

/// Age in full years (周岁) on `day`: the birthday counts from its own day (29 February from
/// 1 March in a common year).
pub fn age_on(birth: NaiveDate, day: NaiveDate) -> i32 {
    let mut years = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years.max(0)
}

/// The two pools (分类建立科级、股级优秀年轻干部库).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PoolLevel {
    /// 科级优秀年轻干部库
    Section,
    /// 股级优秀年轻干部库
    Stock,
}

impl PoolLevel {
    pub const ALL: [PoolLevel; 2] = [Self::Section, Self::Stock];
    pub fn code(self) -> &'static str {
        match self {
            Self::Section => "section",
            Self::Stock => "stock",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Section => "科级优秀年轻干部库",
            Self::Stock => "股级优秀年轻干部库",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }
}

/// 职级 as the 干部名册 writes it.
pub const RANKS: [&str; 7] = ["正科级", "副科级", "正股级", "副股级", "一级科员", "二级科员", "试用期"];

/// 入职途径.
pub const ENTRY_ROUTES: [&str; 6] = ["公开引进", "选调生", "遴选", "公务员招录", "事业单位招聘", "转任"];

/// 学历.
pub const EDUCATIONS: [&str; 5] = ["博士研究生", "硕士研究生", "大学本科", "大学专科", "中专及以下"];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn age_counts_full_years() {
        assert_eq!(age_on(d("1991-12-06"), d("2026-12-05")), 34);
        assert_eq!(age_on(d("1991-12-06"), d("2026-12-06")), 35);
        assert_eq!(age_on(d("2000-02-29"), d("2026-02-28")), 25);
        assert_eq!(age_on(d("2000-02-29"), d("2026-03-01")), 26);
        assert_eq!(age_on(d("2030-01-01"), d("2026-01-01")), 0, "never negative");
    }

    proptest! {
        /// Age never falls as days pass, and grows by one a year.
        #[test]
        fn age_grows(b in 0i64..30_000, a in 0i64..40_000, c in 0i64..3_000) {
            let base = d("1950-01-01");
            let birth = base + chrono::Duration::days(b);
            let x = base + chrono::Duration::days(a);
            let y = x + chrono::Duration::days(c);
            prop_assert!(age_on(birth, x) <= age_on(birth, y));
            if x >= birth && !(x.month() == 2 && x.day() == 29) {
                let next = x.with_year(x.year() + 1).unwrap();
                prop_assert_eq!(age_on(birth, next), age_on(birth, x) + 1);
            }
        }
    }
}
