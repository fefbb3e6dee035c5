//! The 督查通报 as a Word document, built from a template an administrator can replace.
//!
//! The built-in template is the usual 公文 layout: red-head letterhead, 文号 over a red rule, the
//! title in 方正小标宋简体, the body in 仿宋_GB2312 三号 with a two-character first-line indent,
//! issuer and date at the bottom right, page numbers "— 1 —" in the footer. Its content is
//! placeholder paragraphs. Rendering fills them at package level (the zip and its XML parts,
//! edited in place), so an administrator's edits — letterhead, fonts, logo, header, footer,
//! closing lines — survive byte for byte.
//!
//! Placeholders: `{{标题}}` `{{文号}}` `{{发文单位}}` `{{日期}}` `{{类别}}` are replaced where they
//! stand (also in headers and footers), in the formatting of the run where they start;
//! `{{正文}}` `{{表格}}` `{{落后单位}}` must each be a paragraph of their own in the body and
//! become the body paragraphs (in the placeholder paragraph's look), the tables (in its font),
//! and the list of lagging units (none: no such section) followed by the annex lines (附：…),
//! which close the body before the signature as 公文 place them.

use std::io::{Cursor, Write};

use chrono::{Datelike, NaiveDate};

use crate::OfficeError;
use crate::table::text_units;
use crate::wordml::{BlockCtx, Filler, Package, rpr_bold, run};

