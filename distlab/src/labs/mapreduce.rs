//! MapReduce under chaos: a master runs word-count jobs one after another on `servers`
//! workers, while workers crash (and restart empty, registering again) and partitions cut
//! workers off from the master. `clients` is the number of input documents per job, of 1000
//! words each. The check: every job's output equals a sequential run's.

use labrpc::Network;
use mapreduce::{
    JobSpec, Master, MasterConfig, MemStore, WordCount, Worker, WorkerConfig, run_sequential,
};
use rand::Rng;
use std::sync::Arc;
use tokio::time::Instant;

use super::{DRAIN, before, names};
use crate::chaos::{self, Cluster, DiskFate, Nodes};
use crate::scenario::{Check, LabReport, Live, Params};

/// The master's node.
const MASTER: &str = "master";
/// Map tasks per job (M).
const MAP_TASKS: usize = 12;
/// Reduce tasks per job (R).
const REDUCE_TASKS: usize = 4;
/// Distinct words in the generated documents.
const VOCABULARY: usize = 500;
/// Words per hundred-word unit of a document.
const WORDS_PER_UNIT: usize = 100;
/// Words per input document (the README's "×1000 words").
const WORDS_PER_DOCUMENT: usize = 1000;

struct MrCluster {
    net: Network,
    nodes: Nodes,
    store: MemStore,
}

impl MrCluster {
    fn start_worker(&self, i: usize) {
        Worker::start(
            &self.net,
            &self.nodes.servers[i],
            MASTER,
            mapreduce::builtin_apps(),
            Arc::new(self.store.clone()),
            WorkerConfig::simulated(),
        );
    }
}

impl Cluster for MrCluster {
    fn nodes(&self) -> &Nodes {
        &self.nodes
    }
    fn crash(&self, i: usize) {
        self.net.kill(&self.nodes.servers[i]);
    }
    /// A worker keeps nothing between tasks: it restarts the same with or without its disk.
    fn restart(&self, i: usize, _disk: DiskFate) {
        self.start_worker(i);
    }
}

/// `documents` texts of `units` hundred words each, drawn from a skewed vocabulary.
fn documents(net: &Network, documents: usize, units: usize) -> Vec<String> {
    let mut rng = net.rng();
    (0..documents)
        .map(|_| {
            let words: Vec<String> = (0..units * WORDS_PER_UNIT)
                .map(|_| {
                    // The product of two uniform draws favours small ranks: a few common words.
                    let rank = rng.random_range(1..=VOCABULARY) * rng.random_range(1..=VOCABULARY)
                        / VOCABULARY;
                    format!("w{rank}")
                })
                .collect();
            words.join(" ")
        })
        .collect()
}

/// Runs the MapReduce workload.
pub async fn run(net: &Network, params: &Params, live: &Live) -> LabReport {
    let store = MemStore::new();
    let inputs: Vec<String> = documents(net, params.clients, WORDS_PER_DOCUMENT / WORDS_PER_UNIT)
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            let name = format!("doc{i}.txt");
            store.add_input(&name, text);
            name
        })
        .collect();
    let spec = JobSpec {
        app: "wc".into(),
        inputs,
        map_tasks: MAP_TASKS.max(params.clients),
        reduce_tasks: REDUCE_TASKS,
    };
    let expected = match run_sequential(&WordCount, &store, &spec) {
        Ok(output) => output,
        Err(e) => {
            return LabReport {
                check: Check::Violation(format!("the sequential run failed: {e}")),
                history_html: None,
            };
        }
    };
    let mut master = Master::start(
        net,
        MASTER,
        MasterConfig::simulated(),
        Arc::new(store.clone()),
    );
    let cluster = MrCluster {
        net: net.clone(),
        nodes: Nodes::new(&names("w", params.servers), &[], &[MASTER]),
        store,
    };
    for i in 0..params.servers {
        cluster.start_worker(i);
    }
    let deadline = Instant::now() + params.duration;
    let jobs = async {
        let (mut done, mut wrong) = (0u64, Vec::new());
        while before(deadline) {
            let started = net.now();
            let mut quiet = |_: &mapreduce::Event| {};
            let job = tokio::time::timeout(params.duration + DRAIN, master.run(&spec, &mut quiet));
            match job.await {
                Err(_) => {
                    wrong.push(format!(
                        "job {} did not finish in {} s",
                        done + 1,
                        (params.duration + DRAIN).as_secs()
                    ));
                    break;
                }
                Ok(Ok(report)) if report.output == expected => done += 1,
                Ok(Ok(report)) => wrong.push(format!(
                    "job {done}: output differs from the sequential run ({} keys instead of {})",
                    report.output.len(),
                    expected.len()
                )),
                Ok(Err(e)) => wrong.push(format!("job {done} failed: {e}")),
            }
            live.op_done(net.now() - started);
        }
        (done, wrong)
    };
    let injector = chaos::inject(net.clone(), params.clone(), live.clone(), &cluster);
    let ((done, wrong), ()) = futures::join!(jobs, injector);
    master.shutdown_workers().await;
    let check = match wrong.first() {
        Some(first) => Check::Violation(format!(
            "{} of {} jobs wrong; first: {first}",
            wrong.len(),
            done + wrong.len() as u64
        )),
        None => Check::Passed(format!("all {done} jobs equal the sequential output")),
    };
    LabReport {
        check,
        history_html: None,
    }
}
