//! A 会议纪要 saved as PDF reads back as the paragraphs it was written in: printed by LibreOffice
//! (as a clerk's 另存为 PDF), read by `document_text` the way an upload to 从文件立项 is read.

use xietong_office::document_text;
use xietong_office::pdf::Tools;

/// An invented 纪要: indented paragraphs, long enough to wrap, numbers beside Chinese.
const MINUTES: &str = "二七区人民政府常务会议纪要
二七政阅〔2026〕99号
二七区人民政府办公室　　　　　　　　　　　　2026年12月2日
　　2026年12月2日上午，区长主持召开区政府第99次常务会议，研究冬季供暖保障、背街小巷整治、校园安全等事项。现纪要如下：
　　一、关于冬季供暖保障工作
　　会议听取了区建设和交通局关于今冬供暖准备情况的汇报。会议要求，由区建设和交通局牵头，区城管局、区市场监管局配合，于12月20日前完成辖区老旧供热管网和换热站运行隐患排查，建立问题台账，逐一整改销号。
　　二、关于背街小巷提质整治工作
　　会议要求，由区城管局牵头，区财政局配合，于12月15日前细化整治清单和资金测算，报区政府研究。（责任单位：区城管局；完成时限：12月15日前）
　　三、关于冬季校园安全工作
　　会议要求，区教育局会同区卫健委，于12月10日前完成全区中小学、幼儿园食堂食品安全和冬季传染病防控专项检查，检查情况书面报区政府。
出席：区长，常务副区长，分管城建交通副区长";

#[test]
fn a_printed_minutes_reads_back_paragraph_by_paragraph() {
    let Some(tools) = Tools::for_tests() else { return };
    let pdf = tools.to_pdf(MINUTES.as_bytes(), "txt").expect("LibreOffice prints the minutes");
    assert!(pdf.starts_with(b"%PDF"));
    let text = document_text(&pdf).expect("the PDF's text layer is read");
    let got: Vec<&str> = text.lines().collect();
    let want: Vec<&str> = MINUTES.lines().collect();
    assert_eq!(got, want, "\n{text}");
}

#[test]
fn a_pdf_without_text_is_refused_with_what_to_do() {
    let Some(tools) = Tools::for_tests() else { return };
    // A page with nothing but spaces on it: what a scan without OCR gives the reader.
    let pdf = tools.to_pdf("\u{3000}\n \n".as_bytes(), "txt").expect("LibreOffice prints a blank page");
    let e = document_text(&pdf).unwrap_err().to_string();
    assert!(e.contains("没有可读取的文字") && e.contains(".docx"), "{e}");
}
