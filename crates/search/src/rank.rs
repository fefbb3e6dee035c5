//! The project's matching, step by step (documented on [`MatchOptions`]).

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::columnar::StrColumn;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, Searcher, TantivyDocument, Term};

use crate::{Fields, Hit, SearchError, split_keywords, terms, text_of};

/// The weights of [`crate::MatchIndex::search`], by scoring step. Every step is a plain
/// adjustment of a score that a person could redo by hand, and every step that counts for a hit
/// leaves a Chinese reason on it. The defaults were tuned on CSL `dev.tsv` only (the
/// `match_bench quality --set name=value` command tries others).
///
/// 1. **Query terms.** The query is segmented like the documents (jieba search mode) and
///    function words are dropped. A long query (a whole abstract) keeps only its
///    `max_query_terms` most informative terms, by query frequency × idf.
/// 2. **Fielded BM25.** Each term is matched in title, abstract and keywords separately, weighted
///    `title_weight`, `abstract_weight`, `keywords_weight` (a word in the title says more than
///    the same word deep in an abstract). The best `candidates` documents go on, their scores
///    divided by the best one, so the bonuses below are on a fixed 0–1 scale.
/// 3. **Whole phrases.** A short query is also read as phrases: its parts between spaces and
///    punctuation, such as the two keywords of "尼龙 复合材料". jieba cuts a phrase into pieces that
///    also occur apart; among the leading `phrase_window` candidates, a document containing the
///    phrase verbatim gets `phrase_bonus` per phrase.
/// 4. **Discipline fit.** The leading `voters` documents vote for their discipline, each with
///    its score to the power `vote_exponent` (a clear leader counts more than a crowd of weak
///    matches); every candidate gets `discipline_bonus` × the share of the vote its discipline
///    won. A query of `long_query_terms` distinct terms or more describes a subject rather than
///    naming a thing, and gets `long_query_discipline_bonus` instead: for a whole abstract the
///    field it belongs to outweighs a few shared words.
/// 5. **Discipline named.** A phrase of the query that is the name of a discipline (or of one
///    part of a name, such as "中药学" of "中医学/中药学") or of a category gives the documents filed
///    under it `named_field_bonus`; documents under a whole name so spelt are also retrieved in
///    step 2 when they share no word with the query.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MatchOptions {
    pub max_query_terms: usize,
    pub title_weight: f32,
    pub abstract_weight: f32,
    pub keywords_weight: f32,
    pub candidates: usize,
    pub phrase_window: usize,
    pub phrase_bonus: f32,
    pub voters: usize,
    pub vote_exponent: f32,
    pub discipline_bonus: f32,
    pub long_query_terms: usize,
    pub long_query_discipline_bonus: f32,
    pub named_field_bonus: f32,
}

impl Default for MatchOptions {
    fn default() -> Self {
        Self {
            max_query_terms: 50,
            title_weight: 1.5,
            abstract_weight: 1.0,
            keywords_weight: 1.5,
            candidates: 300,
            phrase_window: 50,
            phrase_bonus: 0.5,
            voters: 20,
            vote_exponent: 2.0,
            discipline_bonus: 0.6,
            long_query_terms: 15,
            long_query_discipline_bonus: 10.0,
            named_field_bonus: 0.5,
        }
    }
}

/// Function words jieba keeps as tokens; they say nothing about a subject.
const STOP: &[&str] = &[
    "的", "了", "和", "与", "及", "在", "对", "为", "是", "等", "中", "以", "并", "其", "而", "或", "由", "从", "将",
    "于", "被", "把", "这", "该", "之", "也", "the", "of", "and", "in", "a", "an", "to", "for", "on", "with", "by",
];

/// A query with more parts than this is prose, not a list of phrases (step 3).
const MAX_PHRASES: usize = 8;
const MAX_PHRASE_CHARS: usize = 16;

fn idf(n_docs: f32, df: f32) -> f32 {
    (1.0 + (n_docs - df + 0.5) / (df + 0.5)).ln()
}

