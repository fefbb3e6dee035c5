//! The rules: the document's header, its body cut into sentences, each sentence's units by role
//! (牵头 / 配合 / neither), its deadline and leader, and whether it assigns anything at all.

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use regex::Regex;

use crate::deadline::{self, Seasons};
use crate::org::{Mention, Org};
use crate::{Draft, DraftTask, SourceKind};

fn re(p: &str) -> Regex {
    Regex::new(p).expect("a valid pattern")
}

static DOC_NO: LazyLock<Regex> = LazyLock::new(|| re(r"[\p{Han}]+〔\d{4}〕\d+号"));
static DATE: LazyLock<Regex> = LazyLock::new(|| re(r"(\d{4})年(\d{1,2})月(\d{1,2})日"));
static LABEL: LazyLock<Regex> =
    LazyLock::new(|| re(r"^(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\d+[.．、]\s*)"));
static LEADER: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?:由|请)((?:区委常委、)?[\p{Han}]{0,12}?(?:副区长|区长|区委书记|区委副书记))(?:负责|牵头|统筹|督促|协调)")
});
static LEADER_TAIL: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:责任领导|分管领导|牵头领导)[：:]([\p{Han}、]+?(?:副区长|区长|书记|常委))"));
static INSTRUCTION_HEAD: LazyLock<Regex> = LazyLock::new(|| re(r"^([\p{Han}、]*?)批示(?:（[^）]*）)?[：:]$"));
static UNIT_LIKE: LazyLock<Regex> = LazyLock::new(|| re(r"区[\p{Han}]{1,8}?(?:局|委员会|委|办公室|办|中心|大队)"));

/// Sentences that record, approve or exhort rather than assign.
const NON_TASK_STARTS: [&str; 16] = [
    "会议听取",
    "听取了",
    "会议同意",
    "会议原则同意",
    "原则同意",
    "会议强调",
    "会议指出",
    "会议认为",
    "会议研究了",
    "会议传达",
    "会议审议",
    "已阅",
    "同意拟办意见",
    "建议",
    "逾期未报",
    "按区长批示",
];

/// Lines that end the body (attendance, distribution, the 批示件's 承办 lines, attachments).
const STOPS: [&str; 12] = [
    "出席：",
    "列席：",
    "请假：",
    "记录：",
    "分送：",
    "抄送：",
    "承办单位：",
    "督办单位：",
    "联系人：",
    "参加人员：",
    "参会人员：",
    "出席人员：",
];

fn title_kind(text: &str) -> SourceKind {
    let head: String = text.lines().filter(|l| !l.trim().is_empty()).take(3).collect();
    if head.contains("批示") {
        SourceKind::Instruction
    } else if head.contains("纪要") {
        SourceKind::Meeting
    } else {
        SourceKind::Superior
    }
}

fn date_of(c: &regex::Captures) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?)
}

/// The document date: a 批示件's 登记日期, else the first full date of the document (the header's
/// date, a meeting's opening words, or a city notice's date under its signature).
fn doc_date(text: &str) -> Option<NaiveDate> {
    if let Some(i) = text.find("登记日期")
        && let Some(c) = DATE.captures(&text[i..])
    {
        return date_of(&c);
    }
    DATE.captures_iter(text).find_map(|c| date_of(&c))
}

/// A paragraph of the body, with the 批示 block it belongs to.
struct Paragraph {
    text: String,
    /// In a leader's 批示.
    instruction: bool,
    /// The post of the leader whose 批示 this is.
    author: Option<String>,
    /// In a 拟办意见 block.
    proposal: bool,
}

