//! The Word notice: it opens, it says what it should, and a template keeps what the administrator
//! put in it.

use std::io::{Cursor, Read, Write};

use chrono::NaiveDate;
use docx_rs::{Docx, Footer, Header, Paragraph, Pic, Run};
use proptest::prelude::*;
use xietong_office::notice::{
    LAGGARDS_HEADING, NoticeDoc, NoticeTable, check_template, default_template, notice_text, render_notice,
};

fn notice() -> NoticeDoc {
    NoticeDoc {
        title: "关于2026年10月份防汛应急工作推进情况的通报".into(),
        doc_no: "二七督通〔2026〕8号".into(),
        issuer: "二七区督查局".into(),
        date: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
        kind_label: "月度排名".into(),
        paragraphs: vec![
            "按照“五项督查机制”要求，现将排名通报如下。".into(),
            "评分规则：A & B <C>\n第二行另起一段".into(),
        ],
        tables: vec![
            NoticeTable {
                caption: "2026年10月城建交通类工作排名".into(),
                headers: vec!["名次".into(), "单位".into(), "得分".into()],
                rows: vec![
                    vec!["1".into(), "水利局".into(), "98.5".into()],
                    vec!["2".into(), "马寨镇 & <侯寨>".into(), "61.2".into()],
                ],
            },
            NoticeTable {
                caption: "".into(),
                headers: vec!["单位".into(), "逾期".into()],
                rows: vec![vec!["马寨镇".into(), "2".into()]],
            },
        ],
        laggards: vec![
            "马寨镇（主要负责人：镇长（示例））：逾期未结 2 项".into(),
            "城管局（主要负责人：局长（示例））".into(),
        ],
        annex: vec!["附：评分办法　得分 = 60 × 按期办结率 + 40 × 进度达标率 & <扣分>".into()],
    }
}

fn pack(docx: Docx) -> Vec<u8> {
    let mut buf = Cursor::new(vec![]);
    docx.build().pack(&mut buf).unwrap();
    buf.into_inner()
}

fn p(s: &str) -> Paragraph {
    Paragraph::new().add_run(Run::new().add_text(s))
}

/// docx-rs, an independent reader, opens the file; its model as JSON holds the text.
fn parsed_text(bytes: &[u8]) -> String {
    let doc = docx_rs::read_docx(bytes).expect("docx-rs reads the notice");
    serde_json::to_string(&doc.document).unwrap()
}

fn parts(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut a = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..a.len())
        .map(|i| {
            let mut f = a.by_index(i).unwrap();
            let mut v = vec![];
            f.read_to_end(&mut v).unwrap();
            (f.name().unwrap().into_owned(), v)
        })
        .collect()
}

fn part(bytes: &[u8], name: &str) -> String {
    let (_, v) = parts(bytes).into_iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no {name}"));
    String::from_utf8(v).unwrap()
}

