//! `distlab sweep`: one fault parameter over a grid of values, several seeds each; a CSV of
//! latency percentiles, throughput and failed runs, and a plot of latency and throughput.

use plotters::prelude::*;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::cli::{Param, ParamName};
use crate::scenario::{Outcome, Params, Verdict};

/// The aggregate of the runs at one value of the parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// The parameter's value.
    pub value: f64,
    /// Runs (seeds) at this value.
    pub runs: u64,
    /// Operations completed, over all runs.
    pub ops: u64,
    /// Median latency, milliseconds of simulated time.
    pub p50_ms: f64,
    /// 90th percentile latency, ms.
    pub p90_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Completed operations per simulated second, averaged over runs.
    pub throughput: f64,
    /// Runs whose history check found a violation.
    pub violations: u64,
    /// Runs with a client blocked at the end (and no violation).
    pub blocked: u64,
    /// Runs in which the lab panicked.
    pub panics: u64,
    /// Runs past their virtual-time limit.
    pub timeouts: u64,
}

impl Point {
    /// Runs that failed in any way.
    pub fn failures(&self) -> u64 {
        self.violations + self.blocked + self.panics + self.timeouts
    }
}

/// `base` with the parameter set to `value`. Never panics: [`crate::cli::parse_param`] keeps
/// values in range, and out of range ones saturate here (a negative or NaN interval is zero,
/// an enormous one the longest `Duration`).
pub fn with_value(base: &Params, name: ParamName, value: f64) -> Params {
    let seconds = |v: f64| {
        Duration::try_from_secs_f64(v).unwrap_or(if v > 0.0 {
            Duration::MAX
        } else {
            Duration::ZERO
        })
    };
    let mut p = base.clone();
    match name {
        ParamName::Drop => p.drop = value,
        ParamName::Clients => p.clients = value as usize,
        ParamName::Servers => p.servers = value as usize,
        ParamName::PartitionEvery => p.partition_every = seconds(value),
        ParamName::CrashEvery => p.crash_every = seconds(value),
    }
    p
}

/// Aggregates the outcomes of the runs at one value.
pub fn aggregate(value: f64, outcomes: &[Outcome]) -> Point {
    let mut latencies: Vec<u64> = outcomes
        .iter()
        .flat_map(|o| o.latencies_us.iter().copied())
        .collect();
    latencies.sort_unstable();
    let pct = |q: f64| {
        if latencies.is_empty() {
            return 0.0;
        }
        let at = ((latencies.len() - 1) as f64 * q).round() as usize;
        latencies[at] as f64 / 1000.0
    };
    let count = |verdict| outcomes.iter().filter(|o| o.verdict() == verdict).count() as u64;
    let throughput = outcomes
        .iter()
        .map(|o| o.ops as f64 / o.simulated.as_secs_f64().max(1e-9))
        .sum::<f64>()
        / outcomes.len().max(1) as f64;
    Point {
        value,
        runs: outcomes.len() as u64,
        ops: outcomes.iter().map(|o| o.ops).sum(),
        p50_ms: pct(0.5),
        p90_ms: pct(0.9),
        p99_ms: pct(0.99),
        throughput,
        violations: count(Verdict::Violation),
        blocked: count(Verdict::Blocked),
        panics: count(Verdict::Panicked),
        timeouts: count(Verdict::TimedOut),
    }
}

/// The CSV text of a sweep.
pub fn csv(param: &Param, points: &[Point]) -> String {
    let mut out = format!(
        "{},runs,ops,p50_ms,p90_ms,p99_ms,ops_per_s,violations,blocked,panics,timeouts\n",
        param.name.name()
    );
    for p in points {
        let _ = writeln!(
            out,
            "{},{},{},{:.3},{:.3},{:.3},{:.3},{},{},{},{}",
            p.value,
            p.runs,
            p.ops,
            p.p50_ms,
            p.p90_ms,
            p.p99_ms,
            p.throughput,
            p.violations,
            p.blocked,
            p.panics,
            p.timeouts
        );
    }
    out
}

