//! Tables in and out of Excel. Exports and import templates are written with rust_xlsxwriter;
//! imports read .xlsx with calamine and .csv/.tsv with the csv crate (UTF-8, or GBK as Excel and
//! WPS save it in China). Every bad row and column is collected, not just the first.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::Arc;

use calamine::{Data, Reader, Xlsx};
use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use rust_xlsxwriter::{DataValidation, ExcelDateTime, Format, FormatAlign, FormatBorder, Formula, Note, Workbook, Worksheet};

use crate::table::{Cell, Column};
use crate::OfficeError;

/// Imports larger than this are refused before parsing (a district list is far smaller).
pub const MAX_BYTES: usize = 20 * 1024 * 1024;
pub const MAX_ROWS: usize = 20_000;
/// Rows of a template that carry the dropdown lists.
const TEMPLATE_ROWS: u32 = 1000;

/// One problem with an imported file: a row (1-based, as the spreadsheet shows it; 0 for the
/// file itself) and the column, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub column: Option<String>,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.row, &self.column) {
            (0, None) => write!(f, "{}", self.message),
            (0, Some(c)) => write!(f, "「{c}」：{}", self.message),
            (r, Some(c)) => write!(f, "第 {r} 行「{c}」：{}", self.message),
            (r, None) => write!(f, "第 {r} 行：{}", self.message),
        }
    }
}

/// All problems of a refused import, one per line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ImportErrors(pub Vec<RowError>);

impl std::fmt::Display for ImportErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lines: Vec<String> = self.0.iter().map(|e| e.to_string()).collect();
        write!(f, "{}", lines.join("\n"))
    }
}

fn file_error(message: impl Into<String>) -> ImportErrors {
    ImportErrors(vec![RowError { row: 0, column: None, message: message.into() }])
}

/// One data row of an import, values in the order of the columns asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct RawRow {
    /// The row number the clerk sees in the spreadsheet.
    pub row: usize,
    keys: Arc<Vec<String>>,
    pub values: Vec<String>,
}

impl RawRow {
    /// The trimmed value of the column with this key ("" when absent or empty).
    pub fn get(&self, key: &str) -> &str {
        self.keys.iter().position(|k| k == key).and_then(|i| self.values.get(i)).map(String::as_str).unwrap_or("")
    }
}

fn xerr(e: rust_xlsxwriter::XlsxError) -> OfficeError {
    OfficeError::Write(e.to_string())
}

fn header_format() -> Format {
    Format::new().set_bold().set_background_color(0xDDE4EE).set_border(FormatBorder::Thin).set_align(FormatAlign::Center).set_text_wrap()
}

/// Excel sheet names: at most 31 characters, none of []:*?/\.
fn sheet_name(name: &str) -> String {
    let n: String = name.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect();
    if n.is_empty() { "Sheet1".into() } else { n }
}

fn excel_date(d: NaiveDate) -> Result<ExcelDateTime, OfficeError> {
    ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8).map_err(xerr)
}

fn write_cell(ws: &mut Worksheet, row: u32, col: u16, cell: &Cell, date_fmt: &Format, dt_fmt: &Format) -> Result<(), OfficeError> {
    match cell {
        Cell::Text(s) if !s.is_empty() => {
            ws.write_string(row, col, s).map_err(xerr)?;
        }
        Cell::Number(n) if n.is_finite() => {
            ws.write_number(row, col, *n).map_err(xerr)?;
        }
        Cell::Date(d) => {
            ws.write_datetime_with_format(row, col, excel_date(*d)?, date_fmt).map_err(xerr)?;
        }
        Cell::DateTime(t) => {
            let dt = excel_date(t.date())?.and_hms(t.hour() as u16, t.minute() as u8, t.second() as f64).map_err(xerr)?;
            ws.write_datetime_with_format(row, col, dt, dt_fmt).map_err(xerr)?;
        }
        _ => {}
    }
    Ok(())
}

