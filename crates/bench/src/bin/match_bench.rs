//! Matching benchmarks on the real CSL papers (../shared/data/csl; see its README). Prints figures;
//! it is not a test.
//!
//! `quality`: the three query types of the data README, scored with nDCG@10 and Recall@10, for the
//! plain BM25 baseline and the project's matching, in the same process over the same index.
//! `latency`: a corpus of N documents recombined from real abstract sentences (seeded), indexed
//! on disk with one thread, with vectors composed from the real papers' (`--model`); prints the build
//! rate, index size, vector index memory, p50/p95/p99 per query of the product, BM25 and the dense
//! search alone, the embedding throughput and peak RSS.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use xietong_search::{AchievementDoc, MatchIndex, MatchOptions};

#[derive(Parser)]
#[command(about = "Matching benchmarks on CSL papers")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    Quality {
        #[arg(long, default_value = "../shared/data/csl")]
        csl: PathBuf,
        #[arg(long, default_value = "dev.tsv")]
        file: String,
        /// Override matching weights (for tuning on dev.tsv), e.g. "title_weight=2,phrase_bonus=0.5".
        #[arg(long, default_value = "")]
        set: String,
        /// Also write one line per query (type, query, relevant, nDCG of both, top 10 of both) here.
        #[arg(long)]
        dump: Option<PathBuf>,
        /// Also score the hybrid (lexical + dense blend) with this sentence-embedding model.
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Enterprise needs (`needs_*.tsv`, one relevant paper each) against whole records: plain BM25, the
    /// lexical half (BM25 without stop words), the dense model alone, the hybrid (reciprocal-rank
    /// fusion of the two), and the project's current matching, in one run.
    Needs {
        #[arg(long, default_value = "../shared/data/csl")]
        csl: PathBuf,
        /// Comma-separated needs files; `needs_dev*` rank `dev.tsv`, `needs_extra*` rank `extra.tsv`.
        #[arg(long, default_value = "needs_dev.tsv,needs_dev_hard.tsv")]
        files: String,
        /// The sentence-embedding model's directory (scripts/install-model.sh).
        #[arg(long, env = "XIETONG_MODEL_DIR", default_value = "data/models/multilingual-e5-small")]
        model: PathBuf,
        /// Fusion constants, e.g. "k=60,lexical_weight=1,depth=100".
        #[arg(long, default_value = "")]
        set: String,
        /// Print each query the hybrid wins or loses against BM25.
        #[arg(long)]
        verbose: bool,
    },
    /// Calibrates the threshold below which a match is withheld (hybrid::MIN_COSINE): the cosine of each
    /// dev need with its relevant paper, against the best cosine of a need written about papers the
    /// corpus does not hold (the extra needs against the dev corpus).
    Threshold {
        #[arg(long, default_value = "../shared/data/csl")]
        csl: PathBuf,
        #[arg(long, env = "XIETONG_MODEL_DIR", default_value = "data/models/multilingual-e5-small")]
        model: PathBuf,
    },
    /// The product's ranking, plain BM25 and the dense search alone on N synthetic records, timed per query.
    Latency {
        #[arg(long, default_value = "../shared/data/csl")]
        csl: PathBuf,
        #[arg(long, default_value_t = 300_000)]
        docs: usize,
        #[arg(long, default_value_t = 1500)]
        queries: usize,
        /// The sentence-embedding model's directory; without it the product ranks by words alone.
        #[arg(long)]
        model: Option<PathBuf>,
    },
}

#[derive(Clone)]
struct Paper {
    id: String,
    title: String,
    abs: String,
    keywords: Vec<String>,
    discipline: String,
    category: String,
}

fn read_csl(path: &Path) -> Result<Vec<Paper>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = vec![];
    for (i, line) in text.lines().enumerate().skip(1) {
        let c: Vec<&str> = line.split('\t').collect();
        if c.len() < 6 {
            bail!("{}:{}: expected 6 columns", path.display(), i + 1);
        }
        out.push(Paper {
            id: c[0].into(),
            title: c[1].into(),
            abs: c[2].into(),
            keywords: c[3].split(';').map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect(),
            discipline: c[4].into(),
            category: c[5].into(),
        });
    }
    Ok(out)
}

fn doc(p: &Paper, with_keywords: bool) -> AchievementDoc {
    AchievementDoc {
        external_id: p.id.clone(),
        title: p.title.clone(),
        abstract_text: p.abs.clone(),
        keywords: if with_keywords { p.keywords.clone() } else { vec![] },
        discipline: p.discipline.clone(),
        category: p.category.clone(),
        maturity: None,
        location: None,
    }
}

struct QuerySet {
    name: &'static str,
    queries: Vec<(String, HashSet<String>)>,
    corpus: Vec<AchievementDoc>,
}

