//! Ledgers on paper: every export printed by LibreOffice to PDF shows all its columns on the
//! page width, cells whole, and the header row again at the top of each page.

use xietong_office::pdf::Tools;
use xietong_office::table::{Cell, Column};
use xietong_office::xlsx::export_table;

/// The 15 columns of the task ledger, as the server exports it.
fn task_columns() -> Vec<Column> {
    [
        "编号",
        "亮灯",
        "任务名称",
        "文号",
        "任务来源",
        "工作类别",
        "牵头单位",
        "一把手",
        "分管领导",
        "状态",
        "进度(%)",
        "办理期限",
        "收件时间",
        "交办时间",
        "分解时间",
    ]
    .iter()
    .map(|h| Column::plain(h, 10.0))
    .collect()
}

fn task_rows(n: usize) -> Vec<Vec<Cell>> {
    let t = |s: &str| Cell::Text(s.to_string());
    let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap().and_hms_opt(9, 30, 0).unwrap();
    (0..n)
        .map(|i| {
            vec![
                Cell::Number(i as f64 + 1.0),
                t(["红灯（已逾期）", "黄灯（临近期限）", "绿灯（正常推进）"][i % 3]),
                t(&format!("第{}项：背街小巷综合整治提升，完成路面、管网、立面和绿化改造", i + 1)),
                t(&format!("二七政阅〔2026〕{}号", i + 1)),
                t("会议"),
                t("城建交通"),
                t("二七区建设和交通局（区人防办）"),
                t("一把手（局长）"),
                t("副区长（城建交通）"),
                t("推进中"),
                Cell::Number(62.0),
                Cell::DateTime(at),
                Cell::DateTime(at),
                Cell::DateTime(at),
                Cell::Empty,
            ]
        })
        .collect()
}

#[test]
fn the_task_ledger_prints_every_column_on_page_one_and_repeats_the_header() {
    let Some(tools) = Tools::for_tests() else { return };
    let cols = task_columns();
    let bytes =
        export_table("任务台账", Some("督办任务台账（导出时间 2026-11-23 10:00）"), &cols, &task_rows(200)).unwrap();
    let printed = tools.print_as(&bytes, "xlsx", "office-ledger-200-rows").unwrap();
    eprintln!("{} pages; page 1:\n{}", printed.pages, printed.page(1));
    assert!(printed.pages >= 2, "200 rows take more than one page: {}", printed.pages);
    for page in [1, 2, printed.pages] {
        for c in &cols {
            assert!(printed.page(page).contains(&c.header), "page {page} lacks the header {}", c.header);
        }
    }
    for light in ["红灯（已逾期）", "黄灯（临近期限）", "绿灯（正常推进）"] {
        assert!(printed.page(1).contains(light), "page 1 shows {light} whole");
    }
    assert!(printed.page(1).contains("二七区建设和交通局（区人防办）"), "the lead unit whole on one line");
    // A title longer than its column wraps, and its row grows: the end is printed too.
    assert!(printed.page(1).contains("立面和绿化改造"), "the wrapped end of a long title is printed");
    assert!(printed.page(2).contains("第 2 页，共"), "page numbers in the footer");
    assert!(!printed.page(2).contains("督办任务台账（导出时间"), "the title is printed once, the header on every page");
}

fn order() -> xietong_office::TaskOrder {
    let at = |d: u32, h: u32| chrono::NaiveDate::from_ymd_opt(2026, 12, d).unwrap().and_hms_opt(h, 0, 0).unwrap();
    xietong_office::TaskOrder {
        issuer: "二七区督查局".into(),
        serial: "督办〔2026〕18号".into(),
        title: "背街小巷综合整治提升".into(),
        doc_no: "二七政阅〔2026〕12号".into(),
        source: "会议：区政府常务会议纪要（2026-11-20）".into(),
        category: "城建交通".into(),
        lead_unit: "二七区建设和交通局（区人防办）".into(),
        lead_unit_head: "一把手（局长）".into(),
        co_units: vec!["大学路街道".into(), "福华街街道".into()],
        leader: "副区长（城建交通）".into(),
        report_cycle: "每周".into(),
        requirements: "完成路面、管网、立面和绿化改造。\n年底前全部完工。".into(),
        deadline: at(31, 18),
        instructions: "请于收到后1个工作日内签收。".into(),
        date: chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
    }
}

#[test]
fn the_task_order_prints_on_one_sheet_with_its_receipt() {
    let Some(tools) = Tools::for_tests() else { return };
    let bytes = xietong_office::render_task_order(&order()).unwrap();
    let printed = tools.print_as(&bytes, "docx", "office-task-order").unwrap();
    let text = printed.text();
    eprintln!("{} page(s):\n{text}", printed.pages);
    assert_eq!(printed.pages, 1, "the order and its 回执 share one sheet");
    let flat: String = text.split_whitespace().collect();
    for want in [
        "二七区督查局",
        "督办通知单",
        "二七政阅〔2026〕12号",
        "背街小巷综合整治提升",
        "二七区建设和交通局（区人防办）",
        "一把手（局长）",
        "大学路街道、福华街街道",
        "副区长（城建交通）",
        "2026年12月31日18:00前",
        "2026年11月23日",
        "回执",
        "签收单位",
        "签收人",
        "签收时间",
        "联系电话",
    ] {
        assert!(flat.contains(want), "the printed order lacks {want}: {flat}");
    }
}