/// A ledger as one worksheet: optional title row, bold frozen header with a filter, widths,
/// dates as dates and numbers as numbers.
pub fn export_table(sheet: &str, title: Option<&str>, columns: &[Column], rows: &[Vec<Cell>]) -> Result<Vec<u8>, OfficeError> {
    let mut wb = Workbook::new();
    let mut ws = Worksheet::new();
    ws.set_name(sheet_name(sheet)).map_err(xerr)?;
    let date_fmt = Format::new().set_num_format("yyyy-mm-dd");
    let dt_fmt = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let mut header_row = 0u32;
    if let Some(t) = title {
        let f = Format::new().set_bold().set_font_size(14);
        if columns.len() > 1 {
            ws.merge_range(0, 0, 0, (columns.len() - 1) as u16, t, &f).map_err(xerr)?;
        } else {
            ws.write_string_with_format(0, 0, t, &f).map_err(xerr)?;
        }
        header_row = 1;
    }
    let hf = header_format();
    for (i, c) in columns.iter().enumerate() {
        ws.write_string_with_format(header_row, i as u16, &c.header, &hf).map_err(xerr)?;
        ws.set_column_width(i as u16, c.width.clamp(4.0, 120.0)).map_err(xerr)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate().take(columns.len()) {
            write_cell(&mut ws, header_row + 1 + r as u32, c as u16, cell, &date_fmt, &dt_fmt)?;
        }
    }
    ws.set_freeze_panes(header_row + 1, 0).map_err(xerr)?;
    if !columns.is_empty() {
        ws.autofilter(header_row, 0, header_row + rows.len() as u32, (columns.len() - 1) as u16).map_err(xerr)?;
    }
    wb.push_worksheet(ws);
    wb.save_to_buffer().map_err(xerr)
}

