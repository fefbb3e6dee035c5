//! 预计完成 evaluated by replay (issue 17, item 3): a generated history of tasks — each with a true
//! weekly pace that varies from week to week, weekly progress reports, and a deadline — is replayed
//! report by report through the product's forecast. For the tasks that did end overdue it prints
//! how many days before the deadline the forecast first marked them 预计逾期, and for those that
//! finished on time how many it marked anyway (false alarms); beside it, the same figures for the
//! yellow light (3 working days before the deadline), the peer the forecast must beat.
//!
//!   cargo run --release -p xietong-bench --bin forecast_bench -- [--tasks 20000] [--seed 7]

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use clap::Parser;
use rand::{Rng, SeedableRng, rngs::StdRng};
use xietong_supervision::forecast::{Report, forecast};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 20_000)]
    tasks: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

/// Working days from `a` to `b` (Monday–Friday), for the light's 3-working-day warning.
fn working_days_before(deadline: NaiveDate, n: i64) -> NaiveDate {
    let (mut d, mut left) = (deadline, n);
    while left > 0 {
        d -= Duration::days(1);
        if d.weekday().num_days_from_monday() < 5 {
            left -= 1;
        }
    }
    d
}

fn percentile(v: &mut [i64], p: f64) -> i64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let args = Args::parse();
    let mut rng = StdRng::seed_from_u64(args.seed);
    let start: NaiveDateTime =
        NaiveDate::from_ymd_opt(2026, 1, 5).and_then(|d| d.and_hms_opt(10, 0, 0)).unwrap_or_default();
    let t0 = std::time::Instant::now();
    let (mut overdue, mut on_time) = (0usize, 0usize);
    let (mut caught, mut false_alarm, mut alarm_at_end) = (0usize, 0usize, 0usize);
    let mut lead_days: Vec<i64> = vec![];
    let (mut light_lead, mut light_false) = (vec![], 0usize);
    let mut forecasts = 0usize;
    for _ in 0..args.tasks {
        let weeks_allowed: i64 = rng.gen_range(4..=16);
        let deadline = start + Duration::days(7 * weeks_allowed);
        // The pace the unit would need, times a factor: most near it, some well below.
        let need = 100.0 / weeks_allowed as f64;
        let factor: f64 = if rng.gen_bool(0.3) { rng.gen_range(0.5..0.95) } else { rng.gen_range(0.9..1.6) };
        let mut progress = 0.0f64;
        let mut reports: Vec<Report> = vec![];
        let mut flagged: Option<NaiveDate> = None;
        let mut flagged_last = false;
        let mut finished: Option<NaiveDate> = None;
        for week in 1..=60 {
            let at = start + Duration::days(7 * week);
            // This week's pace: the unit's own, ±40 %.
            progress = (progress + need * factor * rng.gen_range(0.6..1.4)).min(100.0);
            reports.push(Report { at, progress: progress.floor() as i64 });
            if progress >= 100.0 {
                finished = Some(at.date());
                break;
            }
            if at < deadline {
                forecasts += 1;
                let f = forecast(&reports);
                let risk = f.at_risk(deadline);
                if risk && flagged.is_none() {
                    flagged = Some(at.date());
                }
                flagged_last = risk;
            }
        }
        let done = finished.unwrap_or(deadline.date() + Duration::days(365));
        let yellow = working_days_before(deadline.date(), 3);
        if done > deadline.date() {
            overdue += 1;
            if let Some(f) = flagged {
                caught += 1;
                lead_days.push((deadline.date() - f).num_days());
            }
            light_lead.push((deadline.date() - yellow).num_days());
        } else {
            on_time += 1;
            if flagged.is_some() {
                false_alarm += 1;
            }
            if flagged_last {
                alarm_at_end += 1;
            }
            if done > yellow {
                light_false += 1;
            }
        }
    }
    let pct = |a: usize, b: usize| if b == 0 { 0.0 } else { 100.0 * a as f64 / b as f64 };
    println!(
        "预计完成 replay: {} generated tasks (seed {}), {} forecasts in {:.0} ms",
        args.tasks,
        args.seed,
        forecasts,
        t0.elapsed().as_secs_f64() * 1e3
    );
    println!("ended overdue: {overdue}; on time: {on_time}");
    let (p25, p50, p75) =
        (percentile(&mut lead_days, 0.25), percentile(&mut lead_days, 0.5), percentile(&mut lead_days, 0.75));
    println!(
        "forecast (预计逾期): caught {caught} of {overdue} overdue ({:.1} %), days before the deadline p25 {p25} / median {p50} / p75 {p75}",
        pct(caught, overdue)
    );
    println!(
        "forecast false alarms: {false_alarm} of {on_time} on-time tasks were marked at some report ({:.1} %), {alarm_at_end} still marked at their last report before the deadline ({:.1} %)",
        pct(false_alarm, on_time),
        pct(alarm_at_end, on_time)
    );
    let lp50 = percentile(&mut light_lead, 0.5);
    println!(
        "yellow light (3 working days before): every overdue task, median {lp50} days before the deadline; {light_false} of {on_time} on-time tasks were still open when it turned ({:.1} %)",
        pct(light_false, on_time)
    );
}
