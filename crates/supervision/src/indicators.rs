//! Numeric indicators ("时间过半、任务过半"): completion against a target, time progress of the
//! assessment period, and a check of the completion rate a unit reported against its own numbers
//! (units round generously; the system recomputes instead of trusting the percentage).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::validate::FieldError;

/// Share of the calendar days of `start..=end` that have passed by the end of `as_of`, in percent
/// (0–100, clamped). A statistic "截至 as_of" counts that day as passed, so `as_of == end` is 100.
pub fn time_progress(start: NaiveDate, end: NaiveDate, as_of: NaiveDate) -> f64 {
    if as_of < start {
        return 0.0;
    }
    if as_of >= end {
        return 100.0;
    }
    let total = (end - start).num_days() + 1;
    let elapsed = (as_of - start).num_days() + 1;
    (elapsed as f64 / total as f64 * 100.0).clamp(0.0, 100.0)
}

/// Round to one decimal, the precision percentages are shown and compared at.
pub fn round1(x: f64) -> f64 {
    tenths(x) as f64 / 10.0
}

/// A value in integer tenths, so comparisons of shown values are exact.
pub(crate) fn tenths(x: f64) -> i64 {
    (x * 10.0).round() as i64
}

/// A number as a clerk writes it: no trailing zeros ("18500", "62.5", "0.25"); far beyond any
/// real figure in scientific form, so a message never carries 300 digits.
pub fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        "非有限数".into()
    } else if x.abs() >= 1e15 {
        format!("{x:e}")
    } else if (x - x.round()).abs() < 1e-9 {
        format!("{:.0}", x.round())
    } else {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The largest target or actual accepted (10¹², more than any count or 万元 amount of a district).
pub const MAX_FIGURE: f64 = 1e12;
/// An actual above this many times its target needs the reporter's confirmation (a typo, or a
/// unit mistaken, such as 元 for 万元).
pub const CONFIRM_RATIO: f64 = 1000.0;
/// What the page's checkbox says; an error naming it asks for that confirmation.
pub const CONFIRM_HINT: &str = "确认数值无误";
/// The completion percentage shown is capped here, so integer tenths never overflow.
pub const MAX_COMPLETION_PERCENT: f64 = 1e9;

/// A numeric indicator of a task, e.g. 城镇新增就业 18500 人 in 2026.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Indicator {
    pub name: String,
    /// 计量单位, e.g. "人", "所", "万元".
    pub unit_label: String,
    pub target: f64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// 分期计划: what share of the target is planned by which day (e.g. a seasonal profile the
    /// 牵头部门 enters). Empty: linear, from nothing at the start to the target at the end.
    #[serde(default)]
    pub plan: Vec<PlanPoint>,
}

/// One checkpoint of a planned profile: by `by`, `percent` of the target (cumulative).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlanPoint {
    pub by: NaiveDate,
    pub percent: f64,
}

/// The most checkpoints a profile may have (one a month over two years).
pub const MAX_PLAN_POINTS: usize = 24;

/// Read a profile as a clerk types it: checkpoints "日期 百分比" separated by commas, semicolons or
/// new lines, e.g. "2026-03-31 20%，2026-06-30 55%；2026-09-30 80%". Empty text is the linear plan.
pub fn parse_plan(text: &str) -> Result<Vec<PlanPoint>, FieldError> {
    let field = "分期计划";
    let mut out = vec![];
    let parts = text.split([',', '，', ';', '；', '\n', '、']).map(str::trim);
    for (i, part) in parts.filter(|p| !p.is_empty()).enumerate() {
        let n = i + 1;
        let mut words = part.split(|c: char| c.is_whitespace() || c == '：' || c == ':').filter(|w| !w.is_empty());
        let (Some(day), Some(pct), None) = (words.next(), words.next(), words.next()) else {
            return Err(FieldError::new(field, format!("第{n}个节点「{part}」应写成“日期 百分比”，如 2026-06-30 55%")));
        };
        let by = NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .map_err(|_| FieldError::new(field, format!("第{n}个节点的日期「{day}」应为 年-月-日，如 2026-06-30")))?;
        let percent: f64 = pct
            .trim_end_matches(['%', '％'])
            .parse()
            .ok()
            .filter(|p: &f64| p.is_finite())
            .ok_or_else(|| FieldError::new(field, format!("第{n}个节点的百分比「{pct}」不是数字")))?;
        out.push(PlanPoint { by, percent });
    }
    Ok(out)
}

