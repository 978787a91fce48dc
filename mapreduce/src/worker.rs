//! The worker: runs the tasks the master hands it, one call at a time.
//!
//! A worker is a server of [`WorkerService`] plus a loop that registers it with the master
//! every [`WorkerConfig::register_every`]. It keeps no state between tasks that matters to
//! the job: a task's output is in the shared [`Storage`] when its call returns, so a worker
//! can die at any moment and the master just runs its task elsewhere.

use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;
use tarpc::context::Context;
use tokio::sync::Notify;

use crate::App;
use crate::protocol::{MasterEnd, MasterServiceClient, TaskArgs, TaskError, WorkerService};
use crate::storage::Storage;
use crate::task;

/// How a worker behaves.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// After this many task requests the worker stops answering anything, as if hung (a
    /// failure only pings can tell). Go's `nRPC` workers die instead; the Go ports copy that
    /// in a wrapper of their own. `None`: never.
    pub fail_after: Option<u64>,
    /// Time each task takes before it runs (a simulated machine's speed; a straggler has a
    /// large one). Zero in real mode.
    pub task_time: Duration,
    /// Run tasks on tokio's blocking threads, so the worker keeps answering pings while a
    /// long task reads and computes. Real mode only: a simulation must not use threads.
    pub offload: bool,
    /// How often the worker registers with the master.
    pub register_every: Duration,
}

impl WorkerConfig {
    /// A worker on the simulated network: every task takes 10 ms of virtual time.
    pub fn simulated() -> WorkerConfig {
        WorkerConfig {
            fail_after: None,
            task_time: Duration::from_millis(10),
            offload: false,
            register_every: Duration::from_millis(500),
        }
    }

    /// A worker process on TCP.
    pub fn real() -> WorkerConfig {
        WorkerConfig {
            offload: true,
            task_time: Duration::ZERO,
            register_every: Duration::from_secs(1),
            ..WorkerConfig::simulated()
        }
    }
}

/// A worker. Cheap to clone: clones are the same worker.
#[derive(Clone)]
pub struct Worker {
    inner: Arc<Inner>,
}

struct Inner {
    apps: Vec<Arc<dyn App>>,
    store: Arc<dyn Storage>,
    config: WorkerConfig,
    state: Mutex<State>,
    stopped: Notify,
}

#[derive(Default)]
struct State {
    /// Task requests admitted.
    requests: u64,
    /// Tasks completed.
    tasks_done: u64,
    /// Reached `fail_after`: answers nothing any more.
    hung: bool,
    /// Told to shut down.
    stopped: bool,
}

/// Why a worker's registration loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The master said the job is over.
    Shutdown,
    /// The worker reached its `fail_after` and hung.
    Hung,
    /// The master could not be reached for too long.
    MasterGone,
}

impl Worker {
    /// A worker that can run `apps`, reading and writing `store`.
    pub fn new(apps: Vec<Arc<dyn App>>, store: Arc<dyn Storage>, config: WorkerConfig) -> Worker {
        Worker {
            inner: Arc::new(Inner {
                apps,
                store,
                config,
                state: Mutex::new(State::default()),
                stopped: Notify::new(),
            }),
        }
    }

    /// Starts a worker on node `name` of a simulated network, registering with the master on
    /// node `master`.
    pub fn start(
        net: &labrpc::Network,
        name: &str,
        master: &str,
        apps: Vec<Arc<dyn App>>,
        store: Arc<dyn Storage>,
        config: WorkerConfig,
    ) -> Worker {
        let worker = Worker::new(apps, store, config);
        net.add_server(name, worker.clone().serve());
        let master = MasterServiceClient::from(net.client(name, master));
        let me = worker.clone();
        let name = name.to_owned();
        net.spawn(&name.clone(), async move {
            me.register_loop(&name, &master, None).await;
        });
        worker
    }

    /// How many tasks this worker has completed.
    pub fn tasks_done(&self) -> u64 {
        self.inner.state.lock().tasks_done
    }

    /// Whether the worker has been told to shut down.
    pub fn is_stopped(&self) -> bool {
        self.inner.state.lock().stopped
    }

    /// Registers as `name` with `master` every [`WorkerConfig::register_every`] until shut
    /// down or hung, or, if `give_up_after` is set, until that many registrations in a row
    /// have failed.
    pub async fn register_loop(
        &self,
        name: &str,
        master: &MasterServiceClient<MasterEnd>,
        give_up_after: Option<u32>,
    ) -> Exit {
        let mut failures = 0;
        loop {
            if let Some(exit) = self.exit() {
                return exit;
            }
            match master.register(labrpc::context(), name.to_owned()).await {
                Ok(()) => failures = 0,
                Err(_) => failures += 1,
            }
            if give_up_after.is_some_and(|limit| failures >= limit) {
                return Exit::MasterGone;
            }
            tokio::select! {
                biased;
                () = self.inner.stopped.notified() => {}
                () = tokio::time::sleep(self.inner.config.register_every) => {}
            }
        }
    }

    fn exit(&self) -> Option<Exit> {
        let state = self.inner.state.lock();
        if state.stopped {
            Some(Exit::Shutdown)
        } else if state.hung {
            Some(Exit::Hung)
        } else {
            None
        }
    }

    /// Counts a task request; false if the worker is (or now becomes) hung.
    fn admit(&self) -> bool {
        let mut state = self.inner.state.lock();
        if let Some(limit) = self.inner.config.fail_after
            && state.requests >= limit
        {
            state.hung = true;
        }
        if state.hung {
            return false;
        }
        state.requests += 1;
        true
    }

    fn is_hung(&self) -> bool {
        self.inner.state.lock().hung
    }

    async fn execute(&self, args: TaskArgs) -> Result<(), TaskError> {
        let app = self
            .inner
            .apps
            .iter()
            .find(|app| app.name() == args.app)
            .cloned()
            .ok_or_else(|| TaskError::UnknownApp {
                app: args.app.clone(),
            })?;
        let store = self.inner.store.clone();
        let run = move || task::run(&*app, &*store, &args.job, &args.task);
        if self.inner.config.offload {
            tokio::task::spawn_blocking(run).await.unwrap_or_else(|e| {
                Err(TaskError::Crashed {
                    detail: e.to_string(),
                })
            })
        } else {
            run()
        }
    }
}

impl WorkerService for Worker {
    /// Runs the task. Invariant: `Ok` is replied only once all of the task's output files are
    /// written whole, so the master may count the task done on seeing it.
    async fn do_task(self, _: Context, args: TaskArgs) -> Result<(), TaskError> {
        if !self.admit() {
            // Hung: like a machine that stopped, never answer.
            std::future::pending::<()>().await;
        }
        if self.is_stopped() {
            return Err(TaskError::Stopped);
        }
        if !self.inner.config.task_time.is_zero() {
            tokio::time::sleep(self.inner.config.task_time).await;
        }
        self.execute(args).await?;
        self.inner.state.lock().tasks_done += 1;
        Ok(())
    }

    async fn ping(self, _: Context) -> u64 {
        if self.is_hung() {
            std::future::pending::<()>().await;
        }
        self.tasks_done()
    }

    async fn shutdown(self, _: Context) -> u64 {
        self.inner.state.lock().stopped = true;
        self.inner.stopped.notify_one();
        self.tasks_done()
    }
}
