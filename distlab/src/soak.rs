//! `distlab soak`: one lab's chaos scenario over many seeds, several at once, each run
//! classified as [`Verdict`] says (passed, violation, blocked, panic, timeout), and every
//! failure reported with the command that replays it.
//!
//! Each run is the simulation `distlab run` would do for its seed — same settings, same time
//! limit — without live lines and without keeping the trace (the memory of a thousand traces),
//! neither of which changes the run: a seed's result here is `distlab run`'s for that seed.
//! Runs go on std threads, outside any simulation: each simulation has a runtime of its own
//! on its thread, so the threads change only how soon the results come, not what they are,
//! and the results are reported in seed order.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use crate::cli::Lab;
use crate::scenario::{self, Outcome, Params, Verdict};

/// Stack of each soak thread: as much as a main thread has (8 MiB on Linux) and more, so that a
/// run that fits in `distlab run` fits here too.
const STACK_BYTES: usize = 16 << 20;

/// The prefix of the names of soak threads (`soak-0`, `soak-1`, ...), by which a panic hook
/// can tell their panics, which soak reports itself.
pub const THREAD_PREFIX: &str = "soak-";

/// What one seed of a soak came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedResult {
    /// The seed.
    pub seed: u64,
    /// What the run amounts to.
    pub verdict: Verdict,
    /// For a failure, what went wrong: a headline, then each blocked client with its pending
    /// operation. Empty for a pass.
    pub details: Vec<String>,
    /// The settings as options (`Params::command_line`), to replay the run.
    pub command_line: String,
    /// The hash of the run's trace (0 if it panicked): `distlab run` prints the same.
    pub trace_hash: u64,
}

/// The result of `outcome`, the run of seed `outcome.params.seed`.
pub fn classify(outcome: &Outcome) -> SeedResult {
    let verdict = outcome.verdict();
    let mut details = Vec::new();
    if verdict.is_failure() {
        let headline = match (&outcome.aborted, &outcome.check) {
            (Some(aborted), _) => aborted.to_string(),
            (None, scenario::Check::Violation(why)) => format!("not safe: {why}"),
            (None, _) => outcome.blocked_summary(),
        };
        details.push(format!("{}: {headline}", label(verdict)));
        if verdict == Verdict::Violation && !outcome.blocked.is_empty() {
            details.push(format!("and {}", outcome.blocked_summary()));
        }
        details.extend(outcome.blocked.iter().map(ToString::to_string));
    }
    SeedResult {
        seed: outcome.params.seed,
        verdict,
        details,
        command_line: outcome.params.command_line(),
        trace_hash: outcome.trace_hash,
    }
}

/// The word for a verdict in a soak's report.
fn label(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Passed => "passed",
        Verdict::Inconclusive => "inconclusive",
        Verdict::Blocked => "blocked",
        Verdict::Violation => "violation",
        Verdict::TimedOut => "timeout",
        Verdict::Panicked => "panic",
    }
}

/// Runs seed `params.seed` as `distlab run` does, without live lines or trace, stopping it at
/// `limit`, and classifies it.
pub fn run_seed(lab: Lab, params: &Params, limit: Option<Duration>) -> SeedResult {
    guarded(params, || {
        scenario::run_within(lab, params, false, false, limit)
    })
}

/// The result of `run`, the run of `params`; a panic that escapes it (one outside the
/// simulation, which [`scenario::run_within`] does not catch) is a [`Verdict::Panicked`] result.
pub fn guarded(params: &Params, run: impl FnOnce() -> Outcome) -> SeedResult {
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(outcome) => classify(&outcome),
        Err(panic) => {
            let message = scenario::panic_text(&*panic);
            SeedResult {
                seed: params.seed,
                verdict: Verdict::Panicked,
                details: vec![format!("panic: distlab panicked: {message}")],
                command_line: params.command_line(),
                trace_hash: 0,
            }
        }
    }
}

/// Why a soak could not run.
#[derive(Debug)]
pub enum SoakError {
    /// Not one thread could be started.
    NoThread(std::io::Error),
}

impl fmt::Display for SoakError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SoakError::NoThread(e) => write!(f, "cannot start a thread to run the seeds: {e}"),
        }
    }
}

impl std::error::Error for SoakError {}