/// A profile as [`parse_plan`] reads it back.
pub fn format_plan(plan: &[PlanPoint]) -> String {
    plan.iter().map(|p| format!("{} {}%", p.by, fmt_num(p.percent))).collect::<Vec<_>>().join("，")
}

impl Indicator {
    /// The profile's errors, naming the checkpoint: dates inside the period and increasing,
    /// percentages within 0–100 and never decreasing.
    pub fn validate_plan(&self) -> Result<(), FieldError> {
        let field = "分期计划";
        if self.plan.len() > MAX_PLAN_POINTS {
            return Err(FieldError::new(field, format!("最多 {MAX_PLAN_POINTS} 个节点（当前 {}）", self.plan.len())));
        }
        let mut prev: Option<PlanPoint> = None;
        for (i, p) in self.plan.iter().enumerate() {
            let n = i + 1;
            if p.by <= self.period_start || p.by >= self.period_end {
                return Err(FieldError::new(
                    field,
                    format!(
                        "第{n}个节点的日期 {} 应在考核期内（{} 之后、{} 之前；期末即为完成目标的 100%）",
                        p.by, self.period_start, self.period_end
                    ),
                ));
            }
            if !(0.0..=100.0).contains(&p.percent) {
                return Err(FieldError::new(
                    field,
                    format!("第{n}个节点的百分比应在 0 到 100 之间（当前 {}）", fmt_num(p.percent)),
                ));
            }
            if let Some(q) = prev {
                if p.by <= q.by {
                    return Err(FieldError::new(
                        field,
                        format!("第{n}个节点的日期 {} 应晚于上一个节点（{}）", p.by, q.by),
                    ));
                }
                if p.percent < q.percent {
                    return Err(FieldError::new(
                        field,
                        format!(
                            "第{n}个节点的百分比 {}% 不能低于上一个节点（{}%），计划是累计值",
                            fmt_num(p.percent),
                            fmt_num(q.percent)
                        ),
                    ));
                }
            }
            prev = Some(*p);
        }
        Ok(())
    }

    /// The plan as points (share of the period, share of the target), both in percent, from
    /// (0, 0) to (100, 100).
    pub fn plan_curve(&self) -> Vec<(f64, f64)> {
        let mut pts = vec![(0.0, 0.0)];
        for p in &self.plan {
            pts.push((time_progress(self.period_start, self.period_end, p.by), p.percent));
        }
        pts.push((100.0, 100.0));
        pts
    }

    /// The planned share of the target by the end of `as_of`, percent: the time progress when the
    /// plan is linear, else the profile's line between its checkpoints.
    pub fn planned_percent(&self, as_of: NaiveDate) -> f64 {
        let x = time_progress(self.period_start, self.period_end, as_of);
        let pts = self.plan_curve();
        for w in pts.windows(2) {
            let ((x0, y0), (x1, y1)) = (w[0], w[1]);
            if x <= x1 {
                // At a checkpoint its own figure, and between two never outside them: the line's
                // arithmetic may overshoot by a rounding error (100.00000000000001 at the end).
                let y = y0 + (y1 - y0) * (x - x0) / (x1 - x0);
                return if x1 > x0 && x < x1 { y.clamp(y0.min(y1), y0.max(y1)) } else { y1 };
            }
        }
        100.0
    }

    /// 0 < 目标值 ≤ [`MAX_FIGURE`] and 考核期 end after its start.
    pub fn validate(&self) -> Result<(), FieldError> {
        if !self.target.is_finite() || self.target <= 0.0 {
            return Err(FieldError::new("目标值", format!("应大于 0（当前 {}）", fmt_num(self.target))));
        }
        if self.target > MAX_FIGURE {
            return Err(FieldError::new(
                "目标值",
                format!("不能超过 {}（当前 {}），请核对数值和计量单位", fmt_num(MAX_FIGURE), fmt_num(self.target)),
            ));
        }
        if self.period_end <= self.period_start {
            return Err(FieldError::new(
                "考核期",
                format!("结束日期（{}）应晚于开始日期（{}）", self.period_end, self.period_start),
            ));
        }
        self.validate_plan()
    }
}

