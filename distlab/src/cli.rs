//! The command line: every subcommand, option and example that `--help` shows.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

mod real;
mod trace;
mod values;

pub use real::{
    KvArgs, KvOp, NodeArgs, PaxoskvArgs, PbkvArgs, PeerArgs, ServeArgs, ServeLab, StatusArgs,
    ViewserviceArgs,
};
pub use trace::{TraceArgs, TraceCommand, TraceViewArgs};
pub use values::{
    MAX_SECONDS, Param, ParamName, parse_duration, parse_fraction, parse_param, parse_timeout,
};

/// The exit statuses, as `--help` shows them (see [`crate::exit`]).
macro_rules! exit_status {
    ($one:literal) => {
        exit_status!($one, "")
    };
    ($one:literal, $three:literal) => {
        concat!(
            "\n\nExit status:\n  0  success\n  1  ",
            $one,
            "\n  2  bad arguments\n  3  distlab could not do its job (a file or directory it \
             could not write, cargo it could not start",
            $three,
            ")"
        )
    };
}

/// Run the distributed-systems labs under chaos, replay a seed, sweep an experiment, soak a
/// lab over many seeds, grade.
#[derive(Debug, Parser)]
#[command(name = "distlab", version, about, long_about = None, arg_required_else_help = true,
    after_help = concat!(
        "Every subcommand has --help with examples.",
        exit_status!(
            "a run failed (a violation, a blocked client, a panic, the time limit), or a \
             graded test failed"
        )
    ))]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a lab's chaos scenario in the simulation and report what happened.
    #[command(after_help = concat!("Examples:\n  \
        distlab run paxos\n  \
        distlab run paxoskv --seed 7 --clients 5 --drop 0.2 --partition-every 2s\n  \
        distlab run pbkv --duration 30s --crash-every 3s --out /tmp/pbkv-run",
        exit_status!(
            "the run failed: the check found a violation, a client was still blocked 60 s \
             after the faults healed, the lab panicked, or the run passed --time-limit (an \
             inconclusive check is 0)"
        )))]
    Run(RunArgs),
    /// Rerun one seed of a scenario with its full trace, or one test under one seed.
    #[command(after_help = concat!("Examples:\n  \
        distlab replay --seed 1234 paxos\n  \
        distlab replay --seed 1234 paxos --test partition",
        exit_status!("the run failed (as for distlab run), or the test failed")))]
    Replay(ReplayArgs),
    /// Run a scenario over a grid of one fault parameter and several seeds; write CSV and a plot.
    #[command(after_help = concat!("Examples:\n  \
        distlab sweep paxoskv --param drop=0,0.1,0.2,0.3\n  \
        distlab sweep pbkv --param clients=1,2,4,8 --seeds 5 --out sweep-pbkv",
        exit_status!(
            "some run failed: a violation, a blocked client, a panic or the time limit"
        )))]
    Sweep(SweepArgs),
    /// Run a lab's scenario for many seeds on every core; report each failed seed with the
    /// command that replays it.
    #[command(after_help = concat!("Examples:\n  \
        distlab soak pbkv --seeds 200\n  \
        distlab soak paxos --seeds 1000 --seed 5000 --crash-every 1s --drop 0.2\n  \
        distlab soak viewservice --seeds 50 --jobs 1 --time-limit 5m",
        exit_status!(
            "some run failed: a violation, a blocked client, a panic or the time limit"
        )))]
    Soak(SoakArgs),
    /// Run each lab's test suite several times with different seeds and score the results.
    #[command(after_help = concat!("Examples:\n  \
        distlab grade paxos --runs 5\n  \
        distlab grade --runs 3 --json results.json\n  \
        distlab grade pbkv --workspace ../submission --timeout 5m\n  \
        distlab grade paxos --submission ../student-repo --json results.json\n  \
        distlab grade paxos pbkv --runs 3 --gradescope-bundle autograder",
        exit_status!(
            "a test failed some run (or gave no result: its binary crashed, or the run \
             timed out), or a suite did not build",
            ", a suite's build that ran out of time"
        )))]
    Grade(GradeArgs),
    /// Write the student handout: the workspace with each lab's solution cut out of its
    /// student files, then check that no solution line is left in it.
    #[command(after_help = concat!("Examples:\n  \
        distlab handout --out ../handout\n  \
        distlab handout --out ../handout-3 paxos paxoskv\n  \
        distlab handout --out /tmp/handout --check",
        exit_status!(
            "the check failed: a solution line is in the handout, it does not build or is \
             not clippy-clean, a lab test passes without student code, or a given test fails",
            ", a manifest or a solution region that is wrong"
        )))]
    Handout(HandoutArgs),
    /// Run a lab server for real: a process listening on TCP, its disk in a directory.
    #[command(after_help = concat!("Examples:\n  \
        distlab serve paxoskv --me 0 --peers 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003\n  \
        distlab serve viewservice --listen 127.0.0.1:7000\n  \
        distlab serve pbkv --listen 127.0.0.1:7010 --viewservice 127.0.0.1:7000\n\n\
        Logs go to stderr. SIGTERM or Ctrl-C stops the server. Its status is on GET /healthz \
        and GET /status on the same port, and from distlab status ADDR.\n\n\
        Exit status:\n  \
        0  stopped by SIGTERM or Ctrl-C\n  \
        2  bad arguments\n  \
        3  the server could not start: an address it cannot listen on (or may not without a \
        secret), a data directory or secret file it cannot use"))]
    Serve(ServeArgs),
    /// Get, put or append a key of a key/value store served by `distlab serve`.
    #[command(after_help = concat!("Examples:\n  \
        distlab kv --servers 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003 put greeting hello\n  \
        distlab kv --servers 127.0.0.1:7002 get greeting\n  \
        distlab kv --viewservice 127.0.0.1:7000 append log entry1 --timeout 30s",
        exit_status!("no server carried out the operation within --timeout")))]
    Kv(KvArgs),
    /// Print a running server's status report (JSON).
    #[command(after_help = concat!("Example:\n  distlab status 127.0.0.1:7001",
        exit_status!("the server did not answer")))]
    Status(StatusArgs),
    /// Look at a trace: `distlab trace view FILE` draws it as an offline HTML page.
    Trace(TraceArgs),
}

