//! For tests of a replicated store: record every client operation, check the whole history at
//! the end, and when it is not linearizable leave the picture and the network trace where a
//! person can open them.
//!
//! The pieces, from the bottom up:
//! - [`FailureFiles`] names the files of one failing run: `<dir>/<test>-seed<N>.html` and
//!   `<dir>/<test>-seed<N>.trace.jsonl`, and keeps the replay command to print with them;
//! - [`check_history`] checks a history within [`Limits`] and, on a violation, writes both
//!   files and returns a [`Failure`] whose text names them, the seed and the replay command;
//! - [`TestHistory`] does both for a running test: it hands out one [`Client`] per clerk to
//!   record operations with, [`TestHistory::finish`] checks at the end (panicking with the
//!   [`Failure`] on a violation, printing an unknown verdict without failing), and if the test
//!   panics for another reason before that, dropping it still writes both files and prints
//!   their paths.
//!
//! The checker needs no network: the caller gives the clock (virtual time in a simulation) and
//! a function that writes the network trace to a path. With the `labrpc` feature,
//! `TestHistory::on_network` takes both from a labrpc simulated network:
//!
//! ```ignore
//! let history = TestHistory::on_network(KvMap, &net, "chaos", failure_dir(env!("CARGO_TARGET_TMPDIR")));
//! let client = history.client(0);                      // one per clerk
//! let value = client.get("k", clerk.get("k")).await;   // call recorded, then the return
//! // ... at the end of the test:
//! history.finish();                                    // panics on a violation
//! ```

use std::fmt;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::checker::{Limits, Report, Verdict, check_with};
use crate::history::{Operation, Recorder};
use crate::html;
use crate::model::Model;
use crate::models::{KvInput, KvOutput};

/// The wall-clock time [`TestHistory::new`] gives the checker by default before answering
/// [`Verdict::Unknown`].
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(10);

/// The search steps [`TestHistory::on_network`] gives the checker before answering
/// [`Verdict::Unknown`]: a step budget, not a time limit, so that a seed's verdict is the
/// same on every machine however loaded. The chaos tests of this workspace need a few
/// thousand; ten million take seconds in a debug build.
pub const DEFAULT_STEP_LIMIT: u64 = 10_000_000;

/// The folder failing runs write their files to: `chaos-failures` inside the directory given,
/// which integration tests take from `env!("CARGO_TARGET_TMPDIR")` (the workspace's
/// `target/tmp`, so the files land in `target/tmp/chaos-failures/`).
pub fn failure_dir(target_tmpdir: impl AsRef<Path>) -> PathBuf {
    target_tmpdir.as_ref().join("chaos-failures")
}

/// Where the files of one failing run go, and what to print with them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailureFiles {
    /// The test's name, the first part of the file names (e.g. `pbkv-chaos`).
    pub test: String,
    /// The seed of the run.
    pub seed: u64,
    /// The folder of the files (created when needed).
    pub dir: PathBuf,
    /// How to replay the run (e.g. `labrpc::sim::replay_help(seed)`), printed with the paths.
    pub replay: String,
    /// What one unit of the history's times is, for the picture's time axis (a
    /// [`TestHistory`] sets nanoseconds: its recorder stamps them).
    pub time_unit: html::TimeUnit,
}

impl FailureFiles {
    /// The files of run `seed` of `test`, in `dir`, with no replay command.
    pub fn new(test: impl Into<String>, seed: u64, dir: impl Into<PathBuf>) -> Self {
        FailureFiles {
            test: test.into(),
            seed,
            dir: dir.into(),
            replay: String::new(),
            time_unit: html::TimeUnit::Unitless,
        }
    }

    /// The same, its picture's times in `unit`.
    pub fn with_time_unit(mut self, unit: html::TimeUnit) -> Self {
        self.time_unit = unit;
        self
    }

    /// The same, printing `replay` (one or more lines) with the paths.
    pub fn with_replay(mut self, replay: impl Into<String>) -> Self {
        self.replay = replay.into();
        self
    }

    /// `<dir>/<test>-seed<N>.html`: the picture of the history.
    pub fn html_path(&self) -> PathBuf {
        self.dir
            .join(format!("{}-seed{}.html", self.test, self.seed))
    }

