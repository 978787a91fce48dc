//! `distlab grade`: run each lab's test suite several times, each run under its own seed, and
//! score the tests.
//!
//! A run is `cargo test -p LAB --no-fail-fast` with `LABRPC_SEED` set, so every simulated test
//! of the run uses that seed and a failure replays with it. The output of libtest is parsed per
//! test binary; a test's score is its points if it passed every run (or, with `--partial`,
//! its points times its pass rate).

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cli::{GradeArgs, Lab};

/// Why grading could not be done.
#[derive(Debug)]
pub enum GradeError {
    /// `cargo` could not be started.
    Cargo(std::io::Error),
    /// A suite did not build, so none of its tests ran.
    Build {
        /// The lab.
        lab: &'static str,
        /// The end of cargo's output.
        output: String,
    },
    /// The results file could not be written.
    Write(PathBuf, std::io::Error),
}

impl fmt::Display for GradeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GradeError::Cargo(e) => write!(f, "cannot run cargo: {e}"),
            GradeError::Build { lab, output } => {
                write!(f, "the tests of {lab} did not build:\n{output}")
            }
            GradeError::Write(path, e) => write!(f, "cannot write {}: {e}", path.display()),
        }
    }
}

impl std::error::Error for GradeError {}

/// One test's results over all runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TestResult {
    /// The lab (crate) it belongs to.
    pub lab: String,
    /// The test binary: `--lib` or `--test NAME`.
    pub target: String,
    /// The test's name inside its binary.
    pub name: String,
    /// Runs it passed.
    pub passed: u64,
    /// Runs it ran in.
    pub runs: u64,
    /// Seeds of the runs it failed.
    pub failed_seeds: Vec<u64>,
    /// The output of its first failure.
    pub output: String,
}

impl TestResult {
    /// The command that replays the failure of this test under `seed`.
    pub fn replay(&self, seed: u64) -> String {
        format!(
            "LABRPC_SEED={seed} cargo test -p {} {} -- {} --exact",
            self.lab, self.target, self.name
        )
    }
}

/// The outcome of grading.
#[derive(Clone, Debug, Default)]
pub struct Grades {
    /// Every test, by lab, target and name.
    pub tests: Vec<TestResult>,
    /// Points per test.
    pub points: f64,
    /// Partial credit.
    pub partial: bool,
}

impl Grades {
    /// The score of one test.
    pub fn score(&self, test: &TestResult) -> f64 {
        if test.runs == 0 {
            0.0
        } else if self.partial {
            self.points * test.passed as f64 / test.runs as f64
        } else if test.passed == test.runs {
            self.points
        } else {
            0.0
        }
    }

    /// The total score and the most it could be.
    pub fn total(&self) -> (f64, f64) {
        // `+ 0.0`: an empty float sum is -0.0, which would print as "-0.00".
        let score = self.tests.iter().map(|t| self.score(t)).sum::<f64>() + 0.0;
        (score, self.points * self.tests.len() as f64)
    }

    /// Gradescope's `results.json`.
    pub fn gradescope(&self) -> serde_json::Value {
        #[derive(Serialize)]
        struct Test<'a> {
            name: String,
            score: f64,
            max_score: f64,
            output: &'a str,
        }
        let (score, max_score) = self.total();
        let tests: Vec<Test<'_>> = self
            .tests
            .iter()
            .map(|t| Test {
                name: format!("{} {}", t.lab, t.name),
                score: self.score(t),
                max_score: self.points,
                output: &t.output,
            })
            .collect();
        serde_json::json!({ "score": score, "max_score": max_score, "tests": tests })
    }

    /// The table printed at the end.
    pub fn table(&self) -> String {
        let width = self
            .tests
            .iter()
            .map(|t| t.lab.len() + t.name.len() + 1)
            .max()
            .unwrap_or(4)
            .max(4);
        let mut out = format!("{:<width$}  {:>7}  {:>6}\n", "test", "passed", "points");
        for t in &self.tests {
            let name = format!("{} {}", t.lab, t.name);
            let passed = format!("{}/{}", t.passed, t.runs);
            out += &format!("{name:<width$}  {passed:>7}  {:>6.2}\n", self.score(t));
            if let Some(&seed) = t.failed_seeds.first() {
                let seeds: Vec<String> = t.failed_seeds.iter().map(u64::to_string).collect();
                out += &format!(
                    "    failed with seeds {}; replay: {}\n",
                    seeds.join(", "),
                    t.replay(seed)
                );
            }
        }
        let (score, max) = self.total();
        out += &format!("{:<width$}  {:>7}  {score:>6.2} / {max:.2}\n", "total", "");
        out
    }
}

