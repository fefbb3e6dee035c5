//! An .xlsx built from the fuzzer's parts, so mutations reach the XML (sheets, shared strings,
//! styles, merges, dates) instead of dying at the zip checksums. The input is parts, each
//! "@@@@ name\n" followed by the part's content; `make_seeds` writes real workbooks this way.
//! The harness zips them (stored, correct CRCs) and reads the result as an upload.
#![no_main]

use std::io::{Cursor, Write};
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use xietong_calendar::WorkCalendar;
use xietong_fuzz::{check_import, column_sets, sets_for};
use xietong_office::{Column, read_rows};
use zip::write::SimpleFileOptions;

static SETS: LazyLock<Vec<Vec<Column>>> = LazyLock::new(column_sets);
static CAL: LazyLock<WorkCalendar> = LazyLock::new(WorkCalendar::with_bundled_holidays);

const MARK: &[u8] = b"@@@@ ";

/// Splits "@@@@ name\ncontent@@@@ name\ncontent…" into (name, content).
fn parts(data: &[u8]) -> Vec<(String, &[u8])> {
    let mut out = vec![];
    let mut rest = match data.strip_prefix(MARK) {
        Some(r) => r,
        None => return out,
    };
    loop {
        let end = rest.windows(MARK.len()).position(|w| w == MARK).unwrap_or(rest.len());
        let chunk = &rest[..end];
        let nl = chunk.iter().position(|&b| b == b'\n').unwrap_or(chunk.len());
        let name = String::from_utf8_lossy(&chunk[..nl]).trim().to_string();
        out.push((name, chunk.get(nl + 1..).unwrap_or(&[])));
        if end == rest.len() {
            return out;
        }
        rest = &rest[end + MARK.len()..];
    }
}

fn zipped(parts: &[(String, &[u8])]) -> Option<Vec<u8>> {
    let mut zw = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, content) in parts {
        zw.start_file(name, opts).ok()?;
        zw.write_all(content).ok()?;
    }
    zw.finish().ok().map(Cursor::into_inner)
}

fuzz_target!(|data: &[u8]| {
    let Some(bytes) = zipped(&parts(data)) else { return };
    for i in sets_for(&SETS, data) {
        let cols = &SETS[i];
        check_import(cols, &read_rows("任务导入.xlsx", &bytes, cols), &CAL);
    }
});
