//! Writing Excel files with rust_xlsxwriter: ledgers (one sheet or several) and import templates.
//! Reading lives in [`crate::read`]; its types are re-exported here, where callers find them.

use chrono::{Datelike, NaiveDate, Timelike};
use rust_xlsxwriter::{
    DataValidation, ExcelDateTime, Format, FormatAlign, FormatBorder, Formula, Note, Workbook, Worksheet,
};

use crate::OfficeError;
use crate::table::{Cell, Column, SheetData, text_units};

pub use crate::read::{ImportErrors, MAX_BYTES, MAX_ROWS, RawRow, RowError, read_rows, read_table};

/// Rows of a template that carry the dropdown lists.
const TEMPLATE_ROWS: u32 = 1000;
/// Excel refuses longer strings in a cell.
const MAX_CELL_CHARS: usize = 32_767;
/// Name of the template's instruction sheet; the reader never takes data from it.
pub const HELP_SHEET: &str = "填写说明";
/// Name of the template's hidden sheet holding the dropdown lists.
pub const CHOICES_SHEET: &str = "选项";
/// Example rows start with this; the reader skips such rows.
pub const EXAMPLE_MARK: &str = "示例";

fn xerr(e: rust_xlsxwriter::XlsxError) -> OfficeError {
    OfficeError::Write(e.to_string())
}

fn header_format() -> Format {
    Format::new()
        .set_bold()
        .set_background_color(0xDDE4EE)
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap()
}

/// Excel sheet names: 1–31 characters, none of []:*?/\, not starting or ending with '.
fn sheet_name(name: &str) -> String {
    let n: String = name.chars().filter(|c| !"[]:*?/\\".contains(*c) && !c.is_control()).take(31).collect();
    let n = n.trim_matches('\'').trim().to_string();
    if n.is_empty() || n.eq_ignore_ascii_case("history") { "Sheet1".into() } else { n }
}

/// Sheet names are unique without regard to case; a repeated name gets "(2)", "(3)", ….
fn unique_sheet_name(name: &str, taken: &mut Vec<String>) -> String {
    let base = sheet_name(name);
    let mut candidate = base.clone();
    let mut n = 2;
    while taken.iter().any(|t| t.to_lowercase() == candidate.to_lowercase()) {
        let suffix = format!("({n})");
        let keep = 31 - suffix.chars().count();
        candidate = format!("{}{suffix}", base.chars().take(keep).collect::<String>());
        n += 1;
    }
    taken.push(candidate.clone());
    candidate
}

/// A ledger column grows to fit its content up to this width (Excel character units); longer
/// text wraps inside the cell, so it is printed whole instead of cut at the next column.
pub const MAX_FIT_WIDTH: f64 = 36.0;
/// The narrowest a fitted column gets (a short number or an empty column stays clickable).
pub const MIN_FIT_WIDTH: f64 = 6.0;

/// How wide a cell's content prints, in half-width character units (CJK counts two).
fn cell_units(cell: &Cell) -> usize {
    match cell {
        Cell::Text(s) => text_units(s),
        Cell::Number(n) => crate::read::float_text(*n).len(),
        // As the formats below write them: yyyy-mm-dd and yyyy-mm-dd hh:mm.
        Cell::Date(_) => 10,
        Cell::DateTime(_) => 16,
        Cell::Empty => 0,
    }
}

/// The width that shows `units` half-width characters whole: Excel's unit is the width of a
/// digit of the default font, and a CJK glyph prints a little wider than two digits (Noto Sans
/// CJK and SimSun at 11 pt: about 2.1), so a tenth is added, plus two for the cell's padding.
fn width_for(units: usize) -> f64 {
    units as f64 * 1.1 + 2.0
}

/// Lines a cell takes in a column of `width` (wrapped text; explicit line breaks count).
fn cell_lines(cell: &Cell, width: f64) -> usize {
    let Cell::Text(s) = cell else { return 1 };
    // The half-width characters a line of this column holds (the inverse of `width_for`).
    let per_line = ((width - 2.0) / 1.1).max(1.0);
    let lines = |l: &str| {
        let n = text_units(l) as f64 / per_line;
        // Text that wraps breaks at a character or a space, not exactly at the edge: a little
        // room for the line ends.
        if n <= 1.0 + 1e-9 { 1 } else { (n / 0.92).ceil() as usize }
    };
    s.lines().map(lines).sum::<usize>().max(1)
}

