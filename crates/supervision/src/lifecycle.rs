//! The task lifecycle as a transition table. Everything that changes a task's state goes
//! through [`next_status`], so an illegal transition is refused in one place with one message.

use serde::{Deserialize, Serialize};

/// Where a task came from (任务来源).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// 上级交办
    Superior,
    /// 会议（区委常委会、区政府常务会、专题会议）
    Meeting,
    /// 领导批示
    Instruction,
}

impl SourceKind {
    pub const ALL: [SourceKind; 3] = [Self::Superior, Self::Meeting, Self::Instruction];
    pub fn code(self) -> &'static str {
        match self {
            Self::Superior => "superior",
            Self::Meeting => "meeting",
            Self::Instruction => "instruction",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Superior => "上级交办",
            Self::Meeting => "会议",
            Self::Instruction => "领导批示",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s || k.label_zh() == s)
    }
}

/// How often the lead unit must report progress (推进汇报周期).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportCycle {
    Weekly,
    Semimonthly,
    Monthly,
    Milestone,
}

impl ReportCycle {
    pub const ALL: [ReportCycle; 4] = [Self::Weekly, Self::Semimonthly, Self::Monthly, Self::Milestone];
    pub fn code(self) -> &'static str {
        match self {
            Self::Weekly => "weekly",
            Self::Semimonthly => "semimonthly",
            Self::Monthly => "monthly",
            Self::Milestone => "milestone",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Weekly => "每周",
            Self::Semimonthly => "每半月",
            Self::Monthly => "每月",
            Self::Milestone => "按节点",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s || k.label_zh() == s)
    }
    /// Calendar days between expected reports; `None` for milestone reporting.
    pub fn interval_days(self) -> Option<i64> {
        match self {
            Self::Weekly => Some(7),
            Self::Semimonthly => Some(15),
            Self::Monthly => Some(30),
            Self::Milestone => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// 立项: registered by the 督查局, not yet handed over.
    Draft,
    /// 已交办: handed to the lead unit; the 2-working-hour decomposition clock runs.
    Assigned,
    /// 已签收: the lead unit acknowledged receipt.
    Received,
    /// 推进中: decomposed into sub-tasks and being worked on.
    InProgress,
    /// 办结申请: the unit asked for closure; awaiting the 督查局's review.
    PendingReview,
    /// 办结销号
    Closed,
    /// 已撤销
    Cancelled,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 7] = [
        Self::Draft,
        Self::Assigned,
        Self::Received,
        Self::InProgress,
        Self::PendingReview,
        Self::Closed,
        Self::Cancelled,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Assigned => "assigned",
            Self::Received => "received",
            Self::InProgress => "in_progress",
            Self::PendingReview => "pending_review",
            Self::Closed => "closed",
            Self::Cancelled => "cancelled",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Draft => "立项",
            Self::Assigned => "已交办",
            Self::Received => "已签收",
            Self::InProgress => "推进中",
            Self::PendingReview => "办结待审核",
            Self::Closed => "已办结销号",
            Self::Cancelled => "已撤销",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Closed | Self::Cancelled)
    }
    /// Open tasks carry a light and are swept for escalation.
    pub fn is_open(self) -> bool {
        !self.is_terminal() && self != Self::Draft
    }
}

/// Everything a person can do to a task. Each is recorded in the timeline with actor, time and comment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// 交办
    Assign,
    /// 签收
    Receive,
    /// 分解 (first decomposition, or adding sub-tasks later)
    Decompose,
    /// 进展汇报
    Report,
    /// 办结申请
    RequestCompletion,
    /// 审核通过、办结销号
    Approve,
    /// 退回整改 (a new round with its own deadline)
    Reject,
    /// 延期申请
    RequestExtension,
    /// 督查局审核延期
    ReviewExtension,
    /// 分管领导审批延期
    DecideExtension,
    /// 撤销
    Cancel,
    /// 催办 (by hand)
    Urge,
    /// 领导批示
    Instruct,
}

impl Action {
    pub const ALL: [Action; 13] = [
        Self::Assign,
        Self::Receive,
        Self::Decompose,
        Self::Report,
        Self::RequestCompletion,
        Self::Approve,
        Self::Reject,
        Self::RequestExtension,
        Self::ReviewExtension,
        Self::DecideExtension,
        Self::Cancel,
        Self::Urge,
        Self::Instruct,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Self::Assign => "assign",
            Self::Receive => "receive",
            Self::Decompose => "decompose",
            Self::Report => "report",
            Self::RequestCompletion => "request_completion",
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::RequestExtension => "request_extension",
            Self::ReviewExtension => "review_extension",
            Self::DecideExtension => "decide_extension",
            Self::Cancel => "cancel",
            Self::Urge => "urge",
            Self::Instruct => "instruct",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Assign => "交办",
            Self::Receive => "签收",
            Self::Decompose => "分解",
            Self::Report => "进展汇报",
            Self::RequestCompletion => "办结申请",
            Self::Approve => "审核通过（办结销号）",
            Self::Reject => "退回整改",
            Self::RequestExtension => "延期申请",
            Self::ReviewExtension => "延期审核",
            Self::DecideExtension => "延期审批",
            Self::Cancel => "撤销",
            Self::Urge => "催办",
            Self::Instruct => "领导批示",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("任务当前状态为「{}」，不能执行「{}」", .from.label_zh(), .action.label_zh())]
    NotAllowed { from: TaskStatus, action: Action },
}

