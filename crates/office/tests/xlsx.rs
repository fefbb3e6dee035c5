//! Tables in and out: what we write reads back, a filled-in template reads as the clerk meant it,
//! and bad files are refused with the row and column named — never with a panic.

use std::io::{Cursor, Read};

use calamine::Reader;
use chrono::{NaiveDate, NaiveDateTime};
use proptest::prelude::*;
use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
use xietong_office::read::{ImportErrors, MAX_ROWS, read_rows, read_table};
use xietong_office::table::{Cell, Column, SheetData};
use xietong_office::xlsx::{export_table, export_workbook, import_template};

fn columns() -> Vec<Column> {
    vec![
        Column::new("title", "任务名称").required().note("一句话写清任务"),
        Column::new("unit", "牵头单位").required().choices(["建设和交通局", "城管局", "区委办（督查室）"]),
        Column::new("deadline", "办理期限").required().note("YYYY-MM-DD"),
        Column::new("note", "备注"),
    ]
}

fn t(s: &str) -> Cell {
    Cell::Text(s.into())
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn values(rows: &[xietong_office::RawRow], key: &str) -> Vec<String> {
    rows.iter().map(|r| r.get(key).to_string()).collect()
}

fn zip_part(bytes: &[u8], name: &str) -> String {
    let mut a = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut s = String::new();
    a.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}

#[test]
fn an_export_reads_back_the_same_strings() {
    let at = NaiveDateTime::parse_from_str("2026-11-24 09:30:00", "%Y-%m-%d %H:%M:%S").unwrap();
    let rows = vec![
        vec![t("道路改造"), t("城管局"), Cell::Date(d(2026, 12, 31)), Cell::Number(62.7)],
        vec![t("易涝点整治 & <排查>"), t("建设和交通局"), Cell::DateTime(at), Cell::Number(18500.0)],
        vec![t("  前后有空格  "), t("城管局"), t("2027-01-05"), Cell::Number(-0.5)],
    ];
    let bytes = export_table("台账", Some("督办任务台账"), &columns(), &rows).unwrap();
    let back = read_table("台账.xlsx", &bytes, &columns()).unwrap();
    assert_eq!(
        back.iter().map(|r| r.row).collect::<Vec<_>>(),
        vec![3, 4, 5],
        "title row, header row, then data from row 3"
    );
    assert_eq!(values(&back, "title"), ["道路改造", "易涝点整治 & <排查>", "前后有空格"]);
    assert_eq!(values(&back, "deadline"), ["2026-12-31", "2026-11-24 09:30", "2027-01-05"]);
    assert_eq!(values(&back, "note"), ["62.7", "18500", "-0.5"]);
    assert_eq!(back[0].values, ["道路改造", "城管局", "2026-12-31", "62.7"]);
    assert_eq!(back[0].get_opt("note"), Some("62.7"));
    assert_eq!(back[0].get("no such key"), "");

    // Dates are real Excel dates with a yyyy-mm-dd format, numbers are numbers.
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.clone())).unwrap();
    let range = wb.worksheet_range("台账").unwrap();
    assert!(matches!(range.get_value((2, 2)), Some(calamine::Data::DateTime(_))), "{:?}", range.get_value((2, 2)));
    assert_eq!(range.get_value((3, 3)), Some(&calamine::Data::Float(18500.0)));
    let sheet = zip_part(&bytes, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains("<autoFilter ref=\"A2:D5\"/>"), "{sheet}");
    assert!(sheet.contains("ySplit=\"2\""), "header frozen: {sheet}");
    assert!(zip_part(&bytes, "xl/styles.xml").contains("yyyy-mm-dd"));
}

#[test]
fn a_workbook_of_several_sheets_and_the_reader_finds_the_right_one() {
    let other = vec![Column::plain("名次", 6.0), Column::plain("单位", 20.0)];
    let sheets = vec![
        SheetData {
            name: "排名".into(),
            title: Some("2026年10月排名".into()),
            columns: other.clone(),
            rows: vec![vec![Cell::Number(1.0), t("水利局")]],
        },
        SheetData {
            name: "任务".into(),
            title: None,
            columns: columns(),
            rows: vec![vec![t("背街小巷"), t("城管局"), Cell::Date(d(2026, 12, 1)), Cell::Empty]],
        },
        SheetData { name: "排名".into(), title: None, columns: other, rows: vec![] },
    ];
    let bytes = export_workbook(&sheets).unwrap();
    let wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.clone())).unwrap();
    assert_eq!(wb.sheet_names(), ["排名", "任务", "排名(2)"]);
    // The task columns are on the second sheet; the reader picks it by its header.
    let rows = read_table("导出.xlsx", &bytes, &columns()).unwrap();
    assert_eq!(values(&rows, "title"), ["背街小巷"]);
    assert_eq!(rows[0].row, 2);
}