/// A table of a notice, e.g. the month's ranking.
#[derive(Clone, Debug, PartialEq)]
pub struct NoticeTable {
    /// Shown bold and centred above the table ("" for none).
    pub caption: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Everything a notice says.
#[derive(Clone, Debug, PartialEq)]
pub struct NoticeDoc {
    /// "关于2026年10月份重点工作推进情况的通报"
    pub title: String,
    /// 文号, "二七督通〔2026〕8号"
    pub doc_no: String,
    /// 发文单位, "二七区督查局"
    pub issuer: String,
    pub date: NaiveDate,
    /// 表扬 / 批评 / 预警 / 月度排名 (the optional `{{类别}}`)
    pub kind_label: String,
    /// Body paragraphs, in order; a line break inside one starts a new paragraph.
    pub paragraphs: Vec<String>,
    pub tables: Vec<NoticeTable>,
    /// Lagging units, each named with its responsible person. None: no such section.
    pub laggards: Vec<String>,
    /// Annex lines after the body, e.g. "附：评分办法 …" (kept out of the body's text).
    pub annex: Vec<String>,
}

pub const TITLE: &str = "{{标题}}";
pub const DOC_NO: &str = "{{文号}}";
pub const ISSUER: &str = "{{发文单位}}";
pub const DATE: &str = "{{日期}}";
pub const KIND: &str = "{{类别}}";
pub const BODY: &str = "{{正文}}";
pub const TABLES: &str = "{{表格}}";
pub const LAGGARDS: &str = "{{落后单位}}";
/// Placeholders a template must contain; the others are optional.
pub const REQUIRED: [&str; 4] = [TITLE, BODY, TABLES, LAGGARDS];
/// Replaced where they stand, in the body, headers and footers.
pub const INLINE: [&str; 5] = [TITLE, DOC_NO, ISSUER, DATE, KIND];
/// Each a paragraph of its own in the body, replaced by paragraphs or tables.
pub const BLOCKS: [&str; 3] = [BODY, TABLES, LAGGARDS];
/// The heading of the laggard section.
pub const LAGGARDS_HEADING: &str = "落后单位及责任人：";

/// A date as a notice writes it: "2026年11月24日".
pub fn date_zh(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// Two characters of 三号 (16 pt), in twentieths of a point.
const TWO_CHARS: u32 = 640;

pub(crate) const NS_W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
pub(crate) const NS_R: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
pub(crate) const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";

/// Run properties in schema order: fonts (Times New Roman for Latin text and digits, as 公文
/// use), bold, colour, size in half-points.
pub(crate) fn rpr(east_asia: &str, bold: bool, color: Option<&str>, half_points: u32) -> String {
    format!(
        "<w:rPr><w:rFonts w:ascii=\"Times New Roman\" w:hAnsi=\"Times New Roman\" w:eastAsia=\"{east_asia}\" w:cs=\"Times New Roman\"/>{}{}<w:sz w:val=\"{half_points}\"/><w:szCs w:val=\"{half_points}\"/></w:rPr>",
        if bold { "<w:b/><w:bCs/>" } else { "" },
        color.map(|c| format!("<w:color w:val=\"{c}\"/>")).unwrap_or_default()
    )
}

pub(crate) fn para(ppr: &str, rpr: &str, text: &str) -> String {
    if text.is_empty() {
        format!("<w:p><w:pPr>{ppr}</w:pPr></w:p>")
    } else {
        format!("<w:p><w:pPr>{ppr}</w:pPr>{}</w:p>", run(rpr, text))
    }
}

/// The main document of the built-in template. Paragraph and run properties are written in the
/// schema's order: Word repairs (or refuses) files whose order differs, which is why this is
/// not generated with docx-rs (its output fails the OOXML validator, docx-rs issue #724).
fn default_document() -> String {
    const XBS: &str = "方正小标宋简体";
    const FANG: &str = "仿宋_GB2312";
    let exactly =
        |twips: u32| format!("<w:spacing w:before=\"0\" w:after=\"0\" w:line=\"{twips}\" w:lineRule=\"exact\"/>");
    let body_ppr =
        format!("{}<w:ind w:firstLine=\"{TWO_CHARS}\" w:firstLineChars=\"200\"/><w:jc w:val=\"both\"/>", exactly(560));
    let signed_ppr = format!("{}<w:ind w:right=\"{TWO_CHARS}\"/><w:jc w:val=\"right\"/>", exactly(560));
    let blank = para(&exactly(560), "", "");
    let body = [
        // 红头: the issuing office in red 小标宋, then the 文号 over a red rule.
        para("<w:spacing w:before=\"240\" w:after=\"240\"/><w:jc w:val=\"center\"/>", &rpr(XBS, false, Some("FF0000"), 72), ISSUER),
        para(
            "<w:pBdr><w:bottom w:val=\"single\" w:sz=\"18\" w:space=\"8\" w:color=\"FF0000\"/></w:pBdr><w:spacing w:before=\"0\" w:after=\"120\"/><w:jc w:val=\"center\"/>",
            &rpr(FANG, false, None, 32),
            DOC_NO,
        ),
        blank.clone(),
        para(&format!("{}<w:jc w:val=\"center\"/>", exactly(700)), &rpr(XBS, true, None, 44), TITLE),
        blank.clone(),
        para(&body_ppr, &rpr(FANG, false, None, 32), BODY),
        // Tables take the look of this placeholder: 仿宋 小四.
        para(&body_ppr, &rpr(FANG, false, None, 24), TABLES),
        para(&body_ppr, &rpr(FANG, false, None, 32), LAGGARDS),
        blank,
        para(&signed_ppr, &rpr(FANG, false, None, 32), ISSUER),
        para(&signed_ppr, &rpr(FANG, false, None, 32), DATE),
    ]
    .concat();
    // A4; GB/T 9704 margins: 37 mm top, 35 mm bottom, 28 mm left, 26 mm right (156 × 225 mm).
    let sect = "<w:sectPr><w:footerReference w:type=\"default\" r:id=\"rId3\"/><w:pgSz w:w=\"11906\" w:h=\"16838\"/><w:pgMar w:top=\"2098\" w:right=\"1474\" w:bottom=\"1984\" w:left=\"1587\" w:header=\"851\" w:footer=\"1134\" w:gutter=\"0\"/><w:cols w:space=\"425\"/></w:sectPr>";
    format!("{XML_DECL}<w:document xmlns:w=\"{NS_W}\" xmlns:r=\"{NS_R}\"><w:body>{body}{sect}</w:body></w:document>")
}

/// Page numbers as 公文 print them: "— 1 —", centred, 宋体 四号.
fn default_footer() -> String {
    let r = "<w:rPr><w:rFonts w:ascii=\"宋体\" w:hAnsi=\"宋体\" w:eastAsia=\"宋体\"/><w:sz w:val=\"28\"/><w:szCs w:val=\"28\"/></w:rPr>";
    let field = |inner: &str| format!("<w:r>{r}{inner}</w:r>");
    format!(
        "{XML_DECL}<w:ftr xmlns:w=\"{NS_W}\" xmlns:r=\"{NS_R}\"><w:p><w:pPr><w:jc w:val=\"center\"/></w:pPr>{}{}{}{}{}{}{}</w:p></w:ftr>",
        field("<w:t xml:space=\"preserve\">— </w:t>"),
        field("<w:fldChar w:fldCharType=\"begin\"/>"),
        field("<w:instrText xml:space=\"preserve\"> PAGE </w:instrText>"),
        field("<w:fldChar w:fldCharType=\"separate\"/>"),
        // Word expects the field's last result between separate and end.
        field("<w:t>1</w:t>"),
        field("<w:fldChar w:fldCharType=\"end\"/>"),
        field("<w:t xml:space=\"preserve\"> —</w:t>"),
    )
}

fn default_styles() -> String {
    format!(
        concat!(
            "{decl}<w:styles xmlns:w=\"{w}\"><w:docDefaults><w:rPrDefault><w:rPr>",
            "<w:rFonts w:ascii=\"Times New Roman\" w:hAnsi=\"Times New Roman\" w:eastAsia=\"仿宋_GB2312\" w:cs=\"Times New Roman\"/>",
            "<w:kern w:val=\"2\"/><w:sz w:val=\"32\"/><w:szCs w:val=\"32\"/><w:lang w:val=\"en-US\" w:eastAsia=\"zh-CN\" w:bidi=\"ar-SA\"/>",
            "</w:rPr></w:rPrDefault><w:pPrDefault/></w:docDefaults>",
            "<w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/><w:qFormat/><w:pPr><w:widowControl w:val=\"0\"/><w:jc w:val=\"both\"/></w:pPr></w:style>",
            "<w:style w:type=\"character\" w:default=\"1\" w:styleId=\"DefaultParagraphFont\"><w:name w:val=\"Default Paragraph Font\"/><w:uiPriority w:val=\"1\"/><w:semiHidden/><w:unhideWhenUsed/></w:style>",
            "<w:style w:type=\"table\" w:default=\"1\" w:styleId=\"TableNormal\"><w:name w:val=\"Normal Table\"/><w:uiPriority w:val=\"99\"/><w:semiHidden/><w:unhideWhenUsed/>",
            "<w:tblPr><w:tblInd w:w=\"0\" w:type=\"dxa\"/><w:tblCellMar><w:top w:w=\"0\" w:type=\"dxa\"/><w:left w:w=\"108\" w:type=\"dxa\"/><w:bottom w:w=\"0\" w:type=\"dxa\"/><w:right w:w=\"108\" w:type=\"dxa\"/></w:tblCellMar></w:tblPr></w:style>",
            "<w:style w:type=\"numbering\" w:default=\"1\" w:styleId=\"NoList\"><w:name w:val=\"No List\"/><w:uiPriority w:val=\"99\"/><w:semiHidden/><w:unhideWhenUsed/></w:style>",
            "</w:styles>"
        ),
        decl = XML_DECL,
        w = NS_W
    )
}

/// The built-in template: what an administrator downloads, edits in Word or WPS, and uploads.
/// Placeholder paragraphs carry the layout; see the module documentation.
pub fn default_template() -> Vec<u8> {
    word_package("督查通报模板", &default_document())
}

/// A Word package around a main document (`word/document.xml`, whose section refers to the
/// footer as `rId3`): the 公文 styles, settings, and the "— 1 —" page-number footer.
pub(crate) fn word_package(title: &str, document: &str) -> Vec<u8> {
    const RELS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
    const OFFICE_REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    const CT_PREFIX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml";
    let title = crate::wordml::xml_text(title);
    let parts: [(&str, String); 9] = [
        (
            "[Content_Types].xml",
            format!(
                "{XML_DECL}<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/word/document.xml\" ContentType=\"{CT_PREFIX}.document.main+xml\"/><Override PartName=\"/word/styles.xml\" ContentType=\"{CT_PREFIX}.styles+xml\"/><Override PartName=\"/word/settings.xml\" ContentType=\"{CT_PREFIX}.settings+xml\"/><Override PartName=\"/word/footer1.xml\" ContentType=\"{CT_PREFIX}.footer+xml\"/><Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/><Override PartName=\"/docProps/app.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.extended-properties+xml\"/></Types>"
            ),
        ),
        (
            "_rels/.rels",
            format!(
                "{XML_DECL}<Relationships xmlns=\"{RELS}\"><Relationship Id=\"rId1\" Type=\"{OFFICE_REL}/officeDocument\" Target=\"word/document.xml\"/><Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties\" Target=\"docProps/core.xml\"/><Relationship Id=\"rId3\" Type=\"{OFFICE_REL}/extended-properties\" Target=\"docProps/app.xml\"/></Relationships>"
            ),
        ),
        (
            "docProps/core.xml",
            format!(
                "{XML_DECL}<cp:coreProperties \
                 xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" \
                 xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title>{title}</dc:title>\
                 <dc:creator>协同</dc:creator></cp:coreProperties>"
            ),
        ),
        (
            "docProps/app.xml",
            format!(
                "{XML_DECL}<Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties\"><Application>Xietong</Application></Properties>"
            ),
        ),
        ("word/document.xml", document.to_string()),
        (
            "word/_rels/document.xml.rels",
            format!(
                "{XML_DECL}<Relationships xmlns=\"{RELS}\"><Relationship Id=\"rId1\" Type=\"{OFFICE_REL}/styles\" Target=\"styles.xml\"/><Relationship Id=\"rId2\" Type=\"{OFFICE_REL}/settings\" Target=\"settings.xml\"/><Relationship Id=\"rId3\" Type=\"{OFFICE_REL}/footer\" Target=\"footer1.xml\"/></Relationships>"
            ),
        ),
        ("word/styles.xml", default_styles()),
        (
            "word/settings.xml",
            format!(
                "{XML_DECL}<w:settings xmlns:w=\"{NS_W}\"><w:zoom w:percent=\"100\"/><w:defaultTabStop w:val=\"420\"/><w:characterSpacingControl w:val=\"compressPunctuation\"/><w:compat><w:compatSetting w:name=\"compatibilityMode\" w:uri=\"http://schemas.microsoft.com/office/word\" w:val=\"15\"/></w:compat></w:settings>"
            ),
        ),
        ("word/footer1.xml", default_footer()),
    ];
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, xml) in parts {
        // Writing into memory fails only when memory does.
        w.start_file(name, options).expect("zip entry in memory");
        w.write_all(xml.as_bytes()).expect("zip entry in memory");
    }
    w.finish().expect("zip in memory").into_inner()
}

/// Is this upload a usable template? A .docx with every required placeholder, each block
/// placeholder in a paragraph of its own in the body, and no placeholder it does not know.
pub fn check_template(bytes: &[u8]) -> Result<(), OfficeError> {
    crate::guarded(|| check(bytes)).unwrap_or_else(|| Err(crate::wordml::not_docx()))
}

fn check(bytes: &[u8]) -> Result<(), OfficeError> {
    let found = Package::open(bytes)?.check(&INLINE, &BLOCKS)?;
    let missing: Vec<&str> = REQUIRED.iter().copied().filter(|p| !found.tokens.contains(*p)).collect();
    let mut problems = vec![];
    if !missing.is_empty() {
        problems.push(format!("模板缺少占位符 {}", missing.join("、")));
    }
    problems.extend(found.problems.iter().cloned());
    if found.problems.iter().any(|p| p.contains("无法识别")) {
        problems.push(format!(
            "可用的占位符：{}",
            INLINE.iter().chain(BLOCKS.iter()).copied().collect::<Vec<_>>().join(" ")
        ));
    }
    if problems.is_empty() { Ok(()) } else { Err(OfficeError::Template(problems.join("；"))) }
}

/// The notice as a .docx: `template` (or the built-in one) with its placeholders filled.
pub fn render_notice(template: Option<&[u8]>, doc: &NoticeDoc) -> Result<Vec<u8>, OfficeError> {
    let default;
    let bytes = match template {
        Some(t) => t,
        None => {
            default = default_template();
            &default
        }
    };
    check_template(bytes)?;
    crate::guarded(|| Package::open(bytes)?.fill(&INLINE, &BLOCKS, &NoticeFiller(doc)))
        .unwrap_or_else(|| Err(crate::wordml::not_docx()))
}

struct NoticeFiller<'a>(&'a NoticeDoc);

