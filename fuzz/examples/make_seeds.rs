//! Writes the seed corpora of the fuzz targets under the directory given (default
//! fuzz/corpus): real workbooks made by the project's own writers (`import_template`,
//! `export_table`) and by rust_xlsxwriter with the cells clerks produce (merges, dates, times,
//! percentages, booleans, formulas), the same tables as CSV/TSV in every encoding the reader
//! takes, date/time texts, and holiday-cn files. Nothing binary is committed; scripts/fuzz.sh
//! runs this before fuzzing.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use xietong_fuzz::column_sets;
use xietong_office::{Cell, Column, export_table, import_template};

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).expect("corpus directory");
    std::fs::write(dir.join(name), bytes).expect("seed written");
}

/// An .xlsx as `import_xlsx_parts` takes it: "@@@@ name\n" and the part, for every part.
fn as_parts(xlsx: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(Cursor::new(xlsx)).expect("our own workbook is a zip");
    let mut out = vec![];
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).expect("part");
        out.extend_from_slice(format!("@@@@ {}\n", f.name().expect("part name")).as_bytes());
        f.read_to_end(&mut out).expect("part read");
    }
    out
}

/// Every `ref="A1:B2"` of merges and dimensions as `ref="B2:A1"`.
fn swap_range_corners(parts: &str) -> String {
    let mut out = String::new();
    let mut rest = parts;
    while let Some(at) = rest.find("ref=\"") {
        let (head, tail) = rest.split_at(at + 5);
        out += head;
        let end = tail.find('"').unwrap_or(tail.len());
        match tail[..end].split_once(':') {
            Some((a, b)) => out += &format!("{b}:{a}"),
            None => out += &tail[..end],
        }
        rest = &tail[end..];
    }
    out + rest
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("constant date")
}

/// Plausible data rows for a column set: choices taken from the column, dates where the
/// importers read dates, numbers where they read numbers.
fn rows_for(cols: &[Column], n: usize) -> Vec<Vec<Cell>> {
    (0..n)
        .map(|i| {
            cols.iter()
                .map(|c| {
                    if !c.choices.is_empty() {
                        return Cell::Text(c.choices[i % c.choices.len()].clone());
                    }
                    match c.key.as_str() {
                        "source_date" | "period_start" => Cell::Date(d(2026, 1 + i as u32 % 12, 5)),
                        "deadline" | "period_end" | "wanted_by" => Cell::Date(d(2026, 12, 31)),
                        "as_of" => Cell::DateTime(d(2026, 10, 8).and_hms_opt(9, 30, 0).expect("time")),
                        "target" | "actual" | "budget_wan" => Cell::Number(18500.0 + i as f64 * 0.5),
                        "reported_percent" => Cell::Number(62.7),
                        "doc_no" => Cell::Text(format!("二七政阅〔2026〕{}号", 12 + i)),
                        "id" => Cell::Text(format!("CSL-{i:04}")),
                        "description" | "abstract" => Cell::Text("第一行\n第二行，含“引号”和,逗号".into()),
                        "co_units" => Cell::Text("区城管局、区住建局".into()),
                        _ => Cell::Text(format!("{}{}", c.header, i + 1)),
                    }
                })
                .collect()
        })
        .collect()
}