/// The three query types exactly as the data README defines them.
fn query_sets(papers: &[Paper]) -> Vec<QuerySet> {
    let no_kw: Vec<AchievementDoc> = papers.iter().map(|p| doc(p, false)).collect();
    let t1 = papers
        .iter()
        .filter(|p| p.keywords.len() >= 2)
        .map(|p| (format!("{} {}", p.keywords[0], p.keywords[1]), HashSet::from([p.id.clone()])))
        .collect();
    let mut carriers: HashMap<&str, HashSet<String>> = HashMap::new();
    for p in papers {
        for k in &p.keywords {
            carriers.entry(k.as_str()).or_default().insert(p.id.clone());
        }
    }
    let mut t2: Vec<(String, HashSet<String>)> =
        carriers.into_iter().filter(|(_, s)| (2..=30).contains(&s.len())).map(|(k, s)| (k.to_string(), s)).collect();
    t2.sort_by(|a, b| a.0.cmp(&b.0));
    let (a, b): (Vec<_>, Vec<_>) = papers.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let b_docs: Vec<AchievementDoc> = b.iter().map(|(_, p)| doc(p, true)).collect();
    let t3 = a
        .iter()
        .map(|(_, p)| {
            (
                p.abs.clone(),
                b.iter()
                    .filter(|(_, q)| q.discipline == p.discipline)
                    .map(|(_, q)| q.id.clone())
                    .collect::<HashSet<_>>(),
            )
        })
        .filter(|(_, r)| !r.is_empty())
        .collect();
    vec![
        QuerySet { name: "1 两个关键词→该论文", queries: t1, corpus: no_kw.clone() },
        QuerySet { name: "2 一个关键词→含该词的论文", queries: t2, corpus: no_kw },
        QuerySet { name: "3 摘要→同学科论文", queries: t3, corpus: b_docs },
    ]
}

/// nDCG@10 with binary relevance and log2 discounts; Recall@10 = relevant in the top 10 / all relevant.
fn score(ranked: &[String], relevant: &HashSet<String>) -> (f64, f64) {
    let dcg: f64 = ranked
        .iter()
        .take(10)
        .enumerate()
        .filter(|(_, id)| relevant.contains(*id))
        .map(|(i, _)| 1.0 / ((i + 2) as f64).log2())
        .sum();
    let idcg: f64 = (0..relevant.len().min(10)).map(|i| 1.0 / ((i + 2) as f64).log2()).sum();
    let found = ranked.iter().take(10).filter(|id| relevant.contains(*id)).count();
    (if idcg > 0.0 { dcg / idcg } else { 0.0 }, found as f64 / relevant.len().max(1) as f64)
}

/// The default weights with `name=value` pairs (any field of `MatchOptions`) laid over them.
fn options(set: &str) -> Result<MatchOptions> {
    let mut o = serde_json::to_value(MatchOptions::default())?;
    for kv in set.split(',').filter(|s| !s.trim().is_empty()) {
        let (k, v) = kv.split_once('=').context("--set expects name=value pairs")?;
        let slot = o.get_mut(k.trim()).with_context(|| format!("--set: MatchOptions has no weight {k}"))?;
        *slot = serde_json::from_str(v.trim()).with_context(|| format!("--set {k}: not a number: {v}"))?;
    }
    serde_json::from_value(o).context("--set: a weight has the wrong kind of number")
}

/// One needs file: (qid, relevant paper, query).
fn read_needs(path: &Path) -> Result<Vec<(String, String, String)>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = vec![];
    for (i, line) in text.lines().enumerate().skip(1) {
        let c: Vec<&str> = line.splitn(3, '\t').collect();
        if c.len() < 3 {
            bail!("{}:{}: expected qid, paper_id, query", path.display(), i + 1);
        }
        out.push((c[0].to_string(), c[1].to_string(), c[2].to_string()));
    }
    Ok(out)
}