/// An import template: a data sheet whose header marks required columns with "*" and carries
/// fill-in hints as notes, dropdowns for columns with choices (from a hidden 选项 sheet, so long
/// lists such as unit names fit), example rows in grey that the reader skips, and a 填写说明 sheet.
pub fn import_template(sheet: &str, columns: &[Column], example_rows: &[Vec<Cell>], instructions: &[&str]) -> Result<Vec<u8>, OfficeError> {
    let mut wb = Workbook::new();
    let mut ws = Worksheet::new();
    ws.set_name(sheet_name(sheet)).map_err(xerr)?;
    let mut opts = Worksheet::new();
    opts.set_name("选项").map_err(xerr)?;
    let hf = header_format();
    let required_hf = header_format().set_font_color(0xB71C1C);
    let mut opt_col = 0u16;
    for (i, c) in columns.iter().enumerate() {
        let col = i as u16;
        let header = if c.required { format!("*{}", c.header) } else { c.header.clone() };
        ws.write_string_with_format(0, col, &header, if c.required { &required_hf } else { &hf }).map_err(xerr)?;
        ws.set_column_width(col, c.width.clamp(4.0, 120.0)).map_err(xerr)?;
        let hint = match (c.note.is_empty(), c.required) {
            (true, true) => "必填".to_string(),
            (true, false) => String::new(),
            (false, true) => format!("必填。{}", c.note),
            (false, false) => c.note.clone(),
        };
        if !hint.is_empty() {
            ws.insert_note(0, col, &Note::new(&hint).set_author("协同")).map_err(xerr)?;
        }
        if !c.choices.is_empty() {
            opts.write_string(0, opt_col, &c.header).map_err(xerr)?;
            for (k, v) in c.choices.iter().enumerate() {
                opts.write_string(1 + k as u32, opt_col, v).map_err(xerr)?;
            }
            let letter = rust_xlsxwriter::utility::column_number_to_name(opt_col);
            let formula = format!("='选项'!${letter}$2:${letter}${}", c.choices.len() + 1);
            let dv = DataValidation::new()
                .allow_list_formula(Formula::new(formula))
                .set_error_title("输入值无效")
                .map_err(xerr)?
                .set_error_message(&format!("「{}」请从下拉列表中选择", c.header))
                .map_err(xerr)?;
            ws.add_data_validation(1, col, TEMPLATE_ROWS, col, &dv).map_err(xerr)?;
            opt_col += 1;
        }
    }
    let example = Format::new().set_italic().set_font_color(0x888888);
    let date_ex = example.clone().set_num_format("yyyy-mm-dd");
    for (r, row) in example_rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate().take(columns.len()) {
            let (row_n, col_n) = (1 + r as u32, c as u16);
            match cell {
                Cell::Text(s) if !s.is_empty() => {
                    ws.write_string_with_format(row_n, col_n, s, &example).map_err(xerr)?;
                }
                Cell::Number(n) => {
                    ws.write_number_with_format(row_n, col_n, *n, &example).map_err(xerr)?;
                }
                Cell::Date(d) => {
                    ws.write_datetime_with_format(row_n, col_n, excel_date(*d)?, &date_ex).map_err(xerr)?;
                }
                _ => {}
            }
        }
    }
    ws.set_freeze_panes(1, 0).map_err(xerr)?;

    let mut help = Worksheet::new();
    help.set_name("填写说明").map_err(xerr)?;
    let bold = Format::new().set_bold();
    help.write_string_with_format(0, 0, &format!("{sheet}：填写说明"), &Format::new().set_bold().set_font_size(14)).map_err(xerr)?;
    let mut r = 2u32;
    for line in instructions {
        help.write_string(r, 0, *line).map_err(xerr)?;
        r += 1;
    }
    r += 1;
    for (c, h) in ["列名", "是否必填", "说明", "可选值"].iter().enumerate() {
        help.write_string_with_format(r, c as u16, *h, &bold).map_err(xerr)?;
    }
    for c in columns {
        r += 1;
        help.write_string(r, 0, &c.header).map_err(xerr)?;
        help.write_string(r, 1, if c.required { "必填" } else { "选填" }).map_err(xerr)?;
        help.write_string(r, 2, &c.note).map_err(xerr)?;
        help.write_string(r, 3, &c.choices.join("、")).map_err(xerr)?;
    }
    help.set_column_width(0, 20).map_err(xerr)?;
    help.set_column_width(2, 50).map_err(xerr)?;
    help.set_column_width(3, 60).map_err(xerr)?;
    opts.set_hidden(true);
    wb.push_worksheet(ws);
    wb.push_worksheet(help);
    wb.push_worksheet(opts);
    wb.save_to_buffer().map_err(xerr)
}

/// Header text as the clerk may have typed it: no "*" marker, no spaces of either width.
fn normalize_header(s: &str) -> String {
    s.trim().trim_start_matches(['*', '＊']).chars().filter(|c| !c.is_whitespace() && *c != '\u{3000}').collect()
}

fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        // Shortest text that reads back as the same number (62.7, not 62.700000000000003).
        format!("{f}")
    }
}

fn datetime_text(t: NaiveDateTime) -> String {
    if t.time() == chrono::NaiveTime::MIN { t.format("%Y-%m-%d").to_string() } else { t.format("%Y-%m-%d %H:%M").to_string() }
}

/// A cell as text; `Err` for Excel error values such as #N/A.
fn cell_text(d: &Data) -> Result<String, String> {
    Ok(match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Float(f) => float_text(*f),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(t) => datetime_text(t),
            None => return Err("日期值无效".into()),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.replace('T', " "),
        Data::Error(e) => return Err(format!("单元格是错误值（{e:?}），请改为实际内容")),
    })
}

/// The grid of a file: rows of (text or per-cell error).
type Grid = Vec<Vec<Result<String, String>>>;