/// Step 1: the kept terms, and how many distinct terms the query had.
fn query_terms(
    searcher: &Searcher,
    all: Field,
    q: &str,
    o: &MatchOptions,
) -> Result<(Vec<String>, usize), SearchError> {
    let all_terms = terms(q);
    // A query of function words only ("和") is still searched for what it says.
    let only_stop = all_terms.iter().all(|t| STOP.contains(&t.as_str()));
    let mut order: Vec<String> = vec![];
    let mut tf: HashMap<String, usize> = HashMap::new();
    for t in all_terms {
        if !only_stop && STOP.contains(&t.as_str()) {
            continue;
        }
        let c = tf.entry(t.clone()).or_default();
        if *c == 0 {
            order.push(t);
        }
        *c += 1;
    }
    let distinct = order.len();
    let n_docs = searcher.num_docs() as f32;
    let mut kept = vec![];
    for (pos, t) in order.into_iter().enumerate() {
        let df = searcher.doc_freq(&Term::from_field_text(all, &t))? as f32;
        if df > 0.0 {
            kept.push((tf[&t] as f32 * idf(n_docs, df), pos, t));
        }
    }
    // Most informative first (ties in query order, so the choice is deterministic). A short
    // query goes back to its own order, so explanations name its terms as the user wrote them;
    // a long one keeps this order, so they name its telling terms before "研究" or "方法".
    kept.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    kept.truncate(o.max_query_terms.max(1));
    if distinct < o.long_query_terms {
        kept.sort_by_key(|x| x.1);
    }
    Ok((kept.into_iter().map(|(_, _, t)| t).collect(), distinct))
}

/// Step 3: the whole phrases of a short query, lower-cased.
fn phrases(q: &str) -> Vec<String> {
    let parts: Vec<String> = q
        .split(|c: char| {
            c.is_whitespace()
                || (c.is_ascii_punctuation() && c != '-' && c != '.')
                || "，。、；：！？（）【】《》“”‘’".contains(c)
        })
        .filter(|p| !p.is_empty())
        .map(str::to_lowercase)
        .collect();
    if parts.len() > MAX_PHRASES {
        return vec![];
    }
    let mut seen = HashSet::new();
    parts
        .into_iter()
        .filter(|p| (2..=MAX_PHRASE_CHARS).contains(&p.chars().count()) && seen.insert(p.clone()))
        .collect()
}

struct Text {
    title: String,
    abs: String,
    keywords: Vec<String>,
}

struct Cand {
    addr: DocAddress,
    discipline: String,
    category: String,
    score: f32,
    text: Option<Text>,
    reasons: Vec<String>,
}

/// Id, discipline and category from the fast-field columns, opened once per segment, so the
/// hundreds of candidates cost no stored-document reads. A column stores each distinct value
/// once and a document's ordinal into them; the few dozen disciplines are looked up once each.
struct Labels<'a> {
    searcher: &'a Searcher,
    cols: HashMap<u32, [Option<StrColumn>; 3]>,
    names: HashMap<(u32, usize, u64), String>,
}

impl Labels<'_> {
    /// Column `which` (0 id, 1 discipline, 2 category) of the document at `addr`.
    fn get(&mut self, addr: DocAddress, which: usize) -> Result<String, SearchError> {
        let cols = match self.cols.entry(addr.segment_ord) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let ff = self.searcher.segment_reader(addr.segment_ord).fast_fields();
                e.insert([ff.str("id")?, ff.str("discipline")?, ff.str("category")?])
            }
        };
        let Some(col) = &cols[which] else { return Ok(String::new()) };
        let Some(ord) = col.term_ords(addr.doc_id).next() else { return Ok(String::new()) };
        if let Some(s) = self.names.get(&(addr.segment_ord, which, ord)) {
            return Ok(s.clone());
        }
        let mut s = String::new();
        col.ord_to_str(ord, &mut s).map_err(|e| SearchError::Index(e.to_string()))?;
        // Ids are unique: caching them would only grow the map.
        if which != 0 {
            self.names.insert((addr.segment_ord, which, ord), s.clone());
        }
        Ok(s)
    }
}

