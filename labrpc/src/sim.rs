//! Running a test body as a simulation: virtual time, one seed, replay on failure.
//!
//! [`run`] is what a test calls. It reads its settings from the environment:
//!
//! | variable | effect |
//! |---|---|
//! | `LABRPC_SEED=N` | run seed `N` alone (default: [`DEFAULT_SEEDS`] consecutive seeds from a fresh one each run) |
//! | `LABRPC_SEEDS=K` | run `K` consecutive seeds, starting at the seed above |
//! | `LABRPC_CHECK_DETERMINISM=1` | run each seed twice and fail if the two traces differ |
//! | `LABRPC_TRACE=FILE` | keep every event and write them to `FILE` as JSON lines |
//! | `LABRPC_TIME_LIMIT=S` | fail a run that is not over after `S` seconds of virtual time (default [`DEFAULT_TIME_LIMIT`]; 0: no limit) |
//!
//! The time limit turns a liveness bug — a clerk retrying forever, a wait for a decision
//! that never comes — into a failure with its seed within a second or so of wall time,
//! instead of a test that never ends.
//!
//! Every run of a lab's suite draws fresh seeds, [`DEFAULT_SEEDS`] of them per test, so a bug
//! that shows on one interleaving in three is caught by one `cargo test` as often as not, and
//! the suite explores new interleavings each time it runs. When a body fails, the runner prints
//! its seed and the exact command that replays it. [`run_seeds`] is the same with another
//! number of seeds, for a chaos test that should try more of them on every run.
//!
//! ## One simulation from your own code
//!
//! An experiment that is not a test (a benchmark, a tool, a researcher's sweep) calls
//! [`simulate`] or [`simulate_for`] with a seed: they run the body once, read no environment
//! variable, and return a [`Report`] (the trace's hash and length, the virtual time taken,
//! and the events if `record` was asked).
//!
//! - [`simulate`]`(seed, record, body)` has no time limit: a body that never ends (a clerk
//!   retrying forever) never returns.
//! - [`simulate_for`]`(seed, record, limit, body)` stops the body once `limit` of virtual time
//!   has passed and returns [`SimError::TimeLimit`], which names the seed and the limit and
//!   keeps the report of the run so far (its trace, if recorded, shows what was still going).
//!
//! ```
//! use labrpc::sim::{self, SimError};
//! use std::time::Duration;
//!
//! let stuck = sim::simulate_for(7, false, Duration::from_secs(60), |_net| async {
//!     // A clerk that retries forever.
//!     loop {
//!         tokio::time::sleep(Duration::from_millis(100)).await;
//!     }
//! });
//! match stuck {
//!     Err(SimError::TimeLimit { seed, limit, .. }) => {
//!         assert_eq!((seed, limit), (7, Duration::from_secs(60)))
//!     }
//!     Ok(report) => panic!("a stuck body ended after {:?}", report.simulated),
//! }
//! ```
//!
//! In both, a panic of the body or of a task spawned on a node propagates as a panic (the
//! caller may `catch_unwind` it); the virtual time a run takes costs only the wall time of
//! the work done, so a limit of minutes is reached within a second by a body that only waits.
//!
//! ## Keeping a simulation deterministic
//!
//! A seed replays a run only if nothing but the seed decides what happens. In simulated code:
//! - use `biased;` in every `tokio::select!` (unbiased select picks a branch at random);
//! - never iterate over a std `HashMap`/`HashSet` (their hashers are randomly keyed): use
//!   `BTreeMap`, or a fixed hasher;
//! - never read std time (`Instant::now`, `SystemTime::now`) nor sleep a thread: use
//!   `tokio::time`, which the simulation runs on a virtual clock;
//! - no threads and no blocking calls (`spawn_blocking`, blocking I/O): the clock waits for
//!   them, and their timing is not the seed's;
//! - no busy loops (`loop { yield_now().await }`): virtual time stops while a task is runnable;
//! - take every random number from [`Network::rng`], never from `rand::rng()`;
//! - do not have several tasks wait on one `tokio::sync::watch` (they wake in random order).
//!
//! The workspace's `clippy.toml` forbids the std time, sleep and thread-local randomness calls.

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::Duration;

use crate::Network;
use crate::trace::{self, Event};

/// How much virtual time a run under [`run`] may take before it fails as stuck: far more
/// than any test of this workspace needs (the longest take a few simulated minutes), and
/// reached within a second of wall time by a run that only waits.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(20 * 60);

