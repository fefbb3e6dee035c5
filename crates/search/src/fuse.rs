//! Hybrid ranking: a lexical list (BM25 over jieba terms) and a dense list (cosine of sentence
//! embeddings, `hybrid::Vectors::nearest`) fused into one.
//!
//! Two fusions were measured on the dev needs (`match_bench needs`, nDCG@10, plain / hard):
//! reciprocal rank ([`rrf`], best k 3: 0.994 / 0.945) and a blend of the scaled scores ([`blend`],
//! dense share 0.6 over the top 100 of each list: 0.996 / 0.953). The blend is the product's
//! ([`DENSE_SHARE`], [`DEPTH`]): how far apart two scores are says something ranks do not.

use std::collections::HashMap;

/// The dense list's share in [`blend`], tuned on the dev needs only.
pub const DENSE_SHARE: f32 = 0.6;
/// How many of each list are fused (beyond it a document has no score from that list).
pub const DEPTH: usize = 100;

/// The constants of [`rrf`]; tuned on the dev files only (`match_bench needs --set`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fusion {
    /// The rank offset k: larger flattens the difference between the first ranks.
    pub k: f32,
    /// The lexical list's weight (the dense list weighs 1).
    pub lexical_weight: f32,
}

impl Default for Fusion {
    fn default() -> Self {
        Self { k: 60.0, lexical_weight: 1.0 }
    }
}

/// Fuse a lexical and a dense list (ids, best first) into one, best first, with each id's fused
/// score. Ties keep the better dense rank first, then the better lexical rank, then the id.
pub fn rrf(lexical: &[String], dense: &[String], f: Fusion) -> Vec<(String, f32)> {
    let mut score: HashMap<&str, (f32, usize, usize)> = HashMap::new();
    for (i, id) in lexical.iter().enumerate() {
        let e = score.entry(id).or_insert((0.0, usize::MAX, usize::MAX));
        if e.1 == usize::MAX {
            e.0 += f.lexical_weight / (f.k + i as f32 + 1.0);
            e.1 = i;
        }
    }
    for (i, id) in dense.iter().enumerate() {
        let e = score.entry(id).or_insert((0.0, usize::MAX, usize::MAX));
        if e.2 == usize::MAX {
            e.0 += 1.0 / (f.k + i as f32 + 1.0);
            e.2 = i;
        }
    }
    let mut out: Vec<(&str, (f32, usize, usize))> = score.into_iter().collect();
    out.sort_by(|a, b| b.1.0.total_cmp(&a.1.0).then(a.1.2.cmp(&b.1.2)).then(a.1.1.cmp(&b.1.1)).then(a.0.cmp(b.0)));
    out.into_iter().map(|(id, (s, _, _))| (id.to_string(), s)).collect()
}

/// How the lexical list's scores are brought to 0–1 in [`blend_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// (s − min) / (max − min) over the list: its last entry counts as much as a document it misses.
    MinMax,
    /// s / max: BM25 is 0 for a document without the terms, so every entry keeps some credit.
    FromZero,
}

/// The lexical list's scaling in the product's [`blend`] (the dense list is always min–max: cosines
/// of unrelated texts are far from 0).
pub const LEXICAL_SCALE: Scale = Scale::FromZero;

/// [`blend_with`] the product's [`LEXICAL_SCALE`].
pub fn blend(lexical: &[(String, f32)], dense: &[(String, f32)], dense_share: f32) -> Vec<(String, f32)> {
    blend_with(lexical, dense, dense_share, LEXICAL_SCALE)
}

