//! The supervision-outcome rules through their public API, on the district's own cases.

use chrono::NaiveDate;
use xietong_supervision::Role;
use xietong_supervision::indicators::{Indicator, IndicatorReport, assess, time_progress};
use xietong_supervision::inspections::{Inspection, OverlapRules, burden, find_overlaps, merge_groups, months_between};
use xietong_supervision::problems::{
    ProblemAction, ProblemStatus, age_days, next_problem_status, problem_action_allowed,
};
use xietong_supervision::projects::{BidSection, project_progress, rank_sections, validate_amount};
use xietong_supervision::ranking::{
    NoticeEffect, NoticeKind, NoticeWeights, ScoreFormula, UnitMonthFacts, annual_scores, rank,
};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[allow(clippy::too_many_arguments)]
fn unit(
    id: i64,
    name: &str,
    sort: i64,
    due: i64,
    on_time: i64,
    overdue: i64,
    rejections: i64,
    progress_ratio: f64,
) -> UnitMonthFacts {
    UnitMonthFacts {
        unit_id: id,
        unit_name: name.into(),
        sort,
        tasks_total: due + overdue + 1,
        // Tasks still open past their deadline are due too: the old facts left them out, so a
        // unit with only overdue tasks had "nothing due" and a 100 % on-time rate.
        due_in_month: due + overdue,
        closed_on_time: on_time,
        closed_late: due - on_time,
        overdue_open: overdue,
        not_yet_due: 1,
        progress_judged: 0,
        rejections,
        progress_ratio,
        assessed: true,
        task_ids: vec![id * 100 + 1, id * 100 + 2],
    }
}

#[test]
fn monthly_ranking_of_a_category_and_the_year() {
    let f = ScoreFormula::default();
    assert!(f.validate().is_ok());
    let oct = vec![
        unit(1, "建设和交通局", 1, 4, 4, 0, 0, 0.9), // 60 + 36 = 96
        unit(2, "城市管理局", 2, 4, 4, 1, 0, 0.925), // 60 × 4/5 + 37 − 5 = 80
        unit(3, "大学路街道", 10, 2, 2, 0, 1, 0.55), // 60 + 22 − 2 = 80
        unit(4, "长江路街道", 11, 0, 0, 2, 3, 0.5),  // 60 × 0/2 + 20 − 10 − 6 = 4
    ];
    let r = rank(&oct, &f);
    let rows: Vec<_> = r.iter().map(|x| (x.rank, x.unit_name.as_str(), x.score)).collect();
    // 长江路街道 once scored 64 here: its two overdue tasks counted as "nothing due" (100 %).
    assert_eq!(
        rows,
        vec![(1, "建设和交通局", 96.0), (2, "大学路街道", 80.0), (3, "城市管理局", 80.0), (4, "长江路街道", 4.0)]
    );
    assert_eq!(r[2].tie_note.as_deref(), Some("与上一名同分（80.00），逾期未结 1 件，多于上一名的 0 件"));
    assert_eq!(r[3].facts.task_ids, vec![401, 402]);
    let text = f.describe_zh();
    assert!(text.contains("60 × 按期办结率") && text.contains("逾期未结任务少者"), "{text}");
    assert!(text.contains("尚未到期的任务不计入") && text.contains("不参评"), "{text}");

    // A published row survives the JSON round trip the storage layer stores it in.
    let json = serde_json::to_string(&r[1]).unwrap();
    assert_eq!(serde_json::from_str::<xietong_supervision::ranking::RankedUnit>(&json).unwrap(), r[1]);

    // November: 建设和交通局 1 of 3 on time (20 + 40 − 5 = 55), 长江路街道 all on time (100).
    let nov = rank(&[unit(1, "建设和交通局", 1, 2, 1, 1, 0, 1.0), unit(4, "长江路街道", 11, 1, 1, 0, 0, 1.0)], &f);
    let notices = [
        NoticeEffect { unit_id: 4, kind: NoticeKind::from_code("批评").unwrap() },
        NoticeEffect { unit_id: 1, kind: NoticeKind::Praise },
    ];
    let a = annual_scores(&[(3, "2026-10".into(), r), (3, "2026-11".into(), nov)], &notices, &NoticeWeights::default());
    let got: Vec<_> = a
        .iter()
        .map(|s| (s.rank, s.unit_name.as_str(), s.months, s.monthly_mean, s.notice_adjustment, s.score))
        .collect();
    // Equal totals share rank 1 and are listed by name.
    assert_eq!(
        got,
        vec![
            (1, "城市管理局", 1, 80.0, 0.0, 80.0),
            (1, "大学路街道", 1, 80.0, 0.0, 80.0),
            (3, "建设和交通局", 2, 75.5, 2.0, 77.5),
            (4, "长江路街道", 2, 52.0, -2.0, 50.0),
        ]
    );
}