/// The cells the reader has special cases for, on a sheet with a title row, merged cells and
/// a second, hidden sheet.
fn handmade_workbook(cols: &[Column]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let title = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let time = Format::new().set_num_format("hh:mm");
    let duration = Format::new().set_num_format("[h]:mm");
    let percent = Format::new().set_num_format("0.0%");
    {
        let ws = wb.add_worksheet();
        ws.set_name("任务清单").unwrap();
        ws.merge_range(0, 0, 0, cols.len() as u16 - 1, "2026年第四季度督查任务", &title).unwrap();
        for (c, col) in cols.iter().enumerate() {
            let header = if col.required { format!("*{}", col.header) } else { col.header.clone() };
            ws.write_string(2, c as u16, header).unwrap();
        }
        for (r, row) in rows_for(cols, 4).iter().enumerate() {
            let r = 3 + r as u32;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                let done = match (cell, r % 4) {
                    (Cell::Date(v), 0) => ws.write_string(r, c, v.format("%Y/%m/%d").to_string()),
                    (Cell::Date(v), _) => ws.write_datetime_with_format(r, c, excel_date(&v.format("%Y-%m-%d").to_string()), &date),
                    (Cell::DateTime(_), 1) => ws.write_datetime_with_format(r, c, ExcelDateTime::from_hms(9, 30, 0).unwrap(), &time),
                    (Cell::DateTime(_), 2) => ws.write_number_with_format(r, c, 1.5, &duration),
                    (Cell::DateTime(_), _) => ws.write_datetime_with_format(r, c, excel_date("2026-10-08 09:30:00"), &datetime),
                    (Cell::Number(_), 1) => ws.write_number_with_format(r, c, 0.627, &percent),
                    (Cell::Number(_), 2) => ws.write_formula(r, c, "=1/0"),
                    (Cell::Number(_), 3) => ws.write_boolean(r, c, true),
                    (Cell::Number(v), _) => ws.write_number(r, c, *v),
                    (Cell::Text(t), _) => ws.write_string(r, c, t),
                    (Cell::Empty, _) => continue,
                };
                done.expect("cell written");
            }
        }
        // A unit merged over three task rows, as clerks lay out a 牵头单位.
        if let Some(c) = cols.iter().position(|c| c.key == "lead_unit" || c.key == "enterprise" || c.key == "doc_no") {
            ws.merge_range(3, c as u16, 5, c as u16, "区城管局", &Format::new()).unwrap();
        }
        ws.write_string(8, 0, "示例：这一行会被跳过").unwrap();
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name("备注").unwrap();
        ws.write_string(0, 0, cols[0].header.as_str()).unwrap();
        ws.write_string(1, 0, "隐藏工作表中的内容").unwrap();
        ws.set_hidden(true);
    }
    wb.save_to_buffer().expect("workbook")
}

fn excel_date(s: &str) -> ExcelDateTime {
    ExcelDateTime::parse_from_str(s).expect("constant date")
}

fn csv_text(cols: &[Column], rows: &[Vec<Cell>], sep: char) -> String {
    let quote = |s: &str| if s.contains([sep, '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() };
    let mut out = String::from("2026年督查任务导入\r\n\r\n");
    let header: Vec<String> = cols.iter().map(|c| quote(&if c.required { format!("*{}", c.header) } else { c.header.clone() })).collect();
    out += &header.join(&sep.to_string());
    out += "\r\n";
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| match c {
                Cell::Text(t) => quote(t),
                Cell::Number(n) => n.to_string(),
                Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
                Cell::DateTime(t) => t.format("%Y-%m-%d %H:%M").to_string(),
                Cell::Empty => String::new(),
            })
            .collect();
        out += &cells.join(&sep.to_string());
        out += "\r\n";
    }
    out += "\r\n示例：跳过\r\n";
    out
}

/// What the reader makes of a seed, so a seed that no longer reads as meant is noticed.
fn report(set: usize, kind: &str, cols: &[Column], r: Result<(Vec<xietong_office::RawRow>, Vec<xietong_office::RowError>), xietong_office::ImportErrors>) {
    if std::env::var_os("SEEDS_VERBOSE").is_none() {
        return;
    }
    match r {
        Ok((rows, errors)) => {
            println!("set {set} {kind}: {} rows, {} problems", rows.len(), errors.len());
            for e in errors.iter().take(3) {
                println!("    {e}");
            }
            if let Some(r) = rows.first() {
                println!("    row {}: {}", r.row, cols.iter().map(|c| format!("{}={}", c.key, r.get(&c.key))).collect::<Vec<_>>().join(" | "));
            }
        }
        Err(e) => println!("set {set} {kind}: refused: {e}"),
    }
}

fn utf16(text: &str, little: bool) -> Vec<u8> {
    let mut out = if little { vec![0xFF, 0xFE] } else { vec![0xFE, 0xFF] };
    for u in text.encode_utf16() {
        out.extend(if little { u.to_le_bytes() } else { u.to_be_bytes() });
    }
    out
}

