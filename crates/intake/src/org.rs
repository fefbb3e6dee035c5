//! Recognising units in a sentence: the organisation tree's names, their aliases (区建设交通局 →
//! 建设和交通局), functional references of city notices (住建部门) and group references (各镇（街道、
//! 管委会）→ every 镇, 乡, 街道 and 管委会). Longest match first; each mention keeps its position.

/// A unit of the organisation tree, as the recogniser needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgUnit {
    pub name: String,
    /// 区政府部门, 镇, 乡, 街道, 管委会 … (what group references select by).
    pub kind: String,
}

/// One alias: the words as documents write them, and the units they stand for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alias {
    pub words: String,
    pub units: Vec<String>,
}

/// The aliases a district starts with: the short and older names documents use for its units.
/// The administrator edits the list; a name that resolves to no unit of the tree is dropped.
pub fn default_aliases() -> Vec<Alias> {
    let a = |words: &str, unit: &str| Alias { words: words.into(), units: vec![unit.into()] };
    vec![
        a("区建设交通局", "建设和交通局"),
        a("建设交通局", "建设和交通局"),
        a("区住建局", "建设和交通局"),
        a("区建交局", "建设和交通局"),
        a("区园林局", "林业和园林局"),
        a("区应急局", "应急管理局"),
        a("区防指办（区应急管理局）", "应急管理局"),
        a("区教体局", "教育局"),
        a("区金融办", "金融工作中心"),
        a("区委办公室", "区委办"),
        a("区政府办公室", "区政府办"),
    ]
}

/// Units found in a text, in order: byte positions and the canonical names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mention {
    pub start: usize,
    pub end: usize,
    pub units: Vec<String>,
    /// The words were a 属地 reference: the units are the places the item names.
    pub local: bool,
}

/// The recogniser: the tree's names and every alias, longest first.
#[derive(Clone, Debug)]
pub struct Org {
    pub units: Vec<OrgUnit>,
    /// (words, units), longest words first.
    table: Vec<(String, Vec<String>)>,
}

/// Words that name no unit (vague references) and must not be read as one.
const VAGUE: [&str; 4] = ["区直有关部门", "相关单位", "有关村组", "有关成员单位"];

/// Functional references of city notices, and the unit holding the function.
const FUNCTIONS: [(&str, &str); 8] = [
    ("住建部门", "建设和交通局"),
    ("城管部门", "城管局"),
    ("应急管理部门", "应急管理局"),
    ("市场监管部门", "市场监管局"),
    ("社保部门", "社保局"),
    ("交警部门", "交警三大队"),
    ("督查部门", "督查局"),
    ("民政部门", "民政局"),
];

fn is_township(kind: &str, name: &str) -> bool {
    kind.contains('镇') || kind.contains('乡') || name.ends_with('镇') || name.ends_with('乡')
}
fn is_street(kind: &str, name: &str) -> bool {
    kind.contains("街道") || name.ends_with("街道")
}
fn is_zone(kind: &str, name: &str) -> bool {
    kind.contains("管委会") || name.ends_with("管委会")
}

