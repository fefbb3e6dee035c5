//! 预计完成: when a task will reach 100 % at the rate its recent reports show, and how sure that
//! is. The model is meant to be explained in one sentence: the average weekly gain of the last
//! three intervals between reports, extrapolated from the last report; the slowest and fastest of
//! those intervals bound it. A task forecast to finish after its deadline is 预计逾期 — flagged
//! before its light turns yellow. Fewer than two reports give no forecast, never an invented date.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::Serialize;

/// One progress report.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Report {
    pub at: NaiveDateTime,
    /// 0–100.
    pub progress: i64,
}

/// What the reports say about the completion date.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Forecast {
    /// Fewer than two reports.
    NotEnough { reports: usize },
    /// Already at 100 %.
    Done,
    /// No gain over the recent reports: at this rate it never finishes.
    Stalled { rate_per_week: f64 },
    Expected {
        date: NaiveDate,
        /// At the fastest recent rate.
        early: NaiveDate,
        /// At the slowest recent rate; none when one recent interval gained nothing.
        late: Option<NaiveDate>,
        rate_per_week: f64,
        /// How many intervals the rate is the average of.
        intervals: usize,
    },
}

/// How many intervals between reports the rate looks back over.
pub const INTERVALS: usize = 3;

fn weeks(a: NaiveDateTime, b: NaiveDateTime) -> f64 {
    (b - a).num_seconds() as f64 / (7.0 * 86_400.0)
}

fn after(from: NaiveDateTime, remaining: f64, rate: f64) -> NaiveDate {
    let days = (remaining / rate * 7.0).ceil().clamp(0.0, 3650.0) as i64;
    (from + Duration::days(days)).date()
}

/// The forecast from reports in time order (a later report replaces one at the same instant).
pub fn forecast(reports: &[Report]) -> Forecast {
    let mut r: Vec<Report> = reports.to_vec();
    r.sort_by_key(|x| x.at);
    r.dedup_by(|later, earlier| {
        let same = later.at == earlier.at;
        if same {
            *earlier = *later;
        }
        same
    });
    if r.last().is_some_and(|x| x.progress >= 100) {
        return Forecast::Done;
    }
    if r.len() < 2 {
        return Forecast::NotEnough { reports: r.len() };
    }
    let recent = &r[r.len().saturating_sub(INTERVALS + 1)..];
    let (first, last) = (recent[0], recent[recent.len() - 1]);
    let span = weeks(first.at, last.at);
    let rate = if span > 0.0 { (last.progress - first.progress) as f64 / span } else { 0.0 };
    if rate <= 0.0 {
        return Forecast::Stalled { rate_per_week: rate.max(0.0) };
    }
    let rates: Vec<f64> = recent
        .windows(2)
        .filter(|w| weeks(w[0].at, w[1].at) > 0.0)
        .map(|w| (w[1].progress - w[0].progress) as f64 / weeks(w[0].at, w[1].at))
        .collect();
    let fastest = rates.iter().copied().fold(rate, f64::max);
    let slowest = rates.iter().copied().fold(rate, f64::min);
    let remaining = (100 - last.progress) as f64;
    Forecast::Expected {
        date: after(last.at, remaining, rate),
        early: after(last.at, remaining, fastest),
        late: (slowest > 0.0).then(|| after(last.at, remaining, slowest)),
        rate_per_week: rate,
        intervals: recent.len() - 1,
    }
}

impl Forecast {
    /// Forecast to finish after `deadline` (or never, when stalled).
    pub fn at_risk(&self, deadline: NaiveDateTime) -> bool {
        match self {
            Forecast::Expected { date, .. } => *date > deadline.date(),
            Forecast::Stalled { .. } => true,
            Forecast::NotEnough { .. } | Forecast::Done => false,
        }
    }

