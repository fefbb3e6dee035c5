//! 问题台账: problems that a unit cannot solve alone (often the 问题台账候选 of the escalation
//! ladder). A problem is 研判, coordinated by its lead unit, escalated to the 区委区政府 when
//! coordination fails, 批示 by a leader, and finally 化解. One table, like the task lifecycle.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::access::Role;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProblemStatus {
    /// 待研判: entered in the ledger, nobody is working on it yet.
    Pending,
    /// 协调中: the lead unit is coordinating (meetings, 研判会).
    Coordinating,
    /// 已上报区委区政府: beyond the units; waiting for a leader.
    Escalated,
    /// 已批示: a leader has given an instruction; the units act on it.
    Instructed,
    /// 已化解 (terminal).
    Resolved,
}

impl ProblemStatus {
    pub const ALL: [ProblemStatus; 5] =
        [Self::Pending, Self::Coordinating, Self::Escalated, Self::Instructed, Self::Resolved];
    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Coordinating => "coordinating",
            Self::Escalated => "escalated",
            Self::Instructed => "instructed",
            Self::Resolved => "resolved",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Pending => "待研判",
            Self::Coordinating => "协调中",
            Self::Escalated => "已上报区委区政府",
            Self::Instructed => "已批示",
            Self::Resolved => "已化解",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }
    pub fn is_terminal(self) -> bool {
        self == Self::Resolved
    }
}

/// Everything a person can do to a problem; each is recorded with actor, time and comment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProblemAction {
    /// 开始协调
    StartCoordination,
    /// 召开协调会/研判会 (starts coordination when still pending)
    HoldMeeting,
    /// 上报区委区政府
    Escalate,
    /// 领导批示
    Instruct,
    /// 化解销号
    Resolve,
}

