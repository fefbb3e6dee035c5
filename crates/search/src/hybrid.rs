//! The one ranking of achievements for a need, used by the problem page, the API, `xietong match`
//! and `match_bench`: the lexical list ([`MatchIndex::lexical_search`]) and the dense list (the
//! query's sentence vector against each achievement's, [`Vectors::nearest`]) fused by
//! [`fuse::blend`], then explained from the document itself ([`evidence`]).
//!
//! Without vectors (no model configured, or none computed yet) the lexical list alone ranks, so a
//! district without the model still matches; the caller says so on the page.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::{AchievementDoc, MatchIndex, SearchError, fuse, stop, terms};

/// Below this cosine (query vector · passage vector, e5 unit vectors) a match is not offered for
/// docking. Calibrated on the dev needs (`match_bench needs` prints the table): the relevant paper of
/// a need scores at least this in 99 % of the needs, while the best paper for a need written about
/// papers the corpus does not hold (the extra needs against the dev corpus) scores below it in most.
pub const MIN_COSINE: f32 = 0.86;

/// A term found in more than this share of the records is not shown as a reason.
pub const COMMON_SHARE: f64 = 0.05;
/// Fewer records than this give no such share.
const COMMON_MIN_DOCS: u64 = 100;

/// How [`Vectors`] holds each vector. Chosen by `match_bench latency` at 300 000 records and `match_bench
/// needs` (README, "Matching at scale"): the narrower forms scan faster in less memory, but their
/// rounding reorders near neighbours enough to cost the hard needs up to 0.008 of nDCG@10, so the
/// product keeps f32.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Precision {
    /// The vectors as the model gives them.
    #[default]
    F32,
    /// Two bytes a component (IEEE half precision).
    F16,
    /// One byte a component and one f32 scale a vector (the largest component maps to ±127).
    Int8,
}

/// A set this large is scanned by every core at once.
const PARALLEL_FROM: usize = 50_000;

/// The sentence vectors of a set of records (one per external id), searched exactly: a dot product
/// with every vector, through `simsimd`'s SIMD kernels. 384 components a record: 1 536 bytes in
/// [`Precision::F32`] (300 000 records: 439 MiB), 768 in [`Precision::F16`], 388 in [`Precision::Int8`].
#[derive(Clone, Debug, Default)]
pub struct Vectors {
    dim: usize,
    precision: Precision,
    ids: Vec<String>,
    pos: HashMap<String, usize>,
    /// `Precision::F32`: `dim` components a record.
    floats: Vec<f32>,
    /// `Precision::F16`: `dim` components a record.
    halves: Vec<simsimd::f16>,
    /// `Precision::Int8`: `dim` codes a record, and the scale that turns a code back into a component.
    codes: Vec<i8>,
    scales: Vec<f32>,
}

/// `v` as int8 codes and the scale that multiplies them back.
fn quantize(v: &[f32]) -> (Vec<i8>, f32) {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    if max == 0.0 || !max.is_finite() {
        return (vec![0; v.len()], 0.0);
    }
    let scale = max / 127.0;
    (v.iter().map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8).collect(), scale)
}

impl Vectors {
    /// An empty set in the product's precision ([`Precision::F32`]).
    pub fn new(dim: usize) -> Self {
        Self::with_precision(dim, Precision::default())
    }

