//! Chinese search and explained matching of research achievements (成果), on tantivy with jieba
//! segmentation (tantivy-jieba, search mode, lower-cased; see [`terms`]).
//!
//! Two rankers over one index, so they are compared on equal terms in the same process:
//! - [`MatchIndex::baseline_search`]: plain BM25 (tantivy's, k1 1.2, b 0.75) over one combined
//!   field of title, abstract and keywords — the reference the project is measured against.
//! - [`MatchIndex::search`]: the project's matching, in explicit steps (see the `rank` module
//!   and [`MatchOptions`]), each of which leaves its reason on the hit.
//!
//! The index holds what the database holds; the caller feeds it ([`MatchIndex::build_in_dir`],
//! then [`MatchIndex::replace`] / [`MatchIndex::delete`] and [`MatchIndex::commit`] on changes).

pub mod follow;
pub mod fuse;
pub mod hybrid;
mod rank;
pub mod stop;
mod text;

use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

pub use rank::MatchOptions;
pub use text::{TOKENIZER, analyzer, terms};

/// Queries longer than this many characters are refused (a whole abstract is far shorter).
pub const MAX_QUERY_CHARS: usize = 2000;

/// One achievement as the index sees it; plain data, filled by the caller from the database.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AchievementDoc {
    pub external_id: String,
    pub title: String,
    pub abstract_text: String,
    pub keywords: Vec<String>,
    pub discipline: String,
    pub category: String,
    /// 成熟度 (e.g. 实验室、中试、产业化); stored and returned by [`MatchIndex::get`], not scored.
    pub maturity: Option<String>,
    /// 所在地; stored and returned by [`MatchIndex::get`], not scored.
    pub location: Option<String>,
}

impl AchievementDoc {
    /// The text a sentence-embedding model reads for this achievement: title, abstract and
    /// keywords, one per line.
    pub fn passage(&self) -> String {
        let mut p = format!("{}\n{}", self.title, self.abstract_text);
        if !self.keywords.is_empty() {
            p.push('\n');
            p.push_str(&self.keywords.join("；"));
        }
        p
    }
}

/// One result of a search, best first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub external_id: String,
    pub score: f32,
    /// 1-based.
    pub rank: usize,
    pub title: String,
    pub discipline: String,
    /// Query terms found in the document (title, keywords or abstract), in query order.
    pub matched_terms: Vec<String>,
    /// Why it ranks here, in Chinese: the fields that matched, then each re-ranking step that
    /// counted for it.
    pub reasons_zh: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SearchError {
    #[error("查询内容不能为空")]
    EmptyQuery,
    #[error("查询内容过长：最多 {limit} 个字符，当前 {len} 个字符")]
    QueryTooLong { limit: usize, len: usize },
    #[error("检索索引错误：{0}")]
    Index(String),
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        SearchError::Index(e.to_string())
    }
}

/// The fields of the index. `all` is the baseline's one combined field; the project ranks on the
/// separate fields. Id, discipline and category are also fast fields, so re-ranking hundreds of
/// candidates reads no stored document.
#[derive(Clone, Copy)]
pub(crate) struct Fields {
    pub id: Field,
    pub title: Field,
    pub abstract_text: Field,
    pub keywords: Field,
    pub all: Field,
    pub discipline: Field,
    pub category: Field,
    pub maturity: Field,
    pub location: Field,
}

fn schema() -> Schema {
    let mut sb = Schema::builder();
    // Term frequencies without positions: the phrase step reads the stored text instead.
    let text = |stored: bool| {
        let o = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default().set_tokenizer(TOKENIZER).set_index_option(IndexRecordOption::WithFreqs),
        );
        if stored { o.set_stored() } else { o }
    };
    sb.add_text_field("id", STRING | STORED | FAST);
    sb.add_text_field("title", text(true));
    sb.add_text_field("abstract", text(true));
    // Keywords joined by '\n', so an explanation can tell which keyword matched.
    sb.add_text_field("keywords", text(true));
    sb.add_text_field("all", text(false));
    sb.add_text_field("discipline", STRING | STORED | FAST);
    sb.add_text_field("category", STRING | STORED | FAST);
    sb.add_text_field("maturity", STORED);
    sb.add_text_field("location", STORED);
    sb.build()
}

fn fields_of(schema: &Schema) -> Result<Fields, SearchError> {
    let g = |n: &str| schema.get_field(n).map_err(SearchError::from);
    Ok(Fields {
        id: g("id")?,
        title: g("title")?,
        abstract_text: g("abstract")?,
        keywords: g("keywords")?,
        all: g("all")?,
        discipline: g("discipline")?,
        category: g("category")?,
        maturity: g("maturity")?,
        location: g("location")?,
    })
}

/// A validated query, trimmed: not empty, at most [`MAX_QUERY_CHARS`].
pub fn check_query(query: &str) -> Result<&str, SearchError> {
    let q = query.trim();
    if q.is_empty() {
        return Err(SearchError::EmptyQuery);
    }
    let len = q.chars().count();
    if len > MAX_QUERY_CHARS {
        return Err(SearchError::QueryTooLong { limit: MAX_QUERY_CHARS, len });
    }
    Ok(q)
}

