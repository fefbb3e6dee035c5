//! Reading a mapped claim out of what a provider said about someone.

use serde_json::{Map, Value};

/// The claim `name` as text: a string, or a number written out. A dot reaches into objects
/// (`org.unit`); a claim literally named with a dot is found first. An array gives its first
/// text. Empty text counts as absent.
pub fn claim(claims: &Map<String, Value>, name: &str) -> Option<String> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    let found = claims.get(name).or_else(|| {
        let mut parts = name.split('.');
        let first = claims.get(parts.next()?)?;
        parts.try_fold(first, |v, p| v.get(p))
    })?;
    text_of(found)
}

fn text_of(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => return a.iter().find_map(text_of),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn strings_numbers_paths_and_arrays() {
        let c = map(json!({"preferred_username": " jsj_lly ", "uid": 42, "org": {"unit": "建设和交通局"},
            "groups": [{"x": 1}, "督查"], "a.b": "literal", "a": {"b": "nested"}, "empty": "", "yes": true}));
        assert_eq!(claim(&c, "preferred_username").as_deref(), Some("jsj_lly"));
        assert_eq!(claim(&c, "uid").as_deref(), Some("42"));
        assert_eq!(claim(&c, "org.unit").as_deref(), Some("建设和交通局"));
        assert_eq!(claim(&c, "groups").as_deref(), Some("督查"));
        assert_eq!(claim(&c, "a.b").as_deref(), Some("literal"));
        assert_eq!(claim(&c, "empty"), None);
        assert_eq!(claim(&c, "yes"), None);
        assert_eq!(claim(&c, "missing.deeper"), None);
        assert_eq!(claim(&c, ""), None);
    }

    proptest! {
        #[test]
        fn a_top_level_string_claim_reads_back_trimmed(key in "[a-z_]{1,12}", value in "\\PC{0,20}") {
            let c = map(json!({ key.clone(): value.clone() }));
            let want = value.trim();
            prop_assert_eq!(claim(&c, &key), (!want.is_empty()).then(|| want.to_string()));
        }

        #[test]
        fn any_name_on_any_object_never_panics(name in "\\PC{0,30}", depth in 0usize..4) {
            let mut v = json!("x");
            for _ in 0..depth {
                v = json!({ "k": v, "n": [1, {"k": "y"}] });
            }
            let c = map(json!({ "root": v }));
            let _ = claim(&c, &name);
        }
    }
}
