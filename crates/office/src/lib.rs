//! Office files at the edges of Xietong, bytes in and bytes out (no database, no web):
//!
//! - [`table`]: the column and cell types shared by imports and exports.
//! - [`xlsx`]: .xlsx exports and import templates (rust_xlsxwriter), and reading .xlsx (calamine),
//!   .csv and .tsv into rows with every bad row and column reported in Chinese.
//! - [`notice`]: the 督查通报 as a Word document (.docx), built from a template an administrator
//!   can replace (docx-rs writes the default template; placeholders are filled at package level).

pub mod notice;
pub mod table;
pub mod xlsx;

/// What can go wrong with an office file, in Chinese for the clerk.
#[derive(Debug, thiserror::Error)]
pub enum OfficeError {
    #[error("{0}")]
    Import(#[from] xlsx::ImportErrors),
    #[error("模板无法读取：{0}")]
    Template(String),
    #[error("文件生成失败：{0}")]
    Write(String),
}
