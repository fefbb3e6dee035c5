//! Key projects (重点项目) and their bid sections (标段): each section is compared with the time
//! elapsed on its own schedule, and sections of one project are ranked so the laggard stands out.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::indicators::{fmt_num, round1, tenths, time_progress};
use crate::validate::FieldError;

/// A section lagging more than this many points behind its time progress is flagged.
pub const DEFAULT_LAG_TOLERANCE: f64 = 10.0;

/// Largest investment figure accepted, in 万元 (一万亿元): anything larger is a typo.
pub const MAX_AMOUNT_WAN: f64 = 1e8;

/// One bid section with its contractor, schedule and reported progress.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BidSection {
    pub id: i64,
    pub name: String,
    pub contractor: String,
    pub start: NaiveDate,
    pub due: NaiveDate,
    /// 0..=100
    pub progress: i64,
}

impl BidSection {
    /// 标段名称 present, 标段工期 due after start, 标段进度 0–100.
    pub fn validate(&self) -> Result<(), FieldError> {
        crate::validate::required_text("标段名称", &self.name, 100)?;
        if self.due <= self.start {
            return Err(FieldError::new(
                "标段工期",
                format!("完工日期（{}）应晚于开工日期（{}）", self.due, self.start),
            ));
        }
        crate::validate::progress("标段进度", self.progress)?;
        Ok(())
    }
}

/// A section's place among its siblings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RankedSection {
    /// 1-based; sections equal on gap and progress share a rank.
    pub rank: i64,
    pub id: i64,
    pub name: String,
    pub contractor: String,
    /// Time progress of the section's schedule, percent, 1 decimal.
    pub planned_percent: f64,
    pub progress: i64,
    /// progress − planned_percent, 1 decimal; negative is behind.
    pub gap: f64,
    /// Behind by more than the tolerance.
    pub lagging: bool,
}

/// [`rank_sections_with`] at the default tolerance of 10 points.
pub fn rank_sections(sections: &[BidSection], as_of: NaiveDate) -> Vec<RankedSection> {
    rank_sections_with(sections, as_of, DEFAULT_LAG_TOLERANCE)
}

/// Sections by gap (ahead first), then progress, then name; the most lagging section is last.
pub fn rank_sections_with(sections: &[BidSection], as_of: NaiveDate, lag_tolerance: f64) -> Vec<RankedSection> {
    let tol = tenths(lag_tolerance.max(0.0));
    let mut rows: Vec<(i64, RankedSection)> = sections
        .iter()
        .map(|s| {
            let planned = round1(time_progress(s.start, s.due, as_of));
            // Work in tenths so the shown gap and the flag agree exactly.
            let gap_t = s.progress * 10 - tenths(planned);
            let r = RankedSection {
                rank: 0,
                id: s.id,
                name: s.name.clone(),
                contractor: s.contractor.clone(),
                planned_percent: planned,
                progress: s.progress,
                gap: gap_t as f64 / 10.0,
                lagging: gap_t < -tol,
            };
            (gap_t, r)
        })
        .collect();
    rows.sort_by(|a, b| {
        b.0.cmp(&a.0).then(b.1.progress.cmp(&a.1.progress)).then(a.1.name.cmp(&b.1.name)).then(a.1.id.cmp(&b.1.id))
    });
    let mut prev: Option<(i64, i64, i64)> = None;
    for (i, (g, r)) in rows.iter_mut().enumerate() {
        r.rank = match prev {
            Some((pg, pp, pr)) if pg == *g && pp == r.progress => pr,
            _ => i as i64 + 1,
        };
        prev = Some((*g, r.progress, r.rank));
    }
    rows.into_iter().map(|(_, r)| r).collect()
}

/// A project's overall progress: the mean of its sections' progress, rounded (0 with no sections).
pub fn project_progress(sections: &[BidSection]) -> i64 {
    if sections.is_empty() {
        return 0;
    }
    let sum: i64 = sections.iter().map(|s| s.progress).sum();
    (sum as f64 / sections.len() as f64).round() as i64
}