fn read_xlsx(bytes: &[u8]) -> Result<Grid, ImportErrors> {
    let not_xlsx = || file_error("文件无法读取：不是有效的 Excel 文件（.xlsx），请用 Excel 或 WPS 另存为 .xlsx 后再上传");
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).map_err(|_| not_xlsx())?;
    let range = wb.worksheet_range_at(0).ok_or_else(|| file_error("文件中没有工作表"))?.map_err(|_| not_xlsx())?;
    // Row numbers must be the spreadsheet's own, even when the used range starts lower down.
    let (start_row, start_col) = range.start().unwrap_or((0, 0));
    let mut grid: Grid = vec![vec![]; start_row as usize];
    for row in range.rows() {
        if grid.len() > MAX_ROWS + 10 {
            return Err(file_error(format!("数据行超过 {MAX_ROWS} 行，请拆分后分批导入")));
        }
        let mut cells: Vec<Result<String, String>> = vec![Ok(String::new()); start_col as usize];
        cells.extend(row.iter().map(cell_text));
        grid.push(cells);
    }
    Ok(grid)
}

fn read_delimited(bytes: &[u8], delimiter: u8) -> Result<Grid, ImportErrors> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => {
            // Excel and WPS in China save CSV as GBK; GB18030 is its superset.
            let (s, _, had_errors) = encoding_rs::GB18030.decode(bytes);
            if had_errors {
                return Err(file_error("文件编码无法识别，请另存为 UTF-8 编码的 CSV 或 .xlsx"));
            }
            s.into_owned()
        }
    };
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let mut grid: Grid = vec![];
    // Rows as Excel shows the file: blank lines count, line breaks inside a quoted cell do not.
    let mut continuation_lines = 0usize;
    for rec in rdr.records() {
        let rec = rec.map_err(|e| file_error(format!("第 {} 行格式错误：{}", grid.len() + 1, e)))?;
        let line = rec.position().map(|p| p.line() as usize).unwrap_or(grid.len() + 1);
        let row_no = line.saturating_sub(continuation_lines).max(grid.len() + 1);
        if row_no > MAX_ROWS + 10 {
            return Err(file_error(format!("数据行超过 {MAX_ROWS} 行，请拆分后分批导入")));
        }
        grid.resize(row_no - 1, vec![]);
        grid.push(rec.iter().map(|s| Ok(s.trim().to_string())).collect());
        continuation_lines += rec.iter().map(|f| f.matches('\n').count()).sum::<usize>();
    }
    Ok(grid)
}

fn choices_hint(c: &Column) -> String {
    let shown: Vec<&str> = c.choices.iter().take(8).map(String::as_str).collect();
    let more = if c.choices.len() > 8 { format!(" 等 {} 项", c.choices.len()) } else { String::new() };
    format!("可选：{}{more}", shown.join("、"))
}

/// Read a table with the given columns from an .xlsx, .csv or .tsv file (chosen by the file name,
/// or by the content when the name says nothing). The header row is found by its column names in
/// the first rows; column order is free and extra columns are ignored. Empty rows and rows whose
/// first cell starts with "示例" are skipped. Every problem is reported, none is fatal alone.
pub fn read_table(file_name: &str, bytes: &[u8], columns: &[Column]) -> Result<Vec<RawRow>, ImportErrors> {
    let (rows, errors) = read_rows(file_name, bytes, columns)?;
    if errors.is_empty() { Ok(rows) } else { Err(ImportErrors(errors)) }
}

