//! What crosses the network: tasks, their errors, and the master's and workers' services.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::split::Split;
use crate::storage::StorageError;

/// The two phases of a job: every map task finishes before any reduce task starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Phase {
    /// Map tasks: read a split, write R partitions of intermediate pairs.
    Map,
    /// Reduce tasks: read partition r of every map task, write output r.
    Reduce,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Map => "map",
            Phase::Reduce => "reduce",
        })
    }
}

/// The most tasks a phase may have, M or R: about a million, five times the paper's
/// largest M (200,000, §3.5; its R was 5,000). A master refuses a job past it, and a worker
/// a task that names more ([`TaskError::Invalid`]): a task comes from the network, and its
/// R sizes the map task's table of partitions.
pub const MAX_TASKS: usize = 1 << 20;

/// One task of a job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Task {
    /// Map task `index`: map `split`, partition the pairs over `reduce_tasks`.
    Map {
        /// The task's number, `0..M`.
        index: usize,
        /// The input to map.
        split: Split,
        /// R: how many partitions to write, `1..=`[`MAX_TASKS`].
        reduce_tasks: usize,
    },
    /// Reduce task `index`: reduce partition `index` of all `map_tasks` map outputs.
    Reduce {
        /// The task's number, `0..R`.
        index: usize,
        /// M: how many map outputs to read, at most [`MAX_TASKS`].
        map_tasks: usize,
    },
}

impl Task {
    /// The phase this task belongs to.
    pub fn phase(&self) -> Phase {
        match self {
            Task::Map { .. } => Phase::Map,
            Task::Reduce { .. } => Phase::Reduce,
        }
    }

    /// The task's number within its phase.
    pub fn index(&self) -> usize {
        match self {
            Task::Map { index, .. } | Task::Reduce { index, .. } => *index,
        }
    }
}

/// A request to run one task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskArgs {
    /// The job's name in the shared storage (its directory in real mode).
    pub job: String,
    /// The application to run, by [`App::name`](crate::App::name).
    pub app: String,
    /// The task.
    pub task: Task,
}

/// Why a worker could not run a task.
///
/// Some errors are the task's own: the same input, job and application fail the same way on
/// any worker, and fail the job ([`TaskError::is_fatal`]). The others belong to one worker
/// or one moment, and the task runs again on another worker, a bounded number of times
/// ([`MasterConfig::task_error_limit`](crate::MasterConfig::task_error_limit)):
///
/// | error | fatal | why |
/// |---|---|---|
/// | `UnknownApp`, `Invalid` | yes | the job asks for what no worker does |
/// | `NotUtf8`, `Corrupt` | yes | the bytes in shared storage are what they are |
/// | `Storage(NotFound)`, `Storage(NotAJob)` | yes | an input or job file is missing from the storage every worker shares |
/// | `Storage(Io)` | no | disk full, too many open files, a network file system's hiccup |
/// | `Crashed` | no | a panic, or the task's thread lost; if the application panics on this input every time, the limit ends the job |
/// | `Stopped` | no | the worker is shutting down; not counted against the task |
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskError {
    /// The worker does not know the application.
    UnknownApp {
        /// The name asked for.
        app: String,
    },
    /// Reading or writing a file failed.
    Storage(StorageError),
    /// An input split is not UTF-8 text.
    NotUtf8 {
        /// The input file.
        file: String,
        /// The offset in the file of the first bad byte.
        offset: u64,
    },
    /// An intermediate or output file could not be decoded.
    Corrupt {
        /// The file's name in the job.
        file: String,
        /// The decoder's message.
        detail: String,
    },
    /// The worker is shutting down.
    Stopped,
    /// The task's thread panicked (a bug in the application).
    Crashed {
        /// The panic's message, as far as known.
        detail: String,
    },
    /// The task makes no sense (no master sends such a task): R is 0, or M or R is past
    /// [`MAX_TASKS`].
    Invalid {
        /// What is wrong with it.
        reason: String,
    },
}

impl TaskError {
    /// Whether the error is the input's or the job's, so that running the task again, on
    /// this worker or another, would fail the same way. Such an error fails the job. See
    /// the table at [`TaskError`].
    pub fn is_fatal(&self) -> bool {
        match self {
            TaskError::UnknownApp { .. }
            | TaskError::Invalid { .. }
            | TaskError::NotUtf8 { .. }
            | TaskError::Corrupt { .. }
            | TaskError::Storage(StorageError::NotFound { .. } | StorageError::NotAJob { .. }) => {
                true
            }
            TaskError::Storage(StorageError::Io { .. })
            | TaskError::Crashed { .. }
            | TaskError::Stopped => false,
        }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::UnknownApp { app } => write!(f, "the worker has no application {app:?}"),
            TaskError::Storage(e) => write!(f, "{e}"),
            TaskError::NotUtf8 { file, offset } => {
                write!(f, "{file}: not UTF-8 text (bad byte at offset {offset})")
            }
            TaskError::Corrupt { file, detail } => {
                write!(f, "{file}: corrupt data: {detail}")
            }
            TaskError::Stopped => write!(f, "the worker is shutting down"),
            TaskError::Crashed { detail } => write!(f, "the task crashed: {detail}"),
            TaskError::Invalid { reason } => write!(f, "invalid task: {reason}"),
        }
    }
}

