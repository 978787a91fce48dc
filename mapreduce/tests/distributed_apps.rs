//! Word count and inverted index on real text, on a master and workers of the simulated
//! network, against an independent, straightforward count (the sequential runs:
//! `tests/apps.rs`).

mod common;
#[path = "common/documents.rs"]
mod documents;

use common::*;
use documents::*;
use labrpc::Network;
use mapreduce::{Master, MasterConfig, WorkerConfig};
use std::sync::Arc;

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
