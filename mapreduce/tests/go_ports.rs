//! Go's lab 1 tests (2015 `mapreduce/test_test.go`), in virtual time: Basic, OneFailure,
//! ManyFailures, on 100000 numbers with M=100 and R=50.

mod common;

use common::*;
use labrpc::Network;
use mapreduce::{MasterConfig, WorkerConfig};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

const N: usize = 100_000;
const M: usize = 100;
const R: usize = 50;

/// Two workers; the output is the sorted input and both workers did work.
#[test]
fn basic() {
    labrpc::sim::run(|net: Network| async move {
        let (mut master, store) = master_with_numbers(&net, N, MasterConfig::simulated());
        let w0 = worker(&net, &store, "w0", WorkerConfig::simulated());
        let w1 = worker(&net, &store, "w1", WorkerConfig::simulated());
        let report = run_job(&mut master, &numbers_job(M, R)).await;
        check_numbers(&report, N);
        assert!(w0.tasks_done() > 0 && w1.tasks_done() > 0, "{report:?}");
        assert_eq!(w0.tasks_done() + w1.tasks_done(), (M + R) as u64);
        assert_eq!(report.failed_attempts, 0);
        assert_eq!(store.jobs(), 0, "the job's files were not removed");
        master.shutdown_workers().await;
        assert!(w0.is_stopped() && w1.is_stopped());
    });
}

/// One worker stops answering after 10 tasks; the other finishes the job.
#[test]
fn one_failure() {
    labrpc::sim::run(|net: Network| async move {
        let (mut master, store) = master_with_numbers(&net, N, MasterConfig::simulated());
        let failing = WorkerConfig {
            fail_after: Some(10),
            ..WorkerConfig::simulated()
        };
        let w0 = worker(&net, &store, "w0", failing);
        let w1 = worker(&net, &store, "w1", WorkerConfig::simulated());
        let report = run_job(&mut master, &numbers_job(M, R)).await;
        check_numbers(&report, N);
        assert_eq!(w0.tasks_done(), 10);
        assert!(w1.tasks_done() >= (M + R - 10) as u64);
        // The hung worker's task was either detected and re-run or backed up.
        assert!(report.failed_attempts + report.backups >= 1, "{report:?}");
    });
}

/// Two new workers every second, each stopping after 10 tasks, until the job is done.
#[test]
fn many_failures() {
    labrpc::sim::run(|net: Network| async move {
        let (mut master, store) = master_with_numbers(&net, N, MasterConfig::simulated());
        let done = Rc::new(Cell::new(false));
        let started = Rc::new(Cell::new(0u64));
        let spawner = {
            let (net, store, done, started) =
                (net.clone(), store.clone(), done.clone(), started.clone());
            async move {
                let mut i = 0;
                while !done.get() {
                    for _ in 0..2 {
                        let config = WorkerConfig {
                            fail_after: Some(10),
                            ..WorkerConfig::simulated()
                        };
                        worker(&net, &store, &format!("w{i}"), config);
                        i += 1;
                    }
                    started.set(i);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        tokio::task::spawn_local(spawner);
        let report = run_job(&mut master, &numbers_job(M, R)).await;
        done.set(true);
        check_numbers(&report, N);
        // 150 tasks at 10 per worker: at least 15 workers were needed, and each did 10 or
        // fewer.
        assert!(
            started.get() >= 15,
            "only {} workers started",
            started.get()
        );
        assert!(report.completed_by.values().all(|&n| n <= 10), "{report:?}");
        assert!(report.failed_attempts >= 1);
    });
}