/// Points per line of a ledger row (Calibri 11 and the CJK fonts that stand in for it).
const LINE_POINTS: f64 = 15.0;

/// The height of a data row whose text wraps, in points; `None` for a one-line row. Spreadsheet
/// programs do not grow a row for wrapped text on opening a file (LibreOffice keeps the default
/// height and prints the first line only), so the height is set here.
fn row_height(row: &[Cell], widths: &[f64]) -> Option<f64> {
    let lines = row.iter().zip(widths).map(|(c, w)| cell_lines(c, *w)).max().unwrap_or(1);
    // Excel's limit is 409 points.
    (lines > 1).then(|| (lines as f64 * LINE_POINTS + 2.0).min(409.0))
}

/// Each column's width fitted to its header and content (the widest cell, CJK characters
/// counting double), between [`MIN_FIT_WIDTH`] and [`MAX_FIT_WIDTH`].
pub fn fitted_widths(columns: &[Column], rows: &[Vec<Cell>]) -> Vec<f64> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let widest = rows.iter().filter_map(|r| r.get(i)).map(cell_units).max().unwrap_or(0);
            // The header is bold: a little wider than the same text in the body.
            let header = (width_for(text_units(&c.header)) * 1.1).ceil();
            width_for(widest).max(header).clamp(MIN_FIT_WIDTH, MAX_FIT_WIDTH)
        })
        .collect()
}

/// The print layout of every sheet this module writes — the one place it is set: A4 landscape,
/// all columns scaled onto one page width and as many pages tall as the rows need
/// (fitToWidth=1, fitToHeight=0), the header row repeated at the top of every page (print
/// titles), centred, narrow margins, "第 N 页，共 M 页" in the footer.
fn print_layout(ws: &mut Worksheet, header_row: u32) -> Result<(), OfficeError> {
    const A4: u8 = 9;
    ws.set_paper_size(A4);
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(header_row, header_row).map_err(xerr)?;
    ws.set_print_center_horizontally(true);
    // Inches: left, right, top, bottom, header, footer.
    ws.set_margins(0.4, 0.4, 0.5, 0.6, 0.3, 0.3);
    ws.set_footer("&C第 &P 页，共 &N 页");
    Ok(())
}

/// Widths in Excel character units; a nonsense width falls back to a readable one.
fn column_width(c: &Column) -> f64 {
    let w = if c.width.is_finite() { c.width } else { 14.0 };
    w.clamp(4.0, 120.0)
}

fn excel_date(d: NaiveDate) -> Option<ExcelDateTime> {
    // Excel dates start in 1900; anything earlier is written as text instead.
    let year = u16::try_from(d.year()).ok()?;
    ExcelDateTime::from_ymd(year, d.month() as u8, d.day() as u8).ok()
}

fn excel_datetime(t: chrono::NaiveDateTime) -> Option<ExcelDateTime> {
    excel_date(t.date())?.and_hms(t.hour() as u16, t.minute() as u8, t.second() as f64).ok()
}

fn clip(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().count() <= MAX_CELL_CHARS {
        s.into()
    } else {
        let mut t: String = s.chars().take(MAX_CELL_CHARS - 1).collect();
        t.push('…');
        t.into()
    }
}

/// Formats for one kind of cell: plain ledger cells or grey example cells.
struct CellFormats {
    text: Format,
    number: Format,
    date: Format,
    datetime: Format,
}

impl CellFormats {
    /// Printed ledgers: thin borders, text wrapped inside its (fitted) column, top-aligned.
    fn ledger() -> CellFormats {
        let cell = Format::new().set_border(FormatBorder::Thin).set_align(FormatAlign::Top);
        CellFormats {
            text: cell.clone().set_text_wrap(),
            number: cell.clone(),
            date: cell.clone().set_num_format("yyyy-mm-dd"),
            datetime: cell.set_num_format("yyyy-mm-dd hh:mm"),
        }
    }