/// The template the clerk downloads: header, notes, dropdowns, example, 填写说明.
#[test]
fn the_template_has_marked_headers_hints_dropdowns_and_instructions() {
    let example = vec![
        vec![t("示例：背街小巷整治"), t("城管局"), Cell::Date(d(2026, 12, 31))],
        vec![t("不带标记的示例"), t("城管局")],
    ];
    let bytes =
        import_template("督办任务导入模板", &columns(), &example, &["带 * 的列必填", "以“示例”开头的行不会导入"])
            .unwrap();
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.clone())).unwrap();
    assert_eq!(wb.sheet_names(), ["督办任务导入模板", "填写说明", "选项"]);
    let data = wb.worksheet_range("督办任务导入模板").unwrap();
    let header: Vec<String> = (0..4).map(|c| data.get_value((0, c)).unwrap().to_string()).collect();
    assert_eq!(header, ["*任务名称", "*牵头单位", "*办理期限", "备注"]);
    assert_eq!(
        data.get_value((2, 0)).unwrap().to_string(),
        "示例：不带标记的示例",
        "an example always carries the mark"
    );
    let help = wb.worksheet_range("填写说明").unwrap();
    let help_text: Vec<String> = help.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
    for want in ["1. 带 * 的列必填", "牵头单位", "必填", "选填", "建设和交通局、城管局、区委办（督查室）", "YYYY-MM-DD"]
    {
        assert!(help_text.iter().any(|c| c == want), "填写说明 lacks {want}: {help_text:?}");
    }
    let choices = wb.worksheet_range("选项").unwrap();
    assert_eq!(choices.get_value((3, 0)).unwrap().to_string(), "区委办（督查室）");
    // The dropdown, the hidden list sheet, the notes and the example's look.
    let sheet = zip_part(&bytes, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains("<dataValidation type=\"list\"") && sheet.contains("sqref=\"B2:B1001\""), "{sheet}");
    assert!(sheet.contains("<formula1>'选项'!$A$2:$A$4</formula1>"), "{sheet}");
    assert!(zip_part(&bytes, "xl/workbook.xml").contains("state=\"hidden\""));
    let notes = zip_part(&bytes, "xl/comments1.xml");
    assert!(notes.contains("必填。一句话写清任务") && notes.contains("请从下拉列表中选择"), "{notes}");
    let styles = zip_part(&bytes, "xl/styles.xml");
    assert!(styles.contains("<i/>") && styles.contains("FF888888"), "grey italics for the example");
    // As downloaded, the template holds no data.
    assert!(read_table("模板.xlsx", &bytes, &columns()).unwrap().is_empty());
}

