//! Beyond Go's tests: a worker killed mid-task, an unreliable network, a straggler with and
//! without backup tasks, no backups among equal workers, a worker that answers garbage, bad
//! input, storage errors that retrying fixes and that it does not, and replay by seed.

mod common;

use common::*;
use labrpc::Network;
use mapreduce::{
    Event, JobError, JobSpec, Master, MasterConfig, MemStore, Phase, Split, SplitBytes, Storage,
    StorageError, TaskError, Worker, WorkerConfig,
};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
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

// What its messages say in a recorded trace: their Debug form.
impl labrpc::Summarize for ImpostorRequest {}
impl labrpc::Summarize for ImpostorResponse {}

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

/// A worker's view of the shared store in which reads of one file (an input, or a job's
/// file in any job; `""`: every file) fail with `error`, the first `times` times
/// (`u32::MAX`: always).
struct Failing {
    store: MemStore,
    file: &'static str,
    times: AtomicU32,
    error: StorageError,
}

impl Failing {
    fn new(store: &MemStore, file: &'static str, times: u32, error: StorageError) -> Arc<Failing> {
        Arc::new(Failing {
            store: store.clone(),
            file,
            times: AtomicU32::new(times),
            error,
        })
    }

    fn check(&self, file: &str) -> Result<(), StorageError> {
        if !self.file.is_empty() && file != self.file {
            return Ok(());
        }
        let fail = (self.times)
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| match left {
                0 => None,
                u32::MAX => Some(u32::MAX),
                left => Some(left - 1),
            })
            .is_ok();
        if fail {
            Err(self.error.clone())
        } else {
            Ok(())
        }
    }
}

impl Storage for Failing {
    fn input_len(&self, file: &str) -> Result<u64, StorageError> {
        self.store.input_len(file)
    }
    fn read_split(&self, split: &Split) -> Result<SplitBytes, StorageError> {
        self.check(&split.file)?;
        self.store.read_split(split)
    }
    fn create_job(&self) -> Result<String, StorageError> {
        self.store.create_job()
    }
    fn write(&self, job: &str, name: &str, data: &[u8]) -> Result<(), StorageError> {
        self.store.write(job, name, data)
    }
    fn read(&self, job: &str, name: &str) -> Result<Vec<u8>, StorageError> {
        self.check(name)?;
        self.store.read(job, name)
    }
    fn remove_job(&self, job: &str) -> Result<(), StorageError> {
        self.store.remove_job(job)
    }
}

fn io_error(detail: &str) -> StorageError {
    StorageError::Io {
        path: "somewhere".into(),
        detail: detail.into(),
    }
}

/// The attempts that failed, `(phase, task, worker, reason)`, and who did each task.
#[derive(Default)]
struct Seen {
    failed: Vec<(Phase, usize, String, String)>,
    done: Vec<(Phase, usize, String)>,
    lost: Vec<String>,
}

impl Seen {
    fn observe(&mut self, event: &Event) {
        match event {
            Event::AttemptFailed {
                phase,
                task,
                worker,
                reason,
            } => self
                .failed
                .push((*phase, *task, worker.clone(), reason.clone())),
            Event::TaskDone {
                phase,
                task,
                worker,
            } => self.done.push((*phase, *task, worker.clone())),
            Event::WorkerLost { worker } => self.lost.push(worker.clone()),
            _ => {}
        }
    }
}

/// A transient storage error (a disk full for a moment) fails one execution; the task runs
/// again, on the other worker, and the job completes.
#[test]
fn a_transient_storage_error_is_retried_on_another_worker() {
    labrpc::sim::run(|net: Network| async move {
        let (mut master, store) = master_with_numbers(&net, N, MasterConfig::simulated());
        let flaky = Failing::new(
            &store,
            "numbers.txt",
            1,
            io_error("no space left on device"),
        );
        for name in ["w0", "w1"] {
            Worker::start(
                &net,
                name,
                MASTER,
                apps(),
                flaky.clone(),
                WorkerConfig::simulated(),
            );
        }
        let mut seen = Seen::default();
        let report = master
            .run(&numbers_job(10, 5), &mut |e| seen.observe(e))
            .await
            .expect("the job succeeded");
        check_numbers(&report, N);
        assert_eq!(report.failed_attempts, 1, "{report:?}");
        let [(phase, task, worker, reason)] = &seen.failed[..] else {
            panic!("{:?}", seen.failed)
        };
        assert_eq!(*phase, Phase::Map);
        assert!(reason.contains("no space left on device"), "{reason}");
        let again = seen.done.iter().find(|(p, t, _)| p == phase && t == task);
        let (_, _, by) = again.expect("the task was done");
        assert_ne!(by, worker, "the task ran again on the worker it failed on");
        assert_eq!(store.jobs(), 0);
    });
}