/// Like [`read_table`], but a problem in a cell does not stop the read: the rows come back with
/// the problems found in them, so a caller can add its own checks and report everything at once.
/// Problems with the file itself (unreadable, no header, a missing required column) are `Err`.
pub fn read_rows(file_name: &str, bytes: &[u8], columns: &[Column]) -> Result<(Vec<RawRow>, Vec<RowError>), ImportErrors> {
    if bytes.len() > MAX_BYTES {
        return Err(file_error(format!("文件过大（{} MB），单个文件不能超过 {} MB", bytes.len() / 1024 / 1024, MAX_BYTES / 1024 / 1024)));
    }
    let lower = file_name.to_lowercase();
    let grid = if lower.ends_with(".xlsx") || lower.ends_with(".xlsm") || (!lower.ends_with(".csv") && !lower.ends_with(".tsv") && !lower.ends_with(".txt") && bytes.starts_with(b"PK")) {
        read_xlsx(bytes)?
    } else if lower.ends_with(".xls") {
        return Err(file_error("不支持旧版 Excel（.xls）文件，请另存为 .xlsx 后再上传"));
    } else if lower.ends_with(".tsv") || lower.ends_with(".txt") {
        read_delimited(bytes, b'\t')?
    } else {
        read_delimited(bytes, b',')?
    };

    let wanted: Vec<String> = columns.iter().map(|c| normalize_header(&c.header)).collect();
    let header_at = grid.iter().take(10).position(|row| row.iter().any(|c| matches!(c, Ok(t) if wanted.contains(&normalize_header(t)))));
    let Some(h) = header_at else {
        let names: Vec<&str> = columns.iter().filter(|c| c.required).map(|c| c.header.as_str()).collect();
        return Err(file_error(format!("找不到表头：前 10 行中没有「{}」等列名，请使用导入模板", names.join("」「"))));
    };
    let mut index: HashMap<usize, usize> = HashMap::new(); // column position -> grid position
    for (gi, cell) in grid[h].iter().enumerate() {
        if let Ok(t) = cell {
            if let Some(ci) = wanted.iter().position(|w| *w == normalize_header(t)) {
                index.entry(ci).or_insert(gi);
            }
        }
    }
    let mut errors = vec![];
    for (ci, c) in columns.iter().enumerate() {
        if c.required && !index.contains_key(&ci) {
            errors.push(RowError { row: h + 1, column: Some(c.header.clone()), message: "缺少这一列（必填列），请使用导入模板".into() });
        }
    }
    if !errors.is_empty() {
        return Err(ImportErrors(errors));
    }
    let keys = Arc::new(columns.iter().map(|c| c.key.clone()).collect::<Vec<_>>());
    let mut out = vec![];
    for (gi, row) in grid.iter().enumerate().skip(h + 1) {
        let row_no = gi + 1;
        if row.iter().all(|c| matches!(c, Ok(t) if t.is_empty())) {
            continue;
        }
        if row.iter().find_map(|c| c.as_ref().ok().filter(|t| !t.is_empty())).is_some_and(|t| t.starts_with("示例")) {
            continue;
        }
        let mut values = vec![];
        for (ci, c) in columns.iter().enumerate() {
            let v = match index.get(&ci).and_then(|gi| row.get(*gi)) {
                None => String::new(),
                Some(Ok(t)) => t.clone(),
                Some(Err(m)) => {
                    errors.push(RowError { row: row_no, column: Some(c.header.clone()), message: m.clone() });
                    String::new()
                }
            };
            if c.required && v.is_empty() {
                errors.push(RowError { row: row_no, column: Some(c.header.clone()), message: "不能为空".into() });
            } else if !v.is_empty() && !c.choices.is_empty() && !c.choices.contains(&v) {
                errors.push(RowError { row: row_no, column: Some(c.header.clone()), message: format!("「{v}」不是可选值（{}）", choices_hint(c)) });
            }
            values.push(v);
        }
        out.push(RawRow { row: row_no, keys: keys.clone(), values });
        if out.len() > MAX_ROWS {
            return Err(file_error(format!("数据行超过 {MAX_ROWS} 行，请拆分后分批导入")));
        }
    }
    Ok((out, errors))
}

impl From<ImportErrors> for String {
    fn from(e: ImportErrors) -> String {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_match_with_marker_and_spaces() {
        assert_eq!(normalize_header(" *任务 名称\u{3000}"), "任务名称");
        assert_eq!(normalize_header("＊文号"), "文号");
    }

    #[test]
    fn floats_read_as_written() {
        assert_eq!(float_text(18500.0), "18500");
        assert_eq!(float_text(62.7), "62.7");
        assert_eq!(float_text(-3.0), "-3");
    }
}