/// A package like `bytes` with one part's text replaced.
fn with_part(bytes: &[u8], name: &str, text: &str) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(vec![]));
    for (n, v) in parts(bytes) {
        w.start_file(n.as_str(), zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(if n == name { text.as_bytes() } else { &v }).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn the_default_notice_says_everything_in_order() {
    let out = render_notice(None, &notice()).unwrap();
    let json = parsed_text(&out);
    for want in [
        "关于2026年10月份防汛应急工作推进情况的通报",
        "二七督通〔2026〕8号",
        "水利局",
        "98.5",
        "马寨镇（主要负责人",
        "2026年11月24日",
        "A & B <C>",
        "马寨镇 & <侯寨>",
    ] {
        assert!(json.contains(want), "docx-rs does not see {want}");
    }
    let text = notice_text(&out).unwrap();
    assert!(!text.contains("{{"), "no placeholder left:\n{text}");
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines,
        [
            "二七区督查局",
            "二七督通〔2026〕8号",
            "关于2026年10月份防汛应急工作推进情况的通报",
            "按照“五项督查机制”要求，现将排名通报如下。",
            "评分规则：A & B <C>",
            "第二行另起一段",
            "2026年10月城建交通类工作排名",
            "名次",
            "单位",
            "得分",
            "1",
            "水利局",
            "98.5",
            "2",
            "马寨镇 & <侯寨>",
            "61.2",
            "单位",
            "逾期",
            "马寨镇",
            "2",
            LAGGARDS_HEADING,
            "1. 马寨镇（主要负责人：镇长（示例））：逾期未结 2 项",
            "2. 城管局（主要负责人：局长（示例））",
            "附：评分办法　得分 = 60 × 按期办结率 + 40 × 进度达标率 & <扣分>",
            "二七区督查局",
            "2026年11月24日",
        ]
    );
    // The look: red letterhead, bold title, 仿宋 body indented two characters, a bordered table
    // with a bold repeated header row, page numbers in the footer.
    let xml = part(&out, "word/document.xml");
    assert!(xml.contains("<w:color w:val=\"FF0000\" />") || xml.contains("<w:color w:val=\"FF0000\"/>"), "red head");
    assert!(xml.contains("方正小标宋简体") && xml.contains("仿宋_GB2312"));
    assert!(xml.contains("w:firstLineChars=\"200\""));
    assert!(xml.contains("<w:tblBorders><w:top w:val=\"single\""));
    assert!(xml.contains("<w:tblHeader/>"));
    assert!(xml.contains("马寨镇 &amp; &lt;侯寨&gt;"), "escaped once, not twice");
    let footer = parts(&out)
        .into_iter()
        .find(|(n, _)| n.starts_with("word/footer"))
        .map(|(_, v)| String::from_utf8(v).unwrap())
        .unwrap();
    assert!(footer.contains("PAGE"), "{footer}");
    // Rendering from the downloadable template is the same as rendering with none.
    assert_eq!(notice_text(&render_notice(Some(&default_template()), &notice()).unwrap()).unwrap(), text);
    check_template(&default_template()).unwrap();
}

#[test]
fn an_empty_notice_still_opens() {
    let doc = NoticeDoc { paragraphs: vec![], tables: vec![], laggards: vec![], annex: vec![], ..notice() };
    let out = render_notice(None, &doc).unwrap();
    parsed_text(&out);
    let text = notice_text(&out).unwrap();
    assert!(!text.contains("{{") && !text.contains(LAGGARDS_HEADING), "{text}");
}

/// The method goes in one annex line after the body, before the signature, also when no unit
/// is named as lagging.
#[test]
fn the_annex_closes_the_body_without_laggards() {
    let doc = NoticeDoc { laggards: vec![], ..notice() };
    let text = notice_text(&render_notice(None, &doc).unwrap()).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    let n = lines.len();
    assert!(lines[n - 3].starts_with("附：评分办法"), "{text}");
    assert_eq!(&lines[n - 2..], ["二七区督查局", "2026年11月24日"]);
    assert!(!text.contains(LAGGARDS_HEADING));
    assert_eq!(text.matches("评分办法").count(), 1, "said once, in the annex");
}

/// The administrator's own letterhead: a logo, a page header, a footer, a closing line, and a
/// placeholder Word split over differently formatted runs.
#[test]
fn a_custom_template_keeps_everything_else_byte_for_byte() {
    const PNG: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00,
        0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D,
        0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];
    let tpl = pack(
        Docx::new()
            .header(
                Header::new().add_paragraph(p("中共郑州市二七区委督查局（版头）")).add_paragraph(p("文号：{{文号}}")),
            )
            .footer(Footer::new().add_paragraph(p("二七区督查局印发")))
            .add_paragraph(Paragraph::new().add_run(Run::new().add_image(Pic::new_with_dimensions(PNG.to_vec(), 1, 1))))
            .add_paragraph(
                Paragraph::new()
                    .add_run(Run::new().add_text("{{标"))
                    .add_run(Run::new().add_text("题}}").bold())
                    .add_run(Run::new().add_text("（").italic()),
            )
            .add_paragraph(p("{{正文}}"))
            .add_paragraph(p("{{表格}}"))
            .add_paragraph(p("{{落后单位}}"))
            .add_paragraph(p("本通报抄送：区委办")),
    );
    check_template(&tpl).unwrap();
    let out = render_notice(Some(&tpl), &notice()).unwrap();
    let text = notice_text(&out).unwrap();
    assert!(text.contains("关于2026年10月份防汛应急工作推进情况的通报（"), "{text}");
    assert!(text.contains("本通报抄送：区委办") && text.contains("水利局") && text.contains("2. 城管局"), "{text}");
    parsed_text(&out);

    let (before, after) = (parts(&tpl), parts(&out));
    assert_eq!(
        before.iter().map(|(n, _)| n).collect::<Vec<_>>(),
        after.iter().map(|(n, _)| n).collect::<Vec<_>>(),
        "same parts, same order"
    );
    for ((name, a), (_, b)) in before.iter().zip(&after) {
        match name.as_str() {
            "word/document.xml" => {}
            "word/header1.xml" => {
                let h = String::from_utf8(b.clone()).unwrap();
                assert!(
                    h.contains("中共郑州市二七区委督查局（版头）") && h.contains("文号：二七督通〔2026〕8号"),
                    "{h}"
                );
            }
            _ => assert!(a == b, "{name} changed"),
        }
    }
    assert!(after.iter().any(|(n, v)| n.starts_with("word/media/") && v == PNG), "the logo is still there");
    // In the main document, everything before the first placeholder is untouched, and the
    // drawing of the logo is still in it.
    let (a, b) = (part(&tpl, "word/document.xml"), part(&out, "word/document.xml"));
    let first = a.find("{{标").unwrap();
    let para_start = a[..first].rfind("<w:p>").or_else(|| a[..first].rfind("<w:p ")).unwrap();
    assert_eq!(a[..para_start], b[..para_start]);
    assert!(b.contains("<w:drawing>"));
    assert!(
        b.contains("<w:b />") || b.contains("<w:b/>"),
        "the bold run of the split placeholder keeps its formatting"
    );
}

