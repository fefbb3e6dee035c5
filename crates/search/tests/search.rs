//! Matching on real CSL papers (CSL dataset, Apache-2.0): found by two of their keywords with the
//! keywords column emptied, explained, maintained by external id, and safe on any query.

use proptest::prelude::*;
use xietong_search::{terms, AchievementDoc, MatchIndex, MatchOptions, SearchError, MAX_QUERY_CHARS};

/// The first rows of dev.tsv, copied with their ids.
fn papers() -> Vec<AchievementDoc> {
    let text = include_str!("csl_sample.tsv");
    text.lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            AchievementDoc {
                external_id: c[0].into(),
                title: c[1].into(),
                abstract_text: c[2].into(),
                keywords: c[3].split(';').map(str::to_string).collect(),
                discipline: c[4].into(),
                category: c[5].into(),
            }
        })
        .collect()
}

fn without_keywords(mut v: Vec<AchievementDoc>) -> Vec<AchievementDoc> {
    for d in &mut v {
        d.keywords.clear();
    }
    v
}

#[test]
fn two_keywords_find_their_paper_with_reasons() {
    let docs = papers();
    let idx = MatchIndex::in_ram().unwrap();
    idx.add_all(&without_keywords(docs.clone())).unwrap();
    assert_eq!(idx.num_docs(), docs.len() as u64);
    let mut found = 0;
    let with_two: Vec<&AchievementDoc> = docs.iter().filter(|d| d.keywords.len() >= 2).collect();
    for d in &with_two {
        let q = format!("{} {}", d.keywords[0], d.keywords[1]);
        let hits = idx.search(&q, 10, &MatchOptions::default()).unwrap();
        if hits.first().map(|h| h.external_id.as_str()) == Some(d.external_id.as_str()) {
            found += 1;
            let h = &hits[0];
            assert!(!h.matched_terms.is_empty(), "{q}: matched terms are named");
            assert!(h.reasons_zh.iter().any(|r| r.contains("命中")), "{q}: {:?}", h.reasons_zh);
        }
    }
    assert!(found * 10 >= with_two.len() * 8, "at least 80 % found first: {found}/{}", with_two.len());
}

#[test]
fn replace_and_delete_by_external_id() {
    let docs = papers();
    let idx = MatchIndex::in_ram().unwrap();
    idx.add_all(&docs).unwrap();
    let mut w = idx.writer().unwrap();
    let mut changed = docs[0].clone();
    changed.title = "尼龙六六复合材料界面改性研究".into();
    idx.add(&mut w, &changed).unwrap();
    idx.delete(&mut w, &docs[1].external_id);
    idx.commit(&mut w).unwrap();
    assert_eq!(idx.num_docs(), docs.len() as u64 - 1, "replaced, not duplicated; one deleted");
    let hits = idx.search("尼龙六六 界面改性", 3, &MatchOptions::default()).unwrap();
    assert_eq!(hits[0].external_id, docs[0].external_id);
    assert!(idx.search(&docs[1].title, 10, &MatchOptions::default()).unwrap().iter().all(|h| h.external_id != docs[1].external_id));
}

#[test]
fn empty_and_overlong_queries_are_refused_in_chinese() {
    let idx = MatchIndex::in_ram().unwrap();
    idx.add_all(&papers()).unwrap();
    match idx.search("   ", 10, &MatchOptions::default()) {
        Err(SearchError::BadQuery(m)) => assert_eq!(m, "查询内容不能为空"),
        other => panic!("{other:?}"),
    }
    let long = "材".repeat(MAX_QUERY_CHARS + 1);
    match idx.baseline_search(&long, 10) {
        Err(SearchError::BadQuery(m)) => assert!(m.contains("不能超过"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(idx.search("，。！？", 10, &MatchOptions::default()).unwrap().is_empty(), "punctuation alone matches nothing");
}

#[test]
fn terms_are_jieba_search_mode_lower_case() {
    let t = terms("中华人民共和国 TANTIVY 检索");
    assert!(t.contains(&"中华人民共和国".to_string()) && t.contains(&"共和国".to_string()), "{t:?}");
    assert!(t.contains(&"tantivy".to_string()));
}

#[test]
fn results_are_deterministic() {
    let idx = MatchIndex::in_ram().unwrap();
    idx.add_all(&papers()).unwrap();
    let q = &papers()[3].abstract_text;
    let a: Vec<String> = idx.search(q, 10, &MatchOptions::default()).unwrap().into_iter().map(|h| h.external_id).collect();
    let b: Vec<String> = idx.search(q, 10, &MatchOptions::default()).unwrap().into_iter().map(|h| h.external_id).collect();
    assert_eq!(a, b);
}

#[test]
fn an_index_on_disk_reopens() {
    let dir = tempfile::tempdir().unwrap();
    {
        let idx = MatchIndex::create_in_dir(dir.path()).unwrap();
        idx.add_all(&papers()).unwrap();
    }
    let idx = MatchIndex::open_dir(dir.path()).unwrap();
    assert_eq!(idx.num_docs(), papers().len() as u64);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn any_query_is_answered_or_refused_without_panicking(q in "\\PC{0,300}") {
        use std::sync::OnceLock;
        static IDX: OnceLock<MatchIndex> = OnceLock::new();
        let idx = IDX.get_or_init(|| { let i = MatchIndex::in_ram().unwrap(); i.add_all(&papers()).unwrap(); i });
        let _ = idx.search(&q, 10, &MatchOptions::default());
        let _ = idx.baseline_search(&q, 10);
    }
}
