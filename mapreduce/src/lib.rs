//! # mapreduce: the MapReduce paper's design on labrpc (6.824 lab 1, 2015)
//!
//! A job applies a user's [`App`] — a map function and a reduce function (paper §2) — to a
//! set of input files:
//!
//! ```text
//!   inputs --split--> M map tasks --partition by fnv1a(key) % R--> M×R intermediate files
//!          --> R reduce tasks --> R sorted outputs --merge--> output sorted by key
//! ```
//!
//! - [`run_sequential`] runs every task in this process, one after the other: the reference.
//! - A [`Master`] and [`Worker`]s run the same tasks over RPC, on the simulated network of
//!   [`labrpc`] or on real TCP ([`real`]). Workers register; the master hands out map tasks,
//!   waits for all, then reduce tasks; it re-runs the tasks of workers that die or stop
//!   answering, ignores duplicate completions, and starts backup executions of the last
//!   running tasks of a phase (§3.6). See [`master`] for the rules.
//! - Data goes through a shared [`Storage`]: a job directory on disk ([`DirStore`]), or the
//!   in-memory [`MemStore`] in simulations, which must not block on file I/O.
//! - Two applications ship: [`WordCount`] and [`InvertedIndex`].

mod app;
mod apps;
pub mod job;
pub mod master;
pub mod partition;
pub mod protocol;
pub mod real;
mod sequential;
pub mod split;
pub mod storage;
pub mod task;
pub mod worker;

pub use app::{App, builtin_apps};
pub use apps::{InvertedIndex, WordCount, words};
pub use job::{JobError, JobReport, JobSpec};
pub use master::{
    BACKUP_AFTER_MEAN_TIMES, CONNECT_TIMEOUT, Connect, Event, Master, MasterConfig,
    TASK_ERROR_LIMIT,
};
pub use protocol::{MAX_TASKS, Phase, TaskError};
pub use sequential::run_sequential;
pub use split::Split;
pub use storage::{DirStore, MemStore, SplitBytes, Storage, StorageError};
pub use worker::{Exit, Worker, WorkerConfig};
