//! The 督查通报 as a Word document, built from a template an administrator can replace.
//!
//! The default template is written with docx-rs: red-head letterhead, 文号, title, body in 仿宋,
//! with placeholder paragraphs. Rendering fills a template at package level: the .docx is opened
//! as a zip, the paragraphs of `word/document.xml` (and the headers and footers) that hold a
//! placeholder are rewritten, and every other part is copied unchanged, so an administrator's
//! letterhead, fonts, logo, header and footer survive. Word may split a placeholder across runs;
//! a paragraph holding one is rewritten as a single run with the first run's formatting.

use std::io::{Cursor, Read, Write};

use chrono::{Datelike, NaiveDate};
use docx_rs::{AlignmentType, Docx, Paragraph, Run, RunFonts, SpecialIndentType};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::OfficeError;

#[derive(Clone, Debug, PartialEq)]
pub struct NoticeTable {
    pub caption: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Everything a notice says.
#[derive(Clone, Debug, PartialEq)]
pub struct NoticeDoc {
    pub title: String,
    pub doc_no: String,
    pub issuer: String,
    pub date: NaiveDate,
    /// 表扬 / 批评 / 预警 / 月度排名
    pub kind_label: String,
    pub paragraphs: Vec<String>,
    pub tables: Vec<NoticeTable>,
    /// Lagging units, each named with its responsible person.
    pub laggards: Vec<String>,
}

pub const TITLE: &str = "{{标题}}";
pub const DOC_NO: &str = "{{文号}}";
pub const ISSUER: &str = "{{发文单位}}";
pub const DATE: &str = "{{日期}}";
pub const BODY: &str = "{{正文}}";
pub const TABLES: &str = "{{表格}}";
pub const LAGGARDS: &str = "{{落后单位}}";
/// Placeholders a template must contain; the others are optional.
pub const REQUIRED: [&str; 4] = [TITLE, BODY, TABLES, LAGGARDS];
const BLOCKS: [&str; 3] = [BODY, TABLES, LAGGARDS];

fn template_err(m: impl Into<String>) -> OfficeError {
    OfficeError::Template(m.into())
}

/// The built-in template: what an administrator downloads, edits in Word or WPS, and uploads.
pub fn default_template() -> Vec<u8> {
    let song = RunFonts::new().east_asia("方正小标宋简体").ascii("SimSun").hi_ansi("SimSun");
    let fang = RunFonts::new().east_asia("仿宋_GB2312").ascii("FangSong").hi_ansi("FangSong");
    let centered = |text: &str, size: usize, fonts: &RunFonts, red: bool, bold: bool| {
        let mut r = Run::new().add_text(text).size(size).fonts(fonts.clone());
        if red {
            r = r.color("C00000");
        }
        if bold {
            r = r.bold();
        }
        Paragraph::new().add_run(r).align(AlignmentType::Center)
    };
    let body = |text: &str| {
        Paragraph::new()
            .add_run(Run::new().add_text(text).size(32).fonts(fang.clone()))
            .indent(None, Some(SpecialIndentType::FirstLine(640)), None, None)
            .line_spacing(docx_rs::LineSpacing::new().line(560))
    };
    let right = |text: &str| Paragraph::new().add_run(Run::new().add_text(text).size(32).fonts(fang.clone())).align(AlignmentType::Right);
    let docx = Docx::new()
        .add_paragraph(centered(ISSUER, 64, &song, true, false))
        .add_paragraph(centered(DOC_NO, 32, &fang, false, false))
        .add_paragraph(centered("━━━━━━━━━━━━━━━━━━━━━━━━", 24, &fang, true, false))
        .add_paragraph(centered(TITLE, 44, &song, false, false))
        .add_paragraph(body(BODY))
        .add_paragraph(body(TABLES))
        .add_paragraph(body(LAGGARDS))
        .add_paragraph(right(ISSUER))
        .add_paragraph(right(DATE));
    let mut buf = Cursor::new(Vec::new());
    // Packing an in-memory document only fails on I/O, which a Vec does not do.
    docx.build().pack(&mut buf).expect("packing the built-in template into memory");
    buf.into_inner()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn unesc(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

/// Byte range of the next paragraph start tag (`<w:p>`, `<w:p …>`, `<w:p/>`) at or after `from`.
fn next_p_start(xml: &str, from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(k) = xml[i..].find("<w:p") {
        let at = i + k;
        match xml.as_bytes().get(at + 4) {
            Some(b'>') | Some(b' ') | Some(b'/') => return Some(at),
            _ => i = at + 4,
        }
    }
    None
}

/// End (exclusive) of the paragraph starting at `start`, and whether it contains another paragraph.
fn p_end(xml: &str, start: usize) -> Option<(usize, bool)> {
    let open_end = start + xml[start..].find('>')? + 1;
    if xml[start..open_end].ends_with("/>") {
        return Some((open_end, false));
    }
    let mut depth = 1;
    let mut nested = false;
    let mut i = open_end;
    loop {
        let next_close = xml[i..].find("</w:p>").map(|k| i + k)?;
        match next_p_start(xml, i) {
            Some(s) if s < next_close => {
                nested = true;
                let e = s + xml[s..].find('>')? + 1;
                if !xml[s..e].ends_with("/>") {
                    depth += 1;
                }
                i = e;
            }
            _ => {
                depth -= 1;
                i = next_close + "</w:p>".len();
                if depth == 0 {
                    return Some((i, nested));
                }
            }
        }
    }
}

/// The visible text of a paragraph: its `<w:t>` contents, unescaped.
fn p_text(p: &str) -> String {
    let mut out = String::new();
    let mut i = 0;
    while let Some(k) = p[i..].find("<w:t") {
        let at = i + k;
        let Some(gt) = p[at..].find('>').map(|g| at + g) else { break };
        let tag = &p[at..=gt];
        // <w:tab/>, <w:tbl…> and friends share the prefix; only <w:t> and <w:t …> hold text.
        if !(tag == "<w:t>" || tag.starts_with("<w:t ")) || tag.ends_with("/>") {
            i = gt + 1;
            continue;
        }
        let Some(close) = p[gt..].find("</w:t>").map(|c| gt + c) else { break };
        out.push_str(&unesc(&p[gt + 1..close]));
        i = close + "</w:t>".len();
    }
    out
}

/// `(open tag, pPr, first run's rPr)` of a paragraph, to copy its look onto generated text.
fn p_parts(p: &str) -> (String, String, String) {
    let open_end = p.find('>').map(|g| g + 1).unwrap_or(0);
    // Generated paragraphs get a bare tag: copying w14:paraId would repeat an id Word expects unique.
    let open = "<w:p>".to_string();
    let body = if p[..open_end].ends_with("/>") { "" } else { &p[open_end..] };
    let ppr = match (body.find("<w:pPr"), body.find("</w:pPr>")) {
        (Some(s), Some(e)) if s < e => body[s..e + "</w:pPr>".len()].to_string(),
        _ => String::new(),
    };
    let after_ppr = if ppr.is_empty() { body } else { &body[body.find("</w:pPr>").map(|e| e + 8).unwrap_or(0)..] };
    let mut rpr = String::new();
    let mut i = 0;
    while let Some(k) = after_ppr[i..].find("<w:r") {
        let at = i + k;
        let next = after_ppr.as_bytes().get(at + 4).copied();
        if matches!(next, Some(b'>') | Some(b' ')) {
            let run_end = after_ppr[at..].find("</w:r>").map(|e| at + e).unwrap_or(after_ppr.len());
            let run = &after_ppr[at..run_end];
            if let (Some(s), Some(e)) = (run.find("<w:rPr"), run.find("</w:rPr>")) {
                if s < e {
                    rpr = run[s..e + "</w:rPr>".len()].to_string();
                }
            }
            break;
        }
        i = at + 4;
    }
    (open, ppr, rpr)
}

fn run_p(open: &str, ppr: &str, rpr: &str, text: &str) -> String {
    format!("{open}{ppr}<w:r>{rpr}<w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>", esc(text))
}

fn table_xml(t: &NoticeTable) -> String {
    let cols = t.headers.len().max(t.rows.iter().map(Vec::len).max().unwrap_or(0)).max(1);
    let width = 9000 / cols;
    let border = |name: &str| format!("<w:{name} w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>");
    let mut x = String::from("<w:tbl><w:tblPr><w:tblW w:w=\"5000\" w:type=\"pct\"/><w:jc w:val=\"center\"/><w:tblBorders>");
    for b in ["top", "left", "bottom", "right", "insideH", "insideV"] {
        x.push_str(&border(b));
    }
    x.push_str("</w:tblBorders></w:tblPr><w:tblGrid>");
    for _ in 0..cols {
        x.push_str(&format!("<w:gridCol w:w=\"{width}\"/>"));
    }
    x.push_str("</w:tblGrid>");
    let cell = |text: &str, bold: bool| {
        format!(
            "<w:tc><w:tcPr><w:tcW w:w=\"{width}\" w:type=\"dxa\"/></w:tcPr><w:p><w:pPr><w:jc w:val=\"center\"/></w:pPr><w:r><w:rPr>{}<w:rFonts w:ascii=\"FangSong\" w:hAnsi=\"FangSong\" w:eastAsia=\"仿宋_GB2312\"/><w:sz w:val=\"24\"/></w:rPr><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p></w:tc>",
            if bold { "<w:b/>" } else { "" },
            esc(text)
        )
    };
    let row = |cells: &[String], bold: bool| {
        let mut r = String::from(if bold { "<w:tr><w:trPr><w:tblHeader/></w:trPr>" } else { "<w:tr>" });
        for i in 0..cols {
            r.push_str(&cell(cells.get(i).map(String::as_str).unwrap_or(""), bold));
        }
        r.push_str("</w:tr>");
        r
    };
    x.push_str(&row(&t.headers, true));
    for r in &t.rows {
        x.push_str(&row(r, false));
    }
    x.push_str("</w:tbl>");
    x
}

fn date_zh(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

fn inline_values(doc: &NoticeDoc) -> [(&'static str, String); 4] {
    [(TITLE, doc.title.clone()), (DOC_NO, doc.doc_no.clone()), (ISSUER, doc.issuer.clone()), (DATE, date_zh(doc.date))]
}

/// Rewrite every paragraph of `xml` that holds a placeholder; `blocks` allows the body, table and
/// laggard placeholders (the main document only).
fn fill(xml: &str, doc: Option<&NoticeDoc>, blocks: bool) -> Result<String, OfficeError> {
    let mut out = String::with_capacity(xml.len() + 4096);
    let mut pos = 0;
    let mut search = 0;
    while let Some(start) = next_p_start(xml, search) {
        let Some((end, nested)) = p_end(xml, start) else { return Err(template_err("文档结构无效（段落未闭合）")) };
        if nested {
            // A paragraph holding a text box: its inner paragraphs are visited on their own.
            search = start + 4;
            continue;
        }
        let p = &xml[start..end];
        let text = p_text(p);
        search = end;
        if !text.contains("{{") {
            continue;
        }
        let (open, ppr, rpr) = p_parts(p);
        let trimmed = text.trim();
        let replacement = if let Some(b) = BLOCKS.iter().find(|b| text.contains(**b)) {
            if !blocks {
                return Err(template_err(format!("占位符 {b} 只能放在正文中，不能放在页眉页脚")));
            }
            if trimmed != *b {
                return Err(template_err(format!("占位符 {b} 须单独成段（该段现为「{trimmed}」）")));
            }
            match doc {
                None => p.to_string(),
                Some(d) if *b == BODY => d.paragraphs.iter().map(|t| run_p(&open, &ppr, &rpr, t)).collect(),
                Some(d) if *b == TABLES => d
                    .tables
                    .iter()
                    .map(|t| {
                        let caption = run_p("<w:p>", "<w:pPr><w:jc w:val=\"center\"/></w:pPr>", &rpr.replace("<w:rPr>", "<w:rPr><w:b/>"), &t.caption);
                        format!("{caption}{}<w:p/>", table_xml(t))
                    })
                    .collect(),
                Some(d) => {
                    let mut s = run_p(&open, &ppr, &rpr.replace("<w:rPr>", "<w:rPr><w:b/>"), "排名靠后及存在逾期未结任务的单位和责任人：");
                    if d.laggards.is_empty() {
                        s.push_str(&run_p(&open, &ppr, &rpr, "无。"));
                    }
                    for (i, l) in d.laggards.iter().enumerate() {
                        s.push_str(&run_p(&open, &ppr, &rpr, &format!("{}. {l}", i + 1)));
                    }
                    s
                }
            }
        } else {
            match doc {
                None => p.to_string(),
                Some(d) => {
                    let mut t = text.clone();
                    for (k, v) in inline_values(d) {
                        t = t.replace(k, &v);
                    }
                    run_p(&open, &ppr, &rpr, &t)
                }
            }
        };
        out.push_str(&xml[pos..start]);
        out.push_str(&replacement);
        pos = end;
    }
    out.push_str(&xml[pos..]);
    Ok(out)
}

fn open_package(bytes: &[u8]) -> Result<ZipArchive<Cursor<&[u8]>>, OfficeError> {
    let a = ZipArchive::new(Cursor::new(bytes)).map_err(|_| template_err("不是有效的 Word 文档（.docx）"))?;
    if a.index_for_name("word/document.xml").is_none() {
        return Err(template_err("不是有效的 Word 文档（.docx）：缺少正文部分"));
    }
    Ok(a)
}

fn read_part(a: &mut ZipArchive<Cursor<&[u8]>>, name: &str) -> Result<String, OfficeError> {
    let mut f = a.by_name(name).map_err(|_| template_err(format!("缺少 {name}")))?;
    let mut s = String::new();
    f.read_to_string(&mut s).map_err(|_| template_err(format!("{name} 不是 UTF-8 文本")))?;
    Ok(s)
}

/// Is this upload a usable template? Every required placeholder present, each block placeholder
/// in a paragraph of its own.
pub fn check_template(bytes: &[u8]) -> Result<(), OfficeError> {
    let mut a = open_package(bytes)?;
    let xml = read_part(&mut a, "word/document.xml")?;
    fill(&xml, None, true)?;
    let mut text = String::new();
    let mut search = 0;
    while let Some(start) = next_p_start(&xml, search) {
        let (end, _) = p_end(&xml, start).ok_or_else(|| template_err("文档结构无效（段落未闭合）"))?;
        text.push_str(&p_text(&xml[start..end]));
        text.push('\n');
        search = start + 4;
    }
    let missing: Vec<&str> = REQUIRED.iter().copied().filter(|p| !text.contains(p)).collect();
    if !missing.is_empty() {
        return Err(template_err(format!("模板缺少占位符 {}", missing.join("、"))));
    }
    Ok(())
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
    let mut a = open_package(bytes)?;
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    let werr = |e: zip::result::ZipError| OfficeError::Write(e.to_string());
    for i in 0..a.len() {
        let name = a.by_index(i).map_err(werr)?.name().map_err(werr)?.to_string();
        let is_main = name == "word/document.xml";
        let is_margin = name.starts_with("word/header") || name.starts_with("word/footer");
        if is_main || (is_margin && name.ends_with(".xml")) {
            let xml = read_part(&mut a, &name)?;
            let filled = fill(&xml, Some(doc), is_main)?;
            w.start_file(name, SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)).map_err(werr)?;
            w.write_all(filled.as_bytes()).map_err(|e| OfficeError::Write(e.to_string()))?;
        } else {
            let f = a.by_index(i).map_err(werr)?;
            w.raw_copy_file(f).map_err(werr)?;
        }
    }
    Ok(w.finish().map_err(werr)?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_joins_runs_and_skips_tabs() {
        let p = r#"<w:p><w:r><w:t>{{</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve">标题}}</w:t></w:r></w:p>"#;
        assert_eq!(p_text(p), "{{标题}}");
    }

    #[test]
    fn nested_paragraphs_are_found() {
        let xml = "<w:p><w:r><w:txbxContent><w:p><w:r><w:t>x</w:t></w:r></w:p></w:txbxContent></w:r></w:p><w:p/>";
        assert_eq!(p_end(xml, 0).map(|(e, n)| (&xml[..e], n)), Some((&xml[..xml.len() - 6], true)));
    }
}