impl Filler for NoticeFiller<'_> {
    fn inline(&self, token: &str) -> Option<String> {
        let d = self.0;
        Some(match token {
            TITLE => d.title.clone(),
            DOC_NO => d.doc_no.clone(),
            ISSUER => d.issuer.clone(),
            DATE => date_zh(d.date),
            KIND => d.kind_label.clone(),
            _ => return None,
        })
    }

    fn block(&self, token: &str, ctx: &BlockCtx) -> String {
        let d = self.0;
        match token {
            BODY => d
                .paragraphs
                .iter()
                .flat_map(|p| p.lines())
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| ctx.paragraph(l, false))
                .collect(),
            TABLES => d.tables.iter().map(|t| table_block(t, &ctx.rpr)).collect(),
            LAGGARDS => {
                let mut s = String::new();
                if !d.laggards.is_empty() {
                    s.push_str(&ctx.paragraph(LAGGARDS_HEADING, true));
                    for (i, l) in d.laggards.iter().enumerate() {
                        s.push_str(&ctx.paragraph(&format!("{}. {}", i + 1, l.trim()), false));
                    }
                }
                let annex: Vec<&str> = d.annex.iter().map(|a| a.trim()).filter(|a| !a.is_empty()).collect();
                if !annex.is_empty() {
                    // One empty line between the body and its annex.
                    s.push_str(&ctx.paragraph("", false));
                    for a in annex {
                        s.push_str(&ctx.paragraph(a, false));
                    }
                }
                s
            }
            _ => String::new(),
        }
    }
}