/// A lab with a chaos scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Lab {
    /// Lab 1: MapReduce with failing workers.
    Mapreduce,
    /// Lab 2a: the view service with servers that crash and restart.
    Viewservice,
    /// Lab 2b: the primary/backup key/value store.
    Pbkv,
    /// Lab 3a: Paxos agreement on a sequence of instances.
    Paxos,
    /// Lab 3b: the key/value store replicated with Paxos.
    Paxoskv,
    /// Lab 4a: the shard master, a configuration service on Paxos.
    Shardmaster,
    /// Lab 4b: the sharded key/value store, replica groups that move shards between them.
    Shardkv,
}

impl Lab {
    /// The lab's crate name (also its name on the command line).
    pub fn name(self) -> &'static str {
        match self {
            Lab::Mapreduce => "mapreduce",
            Lab::Viewservice => "viewservice",
            Lab::Pbkv => "pbkv",
            Lab::Paxos => "paxos",
            Lab::Paxoskv => "paxoskv",
            Lab::Shardmaster => "shardmaster",
            Lab::Shardkv => "shardkv",
        }
    }

    /// Every lab, in course order.
    pub const ALL: [Lab; 7] = [
        Lab::Mapreduce,
        Lab::Viewservice,
        Lab::Pbkv,
        Lab::Paxos,
        Lab::Paxoskv,
        Lab::Shardmaster,
        Lab::Shardkv,
    ];
}

/// The scenario's knobs, shared by `run`, `replay` and `sweep`.
#[derive(Clone, Debug, Args)]
pub struct ScenarioArgs {
    /// The seed: the same seed gives the same run, byte for byte.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Servers (replicas, peers or workers).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=9))]
    pub servers: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub clients: u64,
    /// Simulated time to run, e.g. 10s or 500ms.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: std::time::Duration,
    /// Chance that a request, and separately a reply, is lost (0 to 1).
    #[arg(long, default_value_t = 0.1, value_parser = parse_fraction)]
    pub drop: f64,
    /// Unreachable servers answer only after up to 7 s instead of 100 ms.
    #[arg(long)]
    pub long_delays: bool,
    /// Hold most replies back 200-2200 ms, so they arrive out of order.
    #[arg(long)]
    pub reordering: bool,
    /// Mean time between partitions (each heals after about as long); 0s for none.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub partition_every: std::time::Duration,
    /// Mean time between server crashes (each restarts after about as long); 0s for none.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub crash_every: std::time::Duration,
    /// A crash loses the server's disk too, so it restarts empty (default: the disk keeps
    /// what was synced, as after a process crash or a reboot).
    #[arg(long)]
    pub lose_disks: bool,
    /// Virtual time after which a run still going fails as stuck, e.g. 30m; 0s for none.
    /// Default: 20m more than twice --duration, far past what a healthy run takes.
    #[arg(long, value_parser = parse_duration)]
    pub time_limit: Option<std::time::Duration>,
}

impl ScenarioArgs {
    /// The virtual-time limit of a run: `--time-limit` (`None` for `0s`), or
    /// [`crate::scenario::default_time_limit`] of the duration.
    pub fn time_limit(&self) -> Option<Duration> {
        match self.time_limit {
            Some(limit) if limit.is_zero() => None,
            Some(limit) => Some(limit),
            None => Some(crate::scenario::default_time_limit(self.duration)),
        }
    }

