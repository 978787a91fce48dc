//! Beyond Go's tests: a worker killed mid-task, an unreliable network, a straggler with and
//! without backup tasks, no backups among equal workers, a worker that answers garbage, bad input, and replay by seed.

mod common;

use common::*;
use labrpc::Network;
use mapreduce::{
    Event, JobError, JobSpec, Master, MasterConfig, MemStore, Phase, TaskError, Worker,
    WorkerConfig,
};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tarpc::context::Context;

const N: usize = 5_000;

/// A worker killed in the middle of a task: its task runs again elsewhere.
#[test]
fn worker_killed_mid_task() {
    labrpc::sim::run(|net: Network| async move {
        let (mut master, store) = master_with_numbers(&net, N, MasterConfig::simulated());
        let slow = WorkerConfig {
            task_time: Duration::from_millis(50),
            ..WorkerConfig::simulated()
        };
        for name in ["w0", "w1", "w2"] {
            worker(&net, &store, name, slow.clone());
        }
        // Tasks take 50 ms and workers are never idle early on: at 120 ms w1 is mid-task.
        let killer = net.clone();
        tokio::task::spawn_local(async move {
            tokio::time::sleep(Duration::from_millis(120)).await;
            killer.kill("w1");
        });
        let mut w1_failed = false;
        let mut observe = |event: &Event| {
            if let Event::AttemptFailed { worker, .. } = event {
                w1_failed |= worker == "w1";
            }
        };
        let spec = numbers_job(20, 10);
        let job = master.run(&spec, &mut observe);
        let report = tokio::time::timeout(Duration::from_secs(600), job)
            .await
            .expect("the job finished")
            .expect("the job succeeded");
        check_numbers(&report, N);
        assert!(w1_failed, "w1's task did not fail: {report:?}");
        assert!(report.completed_by.get("w1").is_some_and(|&n| n >= 1));
        assert_eq!(store.jobs(), 0);
    });
}

/// Lost requests and replies: tasks run twice, completions get lost, the output is exact.
#[test]
fn unreliable_network() {
    labrpc::sim::run(|net: Network| async move {
        net.set_reliable(false);
        let (mut master, store) = master_with_numbers(&net, N, MasterConfig::simulated());
        for name in ["w0", "w1", "w2"] {
            worker(&net, &store, name, WorkerConfig::simulated());
        }
        let report = run_job(&mut master, &numbers_job(30, 10)).await;
        check_numbers(&report, N);
        let stats = net.stats();
        assert!(stats.requests_lost + stats.replies_lost > 0, "{stats:?}");
    });
}

/// Runs the numbers job with two normal workers and one 100x slower, on nodes named with
/// `prefix`, and returns the report.
async fn with_straggler(net: &Network, prefix: &str, backup_tasks: bool) -> mapreduce::JobReport {
    let store = MemStore::new();
    store.add_input("numbers.txt", numbers(N));
    let config = MasterConfig {
        backup_tasks,
        ..MasterConfig::simulated()
    };
    let master_node = format!("{prefix}-master");
    let mut master = Master::start(net, &master_node, config, Arc::new(store.clone()));
    let normal = WorkerConfig::simulated();
    let straggler = WorkerConfig {
        task_time: normal.task_time * 100,
        ..normal.clone()
    };
    for (name, config) in [("w0", &normal), ("w1", &normal), ("slow", &straggler)] {
        let node = format!("{prefix}-{name}");
        Worker::start(
            net,
            &node,
            &master_node,
            apps(),
            Arc::new(store.clone()),
            config.clone(),
        );
    }
    // Let all three register before the job, so the straggler surely gets tasks.
    tokio::time::sleep(Duration::from_millis(1)).await;
    let report = run_job(&mut master, &numbers_job(20, 6)).await;
    check_numbers(&report, N);
    report
}

/// A straggler holds up each phase until its task is done; backup tasks cut that short.
#[test]
fn straggler_with_and_without_backup_tasks() {
    labrpc::sim::run(|net: Network| async move {
        let without = with_straggler(&net, "plain", false).await;
        let with = with_straggler(&net, "backup", true).await;
        assert_eq!(without.backups, 0);
        assert!(with.backups >= 1, "{with:?}");
        // Without backups each phase waits for the straggler's 1 s task.
        assert!(without.elapsed >= Duration::from_secs(2), "{without:?}");
        assert!(
            with.elapsed * 4 < without.elapsed,
            "{with:?} vs {without:?}"
        );
        // The straggler's own executions finish after the phase, or never count.
        assert!(with.completed_by.get("backup-slow").copied().unwrap_or(0) <= 2);
    });
}

/// Backups are for stragglers: workers of one speed finish each phase without any, although
/// some are idle while the last tasks run.
#[test]
fn no_backup_tasks_among_equal_workers() {
    labrpc::sim::run(|net: Network| async move {
        let (mut master, store) = master_with_numbers(&net, N, MasterConfig::simulated());
        for name in ["w0", "w1", "w2"] {
            worker(&net, &store, name, WorkerConfig::simulated());
        }
        // 20 map tasks on 3 workers: two are idle while the last one runs.
        let report = run_job(&mut master, &numbers_job(20, 10)).await;
        check_numbers(&report, N);
        assert_eq!(report.backups, 0, "{report:?}");
        assert_eq!(report.attempts, 30, "{report:?}");
    });
}

