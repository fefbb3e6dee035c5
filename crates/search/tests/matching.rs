//! Behaviour of the matching on real CSL papers (csl_sample.tsv, see README.md beside it). Quality
//! and speed figures are the `match_bench` benchmark's business, not these tests'.

use std::sync::OnceLock;

use proptest::prelude::*;
use xietong_search::{AchievementDoc, Hit, MAX_QUERY_CHARS, MatchIndex, MatchOptions, SearchError, terms};

/// The first 60 papers of dev.tsv.
fn papers() -> Vec<AchievementDoc> {
    include_str!("csl_sample.tsv")
        .lines()
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
                maturity: None,
                location: None,
            }
        })
        .collect()
}

/// The papers with their keywords column emptied, as the benchmark's keyword queries run.
fn without_keywords() -> Vec<AchievementDoc> {
    papers().into_iter().map(|d| AchievementDoc { keywords: vec![], ..d }).collect()
}

fn shared_index() -> &'static MatchIndex {
    static IDX: OnceLock<MatchIndex> = OnceLock::new();
    IDX.get_or_init(|| MatchIndex::build_in_ram(&papers()).expect("index"))
}

fn ids(hits: &[Hit]) -> Vec<&str> {
    hits.iter().map(|h| h.external_id.as_str()).collect()
}

#[test]
fn two_author_keywords_find_their_paper_though_keywords_are_not_indexed() {
    let idx = MatchIndex::build_in_ram(&without_keywords()).unwrap();
    assert_eq!(idx.num_docs(), 60);
    let o = MatchOptions::default();
    for (query, want) in [
        ("补肾活血汤 单纯收缩期高血压", "D0002"),
        ("花岗岩潜山 渤海海域", "D0006"),
        ("米曲霉3042 液体培养", "D0011"),
        ("脱毒红薯 品种", "D0009"),
    ] {
        let hits = idx.search(query, 5, &o).unwrap();
        assert_eq!(hits.first().map(|h| h.external_id.as_str()), Some(want), "{query}: {:?}", ids(&hits));
        assert_eq!(hits[0].rank, 1);
        assert!(ids(&idx.baseline_search(query, 5).unwrap()).contains(&want), "baseline {query}");
    }
    // And most papers of the sample, by their first two keywords.
    let all = papers();
    let with_two: Vec<&AchievementDoc> = all.iter().filter(|d| d.keywords.len() >= 2).collect();
    let first = with_two
        .iter()
        .filter(|d| {
            idx.search(&format!("{} {}", d.keywords[0], d.keywords[1]), 1, &o)
                .unwrap()
                .first()
                .map(|h| h.external_id.as_str())
                == Some(d.external_id.as_str())
        })
        .count();
    assert!(first * 10 >= with_two.len() * 8, "{first}/{}", with_two.len());
}

#[test]
fn explanations_name_the_matched_terms_and_fields() {
    let idx = shared_index();
    let hits = idx.search("补肾活血汤 高血压", 3, &MatchOptions::default()).unwrap();
    let h = &hits[0];
    assert_eq!(h.external_id, "D0002");
    assert_eq!(h.matched_terms[..2], ["补肾活血汤".to_string(), "高血压".to_string()], "{:?}", h.matched_terms);
    let title = h.reasons_zh.iter().find(|r| r.starts_with("标题命中：")).expect("title reason");
    assert!(title.contains("补肾活血汤") && title.contains("高血压"), "{title}");
    // A term that is only part of a longer matched one is not named again.
    assert!(!title.contains("活血、") && !title.ends_with("活血"), "{title}");
    assert!(
        h.reasons_zh.iter().any(|r| r.starts_with("关键词命中：") && r.contains("补肾活血汤")),
        "{:?}",
        h.reasons_zh
    );
    assert!(
        h.reasons_zh.iter().any(|r| r.starts_with("标题含完整短语：") && r.contains("「补肾活血汤」")),
        "{:?}",
        h.reasons_zh
    );
}