    fn example() -> CellFormats {
        let grey = Format::new().set_italic().set_font_color(0x888888);
        CellFormats {
            text: grey.clone(),
            number: grey.clone(),
            date: grey.clone().set_num_format("yyyy-mm-dd"),
            datetime: grey.set_num_format("yyyy-mm-dd hh:mm"),
        }
    }
}

fn write_cell(ws: &mut Worksheet, row: u32, col: u16, cell: &Cell, f: &CellFormats) -> Result<(), OfficeError> {
    match cell {
        Cell::Text(s) if !s.is_empty() => {
            ws.write_string_with_format(row, col, clip(s), &f.text).map_err(xerr)?;
        }
        Cell::Number(n) if n.is_finite() => {
            ws.write_number_with_format(row, col, *n, &f.number).map_err(xerr)?;
        }
        Cell::Date(d) => match excel_date(*d) {
            Some(x) => {
                ws.write_datetime_with_format(row, col, x, &f.date).map_err(xerr)?;
            }
            None => {
                ws.write_string_with_format(row, col, d.format("%Y-%m-%d").to_string(), &f.text).map_err(xerr)?;
            }
        },
        Cell::DateTime(t) => match excel_datetime(*t) {
            Some(x) => {
                ws.write_datetime_with_format(row, col, x, &f.datetime).map_err(xerr)?;
            }
            None => {
                ws.write_string_with_format(row, col, t.format("%Y-%m-%d %H:%M").to_string(), &f.text).map_err(xerr)?;
            }
        },
        _ => {}
    }
    Ok(())
}

fn col_index(i: usize) -> Result<u16, OfficeError> {
    u16::try_from(i)
        .ok()
        .filter(|c| *c < 16_384)
        .ok_or_else(|| OfficeError::Write("列数超过 Excel 上限（16384 列）".into()))
}

fn row_index(i: usize) -> Result<u32, OfficeError> {
    u32::try_from(i)
        .ok()
        .filter(|r| *r < 1_048_576)
        .ok_or_else(|| OfficeError::Write("行数超过 Excel 上限（1048576 行），请缩小导出范围".into()))
}

/// One ledger sheet: optional title row, bold frozen header with a filter, columns fitted to
/// their content, dates as dates and numbers as numbers, and the print layout.
fn ledger_sheet(
    ws: &mut Worksheet,
    title: Option<&str>,
    columns: &[Column],
    rows: &[Vec<Cell>],
) -> Result<(), OfficeError> {
    let formats = CellFormats::ledger();
    let mut header_row = 0u32;
    if let Some(t) = title.filter(|t| !t.trim().is_empty()) {
        let f = Format::new()
            .set_bold()
            .set_font_size(14)
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter);
        if columns.len() > 1 {
            ws.merge_range(0, 0, 0, col_index(columns.len() - 1)?, &clip(t), &f).map_err(xerr)?;
        } else {
            ws.write_string_with_format(0, 0, clip(t), &f).map_err(xerr)?;
        }
        ws.set_row_height(0, 28).map_err(xerr)?;
        header_row = 1;
    }
    let hf = header_format();
    let widths = fitted_widths(columns, rows);
    for (i, (c, width)) in columns.iter().zip(&widths).enumerate() {
        let col = col_index(i)?;
        ws.write_string_with_format(header_row, col, clip(&c.header), &hf).map_err(xerr)?;
        ws.set_column_width(col, *width).map_err(xerr)?;
    }
    let last_row = row_index(header_row as usize + rows.len())?;
    for (r, row) in rows.iter().enumerate() {
        let at = header_row + 1 + r as u32;
        for (c, cell) in row.iter().enumerate().take(columns.len()) {
            write_cell(ws, at, c as u16, cell, &formats)?;
        }
        if let Some(h) = row_height(row, &widths) {
            ws.set_row_height(at, h).map_err(xerr)?;
        }
    }
    ws.set_freeze_panes(header_row + 1, 0).map_err(xerr)?;
    if !columns.is_empty() {
        ws.autofilter(header_row, 0, last_row, col_index(columns.len() - 1)?).map_err(xerr)?;
    }
    print_layout(ws, header_row)
}

