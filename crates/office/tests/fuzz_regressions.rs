//! Inputs the fuzz targets (fuzz/, scripts/fuzz.sh) found, kept as tests once fixed. A panic
//! inside xietong-office is a failure here even when `guarded` catches it and the clerk only
//! sees an error: the hook below records where every panic on the test's thread happened.

use std::cell::RefCell;
use std::io::{Cursor, Read, Write};
use std::sync::Once;

use rust_xlsxwriter::{Format, Workbook};
use xietong_office::read::{ImportErrors, RawRow, RowError, read_rows};
use xietong_office::table::Column;

thread_local! {
    static PANICS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` and fails if code of this crate panicked inside it, caught or not. Panics inside
/// third-party crates are allowed: `guarded` exists for them.
fn no_panic_in_our_code<T>(f: impl FnOnce() -> T) -> T {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
            PANICS.with(|p| p.borrow_mut().push(at));
            default(info);
        }));
    });
    PANICS.with(|p| p.borrow_mut().clear());
    let out = f();
    let ours: Vec<String> =
        PANICS.with(|p| p.borrow().iter().filter(|at| at.contains("office/src/")).cloned().collect());
    assert!(ours.is_empty(), "xietong-office panicked at {ours:?}");
    out
}

fn columns() -> Vec<Column> {
    vec![Column::new("title", "任务名称").required(), Column::new("unit", "牵头单位").required()]
}

/// Three tasks under a header, the unit one merged cell over all three (B2:B4), as clerks lay
/// it out; `unit_everywhere` also writes the unit into the cells the merge covers, as some
/// generators do.
fn workbook(unit_everywhere: bool) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "任务名称").unwrap();
    ws.write_string(0, 1, "牵头单位").unwrap();
    for (r, title) in ["任务一", "任务二", "任务三"].iter().enumerate() {
        ws.write_string(1 + r as u32, 0, *title).unwrap();
    }
    ws.merge_range(1, 1, 3, 1, "区城管局", &Format::new()).unwrap();
    if unit_everywhere {
        ws.write_string(2, 1, "区城管局").unwrap();
        ws.write_string(3, 1, "区城管局").unwrap();
    }
    wb.save_to_buffer().unwrap()
}

/// The same .xlsx with `from` replaced by `to` in the sheet's XML.
fn edit_sheet(xlsx: &[u8], from: &str, to: &str) -> Vec<u8> {
    let mut zin = zip::ZipArchive::new(Cursor::new(xlsx)).unwrap();
    let mut zout = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut replaced = false;
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut content = vec![];
        f.read_to_end(&mut content).unwrap();
        if name == "xl/worksheets/sheet1.xml" {
            let text = String::from_utf8(content).unwrap();
            assert!(text.contains(from), "{from} not in the sheet");
            content = text.replace(from, to).into_bytes();
            replaced = true;
        }
        zout.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        zout.write_all(&content).unwrap();
    }
    assert!(replaced);
    zout.finish().unwrap().into_inner()
}

type Read_ = Result<(Vec<RawRow>, Vec<RowError>), ImportErrors>;

/// calamine 0.38 subtracts a range's corners unchecked: built with overflow checks (debug
/// builds, `cargo test`) it panics on a corner-last range and `guarded` refuses the file; in
/// release builds the range reaches our code, which must read it as Excel shows it.
fn as_normal_or_refused_by_calamine(got: Read_, normal: &Read_) {
    match got {
        Ok(_) => assert_eq!(&got, normal),
        Err(e) => assert_eq!(
            e.to_string(),
            "文件无法读取：不是有效的 Excel 文件（.xlsx），请用 Excel 或 WPS 另存为 .xlsx 后再上传"
        ),
    }
}

/// A merge written corner-last ("B4:B2") with a value in its first-named cell made
/// `fill_merged` call `BTreeMap::range_mut(3..=1)`, which panics; with the value only in the
/// top-left cell the merge was ignored and rows 3 and 4 came back without their unit. Now such
/// a merge reads as "B2:B4" does. Seen while looking into the crash below (the fuzzer found
/// calamine's panic, not this one) and confirmed through the `import_xlsx_parts` target.
#[test]
fn a_merge_written_corner_last_reads_like_its_normal_form() {
    let cols = columns();
    for unit_everywhere in [false, true] {
        let normal_bytes = workbook(unit_everywhere);
        let normal = read_rows("任务.xlsx", &normal_bytes, &cols);
        let (rows, errors) = normal.as_ref().unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        assert!(rows.iter().all(|r| r.get("unit") == "区城管局"));
        let reversed = edit_sheet(&normal_bytes, r#"<mergeCell ref="B2:B4"/>"#, r#"<mergeCell ref="B4:B2"/>"#);
        let got = no_panic_in_our_code(|| read_rows("任务.xlsx", &reversed, &cols));
        as_normal_or_refused_by_calamine(got, &normal);
    }
}

/// Found by the fuzz target `import_xlsx_parts` (crash-2936f783, within 10 s): a sheet
/// declaring its dimension corner-last (<dimension ref="T1:I2"/>) panics inside calamine
/// (`get_dimension`, "attempt to subtract with overflow") where calamine is built with overflow
/// checks; `guarded` then refuses the file, and in release builds it reads as the workbook it is.
#[test]
fn a_dimension_written_corner_last() {
    let cols = columns();
    let normal_bytes = workbook(false);
    let normal = read_rows("任务.xlsx", &normal_bytes, &cols);
    let reversed = edit_sheet(&normal_bytes, r#"<dimension ref="A1:B4"/>"#, r#"<dimension ref="T1:I2"/>"#);
    let got = no_panic_in_our_code(|| read_rows("任务.xlsx", &reversed, &cols));
    as_normal_or_refused_by_calamine(got, &normal);
}