/// Paragraph properties for text that must not inherit the body's indent and line spacing.
fn plain_ppr(keep_next: bool, before_after: u32) -> String {
    format!(
        "<w:pPr>{}<w:spacing w:before=\"{before_after}\" w:after=\"{before_after}\" w:line=\"240\" w:lineRule=\"auto\"/><w:ind w:left=\"0\" w:right=\"0\" w:firstLine=\"0\" w:firstLineChars=\"0\"/><w:jc w:val=\"center\"/></w:pPr>",
        if keep_next { "<w:keepNext/>" } else { "" }
    )
}

/// A caption, the table (borders, a bold shaded header row repeated on each page, cells in the
/// placeholder's font), and the empty paragraph Word needs after a table.
fn table_block(t: &NoticeTable, rpr: &str) -> String {
    // The type area of the built-in template (156 mm); Word rescales for other page setups.
    const TEXT_WIDTH: usize = 8844;
    let cols = t.headers.len().max(t.rows.iter().map(Vec::len).max().unwrap_or(0)).max(1);
    let weights: Vec<usize> = (0..cols)
        .map(|c| {
            let widest = std::iter::once(t.headers.get(c))
                .chain(t.rows.iter().map(|r| r.get(c)))
                .flatten()
                .map(|s| text_units(s))
                .max()
                .unwrap_or(0);
            widest.clamp(4, 40)
        })
        .collect();
    let sum: usize = weights.iter().sum();
    let widths: Vec<usize> = weights.iter().map(|w| TEXT_WIDTH * w / sum).collect();

    let mut x = String::new();
    if !t.caption.trim().is_empty() {
        x.push_str(&format!("<w:p>{}{}</w:p>", plain_ppr(true, 120), run(&rpr_bold(rpr), t.caption.trim())));
    }
    x.push_str("<w:tbl><w:tblPr><w:tblW w:w=\"5000\" w:type=\"pct\"/><w:jc w:val=\"center\"/><w:tblBorders>");
    for side in ["top", "left", "bottom", "right", "insideH", "insideV"] {
        x.push_str(&format!("<w:{side} w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"));
    }
    x.push_str("</w:tblBorders><w:tblCellMar><w:left w:w=\"80\" w:type=\"dxa\"/><w:right w:w=\"80\" w:type=\"dxa\"/></w:tblCellMar><w:tblLook w:val=\"04A0\" w:firstRow=\"1\" w:lastRow=\"0\" w:firstColumn=\"0\" w:lastColumn=\"0\" w:noHBand=\"0\" w:noVBand=\"1\"/></w:tblPr><w:tblGrid>");
    for w in &widths {
        x.push_str(&format!("<w:gridCol w:w=\"{w}\"/>"));
    }
    x.push_str("</w:tblGrid>");
    let bold_rpr = rpr_bold(rpr);
    let row = |cells: &[String], header: bool| {
        let mut r = String::from(if header {
            "<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>"
        } else {
            "<w:tr><w:trPr><w:cantSplit/></w:trPr>"
        });
        for (c, w) in widths.iter().enumerate() {
            let shade = if header { "<w:shd w:val=\"clear\" w:color=\"auto\" w:fill=\"D9D9D9\"/>" } else { "" };
            let text = cells.get(c).map(String::as_str).unwrap_or("");
            r.push_str(&format!(
                "<w:tc><w:tcPr><w:tcW w:w=\"{w}\" w:type=\"dxa\"/>{shade}<w:vAlign w:val=\"center\"/></w:tcPr><w:p>{}{}</w:p></w:tc>",
                plain_ppr(false, 0),
                run(if header { &bold_rpr } else { rpr }, text.trim())
            ));
        }
        r.push_str("</w:tr>");
        r
    };
    if !t.headers.is_empty() {
        x.push_str(&row(&t.headers, true));
    }
    for r in &t.rows {
        x.push_str(&row(r, false));
    }
    if t.headers.is_empty() && t.rows.is_empty() {
        x.push_str(&row(&[], false));
    }
    x.push_str("</w:tbl><w:p/>");
    x
}

