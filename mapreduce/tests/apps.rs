//! Word count and inverted index on real text, sequential and distributed, against an
//! independent, straightforward count.

mod common;

use common::*;
use labrpc::Network;
use mapreduce::{
    InvertedIndex, JobSpec, Master, MasterConfig, MemStore, WordCount, WorkerConfig, run_sequential,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const DOCUMENTS: [(&str, &str); 3] = [
    ("river.txt", include_str!("data/river.txt")),
    ("winter.txt", include_str!("data/winter.txt")),
    ("ledger.txt", include_str!("data/ledger.txt")),
];

fn store() -> MemStore {
    let store = MemStore::new();
    for (name, text) in DOCUMENTS {
        store.add_input(name, text);
    }
    store
}

fn spec(app: &str, map_tasks: usize, reduce_tasks: usize) -> JobSpec {
    JobSpec {
        app: app.into(),
        inputs: DOCUMENTS.iter().map(|(name, _)| name.to_string()).collect(),
        map_tasks,
        reduce_tasks,
    }
}

/// The words of `text`, found character by character, without the crate's code.
fn plain_words(text: &str) -> Vec<String> {
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

fn plain_word_count() -> Vec<(String, String)> {
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

fn plain_inverted_index() -> Vec<(String, String)> {
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

#[test]
fn word_count_sequential_matches_a_plain_count_for_any_m_and_r() {
    let expected = plain_word_count();
    assert!(expected.iter().any(|(w, _)| w == "Zürich"), "Unicode words");
    assert!(
        expected
            .iter()
            .any(|(w, n)| w == "the" && n.parse::<u32>().is_ok_and(|n| n > 20))
    );
    let store = store();
    for (m, r) in [(3, 1), (3, 7), (10, 3), (40, 13)] {
        let output = run_sequential(&WordCount, &store, &spec("wc", m, r)).expect("job runs");
        assert_eq!(output, expected, "M={m} R={r}");
    }
    assert_eq!(store.jobs(), 0, "job files left behind");
}

#[test]
fn inverted_index_sequential_matches_a_plain_index() {
    let expected = plain_inverted_index();
    assert!(expected.contains(&("Anna".into(), "3 ledger.txt,river.txt,winter.txt".into())));
    let output = run_sequential(&InvertedIndex, &store(), &spec("ii", 17, 5)).expect("job runs");
    assert_eq!(output, expected);
}

#[test]
fn distributed_word_count_and_inverted_index_match_plain_ones() {
    labrpc::sim::run(|net: Network| async move {
        let store = store();
        let mut master = Master::start(
            &net,
            MASTER,
            MasterConfig::simulated(),
            Arc::new(store.clone()),
        );
        for name in ["w0", "w1", "w2"] {
            worker(&net, &store, name, WorkerConfig::simulated());
        }
        let report = run_job(&mut master, &spec("wc", 12, 5)).await;
        assert_eq!(report.output, plain_word_count());
        let report = run_job(&mut master, &spec("ii", 9, 4)).await;
        assert_eq!(report.output, plain_inverted_index());
        assert_eq!(store.jobs(), 0);
    });
}
