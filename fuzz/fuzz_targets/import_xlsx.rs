//! The bytes of an upload named .xlsx, read with the importers' column sets (`sets_for`). Mostly
//! exercises the zip and workbook layers (the parts are compressed); `import_xlsx_parts` gets
//! at the XML inside.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use xietong_calendar::WorkCalendar;
use xietong_fuzz::{check_import, column_sets, sets_for};
use xietong_office::{Column, read_rows};

static SETS: LazyLock<Vec<Vec<Column>>> = LazyLock::new(column_sets);
static CAL: LazyLock<WorkCalendar> = LazyLock::new(WorkCalendar::with_bundled_holidays);

fuzz_target!(|data: &[u8]| {
    for i in sets_for(&SETS, data) {
        let cols = &SETS[i];
        check_import(cols, &read_rows("任务导入.xlsx", data, cols), &CAL);
    }
});
