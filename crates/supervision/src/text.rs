//! The one constructor every text passes before it is stored or compared.
//!
//! Stored text is NFC and free of characters that are invisible or change how the text around
//! them is shown: control characters (NUL makes PostgreSQL refuse the whole statement), bidi
//! overrides and isolates (a title that reads differently from what it holds), zero-width
//! characters (two 文号 that look the same but are not). What happens to each depends on the
//! kind of field:
//!
//! | | single line (names, titles, numbers) | multi-line (descriptions, comments) |
//! |---|---|---|
//! | whitespace and zero-width characters at the ends | stripped | stripped |
//! | zero-width characters inside | refused | removed (pasted web text carries them) |
//! | line breaks (CR, LF, CRLF, U+2028/2029, NEL) | refused | kept as LF |
//! | tab | refused | kept |
//! | other control and format characters (bidi, NUL, C1, soft hyphen, tags), noncharacters | refused | refused |
//!
//! Identifiers that must be unique although people type them differently (文号, 统一社会信用代码)
//! are compared by [`identifier_key`] / [`doc_no_key`]: NFKC (full-width ７ is 7), without
//! whitespace or invisible characters, case-folded.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::validate::FieldError;

/// Whether a field may span lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lines {
    Single,
    Multi,
}

/// Characters with no width and no meaning in this system's text: U+200B–200D, U+2060, BOM, U+180E.
pub fn is_zero_width(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{180E}')
}

/// Bidi embeddings, overrides, isolates and marks: U+202A–202E, U+2066–2069, U+200E/200F, U+061C.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

fn is_noncharacter(c: char) -> bool {
    matches!(c as u32, 0xFDD0..=0xFDEF) || (c as u32 & 0xFFFE) == 0xFFFE
}

/// Refused wherever it appears (after line breaks and tabs of multi-line text are taken out).
/// Format (Cf) covers the bidi and zero-width lists and the rest of their kind (soft hyphen,
/// invisible operators, tags); private-use characters stay allowed, some 生僻字 live there.
pub fn is_refused(c: char) -> bool {
    c.is_control()
        || is_bidi_control(c)
        || is_zero_width(c)
        || is_noncharacter(c)
        || matches!(
            c.general_category(),
            GeneralCategory::Format | GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator
        )
}

fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// The message for a refused character, naming its code point (invisible characters cannot be pointed at otherwise).
pub fn refused_message(c: char) -> String {
    format!("含不可见或控制字符（U+{:04X}），请删除后重试", c as u32)
}

/// Clean `value` for `field` (see the table above). Length limits are the caller's.
pub fn clean(field: &str, value: &str, lines: Lines) -> Result<String, FieldError> {
    let trimmed = value.trim_matches(|c: char| c.is_whitespace() || is_zero_width(c));
    let mut s = String::with_capacity(trimmed.len());
    let mut chars = trimmed.chars().peekable();
    while let Some(c) = chars.next() {
        match lines {
            Lines::Single if is_line_break(c) => return Err(FieldError::new(field, "不能包含换行，请写在一行内")),
            Lines::Multi if c == '\r' && chars.peek() == Some(&'\n') => {}
            Lines::Multi if is_line_break(c) => s.push('\n'),
            Lines::Multi if c == '\t' => s.push('\t'),
            Lines::Multi if is_zero_width(c) => {}
            _ if is_refused(c) => return Err(FieldError::new(field, refused_message(c))),
            _ => s.push(c),
        }
    }
    Ok(s.nfc().collect())
}

/// [`clean`] for a name, title, code or number typed on one line.
pub fn single_line(field: &str, value: &str) -> Result<String, FieldError> {
    clean(field, value, Lines::Single)
}

/// [`clean`] for a description, comment or minutes: line breaks and tabs kept.
pub fn multi_line(field: &str, value: &str) -> Result<String, FieldError> {
    clean(field, value, Lines::Multi)
}

/// The comparison form of an identifier: NFKC, case-folded, without whitespace or any character
/// [`is_refused`] names, so "RT唯一〔2026〕７号", "RT唯一〔2026〕7号\u{200B}" and "rt唯一〔2026〕 7号"
/// give one key.
pub fn identifier_key(value: &str) -> String {
    let step = |s: &str| -> String {
        let kept: String = s.chars().filter(|c| !c.is_whitespace() && !is_refused(*c)).collect();
        let folded: String = kept.nfkc().collect::<String>().to_lowercase();
        folded.nfkc().filter(|c| !c.is_whitespace() && !is_refused(*c)).collect()
    };
    // Removing a character can bring a base and a combining mark together, which NFKC then
    // composes; a few rounds reach the fixed point, so the key of a key is itself.
    let mut key = step(value);
    for _ in 0..4 {
        let next = step(&key);
        if next == key {
            break;
        }
        key = next;
    }
    key
}