/// Grades the labs of `args`, calling `progress` after each run.
pub fn grade(args: &GradeArgs, mut progress: impl FnMut(&str)) -> Result<Grades, GradeError> {
    let labs: Vec<Lab> = if args.labs.is_empty() {
        Lab::ALL.to_vec()
    } else {
        args.labs.clone()
    };
    // Cargo finds the workspace from the current directory when none is named.
    let workspace = args.workspace.clone().unwrap_or_else(|| PathBuf::from("."));
    let mut results: BTreeMap<(String, String, String), TestResult> = BTreeMap::new();
    for lab in labs {
        for run in 0..args.runs {
            let seed = args.seed + run;
            let output = run_suite(&workspace, lab.name(), seed)?;
            let parsed = parse_libtest(&output);
            if parsed.is_empty() && !output.contains("running 0 tests") {
                let tail: Vec<&str> = output.lines().rev().take(30).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                return Err(GradeError::Build {
                    lab: lab.name(),
                    output: tail.join("\n"),
                });
            }
            for outcome in parsed {
                let key = (
                    lab.name().to_owned(),
                    outcome.target.clone(),
                    outcome.name.clone(),
                );
                let entry = results.entry(key).or_insert_with(|| TestResult {
                    lab: lab.name().to_owned(),
                    target: outcome.target.clone(),
                    name: outcome.name.clone(),
                    ..TestResult::default()
                });
                entry.runs += 1;
                if outcome.passed {
                    entry.passed += 1;
                } else {
                    entry.failed_seeds.push(seed);
                    if entry.output.is_empty() {
                        entry.output = outcome.output;
                    }
                }
            }
            progress(&format!(
                "{} run {}/{} (seed {seed})",
                lab.name(),
                run + 1,
                args.runs
            ));
        }
    }
    let grades = Grades {
        tests: results.into_values().collect(),
        points: args.points,
        partial: args.partial,
    };
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&grades.gradescope()).unwrap_or_default();
        std::fs::write(path, text).map_err(|e| GradeError::Write(path.clone(), e))?;
    }
    Ok(grades)
}

/// Runs one suite under one seed and returns cargo's and libtest's output, interleaved as
/// printed: cargo names each test binary on stderr before libtest reports its tests on
/// stdout, so both must go through one pipe to keep that order.
fn run_suite(workspace: &Path, lab: &str, seed: u64) -> Result<String, GradeError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let (mut reader, writer) = std::io::pipe().map_err(GradeError::Cargo)?;
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .args([
            "test",
            "-p",
            lab,
            "--no-fail-fast",
            "--color",
            "never",
            "--",
            "--color",
            "never",
        ])
        .env("LABRPC_SEED", seed.to_string())
        .env_remove("LABRPC_SEEDS")
        .env_remove("LABRPC_TRACE")
        .stdin(std::process::Stdio::null())
        .stdout(writer.try_clone().map_err(GradeError::Cargo)?)
        .stderr(writer);
    let mut child = command.spawn().map_err(GradeError::Cargo)?;
    // The command holds copies of the pipe's writing end: drop them, or reading never ends.
    drop(command);
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut reader, &mut bytes).map_err(GradeError::Cargo)?;
    child.wait().map_err(GradeError::Cargo)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// One test's outcome in one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// `--lib` or `--test NAME`.
    pub target: String,
    /// The test's name.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// What it printed, if it failed.
    pub output: String,
}

