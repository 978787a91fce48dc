//! The documents of the application tests, and the output of each application on them,
//! found without the crate's code. Shared by `tests/apps.rs` and `tests/distributed_apps.rs`
//! (each includes this file by path).
#![allow(dead_code)] // each test file uses part of it

use mapreduce::{JobSpec, MemStore};
use std::collections::{BTreeMap, BTreeSet};

/// The test documents: three short texts, with Unicode words.
pub const DOCUMENTS: [(&str, &str); 3] = [
    ("river.txt", include_str!("../data/river.txt")),
    ("winter.txt", include_str!("../data/winter.txt")),
    ("ledger.txt", include_str!("../data/ledger.txt")),
];

/// A store holding the documents as inputs.
pub fn store() -> MemStore {
    let store = MemStore::new();
    for (name, text) in DOCUMENTS {
        store.add_input(name, text);
    }
    store
}

/// A job of application `app` over the documents.
pub fn spec(app: &str, map_tasks: usize, reduce_tasks: usize) -> JobSpec {
    JobSpec {
        app: app.into(),
        inputs: DOCUMENTS.iter().map(|(name, _)| name.to_string()).collect(),
        map_tasks,
        reduce_tasks,
    }
}

/// The words of `text`, found character by character, without the crate's code.
pub fn plain_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphabetic() {
            word.push(c);
        } else if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Word count's output on the documents: each word and how often it occurs.
pub fn plain_word_count() -> Vec<(String, String)> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for (_, text) in DOCUMENTS {
        for word in plain_words(text) {
            *counts.entry(word).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .map(|(w, n)| (w, n.to_string()))
        .collect()
}

/// The inverted index's output on the documents: each word, the number of documents that
/// hold it and their names.
pub fn plain_inverted_index() -> Vec<(String, String)> {
    let mut index: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for (name, text) in DOCUMENTS {
        for word in plain_words(text) {
            index.entry(word).or_default().insert(name);
        }
    }
    index
        .into_iter()
        .map(|(w, docs)| {
            let docs: Vec<&str> = docs.into_iter().collect();
            (w, format!("{} {}", docs.len(), docs.join(",")))
        })
        .collect()
}
