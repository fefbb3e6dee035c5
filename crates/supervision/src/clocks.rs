//! The two clocks the 任务分解及交办机制 sets: hand the task to its lead unit before the end of the
//! day it was received (交办不过夜), and decompose it within 2 working hours of that hand-over.

use chrono::NaiveDateTime;
use serde::Serialize;
use xietong_calendar::WorkCalendar;

/// Working minutes the lead unit has to decompose a task after receiving it.
pub const DECOMPOSITION_WORKING_MINUTES: i64 = 120;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// 交办不过夜: received by the 督查局 → handed to the lead unit, by the end of that calendar day.
    Handover,
    /// 2 小时分解: handed over → decomposed into sub-tasks, within 2 working hours.
    Decomposition,
}

impl ClockKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Handover => "交办不过夜",
            Self::Decomposition => "2个工作小时内分解",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Clock {
    pub kind: ClockKind,
    pub started_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
    pub stopped_at: Option<NaiveDateTime>,
    /// The due time depends on a year whose holiday schedule is not published yet.
    pub provisional: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ClockState {
    /// Still running, `remaining_minutes` left (working minutes for the decomposition clock).
    Running { remaining_minutes: i64 },
    /// Still running and already past due.
    Overdue { late_minutes: i64 },
    /// Stopped in time.
    Met,
    /// Stopped, but late.
    Breached { late_minutes: i64 },
}

impl ClockState {
    pub fn label_zh(&self) -> String {
        match self {
            Self::Running { remaining_minutes } => format!("计时中，剩余{}", minutes_zh(*remaining_minutes)),
            Self::Overdue { late_minutes } => format!("已超时{}", minutes_zh(*late_minutes)),
            Self::Met => "按时完成".into(),
            Self::Breached { late_minutes } => format!("超时{}完成", minutes_zh(*late_minutes)),
        }
    }
    pub fn is_breach(&self) -> bool {
        matches!(self, Self::Overdue { .. } | Self::Breached { .. })
    }
}

/// "1小时30分钟" style.
pub fn minutes_zh(m: i64) -> String {
    let (h, mm) = (m / 60, m % 60);
    match (h, mm) {
        (0, mm) => format!("{mm}分钟"),
        (h, 0) => format!("{h}小时"),
        (h, mm) => format!("{h}小时{mm}分钟"),
    }
}

impl Clock {
    pub fn handover(received_at: NaiveDateTime, assigned_at: Option<NaiveDateTime>) -> Clock {
        Clock {
            kind: ClockKind::Handover,
            started_at: received_at,
            due_at: WorkCalendar::end_of_day(received_at.date()),
            stopped_at: assigned_at,
            provisional: false,
        }
    }

    pub fn decomposition(
        cal: &WorkCalendar,
        assigned_at: NaiveDateTime,
        decomposed_at: Option<NaiveDateTime>,
    ) -> Clock {
        let due = cal.add_working_minutes(assigned_at, DECOMPOSITION_WORKING_MINUTES);
        Clock {
            kind: ClockKind::Decomposition,
            started_at: assigned_at,
            due_at: due.value,
            stopped_at: decomposed_at,
            provisional: due.is_provisional(),
        }
    }

    /// The clock's state at `now`. The decomposition clock counts working minutes; the hand-over
    /// clock counts wall-clock minutes because 交办不过夜 is about the calendar day.
    pub fn state(&self, cal: &WorkCalendar, now: NaiveDateTime) -> ClockState {
        let span = |a: NaiveDateTime, b: NaiveDateTime| match self.kind {
            ClockKind::Handover => (b - a).num_minutes(),
            ClockKind::Decomposition => cal.working_minutes_between(a, b).value,
        };
        match self.stopped_at {
            Some(stop) if stop <= self.due_at => ClockState::Met,
            Some(stop) => ClockState::Breached { late_minutes: span(self.due_at, stop).max(1) },
            None if now <= self.due_at => ClockState::Running { remaining_minutes: span(now, self.due_at).max(0) },
            None => ClockState::Overdue { late_minutes: span(self.due_at, now).max(1) },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xietong_calendar::parse_datetime;

    fn dt(s: &str) -> NaiveDateTime {
        parse_datetime("时间", s).unwrap()
    }

    #[test]
    fn handover_is_due_by_midnight() {
        let c = Clock::handover(dt("2026-11-20 21:30"), None);
        assert_eq!(c.due_at, dt("2026-11-20 23:59:59"));
        let cal = WorkCalendar::with_bundled_holidays();
        assert!(matches!(c.state(&cal, dt("2026-11-21 08:00")), ClockState::Overdue { .. }));
        let done = Clock::handover(dt("2026-11-20 21:30"), Some(dt("2026-11-20 22:00")));
        assert_eq!(done.state(&cal, dt("2026-11-25 08:00")), ClockState::Met);
    }

    #[test]
    fn decomposition_runs_on_working_hours() {
        let cal = WorkCalendar::with_bundled_holidays();
        // Friday 17:00 → 1 hour Friday + 1 hour Monday.
        let c = Clock::decomposition(&cal, dt("2026-11-20 17:00"), None);
        assert_eq!(c.due_at, dt("2026-11-23 10:00"));
        // Over the weekend the clock does not move.
        assert_eq!(c.state(&cal, dt("2026-11-22 15:00")), ClockState::Running { remaining_minutes: 60 });
        assert_eq!(c.state(&cal, dt("2026-11-23 11:00")), ClockState::Overdue { late_minutes: 60 });
        let stopped = Clock::decomposition(&cal, dt("2026-11-20 17:00"), Some(dt("2026-11-23 09:30")));
        assert_eq!(stopped.state(&cal, dt("2026-12-01 09:00")), ClockState::Met);
        let late = Clock::decomposition(&cal, dt("2026-11-20 17:00"), Some(dt("2026-11-23 14:00")));
        // 10:00 → 14:00 is 150 working minutes: the lunch break does not count.
        assert_eq!(late.state(&cal, dt("2026-12-01 09:00")), ClockState::Breached { late_minutes: 150 });
    }

    #[test]
    fn minutes_read_naturally() {
        assert_eq!(minutes_zh(90), "1小时30分钟");
        assert_eq!(minutes_zh(120), "2小时");
        assert_eq!(minutes_zh(5), "5分钟");
    }
}