/// One report of the cumulative actual, optionally with the completion rate the unit stated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IndicatorReport {
    pub as_of: NaiveDate,
    /// Cumulative actual as of `as_of`.
    pub actual: f64,
    /// The completion percentage the unit itself wrote, if any.
    pub reported_percent: Option<f64>,
}

impl IndicatorReport {
    /// 0 ≤ 完成值 ≤ [`MAX_FIGURE`] and 上报完成率 within 0–1000 %.
    pub fn validate(&self) -> Result<(), FieldError> {
        if !self.actual.is_finite() {
            return Err(FieldError::new("完成值", "不是有效的数字"));
        }
        if self.actual < 0.0 {
            return Err(FieldError::new("完成值", format!("不能为负数（当前 {}）", fmt_num(self.actual))));
        }
        if self.actual > MAX_FIGURE {
            return Err(FieldError::new(
                "完成值",
                format!("不能超过 {}（当前 {}），请核对数值和计量单位", fmt_num(MAX_FIGURE), fmt_num(self.actual)),
            ));
        }
        if let Some(p) = self.reported_percent
            && (!p.is_finite() || !(0.0..=1000.0).contains(&p))
        {
            return Err(FieldError::new("上报完成率", format!("应在 0 到 1000 之间（当前 {}）", fmt_num(p))));
        }
        Ok(())
    }

    /// The actual is more than [`CONFIRM_RATIO`] times the target: taken only when the reporter confirms it.
    pub fn needs_confirmation(&self, target: f64) -> bool {
        self.actual > target * CONFIRM_RATIO
    }

    /// [`IndicatorReport::validate`], then the plausibility against the target unless `confirmed`.
    pub fn validate_for(&self, ind: &Indicator, confirmed: bool) -> Result<(), FieldError> {
        self.validate()?;
        if self.needs_confirmation(ind.target) && !confirmed {
            return Err(FieldError::new(
                "完成值",
                format!(
                    "{} 超过目标值 {} 的 {} 倍，请核对数值和计量单位；确属实请勾选“{CONFIRM_HINT}”后重新提交",
                    fmt_num(self.actual),
                    fmt_num(ind.target),
                    fmt_num(CONFIRM_RATIO)
                ),
            ));
        }
        Ok(())
    }
}

/// The "时间过半、任务过半" check, made once half the period has passed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HalfCheck {
    /// Completion is at least 50 %.
    pub met: bool,
    pub message_zh: String,
}

/// The reported completion rate does not match actual ÷ target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PercentDisagreement {
    pub reported: f64,
    pub computed: f64,
    pub message_zh: String,
}

/// Where an indicator stands on a day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IndicatorStatus {
    /// Latest actual ÷ target, percent, 1 decimal (may exceed 100).
    pub completion_percent: f64,
    /// Share of the period elapsed, percent, 1 decimal.
    pub time_percent: f64,
    /// Share of the target planned by now, percent, 1 decimal: the time progress unless the
    /// indicator has a 分期计划.
    pub planned_percent: f64,
    /// Completion behind the plan by more than the tolerance.
    pub lagging: bool,
    pub half_check: Option<HalfCheck>,
    pub disagreement: Option<PercentDisagreement>,
    /// The report the status is computed from (`None`: nothing reported yet, completion 0).
    pub latest_as_of: Option<NaiveDate>,
    pub latest_actual: Option<f64>,
}

/// [`assess_with_tolerance`] with tolerance 0: any completion below time progress is lagging.
pub fn assess(ind: &Indicator, reports: &[IndicatorReport], as_of: NaiveDate) -> IndicatorStatus {
    assess_with_tolerance(ind, reports, as_of, 0.0)
}