    pub fn with_precision(dim: usize, precision: Precision) -> Self {
        Self { dim, precision, ..Self::default() }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Bytes held by the vectors themselves (not the ids).
    pub fn vector_bytes(&self) -> usize {
        self.floats.len() * 4 + self.halves.len() * 2 + self.codes.len() + self.scales.len() * 4
    }

    /// Add or replace the vector of `id`; a vector of another length is refused.
    pub fn upsert(&mut self, id: &str, v: &[f32]) -> Result<(), SearchError> {
        if v.len() != self.dim {
            return Err(SearchError::Index(format!("向量维数应为 {}，实际为 {}", self.dim, v.len())));
        }
        let i = match self.pos.get(id) {
            Some(&i) => i,
            None => {
                self.pos.insert(id.to_string(), self.ids.len());
                self.ids.push(id.to_string());
                match self.precision {
                    Precision::F32 => self.floats.resize(self.floats.len() + self.dim, 0.0),
                    Precision::F16 => self.halves.resize(self.halves.len() + self.dim, simsimd::f16::ZERO),
                    Precision::Int8 => {
                        self.codes.resize(self.codes.len() + self.dim, 0);
                        self.scales.push(0.0);
                    }
                }
                self.ids.len() - 1
            }
        };
        let d = self.dim;
        match self.precision {
            Precision::F32 => self.floats[i * d..(i + 1) * d].copy_from_slice(v),
            Precision::F16 => {
                for (h, x) in self.halves[i * d..(i + 1) * d].iter_mut().zip(v) {
                    *h = simsimd::f16::from_f32(*x);
                }
            }
            Precision::Int8 => {
                let (codes, scale) = quantize(v);
                self.codes[i * d..(i + 1) * d].copy_from_slice(&codes);
                self.scales[i] = scale;
            }
        }
        Ok(())
    }

    /// Remove the vector of `id` (none there is no error); the last vector takes its place.
    pub fn remove(&mut self, id: &str) {
        let Some(i) = self.pos.remove(id) else { return };
        let last = self.ids.len() - 1;
        let d = self.dim;
        if i != last {
            match self.precision {
                Precision::F32 => self.floats.copy_within(last * d..(last + 1) * d, i * d),
                Precision::F16 => self.halves.copy_within(last * d..(last + 1) * d, i * d),
                Precision::Int8 => {
                    self.codes.copy_within(last * d..(last + 1) * d, i * d);
                    self.scales[i] = self.scales[last];
                }
            }
            let moved = self.ids[last].clone();
            self.ids.swap(i, last);
            self.pos.insert(moved, i);
        }
        self.ids.pop();
        self.floats.truncate(self.ids.len() * d);
        self.halves.truncate(self.ids.len() * d);
        self.codes.truncate(self.ids.len() * d);
        self.scales.truncate(self.ids.len());
    }

    /// The vector of `id` as held (f16 widened, int8 multiplied back by its scale).
    pub fn get(&self, id: &str) -> Option<Vec<f32>> {
        let &i = self.pos.get(id)?;
        let d = self.dim;
        Some(match self.precision {
            Precision::F32 => self.floats[i * d..(i + 1) * d].to_vec(),
            Precision::F16 => self.halves[i * d..(i + 1) * d].iter().map(|h| h.to_f32()).collect(),
            Precision::Int8 => self.codes[i * d..(i + 1) * d].iter().map(|&c| f32::from(c) * self.scales[i]).collect(),
        })
    }

    /// The cosine of `query` (a unit vector) with the vector of `id`, as [`Vectors::nearest`] scores it.
    pub fn score(&self, id: &str, query: &[f32]) -> Option<f32> {
        let &i = self.pos.get(id)?;
        (query.len() == self.dim).then(|| self.scorer(query)(i))
    }

    /// The score of record `i` against `query` (of the right length).
    fn scorer<'a>(&'a self, query: &'a [f32]) -> Box<dyn Fn(usize) -> f32 + Send + Sync + 'a> {
        use simsimd::SpatialSimilarity;
        let d = self.dim;
        match self.precision {
            Precision::F32 => {
                Box::new(move |i| f32::dot(&self.floats[i * d..(i + 1) * d], query).unwrap_or(0.0) as f32)
            }
            Precision::F16 => {
                let q: Vec<simsimd::f16> = query.iter().map(|x| simsimd::f16::from_f32(*x)).collect();
                Box::new(move |i| simsimd::f16::dot(&self.halves[i * d..(i + 1) * d], &q).unwrap_or(0.0) as f32)
            }
            Precision::Int8 => {
                let (q, qs) = quantize(query);
                Box::new(move |i| {
                    let raw = i8::dot(&self.codes[i * d..(i + 1) * d], &q).unwrap_or(0.0) as f32;
                    raw * qs * self.scales[i]
                })
            }
        }
    }

    /// The `top` ids most similar to `query` (dot product, cosine for unit vectors), best first; ties by id.
    pub fn nearest(&self, query: &[f32], top: usize) -> Vec<(String, f32)> {
        if query.len() != self.dim || self.dim == 0 {
            return vec![];
        }
        let score = self.scorer(query);
        let n = self.ids.len();
        let threads = if n >= PARALLEL_FROM { std::thread::available_parallelism().map_or(1, |t| t.get()) } else { 1 };
        let part = n.div_ceil(threads.max(1));
        let scan = |from: usize| (from..(from + part).min(n)).map(|i| (i, score(i))).collect::<Vec<_>>();
        let mut all: Vec<(usize, f32)> = if threads > 1 {
            std::thread::scope(|s| {
                let parts: Vec<_> = (0..threads).map(|t| s.spawn(move || scan(t * part))).collect();
                // A scan does no more than index within bounds and multiply: it has nothing to panic on.
                parts.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
            })
        } else {
            scan(0)
        };
        let by_score = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(self.ids[a.0].cmp(&self.ids[b.0]));
        if all.len() > top && top > 0 {
            all.select_nth_unstable_by(top - 1, by_score);
        }
        all.truncate(top);
        all.sort_by(by_score);
        all.into_iter().map(|(i, s)| (self.ids[i].clone(), s)).collect()
    }
}

/// One sentence of a document that supports a match, with the byte ranges of the need's terms in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Evidence {
    pub sentence: String,
    /// `[start, end)` byte offsets into `sentence`, sorted, not overlapping.
    pub marks: Vec<(usize, usize)>,
    /// The sentence cut at the marks, for a page to show (the marked parts highlighted).
    pub parts: Vec<Part>,
}