/// How many seeds a test under [`run`] tries when the environment names none: enough that
/// an outcome that depends on the seed is rarely decided by one draw, few enough that a
/// lab's whole suite still runs in seconds.
pub const DEFAULT_SEEDS: u64 = 3;

/// What one simulated run produced.
#[derive(Clone, Debug)]
pub struct Report {
    /// The seed of the run.
    pub seed: u64,
    /// The hash of the run's trace.
    pub trace_hash: u64,
    /// How many events the trace has.
    pub trace_len: u64,
    /// Virtual time the run took.
    pub simulated: Duration,
    /// The events, if they were recorded.
    pub events: Vec<Event>,
}

/// Runs `body` as a simulation with the settings of the environment (see the [module docs](self)):
/// [`DEFAULT_SEEDS`] consecutive seeds from a fresh one unless `LABRPC_SEED` or `LABRPC_SEEDS` says
/// otherwise.
///
/// # Panics
/// If the body panics for some seed, after printing the seed and the replay command, or if a
/// determinism check finds two different traces.
pub fn run<F, Fut>(body: F)
where
    F: Fn(Network) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    Settings::from_env().run(body)
}

/// [`run`] with `seeds` seeds instead of [`DEFAULT_SEEDS`], for a randomized test (a chaos
/// test) that should try more of them on every run: runs `seeds` consecutive seeds from a
/// fresh one, unless the environment names a seed — `LABRPC_SEED=N` replays seed `N` alone
/// (or `LABRPC_SEEDS` seeds from it).
///
/// # Panics
/// As [`run`].
pub fn run_seeds<F, Fut>(seeds: u64, body: F)
where
    F: Fn(Network) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    Settings::from_env_or_seeds(seeds).run(body)
}

/// Why a simulation under [`simulate_for`] gave no report of a finished run.
#[derive(Clone, Debug)]
pub enum SimError {
    /// The body was still running after `limit` of virtual time: something waits or retries
    /// forever.
    TimeLimit {
        /// The seed of the run.
        seed: u64,
        /// The limit it reached.
        limit: Duration,
        /// The run up to the limit: its trace's hash and length, and its events if recorded.
        report: Box<Report>,
    },
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SimError::TimeLimit { seed, limit, .. } => write!(
                f,
                "seed {seed}: the run is not over after {limit:?} of virtual time: something \
                 waits or retries forever (a liveness bug?)"
            ),
        }
    }
}

impl std::error::Error for SimError {}

/// Runs `body` once as a simulation of seed `seed` and reports what happened. A panic of the
/// body, or of a task spawned on a node, propagates. No time limit: the body decides how
/// long it runs (see [`simulate_for`] for one that stops a stuck body).
pub fn simulate<Fut>(seed: u64, record: bool, body: impl FnOnce(Network) -> Fut) -> Report
where
    Fut: Future<Output = ()> + 'static,
{
    match simulate_keeping(seed, record, None, body, &mut None) {
        Ok(report) => report,
        // Only a limit stops a run early, and there is none.
        Err(e) => panic!("labrpc: {e}"),
    }
}

/// [`simulate`] with a limit: once `limit` of virtual time has passed, the body is stopped
/// (dropped, with every task still running on the network) and the result is
/// [`SimError::TimeLimit`], naming the seed and the limit, with the report of the run so far.
///
/// # Panics
/// As [`simulate`]: if the body, or a task spawned on a node, panics.
pub fn simulate_for<Fut>(
    seed: u64,
    record: bool,
    limit: Duration,
    body: impl FnOnce(Network) -> Fut,
) -> Result<Report, SimError>
where
    Fut: Future<Output = ()> + 'static,
{
    simulate_keeping(seed, record, Some(limit), body, &mut None)
}

