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
//! failed.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use crate::cli::{GradeArgs, Lab};
use crate::exit;

/// Why grading could not be done.
#[derive(Debug)]
pub enum GradeError {
    /// `cargo` could not be started, or its output not read.
    Cargo(std::io::Error),
    /// A suite did not build, so none of its tests ran.
    Build {
        /// The lab.
        lab: &'static str,
        /// The end of cargo's output.
        output: String,
    },
    /// A suite built, but its test binaries could not list their tests.
    List {
        /// The lab.
        lab: &'static str,
        /// The end of cargo's output.
        output: String,
    },
    /// Listing a suite's tests (which builds them) took longer than the time limit.
    ListTimeout {
        /// The lab.
        lab: &'static str,
        /// The time limit.
        timeout: Duration,
        /// The end of cargo's output.
        output: String,
    },
    /// The runs' seeds (`seed`, `seed + 1`, ..., `seed + runs - 1`) do not fit in a `u64`.
    Seeds {
        /// The first seed.
        seed: u64,
        /// The number of runs.
        runs: u64,
    },
    /// The results file could not be written.
    Write(PathBuf, std::io::Error),
}

impl GradeError {
    /// The exit status of `distlab grade` for this error: [`exit::USAGE`] for arguments that
    /// cannot work together, [`exit::FAILED`] for a submission whose suite does not build or
    /// list its tests, [`exit::ERROR`] when distlab itself could not do its job.
    pub fn exit_code(&self) -> u8 {
        match self {
            GradeError::Seeds { .. } => exit::USAGE,
            GradeError::Build { .. } | GradeError::List { .. } => exit::FAILED,
            GradeError::Cargo(_) | GradeError::ListTimeout { .. } | GradeError::Write(..) => {
                exit::ERROR
            }
        }
    }
}

impl fmt::Display for GradeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GradeError::Cargo(e) => write!(f, "cannot run cargo: {e}"),
            GradeError::Build { lab, output } => {
                write!(f, "the tests of {lab} did not build:\n{output}")
            }
            GradeError::List { lab, output } => {
                write!(
                    f,
                    "the tests of {lab} built but could not be listed:\n{output}"
                )
            }
            GradeError::ListTimeout {
                lab,
                timeout,
                output,
            } => write!(
                f,
                "listing the tests of {lab} (which builds them) took more than {}; \
                 if the build is just slow, raise --timeout. The end of cargo's output:\n{output}",
                show_duration(*timeout)
            ),
            GradeError::Seeds { seed, runs } => write!(
                f,
                "--seed {seed} with --runs {runs} needs seeds past {}, the largest there is; \
                 use a smaller --seed",
                u64::MAX
            ),
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
    /// Runs it was graded in (every run, for a listed test).
    pub runs: u64,
    /// Seeds of the runs it failed, including those where it reported no result.
    pub failed_seeds: Vec<u64>,
    /// Seeds of the runs where it reported no result: its binary crashed or was killed, or the
    /// run timed out.
    pub no_result_seeds: Vec<u64>,
    /// The output of its first failure (for no result, a note and the end of its binary's
    /// output).
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

    /// Counts one run under `seed`: passed, failed with `output`, or failed with no result.
    fn record(
        &mut self,
        seed: u64,
        passed: bool,
        output: impl FnOnce() -> String,
        no_result: bool,
    ) {
        self.runs += 1;
        if passed {
            self.passed += 1;
            return;
        }
        self.failed_seeds.push(seed);
        if no_result {
            self.no_result_seeds.push(seed);
        }
        if self.output.is_empty() {
            self.output = output();
        }
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
        let list = |seeds: &[u64]| {
            let seeds: Vec<String> = seeds.iter().map(u64::to_string).collect();
            seeds.join(", ")
        };
        for t in &self.tests {
            let name = format!("{} {}", t.lab, t.name);
            let passed = format!("{}/{}", t.passed, t.runs);
            out += &format!("{name:<width$}  {passed:>7}  {:>6.2}\n", self.score(t));
            if let Some(&seed) = t.failed_seeds.first() {
                let no_result = if t.no_result_seeds.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (no result with seeds {}: crashed, killed or timed out)",
                        list(&t.no_result_seeds)
                    )
                };
                out += &format!(
                    "    failed with seeds {}{no_result}; replay: {}\n",
                    list(&t.failed_seeds),
                    t.replay(seed)
                );
            }
        }
        let (score, max) = self.total();
        out += &format!("{:<width$}  {:>7}  {score:>6.2} / {max:.2}\n", "total", "");
        out
    }
}

