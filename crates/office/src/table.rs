//! Columns and cells shared by imports and exports.

use chrono::{NaiveDate, NaiveDateTime};

/// One column of a template, an import or an export.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// Code name used to read a row's value (`RawRow::get`).
    pub key: String,
    /// The Chinese header the clerk sees, e.g. "任务名称".
    pub header: String,
    /// Must be filled in every data row; marked "*" in templates.
    pub required: bool,
    /// Width in Excel character units.
    pub width: f64,
    /// Fill-in hint, shown as a note on the header cell.
    pub note: String,
    /// Allowed values: a dropdown in templates, checked on import. Empty = free text.
    pub choices: Vec<String>,
}

impl Column {
    /// A free-text column for exports.
    pub fn plain(header: &str, width: f64) -> Column {
        Column { key: header.to_string(), header: header.to_string(), required: false, width, note: String::new(), choices: vec![] }
    }
}

/// A cell to write.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
    Empty,
}