/// The passage vectors of `docs`, computed once and cached under data/cache/match_bench (keyed by the
/// model's settings and the passages' SHA-256), with the embedding rate of this run when computed.
fn passage_vectors(e: &xietong_embed::Embedder, docs: &[AchievementDoc]) -> Result<(Vec<Vec<f32>>, Option<f64>)> {
    use sha2::Digest;
    let passages: Vec<String> = docs.iter().map(|d| d.passage()).collect();
    let mut h = sha2::Sha256::new();
    h.update(format!("{:?}", e.settings()));
    for p in &passages {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let key = hex::encode(&h.finalize()[..12]);
    let path = PathBuf::from("data/cache/match_bench").join(format!("{}-{key}.f32", e.settings().name));
    let dim = e.dim();
    if let Ok(bytes) = std::fs::read(&path)
        && bytes.len() == passages.len() * dim * 4
    {
        let all: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        return Ok((all.chunks(dim).map(<[f32]>::to_vec).collect(), None));
    }
    let t = Instant::now();
    let mut out = Vec::with_capacity(passages.len());
    for chunk in passages.chunks(32) {
        let texts: Vec<&str> = chunk.iter().map(String::as_str).collect();
        out.extend(e.embed_passages(&texts)?);
        eprint!("\rembedded {}/{} passages", out.len(), passages.len());
    }
    eprintln!();
    let rate = passages.len() as f64 / t.elapsed().as_secs_f64();
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
    let bytes: Vec<u8> = out.iter().flatten().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(&path, bytes)?;
    Ok((out, Some(rate)))
}

/// Fusion settings from `--set`: `name=value` pairs, several settings separated by `;` (each is
/// scored on the same lists, so a grid costs one embedding of the queries).
fn fusions(set: &str) -> Result<Vec<(xietong_search::fuse::Fusion, usize, Option<f32>)>> {
    let mut out = vec![];
    for one in set.split(';') {
        let mut fusion = xietong_search::fuse::Fusion::default();
        let mut depth = 100usize;
        let mut blend = None;
        for kv in one.split(',').filter(|s| !s.trim().is_empty()) {
            let (k, v) = kv.split_once('=').context("--set expects name=value pairs")?;
            match k.trim() {
                "k" => fusion.k = v.trim().parse()?,
                "lexical_weight" => fusion.lexical_weight = v.trim().parse()?,
                "depth" => depth = v.trim().parse()?,
                "blend" => blend = Some(v.trim().parse()?),
                other => bail!("--set: no constant {other} (k, lexical_weight, depth, blend)"),
            }
        }
        out.push((fusion, depth, blend));
    }
    Ok(out)
}

/// The passage vectors of `docs` as the product holds them, with the embedding rate when computed now.
fn vectors_of(
    e: &xietong_embed::Embedder,
    docs: &[AchievementDoc],
) -> Result<(xietong_search::hybrid::Vectors, Option<f64>)> {
    use xietong_search::hybrid::{Precision, Vectors};
    let (list, rate) = passage_vectors(e, docs)?;
    // XIETONG_BENCH_PRECISION=f16|int8 (an experiment): the vectors held narrower than the product's f32.
    let precision = match std::env::var("XIETONG_BENCH_PRECISION").as_deref() {
        Ok("f16") => Precision::F16,
        Ok("int8") => Precision::Int8,
        Ok("f32") | Err(_) => Precision::F32,
        Ok(other) => bail!("XIETONG_BENCH_PRECISION: f32, f16 or int8, not {other}"),
    };
    let mut v = Vectors::with_precision(e.dim(), precision);
    for (d, x) in docs.iter().zip(&list) {
        v.upsert(&d.external_id, x)?;
    }
    Ok((v, rate))
}

/// The product's tuning (hybrid::TUNING), or with XIETONG_BENCH_TUNING="dense_share=0.6,keyword_dense_share=0.2,
/// keyword_chars=16,lexical=zero|minmax" (an experiment) those constants laid over it.
fn tuning() -> Result<xietong_search::hybrid::Tuning> {
    let mut t = xietong_search::hybrid::TUNING;
    for kv in std::env::var("XIETONG_BENCH_TUNING").unwrap_or_default().split(',').filter(|s| !s.trim().is_empty()) {
        let (k, v) = kv.split_once('=').context("XIETONG_BENCH_TUNING expects name=value pairs")?;
        match k.trim() {
            "dense_share" => t.dense_share = v.trim().parse()?,
            "keyword_dense_share" => t.keyword_dense_share = v.trim().parse()?,
            "keyword_chars" => t.keyword_chars = v.trim().parse()?,
            "lexical" if v.trim() == "zero" => t.lexical_scale = xietong_search::fuse::Scale::FromZero,
            "lexical" if v.trim() == "minmax" => t.lexical_scale = xietong_search::fuse::Scale::MinMax,
            other => bail!("XIETONG_BENCH_TUNING: no constant {other}"),
        }
    }
    Ok(t)
}

/// The dense share for `q`: `DENSE_SHARE`, or with XIETONG_BENCH_SHARE_TERMS=N (an experiment) scaled
/// down for queries of fewer than N distinct subject terms (a bare keyword gets little of the dense list).
fn dense_share(q: &str, base: f32) -> f32 {
    match std::env::var("XIETONG_BENCH_SHARE_TERMS").ok().and_then(|n| n.parse::<f32>().ok()) {
        None => base,
        Some(n) => {
            let mut t = xietong_search::terms(q);
            t.retain(|x| !xietong_search::stop::is_stop(x));
            t.sort();
            t.dedup();
            base * (t.len() as f32 / n).min(1.0)
        }
    }
}

fn needs(csl: &Path, files: &str, model: &Path, set: &str, verbose: bool) -> Result<()> {
    let settings = fusions(set)?;
    let max_depth = settings.iter().map(|s| s.1).max().unwrap_or(100);
    let e = load_model(model)?;
    println!("nDCG@10, one relevant paper per query, corpus = whole records (title + abstract + keywords)");
    println!("lexical = BM25 without stop words; dense = cosine of e5 vectors; hybrid = reciprocal-rank fusion");
    for file in files.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let corpus_file = if file.starts_with("needs_extra") { "extra.tsv" } else { "dev.tsv" };
        let docs: Vec<AchievementDoc> = read_csl(&csl.join(corpus_file))?.iter().map(|p| doc(p, true)).collect();
        let idx = MatchIndex::build_in_ram(&docs)?;
        // The product's ranking, with its wins and losses against BM25 per query.
        let ((vectors, rate), tune) = (vectors_of(&e, &docs)?, tuning()?);
        if let Some(r) = rate {
            println!("({corpus_file}: {} passages embedded at {r:.1} passages/s)", docs.len());
        }
        let queries = read_needs(&csl.join(file))?;
        let opts = MatchOptions::default();
        let ids = |hits: Vec<xietong_search::Hit>| hits.into_iter().map(|h| h.external_id).collect::<Vec<_>>();
        // Each query's lists, computed once.
        let mut lists = vec![];
        let mut q_ms = vec![];
        let (mut product, mut p_won, mut p_lost) = (0.0, vec![], vec![]);
        for (qid, rel, q) in &queries {
            let t = Instant::now();
            let qv = e.embed_query(q).map_err(|e| anyhow::anyhow!("{e}"))?;
            q_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            let ranked: Vec<String> = xietong_search::hybrid::rank_with(&idx, Some((&vectors, &qv)), q, 10, &tune)?
                .into_iter()
                .map(|h| h.external_id)
                .collect();
            let relevant = HashSet::from([rel.clone()]);
            let (p, b) = (score(&ranked, &relevant).0, score(&ids(idx.baseline_search(q, 10)?), &relevant).0);
            product += p;
            if p > b {
                p_won.push(qid.clone());
            } else if p < b {
                p_lost.push(qid.clone());
            }
            let dense = vectors.nearest(&qv, max_depth);
            let bm25 = ids(idx.baseline_search(q, 10)?);
            // XIETONG_BENCH_NO_STOP=1: the lexical half without its stop list (plain BM25), to see what the list earns.
            let lexical = match std::env::var_os("XIETONG_BENCH_NO_STOP") {
                Some(_) => idx.baseline_search(q, max_depth)?,
                None => idx.lexical_search(q, max_depth)?,
            };
            let lexical: Vec<(String, f32)> = lexical.into_iter().map(|h| (h.external_id, h.score)).collect();
            let current = ids(idx.search(q, 10, &opts)?);
            lists.push((qid, HashSet::from([rel.clone()]), q, bm25, lexical, dense, current));
        }
        q_ms.sort_by(f64::total_cmp);
        let n = queries.len().max(1) as f64;
        type Lists<'a> =
            (&'a String, HashSet<String>, &'a String, Vec<String>, Vec<(String, f32)>, Vec<(String, f32)>, Vec<String>);
        let mean = |f: &dyn Fn(&Lists) -> f64| lists.iter().map(f).sum::<f64>() / n;
        let only = |l: &[(String, f32)]| l.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
        println!(
            "\n{file} ({} queries; query embedding p50 {:.0} ms): BM25 {:.3} · lexical {:.3} · dense {:.3} · current {:.3}",
            queries.len(),
            q_ms.get(q_ms.len() / 2).copied().unwrap_or(0.0),
            mean(&|l| score(&l.3, &l.1).0),
            mean(&|l| score(&only(&l.4), &l.1).0),
            mean(&|l| score(&only(&l.5), &l.1).0),
            mean(&|l| score(&l.6, &l.1).0),
        );
        for (fusion, depth, blend) in &settings {
            let (mut sum, mut won, mut lost) = (0.0, 0, 0);
            for (qid, rel, q, bm25, lexical, dense, _) in &lists {
                let (lexical, dense) = (&lexical[..(*depth).min(lexical.len())], &dense[..(*depth).min(dense.len())]);
                let fused = match blend {
                    Some(share) => {
                        xietong_search::fuse::blend_with(lexical, dense, dense_share(q, *share), tune.lexical_scale)
                    }
                    None => xietong_search::fuse::rrf(&only(lexical), &only(dense), *fusion),
                };
                let hybrid: Vec<String> = fused.into_iter().map(|(id, _)| id).collect();
                let (h, b) = (score(&hybrid, rel).0, score(bm25, rel).0);
                sum += h;
                if h > b {
                    won += 1;
                } else if h < b {
                    lost += 1;
                }
                if verbose && h != b {
                    println!("  {qid} BM25 {b:.3} hybrid {h:.3}  {q}");
                }
            }
            let how = match blend {
                Some(share) => format!("blend, dense share {share:>4}"),
                None => format!("RRF k {:>4}, lexical weight {:>4}", fusion.k, fusion.lexical_weight),
            };
            println!("  hybrid {how}, depth {depth:>4}: {:.3}  (vs BM25: {won} won, {lost} lost)", sum / n);
        }
        println!(
            "  product (hybrid::rank_with {tune:?}): {:.3}  (vs BM25: {} won, {} lost)",
            product / n,
            p_won.len(),
            p_lost.len()
        );
        println!("    won: {}", p_won.join(" "));
        println!("    lost: {}", p_lost.join(" "));
    }
    Ok(())
}

