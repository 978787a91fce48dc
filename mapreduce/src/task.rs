//! Running one task: the work a worker does, and the sequential mode does in a loop.
//!
//! A map task's output is R files `mr-M-r`, one per reduce partition, each a sorted list of
//! `(key, values)`; a reduce task's output is the file `mr-out-r`, a sorted list of
//! `(key, value)`. Both are deterministic functions of the task, so running a task twice
//! writes the same bytes: what makes duplicate and backup executions harmless (§3.3).

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use crate::App;
use crate::partition::{Fnv64, partition};
use crate::protocol::{MAX_TASKS, Task, TaskError};
use crate::storage::Storage;

/// A key's values are folded by the combiner whenever this many pile up, which bounds a map
/// task's memory by its distinct keys rather than its input.
const COMBINE_EVERY: usize = 64;

/// Name of the intermediate file of map task `map` for reduce partition `reduce`.
pub fn intermediate_name(map: usize, reduce: usize) -> String {
    format!("mr-{map}-{reduce}")
}

/// Name of the output file of reduce task `reduce`.
pub fn output_name(reduce: usize) -> String {
    format!("mr-out-{reduce}")
}

/// Checks what a task says before anything is sized by it: it comes from the network.
fn check(task: &Task) -> Result<(), TaskError> {
    let invalid = |reason: String| Err(TaskError::Invalid { reason });
    match *task {
        Task::Map {
            reduce_tasks: 0, ..
        } => invalid("a map task for 0 reduce tasks".into()),
        Task::Map { reduce_tasks, .. } if reduce_tasks > MAX_TASKS => invalid(format!(
            "a map task for {reduce_tasks} reduce tasks, more than the limit of {MAX_TASKS}"
        )),
        Task::Reduce { map_tasks, .. } if map_tasks > MAX_TASKS => invalid(format!(
            "a reduce task of {map_tasks} map tasks, more than the limit of {MAX_TASKS}"
        )),
        Task::Map { .. } | Task::Reduce { .. } => Ok(()),
    }
}

/// Runs `task` of job `job` with `app`, reading and writing `store`.
pub fn run(app: &dyn App, store: &dyn Storage, job: &str, task: &Task) -> Result<(), TaskError> {
    check(task)?;
    match task {
        Task::Map {
            index,
            split,
            reduce_tasks,
        } => {
            let lines = store.read_split(split)?;
            let text = std::str::from_utf8(&lines.bytes).map_err(|e| TaskError::NotUtf8 {
                file: split.file.clone(),
                offset: lines.begin.saturating_add(e.valid_up_to() as u64),
            })?;
            for (reduce, data) in map(app, &split.file, text, *reduce_tasks)
                .into_iter()
                .enumerate()
            {
                store.write(job, &intermediate_name(*index, reduce), &data)?;
            }
            Ok(())
        }
        Task::Reduce { index, map_tasks } => {
            // Each map task's part is sorted by key: concatenated in map order, a stable sort
            // merges the runs and keeps a key's values in map order.
            let mut pairs: Vec<(String, Vec<String>)> = Vec::new();
            for map in 0..*map_tasks {
                let name = intermediate_name(map, *index);
                let part: Vec<(String, Vec<String>)> = decode(&name, &store.read(job, &name)?)?;
                pairs.extend(part);
            }
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            let mut output: Vec<(String, String)> = Vec::new();
            let mut pairs = pairs.into_iter().peekable();
            while let Some((key, mut values)) = pairs.next() {
                while let Some((_, more)) = pairs.next_if(|(next, _)| *next == key) {
                    values.extend(more);
                }
                let value = app.reduce(&key, &values);
                output.push((key, value));
            }
            store.write(job, &output_name(*index), &encode(&output))?;
            Ok(())
        }
    }
}

/// Maps `text` and returns the encoded partitions, combined.
///
/// Pairs are grouped in a hash map with a fixed hasher (FNV-1a, not std's randomly keyed
/// one), which is faster than a tree for many words; its order is never looked at: each
/// partition is sorted before it is written.
fn map(app: &dyn App, document: &str, text: &str, reduce_tasks: usize) -> Vec<Vec<u8>> {
    let mut groups: HashMap<String, Vec<String>, BuildHasherDefault<Fnv64>> = HashMap::default();
    app.map(
        document,
        text,
        &mut |key, value| match groups.get_mut(key) {
            Some(values) => {
                values.push(value.to_owned());
                if values.len() >= COMBINE_EVERY {
                    *values = app.combine(key, std::mem::take(values));
                }
            }
            None => {
                groups.insert(key.to_owned(), vec![value.to_owned()]);
            }
        },
    );
    let mut parts: Vec<Vec<(String, Vec<String>)>> = vec![Vec::new(); reduce_tasks];
    for (key, mut values) in groups {
        if values.len() > 1 {
            values = app.combine(&key, values);
        }
        parts[partition(&key, reduce_tasks)].push((key, values));
    }
    parts
        .into_iter()
        .map(|mut part| {
            sort_by_key(&mut part);
            encode(&part)
        })
        .collect()
}

/// Sorts `pairs` by key, bytewise. Comparing two `String`s reads bytes behind two pointers,
/// cache misses in a part of tens of thousands of keys, a dozen times per key; so keys are
/// first sorted by their first 8 bytes, read once per key, and only keys that share those
/// are compared in full.
fn sort_by_key<V>(pairs: &mut [(String, V)]) {
    pairs.sort_by_cached_key(|(key, _)| prefix(key));
    for same in pairs.chunk_by_mut(|a, b| prefix(&a.0) == prefix(&b.0)) {
        if same.len() > 1 {
            same.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        }
    }
}

