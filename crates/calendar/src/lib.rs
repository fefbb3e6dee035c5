//! The Chinese work calendar for 督查督办 deadlines: which days are working days (weekends,
//! statutory holidays and 调休 make-up days), the office hours within a day, and arithmetic in
//! working minutes and working days. Pure code, no I/O: holiday data is either embedded at
//! compile time (`WorkCalendar::with_bundled_holidays`) or handed in as JSON text by the caller.
//!
//! Years without a published State Council schedule fall back to plain weekends; every result
//! that depended on such a year says so through [`Computed::provisional_years`], so the UI can
//! show a "暂定" flag instead of silently presenting a guess as fact.

mod bundled;
mod calendar;
mod computed;
mod error;
mod office;
mod parse;

pub use bundled::parse_holiday_cn_json;
pub use calendar::{DayKind, DayOverride, WorkCalendar};
pub use computed::Computed;
pub use error::CalendarError;
pub use office::OfficeHours;
pub use parse::{parse_date, parse_datetime};
