//! 历练: the work a cadre is sent to in order to grow — 工作专班 (a team with a purpose and linked
//! supervised tasks), 调训 (a course, its place and hours), 挂职 (a host organisation, dates and an
//! assessment) and 一线 assignments — and the year's totals the district reports ("200 a year").

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// The four kinds of 历练.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExperienceKind {
    /// 工作专班: 重点项目推进、招商引资、社区治理、疫情防控 …
    TaskForce,
    /// 调训: 区委党校、二七纪念馆 …
    Training,
    /// 挂职: banks, district financing platforms, city departments.
    Secondment,
    /// 一线: sent to a 乡镇（街道） or a project headquarters.
    Frontline,
}

impl ExperienceKind {
    pub const ALL: [ExperienceKind; 4] = [Self::TaskForce, Self::Training, Self::Secondment, Self::Frontline];
    pub fn code(self) -> &'static str {
        match self {
            Self::TaskForce => "task_force",
            Self::Training => "training",
            Self::Secondment => "secondment",
            Self::Frontline => "frontline",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::TaskForce => "工作专班",
            Self::Training => "调训",
            Self::Secondment => "挂职",
            Self::Frontline => "一线历练",
        }
    }
    /// What the record's name and place fields are called for this kind.
    pub fn name_label(self) -> &'static str {
        match self {
            Self::TaskForce => "专班名称",
            Self::Training => "班次名称",
            Self::Secondment => "挂职岗位",
            Self::Frontline => "一线岗位",
        }
    }
    pub fn place_label(self) -> &'static str {
        match self {
            Self::TaskForce => "牵头单位",
            Self::Training => "培训地点",
            Self::Secondment => "挂职单位",
            Self::Frontline => "派驻地",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }
}

/// 挂职 assessments (考核等次).
pub const ASSESSMENTS: [&str; 4] = ["优秀", "称职", "基本称职", "不称职"];

/// The most hours a 调训 record may carry (a year's full-time study).
pub const MAX_HOURS: f64 = 2000.0;

/// A 历练 record's dates and hours as typed, checked together.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Span {
    pub kind: Option<ExperienceKind>,
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub hours: Option<f64>,
}

/// Every rule a record's dates and hours break, as (field, message), all at once.
pub fn span_problems(s: &Span) -> Vec<(String, String)> {
    let mut out = vec![];
    if let (Some(a), Some(b)) = (s.started_on, s.ended_on)
        && b < a
    {
        out.push(("结束日期".into(), format!("{b} 早于开始日期 {a}，请核对")));
    }
    match (s.kind, s.hours) {
        (Some(ExperienceKind::Training), None) => out.push(("学时".into(), "调训须填写学时".into())),
        (_, Some(h)) if !h.is_finite() || h <= 0.0 || h > MAX_HOURS => {
            out.push(("学时".into(), format!("应大于 0、不超过 {MAX_HOURS}（当前 {h}）")))
        }
        _ => {}
    }
    out
}

/// Does a record running from `start` to `end` (open when none) fall in `year`?
pub fn in_year(start: NaiveDate, end: Option<NaiveDate>, year: i32) -> bool {
    start.year() <= year && end.is_none_or(|e| e.year() >= year)
}

/// One person's place on one record, as the totals read it.
#[derive(Clone, Debug, PartialEq)]
pub struct Seat {
    pub kind: ExperienceKind,
    pub record_id: i64,
    pub person_id: i64,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub hours: Option<f64>,
}

/// A year's figures for one kind: records, 人次 (seats), distinct people, hours (调训).
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct KindTotal {
    pub kind: Option<ExperienceKind>,
    pub records: usize,
    pub seats: usize,
    pub people: usize,
    pub hours: f64,
}

/// The year's totals by kind, in [`ExperienceKind::ALL`]'s order. `records` counts records in the
/// year with or without members (`record_years`: each record's kind and dates).
pub fn year_totals(
    records: &[(i64, ExperienceKind, NaiveDate, Option<NaiveDate>)],
    seats: &[Seat],
    year: i32,
) -> Vec<KindTotal> {
    ExperienceKind::ALL
        .iter()
        .map(|k| {
            let in_kind = |kind: ExperienceKind| kind == *k;
            let records = records.iter().filter(|(_, kind, a, b)| in_kind(*kind) && in_year(*a, *b, year)).count();
            let mine: Vec<&Seat> =
                seats.iter().filter(|s| in_kind(s.kind) && in_year(s.started_on, s.ended_on, year)).collect();
            let people: std::collections::BTreeSet<i64> = mine.iter().map(|s| s.person_id).collect();
            KindTotal {
                kind: Some(*k),
                records,
                seats: mine.len(),
                people: people.len(),
                hours: mine.iter().filter_map(|s| s.hours).sum(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn impossible_spans_are_named() {
        let s = Span {
            kind: Some(ExperienceKind::Secondment),
            started_on: Some(d("2026-03-01")),
            ended_on: Some(d("2026-02-01")),
            hours: None,
        };
        assert_eq!(
            span_problems(&s),
            [("结束日期".to_string(), "2026-02-01 早于开始日期 2026-03-01，请核对".to_string())]
        );
        let t = Span { kind: Some(ExperienceKind::Training), ..Default::default() };
        assert_eq!(span_problems(&t)[0].0, "学时");
        let t = Span { hours: Some(0.0), ..t };
        assert_eq!(span_problems(&t)[0].1, "应大于 0、不超过 2000（当前 0）");
        assert!(span_problems(&Span { hours: Some(40.0), ..t }).is_empty());
    }

    #[test]
    fn a_year_counts_what_overlaps_it() {
        assert!(in_year(d("2025-11-01"), Some(d("2026-01-31")), 2026));
        assert!(in_year(d("2025-11-01"), None, 2026));
        assert!(!in_year(d("2025-03-01"), Some(d("2025-06-30")), 2026));
        assert!(!in_year(d("2027-01-01"), None, 2026));
    }

    fn kind(i: u8) -> ExperienceKind {
        ExperienceKind::ALL[usize::from(i) % 4]
    }

    proptest! {
        /// Totals never count a person twice within a kind, never more seats than given, and the
        /// hours are the in-year 调训 seats' hours.
        #[test]
        fn totals_add_up(seats in proptest::collection::vec((0u8..4, 0i64..6, 0i64..12, 0i64..800, 0u32..3), 0..40)) {
            let base = d("2025-06-01");
            let seats: Vec<Seat> = seats
                .into_iter()
                .map(|(k, record, person, start, len)| Seat {
                    kind: kind(k),
                    record_id: record,
                    person_id: person,
                    started_on: base + chrono::Duration::days(start),
                    ended_on: (len > 0).then(|| base + chrono::Duration::days(start + i64::from(len) * 90)),
                    hours: (kind(k) == ExperienceKind::Training).then_some(8.0),
                })
                .collect();
            let t = year_totals(&[], &seats, 2026);
            let total: usize = t.iter().map(|k| k.seats).sum();
            prop_assert!(total <= seats.len());
            for k in &t {
                prop_assert!(k.people <= k.seats);
            }
            let training = &t[1];
            prop_assert_eq!(training.hours, training.seats as f64 * 8.0);
            let outside = seats.iter().filter(|s| !in_year(s.started_on, s.ended_on, 2026)).count();
            prop_assert_eq!(total + outside, seats.len());
        }
    }
}
