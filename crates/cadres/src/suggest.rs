//! Candidates from the work people actually did: reasons to look at a person for the pool, drawn
//! from the supervision records. Suggestions only: the 组织部 decides, and every reason names the
//! record it rests on.

use chrono::NaiveDateTime;
use serde::Serialize;

/// How a sub-task a person was responsible for ended (or stands).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 按期办结
    OnTime,
    /// 逾期办结
    LateDone,
    /// 逾期未完成
    Overdue,
    /// 退回整改
    Returned,
    /// 在办
    Open,
}

impl Outcome {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::OnTime => "按期办结",
            Self::LateDone => "逾期办结",
            Self::Overdue => "逾期未完成",
            Self::Returned => "退回整改",
            Self::Open => "在办",
        }
    }
    pub fn is_late(self) -> bool {
        matches!(self, Self::LateDone | Self::Overdue)
    }

    /// The outcome of work `done` (finished at `finished`) against its `deadline`, seen `now`;
    /// `sent_back` when the task was returned for rework at least once.
    pub fn of(
        done: bool,
        finished: Option<NaiveDateTime>,
        deadline: NaiveDateTime,
        now: NaiveDateTime,
        sent_back: bool,
    ) -> Self {
        match (done, finished) {
            (true, Some(f)) if f <= deadline => Self::OnTime,
            (true, _) => Self::LateDone,
            _ if now > deadline => Self::Overdue,
            _ if sent_back => Self::Returned,
            _ => Self::Open,
        }
    }
}

/// What the records say of one person (the storage layer counts them).
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WorkRecord {
    /// Sub-tasks (and tasks led as the unit's person in charge) closed on or before their deadline,
    /// by 工作类别.
    pub on_time_by_category: Vec<(String, usize)>,
    pub overdue: usize,
    /// Sent back (退回整改).
    pub returned: usize,
    /// 通报 that praised the person: (category, title).
    pub praised: Vec<(String, String)>,
    /// 通报 that criticised the person.
    pub criticised: usize,
    /// 工作专班 served in.
    pub task_forces: usize,
}

/// 工作类别 whose hard work the district names (疫情防控、防汛救灾 …): praise there is a reason on
/// its own.
pub const HARD_CATEGORIES: [&str; 5] = ["疫情防控", "防汛", "救灾", "安全生产", "信访稳定"];

/// How many tasks closed on time in one category make a reason.
pub const ON_TIME_IN_A_CATEGORY: usize = 3;

/// The reasons, in Chinese; none when the record gives none, or when it also holds a criticism or
/// more overdue than on-time work (a suggestion is never made over a blemish the 组织部 should
/// weigh first).
pub fn reasons(r: &WorkRecord) -> Vec<String> {
    let on_time: usize = r.on_time_by_category.iter().map(|(_, n)| n).sum();
    if r.criticised > 0 || r.overdue > on_time {
        return vec![];
    }
    let mut out = vec![];
    for (category, title) in &r.praised {
        if HARD_CATEGORIES.iter().any(|h| category.contains(h)) {
            out.push(format!("在「{category}」工作中受通报表扬（{title}）"));
        }
    }
    let praised_elsewhere = r.praised.iter().filter(|(c, _)| !HARD_CATEGORIES.iter().any(|h| c.contains(h))).count();
    if praised_elsewhere > 0 {
        out.push(format!("受通报表扬 {praised_elsewhere} 次"));
    }
    for (category, n) in &r.on_time_by_category {
        if *n >= ON_TIME_IN_A_CATEGORY {
            out.push(format!("「{category}」类任务按期办结 {n} 项"));
        }
    }
    if r.task_forces > 0 && !out.is_empty() {
        out.push(format!("参加工作专班 {} 个", r.task_forces));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reasons_name_the_record() {
        let r = WorkRecord {
            on_time_by_category: vec![("重点项目".into(), 3), ("城市管理".into(), 1)],
            praised: vec![("防汛救灾".into(), "二七督通〔2026〕5号".into())],
            task_forces: 1,
            ..Default::default()
        };
        assert_eq!(
            reasons(&r),
            [
                "在「防汛救灾」工作中受通报表扬（二七督通〔2026〕5号）",
                "「重点项目」类任务按期办结 3 项",
                "参加工作专班 1 个"
            ]
        );
        assert!(reasons(&WorkRecord { criticised: 1, ..r.clone() }).is_empty(), "a criticism is weighed first");
        assert!(reasons(&WorkRecord { task_forces: 3, ..Default::default() }).is_empty(), "a team alone is no reason");
    }

    #[test]
    fn outcomes_read_the_dates() {
        let t = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        let (deadline, now) = (t("2026-11-30 18:00"), t("2026-12-06 10:00"));
        assert_eq!(Outcome::of(true, Some(t("2026-11-30 17:59")), deadline, now, false), Outcome::OnTime);
        assert_eq!(Outcome::of(true, Some(t("2026-12-01 09:00")), deadline, now, false), Outcome::LateDone);
        assert_eq!(Outcome::of(false, None, deadline, now, false), Outcome::Overdue);
        let later = t("2026-12-31 18:00");
        assert_eq!(Outcome::of(false, None, later, now, true), Outcome::Returned);
        assert_eq!(Outcome::of(false, None, later, now, false), Outcome::Open);
        assert!(Outcome::Overdue.is_late() && !Outcome::Returned.is_late());
    }

    proptest! {
        /// More on-time work never takes a reason away, and a criticism always does.
        #[test]
        fn more_work_more_reasons(n in 0usize..10, extra in 0usize..5, overdue in 0usize..5) {
            let r = WorkRecord { on_time_by_category: vec![("重点项目".into(), n)], overdue, ..Default::default() };
            let more = WorkRecord { on_time_by_category: vec![("重点项目".into(), n + extra)], ..r.clone() };
            prop_assert!(reasons(&more).len() >= reasons(&r).len());
            let criticised = WorkRecord { criticised: 1, ..more };
            prop_assert!(reasons(&criticised).is_empty());
        }
    }
}
