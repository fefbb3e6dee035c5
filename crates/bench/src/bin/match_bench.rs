//! Matching benchmarks on the real CSL papers (../shared/data/csl; see its README). Prints figures;
//! it is not a test.
//!
//! `quality`: the three query types of the data README, scored with nDCG@10 and Recall@10, for the
//! plain BM25 baseline and the project's matching, in the same process over the same index.
//! `latency`: a corpus of N documents recombined from real abstract sentences (seeded), indexed
//! on disk with one thread; prints the build rate, index size, p50/p95/p99 query latency on one
//! core, and peak RSS.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
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
        /// Override the matching weights (for tuning on dev.tsv), e.g. "title_boost=2,phrase_bonus=0.5".
        #[arg(long, default_value = "")]
        set: String,
    },
    Latency {
        #[arg(long, default_value = "../shared/data/csl")]
        csl: PathBuf,
        #[arg(long, default_value_t = 300_000)]
        docs: usize,
        #[arg(long, default_value_t = 2000)]
        queries: usize,
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
    let t1 = papers.iter().filter(|p| p.keywords.len() >= 2).map(|p| (format!("{} {}", p.keywords[0], p.keywords[1]), HashSet::from([p.id.clone()]))).collect();
    let mut carriers: HashMap<&str, HashSet<String>> = HashMap::new();
    for p in papers {
        for k in &p.keywords {
            carriers.entry(k.as_str()).or_default().insert(p.id.clone());
        }
    }
    let mut t2: Vec<(String, HashSet<String>)> = carriers.into_iter().filter(|(_, s)| (2..=30).contains(&s.len())).map(|(k, s)| (k.to_string(), s)).collect();
    t2.sort_by(|a, b| a.0.cmp(&b.0));
    let (a, b): (Vec<(usize, &Paper)>, Vec<(usize, &Paper)>) = papers.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let b_docs: Vec<AchievementDoc> = b.iter().map(|(_, p)| doc(p, true)).collect();
    let t3 = a
        .iter()
        .map(|(_, p)| (p.abs.clone(), b.iter().filter(|(_, q)| q.discipline == p.discipline).map(|(_, q)| q.id.clone()).collect::<HashSet<_>>()))
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
    let dcg: f64 = ranked.iter().take(10).enumerate().filter(|(_, id)| relevant.contains(*id)).map(|(i, _)| 1.0 / ((i + 2) as f64).log2()).sum();
    let idcg: f64 = (0..relevant.len().min(10)).map(|i| 1.0 / ((i + 2) as f64).log2()).sum();
    let found = ranked.iter().take(10).filter(|id| relevant.contains(*id)).count();
    (if idcg > 0.0 { dcg / idcg } else { 0.0 }, found as f64 / relevant.len().max(1) as f64)
}

fn options(set: &str) -> Result<MatchOptions> {
    let mut o = MatchOptions::default();
    for kv in set.split(',').filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=').context("--set expects name=value pairs")?;
        let f: f32 = v.parse().context("--set value must be a number")?;
        match k {
            "title_boost" => o.title_boost = f,
            "keyword_boost" => o.keyword_boost = f,
            "max_query_terms" => o.max_query_terms = f as usize,
            "phrase_bonus" => o.phrase_bonus = f,
            "discipline_voters" => o.discipline_voters = f as usize,
            "discipline_bonus" => o.discipline_bonus = f,
            "candidates" => o.candidates = f as usize,
            "descriptive_terms" => o.descriptive_terms = f as usize,
            _ => bail!("unknown weight {k}"),
        }
    }
    Ok(o)
}