/// Runs `seeds` seeds from `base.seed` on, each with `base`'s other settings, on `jobs`
/// threads, each stopped at `limit`. Calls `finished` with each result as it comes (in any
/// order) and `in_order` with each once every earlier seed's has come; returns them all in
/// seed order. Seeds past `u64::MAX` are not run.
pub fn soak(
    lab: Lab,
    base: &Params,
    seeds: u64,
    jobs: usize,
    limit: Option<Duration>,
    mut finished: impl FnMut(&SeedResult),
    mut in_order: impl FnMut(&SeedResult),
) -> Result<Vec<SeedResult>, SoakError> {
    let seeds = seeds.min((u64::MAX - base.seed).saturating_add(1));
    let count = usize::try_from(seeds).unwrap_or(usize::MAX);
    let next = AtomicU64::new(0);
    let (sender, receiver) = mpsc::channel::<(u64, SeedResult)>();
    let mut slots: Vec<Option<SeedResult>> = vec![None; count];
    std::thread::scope(|scope| {
        let mut started = 0;
        let mut spawn_error = None;
        for k in 0..jobs.clamp(1, count.max(1)) {
            let (next, sender) = (&next, sender.clone());
            let worker = move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= seeds {
                        break;
                    }
                    let params = Params {
                        seed: base.seed + i,
                        ..base.clone()
                    };
                    if sender.send((i, run_seed(lab, &params, limit))).is_err() {
                        break;
                    }
                }
            };
            let spawned = std::thread::Builder::new()
                .name(format!("{THREAD_PREFIX}{k}"))
                .stack_size(STACK_BYTES)
                .spawn_scoped(scope, worker);
            match spawned {
                Ok(_) => started += 1,
                Err(e) => spawn_error = Some(e),
            }
        }
        drop(sender);
        if let (0, Some(e)) = (started, spawn_error) {
            return Err(SoakError::NoThread(e));
        }
        let mut printed = 0;
        for (i, result) in receiver {
            finished(&result);
            let Some(slot) = usize::try_from(i).ok().and_then(|i| slots.get_mut(i)) else {
                continue;
            };
            *slot = Some(result);
            while let Some(Some(ready)) = slots.get(printed) {
                in_order(ready);
                printed += 1;
            }
        }
        Ok(())
    })?;
    Ok(slots.into_iter().flatten().collect())
}

/// How many runs came to what.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Runs.
    pub runs: u64,
    /// Runs that passed.
    pub passed: u64,
    /// Runs whose checker ran out of steps (not failures).
    pub inconclusive: u64,
    /// Runs with a safety violation.
    pub violations: u64,
    /// Runs with a client blocked at the end.
    pub blocked: u64,
    /// Runs in which the lab panicked.
    pub panics: u64,
    /// Runs past their time limit.
    pub timeouts: u64,
}

impl Summary {
    /// The counts of `results`.
    pub fn of(results: &[SeedResult]) -> Summary {
        let mut summary = Summary::default();
        for result in results {
            summary.runs += 1;
            *match result.verdict {
                Verdict::Passed => &mut summary.passed,
                Verdict::Inconclusive => &mut summary.inconclusive,
                Verdict::Violation => &mut summary.violations,
                Verdict::Blocked => &mut summary.blocked,
                Verdict::Panicked => &mut summary.panics,
                Verdict::TimedOut => &mut summary.timeouts,
            } += 1;
        }
        summary
    }

    /// Runs that failed.
    pub fn failures(&self) -> u64 {
        self.violations + self.blocked + self.panics + self.timeouts
    }
}

/// `N runs: X passed, V violations, B blocked, P panics, T timeouts`, and the inconclusive
/// runs when there are any.
impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} runs: {} passed, {} violations, {} blocked, {} panics, {} timeouts",
            self.runs, self.passed, self.violations, self.blocked, self.panics, self.timeouts
        )?;
        if self.inconclusive > 0 {
            write!(
                f,
                ", {} inconclusive (the checker ran out of steps)",
                self.inconclusive
            )?;
        }
        Ok(())
    }
}

/// The report of one seed: nothing for a run that did not fail; else its seed and what went
/// wrong, then the command that replays it (`extra_options` appended to its settings).
pub fn report(lab: Lab, result: &SeedResult, extra_options: &str) -> String {
    if !result.verdict.is_failure() {
        return String::new();
    }
    let mut lines = result.details.iter();
    let mut text = format!("seed {}: {}\n", result.seed, indent(lines.next()));
    for line in lines {
        text.push_str(&format!("    {}\n", indent(Some(line))));
    }
    text.push_str(&format!(
        "    replay: distlab replay {} {}{extra_options}\n",
        lab.name(),
        result.command_line
    ));
    text
}

/// A line that may hold several (a panic's message), its later lines indented under it.
fn indent(line: Option<&String>) -> String {
    line.map_or_else(String::new, |l| l.replace('\n', "\n      "))
}

#[cfg(test)]
mod tests;
