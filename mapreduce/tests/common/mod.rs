//! Shared by the integration tests: Go's test application, a cluster on the simulated
//! network, and checks.
#![allow(dead_code)] // each test file uses part of it

use mapreduce::{App, JobReport, JobSpec, Master, MasterConfig, MemStore, Worker, WorkerConfig};
use std::sync::Arc;
use std::time::Duration;

/// The master's node.
pub const MASTER: &str = "master";

/// Go's test application: every whitespace-separated field is a key, values are empty, so
/// the output is the sorted set of input lines.
pub struct Fields;

impl App for Fields {
    fn name(&self) -> &str {
        "fields"
    }

    fn map(&self, _document: &str, contents: &str, emit: &mut dyn FnMut(&str, &str)) {
        for field in contents.split_whitespace() {
            emit(field, "");
        }
    }

    fn reduce(&self, _key: &str, _values: &[String]) -> String {
        String::new()
    }
}

/// The applications of every test worker.
pub fn apps() -> Vec<Arc<dyn App>> {
    let mut apps = mapreduce::builtin_apps();
    apps.push(Arc::new(Fields));
    apps
}

/// Go's input: the numbers `0..n`, one per line.
pub fn numbers(n: usize) -> String {
    (0..n).map(|i| format!("{i}\n")).collect()
}

/// A master with a fresh in-memory store holding the numbers `0..n` as `numbers.txt`.
pub fn master_with_numbers(
    net: &labrpc::Network,
    n: usize,
    config: MasterConfig,
) -> (Master, MemStore) {
    let store = MemStore::new();
    store.add_input("numbers.txt", numbers(n));
    let master = Master::start(net, MASTER, config, Arc::new(store.clone()));
    (master, store)
}

/// Starts a worker on node `name`.
pub fn worker(net: &labrpc::Network, store: &MemStore, name: &str, config: WorkerConfig) -> Worker {
    Worker::start(net, name, MASTER, apps(), Arc::new(store.clone()), config)
}

/// Go's job: the numbers file, M map tasks, R reduce tasks.
pub fn numbers_job(map_tasks: usize, reduce_tasks: usize) -> JobSpec {
    JobSpec {
        app: "fields".into(),
        inputs: vec!["numbers.txt".into()],
        map_tasks,
        reduce_tasks,
    }
}

/// Go's `checkWork`: the output's keys are the input lines, sorted as strings, once each.
pub fn check_numbers(report: &JobReport, n: usize) {
    let mut expected: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    expected.sort();
    let keys: Vec<&str> = report.output.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys.len(),
        expected.len(),
        "output has the wrong number of lines"
    );
    for (got, want) in keys.iter().zip(&expected) {
        assert_eq!(got, want, "output differs from the sorted input");
    }
    assert!(report.output.iter().all(|(_, v)| v.is_empty()));
}

/// Runs the job, failing the test if it takes more than ten simulated minutes.
pub async fn run_job(master: &mut Master, spec: &JobSpec) -> JobReport {
    let mut quiet = |_: &mapreduce::Event| {};
    let job = master.run(spec, &mut quiet);
    tokio::time::timeout(Duration::from_secs(600), job)
        .await
        .expect("the job finished within ten simulated minutes")
        .expect("the job succeeded")
}
