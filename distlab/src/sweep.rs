//! `distlab sweep`: one fault parameter over a grid of values, several seeds each; a CSV of
//! latency percentiles, throughput and failed runs, and a plot of latency and throughput with
//! their spread over the seeds ([`svg`]).

mod scale;
pub mod svg;

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::cli::{Param, ParamName};
use crate::scenario::{Outcome, Params, Verdict};

pub use scale::Scale;

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
    /// The median latency of each run on its own: least and greatest over the runs that
    /// completed an operation.
    pub p50_seeds: Spread,
    /// The same for the 90th percentile.
    pub p90_seeds: Spread,
    /// The same for the 99th percentile.
    pub p99_seeds: Spread,
    /// Each run's throughput: least and greatest over the runs.
    pub throughput_seeds: Spread,
}

/// The least and the greatest of one measure over the runs (seeds) at one value.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Spread {
    /// The least.
    pub min: f64,
    /// The greatest.
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; `fallback` at both ends when there are none.
    fn of(values: impl IntoIterator<Item = f64>, fallback: f64) -> Spread {
        values
            .into_iter()
            .fold(None, |acc: Option<Spread>, v| {
                Some(acc.map_or(Spread { min: v, max: v }, |s| Spread {
                    min: s.min.min(v),
                    max: s.max.max(v),
                }))
            })
            .unwrap_or(Spread {
                min: fallback,
                max: fallback,
            })
    }
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

/// The `q` quantile of sorted latencies in microseconds, in milliseconds (0 for none).
fn percentile(sorted_us: &[u64], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let at = ((sorted_us.len() - 1) as f64 * q).round() as usize;
    sorted_us.get(at).map_or(0.0, |&us| us as f64 / 1000.0)
}

/// Aggregates the outcomes of the runs at one value: percentiles over every run's latencies
/// together, and each measure's spread over the runs taken one by one.
pub fn aggregate(value: f64, outcomes: &[Outcome]) -> Point {
    let sorted = |o: &Outcome| {
        let mut l = o.latencies_us.clone();
        l.sort_unstable();
        l
    };
    let mut latencies: Vec<u64> = outcomes
        .iter()
        .flat_map(|o| o.latencies_us.iter().copied())
        .collect();
    latencies.sort_unstable();
    let each: Vec<Vec<u64>> = outcomes
        .iter()
        .map(sorted)
        .filter(|l| !l.is_empty())
        .collect();
    let spread = |q: f64| {
        Spread::of(
            each.iter().map(|l| percentile(l, q)),
            percentile(&latencies, q),
        )
    };
    let count = |verdict| outcomes.iter().filter(|o| o.verdict() == verdict).count() as u64;
    let rates: Vec<f64> = outcomes
        .iter()
        .map(|o| o.ops as f64 / o.simulated.as_secs_f64().max(1e-9))
        .collect();
    let throughput = rates.iter().sum::<f64>() / outcomes.len().max(1) as f64;
    Point {
        value,
        runs: outcomes.len() as u64,
        ops: outcomes.iter().map(|o| o.ops).sum(),
        p50_ms: percentile(&latencies, 0.5),
        p90_ms: percentile(&latencies, 0.9),
        p99_ms: percentile(&latencies, 0.99),
        throughput,
        violations: count(Verdict::Violation),
        blocked: count(Verdict::Blocked),
        panics: count(Verdict::Panicked),
        timeouts: count(Verdict::TimedOut),
        p50_seeds: spread(0.5),
        p90_seeds: spread(0.9),
        p99_seeds: spread(0.99),
        throughput_seeds: Spread::of(rates, throughput),
    }
}

/// The CSV text of a sweep.
pub fn csv(param: &Param, points: &[Point]) -> String {
    let mut out = format!(
        "{},runs,ops,p50_ms,p90_ms,p99_ms,ops_per_s,violations,blocked,panics,timeouts,\
         p50_ms_min,p50_ms_max,p99_ms_min,p99_ms_max,ops_per_s_min,ops_per_s_max\n",
        param.name.name()
    );
    for p in points {
        let _ = writeln!(
            out,
            "{},{},{},{:.3},{:.3},{:.3},{:.3},{},{},{},{},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3}",
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
            p.timeouts,
            p.p50_seeds.min,
            p.p50_seeds.max,
            p.p99_seeds.min,
            p.p99_seeds.max,
            p.throughput_seeds.min,
            p.throughput_seeds.max
        );
    }
    out
}

/// What a sweep's figure shows besides its points: the lab, the swept parameter, the
/// settings held fixed, the seeds, and whether the y axes are logarithmic.
#[derive(Clone, Copy, Debug)]
pub struct Figure<'a> {
    /// The lab's name.
    pub lab: &'a str,
    /// The swept parameter.
    pub param: &'a Param,
    /// The other settings (the seed and the swept parameter's value are not shown).
    pub base: &'a Params,
    /// Seeds per value: 1..=seeds.
    pub seeds: u64,
    /// Logarithmic y axes (`--log-scale`).
    pub log_scale: bool,
}

impl Figure<'_> {
    /// The caption: the seeds and every setting held fixed across the sweep, as options.
    pub fn caption(&self) -> String {
        let b = self.base;
        let ms = |d: Duration| format!("{}ms", d.as_millis());
        let mut fixed: Vec<String> = Vec::new();
        let swept = self.param.name;
        let mut setting = |name: ParamName, text: String| {
            if name != swept {
                fixed.push(text);
            }
        };
        setting(ParamName::Servers, format!("--servers {}", b.servers));
        setting(ParamName::Clients, format!("--clients {}", b.clients));
        setting(ParamName::Drop, format!("--drop {}", b.drop));
        setting(
            ParamName::PartitionEvery,
            format!("--partition-every {}", ms(b.partition_every)),
        );
        setting(
            ParamName::CrashEvery,
            format!("--crash-every {}", ms(b.crash_every)),
        );
        fixed.insert(0, format!("--duration {}", ms(b.duration)));
        for (on, flag) in [
            (b.long_delays, "--long-delays"),
            (b.reordering, "--reordering"),
            (b.lose_disks, "--lose-disks"),
        ] {
            if on {
                fixed.push(flag.to_owned());
            }
        }
        let seeds = match self.seeds {
            1 => "seed 1".to_owned(),
            n => format!("seeds 1-{n}"),
        };
        format!(
            "{} against {}, {seeds} at each value; held fixed: {}{}. Lines: percentiles of all runs' operations, mean of the runs' throughput; bands: least to greatest over the seeds.",
            self.lab,
            swept.name(),
            fixed.join(" "),
            if self.log_scale {
                "; y axes in log scale"
            } else {
                ""
            }
        )
    }
}

/// Draws latency percentiles (left) and throughput (right) against the parameter, as SVG
/// (see [`svg::render`]), into `path`.
pub fn plot(path: &Path, figure: &Figure, points: &[Point]) -> Result<(), String> {
    std::fs::write(path, svg::render(figure, points)).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
