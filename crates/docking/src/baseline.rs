//! 上报数 beside 在库数. A district reports figures (end-2020: 101 国家高新技术企业, 339 科技型中小企业 …)
//! long before every record behind them is in the system. The reported figure is kept as what it
//! is — a baseline with its source — and shown beside the count of records actually held, with the
//! difference said in words, the way an indicator's 上报完成率 is checked against its numbers
//! (数出有据). No record is ever invented to make the two agree.

use chrono::NaiveDate;
use serde::Serialize;
use xietong_supervision::FieldError;
use xietong_supervision::indicators::{MAX_FIGURE, fmt_num};
use xietong_supervision::validate::{optional_multiline, required_text};

/// How a figure relates to time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Span {
    /// A count on a day (enterprises holding a certificate, platforms): compared with the records
    /// held now.
    Stock,
    /// An amount over a year (contract turnover): compared with the records of that year.
    Year,
}

/// One figure of the 科技统计 page that can carry a reported baseline.
#[derive(Clone, Copy, Debug, Serialize, utoipa::ToSchema)]
pub struct BaselineFigure {
    /// Stable key, stored with the baseline.
    pub key: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    pub span: Span,
}

impl BaselineFigure {
    /// Counts of records are whole numbers; amounts in 万元 are not.
    pub fn whole(&self) -> bool {
        self.span == Span::Stock
    }

    /// 「截至 2020-12-31」 for a count, 「2020 年」 for a year's amount.
    pub fn period_zh(&self, as_of: NaiveDate) -> String {
        match self.span {
            Span::Stock => format!("截至 {as_of}"),
            Span::Year => format!("{} 年", as_of.format("%Y")),
        }
    }
}

/// Every figure that may carry a baseline, in the page's order.
pub const FIGURES: [BaselineFigure; 7] = [
    BaselineFigure { key: "high_tech_enterprises", label: "国家高新技术企业", unit: "家", span: Span::Stock },
    BaselineFigure { key: "tech_smes", label: "科技型中小企业", unit: "家", span: Span::Stock },
    BaselineFigure { key: "carriers", label: "创新创业载体", unit: "个", span: Span::Stock },
    BaselineFigure {
        key: "rd_platforms_provincial", label: "省级以上研发平台", unit: "个", span: Span::Stock
    },
    BaselineFigure { key: "rd_platforms_city", label: "市级研发平台", unit: "个", span: Span::Stock },
    BaselineFigure { key: "contract_amount", label: "技术合同成交额", unit: "万元", span: Span::Year },
    BaselineFigure { key: "technical_income", label: "其中技术性收入", unit: "万元", span: Span::Year },
];

/// The figure of `key`, if there is one.
pub fn figure(key: &str) -> Option<&'static BaselineFigure> {
    FIGURES.iter().find(|f| f.key == key)
}

/// A reported figure as checked for storing.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedBaseline {
    pub value: f64,
    pub as_of: NaiveDate,
    pub source: String,
    pub source_date: Option<NaiveDate>,
    pub note: String,
}

fn date(field: &str, text: &str) -> Result<Option<NaiveDate>, FieldError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| FieldError::new(field, format!("「{}」不是有效日期（格式如 2020-12-31）", short(t))))
}

fn short(t: &str) -> String {
    t.chars().take(40).collect()
}

/// Check a baseline as typed: 上报数 a finite number ≥ 0 (whole for counts), 统计截至 and 文件日期
/// real dates not after `today` (a document is not dated before the day it counts up to), and a
/// named 来源文件. Each refusal names its field.
pub fn check(
    f: &BaselineFigure,
    value: f64,
    as_of: &str,
    source: &str,
    source_date: &str,
    note: &str,
    today: NaiveDate,
) -> Result<CheckedBaseline, FieldError> {
    let field = "上报数";
    if !value.is_finite() {
        return Err(FieldError::new(field, "不是有效的数字"));
    }
    if value < 0.0 {
        return Err(FieldError::new(field, format!("不能为负数（当前 {}）", fmt_num(value))));
    }
    if value > MAX_FIGURE {
        return Err(FieldError::new(field, format!("超出合理范围（不超过 {}）", fmt_num(MAX_FIGURE))));
    }
    if f.whole() && value.fract() != 0.0 {
        return Err(FieldError::new(field, format!("{}的数量应为整数（当前 {}）", f.label, fmt_num(value))));
    }
    let as_of = date("统计截至", as_of)?.ok_or_else(|| FieldError::new("统计截至", "不能为空"))?;
    if as_of > today {
        return Err(FieldError::new("统计截至", format!("{as_of} 晚于今天，上报数只能是已统计的数")));
    }
    if source.trim().is_empty() {
        return Err(FieldError::new("来源文件", "不能为空：请写明上报该数字的文件名称"));
    }
    let source = required_text("来源文件", source, 200)?;
    let source_date = date("文件日期", source_date)?;
    if let Some(d) = source_date {
        if d > today {
            return Err(FieldError::new("文件日期", format!("{d} 晚于今天")));
        }
        if d < as_of {
            return Err(FieldError::new("文件日期", format!("{d} 早于统计截至日 {as_of}")));
        }
    }
    let note = optional_multiline("备注", note, 500)?.unwrap_or_default();
    Ok(CheckedBaseline { value, as_of, source, source_date, note })
}