/// A service that looks like a worker to pings but answers tasks with bytes that are not a
/// task result.
#[tarpc::service]
trait Impostor {
    async fn do_task(args: u8) -> String;
    async fn ping() -> String;
    async fn shutdown() -> u64;
}

#[derive(Clone)]
struct ImpostorServer;

impl Impostor for ImpostorServer {
    async fn do_task(self, _: Context, _: u8) -> String {
        "this is not a task result".into()
    }
    async fn ping(self, _: Context) -> String {
        // A 25-byte string starts with the byte 25: a valid ping reply.
        "x".repeat(25)
    }
    async fn shutdown(self, _: Context) -> u64 {
        0
    }
}

/// A worker whose replies are garbage fails its tasks and leaves the pool; the job completes.
#[test]
fn worker_answering_garbage_is_dropped() {
    labrpc::sim::run(|net: Network| async move {
        let (mut master, store) = master_with_numbers(&net, N, MasterConfig::simulated());
        net.add_server("impostor", ImpostorServer.serve());
        let register =
            mapreduce::protocol::MasterServiceClient::from(net.client("impostor", MASTER));
        register
            .register(labrpc::context(), "impostor".into())
            .await
            .expect("registration delivered");
        worker(&net, &store, "w0", WorkerConfig::simulated());
        let mut reasons = Vec::new();
        let mut observe = |event: &Event| {
            if let Event::AttemptFailed { worker, reason, .. } = event
                && worker == "impostor"
            {
                reasons.push(reason.clone());
            }
        };
        let report = master
            .run(&numbers_job(10, 5), &mut observe)
            .await
            .expect("the job succeeded");
        check_numbers(&report, N);
        assert!(!reasons.is_empty(), "the impostor got no task");
        assert!(reasons[0].contains("malformed"), "{reasons:?}");
        assert!(!master.workers().contains(&"impostor".to_string()));
    });
}

/// Bad jobs fail with an error that names the problem.
#[test]
fn bad_input_gives_clear_errors() {
    labrpc::sim::run(|net: Network| async move {
        let (mut master, store) = master_with_numbers(&net, 100, MasterConfig::simulated());
        store.add_input("binary.dat", vec![b'o', b'k', b'\n', 0xff, 0xfe, b'\n']);
        worker(&net, &store, "w0", WorkerConfig::simulated());
        let mut quiet = |_: &Event| {};
        let job = |inputs: &[&str], app: &str, m: usize| JobSpec {
            app: app.into(),
            inputs: inputs.iter().map(|s| s.to_string()).collect(),
            map_tasks: m,
            reduce_tasks: 2,
        };

        let missing = master
            .run(&job(&["nope.txt"], "fields", 2), &mut quiet)
            .await;
        let Err(error) = missing else {
            panic!("a missing input was accepted")
        };
        assert!(matches!(error, JobError::Input(_)));
        assert!(error.to_string().contains("nope.txt"), "{error}");

        let binary = master
            .run(&job(&["binary.dat"], "fields", 1), &mut quiet)
            .await;
        let Err(error) = binary else {
            panic!("non-UTF-8 input was accepted")
        };
        assert!(
            matches!(
                &error,
                JobError::Task {
                    phase: Phase::Map,
                    error: TaskError::NotUtf8 { offset: 3, .. },
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.to_string().contains("binary.dat"), "{error}");

        let unknown = master
            .run(&job(&["numbers.txt"], "grep", 2), &mut quiet)
            .await;
        assert!(
            matches!(
                unknown,
                Err(JobError::Task {
                    error: TaskError::UnknownApp { .. },
                    ..
                })
            ),
            "{unknown:?}"
        );

        let too_few = master
            .run(
                &job(&["numbers.txt", "binary.dat"], "fields", 1),
                &mut quiet,
            )
            .await;
        assert!(matches!(too_few, Err(JobError::TooFewMapTasks { .. })));
        // Failed jobs clean up too.
        assert_eq!(store.jobs(), 0);
    });
}

/// One seed, one run: the same output and the same network trace, with faults and a kill.
#[test]
fn same_seed_same_output_and_trace() {
    let seed = labrpc::sim::Settings::from_env().seed;
    let run = || {
        let output = Rc::new(RefCell::new(Vec::new()));
        let keep = output.clone();
        let report = labrpc::sim::simulate(seed, false, move |net: Network| async move {
            net.set_reliable(false);
            let (mut master, store) = master_with_numbers(&net, 2000, MasterConfig::simulated());
            for name in ["w0", "w1", "w2"] {
                worker(&net, &store, name, WorkerConfig::simulated());
            }
            let killer = net.clone();
            tokio::task::spawn_local(async move {
                tokio::time::sleep(Duration::from_millis(35)).await;
                killer.kill("w2");
            });
            let report = run_job(&mut master, &numbers_job(15, 7)).await;
            *keep.borrow_mut() = report.output_text().into_bytes();
        });
        let output = output.borrow().clone();
        (report.trace_hash, report.trace_len, output)
    };
    let first = run();
    let second = run();
    assert!(!first.2.is_empty());
    assert_eq!(first, second, "seed {seed} gave two different runs");
}
