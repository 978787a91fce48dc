//! The master's books: every execution it starts is a first attempt, a retry after a failure,
//! or a backup; every task is done exactly once, and any further completion is counted as a
//! duplicate, never as work; the pool lists the workers that registered and forgets dead ones.
//!
//! A master that re-queues a task already done, or one whose twin is still running, starts
//! executions it has no reason for: the job still gives the right output, so only its books
//! show the bug.

mod common;

use common::*;
use labrpc::Network;
use mapreduce::{Event, JobReport, JobSpec, Master, MasterConfig, Phase, WorkerConfig};
use std::collections::BTreeMap;
use std::time::Duration;

const N: usize = 5_000;

/// The report's counts agree with each other for a job of `tasks` tasks (map and reduce).
fn check_books(report: &JobReport, tasks: u64) {
    let completions: u64 = report.completed_by.values().sum();
    assert_eq!(
        completions,
        tasks + report.duplicates,
        "each task is done once; any other completion is a duplicate: {report:?}"
    );
    assert!(
        report.attempts <= tasks + report.failed_attempts + report.backups,
        "an execution that is neither a first attempt, a retry after a failure nor a backup: \
         {report:?}"
    );
    assert!(
        report.attempts >= completions + report.failed_attempts,
        "more outcomes than executions: {report:?}"
    );
}

/// Follows the master's events and checks that each has a reason:
/// - a first attempt or a retry starts only when no execution of the task runs and it is
///   not done; a backup only beside exactly one running execution;
/// - a worker joins only if it is not in the pool, and leaves it only when it went silent or
///   failed [`MasterConfig::failures_before_drop`] calls in a row.
#[derive(Default)]
struct Books {
    /// Per task: executions running (started, not yet failed), and whether it is done.
    tasks: BTreeMap<(Phase, usize), (u32, bool)>,
    /// The pool, and each worker's failures in a row and whether it went silent. (A
    /// duplicate completion also resets a worker's failures but has no event, so the count
    /// here may only be higher than the master's.)
    pool: BTreeMap<String, (u32, bool)>,
    drop_after: u32,
    broken: Vec<String>,
}

impl Books {
    fn new(config: &MasterConfig) -> Books {
        Books {
            drop_after: config.failures_before_drop,
            ..Books::default()
        }
    }

    fn observe(&mut self, event: &Event) {
        match event {
            Event::TaskStarted {
                phase,
                task,
                backup,
                worker,
            } => {
                let (running, done) = self.tasks.entry((*phase, *task)).or_default();
                if *done || *running != u32::from(*backup) {
                    self.broken.push(format!(
                        "{phase:?} task {task} started on {worker} (backup: {backup}) with \
                         {running} executions running, done: {done}"
                    ));
                }
                *running += 1;
            }
            Event::AttemptFailed {
                phase,
                task,
                worker,
                reason,
            } => {
                let (running, _) = self.tasks.entry((*phase, *task)).or_default();
                *running = running.saturating_sub(1);
                let (failures, silent) = self.pool.entry(worker.clone()).or_default();
                *failures += 1;
                *silent |= reason.contains("pings");
            }
            Event::TaskDone {
                phase,
                task,
                worker,
            } => {
                self.tasks.entry((*phase, *task)).or_default().1 = true;
                self.pool.entry(worker.clone()).or_default().0 = 0;
            }
            Event::WorkerJoined { worker } => {
                if self.pool.insert(worker.clone(), (0, false)).is_some() {
                    self.broken
                        .push(format!("{worker} joined the pool it was in"));
                }
            }
            Event::WorkerLost { worker } => match self.pool.remove(worker) {
                Some((failures, silent)) if silent || failures >= self.drop_after => {}
                state => self.broken.push(format!(
                    "{worker} left the pool (failures in a row, silent: {state:?})"
                )),
            },
            Event::PhaseStarted { .. } => {}
        }
    }
}

/// Runs the job, checking every event with [`Books`], and returns its report.
async fn run_checked(master: &mut Master, spec: &JobSpec) -> JobReport {
    let mut books = Books::new(&MasterConfig::simulated());
    let mut observe = |event: &Event| books.observe(event);
    let job = master.run(spec, &mut observe);
    let report = tokio::time::timeout(Duration::from_secs(600), job)
        .await
        .expect("the job finished within ten simulated minutes")
        .expect("the job succeeded");
    assert!(
        books.broken.is_empty(),
        "the master acted without a reason:\n{}",
        books.broken.join("\n")
    );
    report
}

