//! 国民经济行业分类 GB/T 4754-2017, bundled (assets/gbt4754), searchable by code or by words: a
//! clerk who knows a crane maker, not that its code is 3514, finds it by 「起重」 — the standard's
//! own description of 3514 names 工程起重机 and 建筑起重机.

use std::sync::OnceLock;

use serde::Serialize;

const TABLE: &str = include_str!("../../../assets/gbt4754/gbt4754-2017.tsv");

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Industry {
    /// 代码：门类为字母，大类 2 位，中类 3 位，小类 4 位数字
    pub code: String,
    pub name: String,
    /// 0 门类，1 大类，2 中类，3 小类
    pub level: u8,
    pub level_label: String,
    /// The 门类 and the classes above, as 「C 制造业 › 35 专用设备制造业 › 351 …」.
    pub path: String,
    /// The standard's note on what the class covers.
    pub description: String,
}

/// The whole table, in the standard's order.
pub fn all() -> &'static [Industry] {
    static ALL: OnceLock<Vec<Industry>> = OnceLock::new();
    ALL.get_or_init(|| {
        let rows: Vec<Vec<&str>> =
            TABLE.lines().skip(1).map(|l| l.split('\t').collect::<Vec<_>>()).filter(|c| c.len() >= 4).collect();
        let parent_of = |code: &str| rows.iter().find(|r| r[0] == code).map(|r| (r[1], r[2]));
        rows.iter()
            .map(|r| {
                let level: u8 = r[3].trim().parse().unwrap_or(0);
                let mut path = vec![];
                let mut at = r[2];
                // At most three steps up: 小类 → 中类 → 大类 → 门类.
                for _ in 0..4 {
                    match parent_of(at) {
                        Some((name, up)) if !at.is_empty() => {
                            path.push(format!("{at} {name}"));
                            at = up;
                        }
                        _ => break,
                    }
                }
                path.reverse();
                Industry {
                    code: r[0].to_string(),
                    name: r[1].to_string(),
                    level,
                    level_label: ["门类", "大类", "中类", "小类"].get(level as usize).unwrap_or(&"").to_string(),
                    path: path.join(" › "),
                    description: r.get(4).map(|d| d.trim().to_string()).unwrap_or_default(),
                }
            })
            .collect()
    })
}

/// The class with this code ("3514", or "C3514" with its 门类 letter).
pub fn find(code: &str) -> Option<&'static Industry> {
    let key = code_key(code);
    all().iter().find(|i| i.code == key)
}

/// A typed code as the table keys it: full-width digits, blanks and a leading 门类 letter
/// before digits ("C３５１４") do not matter.
fn code_key(q: &str) -> String {
    let k = xietong_supervision::text::identifier_key(q).to_uppercase();
    match k.chars().next() {
        Some(c) if c.is_ascii_alphabetic() && k.len() > 1 && k[1..].chars().all(|d| d.is_ascii_digit()) => {
            k[1..].to_string()
        }
        _ => k,
    }
}

/// Classes matching `q`, best first, at most `limit`: by code (exact, then the classes under
/// it), then every word of `q` in the name, then in the standard's description. 门类 are left out:
/// a record is filed under a numbered class.
pub fn search(q: &str, limit: usize) -> Vec<&'static Industry> {
    let words: Vec<String> = q.split_whitespace().map(|w| w.to_lowercase()).collect();
    if words.is_empty() {
        return vec![];
    }
    let code = code_key(q);
    let numeric = !code.is_empty() && code.chars().all(|c| c.is_ascii_digit());
    let mut hits: Vec<(u8, &Industry)> = all()
        .iter()
        .filter(|i| i.level > 0)
        .filter_map(|i| {
            let tier = if numeric && i.code == code {
                0
            } else if numeric && i.code.starts_with(&code) {
                1
            } else if words.iter().all(|w| i.name.to_lowercase().contains(w)) {
                2
            } else if words.iter().all(|w| i.description.to_lowercase().contains(w) || i.name.contains(w.as_str())) {
                3
            } else {
                return None;
            };
            Some((tier, i))
        })
        .collect();
    // Within a tier the finer class first (a record is filed under the 小类), then by code.
    hits.sort_by(|a, b| (a.0, 3 - a.1.level, &a.1.code).cmp(&(b.0, 3 - b.1.level, &b.1.code)));
    hits.into_iter().take(limit).map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_whole_and_each_class_knows_its_path() {
        assert_eq!(all().len(), 1971);
        let i = find("3514").unwrap();
        assert_eq!((i.name.as_str(), i.level, i.level_label.as_str()), ("建筑工程用机械制造", 3, "小类"));
        assert_eq!(i.path, "C 制造业 › 35 专用设备制造业 › 351 采矿、冶金、建筑专用设备制造");
        assert_eq!(find("Ｃ３５１４"), find("3514"));
    }

    #[test]
    fn a_class_is_found_by_code_or_by_words() {
        let codes = |q: &str| search(q, 50).iter().map(|i| i.code.clone()).collect::<Vec<_>>();
        assert_eq!(codes("3514")[0], "3514");
        assert_eq!(codes("C3514")[0], "3514");
        let by_words = codes("起重");
        // Named cranes first, then the classes whose description names them (3514 among them).
        assert_eq!(&by_words[..2], ["3431", "3432"]);
        assert!(by_words.contains(&"3514".to_string()), "{by_words:?}");
        assert!(codes("351").starts_with(&["351".to_string(), "3511".to_string()]));
        assert!(codes("  ").is_empty());
        assert!(codes("没有这个行业的词").is_empty());
    }
}
