//! `distlab grade`: run each lab's test suite several times, each run under its own seed, and
//! score the tests.
//!
//! First `cargo test -p LAB -- --list` (which also builds the suite) says which tests there
//! are; tests marked `#[ignore]` (`--list --ignored`) are not graded. Then each run is
//! `cargo test -p LAB --no-fail-fast` with `LABRPC_SEED` set, so every simulated test of the
//! run uses that seed and a failure replays with it. The output of libtest is parsed per test
//! binary, and every listed test that did not report `ok` failed that run: one that reported
//! nothing (its binary aborted, overflowed its stack, exited or was killed, or the run timed
//! out) fails with a note saying so. A test's score is its points if it passed every run (or,
//! with `--partial`, its points times its pass rate).
//!
//! Each cargo command has a time limit (`--timeout`): past it distlab kills cargo's process
//! group (cargo and the test binaries it started) and counts the tests without a result as
//! failed. A suite that does not build scores nothing, with the compiler's errors in the
//! report (and in `results.json`).
//!
//! With `--submission DIR`, the suites are the staff's: distlab copies the staff's workspace
//! and puts in it only the student files of the submission (see [`submission`]); the tests
//! that only the staff have are graded hidden until the grades are published.
//!
//! The flow: [`list`](list_tests) the tests, [`run`](run_lab) each suite under each seed,
//! [`score`](Grades) the results, [`report`](gradescope) them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::{GradeArgs, Lab};
use crate::coursework::Manifest;

pub(crate) mod cargo;
mod error;
pub mod gradescope;
mod libtest;
pub mod report;
mod score;
pub mod submission;

pub(crate) use cargo::Cargo;
use cargo::CargoRun;
pub use error::GradeError;
use libtest::has_binaries;
pub use libtest::{Outcome, binary_output, parse_libtest, parse_list};
use report::{show_duration, tail};
pub use score::{Grades, TestResult};

/// A test's key: its lab, its binary (`--lib`, `--test NAME`, ...) and its name.
type Key = (String, String, String);

/// Where the target directory of a graded submission lives, under the staff's workspace:
/// kept between gradings, so that the dependencies build once.
pub const SUBMISSION_TARGET: &str = "target/grading";

/// Grades the labs of `args`, calling `progress` after each run.
///
/// # Errors
/// If the seeds overflow, the submission cannot be assembled, cargo cannot be run, a listing
/// runs out of time, or the results file cannot be written. A suite that does not build is
/// no error: it is in [`Grades::build_failures`].
pub fn grade(args: &GradeArgs, mut progress: impl FnMut(&str)) -> Result<Grades, GradeError> {
    // Check the seeds before running anything: the last run's is seed + runs - 1.
    if args
        .runs
        .checked_sub(1)
        .is_some_and(|extra| args.seed.checked_add(extra).is_none())
    {
        return Err(GradeError::Seeds {
            seed: args.seed,
            runs: args.runs,
        });
    }
    // Cargo finds the workspace from the current directory when none is named.
    let staff = args.workspace.clone().unwrap_or_else(|| PathBuf::from("."));
    // Every lab, or with a submission every lab the staff's tree holds.
    let labs: Vec<Lab> = if !args.labs.is_empty() {
        args.labs.clone()
    } else if args.submission.is_some() {
        Lab::ALL
            .into_iter()
            .filter(|lab| staff.join(lab.name()).join("Cargo.toml").exists())
            .collect()
    } else {
        Lab::ALL.to_vec()
    };
    let assembled = match &args.submission {
        Some(dir) => Some(submission::assemble(&staff, dir, &labs)?),
        None => None,
    };
    let tree: PathBuf = assembled
        .as_ref()
        .map_or_else(|| staff.clone(), |a| a.dir.path().to_owned());
    let target_dir = assembled.as_ref().map(|_| staff.join(SUBMISSION_TARGET));
    let cargo = Cargo {
        workspace: &tree,
        target_dir: target_dir.as_deref(),
        timeout: args.timeout,
        backtraces: args.backtraces,
    };
    let mut grades = Grades {
        points: args.points,
        partial: args.partial,
        notes: assembled.as_ref().map(|a| a.notes()).unwrap_or_default(),
        roots: roots(&[&tree, &staff]),
        ..Grades::default()
    };
    let mut results: BTreeMap<Key, TestResult> = BTreeMap::new();
    for lab in labs {
        // A workspace without manifests (a bare submission graded as it is) has no hidden tests.
        let manifest = Manifest::read(&tree, lab).ok();
        match run_lab(&cargo, lab, args, &mut results, &mut progress) {
            Ok(()) => {}
            Err(GradeError::Build { lab, output }) => {
                grades.build_failures.push((lab.to_owned(), output));
            }
            Err(e) => return Err(e),
        }
        for test in results.values_mut().filter(|t| t.lab == lab.name()) {
            test.hidden = manifest
                .as_ref()
                .is_some_and(|m| m.is_staff_test(&test.target));
        }
    }
    grades.tests = results.into_values().collect();
    if let Some(path) = &args.json {
        let json = gradescope::results(&grades);
        let text = serde_json::to_string_pretty(&json).unwrap_or_default();
        std::fs::write(path, text).map_err(|e| GradeError::Write(path.clone(), e))?;
    }
    Ok(grades)
}

