//! The text of a PDF with a text layer (a 会议纪要 saved as PDF), read by `pdf-extract`, put back
//! into the shape a Word file gives: one paragraph per line. A PDF knows only printed lines, so a
//! sentence that wrapped at the page's edge comes out as two lines, and a layout engine's spacing
//! between Chinese and digits ("2026 年 11 月") as spaces; both are undone here.

use crate::OfficeError;

/// A PDF's text as paragraphs. A scanned PDF (no text layer) is refused with what to do instead.
pub fn pdf_text(bytes: &[u8]) -> Result<String, OfficeError> {
    let raw = crate::guarded(|| pdf_extract::extract_text_from_mem(bytes))
        .ok_or_else(|| unreadable("文件结构无法解析"))?
        .map_err(|e| unreadable(&e.to_string()))?;
    let text = paragraphs(&raw);
    if text.chars().filter(|c| is_cjk(*c)).count() < 10 {
        return Err(OfficeError::Template(
            "这份 PDF 没有可读取的文字（可能是扫描件）：请上传 Word（.docx）原件，或复制文字粘贴到下框".into(),
        ));
    }
    Ok(text)
}

fn unreadable(why: &str) -> OfficeError {
    OfficeError::Template(format!("无法读取这份 PDF（{why}）：请另存为 Word（.docx）或复制文字粘贴到下框"))
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303f}' | '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{ff00}'..='\u{ffef}')
}

/// Drop the spaces a layout puts next to Chinese ("2026 年 11 月"): ASCII spaces between two
/// characters of which one is Chinese or Chinese punctuation. Spaces between Latin words stay, and
/// so do ideographic spaces (　), which the author typed: a paragraph's indent, a gap before a date.
fn unspaced(line: &str) -> String {
    let chars: Vec<char> = line.trim_matches(|c: char| c.is_ascii_whitespace()).chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_whitespace() {
            let mut j = i;
            while j < chars.len() && chars[j].is_ascii_whitespace() {
                j += 1;
            }
            let before = out.chars().last();
            if before.is_some_and(|b| !is_cjk(b)) && chars.get(j).is_some_and(|a| !is_cjk(*a)) {
                out.push(' ');
            }
            i = j;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Whether a printed line opens a paragraph by its look: indented (首行缩进, as official
/// documents are set), or numbered (一、 （二） 3. （4） 第五条).
fn opens_paragraph(line: &str) -> bool {
    if line.starts_with(char::is_whitespace) {
        return true;
    }
    let numeral = |c: char| c.is_ascii_digit() || "一二三四五六七八九十".contains(c);
    // The numeral and the character after it.
    let after_numeral = |s: &str| {
        let n = s.chars().take_while(|c| numeral(*c)).count();
        s.chars().nth(n).filter(|_| n > 0)
    };
    if let Some(body) = line.strip_prefix(['（', '(']) {
        return after_numeral(body).is_some_and(|c| c == '）' || c == ')');
    }
    if let Some(body) = line.strip_prefix('第') {
        return after_numeral(body).is_some_and(|c| "条项章".contains(c));
    }
    after_numeral(line).is_some_and(|c| "、．.".contains(c))
}

/// Printed lines back into paragraphs. A line runs on into the next unless it is clearly shorter
/// than a full line (a title, a signature, the last line of a paragraph), a blank line or a page
/// break follows, or the next line opens a paragraph by its look (indented or numbered).
pub fn paragraphs(raw: &str) -> String {
    let lines: Vec<String> = raw.split(['\n', '\u{c}']).map(unspaced).collect();
    let width = |l: &str| l.trim().chars().map(|c| if is_cjk(c) { 2 } else { 1 }).sum::<usize>();
    // The width of a full line: the widest lines of the document, allowing for a few that are
    // wider (a URL, a table row).
    let mut widths: Vec<usize> = lines.iter().map(|l| width(l)).filter(|w| *w > 0).collect();
    widths.sort_unstable();
    let full = widths.get(widths.len().saturating_sub(1 + widths.len() / 10)).copied().unwrap_or(0);
    let mut out: Vec<String> = vec![];
    let mut open = false;
    for line in lines {
        if line.trim().is_empty() {
            open = false;
            continue;
        }
        match out.last_mut() {
            Some(last) if open && !opens_paragraph(&line) => last.push_str(&line),
            _ => out.push(line.clone()),
        }
        open = width(&line) * 10 >= full * 9;
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wrapped_lines_join_and_layout_spaces_go() {
        // As pdf-extract reads a 纪要 LibreOffice printed: the indent kept, a line full to the edge
        // running on (even after 。 or ：), blank lines only sometimes between paragraphs.
        let raw = "二七区人民政府常务会议纪要\n二七政阅〔2026〕12 号\n\n\
                   二七区人民政府办公室\u{3000}\u{3000}\u{3000}2026 年 11 月 18 日\n\
                   \u{3000}\u{3000}一、关于今冬明春供暖保障工作\n\
                   \u{3000}\u{3000}会议听取了区建设和交通局关于今冬供暖准备情况的汇报。会议要求，由区建设和交通局牵\n\
                   头，区城管局、区市场监管局配合，于 11 月 30 日前完成辖区老旧供热管网和换热站运行隐患排查，建立问题\n\
                   台账，逐一整改销号。（责任单位：区建设和交通局；完成时限：11 月 30 日前。会议要求各单位：\n\
                   抓紧落实）\n\
                   \u{3000}\u{3000}二、关于背街小巷提质整治工作\n\
                   3. 河道行洪障碍清理。\n（四）其他\n第五条 附则\n";
        let p = paragraphs(raw);
        let lines: Vec<&str> = p.lines().collect();
        assert_eq!(lines[0], "二七区人民政府常务会议纪要");
        assert_eq!(lines[1], "二七政阅〔2026〕12号");
        assert_eq!(lines[2], "二七区人民政府办公室\u{3000}\u{3000}\u{3000}2026年11月18日");
        assert_eq!(lines[3], "\u{3000}\u{3000}一、关于今冬明春供暖保障工作");
        assert!(lines[4].starts_with("\u{3000}\u{3000}会议听取了") && lines[4].ends_with("抓紧落实）"), "{}", lines[4]);
        assert!(
            lines[4].contains("由区建设和交通局牵头，区城管局、区市场监管局配合，于11月30日前完成"),
            "{}",
            lines[4]
        );
        assert_eq!(lines[5], "\u{3000}\u{3000}二、关于背街小巷提质整治工作");
        assert_eq!(lines[6..], ["3.河道行洪障碍清理。", "（四）其他", "第五条附则"]);
        assert_eq!(unspaced("Word  文件 and PDF"), "Word文件and PDF");
    }

    #[test]
    fn not_a_pdf_is_refused_in_chinese() {
        let e = pdf_text(b"%PDF-1.4 nothing else").unwrap_err().to_string();
        assert!(e.contains("无法读取这份 PDF"), "{e}");
    }

    proptest! {
        /// Whatever the lines: no character is lost or added except whitespace, and no line of
        /// the result is empty.
        #[test]
        fn only_whitespace_changes(lines in proptest::collection::vec("[一二三四、，。；a-z0-9 ]{0,30}", 0..30)) {
            let raw = lines.join("\n");
            let p = paragraphs(&raw);
            let strip = |s: &str| s.chars().filter(|c| !c.is_ascii_whitespace()).collect::<String>();
            prop_assert_eq!(strip(&p), strip(&raw));
            prop_assert!(p.lines().all(|l| !l.is_empty()));
        }
    }
}
