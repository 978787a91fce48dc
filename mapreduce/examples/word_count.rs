//! A word count on the simulated network, narrated: three workers, one of them 100x slower
//! (a straggler) and one killed in the middle of a task. Then the same job without backup
//! tasks, to show what they buy, and the sequential reference.
//!
//! Run with `cargo run -p mapreduce --example word_count` (`LABRPC_SEED=N` to pick a seed).

use labrpc::Network;
use mapreduce::{
    Event, JobSpec, Master, MasterConfig, MemStore, Worker, WorkerConfig, run_sequential,
};
use std::sync::Arc;
use std::time::Duration;

const TEXTS: [(&str, &str); 3] = [
    ("river.txt", include_str!("../tests/data/river.txt")),
    ("winter.txt", include_str!("../tests/data/winter.txt")),
    ("ledger.txt", include_str!("../tests/data/ledger.txt")),
];

fn spec() -> JobSpec {
    JobSpec {
        app: "wc".into(),
        inputs: TEXTS.iter().map(|(name, _)| name.to_string()).collect(),
        map_tasks: 12,
        reduce_tasks: 5,
    }
}

/// Runs the job on nodes named `prefix-*`; kills `prefix-w1` at 25 ms if `kill`.
async fn job(
    net: &Network,
    prefix: &str,
    backups: bool,
    kill: bool,
    narrate: bool,
) -> mapreduce::JobReport {
    let store = MemStore::new();
    for (name, text) in TEXTS {
        store.add_input(name, text);
    }
    let config = MasterConfig {
        backup_tasks: backups,
        ..MasterConfig::simulated()
    };
    let master_node = format!("{prefix}-master");
    let mut master = Master::start(net, &master_node, config, Arc::new(store.clone()));
    let normal = WorkerConfig::simulated();
    let slow = WorkerConfig {
        task_time: normal.task_time * 100,
        ..normal.clone()
    };
    for (name, config) in [("w0", &normal), ("w1", &normal), ("slow", &slow)] {
        let node = format!("{prefix}-{name}");
        let apps = mapreduce::builtin_apps();
        Worker::start(
            net,
            &node,
            &master_node,
            apps,
            Arc::new(store.clone()),
            config.clone(),
        );
    }
    if kill {
        let net = net.clone();
        let victim = format!("{prefix}-w1");
        tokio::task::spawn_local(async move {
            tokio::time::sleep(Duration::from_millis(25)).await;
            println!(
                "  [{:>5} ms] *** killing {victim} ***",
                net.now().as_millis()
            );
            net.kill(&victim);
        });
    }
    let clock = net.clone();
    let mut observe = |event: &Event| {
        if narrate {
            println!("  [{:>5} ms] {event:?}", clock.now().as_millis());
        }
    };
    let report = master.run(&spec(), &mut observe).await;
    report.unwrap_or_else(|e| panic!("the job failed: {e}"))
}

fn main() {
    labrpc::sim::run(|net: Network| async move {
        println!("word count, M=12 R=5, workers w0 and w1 (10 ms/task) and slow (1 s/task):");
        let report = job(&net, "a", true, true, true).await;
        println!("\n{report:?}");

        let reference = {
            let store = MemStore::new();
            for (name, text) in TEXTS {
                store.add_input(name, text);
            }
            run_sequential(&mapreduce::WordCount, &store, &spec()).expect("sequential run")
        };
        assert_eq!(
            report.output, reference,
            "distributed and sequential outputs differ"
        );
        println!(
            "output equals the sequential run's: {} distinct words",
            reference.len()
        );
        let mut top: Vec<&(String, String)> = reference.iter().collect();
        top.sort_by_key(|(word, n)| {
            (
                std::cmp::Reverse(n.parse::<u64>().unwrap_or(0)),
                word.clone(),
            )
        });
        for (word, n) in top.iter().take(5) {
            println!("  {word}: {n}");
        }

        let without = job(&net, "b", false, true, false).await;
        println!(
            "\nwithout backup tasks the same job takes {:?} (with: {:?})",
            without.elapsed, report.elapsed
        );
        println!("network: {:?}", net.stats().by_method);
    });
}
