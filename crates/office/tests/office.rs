//! Office files end to end: what we write reads back, bad files are refused with the row and
//! column named, and the notice template keeps what the administrator put in it.

use std::io::{Cursor, Read};

use chrono::NaiveDate;
use proptest::prelude::*;
use xietong_office::notice::{check_template, default_template, render_notice, NoticeDoc, NoticeTable};
use xietong_office::table::{Cell, Column};
use xietong_office::xlsx::{export_table, import_template, read_table};

fn col(key: &str, header: &str, required: bool, choices: &[&str]) -> Column {
    Column { key: key.into(), header: header.into(), required, width: 12.0, note: "提示".into(), choices: choices.iter().map(|s| s.to_string()).collect() }
}

fn columns() -> Vec<Column> {
    vec![col("title", "任务名称", true, &[]), col("unit", "牵头单位", true, &["建设和交通局", "城管局"]), col("deadline", "办理期限", true, &[]), col("note", "备注", false, &[])]
}

fn t(s: &str) -> Cell {
    Cell::Text(s.into())
}

#[test]
fn an_export_reads_back_with_dates_and_numbers() {
    let d = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
    let rows = vec![vec![t("道路改造"), t("城管局"), Cell::Date(d), Cell::Number(62.7)], vec![t("易涝点整治 & <排查>"), t("建设和交通局"), t("2027-01-05"), Cell::Number(18500.0)]];
    let bytes = export_table("台账", Some("督办任务台账"), &columns(), &rows).unwrap();
    let back = read_table("台账.xlsx", &bytes, &columns()).unwrap();
    assert_eq!(back.len(), 2);
    assert_eq!(back[0].row, 3, "title row, header row, then the first data row");
    assert_eq!(back[0].get("deadline"), "2026-12-31");
    assert_eq!(back[0].get("note"), "62.7");
    assert_eq!(back[1].get("title"), "易涝点整治 & <排查>");
    assert_eq!(back[1].get("note"), "18500");
}

#[test]
fn the_template_is_a_workbook_whose_example_row_is_skipped() {
    let bytes = import_template("导入模板", &columns(), &[vec![t("示例：某项任务"), t("城管局"), t("2026-12-31")]], &["带 * 的列必填"]).unwrap();
    // The template as downloaded has only the example row, which is not data.
    let rows = read_table("模板.xlsx", &bytes, &columns()).unwrap();
    assert!(rows.is_empty());
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    use calamine::Reader;
    assert_eq!(wb.sheet_names(), vec!["导入模板", "填写说明", "选项"]);
    let header = wb.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(header.get((0, 0)).unwrap().to_string(), "*任务名称");
    assert_eq!(header.get((0, 3)).unwrap().to_string(), "备注");
}

#[test]
fn every_bad_row_and_column_is_named() {
    let rows = vec![vec![t("好的一行"), t("城管局"), t("2026-12-31")], vec![t(""), t("城管局"), t("2026-12-31")], vec![t("第三行"), t("不存在的局"), t("")]];
    let bytes = export_table("s", None, &columns(), &rows).unwrap();
    let err = read_table("x.xlsx", &bytes, &columns()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("第 3 行「任务名称」：不能为空"), "{text}");
    assert!(text.contains("第 4 行「牵头单位」：「不存在的局」不是可选值"), "{text}");
    assert!(text.contains("第 4 行「办理期限」：不能为空"), "{text}");
    assert_eq!(err.0.len(), 3);
}

#[test]
fn a_missing_required_column_is_named() {
    let cols = vec![Column::plain("任务名称", 10.0), Column::plain("备注", 10.0)];
    let bytes = export_table("s", None, &cols, &[vec![t("x"), t("y")]]).unwrap();
    let err = read_table("x.xlsx", &bytes, &columns()).unwrap_err().to_string();
    assert!(err.contains("「牵头单位」：缺少这一列") && err.contains("「办理期限」"), "{err}");
}

#[test]
fn csv_with_bom_gbk_csv_and_tsv() {
    let csv = "\u{feff}*任务名称,牵头单位,办理期限\n道路改造,城管局,2026-12-31\n\n示例：跳过,城管局,2026-12-31\n\"含,逗号\",建设和交通局,2027-01-05\n";
    let rows = read_table("a.csv", csv.as_bytes(), &columns()).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].get("title"), "含,逗号");
    assert_eq!(rows[1].row, 5);
    let (gbk, _, _) = encoding_rs::GBK.encode("任务名称,牵头单位,办理期限\n背街小巷,城管局,2026-12-31\n");
    let rows = read_table("b.csv", &gbk, &columns()).unwrap();
    assert_eq!(rows[0].get("title"), "背街小巷");
    let tsv = "任务名称\t牵头单位\t办理期限\n道路改造\t城管局\t2026-12-31\n";
    assert_eq!(read_table("c.tsv", tsv.as_bytes(), &columns()).unwrap()[0].get("unit"), "城管局");
}