/// A ledger as one worksheet (see [`export_workbook`] for several).
pub fn export_table(
    sheet: &str,
    title: Option<&str>,
    columns: &[Column],
    rows: &[Vec<Cell>],
) -> Result<Vec<u8>, OfficeError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(sheet)).map_err(xerr)?;
    ledger_sheet(ws, title, columns, rows)?;
    wb.save_to_buffer().map_err(xerr)
}

/// Several ledgers in one workbook, one sheet each, in order. Repeated sheet names are numbered.
pub fn export_workbook(sheets: &[SheetData]) -> Result<Vec<u8>, OfficeError> {
    let mut wb = Workbook::new();
    let mut taken = vec![];
    if sheets.is_empty() {
        wb.add_worksheet();
    }
    for s in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(unique_sheet_name(&s.name, &mut taken)).map_err(xerr)?;
        ledger_sheet(ws, s.title.as_deref(), &s.columns, &s.rows)?;
    }
    wb.save_to_buffer().map_err(xerr)
}

/// An example row the reader is sure to skip: its first cell starts with "示例".
fn marked_example(row: &[Cell]) -> Vec<Cell> {
    let mut row = row.to_vec();
    let first =
        row.iter().position(|c| !matches!(c, Cell::Empty) && !matches!(c, Cell::Text(s) if s.trim().is_empty()));
    match first.map(|i| (i, &row[i])) {
        Some((_, Cell::Text(s))) if s.trim_start().starts_with(EXAMPLE_MARK) => {}
        Some((i, cell)) => {
            let text = match cell {
                Cell::Text(s) => s.clone(),
                Cell::Number(n) => crate::read::float_text(*n),
                Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
                Cell::DateTime(t) => t.format("%Y-%m-%d %H:%M").to_string(),
                Cell::Empty => String::new(),
            };
            row[i] = Cell::Text(format!("{EXAMPLE_MARK}：{text}"));
        }
        None => {}
    }
    row
}

/// The hint shown on a header cell.
fn header_hint(c: &Column) -> String {
    let mut parts = vec![];
    if c.required {
        parts.push("必填。".to_string());
    }
    if !c.note.trim().is_empty() {
        parts.push(c.note.trim().to_string());
    }
    if !c.choices.is_empty() {
        parts.push(if parts.is_empty() { "请从下拉列表中选择。" } else { " 请从下拉列表中选择。" }.to_string());
    }
    parts.concat()
}