/// Parts that docx-rs would never write: extension namespaces, a text box in alternate content,
/// a bookmark, a field, a section break in the placeholder paragraph.
#[test]
fn word_features_docx_rs_does_not_model_survive() {
    let base = pack(Docx::new().add_paragraph(p("x")));
    let doc = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="w14"><w:body>
<w:p w14:paraId="11111111"><w:pPr><w:jc w:val="center"/></w:pPr><w:bookmarkStart w:id="0" w:name="版头"/><w:r><w:rPr><w:color w:val="FF0000"/><w14:ligatures w14:val="standard"/></w:rPr><w:t>{{发文</w:t></w:r><w:r><w:t>单位}}</w:t></w:r><w:bookmarkEnd w:id="0"/></w:p>
<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><w:txbxContent><w:p><w:r><w:t xml:space="preserve">{{日期}} </w:t></w:r></w:p></w:txbxContent></w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>{{日期}}</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>
<w:p><w:r><w:t>{{标题}}</w:t></w:r></w:p>
<w:p><w:pPr><w:ind w:firstLineChars="200"/><w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:pPr><w:r><w:rPr><w:sz w:val="32"/></w:rPr><w:t>{{正文}}</w:t></w:r></w:p>
<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/></w:tblPr><w:tblGrid><w:gridCol w:w="4000"/></w:tblGrid><w:tr><w:tc><w:p><w:r><w:t>{{表格}}</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>
<w:p><w:r><w:t>{{落后单位}}</w:t></w:r></w:p>
<w:sectPr><w:pgSz w:w="16838" w:h="11906" w:orient="landscape"/></w:sectPr></w:body></w:document>"#;
    let tpl = with_part(&base, "word/document.xml", doc);
    check_template(&tpl).unwrap();
    let out = render_notice(Some(&tpl), &notice()).unwrap();
    let xml = part(&out, "word/document.xml");
    parsed_text(&out);
    for kept in [
        r#"<w:p w14:paraId="11111111"><w:pPr><w:jc w:val="center"/></w:pPr><w:bookmarkStart w:id="0" w:name="版头"/><w:r><w:rPr><w:color w:val="FF0000"/><w14:ligatures w14:val="standard"/></w:rPr><w:t>二七区督查局</w:t></w:r><w:r><w:t></w:t></w:r><w:bookmarkEnd w:id="0"/></w:p>"#,
        r#"<w:t xml:space="preserve">2026年11月24日 </w:t>"#,
        r#"<w:pict><w:txbxContent><w:p><w:r><w:t>2026年11月24日</w:t></w:r></w:p></w:txbxContent></w:pict>"#,
        r#"<w:instrText xml:space="preserve"> PAGE </w:instrText>"#,
        r#"<w:sectPr><w:pgSz w:w="16838" w:h="11906" w:orient="landscape"/></w:sectPr></w:body></w:document>"#,
        // The body paragraphs take the placeholder's indent and size; the last one keeps the break.
        r#"<w:p><w:pPr><w:ind w:firstLineChars="200"/></w:pPr><w:r><w:rPr><w:sz w:val="32"/></w:rPr><w:t xml:space="preserve">按照“五项督查机制”要求，现将排名通报如下。</w:t></w:r></w:p>"#,
        r#"<w:p><w:pPr><w:ind w:firstLineChars="200"/><w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:pPr></w:p>"#,
    ] {
        assert!(xml.contains(kept), "lost: {kept}\n{xml}");
    }
    assert_eq!(xml.matches("<w:sectPr>").count(), 2, "no section break copied onto every paragraph");
    // A table inside a table cell is followed by a paragraph, as a cell must end with one.
    assert!(xml.contains("</w:tbl><w:p/></w:tc>"), "{xml}");
}