#[test]
fn garbage_is_refused_in_chinese() {
    let e = read_table("x.xlsx", b"PK\x03\x04 not really", &columns()).unwrap_err().to_string();
    assert!(e.contains("不是有效的 Excel 文件"), "{e}");
    let e = read_table("x.xls", b"\xD0\xCF\x11\xE0", &columns()).unwrap_err().to_string();
    assert!(e.contains(".xls"), "{e}");
    let e = read_table("x.csv", "随便,什么\n1,2\n".as_bytes(), &columns()).unwrap_err().to_string();
    assert!(e.contains("找不到表头"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), name in prop::sample::select(vec!["a.xlsx", "a.csv", "a.tsv", "a"])) {
        let _ = read_table(name, &bytes, &columns());
    }

    #[test]
    fn arbitrary_text_cells_round_trip(cells in proptest::collection::vec("[^\u{0}-\u{1f}]{1,30}", 1..20)) {
        let cols = vec![Column::plain("内容", 20.0)];
        let rows: Vec<Vec<Cell>> = cells.iter().map(|c| vec![Cell::Text(c.clone())]).collect();
        let bytes = export_table("s", None, &cols, &rows).unwrap();
        let back = read_table("s.xlsx", &bytes, &cols);
        // Rows that are blank after trimming, or that start with 示例, are not data.
        let expected: Vec<String> = cells.iter().map(|c| c.trim().to_string()).filter(|c| !c.is_empty() && !c.starts_with("示例") && c != "内容").collect();
        match back {
            Ok(rows) => prop_assert_eq!(rows.iter().map(|r| r.get("内容").to_string()).collect::<Vec<_>>(), expected),
            Err(e) => prop_assert!(false, "{}", e),
        }
    }
}

fn notice() -> NoticeDoc {
    NoticeDoc {
        title: "关于2026年10月份防汛应急工作推进情况的通报".into(),
        doc_no: "二七督通〔2026〕8号".into(),
        issuer: "二七区督查局".into(),
        date: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
        kind_label: "月度排名".into(),
        paragraphs: vec!["按照“五项督查机制”要求，现将排名通报如下。".into(), "评分规则：A & B <C>".into()],
        tables: vec![NoticeTable { caption: "排名表".into(), headers: vec!["名次".into(), "单位".into(), "得分".into()], rows: vec![vec!["1".into(), "水利局".into(), "98.5".into()], vec!["2".into(), "马寨镇".into(), "61.2".into()]] }],
        laggards: vec!["马寨镇（主要负责人：镇长（示例））：逾期未结 2 项".into()],
    }
}

fn all_text(bytes: &[u8]) -> String {
    let doc = docx_rs::read_docx(bytes).expect("Word can open it (docx-rs reads it)");
    serde_json::to_string(&doc.document).unwrap()
}

fn part(bytes: &[u8], name: &str) -> Vec<u8> {
    let mut a = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut f = a.by_name(name).unwrap();
    let mut v = vec![];
    f.read_to_end(&mut v).unwrap();
    v
}

#[test]
fn the_default_notice_has_title_table_and_laggards() {
    let out = render_notice(None, &notice()).unwrap();
    let text = all_text(&out);
    for want in ["关于2026年10月份防汛应急工作推进情况的通报", "二七督通〔2026〕8号", "水利局", "98.5", "马寨镇（主要负责人", "2026年11月24日", "A & B <C>"] {
        assert!(text.contains(want), "missing {want}");
    }
    assert!(!text.contains("{{"), "no placeholder left");
    let again = all_text(&render_notice(Some(&default_template()), &notice()).unwrap());
    assert!(again.contains("马寨镇（主要负责人") && again.contains("98.5"), "no template means the default template");
}

#[test]
fn a_custom_template_keeps_its_own_parts() {
    use docx_rs::{Docx, Header, Paragraph, Run};
    let p = |s: &str| Paragraph::new().add_run(Run::new().add_text(s));
    // The administrator's letterhead in the page header, a split placeholder, and a closing line.
    let docx = Docx::new()
        .header(Header::new().add_paragraph(p("中共郑州市二七区委督查局（示例版头）")))
        .add_paragraph(Paragraph::new().add_run(Run::new().add_text("{{标")).add_run(Run::new().add_text("题}}").bold()))
        .add_paragraph(p("{{正文}}"))
        .add_paragraph(p("{{表格}}"))
        .add_paragraph(p("{{落后单位}}"))
        .add_paragraph(p("本通报抄送：区委办"));
    let mut buf = Cursor::new(vec![]);
    docx.build().pack(&mut buf).unwrap();
    let tpl = buf.into_inner();
    check_template(&tpl).unwrap();
    let out = render_notice(Some(&tpl), &notice()).unwrap();
    let text = all_text(&out);
    assert!(text.contains("关于2026年10月份防汛应急工作推进情况的通报"));
    assert!(text.contains("本通报抄送：区委办"));
    assert!(text.contains("马寨镇"));
    assert_eq!(part(&out, "word/header1.xml"), part(&tpl, "word/header1.xml"), "the header part is copied unchanged");
}

#[test]
fn templates_without_placeholders_or_not_docx_are_refused() {
    use docx_rs::{Docx, Paragraph, Run};
    let docx = Docx::new().add_paragraph(Paragraph::new().add_run(Run::new().add_text("{{标题}}"))).add_paragraph(Paragraph::new().add_run(Run::new().add_text("{{正文}}")));
    let mut buf = Cursor::new(vec![]);
    docx.build().pack(&mut buf).unwrap();
    let e = check_template(&buf.into_inner()).unwrap_err().to_string();
    assert!(e.contains("模板缺少占位符") && e.contains("{{表格}}") && e.contains("{{落后单位}}"), "{e}");
    let e = check_template(b"just text").unwrap_err().to_string();
    assert!(e.contains("不是有效的 Word 文档"), "{e}");
    let docx = Docx::new()
        .add_paragraph(Paragraph::new().add_run(Run::new().add_text("{{标题}}")))
        .add_paragraph(Paragraph::new().add_run(Run::new().add_text("正文如下：{{正文}}")))
        .add_paragraph(Paragraph::new().add_run(Run::new().add_text("{{表格}}{{落后单位}}")));
    let mut buf = Cursor::new(vec![]);
    docx.build().pack(&mut buf).unwrap();
    let e = check_template(&buf.into_inner()).unwrap_err().to_string();
    assert!(e.contains("须单独成段"), "{e}");
}