/// The absolute forms of `dirs`, to be cut from reports.
fn roots(dirs: &[&Path]) -> Vec<String> {
    dirs.iter()
        .filter_map(|d| std::path::absolute(d).ok())
        .flat_map(|d| {
            let canonical = d.canonicalize().unwrap_or_else(|_| d.clone());
            [d, canonical]
        })
        .map(|d| d.display().to_string())
        .collect()
}

/// Lists the tests of `lab` and runs its suite under each seed, recording every result.
fn run_lab(
    cargo: &Cargo<'_>,
    lab: Lab,
    args: &GradeArgs,
    results: &mut BTreeMap<Key, TestResult>,
    progress: &mut impl FnMut(&str),
) -> Result<(), GradeError> {
    let expected = list_tests(cargo, lab, args.seed)?;
    for (target, name) in &expected {
        entry(results, lab, target, name);
    }
    for run in 0..args.runs {
        let seed = args.seed.wrapping_add(run); // checked by `grade`: never wraps
        let run_output = cargo.test(lab.name(), &["--color", "never"], seed)?;
        let parsed = parse_libtest(&run_output.output);
        if parsed.is_empty()
            && !run_output.timed_out
            && !expected.is_empty()
            && !has_binaries(&run_output.output)
        {
            return Err(GradeError::Build {
                lab: lab.name(),
                output: tail(&run_output.output, 40),
            });
        }
        // The first report of each test in this run (a test reports once).
        let mut reported: BTreeMap<(String, String), Outcome> = BTreeMap::new();
        for outcome in parsed {
            reported
                .entry((outcome.target.clone(), outcome.name.clone()))
                .or_insert(outcome);
        }
        let graded: BTreeSet<(String, String)> =
            expected.iter().chain(reported.keys()).cloned().collect();
        for (target, name) in graded {
            let result = entry(results, lab, &target, &name);
            match reported.remove(&(target.clone(), name)) {
                Some(outcome) => result.record(seed, outcome.passed, || outcome.output, false),
                None => result.record(
                    seed,
                    false,
                    || no_result_note(&run_output, &target, cargo.timeout),
                    true,
                ),
            }
        }
        progress(&format!(
            "{} run {}/{} (seed {seed})",
            lab.name(),
            run + 1,
            args.runs
        ));
    }
    Ok(())
}

/// The results of a test, created empty at its first mention.
fn entry<'a>(
    results: &'a mut BTreeMap<Key, TestResult>,
    lab: Lab,
    target: &str,
    name: &str,
) -> &'a mut TestResult {
    let key = (lab.name().to_owned(), target.to_owned(), name.to_owned());
    results.entry(key).or_insert_with(|| TestResult {
        lab: lab.name().to_owned(),
        target: target.to_owned(),
        name: name.to_owned(),
        ..TestResult::default()
    })
}

/// The tests of `lab` that grading expects a result from: every test its binaries list, but
/// those marked `#[ignore]` (which the runs skip). Doc-tests are not graded.
fn list_tests(
    cargo: &Cargo<'_>,
    lab: Lab,
    seed: u64,
) -> Result<BTreeSet<(String, String)>, GradeError> {
    let timeout = cargo.timeout;
    let mut lists = Vec::new();
    for args in [&["--list"][..], &["--list", "--ignored"][..]] {
        let listed = cargo.test(lab.name(), args, seed)?;
        let output = tail(&listed.output, 40);
        if listed.timed_out {
            return Err(GradeError::ListTimeout {
                lab: lab.name(),
                timeout,
                output,
            });
        }
        if !listed.success {
            return Err(if has_binaries(&listed.output) {
                GradeError::List {
                    lab: lab.name(),
                    output,
                }
            } else {
                GradeError::Build {
                    lab: lab.name(),
                    output,
                }
            });
        }
        lists.push(parse_list(&listed.output));
    }
    let ignored = lists.pop().unwrap_or_default();
    let all = lists.pop().unwrap_or_default();
    Ok(all.difference(&ignored).cloned().collect())
}

/// The output of a failure with no result: why, and the end of what its binary printed.
fn no_result_note(cargo: &CargoRun, target: &str, timeout: Duration) -> String {
    let why = if cargo.timed_out {
        format!(
            "no result: timed out (distlab killed the run after {})",
            show_duration(timeout)
        )
    } else {
        "no result: the test binary crashed or was killed".to_owned()
    };
    match binary_output(&cargo.output, target) {
        Some(section) => format!(
            "{why}\nthe end of the output of `{target}`:\n{}\n",
            tail(&section, 30)
        ),
        None => format!(
            "{why}\n`{target}` did not start; the end of cargo's output:\n{}\n",
            tail(&cargo.output, 30)
        ),
    }
}
