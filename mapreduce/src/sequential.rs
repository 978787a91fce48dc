//! Sequential mode: every task of a job, one after the other, in this process.
//!
//! The reference the distributed mode is checked against: the same tasks, the same files,
//! no network and no failures.

use crate::job::{JobError, JobSpec, plan};
use crate::protocol::Task;
use crate::storage::Storage;
use crate::{App, task};

/// Runs job `spec` with `app` on `store`: M map tasks, then R reduce tasks, then the merge.
/// Returns the output sorted by key. The job's files are removed afterwards.
pub fn run_sequential(
    app: &dyn App,
    store: &dyn Storage,
    spec: &JobSpec,
) -> Result<Vec<(String, String)>, JobError> {
    let splits = plan(store, spec)?;
    let job = store.create_job().map_err(JobError::Storage)?;
    let result = run_tasks(app, store, &job, splits, spec.reduce_tasks);
    let cleanup = store.remove_job(&job).map_err(JobError::Storage);
    let output = result?;
    cleanup?;
    Ok(output)
}

fn run_tasks(
    app: &dyn App,
    store: &dyn Storage,
    job: &str,
    splits: Vec<crate::Split>,
    reduce_tasks: usize,
) -> Result<Vec<(String, String)>, JobError> {
    let map_tasks = splits.len();
    let maps = splits
        .into_iter()
        .enumerate()
        .map(|(index, split)| Task::Map {
            index,
            split,
            reduce_tasks,
        });
    let reduces = (0..reduce_tasks).map(|index| Task::Reduce { index, map_tasks });
    for task in maps.chain(reduces) {
        task::run(app, store, job, &task).map_err(|error| JobError::Task {
            phase: task.phase(),
            index: task.index(),
            worker: "(sequential)".into(),
            error,
        })?;
    }
    task::merge_outputs(store, job, reduce_tasks).map_err(JobError::Merge)
}