/// [`simulate`], stopping after `limit` of virtual time, leaving the network in `keep` so
/// that its trace survives a panic.
fn simulate_keeping<Fut>(
    seed: u64,
    record: bool,
    limit: Option<Duration>,
    body: impl FnOnce(Network) -> Fut,
    keep: &mut Option<Network>,
) -> Result<Report, SimError>
where
    Fut: Future<Output = ()> + 'static,
{
    // A failure to build a runtime is the environment's, not the test's: say so plainly.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap_or_else(|e| panic!("labrpc: cannot build a tokio runtime: {e}"));
    let local = tokio::task::LocalSet::new();
    let net = local.block_on(&runtime, async { Network::new(seed) });
    // Protocol events go into a recorded trace for as long as the run lasts.
    let _recorder = record.then(|| {
        net.record_trace();
        crate::Recorder::install(&net)
    });
    *keep = Some(net.clone());
    let body = body(net.clone());
    let watcher = net.clone();
    let finished = local.block_on(&runtime, async move {
        let limit_reached = async {
            match limit {
                Some(limit) => tokio::time::sleep(limit).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            message = watcher.panicked() => panic!("{message}"),
            () = body => true,
            () = limit_reached => false,
        }
    });
    if let Some(message) = net.panic() {
        panic!("{message}");
    }
    // Read the clock inside the runtime: outside it, tokio's clock is the wall clock.
    let simulated = local.block_on(&runtime, async { net.now() });
    let report = Report {
        seed,
        trace_hash: net.trace_hash(),
        trace_len: net.trace_len(),
        simulated,
        events: net.trace_events(),
    };
    // Stop every task still running (servers' loops) inside the runtime, then the runtime;
    // then free the servers, whose handlers hold the network that holds them.
    let _guard = runtime.enter();
    drop(local);
    net.shut_down();
    match (finished, limit) {
        (false, Some(limit)) => Err(SimError::TimeLimit {
            seed,
            limit,
            report: Box::new(report),
        }),
        _ => Ok(report),
    }
}

/// The runner's settings; [`run`] takes them from the environment.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The first seed.
    pub seed: u64,
    /// How many consecutive seeds to run.
    pub seeds: u64,
    /// Run each seed twice and compare the traces.
    pub check_determinism: bool,
    /// Where to write the trace as JSON lines.
    pub trace: Option<PathBuf>,
    /// Virtual time after which a run fails as stuck; `None`: no limit.
    pub time_limit: Option<Duration>,
}

impl Settings {
    /// Settings from `LABRPC_SEED`, `LABRPC_SEEDS`, `LABRPC_CHECK_DETERMINISM`, `LABRPC_TRACE`,
    /// `LABRPC_TIME_LIMIT`.
    ///
    /// # Panics
    /// If a variable is set to something that is not a number, naming the variable.
    pub fn from_env() -> Settings {
        Settings::from_env_or_seeds(DEFAULT_SEEDS)
    }

    /// [`Settings::from_env`], but `seeds` seeds when the environment names neither a seed
    /// nor a number of seeds.
    ///
    /// # Panics
    /// As [`Settings::from_env`].
    pub fn from_env_or_seeds(seeds: u64) -> Settings {
        Settings::from_vars(|name| std::env::var(name).ok(), seeds)
    }

    /// The settings that the variables `var` gives (`var("LABRPC_SEED")` and so on), with
    /// `seeds` seeds when they name neither a seed nor a number of seeds.
    ///
    /// # Panics
    /// If a variable is set to something that is not a number, naming the variable.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>, seeds: u64) -> Settings {
        let number = |name: &str| {
            var(name).map(|value| {
                value
                    .trim()
                    .parse::<u64>()
                    .unwrap_or_else(|_| panic!("{name} must be a whole number, not {value:?}"))
            })
        };
        let seed = number("LABRPC_SEED");
        let default_seeds = if seed.is_some() { 1 } else { seeds };
        Settings {
            seed: seed.unwrap_or_else(fresh_seed),
            seeds: number("LABRPC_SEEDS").unwrap_or(default_seeds).max(1),
            check_determinism: var("LABRPC_CHECK_DETERMINISM")
                .is_some_and(|v| !v.is_empty() && v != "0"),
            trace: var("LABRPC_TRACE").map(PathBuf::from),
            time_limit: match number("LABRPC_TIME_LIMIT") {
                None => Some(DEFAULT_TIME_LIMIT),
                Some(0) => None,
                Some(seconds) => Some(Duration::from_secs(seconds)),
            },
        }
    }

    /// Runs `body` for every seed of these settings.
    pub fn run<F, Fut>(&self, body: F)
    where
        F: Fn(Network) -> Fut,
        Fut: Future<Output = ()> + 'static,
    {
        for seed in self.seed..self.seed.saturating_add(self.seeds) {
            let mut net = None;
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
                let limited = |result: Result<Report, SimError>| {
                    result.unwrap_or_else(|e| {
                        panic!("labrpc: {e}; LABRPC_TIME_LIMIT=SECONDS changes the limit")
                    })
                };
                let report = limited(simulate_keeping(
                    seed,
                    self.trace.is_some(),
                    self.time_limit,
                    &body,
                    &mut net,
                ));
                if self.check_determinism {
                    let again = limited(simulate_keeping(
                        seed,
                        false,
                        self.time_limit,
                        &body,
                        &mut None,
                    ));
                    assert_eq!(
                        (report.trace_hash, report.trace_len),
                        (again.trace_hash, again.trace_len),
                        "labrpc: seed {seed} is not deterministic: two runs gave different traces"
                    );
                }
            }));
            if let (Some(path), Some(net)) = (self.trace_path(seed), &net) {
                write_trace(&net.trace_events(), &path);
            }
            if let Err(panic) = outcome {
                eprintln!("{}", replay_help(seed));
                panic::resume_unwind(panic);
            }
        }
    }

    fn trace_path(&self, seed: u64) -> Option<PathBuf> {
        let path = self.trace.clone()?;
        if self.seeds == 1 {
            return Some(path);
        }
        let mut name = path.clone().into_os_string();
        name.push(format!(".{seed}"));
        Some(PathBuf::from(name))
    }
}

