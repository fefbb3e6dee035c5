//! Chinese search and explained matching of research achievements (成果), on tantivy with jieba
//! segmentation (tantivy-jieba, search mode, lower-cased).
//!
//! Two rankers over one index, so they are compared on equal terms:
//! - [`MatchIndex::baseline_search`]: plain BM25 (tantivy's, k1 1.2, b 0.75) over one combined
//!   field of title, abstract and keywords — the reference the project is measured against.
//! - [`MatchIndex::search`]: what a person weighing the documents would do, in documented steps:
//!   1. long queries (whole abstracts) keep their most informative terms (tf × idf);
//!   2. fielded BM25 with title and keyword boosts;
//!   3. a bonus for every whole query phrase (a space-separated part of the query, such as an
//!      author keyword) found verbatim in the title, abstract or keywords;
//!   4. discipline feedback: the disciplines of the first-pass leaders vote, and documents of the
//!      disciplines they agree on move up (what "an abstract → papers of its discipline" rewards).
//!
//! Each hit carries its matched terms and the reasons, in Chinese, that counted.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, STORED, STRING};
use tantivy::tokenizer::{LowerCaser, TextAnalyzer};
use tantivy::{doc, DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

/// Queries longer than this are refused (a whole abstract is far shorter).
pub const MAX_QUERY_CHARS: usize = 2000;
const TOKENIZER: &str = "jieba";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AchievementDoc {
    pub external_id: String,
    pub title: String,
    pub abstract_text: String,
    pub keywords: Vec<String>,
    pub discipline: String,
    pub category: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub rank: usize,
    pub external_id: String,
    pub score: f32,
    pub title: String,
    pub discipline: String,
    /// Query terms found in the document.
    pub matched_terms: Vec<String>,
    /// Why it ranks here, in Chinese.
    pub reasons_zh: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("{0}")]
    BadQuery(String),
    #[error("检索索引错误：{0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("检索索引目录错误：{0}")]
    Dir(String),
}

/// The tunable weights of [`MatchIndex::search`]; the defaults were tuned on CSL `dev.tsv` only.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatchOptions {
    pub title_boost: f32,
    pub keyword_boost: f32,
    /// Long queries keep at most this many terms.
    pub max_query_terms: usize,
    /// Added (relative to the best first-pass score) for each whole query phrase found verbatim.
    pub phrase_bonus: f32,
    /// How many first-pass leaders vote on the discipline.
    pub discipline_voters: usize,
    /// Added, times the share of voters in the document's discipline.
    pub discipline_bonus: f32,
    /// How many first-pass candidates are re-ranked.
    pub candidates: usize,
    /// How many of the leading candidates are read in full for the phrase check.
    pub phrase_window: usize,
    /// Discipline feedback applies to descriptive queries of at least this many distinct terms; a
    /// short query names a specific thing, and its exact matches should not be outvoted.
    pub descriptive_terms: usize,
}

impl Default for MatchOptions {
    fn default() -> Self {
        Self { title_boost: 2.0, keyword_boost: 1.5, max_query_terms: 60, phrase_bonus: 0.5, discipline_voters: 7, discipline_bonus: 5.0, candidates: 400, phrase_window: 50, descriptive_terms: 15 }
    }
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    title: Field,
    abstract_text: Field,
    keywords: Field,
    all: Field,
    discipline: Field,
    category: Field,
}

pub struct MatchIndex {
    index: Index,
    reader: IndexReader,
    f: Fields,
}

fn schema() -> (Schema, Fields) {
    let mut sb = Schema::builder();
    let text = |stored: bool| {
        let o = TextOptions::default().set_indexing_options(TextFieldIndexing::default().set_tokenizer(TOKENIZER).set_index_option(IndexRecordOption::WithFreqs));
        if stored { o.set_stored() } else { o }
    };
    let f = Fields {
        id: sb.add_text_field("id", STRING | STORED | FAST),
        title: sb.add_text_field("title", text(true)),
        abstract_text: sb.add_text_field("abstract", text(true)),
        keywords: sb.add_text_field("keywords", text(true)),
        all: sb.add_text_field("all", text(false)),
        discipline: sb.add_text_field("discipline", STRING | STORED | FAST),
        category: sb.add_text_field("category", STRING | STORED),
    };
    (sb.build(), f)
}

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(tantivy_jieba::JiebaTokenizer::new()).filter(LowerCaser).build()
}

