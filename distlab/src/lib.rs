//! # distlab: the labs from the command line
//!
//! One binary for the three kinds of people who use the labs without writing Rust:
//!
//! - `distlab run LAB`: a chaos scenario in the simulation — servers, clients, partitions,
//!   crashes, an unreliable network — with a live summary, a history check, the network trace
//!   and a picture of the history;
//! - `distlab replay --seed N LAB`: the same run again, or one test of the lab under one seed;
//! - `distlab sweep LAB --param drop=0,0.1,0.2`: a grid of one fault parameter over several
//!   seeds, as a CSV and a plot of latency percentiles and throughput;
//! - `distlab soak LAB --seeds N`: N seeds of the scenario on every core, each failed run
//!   (violation, blocked client, panic, timeout) reported with its replay command;
//! - `distlab grade [LAB...] --runs N`: the labs' test suites run N times with different seeds,
//!   scored, optionally as Gradescope's `results.json`; with `--submission DIR`, a student's
//!   files graded against the staff's tests; with `--gradescope-bundle DIR`, the autograder;
//! - `distlab handout --out DIR [LAB...]`: the student repository, each lab's solution cut
//!   out of its student files (see [`coursework`]);
//! - `distlab serve LAB ...`, `distlab kv ... get|put|append` and `distlab status ADDR`: the
//!   labs for real, each server a process listening on TCP with its disk in a directory (see
//!   [`real`]).
//!
//! Everything simulated is deterministic: the same arguments print the same bytes. The exit
//! status says what happened: see [`exit`].

/// The exit statuses of the `distlab` command (0 is success).
pub mod exit {
    /// A run failed (its check found a violation, a client was left blocked, the lab panicked,
    /// or the run passed its time limit), a test failed (or gave no result), or a suite did
    /// not build.
    pub const FAILED: u8 = 1;
    /// Bad arguments: clap's errors, and arguments that cannot work together.
    pub const USAGE: u8 = 2;
    /// distlab could not do its job: a directory or file it could not write, cargo it could
    /// not start, a suite's build that ran out of time.
    pub const ERROR: u8 = 3;
}

pub mod chaos;
pub mod cli;
pub mod coursework;
pub mod grade;
pub mod labs;
pub mod output;
pub mod real;
pub mod scenario;
pub mod soak;
pub mod sweep;
pub mod trace_view;