/// The first 8 bytes of `key`, zero-padded, as a big-endian integer: if two keys' prefixes
/// differ, they are in the keys' bytewise order (a key's padding sorts before any byte but
/// zero, and a real zero byte ties with padding, to be settled in full).
fn prefix(key: &str) -> u64 {
    let mut eight = [0u8; 8];
    let n = key.len().min(8);
    eight[..n].copy_from_slice(&key.as_bytes()[..n]);
    u64::from_be_bytes(eight)
}

/// Reads the R outputs of job `job` and merges them into one list sorted by key.
pub fn merge_outputs(
    store: &dyn Storage,
    job: &str,
    reduce_tasks: usize,
) -> Result<Vec<(String, String)>, TaskError> {
    let mut all = Vec::new();
    for reduce in 0..reduce_tasks {
        let name = output_name(reduce);
        let part: Vec<(String, String)> = decode(&name, &store.read(job, &name)?)?;
        all.extend(part);
    }
    // Partitions hold disjoint keys, each sorted: one sort of the whole gives the order, and
    // the stable sort merges the sorted runs it finds rather than starting over.
    all.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(all)
}

fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Strings, vectors and maps always encode; a failure would be a bug in postcard.
    postcard::to_stdvec(value).unwrap_or_else(|e| panic!("cannot encode task data: {e}"))
}

fn decode<T: serde::de::DeserializeOwned>(name: &str, bytes: &[u8]) -> Result<T, TaskError> {
    postcard::from_bytes(bytes).map_err(|e| TaskError::Corrupt {
        file: name.into(),
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::split::Split;
    use crate::{MemStore, WordCount};

    /// A non-UTF-8 byte is named by its offset in the file, also when the split starts in
    /// the middle of a line (its text begins at the next line).
    #[test]
    fn a_bad_byte_is_named_by_its_offset_in_the_file() {
        let store = MemStore::new();
        store.add_input("in.txt", b"ab\ncd\xff\n".to_vec());
        let job = store.create_job().expect("a job");
        for start in [0, 1, 2, 3] {
            let task = Task::Map {
                index: 0,
                split: Split {
                    file: "in.txt".into(),
                    start,
                    end: 7,
                },
                reduce_tasks: 1,
            };
            match run(&WordCount, &store, &job, &task) {
                Err(TaskError::NotUtf8 { offset, .. }) => assert_eq!(offset, 5, "start {start}"),
                other => panic!("start {start}: {other:?}"),
            }
        }
    }

    /// A task comes from the network: one that sizes something absurdly is refused with a
    /// clear error, and extreme split bounds never panic.
    #[test]
    fn tasks_with_extreme_numbers_are_refused_or_run() {
        let store = MemStore::new();
        store.add_input("in.txt", "a b a\n");
        let job = store.create_job().expect("a job");
        let run = |task: Task| run(&WordCount, &store, &job, &task);
        let map = |start, end, reduce_tasks| Task::Map {
            index: usize::MAX,
            split: Split {
                file: "in.txt".into(),
                start,
                end,
            },
            reduce_tasks,
        };
        for reduce_tasks in [0, MAX_TASKS + 1, usize::MAX] {
            let error = run(map(0, u64::MAX, reduce_tasks)).expect_err("refused");
            assert!(matches!(error, TaskError::Invalid { .. }), "{error}");
            assert!(error.to_string().contains("reduce tasks"), "{error}");
        }
        for map_tasks in [MAX_TASKS + 1, usize::MAX] {
            let task = Task::Reduce {
                index: 0,
                map_tasks,
            };
            let error = run(task).expect_err("refused");
            assert!(matches!(error, TaskError::Invalid { .. }), "{error}");
            assert!(error.to_string().contains("limit"), "{error}");
        }
        // Extreme but harmless: the split holds what the file has from there on.
        run(map(u64::MAX - 1, u64::MAX, 1)).expect("an empty split");
        run(map(u64::MAX, 0, 1)).expect("an empty split");
        run(map(0, u64::MAX, 1)).expect("the whole file");
        let part = store
            .read(&job, &intermediate_name(usize::MAX, 0))
            .expect("the map output");
        let pairs: Vec<(String, Vec<String>)> = decode("part", &part).expect("decodes");
        assert_eq!(pairs.len(), 2, "{pairs:?}");
        run(Task::Reduce {
            index: usize::MAX,
            map_tasks: 0,
        })
        .expect("a reduce of nothing");
    }

    #[test]
    fn sort_by_key_sorts_bytewise() {
        let keys = [
            "",
            "\0",
            "a",
            "a\0",
            "a\0\0",
            "abcdefgh",
            "abcdefghi",
            "abcdefgh\0",
            "abcdefga",
            "abcdefghij",
            "abcdefghia",
            "b",
            "Zebra",
            "ébène",
            "\u{7f}",
            "aaaaaaaa\u{ff}",
            "aa",
        ];
        let mut want: Vec<&str> = keys.to_vec();
        want.sort();
        for rotation in 0..keys.len() {
            let mut pairs: Vec<(String, usize)> = keys.iter().map(|k| (k.to_string(), 0)).collect();
            pairs.rotate_left(rotation);
            pairs.reverse();
            sort_by_key(&mut pairs);
            let got: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(got, want);
        }
    }
}