/// An import template: a data sheet whose header marks required columns with "*" and carries
/// fill-in hints as notes, dropdowns for columns with choices (from a hidden 选项 sheet, so long
/// lists such as unit names fit), example rows in grey italics that the reader skips (an example
/// whose first cell does not start with "示例" gets the mark), and a 填写说明 sheet with the
/// instructions and each column's rule.
pub fn import_template(
    sheet: &str,
    columns: &[Column],
    example_rows: &[Vec<Cell>],
    instructions: &[&str],
) -> Result<Vec<u8>, OfficeError> {
    let mut taken = vec![HELP_SHEET.to_string(), CHOICES_SHEET.to_string()];
    let data_name = unique_sheet_name(sheet, &mut taken);
    let mut ws = Worksheet::new();
    ws.set_name(&data_name).map_err(xerr)?;
    let mut opts = Worksheet::new();
    opts.set_name(CHOICES_SHEET).map_err(xerr)?;
    let hf = header_format();
    let required_hf = header_format().set_font_color(0xB71C1C);
    let mut opt_col = 0u16;
    for (i, c) in columns.iter().enumerate() {
        let col = col_index(i)?;
        let header = if c.required { format!("*{}", c.header) } else { c.header.clone() };
        ws.write_string_with_format(0, col, clip(&header), if c.required { &required_hf } else { &hf })
            .map_err(xerr)?;
        // Wide enough for the header itself (CJK characters take two units).
        let header_units = text_units(&header);
        ws.set_column_width(col, column_width(c).max(header_units as f64 + 2.0).min(120.0)).map_err(xerr)?;
        let hint = header_hint(c);
        if !hint.is_empty() {
            ws.insert_note(
                0,
                col,
                &Note::new(&hint).set_author("协同").add_author_prefix(false).set_width(240).set_height(100),
            )
            .map_err(xerr)?;
        }
        if !c.choices.is_empty() {
            opts.write_string(0, opt_col, clip(&c.header)).map_err(xerr)?;
            for (k, v) in c.choices.iter().enumerate() {
                opts.write_string(row_index(1 + k)?, opt_col, clip(v)).map_err(xerr)?;
            }
            let letter = rust_xlsxwriter::utility::column_number_to_name(opt_col);
            let formula = format!("='{CHOICES_SHEET}'!${letter}$2:${letter}${}", c.choices.len() + 1);
            let dv = DataValidation::new()
                .allow_list_formula(Formula::new(formula))
                .set_error_title("输入值无效")
                .map_err(xerr)?
                .set_error_message(format!("「{}」请从下拉列表中选择", c.header).chars().take(255).collect::<String>())
                .map_err(xerr)?;
            ws.add_data_validation(1, col, TEMPLATE_ROWS, col, &dv).map_err(xerr)?;
            opt_col += 1;
        }
    }
    let example = CellFormats::example();
    for (r, row) in example_rows.iter().enumerate() {
        for (c, cell) in marked_example(row).iter().enumerate().take(columns.len()) {
            write_cell(&mut ws, row_index(1 + r)?, c as u16, cell, &example)?;
        }
    }
    ws.set_freeze_panes(1, 0).map_err(xerr)?;
    print_layout(&mut ws, 0)?;

    let mut help = Worksheet::new();
    help.set_name(HELP_SHEET).map_err(xerr)?;
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    help.write_string_with_format(
        0,
        0,
        format!("{data_name}：{HELP_SHEET}"),
        &Format::new().set_bold().set_font_size(14),
    )
    .map_err(xerr)?;
    let mut r = 2u32;
    for (i, line) in instructions.iter().enumerate() {
        help.write_string(r, 0, format!("{}. {}", i + 1, clip(line))).map_err(xerr)?;
        r += 1;
    }
    r += 1;
    for (c, h) in ["列名", "是否必填", "填写说明", "可选值"].iter().enumerate() {
        help.write_string_with_format(r, c as u16, *h, &header_format()).map_err(xerr)?;
    }
    for c in columns {
        r += 1;
        help.write_string_with_format(r, 0, clip(&c.header), &bold).map_err(xerr)?;
        help.write_string(r, 1, if c.required { "必填" } else { "选填" }).map_err(xerr)?;
        help.write_string_with_format(r, 2, clip(&c.note), &wrap).map_err(xerr)?;
        let choices = if c.choices.is_empty() { String::new() } else { c.choices.join("、") };
        help.write_string_with_format(r, 3, clip(&choices), &wrap).map_err(xerr)?;
    }
    help.set_column_width(0, 20).map_err(xerr)?;
    help.set_column_width(1, 10).map_err(xerr)?;
    help.set_column_width(2, 50).map_err(xerr)?;
    help.set_column_width(3, 60).map_err(xerr)?;
    opts.set_hidden(true);

    let mut wb = Workbook::new();
    wb.push_worksheet(ws);
    wb.push_worksheet(help);
    wb.push_worksheet(opts);
    wb.save_to_buffer().map_err(xerr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_cleaned_and_unique() {
        assert_eq!(sheet_name("a/b:c*?[x]"), "abcx");
        assert_eq!(sheet_name("''"), "Sheet1");
        assert_eq!(sheet_name(&"排".repeat(40)).chars().count(), 31);
        let mut taken = vec![];
        assert_eq!(unique_sheet_name("排名", &mut taken), "排名");
        assert_eq!(unique_sheet_name("排名", &mut taken), "排名(2)");
        assert_eq!(unique_sheet_name(&"长".repeat(31), &mut taken).chars().count(), 31);
        assert_eq!(unique_sheet_name(&"长".repeat(31), &mut taken), format!("{}(2)", "长".repeat(28)));
    }

    #[test]
    fn examples_always_carry_the_mark() {
        assert_eq!(marked_example(&[Cell::Text("示例：道路".into())])[0], Cell::Text("示例：道路".into()));
        assert_eq!(marked_example(&[Cell::Text("道路".into())])[0], Cell::Text("示例：道路".into()));
        assert_eq!(marked_example(&[Cell::Empty, Cell::Number(18500.0)])[1], Cell::Text("示例：18500".into()));
    }

    #[test]
    fn columns_fit_their_content_cjk_counting_double() {
        let cols = [Column::plain("亮灯", 99.0), Column::plain("编号", 1.0), Column::plain("任务名称", 10.0)];
        let rows = vec![
            vec![Cell::Text("红灯（已逾期）".into()), Cell::Number(18.0), Cell::Text("甲".repeat(100))],
            vec![Cell::Text("绿灯".into()), Cell::Number(1234567.0), Cell::Empty],
        ];
        let w = fitted_widths(&cols, &rows);
        // 7 CJK characters = 14 units, whole: 14 × 1.1 + 2.
        assert!((w[0] - 17.4).abs() < 1e-9, "{w:?}");
        // The header (bold) is wider than the numbers.
        assert!((w[1] - width_for(7)).abs() < 1e-9, "the widest number, 7 digits: {w:?}");
        assert_eq!(w[2], MAX_FIT_WIDTH, "long text is capped and wraps");
        assert_eq!(fitted_widths(&cols, &[]).len(), 3);
    }

    #[test]
    fn wrapped_rows_get_their_height() {
        let widths = [17.4, 36.0];
        assert_eq!(row_height(&[Cell::Text("红灯（已逾期）".into()), Cell::Number(1.0)], &widths), None);
        let long = Cell::Text("背街小巷综合整治提升，完成路面、管网、立面和绿化改造".into());
        assert_eq!(row_height(&[Cell::Empty, long], &widths), Some(2.0 * LINE_POINTS + 2.0));
        let lines = Cell::Text("一\n二\n三".into());
        assert_eq!(row_height(&[lines, Cell::Empty], &widths), Some(3.0 * LINE_POINTS + 2.0));
        assert_eq!(row_height(&[Cell::Text("字".repeat(5000)), Cell::Empty], &widths), Some(409.0));
    }

    #[test]
    fn every_sheet_carries_the_print_layout() {
        use std::io::Read;
        let cols = [Column::plain("任务名称", 10.0), Column::plain("牵头单位", 10.0)];
        let rows = vec![vec![Cell::Text("道路".into()), Cell::Text("城管局".into())]];
        let files = [
            export_table("台账", Some("标题"), &cols, &rows).unwrap(),
            export_workbook(&[SheetData { name: "甲".into(), title: None, columns: cols.to_vec(), rows }]).unwrap(),
            import_template("模板", &cols, &[], &["说明"]).unwrap(),
        ];
        for (i, bytes) in files.iter().enumerate() {
            let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
            let mut sheet = String::new();
            zip.by_name("xl/worksheets/sheet1.xml").unwrap().read_to_string(&mut sheet).unwrap();
            let mut book = String::new();
            zip.by_name("xl/workbook.xml").unwrap().read_to_string(&mut book).unwrap();
            assert!(sheet.contains("<pageSetUpPr fitToPage=\"1\"/>"), "file {i}: {sheet}");
            assert!(
                sheet.contains("<pageSetup paperSize=\"9\" fitToHeight=\"0\" orientation=\"landscape\""),
                "file {i}"
            );
            assert!(sheet.contains("&amp;C第 &amp;P 页，共 &amp;N 页"), "file {i}: page numbers");
            let titles = if i == 0 { "!$2:$2" } else { "!$1:$1" };
            assert!(book.contains("_xlnm.Print_Titles") && book.contains(titles), "file {i}: {book}");
        }
    }

    #[test]
    fn hints_say_required_and_dropdown() {
        let c = Column::new("unit", "牵头单位").required().note("单位全称").choices(["城管局"]);
        assert_eq!(header_hint(&c), "必填。单位全称 请从下拉列表中选择。");
        assert_eq!(header_hint(&Column::new("x", "备注")), "");
    }
}
