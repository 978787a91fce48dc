//! The command line: every subcommand, option and example that `--help` shows.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

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

/// Run the distributed-systems labs under chaos, replay a seed, sweep an experiment, grade.
#[derive(Debug, Parser)]
#[command(name = "distlab", version, about, long_about = None, arg_required_else_help = true,
    after_help = concat!(
        "Every subcommand has --help with examples.",
        exit_status!("a check found a violation, or a graded test failed")
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
        exit_status!("the check found a violation (an inconclusive check is 0)")))]
    Run(RunArgs),
    /// Rerun one seed of a scenario with its full trace, or one test under one seed.
    #[command(after_help = concat!("Examples:\n  \
        distlab replay --seed 1234 paxos\n  \
        distlab replay --seed 1234 paxos --test partition",
        exit_status!("the check found a violation, or the test failed")))]
    Replay(ReplayArgs),
    /// Run a scenario over a grid of one fault parameter and several seeds; write CSV and a plot.
    #[command(after_help = concat!("Examples:\n  \
        distlab sweep paxoskv --param drop=0,0.1,0.2,0.3\n  \
        distlab sweep pbkv --param clients=1,2,4,8 --seeds 5 --out sweep-pbkv",
        exit_status!("some run's check found a violation")))]
    Sweep(SweepArgs),
    /// Run each lab's test suite several times with different seeds and score the results.
    #[command(after_help = concat!("Examples:\n  \
        distlab grade paxos --runs 5\n  \
        distlab grade --runs 3 --json results.json\n  \
        distlab grade pbkv --workspace ../submission --timeout 5m",
        exit_status!(
            "a test failed some run (or gave no result: its binary crashed, or the run \
             timed out), or a suite did not build",
            ", a suite's build that ran out of time"
        )))]
    Grade(GradeArgs),
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
        }
    }

    /// Every lab, in course order.
    pub const ALL: [Lab; 5] = [
        Lab::Mapreduce,
        Lab::Viewservice,
        Lab::Pbkv,
        Lab::Paxos,
        Lab::Paxoskv,
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
    /// The directory for sweep.csv and sweep.svg.
    #[arg(long, default_value = "distlab-out")]
    pub out: PathBuf,
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
    /// The workspace to grade (default: the one of the current directory).
    #[arg(long)]
    pub workspace: Option<PathBuf>,
    /// Time limit of each cargo command (listing a suite's tests, which builds it, and each
    /// run), e.g. 20m or 90s: past it distlab kills cargo and its test binaries, and tests
    /// without a result fail that run.
    #[arg(long, default_value = "20m", value_parser = parse_timeout)]
    pub timeout: std::time::Duration,
}

/// A swept parameter and its values.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// Which knob.
    pub name: ParamName,
    /// Its values, in order.
    pub values: Vec<f64>,
}

/// The knobs a sweep can turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamName {
    /// Loss probability.
    Drop,
    /// Number of clients.
    Clients,
    /// Number of servers.
    Servers,
    /// Mean seconds between partitions.
    PartitionEvery,
    /// Mean seconds between crashes.
    CrashEvery,
}

impl ParamName {
    /// The name on the command line and in the CSV header.
    pub fn name(self) -> &'static str {
        match self {
            ParamName::Drop => "drop",
            ParamName::Clients => "clients",
            ParamName::Servers => "servers",
            ParamName::PartitionEvery => "partition-every",
            ParamName::CrashEvery => "crash-every",
        }
    }
}