fn write_trace(events: &[Event], path: &std::path::Path) {
    // Named absolute: cargo runs a test in its crate's folder, so a relative
    // `LABRPC_TRACE=trace.jsonl` lands in `paxos/trace.jsonl`, not where the user stood.
    let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    match trace::write_json_lines(events, path) {
        Ok(()) => eprintln!(
            "labrpc: wrote {} events to {}",
            events.len(),
            shown.display()
        ),
        Err(e) => eprintln!("labrpc: cannot write the trace to {}: {e}", shown.display()),
    }
}

/// A seed for a run nobody asked to replay. The only place where labrpc reads the wall clock:
/// outside any simulation, to pick which one to run.
#[allow(clippy::disallowed_methods)]
fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    // Spread nearby clock readings over the whole range, and keep seeds short enough to type.
    (nanos ^ u64::from(std::process::id())).wrapping_mul(0x9E37_79B9_7F4A_7C15) % 1_000_000_000
}

/// The cargo option that builds with the profile of test executable `exe`
/// (`target/<profile dir>/deps/<test>-<hash>`): none for `debug`, `--release`, or
/// `--profile NAME`, so that the replay runs the same build as the failure.
fn profile_option(exe: &std::path::Path) -> String {
    let dir = exe.parent().filter(|deps| deps.ends_with("deps"));
    let profile = dir.and_then(|deps| deps.parent()?.file_name()?.to_str());
    match profile {
        None | Some("debug") => String::new(),
        Some("release") => " --release".to_owned(),
        Some(name) => format!(" --profile {name}"),
    }
}

/// The lines a failing test prints: its seed and the command that replays it, with the build
/// profile of the failing run.
pub fn replay_help(seed: u64) -> String {
    let package = std::env::var("CARGO_PKG_NAME").unwrap_or_else(|_| "PACKAGE".into());
    let exe = std::env::current_exe().ok();
    let profile = exe.as_deref().map(profile_option).unwrap_or_default();
    let target = exe
        .as_deref()
        .and_then(|exe| exe.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .map(|stem| match stem.rsplit_once('-') {
            Some((name, _hash)) => name.to_owned(),
            None => stem,
        });
    let target = match target {
        Some(name) if name == package.replace('-', "_") => "--lib".to_owned(),
        Some(name) => format!("--test {name}"),
        None => String::new(),
    };
    let test = std::thread::current()
        .name()
        .filter(|name| *name != "main")
        .map(|name| format!(" -- {name} --exact"))
        .unwrap_or_default();
    format!(
        "labrpc: FAILED with seed {seed}\n\
         labrpc: replay:      LABRPC_SEED={seed} cargo test{profile} -p {package} {target}{test}\n\
         labrpc: with trace:  LABRPC_SEED={seed} LABRPC_TRACE=trace.jsonl cargo test{profile} -p {package} {target}{test}"
    )
}

#[cfg(test)]
mod tests {
    use super::profile_option;
    use std::path::Path;

    #[test]
    fn the_replay_line_names_the_profile_of_the_failing_build() {
        let option = |p: &str| profile_option(Path::new(p));
        assert_eq!(option("/w/target/debug/deps/paxos-0123abcd"), "");
        assert_eq!(
            option("/w/target/release/deps/paxos-0123abcd"),
            " --release"
        );
        assert_eq!(
            option("/w/target/mutants/deps/paxos-0123abcd"),
            " --profile mutants"
        );
        assert_eq!(option("/w/elsewhere/paxos"), "");
    }
}
