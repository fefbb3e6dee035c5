//! Filling `{{占位符}}` in a Word package without disturbing anything else.
//!
//! docx-rs reads a .docx into its own model and writes it back from that model, so whatever it
//! does not model (an administrator's logo, WPS extensions, theme fonts, content controls, field
//! codes, compatibility settings) would be lost or changed. Here the .docx is handled as what it
//! is, a zip of XML parts: the parts holding placeholders (the main document, and headers and
//! footers for the simple ones) are parsed with quick-xml to locate paragraphs, runs and text
//! nodes by byte offset, only the bytes of the text nodes or paragraphs that hold a placeholder
//! are replaced, and every other part is copied unchanged (compressed bytes and all).

use std::collections::BTreeSet;
use std::io::{Cursor, Read, Write};

use quick_xml::events::{BytesStart, Event};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::OfficeError;

/// Templates larger than this are refused (a letterhead with a logo is well under 1 MB).
pub const MAX_TEMPLATE_BYTES: usize = 20 * 1024 * 1024;
/// What one XML part may unpack to.
const MAX_PART_BYTES: u64 = 64 * 1024 * 1024;

const REL_OFFICE_DOCUMENT: &str = "/officeDocument";
const CT_DOCUMENT: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml";
const CT_TEMPLATE: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml";

fn template_err(m: impl Into<String>) -> OfficeError {
    OfficeError::Template(m.into())
}

pub(crate) fn not_docx() -> OfficeError {
    template_err("模板无法读取：不是有效的 Word 文档（.docx）")
}

fn bad_xml(part: &str) -> OfficeError {
    template_err(format!("模板无法读取：{part} 内容已损坏，请在 Word 或 WPS 中打开后重新另存为 .docx"))
}

/// Text for a `<w:t>`: XML-escaped, without the control characters XML 1.0 cannot carry at all
/// (a unit name pasted from elsewhere may hold a vertical tab; Word would refuse the file).
pub(crate) fn xml_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A run holding `text` with the properties `rpr` (a whole `<w:rPr>…</w:rPr>` or "").
/// Line breaks in the text become Word line breaks.
pub(crate) fn run(rpr: &str, text: &str) -> String {
    let mut out = String::new();
    out.push_str("<w:r>");
    out.push_str(rpr);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push_str("<w:br/>");
        }
        out.push_str("<w:t xml:space=\"preserve\">");
        out.push_str(&xml_text(line.trim_end_matches('\r')));
        out.push_str("</w:t>");
    }
    out.push_str("</w:r>");
    out
}

/// The schema order of `<w:rPr>` children (CT_RPr); Word may refuse a file whose order differs.
const RPR_ORDER: [&str; 40] = [
    "rStyle",
    "rFonts",
    "b",
    "bCs",
    "i",
    "iCs",
    "caps",
    "smallCaps",
    "strike",
    "dstrike",
    "outline",
    "shadow",
    "emboss",
    "imprint",
    "noProof",
    "snapToGrid",
    "vanish",
    "webHidden",
    "color",
    "spacing",
    "w",
    "kern",
    "position",
    "sz",
    "szCs",
    "highlight",
    "u",
    "effect",
    "bdr",
    "shd",
    "fitText",
    "vertAlign",
    "rtl",
    "cs",
    "em",
    "lang",
    "eastAsianLayout",
    "specVanish",
    "oMath",
    "rPrChange",
];

/// `rpr` (a `<w:rPr>` element or "") in bold, its children kept in schema order.
pub(crate) fn rpr_bold(rpr: &str) -> String {
    let mut children: Vec<(usize, String)> = vec![];
    let mut reader = quick_xml::Reader::from_str(rpr);
    let mut depth = 0usize;
    let mut child_start = 0usize;
    let mut child_name = String::new();
    loop {
        let before = reader.buffer_position() as usize;
        let Ok(ev) = reader.read_event() else { break };
        let after = reader.buffer_position() as usize;
        match ev {
            Event::Start(e) => {
                if depth == 1 {
                    child_start = before;
                    child_name = local(&e);
                }
                depth += 1;
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 1 {
                    children.push((order_of(&child_name), rpr[child_start..after].to_string()));
                }
            }
            Event::Empty(e) if depth == 1 => children.push((order_of(&local(&e)), rpr[before..after].to_string())),
            Event::Eof => break,
            _ => {}
        }
    }
    children.retain(|(k, _)| *k != order_of("b") && *k != order_of("bCs"));
    children.push((order_of("b"), "<w:b/>".into()));
    children.push((order_of("bCs"), "<w:bCs/>".into()));
    children.sort_by_key(|(k, _)| *k);
    let mut out = String::from("<w:rPr>");
    for (_, c) in children {
        out.push_str(&c);
    }
    out.push_str("</w:rPr>");
    out
}