/// The status on `as_of` from the latest report dated on or before it (later ones in the slice win ties).
pub fn assess_with_tolerance(
    ind: &Indicator,
    reports: &[IndicatorReport],
    as_of: NaiveDate,
    tolerance: f64,
) -> IndicatorStatus {
    let latest =
        reports.iter().enumerate().filter(|(_, r)| r.as_of <= as_of).max_by_key(|(i, r)| (r.as_of, *i)).map(|(_, r)| r);
    let computed_raw = match latest {
        Some(r) if ind.target > 0.0 => r.actual / ind.target * 100.0,
        _ => 0.0,
    };
    // Stored figures predate the bounds, so the ratio may be anything (even NaN): clamp it.
    let computed_raw = if computed_raw.is_nan() { 0.0 } else { computed_raw.clamp(0.0, MAX_COMPLETION_PERCENT) };
    let completion = round1(computed_raw);
    let time = round1(time_progress(ind.period_start, ind.period_end, as_of));
    let planned = round1(ind.planned_percent(as_of));
    // Compare the values as shown (tenths) so the flag never contradicts the numbers on screen.
    let lagging = tenths(completion) < tenths(planned) - tenths(tolerance.max(0.0));
    let half_check = (tenths(time) >= 500).then(|| {
        let met = tenths(completion) >= 500;
        let message_zh = if met {
            format!("时间过半、任务过半：时间进度 {time:.1}%，完成 {completion:.1}%")
        } else {
            format!("时间过半、任务未过半：时间进度 {time:.1}%，仅完成 {completion:.1}%")
        };
        HalfCheck { met, message_zh }
    });
    let disagreement = latest.and_then(|r| {
        let reported = r.reported_percent?;
        if tenths(reported) == tenths(completion) {
            return None;
        }
        let reported = round1(reported);
        Some(PercentDisagreement {
            reported,
            computed: completion,
            message_zh: format!(
                "上报完成率 {reported:.1}% 与按数据计算的 {completion:.1}%（{}/{}）不符",
                fmt_num(r.actual),
                fmt_num(ind.target)
            ),
        })
    });
    IndicatorStatus {
        completion_percent: completion,
        time_percent: time,
        planned_percent: planned,
        lagging,
        half_check,
        disagreement,
        latest_as_of: latest.map(|r| r.as_of),
        latest_actual: latest.map(|r| r.actual),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn jobs() -> Indicator {
        Indicator {
            name: "城镇新增就业".into(),
            unit_label: "人".into(),
            target: 18500.0,
            period_start: d("2026-01-01"),
            period_end: d("2026-12-31"),
            plan: vec![],
        }
    }

    fn seasonal() -> Indicator {
        let plan = parse_plan("2026-03-31 20%，2026-06-30 55%；2026-09-30 80%").unwrap();
        Indicator { plan, ..jobs() }
    }

    #[test]
    fn a_seasonal_plan_sets_what_is_behind() {
        let ind = seasonal();
        assert!(ind.validate().is_ok());
        assert_eq!(format_plan(&ind.plan), "2026-03-31 20%，2026-06-30 55%，2026-09-30 80%");
        // On its checkpoints the plan is what was typed; between them, the line.
        assert!((ind.planned_percent(d("2026-06-30")) - 55.0).abs() < 1e-9);
        assert_eq!(ind.planned_percent(d("2026-12-31")), 100.0);
        assert_eq!(ind.planned_percent(d("2025-12-31")), 0.0);
        // 50 % at the end of June: behind the 55 % planned though ahead of time (49.6 %).
        let r = IndicatorReport { as_of: d("2026-06-30"), actual: 9250.0, reported_percent: None };
        let s = assess(&ind, std::slice::from_ref(&r), d("2026-06-30"));
        assert_eq!((s.time_percent, s.planned_percent), (49.6, 55.0));
        assert!(s.lagging);
        let linear = assess(&jobs(), &[r], d("2026-06-30"));
        assert_eq!(linear.planned_percent, linear.time_percent);
        assert!(!linear.lagging);
    }

    #[test]
    fn a_wrong_plan_names_its_checkpoint() {
        let bad = |t: &str| Indicator { plan: parse_plan(t).unwrap(), ..jobs() }.validate().unwrap_err().to_string();
        assert!(bad("2026-06-30 55%，2026-03-31 60%").contains("第2个节点的日期 2026-03-31 应晚于上一个节点"));
        assert!(bad("2026-03-31 60%，2026-06-30 55%").contains("第2个节点的百分比 55% 不能低于上一个节点"));
        assert!(bad("2027-03-31 60%").contains("应在考核期内"));
        assert!(bad("2026-03-31 120%").contains("0 到 100"));
        let e = parse_plan("2026-03-31 二成").unwrap_err();
        assert_eq!(e.to_string(), "字段「分期计划」第1个节点的百分比「二成」不是数字");
        assert!(parse_plan("3月底 20%").unwrap_err().message.contains("年-月-日"));
        assert!(parse_plan("2026-03-31").unwrap_err().message.contains("日期 百分比"));
        assert_eq!(parse_plan("  ").unwrap(), vec![]);
    }

    #[test]
    fn reported_rate_is_checked_against_the_numbers() {
        let r = IndicatorReport { as_of: d("2026-09-30"), actual: 11598.0, reported_percent: Some(66.3) };
        let s = assess(&jobs(), &[r], d("2026-10-08"));
        assert_eq!(s.completion_percent, 62.7);
        let dis = s.disagreement.unwrap();
        assert_eq!((dis.reported, dis.computed), (66.3, 62.7));
        assert_eq!(dis.message_zh, "上报完成率 66.3% 与按数据计算的 62.7%（11598/18500）不符");
    }

    #[test]
    fn matching_report_is_not_flagged() {
        // 13532 / 18500 = 73.146… → 73.1
        let r = IndicatorReport { as_of: d("2026-11-30"), actual: 13532.0, reported_percent: Some(73.1) };
        let s = assess(&jobs(), &[r], d("2026-11-30"));
        assert_eq!(s.completion_percent, 73.1);
        assert_eq!(s.disagreement, None);
        // 334 of 365 days have passed: 91.5 %, so 73.1 % lags.
        assert_eq!(s.time_percent, 91.5);
        assert!(s.lagging);
        assert!(
            !assess_with_tolerance(
                &jobs(),
                &[IndicatorReport { reported_percent: None, ..s_report(13532.0) }],
                d("2026-11-30"),
                20.0
            )
            .lagging
        );
    }

    fn s_report(actual: f64) -> IndicatorReport {
        IndicatorReport { as_of: d("2026-11-30"), actual, reported_percent: None }
    }

    #[test]
    fn half_check_only_after_half_time() {
        let early = assess(
            &jobs(),
            &[IndicatorReport { as_of: d("2026-03-31"), actual: 6000.0, reported_percent: None }],
            d("2026-03-31"),
        );
        assert_eq!(early.half_check, None);
        assert!(!early.lagging, "32.4 % done at 24.7 % time");
        let r = IndicatorReport { as_of: d("2026-07-31"), actual: 8000.0, reported_percent: None };
        let s = assess(&jobs(), &[r], d("2026-07-31"));
        let h = s.half_check.unwrap();
        assert!(!h.met);
        assert_eq!(h.message_zh, "时间过半、任务未过半：时间进度 58.1%，仅完成 43.2%");
        let ok = assess(
            &jobs(),
            &[IndicatorReport { as_of: d("2026-07-31"), actual: 9250.0, reported_percent: None }],
            d("2026-07-31"),
        );
        assert!(ok.half_check.unwrap().met);
    }

    #[test]
    fn latest_report_on_or_before_the_day_counts() {
        let rs = [
            IndicatorReport { as_of: d("2026-06-30"), actual: 9000.0, reported_percent: None },
            IndicatorReport { as_of: d("2026-03-31"), actual: 4000.0, reported_percent: Some(99.0) },
            IndicatorReport { as_of: d("2026-12-31"), actual: 18500.0, reported_percent: None },
        ];
        let s = assess(&jobs(), &rs, d("2026-07-01"));
        assert_eq!(s.latest_actual, Some(9000.0));
        assert_eq!(s.completion_percent, 48.6);
        assert_eq!(s.disagreement, None, "an older report's percentage is history");
        let none = assess(&jobs(), &[], d("2026-07-01"));
        assert_eq!((none.completion_percent, none.latest_as_of), (0.0, None));
    }

    #[test]
    fn time_progress_counts_calendar_days() {
        let (a, b) = (d("2026-03-01"), d("2026-06-30"));
        assert_eq!(time_progress(a, b, d("2026-02-28")), 0.0);
        assert_eq!(round1(time_progress(a, b, d("2026-05-20"))), 66.4); // 81 of 122 days
        assert_eq!(time_progress(a, b, d("2026-06-30")), 100.0);
        assert_eq!(time_progress(a, b, d("2027-01-01")), 100.0);
        assert_eq!(time_progress(b, a, d("2026-04-01")), 0.0, "an inverted period before its end is 0");
    }

    #[test]
    fn validation_names_the_field() {
        let mut i = jobs();
        i.target = 0.0;
        assert_eq!(i.validate().unwrap_err().to_string(), "字段「目标值」应大于 0（当前 0）");
        let mut i = jobs();
        i.period_end = i.period_start;
        assert_eq!(i.validate().unwrap_err().field, "考核期");
        assert!(jobs().validate().is_ok());
        let r = IndicatorReport { as_of: d("2026-01-02"), actual: -1.0, reported_percent: None };
        assert_eq!(r.validate().unwrap_err().field, "完成值");
        let r = IndicatorReport { as_of: d("2026-01-02"), actual: 1.0, reported_percent: Some(1000.5) };
        assert_eq!(r.validate().unwrap_err().to_string(), "字段「上报完成率」应在 0 到 1000 之间（当前 1000.5）");
        let r = IndicatorReport { as_of: d("2026-01-02"), actual: 1.0, reported_percent: Some(f64::NAN) };
        assert_eq!(r.validate().unwrap_err().field, "上报完成率");
        assert!(
            IndicatorReport { as_of: d("2026-01-02"), actual: 0.0, reported_percent: Some(0.0) }.validate().is_ok()
        );
    }

    #[test]
    fn implausible_actuals_are_refused_or_need_confirmation() {
        let r = |actual: f64| IndicatorReport { as_of: d("2026-06-01"), actual, reported_percent: None };
        assert_eq!(r(1e308).validate().unwrap_err().field, "完成值");
        assert_eq!(
            r(1e308).validate().unwrap_err().message,
            "不能超过 1000000000000（当前 1e308），请核对数值和计量单位"
        );
        assert_eq!(r(f64::NAN).validate().unwrap_err().message, "不是有效的数字");
        assert_eq!(r(f64::INFINITY).validate().unwrap_err().message, "不是有效的数字");
        let ind = jobs();
        assert!(r(18_500_000.0).validate_for(&ind, false).is_ok(), "exactly 1000 × target");
        let e = r(18_500_001.0).validate_for(&ind, false).unwrap_err();
        assert!(e.message.contains("确认数值无误"), "{e}");
        assert!(r(18_500_001.0).validate_for(&ind, true).is_ok());
        let big = Indicator { target: 2e12, ..jobs() };
        assert_eq!(big.validate().unwrap_err().field, "目标值");
    }

    #[test]
    fn completion_never_overflows_what_is_shown() {
        // A figure stored before the bounds existed.
        let tiny = Indicator { target: 1e-300, ..jobs() };
        let s = assess(&tiny, &[s_report(1e308)], d("2026-11-30"));
        assert_eq!(s.completion_percent, MAX_COMPLETION_PERCENT);
        assert!(s.half_check.unwrap().message_zh.contains("完成 1000000000.0%"));
        let nan = assess(&jobs(), &[s_report(f64::NAN)], d("2026-11-30"));
        assert_eq!(nan.completion_percent, 0.0);
    }

    #[test]
    fn numbers_print_like_a_clerk_writes_them() {
        assert_eq!(fmt_num(1e308), "1e308");
        assert_eq!(fmt_num(18500.0), "18500");
        assert_eq!(fmt_num(62.5), "62.5");
        assert_eq!(fmt_num(0.25), "0.25");
    }

    fn day() -> impl Strategy<Value = NaiveDate> {
        (0i64..1500).prop_map(|n| d("2025-01-01") + chrono::Duration::days(n))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// More actual never shows less completion.
        #[test]
        fn completion_is_monotone_in_actual(target in 1.0f64..1e6, a in 0.0f64..2e6, b in 0.0f64..2e6) {
            let ind = Indicator { target, ..jobs() };
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            let at = |x: f64| assess(&ind, &[IndicatorReport { as_of: d("2026-06-01"), actual: x, reported_percent: None }], d("2026-06-01")).completion_percent;
            prop_assert!(at(lo) <= at(hi));
        }

        /// Whatever was stored, completion is a finite percentage within 0 and the cap, and its
        /// tenths are exact (no saturated integer on screen).
        #[test]
        fn completion_is_bounded(target in prop_oneof![Just(1e-300), 1e-9f64..1e12], actual in prop_oneof![Just(1e308), 0.0f64..1e300]) {
            let ind = Indicator { target, ..jobs() };
            let c = assess(&ind, &[s_report(actual)], d("2026-11-30")).completion_percent;
            prop_assert!(c.is_finite() && (0.0..=MAX_COMPLETION_PERCENT).contains(&c));
            prop_assert!(tenths(c) < i64::MAX / 2);
        }

        /// Time progress stays within 0–100 and never goes back as days pass.
        #[test]
        fn time_is_bounded_and_monotone(s in day(), len in 1i64..800, x in day(), y in day()) {
            let e = s + chrono::Duration::days(len);
            let (x, y) = if x <= y { (x, y) } else { (y, x) };
            let (tx, ty) = (time_progress(s, e, x), time_progress(s, e, y));
            prop_assert!((0.0..=100.0).contains(&tx) && (0.0..=100.0).contains(&ty));
            prop_assert!(tx <= ty);
            let ind = Indicator { period_start: s, period_end: e, ..jobs() };
            prop_assert!(assess(&ind, &[], x).time_percent <= assess(&ind, &[], y).time_percent);
        }

        /// Any valid profile: the planned share stays within 0–100, never falls as days pass, meets
        /// each checkpoint, and reads back from its own text.
        #[test]
        fn plans_are_monotone_and_read_back(
            steps in proptest::collection::vec((1i64..90, 0u32..300), 0..8),
            x in day(),
            y in day(),
        ) {
            let mut plan = vec![];
            let (mut by, mut pct) = (d("2026-01-01"), 0u32);
            for (days, gain) in steps {
                by += chrono::Duration::days(days);
                pct = (pct + gain).min(1000);
                if by < d("2026-12-31") {
                    plan.push(PlanPoint { by, percent: pct as f64 / 10.0 });
                }
            }
            let ind = Indicator { plan, ..jobs() };
            prop_assert!(ind.validate().is_ok());
            prop_assert_eq!(parse_plan(&format_plan(&ind.plan)).unwrap(), ind.plan.clone());
            let (x, y) = if x <= y { (x, y) } else { (y, x) };
            let (px, py) = (ind.planned_percent(x), ind.planned_percent(y));
            prop_assert!((0.0..=100.0).contains(&px) && px <= py + 1e-9);
            for p in &ind.plan {
                prop_assert!((ind.planned_percent(p.by) - p.percent).abs() < 1e-6);
            }
        }

        /// Reporting exactly the computed rate is never a disagreement.
        #[test]
        fn exact_report_agrees(target in 1.0f64..1e6, actual in 0.0f64..2e6) {
            let ind = Indicator { target, ..jobs() };
            let computed = actual / target * 100.0;
            prop_assume!(computed <= 1000.0);
            let r = IndicatorReport { as_of: d("2026-06-01"), actual, reported_percent: Some(computed) };
            prop_assert!(r.validate().is_ok());
            prop_assert_eq!(assess(&ind, std::slice::from_ref(&r), d("2026-06-01")).disagreement, None);
            let shown = IndicatorReport { reported_percent: Some(round1(computed)), ..r };
            prop_assert_eq!(assess(&ind, &[shown], d("2026-06-01")).disagreement, None);
        }
    }
}

/// An indicator's 时间过半、任务过半 as a trajectory: the planned line (linear from nothing at the
/// period's start to the target at its end, or through its 分期计划's checkpoints), the actuals, and where the recent pace of the actuals
/// leads — in a 0–100 box the page scales (x: share of the period, y: share of the target, clamped
/// at 120 %).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trajectory {
    /// The plan as (x, y) in percent of period and of target, from (0, 0) to (100, 100).
    pub planned: Vec<(f64, f64)>,
    /// The actuals as (x, y) in percent of period and of target.
    pub actual: Vec<(f64, f64)>,
    /// From the last actual to where the pace reaches by the period's end (or the target earlier).
    pub forecast: Option<((f64, f64), (f64, f64))>,
    /// Where the pace leaves the indicator at the period's end, percent of target.
    pub forecast_end_percent: Option<f64>,
    /// Forecast to fall short of the target by the period's end.
    pub at_risk: bool,
    /// Why, in one sentence.
    pub basis: String,
}