/// Fuse by score instead of rank: each list's scores scaled to 0–1 (the dense list min to max, the
/// lexical one as `lexical_scale` says), then `dense_share` × dense + (1 − `dense_share`) × lexical; an
/// id missing from a list scores 0 there. Best first; ties by id.
pub fn blend_with(
    lexical: &[(String, f32)],
    dense: &[(String, f32)],
    dense_share: f32,
    lexical_scale: Scale,
) -> Vec<(String, f32)> {
    fn scaled(l: &[(String, f32)], how: Scale) -> HashMap<&str, f32> {
        let (lo, hi) = l.iter().fold((f32::MAX, f32::MIN), |(lo, hi), x| (lo.min(x.1), hi.max(x.1)));
        let lo = if how == Scale::FromZero { 0.0f32.min(lo) } else { lo };
        let span = if hi > lo { hi - lo } else { 1.0 };
        l.iter().map(|(id, s)| (id.as_str(), if hi > lo { (s - lo) / span } else { 1.0 })).collect()
    }
    let (lx, dn) = (scaled(lexical, lexical_scale), scaled(dense, Scale::MinMax));
    let mut ids: Vec<&str> = lx.keys().chain(dn.keys()).copied().collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out: Vec<(String, f32)> = ids
        .into_iter()
        .map(|id| {
            let s = dense_share * dn.get(id).copied().unwrap_or(0.0)
                + (1.0 - dense_share) * lx.get(id).copied().unwrap_or(0.0);
            (id.to_string(), s)
        })
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ids(v: &[u8]) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        v.iter().filter(|x| seen.insert(**x)).map(|x| format!("d{x}")).collect()
    }

    #[test]
    fn both_lists_beat_one() {
        let lex = ids(&[1, 2, 3]);
        let dense = ids(&[2, 4, 1]);
        let out: Vec<String> = rrf(&lex, &dense, Fusion::default()).into_iter().map(|x| x.0).collect();
        assert_eq!(out, ["d2", "d1", "d4", "d3"]);
    }

    #[test]
    fn blend_weighs_the_scaled_scores() {
        let l = |v: &[(&str, f32)]| v.iter().map(|(a, b)| (a.to_string(), *b)).collect::<Vec<_>>();
        let out = blend_with(
            &l(&[("a", 10.0), ("b", 5.0), ("c", 0.0)]),
            &l(&[("c", 0.9), ("b", 0.8), ("d", 0.7)]),
            0.6,
            Scale::MinMax,
        );
        let ids: Vec<&str> = out.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(ids, ["c", "b", "a", "d"]);
        assert!((out[0].1 - 0.6).abs() < 1e-6 && (out[3].1).abs() < 1e-6);
        // From zero, the lexical list's last entry keeps its share: b (5 of 10) passes c.
        let out =
            blend_with(&l(&[("a", 10.0), ("b", 5.0)]), &l(&[("c", 0.9), ("b", 0.8), ("d", 0.7)]), 0.5, Scale::FromZero);
        let ids: Vec<&str> = out.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(ids, ["b", "a", "c", "d"]);
    }

    proptest! {
        /// Every id of either list is in the fused list once, and nothing else is.
        #[test]
        fn fusion_keeps_every_id_once(a in prop::collection::vec(0u8..40, 0..30), b in prop::collection::vec(0u8..40, 0..30),
                                      k in 1.0f32..100.0, w in 0.0f32..3.0) {
            let (lex, dense) = (ids(&a), ids(&b));
            let out = rrf(&lex, &dense, Fusion { k, lexical_weight: w });
            let mut got: Vec<String> = out.iter().map(|x| x.0.clone()).collect();
            got.sort();
            let mut want: Vec<String> = lex.iter().chain(dense.iter()).cloned().collect();
            want.sort();
            want.dedup();
            prop_assert_eq!(got, want);
            prop_assert!(out.windows(2).all(|p| p[0].1 >= p[1].1), "best first");
        }

        /// Moving a document up in one list never moves it down in the fused list.
        #[test]
        fn a_better_rank_never_costs(a in prop::collection::vec(0u8..40, 2..30), b in prop::collection::vec(0u8..40, 0..30),
                                     pick in 1usize..30) {
            let (lex, dense) = (ids(&a), ids(&b));
            let i = pick % lex.len();
            prop_assume!(i > 0);
            let mut better = lex.clone();
            better.swap(i, i - 1);
            let id = lex[i].clone();
            let pos = |l: &[String]| rrf(l, &dense, Fusion::default()).iter().position(|x| x.0 == id).unwrap();
            prop_assert!(pos(&better) <= pos(&lex));
        }
    }
}
