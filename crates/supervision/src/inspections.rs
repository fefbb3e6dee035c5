//! 督查统筹 "能合尽合": planned inspections that visit the same units in the same period about
//! similar subjects are proposed for merging, so a 镇街 is not inspected three times in a month
//! for the same thing. Subject similarity is a cosine over jieba terms, with the words every
//! inspection title shares (检查、督查…) dropped so they do not make everything look alike.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use jieba_rs::Jieba;
use serde::{Deserialize, Serialize};

use crate::validate::FieldError;

/// A planned inspection (督查检查考核事项).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Inspection {
    pub id: i64,
    pub name: String,
    pub issuing_unit_id: i64,
    /// The units inspected (被督查单位).
    pub target_unit_ids: Vec<i64>,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// What is inspected (督查内容); compared for similarity together with the name.
    pub subject: String,
}

impl Inspection {
    /// 督查名称 present, 督查时间 end not before start, at least one 被督查单位.
    pub fn validate(&self) -> Result<(), FieldError> {
        crate::validate::required_text("督查名称", &self.name, 200)?;
        if self.end < self.start {
            return Err(FieldError::new(
                "督查时间",
                format!("结束日期（{}）不能早于开始日期（{}）", self.end, self.start),
            ));
        }
        if self.target_unit_ids.is_empty() {
            return Err(FieldError::new("被督查单位", "至少选择一个单位"));
        }
        Ok(())
    }

    /// The text compared for similarity: the subject, or the name when the subject is empty.
    fn text(&self) -> &str {
        if self.subject.trim().is_empty() { &self.name } else { &self.subject }
    }
}

/// Words that appear in almost every inspection title and say nothing about its subject.
pub const STOP_WORDS: [&str; 30] = [
    "工作",
    "开展",
    "情况",
    "检查",
    "督查",
    "考核",
    "督导",
    "督办",
    "大检查",
    "专项",
    "行动",
    "活动",
    "落实",
    "推进",
    "全面",
    "进一步",
    "加强",
    "有关",
    "相关",
    "关于",
    "组织",
    "实施",
    "年度",
    "季度",
    "全区",
    "全市",
    "我区",
    "重点",
    "集中",
    "事项",
];

/// Term vectors and their cosine; holds the jieba dictionary, which is slow to load, so build once.
pub struct Similarity {
    jieba: Jieba,
}

impl Default for Similarity {
    fn default() -> Self {
        Self::new()
    }
}

static SHARED: LazyLock<Similarity> = LazyLock::new(Similarity::new);

impl Similarity {
    /// Loads jieba's bundled dictionary (a fraction of a second in release builds).
    pub fn new() -> Self {
        Self { jieba: Jieba::new() }
    }

    /// One process-wide instance, loaded on first use.
    pub fn shared() -> &'static Similarity {
        &SHARED
    }

    /// Term counts of a text: search-mode jieba tokens of two or more characters, minus punctuation,
    /// numbers and [`STOP_WORDS`].
    pub fn terms(&self, text: &str) -> BTreeMap<String, u32> {
        let mut out = BTreeMap::new();
        let lower = text.to_lowercase();
        for t in self.jieba.cut_for_search(&lower, true) {
            let w = t.word.trim();
            if w.chars().count() < 2
                || !w.chars().all(char::is_alphanumeric)
                || w.chars().all(|c| c.is_numeric())
                || STOP_WORDS.contains(&w)
            {
                continue;
            }
            *out.entry(w.to_string()).or_insert(0) += 1;
        }
        out
    }

    /// Cosine similarity of two texts' term counts, 0–1 (0 when either has no terms).
    pub fn similarity(&self, a: &str, b: &str) -> f64 {
        cosine(&self.terms(a), &self.terms(b))
    }
}

/// Cosine of two term-count vectors, 0–1.
pub fn cosine(a: &BTreeMap<String, u32>, b: &BTreeMap<String, u32>) -> f64 {
    let dot: f64 = a.iter().filter_map(|(k, x)| b.get(k).map(|y| *x as f64 * *y as f64)).sum();
    let norm = |v: &BTreeMap<String, u32>| v.values().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let (na, nb) = (norm(a), norm(b));
    if na == 0.0 || nb == 0.0 { 0.0 } else { (dot / (na * nb)).clamp(0.0, 1.0) }
}

