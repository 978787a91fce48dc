//! Word count and inverted index on real text, run sequentially, against an independent,
//! straightforward count. (The same applications on a master and workers:
//! `tests/distributed_apps.rs`.)

#[path = "common/documents.rs"]
mod documents;

use documents::*;
use mapreduce::{InvertedIndex, WordCount, run_sequential};

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