fn fields_of(schema: &Schema) -> Result<Fields, SearchError> {
    let g = |n: &str| schema.get_field(n).map_err(SearchError::Index);
    Ok(Fields { id: g("id")?, title: g("title")?, abstract_text: g("abstract")?, keywords: g("keywords")?, all: g("all")?, discipline: g("discipline")?, category: g("category")? })
}

/// A token worth searching for: it has a letter, digit or CJK character.
fn is_word(t: &str) -> bool {
    t.chars().any(|c| c.is_alphanumeric())
}

/// Function words that jieba keeps as tokens but that say nothing about a topic.
const STOP: [&str; 24] = ["的", "了", "和", "与", "及", "在", "对", "为", "是", "等", "中", "以", "并", "其", "而", "或", "由", "从", "将", "于", "被", "把", "这", "该"];

/// The search terms of a text, as the index tokenizes it (jieba search mode, lower-cased).
pub fn terms(text: &str) -> Vec<String> {
    let mut a = analyzer();
    let mut s = a.token_stream(text);
    let mut out = vec![];
    while s.advance() {
        let t = s.token().text.clone();
        if is_word(&t) {
            out.push(t);
        }
    }
    out
}

fn check_query(query: &str) -> Result<&str, SearchError> {
    let q = query.trim();
    if q.is_empty() {
        return Err(SearchError::BadQuery("查询内容不能为空".into()));
    }
    let n = q.chars().count();
    if n > MAX_QUERY_CHARS {
        return Err(SearchError::BadQuery(format!("查询内容不能超过 {MAX_QUERY_CHARS} 个字（当前 {n} 个）")));
    }
    Ok(q)
}

impl MatchIndex {
    fn with_index(index: Index) -> Result<MatchIndex, SearchError> {
        index.tokenizers().register(TOKENIZER, analyzer());
        let f = fields_of(&index.schema())?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(MatchIndex { index, reader, f })
    }

    /// A new empty index in memory.
    pub fn in_ram() -> Result<MatchIndex, SearchError> {
        Self::with_index(Index::create_in_ram(schema().0))
    }

    /// A new empty index in `dir` (created; must be empty).
    pub fn create_in_dir(dir: &Path) -> Result<MatchIndex, SearchError> {
        std::fs::create_dir_all(dir).map_err(|e| SearchError::Dir(format!("{}：{e}", dir.display())))?;
        Self::with_index(Index::create_in_dir(dir, schema().0)?)
    }

    pub fn open_dir(dir: &Path) -> Result<MatchIndex, SearchError> {
        let dir = tantivy::directory::MmapDirectory::open(dir).map_err(|e| SearchError::Dir(e.to_string()))?;
        Self::with_index(Index::open(dir)?)
    }

    /// A writer with one indexing thread (the district's server has few cores to spare).
    pub fn writer(&self) -> Result<IndexWriter, SearchError> {
        Ok(self.index.writer_with_num_threads(1, 64 * 1024 * 1024)?)
    }

    /// Add a document (replacing one with the same external id).
    pub fn add(&self, w: &mut IndexWriter, d: &AchievementDoc) -> Result<(), SearchError> {
        w.delete_term(Term::from_field_text(self.f.id, &d.external_id));
        let kw = d.keywords.join("；");
        w.add_document(doc!(
            self.f.id => d.external_id.clone(),
            self.f.title => d.title.clone(),
            self.f.abstract_text => d.abstract_text.clone(),
            self.f.keywords => kw.clone(),
            self.f.all => format!("{}\n{}\n{}", d.title, d.abstract_text, kw),
            self.f.discipline => d.discipline.clone(),
            self.f.category => d.category.clone(),
        ))?;
        Ok(())
    }

    pub fn delete(&self, w: &mut IndexWriter, external_id: &str) {
        w.delete_term(Term::from_field_text(self.f.id, external_id));
    }

