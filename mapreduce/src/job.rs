//! A job: what to run on what, what can go wrong, and what comes out.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::protocol::{MAX_TASKS, Phase, TaskError};
use crate::split::{self, Split};
use crate::storage::{Storage, StorageError};

/// What a job computes: application `app` on `inputs`, in `map_tasks` map tasks (M) and
/// `reduce_tasks` reduce tasks (R).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobSpec {
    /// The application's name ([`App::name`](crate::App::name)).
    pub app: String,
    /// The input files (paths in real mode, names in a [`MemStore`](crate::MemStore)).
    pub inputs: Vec<String>,
    /// M: at least one per input file, at most [`MAX_TASKS`].
    pub map_tasks: usize,
    /// R: at least one, at most [`MAX_TASKS`].
    pub reduce_tasks: usize,
}

/// Why a job failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobError {
    /// The job has no input file.
    NoInput,
    /// M is smaller than the number of input files (a split never spans two files).
    TooFewMapTasks {
        /// M asked for.
        map_tasks: usize,
        /// Number of input files.
        files: usize,
    },
    /// R is zero.
    NoReduceTasks,
    /// M or R is past [`MAX_TASKS`].
    TooManyTasks {
        /// The phase with too many.
        phase: Phase,
        /// How many were asked for.
        tasks: usize,
    },
    /// An input file cannot be used.
    Input(StorageError),
    /// The job's directory could not be made, read or removed.
    Storage(StorageError),
    /// A task failed in a way that running it again would not fix (bad input, unknown
    /// application, corrupt intermediate data).
    Task {
        /// The task's phase.
        phase: Phase,
        /// The task's number.
        index: usize,
        /// The worker that reported it.
        worker: String,
        /// What went wrong.
        error: TaskError,
    },
    /// A task's executions reported [`MasterConfig::task_error_limit`] errors that are not
    /// fatal (see [`TaskError::is_fatal`]): retrying is not helping.
    ///
    /// [`MasterConfig::task_error_limit`]: crate::MasterConfig::task_error_limit
    TaskFailedRepeatedly {
        /// The task's phase.
        phase: Phase,
        /// The task's number.
        index: usize,
        /// How many of its executions failed so.
        failures: u32,
        /// The worker that reported the last error.
        worker: String,
        /// The last error.
        error: TaskError,
    },
    /// The final outputs could not be merged.
    Merge(TaskError),
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobError::NoInput => write!(f, "the job has no input files"),
            JobError::TooFewMapTasks { map_tasks, files } => write!(
                f,
                "{map_tasks} map tasks for {files} input files: need at least one map task per file"
            ),
            JobError::NoReduceTasks => write!(f, "a job needs at least one reduce task"),
            JobError::TooManyTasks { phase, tasks } => write!(
                f,
                "{tasks} {phase} tasks: more than the limit of {MAX_TASKS}"
            ),
            JobError::Input(e) => write!(f, "cannot read input {e}"),
            JobError::Storage(e) => write!(f, "job directory: {e}"),
            JobError::Task {
                phase,
                index,
                worker,
                error,
            } => write!(f, "{phase} task {index} failed on worker {worker}: {error}"),
            JobError::TaskFailedRepeatedly {
                phase,
                index,
                failures,
                worker,
                error,
            } => write!(
                f,
                "{phase} task {index} failed {failures} times, last on worker {worker}: {error}"
            ),
            JobError::Merge(e) => write!(f, "cannot merge the outputs: {e}"),
        }
    }
}

impl std::error::Error for JobError {}

/// What a finished job produced, and what it took.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct JobReport {
    /// The output: one `(key, value)` per distinct key, sorted by key.
    pub output: Vec<(String, String)>,
    /// Successful task executions per worker (duplicates included).
    pub completed_by: BTreeMap<String, u64>,
    /// Task executions started (first attempts, retries and backups).
    pub attempts: u64,
    /// Executions that failed: lost calls, dead or silent workers.
    pub failed_attempts: u64,
    /// Backup executions started for tasks still running near the end of a phase.
    pub backups: u64,
    /// Completions of tasks already done (a backup's twin, a retried task whose first reply
    /// was lost): ignored, as they must be.
    pub duplicates: u64,
    /// Time from start to merged output (virtual time in a simulation).
    pub elapsed: Duration,
}

/// A summary: the output's size rather than the output, which may be huge.
impl fmt::Debug for JobReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobReport")
            .field("output", &format_args!("{} pairs", self.output.len()))
            .field("completed_by", &self.completed_by)
            .field("attempts", &self.attempts)
            .field("failed_attempts", &self.failed_attempts)
            .field("backups", &self.backups)
            .field("duplicates", &self.duplicates)
            .field("elapsed", &self.elapsed)
            .finish()
    }
}

impl JobReport {
    /// The output as text: one `key: value` line per key (Go's lab format).
    pub fn output_text(&self) -> String {
        output_text(&self.output)
    }
}

/// `key: value` lines.
pub fn output_text(output: &[(String, String)]) -> String {
    let mut text = String::new();
    for (key, value) in output {
        text.push_str(key);
        text.push_str(": ");
        text.push_str(value);
        text.push('\n');
    }
    text
}

/// Checks `spec` and cuts its input into M splits (reading only the files' sizes).
pub fn plan(store: &dyn Storage, spec: &JobSpec) -> Result<Vec<Split>, JobError> {
    if spec.inputs.is_empty() {
        return Err(JobError::NoInput);
    }
    if spec.map_tasks < spec.inputs.len() {
        return Err(JobError::TooFewMapTasks {
            map_tasks: spec.map_tasks,
            files: spec.inputs.len(),
        });
    }
    if spec.reduce_tasks == 0 {
        return Err(JobError::NoReduceTasks);
    }
    for (phase, tasks) in [
        (Phase::Map, spec.map_tasks),
        (Phase::Reduce, spec.reduce_tasks),
    ] {
        if tasks > MAX_TASKS {
            return Err(JobError::TooManyTasks { phase, tasks });
        }
    }
    let mut files = Vec::with_capacity(spec.inputs.len());
    for file in &spec.inputs {
        let size = store.input_len(file).map_err(JobError::Input)?;
        files.push((file.clone(), size));
    }
    Ok(split::plan(&files, spec.map_tasks))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemStore;

    /// M or R past the limit is refused before anything is sized by it.
    #[test]
    fn absurd_task_counts_are_refused() {
        let store = MemStore::new();
        store.add_input("in.txt", "a b\n");
        let spec = |map_tasks, reduce_tasks| JobSpec {
            app: "wc".into(),
            inputs: vec!["in.txt".into()],
            map_tasks,
            reduce_tasks,
        };
        for (m, r, phase, tasks) in [
            (usize::MAX, 1, Phase::Map, usize::MAX),
            (MAX_TASKS + 1, 1, Phase::Map, MAX_TASKS + 1),
            (1, usize::MAX, Phase::Reduce, usize::MAX),
        ] {
            let error = plan(&store, &spec(m, r)).expect_err("refused");
            assert_eq!(error, JobError::TooManyTasks { phase, tasks });
            assert!(error.to_string().contains("limit"), "{error}");
        }
        assert_eq!(
            plan(&store, &spec(MAX_TASKS, MAX_TASKS)).map(|s| s.len()),
            Ok(MAX_TASKS)
        );
    }
}
