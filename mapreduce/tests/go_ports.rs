//! Go's lab 1 tests (2015 `mapreduce/test_test.go`) at Go's constants, in virtual time:
//! TestBasic, TestOneFailure, TestManyFailures, each on the numbers `0..100000` (one per
//! line) with nMap = 100 and nReduce = 50, checked as Go's `check` does.

mod common;

use common::*;
use labrpc::Network;
use mapreduce::protocol::{MasterServiceClient, TaskArgs, TaskError, WorkerService};
use mapreduce::{MasterConfig, MemStore, Worker, WorkerConfig};
use parking_lot::Mutex;
use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tarpc::context::Context;

/// Go's `nNumber`, `nMap`, `nReduce`.
const N: usize = 100_000;
const M: usize = 100;
const R: usize = 50;

/// Go's `nRPC` for the workers that fail.
const N_RPC: u64 = 10;

/// Go's `RunWorker(master, me, Map, Reduce, nRPC)` with `nRPC` > 0: our worker, on node
/// `name`, that accepts `n_rpc` of the master's calls and then stops listening, as Go's
/// worker closes its socket after `nRPC` accepted connections. The last accepted call still
/// runs and replies; every later call fails, and the worker no longer registers (its node
/// is dead). Go counts every call, and Go's master sends only tasks and the shutdown; our
/// master also pings a worker while it runs a task, and those are not counted, so that, as
/// in Go, the worker does `n_rpc` tasks however long they took.
#[derive(Clone)]
struct GoWorker {
    worker: Worker,
    net: Network,
    name: String,
    n_rpc: u64,
    accepted: Arc<Mutex<u64>>,
}

impl GoWorker {
    fn start(net: &Network, store: &MemStore, name: &str, n_rpc: u64) -> Worker {
        let worker = Worker::new(apps(), Arc::new(store.clone()), WorkerConfig::simulated());
        let server = GoWorker {
            worker: worker.clone(),
            net: net.clone(),
            name: name.to_owned(),
            n_rpc,
            accepted: Arc::new(Mutex::new(0)),
        };
        net.add_server(name, server.serve());
        // The worker's own registration, as `Worker::start` runs it.
        let master = MasterServiceClient::from(net.client(name, MASTER));
        let (me, name) = (worker.clone(), name.to_owned());
        net.spawn(&name.clone(), async move {
            me.register_loop(&name, &master, None).await;
        });
        worker
    }

    /// Accepts one more call: `Some(last)` (whether it is the last one), or `None` once
    /// the socket is closed.
    fn accept(&self) -> Option<bool> {
        let mut accepted = self.accepted.lock();
        if *accepted >= self.n_rpc {
            return None;
        }
        *accepted += 1;
        Some(*accepted == self.n_rpc)
    }

    /// After the last accepted call: the node dies once that call's reply has left (1 ms
    /// later; the reply leaves the instant the handler returns).
    fn close(&self) {
        let (net, name) = (self.net.clone(), self.name.clone());
        tokio::task::spawn_local(async move {
            tokio::time::sleep(Duration::from_millis(1)).await;
            net.kill(&name);
        });
    }

    /// A call that came after the socket closed: it never runs, and fails once the node
    /// dies (at most 1 ms later), as a connection to a closed socket is refused.
    async fn refused() -> ! {
        loop {
            std::future::pending::<()>().await;
        }
    }
}

impl WorkerService for GoWorker {
    async fn do_task(self, ctx: Context, args: TaskArgs) -> Result<(), TaskError> {
        let Some(last) = self.accept() else {
            GoWorker::refused().await
        };
        let result = self.worker.clone().do_task(ctx, args).await;
        if last {
            self.close();
        }
        result
    }

    async fn ping(self, ctx: Context) -> u64 {
        self.worker.clone().ping(ctx).await
    }

    async fn shutdown(self, ctx: Context) -> u64 {
        let Some(last) = self.accept() else {
            GoWorker::refused().await
        };
        let done = self.worker.clone().shutdown(ctx).await;
        if last {
            self.close();
        }
        done
    }
}

