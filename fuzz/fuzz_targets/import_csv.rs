//! The bytes of an upload named .csv, .tsv and .txt, read with the importers' column sets.
//! Besides the properties every import has, the encodings must not change the result: a UTF-8
//! file reads the same with a byte-order mark and re-encoded as UTF-16 (Excel's "Unicode 文本").
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use xietong_calendar::WorkCalendar;
use xietong_fuzz::{check_import, column_sets, sets_for};
use xietong_office::{Column, read_rows};

static SETS: LazyLock<Vec<Vec<Column>>> = LazyLock::new(column_sets);
static CAL: LazyLock<WorkCalendar> = LazyLock::new(WorkCalendar::with_bundled_holidays);

fn utf16(text: &str, little: bool) -> Vec<u8> {
    let mut out = if little { vec![0xFF, 0xFE] } else { vec![0xFE, 0xFF] };
    for u in text.encode_utf16() {
        out.extend(if little { u.to_le_bytes() } else { u.to_be_bytes() });
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let [tasks, other] = sets_for(&SETS, data);
    let cols = &SETS[tasks];
    let plain = read_rows("任务导入.csv", data, cols);
    check_import(cols, &plain, &CAL);
    for name in ["任务导入.tsv", "任务导入.txt"] {
        check_import(cols, &read_rows(name, data, cols), &CAL);
    }
    let other = &SETS[other];
    check_import(other, &read_rows("导入.csv", data, other), &CAL);

    // Plain UTF-8 text (not something the sniffing treats otherwise) reads the same with a BOM
    // and as UTF-16 either way round.
    let Ok(text) = std::str::from_utf8(data) else { return };
    if text.starts_with('\u{feff}') || data.starts_with(b"PK") || data.iter().all(|b| b.is_ascii_whitespace()) {
        return;
    }
    let with_bom = [b"\xEF\xBB\xBF".as_slice(), data].concat();
    assert_eq!(read_rows("任务导入.csv", &with_bom, cols), plain, "a UTF-8 BOM changed the result");
    for little in [true, false] {
        assert_eq!(read_rows("任务导入.csv", &utf16(text, little), cols), plain, "UTF-16 (little endian: {little}) changed the result");
    }
});