/// 上报数 against 在库数, in hundredths so a message never contradicts the shown numbers.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Comparison {
    /// 上报数 − 在库数: positive when records are still to be entered.
    pub gap: f64,
    /// The two differ.
    pub flagged: bool,
    /// 「在库 12 家，上报 101 家（截至 2020-12-31），差 89 家待补录」
    pub message_zh: String,
}

fn hundredths(x: f64) -> i64 {
    (x * 100.0).round() as i64
}

/// Compare a reported figure with the records held for the same scope (now for a count, the
/// reported year for an amount).
pub fn compare(f: &BaselineFigure, reported: f64, in_system: f64, as_of: NaiveDate) -> Comparison {
    let (r, h) = (hundredths(reported), hundredths(in_system));
    let gap = (r - h) as f64 / 100.0;
    let u = f.unit;
    let period = f.period_zh(as_of);
    let (held, rep) = (fmt_num(h as f64 / 100.0), fmt_num(r as f64 / 100.0));
    // A year's amount names its year first: 在库 is then the records of that year.
    let (held_zh, rep_zh) = match f.span {
        Span::Stock => (format!("在库 {held} {u}"), format!("上报 {rep} {u}（{period}）")),
        Span::Year => (format!("{period}在库 {held} {u}"), format!("上报 {rep} {u}")),
    };
    let message_zh = match r.cmp(&h) {
        std::cmp::Ordering::Greater => format!("{held_zh}，{rep_zh}，差 {} {u}待补录", fmt_num(gap)),
        std::cmp::Ordering::Less => format!("{held_zh}，{rep_zh}，在库比上报多 {} {u}", fmt_num(-gap)),
        std::cmp::Ordering::Equal => format!("{held_zh}，{rep_zh}，一致"),
    };
    Comparison { gap, flagged: r != h, message_zh }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_gap_is_said_in_words_with_the_period() {
        let ht = figure("high_tech_enterprises").unwrap();
        let c = compare(ht, 101.0, 12.0, d("2020-12-31"));
        assert_eq!(c.message_zh, "在库 12 家，上报 101 家（截至 2020-12-31），差 89 家待补录");
        assert_eq!((c.gap, c.flagged), (89.0, true));
        let c = compare(ht, 101.0, 101.0, d("2020-12-31"));
        assert!(!c.flagged && c.message_zh.ends_with("一致"), "{}", c.message_zh);
        let c = compare(ht, 101.0, 120.0, d("2020-12-31"));
        assert!(c.flagged && c.message_zh.ends_with("在库比上报多 19 家"), "{}", c.message_zh);
        let amount = figure("contract_amount").unwrap();
        let c = compare(amount, 70000.0, 120.5, d("2020-12-31"));
        assert_eq!(c.message_zh, "2020 年在库 120.5 万元，上报 70000 万元，差 69879.5 万元待补录");
    }

    #[test]
    fn bad_input_is_refused_naming_the_field() {
        let ht = figure("high_tech_enterprises").unwrap();
        let today = d("2026-11-23");
        let ok = |v: f64, as_of: &str, src: &str, sd: &str| check(ht, v, as_of, src, sd, "", today);
        let field = |r: Result<CheckedBaseline, FieldError>| r.unwrap_err().field;
        assert_eq!(field(ok(-1.0, "2020-12-31", "报告", "")), "上报数");
        assert_eq!(field(ok(f64::NAN, "2020-12-31", "报告", "")), "上报数");
        assert_eq!(field(ok(1.5, "2020-12-31", "报告", "")), "上报数", "a count is whole");
        assert_eq!(field(ok(1e13, "2020-12-31", "报告", "")), "上报数");
        assert_eq!(field(ok(101.0, "", "报告", "")), "统计截至");
        assert_eq!(field(ok(101.0, "2020-13-01", "报告", "")), "统计截至");
        assert_eq!(field(ok(101.0, "2027-01-01", "报告", "")), "统计截至");
        assert_eq!(field(ok(101.0, "2020-12-31", "  ", "")), "来源文件");
        assert_eq!(field(ok(101.0, "2020-12-31", "报告", "昨天")), "文件日期");
        assert_eq!(field(ok(101.0, "2020-12-31", "报告", "2020-06-30")), "文件日期");
        let c = ok(101.0, " 2020-12-31 ", " 二七区报告 ", "").unwrap();
        assert_eq!((c.as_of, c.source.as_str(), c.source_date), (d("2020-12-31"), "二七区报告", None));
        let amount = figure("contract_amount").unwrap();
        assert_eq!(check(amount, 70000.5, "2020-12-31", "报告", "2021-01-20", "", today).unwrap().value, 70000.5);
    }
}