#[test]
fn whole_abstracts_are_explained_by_their_discipline() {
    // Each paper's abstract, searched among the 59 others (a query about a subject, not a thing).
    let all = papers();
    let (mut told, mut best_term_first) = (0, 0);
    for d in all.iter().step_by(3) {
        let others: Vec<AchievementDoc> = all.iter().filter(|o| o.external_id != d.external_id).cloned().collect();
        let idx = MatchIndex::build_in_ram(&others).unwrap();
        let hits = idx.search(&d.abstract_text, 10, &MatchOptions::default()).unwrap();
        for h in &hits {
            for r in h.reasons_zh.iter().filter(|r| r.starts_with("学科相近：")) {
                assert!(
                    r.starts_with(&format!("学科相近：{}（前列结果中 ", h.discipline)),
                    "{r} names the hit's own discipline"
                );
                told += 1;
            }
        }
        // The most telling term is named first, not "研究" or "方法".
        if hits.first().is_some_and(|h| !["研究", "方法", "结果", "分析"].contains(&h.matched_terms[0].as_str()))
        {
            best_term_first += 1;
        }
    }
    assert!(told >= 10, "{told}");
    assert!(best_term_first >= 18, "{best_term_first}/20");
    for q in ["氧化铝全瓷冠 抗压强度", "飞行器姿态控制", "果蔬保鲜", "生物碱 质谱"] {
        for h in shared_index().search(q, 10, &MatchOptions::default()).unwrap() {
            assert!(!h.matched_terms.is_empty(), "{q} {h:?}");
            assert!(!h.reasons_zh.is_empty(), "{q} {h:?}");
            assert!(h.score.is_finite());
        }
    }
}

#[test]
fn a_query_naming_a_discipline_prefers_its_papers() {
    let idx = MatchIndex::build_in_ram(&without_keywords()).unwrap();
    let hits = idx.search("口腔医学", 5, &MatchOptions::default()).unwrap();
    let h = hits
        .iter()
        .find(|h| h.external_id == "D0005")
        .expect("the 口腔医学 paper is found though its text never says so");
    assert!(h.reasons_zh.iter().any(|r| r == "学科对口：查询点名「口腔医学」，此成果属口腔医学"), "{:?}", h.reasons_zh);
}

#[test]
fn delete_and_replace_by_external_id_persist_in_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let o = MatchOptions::default();
    let all = papers();
    {
        let idx = MatchIndex::build_in_dir(dir.path(), &all).unwrap();
        assert_eq!(idx.num_docs(), 60);
        assert_eq!(ids(&idx.search("补肾活血汤", 3, &o).unwrap()).first(), Some(&"D0002"));

        idx.delete("D0002").unwrap();
        assert_eq!(idx.num_docs(), 60, "not visible before the commit");
        idx.commit().unwrap();
        assert_eq!(idx.num_docs(), 59);
        assert!(!ids(&idx.search("补肾活血汤", 10, &o).unwrap()).contains(&"D0002"));
        assert!(idx.get("D0002").unwrap().is_none());

        let mut d = all[3].clone();
        assert_eq!(d.external_id, "D0003");
        d.title = "冷链物流中的荔枝预冷技术".into();
        d.maturity = Some("中试".into());
        d.location = Some("郑州市二七区".into());
        idx.replace(&d).unwrap();
        idx.commit().unwrap();
        assert_eq!(idx.num_docs(), 59, "replaced, not added");
        assert_eq!(ids(&idx.search("荔枝预冷", 3, &o).unwrap()).first(), Some(&"D0003"));
        assert_eq!(idx.get("D0003").unwrap().unwrap(), d);
        idx.delete("D9999").unwrap();
        idx.commit().unwrap();
    }
    let idx = MatchIndex::open_dir(dir.path()).unwrap();
    assert_eq!(idx.num_docs(), 59);
    assert!(idx.get("D0002").unwrap().is_none());
    assert_eq!(idx.get("D0003").unwrap().unwrap().maturity.as_deref(), Some("中试"));
    drop(idx);
    // Building again in the same directory starts from exactly the documents given.
    let idx = MatchIndex::build_in_dir(dir.path(), &all[..2]).unwrap();
    assert_eq!(idx.num_docs(), 2);
}