    /// The `--time-limit` option as given, for a replay command to repeat (nothing when it
    /// was not given: a replay with the same duration has the same default).
    pub fn time_limit_option(&self) -> String {
        self.time_limit
            .map(|limit| format!(" --time-limit {}ms", limit.as_millis()))
            .unwrap_or_default()
    }
}

/// `distlab run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The lab to run.
    #[arg(value_enum, default_value_t = Lab::Paxoskv)]
    pub lab: Lab,
    /// The scenario's settings.
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// The directory for the trace and the history picture (nothing is written elsewhere).
    #[arg(long, default_value = "distlab-out")]
    pub out: PathBuf,
}

/// `distlab replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The lab.
    #[arg(value_enum)]
    pub lab: Lab,
    /// Rerun this test of the lab's suite (by name) under the seed, instead of the scenario.
    #[arg(long)]
    pub test: Option<String>,
    /// The scenario's settings (the seed above all).
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// The directory for the full trace.
    #[arg(long, default_value = "distlab-out")]
    pub out: PathBuf,
}

/// `distlab sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The lab.
    #[arg(value_enum)]
    pub lab: Lab,
    /// The parameter and its values: NAME=V1,V2,... with NAME one of drop, clients, servers,
    /// partition-every (seconds), crash-every (seconds).
    #[arg(long, value_parser = parse_param)]
    pub param: Param,
    /// Seeds per value (seeds 1..=N).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub seeds: u64,
    /// The other settings, fixed across the sweep.
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Logarithmic y axes in sweep.svg (latency spanning decades).
    #[arg(long)]
    pub log_scale: bool,
    /// The directory for sweep.csv and sweep.svg.
    #[arg(long, default_value = "distlab-out")]
    pub out: PathBuf,
}

/// `distlab soak`.
#[derive(Debug, Args)]
pub struct SoakArgs {
    /// The lab.
    #[arg(value_enum)]
    pub lab: Lab,
    /// How many seeds to run, from --seed on.
    #[arg(long, default_value_t = 100,
        value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub seeds: u64,
    /// Runs at once, each on a thread of its own (default: the machine's cores).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub jobs: Option<u64>,
    /// The scenario's settings, the same for every seed; --seed is the first seed.
    #[command(flatten)]
    pub scenario: ScenarioArgs,
}

/// `distlab grade`.
#[derive(Debug, Args)]
pub struct GradeArgs {
    /// Labs to grade (default: all).
    #[arg(value_enum)]
    pub labs: Vec<Lab>,
    /// Runs of each suite, each with its own seed.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub runs: u64,
    /// The first seed (run k uses seed + k).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Points a test earns when it passes every run.
    #[arg(long, default_value_t = 1.0)]
    pub points: f64,
    /// Give partial points: the test's points times its pass rate.
    #[arg(long)]
    pub partial: bool,
    /// Write Gradescope's results.json to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// The workspace to grade (default: the one of the current directory); with
    /// --submission, the staff's workspace whose tests grade it.
    #[arg(long)]
    pub workspace: Option<PathBuf>,
    /// Grade this student repository against the staff's tests: only the student files of
    /// each lab's manifest are taken from it, into a fresh copy of the staff's workspace.
    #[arg(long)]
    pub submission: Option<PathBuf>,
    /// Let failing tests print backtraces (RUST_BACKTRACE=1); off by default, so that
    /// reports show the assertion and the replay command.
    #[arg(long)]
    pub backtraces: bool,
    /// Write a Gradescope autograder (setup.sh, run_autograder and the staff's workspace)
    /// to this new directory instead of grading; it grades with these options.
    #[arg(long, conflicts_with_all = ["submission", "json"])]
    pub gradescope_bundle: Option<PathBuf>,
    /// Time limit of each cargo command (listing a suite's tests, which builds it, and each
    /// run), e.g. 20m or 90s: past it distlab kills cargo and its test binaries, and tests
    /// without a result fail that run.
    #[arg(long, default_value = "20m", value_parser = parse_timeout)]
    pub timeout: std::time::Duration,
}

/// `distlab handout`.
#[derive(Debug, Args)]
pub struct HandoutArgs {
    /// Labs to hand out (default: all); the others keep their solution.
    #[arg(value_enum)]
    pub labs: Vec<Lab>,
    /// The directory to write, new or empty, outside the workspace.
    #[arg(long)]
    pub out: PathBuf,
    /// The staff's workspace (default: the current directory).
    #[arg(long)]
    pub workspace: Option<PathBuf>,
    /// Also build the handout, run clippy on it, and run each lab's tests: each must fail
    /// until written, but the given tests, which must pass.
    #[arg(long)]
    pub check: bool,
    /// The target directory of the check's builds (default: the workspace's
    /// target/handout-check, kept between checks).
    #[arg(long)]
    pub target_dir: Option<PathBuf>,
    /// Time limit of each cargo command of the check.
    #[arg(long, default_value = "30m", value_parser = parse_timeout)]
    pub timeout: std::time::Duration,
}