fn quality(csl: &Path, file: &str, set: &str, dump: Option<&Path>, model: Option<&Path>) -> Result<()> {
    let embedder = model.map(load_model).transpose()?;
    let mut dump_out = String::new();
    let papers = read_csl(&csl.join(file))?;
    println!(
        "matching quality on CSL {file} ({} papers), query types as defined in the data README (types 1-2 against the corpus with its keywords emptied; type 3: queries from half A, corpus half B)",
        papers.len()
    );
    println!(
        "nDCG@10: binary relevance, DCG = sum over the top 10 of rel_i / log2(i + 1), divided by the ideal DCG of min(10, |relevant|) relevant documents"
    );
    println!(
        "Recall@10 = |relevant in the top 10| / |relevant|  (so a query with more than 10 relevant documents cannot reach 1)"
    );
    println!(
        "BM25 = baseline_search: tantivy BM25 (k1 1.2, b 0.75), one field title + abstract + keywords, jieba search-mode tokens; ours = MatchIndex::search, same index, same process"
    );
    let opts = options(set)?;
    println!("{}weights: {}", if set.is_empty() { "default " } else { "" }, serde_json::to_string(&opts)?);
    println!(
        "{:<28} {:>7} {:>12} {:>12} {:>12} {:>12}",
        "query type", "queries", "BM25 nDCG", "BM25 R@10", "ours nDCG", "ours R@10"
    );
    if embedder.is_some() {
        println!("(last two columns: the hybrid of the needs benchmark, nDCG@10 and R@10)");
    }
    for set in query_sets(&papers) {
        let idx = MatchIndex::build_in_ram(&set.corpus)?;
        let (mut bn, mut br, mut on, mut or) = (0.0, 0.0, 0.0, 0.0);
        for (q, rel) in &set.queries {
            let b: Vec<String> = idx.baseline_search(q, 10)?.into_iter().map(|h| h.external_id).collect();
            let o: Vec<String> = idx.search(q, 10, &opts)?.into_iter().map(|h| h.external_id).collect();
            let (n1, r1) = score(&b, rel);
            let (n2, r2) = score(&o, rel);
            if dump.is_some() {
                let mark = |v: &[String]| {
                    v.iter()
                        .map(|id| if rel.contains(id) { format!("{id}*") } else { id.clone() })
                        .collect::<Vec<_>>()
                        .join(",")
                };
                let q1: String = q.chars().take(40).collect();
                dump_out.push_str(&format!(
                    "{}\t{q1}\t{}\t{n1:.3}\t{n2:.3}\t{}\t{}\n",
                    &set.name[..1],
                    rel.len(),
                    mark(&b),
                    mark(&o)
                ));
            }
            bn += n1;
            br += r1;
            on += n2;
            or += r2;
        }
        let n = set.queries.len().max(1) as f64;
        // The product's ranking (hybrid::rank_with), when a model is given.
        let hybrid = match &embedder {
            None => String::new(),
            Some(e) => {
                let (vectors, _) = vectors_of(e, &set.corpus)?;
                let t = tuning()?;
                let (mut hn, mut hr) = (0.0, 0.0);
                for (q, rel) in &set.queries {
                    let qv = e.embed_query(q).map_err(|e| anyhow::anyhow!("{e}"))?;
                    let ranked: Vec<String> =
                        xietong_search::hybrid::rank_with(&idx, Some((&vectors, &qv)), q, 10, &t)?
                            .into_iter()
                            .map(|h| h.external_id)
                            .collect();
                    let (a, b) = score(&ranked, rel);
                    hn += a;
                    hr += b;
                }
                format!(" {:>12.3} {:>12.3}", hn / n, hr / n)
            }
        };
        println!(
            "{:<28} {:>7} {:>12.3} {:>12.3} {:>12.3} {:>12.3}{hybrid}",
            set.name,
            set.queries.len(),
            bn / n,
            br / n,
            on / n,
            or / n
        );
    }
    if let Some(p) = dump {
        std::fs::write(p, dump_out).with_context(|| format!("cannot write {}", p.display()))?;
    }
    Ok(())
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.filter_map(|e| e.ok()).filter_map(|e| e.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len()).sum()
        })
        .unwrap_or(0)
}

