//! Dense retrieval alone on the CSL enterprise needs: nDCG@10, embedding throughput, load time, memory.
//!
//! ```text
//! cargo run --release -p xietong-embed --example dense_eval -- [--model DIR] [--data DIR] [--fields tak|ta]
//!     [--extra] [--no-cache]
//! ```
//! Corpus: every record of `dev.tsv` (and of `extra.tsv` with `--extra`), embedded as a passage made of the
//! title, the abstract and (with `--fields tak`, the default) the keywords, one per line. Queries: each row of
//! `needs_dev_hard.tsv`, `needs_dev.tsv` (and the `extra` files with `--extra`), embedded as queries; documents
//! ranked by cosine. nDCG@10 with binary relevance (one relevant paper per query), as `match_bench`.
//!
//! Passage vectors are cached in `data/cache/dense_eval/` under a name derived from the model name, its
//! settings and the SHA-256 of the passages, so a second run only embeds the queries. Throughput is measured
//! on the passages actually embedded in this run (all of them on a cold cache, a 64-passage sample otherwise).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest, Sha256};
use xietong_embed::{Embedder, dot};

struct Args {
    model: PathBuf,
    data: PathBuf,
    fields: String,
    extra: bool,
    cache: bool,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

fn parse_args() -> Args {
    let root = workspace_root();
    let mut a = Args {
        model: std::env::var_os("XIETONG_MODEL_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("data/models/multilingual-e5-small")),
        data: root.join("../shared/data/csl"),
        fields: "tak".into(),
        extra: false,
        cache: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--model" => a.model = it.next().expect("--model DIR").into(),
            "--data" => a.data = it.next().expect("--data DIR").into(),
            "--fields" => a.fields = it.next().expect("--fields tak|ta"),
            "--extra" => a.extra = true,
            "--no-cache" => a.cache = false,
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

struct Record {
    id: String,
    passage: String,
}

fn read_corpus(path: &Path, fields: &str) -> Vec<Record> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip(1)
        .map(|line| {
            let c: Vec<&str> = line.split('\t').collect();
            assert!(c.len() >= 4, "{}: expected id, title, abstract, keywords", path.display());
            let mut passage = format!("{}\n{}", c[1], c[2]);
            if fields == "tak" {
                passage.push('\n');
                passage.push_str(&c[3].split(';').map(str::trim).collect::<Vec<_>>().join("；"));
            }
            Record { id: c[0].to_string(), passage }
        })
        .collect()
}

fn read_needs(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip(1)
        .map(|line| {
            let c: Vec<&str> = line.splitn(3, '\t').collect();
            (c[1].to_string(), c[2].to_string())
        })
        .collect()
}

fn rss_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn cache_path(e: &Embedder, records: &[Record]) -> PathBuf {
    let mut h = Sha256::new();
    // what changes the vectors (not the batching)
    let s = e.settings();
    h.update(format!("{}\0{}\0{}\0{:?}\0{}", s.name, s.query_prefix, s.passage_prefix, s.pooling, s.max_tokens));
    for r in records {
        h.update(r.passage.as_bytes());
        h.update([0]);
    }
    let key = hex::encode(&h.finalize()[..12]);
    workspace_root().join("data/cache/dense_eval").join(format!("{}-{key}.f32", e.settings().name))
}

fn load_cache(path: &Path, n: usize, dim: usize) -> Option<Vec<Vec<f32>>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path).ok()?.read_to_end(&mut bytes).ok()?;
    if bytes.len() != n * dim * 4 {
        return None;
    }
    let flat: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
    Some(flat.chunks(dim).map(<[f32]>::to_vec).collect())
}

fn save_cache(path: &Path, vectors: &[Vec<f32>]) {
    std::fs::create_dir_all(path.parent().unwrap()).expect("cache dir");
    let tmp = path.with_extension("partial");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp).expect("cache file"));
    for v in vectors {
        for x in v {
            f.write_all(&x.to_le_bytes()).unwrap();
        }
    }
    f.flush().unwrap();
    drop(f);
    std::fs::rename(&tmp, path).unwrap();
}