fn quality(csl: &Path, file: &str, set: &str) -> Result<()> {
    let papers = read_csl(&csl.join(file))?;
    println!("matching quality on CSL {file} ({} papers); nDCG@10 binary relevance, log2 discount; Recall@10 = relevant in top 10 / all relevant", papers.len());
    println!("baseline: plain BM25 (tantivy, k1 1.2, b 0.75) over jieba search-mode tokens of title + abstract (+ keywords); project: xietong-search defaults");
    println!("{:<28} {:>7} {:>12} {:>12} {:>12} {:>12}", "query type", "queries", "BM25 nDCG", "BM25 R@10", "ours nDCG", "ours R@10");
    let opts = options(set)?;
    if !set.is_empty() {
        println!("weights: {opts:?}");
    }
    for set in query_sets(&papers) {
        let idx = MatchIndex::in_ram()?;
        idx.add_all(&set.corpus)?;
        let (mut bn, mut br, mut on, mut or) = (0.0, 0.0, 0.0, 0.0);
        for (q, rel) in &set.queries {
            let b: Vec<String> = idx.baseline_search(q, 10)?.into_iter().map(|h| h.external_id).collect();
            let o: Vec<String> = idx.search(q, 10, &opts)?.into_iter().map(|h| h.external_id).collect();
            let (n1, r1) = score(&b, rel);
            let (n2, r2) = score(&o, rel);
            bn += n1;
            br += r1;
            on += n2;
            or += r2;
        }
        let n = set.queries.len().max(1) as f64;
        println!("{:<28} {:>7} {:>12.3} {:>12.3} {:>12.3} {:>12.3}", set.name, set.queries.len(), bn / n, br / n, on / n, or / n);
    }
    Ok(())
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<f64>().ok()))
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p).map(|rd| rd.filter_map(|e| e.ok()).filter_map(|e| e.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len()).sum()).unwrap_or(0)
}

fn latency(csl: &Path, n_docs: usize, n_queries: usize) -> Result<()> {
    let mut papers = read_csl(&csl.join("dev.tsv"))?;
    papers.extend(read_csl(&csl.join("extra.tsv"))?);
    let sentences: Vec<&str> = papers.iter().flat_map(|p| p.abs.split('。')).map(str::trim).filter(|s| s.chars().count() >= 8).collect();
    let mut rng = StdRng::seed_from_u64(20261124);
    println!("latency: {n_docs} documents recombined from {} sentences of {} real CSL abstracts (seed 20261124), one indexing thread, one query thread", sentences.len(), papers.len());
    let dir = tempfile::tempdir()?;
    let idx = MatchIndex::create_in_dir(dir.path())?;
    let t0 = Instant::now();
    let mut w = idx.writer()?;
    for i in 0..n_docs {
        let p = &papers[rng.gen_range(0..papers.len())];
        let k = rng.gen_range(3..7);
        let abs: Vec<&str> = (0..k).map(|_| sentences[rng.gen_range(0..sentences.len())]).collect();
        let d = AchievementDoc {
            external_id: format!("S{i:07}"),
            title: p.title.clone(),
            abstract_text: abs.join("。"),
            keywords: p.keywords.clone(),
            discipline: p.discipline.clone(),
            category: p.category.clone(),
        };
        idx.add(&mut w, &d)?;
    }
    idx.commit(&mut w)?;
    let build = t0.elapsed().as_secs_f64();
    println!("indexed {} documents in {:.1} s: {:.0} documents/s; index size {:.0} MiB", idx.num_docs(), build, n_docs as f64 / build, dir_size(dir.path()) as f64 / 1048576.0);
    let opts = MatchOptions::default();
    let mut lat = vec![];
    let mut base_lat = vec![];
    for i in 0..n_queries {
        let p = papers.choose(&mut rng).unwrap_or(&papers[0]);
        let q = match i % 3 {
            0 if p.keywords.len() >= 2 => format!("{} {}", p.keywords[0], p.keywords[1]),
            1 if !p.keywords.is_empty() => p.keywords[0].clone(),
            _ => p.abs.chars().take(600).collect(),
        };
        let t = Instant::now();
        idx.search(&q, 10, &opts)?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        idx.baseline_search(&q, 10)?;
        base_lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    for (name, v) in [("project", &mut lat), ("BM25 baseline", &mut base_lat)] {
        v.sort_by(|a, b| a.total_cmp(b));
        let pct = |p: f64| v[((v.len() as f64 * p) as usize).min(v.len() - 1)];
        println!("{name}: {} queries (keyword pairs, single keywords, 600-character abstracts), p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms", v.len(), pct(0.5), pct(0.95), pct(0.99));
    }
    println!("peak RSS {:.0} MiB", peak_rss_mib());
    Ok(())
}

fn main() -> Result<()> {
    match Cli::parse().cmd {
        Cmd::Quality { csl, file, set } => quality(&csl, &file, &set),
        Cmd::Latency { csl, docs, queries } => latency(&csl, docs, queries.max(1)),
    }
}