impl ProblemAction {
    pub const ALL: [ProblemAction; 5] =
        [Self::StartCoordination, Self::HoldMeeting, Self::Escalate, Self::Instruct, Self::Resolve];
    pub fn code(self) -> &'static str {
        match self {
            Self::StartCoordination => "start_coordination",
            Self::HoldMeeting => "hold_meeting",
            Self::Escalate => "escalate",
            Self::Instruct => "instruct",
            Self::Resolve => "resolve",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::StartCoordination => "开始协调",
            Self::HoldMeeting => "召开协调会/研判会",
            Self::Escalate => "上报区委区政府",
            Self::Instruct => "批示",
            Self::Resolve => "化解",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProblemTransitionError {
    #[error("问题当前状态为「{}」，不能执行「{}」", .from.label_zh(), .action.label_zh())]
    NotAllowed { from: ProblemStatus, action: ProblemAction },
}

/// The problem transition table: the status after `action`, or why it is refused.
pub fn next_problem_status(
    from: ProblemStatus,
    action: ProblemAction,
) -> Result<ProblemStatus, ProblemTransitionError> {
    use ProblemAction as A;
    use ProblemStatus as S;
    let to = match (from, action) {
        (S::Pending, A::StartCoordination) => S::Coordinating,
        (S::Pending | S::Coordinating, A::HoldMeeting) => S::Coordinating,
        // Some problems are obviously beyond the units; 督查局 may escalate without a meeting.
        (S::Pending | S::Coordinating, A::Escalate) => S::Escalated,
        (S::Escalated, A::Instruct) => S::Instructed,
        (S::Coordinating | S::Instructed, A::Resolve) => S::Resolved,
        _ => return Err(ProblemTransitionError::NotAllowed { from, action }),
    };
    Ok(to)
}

/// The actions a problem status allows, in display order.
pub fn allowed_problem_actions(from: ProblemStatus) -> Vec<ProblemAction> {
    ProblemAction::ALL.into_iter().filter(|a| next_problem_status(from, *a).is_ok()).collect()
}

/// Who may act: 督查局 all but 批示; 区领导 批示 and 化解; the lead unit's 联络员 coordinates,
/// escalates and resolves. Nobody else.
pub fn problem_action_allowed(role: Role, is_lead_unit_member: bool, action: ProblemAction) -> bool {
    use ProblemAction as A;
    match role {
        Role::Supervisor => action != A::Instruct,
        Role::Leader => matches!(action, A::Instruct | A::Resolve),
        Role::Liaison => {
            is_lead_unit_member && matches!(action, A::StartCoordination | A::HoldMeeting | A::Escalate | A::Resolve)
        }
        Role::Admin
        | Role::Responsible
        | Role::TechBureau
        | Role::Enterprise
        | Role::Institution
        | Role::SecurityAdmin
        | Role::AuditAdmin
        | Role::OrgDept => false,
    }
}

/// Calendar days the problem has been in the ledger (0 on the day it was raised, never negative).
pub fn age_days(raised_on: NaiveDate, today: NaiveDate) -> i64 {
    (today - raised_on).num_days().max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProblemAction as A;
    use ProblemStatus as S;
    use proptest::prelude::*;

    #[test]
    fn full_transition_table() {
        // Every status × action; `None` is refused.
        let expected: [(S, [Option<S>; 5]); 5] = [
            //            StartCoordination  HoldMeeting          Escalate          Instruct            Resolve
            (S::Pending, [Some(S::Coordinating), Some(S::Coordinating), Some(S::Escalated), None, None]),
            (S::Coordinating, [None, Some(S::Coordinating), Some(S::Escalated), None, Some(S::Resolved)]),
            (S::Escalated, [None, None, None, Some(S::Instructed), None]),
            (S::Instructed, [None, None, None, None, Some(S::Resolved)]),
            (S::Resolved, [None, None, None, None, None]),
        ];
        for (from, row) in expected {
            for (a, want) in A::ALL.into_iter().zip(row) {
                assert_eq!(next_problem_status(from, a).ok(), want, "{} × {}", from.label_zh(), a.label_zh());
            }
        }
    }

    #[test]
    fn refusal_names_status_and_action() {
        let e = next_problem_status(S::Pending, A::Instruct).unwrap_err();
        assert_eq!(e.to_string(), "问题当前状态为「待研判」，不能执行「批示」");
        let e = next_problem_status(S::Resolved, A::HoldMeeting).unwrap_err();
        assert_eq!(e.to_string(), "问题当前状态为「已化解」，不能执行「召开协调会/研判会」");
    }

    #[test]
    fn main_paths() {
        let walk = |acts: &[A]| acts.iter().try_fold(S::Pending, |s, a| next_problem_status(s, *a));
        assert_eq!(walk(&[A::HoldMeeting, A::HoldMeeting, A::Resolve]), Ok(S::Resolved));
        assert_eq!(walk(&[A::StartCoordination, A::Escalate, A::Instruct, A::Resolve]), Ok(S::Resolved));
        assert_eq!(walk(&[A::Escalate, A::Instruct, A::Resolve]), Ok(S::Resolved));
        assert!(walk(&[A::Escalate, A::Resolve]).is_err(), "an escalated problem waits for the 批示");
    }

    #[test]
    fn who_may_act() {
        let table: [(Role, bool, [bool; 5]); 8] = [
            //                         Start  Meeting Escalate Instruct Resolve
            (Role::Supervisor, false, [true, true, true, false, true]),
            (Role::Supervisor, true, [true, true, true, false, true]),
            (Role::Leader, false, [false, false, false, true, true]),
            (Role::Liaison, true, [true, true, true, false, true]),
            (Role::Liaison, false, [false, false, false, false, false]),
            (Role::Admin, true, [false, false, false, false, false]),
            (Role::Responsible, true, [false, false, false, false, false]),
            (Role::Leader, true, [false, false, false, true, true]),
        ];
        for (role, lead, row) in table {
            for (a, want) in A::ALL.into_iter().zip(row) {
                assert_eq!(
                    problem_action_allowed(role, lead, a),
                    want,
                    "{} (lead {lead}) × {}",
                    role.label_zh(),
                    a.label_zh()
                );
            }
        }
    }

    #[test]
    fn codes_round_trip_and_age() {
        for s in S::ALL {
            assert_eq!(S::from_code(s.code()), Some(s));
        }
        for a in A::ALL {
            assert_eq!(A::from_code(a.code()), Some(a));
        }
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(age_days(d("2026-10-30"), d("2026-11-23")), 24);
        assert_eq!(age_days(d("2026-11-23"), d("2026-11-23")), 0);
        assert_eq!(age_days(d("2026-11-24"), d("2026-11-23")), 0);
        assert_eq!(allowed_problem_actions(S::Escalated), vec![A::Instruct]);
    }

    proptest! {
        /// Random walks never leave 已化解, and 已批示 is only reached through 已上报.
        #[test]
        fn walks_stay_legal(acts in proptest::collection::vec(proptest::sample::select(A::ALL.to_vec()), 0..30)) {
            let mut s = S::Pending;
            let mut escalated = false;
            for a in acts {
                if let Ok(t) = next_problem_status(s, a) {
                    prop_assert!(!s.is_terminal());
                    if t == S::Escalated { escalated = true; }
                    if t == S::Instructed { prop_assert!(escalated && s == S::Escalated); }
                    s = t;
                }
            }
        }
    }
}