/// A worker whose disk always fails leaves the pool (and again each time it rejoins); every
/// task it fails runs elsewhere, and the job completes.
#[test]
fn a_worker_whose_disk_fails_is_dropped_and_the_job_completes() {
    labrpc::sim::run(|net: Network| async move {
        let (mut master, store) = master_with_numbers(&net, N, MasterConfig::simulated());
        for name in ["w0", "w1"] {
            worker(&net, &store, name, WorkerConfig::simulated());
        }
        let broken = Failing::new(&store, "", u32::MAX, io_error("input/output error"));
        let slow = WorkerConfig {
            task_time: Duration::from_millis(50),
            ..WorkerConfig::simulated()
        };
        Worker::start(&net, "broken", MASTER, apps(), broken, slow);
        let mut seen = Seen::default();
        let spec = numbers_job(40, 20);
        let mut observe = |e: &Event| seen.observe(e);
        let job = master.run(&spec, &mut observe);
        let report = tokio::time::timeout(Duration::from_secs(600), job)
            .await
            .expect("the job finished")
            .expect("the job succeeded");
        check_numbers(&report, N);
        assert!(seen.lost.contains(&"broken".to_string()), "{report:?}");
        assert!(
            seen.failed.iter().all(|f| f.2 == "broken"),
            "{:?}",
            seen.failed
        );
        assert!(!report.completed_by.contains_key("broken"));
        // Each task failed there once at most: it waits for another worker.
        let mut failed: Vec<(Phase, usize)> = seen.failed.iter().map(|f| (f.0, f.1)).collect();
        failed.sort();
        failed.dedup();
        assert!(!failed.is_empty());
        assert_eq!(failed.len(), seen.failed.len(), "{:?}", seen.failed);
        assert_eq!(store.jobs(), 0);
    });
}

/// An error that does not go away fails the job after `task_error_limit` executions of the
/// task, naming it; a missing file fails it at the first error.
#[test]
fn errors_that_retrying_does_not_fix_fail_the_job() {
    labrpc::sim::run(|net: Network| async move {
        let (mut master, store) = master_with_numbers(&net, N, MasterConfig::simulated());
        let error = io_error("input/output error");
        let always = Failing::new(&store, "mr-0-0", u32::MAX, error.clone());
        for name in ["w0", "w1"] {
            Worker::start(
                &net,
                name,
                MASTER,
                apps(),
                always.clone(),
                WorkerConfig::simulated(),
            );
        }
        let mut seen = Seen::default();
        let spec = numbers_job(4, 2);
        let mut observe = |e: &Event| seen.observe(e);
        let job = master.run(&spec, &mut observe);
        let result = tokio::time::timeout(Duration::from_secs(600), job)
            .await
            .expect("the job ended");
        let Err(failed) = result else {
            panic!("the job succeeded")
        };
        let limit = MasterConfig::simulated().task_error_limit;
        assert!(
            matches!(
                &failed,
                JobError::TaskFailedRepeatedly {
                    phase: Phase::Reduce,
                    index: 0,
                    failures,
                    error: TaskError::Storage(e),
                    ..
                } if *failures == limit && *e == error
            ),
            "{failed:?}"
        );
        let message = failed.to_string();
        assert!(
            message.contains(&format!("reduce task 0 failed {limit} times")),
            "{message}"
        );
        assert_eq!(seen.failed.len(), limit as usize, "{:?}", seen.failed);
        assert_eq!(store.jobs(), 0);

        // Another master and workers: a missing intermediate file is not retried.
        let store = MemStore::new();
        store.add_input("numbers.txt", numbers(N));
        let mut master = Master::start(
            &net,
            "m2",
            MasterConfig::simulated(),
            Arc::new(store.clone()),
        );
        let missing = StorageError::NotFound {
            path: "mr-0-0".into(),
        };
        let gone = Failing::new(&store, "mr-0-0", u32::MAX, missing.clone());
        for name in ["v0", "v1"] {
            Worker::start(
                &net,
                name,
                "m2",
                apps(),
                gone.clone(),
                WorkerConfig::simulated(),
            );
        }
        let mut seen = Seen::default();
        let result = master
            .run(&numbers_job(4, 2), &mut |e| seen.observe(e))
            .await;
        assert!(
            matches!(
                &result,
                Err(JobError::Task {
                    phase: Phase::Reduce,
                    index: 0,
                    error: TaskError::Storage(e),
                    ..
                }) if *e == missing
            ),
            "{result:?}"
        );
        assert!(seen.failed.is_empty(), "{:?}", seen.failed);
        assert_eq!(store.jobs(), 0);
    });
}