/// The comparison form of a 文号: [`identifier_key`] with the year brackets people type instead
/// of 〔〕 (GB/T 9704) — [] 【】 〖〗 () — taken as 〔〕.
pub fn doc_no_key(value: &str) -> String {
    identifier_key(value)
        .chars()
        .map(|c| match c {
            '[' | '【' | '〖' | '(' => '〔',
            ']' | '】' | '〗' | ')' => '〕',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use unicode_normalization::is_nfc;

    const LOOK_ALIKES: [&str; 8] = [
        "RT唯一〔2026〕7号",
        "RT唯一〔2026〕7号\u{200B}",
        "RT唯一〔2026〕\u{2060}7号",
        "\u{FEFF}RT唯一〔2026〕7号",
        "RT唯一〔2026〕７号",
        "ＲＴ唯一〔２０２６〕７号",
        "rt唯一〔2026〕 7号",
        "RT唯一[2026]7号",
    ];

    #[test]
    fn look_alike_doc_nos_share_one_key() {
        let key = doc_no_key(LOOK_ALIKES[0]);
        for v in LOOK_ALIKES {
            assert_eq!(doc_no_key(v), key, "{v:?}");
        }
        assert_ne!(doc_no_key("RT唯一〔2026〕8号"), key);
        assert_ne!(doc_no_key("RT唯一〔2025〕7号"), key);
    }

    #[test]
    fn messages_name_the_field_and_the_code_point() {
        let e = single_line("标题", "正常\u{202E}txt.exe").unwrap_err();
        assert_eq!(e.to_string(), "字段「标题」含不可见或控制字符（U+202E），请删除后重试");
        let e = single_line("关键词", "a\u{0}b").unwrap_err();
        assert_eq!(e.to_string(), "字段「关键词」含不可见或控制字符（U+0000），请删除后重试");
        assert_eq!(single_line("单位名称", "一\n二").unwrap_err().message, "不能包含换行，请写在一行内");
        assert!(single_line("文号", "RT\u{200B}7号").unwrap_err().message.contains("U+200B"));
        assert!(multi_line("说明", "一\u{2067}二").unwrap_err().message.contains("U+2067"));
        assert!(multi_line("说明", "一\u{7}二").unwrap_err().message.contains("U+0007"));
    }

    #[test]
    fn ends_are_stripped_and_multi_line_keeps_its_lines() {
        assert_eq!(single_line("名称", "\u{FEFF} 二七区 \u{200B}").unwrap(), "二七区");
        assert_eq!(multi_line("说明", "一\r\n二\r三\u{2028}四\t五\u{200B}六").unwrap(), "一\n二\n三\n四\t五六");
        // Decomposed é becomes the composed one.
        assert_eq!(single_line("名称", "Cafe\u{301}").unwrap(), "Caf\u{E9}");
        // Private-use characters (some 生僻字) are kept.
        assert_eq!(single_line("姓名", "王\u{E000}").unwrap(), "王\u{E000}");
    }

    fn any_text() -> impl Strategy<Value = String> {
        // Mostly the characters that matter here, plus anything at all.
        let interesting = prop_oneof![
            Just('\u{0}'),
            Just('\t'),
            Just('\n'),
            Just('\r'),
            Just('\u{85}'),
            Just('\u{2028}'),
            Just('\u{202E}'),
            Just('\u{2066}'),
            Just('\u{200B}'),
            Just('\u{200D}'),
            Just('\u{FEFF}'),
            Just('\u{180E}'),
            Just('\u{AD}'),
            Just('\u{301}'),
            Just('\u{3000}'),
            Just(' '),
            Just('e'),
            Just('７'),
            Just('号'),
            Just('〔'),
            any::<char>(),
        ];
        proptest::collection::vec(interesting, 0..24).prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #[test]
        fn clean_text_is_nfc_has_nothing_refused_and_is_stable(s in any_text(), multi in any::<bool>()) {
            let lines = if multi { Lines::Multi } else { Lines::Single };
            if let Ok(t) = clean("字段", &s, lines) {
                prop_assert!(is_nfc(&t));
                for c in t.chars() {
                    let allowed = multi && (c == '\n' || c == '\t');
                    prop_assert!(allowed || !is_refused(c), "{:?} kept in {:?}", c, t);
                }
                prop_assert!(!t.starts_with(char::is_whitespace) && !t.ends_with(char::is_whitespace));
                prop_assert_eq!(clean("字段", &t, lines), Ok(t.clone()));
            }
        }

        #[test]
        fn single_line_refusals_name_the_field(s in any_text()) {
            if let Err(e) = single_line("任务名称", &s) {
                prop_assert_eq!(e.field, "任务名称");
            }
        }

        #[test]
        fn identifier_keys_are_stable_and_blind_to_invisible_characters(
            s in any_text(),
            at in any::<proptest::sample::Index>(),
            junk in prop_oneof![Just('\u{200B}'), Just('\u{2060}'), Just('\u{FEFF}'), Just('\u{202E}'), Just(' ')],
        ) {
            let key = identifier_key(&s);
            prop_assert_eq!(identifier_key(&key), key.clone());
            prop_assert!(key.chars().all(|c| !c.is_whitespace() && !is_refused(c)));
            // An invisible character inserted between two ASCII letters changes nothing.
            let plain: String = s.chars().filter(char::is_ascii_alphanumeric).collect();
            let mut with: Vec<char> = plain.chars().collect();
            with.insert(at.index(with.len() + 1), junk);
            prop_assert_eq!(identifier_key(&with.into_iter().collect::<String>()), identifier_key(&plain));
        }

        #[test]
        fn full_width_digits_and_letters_are_their_ascii_selves(s in "[0-9A-Za-z]{1,20}") {
            let wide: String = s.chars().map(|c| char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap()).collect();
            prop_assert_eq!(identifier_key(&wide), s.to_lowercase());
            prop_assert_eq!(doc_no_key(&format!("区政〔2026〕{wide}号")), doc_no_key(&format!("区政[2026]{s}号")));
        }
    }
}
