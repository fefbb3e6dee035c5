//! Lights (green / yellow / red) and the escalation ladder. The ladder is a pure function of the
//! deadline and the rules, so a sweep anywhere (any process, after any restart) computes the same
//! steps; the storage layer makes each step fire once with a unique key.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use xietong_calendar::{Computed, WorkCalendar};

use crate::lifecycle::TaskStatus;
use crate::validate::{Checks, FieldErrors, int_in};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Light {
    /// No light: 立项, closed or cancelled.
    None,
    Green,
    Yellow,
    Red,
}

impl Light {
    pub const ALL: [Light; 4] = [Self::None, Self::Green, Self::Yellow, Self::Red];
    pub fn code(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Green => "green",
            Self::Yellow => "yellow",
            Self::Red => "red",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::None => "—",
            Self::Green => "绿灯（正常推进）",
            Self::Yellow => "黄灯（临近期限）",
            Self::Red => "红灯（已逾期）",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }
}

/// Configurable thresholds, all in working days on the work calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EscalationRules {
    /// Yellow light and 提醒 this many working days before the deadline.
    pub yellow_working_days: i64,
    /// 通报预警 this many working days after the deadline.
    pub notice_after_working_days: i64,
    /// Proposed for the 问题台账 this many working days after the deadline.
    pub ledger_after_working_days: i64,
    /// 预计逾期提醒: while the light is still green, a progress report whose forecast (预计完成) is
    /// this many days or more past the deadline — or shows no progress — reminds the lead unit once
    /// per deadline. 0 turns it off. Rules saved before it existed read as the default.
    #[serde(default = "default_forecast_late_days")]
    pub forecast_late_days: i64,
}

fn default_forecast_late_days() -> i64 {
    3
}

impl Default for EscalationRules {
    fn default() -> Self {
        Self {
            yellow_working_days: 3,
            notice_after_working_days: 3,
            ledger_after_working_days: 10,
            forecast_late_days: default_forecast_late_days(),
        }
    }
}

impl EscalationRules {
    /// Every threshold's error at once, each naming its field.
    pub fn check(&self, c: &mut Checks) {
        c.take(int_in("黄灯提前工作日", self.yellow_working_days, 0, 60));
        c.take(int_in("逾期后通报预警工作日", self.notice_after_working_days, 1, 120));
        let ledger = self.ledger_after_working_days;
        // Against a 通报预警 threshold that is itself wrong, only the range is checked (it is at least 1).
        let floor = if c.has("逾期后通报预警工作日") { 1 } else { self.notice_after_working_days };
        if ledger <= floor || ledger > 250 {
            c.fail("逾期后列入问题台账工作日", format!("应大于通报预警工作日且不超过 250（当前 {ledger}）"));
        }
        c.take(int_in("预计逾期提醒天数", self.forecast_late_days, 0, 365));
    }

    /// Whether a forecast made while the light is green calls for the 预计逾期提醒.
    pub fn forecast_reminds(&self, forecast: &crate::forecast::Forecast, deadline: NaiveDateTime) -> bool {
        use crate::forecast::Forecast;
        self.forecast_late_days > 0
            && match forecast {
                Forecast::Expected { date, .. } => (*date - deadline.date()).num_days() >= self.forecast_late_days,
                Forecast::Stalled { .. } => true,
                Forecast::NotEnough { .. } | Forecast::Done => false,
            }
    }

    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut c = Checks::new();
        self.check(&mut c);
        c.finish()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EscalationStep {
    /// 提醒: the deadline is near.
    Remind,
    /// 催办: the deadline has passed.
    Urge,
    /// 通报预警: overdue for `notice_after_working_days`.
    NoticeWarning,
    /// 问题台账候选: overdue for `ledger_after_working_days`.
    LedgerCandidate,
    /// 预计逾期提醒: fired by a progress report, not by time (see `EscalationRules::forecast_late_days`).
    ForecastLate,
}

impl EscalationStep {
    pub const ALL: [EscalationStep; 5] =
        [Self::ForecastLate, Self::Remind, Self::Urge, Self::NoticeWarning, Self::LedgerCandidate];
    /// The steps the clock fires, in order; the sweep walks these.
    pub const LADDER: [EscalationStep; 4] = [Self::Remind, Self::Urge, Self::NoticeWarning, Self::LedgerCandidate];
    pub fn code(self) -> &'static str {
        match self {
            Self::Remind => "remind",
            Self::Urge => "urge",
            Self::NoticeWarning => "notice_warning",
            Self::LedgerCandidate => "ledger_candidate",
            Self::ForecastLate => "forecast_late",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Remind => "提醒",
            Self::Urge => "催办",
            Self::NoticeWarning => "通报预警",
            Self::LedgerCandidate => "问题台账候选",
            Self::ForecastLate => "预计逾期提醒",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }

