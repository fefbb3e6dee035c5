//! How a match is scored and explained, beyond the text search: the structured signals a 科技局
//! officer would weigh — discipline against the enterprise's industry, shared keywords, the
//! achievement's maturity against the wanted cooperation mode, and location. The text relevance
//! comes from the search index (jieba + tantivy); this module only combines and explains.

use serde::{Deserialize, Serialize};

/// 成熟度, from least to most mature.
pub const MATURITIES: [&str; 4] = ["实验室", "小试", "中试", "产业化"];
/// 转化方式 / 合作方式.
pub const COOPERATION_MODES: [&str; 5] = ["转让", "许可", "作价入股", "合作开发", "技术咨询"];

/// Disciplines (学科, as in the CSL data and 学位授予学科目录) and the GB/T 4754-2017 大类 (two-digit
/// codes) whose enterprises typically use them. A discipline matches when its name contains the key.
const DISCIPLINE_INDUSTRIES: &[(&str, &[&str])] = &[
    ("食品", &["13", "14", "15"]),
    ("园艺", &["01", "05", "13"]),
    ("作物", &["01", "05"]),
    ("农业", &["01", "02", "03", "05", "13"]),
    ("农林", &["01", "02", "05"]),
    ("林学", &["02", "20", "21"]),
    ("畜牧", &["03", "13", "27"]),
    ("水产", &["04", "13"]),
    ("纺织", &["17", "18", "28"]),
    ("化学", &["26", "27", "28", "29"]),
    ("材料", &["26", "28", "29", "30", "31", "32", "33"]),
    ("冶金", &["31", "32", "33"]),
    ("矿业", &["06", "07", "08", "09", "10", "11", "30"]),
    ("地质", &["06", "07", "08", "09", "10", "74"]),
    ("石油", &["07", "11", "25"]),
    ("机械", &["33", "34", "35", "36", "43"]),
    ("力学", &["34", "35", "37", "48"]),
    ("动力工程", &["34", "44", "45"]),
    ("电气", &["38", "44"]),
    ("电子", &["39", "40"]),
    ("光学", &["39", "40"]),
    ("信息与通信", &["39", "63", "64", "65"]),
    ("计算机", &["39", "64", "65"]),
    ("控制科学", &["34", "35", "40", "65"]),
    ("交通运输", &["36", "37", "48", "53", "54"]),
    ("船舶", &["37"]),
    ("航空", &["37"]),
    ("土木", &["30", "47", "48", "50"]),
    ("建筑", &["47", "48", "49", "50"]),
    ("水利", &["46", "48", "76"]),
    ("环境", &["46", "77", "78"]),
    ("测绘", &["74"]),
    ("药学", &["27", "84"]),
    ("中医", &["27", "84"]),
    ("医学", &["27", "84"]),
];

/// The 大类 of an industry code in either stored form ("1441", "C1441", "14"), if it has one.
pub fn major_class(industry_code: &str) -> Option<&str> {
    let digits = industry_code.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    (digits.len() >= 2 && digits.is_char_boundary(2) && digits[..2].chars().all(|c| c.is_ascii_digit()))
        .then(|| &digits[..2])
}

/// Why `discipline` fits an enterprise of industry `industry_code` (named `industry_name`), if it does.
pub fn industry_fit(discipline: &str, industry_code: &str, industry_name: &str) -> Option<String> {
    let major = major_class(industry_code)?;
    DISCIPLINE_INDUSTRIES
        .iter()
        .find(|(key, majors)| discipline.contains(key) && majors.contains(&major))
        .map(|_| format!("学科与行业相符：{discipline} ↔ {industry_code} {industry_name}"))
}

/// How an achievement's maturity suits the cooperation mode wanted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fit {
    Good(String),
    Weak(String),
    Unknown,
}