/// A piece of an [`Evidence`] sentence, marked when it is one of the need's terms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Part {
    pub text: String,
    pub mark: bool,
}

/// Characters of an evidence sentence shown at most; a longer one is cut around its first mark.
pub const EVIDENCE_CHARS: usize = 120;

impl Evidence {
    /// `sentence` with `marks`, cut to [`EVIDENCE_CHARS`] around the first mark (with "…" where cut).
    fn new(sentence: &str, marks: Vec<(usize, usize)>) -> Self {
        let chars: Vec<(usize, char)> = sentence.char_indices().collect();
        if chars.len() <= EVIDENCE_CHARS {
            return Self::whole(sentence, marks);
        }
        let first = marks.first().map_or(0, |m| chars.iter().position(|(b, _)| *b == m.0).unwrap_or(0));
        let start = first.saturating_sub(EVIDENCE_CHARS / 4).min(chars.len() - EVIDENCE_CHARS);
        let end = start + EVIDENCE_CHARS;
        let (from, to) = (chars[start].0, chars.get(end).map_or(sentence.len(), |c| c.0));
        let lead = if start > 0 { "…" } else { "" };
        let tail = if to < sentence.len() { "…" } else { "" };
        let shift = lead.len();
        let kept = marks
            .into_iter()
            .filter(|(a, b)| *a >= from && *b <= to)
            .map(|(a, b)| (a - from + shift, b - from + shift))
            .collect();
        Self::whole(&format!("{lead}{}{tail}", &sentence[from..to]), kept)
    }

    fn whole(sentence: &str, marks: Vec<(usize, usize)>) -> Self {
        let mut parts = vec![];
        let mut at = 0;
        for &(a, b) in &marks {
            if a > at {
                parts.push(Part { text: sentence[at..a].to_string(), mark: false });
            }
            parts.push(Part { text: sentence[a..b].to_string(), mark: true });
            at = b;
        }
        if at < sentence.len() {
            parts.push(Part { text: sentence[at..].to_string(), mark: false });
        }
        Evidence { sentence: sentence.to_string(), marks, parts }
    }
}

/// One ranked achievement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ranked {
    pub external_id: String,
    /// 1-based.
    pub rank: usize,
    /// The fused score, 0..=1 within this ranking (the best is near 1).
    pub score: f32,
    /// Cosine of the query and the passage, when both have vectors.
    pub cosine: Option<f32>,
    /// BM25 of the subject terms, when the lexical list holds the record.
    pub bm25: Option<f32>,
    pub title: String,
    pub discipline: String,
    /// The need's subject terms (no function words) found in the record, longest first.
    pub matched_terms: Vec<String>,
    /// The one or two sentences that best support the match.
    pub evidence: Vec<Evidence>,
    /// Whether it is offered for docking: cosine ≥ [`MIN_COSINE`] (or, without a vector, at least one
    /// subject term matched).
    pub offered: bool,
}

/// The distinct terms of `query` that say something about a subject, in query order.
pub fn subject_terms(query: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    terms(query).into_iter().filter(|t| !stop::is_stop(t) && seen.insert(t.clone())).collect()
}

