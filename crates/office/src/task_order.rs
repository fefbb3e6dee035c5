//! The 督办通知单: one task on one A4 sheet, ready to print, stamp and hand over — the 督查局's
//! letterhead, a bordered table with the task's facts (文号, title, source, 牵头单位 and its 一把手,
//! 配合单位, 分管领导, requirements, deadline, the 督查局's instructions), the issuer and date with
//! room for the stamp, then a dashed cut line and the 回执 the unit fills in (签收单位, 签收人,
//! 签收时间, 联系电话) and sends back.
//!
//! Written as WordprocessingML directly, in the schema's element order (as [`crate::notice`]
//! does, and for the same reason), with the 公文 fonts: 方正小标宋简体 for the headings,
//! 黑体 for the labels, 仿宋_GB2312 for the text; Word and WPS substitute what is not installed.

use chrono::{NaiveDate, NaiveDateTime, Timelike};

use crate::OfficeError;
use crate::notice::{NS_R, NS_W, XML_DECL, date_zh, para, rpr, word_package};
use crate::wordml::run;

/// What a 督办通知单 says; the caller composes the texts.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskOrder {
    /// 发文单位, "二七区督查局"
    pub issuer: String,
    /// The order's own number, "督办〔2026〕18号"
    pub serial: String,
    pub title: String,
    /// 文号 of the source document
    pub doc_no: String,
    /// "会议：区政府常务会议纪要（2026-11-20）"
    pub source: String,
    pub category: String,
    pub lead_unit: String,
    /// The lead unit's 一把手 ("" when none is recorded)
    pub lead_unit_head: String,
    pub co_units: Vec<String>,
    /// 分管领导 ("" when none)
    pub leader: String,
    /// 汇报周期, "每周"
    pub report_cycle: String,
    /// 办理要求 (the task's description); line breaks start new paragraphs
    pub requirements: String,
    pub deadline: NaiveDateTime,
    /// 督办意见: what the 督查局 asks of the unit
    pub instructions: String,
    /// 签发日期
    pub date: NaiveDate,
}

/// Text width of the page (A4 less GB/T 9704 margins: 156 mm) in twentieths of a point.
const TEXT_WIDTH: u32 = 8844;
/// Label, value, label, value: the first value is wide enough for a 文号 on one line.
const GRID: [u32; 4] = [1500, 3300, 1500, 2544];

const XBS: &str = "方正小标宋简体";
const FANG: &str = "仿宋_GB2312";
const HEI: &str = "黑体";

/// 小四 (12 pt) in the order's table, 五号 (10.5 pt) in the 回执.
const TABLE_SIZE: u32 = 24;
const RECEIPT_SIZE: u32 = 21;

/// The heading of the returned part; tests and the page look for it.
pub const RECEIPT_HEADING: &str = "回执";

/// A deadline as the order states it: "2026年12月31日18:00前".
fn deadline_zh(t: NaiveDateTime) -> String {
    format!("{}{:02}:{:02}前", date_zh(t.date()), t.hour(), t.minute())
}

/// `rpr` with extra character spacing (twentieths of a point) for spaced-out headings, the
/// `w:spacing` element in its schema place (after `w:color`, before `w:sz`).
fn spaced(rpr: &str, twips: u32) -> String {
    rpr.replacen("<w:sz ", &format!("<w:spacing w:val=\"{twips}\"/><w:sz "), 1)
}

fn centered(before: u32, after: u32) -> String {
    format!("<w:spacing w:before=\"{before}\" w:after=\"{after}\"/><w:jc w:val=\"center\"/>")
}

/// A table cell: width from the grid columns it spans, its paragraphs in `rpr`.
fn cell(span: usize, first_col: usize, lines: &[&str], rpr: &str, label: bool) -> String {
    let width: u32 = GRID[first_col..first_col + span].iter().sum();
    let grid_span = if span > 1 { format!("<w:gridSpan w:val=\"{span}\"/>") } else { String::new() };
    let jc = if label { "center" } else { "left" };
    let ppr = format!(
        "<w:pPr><w:spacing w:before=\"40\" w:after=\"40\" w:line=\"300\" w:lineRule=\"auto\"/>\
         <w:jc w:val=\"{jc}\"/></w:pPr>"
    );
    let paras: String = if lines.is_empty() {
        format!("<w:p>{ppr}</w:p>")
    } else {
        lines.iter().map(|l| format!("<w:p>{ppr}{}</w:p>", run(rpr, l))).collect()
    };
    format!(
        "<w:tc><w:tcPr><w:tcW w:w=\"{width}\" w:type=\"dxa\"/>{grid_span}<w:vAlign w:val=\"center\"/>\
         </w:tcPr>{paras}</w:tc>"
    )
}