/// An investment amount in 万元: a finite number from 0 to 10^8.
pub fn validate_amount(field: &str, value: f64) -> Result<f64, FieldError> {
    if !value.is_finite() || !(0.0..=MAX_AMOUNT_WAN).contains(&value) {
        let shown = if value.is_finite() { fmt_num(value) } else { "无效数字".to_string() };
        return Err(FieldError::new(field, format!("应在 0 到 100000000 万元之间（当前 {shown}）")));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn sec(id: i64, name: &str, progress: i64) -> BidSection {
        BidSection {
            id,
            name: name.into(),
            contractor: format!("施工单位{id}"),
            start: d("2026-03-01"),
            due: d("2026-06-30"),
            progress,
        }
    }

    #[test]
    fn road_phase_three_fourth_section_lags() {
        // 道路综合整治三期「一环十横十纵」: four sections due 2026-06-30, as of 2026-05-20 (81 of 122 days, 66.4 %).
        let s = [sec(1, "第一标段", 80), sec(2, "第二标段", 75), sec(3, "第三标段", 78), sec(4, "第四标段", 40)];
        let r = rank_sections(&s, d("2026-05-20"));
        let rows: Vec<_> = r.iter().map(|x| (x.rank, x.name.as_str(), x.planned_percent, x.gap, x.lagging)).collect();
        assert_eq!(
            rows,
            vec![
                (1, "第一标段", 66.4, 13.6, false),
                (2, "第三标段", 66.4, 11.6, false),
                (3, "第二标段", 66.4, 8.6, false),
                (4, "第四标段", 66.4, -26.4, true),
            ]
        );
        assert_eq!(project_progress(&s), 68); // (80 + 75 + 78 + 40) / 4 = 68.25
    }

    #[test]
    fn tolerance_boundary_and_ties() {
        // Planned 66.4: progress 56 is 10.4 behind (lagging), 57 is 9.4 behind (not).
        let r = rank_sections(&[sec(1, "乙", 56), sec(2, "甲", 57)], d("2026-05-20"));
        assert_eq!((r[0].name.as_str(), r[0].lagging, r[1].lagging), ("甲", false, true));
        let r = rank_sections_with(&[sec(1, "乙", 56)], d("2026-05-20"), 11.0);
        assert!(!r[0].lagging);
        // Same schedule and progress: shared rank, listed by name.
        let r =
            rank_sections(&[sec(2, "第二标段", 50), sec(1, "第一标段", 50), sec(3, "第三标段", 10)], d("2026-05-20"));
        assert_eq!(r.iter().map(|x| (x.rank, x.id)).collect::<Vec<_>>(), vec![(1, 1), (1, 2), (3, 3)]);
        // Not started yet: nothing planned, nothing lagging.
        let r = rank_sections(&[sec(1, "第一标段", 0)], d("2026-02-01"));
        assert_eq!((r[0].planned_percent, r[0].gap, r[0].lagging), (0.0, 0.0, false));
    }

    #[test]
    fn amounts_and_sections_validate() {
        assert_eq!(validate_amount("计划总投资（万元）", 12800.5), Ok(12800.5));
        assert_eq!(
            validate_amount("计划总投资（万元）", -1.0).unwrap_err().to_string(),
            "字段「计划总投资（万元）」应在 0 到 100000000 万元之间（当前 -1）"
        );
        assert!(validate_amount("预计年税收（万元）", 1e8).is_ok());
        assert_eq!(validate_amount("预计年税收（万元）", 1e8 + 1.0).unwrap_err().field, "预计年税收（万元）");
        assert!(validate_amount("x", f64::INFINITY).unwrap_err().message.contains("无效数字"));
        assert!(sec(1, "第一标段", 100).validate().is_ok());
        assert_eq!(sec(1, "第一标段", 101).validate().unwrap_err().field, "标段进度");
        assert_eq!(sec(1, " ", 1).validate().unwrap_err().field, "标段名称");
        let mut s = sec(1, "第一标段", 1);
        s.due = s.start;
        assert_eq!(s.validate().unwrap_err().field, "标段工期");
        assert_eq!(project_progress(&[]), 0);
    }

    proptest! {
        /// The list is ordered by gap, ranks are 1-based and non-decreasing, and any lagging section sits below every non-lagging one.
        #[test]
        fn lagging_sections_sink(ps in proptest::collection::vec((0i64..=100, 0i64..200, 1i64..300), 1..10), day in 0i64..400) {
            let base = d("2026-01-01");
            let s: Vec<_> = ps.iter().enumerate().map(|(i, (p, off, len))| BidSection {
                id: i as i64, name: format!("第{i}标段"), contractor: String::new(),
                start: base + chrono::Duration::days(*off), due: base + chrono::Duration::days(off + len), progress: *p,
            }).collect();
            let r = rank_sections(&s, base + chrono::Duration::days(day));
            prop_assert_eq!(r.len(), s.len());
            prop_assert_eq!(r[0].rank, 1);
            for w in r.windows(2) {
                prop_assert!(w[0].gap >= w[1].gap);
                prop_assert!(w[0].rank <= w[1].rank);
                prop_assert!(!w[0].lagging || w[1].lagging, "a lagging section never ranks before a leading one");
            }
            for x in &r {
                prop_assert!((0.0..=100.0).contains(&x.planned_percent));
                prop_assert_eq!(x.lagging, x.gap < -DEFAULT_LAG_TOLERANCE);
            }
            let mean = project_progress(&s);
            prop_assert!(s.iter().map(|x| x.progress).min().unwrap() <= mean && mean <= s.iter().map(|x| x.progress).max().unwrap());
        }
    }
}