fn body(text: &str) -> Vec<Paragraph> {
    let mut out = vec![];
    let mut started = false;
    let mut author: Option<String> = None;
    let mut proposal = false;
    let mut instruction = false;
    for line in text.lines() {
        let t = line.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}');
        if t.is_empty() {
            continue;
        }
        if t.starts_with("附：") || t.starts_with("附件") {
            break;
        }
        if t.starts_with("————") || t.starts_with("——") && t.chars().all(|c| c == '—') {
            started = false;
            author = None;
            proposal = false;
            instruction = false;
            continue;
        }
        if STOPS.iter().any(|s| t.starts_with(s)) {
            started = false;
            continue;
        }
        if let Some(c) = INSTRUCTION_HEAD.captures(t) {
            author = Some(c[1].trim().to_string()).filter(|w| !w.is_empty() && *w != "领导");
            proposal = false;
            instruction = true;
            started = true;
            continue;
        }
        if t.starts_with("拟办意见") {
            proposal = true;
            instruction = false;
            started = true;
            continue;
        }
        if !started {
            // The body begins at the first paragraph that is a sentence (headers have no full stop;
            // a Word file's paragraphs carry no indentation characters).
            if t.contains('。') {
                started = true;
            } else {
                continue;
            }
        }
        // Signature lines (a post and a date), headings without a full stop: not sentences.
        if !t.contains('。') && !t.contains('；') {
            if DATE.is_match(t) && author.is_none() {
                let who = DATE.replace(t, "").trim().to_string();
                if who.ends_with("区长") || who.ends_with("书记") {
                    author = Some(who);
                }
            }
            continue;
        }
        out.push(Paragraph { text: t.to_string(), instruction, author: author.clone(), proposal });
    }
    out
}