/// The transition table. Returns the status after `action`, or why it is refused.
/// Conditions that depend on more than the status (deadline passed, a pending extension,
/// sub-tasks present) are checked by the caller with the helpers below.
pub fn next_status(from: TaskStatus, action: Action) -> Result<TaskStatus, TransitionError> {
    use Action as A;
    use TaskStatus as S;
    let to = match (from, action) {
        (S::Draft, A::Assign) => S::Assigned,
        (S::Assigned, A::Receive) => S::Received,
        (S::Received | S::InProgress, A::Decompose) => S::InProgress,
        (S::InProgress, A::Report) => S::InProgress,
        (S::InProgress, A::RequestCompletion) => S::PendingReview,
        (S::PendingReview, A::Approve) => S::Closed,
        (S::PendingReview, A::Reject) => S::InProgress,
        (S::Received | S::InProgress, A::RequestExtension) => from,
        (S::Received | S::InProgress | S::PendingReview, A::ReviewExtension | A::DecideExtension) => from,
        (S::Draft | S::Assigned | S::Received | S::InProgress | S::PendingReview, A::Cancel) => S::Cancelled,
        (S::Assigned | S::Received | S::InProgress, A::Urge) => from,
        (s, A::Instruct) if s != S::Cancelled => from,
        _ => return Err(TransitionError::NotAllowed { from, action }),
    };
    Ok(to)
}

/// The actions a status allows, in display order (used to offer only valid buttons).
pub fn allowed_actions(from: TaskStatus) -> Vec<Action> {
    Action::ALL.into_iter().filter(|a| next_status(from, *a).is_ok()).collect()
}

/// 延期申请 goes 督查局审核 → 分管领导审批.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExtensionStatus {
    /// 待督查局审核
    Pending,
    /// 督查局审核通过，待分管领导审批
    Reviewed,
    /// 已批准 (the deadline moved)
    Approved,
    /// 已驳回
    Rejected,
}

impl ExtensionStatus {
    pub const ALL: [ExtensionStatus; 4] = [Self::Pending, Self::Reviewed, Self::Approved, Self::Rejected];
    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Reviewed => "reviewed",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Pending => "待督查局审核",
            Self::Reviewed => "待分管领导审批",
            Self::Approved => "已批准",
            Self::Rejected => "已驳回",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }
    pub fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::Reviewed)
    }
    /// The next extension status for a review (督查局) or decision (分管领导) step.
    pub fn after(self, action: Action, approve: bool) -> Result<ExtensionStatus, String> {
        match (self, action) {
            (Self::Pending, Action::ReviewExtension) => Ok(if approve { Self::Reviewed } else { Self::Rejected }),
            (Self::Reviewed, Action::DecideExtension) => Ok(if approve { Self::Approved } else { Self::Rejected }),
            (s, a) => Err(format!("延期申请当前为「{}」，不能执行「{}」", s.label_zh(), a.label_zh())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn main_path() {
        let mut s = TaskStatus::Draft;
        for a in [
            Action::Assign,
            Action::Receive,
            Action::Decompose,
            Action::Report,
            Action::RequestCompletion,
            Action::Approve,
        ] {
            s = next_status(s, a).unwrap();
        }
        assert_eq!(s, TaskStatus::Closed);
    }

    #[test]
    fn reject_returns_to_progress() {
        assert_eq!(next_status(TaskStatus::PendingReview, Action::Reject), Ok(TaskStatus::InProgress));
    }

    #[test]
    fn refusal_message_is_chinese_and_names_both() {
        let e = next_status(TaskStatus::Assigned, Action::Decompose).unwrap_err();
        assert_eq!(e.to_string(), "任务当前状态为「已交办」，不能执行「分解」");
    }

    #[test]
    fn codes_round_trip() {
        for s in TaskStatus::ALL {
            assert_eq!(TaskStatus::from_code(s.code()), Some(s));
        }
        for a in Action::ALL {
            assert_eq!(Action::from_code(a.code()), Some(a));
        }
        for e in ExtensionStatus::ALL {
            assert_eq!(ExtensionStatus::from_code(e.code()), Some(e));
        }
    }

    #[test]
    fn extension_needs_review_before_decision() {
        assert!(ExtensionStatus::Pending.after(Action::DecideExtension, true).is_err());
        let r = ExtensionStatus::Pending.after(Action::ReviewExtension, true).unwrap();
        assert_eq!(r.after(Action::DecideExtension, true), Ok(ExtensionStatus::Approved));
        assert_eq!(ExtensionStatus::Pending.after(Action::ReviewExtension, false), Ok(ExtensionStatus::Rejected));
    }

    fn any_status() -> impl Strategy<Value = TaskStatus> {
        proptest::sample::select(TaskStatus::ALL.to_vec())
    }
    fn any_action() -> impl Strategy<Value = Action> {
        proptest::sample::select(Action::ALL.to_vec())
    }

    proptest! {
        /// Terminal states are final: nothing but a 批示 on a closed task is accepted, and no action leaves them.
        #[test]
        fn terminal_states_are_final(s in any_status(), a in any_action()) {
            if let Ok(t) = next_status(s, a)
                && s.is_terminal() { prop_assert_eq!(t, s); }
        }

        /// Any sequence of accepted actions from 立项 never returns to 立项 and never skips 交办.
        #[test]
        fn random_walks_stay_legal(actions in proptest::collection::vec(any_action(), 0..40)) {
            let mut s = TaskStatus::Draft;
            let mut assigned = false;
            for a in actions {
                if let Ok(t) = next_status(s, a) {
                    if a == Action::Assign { assigned = true; }
                    if t != TaskStatus::Draft && t != TaskStatus::Cancelled { prop_assert!(assigned); }
                    if s != TaskStatus::Draft { prop_assert_ne!(t, TaskStatus::Draft); }
                    s = t;
                }
            }
        }

        /// allowed_actions agrees with the table.
        #[test]
        fn allowed_matches_table(s in any_status(), a in any_action()) {
            prop_assert_eq!(allowed_actions(s).contains(&a), next_status(s, a).is_ok());
        }
    }
}