    /// `<dir>/<test>-seed<N>.trace.jsonl`: the network trace, one JSON event a line.
    pub fn trace_path(&self) -> PathBuf {
        self.dir
            .join(format!("{}-seed{}.trace.jsonl", self.test, self.seed))
    }

    /// Writes the picture of `history` with `report`, and the trace with `write_trace`, next
    /// to each other. Returns the two paths, or for each the reason it could not be written.
    pub fn write<M: Model>(
        &self,
        model: &M,
        history: &[Operation<M::Input, M::Output>],
        report: Option<&Report>,
        write_trace: impl FnOnce(&Path) -> io::Result<()>,
    ) -> Written {
        let (html, trace) = (self.html_path(), self.trace_path());
        if let Err(e) = std::fs::create_dir_all(&self.dir) {
            let failed = || Err(format!("cannot create {}: {e}", self.dir.display()));
            return Written {
                html: failed(),
                trace: failed(),
            };
        }
        let title = format!("{} (seed {})", self.test, self.seed);
        let html = match report {
            None => Err("the history could not be checked".to_string()),
            Some(report) => {
                let options = html::Options {
                    time_unit: self.time_unit,
                    ..html::Options::default()
                };
                let page = html::render_with(&title, model, history, report, &options);
                match std::fs::write(&html, page) {
                    Ok(()) => Ok(html),
                    Err(e) => Err(format!("cannot write {}: {e}", html.display())),
                }
            }
        };
        let trace = match write_trace(&trace) {
            Ok(()) => Ok(trace),
            Err(e) => Err(format!("cannot write {}: {e}", trace.display())),
        };
        Written { html, trace }
    }
}

/// The two files of a failing run: each a path, or why it is missing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// The HTML picture.
    pub html: Result<PathBuf, String>,
    /// The network trace.
    pub trace: Result<PathBuf, String>,
}

impl fmt::Display for Written {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |r: &Result<PathBuf, String>| match r {
            Ok(path) => path.display().to_string(),
            Err(why) => format!("(not written: {why})"),
        };
        write!(
            f,
            "  picture: {}\n  trace:   {}",
            show(&self.html),
            show(&self.trace)
        )
    }
}

/// A history that failed its check, with the files written about it. Its text is the
/// failure message: what broke, both paths, the seed and the replay command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The test's name.
    pub test: String,
    /// The seed of the run.
    pub seed: u64,
    /// What is wrong: the violation found, or why the history could not be checked.
    pub reason: String,
    /// The files written.
    pub written: Written,
    /// How to replay the run.
    pub replay: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (seed {}): {}\n{}",
            self.test, self.seed, self.reason, self.written
        )?;
        if !self.replay.is_empty() {
            write!(f, "\n{}", self.replay)?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

/// Checks `history` against `model` within `limits`. A linearizable history, or one the search
/// could not finish within the limits ([`Verdict::Unknown`]), gives the report. A violation, or
/// a history the checker rejects as malformed, writes the picture and the trace (with
/// `write_trace`) as `files` says and gives the [`Failure`].
pub fn check_history<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    limits: Limits,
    files: &FailureFiles,
    write_trace: impl FnOnce(&Path) -> io::Result<()>,
) -> Result<Report, Box<Failure>> {
    let (report, reason) = match check_with(model, history, limits) {
        Ok(report) if report.verdict != Verdict::Violation => return Ok(report),
        Ok(report) => {
            let reason = describe_violation(model, history, &report);
            (Some(report), reason)
        }
        Err(e) => (None, format!("the recorded history is malformed: {e}")),
    };
    let written = files.write(model, history, report.as_ref(), write_trace);
    Err(Box::new(Failure {
        test: files.test.clone(),
        seed: files.seed,
        reason,
        written,
        replay: files.replay.clone(),
    }))
}

/// One sentence on the first failing part: which operation cannot come next, after how many.
fn describe_violation<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    report: &Report,
) -> String {
    let total = history.len();
    let Some(part) = report.violations().next() else {
        return format!("the history of {total} operations is not linearizable");
    };
    let breaking = part
        .breaking_op
        .and_then(|i| history.get(i))
        .map(|op| {
            format!(
                ": client {} {} cannot follow the {} operation(s) linearized before it",
                op.client,
                shorten(&model.describe_operation(&op.input, op.output())),
                part.linearization.len()
            )
        })
        .unwrap_or_default();
    format!(
        "the history of {total} operations is not linearizable in a part of {} operations{breaking}",
        part.ops.len()
    )
}