/// One row: (label, value) pairs; a single pair spans the whole width. `height` in twips
/// (at least), so a hand-written answer has room.
fn row(pairs: &[(&str, Vec<&str>)], size: u32, height: u32) -> String {
    let label_rpr = rpr(HEI, false, None, size);
    let text_rpr = rpr(FANG, false, None, size);
    let mut x = format!("<w:tr><w:trPr><w:cantSplit/><w:trHeight w:val=\"{height}\" w:hRule=\"atLeast\"/></w:trPr>");
    let mut col = 0;
    for (i, (label, value)) in pairs.iter().enumerate() {
        x.push_str(&cell(1, col, &[label], &label_rpr, true));
        col += 1;
        let span = if i + 1 == pairs.len() { GRID.len() - col } else { 1 };
        x.push_str(&cell(span, col, value, &text_rpr, false));
        col += span;
    }
    x.push_str("</w:tr>");
    x
}

fn table(rows: &[String]) -> String {
    let mut x =
        format!("<w:tbl><w:tblPr><w:tblW w:w=\"{TEXT_WIDTH}\" w:type=\"dxa\"/><w:jc w:val=\"center\"/><w:tblBorders>");
    for side in ["top", "left", "bottom", "right", "insideH", "insideV"] {
        x.push_str(&format!("<w:{side} w:val=\"single\" w:sz=\"6\" w:space=\"0\" w:color=\"000000\"/>"));
    }
    x.push_str(
        "</w:tblBorders><w:tblLayout w:type=\"fixed\"/><w:tblCellMar><w:left w:w=\"100\" w:type=\"dxa\"/>\
         <w:right w:w=\"100\" w:type=\"dxa\"/></w:tblCellMar></w:tblPr><w:tblGrid>",
    );
    for w in GRID {
        x.push_str(&format!("<w:gridCol w:w=\"{w}\"/>"));
    }
    x.push_str("</w:tblGrid>");
    x.extend(rows.iter().map(String::as_str));
    x.push_str("</w:tbl>");
    x
}

fn or_dash(s: &str) -> &str {
    if s.trim().is_empty() { "—" } else { s.trim() }
}