/// Reads libtest's output of a `cargo test` run: which test of which binary passed.
///
/// Cargo prints `Running tests/NAME.rs (...)` or `Running unittests src/lib.rs (...)` before each
/// binary's results; libtest prints `test NAME ... ok|FAILED|ignored`, then for failures a
/// `---- NAME stdout ----` section. Doc-tests are not graded.
pub fn parse_libtest(output: &str) -> Vec<Outcome> {
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut target: Option<String> = None;
    let mut failure: Option<usize> = None;
    for line in output.lines() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("Running ") {
            target = if rest.starts_with("unittests src/lib.rs") {
                Some("--lib".to_owned())
            } else if let Some(path) = rest.strip_prefix("tests/") {
                path.split(".rs")
                    .next()
                    .map(|name| format!("--test {name}"))
            } else if let Some(path) = rest.strip_prefix("unittests src/bin/") {
                path.split(".rs").next().map(|name| format!("--bin {name}"))
            } else {
                None
            };
            failure = None;
            continue;
        }
        if trimmed.starts_with("Doc-tests ") {
            target = None;
            continue;
        }
        let Some(current) = &target else { continue };
        if let Some(rest) = line.strip_prefix("test ") {
            let (name, verdict) = match rest.rsplit_once(" ... ") {
                Some(pair) => pair,
                None => continue,
            };
            let passed = match verdict.trim() {
                "ok" => true,
                v if v.starts_with("FAILED") => false,
                _ => continue, // ignored, bench
            };
            outcomes.push(Outcome {
                target: current.clone(),
                name: name.trim().to_owned(),
                passed,
                output: String::new(),
            });
            continue;
        }
        if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|l| l.strip_suffix(" stdout ----"))
        {
            failure = outcomes
                .iter()
                .rposition(|o| &o.target == current && o.name == name && !o.passed);
            continue;
        }
        if line == "failures:" || line.starts_with("test result:") {
            failure = None;
            continue;
        }
        if let Some(i) = failure {
            let out = &mut outcomes[i].output;
            if out.len() < 4000 {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "   Compiling paxos v0.1.0
     Running unittests src/lib.rs (target/debug/deps/paxos-1234)

running 1 test
test tests::unit ... ok

test result: ok. 1 passed; 0 failed
     Running tests/basic.rs (target/debug/deps/basic-abcd)

running 3 tests
test basic ... ok
test deaf ... FAILED
test slow ... ignored

failures:

---- deaf stdout ----
thread 'deaf' panicked at paxos/tests/basic.rs:10:5:
peers disagree
labrpc: FAILED with seed 9

failures:
    deaf

test result: FAILED. 1 passed; 1 failed; 1 ignored
   Doc-tests paxos

running 1 test
test paxos/src/lib.rs - (line 5) ... ok
";

    #[test]
    fn reads_libtest_output() {
        let outcomes = parse_libtest(SAMPLE);
        let summary: Vec<(&str, &str, bool)> = outcomes
            .iter()
            .map(|o| (o.target.as_str(), o.name.as_str(), o.passed))
            .collect();
        assert_eq!(
            summary,
            [
                ("--lib", "tests::unit", true),
                ("--test basic", "basic", true),
                ("--test basic", "deaf", false)
            ]
        );
        assert!(outcomes[2].output.contains("peers disagree"));
        assert!(outcomes[2].output.contains("seed 9"));
    }

    #[test]
    fn scores_all_or_nothing_or_partial() {
        let test = |passed| TestResult {
            passed,
            runs: 4,
            ..TestResult::default()
        };
        let mut grades = Grades {
            tests: vec![test(4), test(3)],
            points: 2.0,
            partial: false,
        };
        assert_eq!(grades.total(), (2.0, 4.0));
        grades.partial = true;
        assert_eq!(grades.total(), (3.5, 4.0));
        let json = grades.gradescope();
        assert_eq!(json["score"], 3.5);
        assert_eq!(json["tests"].as_array().map(Vec::len), Some(2));
    }
}
