//! 任务抽取 measured against gold annotations (issue 17): for each `docNN.txt` with its `docNN.json`
//! in a folder (default `../shared/data/minutes/dev`), the draft the product makes is compared with
//! the gold tasks, matched by overlap of their texts. Prints, per field, precision and recall:
//! task detection, lead units, co-units, deadlines (exact day and time), leaders; and the header's
//! 文号, date and kind. `--verbose` lists every miss. `--as-pdf` first prints each document to PDF
//! with LibreOffice (as a clerk's 另存为 PDF would) and reads it back the way an uploaded PDF is read.
//!
//!   cargo run --release -p xietong-bench --bin intake_bench -- [--dir DIR] [--as-pdf] [--verbose]

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::Parser;
use serde_json::Value;
use xietong_intake::{Org, OrgUnit, default_aliases, extract};

#[derive(Parser)]
struct Args {
    /// Folder of docNN.txt and docNN.json.
    #[arg(long, default_value = "../shared/data/minutes/dev")]
    dir: PathBuf,
    /// List every miss.
    #[arg(long)]
    verbose: bool,
    /// Read each document from a PDF printed by LibreOffice (needs soffice and poppler-utils).
    #[arg(long)]
    as_pdf: bool,
}

/// Counts for precision and recall.
#[derive(Default)]
struct Pr {
    hit: usize,
    predicted: usize,
    gold: usize,
}

impl Pr {
    fn line(&self, name: &str) -> String {
        let p = if self.predicted == 0 { 0.0 } else { self.hit as f64 / self.predicted as f64 };
        let r = if self.gold == 0 { 0.0 } else { self.hit as f64 / self.gold as f64 };
        let f = if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) };
        format!(
            "{name:<22} P {p:.3}  R {r:.3}  F1 {f:.3}   ({} hit, {} predicted, {} gold)",
            self.hit, self.predicted, self.gold
        )
    }
}

/// Characters two texts share, over the shorter one's length (an LCS would be exact; for spans of
/// one document a shared-substring count is enough).
fn overlap(a: &str, b: &str) -> f64 {
    let (short, long) = if a.chars().count() <= b.chars().count() { (a, b) } else { (b, a) };
    let chars: Vec<char> = short.chars().collect();
    if chars.is_empty() {
        return 0.0;
    }
    // Longest common substring, in characters.
    let lc: Vec<char> = long.chars().collect();
    let mut best = 0;
    let mut prev = vec![0usize; lc.len() + 1];
    for c in &chars {
        let mut cur = vec![0usize; lc.len() + 1];
        for (j, d) in lc.iter().enumerate() {
            if c == d {
                cur[j + 1] = prev[j] + 1;
                best = best.max(cur[j + 1]);
            }
        }
        prev = cur;
    }
    best as f64 / chars.len() as f64
}

fn set(v: &Value) -> BTreeSet<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

