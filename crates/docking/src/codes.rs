//! Identifiers a clerk types in and gets wrong: the 18-character 统一社会信用代码 and patent numbers.
//! Both carry check characters, so a single mistyped character is caught before it is stored.

use xietong_supervision::FieldError;
use xietong_supervision::text::identifier_key;

/// The 31 characters of GB 32100-2015 (no I, O, S, V, Z), in value order.
const CREDIT_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of positions 1–17 (3^(i-1) mod 31).
const CREDIT_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

fn credit_value(c: char) -> Option<u32> {
    CREDIT_CHARS.find(c).map(|i| i as u32)
}

/// The check character for the first 17 characters of a credit code.
pub fn credit_check_char(first17: &str) -> Option<char> {
    let vals: Vec<u32> = first17.chars().map(credit_value).collect::<Option<_>>()?;
    if vals.len() != 17 {
        return None;
    }
    let sum: u32 = vals.iter().zip(CREDIT_WEIGHTS).map(|(v, w)| v * w).sum();
    let c = (31 - sum % 31) % 31;
    CREDIT_CHARS.chars().nth(c as usize)
}

/// Validate a 统一社会信用代码: 18 characters of the standard's set, a six-digit administrative
/// division code in positions 3–8, and the check character. Compared and stored in its
/// [`identifier_key`] form upper-cased (full-width characters as ASCII, no spaces or invisible
/// characters), so a look-alike is the same code and meets the unique constraint.
pub fn credit_code(value: &str) -> Result<String, FieldError> {
    let field = "统一社会信用代码";
    let v: String = identifier_key(value).to_uppercase();
    let n = v.chars().count();
    if n != 18 {
        return Err(FieldError::new(field, format!("应为 18 位（当前 {n} 位）")));
    }
    if let Some((i, c)) = v.chars().enumerate().find(|(_, c)| credit_value(*c).is_none()) {
        return Err(FieldError::new(field, format!("第 {} 位「{c}」不是允许的字符（不含 I、O、S、V、Z）", i + 1)));
    }
    if !v.chars().skip(2).take(6).all(|c| c.is_ascii_digit()) {
        return Err(FieldError::new(field, "第 3–8 位应为行政区划代码（6 位数字）"));
    }
    let (body, check) = v.split_at(17);
    let want = credit_check_char(body).ok_or_else(|| FieldError::new(field, "格式无效"))?;
    if !check.starts_with(want) {
        return Err(FieldError::new(
            field,
            format!("校验位错误：按 GB 32100 计算应为「{want}」，请核对是否有输错的字符"),
        ));
    }
    Ok(v)
}

/// A Chinese patent number, normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PatentNumber {
    /// 申请号 / 专利号, e.g. "ZL202110123456.7" or "202110123456.7" (check digit verified).
    Application { number: String, kind: &'static str },
    /// 公开（公告）号, e.g. "CN112345678A".
    Publication(String),
}

impl PatentNumber {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Application { number, .. } => number,
            Self::Publication(p) => p,
        }
    }
}

fn application_check(digits: &str) -> Option<char> {
    const W: [u32; 12] = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5];
    let sum: u32 = digits.chars().zip(W.iter()).map(|(c, w)| c.to_digit(10).map(|d| d * w)).sum::<Option<u32>>()?;
    Some(match sum % 11 {
        10 => 'X',
        r => char::from_digit(r, 10)?,
    })
}

/// The check digit of a CN application number given without it (8 or 12 digits).
pub fn patent_check_digit(digits: &str) -> Option<char> {
    if (digits.len() == 8 || digits.len() == 12) && digits.chars().all(|c| c.is_ascii_digit()) {
        application_check(digits)
    } else {
        None
    }
}

/// Validate a patent number: an application number (8 or 12 digits, a dot, the check digit; an
/// optional "ZL" or "CN" prefix) or a publication number ("CN", 7–9 digits, a kind code).
pub fn patent_number(value: &str) -> Result<PatentNumber, FieldError> {
    let field = "专利号";
    let v: String = identifier_key(value).to_uppercase();
    if v.is_empty() {
        return Err(FieldError::new(field, "不能为空"));
    }
    let bare = v.trim_start_matches("ZL").trim_start_matches("CN");
    if let Some((digits, check)) = bare.split_once('.') {
        if !(digits.len() == 8 || digits.len() == 12) || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(FieldError::new(
                field,
                "申请号应为 8 位或 12 位数字，加小数点和 1 位校验位，如 ZL202110123456.7",
            ));
        }
        let want = application_check(digits).ok_or_else(|| FieldError::new(field, "格式无效"))?;
        if check.len() != 1 || !check.starts_with(want) {
            return Err(FieldError::new(field, format!("校验位错误：申请号 {digits} 的校验位应为「{want}」")));
        }
        let kind = match digits.len() {
            12 => match &digits[4..5] {
                "1" | "8" => "发明",
                "2" | "9" => "实用新型",
                "3" => "外观设计",
                _ => {
                    return Err(FieldError::new(
                        field,
                        format!("第 5 位专利类型「{}」无效（1 发明、2 实用新型、3 外观设计、8/9 PCT）", &digits[4..5]),
                    ));
                }
            },
            _ => match &digits[2..3] {
                "1" | "8" => "发明",
                "2" | "9" => "实用新型",
                "3" => "外观设计",
                _ => return Err(FieldError::new(field, "第 3 位专利类型无效")),
            },
        };
        return Ok(PatentNumber::Application { number: format!("ZL{digits}.{check}"), kind });
    }
    if let Some(rest) = v.strip_prefix("CN") {
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        let kind = &rest[digits.len()..];
        let kinds = ["A", "B", "C", "U", "Y", "S", "A1", "B1", "C1", "U1", "S1", "Y1"];
        if (7..=9).contains(&digits.len()) && kinds.contains(&kind) {
            return Ok(PatentNumber::Publication(v));
        }
    }
    Err(FieldError::new(field, "格式无效：应为申请号（如 ZL202110123456.7）或公开号（如 CN112345678A）"))
}
