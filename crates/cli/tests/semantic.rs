//! Matching with the real sentence-embedding model (scripts/install-model.sh), never a mock: the
//! vectors are computed once and stored, and the problem page's ranking is the one `xietong match`
//! prints. Without the model these tests say so and pass, except under CI=true, where they fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn model_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("XIETONG_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/models/multilingual-e5-small"));
    if dir.join("model.safetensors").exists() {
        return Some(dir);
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(!ci, "CI=true: the embedding model is missing at {} (run scripts/install-model.sh)", dir.display());
    eprintln!("skipped: no embedding model at {} (run scripts/install-model.sh)", dir.display());
    None
}

fn xietong(dir: &Path, model: Option<&Path>, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xietong"));
    c.arg("--data-dir").arg(dir);
    if let Some(m) = model {
        c.arg("--model-dir").arg(m);
    }
    c.args(args).env_remove("XIETONG_DATABASE_URL").env_remove("XIETONG_SM4_KEYS").env_remove("XIETONG_MODEL_DIR");
    c.output().unwrap()
}

fn ok(o: &Output) -> (String, String) {
    let (out, err) = (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned());
    assert!(o.status.success(), "{err}");
    (out, err)
}

/// Keep `keep` published achievements of the demo (the rest expire), so a debug build embeds them quickly.
async fn keep_published(dir: &Path, keep: &[&str]) {
    let url = format!("sqlite://{}", dir.join("xietong.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("UPDATE achievements SET status = 'expired'").execute(&pool).await.unwrap();
    for k in keep {
        sqlx::query("UPDATE achievements SET status = 'published' WHERE external_id = $1")
            .bind(*k)
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
}

#[tokio::test]
async fn the_problem_page_ranks_as_xietong_match_prints_and_vectors_are_computed_once() {
    let Some(model) = model_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    ok(&xietong(dir.path(), None, &["demo"]));
    // Papers on welding, bridges, hydraulics and food: the need below has one right answer among them.
    let keep =
        ["E1372", "E0001", "E0002", "E0003", "E0004", "E0005", "E0006", "E0007", "E0008", "E0009", "E0010", "E0011"];
    keep_published(dir.path(), &keep).await;

    // A need in trade words, with its title and description only.
    let title = "钢箱梁焊缝应力";
    let description =
        "我公司生产架桥机钢箱梁，长焊缝焊完后内部应力大，放置一段时间会变形开裂，希望找到消除或降低焊后应力的工艺。";
    let f = dir.path().join("p.tsv");
    std::fs::write(
        &f,
        format!(
            "企业名称\t难题名称\t难题描述\t关键词\t行业代码\t预算（万元）\t合作方式\t期望解决日期\t是否保密\n\
             花花牛\t{title}\t{description}\t\t\t\t\t\t否\n"
        ),
    )
    .unwrap();
    ok(&xietong(dir.path(), None, &["import", "problems", "--file", f.to_str().unwrap(), "--as", "kejiju"]));
    let (queue, _) = ok(&xietong(dir.path(), None, &["docking", "list", "reviews", "--as", "kejiju"]));
    let id = queue.lines().find(|l| l.contains(title)).expect("queued").split('\t').nth(1).unwrap().to_string();
    for action in ["pass_formal", "approve"] {
        let args = ["docking", "review", "--library", "problem", "--id", &id, "--action", action, "--as", "kejiju"];
        ok(&xietong(dir.path(), None, &args));
    }

    // xietong match: the vectors are computed first (12 of 12), then the need ranked.
    let q = dir.path().join("q.tsv");
    std::fs::write(&q, format!("need\t{title} {description}\n")).unwrap();
    let run = ["match", "--target", "achievements", "--queries", q.to_str().unwrap(), "--top", "10"];
    let (trec, err) = ok(&xietong(dir.path(), Some(&model), &run));
    assert!(err.contains("语义向量：12/12 项成果已计算（本次计算 12 项）"), "{err}");
    let ranked: Vec<(String, f64)> = trec
        .lines()
        .map(|l| {
            let c: Vec<&str> = l.split(' ').collect();
            (c[2].to_string(), c[4].parse().unwrap())
        })
        .collect();
    assert_eq!(ranked.len(), 10, "{trec}");
    assert_eq!(ranked[0].0, "E1372", "the welding-stress paper first: {trec}");
    // Stored once: a second run computes nothing.
    let (again, err) = ok(&xietong(dir.path(), Some(&model), &run));
    assert!(err.contains("（本次计算 0 项）"), "{err}");
    assert_eq!(again, trec);

    // The problem page's list (what `docking match` prints) is that ranking, the withheld left out.
    let args = ["docking", "match", "--of", "problem", "--id", &id, "--top", "10", "--as", "kejiju"];
    let (page, err) = ok(&xietong(dir.path(), Some(&model), &args));
    let listed: Vec<(String, f64, String)> = page
        .lines()
        .filter(|l| l.starts_with("achievement\t"))
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (c[3].to_string(), c[4].parse().unwrap(), c[5].to_string())
        })
        .collect();
    let withheld = err
        .lines()
        .find_map(|l| l.strip_prefix("另有 ").and_then(|r| r.strip_suffix(" 项成果相关度不足，未推荐")))
        .map_or(0, |n| n.parse::<usize>().unwrap());
    assert_eq!(listed.len() + withheld, 10, "{page}\n{err}");
    assert!(withheld > 0, "most of these papers have nothing to do with welding: {page}");
    let titles = title_of(dir.path()).await;
    let mut rest = ranked.iter();
    for (t, score, reasons) in &listed {
        let found = rest.by_ref().find(|(ext, _)| titles.get(ext) == Some(t));
        let (_, s) = found.unwrap_or_else(|| panic!("{t} listed out of the TREC order\n{trec}\n{page}"));
        assert!((s - score).abs() < 0.0006, "{t}: {s} in the run, {score} on the page");
        assert!(reasons.starts_with("语义相似度 0."), "{reasons}");
    }
    assert!(listed[0].2.contains("命中：") && listed[0].2.contains("焊缝"), "{}", listed[0].2);
    // The need's own vector was stored with the records' (every published need's: the page above ranked
    // with it, equal to the run that embedded the same text as a query), so a page does not embed it.
    let url = format!("sqlite://{}", dir.path().join("xietong.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT record_key FROM embeddings WHERE kind = 'problem'").fetch_all(&pool).await.unwrap();
    pool.close().await;
    assert!(stored.contains(&id), "{stored:?}");
}

async fn title_of(dir: &Path) -> std::collections::HashMap<String, String> {
    let url = format!("sqlite://{}", dir.join("xietong.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT external_id, title FROM achievements").fetch_all(&pool).await.unwrap();
    pool.close().await;
    rows.into_iter().collect()
}