/// The trajectory of `ind` from its reports (any order).
pub fn trajectory(ind: &Indicator, reports: &[IndicatorReport]) -> Trajectory {
    use crate::forecast::{Forecast, Report, forecast};
    let span = ((ind.period_end - ind.period_start).num_days()).max(1) as f64;
    let x_of = |d: NaiveDate| ((d - ind.period_start).num_days() as f64 / span * 100.0).clamp(0.0, 100.0);
    let pct = |v: f64| if ind.target > 0.0 { (v / ind.target * 100.0).clamp(0.0, 120.0) } else { 0.0 };
    let mut rs: Vec<&IndicatorReport> = reports.iter().collect();
    rs.sort_by_key(|r| r.as_of);
    let actual: Vec<(f64, f64)> = rs.iter().map(|r| (round1(x_of(r.as_of)), round1(pct(r.actual)))).collect();
    let points: Vec<Report> = rs
        .iter()
        .filter_map(|r| r.as_of.and_hms_opt(12, 0, 0).map(|at| Report { at, progress: pct(r.actual).floor() as i64 }))
        .collect();
    let end = ind.period_end.and_hms_opt(23, 59, 0).unwrap_or_default();
    let f = forecast(&points);
    let (forecast_line, end_percent) = match (&f, rs.last()) {
        (Forecast::Expected { date, rate_per_week, .. }, Some(last)) => {
            let from = (round1(x_of(last.as_of)), round1(pct(last.actual)));
            let weeks_left = (ind.period_end - last.as_of).num_days() as f64 / 7.0;
            let at_end = (pct(last.actual) + rate_per_week * weeks_left).clamp(0.0, 120.0);
            let to = if *date <= ind.period_end { (round1(x_of(*date)), 100.0) } else { (100.0, round1(at_end)) };
            (Some((from, to)), Some(round1(at_end)))
        }
        _ => (None, None),
    };
    let basis = match &f {
        Forecast::Expected { .. } => {
            let text = f.basis(end).replace("完成", "达到目标").replace("期限", "期末");
            match end_percent {
                Some(p) if p < 100.0 => format!("{text}；期末预计完成目标的 {p}%"),
                _ => text,
            }
        }
        _ => f.basis(end),
    };
    let planned = ind.plan_curve().into_iter().map(|(x, y)| (round1(x), round1(y))).collect();
    Trajectory {
        planned,
        actual,
        forecast: forecast_line,
        forecast_end_percent: end_percent,
        at_risk: f.at_risk(end),
        basis,
    }
}

#[cfg(test)]
mod trajectory_tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_slow_pace_falls_short_and_says_by_how_much() {
        let ind = Indicator {
            name: "新增就业".into(),
            unit_label: "人".into(),
            target: 1000.0,
            period_start: d("2026-01-01"),
            period_end: d("2026-12-31"),
            plan: vec![],
        };
        let r = |day: &str, v: f64| IndicatorReport { as_of: d(day), actual: v, reported_percent: None };
        let t = trajectory(&ind, &[r("2026-07-01", 300.0), r("2026-04-01", 150.0), r("2026-10-01", 450.0)]);
        assert_eq!(t.actual.len(), 3);
        assert!(t.actual[0].0 < t.actual[1].0, "in time order");
        assert!(t.at_risk);
        let p = t.forecast_end_percent.unwrap();
        assert!((55.0..65.0).contains(&p), "{p}");
        assert!(t.basis.contains("期末预计完成目标的"), "{}", t.basis);
        // Fewer than two reports: no line, no invented figure.
        let t = trajectory(&ind, &[r("2026-07-01", 300.0)]);
        assert!(t.forecast.is_none() && t.forecast_end_percent.is_none());
        assert!(t.basis.contains("至少两次汇报"));
    }
}