#[test]
fn a_word_template_file_becomes_a_document() {
    let tpl = default_template();
    let ct = part(&tpl, "[Content_Types].xml");
    let dotx = with_part(
        &tpl,
        "[Content_Types].xml",
        &ct.replace("wordprocessingml.document.main+xml", "wordprocessingml.template.main+xml"),
    );
    let out = render_notice(Some(&dotx), &notice()).unwrap();
    assert!(part(&out, "[Content_Types].xml").contains("wordprocessingml.document.main+xml"));
    let docm = with_part(
        &tpl,
        "[Content_Types].xml",
        &ct.replace("wordprocessingml.document.main+xml", "ms-word.document.macroEnabled.main+xml"),
    );
    assert!(check_template(&docm).unwrap_err().to_string().contains("不能含宏"));
}

#[test]
fn templates_without_placeholders_or_not_docx_are_refused() {
    let e = check_template(&pack(
        Docx::new().add_paragraph(p("{{标题}}")).add_paragraph(p("{{正文}}")).add_paragraph(p("{{落后单位}}")),
    ))
    .unwrap_err()
    .to_string();
    assert_eq!(e, "模板缺少占位符 {{表格}}");
    let e = check_template(&pack(Docx::new().add_paragraph(p("{{标题}}")).add_paragraph(p("{{正文}}"))))
        .unwrap_err()
        .to_string();
    assert_eq!(e, "模板缺少占位符 {{表格}}、{{落后单位}}");
    // render refuses the same way.
    let e = render_notice(Some(&pack(Docx::new().add_paragraph(p("{{正文}}")))), &notice()).unwrap_err().to_string();
    assert!(e.starts_with("模板缺少占位符 {{标题}}、{{表格}}、{{落后单位}}"), "{e}");

    let not_docx = "模板无法读取：不是有效的 Word 文档（.docx）";
    assert_eq!(check_template(b"just text").unwrap_err().to_string(), not_docx);
    assert_eq!(check_template(b"").unwrap_err().to_string(), not_docx);
    let xlsx = xietong_office::export_table("s", None, &[xietong_office::Column::plain("a", 5.0)], &[]).unwrap();
    assert_eq!(check_template(&xlsx).unwrap_err().to_string(), not_docx, "an Excel file is a zip too");
    assert!(
        check_template(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest").unwrap_err().to_string().contains("旧版 Word（.doc）")
    );
    let broken = with_part(&default_template(), "word/document.xml", "<w:document><w:body><w:p>");
    assert!(check_template(&broken).unwrap_err().to_string().contains("内容已损坏"));

    let e = check_template(&pack(
        Docx::new()
            .add_paragraph(p("{{标题}}"))
            .add_paragraph(p("正文如下：{{正文}}"))
            .add_paragraph(p("{{表格}}"))
            .add_paragraph(p("{{落后单位}}"))
            .add_paragraph(p("{{日其}}")),
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("占位符 {{正文}} 须单独成段（该段现为「正文如下：{{正文}}」）"), "{e}");
    assert!(e.contains("模板中有无法识别的占位符 {{日其}}") && e.contains("可用的占位符："), "{e}");
    let e = check_template(&pack(
        Docx::new()
            .header(Header::new().add_paragraph(p("{{表格}}")))
            .add_paragraph(p("{{标题}}"))
            .add_paragraph(p("{{正文}}"))
            .add_paragraph(p("{{表格}}"))
            .add_paragraph(p("{{落后单位}}")),
    ))
    .unwrap_err()
    .to_string();
    assert_eq!(e, "占位符 {{表格}} 只能放在正文中，不能放在页眉页脚");
}

#[test]
fn hostile_text_is_escaped_and_the_file_still_opens() {
    let evil = "</w:t></w:r></w:p><w:p>&amp;\"'\u{b}\u{1}]]>{{标题}}";
    let doc = NoticeDoc {
        title: evil.into(),
        doc_no: evil.into(),
        issuer: "A&B<C>".into(),
        paragraphs: vec![evil.into()],
        tables: vec![NoticeTable {
            caption: evil.into(),
            headers: vec![evil.into()],
            rows: vec![vec![evil.into(), evil.into()]],
        }],
        laggards: vec![evil.into()],
        annex: vec![evil.into()],
        ..notice()
    };
    for tpl in [None, Some(default_template())] {
        let out = render_notice(tpl.as_deref(), &doc).unwrap();
        let json = parsed_text(&out);
        assert!(json.contains("A&B<C>"), "{json}");
        let text = notice_text(&out).unwrap();
        assert!(
            text.contains("</w:t></w:r></w:p><w:p>&amp;\"']]>{{标题}}"),
            "values are text, never markup, and are not filled again:\n{text}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn damaged_templates_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
        let good = default_template();
        let mut bad = good.clone();
        for (at, byte) in &flips {
            let i = at.index(bad.len());
            bad[i] = *byte;
        }
        let _ = render_notice(Some(&bad), &notice());
        let _ = check_template(&good[..cut.index(good.len())]);
    }

    #[test]
    fn any_text_renders_to_a_file_that_opens(title in "\\PC{0,40}", cell in "\\PC{0,20}") {
        let doc = NoticeDoc { title: title.clone(), tables: vec![NoticeTable { caption: String::new(), headers: vec!["单位".into()], rows: vec![vec![cell.clone()]] }], ..notice() };
        let out = render_notice(None, &doc).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(docx_rs::read_docx(&out).is_ok());
        let text = notice_text(&out).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let shown: String = title.chars().filter(|c| !c.is_control()).collect();
        prop_assert!(text.contains(shown.trim()), "{:?} not in {:?}", shown, text);
    }
}