/// A description cut to its two ends when long (a key/value store's values grow), so that
/// the failure message stays readable; the picture has the whole text.
fn shorten(text: &str) -> String {
    const END: usize = 70;
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= 3 * END {
        return text.to_owned();
    }
    let head: String = chars[..END].iter().collect();
    let tail: String = chars[chars.len() - END..].iter().collect();
    format!("{head} ... {tail} ({} characters)", chars.len())
}

/// A clock: the time to record a call or a return at.
type Clock = Arc<dyn Fn() -> Duration + Send + Sync>;

/// Writes the network trace to a path.
type TraceWriter = Box<dyn FnMut(&Path) -> io::Result<()>>;

/// The history of a running test, checked when the test ends (see the [module docs](self)).
pub struct TestHistory<M: Model>
where
    M::Input: Clone,
    M::Output: Clone,
{
    model: M,
    recorder: Recorder<M::Input, M::Output>,
    clock: Clock,
    files: FailureFiles,
    limits: Limits,
    write_trace: Option<TraceWriter>,
    finished: bool,
}

impl<M: Model> fmt::Debug for TestHistory<M>
where
    M::Input: Clone,
    M::Output: Clone,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestHistory")
            .field("files", &self.files)
            .field("limits", &self.limits)
            .field("operations", &self.recorder.len())
            .finish_non_exhaustive()
    }
}

impl<M: Model> TestHistory<M>
where
    M::Input: Clone,
    M::Output: Clone,
{
    /// An empty history of `model`'s operations, timed by `clock`, whose failure files
    /// `files` names; checked with a wall-clock limit of [`DEFAULT_TIME_LIMIT`], no trace.
    pub fn new(
        model: M,
        files: FailureFiles,
        clock: impl Fn() -> Duration + Send + Sync + 'static,
    ) -> Self {
        TestHistory {
            model,
            recorder: Recorder::new(),
            clock: Arc::new(clock),
            // Its recorder stamps nanoseconds of `clock`.
            files: files.with_time_unit(html::TimeUnit::Nanoseconds),
            limits: Limits::time(DEFAULT_TIME_LIMIT),
            write_trace: None,
            finished: false,
        }
    }

    /// The history of a test on labrpc's simulated network `net` (feature `labrpc`): times
    /// from its virtual clock, the failure files `<dir>/<test>-seed<N>.html` and
    /// `.trace.jsonl` (the network's trace, which this turns on), printed with labrpc's replay
    /// command for the seed. Checked within [`DEFAULT_STEP_LIMIT`] search steps, so that
    /// the verdict, like the rest of the run, depends on the seed alone.
    #[cfg(feature = "labrpc")]
    pub fn on_network(
        model: M,
        net: &labrpc::Network,
        test: &str,
        dir: impl Into<PathBuf>,
    ) -> Self {
        net.record_trace();
        let files = FailureFiles::new(test, net.seed(), dir)
            .with_replay(labrpc::sim::replay_help(net.seed()));
        let (clock, traced) = (net.clone(), net.clone());
        TestHistory::new(model, files, move || clock.now())
            .with_limits(Limits::steps(DEFAULT_STEP_LIMIT))
            .with_trace(move |path| labrpc::trace::write_json_lines(&traced.trace_events(), path))
    }

    /// The same, checked within `limits`.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The same, writing the network trace with `write_trace` when the test fails.
    pub fn with_trace(
        mut self,
        write_trace: impl FnMut(&Path) -> io::Result<()> + 'static,
    ) -> Self {
        self.write_trace = Some(Box::new(write_trace));
        self
    }

    /// A handle for client number `client` (its row in the picture) to record with.
    pub fn client(&self, client: usize) -> Client<M::Input, M::Output> {
        Client {
            recorder: self.recorder.clone(),
            clock: Arc::clone(&self.clock),
            client,
        }
    }

    /// The recorder underneath, for recording by hand.
    pub fn recorder(&self) -> &Recorder<M::Input, M::Output> {
        &self.recorder
    }

    /// Where a failure's files go.
    pub fn files(&self) -> &FailureFiles {
        &self.files
    }

    /// Checks the history, as [`check_history`] does.
    pub fn check(&mut self) -> Result<Report, Box<Failure>> {
        self.finished = true;
        let history = self.recorder.history();
        let write_trace = self.write_trace.as_mut();
        check_history(
            &self.model,
            &history,
            self.limits,
            &self.files,
            |path| match write_trace {
                Some(write) => write(path),
                None => Err(io::Error::other("no trace was asked for")),
            },
        )
    }

    /// Checks the history at the end of the test: prints the verdict (an unknown one does not
    /// fail the test) and returns the report.
    ///
    /// # Panics
    /// On a violation (or a malformed history), with the [`Failure`]'s text: what broke, the
    /// paths of the picture and the trace, the seed and the replay command.
    #[track_caller]
    pub fn finish(mut self) -> Report {
        let operations = self.recorder.len();
        match self.check() {
            Ok(report) => {
                let unknown = if report.verdict == Verdict::Unknown {
                    format!(" (search cut short by {:?}; not a failure)", self.limits)
                } else {
                    String::new()
                };
                eprintln!(
                    "{}: {operations} operations in {} part(s), {} search steps: {}{unknown}",
                    self.files.test,
                    report.parts.len(),
                    report.steps(),
                    report.verdict,
                );
                report
            }
            Err(failure) => panic!("{failure}"),
        }
    }
}