/// The sentences of a paragraph, each ending with its 。 (or the paragraph's end).
fn sentences(p: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut depth = 0i32;
    for c in p.chars() {
        cur.push(c);
        match c {
            '“' | '（' | '《' => depth += 1,
            '”' | '）' | '》' => depth -= 1,
            '。' | '！' if depth <= 0 => {
                out.push(std::mem::take(&mut cur));
            }
            _ => {}
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    // A （责任单位：…；完成时限：…） tail belongs to the sentence before it.
    let mut joined: Vec<String> = vec![];
    for s in out.into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
        match joined.last_mut() {
            Some(prev) if s.starts_with('（') && s.trim_end_matches('。').ends_with('）') => prev.push_str(&s),
            _ => joined.push(s),
        }
    }
    joined
}

/// Mentions grouped into lists joined by 、 和 及 与.
fn lists(text: &str, ms: &[Mention]) -> Vec<(usize, usize, Vec<Mention>)> {
    let mut out: Vec<(usize, usize, Vec<Mention>)> = vec![];
    for m in ms {
        if let Some(last) = out.last_mut() {
            let gap = &text[last.1..m.start];
            if ["、", "和", "及", "与", "以及", "、和", "，以及"].contains(&gap) {
                last.1 = m.end;
                last.2.push(m.clone());
                continue;
            }
        }
        out.push((m.start, m.end, vec![m.clone()]));
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    Lead,
    Co,
    Neither,
    Unknown,
}

fn role(before: &str, after: &str) -> Role {
    // "…等区直有关部门配合": the vague words after a list do not change its role.
    let mut after = after.trim_start_matches('等');
    for v in ["区直有关部门", "有关部门", "相关单位", "有关单位"] {
        after = after.trim_start_matches(v);
    }
    let b = |s: &str| before.ends_with(s);
    let a = |s: &str| after.starts_with(s);
    // A place: 侯寨乡境内…, 五里堡街道辖区….
    if a("境内") || a("辖区") || a("范围内") || a("一带") || a("周边") || a("段") {
        return Role::Neither;
    }
    if a("（牵头）") {
        return Role::Lead;
    }
    if b("会同") || b("配合单位：") || b("协办单位：") {
        return Role::Co;
    }
    if a("配合") || a("协助") || a("等配合") || a("给予支持") || a("予以支持") {
        return Role::Co;
    }
    if a("做好") && after.chars().take(14).collect::<String>().contains("保障") {
        return Role::Co;
    }
    if b("配合") || b("协助") {
        return Role::Lead;
    }
    for s in
        ["报", "对", "在", "向", "经", "为", "督促", "指导", "约谈", "帮助", "组织", "联合", "同意", "听取了", "听取"]
    {
        if b(s) {
            return Role::Neither;
        }
    }
    if a("牵头") || a("负责") || a("共同") || a("按职责") || a("要") || a("具体") || a("会同") || a("抓")
    {
        return Role::Lead;
    }
    if b("由") || b("请") || b("请你区") || b("责任单位：") || b("牵头单位：") || b("，") || before.is_empty()
    {
        return Role::Lead;
    }
    Role::Unknown
}

/// The units of a sentence by role, and the words that named them.
#[derive(Default)]
struct Roles {
    lead: Vec<String>,
    co: Vec<String>,
    lead_words: Vec<String>,
    co_words: Vec<String>,
}

/// Lead and co units of a sentence; 属地 references resolve to `places`.
fn units_by_role(org: &Org, text: &str, places: &[String]) -> Roles {
    let mut words: (Vec<String>, Vec<String>) = (vec![], vec![]);
    let ms = org.mentions(text);
    let mut lead: Vec<String> = vec![];
    let mut co: Vec<String> = vec![];
    // Units listed as 责任单位 / 牵头单位 are the leads; the others named in the sentence support.
    let mut explicit: Vec<String> = vec![];
    for (start, end, group) in lists(text, &ms) {
        let before = &text[..start];
        let before = before.strip_suffix("你区").unwrap_or(before);
        let r = role(before, &text[end..]);
        let names: Vec<String> =
            group.iter().flat_map(|m| if m.local { places.to_vec() } else { m.units.clone() }).collect();
        if ["责任单位：", "牵头单位：", "责任单位:", "牵头单位:"].iter().any(|x| before.ends_with(x))
        {
            explicit.extend(names.iter().cloned());
        }
        let into = match r {
            Role::Lead => {
                words.0.push(text[start..end].to_string());
                &mut lead
            }
            Role::Co => {
                words.1.push(text[start..end].to_string());
                &mut co
            }
            Role::Neither | Role::Unknown => continue,
        };
        for n in names {
            if !into.contains(&n) {
                into.push(n);
            }
        }
    }
    if !explicit.is_empty() {
        for u in std::mem::take(&mut lead) {
            if !explicit.contains(&u) && !co.contains(&u) {
                co.push(u);
            }
        }
        lead = explicit;
    }
    co.retain(|u| !lead.contains(u));
    Roles { lead, co, lead_words: words.0, co_words: words.1 }
}

/// Words that look like a unit's name (区…局, 区…委, 区…办 …) but are not in the tree or its aliases.
fn unknown_units(org: &Org, s: &str) -> Vec<String> {
    let known = org.mentions(s);
    UNIT_LIKE
        .find_iter(s)
        .filter(|m| !known.iter().any(|k| k.start <= m.start() && m.start() < k.end))
        .map(|m| m.as_str().to_string())
        // Bodies that are not units: the standing committee, the government itself.
        .filter(|w| !w.contains("常委") && !w.contains("政府") && !w.contains("领导"))
        .collect()
}

fn is_non_task(s: &str) -> bool {
    let s = s.trim_start_matches(|c: char| c == '\u{3000}' || c.is_whitespace());
    let s = LABEL.replace(s, "");
    // 原则同意《…》 followed by an assignment ("由区委办…印发", "请区科技局…") is a task.
    if (s.contains("同意") || s.contains("通过")) && (s.contains("，由") || s.contains("，请")) {
        return false;
    }
    NON_TASK_STARTS.iter().any(|p| s.starts_with(p))
        || (s.starts_with("请") && s.contains("统筹督促"))
        || s.contains("作出批示")
        || s.starts_with("按") && s.contains("批示")
}

fn leader_of(text: &str) -> Option<String> {
    LEADER_TAIL
        .captures(text)
        .or_else(|| LEADER.captures(text))
        .map(|c| c[1].trim_start_matches("此项工作由").to_string())
}

/// A short title (≤ 30 characters): the clauses that say what is done, without who does it, when,
/// or the lead-in words ("会议要求", "第一项").
fn title_of(org: &Org, text: &str) -> String {
    let t = LABEL.replace(text, "");
    let t = t.trim_start_matches("会议要求，").trim_start_matches("会议明确，").trim_start_matches("自即日起，");
    let t = t.strip_prefix("第").map_or(t, |r| r.split_once('项').map_or(t, |(_, x)| x));
    let mut words = String::new();
    let any_day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    let seasons = Seasons::after(any_day);
    for clause in t.split(['，', '；', '。']).map(str::trim) {
        // The clause without its units, the words that give them roles at its start, and times.
        let mut cut: Vec<(usize, usize)> = org.mentions(clause).iter().map(|m| (m.start, m.end)).collect();
        for f in deadline::find_all(clause, any_day, &seasons, &|_| true) {
            cut.push((f.start, f.start + f.text.len()));
        }
        cut.sort_unstable();
        let mut c = String::new();
        let mut at = 0;
        for (a, b) in cut {
            if a >= at {
                c.push_str(&clause[at..a]);
                at = b;
            }
        }
        c.push_str(&clause[at..]);
        let mut c = c.as_str();
        loop {
            let before = c;
            for w in [
                "请你区",
                "请",
                "由",
                "要",
                "会同",
                "共同牵头",
                "牵头",
                "配合",
                "协助",
                "负责",
                "和",
                "、",
                "及",
                "等",
                "于",
            ] {
                c = c.trim_start_matches(w);
            }
            if c == before {
                break;
            }
        }
        let c = c.to_string();
        let c = c.trim();
        if c.chars().count() < 2 || c.starts_with("责任单位") || c.starts_with("完成时限") || c.starts_with("（")
        {
            continue;
        }
        words.push_str(c);
        if words.chars().count() >= 8 {
            break;
        }
        words.push('，');
    }
    let words = words.trim_end_matches('，');
    let out: String = words.chars().take(30).collect();
    if out.is_empty() { t.chars().take(30).collect() } else { out }
}

/// The draft batch of a document. `workday` tells working days; `seasons` gives 春节前 and 汛期前
/// (the days after the document's date when `None`).
pub fn extract(text: &str, org: &Org, workday: &dyn Fn(NaiveDate) -> bool, seasons: Option<&Seasons>) -> Draft {
    let text = text.trim_start_matches('\u{feff}');
    let source_kind = title_kind(text);
    let doc_no = DOC_NO.find(text).map(|m| m.as_str().to_string());
    let date = doc_date(text);
    let paragraphs = body(text);
    let whole: String = paragraphs.iter().map(|p| p.text.as_str()).collect();
    let places = org.places(&whole);
    let doc = date.unwrap_or_else(|| NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default());
    let seasons = seasons.cloned().unwrap_or_else(|| Seasons::after(doc));
    let mut tasks: Vec<DraftTask> = vec![];
    let mut non_tasks = vec![];
    // A leader named for all the document's tasks (上级交办: "请常务副区长统筹督促落实").
    let mut overall_leader: Option<String> = None;
    let has_proposal = paragraphs.iter().any(|p| p.proposal);
    for (pi, p) in paragraphs.iter().enumerate() {
        // The opening paragraph of a meeting or notice says what it did, not what to do.
        if pi == 0 && !p.proposal && !p.instruction && (p.text.contains("主持召开") || p.text.ends_with('：')) {
            for s in sentences(&p.text) {
                if s.contains("作出批示") {
                    non_tasks.push(s);
                }
            }
            continue;
        }
        // With a 拟办意见, the city's own items are anchored there.
        if has_proposal && !p.proposal && !p.instruction {
            continue;
        }
        let mut parts: Vec<String> = vec![];
        // A 拟办's lead-in ("建议按职责分工办理：") is neither task nor non-task.
        let text = match p.text.split_once('：') {
            Some((head, rest)) if p.proposal && org.mentions(head).is_empty() => rest.to_string(),
            _ => p.text.clone(),
        };
        for s in sentences(&text) {
            let pieces: Vec<&str> = s.split_inclusive('；').collect();
            let assigned = pieces.iter().filter(|x| !units_by_role(org, x, &places).lead.is_empty()).count();
            if pieces.len() > 1 && assigned == pieces.len() {
                parts.extend(pieces.iter().map(|x| x.to_string()));
            } else {
                parts.push(s);
            }
        }
        for (si, s) in parts.iter().enumerate() {
            let s = if si == 0 { LABEL.replace(s, "").to_string() } else { s.clone() };
            if is_non_task(&s) {
                if s.starts_with('请') && s.contains("统筹督促") {
                    overall_leader = leader_of(&s).or(overall_leader);
                }
                non_tasks.push(s);
                continue;
            }
            let Roles { lead, co, lead_words, co_words } = units_by_role(org, &s, &places);
            let unknown = unknown_units(org, &s);
            // An item whose lead is a name the tree does not know is still an item: the clerk maps it.
            let assigns = ["牵头", "负责", "会同", "要", "配合"].iter().any(|w| s.contains(w));
            if lead.is_empty() && (unknown.is_empty() || !assigns) {
                // "此项工作由…负责": the leader of the task before it.
                if let (Some(l), Some(prev)) = (leader_of(&s), tasks.last_mut())
                    && s.starts_with("此项工作")
                {
                    prev.text.push_str(&s);
                    prev.leader = Some(l);
                }
                continue;
            }
            let mut found = deadline::find_all(&s, doc, &seasons, workday);
            // "确保汛前发挥效益": a purpose, not the deadline, when the task gives one of its own.
            let purpose = |f: &deadline::Found| {
                let clause = s[..f.start].rsplit(['，', '；']).next().unwrap_or("");
                clause.starts_with("确保") || clause.starts_with("力争")
            };
            if found.iter().any(|f| !purpose(f)) {
                found.retain(|f| !purpose(f));
            }
            let chosen = deadline::choose(&found);
            let mut flags = vec![];
            if let Some(at) = chosen.and_then(|f| f.at)
                && !workday(at.date())
            {
                flags.push(format!("期限 {} 不是工作日，请确认", at.format("%m-%d")));
            }
            if chosen.is_none() {
                flags.push("未写明期限".to_string());
            }
            for u in &unknown {
                flags.push(format!("未识别的单位「{u}」：请选定单位，或在单位别名中登记后重新识别"));
            }
            if lead.is_empty() {
                flags.push("未识别出牵头单位，请选择".to_string());
            }
            let leader = leader_of(&s).or_else(|| p.author.clone());
            tasks.push(DraftTask {
                title: title_of(org, &s),
                text: s.clone(),
                lead,
                co,
                lead_words,
                co_words,
                deadline_text: chosen.map(|f| f.text.clone()),
                deadline: chosen.and_then(|f| f.at),
                leader,
                flags,
            });
        }
    }
    if source_kind == SourceKind::Superior
        && let Some(l) = overall_leader
    {
        for t in tasks.iter_mut().filter(|t| t.leader.is_none()) {
            t.leader = Some(l.clone());
        }
    }
    let _ = doc.year();
    Draft { doc_no, date, source_kind, tasks, non_tasks }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::{OrgUnit, default_aliases};
    use proptest::prelude::*;

    const UNITS: [(&str, &str); 10] = [
        ("建设和交通局", "区政府部门"),
        ("城管局", "区政府部门"),
        ("水利局", "区政府部门"),
        ("财政局", "区政府部门"),
        ("教育局", "区政府部门"),
        ("应急管理局", "区政府部门"),
        ("马寨镇", "镇街"),
        ("侯寨乡", "镇街"),
        ("大学路街道", "镇街"),
        ("二七经开区管委会", "管委会"),
    ];

    fn org() -> Org {
        Org::new(
            UNITS.iter().map(|(n, k)| OrgUnit { name: n.to_string(), kind: k.to_string() }).collect(),
            &default_aliases(),
        )
    }

    fn meeting(items: &[String]) -> String {
        let mut doc = [
            "二七区人民政府常务会议纪要\n\n二七政阅〔2026〕50号\n\n二七区人民政府办公室　　　　2026年12月4日\n\n",
            "　　2026年12月4日上午，区长主持召开区政府常务会议。现将会议议定事项纪要如下：\n\n",
        ]
        .concat();
        let nums = ["一", "二", "三", "四", "五", "六"];
        for (i, it) in items.iter().enumerate() {
            doc.push_str(&format!("　　{}、关于有关工作\n　　{it}\n\n", nums[i % 6]));
        }
        doc.push_str("\n　　出席：区长，常务副区长\n");
        doc
    }

    proptest! {
        /// Items written with any two different units in the three usual shapes come back with
        /// those units in their roles, the day the words give, and the text found in the document.
        #[test]
        fn generated_items_come_back_with_their_roles(
            picks in proptest::collection::vec((0usize..10, 0usize..10, 0usize..3, 1u32..28, 0usize..2), 1..5),
        ) {
            let o = org();
            let mut items = vec![];
            let mut want = vec![];
            for (a, b, shape, day, listen) in &picks {
                let (lead, co) = (UNITS[*a].0, UNITS[(*b + usize::from(a == b)) % 10].0);
                let co = if co == lead { UNITS[(*a + 1) % 10].0 } else { co };
                let area = |u: &str| if u.ends_with("局") { format!("区{u}") } else { u.to_string() };
                let text = match shape {
                    0 => format!("会议要求，由{}牵头，{}配合，于12月{day}日前完成专项整治。", area(lead), area(co)),
                    1 => format!("会议要求，{}会同{}，于12月{day}日前完成专项检查。", area(lead), area(co)),
                    _ => format!("会议要求，{}要抓紧制定工作方案，{}配合做好相关工作，12月{day}日前报区政府。", area(lead), area(co)),
                };
                if *listen == 1 {
                    items.push(format!("会议听取了{}关于有关工作的汇报。{text}", area(lead)));
                } else {
                    items.push(text.clone());
                }
                want.push((text, lead, co, *day));
            }
            let doc = meeting(&items);
            let d = extract(&doc, &o, &|_| true, None);
            prop_assert_eq!(d.doc_no.as_deref(), Some("二七政阅〔2026〕50号"));
            prop_assert_eq!(d.tasks.len(), want.len(), "{:?}", d.tasks);
            for (t, (text, lead, co, day)) in d.tasks.iter().zip(&want) {
                prop_assert!(doc.contains(&t.text));
                prop_assert_eq!(&t.text, text);
                prop_assert_eq!(&t.lead, &vec![lead.to_string()]);
                prop_assert_eq!(&t.co, &vec![co.to_string()]);
                let due = if *day < 4 { format!("2027-12-{day:02} 18:00") } else { format!("2026-12-{day:02} 18:00") };
                prop_assert_eq!(t.deadline.map(|x| x.format("%Y-%m-%d %H:%M").to_string()), Some(due));
            }
        }

        /// Whatever the text, extraction ends, every task's words are the document's, and no unit is
        /// both lead and co.
        #[test]
        fn any_text_is_read_without_panic(body in "\\PC{0,300}") {
            let doc = meeting(&[body]);
            let d = extract(&doc, &org(), &|_| true, None);
            for t in &d.tasks {
                prop_assert!(doc.contains(&t.text));
                prop_assert!(t.lead.iter().all(|u| !t.co.contains(u)));
            }
        }
    }

    #[test]
    fn an_unknown_unit_is_flagged_not_guessed() {
        let doc = meeting(&["会议要求，由区城管局牵头，区文广旅局配合，于12月20日前完成整治。".to_string()]);
        let d = extract(&doc, &org(), &|_| true, None);
        assert_eq!(d.tasks[0].lead, vec!["城管局"]);
        assert!(d.tasks[0].co.is_empty());
        assert!(d.tasks[0].flags.iter().any(|f| f.contains("区文广旅局")), "{:?}", d.tasks[0].flags);
    }

    #[test]
    fn a_document_without_items_gives_an_empty_draft() {
        let d = extract("会议纪要\n\n　　会议听取了汇报。\n", &org(), &|_| true, None);
        assert!(d.tasks.is_empty());
    }
}