/// A plotted line: its label, the value it takes from a point, its color.
type Series = (&'static str, fn(&Point) -> f64, RGBColor);

/// Draws latency percentiles (left) and throughput (right) against the parameter, as SVG.
pub fn plot(path: &Path, lab: &str, param: &Param, points: &[Point]) -> Result<(), String> {
    let root = SVGBackend::new(path, (1000, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (left, right) = root.split_horizontally(500);
    let xs = || points.iter().map(|p| p.value);
    let (x_min, x_max) = (xs().fold(f64::MAX, f64::min), xs().fold(f64::MIN, f64::max));
    let x_range = if x_max > x_min {
        x_min..x_max
    } else {
        (x_min - 1.0)..(x_max + 1.0)
    };
    let name = param.name.name();

    let y_max = points.iter().map(|p| p.p99_ms).fold(1.0, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(&left)
        .caption(format!("{lab}: latency against {name}"), ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(x_range.clone(), 0.0..y_max)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(name)
        .y_desc("latency (simulated ms)")
        .draw()
        .map_err(|e| e.to_string())?;
    let series: [Series; 3] = [
        ("p50", |p| p.p50_ms, BLUE),
        ("p90", |p| p.p90_ms, GREEN),
        ("p99", |p| p.p99_ms, RED),
    ];
    for (label, value, color) in series {
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|p| (p.value, value(p))),
                color,
            ))
            .map_err(|e| e.to_string())?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
        chart
            .draw_series(
                points
                    .iter()
                    .map(|p| Circle::new((p.value, value(p)), 3, color.filled())),
            )
            .map_err(|e| e.to_string())?;
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()
        .map_err(|e| e.to_string())?;

    let t_max = points.iter().map(|p| p.throughput).fold(1.0, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(&right)
        .caption(
            format!("{lab}: throughput against {name}"),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(x_range, 0.0..t_max)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(name)
        .y_desc("operations per simulated second")
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(LineSeries::new(
            points.iter().map(|p| (p.value, p.throughput)),
            BLACK,
        ))
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(
            points
                .iter()
                .map(|p| Circle::new((p.value, p.throughput), 3, BLACK.filled())),
        )
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::ParamName;

    fn base() -> Params {
        Params {
            seed: 1,
            servers: 3,
            clients: 3,
            duration: Duration::from_secs(1),
            drop: 0.1,
            long_delays: false,
            reordering: false,
            partition_every: Duration::ZERO,
            crash_every: Duration::ZERO,
            lose_disks: false,
        }
    }

    /// Each run counts once, as its verdict says: a blocked run is not a violation, and a
    /// panic or a timeout is neither.
    #[test]
    fn aggregate_counts_each_kind_of_failed_run() {
        use crate::scenario::{Aborted, Blocked, Check, sample_outcome};
        let passed = || Check::Passed("linearizable".to_owned());
        let broken = || Check::Violation("not linearizable".to_owned());
        let stuck = || {
            vec![Blocked {
                client: 1,
                pending: None,
            }]
        };
        let outcomes = [
            sample_outcome(1, passed(), Vec::new(), None),
            sample_outcome(2, passed(), stuck(), None),
            sample_outcome(3, Check::Unknown, stuck(), None),
            sample_outcome(4, broken(), stuck(), None),
            sample_outcome(5, broken(), Vec::new(), None),
            sample_outcome(6, broken(), Vec::new(), Some(Aborted::Panicked("p".into()))),
            sample_outcome(
                7,
                broken(),
                Vec::new(),
                Some(Aborted::TimedOut(Duration::MAX)),
            ),
        ];
        let point = aggregate(0.5, &outcomes);
        assert_eq!(
            (
                point.runs,
                point.violations,
                point.blocked,
                point.panics,
                point.timeouts
            ),
            (7, 2, 2, 1, 1)
        );
        assert_eq!(point.failures(), 6);
        let param = Param {
            name: ParamName::Drop,
            values: vec![0.5],
        };
        let csv = csv(&param, &[point]);
        assert!(
            csv.starts_with(
                "drop,runs,ops,p50_ms,p90_ms,p99_ms,ops_per_s,violations,blocked,panics,timeouts\n"
            ),
            "{csv}"
        );
        assert!(csv.ends_with(",2,2,1,1\n"), "{csv}");
    }

    /// Values the command line rejects still give settings here, never a panic.
    #[test]
    fn out_of_range_intervals_saturate() {
        for name in [ParamName::CrashEvery, ParamName::PartitionEvery] {
            let interval = |v: f64| {
                let p = with_value(&base(), name, v);
                match name {
                    ParamName::CrashEvery => p.crash_every,
                    _ => p.partition_every,
                }
            };
            assert_eq!(interval(1e20), Duration::MAX);
            assert_eq!(interval(f64::INFINITY), Duration::MAX);
            assert_eq!(interval(-1.0), Duration::ZERO);
            assert_eq!(interval(f64::NAN), Duration::ZERO);
            assert_eq!(interval(2.5), Duration::from_millis(2500));
        }
    }
}