fn read_text(searcher: &Searcher, f: Fields, addr: DocAddress) -> Result<Text, SearchError> {
    let d: TantivyDocument = searcher.doc(addr)?;
    Ok(Text {
        title: text_of(&d, f.title),
        abs: text_of(&d, f.abstract_text),
        keywords: split_keywords(&text_of(&d, f.keywords)),
    })
}

/// Best first; ties keep the earlier order (the sort is stable), so results are deterministic.
fn sort(cands: &mut [Cand]) {
    cands.sort_by(|a, b| b.score.total_cmp(&a.score));
}

pub(crate) fn search(
    searcher: &Searcher,
    f: Fields,
    q: &str,
    top: usize,
    o: &MatchOptions,
) -> Result<Vec<Hit>, SearchError> {
    // Step 1.
    let (qterms, distinct) = query_terms(searcher, f.all, q, o)?;
    let phrases = phrases(q);

    // Step 2 (and the retrieval half of step 5).
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![];
    let mut boosted = |field: Field, text: &str, option: IndexRecordOption, w: f32| {
        if w > 0.0 {
            let tq = TermQuery::new(Term::from_field_text(field, text), option);
            clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(tq), w))));
        }
    };
    for t in &qterms {
        boosted(f.title, t, IndexRecordOption::WithFreqs, o.title_weight);
        boosted(f.abstract_text, t, IndexRecordOption::WithFreqs, o.abstract_weight);
        boosted(f.keywords, t, IndexRecordOption::WithFreqs, o.keywords_weight);
    }
    for p in &phrases {
        boosted(f.discipline, p, IndexRecordOption::Basic, o.named_field_bonus);
        boosted(f.category, p, IndexRecordOption::Basic, o.named_field_bonus);
    }
    if clauses.is_empty() {
        return Ok(vec![]);
    }
    let first =
        searcher.search(&BooleanQuery::new(clauses), &TopDocs::with_limit(o.candidates.max(top)).order_by_score())?;
    let Some(best) = first.first().map(|(s, _)| *s).filter(|s| *s > 0.0) else { return Ok(vec![]) };
    let mut labels = Labels { searcher, cols: HashMap::new(), names: HashMap::new() };
    let mut cands = Vec::with_capacity(first.len());
    for (score, addr) in first {
        let (discipline, category) = (labels.get(addr, 1)?, labels.get(addr, 2)?);
        cands.push(Cand { addr, discipline, category, score: score / best, text: None, reasons: vec![] });
    }

    // Step 3.
    if !phrases.is_empty() && o.phrase_bonus > 0.0 {
        for c in cands.iter_mut().take(o.phrase_window) {
            let t = read_text(searcher, f, c.addr)?;
            let title = t.title.to_lowercase();
            let rest = format!("{}\n{}", t.abs.to_lowercase(), t.keywords.join("\n").to_lowercase());
            c.text = Some(t);
            let (mut in_title, mut elsewhere) = (vec![], vec![]);
            for p in &phrases {
                if title.contains(p.as_str()) {
                    in_title.push(p.as_str());
                } else if rest.contains(p.as_str()) {
                    elsewhere.push(p.as_str());
                }
            }
            c.score += o.phrase_bonus * (in_title.len() + elsewhere.len()) as f32;
            let quote = |v: &[&str]| v.iter().map(|p| format!("「{p}」")).collect::<String>();
            if !in_title.is_empty() {
                c.reasons.push(format!("标题含完整短语：{}", quote(&in_title)));
            }
            if !elsewhere.is_empty() {
                c.reasons.push(format!("摘要或关键词含完整短语：{}", quote(&elsewhere)));
            }
        }
        sort(&mut cands);
    }

    // Step 4: the leaders vote with their scores.
    let bonus = if distinct >= o.long_query_terms { o.long_query_discipline_bonus } else { o.discipline_bonus };
    let n_voters = o.voters.min(cands.len());
    if bonus > 0.0 && n_voters >= 3 {
        let mut weight: HashMap<String, f32> = HashMap::new();
        let mut count: HashMap<String, usize> = HashMap::new();
        let mut total = 0.0;
        for c in cands.iter().take(n_voters).filter(|c| !c.discipline.is_empty()) {
            let w = c.score.max(0.0).powf(o.vote_exponent);
            *weight.entry(c.discipline.clone()).or_default() += w;
            *count.entry(c.discipline.clone()).or_default() += 1;
            total += w;
        }
        if total > 0.0 {
            for c in &mut cands {
                let share = weight.get(&c.discipline).copied().unwrap_or(0.0) / total;
                c.score += bonus * share;
                let n = count.get(&c.discipline).copied().unwrap_or(0);
                // Only a real plurality is worth telling.
                if share >= 0.3 {
                    c.reasons.push(format!("学科相近：{}（前列结果中 {n}/{n_voters} 属此学科）", c.discipline));
                }
            }
        }
    }

    // Step 5.
    if o.named_field_bonus > 0.0 {
        for c in &mut cands {
            let named = phrases.iter().find(|p| {
                **p == c.discipline || **p == c.category || c.discipline.split('/').any(|part| part == p.as_str())
            });
            if let Some(p) = named {
                c.score += o.named_field_bonus;
                let field = if *p == c.category { &c.category } else { &c.discipline };
                c.reasons.push(format!("学科对口：查询点名「{p}」，此成果属{field}"));
            }
        }
    }
    sort(&mut cands);

    // Explanations of the hits returned.
    let mut out = vec![];
    for (i, mut c) in cands.into_iter().take(top).enumerate() {
        let t = match c.text.take() {
            Some(t) => t,
            None => read_text(searcher, f, c.addr)?,
        };
        let mut matched: Vec<String> = vec![];
        let mut reasons = vec![];
        for (what, text) in
            [("标题命中", t.title.clone()), ("关键词命中", t.keywords.join("\n")), ("摘要命中", t.abs.clone())]
        {
            let found = matched_in(&qterms, &phrases, &text);
            if !found.is_empty() {
                let shown: Vec<&str> = found.iter().take(8).map(String::as_str).collect();
                let more = if found.len() > 8 { format!(" 等 {} 个词", found.len()) } else { String::new() };
                reasons.push(format!("{what}：{}{more}", shown.join("、")));
            }
            matched.extend(found);
        }
        let mut seen = HashSet::new();
        matched.retain(|t| seen.insert(t.clone()));
        reasons.append(&mut c.reasons);
        out.push(Hit {
            external_id: labels.get(c.addr, 0)?,
            score: c.score,
            rank: i + 1,
            title: t.title,
            discipline: c.discipline,
            matched_terms: matched,
            reasons_zh: reasons,
        });
    }
    Ok(out)
}

/// What of the query `text` contains, as a person would name it: the whole phrases, then the
/// terms, found in it verbatim (a substring test: the text was segmented when it was indexed,
/// and re-segmenting every hit only to name its words would cost more than the search),
/// leaving out a term that is only part of a longer one already named ("材料" when "复合材料"
/// matched, "补肾" when the phrase "补肾活血汤" did).
fn matched_in(qterms: &[String], phrases: &[String], text: &str) -> Vec<String> {
    if text.is_empty() {
        return vec![];
    }
    let lower = text.to_lowercase();
    let found: Vec<&String> = phrases.iter().chain(qterms).filter(|t| lower.contains(t.as_str())).collect();
    let mut out: Vec<String> = vec![];
    for (i, t) in found.iter().enumerate() {
        let inside_another =
            found.iter().enumerate().any(|(j, u)| j != i && u.len() > t.len() && u.contains(t.as_str()));
        if !inside_another && !out.contains(*t) {
            out.push(t.to_string());
        }
    }
    out
}