#[test]
fn employment_indicator_real_case() {
    let ind = Indicator {
        name: "城镇新增就业".into(),
        unit_label: "人".into(),
        target: 18500.0,
        period_start: d("2026-01-01"),
        period_end: d("2026-12-31"),
        plan: vec![],
    };
    assert!(ind.validate().is_ok());
    let rep = IndicatorReport { as_of: d("2026-08-31"), actual: 11598.0, reported_percent: Some(66.3) };
    assert!(rep.validate().is_ok());
    let s = assess(&ind, std::slice::from_ref(&rep), d("2026-08-31"));
    assert_eq!(s.completion_percent, 62.7);
    assert_eq!(s.time_percent, 66.6); // 243 of 365 days
    assert!(s.lagging);
    assert!(s.half_check.as_ref().unwrap().met);
    assert_eq!(s.disagreement.unwrap().message_zh, "上报完成率 66.3% 与按数据计算的 62.7%（11598/18500）不符");
    assert_eq!(time_progress(d("2026-01-01"), d("2026-12-31"), d("2026-12-31")), 100.0);
}

#[test]
fn overlapping_inspections_are_merged() {
    let items = vec![
        Inspection {
            id: 7,
            name: "安全生产大检查".into(),
            issuing_unit_id: 20,
            target_unit_ids: vec![31, 32],
            start: d("2026-06-01"),
            end: d("2026-06-30"),
            subject: String::new(),
        },
        Inspection {
            id: 5,
            name: "安全生产隐患排查整治督查".into(),
            issuing_unit_id: 21,
            target_unit_ids: vec![32, 33],
            start: d("2026-06-15"),
            end: d("2026-07-15"),
            subject: String::new(),
        },
        Inspection {
            id: 9,
            name: "学前教育普惠督导".into(),
            issuing_unit_id: 22,
            target_unit_ids: vec![31, 32],
            start: d("2026-06-01"),
            end: d("2026-06-30"),
            subject: String::new(),
        },
    ];
    let o = find_overlaps(&items, &OverlapRules::default());
    assert_eq!(
        o.iter().map(|x| (x.a, x.b, x.shared_units.clone(), x.overlap_days)).collect::<Vec<_>>(),
        vec![(5, 7, vec![32], 16)]
    );
    let g = merge_groups(&items, &o);
    assert_eq!(g, vec![vec![5, 7]]);
    let b: Vec<_> = burden(&items, &g, &months_between(d("2026-06-01"), d("2026-07-31")))
        .into_iter()
        .map(|x| (x.unit_id, x.month, x.before, x.after))
        .collect();
    assert_eq!(
        b,
        vec![
            (31, "2026-06".into(), 2, 2),
            (32, "2026-06".into(), 3, 2),
            (32, "2026-07".into(), 1, 1),
            (33, "2026-06".into(), 1, 1),
            (33, "2026-07".into(), 1, 1),
        ]
    );
}

#[test]
fn problem_goes_up_and_comes_back_resolved() {
    let mut s = ProblemStatus::Pending;
    for (role, lead, a) in [
        (Role::Liaison, true, ProblemAction::HoldMeeting),
        (Role::Supervisor, false, ProblemAction::Escalate),
        (Role::Leader, false, ProblemAction::Instruct),
        (Role::Liaison, true, ProblemAction::Resolve),
    ] {
        assert!(problem_action_allowed(role, lead, a));
        s = next_problem_status(s, a).unwrap();
    }
    assert_eq!(s, ProblemStatus::Resolved);
    assert!(!problem_action_allowed(Role::Supervisor, false, ProblemAction::Instruct));
    assert_eq!(age_days(d("2026-09-01"), d("2026-10-01")), 30);
}