/// When two inspections count as overlapping.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct OverlapRules {
    /// Subject cosine similarity at least this (0–1).
    pub min_similarity: f64,
    /// At least this many target units in common.
    pub min_shared_units: i64,
    /// Periods overlapping by at least this many calendar days.
    pub min_overlap_days: i64,
}

impl Default for OverlapRules {
    fn default() -> Self {
        Self { min_similarity: 0.3, min_shared_units: 1, min_overlap_days: 1 }
    }
}

impl OverlapRules {
    /// 相似度阈值 0–1; shared units and days at least 1.
    pub fn validate(&self) -> Result<(), FieldError> {
        if !self.min_similarity.is_finite() || !(0.0..=1.0).contains(&self.min_similarity) {
            return Err(FieldError::new("相似度阈值", "应在 0 到 1 之间"));
        }
        crate::validate::int_in("共同被督查单位数", self.min_shared_units, 1, 1000)?;
        crate::validate::int_in("时间重叠天数", self.min_overlap_days, 1, 3660)?;
        Ok(())
    }
}

/// A pair of inspections proposed for merging (`a` < `b` by id).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Overlap {
    pub a: i64,
    pub b: i64,
    pub shared_units: Vec<i64>,
    /// Calendar days both periods cover.
    pub overlap_days: i64,
    /// Subject cosine similarity, 3 decimals.
    pub similarity: f64,
    /// Terms both subjects contain, longest first.
    pub shared_terms: Vec<String>,
    /// Why they are proposed, one reason a line.
    pub reasons_zh: Vec<String>,
}

/// All overlapping pairs, by (a, b), using the process-wide [`Similarity`].
pub fn find_overlaps(items: &[Inspection], rules: &OverlapRules) -> Vec<Overlap> {
    find_overlaps_with(Similarity::shared(), items, rules)
}

/// [`find_overlaps`] with a caller-held [`Similarity`].
pub fn find_overlaps_with(sim: &Similarity, items: &[Inspection], rules: &OverlapRules) -> Vec<Overlap> {
    let mut sorted: Vec<&Inspection> = items.iter().collect();
    sorted.sort_by_key(|i| i.id);
    // Only compute term vectors once per inspection; pairs are cheap after that.
    let terms: Vec<BTreeMap<String, u32>> = sorted.iter().map(|i| sim.terms(i.text())).collect();
    let units: Vec<BTreeSet<i64>> = sorted.iter().map(|i| i.target_unit_ids.iter().copied().collect()).collect();
    let mut out = vec![];
    for i in 0..sorted.len() {
        for j in i + 1..sorted.len() {
            let (x, y) = (sorted[i], sorted[j]);
            if x.id == y.id {
                continue;
            }
            let shared_units: Vec<i64> = units[i].intersection(&units[j]).copied().collect();
            if (shared_units.len() as i64) < rules.min_shared_units.max(1) {
                continue;
            }
            let (from, to) = (x.start.max(y.start), x.end.min(y.end));
            let overlap_days = (to - from).num_days() + 1;
            if overlap_days < rules.min_overlap_days.max(1) {
                continue;
            }
            let similarity = cosine(&terms[i], &terms[j]);
            if similarity < rules.min_similarity {
                continue;
            }
            let mut shared_terms: Vec<String> =
                terms[i].keys().filter(|k| terms[j].contains_key(*k)).cloned().collect();
            shared_terms.sort_by(|p, q| q.chars().count().cmp(&p.chars().count()).then(p.cmp(q)));
            let reasons_zh = vec![
                format!("被督查单位重叠：共同涉及 {} 个单位", shared_units.len()),
                format!("时间重叠：{from} 至 {to}，共 {overlap_days} 天"),
                format!("主题相近：相似度 {similarity:.2}，共同关键词：{}", shared_terms.join("、")),
            ];
            out.push(Overlap {
                a: x.id,
                b: y.id,
                shared_units,
                overlap_days,
                similarity: (similarity * 1000.0).round() / 1000.0,
                shared_terms,
                reasons_zh,
            });
        }
    }
    out
}

