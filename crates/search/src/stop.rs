//! Words that say nothing about a subject, dropped from a query before its lexical ranking and
//! never shown as a reason: function words, the wording every enterprise need shares (我公司……
//! 希望……), and the scaffolding of paper titles (基于、研究、方法、系统). The list is checked on
//! the dev needs only (`match_bench needs`); a word stays in it only if dropping it helps there.

/// Whether `term` (a jieba term, lower-cased) is one of these words.
pub fn is_stop(term: &str) -> bool {
    STOP.binary_search(&term).is_ok()
}

/// Sorted (for the binary search); a test keeps it so.
const STOP: &[&str] = &[
    "a",
    "an",
    "and",
    "by",
    "for",
    "in",
    "of",
    "on",
    "the",
    "to",
    "with",
    "一些",
    "一直",
    "不",
    "不能",
    "与",
    "中",
    "为",
    "主要",
    "之",
    "也",
    "了",
    "于",
    "什么",
    "从",
    "以",
    "以及",
    "但",
    "使",
    "使用",
    "做",
    "做到",
    "公司",
    "其",
    "到",
    "及",
    "反映",
    "发现",
    "可",
    "可以",
    "和",
    "因此",
    "在",
    "基于",
    "大",
    "如何",
    "实现",
    "对",
    "导致",
    "将",
    "就",
    "尽量",
    "工厂",
    "希望",
    "并",
    "应用",
    "很",
    "得",
    "想",
    "我",
    "我们",
    "我公司",
    "我单位",
    "我厂",
    "我社",
    "我院",
    "或",
    "所",
    "把",
    "提供",
    "提出",
    "方法",
    "方面",
    "是",
    "有",
    "有些",
    "比较",
    "没有",
    "由",
    "的",
    "目前",
    "研究",
    "等",
    "系统",
    "经常",
    "而",
    "能",
    "能够",
    "被",
    "要",
    "让",
    "该",
    "较",
    "还",
    "这",
    "这些",
    "进行",
    "都",
    "问题",
    "需要",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_and_has_no_duplicates() {
        assert!(STOP.windows(2).all(|w| w[0] < w[1]), "STOP must be sorted for binary_search");
    }

    #[test]
    fn subject_words_are_kept() {
        assert!(is_stop("基于") && is_stop("希望") && is_stop("我公司"));
        assert!(!is_stop("液压") && !is_stop("全瓷冠") && !is_stop("红薯"));
    }
}
