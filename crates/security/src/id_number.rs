//! 公民身份号码 (GB 11643-1999): 6-digit region, 8-digit birth date, 3-digit sequence and an
//! ISO 7064 MOD 11-2 check character. Checked before it is encrypted, so a typo is caught while the
//! clerk can still fix it.

use chrono::NaiveDate;
use xietong_supervision::FieldError;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The check character for the first 17 digits.
pub fn check_char(first17: &[u32; 17]) -> char {
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    CHECK[(sum % 11) as usize]
}

/// A valid 18-character ID number, upper-cased (`x` → `X`); the error names `field`.
pub fn check_id_number(field: &str, v: &str) -> Result<String, FieldError> {
    let v = v.trim().to_uppercase();
    let chars: Vec<char> = v.chars().collect();
    if chars.len() != 18 {
        return Err(FieldError::new(field, format!("应为 18 位（当前 {} 位）", chars.len())));
    }
    let mut digits = [0u32; 17];
    for (i, c) in chars[..17].iter().enumerate() {
        digits[i] = c.to_digit(10).ok_or_else(|| FieldError::new(field, format!("第 {} 位应为数字", i + 1)))?;
    }
    let birth: String = chars[6..14].iter().collect();
    let born = NaiveDate::parse_from_str(&birth, "%Y%m%d")
        .map_err(|_| FieldError::new(field, format!("出生日期「{birth}」无效")))?;
    if born < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default() {
        return Err(FieldError::new(field, format!("出生日期「{birth}」无效")));
    }
    let want = check_char(&digits);
    if chars[17] != want {
        return Err(FieldError::new(field, "校验位不符，请核对号码".to_string()));
    }
    Ok(v)
}

/// The birth date a number carries (characters 7–14); `None` unless it is a date.
pub fn birth_date(id: &str) -> Option<NaiveDate> {
    let digits: String = id.trim().chars().skip(6).take(8).collect();
    NaiveDate::parse_from_str(&digits, "%Y%m%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn make(region: u32, y: i32, m: u32, d: u32, seq: u32) -> String {
        let s = format!("{region:06}{y:04}{m:02}{d:02}{seq:03}");
        let digits: Vec<u32> = s.chars().map(|c| c.to_digit(10).unwrap()).collect();
        format!("{s}{}", check_char(&digits.try_into().unwrap()))
    }

    #[test]
    fn the_standards_example_passes_and_a_typo_does_not() {
        // The example of GB 11643-1999 appendix: 11010519491231002X.
        assert_eq!(check_id_number("身份证号", "11010519491231002x").unwrap(), "11010519491231002X");
        assert_eq!(birth_date("11010519491231002X"), NaiveDate::from_ymd_opt(1949, 12, 31));
        let e = check_id_number("身份证号", "110105194912310021").unwrap_err();
        assert_eq!(e.field, "身份证号");
        assert!(e.message.contains("校验位"));
        assert!(check_id_number("身份证号", "11010519491331002X").unwrap_err().message.contains("出生日期"));
        assert!(check_id_number("身份证号", "1101051949").unwrap_err().message.contains("18 位"));
        assert!(check_id_number("身份证号", "11010A19491231002X").unwrap_err().message.contains("第 6 位"));
    }

    proptest! {
        #[test]
        fn made_numbers_pass_and_any_changed_digit_fails(region in 110000u32..660000, y in 1930i32..2010, m in 1u32..13, d in 1u32..29, seq in 0u32..1000, pos in 0usize..17, bump in 1u32..10) {
            let id = make(region, y, m, d, seq);
            prop_assert_eq!(check_id_number("身份证号", &id).unwrap(), id.clone());
            let mut c: Vec<char> = id.chars().collect();
            c[pos] = char::from_digit((c[pos].to_digit(10).unwrap() + bump) % 10, 10).unwrap();
            let changed: String = c.into_iter().collect();
            // A single changed digit always breaks MOD 11-2 (or the birth date).
            prop_assert!(check_id_number("身份证号", &changed).is_err());
        }
    }
}