/// Sentences of a text: ends at 。；！？ and at a full stop that is not inside a number.
fn sentences(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let (mut out, mut cur) = (vec![], String::new());
    for (i, &c) in chars.iter().enumerate() {
        cur.push(c);
        let stop = matches!(c, '。' | '；' | '！' | '？')
            || (c == '.' && !chars.get(i + 1).is_some_and(|n| n.is_ascii_alphanumeric()));
        if stop {
            out.push(std::mem::take(&mut cur));
        }
    }
    out.push(cur);
    out.into_iter().map(|s| s.trim().to_string()).filter(|s| s.chars().count() >= 8).collect()
}

fn percentiles(v: &mut [f64]) -> String {
    v.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| v[((v.len() as f64 * p).ceil() as usize).saturating_sub(1).min(v.len() - 1)];
    format!("p50 {:7.2} ms  p95 {:7.2} ms  p99 {:7.2} ms", pct(0.50), pct(0.95), pct(0.99))
}

/// The sentence-embedding model in `dir`, with how long it took to load printed.
fn load_model(dir: &Path) -> Result<xietong_embed::Embedder> {
    let t = Instant::now();
    let e = xietong_embed::Embedder::load(dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("model {} ({} dims) loaded in {} ms", e.settings().name, e.dim(), t.elapsed().as_millis());
    Ok(e)
}

/// A synthetic record's vector, composed from the real passage vectors its text was drawn from: half
/// its title paper's, half the mean of the papers its abstract sentences come from, made unit length.
fn composed(title: &[f32], parts: &[&[f32]]) -> Vec<f32> {
    let mut v: Vec<f32> = title.iter().map(|x| 0.5 * x).collect();
    for p in parts {
        for (a, b) in v.iter_mut().zip(*p) {
            *a += 0.5 * b / parts.len() as f32;
        }
    }
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
    v.iter().map(|x| x / n).collect()
}

fn latency(csl: &Path, n_docs: usize, n_queries: usize, model: Option<&Path>) -> Result<()> {
    use xietong_search::hybrid::{self, Precision, Vectors};
    let (dev, extra) = (read_csl(&csl.join("dev.tsv"))?, read_csl(&csl.join("extra.tsv"))?);
    let papers: Vec<Paper> = dev.iter().chain(&extra).cloned().collect();
    // Each abstract sentence with the paper it comes from.
    let pool: Vec<(String, usize)> =
        papers.iter().enumerate().flat_map(|(i, p)| sentences(&p.abs).into_iter().map(move |s| (s, i))).collect();
    let seed = 20261125;
    let mut rng = StdRng::seed_from_u64(seed);
    println!(
        "latency: {n_docs} synthetic documents recombined from real CSL text (seed {seed}): each takes the title, keywords, discipline and category of a random one of the {} papers of dev.tsv + extra.tsv and an abstract of 3-7 random sentences drawn from all {} sentences of their abstracts",
        papers.len(),
        pool.len()
    );
    let embedder = model.map(load_model).transpose()?;
    // The real passage vectors (cached under data/cache/match_bench, as for `needs`), and a fresh rate.
    let real: Vec<Vec<f32>> = match &embedder {
        Some(e) => {
            let mut all = vec![];
            for part in [&dev, &extra] {
                let docs: Vec<AchievementDoc> = part.iter().map(|p| doc(p, true)).collect();
                all.extend(passage_vectors(e, &docs)?.0);
            }
            let sample: Vec<String> = papers.iter().take(64).map(|p| doc(p, true).passage()).collect();
            let t = Instant::now();
            for chunk in sample.chunks(32) {
                e.embed_passages(&chunk.iter().map(String::as_str).collect::<Vec<_>>())?;
            }
            println!(
                "embedding throughput: {:.1} passages/s (the first 64 records of dev.tsv, title + abstract + \
                 keywords, batches of 32, both cores)",
                sample.len() as f64 / t.elapsed().as_secs_f64()
            );
            all
        }
        None => vec![],
    };
    let dim = embedder.as_ref().map_or(0, |e| e.dim());
    let mut f32s = Vectors::new(dim);
    let (mut f16s, mut int8) =
        (Vectors::with_precision(dim, Precision::F16), Vectors::with_precision(dim, Precision::Int8));
    let dir = tempfile::tempdir()?;
    let idx = MatchIndex::build_in_dir(dir.path(), &[])?;
    let t0 = Instant::now();
    let mut vector_secs = 0.0;
    for i in 0..n_docs {
        let pi = rng.gen_range(0..papers.len());
        let p = &papers[pi];
        let k = rng.gen_range(3..=7);
        let picks: Vec<usize> = (0..k).map(|_| rng.gen_range(0..pool.len())).collect();
        let id = format!("S{i:07}");
        idx.add(&AchievementDoc {
            external_id: id.clone(),
            title: p.title.clone(),
            abstract_text: picks.iter().map(|&j| pool[j].0.as_str()).collect(),
            keywords: p.keywords.clone(),
            discipline: p.discipline.clone(),
            category: p.category.clone(),
            maturity: None,
            location: None,
        })?;
        if !real.is_empty() {
            let t = Instant::now();
            let parts: Vec<&[f32]> = picks.iter().map(|&j| real[pool[j].1].as_slice()).collect();
            let v = composed(&real[pi], &parts);
            for set in [&mut f16s, &mut int8, &mut f32s] {
                set.upsert(&id, &v)?;
            }
            vector_secs += t.elapsed().as_secs_f64();
        }
    }
    idx.commit()?;
    let build = t0.elapsed().as_secs_f64() - vector_secs;
    idx.close_writer()?;
    let merged = t0.elapsed().as_secs_f64() - vector_secs;
    println!(
        "indexing (one indexing thread, on disk in a temp dir): {} documents in {build:.1} s = {:.0} documents/s (add + commit); background merges done at {merged:.1} s",
        idx.num_docs(),
        n_docs as f64 / build
    );
    println!("index size: {:.0} MiB", dir_size(dir.path()) as f64 / 1048576.0);
    if !real.is_empty() {
        println!(
            "vectors: each composed from the cached vectors of the real papers its text was drawn from (half the \
             title paper's, half the mean of its sentences' papers), {vector_secs:.1} s for the three indexes"
        );
        for (name, v) in [("f32 (the product's)", &f32s), ("f16", &f16s), ("int8", &int8)] {
            println!("  vector index {name:<21} {} vectors, {:.0} MiB", v.len(), v.vector_bytes() as f64 / 1048576.0);
        }
    }

    // Problem texts (the needs files, in turn) and the keyword queries a 成果库 search gets.
    let mut needs = vec![];
    for f in ["needs_dev.tsv", "needs_dev_hard.tsv", "needs_extra.tsv", "needs_extra_hard.tsv"] {
        needs.extend(read_needs(&csl.join(f))?.into_iter().map(|n| n.2));
    }
    let names = ["need (problem text)", "two keywords", "one keyword"];
    let mut runs: HashMap<&str, Vec<Vec<f64>>> = HashMap::new();
    let mut record =
        |name: &'static str, kind: usize, ms: f64| runs.entry(name).or_insert(vec![vec![]; 3])[kind].push(ms);
    // Per narrower precision (f16, int8): ids of the f32 top 10 and top 100 found.
    let (mut same10, mut overlap100, mut compared) = ([0usize; 2], [0usize; 2], 0usize);
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
    for i in 0..n_queries {
        let kind = i % 3;
        let q = match kind {
            0 => needs[(i / 3) % needs.len()].clone(),
            _ => {
                let p = loop {
                    let p = &papers[rng.gen_range(0..papers.len())];
                    if p.keywords.len() >= 2 {
                        break p;
                    }
                };
                if kind == 1 { format!("{} {}", p.keywords[0], p.keywords[1]) } else { p.keywords[0].clone() }
            }
        };
        let t = Instant::now();
        let b = idx.baseline_search(&q, 10)?;
        record("BM25 baseline", kind, ms(t));
        std::hint::black_box(b);
        let Some(e) = &embedder else {
            let t = Instant::now();
            std::hint::black_box(hybrid::rank(&idx, None, &q, 10)?);
            record("product, lexical only", kind, ms(t));
            continue;
        };
        let t = Instant::now();
        let qv = e.embed_query(&q).map_err(|e| anyhow::anyhow!("{e}"))?;
        let embed = ms(t);
        record("query embedding", kind, embed);
        let t = Instant::now();
        std::hint::black_box(hybrid::rank(&idx, Some((&f32s, &qv)), &q, 10)?);
        let rank = ms(t);
        record("product", kind, embed + rank);
        // A published need's page: its vector was stored by the background work, nothing to embed.
        record("product, vector stored", kind, rank);
        let mut lists = vec![];
        for (name, set) in [("dense alone, f16", &f16s), ("dense alone, int8", &int8), ("dense alone, f32", &f32s)] {
            let t = Instant::now();
            lists.push(set.nearest(&qv, 100));
            record(name, kind, embed + ms(t));
        }
        let top = |v: &[(String, f32)], n: usize| v.iter().take(n).map(|x| x.0.clone()).collect::<Vec<_>>();
        let exact100: HashSet<String> = top(&lists[2], 100).into_iter().collect();
        let exact10: HashSet<String> = top(&lists[2], 10).into_iter().collect();
        for k in 0..2 {
            same10[k] += lists[k].iter().take(10).filter(|x| exact10.contains(&x.0)).count();
            overlap100[k] += lists[k].iter().filter(|x| exact100.contains(&x.0)).count();
        }
        compared += 1;
    }
    println!(
        "{n_queries} queries on one thread, top 10 (the product with its reasons; the dense lists the 100 the \
         product blends), kinds in turn: the {} needs of needs_{{dev,extra}}{{,_hard}}.tsv, then two and one \
         keywords of a random CSL paper; times include the query's embedding where there is one:",
        needs.len()
    );
    let order = [
        "product",
        "product, vector stored",
        "product, lexical only",
        "BM25 baseline",
        "dense alone, f16",
        "dense alone, int8",
        "dense alone, f32",
        "query embedding",
    ];
    for name in order {
        let Some(r) = runs.get_mut(name) else { continue };
        let mut all: Vec<f64> = r.iter().flatten().copied().collect();
        println!("  {name:<22} {:<20} {}", "all kinds", percentiles(&mut all));
        for (k, v) in r.iter_mut().enumerate() {
            println!("  {name:<22} {:<20} {}", names[k], percentiles(v));
        }
    }
    for (k, name) in ["f16", "int8"].iter().enumerate().filter(|_| compared > 0) {
        println!(
            "{name} against f32 ({compared} queries): {:.2} % of the f32 top 10 and {:.2} % of its top 100 found",
            100.0 * same10[k] as f64 / (compared * 10) as f64,
            100.0 * overlap100[k] as f64 / (compared * 100) as f64
        );
    }
    println!(
        "peak RSS (VmHWM, includes the memory-mapped index pages touched and the model): {:.0} MiB",
        peak_rss_mib()
    );
    Ok(())
}

fn threshold(csl: &Path, model: &Path) -> Result<()> {
    let e = load_model(model)?;
    let docs: Vec<AchievementDoc> = read_csl(&csl.join("dev.tsv"))?.iter().map(|p| doc(p, true)).collect();
    let (vectors, _) = vectors_of(&e, &docs)?;
    let query = |q: &str| e.embed_query(q).map_err(|e| anyhow::anyhow!("{e}"));
    let cosine = |qv: &[f32], id: &str| vectors.score(id, qv);
    // The relevant paper's cosine for each dev need (plain and hard wording).
    let (mut relevant, mut random) = (vec![], vec![]);
    for file in ["needs_dev.tsv", "needs_dev_hard.tsv"] {
        for (n, (_, paper, q)) in read_needs(&csl.join(file))?.into_iter().enumerate() {
            let qv = query(&q)?;
            let Some(c) = cosine(&qv, &paper) else { bail!("{file}: paper {paper} not in dev.tsv") };
            relevant.push(c);
            // A paper picked without regard to the need (a fixed stride through the corpus).
            let other = &docs[(n * 7919 + 13) % docs.len()].external_id;
            if *other != paper {
                random.extend(cosine(&qv, other));
            }
        }
    }
    // The best cosine of a need whose paper is not in the corpus.
    let mut foreign = vec![];
    for file in ["needs_extra.tsv", "needs_extra_hard.tsv"] {
        for (_, _, q) in read_needs(&csl.join(file))? {
            let qv = query(&q)?;
            foreign.push(vectors.nearest(&qv, 1).first().map_or(0.0, |x| x.1));
        }
    }
    println!(
        "{} dev needs (relevant paper's cosine), {} extra needs against dev.tsv (best cosine; no relevant paper there)",
        relevant.len(),
        foreign.len()
    );
    println!(
        "{:>9} {:>22} {:>28} {:>26}",
        "threshold", "relevant kept", "foreign best withheld", "random paper withheld"
    );
    let share = |v: &[f32], t: f32, below: bool| {
        let n = v.iter().filter(|c| (**c < t) == below).count();
        format!("{n:>7} {:>5.1}%", 100.0 * n as f64 / v.len().max(1) as f64)
    };
    for t in (76..=90).map(|x| x as f32 / 100.0) {
        println!(
            "{t:>9.2} {:>22} {:>28} {:>26}",
            share(&relevant, t, false),
            share(&foreign, t, true),
            share(&random, t, true)
        );
    }
    Ok(())
}

fn main() -> Result<()> {
    match Cli::parse().cmd {
        Cmd::Quality { csl, file, set, dump, model } => quality(&csl, &file, &set, dump.as_deref(), model.as_deref()),
        Cmd::Latency { csl, docs, queries, model } => latency(&csl, docs, queries.max(1), model.as_deref()),
        Cmd::Needs { csl, files, model, set, verbose } => needs(&csl, &files, &model, &set, verbose),
        Cmd::Threshold { csl, model } => threshold(&csl, &model),
    }
}
