//! 月度排名 (a monthly league table of units per work category) and the annual assessment built
//! from published months and 通报. Scores are compared as integer hundredths so a tie is a tie,
//! and every order-deciding rule is stated in [`ScoreFormula::describe_zh`] for the UI.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::validate::FieldError;

/// The facts of one unit in one category and month that its score is computed from.
///
/// Rows published before 不参评 existed lack the newer fields; they read as assessed (they were
/// ranked) and are never recomputed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnitMonthFacts {
    pub unit_id: i64,
    pub unit_name: String,
    /// The unit's display order (组织机构排序).
    pub sort: i64,
    /// Tasks of the unit in the category that were open at some point in the month.
    pub tasks_total: i64,
    /// 应结任务: closed in the month, or open past the deadline at the cutoff (whatever month the
    /// deadline fell in). A task not yet due is not counted. Always
    /// `closed_on_time + closed_late + overdue_open` for months computed since 不参评 existed.
    pub due_in_month: i64,
    pub closed_on_time: i64,
    pub closed_late: i64,
    /// Open and past the deadline at the cutoff.
    pub overdue_open: i64,
    /// Open and not yet due at the cutoff.
    #[serde(default)]
    pub not_yet_due: i64,
    /// Of those, tasks whose progress can be judged: a progress report was due by the cutoff
    /// under their 汇报周期, or half their time is gone (时间过半). See [`progress_judged`].
    #[serde(default)]
    pub progress_judged: i64,
    /// 退回整改 in the month.
    pub rejections: i64,
    /// 进度达标率: the mean over the unit's tasks of each task's progress held against its time
    /// (see [`task_schedule_degree`]); 1.0 when every task is on schedule or closed.
    pub progress_ratio: f64,
    /// False for 不参评: nothing due, closed or overdue, and no open task to judge on progress.
    #[serde(default = "assessed_by_default")]
    pub assessed: bool,
    /// The tasks behind the numbers, for drill-down.
    pub task_ids: Vec<i64>,
}

fn assessed_by_default() -> bool {
    true
}

impl UnitMonthFacts {
    /// Why the unit is 不参评, in Chinese; `None` when it is ranked.
    pub fn not_assessed_reason(&self) -> Option<String> {
        (!self.assessed).then(|| {
            if self.not_yet_due > 0 {
                format!(
                    "不参评：截至统计时没有到期、办结或逾期的任务，{} 项在办任务尚未到第一次汇报进度的时间且用时未过半",
                    self.not_yet_due
                )
            } else {
                "不参评：截至统计时没有到期、办结或逾期的任务".to_string()
            }
        })
    }
}

/// The score formula; its numbers are settings the 督查局 may change.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ScoreFormula {
    /// Points for a 100 % on-time closure rate.
    pub on_time_weight: f64,
    /// Points for a 100 % progress ratio.
    pub progress_weight: f64,
    /// Points off per task open past its deadline.
    pub overdue_penalty: f64,
    /// Points off per 退回整改.
    pub rejection_penalty: f64,
}

impl Default for ScoreFormula {
    fn default() -> Self {
        Self { on_time_weight: 60.0, progress_weight: 40.0, overdue_penalty: 5.0, rejection_penalty: 2.0 }
    }
}

/// How the on-time rate is counted, stated once for the formula text and the pages.
pub const ON_TIME_RULE_ZH: &str = concat!(
    "按期办结率 = 按期办结数 ÷ 应结任务数；应结任务指当月办结的任务和截至统计时已过期限仍未办结的任务，",
    "尚未到期的任务不计入，没有应结任务的记为 100%。"
);

/// How the progress rate is counted (时间过半、任务过半, task by task).
pub const PROGRESS_RULE_ZH: &str = concat!(
    "进度达标率逐项比较任务进度与时间进度（时间过半、任务过半）：已办结的记 100%，",
    "未到期的记 100% 减去进度落后于时间进度的百分点，逾期未结的只记其完成进度，取各项平均值。"
);

/// Who is not ranked.
pub const NOT_ASSESSED_RULE_ZH: &str =
    "截至统计时没有应结任务、在办任务也都尚未到第一次汇报进度的时间且用时未过半的单位不参评，列在排名之后，不计名次。";

/// Tie rule, stated once for the formula text and the tests.
pub const TIE_RULE_ZH: &str = "得分高者在前；得分相同的，依次以逾期未结任务少者、按期办结任务多者、退回整改次数少者在前；以上均相同的并列同一名次（如 1、2、2、4），按单位排序列出。";

impl ScoreFormula {
    /// Weights ≥ 0 adding up to 100, penalties 0–50.
    pub fn validate(&self) -> Result<(), FieldError> {
        for (field, v) in [("按期办结权重", self.on_time_weight), ("进度达标权重", self.progress_weight)] {
            if !v.is_finite() || v < 0.0 {
                return Err(FieldError::new(field, format!("不能为负数（当前 {}）", crate::indicators::fmt_num(v))));
            }
        }
        let sum = self.on_time_weight + self.progress_weight;
        if (sum - 100.0).abs() > 1e-9 {
            return Err(FieldError::new(
                "按期办结权重",
                format!("与进度达标权重之和应为 100（当前 {}）", crate::indicators::fmt_num(sum)),
            ));
        }
        for (field, v) in [("逾期未结扣分", self.overdue_penalty), ("退回整改扣分", self.rejection_penalty)]
        {
            if !v.is_finite() || !(0.0..=50.0).contains(&v) {
                return Err(FieldError::new(
                    field,
                    format!("应在 0 到 50 之间（当前 {}）", crate::indicators::fmt_num(v)),
                ));
            }
        }
        Ok(())
    }

    /// The formula and the tie rule in Chinese, with the current numbers (shown beside every
    /// ranking and frozen with each published month).
    pub fn describe_zh(&self) -> String {
        let n = crate::indicators::fmt_num;
        format!(
            "得分 = {} × 按期办结率 + {} × 进度达标率 − {} × 逾期未结任务数 − {} × 退回整改次数，结果限定在 0 到 100 分之间，保留两位小数。{}{}{}名次：{}",
            n(self.on_time_weight),
            n(self.progress_weight),
            n(self.overdue_penalty),
            n(self.rejection_penalty),
            ON_TIME_RULE_ZH,
            PROGRESS_RULE_ZH,
            NOT_ASSESSED_RULE_ZH,
            TIE_RULE_ZH
        )
    }