/// The constants of [`rank_with`]; the product's are [`TUNING`], tuned on the dev files only.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tuning {
    /// The dense list's share in the blend of a need (a sentence or more).
    pub dense_share: f32,
    /// The dense share for a query of a few bare keywords: the words themselves are what is sought
    /// (a dense model pulls in papers about the subject that do not carry the word).
    pub keyword_dense_share: f32,
    /// A query of at most this many characters and no sentence punctuation counts as keywords.
    pub keyword_chars: usize,
    pub lexical_scale: fuse::Scale,
}

/// The product's constants (`match_bench` prints what each earns).
pub const TUNING: Tuning = Tuning {
    dense_share: fuse::DENSE_SHARE,
    keyword_dense_share: 0.3,
    keyword_chars: 16,
    lexical_scale: fuse::LEXICAL_SCALE,
};

impl Tuning {
    /// Whether `query` is a few bare keywords rather than a need written out.
    pub fn is_keywords(&self, query: &str) -> bool {
        let q = query.trim();
        q.chars().count() <= self.keyword_chars && !q.contains(['，', '。', '；', '、', ',', ';', '？', '?'])
    }
}

/// [`rank_with`] the product's [`TUNING`].
pub fn rank(
    index: &MatchIndex,
    dense: Option<(&Vectors, &[f32])>,
    query: &str,
    top: usize,
) -> Result<Vec<Ranked>, SearchError> {
    rank_with(index, dense, query, top, &TUNING)
}

/// Rank the achievements of `index` for `query`: the blend of the lexical list and, when `dense`
/// gives the vectors and the query's vector, the dense list; the best `top`, each explained. A query
/// of bare keywords keeps every word in its lexical list (no stop list: the user typed them) and gives
/// the dense list less weight.
pub fn rank_with(
    index: &MatchIndex,
    dense: Option<(&Vectors, &[f32])>,
    query: &str,
    top: usize,
    t: &Tuning,
) -> Result<Vec<Ranked>, SearchError> {
    let keywords = t.is_keywords(query);
    let lexical_hits =
        if keywords { index.baseline_search(query, fuse::DEPTH)? } else { index.lexical_search(query, fuse::DEPTH)? };
    let lexical: Vec<(String, f32)> = lexical_hits.into_iter().map(|h| (h.external_id, h.score)).collect();
    let nearest = dense.map(|(v, q)| v.nearest(q, fuse::DEPTH)).unwrap_or_default();
    let share = if keywords { t.keyword_dense_share } else { t.dense_share };
    let fused = match dense {
        Some(_) => fuse::blend_with(&lexical, &nearest, share, t.lexical_scale),
        None => fuse::blend_with(&lexical, &[], 0.0, t.lexical_scale),
    };
    // A term in more than a twentieth of the records (生产、降低、内部 in a need) ranks but says too little
    // to be shown as a reason; a small library has no such statistics.
    let docs = index.num_docs();
    let mut subject = subject_terms(query);
    if docs >= COMMON_MIN_DOCS {
        subject.retain(|t| (index.doc_freq(t) as f64) <= COMMON_SHARE * docs as f64);
    }
    let bm25: HashMap<&str, f32> = lexical.iter().map(|(id, s)| (id.as_str(), *s)).collect();
    let mut out = vec![];
    for (id, score) in fused.into_iter().take(top) {
        let Some(doc) = index.get(&id)? else { continue };
        let cosine = dense.and_then(|(v, q)| v.score(&id, q));
        let matched = found_terms(&subject, &doc);
        // A record whose vector is not computed yet is judged by its words, as without a model.
        let offered = match cosine {
            Some(c) => c >= MIN_COSINE,
            None => !matched.is_empty(),
        };
        out.push(Ranked {
            rank: out.len() + 1,
            score,
            cosine,
            bm25: bm25.get(id.as_str()).copied(),
            title: doc.title.clone(),
            discipline: doc.discipline.clone(),
            evidence: evidence(&evidence_text(&doc), &matched, 2),
            matched_terms: matched,
            external_id: id,
            offered,
        });
    }
    Ok(out)
}