/// The main document of a 督办通知单.
fn document(o: &TaskOrder) -> String {
    let fang = |size| rpr(FANG, false, None, size);
    let lines =
        |s: &str| -> Vec<String> { s.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect() };
    let requirements = lines(&o.requirements);
    let instructions = lines(&o.instructions);
    let co_units = if o.co_units.is_empty() { "无".to_string() } else { o.co_units.join("、") };
    let deadline = match o.report_cycle.trim() {
        "" => format!("{}办结", deadline_zh(o.deadline)),
        cycle => format!("{}办结；汇报周期：{cycle}", deadline_zh(o.deadline)),
    };
    let head = if o.lead_unit_head.trim().is_empty() { "（未登记）" } else { o.lead_unit_head.trim() };
    let order_rows = [
        row(&[("任务名称", vec![o.title.trim()])], TABLE_SIZE, 510),
        row(&[("文号", vec![or_dash(&o.doc_no)]), ("工作类别", vec![or_dash(&o.category)])], TABLE_SIZE, 510),
        row(&[("任务来源", vec![or_dash(&o.source)])], TABLE_SIZE, 510),
        row(&[("牵头单位", vec![o.lead_unit.trim()])], TABLE_SIZE, 510),
        row(&[("一把手", vec![head]), ("分管领导", vec![or_dash(&o.leader)])], TABLE_SIZE, 510),
        row(&[("配合单位", vec![co_units.as_str()])], TABLE_SIZE, 510),
        row(&[("办理要求", requirements.iter().map(String::as_str).collect())], TABLE_SIZE, 850),
        row(&[("办理时限", vec![deadline.as_str()])], TABLE_SIZE, 510),
        row(&[("督办意见", instructions.iter().map(String::as_str).collect())], TABLE_SIZE, 850),
    ];
    let receipt_rows = [
        row(&[("任务名称", vec![o.title.trim()])], RECEIPT_SIZE, 454),
        row(&[("文号", vec![or_dash(&o.doc_no)]), ("督办编号", vec![o.serial.trim()])], RECEIPT_SIZE, 454),
        row(&[("签收单位", vec![]), ("签收人", vec![])], RECEIPT_SIZE, 567),
        row(&[("签收时间", vec!["　　年　月　日　时　分"]), ("联系电话", vec![])], RECEIPT_SIZE, 567),
        row(&[("备注", vec![])], RECEIPT_SIZE, 567),
    ];
    let right = "<w:spacing w:before=\"0\" w:after=\"0\" w:line=\"440\" w:lineRule=\"exact\"/>\
                 <w:ind w:right=\"560\"/><w:jc w:val=\"right\"/>";
    let body = [
        // Letterhead: the issuer in red, the form's name, its number on the right.
        para(&centered(0, 60), &rpr(XBS, false, Some("FF0000"), 48), o.issuer.trim()),
        para(&centered(0, 120), &spaced(&rpr(XBS, false, None, 44), 240), "督办通知单"),
        para(
            "<w:spacing w:before=\"0\" w:after=\"120\"/><w:jc w:val=\"right\"/>",
            &fang(28),
            &format!("督办编号：{}", o.serial.trim()),
        ),
        table(&order_rows),
        // Room for the stamp over the issuer and date (盖章处).
        para(right, &fang(28), ""),
        para(right, &fang(28), &format!("{}（盖章）", o.issuer.trim())),
        para(right, &fang(28), &date_zh(o.date)),
        // The cut line: a dashed rule with its instruction.
        para(
            "<w:pBdr><w:top w:val=\"dashed\" w:sz=\"8\" w:space=\"6\" w:color=\"000000\"/></w:pBdr>\
             <w:spacing w:before=\"160\" w:after=\"60\"/><w:jc w:val=\"center\"/>",
            &rpr(FANG, false, Some("595959"), 21),
            "（沿此线剪下，填写回执后送回督查局）",
        ),
        para(&centered(0, 80), &spaced(&rpr(XBS, false, None, 32), 480), RECEIPT_HEADING),
        table(&receipt_rows),
        para(
            "<w:spacing w:before=\"80\" w:after=\"0\"/>",
            &fang(RECEIPT_SIZE),
            &format!("请牵头单位于收到本通知单后1个工作日内签收，并将回执加盖公章后送（传）{}。", o.issuer.trim()),
        ),
    ]
    .concat();
    // A4 portrait; GB/T 9704 side margins (28 mm left, 26 mm right), 22 / 20 mm top and
    // bottom so the order and its 回执 share one sheet.
    let sect = "<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/><w:pgMar w:top=\"1247\" w:right=\"1474\" \
                w:bottom=\"1134\" w:left=\"1587\" w:header=\"851\" w:footer=\"851\" w:gutter=\"0\"/>\
                <w:cols w:space=\"425\"/></w:sectPr>";
    format!("{XML_DECL}<w:document xmlns:w=\"{NS_W}\" xmlns:r=\"{NS_R}\"><w:body>{body}{sect}</w:body></w:document>")
}

/// The 督办通知单 as a .docx.
pub fn render_task_order(o: &TaskOrder) -> Result<Vec<u8>, OfficeError> {
    if o.title.trim().is_empty() {
        return Err(OfficeError::Write("督办通知单缺少任务名称".into()));
    }
    Ok(word_package(&format!("督办通知单：{}", o.title.trim()), &document(o)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spacing_goes_before_the_size() {
        let r = spaced(&rpr(XBS, false, None, 44), 240);
        assert!(r.contains("<w:spacing w:val=\"240\"/><w:sz w:val=\"44\"/>"), "{r}");
    }

    #[test]
    fn a_pair_row_spans_the_rest() {
        let r = row(&[("任务名称", vec!["x"])], 28, 567);
        assert!(r.contains("<w:gridSpan w:val=\"3\"/>"), "{r}");
        let r = row(&[("文号", vec!["a"]), ("类别", vec!["b"])], 28, 567);
        assert!(!r.contains("gridSpan"), "{r}");
        assert_eq!(r.matches("<w:tc>").count(), 4);
    }
}