    /// The formula in a few words, for the top of the ranking pages.
    pub fn summary_zh(&self) -> String {
        let n = crate::indicators::fmt_num;
        format!(
            "满分 100 分：按期办结占 {} 分，看当月应结任务（当月办结的和已过期限仍未办结的）中\
             按期办结的比例，尚未到期的任务不计；进度达标占 {} 分，逐项比较任务进度与时间进度\
             （时间过半、任务过半），进度落后多少扣多少，逾期未结的只计完成进度；\
             每项逾期未结再扣 {} 分，每次退回整改扣 {} 分。\
             没有应结任务、在办任务也都刚交办（尚未到第一次汇报进度的时间且用时未过半）的单位不参评。",
            n(self.on_time_weight),
            n(self.progress_weight),
            n(self.overdue_penalty),
            n(self.rejection_penalty)
        )
    }

    /// The score in integer hundredths (0..=10000).
    pub fn score_centi(&self, f: &UnitMonthFacts) -> i64 {
        let on_time =
            if f.due_in_month <= 0 { 1.0 } else { (f.closed_on_time as f64 / f.due_in_month as f64).clamp(0.0, 1.0) };
        let progress = if f.progress_ratio.is_finite() { f.progress_ratio.clamp(0.0, 1.0) } else { 0.0 };
        let raw = self.on_time_weight * on_time + self.progress_weight * progress
            - self.overdue_penalty * f.overdue_open.max(0) as f64
            - self.rejection_penalty * f.rejections.max(0) as f64;
        // Round before clamping would not matter; NaN (a broken setting) scores 0 rather than panicking.
        let c = (raw.clamp(0.0, 100.0) * 100.0).round();
        if c.is_finite() { c as i64 } else { 0 }
    }
}

/// One row of a monthly ranking.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RankedUnit {
    /// Competition rank: 1, 2, 2, 4.
    pub rank: i64,
    pub unit_id: i64,
    pub unit_name: String,
    /// 0–100, two decimals.
    pub score: f64,
    /// The score in hundredths; ties are decided on this.
    pub score_centi: i64,
    pub facts: UnitMonthFacts,
    /// Why this unit is below the one above it with the same score, or "并列…".
    pub tie_note: Option<String>,
}

/// The order key: higher score, fewer overdue, more on-time, fewer rejections.
fn key_cmp(a: (i64, &UnitMonthFacts), b: (i64, &UnitMonthFacts)) -> Ordering {
    b.0.cmp(&a.0)
        .then(a.1.overdue_open.cmp(&b.1.overdue_open))
        .then(b.1.closed_on_time.cmp(&a.1.closed_on_time))
        .then(a.1.rejections.cmp(&b.1.rejections))
}

fn fmt_centi(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

/// What separated `f` from `above` when both have the same score.
fn tie_note(score_centi: i64, above: &UnitMonthFacts, f: &UnitMonthFacts) -> String {
    let s = fmt_centi(score_centi);
    if f.overdue_open != above.overdue_open {
        format!("与上一名同分（{s}），逾期未结 {} 件，多于上一名的 {} 件", f.overdue_open, above.overdue_open)
    } else if f.closed_on_time != above.closed_on_time {
        format!(
            "与上一名同分（{s}）且逾期未结件数相同，按期办结 {} 件，少于上一名的 {} 件",
            f.closed_on_time, above.closed_on_time
        )
    } else if f.rejections != above.rejections {
        format!(
            "与上一名同分（{s}）且逾期未结、按期办结件数相同，退回整改 {} 次，多于上一名的 {} 次",
            f.rejections, above.rejections
        )
    } else {
        format!("并列：得分（{s}）及逾期未结、按期办结、退回整改均与上一名相同")
    }
}

/// Rank the assessed units of one category and month by the formula and the tie rule. Units
/// that are 不参评 get no rank: they are listed by [`not_assessed`].
pub fn rank(facts: &[UnitMonthFacts], f: &ScoreFormula) -> Vec<RankedUnit> {
    let mut scored: Vec<(i64, &UnitMonthFacts)> =
        facts.iter().filter(|x| x.assessed).map(|x| (f.score_centi(x), x)).collect();
    scored.sort_by(|a, b| {
        key_cmp(*a, *b)
            .then(a.1.sort.cmp(&b.1.sort))
            .then(a.1.unit_name.cmp(&b.1.unit_name))
            .then(a.1.unit_id.cmp(&b.1.unit_id))
    });
    let mut out: Vec<RankedUnit> = Vec::with_capacity(scored.len());
    for (i, (c, x)) in scored.iter().enumerate() {
        let (rank, note) = match i.checked_sub(1).map(|j| scored[j]) {
            None => (1, None),
            Some(prev) => {
                let r = if key_cmp(prev, (*c, x)) == Ordering::Equal { out[i - 1].rank } else { i as i64 + 1 };
                (r, (prev.0 == *c).then(|| tie_note(*c, prev.1, x)))
            }
        };
        out.push(RankedUnit {
            rank,
            unit_id: x.unit_id,
            unit_name: x.unit_name.clone(),
            score: *c as f64 / 100.0,
            score_centi: *c,
            facts: (*x).clone(),
            tie_note: note,
        });
    }
    out
}

/// A unit listed as 不参评: shown after the ranked units, without a rank or a score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotAssessed {
    pub unit_id: i64,
    pub unit_name: String,
    /// Why, in Chinese ("不参评：…").
    pub reason: String,
    pub facts: UnitMonthFacts,
}

/// The units that are 不参评, in the organisation's order.
pub fn not_assessed(facts: &[UnitMonthFacts]) -> Vec<NotAssessed> {
    let mut v: Vec<&UnitMonthFacts> = facts.iter().filter(|x| !x.assessed).collect();
    v.sort_by(|a, b| a.sort.cmp(&b.sort).then(a.unit_name.cmp(&b.unit_name)).then(a.unit_id.cmp(&b.unit_id)));
    v.into_iter()
        .map(|x| NotAssessed {
            unit_id: x.unit_id,
            unit_name: x.unit_name.clone(),
            reason: x.not_assessed_reason().unwrap_or_default(),
            facts: x.clone(),
        })
        .collect()
}