fn find(parent: &mut BTreeMap<i64, i64>, x: i64) -> i64 {
    let mut root = x;
    while parent[&root] != root {
        root = parent[&root];
    }
    let mut cur = x;
    while parent[&cur] != root {
        let next = parent[&cur];
        parent.insert(cur, root);
        cur = next;
    }
    root
}

/// Merge proposals: connected components of the overlap graph, each sorted, ordered by first id;
/// inspections with no overlap are left out. Overlaps naming unknown ids are ignored.
pub fn merge_groups(items: &[Inspection], overlaps: &[Overlap]) -> Vec<Vec<i64>> {
    let mut parent: BTreeMap<i64, i64> = items.iter().map(|i| (i.id, i.id)).collect();
    for o in overlaps {
        if !parent.contains_key(&o.a) || !parent.contains_key(&o.b) {
            continue;
        }
        let (ra, rb) = (find(&mut parent, o.a), find(&mut parent, o.b));
        // The smaller id is the root, so the result does not depend on the order of overlaps.
        if ra != rb {
            parent.insert(ra.max(rb), ra.min(rb));
        }
    }
    let ids: Vec<i64> = parent.keys().copied().collect();
    let mut groups: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for id in ids {
        let r = find(&mut parent, id);
        groups.entry(r).or_default().push(id);
    }
    groups.into_values().filter(|g| g.len() > 1).collect()
}

/// How many inspections reach one unit in one month, before and after merging.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnitBurden {
    pub unit_id: i64,
    /// "YYYY-MM"
    pub month: String,
    pub before: i64,
    pub after: i64,
}

/// First and last day of a "YYYY-MM" month.
fn month_bounds(m: &str) -> Option<(NaiveDate, NaiveDate)> {
    let (y, mo) = m.trim().split_once('-')?;
    let (y, mo): (i32, u32) = (y.parse().ok()?, mo.parse().ok()?);
    let first = NaiveDate::from_ymd_opt(y, mo, 1)?;
    let next = if mo == 12 { NaiveDate::from_ymd_opt(y + 1, 1, 1)? } else { NaiveDate::from_ymd_opt(y, mo + 1, 1)? };
    Some((first, next.pred_opt()?))
}

