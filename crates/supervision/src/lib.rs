//! 督查督办 domain rules, free of I/O so they can be property-tested and shared by
//! the storage layer, the scheduler and the web layer.
//!
//! - [`lifecycle`]: task states, actions and the transition table (立项 → 交办 → 签收 → 分解 → 推进 → 办结申请 → 审核 → 办结销号).
//! - [`access`]: who may perform which action on which task (谁主管、谁负责).
//! - [`clocks`]: the 交办不过夜 and 2-working-hour decomposition clocks.
//! - [`lights`]: green / yellow / red lights and the escalation ladder (提醒 → 催办 → 通报预警 → 问题台账候选).
//! - [`validate`]: field validators with Chinese messages naming the field.
//! - [`text`]: the one constructor of stored text (NFC, no control, bidi or zero-width characters) and identifier keys.
//! - [`ranking`]: 月度排名 per work category (score formula, tie rule) and the annual assessment with 通报.
//! - [`indicators`]: numeric indicators, time progress and "时间过半、任务过半"; reported rates are rechecked.
//! - [`inspections`]: 督查统筹 "能合尽合" — overlapping planned inspections and merge proposals.
//! - [`problems`]: 问题台账 lifecycle (待研判 → 协调中 → 上报 → 批示 → 已化解) and who may act.
//! - [`evidence`]: attached files — which kinds and sizes are accepted, and what a photo's EXIF says (拍摄于交办之前).
//! - [`projects`]: key projects' bid sections (标段) ranked against time progress; investment amounts.

pub mod access;
pub mod clocks;
pub mod evidence;
pub mod forecast;
pub mod ids;
pub mod indicators;
pub mod inspections;
pub mod lifecycle;
pub mod lights;
pub mod problems;
pub mod projects;
pub mod ranking;
pub mod text;
pub mod validate;

pub use access::{Actor, DataScope, Role, TaskParties};
pub use clocks::{Clock, ClockKind, ClockState};
pub use ids::{PersonId, TaskId, UnitId};
pub use lifecycle::{Action, ExtensionStatus, ReportCycle, SourceKind, TaskStatus, TransitionError};
pub use lights::{EscalationRules, EscalationStep, Light, UrgeRules};
pub use validate::FieldError;