    /// The one sentence that explains it, e.g. "近3次汇报平均每周+8.0%，按此进度预计 12-28 完成，晚于期限 8 天".
    pub fn basis(&self, deadline: NaiveDateTime) -> String {
        match self {
            Forecast::NotEnough { reports } => format!("已汇报 {reports} 次，至少两次汇报后才能预测完成时间"),
            Forecast::Done => "已完成 100%".into(),
            Forecast::Stalled { .. } => "近期汇报进度没有增长，按此进度无法完成".into(),
            Forecast::Expected { date, early, late, rate_per_week, intervals } => {
                let d = (*date - deadline.date()).num_days();
                let vs = match d {
                    0 => "与期限同日".to_string(),
                    d if d > 0 => format!("晚于期限 {d} 天"),
                    d => format!("早于期限 {} 天", -d),
                };
                let range = match late {
                    Some(l) if l != early => {
                        format!("（快慢之间为 {} 至 {}）", early.format("%m-%d"), l.format("%m-%d"))
                    }
                    Some(_) => String::new(),
                    None => format!("（最快 {}，最慢无法估计）", early.format("%m-%d")),
                };
                format!(
                    "近{intervals}次汇报间隔平均每周+{rate_per_week:.1}%，按此进度预计 {} 完成，{vs}{range}",
                    date.format("%m-%d")
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(day: i64) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 2).unwrap().and_hms_opt(10, 0, 0).unwrap() + Duration::days(day)
    }

    #[test]
    fn a_steady_pace_is_extrapolated_and_explained() {
        // 8 % a week, reported weekly: 20 % → 44 % over three weeks; 56 % left → 7 weeks.
        let r: Vec<Report> =
            [(0, 20), (7, 28), (14, 36), (21, 44)].iter().map(|(d, p)| Report { at: at(*d), progress: *p }).collect();
        let f = forecast(&r);
        let Forecast::Expected { date, rate_per_week, intervals, .. } = f.clone() else { panic!("{f:?}") };
        assert_eq!(date, at(21 + 49).date());
        assert!((rate_per_week - 8.0).abs() < 1e-9);
        assert_eq!(intervals, 3);
        let deadline = at(62);
        assert!(f.at_risk(deadline));
        assert_eq!(f.basis(deadline), "近3次汇报间隔平均每周+8.0%，按此进度预计 01-11 完成，晚于期限 8 天");
    }

    #[test]
    fn too_few_reports_or_none_gained_say_so() {
        assert_eq!(forecast(&[]), Forecast::NotEnough { reports: 0 });
        let one = [Report { at: at(0), progress: 30 }];
        assert_eq!(forecast(&one), Forecast::NotEnough { reports: 1 });
        assert!(forecast(&one).basis(at(30)).contains("至少两次汇报"));
        let flat = [Report { at: at(0), progress: 30 }, Report { at: at(7), progress: 30 }];
        assert!(matches!(forecast(&flat), Forecast::Stalled { .. }));
        assert!(forecast(&flat).at_risk(at(300)));
        let done = [Report { at: at(0), progress: 100 }];
        assert_eq!(forecast(&done), Forecast::Done);
    }

    proptest! {
        /// Whatever the reports: the expected date is never before the last report, the bounds
        /// hold it, and more progress at the last report never makes the date later.
        #[test]
        fn bounds_and_monotonicity(
            steps in proptest::collection::vec((1i64..15, 0i64..20), 1..8),
            extra in 0i64..20,
        ) {
            let mut day = 0;
            let mut p = 0;
            let mut r = vec![Report { at: at(0), progress: 0 }];
            for (d, gain) in &steps {
                day += d;
                p = (p + gain).min(99);
                r.push(Report { at: at(day), progress: p });
            }
            if let Forecast::Expected { date, early, late, .. } = forecast(&r) {
                prop_assert!(date >= at(day).date());
                prop_assert!(early <= date);
                if let Some(l) = late { prop_assert!(date <= l); }
                let mut more = r.clone();
                let last = more.len() - 1;
                more[last].progress = (more[last].progress + extra).min(99);
                if let Forecast::Expected { date: sooner, .. } = forecast(&more) {
                    prop_assert!(sooner <= date);
                }
            }
        }
    }
}