/// The "YYYY-MM" months from `start`'s to `end`'s, inclusive (empty when end < start).
pub fn months_between(start: NaiveDate, end: NaiveDate) -> Vec<String> {
    let mut out = vec![];
    let (mut y, mut m) = (start.year(), start.month());
    while (y, m) <= (end.year(), end.month()) {
        out.push(format!("{y:04}-{m:02}"));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}

/// Inspections reaching each unit in each of `months` ("YYYY-MM"; malformed ones are skipped):
/// an inspection reaches every month its period touches; after merging, a group counts once per
/// unit and month. Rows with no inspection are left out; ordered by unit, then `months` order.
pub fn burden(items: &[Inspection], groups: &[Vec<i64>], months: &[String]) -> Vec<UnitBurden> {
    let group_of: BTreeMap<i64, usize> =
        groups.iter().enumerate().flat_map(|(g, ids)| ids.iter().map(move |id| (*id, g))).collect();
    let units: BTreeSet<i64> = items.iter().flat_map(|i| i.target_unit_ids.iter().copied()).collect();
    let mut out = vec![];
    for unit in units {
        for m in months {
            let Some((first, last)) = month_bounds(m) else { continue };
            let hits: Vec<&Inspection> = items
                .iter()
                .filter(|i| i.start <= last && i.end >= first && i.target_unit_ids.contains(&unit))
                .collect();
            if hits.is_empty() {
                continue;
            }
            // A merged group is one visit; an unmerged inspection is its own visit.
            let visits: BTreeSet<(bool, i64)> = hits
                .iter()
                .map(|i| match group_of.get(&i.id) {
                    Some(g) => (true, *g as i64),
                    None => (false, i.id),
                })
                .collect();
            out.push(UnitBurden {
                unit_id: unit,
                month: m.trim().to_string(),
                before: hits.len() as i64,
                after: visits.len() as i64,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn insp(id: i64, name: &str, units: &[i64], start: &str, end: &str) -> Inspection {
        Inspection {
            id,
            name: name.into(),
            issuing_unit_id: 100 + id,
            target_unit_ids: units.to_vec(),
            start: d(start),
            end: d(end),
            subject: String::new(),
        }
    }

    #[test]
    fn terms_drop_stop_words_and_punctuation() {
        let t = Similarity::shared().terms("2026年安全生产大检查（第二轮）工作");
        // jieba's dictionary has no 安全生产; it splits into 安全 + 生产.
        assert_eq!((t.get("安全"), t.get("生产")), (Some(&1), Some(&1)), "{t:?}");
        for w in ["工作", "检查", "大检查", "2026", "（", "年"] {
            assert!(!t.contains_key(w), "{w} in {t:?}");
        }
    }

    #[test]
    fn similar_safety_inspections_are_proposed_and_education_is_not() {
        // Two departments plan safety inspections of the same 镇街 in overlapping months.
        let a = insp(1, "安全生产大检查", &[11, 12, 13], "2026-03-10", "2026-04-10");
        let b = insp(2, "安全生产隐患排查整治督查", &[12, 13, 14], "2026-03-25", "2026-05-15");
        let c = insp(3, "学前教育普惠督导", &[12, 13], "2026-03-01", "2026-04-30");
        let items = [c.clone(), b.clone(), a.clone()];
        let o = find_overlaps(&items, &OverlapRules::default());
        assert_eq!(o.len(), 1, "{o:?}");
        let o = &o[0];
        assert_eq!((o.a, o.b, o.shared_units.clone(), o.overlap_days), (1, 2, vec![12, 13], 17));
        assert!(o.similarity >= 0.5, "{}", o.similarity);
        assert_eq!(o.shared_terms, vec!["安全", "生产"]);
        assert_eq!(o.reasons_zh[0], "被督查单位重叠：共同涉及 2 个单位");
        assert_eq!(o.reasons_zh[1], "时间重叠：2026-03-25 至 2026-04-10，共 17 天");
        assert!(
            o.reasons_zh[2].starts_with("主题相近：相似度 0.") && o.reasons_zh[2].ends_with("共同关键词：安全、生产"),
            "{}",
            o.reasons_zh[2]
        );
        assert!(Similarity::shared().similarity(&a.name, &c.name) < 0.3);

        let groups = merge_groups(&items, std::slice::from_ref(o));
        assert_eq!(groups, vec![vec![1, 2]]);
        let months = months_between(d("2026-03-01"), d("2026-05-31"));
        assert_eq!(months, vec!["2026-03", "2026-04", "2026-05"]);
        let b12: Vec<_> = burden(&items, &groups, &months)
            .into_iter()
            .filter(|x| x.unit_id == 12)
            .map(|x| (x.month, x.before, x.after))
            .collect();
        assert_eq!(b12, vec![("2026-03".into(), 3, 2), ("2026-04".into(), 3, 2), ("2026-05".into(), 1, 1)]);
        let b11: Vec<_> = burden(&items, &groups, &months)
            .into_iter()
            .filter(|x| x.unit_id == 11)
            .map(|x| (x.month, x.before, x.after))
            .collect();
        assert_eq!(b11, vec![("2026-03".into(), 1, 1), ("2026-04".into(), 1, 1)]);
    }

    #[test]
    fn each_condition_is_required() {
        let r = OverlapRules::default();
        let a = insp(1, "安全生产大检查", &[11], "2026-03-01", "2026-03-31");
        // Different units.
        assert!(
            find_overlaps(&[a.clone(), insp(2, "安全生产大检查", &[12], "2026-03-01", "2026-03-31")], &r).is_empty()
        );
        // Periods touch on one day: overlapping; one day apart: not.
        assert_eq!(
            find_overlaps(&[a.clone(), insp(2, "安全生产大检查", &[11], "2026-03-31", "2026-04-30")], &r)[0]
                .overlap_days,
            1
        );
        assert!(
            find_overlaps(&[a.clone(), insp(2, "安全生产大检查", &[11], "2026-04-01", "2026-04-30")], &r).is_empty()
        );
        // A stricter threshold.
        let strict = OverlapRules { min_similarity: 0.99, ..r };
        assert!(
            find_overlaps(&[a.clone(), insp(2, "安全生产隐患排查整治", &[11], "2026-03-01", "2026-03-31")], &strict)
                .is_empty()
        );
        // The subject, when given, is what is compared.
        let mut e = insp(2, "三月督查", &[11], "2026-03-01", "2026-03-31");
        e.subject = "安全生产".into();
        assert_eq!(find_overlaps(&[a, e], &r).len(), 1);
        assert_eq!(OverlapRules { min_similarity: 1.5, ..r }.validate().unwrap_err().field, "相似度阈值");
    }

    #[test]
    fn groups_are_connected_components() {
        let items: Vec<_> = (1..=6).map(|i| insp(i, "x", &[1], "2026-01-01", "2026-01-02")).collect();
        let o = |a, b| Overlap {
            a,
            b,
            shared_units: vec![1],
            overlap_days: 1,
            similarity: 1.0,
            shared_terms: vec![],
            reasons_zh: vec![],
        };
        let groups = merge_groups(&items, &[o(4, 5), o(1, 3), o(3, 5), o(2, 99)]);
        assert_eq!(groups, vec![vec![1, 3, 4, 5]]);
    }

    #[test]
    fn inspection_validates() {
        let mut i = insp(1, "安全生产大检查", &[11], "2026-03-01", "2026-03-31");
        assert!(i.validate().is_ok());
        i.end = d("2026-02-28");
        assert_eq!(i.validate().unwrap_err().field, "督查时间");
        let j = insp(1, "安全生产大检查", &[], "2026-03-01", "2026-03-31");
        assert_eq!(j.validate().unwrap_err().to_string(), "字段「被督查单位」至少选择一个单位");
        assert!(months_between(d("2026-05-01"), d("2026-04-01")).is_empty());
        assert_eq!(months_between(d("2026-11-15"), d("2027-01-02")), vec!["2026-11", "2026-12", "2027-01"]);
    }

    const SUBJECTS: [&str; 6] = [
        "安全生产大检查",
        "安全生产隐患排查整治督查",
        "学前教育普惠督导",
        "燃气安全专项检查",
        "义务教育均衡发展督导",
        "消防安全隐患排查",
    ];

    fn arb_items() -> impl Strategy<Value = Vec<Inspection>> {
        proptest::collection::vec(
            (0usize..6, proptest::collection::btree_set(1i64..6, 1..4), 0i64..120, 0i64..60),
            1..8,
        )
        .prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (s, units, off, len))| Inspection {
                    id: i as i64 + 1,
                    name: SUBJECTS[s].into(),
                    issuing_unit_id: 1,
                    target_unit_ids: units.into_iter().collect(),
                    start: d("2026-01-01") + chrono::Duration::days(off),
                    end: d("2026-01-01") + chrono::Duration::days(off + len),
                    subject: String::new(),
                })
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Overlaps and merges do not depend on input order, and merging never adds visits.
        #[test]
        fn merging_is_symmetric_and_lightens(items in arb_items()) {
            let r = OverlapRules::default();
            let o = find_overlaps(&items, &r);
            let mut rev = items.clone();
            rev.reverse();
            prop_assert_eq!(&find_overlaps(&rev, &r), &o);
            let g = merge_groups(&items, &o);
            let mut o_rev = o.clone();
            o_rev.reverse();
            prop_assert_eq!(&merge_groups(&rev, &o_rev), &g);
            for x in &o {
                prop_assert!(x.a < x.b && !x.shared_units.is_empty() && x.overlap_days >= 1 && x.similarity >= 0.3 - 1e-3);
                prop_assert!(g.iter().any(|grp| grp.contains(&x.a) && grp.contains(&x.b)));
            }
            let months = months_between(d("2026-01-01"), d("2026-07-31"));
            for b in burden(&items, &g, &months) {
                prop_assert!(1 <= b.after && b.after <= b.before);
            }
            // Without merges nothing changes.
            for b in burden(&items, &[], &months) {
                prop_assert_eq!(b.after, b.before);
            }
        }
    }
}
