//! 任务抽取: a 会议纪要, 领导批示 or 上级交办 notice turned into a draft batch of tasks by rules — the
//! document's 文号, date and kind; one draft per 议定事项 that assigns work, with its 牵头单位, 配合单位,
//! deadline and 分管领导; the items that assign nothing listed apart. Every field keeps the words it
//! came from, so the clerk sees why. Pure: the organisation tree, its aliases and the work calendar
//! are given by the caller.

pub mod deadline;
mod extract;
pub mod org;

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

pub use deadline::Seasons;
pub use extract::extract;
pub use org::{Alias, Org, OrgUnit, default_aliases};

/// A working day by the work calendar; in a year the calendar does not have yet, weekends and 元旦
/// (1 January, a day off every year) are off.
pub fn working_day(cal: &xietong_calendar::WorkCalendar, d: NaiveDate) -> bool {
    use chrono::Datelike;
    let unknown_year = !cal.is_year_published(d.year());
    cal.is_working_day(d) && !(unknown_year && d.month() == 1 && d.day() == 1)
}

/// What kind of document it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// 会议纪要 (常务会议, 常委会, 专题会议).
    Meeting,
    /// 领导批示.
    Instruction,
    /// 上级交办.
    Superior,
}

/// One draft task.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DraftTask {
    /// The sentence(s) of the document that state the task.
    pub text: String,
    pub title: String,
    pub lead: Vec<String>,
    pub co: Vec<String>,
    /// The document's words that named the lead and co units (for the clerk's highlights).
    #[serde(skip)]
    pub lead_words: Vec<String>,
    #[serde(skip)]
    pub co_words: Vec<String>,
    pub deadline_text: Option<String>,
    #[serde(serialize_with = "minutes")]
    pub deadline: Option<NaiveDateTime>,
    pub leader: Option<String>,
    /// What the clerk should look at: a deadline on a day off, units left unresolved …
    pub flags: Vec<String>,
}

fn minutes<S: serde::Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.format("%Y-%m-%d %H:%M").to_string()),
        None => s.serialize_none(),
    }
}

/// A document's draft batch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Draft {
    pub doc_no: Option<String>,
    pub date: Option<NaiveDate>,
    pub source_kind: SourceKind,
    pub tasks: Vec<DraftTask>,
    pub non_tasks: Vec<String>,
}