/// A test's key: its lab, its binary (`--lib`, `--test NAME`, ...) and its name.
type Key = (String, String, String);

/// Grades the labs of `args`, calling `progress` after each run.
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
    let labs: Vec<Lab> = if args.labs.is_empty() {
        Lab::ALL.to_vec()
    } else {
        args.labs.clone()
    };
    // Cargo finds the workspace from the current directory when none is named.
    let workspace = args.workspace.clone().unwrap_or_else(|| PathBuf::from("."));
    let mut results: BTreeMap<Key, TestResult> = BTreeMap::new();
    for lab in labs {
        let expected = list_tests(&workspace, lab, args.seed, args.timeout)?;
        for (target, name) in &expected {
            entry(&mut results, lab, target, name);
        }
        for run in 0..args.runs {
            let seed = args.seed.wrapping_add(run); // checked above: never wraps
            let cargo = run_cargo(
                &workspace,
                lab.name(),
                &["--color", "never"],
                seed,
                args.timeout,
            )?;
            let parsed = parse_libtest(&cargo.output);
            if parsed.is_empty()
                && !cargo.timed_out
                && !expected.is_empty()
                && !has_binaries(&cargo.output)
            {
                return Err(GradeError::Build {
                    lab: lab.name(),
                    output: tail(&cargo.output, 30),
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
                let result = entry(&mut results, lab, &target, &name);
                match reported.remove(&(target.clone(), name)) {
                    Some(outcome) => result.record(seed, outcome.passed, || outcome.output, false),
                    None => result.record(
                        seed,
                        false,
                        || no_result_note(&cargo, &target, args.timeout),
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
    workspace: &Path,
    lab: Lab,
    seed: u64,
    timeout: Duration,
) -> Result<BTreeSet<(String, String)>, GradeError> {
    let mut lists = Vec::new();
    for args in [&["--list"][..], &["--list", "--ignored"][..]] {
        let cargo = run_cargo(workspace, lab.name(), args, seed, timeout)?;
        let output = tail(&cargo.output, 30);
        if cargo.timed_out {
            return Err(GradeError::ListTimeout {
                lab: lab.name(),
                timeout,
                output,
            });
        }
        if !cargo.success {
            return Err(if has_binaries(&cargo.output) {
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
        lists.push(parse_list(&cargo.output));
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

/// The last `lines` lines of `text`.
fn tail(text: &str, lines: usize) -> String {
    let mut last: Vec<&str> = text.lines().rev().take(lines).collect();
    last.reverse();
    last.join("\n")
}

/// `20m`, `10s` or `1500ms`.
fn show_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(60_000) && ms > 0 {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// What a cargo command printed, and how it ended.
#[derive(Clone, Debug, Default)]
struct CargoRun {
    /// Cargo's and libtest's output, interleaved as printed.
    output: String,
    /// Whether cargo exited successfully.
    success: bool,
    /// Whether it ran out of time and was killed.
    timed_out: bool,
}

/// How often a run is checked for having ended or run out of time.
const POLL: Duration = Duration::from_millis(20);
/// How long the output may go on after cargo exited (or was killed) before distlab stops
/// reading it: a process that escaped cargo's group could hold the pipe open forever.
const GRACE: Duration = Duration::from_secs(5);

/// Runs `cargo test -p LAB --no-fail-fast -- LIBTEST_ARGS` under one seed and returns cargo's
/// and libtest's output, interleaved as printed: cargo names each test binary on stderr before
/// libtest reports its tests on stdout, so both must go through one pipe to keep that order.
///
/// Cargo leads a process group of its own, with the test binaries it starts: past `timeout`
/// the whole group is killed. (Its own group also keeps a terminal's Ctrl-C from reaching it,
/// so a watchdog kills the group if distlab dies first.)
// Grading runs real processes in real time, not simulated code: the wall clock, sleeping and a
// thread that reads the pipe are what it needs.
#[allow(clippy::disallowed_methods)]
fn run_cargo(
    workspace: &Path,
    lab: &str,
    libtest_args: &[&str],
    seed: u64,
    timeout: Duration,
) -> Result<CargoRun, GradeError> {
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
        ])
        .args(libtest_args)
        .env("LABRPC_SEED", seed.to_string())
        .env_remove("LABRPC_SEEDS")
        .env_remove("LABRPC_TRACE")
        .stdin(Stdio::null())
        .stdout(writer.try_clone().map_err(GradeError::Cargo)?)
        .stderr(writer);
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn().map_err(GradeError::Cargo)?;
    // The command holds copies of the pipe's writing end: drop them, or reading never ends.
    drop(command);
    let _watchdog = Watchdog::start(&child);
    let output: Arc<Mutex<Vec<u8>>> = Arc::default();
    let (done, finished) = mpsc::channel::<()>();
    {
        let output = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            loop {
                match reader.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => output
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = done.send(());
        });
    }
    let start = std::time::Instant::now();
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {}
            Err(e) => {
                kill_group(&mut child);
                return Err(GradeError::Cargo(e));
            }
        }
        if start.elapsed() >= timeout {
            timed_out = true;
            kill_group(&mut child);
            break child.wait().ok();
        }
        std::thread::sleep(POLL);
    };
    // The output ends when every process holding the pipe is gone; one still holding it
    // after cargo ended is a leftover of its group.
    if finished.recv_timeout(GRACE).is_err() {
        kill_group(&mut child);
        let _ = finished.recv_timeout(GRACE);
    }
    let bytes = output
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    Ok(CargoRun {
        output: String::from_utf8_lossy(&bytes).into_owned(),
        success: !timed_out && status.is_some_and(|s| s.success()),
        timed_out,
    })
}

/// Kills `child` and (on Unix) the process group it leads: cargo and its test binaries.
fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    {
        // std has no way to signal a group, and the crate forbids unsafe code (libc::kill):
        // the shell's `kill` does it.
        let _ = Command::new("sh")
            .args([
                "-c",
                "kill -s KILL -- \"-$0\" 2>/dev/null",
                &child.id().to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
}

/// A process that kills cargo's process group if distlab dies before the run ends (a Ctrl-C
/// in a terminal signals distlab's group only); killed itself when dropped.
struct Watchdog(Option<Child>);

impl Watchdog {
    /// Starts watching over the group led by `cargo`.
    fn start(cargo: &Child) -> Watchdog {
        #[cfg(unix)]
        {
            // It ignores the signals that stop distlab, checks every second that distlab is
            // alive, and kills the group when it no longer is.
            let script = "trap '' INT HUP TERM QUIT; \
                 while kill -0 \"$0\" 2>/dev/null; do sleep 1; done; \
                 kill -s KILL -- \"-$1\" 2>/dev/null";
            let watchdog = Command::new("sh")
                .args([
                    "-c",
                    script,
                    &std::process::id().to_string(),
                    &cargo.id().to_string(),
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .ok();
            Watchdog(watchdog)
        }
        #[cfg(not(unix))]
        {
            let _ = cargo;
            Watchdog(None)
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(watchdog) = &mut self.0 {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
    }
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

/// What a line of cargo's output says about the output that follows it.
enum Marker {
    /// A test binary starts: `--lib`, `--test NAME` or `--bin NAME`, or `None` for one that is
    /// not graded.
    Binary(Option<String>),
    /// The doc-tests start (not graded).
    DocTests,
}

/// Cargo prints `Running tests/NAME.rs (...)` or `Running unittests src/lib.rs (...)` before
/// each binary's output, and `Doc-tests LAB` before the doc-tests'.
fn marker(line: &str) -> Option<Marker> {
    let trimmed = line.trim();
    if let Some(rest) = trimmed.strip_prefix("Running ") {
        let target = if rest.starts_with("unittests src/lib.rs") {
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
        return Some(Marker::Binary(target));
    }
    trimmed
        .starts_with("Doc-tests ")
        .then_some(Marker::DocTests)
}

/// Whether cargo started any test binary (if not, the suite did not build).
fn has_binaries(output: &str) -> bool {
    output
        .lines()
        .any(|l| matches!(marker(l), Some(Marker::Binary(_))))
}

/// What the test binary `target` printed (with cargo's report of how it ended), from its
/// `Running` line to the next binary's; `None` if it did not start.
pub fn binary_output(output: &str, target: &str) -> Option<String> {
    let mut section: Option<String> = None;
    let mut inside = false;
    for line in output.lines() {
        if let Some(m) = marker(line) {
            inside = matches!(&m, Marker::Binary(Some(t)) if t == target);
            if inside {
                section = Some(String::new());
            }
        }
        if inside && let Some(text) = &mut section {
            text.push_str(line);
            text.push('\n');
        }
    }
    section
}

/// Reads the output of `cargo test -- --list`: the tests of each graded binary, as
/// (`--lib` or `--test NAME`, name). Libtest lists a test as `NAME: test` (and a benchmark as
/// `NAME: benchmark`, which is not graded). Doc-tests are not graded.
pub fn parse_list(output: &str) -> BTreeSet<(String, String)> {
    let mut tests = BTreeSet::new();
    let mut target: Option<String> = None;
    for line in output.lines() {
        match marker(line) {
            Some(Marker::Binary(t)) => target = t,
            Some(Marker::DocTests) => target = None,
            None => {
                if let (Some(current), Some(name)) = (&target, line.strip_suffix(": test")) {
                    tests.insert((current.clone(), name.to_owned()));
                }
            }
        }
    }
    tests
}

/// Reads libtest's output of a `cargo test` run: which test of which binary passed.
///
/// Cargo prints `Running tests/NAME.rs (...)` or `Running unittests src/lib.rs (...)` before each
/// binary's results; libtest prints `test NAME ... ok|FAILED|ignored`, then for failures a
/// `---- NAME stdout ----` section. Doc-tests are not graded. A test whose binary died before it
/// reported is simply absent: [`grade`] counts it as failed.
pub fn parse_libtest(output: &str) -> Vec<Outcome> {
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut target: Option<String> = None;
    let mut failure: Option<usize> = None;
    for line in output.lines() {
        match marker(line) {
            Some(Marker::Binary(t)) => {
                target = t;
                failure = None;
                continue;
            }
            Some(Marker::DocTests) => {
                target = None;
                continue;
            }
            None => {}
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
                _ => continue, // ignored, bench, or cut short by a crash
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

    const LIST: &str = "   Compiling paxos v0.1.0
     Running unittests src/lib.rs (target/debug/deps/paxos-1234)
tests::unit: test
0 tests, 0 benchmarks
     Running tests/basic.rs (target/debug/deps/basic-abcd)
basic: test
deaf: test
speed: benchmark

3 tests, 1 benchmarks
   Doc-tests paxos
src/lib.rs - (line 5): test
";

    #[test]
    fn reads_the_list_of_tests() {
        let listed = parse_list(LIST);
        let listed: Vec<(&str, &str)> = listed
            .iter()
            .map(|(t, n)| (t.as_str(), n.as_str()))
            .collect();
        assert_eq!(
            listed,
            [
                ("--lib", "tests::unit"),
                ("--test basic", "basic"),
                ("--test basic", "deaf")
            ]
        );
    }

    /// A binary that died mid-run: its tests are absent, and its output (with cargo's report
    /// of the signal) is there for the note.
    #[test]
    fn a_crashed_binary_reports_nothing_but_its_output() {
        let output = "     Running tests/basic.rs (target/debug/deps/basic-abcd)

running 2 tests
test basic ... error: test failed, to rerun pass `-p paxos --test basic`

Caused by:
  process didn't exit successfully: `basic-abcd` (signal: 6, SIGABRT: process abort signal)
     Running tests/other.rs (target/debug/deps/other-abcd)

running 1 test
test other ... ok
";
        let outcomes = parse_libtest(output);
        assert_eq!(outcomes.len(), 1);
        assert_eq!(outcomes[0].name, "other");
        let section = binary_output(output, "--test basic").expect("its output");
        assert!(section.contains("SIGABRT") && !section.contains("test other"));
        assert!(binary_output(output, "--test missing").is_none());
        assert!(has_binaries(output) && !has_binaries("error: could not compile `paxos`"));
    }

    #[test]
    fn durations_show_in_their_unit() {
        assert_eq!(show_duration(Duration::from_secs(1200)), "20m");
        assert_eq!(show_duration(Duration::from_secs(90)), "90s");
        assert_eq!(show_duration(Duration::from_millis(1500)), "1500ms");
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