/// The search index of achievements. Searches take `&self` and may run from many threads; the
/// one writer (one indexing thread) is created on the first change and kept, so a directory
/// index is written by one `MatchIndex` at a time.
pub struct MatchIndex {
    index: Index,
    reader: IndexReader,
    f: Fields,
    writer: Mutex<Option<IndexWriter>>,
}

/// Memory of the one indexing thread before it writes a segment.
const WRITER_MEMORY: usize = 64 * 1024 * 1024;

fn dir_err(dir: &Path, e: impl std::fmt::Display) -> SearchError {
    SearchError::Index(format!("索引目录 {}：{e}", dir.display()))
}

impl MatchIndex {
    fn with_index(index: Index) -> Result<MatchIndex, SearchError> {
        index.tokenizers().register(TOKENIZER, analyzer());
        let f = fields_of(&index.schema())?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(MatchIndex { index, reader, f, writer: Mutex::new(None) })
    }

    /// An index in memory holding exactly `docs` (committed).
    pub fn build_in_ram(docs: &[AchievementDoc]) -> Result<MatchIndex, SearchError> {
        let idx = Self::with_index(Index::create_in_ram(schema()))?;
        idx.load(docs)?;
        Ok(idx)
    }

    /// An index in directory `dir` (created if missing) holding exactly `docs` (committed). An
    /// index of this crate already there is emptied first, so this is also "rebuild from the
    /// database"; a directory holding an index of another layout is refused.
    pub fn build_in_dir(dir: &Path, docs: &[AchievementDoc]) -> Result<MatchIndex, SearchError> {
        std::fs::create_dir_all(dir).map_err(|e| dir_err(dir, e))?;
        let mmap = MmapDirectory::open(dir).map_err(|e| dir_err(dir, e))?;
        let idx = Self::with_index(Index::open_or_create(mmap, schema())?)?;
        idx.with_writer(|w| {
            w.delete_all_documents()?;
            Ok(())
        })?;
        idx.load(docs)?;
        Ok(idx)
    }

    /// An index built earlier in `dir` by [`MatchIndex::build_in_dir`].
    pub fn open_dir(dir: &Path) -> Result<MatchIndex, SearchError> {
        let mmap = MmapDirectory::open(dir).map_err(|e| dir_err(dir, e))?;
        Self::with_index(Index::open(mmap)?)
    }

    /// Same as `build_in_ram(&[])`.
    pub fn in_ram() -> Result<MatchIndex, SearchError> {
        Self::build_in_ram(&[])
    }

    /// Same as `build_in_dir(dir, &[])`.
    pub fn create_in_dir(dir: &Path) -> Result<MatchIndex, SearchError> {
        Self::build_in_dir(dir, &[])
    }

    /// [`MatchIndex::add`] every document, then [`MatchIndex::commit`].
    pub fn add_all(&self, docs: &[AchievementDoc]) -> Result<(), SearchError> {
        self.load(docs)
    }

    fn load(&self, docs: &[AchievementDoc]) -> Result<(), SearchError> {
        for d in docs {
            self.add(d)?;
        }
        self.commit()
    }

    fn with_writer<T>(&self, f: impl FnOnce(&mut IndexWriter) -> Result<T, SearchError>) -> Result<T, SearchError> {
        // A poisoned lock only means another thread panicked mid-call; tantivy's writer stays sound.
        let mut guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let w = match guard.take() {
            Some(w) => w,
            None => self.index.writer_with_num_threads(1, WRITER_MEMORY)?,
        };
        let w = guard.insert(w);
        f(w)
    }

