//! Review of submissions to the libraries (难题库、专家库、成果库): 提交 → 形式审核 → 部门审核 →
//! 发布, with 退回 (a reason is required) and 重新提交, and expiry after a configurable time
//! unless renewed. One table decides every move, so the storage and web layers only ask it.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    /// 待形式审核
    Submitted,
    /// 待部门审核 (形式审核已通过)
    FormalPassed,
    /// 已退回，待修改后重新提交
    Returned,
    /// 已发布
    Published,
    /// 已过期（发布后超过有效期未续期）
    Expired,
}

impl ReviewStatus {
    pub const ALL: [ReviewStatus; 5] =
        [Self::Submitted, Self::FormalPassed, Self::Returned, Self::Published, Self::Expired];
    pub fn code(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::FormalPassed => "formal_passed",
            Self::Returned => "returned",
            Self::Published => "published",
            Self::Expired => "expired",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Submitted => "待形式审核",
            Self::FormalPassed => "待部门审核",
            Self::Returned => "已退回",
            Self::Published => "已发布",
            Self::Expired => "已过期",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewAction {
    /// 形式审核通过
    PassFormal,
    /// 部门审核通过并发布
    Approve,
    /// 退回（须写明原因）
    Return,
    /// 修改后重新提交
    Resubmit,
    /// 续期（已发布或已过期的记录重新获得一个有效期）
    Renew,
    /// 到期（由定时清理执行）
    Expire,
}

impl ReviewAction {
    pub const ALL: [ReviewAction; 6] =
        [Self::PassFormal, Self::Approve, Self::Return, Self::Resubmit, Self::Renew, Self::Expire];
    pub fn code(self) -> &'static str {
        match self {
            Self::PassFormal => "pass_formal",
            Self::Approve => "approve",
            Self::Return => "return",
            Self::Resubmit => "resubmit",
            Self::Renew => "renew",
            Self::Expire => "expire",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::PassFormal => "形式审核通过",
            Self::Approve => "部门审核通过并发布",
            Self::Return => "退回",
            Self::Resubmit => "重新提交",
            Self::Renew => "续期",
            Self::Expire => "到期",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }
    /// 科技局's actions; the others belong to the submitter (重新提交) or the scheduler (到期).
    pub fn is_reviewers(self) -> bool {
        matches!(self, Self::PassFormal | Self::Approve | Self::Return | Self::Renew)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ReviewError(pub String);

/// The status after `action`, or why it is not allowed now. A return needs a reason (the
/// submitter must know what to fix).
pub fn next_status(from: ReviewStatus, action: ReviewAction, reason: &str) -> Result<ReviewStatus, ReviewError> {
    use ReviewAction as A;
    use ReviewStatus as S;
    let to = match (from, action) {
        (S::Submitted, A::PassFormal) => S::FormalPassed,
        (S::Submitted | S::FormalPassed, A::Return) => {
            if reason.trim().is_empty() {
                return Err(ReviewError("退回须写明原因，提交人据此修改".into()));
            }
            S::Returned
        }
        (S::FormalPassed, A::Approve) => S::Published,
        (S::Returned, A::Resubmit) => S::Submitted,
        (S::Published | S::Expired, A::Renew) => S::Published,
        (S::Published, A::Expire) => S::Expired,
        _ => {
            return Err(ReviewError(format!("当前状态为「{}」，不能执行「{}」", from.label_zh(), action.label_zh())));
        }
    };
    Ok(to)
}

/// The last day a record published (or renewed) on `on` stays published, for a validity of
/// `days` days (at least 1).
pub fn expires_on(on: NaiveDate, days: u32) -> NaiveDate {
    on + Duration::days(i64::from(days.max(1)) - 1)
}

/// Validity of a campaign's records, in days: 1 to 3650 (ten years).
pub fn validity_days(value: i64) -> Result<u32, xietong_supervision::FieldError> {
    if (1..=3650).contains(&value) {
        Ok(value as u32)
    } else {
        Err(xietong_supervision::FieldError::new("有效期（天）", format!("应在 1 到 3650 之间（当前 {value}）")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_main_line_publishes_after_two_reviews() {
        let s = next_status(ReviewStatus::Submitted, ReviewAction::PassFormal, "").unwrap();
        assert_eq!(s, ReviewStatus::FormalPassed);
        assert_eq!(next_status(s, ReviewAction::Approve, "").unwrap(), ReviewStatus::Published);
        // No skipping 形式审核.
        assert!(next_status(ReviewStatus::Submitted, ReviewAction::Approve, "").is_err());
    }

    #[test]
    fn a_return_needs_a_reason_and_comes_back_through_formal_review() {
        assert!(next_status(ReviewStatus::FormalPassed, ReviewAction::Return, "  ").is_err());
        let s = next_status(ReviewStatus::FormalPassed, ReviewAction::Return, "缺少预算").unwrap();
        assert_eq!(s, ReviewStatus::Returned);
        assert_eq!(next_status(s, ReviewAction::Resubmit, "").unwrap(), ReviewStatus::Submitted);
    }

    #[test]
    fn expiry_and_renewal() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        assert_eq!(expires_on(d, 365), NaiveDate::from_ymd_opt(2026, 12, 31).unwrap());
        assert_eq!(next_status(ReviewStatus::Published, ReviewAction::Expire, "").unwrap(), ReviewStatus::Expired);
        assert_eq!(next_status(ReviewStatus::Expired, ReviewAction::Renew, "").unwrap(), ReviewStatus::Published);
        assert!(next_status(ReviewStatus::Submitted, ReviewAction::Expire, "").is_err());
        assert!(validity_days(0).is_err() && validity_days(3651).is_err() && validity_days(365).is_ok());
    }

    fn status() -> impl Strategy<Value = ReviewStatus> {
        prop::sample::select(ReviewStatus::ALL.to_vec())
    }
    fn action() -> impl Strategy<Value = ReviewAction> {
        prop::sample::select(ReviewAction::ALL.to_vec())
    }

    proptest! {
        /// Whatever sequence of actions is tried, a record is only ever published after passing
        /// 形式审核 and then 部门审核 since its last (re)submission — or by renewing a record that was.
        #[test]
        fn nothing_is_published_without_both_reviews(actions in prop::collection::vec(action(), 0..30)) {
            let mut s = ReviewStatus::Submitted;
            let mut formal = false;
            let mut ever_published = false;
            for a in actions {
                if let Ok(n) = next_status(s, a, "原因") {
                    if a == ReviewAction::PassFormal { formal = true; }
                    if a == ReviewAction::Resubmit { formal = false; }
                    if n == ReviewStatus::Published && s != ReviewStatus::Published {
                        prop_assert!(formal || (s == ReviewStatus::Expired && ever_published));
                        ever_published = true;
                    }
                    s = n;
                }
            }
        }

        #[test]
        fn codes_round_trip(s in status(), a in action()) {
            prop_assert_eq!(ReviewStatus::from_code(s.code()), Some(s));
            prop_assert_eq!(ReviewAction::from_code(a.code()), Some(a));
        }
    }
}