pub fn mode_fit(maturity: &str, mode: &str) -> Fit {
    let level = MATURITIES.iter().position(|m| *m == maturity.trim());
    let (Some(level), mode) = (level, mode.trim()) else { return Fit::Unknown };
    match mode {
        "" => Fit::Unknown,
        "合作开发" | "技术咨询" => Fit::Good(format!("成果处于「{maturity}」阶段，适合{mode}")),
        "转让" | "许可" | "作价入股" if level >= 2 => {
            Fit::Good(format!("成果已到「{maturity}」阶段，可直接{mode}"))
        }
        "转让" | "许可" | "作价入股" => {
            Fit::Weak(format!("成果尚在「{maturity}」阶段，直接{mode}风险较高，宜先合作开发"))
        }
        _ => Fit::Unknown,
    }
}

/// Same 镇街/园区 (or same city district named in both) counts as near.
pub fn location_fit(a: &str, b: &str) -> Option<String> {
    let (a, b) = (a.trim(), b.trim());
    (!a.is_empty() && a == b).then(|| format!("同在{a}，便于就地转化"))
}

/// The given keywords that occur in `text` (case-insensitive), in their order, without repeats.
pub fn shared_keywords(keywords: &[String], text: &str) -> Vec<String> {
    let text = text.to_lowercase();
    let mut out: Vec<String> = vec![];
    for k in keywords {
        let k = k.trim();
        if k.chars().count() >= 2 && text.contains(&k.to_lowercase()) && !out.iter().any(|o| o == k) {
            out.push(k.to_string());
        }
    }
    out
}

/// Everything known about one candidate.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Signals {
    /// Text relevance relative to the best hit of the same search, 0..=1.
    pub text: f64,
    pub matched_terms: Vec<String>,
    pub industry: Option<String>,
    pub shared_keywords: Vec<String>,
    pub mode: Option<Fit>,
    pub location: Option<String>,
}

/// How much each signal counts; they sum to 1 so a score reads as a share of a perfect match.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    pub text: f64,
    pub industry: f64,
    pub keywords: f64,
    pub mode: f64,
    pub location: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Self { text: 0.6, industry: 0.15, keywords: 0.1, mode: 0.1, location: 0.05 }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Scored {
    /// 0..=1
    pub score: f64,
    /// 匹配理由, the strongest first.
    pub reasons: Vec<String>,
}

pub fn score(s: &Signals, w: &Weights) -> Scored {
    let text = if s.text.is_finite() { s.text.clamp(0.0, 1.0) } else { 0.0 };
    let mut total = w.text * text;
    let mut reasons = vec![];
    if text > 0.0 {
        let terms = if s.matched_terms.is_empty() {
            String::new()
        } else {
            format!("（命中：{}）", s.matched_terms.join("、"))
        };
        reasons.push(format!("文本相关度 {:.2}{terms}", text));
    }
    if let Some(r) = &s.industry {
        total += w.industry;
        reasons.push(r.clone());
    }
    if !s.shared_keywords.is_empty() {
        total += w.keywords * (s.shared_keywords.len() as f64 / 3.0).min(1.0);
        reasons.push(format!("共同关键词：{}", s.shared_keywords.join("、")));
    }
    match &s.mode {
        Some(Fit::Good(r)) => {
            total += w.mode;
            reasons.push(r.clone());
        }
        Some(Fit::Weak(r)) => reasons.push(format!("注意：{r}")),
        // Unknown maturity or mode neither helps nor hurts much: half the weight.
        Some(Fit::Unknown) => total += w.mode / 2.0,
        None => {}
    }
    if let Some(r) = &s.location {
        total += w.location;
        reasons.push(r.clone());
    }
    Scored { score: total.clamp(0.0, 1.0), reasons }
}

/// Score every candidate and keep the best `top`, best first (ties keep the search order).
pub fn rank<T>(candidates: Vec<(T, Signals)>, w: &Weights, top: usize) -> Vec<(T, Scored)> {
    let mut scored: Vec<(usize, T, Scored)> =
        candidates.into_iter().enumerate().map(|(i, (t, s))| (i, t, score(&s, w))).collect();
    scored.sort_by(|a, b| b.2.score.total_cmp(&a.2.score).then(a.0.cmp(&b.0)));
    scored.into_iter().take(top).map(|(_, t, s)| (t, s)).collect()
}