/// A template as a clerk fills it in Excel: sheets reordered, a title row, columns in another
/// order with an extra one, real dates, numbers, percentages, booleans, a merged unit cell, the
/// example row left in place, blank rows between.
#[test]
fn a_filled_in_template_reads_as_the_clerk_meant_it() {
    let mut wb = Workbook::new();
    let help = wb.add_worksheet();
    help.set_name("填写说明").unwrap();
    help.write_string(0, 0, "任务名称").unwrap();
    help.write_string(1, 0, "牵头单位").unwrap();
    let ws = wb.add_worksheet();
    ws.set_name("督办任务导入模板").unwrap();
    ws.write_string(0, 0, "2026年第四季度督办任务").unwrap();
    for (c, h) in ["序号", "＊办理 期限", "*任务名称", "备注", "*牵头单位", "多余的列"].iter().enumerate()
    {
        ws.write_string(1, c as u16, *h).unwrap();
    }
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let pct = Format::new().set_num_format("0.0%");
    // Row 3: the example, grey as in the template.
    ws.write_string(2, 2, "示例：背街小巷整治").unwrap();
    ws.write_string(2, 4, "城管局").unwrap();
    // Row 4 and 5: the unit is one merged cell over both rows.
    ws.write_number(3, 0, 1).unwrap();
    ws.write_datetime_with_format(3, 1, ExcelDateTime::from_ymd(2026, 12, 31).unwrap(), &date).unwrap();
    ws.write_string(3, 2, "道路改造").unwrap();
    ws.write_number_with_format(3, 3, 0.627, &pct).unwrap();
    ws.merge_range(3, 4, 4, 4, "建设和交通局", &Format::new()).unwrap();
    ws.write_number(4, 0, 2).unwrap();
    ws.write_string(4, 1, "2027-01-05").unwrap();
    ws.write_string(4, 2, "雨污分流").unwrap();
    ws.write_boolean(4, 3, true).unwrap();
    // Row 6 has only its 序号: an empty data row. Row 8 after a blank row.
    ws.write_number(5, 0, 3).unwrap();
    ws.write_datetime_with_format(
        7,
        1,
        ExcelDateTime::parse_from_str("2026-12-01 17:30:00").unwrap(),
        &Format::new().set_num_format("yyyy-mm-dd hh:mm"),
    )
    .unwrap();
    ws.write_string(7, 2, "  老旧小区改造  ").unwrap();
    ws.write_number(7, 3, 12345678.0).unwrap();
    ws.write_string(7, 4, "区委办 (督查室)").unwrap();
    ws.write_string(7, 5, "不读").unwrap();
    let bytes = wb.save_to_buffer().unwrap();

    let rows = read_table("填好的模板.xlsx", &bytes, &columns()).unwrap();
    assert_eq!(rows.iter().map(|r| r.row).collect::<Vec<_>>(), [4, 5, 8]);
    assert_eq!(values(&rows, "title"), ["道路改造", "雨污分流", "老旧小区改造"]);
    assert_eq!(
        values(&rows, "unit"),
        ["建设和交通局", "建设和交通局", "区委办（督查室）"],
        "merged cell in both rows; a choice in its own spelling"
    );
    assert_eq!(values(&rows, "deadline"), ["2026-12-31", "2027-01-05", "2026-12-01 17:30"]);
    assert_eq!(values(&rows, "note"), ["62.7%", "是", "12345678"]);
}

#[test]
fn every_bad_row_and_column_is_named_at_once() {
    let rows = vec![
        vec![t("好的一行"), t("城管局"), t("2026-12-31")],
        vec![t(""), t("城管局"), t("2026-12-31")],
        vec![t("第三行"), t("不存在的局"), t("")],
        vec![t("第四行"), t("城管局"), t("2026-12-31")],
    ];
    let bytes = export_table("s", None, &columns(), &rows).unwrap();
    let err = read_table("x.xlsx", &bytes, &columns()).unwrap_err();
    let lines: Vec<String> = err.to_string().lines().map(str::to_string).collect();
    assert_eq!(
        lines,
        [
            "第 3 行「任务名称」：不能为空",
            "第 4 行「牵头单位」：「不存在的局」不是可选值（可选：建设和交通局、城管局、区委办（督查室））",
            "第 4 行「办理期限」：不能为空",
        ]
    );
    assert_eq!(err.0[1].row, 4);
    assert_eq!(err.0[1].column.as_deref(), Some("牵头单位"));
    // read_rows hands back the rows as well, for callers adding checks of their own.
    let (rows, errors) = read_rows("x.xlsx", &bytes, &columns()).unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(errors, err.0);
}

#[test]
fn error_values_in_cells_are_row_errors() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["任务名称", "牵头单位", "办理期限"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "公式出错").unwrap();
    ws.write_formula(1, 1, Formula::new("=VLOOKUP(A2,X:Y,2,0)").set_result("#N/A")).unwrap();
    ws.write_string(1, 2, "2026-12-31").unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let err = read_table("x.xlsx", &bytes, &columns()).unwrap_err();
    assert_eq!(err.0.len(), 1, "the error value, not also 不能为空: {err}");
    assert!(err.to_string().starts_with("第 2 行「牵头单位」：单元格是错误值 #N/A"), "{err}");
}

