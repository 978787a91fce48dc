//! The application interface: what a job computes, supplied by the user (paper §2.1).
//!
//! The framework knows nothing of words or documents. An [`App`] says how to turn one piece
//! of input into key/value pairs ([`App::map`]) and how to turn all the values of one key into
//! one output value ([`App::reduce`]); the framework does the rest: splitting the input,
//! partitioning, grouping by key, running tasks on workers and surviving their failures.

use std::sync::Arc;

/// A MapReduce application.
///
/// Both functions must be *deterministic* (the same input gives the same output): the master
/// may run a task twice (a failed worker, a backup task), and the paper's semantics (§3.3) —
/// the output equals that of one sequential run — rests on this.
pub trait App: Send + Sync {
    /// The name workers know this application by (a task names the application to run).
    fn name(&self) -> &str;

    /// Map: reads `contents`, a piece of the input document `document`, and calls
    /// `emit(key, value)` for each intermediate pair.
    fn map(&self, document: &str, contents: &str, emit: &mut dyn FnMut(&str, &str));

    /// Reduce: the output value for `key`, given every value emitted for it (in no
    /// particular order, which must not matter).
    fn reduce(&self, key: &str, values: &[String]) -> String;

    /// The combiner (paper §4.3): folds some of a key's values on the map side, before they
    /// are written, to shrink the intermediate data. It must keep `reduce` unchanged:
    /// `reduce(k, combine(k, vs) ++ ws) == reduce(k, vs ++ ws)`. The default keeps the
    /// values as they are.
    fn combine(&self, key: &str, values: Vec<String>) -> Vec<String> {
        let _ = key;
        values
    }
}

/// The applications this crate ships, by name: what a worker of the command-line tool can
/// run. `wc` is [`WordCount`](crate::WordCount), `ii` [`InvertedIndex`](crate::InvertedIndex).
pub fn builtin_apps() -> Vec<Arc<dyn App>> {
    vec![Arc::new(crate::WordCount), Arc::new(crate::InvertedIndex)]
}