/// Text relevance of each hit relative to the best one (the best is 1).
pub fn relative(scores: &[f32]) -> Vec<f64> {
    let best = scores.iter().copied().fold(0.0f32, f32::max);
    scores.iter().map(|s| if best > 0.0 { f64::from(*s / best) } else { 0.0 }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn food_science_fits_food_manufacturing_not_mining() {
        assert!(industry_fit("食品科学与工程", "1441", "乳制品制造").is_some());
        assert!(industry_fit("食品科学与工程", "C1441", "乳制品制造").is_some());
        assert!(industry_fit("食品科学与工程", "0610", "烟煤和无烟煤开采洗选").is_none());
        assert!(industry_fit("材料科学与工程", "2922", "塑料板、管、型材制造").is_some());
        assert!(industry_fit("哲学", "2922", "x").is_none());
        assert!(industry_fit("材料科学与工程", "", "x").is_none());
        assert_eq!(major_class("C"), None);
    }

    #[test]
    fn maturity_against_mode() {
        assert!(matches!(mode_fit("产业化", "转让"), Fit::Good(_)));
        assert!(matches!(mode_fit("实验室", "转让"), Fit::Weak(_)));
        assert!(matches!(mode_fit("实验室", "合作开发"), Fit::Good(_)));
        assert_eq!(mode_fit("", "转让"), Fit::Unknown);
        assert_eq!(mode_fit("中试", ""), Fit::Unknown);
    }

    #[test]
    fn reasons_name_every_signal_that_counted() {
        let s = Signals {
            text: 0.8,
            matched_terms: vec!["尼龙".into()],
            industry: Some("学科与行业相符".into()),
            shared_keywords: vec!["尼龙".into(), "复合材料".into()],
            mode: Some(Fit::Good("可直接转让".into())),
            location: Some("同在二七经开区".into()),
        };
        let r = score(&s, &Weights::default());
        assert!((r.score - (0.48 + 0.15 + 0.1 * 2.0 / 3.0 + 0.1 + 0.05)).abs() < 1e-9);
        assert_eq!(r.reasons.len(), 5);
        assert!(r.reasons[0].contains("尼龙"));
    }

    #[test]
    fn shared_keywords_ignore_case_and_repeats() {
        let k = vec!["PA66".to_string(), "尼龙".into(), "尼龙".into(), "x".into()];
        assert_eq!(shared_keywords(&k, "高性能pa66尼龙材料 x"), vec!["PA66".to_string(), "尼龙".into()]);
    }

    fn signals() -> impl Strategy<Value = Signals> {
        (0.0f64..=1.0, any::<bool>(), 0usize..5, 0u8..4, any::<bool>()).prop_map(|(text, ind, kw, mode, loc)| Signals {
            text,
            matched_terms: vec![],
            industry: ind.then(|| "行业".to_string()),
            shared_keywords: (0..kw).map(|i| format!("词{i}")).collect(),
            mode: match mode {
                0 => None,
                1 => Some(Fit::Unknown),
                2 => Some(Fit::Weak("弱".into())),
                _ => Some(Fit::Good("好".into())),
            },
            location: loc.then(|| "同地".to_string()),
        })
    }

    proptest! {
        #[test]
        fn score_is_a_share_and_grows_with_each_signal(s in signals(), more in 0.0f64..=1.0) {
            let w = Weights::default();
            let base = score(&s, &w).score;
            prop_assert!((0.0..=1.0).contains(&base));
            let mut t = s.clone();
            t.text = (s.text + more).min(1.0);
            prop_assert!(score(&t, &w).score >= base);
            let mut i = s.clone();
            i.industry = Some("行业".into());
            prop_assert!(score(&i, &w).score >= base);
            let mut l = s.clone();
            l.location = Some("同地".into());
            prop_assert!(score(&l, &w).score >= base);
        }

        #[test]
        fn rank_is_sorted_and_bounded(list in prop::collection::vec(signals(), 0..20), top in 0usize..25) {
            let ranked = rank(list.iter().cloned().enumerate().collect(), &Weights::default(), top);
            prop_assert!(ranked.len() <= top.min(list.len()));
            prop_assert!(ranked.windows(2).all(|w| w[0].1.score >= w[1].1.score));
        }

        #[test]
        fn major_class_never_panics(code in "\\PC{0,6}") {
            let _ = major_class(&code);
        }
    }
}