#[test]
fn missing_and_repeated_columns_are_named() {
    let cols = vec![Column::plain("任务名称", 10.0), Column::plain("备注", 10.0)];
    let bytes = export_table("s", None, &cols, &[vec![t("x"), t("y")]]).unwrap();
    let err = read_table("x.xlsx", &bytes, &columns()).unwrap_err().to_string();
    assert_eq!(
        err,
        "第 1 行「牵头单位」：缺少这一列（必填列），请使用导入模板\n第 1 行「办理期限」：缺少这一列（必填列），请使用导入模板"
    );

    let csv = "任务名称,牵头单位,办理期限,任务名称\n甲,城管局,2026-12-31,乙\n";
    let err = read_table("a.csv", csv.as_bytes(), &columns()).unwrap_err().to_string();
    assert_eq!(err, "第 1 行「任务名称」：这一列出现了两次（第 A 列和第 D 列），请删去其中一列");

    let err = read_table("x.csv", "随便,什么\n1,2\n".as_bytes(), &columns()).unwrap_err().to_string();
    assert!(err.starts_with("找不到表头：前 10 行中没有「任务名称」「牵头单位」「办理期限」等列名"), "{err}");
}

#[test]
fn csv_in_utf8_with_and_without_bom_gbk_utf16_and_tsv() {
    let csv = "\u{feff}*任务名称,牵头单位,办理期限\r\n道路改造,城管局,2026-12-31\r\n\r\n示例：跳过,城管局,2026-12-31\r\n\"含,逗号\n和换行\",建设和交通局,2027-01-05\r\n最后,城管局,2027-01-06\r\n";
    let rows = read_table("a.csv", csv.as_bytes(), &columns()).unwrap();
    assert_eq!(values(&rows, "title"), ["道路改造", "含,逗号\n和换行", "最后"]);
    assert_eq!(
        rows.iter().map(|r| r.row).collect::<Vec<_>>(),
        [2, 5, 6],
        "rows as Excel numbers them: blank lines count, breaks inside a cell do not"
    );
    let plain = csv.trim_start_matches('\u{feff}');
    assert_eq!(read_table("a.csv", plain.as_bytes(), &columns()).unwrap(), rows);

    let (gbk, _, _) = encoding_rs::GBK.encode("任务名称,牵头单位,办理期限\n背街小巷,城管局,2026-12-31\n");
    assert!(std::str::from_utf8(&gbk).is_err(), "really not UTF-8");
    assert_eq!(values(&read_table("b.csv", &gbk, &columns()).unwrap(), "title"), ["背街小巷"]);

    let mut utf16 = vec![0xFF, 0xFE];
    for u in "任务名称\t牵头单位\t办理期限\r\n背街小巷\t城管局\t2026-12-31\r\n".encode_utf16() {
        utf16.extend(u.to_le_bytes());
    }
    assert_eq!(values(&read_table("unicode.txt", &utf16, &columns()).unwrap(), "unit"), ["城管局"]);

    let tsv = "任务名称\t牵头单位\t办理期限\n道路改造, 二期\t城管局\t2026-12-31\n";
    assert_eq!(values(&read_table("c.tsv", tsv.as_bytes(), &columns()).unwrap(), "title"), ["道路改造, 二期"]);
    // Excel's "Unicode text" saved under a .csv name is tab-separated.
    let tabbed = "任务名称\t牵头单位\t办理期限\n道路改造\t城管局\t2026-12-31\n";
    assert_eq!(values(&read_table("d.csv", tabbed.as_bytes(), &columns()).unwrap(), "unit"), ["城管局"]);
}

