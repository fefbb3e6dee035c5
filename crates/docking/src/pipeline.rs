//! The docking (对接) pipeline: 推荐 → 意向沟通 → 对接洽谈 → 签订合作意向书 → 签订技术合同 →
//! 转化/产业化 → 结项, or 终止 with a reason from any open stage. One table decides every move, so an
//! illegal one is refused in one place with one Chinese message.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Recommended,
    Contacting,
    Negotiating,
    IntentSigned,
    ContractSigned,
    Transforming,
    Concluded,
    Terminated,
}

impl Stage {
    pub const ALL: [Stage; 8] = [
        Self::Recommended,
        Self::Contacting,
        Self::Negotiating,
        Self::IntentSigned,
        Self::ContractSigned,
        Self::Transforming,
        Self::Concluded,
        Self::Terminated,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Self::Recommended => "recommended",
            Self::Contacting => "contacting",
            Self::Negotiating => "negotiating",
            Self::IntentSigned => "intent_signed",
            Self::ContractSigned => "contract_signed",
            Self::Transforming => "transforming",
            Self::Concluded => "concluded",
            Self::Terminated => "terminated",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Recommended => "推荐",
            Self::Contacting => "意向沟通",
            Self::Negotiating => "对接洽谈",
            Self::IntentSigned => "签订合作意向书",
            Self::ContractSigned => "签订技术合同",
            Self::Transforming => "转化/产业化",
            Self::Concluded => "结项",
            Self::Terminated => "终止",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s || k.label_zh() == s)
    }
    pub fn is_final(self) -> bool {
        matches!(self, Self::Concluded | Self::Terminated)
    }
    /// The stage after this one on the main line, if any.
    pub fn next(self) -> Option<Stage> {
        let line = &Self::ALL[..7];
        line.iter().position(|s| *s == self).and_then(|i| line.get(i + 1)).copied()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StageError(pub String);

/// What moving from `from` to `to` needs, and whether it is allowed at all. Stages move forward one
/// at a time (a docking that skips 洽谈 did not happen as recorded), or to 终止 from any open stage;
/// nothing leaves 结项 or 终止. Reaching 签订技术合同 needs a registered contract.
pub fn check_move(from: Stage, to: Stage, has_contract: bool, reason: &str) -> Result<(), StageError> {
    if from.is_final() {
        return Err(StageError(format!("对接已「{}」，不能再变更阶段", from.label_zh())));
    }
    if to == Stage::Terminated {
        return if reason.trim().is_empty() { Err(StageError("终止对接须写明原因".into())) } else { Ok(()) };
    }
    if from.next() != Some(to) {
        let next = from.next().map(|n| n.label_zh()).unwrap_or("—");
        return Err(StageError(format!(
            "对接当前为「{}」，下一阶段应为「{next}」，不能直接进入「{}」",
            from.label_zh(),
            to.label_zh()
        )));
    }
    if to == Stage::ContractSigned && !has_contract {
        return Err(StageError(
            "进入「签订技术合同」前须先登记技术合同（类型、双方、金额、技术性收入、签订日期）".into(),
        ));
    }
    Ok(())
}

/// How many dockings reached each stage of the main line, given the furthest stage each reached
/// (a terminated docking counts for the stages it passed before it stopped), with the share of
/// all dockings. The 推荐 → 签订技术合同 conversion the district reports is the fifth row.
pub fn funnel(furthest: &[Stage]) -> Vec<(Stage, usize, f64)> {
    let total = furthest.len();
    Stage::ALL[..7]
        .iter()
        .map(|s| {
            let n = furthest.iter().filter(|f| **f != Stage::Terminated && **f >= *s).count();
            (*s, n, if total == 0 { 0.0 } else { n as f64 / total as f64 })
        })
        .collect()
}

#[cfg(test)]
mod funnel_tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn counts_each_stage_reached() {
        let f = funnel(&[Stage::Recommended, Stage::ContractSigned, Stage::Concluded, Stage::Negotiating]);
        assert_eq!(f[0], (Stage::Recommended, 4, 1.0));
        assert_eq!(f[4], (Stage::ContractSigned, 2, 0.5));
        assert_eq!(f[6], (Stage::Concluded, 1, 0.25));
    }

    proptest! {
        #[test]
        fn the_funnel_never_widens(f in prop::collection::vec(prop::sample::select(Stage::ALL[..7].to_vec()), 0..40)) {
            let rows = funnel(&f);
            prop_assert_eq!(rows[0].1, f.len());
            prop_assert!(rows.windows(2).all(|w| w[0].1 >= w[1].1));
        }
    }
}