#[test]
fn road_renovation_phase_three_sections() {
    let sections: Vec<_> = [("第一标段", 80), ("第二标段", 75), ("第三标段", 78), ("第四标段", 40)]
        .into_iter()
        .enumerate()
        .map(|(i, (n, p))| BidSection {
            id: i as i64 + 1,
            name: n.into(),
            contractor: format!("施工单位{}", i + 1),
            start: d("2026-03-01"),
            due: d("2026-06-30"),
            progress: p,
        })
        .collect();
    let r = rank_sections(&sections, d("2026-05-20"));
    let last = r.last().unwrap();
    assert_eq!((last.rank, last.name.as_str(), last.gap, last.lagging), (4, "第四标段", -26.4, true));
    assert!(r[..3].iter().all(|x| !x.lagging));
    assert_eq!(project_progress(&sections), 68);
    assert!(validate_amount("计划总投资（万元）", 35000.0).is_ok());
}

mod month_facts_from_tasks {
    use chrono::NaiveDateTime;
    use xietong_supervision::ranking::{TaskFacts, month_facts};

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn task(
        id: i64,
        unit: i64,
        progress: i64,
        started: &str,
        deadline: &str,
        closed: Option<&str>,
        rejections: i64,
    ) -> TaskFacts {
        TaskFacts {
            id,
            lead_unit_id: unit,
            progress,
            started: t(started),
            deadline: t(deadline),
            closed_at: closed.map(t),
            rejections_in_month: rejections,
            report_every_days: Some(7),
        }
    }

    #[test]
    fn october_is_read_as_of_its_end() {
        let (start, end) = (t("2026-10-01 00:00"), t("2026-10-31 23:59"));
        let tasks = vec![
            task(1, 10, 100, "2026-09-01 09:00", "2026-10-15 18:00", Some("2026-10-14 10:00"), 0), // on time
            task(2, 10, 100, "2026-09-01 09:00", "2026-10-15 18:00", Some("2026-10-20 10:00"), 1), // late, rejected once
            task(3, 20, 20, "2026-10-01 09:00", "2026-10-20 18:00", None, 0),                      // overdue and open
            task(4, 20, 50, "2026-10-01 09:00", "2026-12-31 18:00", None, 0), // open, ahead of time
        ];
        let units = vec![(10, "甲局".to_string(), 1), (20, "乙镇".to_string(), 2), (30, "丙街道".to_string(), 3)];
        let f = month_facts(&tasks, &units, start, end);
        assert_eq!(f.len(), 2, "a unit without tasks in the category is not ranked");
        assert_eq!((f[0].due_in_month, f[0].closed_on_time, f[0].closed_late, f[0].rejections), (2, 1, 1, 1));
        assert_eq!(f[0].task_ids, vec![1, 2]);
        assert_eq!((f[1].due_in_month, f[1].overdue_open), (1, 1));
        // Task 3 is past its deadline (time 100 %, progress 20 %); task 4 is ahead (capped at 1).
        assert!((f[1].progress_ratio - (0.2 + 1.0) / 2.0).abs() < 1e-9, "{}", f[1].progress_ratio);
    }

    #[test]
    fn a_task_closed_after_the_cutoff_is_still_open_then() {
        let (start, end) = (t("2026-10-01 00:00"), t("2026-10-31 23:59"));
        let tasks = vec![task(1, 10, 40, "2026-10-01 09:00", "2026-10-10 18:00", Some("2026-11-03 10:00"), 0)];
        let f = month_facts(&tasks, &[(10, "甲局".into(), 1)], start, end);
        assert_eq!((f[0].closed_on_time, f[0].closed_late, f[0].overdue_open), (0, 0, 1));
    }
}