fn main() -> Result<()> {
    let args = Args::parse();
    let units: Vec<OrgUnit> =
        xietong_demo::org_units().into_iter().map(|(name, kind)| OrgUnit { name, kind }).collect();
    let org = Org::new(units, &default_aliases());
    let cal = xietong_calendar::WorkCalendar::with_bundled_holidays();
    let workday = |d: NaiveDate| xietong_intake::working_day(&cal, d);
    let mut docs: Vec<PathBuf> = std::fs::read_dir(&args.dir)
        .with_context(|| format!("cannot read {}", args.dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    docs.sort();
    let (mut tasks, mut lead, mut co, mut deadline, mut leader) =
        (Pr::default(), Pr::default(), Pr::default(), Pr::default(), Pr::default());
    let (mut lead_exact, mut deadline_exact, mut matched) = (0usize, 0usize, 0usize);
    let (mut header_ok, mut header_all) = (0usize, 0usize);
    let started = std::time::Instant::now();
    let tools = if args.as_pdf {
        Some(xietong_office::pdf::Tools::find().map_err(|e| anyhow::anyhow!("--as-pdf needs LibreOffice: {e}"))?)
    } else {
        None
    };
    for path in &docs {
        let text = std::fs::read_to_string(path)?;
        let text = match &tools {
            Some(t) => {
                let pdf = t.to_pdf(text.as_bytes(), "txt").map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                xietong_office::document_text(&pdf)?
            }
            None => text,
        };
        let gold: Value = serde_json::from_str(&std::fs::read_to_string(path.with_extension("json"))?)?;
        let draft = extract(&text, &org, &workday, None);
        let name = path.file_name().unwrap_or_default().to_string_lossy().to_string();
        for (field, got, want) in [
            ("doc_no", draft.doc_no.clone().unwrap_or_default(), gold["doc_no"].as_str().unwrap_or("").to_string()),
            (
                "date",
                draft.date.map(|d| d.to_string()).unwrap_or_default(),
                gold["date"].as_str().unwrap_or("").to_string(),
            ),
            (
                "source_kind",
                serde_json::to_value(draft.source_kind)?.as_str().unwrap_or("").to_string(),
                gold["source_kind"].as_str().unwrap_or("").to_string(),
            ),
        ] {
            header_all += 1;
            if got == want {
                header_ok += 1;
            } else if args.verbose {
                println!("{name}: {field} {got:?}, gold {want:?}");
            }
        }
        let gold_tasks = gold["tasks"].as_array().cloned().unwrap_or_default();
        tasks.predicted += draft.tasks.len();
        tasks.gold += gold_tasks.len();
        let mut used = vec![false; draft.tasks.len()];
        for g in &gold_tasks {
            let gt = g["text"].as_str().unwrap_or("");
            let best = draft
                .tasks
                .iter()
                .enumerate()
                .filter(|(i, _)| !used[*i])
                .map(|(i, t)| (i, overlap(&t.text, gt)))
                .max_by(|a, b| a.1.total_cmp(&b.1));
            let (gl, gc) = (set(&g["lead"]), set(&g["co"]));
            let gd = g["deadline"].as_str().map(str::to_string);
            let gleader = g["leader"].as_str().map(str::to_string);
            lead.gold += gl.len();
            co.gold += gc.len();
            deadline.gold += usize::from(gd.is_some());
            leader.gold += usize::from(gleader.is_some());
            let Some((i, score)) = best.filter(|(_, s)| *s >= 0.5) else {
                if args.verbose {
                    println!("{name}: missed task {gt}");
                }
                continue;
            };
            let _ = score;
            used[i] = true;
            tasks.hit += 1;
            matched += 1;
            let t = &draft.tasks[i];
            let (pl, pc): (BTreeSet<String>, BTreeSet<String>) =
                (t.lead.iter().cloned().collect(), t.co.iter().cloned().collect());
            lead.predicted += pl.len();
            lead.hit += pl.intersection(&gl).count();
            co.predicted += pc.len();
            co.hit += pc.intersection(&gc).count();
            lead_exact += usize::from(pl == gl);
            let pd = t.deadline.map(|d| d.format("%Y-%m-%d %H:%M").to_string());
            deadline.predicted += usize::from(pd.is_some());
            deadline.hit += usize::from(pd.is_some() && pd == gd);
            deadline_exact += usize::from(pd == gd);
            leader.predicted += usize::from(t.leader.is_some());
            leader.hit += usize::from(t.leader.is_some() && t.leader == gleader);
            if args.verbose {
                if pl != gl || pc != gc {
                    println!("{name}: units {pl:?}/{pc:?}, gold {gl:?}/{gc:?} — {gt}");
                }
                if pd != gd {
                    println!(
                        "{name}: deadline {pd:?} ({:?}), gold {gd:?} ({}) — {gt}",
                        t.deadline_text, g["deadline_text"]
                    );
                }
                if t.leader != gleader {
                    println!("{name}: leader {:?}, gold {gleader:?}", t.leader);
                }
            }
        }
        if args.verbose {
            for (i, t) in draft.tasks.iter().enumerate().filter(|(i, _)| !used[*i]) {
                let _ = i;
                println!("{name}: extra task {}", t.text);
            }
        }
    }
    println!(
        "任务抽取 on {} documents ({}{}), {:.0} ms",
        docs.len(),
        args.dir.display(),
        if args.as_pdf { ", each read back from a PDF printed by LibreOffice" } else { "" },
        started.elapsed().as_secs_f64() * 1e3
    );
    println!("{}", tasks.line("task detection"));
    println!("{}", lead.line("lead units"));
    println!("{}", co.line("co-units"));
    println!("{}", deadline.line("deadlines (exact)"));
    println!("{}", leader.line("leaders"));
    let pct = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    println!(
        "of {matched} matched tasks: lead set exact {:.3}, deadline exact (incl. none) {:.3}",
        pct(lead_exact, matched),
        pct(deadline_exact, matched)
    );
    println!("header fields (文号, date, kind) right: {header_ok} of {header_all}");
    Ok(())
}