/// Kinds of 通报.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// 表扬
    Praise,
    /// 批评
    Criticism,
    /// 预警
    Warning,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 3] = [Self::Praise, Self::Criticism, Self::Warning];
    pub fn code(self) -> &'static str {
        match self {
            Self::Praise => "praise",
            Self::Criticism => "criticism",
            Self::Warning => "warning",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Praise => "表扬",
            Self::Criticism => "批评",
            Self::Warning => "预警",
        }
    }
    /// Accepts the code or the Chinese label.
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s || k.label_zh() == s)
    }
}

/// One 通报 naming one unit (a notice naming three units is three effects).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NoticeEffect {
    pub unit_id: i64,
    pub kind: NoticeKind,
}

/// Points added to the annual score per notice; signed (批评 and 预警 are negative).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct NoticeWeights {
    pub praise: f64,
    pub criticism: f64,
    pub warning: f64,
}

impl Default for NoticeWeights {
    fn default() -> Self {
        Self { praise: 2.0, criticism: -2.0, warning: -1.0 }
    }
}

impl NoticeWeights {
    /// The signed points of one notice of `kind`.
    pub fn weight(&self, kind: NoticeKind) -> f64 {
        match kind {
            NoticeKind::Praise => self.praise,
            NoticeKind::Criticism => self.criticism,
            NoticeKind::Warning => self.warning,
        }
    }

    /// 表扬 0–20 points; 批评 and 预警 −20–0.
    pub fn validate(&self) -> Result<(), FieldError> {
        let n = crate::indicators::fmt_num;
        if !self.praise.is_finite() || !(0.0..=20.0).contains(&self.praise) {
            return Err(FieldError::new("表扬加分", format!("应在 0 到 20 之间（当前 {}）", n(self.praise))));
        }
        for (field, v) in [("批评扣分", self.criticism), ("预警扣分", self.warning)] {
            if !v.is_finite() || !(-20.0..=0.0).contains(&v) {
                return Err(FieldError::new(field, format!("应在 -20 到 0 之间（当前 {}）", n(v))));
            }
        }
        Ok(())
    }

    /// The notice rule in Chinese, e.g. "每次表扬 +2 分、批评 -2 分、预警 -1 分".
    pub fn describe_zh(&self) -> String {
        let s = |x: f64| {
            if x > 0.0 { format!("+{}", crate::indicators::fmt_num(x)) } else { crate::indicators::fmt_num(x) }
        };
        format!("每次表扬 {} 分、批评 {} 分、预警 {} 分", s(self.praise), s(self.criticism), s(self.warning))
    }
}

/// One unit's annual assessment, with the parts it was added up from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AnnualScore {
    /// Competition rank on `score`.
    pub rank: i64,
    pub unit_id: i64,
    /// The name in the unit's latest published month.
    pub unit_name: String,
    /// Published (category, month) rankings the unit appears in.
    pub months: i64,
    /// Mean of those monthly scores, two decimals.
    pub monthly_mean: f64,
    pub praise: i64,
    pub criticism: i64,
    pub warning: i64,
    /// Sum of the notice weights, two decimals.
    pub notice_adjustment: f64,
    /// monthly_mean + notice_adjustment, two decimals (not clamped).
    pub score: f64,
}

/// Annual scores: mean of each unit's published monthly scores plus its 通报 adjustments,
/// best first. Units in no published ranking are not assessed (their notices have no base score).
pub fn annual_scores(
    monthly: &[(i64, String, Vec<RankedUnit>)],
    notices: &[NoticeEffect],
    w: &NoticeWeights,
) -> Vec<AnnualScore> {
    struct Acc<'a> {
        name: &'a str,
        name_month: &'a str,
        months: i64,
        centi_sum: i64,
    }
    let mut acc: BTreeMap<i64, Acc> = BTreeMap::new();
    for (_, month, rows) in monthly {
        for r in rows {
            let a =
                acc.entry(r.unit_id).or_insert(Acc { name: &r.unit_name, name_month: month, months: 0, centi_sum: 0 });
            a.months += 1;
            a.centi_sum += r.score_centi;
            if month.as_str() >= a.name_month {
                a.name = &r.unit_name;
                a.name_month = month;
            }
        }
    }
    let mut out: Vec<(i64, AnnualScore)> = acc
        .into_iter()
        .map(|(unit_id, a)| {
            let count = |k: NoticeKind| notices.iter().filter(|n| n.unit_id == unit_id && n.kind == k).count() as i64;
            let (praise, criticism, warning) =
                (count(NoticeKind::Praise), count(NoticeKind::Criticism), count(NoticeKind::Warning));
            let adj_centi = (100.0
                * (praise as f64 * w.praise + criticism as f64 * w.criticism + warning as f64 * w.warning))
                .round() as i64;
            let mean_centi = (a.centi_sum as f64 / a.months as f64).round() as i64;
            let total = mean_centi + adj_centi;
            let s = AnnualScore {
                rank: 0,
                unit_id,
                unit_name: a.name.to_string(),
                months: a.months,
                monthly_mean: mean_centi as f64 / 100.0,
                praise,
                criticism,
                warning,
                notice_adjustment: adj_centi as f64 / 100.0,
                score: total as f64 / 100.0,
            };
            (total, s)
        })
        .collect();
    out.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.unit_name.cmp(&b.1.unit_name)).then(a.1.unit_id.cmp(&b.1.unit_id)));
    let mut prev: Option<(i64, i64)> = None;
    for (i, (total, s)) in out.iter_mut().enumerate() {
        s.rank = match prev {
            Some((t, r)) if t == *total => r,
            _ => i as i64 + 1,
        };
        prev = Some((*total, s.rank));
    }
    out.into_iter().map(|(_, s)| s).collect()
}

/// What the monthly score of one task depends on. `progress` is the progress reported by the
/// cutoff (for a month already over, not today's).
#[derive(Clone, Debug)]
pub struct TaskFacts {
    pub id: i64,
    pub lead_unit_id: i64,
    pub progress: i64,
    pub started: NaiveDateTime,
    pub deadline: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
    pub rejections_in_month: i64,
    /// Days between required progress reports (汇报周期); `None` when reported by milestone.
    pub report_every_days: Option<i64>,
}

/// The share of a task's time gone at `cutoff`, in percent (0–100): 100 from its deadline on.
pub fn time_percent(started: NaiveDateTime, deadline: NaiveDateTime, cutoff: NaiveDateTime) -> f64 {
    if cutoff >= deadline {
        return 100.0;
    }
    let span = (deadline - started).num_minutes();
    if span <= 0 {
        return 0.0;
    }
    ((cutoff - started).num_minutes() as f64 / span as f64 * 100.0).clamp(0.0, 100.0)
}