fn order_of(local_name: &str) -> usize {
    // Unknown (e.g. w14:) properties sort with rPrChange, last; the sort is stable, so they keep
    // their order, and a change record stays after them.
    RPR_ORDER.iter().position(|n| *n == local_name).unwrap_or(RPR_ORDER.len() - 1)
}

fn local(e: &BytesStart<'_>) -> String {
    e.local_name().as_ref().to_string()
}

type Span = (usize, usize);

/// A `<w:t>` of a paragraph, located in the part's text.
struct TextNode {
    /// The `<w:t …>` start tag.
    open: Span,
    /// What lies between the start and end tags (escaped).
    content: Span,
    /// The unescaped text.
    text: String,
    /// `<w:rPr>` of the run holding it.
    rpr: Option<Span>,
    preserve: bool,
}

/// A `<w:p>` of a part.
struct Para {
    span: Span,
    /// The element holding the paragraph (`w:body`, `w:tc`, `w:txbxContent`, …).
    parent: String,
    ppr: Option<Span>,
    /// A section break stored in this paragraph's properties.
    sect: Option<Span>,
    texts: Vec<TextNode>,
}

/// The paragraphs of a part, with their own text nodes (text boxes inside a paragraph are
/// paragraphs of their own).
fn scan(xml: &str, part: &str) -> Result<Vec<Para>, OfficeError> {
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut paras: Vec<Para> = vec![];
    // Open elements: (qualified name, start offset, paragraph it opened, if a w:p).
    let mut stack: Vec<(String, usize)> = vec![];
    let mut open_paras: Vec<usize> = vec![];
    // Open runs: (paragraph, rPr).
    let mut runs: Vec<(Option<usize>, Option<Span>)> = vec![];
    let mut open_t: Option<(Span, bool)> = None;
    loop {
        let before = reader.buffer_position() as usize;
        let ev = reader.read_event().map_err(|_| bad_xml(part))?;
        let after = reader.buffer_position() as usize;
        match ev {
            Event::Start(e) => {
                let name = e.name().as_ref().to_string();
                let parent = stack.last().map(|(n, _)| n.as_str()).unwrap_or("");
                match name.as_str() {
                    "w:p" => {
                        paras.push(Para {
                            span: (before, before),
                            parent: parent.to_string(),
                            ppr: None,
                            sect: None,
                            texts: vec![],
                        });
                        open_paras.push(paras.len() - 1);
                    }
                    "w:r" => runs.push((open_paras.last().copied(), None)),
                    "w:t" if parent == "w:r" => {
                        let preserve = e
                            .try_get_attribute("xml:space")
                            .ok()
                            .flatten()
                            .is_some_and(|a| a.value.as_ref() == "preserve");
                        open_t = Some(((before, after), preserve));
                    }
                    _ => {}
                }
                stack.push((name, before));
            }
            Event::Empty(e) => {
                let parent = stack.last().map(|(n, _)| n.as_str()).unwrap_or("");
                match (e.name().as_ref(), parent) {
                    ("w:pPr", "w:p") => {
                        if let Some(&p) = open_paras.last() {
                            paras[p].ppr = Some((before, after));
                        }
                    }
                    ("w:sectPr", "w:pPr") => {
                        if let Some(&p) = open_paras.last() {
                            paras[p].sect = Some((before, after));
                        }
                    }
                    ("w:rPr", "w:r") => {
                        if let Some(r) = runs.last_mut() {
                            r.1 = Some((before, after));
                        }
                    }
                    _ => {}
                }
            }
            Event::End(_) => {
                let Some((name, start)) = stack.pop() else { return Err(bad_xml(part)) };
                let parent = stack.last().map(|(n, _)| n.as_str()).unwrap_or("");
                match (name.as_str(), parent) {
                    ("w:p", _) => {
                        if let Some(p) = open_paras.pop() {
                            paras[p].span.1 = after;
                        }
                    }
                    ("w:pPr", "w:p") => {
                        if let Some(&p) = open_paras.last() {
                            paras[p].ppr = Some((start, after));
                        }
                    }
                    ("w:sectPr", "w:pPr") => {
                        if let Some(&p) = open_paras.last() {
                            paras[p].sect = Some((start, after));
                        }
                    }
                    ("w:r", _) => {
                        runs.pop();
                    }
                    ("w:rPr", "w:r") => {
                        if let Some(r) = runs.last_mut() {
                            r.1 = Some((start, after));
                        }
                    }
                    ("w:t", "w:r") => {
                        if let (Some((open, preserve)), Some((Some(p), rpr))) = (open_t.take(), runs.last()) {
                            let content = (open.1, before);
                            let text = quick_xml::escape::unescape(&xml[content.0..content.1])
                                .map_err(|_| bad_xml(part))?
                                .into_owned();
                            paras[*p].texts.push(TextNode { open, content, text, rpr: *rpr, preserve });
                        }
                    }
                    _ => {}
                }
            }
            Event::DocType(_) => return Err(bad_xml(part)),
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() || paras.iter().any(|p| p.span.1 <= p.span.0) {
        return Err(bad_xml(part));
    }
    Ok(paras)
}

/// The `{{…}}` of a paragraph's text: (start, end) byte range in the text and the placeholder
/// it names. Typed with a Chinese input method, the braces may be full-width (｛｛标题｝｝), and
/// spaces may have crept in ({{ 标题 }}); both name {{标题}}.
fn tokens(text: &str) -> Vec<(usize, usize, String)> {
    let chars: Vec<(usize, char)> = text
        .char_indices()
        .map(|(i, c)| {
            (
                i,
                match c {
                    '｛' => '{',
                    '｝' => '}',
                    c => c,
                },
            )
        })
        .collect();
    let mut out = vec![];
    let mut open: Option<usize> = None;
    let mut i = 0;
    while i + 1 < chars.len() {
        match (chars[i].1, chars[i + 1].1) {
            ('{', '{') => {
                // Of "{{{", the last two open the placeholder.
                open = Some(i);
                i += 1;
            }
            ('}', '}') => {
                if let Some(o) = open.take() {
                    let name: String = chars[o + 2..i].iter().map(|(_, c)| *c).filter(|c| !c.is_whitespace()).collect();
                    // A real placeholder is short; "{{" far away is something else.
                    if !name.is_empty() && name.chars().count() <= 20 {
                        let end = chars.get(i + 2).map(|(b, _)| *b).unwrap_or(text.len());
                        out.push((chars[o].0, end, format!("{{{{{name}}}}}")));
                    }
                }
                i += 2;
            }
            _ => i += 1,
        }
    }
    out
}

/// The look of a block placeholder's paragraph, for the paragraphs that replace it.
pub(crate) struct BlockCtx {
    /// `<w:pPr>` without a section break ("" when none).
    pub ppr: String,
    /// `<w:rPr>` of the run holding the placeholder ("" when none).
    pub rpr: String,
}

impl BlockCtx {
    /// A paragraph looking like the placeholder's, holding `text`.
    pub fn paragraph(&self, text: &str, bold: bool) -> String {
        let rpr = if bold { rpr_bold(&self.rpr) } else { self.rpr.clone() };
        format!("<w:p>{}{}</w:p>", self.ppr, run(&rpr, text))
    }
}

/// What to put where: the value of an inline placeholder, and the XML replacing a block
/// placeholder's paragraph.
pub(crate) trait Filler {
    fn inline(&self, token: &str) -> Option<String>;
    fn block(&self, token: &str, ctx: &BlockCtx) -> String;
}

/// Which placeholders a part holds, and what is wrong with them.
#[derive(Default)]
pub(crate) struct Found {
    pub tokens: BTreeSet<String>,
    pub problems: Vec<String>,
}

/// The placeholders of a part and, with a filler, the part's new text (None when unchanged).
fn fill_part(
    xml: &str,
    part: &str,
    main: bool,
    inline: &[&str],
    blocks: &[&str],
    filler: Option<&dyn Filler>,
) -> Result<(Found, Option<String>), OfficeError> {
    let paras = scan(xml, part)?;
    let mut found = Found::default();
    let mut edits: Vec<(Span, String)> = vec![];
    for p in &paras {
        let joined: String = p.texts.iter().map(|t| t.text.as_str()).collect();
        if !joined.contains("{{") && !joined.contains("｛｛") {
            continue;
        }
        let toks = tokens(&joined);
        if toks.is_empty() {
            continue;
        }
        // The block placeholder, if the paragraph holds one.
        if let Some((_, _, tok)) = toks.iter().find(|(_, _, t)| blocks.contains(&t.as_str())) {
            found.tokens.insert(tok.clone());
            if !main {
                found.problems.push(format!("占位符 {tok} 只能放在正文中，不能放在页眉页脚"));
                continue;
            }
            let (start, end) = toks.iter().find(|(_, _, t)| t == tok).map(|(s, e, _)| (*s, *e)).unwrap_or((0, 0));
            if !joined[..start].trim().is_empty() || !joined[end..].trim().is_empty() {
                found.problems.push(format!("占位符 {tok} 须单独成段（该段现为「{}」）", joined.trim()));
                continue;
            }
            if let Some(f) = filler {
                let node = node_at(p, start);
                let raw = |s: Option<Span>| s.map(|(a, b)| xml[a..b].to_string()).unwrap_or_default();
                let ppr_full = raw(p.ppr);
                let ppr = match (p.ppr, p.sect) {
                    (Some((a, b)), Some((s, e))) => format!("{}{}", &xml[a..s], &xml[e..b]),
                    _ => ppr_full.clone(),
                };
                let ctx = BlockCtx { ppr, rpr: raw(node.and_then(|n| p.texts[n].rpr)) };
                let mut content = f.block(tok, &ctx);
                // A section break held by this paragraph must survive, and some containers
                // (a table cell) must keep at least one paragraph.
                if p.sect.is_some() || (content.is_empty() && p.parent != "w:body") {
                    content.push_str(&format!("<w:p>{ppr_full}</w:p>"));
                }
                edits.push((p.span, content));
            }
            continue;
        }
        let mut replace: Vec<(usize, usize, String)> = vec![];
        for (s, e, tok) in toks {
            if inline.contains(&tok.as_str()) {
                found.tokens.insert(tok.clone());
                if let Some(v) = filler.and_then(|f| f.inline(&tok)) {
                    replace.push((s, e, v));
                }
            } else {
                found.problems.push(format!("模板中有无法识别的占位符 {}", &joined[s..e]));
            }
        }
        if filler.is_some() && !replace.is_empty() {
            edits.extend(inline_edits(xml, p, &replace));
        }
    }
    if filler.is_none() || edits.is_empty() {
        return Ok((found, None));
    }
    // An outer paragraph replaced whole takes the edits inside it along.
    edits.sort_by_key(|((a, b), _)| (*a, usize::MAX - *b));
    let mut out = String::with_capacity(xml.len() + edits.iter().map(|(_, s)| s.len()).sum::<usize>());
    let mut pos = 0;
    for ((a, b), s) in edits {
        if a < pos {
            continue;
        }
        out.push_str(&xml[pos..a]);
        out.push_str(&s);
        pos = b;
    }
    out.push_str(&xml[pos..]);
    Ok((found, Some(out)))
}

/// Index of the text node holding byte `at` of the paragraph's joined text.
fn node_at(p: &Para, at: usize) -> Option<usize> {
    let mut offset = 0;
    for (i, t) in p.texts.iter().enumerate() {
        if at < offset + t.text.len() {
            return Some(i);
        }
        offset += t.text.len();
    }
    None
}

/// Replace placeholders that Word may have split over several runs: each value goes into the
/// text node where its placeholder starts (keeping that run's formatting), and the rest of the
/// placeholder is removed from the nodes it spilled into. Other runs, fields, bookmarks and
/// images in the paragraph are left alone.
fn inline_edits(xml: &str, p: &Para, replace: &[(usize, usize, String)]) -> Vec<(Span, String)> {
    let mut edits = vec![];
    let mut offset = 0;
    for t in &p.texts {
        let (node_start, node_end) = (offset, offset + t.text.len());
        offset = node_end;
        if !replace.iter().any(|(s, e, _)| *s < node_end && *e > node_start) {
            continue;
        }
        let mut new_text = String::new();
        for (i, c) in t.text.char_indices() {
            let at = node_start + i;
            match replace.iter().find(|(s, e, _)| at >= *s && at < *e) {
                Some((s, _, v)) if at == *s => new_text.push_str(v),
                Some(_) => {}
                None => new_text.push(c),
            }
        }
        let needs_preserve = new_text.starts_with(char::is_whitespace) || new_text.ends_with(char::is_whitespace);
        if needs_preserve && !t.preserve && xml[t.open.0..t.open.1].ends_with('>') {
            edits.push((t.open, "<w:t xml:space=\"preserve\">".to_string()));
        }
        edits.push((t.content, xml_text(&new_text)));
    }
    edits
}

/// Resolve a relationship target against the folder of the part that names it.
fn resolve(base_part: &str, target: &str) -> String {
    let mut parts: Vec<&str> = if let Some(abs) = target.strip_prefix('/') {
        return abs.split('/').filter(|s| !s.is_empty()).collect::<Vec<_>>().join("/");
    } else {
        base_part.split('/').collect()
    };
    parts.pop();
    for seg in target.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// (Type, Target) of each internal relationship in a .rels part.
fn relationships(xml: &str) -> Vec<(String, String)> {
    let mut out = vec![];
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(Event::Empty(e) | Event::Start(e)) if e.local_name().as_ref() == "Relationship" => {
                let get = |k: &str| {
                    e.try_get_attribute(k)
                        .ok()
                        .flatten()
                        .and_then(|a| quick_xml::escape::unescape(&a.value).ok().map(|v| v.into_owned()))
                        .unwrap_or_default()
                };
                if get("TargetMode") != "External" {
                    out.push((get("Type"), get("Target")));
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    out
}

/// A Word package opened for templating.
pub(crate) struct Package<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
    /// The main document part, e.g. "word/document.xml".
    main: String,
    /// Header and footer parts.
    margins: Vec<String>,
    /// A .dotx: its main part must be declared a document for the result to open as .docx.
    is_template: bool,
}

impl<'a> Package<'a> {
    pub fn open(bytes: &'a [u8]) -> Result<Package<'a>, OfficeError> {
        if bytes.len() > MAX_TEMPLATE_BYTES {
            return Err(template_err(format!("模板文件过大（超过 {} MB）", MAX_TEMPLATE_BYTES / 1024 / 1024)));
        }
        if bytes.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
            return Err(template_err(
                "模板无法读取：这是旧版 Word（.doc）或设置了密码的文件，请在 Word 或 WPS 中另存为 .docx（不设密码）",
            ));
        }
        let zip = ZipArchive::new(Cursor::new(bytes)).map_err(|_| not_docx())?;
        let mut pkg = Package { zip, main: String::new(), margins: vec![], is_template: false };
        let content_types = pkg.read("[Content_Types].xml").map_err(|_| not_docx())?;
        let root_rels = pkg.read("_rels/.rels").map_err(|_| not_docx())?;
        pkg.main = relationships(&root_rels)
            .into_iter()
            .find(|(t, _)| t.ends_with(REL_OFFICE_DOCUMENT))
            .map(|(_, target)| resolve("", &target))
            .ok_or_else(not_docx)?;
        if pkg.zip.index_for_name(&pkg.main).is_none() {
            return Err(not_docx());
        }
        // The main part's declared type says what kind of file this is.
        let main_type = content_type_of(&content_types, &pkg.main);
        match main_type.as_deref() {
            Some(CT_DOCUMENT) => {}
            Some(CT_TEMPLATE) => pkg.is_template = true,
            Some(t) if t.contains("macroEnabled") => {
                return Err(template_err("模板不能含宏，请在 Word 或 WPS 中另存为 .docx（Word 文档）"));
            }
            _ => return Err(not_docx()),
        }
        if let Some(msg) = crate::external::refusal(bytes, "模板") {
            return Err(template_err(msg));
        }
        let rels_name = {
            let (dir, file) = pkg.main.rsplit_once('/').unwrap_or(("", pkg.main.as_str()));
            if dir.is_empty() { format!("_rels/{file}.rels") } else { format!("{dir}/_rels/{file}.rels") }
        };
        if let Ok(rels) = pkg.read(&rels_name) {
            let main = pkg.main.clone();
            pkg.margins = relationships(&rels)
                .into_iter()
                .filter(|(t, _)| t.ends_with("/header") || t.ends_with("/footer"))
                .map(|(_, target)| resolve(&main, &target))
                .filter(|p| pkg.zip.index_for_name(p).is_some())
                .collect();
            pkg.margins.sort();
            pkg.margins.dedup();
        }
        Ok(pkg)
    }

    fn read(&mut self, name: &str) -> Result<String, OfficeError> {
        let f = self.zip.by_name(name).map_err(|_| not_docx())?;
        if f.size() > MAX_PART_BYTES {
            return Err(template_err(format!("模板无法读取：{name} 过大")));
        }
        let mut bytes = vec![];
        f.take(MAX_PART_BYTES).read_to_end(&mut bytes).map_err(|_| bad_xml(name))?;
        let text = String::from_utf8(bytes).map_err(|_| {
            template_err(format!("模板无法读取：{name} 不是 UTF-8 编码，请在 Word 或 WPS 中另存为 .docx"))
        })?;
        Ok(text.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(text))
    }

    /// The placeholders of the document, headers and footers, and the problems with them.
    pub fn check(&mut self, inline: &[&str], blocks: &[&str]) -> Result<Found, OfficeError> {
        let mut all = Found::default();
        for (name, main) in self.parts() {
            let xml = self.read(&name)?;
            let (found, _) = fill_part(&xml, &name, main, inline, blocks, None)?;
            all.tokens.extend(found.tokens);
            all.problems.extend(found.problems);
        }
        Ok(all)
    }

    fn parts(&self) -> Vec<(String, bool)> {
        std::iter::once((self.main.clone(), true)).chain(self.margins.iter().map(|m| (m.clone(), false))).collect()
    }

    /// The filled package: parts with placeholders rewritten, every other entry copied as is.
    pub fn fill(mut self, inline: &[&str], blocks: &[&str], filler: &dyn Filler) -> Result<Vec<u8>, OfficeError> {
        let mut rewritten: Vec<(String, String)> = vec![];
        for (name, main) in self.parts() {
            let xml = self.read(&name)?;
            if let (_, Some(new)) = fill_part(&xml, &name, main, inline, blocks, Some(filler))? {
                rewritten.push((name, new));
            }
        }
        if self.is_template {
            let ct = self.read("[Content_Types].xml")?;
            rewritten.push(("[Content_Types].xml".into(), ct.replace(CT_TEMPLATE, CT_DOCUMENT)));
        }
        let werr = |e: zip::result::ZipError| OfficeError::Write(e.to_string());
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        for i in 0..self.zip.len() {
            let name = self.zip.by_index_raw(i).map_err(|_| not_docx())?.name().map_err(|_| not_docx())?.into_owned();
            match rewritten.iter().find(|(n, _)| *n == name) {
                Some((_, xml)) => {
                    w.start_file(
                        name.as_str(),
                        SimpleFileOptions::default().compression_method(CompressionMethod::Deflated),
                    )
                    .map_err(werr)?;
                    w.write_all(xml.as_bytes()).map_err(|e| OfficeError::Write(e.to_string()))?;
                }
                None => {
                    let f = self.zip.by_index_raw(i).map_err(|_| not_docx())?;
                    w.raw_copy_file(f).map_err(werr)?;
                }
            }
        }
        Ok(w.finish().map_err(werr)?.into_inner())
    }
}

/// The visible text of a package's main document, one line per paragraph.
pub(crate) fn main_text(bytes: &[u8]) -> Result<String, OfficeError> {
    let mut pkg = Package::open(bytes)?;
    let main = pkg.main.clone();
    let xml = pkg.read(&main)?;
    let paras = scan(&xml, &main)?;
    Ok(paras.iter().map(|p| p.texts.iter().map(|t| t.text.as_str()).collect::<String>()).collect::<Vec<_>>().join("\n"))
}

/// The content type [Content_Types].xml declares for a part (an Override, else its extension's
/// Default).
fn content_type_of(xml: &str, part: &str) -> Option<String> {
    let ext = part.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let (mut by_override, mut by_default) = (None, None);
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(Event::Empty(e) | Event::Start(e)) => {
                let get = |k: &str| {
                    e.try_get_attribute(k)
                        .ok()
                        .flatten()
                        .and_then(|a| quick_xml::escape::unescape(&a.value).ok().map(|v| v.into_owned()))
                };
                match e.local_name().as_ref() {
                    "Override"
                        if get("PartName").is_some_and(|p| p.trim_start_matches('/').eq_ignore_ascii_case(part)) =>
                    {
                        by_override = get("ContentType")
                    }
                    "Default" if get("Extension").is_some_and(|x| x.eq_ignore_ascii_case(&ext)) => {
                        by_default = get("ContentType")
                    }
                    _ => {}
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    by_override.or(by_default)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Values;
    impl Filler for Values {
        fn inline(&self, token: &str) -> Option<String> {
            (token == "{{标题}}").then(|| "A & <B>".to_string())
        }
        fn block(&self, _token: &str, ctx: &BlockCtx) -> String {
            ctx.paragraph("第一段", false) + &ctx.paragraph("第二段", true)
        }
    }

    fn fill(xml: &str) -> String {
        fill_part(xml, "word/document.xml", true, &["{{标题}}"], &["{{正文}}"], Some(&Values)).unwrap().1.unwrap()
    }

    #[test]
    fn a_split_placeholder_is_replaced_in_its_first_run() {
        let xml = r#"<w:body><w:p><w:r><w:rPr><w:b/></w:rPr><w:t>通报：{{标</w:t></w:r><w:proofErr w:type="spellStart"/><w:r><w:t>题}}（</w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:t>完</w:t></w:r></w:p></w:body>"#;
        let out = fill(xml);
        assert_eq!(
            out,
            r#"<w:body><w:p><w:r><w:rPr><w:b/></w:rPr><w:t>通报：A &amp; &lt;B&gt;</w:t></w:r><w:proofErr w:type="spellStart"/><w:r><w:t>（</w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:t>完</w:t></w:r></w:p></w:body>"#
        );
    }

    #[test]
    fn a_block_takes_the_look_of_its_paragraph_and_keeps_a_section_break() {
        let xml = r#"<w:body><w:p w14:paraId="1"><w:pPr><w:ind w:firstLineChars="200"/><w:sectPr><w:pgSz w:w="11906"/></w:sectPr></w:pPr><w:r><w:rPr><w:sz w:val="32"/></w:rPr><w:t>{{正文}}</w:t></w:r></w:p><w:p/></w:body>"#;
        let out = fill(xml);
        assert_eq!(
            out,
            concat!(
                r#"<w:body><w:p><w:pPr><w:ind w:firstLineChars="200"/></w:pPr><w:r><w:rPr><w:sz w:val="32"/></w:rPr><w:t xml:space="preserve">第一段</w:t></w:r></w:p>"#,
                r#"<w:p><w:pPr><w:ind w:firstLineChars="200"/></w:pPr><w:r><w:rPr><w:b/><w:bCs/><w:sz w:val="32"/></w:rPr><w:t xml:space="preserve">第二段</w:t></w:r></w:p>"#,
                r#"<w:p><w:pPr><w:ind w:firstLineChars="200"/><w:sectPr><w:pgSz w:w="11906"/></w:sectPr></w:pPr></w:p><w:p/></w:body>"#
            )
        );
    }

    #[test]
    fn blocks_must_stand_alone_and_unknown_tokens_are_named() {
        let xml =
            r#"<w:body><w:p><w:r><w:t>见{{正文}}</w:t></w:r></w:p><w:p><w:r><w:t>{{标 提}}</w:t></w:r></w:p></w:body>"#;
        let (found, _) = fill_part(xml, "d", true, &["{{标题}}"], &["{{正文}}"], None).unwrap();
        assert_eq!(found.problems.len(), 2, "{:?}", found.problems);
        assert!(found.problems[0].contains("须单独成段"));
        assert_eq!(found.problems[1], "模板中有无法识别的占位符 {{标 提}}");
    }

    #[test]
    fn placeholders_typed_with_a_chinese_input_method_count() {
        assert_eq!(tokens("｛｛标题｝｝"), vec![(0, "｛｛标题｝｝".len(), "{{标题}}".to_string())]);
        let text = "见{{ 标 题 }}与{{{日期}}";
        let (a, b) = (text.find("{{ 标").unwrap(), text.find("{{日期}}").unwrap());
        assert_eq!(
            tokens(text),
            vec![(a, a + "{{ 标 题 }}".len(), "{{标题}}".to_string()), (b, text.len(), "{{日期}}".to_string())]
        );
        assert!(tokens("{{}} {{ 这不是一个占位符而是一段很长很长很长的文字 }} }}").is_empty());
        let xml = r#"<w:body><w:p><w:r><w:t xml:space="preserve"> ｛｛正文｝｝ </w:t></w:r></w:p><w:p><w:r><w:t>题为｛｛标题｝｝</w:t></w:r></w:p></w:body>"#;
        let out = fill(xml);
        assert!(out.contains("第一段") && out.contains("<w:t>题为A &amp; &lt;B&gt;</w:t>"), "{out}");
    }

    #[test]
    fn text_boxes_are_paragraphs_of_their_own() {
        let xml = r#"<w:body><w:p><w:r><w:t>版头</w:t></w:r><w:r><w:pict><w:txbxContent><w:p><w:r><w:t>{{标题}}</w:t></w:r></w:p></w:txbxContent></w:pict></w:r></w:p></w:body>"#;
        assert!(fill(xml).contains("<w:t>A &amp; &lt;B&gt;</w:t>"));
    }

    #[test]
    fn broken_xml_is_an_error() {
        for xml in [
            "<w:body><w:p><w:r><w:t>{{标题}}</w:r></w:p></w:body>",
            "<w:body><w:p><w:r><w:t>&bogus;{{标题}}</w:t></w:r></w:p></w:body>",
            "<!DOCTYPE x [<!ENTITY a 'b'>]><w:body/>",
        ] {
            assert!(fill_part(xml, "d", true, &["{{标题}}"], &[], Some(&Values)).is_err(), "{xml}");
        }
    }

    #[test]
    fn run_properties_stay_in_schema_order() {
        let rpr = r#"<w:rPr><w:rFonts w:eastAsia="仿宋"/><w:b w:val="0"/><w:color w:val="FF0000"/><w:sz w:val="32"/><w14:ligatures w14:val="all"/><w:lang w:eastAsia="zh-CN"/></w:rPr>"#;
        assert_eq!(
            rpr_bold(rpr),
            r#"<w:rPr><w:rFonts w:eastAsia="仿宋"/><w:b/><w:bCs/><w:color w:val="FF0000"/><w:sz w:val="32"/><w:lang w:eastAsia="zh-CN"/><w14:ligatures w14:val="all"/></w:rPr>"#
        );
        assert_eq!(rpr_bold(""), "<w:rPr><w:b/><w:bCs/></w:rPr>");
        assert_eq!(rpr_bold("<w:rPr/>"), "<w:rPr><w:b/><w:bCs/></w:rPr>");
    }

    #[test]
    fn targets_resolve_against_their_part() {
        assert_eq!(resolve("", "word/document.xml"), "word/document.xml");
        assert_eq!(resolve("", "/word/document2.xml"), "word/document2.xml");
        assert_eq!(resolve("word/document.xml", "header1.xml"), "word/header1.xml");
        assert_eq!(resolve("word/document.xml", "../customXml/item1.xml"), "customXml/item1.xml");
    }

    #[test]
    fn control_characters_never_reach_the_xml() {
        assert_eq!(xml_text("马寨镇\u{b}\u{1}&<>\"\t"), "马寨镇&amp;&lt;&gt;&quot; ");
    }
}