/// Parses `NAME=V1,V2,...`.
pub fn parse_param(text: &str) -> Result<Param, String> {
    let (name, values) = text
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=V1,V2,... but got {text:?}"))?;
    let name = match name.trim() {
        "drop" => ParamName::Drop,
        "clients" => ParamName::Clients,
        "servers" => ParamName::Servers,
        "partition-every" => ParamName::PartitionEvery,
        "crash-every" => ParamName::CrashEvery,
        other => {
            return Err(format!(
                "unknown parameter {other:?}: use drop, clients, servers, partition-every or crash-every"
            ));
        }
    };
    let values = values
        .split(',')
        .map(|v| {
            v.trim()
                .parse::<f64>()
                .map_err(|_| format!("{v:?} is not a number"))
        })
        .collect::<Result<Vec<f64>, String>>()?;
    for &v in &values {
        let ok = match name {
            ParamName::Drop => (0.0..=1.0).contains(&v),
            ParamName::Clients => (1.0..=64.0).contains(&v) && v.fract() == 0.0,
            ParamName::Servers => (1.0..=9.0).contains(&v) && v.fract() == 0.0,
            ParamName::PartitionEvery | ParamName::CrashEvery => (0.0..=MAX_SECONDS).contains(&v),
        };
        if !ok {
            let range = match name {
                ParamName::Drop => "a probability from 0 to 1".to_owned(),
                ParamName::Clients => "a whole number from 1 to 64".to_owned(),
                ParamName::Servers => "a whole number from 1 to 9".to_owned(),
                ParamName::PartitionEvery | ParamName::CrashEvery => {
                    format!("0 to {MAX_SECONDS} seconds (24 hours)")
                }
            };
            return Err(format!(
                "{v} is out of range for {} (as for --{}: {range})",
                name.name(),
                name.name()
            ));
        }
    }
    Ok(Param { name, values })
}

/// The longest duration any option (or swept interval) takes: 24 hours, in seconds.
pub const MAX_SECONDS: f64 = 24.0 * 3600.0;

/// Parses `10s`, `500ms`, `2m` or a bare number of seconds, from 0 to 24 hours.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 10s or 500ms"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("unknown unit {unit:?} in {text:?}: use ms, s or m")),
    };
    if !(0.0..=MAX_SECONDS).contains(&seconds) {
        return Err(format!("{text:?} is out of range (0 to 24 hours)"));
    }
    Ok(std::time::Duration::from_secs_f64(seconds))
}

/// Parses a time limit: a duration as for [`parse_duration`], more than zero.
pub fn parse_timeout(text: &str) -> Result<std::time::Duration, String> {
    let timeout = parse_duration(text)?;
    if timeout.is_zero() {
        return Err(format!(
            "{text:?} is no time at all: a time limit must be more than 0"
        ));
    }
    Ok(timeout)
}

/// Parses a probability between 0 and 1.
pub fn parse_fraction(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("{text:?} is not a probability between 0 and 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_params_and_durations() {
        assert_eq!(
            parse_param("drop=0,0.1"),
            Ok(Param {
                name: ParamName::Drop,
                values: vec![0.0, 0.1]
            })
        );
        assert!(parse_param("drop=2").is_err());
        assert!(parse_param("speed=1").is_err());
        assert!(parse_param("clients=1.5").is_err());
        // Swept intervals have the options' limits (they panicked `Duration` before).
        for bad in [
            "crash-every=1e20",
            "partition-every=1e20",
            "crash-every=86401",
        ] {
            let err = parse_param(bad).expect_err(bad);
            assert!(
                err.contains("out of range for") && err.contains("24 hours"),
                "{err}"
            );
        }
        assert!(parse_param("crash-every=nan").is_err());
        assert!(parse_param("partition-every=-1").is_err());
        assert!(parse_param("crash-every=0,86400").is_ok());
        assert_eq!(
            parse_duration("500ms"),
            Ok(std::time::Duration::from_millis(500))
        );
        assert_eq!(parse_duration("2"), Ok(std::time::Duration::from_secs(2)));
        assert!(parse_duration("2h").is_err());
        assert!(parse_fraction("1.1").is_err());
        assert_eq!(
            parse_timeout("20m"),
            Ok(std::time::Duration::from_secs(1200))
        );
        assert!(parse_timeout("0s").is_err());
    }
}