/// How well one open task keeps to its schedule at `cutoff`, 0–1 (时间过半、任务过半, task by
/// task): 1 minus the percentage points by which its progress lags the share of its time gone.
/// An overdue task has all its time gone, so it keeps only its progress: never more than any
/// task not yet due with the same progress. Lower progress, an earlier start or deadline, or a
/// later cutoff never raise it.
pub fn task_schedule_degree(
    progress: i64,
    started: NaiveDateTime,
    deadline: NaiveDateTime,
    cutoff: NaiveDateTime,
) -> f64 {
    // Whole percentage points, so an overdue task's degree is exactly its progress.
    let lag = (time_percent(started, deadline, cutoff) - progress.clamp(0, 100) as f64).max(0.0);
    (100.0 - lag) / 100.0
}

/// Whether an open task not yet due can be judged on its progress at `cutoff`: its first
/// progress report under its 汇报周期 was due by then, or half its time is gone (时间过半). A
/// task just handed over is neither, so a unit with nothing else is 不参评.
pub fn progress_judged(t: &TaskFacts, cutoff: NaiveDateTime) -> bool {
    let report_due = t.report_every_days.is_some_and(|d| t.started + chrono::Duration::days(d.max(1)) <= cutoff);
    report_due || time_percent(t.started, t.deadline, cutoff) >= 50.0
}