impl<M: Model> Drop for TestHistory<M>
where
    M::Input: Clone,
    M::Output: Clone,
{
    /// If the test panics before [`TestHistory::finish`], writes the picture of the history so
    /// far (operations still running are unknown) and the trace, and prints their paths.
    fn drop(&mut self) {
        if self.finished || !std::thread::panicking() {
            return;
        }
        let history = self.recorder.history();
        let report = check_with(&self.model, &history, self.limits).ok();
        let write_trace = self.write_trace.as_mut();
        let written =
            self.files.write(
                &self.model,
                &history,
                report.as_ref(),
                |path| match write_trace {
                    Some(write) => write(path),
                    None => Err(io::Error::other("no trace was asked for")),
                },
            );
        let verdict = report.map_or("not checked".to_string(), |r| r.verdict.to_string());
        eprintln!(
            "{}: the test failed (seed {}); its history of {} operations ({verdict}) and the network trace:\n{written}",
            self.files.test,
            self.files.seed,
            history.len(),
        );
    }
}

/// One client's handle on a [`TestHistory`]: records each operation's call before it starts
/// and its return when it ends. An operation whose future is dropped unfinished (a timeout, a
/// test that stops) stays open: its outcome is unknown, as it is for the server.
pub struct Client<I, O> {
    recorder: Recorder<I, O>,
    clock: Clock,
    client: usize,
}

impl<I, O> Clone for Client<I, O> {
    fn clone(&self) -> Self {
        Client {
            recorder: self.recorder.clone(),
            clock: Arc::clone(&self.clock),
            client: self.client,
        }
    }
}

impl<I, O> fmt::Debug for Client<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl<I, O> Client<I, O> {
    /// Records the call `input`, runs `operation`, records its return with the output
    /// `output` makes of its result, and gives the result back.
    pub async fn record<T>(
        &self,
        input: I,
        operation: impl Future<Output = T>,
        output: impl FnOnce(&T) -> O,
    ) -> T {
        let id = self.recorder.call(self.client, input, (self.clock)());
        let result = operation.await;
        // The id is this recorder's and its return is recorded once, here: this cannot fail.
        let _ = self.recorder.returned(id, output(&result), (self.clock)());
        result
    }
}

impl Client<KvInput, KvOutput> {
    /// Records `get(key)` done by `get` (e.g. `client.get(key, clerk.get(key))`).
    pub async fn get(&self, key: &str, get: impl Future<Output = String>) -> String {
        self.record(KvInput::get(key), get, |value| {
            KvOutput::Value(value.clone())
        })
        .await
    }

    /// Records `put(key, value)` done by `put`.
    pub async fn put(&self, key: &str, value: &str, put: impl Future<Output = ()>) {
        self.record(KvInput::put(key, value), put, |()| KvOutput::Done)
            .await;
    }

    /// Records `append(key, value)` done by `append`.
    pub async fn append(&self, key: &str, value: &str, append: impl Future<Output = ()>) {
        self.record(KvInput::append(key, value), append, |()| KvOutput::Done)
            .await;
    }
}