/// Lost calls, a worker killed mid-job, and backups as early as possible: retries, but only
/// after failures, never of a task done or still running elsewhere.
#[test]
fn retries_only_after_failures() {
    labrpc::sim::run(|net: Network| async move {
        net.set_reliable(false);
        let eager = MasterConfig {
            backup_after: 0.0,
            ..MasterConfig::simulated()
        };
        let (mut master, store) = master_with_numbers(&net, N, eager);
        let slow = WorkerConfig {
            task_time: Duration::from_millis(20),
            ..WorkerConfig::simulated()
        };
        for name in ["w0", "w1", "w2"] {
            worker(&net, &store, name, slow.clone());
        }
        let killer = net.clone();
        tokio::task::spawn_local(async move {
            tokio::time::sleep(Duration::from_millis(150)).await;
            killer.kill("w1");
        });
        let report = run_checked(&mut master, &numbers_job(30, 10)).await;
        check_numbers(&report, N);
        assert!(report.failed_attempts > 0, "nothing failed: {report:?}");
        check_books(&report, 40);
    });
}

/// Backups started as early as possible (at once, near each phase's end): twins complete,
/// and only the first completion of each task counts.
#[test]
fn twins_count_once() {
    const JOBS: usize = 3;
    labrpc::sim::run(|net: Network| async move {
        let eager = MasterConfig {
            backup_after: 0.0,
            ..MasterConfig::simulated()
        };
        let (mut master, store) = master_with_numbers(&net, N, eager);
        let mut duplicates = 0;
        for i in 0..6 {
            // Unequal speeds: a backup on a fast worker finishes first, and the slow twin
            // often finishes while the phase still runs other tasks.
            let config = WorkerConfig {
                task_time: Duration::from_millis(5 + 9 * i),
                ..WorkerConfig::simulated()
            };
            worker(&net, &store, &format!("w{i}"), config);
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
        for _ in 0..JOBS {
            let report = run_checked(&mut master, &numbers_job(13, 5)).await;
            check_numbers(&report, N);
            assert!(
                report.backups > 0,
                "no backup although they start at once: {report:?}"
            );
            check_books(&report, 18);
            duplicates += report.duplicates;
        }
        assert!(duplicates > 0, "no twin ever completed in {JOBS} jobs");
    });
}

/// The pool: the workers that registered, by name, until one stops answering.
#[test]
fn the_pool_lists_live_workers() {
    labrpc::sim::run(|net: Network| async move {
        let (mut master, store) = master_with_numbers(&net, N, MasterConfig::simulated());
        let slow = WorkerConfig {
            task_time: Duration::from_millis(20),
            ..WorkerConfig::simulated()
        };
        for name in ["w0", "w1", "w2"] {
            worker(&net, &store, name, slow.clone());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
        let report = run_checked(&mut master, &numbers_job(6, 3)).await;
        check_books(&report, 9);
        assert_eq!(master.workers(), ["w0", "w1", "w2"]);
        net.kill("w1");
        // Long enough (40 tasks of 20 ms on two workers) for w1 to miss its pings.
        let report = run_checked(&mut master, &numbers_job(40, 3)).await;
        check_numbers(&report, N);
        assert_eq!(
            master.workers(),
            ["w0", "w2"],
            "a dead worker stays in the pool"
        );
    });
}

/// A worker cut off in the middle of a long task: its call never ends, so only its missed
/// pings tell the master that it is gone; the task then runs elsewhere.
#[test]
fn a_silent_worker_is_found_by_its_pings() {
    labrpc::sim::run(|net: Network| async move {
        // No backups: the phase must wait for the cut-off worker's task.
        let config = MasterConfig {
            backup_tasks: false,
            ..MasterConfig::simulated()
        };
        let (mut master, store) = master_with_numbers(&net, N, config);
        let long = WorkerConfig {
            task_time: Duration::from_secs(2),
            ..WorkerConfig::simulated()
        };
        worker(&net, &store, "w0", WorkerConfig::simulated());
        worker(&net, &store, "cut", long);
        tokio::time::sleep(Duration::from_millis(1)).await;
        let cutter = net.clone();
        tokio::task::spawn_local(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            cutter.partition(&[&[common::MASTER, "w0"], &["cut"]]);
        });
        let report = run_checked(&mut master, &numbers_job(4, 2)).await;
        check_numbers(&report, N);
        assert_eq!(
            master.workers(),
            ["w0"],
            "the cut-off worker is still in the pool"
        );
        // Dead after three missed pings (100 ms apart, 100 ms timeout), not after its task.
        assert!(report.elapsed < Duration::from_secs(2), "{report:?}");
    });
}