/// Per-unit monthly facts from the tasks of one category, as of `cutoff` (the month's end, or
/// now for a month in progress); `units` are (id, name, sort). The caller leaves out cancelled
/// and draft tasks and tasks closed before the month.
///
/// A task not yet due at the cutoff is never counted as due or missed: it counts only through
/// its progress against its time. A unit with nothing due, closed or overdue and no open task
/// that can be judged on progress ([`progress_judged`]) is 不参评.
pub fn month_facts(
    tasks: &[TaskFacts],
    units: &[(i64, String, i64)],
    month_start: NaiveDateTime,
    cutoff: NaiveDateTime,
) -> Vec<UnitMonthFacts> {
    let mut out = vec![];
    for (unit_id, name, sort) in units {
        let mine: Vec<&TaskFacts> = tasks.iter().filter(|t| t.lead_unit_id == *unit_id).collect();
        if mine.is_empty() {
            continue;
        }
        let mut f = UnitMonthFacts {
            unit_id: *unit_id,
            unit_name: name.clone(),
            sort: *sort,
            tasks_total: mine.len() as i64,
            due_in_month: 0,
            closed_on_time: 0,
            closed_late: 0,
            overdue_open: 0,
            not_yet_due: 0,
            progress_judged: 0,
            rejections: 0,
            progress_ratio: 1.0,
            assessed: false,
            task_ids: mine.iter().map(|t| t.id).collect(),
        };
        let mut degrees = vec![];
        for t in mine {
            f.rejections += t.rejections_in_month;
            let closed_in_month = t.closed_at.is_some_and(|c| c >= month_start && c <= cutoff);
            let open_at_cutoff = t.closed_at.is_none_or(|c| c > cutoff);
            if closed_in_month {
                f.due_in_month += 1;
                if t.closed_at.is_some_and(|c| c <= t.deadline) {
                    f.closed_on_time += 1;
                } else {
                    f.closed_late += 1;
                }
                degrees.push(1.0);
            } else if open_at_cutoff {
                if t.deadline < cutoff {
                    f.due_in_month += 1;
                    f.overdue_open += 1;
                } else {
                    f.not_yet_due += 1;
                    if progress_judged(t, cutoff) {
                        f.progress_judged += 1;
                    }
                }
                degrees.push(task_schedule_degree(t.progress, t.started, t.deadline, cutoff));
            }
        }
        if !degrees.is_empty() {
            f.progress_ratio = degrees.iter().sum::<f64>() / degrees.len() as f64;
        }
        f.assessed = f.due_in_month > 0 || f.progress_judged > 0;
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn facts(id: i64, name: &str, sort: i64) -> UnitMonthFacts {
        UnitMonthFacts {
            unit_id: id,
            unit_name: name.into(),
            sort,
            tasks_total: 4,
            due_in_month: 2,
            closed_on_time: 2,
            closed_late: 0,
            overdue_open: 0,
            not_yet_due: 2,
            progress_judged: 0,
            rejections: 0,
            progress_ratio: 1.0,
            assessed: true,
            task_ids: vec![id * 10],
        }
    }

    #[test]
    fn score_follows_the_formula() {
        let f = ScoreFormula::default();
        let mut x = facts(1, "建设和交通局", 1);
        assert_eq!(f.score_centi(&x), 10000);
        // 1 of 3 on time, progress 0.75, 1 overdue, 2 rejections: 20 + 30 − 5 − 4 = 41.
        x.due_in_month = 3;
        x.closed_on_time = 1;
        x.progress_ratio = 0.75;
        x.overdue_open = 1;
        x.rejections = 2;
        assert_eq!(f.score_centi(&x), 4100);
        // Nothing due: the on-time rate counts as 100 %.
        x.due_in_month = 0;
        x.closed_on_time = 0;
        assert_eq!(f.score_centi(&x), 6000 + 3000 - 500 - 400);
        // Clamped at 0.
        x.overdue_open = 30;
        assert_eq!(f.score_centi(&x), 0);
        // Two decimals: 60 × 2/3 = 40.00, 40 × 0.123456 = 4.94.
        let y = UnitMonthFacts { due_in_month: 3, closed_on_time: 2, progress_ratio: 0.123456, ..facts(2, "乙", 2) };
        assert_eq!(f.score_centi(&y), 4494);
    }

    #[test]
    fn ties_are_broken_in_the_stated_order() {
        let f = ScoreFormula::default();
        // All four score 80.00 in different ways, plus one clear winner.
        let top = facts(9, "首位", 9);
        let a = UnitMonthFacts { progress_ratio: 0.5, ..facts(1, "甲", 1) }; // 60 + 20 = 80, no overdue
        let b = UnitMonthFacts { overdue_open: 1, progress_ratio: 0.625, ..facts(2, "乙", 2) }; // 60 + 25 − 5 = 80
        let c = UnitMonthFacts { due_in_month: 4, closed_on_time: 4, progress_ratio: 0.5, ..facts(3, "丙", 3) }; // 80, more on time than 甲
        let d = UnitMonthFacts { rejections: 1, progress_ratio: 0.55, ..facts(4, "丁", 4) }; // 60 + 22 − 2 = 80
        let e = UnitMonthFacts { progress_ratio: 0.5, ..facts(5, "戊", 0) }; // same as 甲 in every criterion, sorts first
        let r = rank(&[a, b, c, d, e, top], &f);
        let order: Vec<_> = r.iter().map(|x| (x.unit_name.as_str(), x.rank, x.score_centi)).collect();
        assert_eq!(
            order,
            vec![
                ("首位", 1, 10000),
                ("丙", 2, 8000),
                ("戊", 3, 8000),
                ("甲", 3, 8000),
                ("丁", 5, 8000),
                ("乙", 6, 8000)
            ]
        );
        assert_eq!(r[0].tie_note, None);
        assert_eq!(r[1].tie_note, None, "丙 is below 首位 on score");
        assert_eq!(
            r[2].tie_note.as_deref(),
            Some("与上一名同分（80.00）且逾期未结件数相同，按期办结 2 件，少于上一名的 4 件")
        );
        assert!(r[3].tie_note.as_deref().unwrap().starts_with("并列"));
        assert_eq!(
            r[4].tie_note.as_deref(),
            Some("与上一名同分（80.00）且逾期未结、按期办结件数相同，退回整改 1 次，多于上一名的 0 次")
        );
        assert_eq!(r[5].tie_note.as_deref(), Some("与上一名同分（80.00），逾期未结 1 件，多于上一名的 0 件"));
        assert_eq!(r[5].facts.task_ids, vec![20]);
        assert_eq!(r[5].score, 80.0);
    }

    #[test]
    fn formula_validates_and_describes_itself() {
        assert!(ScoreFormula::default().validate().is_ok());
        let bad = ScoreFormula { on_time_weight: 70.0, ..Default::default() };
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "字段「按期办结权重」与进度达标权重之和应为 100（当前 110）"
        );
        let bad = ScoreFormula { on_time_weight: -10.0, progress_weight: 110.0, ..Default::default() };
        assert_eq!(bad.validate().unwrap_err().field, "按期办结权重");
        let bad = ScoreFormula { rejection_penalty: 51.0, ..Default::default() };
        assert_eq!(bad.validate().unwrap_err().to_string(), "字段「退回整改扣分」应在 0 到 50 之间（当前 51）");
        let bad = ScoreFormula { overdue_penalty: f64::NAN, ..Default::default() };
        assert_eq!(bad.validate().unwrap_err().field, "逾期未结扣分");
        let t = ScoreFormula { overdue_penalty: 2.5, ..Default::default() }.describe_zh();
        assert!(t.starts_with("得分 = 60 × 按期办结率"), "{t}");
        assert!(
            t.contains("+ 40 × 进度达标率") && t.contains("− 2.5 × 逾期未结任务数") && t.contains("− 2 × 退回整改次数"),
            "{t}"
        );
        assert!(t.ends_with(TIE_RULE_ZH));
        let short = ScoreFormula { overdue_penalty: 2.5, ..Default::default() }.summary_zh();
        assert!(
            short.contains("按期办结占 60 分") && short.contains("再扣 2.5 分") && short.contains("不参评"),
            "{short}"
        );
    }

    #[test]
    fn formula_settings_read_with_missing_fields() {
        let f: ScoreFormula = serde_json::from_str(r#"{"overdue_penalty": 3}"#).unwrap();
        assert_eq!(f, ScoreFormula { overdue_penalty: 3.0, ..Default::default() });
    }

    #[test]
    fn notice_kinds_round_trip() {
        for k in NoticeKind::ALL {
            assert_eq!(NoticeKind::from_code(k.code()), Some(k));
            assert_eq!(NoticeKind::from_code(k.label_zh()), Some(k));
        }
        assert_eq!(NoticeKind::from_code("通报"), None);
        assert_eq!(NoticeWeights::default().describe_zh(), "每次表扬 +2 分、批评 -2 分、预警 -1 分");
        assert_eq!(NoticeWeights { warning: 1.0, ..Default::default() }.validate().unwrap_err().field, "预警扣分");
    }

    #[test]
    fn annual_is_mean_plus_notices() {
        let f = ScoreFormula::default();
        let jan = rank(&[facts(1, "甲", 1), UnitMonthFacts { overdue_open: 2, ..facts(2, "乙", 2) }], &f); // 100, 90
        let feb = rank(&[UnitMonthFacts { rejections: 5, ..facts(1, "甲", 1) }], &f); // 90
        let mut renamed = facts(2, "乙（新）", 2);
        renamed.progress_ratio = 0.5; // 80
        let mar_other = rank(&[renamed], &f);
        let monthly = vec![
            (7, "2026-01".to_string(), jan),
            (7, "2026-02".to_string(), feb),
            (8, "2026-03".to_string(), mar_other),
        ];
        let notices = [
            NoticeEffect { unit_id: 2, kind: NoticeKind::Praise },
            NoticeEffect { unit_id: 1, kind: NoticeKind::Criticism },
            NoticeEffect { unit_id: 1, kind: NoticeKind::Warning },
            NoticeEffect { unit_id: 99, kind: NoticeKind::Praise },
        ];
        let a = annual_scores(&monthly, &notices, &NoticeWeights::default());
        assert_eq!(a.len(), 2, "unit 99 has no published month");
        // 甲: (100 + 90) / 2 = 95, −2 −1 = 92. 乙: (90 + 80) / 2 = 85, +2 = 87.
        assert_eq!(
            (a[0].unit_id, a[0].rank, a[0].months, a[0].monthly_mean, a[0].notice_adjustment, a[0].score),
            (1, 1, 2, 95.0, -3.0, 92.0)
        );
        assert_eq!((a[0].criticism, a[0].warning, a[0].praise), (1, 1, 0));
        assert_eq!((a[1].unit_name.as_str(), a[1].rank, a[1].score, a[1].praise), ("乙（新）", 2, 87.0, 1));
        // Equal totals share a rank.
        let tie = annual_scores(
            &monthly,
            &[NoticeEffect { unit_id: 2, kind: NoticeKind::Praise }; 5],
            &NoticeWeights::default(),
        );
        let got: Vec<_> = tie.iter().map(|s| (s.unit_id, s.rank, s.score)).collect();
        assert_eq!(got, vec![(2, 1, 95.0), (1, 1, 95.0)], "85 + 5 × 2 = 95 ties 甲's 95; listed by name");
    }

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn task(id: i64, unit: i64, progress: i64, started: &str, deadline: &str, closed: Option<&str>) -> TaskFacts {
        TaskFacts {
            id,
            lead_unit_id: unit,
            progress,
            started: at(started),
            deadline: at(deadline),
            closed_at: closed.map(at),
            rejections_in_month: 0,
            report_every_days: Some(7),
        }
    }

    /// The 5 December 试算 of December that scored 侯寨乡 0.0 (its one green task, due 12-18,
    /// counted as due and missed) and ranked 建设和交通局, overdue since 11-25, second.
    #[test]
    fn a_task_not_yet_due_is_never_missed_and_overdue_costs_most() {
        let (start, now) = (at("2026-12-01 00:00"), at("2026-12-05 10:00"));
        let units =
            vec![(1, "建设和交通局".to_string(), 1), (2, "马寨镇".to_string(), 2), (3, "侯寨乡".to_string(), 3)];
        let tasks = vec![
            task(10, 1, 80, "2026-11-02 09:00", "2026-11-25 18:00", None), // overdue since 11-25
            task(20, 2, 100, "2026-11-16 09:00", "2026-12-10 18:00", Some("2026-12-03 16:00")), // closed early
            task(30, 3, 0, "2026-12-01 09:00", "2026-12-18 18:00", None),  // green, a quarter of its time gone
        ];
        let facts = month_facts(&tasks, &units, start, now);
        let hzx = &facts[2];
        assert_eq!((hzx.due_in_month, hzx.overdue_open, hzx.not_yet_due, hzx.assessed), (0, 0, 1, false));
        assert!(hzx.not_assessed_reason().unwrap().starts_with("不参评"));
        let jsj = &facts[0];
        assert_eq!((jsj.due_in_month, jsj.closed_on_time, jsj.overdue_open, jsj.assessed), (1, 0, 1, true));
        assert!((jsj.progress_ratio - 0.8).abs() < 1e-12, "overdue: time 100 %, so only its 80 % counts");
        let f = ScoreFormula::default();
        let r = rank(&facts, &f);
        let got: Vec<_> = r.iter().map(|x| (x.rank, x.unit_name.as_str(), x.score_centi)).collect();
        // 马寨镇: 60 + 40 = 100. 建设和交通局: 60 × 0 + 40 × 0.8 − 5 = 27.
        assert_eq!(got, vec![(1, "马寨镇", 10000), (2, "建设和交通局", 2700)]);
        let na = not_assessed(&facts);
        assert_eq!(na.iter().map(|x| x.unit_name.as_str()).collect::<Vec<_>>(), vec!["侯寨乡"]);

        // Later in its life the same green task is judged on its progress against its time, and
        // a task on schedule costs nothing: 侯寨乡 ranks above the overdue unit.
        let on_schedule = task(30, 3, 70, "2026-11-10 09:00", "2026-12-18 18:00", None);
        let facts = month_facts(&[tasks[0].clone(), tasks[1].clone(), on_schedule], &units, start, now);
        assert_eq!((facts[2].progress_judged, facts[2].assessed, facts[2].progress_ratio), (1, true, 1.0));
        let r = rank(&facts, &f);
        let got: Vec<_> = r.iter().map(|x| (x.rank, x.unit_name.as_str(), x.score_centi)).collect();
        // Equal scores: 马寨镇 closed a task on time, 侯寨乡 none (the tie rule).
        assert_eq!(got, vec![(1, "马寨镇", 10000), (2, "侯寨乡", 10000), (3, "建设和交通局", 2700)]);
        // Lagging by about 20 points at 65 % of its time (progress 45 %) costs 40 × 0.2 = 8 points,
        // far less than being overdue.
        let lagging = task(30, 3, 45, "2026-11-10 09:00", "2026-12-18 18:00", None);
        let facts = month_facts(&[lagging], &units, start, now);
        let share = time_percent(at("2026-11-10 09:00"), at("2026-12-18 18:00"), now);
        assert!((share - 65.26).abs() < 0.01, "{share}");
        assert_eq!(f.score_centi(&facts[0]), 9190, "60 + 40 × (1 − 0.2026)");
    }

    #[test]
    fn time_share_and_schedule_degree() {
        let (s, d) = (at("2026-11-01 00:00"), at("2026-11-11 00:00"));
        assert_eq!(time_percent(s, d, at("2026-10-30 00:00")), 0.0, "not started yet");
        assert_eq!(time_percent(s, d, at("2026-11-06 00:00")), 50.0);
        assert_eq!(time_percent(s, d, d), 100.0);
        let backwards = time_percent(d, s, at("2026-10-01 00:00"));
        assert_eq!(backwards, 0.0, "a deadline before the start does not divide by 0");
        assert_eq!(task_schedule_degree(50, s, d, at("2026-11-06 00:00")), 1.0, "时间过半、任务过半");
        assert_eq!(task_schedule_degree(30, s, d, at("2026-11-06 00:00")), 0.8, "20 points behind");
        assert_eq!(task_schedule_degree(0, s, d, at("2026-11-02 00:00")), 0.9, "just begun, 10 points behind");
        assert_eq!(task_schedule_degree(37, s, d, at("2026-11-20 00:00")), 0.37, "overdue: its progress only");
        assert_eq!(task_schedule_degree(150, s, d, at("2026-11-20 00:00")), 1.0, "progress is capped at 100 %");
        // Judged on progress once its first report is due (weekly: 7 days in), or once half its
        // time is gone when it reports by milestone.
        let long = task(1, 1, 0, "2026-11-02 09:00", "2027-03-31 18:00", None);
        assert!(!progress_judged(&long, at("2026-11-09 08:59")));
        assert!(progress_judged(&long, at("2026-11-09 09:00")));
        let milestones = TaskFacts { report_every_days: None, ..long };
        assert!(!progress_judged(&milestones, at("2027-01-01 00:00")));
        assert!(progress_judged(&milestones, at("2027-01-17 00:00")), "half of its 149 days gone");
    }

    #[test]
    fn facts_published_before_not_assessed_existed_still_read() {
        // A row as published before: no not_yet_due, progress_judged or assessed.
        let old = r#"{"unit_id":3,"unit_name":"侯寨乡","sort":3,"tasks_total":1,"due_in_month":1,"closed_on_time":0,
            "closed_late":0,"overdue_open":0,"rejections":0,"progress_ratio":0.0,"task_ids":[30]}"#;
        let f: UnitMonthFacts = serde_json::from_str(old).unwrap();
        assert!(f.assessed, "it was ranked when published");
        assert_eq!((f.not_yet_due, f.progress_judged), (0, 0));
        let r = rank(std::slice::from_ref(&f), &ScoreFormula::default());
        assert_eq!(r.len(), 1);
        let back: RankedUnit = serde_json::from_str(&serde_json::to_string(&r[0]).unwrap()).unwrap();
        assert_eq!(back, r[0]);
        assert!(not_assessed(&[f]).is_empty());
    }

    /// Times as minutes after 1 November 2026 (the month of the tests below).
    fn minutes(m: i64) -> NaiveDateTime {
        at("2026-11-01 00:00") + chrono::Duration::minutes(m)
    }

    const DAY: i64 = 24 * 60;

    /// A task of unit 1 somewhere around November: started up to two months before the
    /// cutoff, due within four months of its start, closed (in the month or after it) or open.
    fn arb_task() -> impl Strategy<Value = TaskFacts> {
        let cycle = proptest::option::of(prop_oneof![Just(7i64), Just(15), Just(30)]);
        (0i64..=100, -60 * DAY..30 * DAY, 60i64..120 * DAY, proptest::option::of(0i64..40 * DAY), 0i64..3, cycle)
            .prop_map(|(progress, start, span, closed, rej, cycle)| TaskFacts {
                id: 0,
                lead_unit_id: 1,
                progress,
                started: minutes(start),
                deadline: minutes(start + span),
                closed_at: closed.map(minutes),
                rejections_in_month: rej,
                report_every_days: cycle,
            })
    }

    fn arb_formula() -> impl Strategy<Value = ScoreFormula> {
        (0i64..=100, 0i64..=50, 0i64..=50).prop_map(|(w, o, r)| ScoreFormula {
            on_time_weight: w as f64,
            progress_weight: (100 - w) as f64,
            overdue_penalty: o as f64,
            rejection_penalty: r as f64,
        })
    }

    fn unit_score(tasks: &[TaskFacts], cutoff: NaiveDateTime, f: &ScoreFormula) -> (i64, bool) {
        let units = [(1, "甲".to_string(), 1)];
        let x = month_facts(tasks, &units, minutes(0), cutoff).remove(0);
        (f.score_centi(&x), x.assessed)
    }

    fn ids(v: Vec<TaskFacts>) -> Vec<TaskFacts> {
        v.into_iter().enumerate().map(|(i, t)| TaskFacts { id: i as i64 + 1, ..t }).collect()
    }

    fn arb_facts() -> impl Strategy<Value = UnitMonthFacts> {
        (0i64..6, 0i64..6, 0i64..4, 0i64..4, 0i64..=20, 0i64..5).prop_map(|(due, on_time, overdue, rej, pr, sort)| {
            UnitMonthFacts {
                unit_id: 0,
                unit_name: format!("单位{sort}"),
                sort,
                tasks_total: due + overdue,
                due_in_month: due,
                closed_on_time: on_time.min(due),
                closed_late: 0,
                overdue_open: overdue,
                not_yet_due: 0,
                progress_judged: 0,
                rejections: rej,
                progress_ratio: pr as f64 / 20.0,
                assessed: true,
                task_ids: vec![],
            }
        })
    }

    fn with_ids(v: Vec<UnitMonthFacts>) -> Vec<UnitMonthFacts> {
        v.into_iter().enumerate().map(|(i, f)| UnitMonthFacts { unit_id: i as i64 + 1, ..f }).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Ranks start at 1, never decrease, equal keys share a rank, and a rank is 1 + the number of strictly better units.
        #[test]
        fn ranks_are_competition_ranks(v in proptest::collection::vec(arb_facts(), 1..12)) {
            let f = ScoreFormula::default();
            let v = with_ids(v);
            let r = rank(&v, &f);
            prop_assert_eq!(r.len(), v.len());
            prop_assert_eq!(r[0].rank, 1);
            for w in r.windows(2) {
                prop_assert!(w[0].rank <= w[1].rank);
                prop_assert!(w[0].score_centi >= w[1].score_centi);
                let same = key_cmp((w[0].score_centi, &w[0].facts), (w[1].score_centi, &w[1].facts)) == Ordering::Equal;
                prop_assert_eq!(same, w[0].rank == w[1].rank);
                prop_assert_eq!(w[1].tie_note.is_some(), w[0].score_centi == w[1].score_centi);
            }
            for x in &r {
                let better = r.iter().filter(|y| key_cmp((y.score_centi, &y.facts), (x.score_centi, &x.facts)) == Ordering::Less).count() as i64;
                prop_assert_eq!(x.rank, better + 1);
                prop_assert!((0..=10000).contains(&x.score_centi));
            }
            let mut ids: Vec<_> = r.iter().map(|x| x.unit_id).collect();
            ids.sort();
            prop_assert_eq!(ids, (1..=v.len() as i64).collect::<Vec<_>>());
        }

        /// A unit at least as good as another on every measure never ranks below it.
        #[test]
        fn better_facts_never_rank_lower(
            others in proptest::collection::vec(arb_facts(), 0..8),
            worse in arb_facts(),
            more_on_time in 0i64..6, more_progress in 0i64..=20, less_overdue in 0i64..4, fewer_rej in 0i64..5,
            weights in (0i64..=100, 0i64..=50, 0i64..=50),
        ) {
            let f = ScoreFormula { on_time_weight: weights.0 as f64, progress_weight: (100 - weights.0) as f64, overdue_penalty: weights.1 as f64, rejection_penalty: weights.2 as f64 };
            prop_assert!(f.validate().is_ok());
            let better = UnitMonthFacts {
                closed_on_time: (worse.closed_on_time + more_on_time).min(worse.due_in_month),
                progress_ratio: (worse.progress_ratio + more_progress as f64 / 20.0).min(1.0),
                overdue_open: (worse.overdue_open - less_overdue).max(0),
                rejections: (worse.rejections - fewer_rej).max(0),
                unit_name: "较好".into(),
                sort: 99,
                ..worse.clone()
            };
            let mut v = others;
            v.push(worse);
            v.push(better);
            let v = with_ids(v);
            let (b_id, w_id) = (v.len() as i64, v.len() as i64 - 1);
            let r = rank(&v, &f);
            let rank_of = |id: i64| r.iter().find(|x| x.unit_id == id).unwrap().rank;
            prop_assert!(rank_of(b_id) <= rank_of(w_id));
        }

        /// Making one open task overdue, or making it lag its time (less progress, an earlier
        /// start), never raises the unit's score and never takes it out of the ranking.
        #[test]
        fn overdue_or_lagging_never_raises_the_score(
            others in proptest::collection::vec(arb_task(), 0..6),
            target in arb_task(),
            cutoff_day in 1i64..=30,
            early in 0.0f64..1.0,
            less in 0i64..=100,
            earlier in 0i64..30 * DAY,
            f in arb_formula(),
        ) {
            let cutoff = minutes(cutoff_day * DAY);
            // The target is open and not yet due at the cutoff; it starts before the cutoff.
            let started = target.started.min(cutoff - chrono::Duration::minutes(1));
            let target = TaskFacts { started, deadline: target.deadline.max(cutoff), closed_at: None, ..target };
            let with = |t: TaskFacts| {
                let mut v = others.clone();
                v.push(t);
                unit_score(&ids(v), cutoff, &f)
            };
            let (before, assessed_before) = with(target.clone());
            // Overdue: a deadline anywhere between its start and the cutoff.
            let gone = ((cutoff - started).num_minutes() as f64 * early) as i64;
            let overdue_at = started + chrono::Duration::minutes(gone);
            let (after, assessed_after) = with(TaskFacts { deadline: overdue_at, ..target.clone() });
            prop_assert!(after <= before, "overdue raised {before} to {after}");
            prop_assert!(assessed_after, "an overdue task is always assessed");
            let progress = (target.progress - less).max(0);
            let (after, assessed_after) = with(TaskFacts { progress, ..target.clone() });
            prop_assert!(after <= before, "less progress raised {before} to {after}");
            prop_assert_eq!(assessed_after, assessed_before);
            let (after, assessed_after) =
                with(TaskFacts { started: started - chrono::Duration::minutes(earlier), ..target.clone() });
            prop_assert!(after <= before, "more time gone raised {before} to {after}");
            prop_assert!(assessed_after || !assessed_before);
        }

        /// A unit whose tasks are all on schedule (closed on time, or keeping up with their time)
        /// never scores or ranks below one identical but for an overdue task.
        #[test]
        fn on_schedule_never_below_overdue(
            tasks in proptest::collection::vec(arb_task(), 1..6),
            which in 0usize..6,
            cutoff_day in 1i64..=30,
            early in 0.0f64..1.0,
            rivals in proptest::collection::vec(arb_task(), 0..8),
            f in arb_formula(),
        ) {
            let cutoff = minutes(cutoff_day * DAY);
            // Put every task on schedule: closed by its deadline within the month, or open, not
            // yet due, and at least as far along as its time.
            let good: Vec<TaskFacts> = tasks
                .into_iter()
                .map(|t| {
                    let started = t.started.min(cutoff - chrono::Duration::minutes(1));
                    let deadline = t.deadline.max(cutoff);
                    match t.closed_at {
                        Some(_) => {
                            TaskFacts { started, deadline, closed_at: Some(cutoff), rejections_in_month: 0, ..t }
                        }
                        None => {
                            let p = time_percent(started, deadline, cutoff).ceil() as i64;
                            TaskFacts { started, deadline, progress: p.max(t.progress), rejections_in_month: 0, ..t }
                        }
                    }
                })
                .collect();
            let open: Vec<usize> = (0..good.len()).filter(|i| good[*i].closed_at.is_none()).collect();
            prop_assume!(!open.is_empty());
            let i = open[which % open.len()];
            let mut bad = good.clone();
            let s = bad[i].started;
            bad[i].deadline = s + chrono::Duration::minutes(((cutoff - s).num_minutes() as f64 * early) as i64);
            let as_unit = |v: &[TaskFacts], unit: i64| -> Vec<TaskFacts> {
                v.iter().map(|t| TaskFacts { lead_unit_id: unit, ..t.clone() }).collect()
            };
            let mut all = as_unit(&good, 1);
            all.extend(as_unit(&bad, 2));
            all.extend(as_unit(&rivals, 3));
            let all = ids(all);
            let units = [(1, "按期".to_string(), 5), (2, "逾期".to_string(), 1), (3, "其他".to_string(), 3)];
            let facts = month_facts(&all, &units, minutes(0), cutoff);
            let (g, b) = (&facts[0], &facts[1]);
            prop_assert_eq!((g.overdue_open, g.closed_late, g.progress_ratio), (0, 0, 1.0));
            prop_assert_eq!(f.score_centi(g), 10000, "all on schedule and nothing sent back scores full marks");
            prop_assert!(f.score_centi(g) >= f.score_centi(b));
            prop_assert!(b.assessed);
            let r = rank(&facts, &f);
            let pos = |id: i64| r.iter().find(|x| x.unit_id == id).map(|x| x.rank);
            if g.assessed {
                prop_assert!(pos(1).unwrap() <= pos(2).unwrap(), "{:?}", r);
            }
        }

        /// The annual score of a unit is its mean plus its notices, and the list is sorted best first.
        #[test]
        fn annual_is_sorted(v in proptest::collection::vec(arb_facts(), 1..8), k in proptest::collection::vec((1i64..9, 0usize..3), 0..10)) {
            let f = ScoreFormula::default();
            let v = with_ids(v);
            let monthly = vec![(1, "2026-01".to_string(), rank(&v, &f)), (1, "2026-02".to_string(), rank(&v, &f))];
            let notices: Vec<_> = k.iter().map(|(u, i)| NoticeEffect { unit_id: *u, kind: NoticeKind::ALL[*i] }).collect();
            let a = annual_scores(&monthly, &notices, &NoticeWeights::default());
            prop_assert_eq!(a.len(), v.len());
            for w in a.windows(2) {
                prop_assert!(w[0].score >= w[1].score && w[0].rank <= w[1].rank);
            }
            for s in &a {
                prop_assert_eq!(s.months, 2);
                let expect = s.monthly_mean + 2.0 * s.praise as f64 - 2.0 * s.criticism as f64 - s.warning as f64;
                prop_assert!((s.score - expect).abs() < 1e-6);
            }
        }
    }
}