impl std::error::Error for TaskError {}

impl From<StorageError> for TaskError {
    fn from(e: StorageError) -> Self {
        TaskError::Storage(e)
    }
}

/// The master's service: workers announce themselves.
#[tarpc::service]
pub trait MasterService {
    /// "Worker `worker` is ready for tasks." `worker` is how the master reaches it: its node
    /// name on the simulated network, its `host:port` on TCP. Workers repeat it periodically,
    /// so a lost registration, or a master that gave up on a worker too soon, heals.
    async fn register(worker: String);
}

/// A worker's service: the master hands out tasks and checks the worker is alive.
#[tarpc::service]
pub trait WorkerService {
    /// Runs a task to completion: its output files are written when this returns `Ok`.
    async fn do_task(args: TaskArgs) -> Result<(), TaskError>;
    /// Liveness check (paper §3.3: "the master pings every worker periodically"); returns
    /// how many tasks the worker has completed.
    async fn ping() -> u64;
    /// Stops the worker after the job (Go's `Shutdown`); returns its completed task count.
    async fn shutdown() -> u64;
}

/// A client end to a master.
pub type MasterEnd = labrpc::ClientEnd<MasterServiceRequest, MasterServiceResponse>;
/// A client end to a worker.
pub type WorkerEnd = labrpc::ClientEnd<WorkerServiceRequest, WorkerServiceResponse>;

// ----- what the messages say in a recorded trace (labrpc::summary) ----------------------

impl labrpc::Summarize for MasterServiceRequest {
    fn summary(&self) -> labrpc::Summary {
        let MasterServiceRequest::Register { worker } = self;
        labrpc::Summary::new("register").field("worker", worker.as_str())
    }
}

impl labrpc::Summarize for MasterServiceResponse {
    fn summary(&self) -> labrpc::Summary {
        labrpc::Summary::new("ok")
    }
}

impl labrpc::Summarize for WorkerServiceRequest {
    /// `do_task map task=3`: the phase and the task's number as `task`.
    fn summary(&self) -> labrpc::Summary {
        match self {
            WorkerServiceRequest::DoTask { args } => {
                let phase = args.task.phase();
                (labrpc::Summary::new(&format!("do_task {phase}")))
                    .field("task", args.task.index())
                    .field("phase", phase.to_string())
            }
            WorkerServiceRequest::Ping {} => labrpc::Summary::new("ping"),
            WorkerServiceRequest::Shutdown {} => labrpc::Summary::new("shutdown"),
        }
    }
}

impl labrpc::Summarize for WorkerServiceResponse {
    fn summary(&self) -> labrpc::Summary {
        match self {
            WorkerServiceResponse::DoTask(Ok(())) => labrpc::Summary::new("done"),
            WorkerServiceResponse::DoTask(Err(e)) => {
                labrpc::Summary::new("failed").field("error", e.to_string())
            }
            WorkerServiceResponse::Ping(done) | WorkerServiceResponse::Shutdown(done) => {
                labrpc::Summary::new("ok").field("completed", *done)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule of [`TaskError`]'s table: the task's own errors are fatal, a worker's or a
    /// moment's are not.
    #[test]
    fn only_errors_that_retrying_cannot_fix_are_fatal() {
        let text = || String::from("x");
        let fatal = [
            TaskError::UnknownApp { app: text() },
            TaskError::Invalid { reason: text() },
            TaskError::NotUtf8 {
                file: text(),
                offset: 0,
            },
            TaskError::Corrupt {
                file: text(),
                detail: text(),
            },
            TaskError::Storage(StorageError::NotFound { path: text() }),
            TaskError::Storage(StorageError::NotAJob { path: text() }),
        ];
        let retried = [
            TaskError::Storage(StorageError::Io {
                path: text(),
                detail: text(),
            }),
            TaskError::Crashed { detail: text() },
            TaskError::Stopped,
        ];
        for error in fatal {
            assert!(error.is_fatal(), "{error:?}");
        }
        for error in retried {
            assert!(!error.is_fatal(), "{error:?}");
        }
    }
}