/// The `terms` of two characters or more found in a document's title, abstract or keywords, in the
/// need's order, without a term that only occurs inside a longer one found (复合 and 材料 inside
/// 复合材料 say nothing more). One character (后、拉、大) or a number is too little to show as a reason.
fn found_terms(terms: &[String], doc: &AchievementDoc) -> Vec<String> {
    let text = format!("{}\n{}\n{}", doc.title, doc.abstract_text, doc.keywords.join("\n")).to_lowercase();
    // A number (50、2500) is no subject either.
    let worded = |t: &str| t.chars().count() >= 2 && t.chars().any(char::is_alphabetic);
    let mut found: Vec<String> = terms.iter().filter(|t| worded(t) && text.contains(t.as_str())).cloned().collect();
    found.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()).then(a.cmp(b)));
    let mut kept: Vec<String> = vec![];
    for t in found {
        let alone = text.match_indices(t.as_str()).any(|(at, _)| {
            !kept.iter().any(|k| text.match_indices(k.as_str()).any(|(ks, _)| ks <= at && at + t.len() <= ks + k.len()))
        });
        if alone {
            kept.push(t);
        }
    }
    kept.sort_by_key(|k| terms.iter().position(|t| t == k));
    kept
}

/// Where evidence is looked for: the title, the abstract, then the keywords as one line.
fn evidence_text(doc: &AchievementDoc) -> String {
    let mut t = format!("{}。\n{}", doc.title, doc.abstract_text);
    if !doc.keywords.is_empty() {
        t.push_str(&format!("\n关键词：{}", doc.keywords.join("；")));
    }
    t
}

/// The sentences of `text`: cut after 。！？；, a line break, or a Latin . ! ? ; before a space or a
/// CJK character.
fn sentences(text: &str) -> Vec<&str> {
    let mut out = vec![];
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let end = match c {
            '。' | '！' | '？' | '；' | '\n' => i + c.len_utf8(),
            // Latin stops end a sentence before a space or a CJK character ("…方向.本文"), not in "7.97".
            '.' | '!' | '?' | ';' if chars.peek().is_none_or(|(_, n)| n.is_whitespace() || !n.is_ascii()) => i + 1,
            _ => continue,
        };
        let s = text[start..end].trim();
        if s.chars().any(char::is_alphanumeric) {
            out.push(s);
        }
        start = end;
    }
    let rest = text[start..].trim();
    if rest.chars().any(char::is_alphanumeric) {
        out.push(rest);
    }
    out
}

/// The `n` sentences of `text` holding the most of `terms` (a term counts by its length in
/// characters, once a sentence), in text order, each with its terms marked. None when no sentence
/// holds a term.
pub fn evidence(text: &str, terms: &[String], n: usize) -> Vec<Evidence> {
    let all = sentences(text);
    // (sentence index, weight, marks)
    type Scored = (usize, usize, Vec<(usize, usize)>);
    let mut scored: Vec<Scored> = all
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let lower = s.to_lowercase();
            // Lower-casing keeps byte offsets for the CJK and ASCII text we mark; a sentence where it
            // does not (rare Unicode case changes) gets no marks rather than wrong ones.
            let same_len = s.chars().all(|c| c.to_lowercase().map(char::len_utf8).sum::<usize>() == c.len_utf8());
            let mut weight = 0;
            let mut marks = vec![];
            for t in terms {
                let hits: Vec<(usize, usize)> =
                    lower.match_indices(t.as_str()).map(|(at, m)| (at, at + m.len())).collect();
                if !hits.is_empty() {
                    weight += t.chars().count();
                    if same_len {
                        marks.extend(hits);
                    }
                }
            }
            (i, weight, merge(marks))
        })
        .filter(|(_, w, _)| *w > 0)
        .collect();
    scored.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    scored.truncate(n);
    scored.sort_by_key(|x| x.0);
    scored.into_iter().map(|(i, _, marks)| Evidence::new(all[i], marks)).collect()
}