    /// Whether the step has lost its meaning at `now`: a 提醒 says "将于…到期", which is untrue once
    /// the deadline has passed (a sweep catching up after a stop must not send it).
    pub fn is_moot(self, deadline: NaiveDateTime, now: NaiveDateTime) -> bool {
        self == Self::Remind && now > deadline
    }

    /// The instant from which this step is due for a task with `deadline`; none for a step the
    /// clock does not fire.
    pub fn due_from(
        self,
        cal: &WorkCalendar,
        rules: &EscalationRules,
        deadline: NaiveDateTime,
    ) -> Option<Computed<NaiveDateTime>> {
        let day = cal.office_hours().minutes_per_day();
        Some(match self {
            Self::ForecastLate => return None,
            Self::Remind => Self::yellow_from(cal, rules, deadline),
            // Overdue means strictly after the deadline: the first working minute after it.
            Self::Urge => cal.add_working_minutes(deadline, 1),
            Self::NoticeWarning => cal.add_working_minutes(deadline, rules.notice_after_working_days * day),
            Self::LedgerCandidate => cal.add_working_minutes(deadline, rules.ledger_after_working_days * day),
        })
    }

    /// When the yellow light (and 提醒) starts for `deadline`.
    pub fn yellow_from(
        cal: &WorkCalendar,
        rules: &EscalationRules,
        deadline: NaiveDateTime,
    ) -> Computed<NaiveDateTime> {
        let day = cal.office_hours().minutes_per_day();
        cal.sub_working_minutes(deadline, rules.yellow_working_days * day)
    }
}

/// The light of a task at `now`.
pub fn light(
    cal: &WorkCalendar,
    rules: &EscalationRules,
    status: TaskStatus,
    deadline: NaiveDateTime,
    now: NaiveDateTime,
) -> Light {
    if !status.is_open() {
        return Light::None;
    }
    if now > deadline {
        Light::Red
    } else if now >= EscalationStep::yellow_from(cal, rules, deadline).value {
        Light::Yellow
    } else {
        Light::Green
    }
}

/// Steps that are due at `now` and have not fired yet, in ladder order.
pub fn due_steps(
    cal: &WorkCalendar,
    rules: &EscalationRules,
    deadline: NaiveDateTime,
    fired: &[EscalationStep],
    now: NaiveDateTime,
) -> Vec<EscalationStep> {
    EscalationStep::LADDER
        .into_iter()
        .filter(|s| !fired.contains(s) && !s.is_moot(deadline, now))
        .filter(|s| s.due_from(cal, rules, deadline).is_some_and(|at| now >= at.value))
        .collect()
}

/// When a sweep next needs to look at this task: the earliest step not yet fired and still
/// meaningful at `now`, or `None` when the ladder is finished. Stored per task so a sweep reads
/// only tasks that are due.
pub fn next_check_at(
    cal: &WorkCalendar,
    rules: &EscalationRules,
    deadline: NaiveDateTime,
    fired: &[EscalationStep],
    now: NaiveDateTime,
) -> Option<NaiveDateTime> {
    EscalationStep::LADDER
        .into_iter()
        .filter(|s| !fired.contains(s) && !s.is_moot(deadline, now))
        .filter_map(|s| s.due_from(cal, rules, deadline).map(|at| at.value))
        .min()
}

/// The cap on 催办 sent by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UrgeRules {
    pub cap_per_week: i64,
}