#[test]
fn empty_and_overlong_queries_are_refused_in_chinese() {
    let idx = shared_index();
    let o = MatchOptions::default();
    for q in ["", "   ", "\t\n\u{3000}"] {
        let e = idx.search(q, 10, &o).unwrap_err();
        assert_eq!(e, SearchError::EmptyQuery);
        assert_eq!(e.to_string(), "查询内容不能为空");
        assert_eq!(idx.baseline_search(q, 10).unwrap_err(), SearchError::EmptyQuery);
    }
    let long = "材".repeat(MAX_QUERY_CHARS + 1);
    let e = idx.search(&long, 10, &o).unwrap_err();
    assert_eq!(e, SearchError::QueryTooLong { limit: 2000, len: 2001 });
    assert!(e.to_string().contains("最多 2000 个字符"), "{e}");
    assert!(matches!(idx.baseline_search(&long, 10), Err(SearchError::QueryTooLong { .. })));
    assert!(idx.search(&"材".repeat(MAX_QUERY_CHARS), 10, &o).is_ok(), "exactly at the limit is fine");
    assert!(idx.search("，。！？", 10, &o).unwrap().is_empty(), "punctuation alone: nothing to look for");
}

#[test]
fn the_same_query_gives_the_same_order() {
    let idx = shared_index();
    let o = MatchOptions::default();
    for q in [papers()[5].abstract_text.clone(), "抗压强度".to_string(), "控制 设计".to_string()] {
        let a = idx.search(&q, 10, &o).unwrap();
        assert_eq!(a, idx.search(&q, 10, &o).unwrap());
        let other = MatchIndex::build_in_ram(&papers()).unwrap();
        assert_eq!(ids(&other.search(&q, 10, &o).unwrap()), ids(&a), "{q}");
        assert_eq!(idx.baseline_search(&q, 10).unwrap(), idx.baseline_search(&q, 10).unwrap());
    }
}

#[test]
fn terms_are_jieba_search_mode_lower_cased_without_punctuation() {
    let t = terms("尼龙复合材料，Lyapunov函数！ 中华人民共和国");
    assert!(t.contains(&"复合材料".to_string()) && t.contains(&"材料".to_string()), "{t:?}");
    assert!(t.contains(&"中华人民共和国".to_string()) && t.contains(&"共和国".to_string()), "{t:?}");
    assert!(t.contains(&"lyapunov".to_string()), "{t:?}");
    assert!(t.iter().all(|x| x.chars().any(char::is_alphanumeric)), "{t:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn no_query_string_panics(q in "\\PC{0,300}", raw in proptest::collection::vec(any::<char>(), 0..300)) {
        let idx = shared_index();
        let o = MatchOptions::default();
        for q in [q, raw.into_iter().collect::<String>()] {
            match idx.search(&q, 10, &o) {
                Ok(hits) => prop_assert!(hits.len() <= 10),
                Err(e) => prop_assert_eq!(e, SearchError::EmptyQuery),
            }
            let _ = idx.baseline_search(&q, 10);
            let _ = terms(&q);
        }
    }
}

#[test]
fn the_index_can_be_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<MatchIndex>();
    let idx = shared_index();
    std::thread::scope(|s| {
        let a = s.spawn(|| idx.search("抗压强度", 5, &MatchOptions::default()).unwrap());
        let b = s.spawn(|| idx.search("抗压强度", 5, &MatchOptions::default()).unwrap());
        assert_eq!(a.join().unwrap(), b.join().unwrap());
    });
}