/// Sorted, overlapping or touching ranges joined.
fn merge(mut r: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    r.sort_unstable();
    let mut out: Vec<(usize, usize)> = vec![];
    for (a, b) in r {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn doc(id: &str, title: &str, abs: &str) -> AchievementDoc {
        AchievementDoc { external_id: id.into(), title: title.into(), abstract_text: abs.into(), ..Default::default() }
    }

    #[test]
    fn vectors_replace_remove_and_search_exactly() {
        let mut v = Vectors::new(2);
        v.upsert("a", &[1.0, 0.0]).unwrap();
        v.upsert("b", &[0.6, 0.8]).unwrap();
        v.upsert("c", &[0.0, 1.0]).unwrap();
        assert!(v.upsert("d", &[1.0]).is_err());
        assert_eq!(v.nearest(&[0.0, 1.0], 2), vec![("c".to_string(), 1.0), ("b".to_string(), 0.8)]);
        v.remove("c");
        v.upsert("a", &[0.0, 1.0]).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v.nearest(&[0.0, 1.0], 5)[0].0, "a");
        assert_eq!(v.get("b"), Some(vec![0.6, 0.8]));
        assert_eq!(v.score("b", &[1.0, 0.0]), Some(0.6));
        assert!(v.nearest(&[1.0], 3).is_empty(), "a query of another length finds nothing");
    }

    #[test]
    fn evidence_picks_the_sentences_with_the_terms_and_marks_them() {
        let terms = subject_terms("架桥机液压顶升同步控制");
        let text = "研究了桥梁的景观设计。提出一种液压顶升的同步控制方法，误差小于1毫米；适用于架桥机。结论见后。";
        let ev = evidence(text, &terms, 2);
        assert_eq!(ev.len(), 2);
        assert!(ev[0].sentence.starts_with("提出一种液压顶升"));
        let marked: Vec<&str> = ev[0].marks.iter().map(|(a, b)| &ev[0].sentence[*a..*b]).collect();
        assert!(marked.contains(&"液压顶升") || marked.contains(&"液压"), "{marked:?}");
        assert!(evidence("与本需求无关的一句话。", &terms, 2).is_empty());
    }

    #[test]
    fn function_words_are_never_matched_terms() {
        let idx = MatchIndex::build_in_ram(&[
            doc("p1", "基于大数据的电网调度系统研究", "实现了电网调度系统。"),
            doc("p2", "架桥机液压顶升同步控制", "提出液压同步顶升控制方法。"),
        ])
        .unwrap();
        let r = rank(&idx, None, "基于架桥机的液压顶升系统研究", 5).unwrap();
        assert_eq!(r[0].external_id, "p2");
        for x in &r {
            for t in ["基于", "系统", "研究", "大", "实现"] {
                assert!(!x.matched_terms.iter().any(|m| m == t), "{t} shown as a reason: {:?}", x.matched_terms);
            }
        }
        assert!(r[0].offered && r[0].cosine.is_none());
    }

    #[test]
    fn a_word_most_records_hold_is_not_shown_as_a_reason() {
        let mut docs: Vec<AchievementDoc> =
            (0..120).map(|i| doc(&format!("d{i}"), &format!("第{i}种生产工艺"), "用于生产。")).collect();
        docs.push(doc("w", "焊接残余应力的生产控制", "降低焊接残余应力50%。"));
        let idx = MatchIndex::build_in_ram(&docs).unwrap();
        let r = rank(&idx, None, "我公司生产中焊接残余应力大，希望降低。", 3).unwrap();
        assert_eq!(r[0].external_id, "w");
        assert!(r[0].matched_terms.contains(&"焊接".to_string()), "{:?}", r[0].matched_terms);
        assert!(!r[0].matched_terms.contains(&"生产".to_string()), "生产 is in every record: {:?}", r[0].matched_terms);
        let r = rank(&idx, None, "焊接应力降低50%以上", 3).unwrap();
        assert!(r[0].matched_terms.iter().all(|t| t.chars().any(char::is_alphabetic)), "{:?}", r[0].matched_terms);
    }

    #[test]
    fn the_dense_list_ranks_with_the_words_and_decides_what_is_offered() {
        let idx = MatchIndex::build_in_ram(&[doc("p1", "焊接残余应力", "焊缝。"), doc("p2", "振动时效", "消除应力。")])
            .unwrap();
        let mut v = Vectors::new(2);
        v.upsert("p1", &[0.0, 1.0]).unwrap();
        v.upsert("p2", &[1.0, 0.0]).unwrap();
        let r = rank(&idx, Some((&v, &[1.0, 0.0])), "我公司焊接件的残余应力大，希望消除。", 5).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].external_id, "p2", "0.6 of dense against 0.4 of lexical");
        assert_eq!((r[0].cosine, r[1].cosine), (Some(1.0), Some(0.0)));
        assert!(r[0].offered && !r[1].offered, "p1 matches words but its meaning is far");
        // Bare keywords: the words lead (the dense share is 0.3).
        let r = rank(&idx, Some((&v, &[1.0, 0.0])), "焊接残余应力", 5).unwrap();
        assert_eq!(r[0].external_id, "p1");
        assert!(TUNING.is_keywords("焊接残余应力") && !TUNING.is_keywords("焊缝应力大，希望消除"));
    }

    #[test]
    fn int8_vectors_keep_their_neighbours_and_cosines() {
        let mut v = Vectors::with_precision(3, Precision::Int8);
        v.upsert("a", &[0.6, 0.8, 0.0]).unwrap();
        v.upsert("b", &[0.0, 0.6, 0.8]).unwrap();
        v.upsert("z", &[0.0, 0.0, 0.0]).unwrap();
        let got = v.nearest(&[0.0, 1.0, 0.0], 3);
        assert_eq!(got.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(), ["a", "b", "z"]);
        assert!((got[0].1 - 0.8).abs() < 0.01 && (got[1].1 - 0.6).abs() < 0.01 && got[2].1 == 0.0, "{got:?}");
        assert_eq!(v.vector_bytes(), 3 * 3 + 3 * 4);
        v.remove("a");
        assert_eq!(v.nearest(&[0.0, 1.0, 0.0], 1)[0].0, "b");
        assert!((v.get("b").unwrap()[2] - 0.8).abs() < 0.01);
        let mut h = Vectors::with_precision(3, Precision::F16);
        h.upsert("a", &[0.6, 0.8, 0.0]).unwrap();
        h.upsert("b", &[0.0, 0.6, 0.8]).unwrap();
        h.remove("a");
        assert_eq!((h.len(), h.vector_bytes()), (1, 6));
        assert!((h.score("b", &[0.0, 0.0, 1.0]).unwrap() - 0.8).abs() < 0.001);
    }

    proptest! {
        #[test]
        fn f16_and_int8_scores_stay_near_f32(
            rows in proptest::collection::vec(proptest::collection::vec(-1f32..1.0, 16), 1..20),
            q in proptest::collection::vec(-1f32..1.0, 16),
        ) {
            let unit = |v: &[f32]| {
                let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
                v.iter().map(|x| x / n).collect::<Vec<f32>>()
            };
            let (mut exact, mut half, mut small) = (
                Vectors::new(16),
                Vectors::with_precision(16, Precision::F16),
                Vectors::with_precision(16, Precision::Int8),
            );
            for (i, r) in rows.iter().enumerate() {
                for v in [&mut exact, &mut half, &mut small] {
                    v.upsert(&format!("d{i}"), &unit(r)).unwrap();
                }
            }
            let q = unit(&q);
            for i in 0..rows.len() {
                let id = format!("d{i}");
                let score = |v: &Vectors| v.score(&id, &q).unwrap();
                let (a, h, b) = (score(&exact), score(&half), score(&small));
                prop_assert!((a - h).abs() < 0.002 && (a - b).abs() < 0.01, "{a} against {h} and {b}");
            }
            let best = &exact.nearest(&q, 1)[0];
            for got in [&half.nearest(&q, 1)[0], &small.nearest(&q, 1)[0]] {
                prop_assert!(best.1 - exact.score(&got.0, &q).unwrap() < 0.02, "{best:?} {got:?}");
            }
        }

        #[test]
        fn evidence_marks_lie_inside_their_sentence(text in "\\PC{0,200}", q in "\\PC{0,20}") {
            let terms = subject_terms(&q);
            for e in evidence(&text, &terms, 2) {
                for (a, b) in &e.marks {
                    prop_assert!(a < b && *b <= e.sentence.len());
                    prop_assert!(e.sentence.is_char_boundary(*a) && e.sentence.is_char_boundary(*b));
                }
                prop_assert!(e.marks.windows(2).all(|w| w[0].1 < w[1].0));
                let joined: String = e.parts.iter().map(|p| p.text.as_str()).collect();
                prop_assert_eq!(joined, e.sentence.clone());
                prop_assert!(e.sentence.chars().count() <= EVIDENCE_CHARS + 2);
            }
        }

        #[test]
        fn nearest_is_sorted_and_bounded(n in 0usize..30, top in 0usize..40, seed in 0u32..1000) {
            let mut v = Vectors::new(3);
            for i in 0..n {
                let x = ((i as u32 * 7919 + seed) % 97) as f32 / 97.0;
                v.upsert(&format!("d{i}"), &[x, 1.0 - x, 0.5]).unwrap();
            }
            let got = v.nearest(&[0.3, 0.7, 0.1], top);
            prop_assert_eq!(got.len(), top.min(n));
            prop_assert!(got.windows(2).all(|w| w[0].1 >= w[1].1));
        }
    }
}