impl Default for UrgeRules {
    fn default() -> Self {
        Self { cap_per_week: 3 }
    }
}

impl UrgeRules {
    /// The cap's error, naming its field.
    pub fn check_settings(&self, c: &mut Checks) {
        c.take(int_in("每周催办上限", self.cap_per_week, 1, 50));
    }

    pub fn check(&self, sent_this_week: i64) -> Result<(), String> {
        if sent_this_week >= self.cap_per_week {
            Err(format!("本周已对该任务催办 {sent_this_week} 次，已达上限（每周最多 {} 次）", self.cap_per_week))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use xietong_calendar::parse_datetime;

    fn dt(s: &str) -> NaiveDateTime {
        parse_datetime("时间", s).unwrap()
    }

    #[test]
    fn lights_follow_the_deadline() {
        let cal = WorkCalendar::with_bundled_holidays();
        let r = EscalationRules::default();
        let deadline = dt("2026-11-27 18:00"); // Friday
        let s = TaskStatus::InProgress;
        assert_eq!(light(&cal, &r, s, deadline, dt("2026-11-20 10:00")), Light::Green);
        // 3 working days before Friday 18:00 starts Wednesday 09:00 (no working time passes overnight).
        assert_eq!(light(&cal, &r, s, deadline, dt("2026-11-24 17:59")), Light::Green);
        assert_eq!(light(&cal, &r, s, deadline, dt("2026-11-25 08:59")), Light::Green);
        assert_eq!(light(&cal, &r, s, deadline, dt("2026-11-25 09:00")), Light::Yellow);
        assert_eq!(light(&cal, &r, s, deadline, dt("2026-11-27 18:00")), Light::Yellow);
        assert_eq!(light(&cal, &r, s, deadline, dt("2026-11-27 18:01")), Light::Red);
        assert_eq!(light(&cal, &r, TaskStatus::Closed, deadline, dt("2026-12-27 18:01")), Light::None);
    }

    #[test]
    fn urge_cap() {
        let u = UrgeRules::default();
        assert!(u.check(2).is_ok());
        assert_eq!(u.check(3).unwrap_err(), "本周已对该任务催办 3 次，已达上限（每周最多 3 次）");
    }

    #[test]
    fn rules_validate() {
        assert!(EscalationRules::default().validate().is_ok());
        let bad = EscalationRules { ledger_after_working_days: 2, ..Default::default() };
        assert!(bad.validate().unwrap_err().to_string().contains("问题台账"));
        let all = EscalationRules {
            yellow_working_days: 61,
            notice_after_working_days: 0,
            ledger_after_working_days: 0,
            forecast_late_days: -1,
        };
        let fields: Vec<String> = all.validate().unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["黄灯提前工作日", "逾期后通报预警工作日", "逾期后列入问题台账工作日", "预计逾期提醒天数"]);
        // Rules saved before the forecast reminder existed still read, with it on.
        let old: EscalationRules = serde_json::from_str(
            r#"{"yellow_working_days":3,"notice_after_working_days":3,"ledger_after_working_days":10}"#,
        )
        .unwrap();
        assert_eq!(old, EscalationRules::default());
    }

    #[test]
    fn forecast_reminder_needs_the_margin() {
        use crate::forecast::Forecast;
        let deadline = dt("2026-12-18 18:00");
        let day = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
        let expected = |d: &str| Forecast::Expected {
            date: day(d),
            early: day(d),
            late: Some(day(d)),
            rate_per_week: 5.0,
            intervals: 3,
        };
        let r = EscalationRules::default(); // 3 days
        assert!(!r.forecast_reminds(&expected("2026-12-20"), deadline));
        assert!(r.forecast_reminds(&expected("2026-12-21"), deadline));
        assert!(r.forecast_reminds(&Forecast::Stalled { rate_per_week: 0.0 }, deadline));
        assert!(!r.forecast_reminds(&Forecast::NotEnough { reports: 1 }, deadline));
        assert!(!r.forecast_reminds(&Forecast::Done, deadline));
        let off = EscalationRules { forecast_late_days: 0, ..r };
        assert!(!off.forecast_reminds(&expected("2027-06-01"), deadline));
    }

    fn arb_time() -> impl Strategy<Value = NaiveDateTime> {
        // 2025-01-01 .. 2027-12-31, minute resolution.
        (0i64..(3 * 366 * 24 * 60)).prop_map(|m| dt("2025-01-01 00:00") + chrono::Duration::minutes(m))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// The ladder is ordered: 提醒 ≤ deadline < 催办 ≤ 通报预警 < 问题台账候选.
        #[test]
        fn ladder_is_ordered(deadline in arb_time()) {
            let cal = WorkCalendar::with_bundled_holidays();
            let r = EscalationRules::default();
            let at: Vec<_> = EscalationStep::LADDER.iter().map(|s| s.due_from(&cal, &r, deadline).unwrap().value).collect();
            prop_assert!(at[0] <= deadline);
            prop_assert!(at[1] > deadline);
            prop_assert!(at[1] <= at[2] && at[2] < at[3]);
        }

        /// A light never improves as time passes.
        #[test]
        fn lights_only_worsen(deadline in arb_time(), a in arb_time(), b in arb_time()) {
            let cal = WorkCalendar::with_bundled_holidays();
            let r = EscalationRules::default();
            let (t1, t2) = if a <= b { (a, b) } else { (b, a) };
            let l1 = light(&cal, &r, TaskStatus::InProgress, deadline, t1);
            let l2 = light(&cal, &r, TaskStatus::InProgress, deadline, t2);
            prop_assert!(l1 <= l2);
        }

        /// Sweeping at any increasing times, recording what fired, fires every step exactly once
        /// by the end and never out of ladder order.
        #[test]
        fn sweeps_fire_each_step_once(deadline in arb_time(), mut times in proptest::collection::vec(arb_time(), 1..20)) {
            let cal = WorkCalendar::with_bundled_holidays();
            let r = EscalationRules::default();
            times.sort();
            times.push(deadline + chrono::Duration::days(60));
            let mut fired: Vec<EscalationStep> = vec![];
            for now in times {
                for s in due_steps(&cal, &r, deadline, &fired, now) {
                    prop_assert!(!fired.contains(&s));
                    prop_assert!(fired.iter().all(|f| *f < s));
                    fired.push(s);
                }
                if let Some(next) = next_check_at(&cal, &r, deadline, &fired, now) {
                    prop_assert!(next > now);
                }
            }
            // 提醒 fires only from a sweep before the deadline; every other step fires once.
            let expected: Vec<_> = EscalationStep::LADDER.into_iter().filter(|s| *s != EscalationStep::Remind || fired.contains(s)).collect();
            prop_assert_eq!(fired, expected);
        }

        /// A sweep after the deadline (catching up after a stop) never sends 提醒.
        #[test]
        fn no_reminder_once_overdue(deadline in arb_time(), late in 1i64..(60 * 24 * 30)) {
            let cal = WorkCalendar::with_bundled_holidays();
            let r = EscalationRules::default();
            let now = deadline + chrono::Duration::minutes(late);
            prop_assert!(!due_steps(&cal, &r, deadline, &[], now).contains(&EscalationStep::Remind));
            if let Some(next) = next_check_at(&cal, &r, deadline, &[], now) {
                prop_assert!(next > deadline);
            }
        }
    }
}