/// Go's TestBasic: two workers that never fail. The output is the sorted input (Go's
/// `check`); the master shuts both down, and each did some work (Go's `checkWorker`).
#[test]
fn basic() {
    labrpc::sim::run(|net: Network| async move {
        let (mut master, store) = master_with_numbers(&net, N, MasterConfig::simulated());
        let w0 = worker(&net, &store, "w0", WorkerConfig::simulated());
        let w1 = worker(&net, &store, "w1", WorkerConfig::simulated());
        let report = run_job(&mut master, &numbers_job(M, R)).await;
        check_numbers(&report, N);
        master.shutdown_workers().await;
        assert!(
            w0.is_stopped() && w1.is_stopped(),
            "a worker was not shut down"
        );
        assert!(w0.tasks_done() > 0 && w1.tasks_done() > 0, "{report:?}");
        // Without failures, and with workers of one speed (no backups), each task ran once.
        assert_eq!(w0.tasks_done() + w1.tasks_done(), (M + R) as u64);
        assert_eq!(report.failed_attempts, 0);
        assert_eq!(store.jobs(), 0, "the job's files were not removed");
    });
}

/// Go's TestOneFailure: worker 0 dies after 10 RPCs, worker 1 never fails. The output is
/// the sorted input; the master's shutdown reaches the survivor, which did work.
#[test]
fn one_failure() {
    labrpc::sim::run(|net: Network| async move {
        let (mut master, store) = master_with_numbers(&net, N, MasterConfig::simulated());
        let w0 = GoWorker::start(&net, &store, "w0", N_RPC);
        let w1 = worker(&net, &store, "w1", WorkerConfig::simulated());
        let report = run_job(&mut master, &numbers_job(M, R)).await;
        check_numbers(&report, N);
        master.shutdown_workers().await;
        assert!(w1.is_stopped(), "the survivor was not shut down");
        assert!(w1.tasks_done() > 0, "{report:?}");
        // The failure happened: worker 0 did its 10 tasks and died, the master's next call
        // to it failed, and worker 1 did the rest.
        assert_eq!(w0.tasks_done(), N_RPC);
        assert!(!net.is_alive("w0"));
        assert!(report.failed_attempts >= 1, "{report:?}");
        assert!(w1.tasks_done() >= (M + R) as u64 - N_RPC, "{report:?}");
    });
}

/// Go's TestManyFailures: two new workers every second, from the start until the job is
/// done, each dying after 10 RPCs. The output is the sorted input, and the master's
/// shutdown (Go's master shuts its workers down at the end of every job) returns although
/// most of its workers are dead.
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
                        GoWorker::start(&net, &store, &format!("w{i}"), N_RPC);
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
        master.shutdown_workers().await;
        // The failures happened: no worker did more than its 10 RPCs, so the 150 tasks
        // needed at least 15 workers, and the master met dead ones.
        assert!(
            report.completed_by.values().all(|&n| n <= N_RPC),
            "{report:?}"
        );
        assert!(
            started.get() >= ((M + R) as u64).div_ceil(N_RPC),
            "only {} workers started",
            started.get()
        );
        assert!(report.failed_attempts >= 1, "{report:?}");
    });
}

/// Not one of Go's tests: Go's failing workers die (above); a worker can also hang, taking
/// calls and answering none, not even pings (`WorkerConfig::fail_after`). Its pings do not
/// fail, they time out (a cut-off worker's fail: `tests/accounting.rs`), and only the
/// master's pings tell it dead. With backup tasks off (a backup would finish the task
/// anyway) the job completes only if they do: the hung task runs again on the other worker.
#[test]
fn hung_worker_is_found_by_pings() {
    labrpc::sim::run(|net: Network| async move {
        let config = MasterConfig {
            backup_tasks: false,
            ..MasterConfig::simulated()
        };
        let (mut master, store) = master_with_numbers(&net, N, config);
        let hangs = WorkerConfig {
            fail_after: Some(N_RPC),
            ..WorkerConfig::simulated()
        };
        let w0 = worker(&net, &store, "w0", hangs);
        let w1 = worker(&net, &store, "w1", WorkerConfig::simulated());
        let report = run_job(&mut master, &numbers_job(M, R)).await;
        check_numbers(&report, N);
        assert_eq!(w0.tasks_done(), N_RPC);
        assert!(report.failed_attempts >= 1, "{report:?}");
        assert_eq!(w1.tasks_done(), (M + R) as u64 - N_RPC, "{report:?}");
    });
}
