//! Office files at the edges of Xietong, bytes in and bytes out (no database, no web):
//!
//! - [`table`]: the column and cell types shared by imports and exports.
//! - [`xlsx`]: .xlsx exports and import templates (rust_xlsxwriter).
//! - [`read`]: reading .xlsx (calamine), .csv and .tsv into rows, every bad row and column
//!   reported in Chinese; re-exported from [`xlsx`] where the callers have always found it.
//! - [`external`]: what in an uploaded .docx or .xlsx reaches outside the file (refused).
//! - [`task_order`]: the 督办通知单 of one task with its 回执, as a Word document (.docx).
//! - [`pdf`]: an .xlsx or .docx printed to PDF by LibreOffice and read back (for tests).
//! - [`notice`]: the 督查通报 as a Word document (.docx), built from a template an administrator
//!   can replace; placeholders are filled at the zip and XML level (quick-xml), so everything
//!   else in the administrator's file survives byte for byte.

pub mod external;
pub mod notice;
pub mod pdf;
pub mod pdftext;
pub mod read;
pub mod table;
pub mod task_order;
mod wordml;
pub mod xlsx;

pub use notice::{NoticeDoc, NoticeTable, check_template, default_template, document_text, notice_text, render_notice};
pub use read::{ImportErrors, RawRow, RowError, read_rows, read_table};
pub use table::{Cell, Column, SheetData};
pub use task_order::{TaskOrder, render_task_order};
pub use xlsx::{export_table, export_workbook, import_template};

/// What can go wrong with an office file, in Chinese for the clerk or the administrator.
#[derive(Debug, thiserror::Error)]
pub enum OfficeError {
    /// An import that was refused: every bad row and column, one per line.
    #[error("{0}")]
    Import(#[from] read::ImportErrors),
    /// A Word template that cannot be used; the message is complete ("模板缺少占位符 {{表格}}").
    #[error("{0}")]
    Template(String),
    /// Writing a file failed (a value Excel or Word cannot hold).
    #[error("文件生成失败：{0}")]
    Write(String),
}

/// Third-party parsers meet files from anywhere; should one of them panic on a malformed file,
/// the clerk gets an error instead of a dropped connection.
#[cfg(not(feature = "fuzzing"))]
pub(crate) fn guarded<T>(f: impl FnOnce() -> T) -> Option<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok()
}

/// Under the `fuzzing` feature a panic is not caught: the fuzzer must see it as the crash it is.
#[cfg(feature = "fuzzing")]
pub(crate) fn guarded<T>(f: impl FnOnce() -> T) -> Option<T> {
    Some(f())
}