    /// Add a document whose external id is not in the index yet (bulk loading); use
    /// [`MatchIndex::replace`] when it may be. Visible to searches after [`MatchIndex::commit`].
    pub fn add(&self, d: &AchievementDoc) -> Result<(), SearchError> {
        let f = self.f;
        let kw = d.keywords.join("\n");
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &d.external_id);
        doc.add_text(f.title, &d.title);
        doc.add_text(f.abstract_text, &d.abstract_text);
        doc.add_text(f.keywords, &kw);
        // Three values of one field: BM25 sees one document of their summed length.
        doc.add_text(f.all, &d.title);
        doc.add_text(f.all, &d.abstract_text);
        doc.add_text(f.all, &kw);
        doc.add_text(f.discipline, &d.discipline);
        doc.add_text(f.category, &d.category);
        if let Some(m) = &d.maturity {
            doc.add_text(f.maturity, m);
        }
        if let Some(l) = &d.location {
            doc.add_text(f.location, l);
        }
        self.with_writer(|w| {
            w.add_document(doc)?;
            Ok(())
        })
    }

    /// Add, or replace, the document with `d.external_id`.
    pub fn replace(&self, d: &AchievementDoc) -> Result<(), SearchError> {
        self.delete(&d.external_id)?;
        self.add(d)
    }

    /// Remove the document with this external id (none there is no error).
    pub fn delete(&self, external_id: &str) -> Result<(), SearchError> {
        let t = Term::from_field_text(self.f.id, external_id);
        self.with_writer(|w| {
            w.delete_term(t);
            Ok(())
        })
    }

    /// Make the changes since the last commit durable and visible to searches.
    pub fn commit(&self) -> Result<(), SearchError> {
        self.with_writer(|w| {
            w.commit()?;
            Ok(())
        })?;
        self.reader.reload()?;
        Ok(())
    }

    /// After a bulk build: drop the writer (discarding uncommitted changes) once its background
    /// segment merges are done, releasing its memory and the directory's write lock. The next
    /// change opens a new writer.
    pub fn close_writer(&self) -> Result<(), SearchError> {
        let w = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(w) = w {
            w.wait_merging_threads()?;
            self.reader.reload()?;
        }
        Ok(())
    }

    /// How many documents hold `term` (a jieba term, lower-cased) in title, abstract or keywords.
    pub fn doc_freq(&self, term: &str) -> u64 {
        self.reader.searcher().doc_freq(&Term::from_field_text(self.f.all, term)).unwrap_or(0)
    }

    /// Documents visible to searches.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The stored document with this external id, as of the last commit.
    pub fn get(&self, external_id: &str) -> Result<Option<AchievementDoc>, SearchError> {
        let searcher = self.reader.searcher();
        let q = TermQuery::new(Term::from_field_text(self.f.id, external_id), IndexRecordOption::Basic);
        let top = searcher.search(&q, &TopDocs::with_limit(1).order_by_score())?;
        let Some((_, addr)) = top.first() else { return Ok(None) };
        let d: TantivyDocument = searcher.doc(*addr)?;
        let f = self.f;
        let opt = |field| Some(text_of(&d, field)).filter(|s| !s.is_empty());
        Ok(Some(AchievementDoc {
            external_id: text_of(&d, f.id),
            title: text_of(&d, f.title),
            abstract_text: text_of(&d, f.abstract_text),
            keywords: split_keywords(&text_of(&d, f.keywords)),
            discipline: text_of(&d, f.discipline),
            category: text_of(&d, f.category),
            maturity: opt(f.maturity),
            location: opt(f.location),
        }))
    }

    /// Plain BM25 over the combined field: every distinct query term, OR-ed, scored by tantivy's
    /// BM25 (k1 1.2, b 0.75). No explanations: this is the yardstick, not the product.
    pub fn baseline_search(&self, query: &str, top: usize) -> Result<Vec<Hit>, SearchError> {
        self.bm25(terms(check_query(query)?), top)
    }

    /// The lexical half of the hybrid ranking: BM25 over the combined field like the baseline,
    /// without the words that say nothing about a subject ([`stop::is_stop`]: function words,
    /// the wording of a need such as 我公司、希望, and 基于、研究、方法、系统).
    pub fn lexical_search(&self, query: &str, top: usize) -> Result<Vec<Hit>, SearchError> {
        let all = terms(check_query(query)?);
        let kept: Vec<String> = all.iter().filter(|t| !stop::is_stop(t)).cloned().collect();
        // A query of such words only is still searched for what it says.
        self.bm25(if kept.is_empty() { all } else { kept }, top)
    }

    fn bm25(&self, mut uniq: Vec<String>, top: usize) -> Result<Vec<Hit>, SearchError> {
        let mut seen = std::collections::HashSet::new();
        uniq.retain(|t| seen.insert(t.clone()));
        if uniq.is_empty() || top == 0 {
            return Ok(vec![]);
        }
        let clauses: Vec<(Occur, Box<dyn Query>)> = uniq
            .iter()
            .map(|t| {
                (
                    Occur::Should,
                    Box::new(TermQuery::new(Term::from_field_text(self.f.all, t), IndexRecordOption::WithFreqs))
                        as Box<dyn Query>,
                )
            })
            .collect();
        let searcher = self.reader.searcher();
        let top_docs = searcher.search(&BooleanQuery::new(clauses), &TopDocs::with_limit(top).order_by_score())?;
        let mut out = vec![];
        for (i, (score, addr)) in top_docs.into_iter().enumerate() {
            let d: TantivyDocument = searcher.doc(addr)?;
            out.push(Hit {
                external_id: text_of(&d, self.f.id),
                score,
                rank: i + 1,
                title: text_of(&d, self.f.title),
                discipline: text_of(&d, self.f.discipline),
                matched_terms: vec![],
                reasons_zh: vec![],
            });
        }
        Ok(out)
    }

    /// The project's matching, best first, each hit with its matched terms and reasons (the
    /// steps are described on [`MatchOptions`]).
    pub fn search(&self, query: &str, top: usize, opts: &MatchOptions) -> Result<Vec<Hit>, SearchError> {
        let q = check_query(query)?;
        if top == 0 {
            return Ok(vec![]);
        }
        rank::search(&self.reader.searcher(), self.f, q, top, opts)
    }
}

pub(crate) fn text_of(d: &TantivyDocument, f: Field) -> String {
    d.get_first(f).and_then(|v| v.as_str()).unwrap_or("").to_string()
}

pub(crate) fn split_keywords(s: &str) -> Vec<String> {
    s.split('\n').filter(|k| !k.is_empty()).map(str::to_string).collect()
}
