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
    /// Width in Excel character units, for import templates (at least the header's width). Ledger
    /// exports fit each column to its content instead ([`crate::xlsx::fitted_widths`]).
    pub width: f64,
    /// Fill-in hint, shown as a note on the header cell and in the 填写说明 sheet.
    pub note: String,
    /// Allowed values: a dropdown in templates, checked on import. Empty = free text.
    pub choices: Vec<String>,
}

impl Column {
    /// An optional free-text column; `key` is what [`crate::RawRow::get`] takes.
    pub fn new(key: impl Into<String>, header: impl Into<String>) -> Column {
        Column {
            key: key.into(),
            header: header.into(),
            required: false,
            width: 14.0,
            note: String::new(),
            choices: vec![],
        }
    }

    /// A free-text column for exports, keyed by its header.
    pub fn plain(header: &str, width: f64) -> Column {
        Column { width, ..Column::new(header, header) }
    }

    pub fn required(mut self) -> Column {
        self.required = true;
        self
    }

    pub fn width(mut self, width: f64) -> Column {
        self.width = width;
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Column {
        self.note = note.into();
        self
    }

    pub fn choices<S: Into<String>>(mut self, choices: impl IntoIterator<Item = S>) -> Column {
        self.choices = choices.into_iter().map(Into::into).collect();
        self
    }
}

/// How wide text prints, in half-width character units: a CJK (or other full-width) character
/// counts two, as Excel and Word lay it out; the widest line of a multi-line text.
pub fn text_units(s: &str) -> usize {
    s.lines().map(|l| l.chars().map(char_units).sum()).max().unwrap_or(0)
}

fn char_units(c: char) -> usize {
    // Control characters take no room; combining marks and zero-width characters are rare in
    // ledgers and counting them one is harmless (a column a little wider).
    if c.is_control() {
        0
    } else if c.is_ascii() || ('\u{FF61}'..='\u{FF9F}').contains(&c) {
        // ASCII, and the half-width katakana block of the full-width forms.
        1
    } else if matches!(c as u32, 0x00A0..=0x02FF | 0x0370..=0x04FF) {
        // Latin-1 and Latin Extended letters, Greek and Cyrillic: one unit.
        1
    } else {
        2
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

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<f64> for Cell {
    fn from(n: f64) -> Cell {
        Cell::Number(n)
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Cell {
        Cell::Number(n as f64)
    }
}

impl From<NaiveDate> for Cell {
    fn from(d: NaiveDate) -> Cell {
        Cell::Date(d)
    }
}

impl From<NaiveDateTime> for Cell {
    fn from(t: NaiveDateTime) -> Cell {
        Cell::DateTime(t)
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Cell {
        v.map(Into::into).unwrap_or(Cell::Empty)
    }
}

/// One worksheet of a multi-sheet export ([`crate::xlsx::export_workbook`]).
#[derive(Clone, Debug, PartialEq)]
pub struct SheetData {
    pub name: String,
    /// A bold title row above the header, e.g. "2026年10月城建交通类工作排名".
    pub title: Option<String>,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}