impl Org {
    /// The recogniser for `units`, with the generated forms (区X, X without 区, 区X政府) and the
    /// administrator's `aliases` (which win over generated forms of the same words).
    pub fn new(units: Vec<OrgUnit>, aliases: &[Alias]) -> Org {
        // 内设科室 are assigned by their unit, not by documents.
        let units: Vec<OrgUnit> = units.into_iter().filter(|u| u.kind != "内设科室").collect();
        let mut table: Vec<(String, Vec<String>)> = vec![];
        let mut add = |w: String, u: Vec<String>| {
            if !w.is_empty() && !table.iter().any(|(x, _)| *x == w) {
                table.push((w, u));
            }
        };
        for a in aliases {
            let known: Vec<String> = a.units.iter().filter(|u| units.iter().any(|x| x.name == **u)).cloned().collect();
            if !known.is_empty() {
                add(a.words.trim().to_string(), known);
            }
        }
        for u in &units {
            let one = vec![u.name.clone()];
            add(format!("区{}", u.name), one.clone());
            add(u.name.clone(), one.clone());
            add(format!("{}政府", u.name), one.clone());
            if let Some(bare) = u.name.strip_prefix('区') {
                add(bare.to_string(), one.clone());
            }
        }
        let names = |f: &dyn Fn(&OrgUnit) -> bool| units.iter().filter(|u| f(u)).map(|u| u.name.clone()).collect();
        let towns: Vec<String> =
            names(&|u| is_township(&u.kind, &u.name) || is_street(&u.kind, &u.name) || is_zone(&u.kind, &u.name));
        let towns_streets: Vec<String> = names(&|u| is_township(&u.kind, &u.name) || is_street(&u.kind, &u.name));
        let streets: Vec<String> = names(&|u| is_street(&u.kind, &u.name));
        for w in ["各镇（街道、管委会）", "各镇（街道、园区）", "各乡镇（街道、管委会）", "各镇街（管委会）"]
        {
            add(w.into(), towns.clone());
        }
        for w in ["各镇（街道）", "各乡镇（街道）", "各镇街"] {
            add(w.into(), towns_streets.clone());
        }
        add("各街道".into(), streets);
        for (w, u) in FUNCTIONS {
            if units.iter().any(|x| x.name == u) {
                add(w.into(), vec![u.into()]);
            }
        }
        for w in VAGUE {
            add(w.into(), vec![]);
        }
        table.sort_by_key(|t| std::cmp::Reverse(t.0.len()));
        Org { units, table }
    }

    /// Every unit mentioned in `text`, in order, longest words first at each place; 属地办事处 /
    /// 属地街道 marked for the caller to resolve.
    pub fn mentions(&self, text: &str) -> Vec<Mention> {
        let mut out = vec![];
        let mut i = 0;
        while i < text.len() {
            let rest = &text[i..];
            if let Some(w) = ["属地办事处", "属地街道"].iter().find(|w| rest.starts_with(**w)) {
                out.push(Mention { start: i, end: i + w.len(), units: vec![], local: true });
                i += w.len();
                continue;
            }
            match self.table.iter().find(|(w, _)| rest.starts_with(w.as_str())) {
                Some((w, units)) => {
                    if !units.is_empty() {
                        out.push(Mention { start: i, end: i + w.len(), units: units.clone(), local: false });
                    }
                    i += w.len();
                }
                None => i += rest.chars().next().map_or(1, char::len_utf8),
            }
        }
        out
    }

    /// The 街道 (or 镇/乡) named in `text`, for a 属地 reference.
    pub fn places(&self, text: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .mentions(text)
            .into_iter()
            .flat_map(|m| m.units)
            .filter(|u| self.units.iter().any(|x| x.name == *u && (is_street(&x.kind, u) || is_township(&x.kind, u))))
            .collect();
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn erqi() -> Org {
        let u = |n: &str, k: &str| OrgUnit { name: n.into(), kind: k.into() };
        let aliases = [
            Alias { words: "区住建局".into(), units: vec!["建设和交通局".into()] },
            Alias { words: "区建设交通局".into(), units: vec!["建设和交通局".into()] },
        ];
        Org::new(
            vec![
                u("建设和交通局", "区政府部门"),
                u("城管局", "区政府部门"),
                u("马寨镇", "镇"),
                u("侯寨乡", "乡"),
                u("大学路街道", "街道"),
                u("二七经开区管委会", "管委会"),
            ],
            &aliases,
        )
    }

    #[test]
    fn aliases_groups_and_functions_resolve_to_the_tree() {
        let o = erqi();
        let m = o.mentions("由区建设交通局牵头，区城管局和各镇（街道、管委会）配合，住建部门负责");
        let units: Vec<Vec<String>> = m.iter().map(|m| m.units.clone()).collect();
        assert_eq!(units[0], vec!["建设和交通局"]);
        assert_eq!(units[1], vec!["城管局"]);
        assert_eq!(units[2], vec!["马寨镇", "侯寨乡", "大学路街道", "二七经开区管委会"]);
        assert_eq!(units[3], vec!["建设和交通局"]);
        assert!(o.mentions("区直有关部门要配合").is_empty());
        assert_eq!(o.mentions("马寨镇政府")[0].units, vec!["马寨镇"]);
    }
}