    /// Commit the writer and make the changes visible to searches.
    pub fn commit(&self, w: &mut IndexWriter) -> Result<(), SearchError> {
        w.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Index all `docs` in one commit.
    pub fn add_all(&self, docs: &[AchievementDoc]) -> Result<(), SearchError> {
        let mut w = self.writer()?;
        for d in docs {
            self.add(&mut w, d)?;
        }
        self.commit(&mut w)
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    fn term_query(&self, field: Field, t: &str) -> Box<dyn Query> {
        Box::new(TermQuery::new(Term::from_field_text(field, t), IndexRecordOption::WithFreqs))
    }

    /// Plain BM25 over the combined field: every query term, OR-ed, scored by tantivy's BM25.
    pub fn baseline_search(&self, query: &str, top: usize) -> Result<Vec<Hit>, SearchError> {
        let q = check_query(query)?;
        let uniq: Vec<String> = dedup(terms(q));
        if uniq.is_empty() {
            return Ok(vec![]);
        }
        let bq = BooleanQuery::new(uniq.iter().map(|t| (Occur::Should, self.term_query(self.f.all, t))).collect());
        let searcher = self.reader.searcher();
        let top_docs = searcher.search(&bq, &TopDocs::with_limit(top.max(1)).order_by_score())?;
        let mut out = vec![];
        for (i, (score, addr)) in top_docs.into_iter().enumerate() {
            let d: TantivyDocument = searcher.doc(addr)?;
            out.push(Hit {
                rank: i + 1,
                external_id: text_of(&d, self.f.id),
                score,
                title: text_of(&d, self.f.title),
                discipline: text_of(&d, self.f.discipline),
                matched_terms: vec![],
                reasons_zh: vec![],
            });
        }
        Ok(out)
    }

    /// The project's matching, with explanations (see the crate documentation for the steps).
    pub fn search(&self, query: &str, top: usize, o: &MatchOptions) -> Result<Vec<Hit>, SearchError> {
        let q = check_query(query)?;
        let searcher = self.reader.searcher();
        let all_terms = terms(q);
        // Step 1: keep the most informative terms of a long query.
        let n_docs = searcher.num_docs().max(1) as f32;
        let mut tf: HashMap<String, usize> = HashMap::new();
        for t in &all_terms {
            if !STOP.contains(&t.as_str()) {
                *tf.entry(t.clone()).or_default() += 1;
            }
        }
        let mut weighted: Vec<(String, f32)> = vec![];
        for (t, c) in tf {
            let df = searcher.doc_freq(&Term::from_field_text(self.f.all, &t))? as f32;
            if df == 0.0 {
                continue;
            }
            let idf = ((n_docs - df + 0.5) / (df + 0.5) + 1.0).ln();
            weighted.push((t, c as f32 * idf));
        }
        weighted.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        weighted.truncate(o.max_query_terms.max(1));
        if weighted.is_empty() {
            return Ok(vec![]);
        }
        // Step 2: fielded BM25.
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![];
        for (t, _) in &weighted {
            clauses.push((Occur::Should, Box::new(BoostQuery::new(self.term_query(self.f.title, t), o.title_boost))));
            clauses.push((Occur::Should, self.term_query(self.f.abstract_text, t)));
            clauses.push((Occur::Should, Box::new(BoostQuery::new(self.term_query(self.f.keywords, t), o.keyword_boost))));
        }
        let first = searcher.search(&BooleanQuery::new(clauses), &TopDocs::with_limit(o.candidates.max(top).max(1)).order_by_score())?;
        let Some(best) = first.first().map(|(s, _)| *s).filter(|s| *s > 0.0) else { return Ok(vec![]) };
        // Candidates carry only fast fields (id, discipline); text is read for the few that need it.
        struct Cand {
            addr: DocAddress,
            id: String,
            discipline: String,
            base: f32,
            text: Option<(String, String, String)>,
        }
        let mut cands = vec![];
        for (score, addr) in &first {
            let (id, discipline) = fast_strings(&searcher, *addr)?;
            cands.push(Cand { addr: *addr, id, discipline, base: score / best, text: None });
        }
        for c in cands.iter_mut().take(o.phrase_window) {
            let d: TantivyDocument = searcher.doc(c.addr)?;
            c.text = Some((text_of(&d, self.f.title), text_of(&d, self.f.abstract_text), text_of(&d, self.f.keywords)));
        }
        // Step 3: whole phrases of the query (space-separated parts of two or more characters).
        let phrases: Vec<String> = q.split_whitespace().map(|p| p.to_lowercase()).filter(|p| p.chars().count() >= 2).collect::<Vec<_>>();
        let phrases = if phrases.len() == 1 && phrases[0].chars().count() > 30 { vec![] } else { phrases };
        // Step 4: the disciplines of the first-pass leaders vote (descriptive queries only).
        let voters = if weighted.len() >= o.descriptive_terms { o.discipline_voters.min(cands.len()) } else { 0 };
        let mut votes: HashMap<&str, usize> = HashMap::new();
        for c in cands.iter().take(voters) {
            if !c.discipline.is_empty() {
                *votes.entry(c.discipline.as_str()).or_default() += 1;
            }
        }
        let query_terms: HashSet<&str> = weighted.iter().map(|(t, _)| t.as_str()).collect();
        let mut scored: Vec<(f32, usize, Vec<String>)> = vec![];
        for (i, c) in cands.iter().enumerate() {
            let mut reasons = vec![];
            let found: Vec<&String> = match &c.text {
                Some((t, a, k)) => {
                    let (t, a, k) = (t.to_lowercase(), a.to_lowercase(), k.to_lowercase());
                    phrases.iter().filter(|p| t.contains(*p) || a.contains(*p) || k.contains(*p)).collect()
                }
                None => vec![],
            };
            let mut s = c.base + o.phrase_bonus * found.len() as f32;
            if !found.is_empty() {
                reasons.push(format!("完整短语命中：{}", found.iter().map(|p| format!("「{p}」")).collect::<Vec<_>>().join("")));
            }
            let share = votes.get(c.discipline.as_str()).copied().unwrap_or(0) as f32 / voters.max(1) as f32;
            if share > 0.0 && voters >= 3 {
                s += o.discipline_bonus * share;
                if share >= 0.3 {
                    reasons.push(format!("学科相近：{}（前 {voters} 个初筛结果中 {} 个属此学科）", c.discipline, votes[c.discipline.as_str()]));
                }
            }
            scored.push((s, i, reasons));
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut out = vec![];
        for (rank, (s, i, mut reasons)) in scored.into_iter().take(top).enumerate() {
            let c = &cands[i];
            let (title, abs, kw) = match &c.text {
                Some(t) => t.clone(),
                None => {
                    let d: TantivyDocument = searcher.doc(c.addr)?;
                    (text_of(&d, self.f.title), text_of(&d, self.f.abstract_text), text_of(&d, self.f.keywords))
                }
            };
            let in_field = |text: &str| -> Vec<String> {
                let ts: HashSet<String> = terms(text).into_iter().collect();
                let mut v: Vec<String> = query_terms.iter().filter(|t| ts.contains(**t)).map(|t| t.to_string()).collect();
                v.sort();
                v
            };
            let (tt, at, kt) = (in_field(&title), in_field(&abs), in_field(&kw));
            for (label, v) in [("标题命中", &tt), ("关键词命中", &kt), ("摘要命中", &at)] {
                if !v.is_empty() {
                    reasons.insert(0, format!("{label}：{}", v.iter().take(8).cloned().collect::<Vec<_>>().join("、")));
                }
            }
            let mut matched: Vec<String> = tt.into_iter().chain(at).chain(kt).collect();
            matched.sort();
            matched.dedup();
            out.push(Hit { rank: rank + 1, external_id: c.id.clone(), score: s, title, discipline: c.discipline.clone(), matched_terms: matched, reasons_zh: reasons });
        }
        Ok(out)
    }
}

fn dedup(v: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    v.into_iter().filter(|t| seen.insert(t.clone())).collect()
}

/// The id and discipline of a document from the fast-field columns (no document-store read).
fn fast_strings(searcher: &Searcher, addr: DocAddress) -> Result<(String, String), SearchError> {
    let ff = searcher.segment_reader(addr.segment_ord).fast_fields();
    let mut out = [String::new(), String::new()];
    for (i, name) in ["id", "discipline"].iter().enumerate() {
        if let Some(col) = ff.str(name)? {
            if let Some(ord) = col.term_ords(addr.doc_id).next() {
                col.ord_to_str(ord, &mut out[i]).map_err(|e| SearchError::Dir(e.to_string()))?;
            }
        }
    }
    let [id, discipline] = out;
    Ok((id, discipline))
}

fn text_of(d: &TantivyDocument, f: Field) -> String {
    d.get_first(f).and_then(|v| v.as_str()).unwrap_or("").to_string()
}