#[test]
fn garbage_is_refused_in_chinese() {
    let not_xlsx = "文件无法读取：不是有效的 Excel 文件（.xlsx）";
    let e = read_table("x.xlsx", b"PK\x03\x04 not really", &columns()).unwrap_err().to_string();
    assert!(e.starts_with(not_xlsx), "{e}");
    let e = read_table("x.xlsx", b"hello", &columns()).unwrap_err().to_string();
    assert!(e.starts_with(not_xlsx), "{e}");
    // A Word file is a zip too.
    let e = read_table("x.xlsx", &xietong_office::default_template(), &columns()).unwrap_err().to_string();
    assert!(e.starts_with(not_xlsx), "{e}");
    let good = export_table("s", None, &columns(), &[vec![t("a"), t("城管局"), t("2026-12-31")]]).unwrap();
    let e = read_table("x.xlsx", &good[..good.len() / 2], &columns()).unwrap_err().to_string();
    assert!(e.starts_with(not_xlsx), "a truncated upload: {e}");
    let e = read_table("x.xls", b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0\0\0", &columns()).unwrap_err().to_string();
    assert!(e.contains("旧版 Excel（.xls）或设置了打开密码"), "{e}");
    let e = read_table("x.xls", b"<html><table></table></html>", &columns()).unwrap_err().to_string();
    assert!(e.contains("另存为 .xlsx"), "{e}");
    let e = read_table("x.csv", b"", &columns()).unwrap_err().to_string();
    assert_eq!(e, "文件是空的");
    let e = read_table("x.csv", b"\xFF\xFF\xFF\x81\x30", &columns()).unwrap_err().to_string();
    assert!(e.starts_with("文件编码无法识别"), "{e}");
}

#[test]
fn absurd_files_are_refused_with_a_reason() {
    let big = vec![b'a'; 20 * 1024 * 1024 + 1];
    let e = read_table("big.csv", &big, &columns()).unwrap_err().to_string();
    assert!(e.starts_with("文件过大（20.0 MB），单个文件不能超过 20 MB"), "{e}");

    let mut csv = String::from("任务名称,牵头单位,办理期限\n");
    for i in 0..MAX_ROWS + 1 {
        csv.push_str(&format!("任务{i},城管局,2026-12-31\n"));
    }
    let e = read_table("many.csv", csv.as_bytes(), &columns()).unwrap_err();
    assert_eq!(e, ImportErrors::file("数据行超过 20000 行，请拆分后分批导入"));
}

/// A stray value far down and far right (a clerk's accident, or an attack) does not make the
/// reader allocate the whole rectangle: calamine's own range would be 16384 × 1048576 cells.
#[test]
fn a_stray_far_cell_costs_nothing() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["任务名称", "牵头单位", "办理期限"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "道路改造").unwrap();
    ws.write_string(1, 1, "城管局").unwrap();
    ws.write_string(1, 2, "2026-12-31").unwrap();
    ws.write_string(1_048_575, 16_383, "远处").unwrap();
    ws.write_string(1_048_575, 5, "远处").unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let started = std::time::Instant::now();
    let rows = read_table("x.xlsx", &bytes, &columns()).unwrap();
    assert_eq!(values(&rows, "title"), ["道路改造"]);
    assert!(started.elapsed().as_secs() < 5);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096), name in prop::sample::select(vec!["a.xlsx", "a.csv", "a.tsv", "a.txt", "a.xls", "a"])) {
        let _ = read_table(name, &bytes, &columns());
    }

    /// Damage to a real workbook reaches deep into the zip and XML parsers.
    #[test]
    fn damaged_workbooks_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
        let good = export_table("s", Some("标题"), &columns(), &[vec![t("甲"), t("城管局"), Cell::Date(d(2026, 12, 31)), Cell::Number(1.5)]]).unwrap();
        let mut bad = good.clone();
        for (at, byte) in &flips {
            let i = at.index(bad.len());
            bad[i] = *byte;
        }
        let _ = read_table("a.xlsx", &bad, &columns());
        let _ = read_table("a.xlsx", &good[..cut.index(good.len())], &columns());
    }

    #[test]
    fn any_text_round_trips(cells in proptest::collection::vec("[^\u{0}-\u{1f}]{1,30}", 1..20)) {
        let cols = vec![Column::plain("内容", 20.0)];
        let rows: Vec<Vec<Cell>> = cells.iter().map(|c| vec![Cell::Text(c.clone())]).collect();
        let bytes = export_table("s", None, &cols, &rows).unwrap();
        // Blank-after-trimming rows, example rows and a repeat of the header are not data.
        let expected: Vec<String> = cells.iter().map(|c| c.trim().to_string()).filter(|c| !c.is_empty() && !c.starts_with("示例")).collect();
        let back = read_table("s.xlsx", &bytes, &cols).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(values(&back, "内容"), expected);
    }

    #[test]
    fn any_number_reads_as_excel_shows_it(n in -1e12f64..1e12) {
        let cols = vec![Column::plain("数值", 20.0)];
        let bytes = export_table("s", None, &cols, &[vec![Cell::Number(n)]]).unwrap();
        let back = read_table("s.xlsx", &bytes, &cols).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let text = back[0].get("数值").to_string();
        let parsed: f64 = text.parse().map_err(|_| TestCaseError::fail(text.clone()))?;
        prop_assert!((parsed - n).abs() <= n.abs() * 1e-14, "{} read as {}", n, text);
        prop_assert!(!text.ends_with(".0") && !text.contains('e'), "{}", text);
    }
}