fn embed_corpus(e: &Embedder, records: &[Record], use_cache: bool) -> (Vec<Vec<f32>>, Option<(usize, f64)>) {
    let path = cache_path(e, records);
    if use_cache && let Some(v) = load_cache(&path, records.len(), e.dim()) {
        eprintln!("passage vectors from cache {}", path.display());
        return (v, None);
    }
    let mut out = Vec::with_capacity(records.len());
    let t = Instant::now();
    for (i, chunk) in records.chunks(64).enumerate() {
        let texts: Vec<&str> = chunk.iter().map(|r| r.passage.as_str()).collect();
        out.extend(e.embed_passages(&texts).expect("embed"));
        let done = (i * 64 + chunk.len()) as f64;
        eprint!("\rembedded {done}/{} ({:.1} passages/s)", records.len(), done / t.elapsed().as_secs_f64());
    }
    eprintln!();
    let secs = t.elapsed().as_secs_f64();
    if use_cache {
        save_cache(&path, &out);
    }
    (out, Some((records.len(), secs)))
}

fn ndcg_at_10(rank: Option<usize>) -> f64 {
    match rank {
        Some(r) if r < 10 => 1.0 / ((r + 2) as f64).log2(),
        _ => 0.0,
    }
}

fn main() {
    let args = parse_args();
    let rss0 = rss_kib("VmRSS:");
    let t = Instant::now();
    let e = Embedder::load(&args.model).unwrap_or_else(|err| panic!("{err}"));
    let load_ms = t.elapsed().as_secs_f64() * 1000.0;
    let rss_loaded = rss_kib("VmRSS:");
    println!("model: {} ({}), dim {}, settings {:?}", e.settings().name, args.model.display(), e.dim(), e.settings());
    println!("load: {load_ms:.0} ms; RSS {} MiB -> {} MiB after load", rss0 / 1024, rss_loaded / 1024);
    println!("passage = title + abstract{} (one per line)", if args.fields == "tak" { " + keywords" } else { "" });
    println!("threads: {}", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));

    let mut sets = vec![("dev.tsv", vec!["needs_dev_hard.tsv", "needs_dev.tsv"])];
    if args.extra {
        sets.push(("extra.tsv", vec!["needs_extra_hard.tsv", "needs_extra.tsv"]));
    }
    for (corpus_file, needs_files) in sets {
        let records = read_corpus(&args.data.join(corpus_file), &args.fields);
        let (vectors, timing) = embed_corpus(&e, &records, args.cache);
        let lens: Vec<usize> = records.iter().take(200).map(|r| e.token_count(&r.passage).unwrap()).collect();
        let mean_len = lens.iter().sum::<usize>() as f64 / lens.len() as f64;
        let over = lens.iter().filter(|&&l| l > e.settings().max_tokens).count();
        match timing {
            Some((n, secs)) => {
                println!("{corpus_file}: {n} passages embedded in {secs:.1} s = {:.2} passages/s", n as f64 / secs)
            }
            None => {
                let sample: Vec<&str> = records.iter().take(64).map(|r| r.passage.as_str()).collect();
                let t = Instant::now();
                e.embed_passages(&sample).expect("embed");
                let secs = t.elapsed().as_secs_f64();
                let rate = 64.0 / secs;
                println!("{corpus_file}: cached; sample of 64 passages in {secs:.1} s = {rate:.2} passages/s");
            }
        }
        println!(
            "  tokens per passage (first 200, prefix and <s></s> included): mean {mean_len:.0}, max {}, {over} over \
             the {}-token cut",
            lens.iter().max().unwrap(),
            e.settings().max_tokens
        );
        let index: HashMap<&str, usize> = records.iter().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect();
        for needs in needs_files {
            let path = args.data.join(needs);
            if !path.exists() {
                println!("  {needs}: absent");
                continue;
            }
            let queries = read_needs(&path);
            let mut total = 0.0;
            let mut lat = Vec::with_capacity(queries.len());
            let mut hits1 = 0;
            for (paper, text) in &queries {
                let t = Instant::now();
                let q = e.embed_query(text).expect("embed query");
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
                let target = *index.get(paper.as_str()).unwrap_or_else(|| panic!("{paper} not in {corpus_file}"));
                let s = dot(&q, &vectors[target]);
                // rank = documents scoring strictly higher (ties in favour of the relevant one)
                let rank = vectors.iter().filter(|v| dot(&q, v) > s).count();
                hits1 += usize::from(rank == 0);
                total += ndcg_at_10(Some(rank));
            }
            lat.sort_by(f64::total_cmp);
            println!(
                "  {needs}: nDCG@10 {:.3}  (P@1 {:.3}, {} queries; query embedding p50 {:.0} ms, p95 {:.0} ms)",
                total / queries.len() as f64,
                hits1 as f64 / queries.len() as f64,
                queries.len(),
                lat[lat.len() / 2],
                lat[lat.len() * 95 / 100]
            );
        }
    }
    println!("peak RSS (VmHWM): {} MiB", rss_kib("VmHWM:") / 1024);
}