/// The text of a rendered notice's body, for tests and previews: every `<w:t>` of the main
/// document, paragraphs separated by line breaks.
pub fn notice_text(docx: &[u8]) -> Result<String, OfficeError> {
    crate::guarded(|| crate::wordml::main_text(docx)).unwrap_or_else(|| Err(crate::wordml::not_docx()))
}

/// A document's text: a Word file's paragraphs (one line each), a PDF's text layer put back into
/// paragraphs, or plain text in UTF-8, else GB18030 (what Chinese Windows saves).
pub fn document_text(bytes: &[u8]) -> Result<String, OfficeError> {
    if bytes.starts_with(b"PK") {
        return notice_text(bytes);
    }
    if bytes.starts_with(b"%PDF") {
        return crate::pdftext::pdf_text(bytes);
    }
    Ok(match std::str::from_utf8(bytes) {
        Ok(t) => t.to_string(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_chinese() {
        assert_eq!(date_zh(NaiveDate::from_ymd_opt(2026, 11, 4).unwrap()), "2026年11月4日");
    }

    #[test]
    fn columns_get_width_by_content() {
        let t = NoticeTable {
            caption: "".into(),
            headers: vec!["名次".into(), "单位".into()],
            rows: vec![vec!["1".into(), "二七区建设和交通局（区人防办）".into()]],
        };
        let x = table_block(&t, "");
        assert!(x.contains("<w:gridCol w:w=\"1040\"/><w:gridCol w:w=\"7803\"/>"), "{x}");
        assert!(x.ends_with("</w:tbl><w:p/>"));
    }
}