const DATETIMES: &[&str] = &[
    "2026-09-30 17:00|480|09:00-12:00,13:30-18:00",
    "2026-09-30T17:00:05|2.5|08:30-11:45，14:00–17:30",
    "2026-10-01|-450|09:00~12:00",
    "2026-02-28 23:59:59|100000",
    "+262143-12-31 23:59|9223372036854775807|00:00-23:59",
    "-262144-01-01 00:00|-9223372036854775808",
    "2025-12-31|0",
    "2026-12-31 23:59:60|1",
    "9999-12-31 18:00|6000000|09:00-12:00,13:30-18:00",
    "2020-01-23|7",
    " 2026-06-30 ",
    "09:00-12:00,13:30-18:00",
];

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "fuzz/corpus".into()));
    let (xlsx, parts, csv) = (root.join("import_xlsx"), root.join("import_xlsx_parts"), root.join("import_csv"));
    let mut n = 0;
    for (i, cols) in column_sets().iter().enumerate() {
        let example = rows_for(cols, 1);
        let books = [
            ("template", import_template("导入模板", cols, &example, &["每行一项", "日期写作 YYYY-MM-DD"]).expect("template")),
            ("export", export_table("数据", Some("2026年10月导入数据"), cols, &rows_for(cols, 3)).expect("export")),
            ("cells", handmade_workbook(cols)),
        ];
        for (kind, bytes) in &books {
            report(i, kind, cols, xietong_office::read_rows("seed.xlsx", bytes, cols));
            write(&xlsx, &format!("seed-{i}-{kind}.xlsx"), bytes);
            write(&parts, &format!("seed-{i}-{kind}.parts"), &as_parts(bytes));
            n += 2;
        }
        // Ranges written corner-last (crates/office/tests/fuzz_regressions.rs): kept so every
        // run starts from them.
        let reversed = swap_range_corners(&String::from_utf8_lossy(&as_parts(&books[2].1)));
        write(&parts, &format!("seed-{i}-cells-corner-last.parts"), reversed.as_bytes());
        n += 1;
        let rows = rows_for(cols, 3);
        let text = csv_text(cols, &rows, ',');
        let (gbk, _, _) = encoding_rs::GBK.encode(&text);
        let tsv = csv_text(cols, &rows, '\t');
        for (kind, bytes) in [
            ("utf8.csv", text.as_bytes().to_vec()),
            ("bom.csv", [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat()),
            ("utf16le.csv", utf16(&tsv, true)),
            ("utf16be.csv", utf16(&text, false)),
            ("gbk.csv", gbk.into_owned()),
            ("tabs.tsv", tsv.as_bytes().to_vec()),
            ("lf.csv", text.replace("\r\n", "\n").into_bytes()),
        ] {
            report(i, kind, cols, xietong_office::read_rows(kind, &bytes, cols));
            write(&csv, &format!("seed-{i}-{kind}"), &bytes);
            n += 1;
        }
    }
    for (i, s) in DATETIMES.iter().enumerate() {
        write(&root.join("datetime"), &format!("seed-{i}"), s.as_bytes());
        n += 1;
    }
    let holidays = root.join("holiday_json");
    write(&holidays, "seed-2026.json", include_bytes!("../../assets/holiday-cn/2026.json"));
    write(&holidays, "seed-2023.json", include_bytes!("../../assets/holiday-cn/2023.json"));
    write(&holidays, "seed-small.json", r#"{"year": 2027, "papers": [], "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": true}, {"name": "春节", "date": "2026-12-31", "isOffDay": false}]}"#.as_bytes());
    write(&holidays, "seed-empty.json", r#"{"year": 2027, "days": []}"#.as_bytes());
    // Found wanting once (crates/calendar/tests/fuzz_regressions.rs): kept so every run retries it.
    write(&holidays, "seed-year-min.json", r#"{"year": -2147483648, "days": [{"name": "元旦", "date": "2026-01-01", "isOffDay": true}]}"#.as_bytes());
    n += 5;
    println!("{n} seeds in {}", root.display());
}
