//! The master: hands out map tasks, then reduce tasks, and re-runs the tasks of workers that
//! fail (paper §3.2–§3.3, §3.6).
//!
//! The master pushes work, as in Go's 2015 lab: it calls a worker's `do_task` and the call's
//! return is the completion report. Per phase it keeps, for each task, whether it is done and
//! how many executions of it are running, and a queue of tasks waiting for a worker.
//!
//! - **Assignment.** An idle worker takes the next waiting task. When none is waiting but
//!   tasks are still running — the phase is near its end — an idle worker takes a *backup
//!   execution* (§3.6), if [`MasterConfig::backup_tasks`] is on, of the running task that
//!   started first and has no backup yet, once that task has run
//!   [`MasterConfig::backup_after`] times as long as the phase's executions took on average.
//!   A task running as fast as the others is left alone: on a busy machine (more worker
//!   slots than cores) a twin would only slow it down. A task is done when any execution of
//!   it is.
//! - **Failure detection.** While a worker runs a task the master pings it every
//!   [`MasterConfig::ping_interval`]; [`MasterConfig::dead_after`] missed pings in a row and
//!   the worker is dead: its call is abandoned, the task waits again, and the worker leaves
//!   the pool. A call that fails (lost request or reply, killed worker) also puts the task
//!   back; a worker whose calls fail [`MasterConfig::failures_before_drop`] times in a row
//!   leaves the pool. A worker that is alive after all registers again and rejoins.
//! - **Task errors.** A task that reports an error running it again cannot fix
//!   ([`TaskError::is_fatal`]: bad input, unknown application, corrupt data) fails the job.
//!   Any other error (a disk full, a panic) counts as a failed call, and the task waits for
//!   a worker it has not failed on (or any, if the pool has no other); after
//!   [`MasterConfig::task_error_limit`] such errors the job fails, naming the task.
//! - **Joining.** A registration of a worker not in the pool makes the master connect to it.
//!   On TCP the connection is made beside the scheduling, never in its way, and given up
//!   after [`MasterConfig::connect_timeout`]: a registration naming an address that never
//!   answers (a firewalled worker, a bogus registration) costs one pending connection, not a
//!   stalled job. At most [`MAX_CONNECTING`] connections are pending at once; the worker
//!   registers again anyway.
//! - **Duplicates.** A completion of a task already done (a backup's twin, an execution whose
//!   earlier reply was lost) is counted and ignored; its files are the same bytes
//!   (see the `task` module), so nothing changes.
//!
//! Intermediate files live in shared [`Storage`], not on the map worker's disk, so unlike the
//! paper (§3.3) a dead worker's *completed* map tasks need not run again.

use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tarpc::context::Context;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::job::{JobError, JobReport, JobSpec, plan};
use crate::protocol::{
    MasterService, Phase, Task, TaskArgs, TaskError, WorkerEnd, WorkerServiceClient,
};
use crate::storage::Storage;
use crate::task;

/// The master's timing and policy.
#[derive(Clone, Debug)]
pub struct MasterConfig {
    /// How often a busy worker is pinged.
    pub ping_interval: Duration,
    /// How long a ping may take before it counts as missed.
    pub ping_timeout: Duration,
    /// Missed pings in a row after which a worker is dead.
    pub dead_after: u32,
    /// Failed task calls in a row after which a worker leaves the pool.
    pub failures_before_drop: u32,
    /// Whether to start backup executions near the end of a phase (§3.6).
    pub backup_tasks: bool,
    /// A running task gets a backup once it has run this many times the mean duration of
    /// the phase's completed executions (none before one has completed). 0 (or less, or NaN)
    /// backs up any running task at once; `f64::INFINITY` never does.
    pub backup_after: f64,
    /// Errors a task's executions may report that are not fatal (a disk full, a panic: see
    /// [`TaskError::is_fatal`]) before the job fails, at least 1. Such a task waits for
    /// another worker; it runs again on one where it failed only if the pool has no other.
    pub task_error_limit: u32,
    /// On TCP, how long the master tries to connect to a worker that registered before it
    /// gives up (the worker registers again). A simulated connection is immediate.
    pub connect_timeout: Duration,
}

/// [`MasterConfig::backup_after`]'s default: half as long again as a typical task.
pub const BACKUP_AFTER_MEAN_TIMES: f64 = 1.5;

/// [`MasterConfig::task_error_limit`]'s default: Hadoop's number of attempts of a task
/// (`mapreduce.map.maxattempts`).
pub const TASK_ERROR_LIMIT: u32 = 4;

/// [`MasterConfig::connect_timeout`]'s default: ample for a worker that is up (a connection
/// on a LAN takes well under a millisecond), short next to the operating system's own limit
/// (about two minutes on Linux) for an address that never answers.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// At most this many connections to registered workers are pending at once; a registration
/// beyond them is dropped (its worker registers again).
pub const MAX_CONNECTING: usize = 64;

impl MasterConfig {
    /// Settings for the simulated network.
    pub fn simulated() -> MasterConfig {
        MasterConfig {
            ping_interval: Duration::from_millis(100),
            ping_timeout: Duration::from_millis(100),
            dead_after: 3,
            failures_before_drop: 3,
            backup_tasks: true,
            backup_after: BACKUP_AFTER_MEAN_TIMES,
            task_error_limit: TASK_ERROR_LIMIT,
            connect_timeout: CONNECT_TIMEOUT,
        }
    }

    /// Settings for real TCP.
    pub fn real() -> MasterConfig {
        MasterConfig {
            ping_interval: Duration::from_millis(500),
            ping_timeout: Duration::from_secs(2),
            dead_after: 3,
            ..MasterConfig::simulated()
        }
    }
}

/// Something that happened during a job, for progress displays and logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A phase began with this many tasks.
    PhaseStarted {
        /// The phase.
        phase: Phase,
        /// Its number of tasks.
        tasks: usize,
    },
    /// A worker joined the pool.
    WorkerJoined {
        /// The worker.
        worker: String,
    },
    /// A worker left the pool: dead, or too many failed calls.
    WorkerLost {
        /// The worker.
        worker: String,
    },
    /// A task was handed to a worker (`backup`: as a second execution).
    TaskStarted {
        /// The phase.
        phase: Phase,
        /// The task's number.
        task: usize,
        /// The worker.
        worker: String,
        /// Whether this is a backup execution.
        backup: bool,
    },
    /// A task is done (its first completion).
    TaskDone {
        /// The phase.
        phase: Phase,
        /// The task's number.
        task: usize,
        /// The worker that completed it.
        worker: String,
    },
    /// An execution failed; the task waits for another worker unless another execution runs.
    AttemptFailed {
        /// The phase.
        phase: Phase,
        /// The task's number.
        task: usize,
        /// The worker.
        worker: String,
        /// Why.
        reason: String,
    },
}

impl Event {
    /// Reports the event through `tracing`: a protocol event in a recorded simulation's
    /// trace, a log line in a real process.
    fn record(&self) {
        match self {
            Event::PhaseStarted { phase, tasks } => {
                tracing::info!(phase = %phase, tasks, "phase started")
            }
            Event::WorkerJoined { worker } => tracing::debug!(worker, "worker joined"),
            Event::WorkerLost { worker } => {
                tracing::info!(worker, "worker lost: its running tasks are re-issued")
            }
            Event::TaskStarted {
                phase,
                task,
                worker,
                backup,
            } => {
                let what = if *backup {
                    "backup task handed out"
                } else {
                    "task handed out"
                };
                tracing::debug!(phase = %phase, task, worker, backup, "{what}")
            }
            Event::TaskDone {
                phase,
                task,
                worker,
            } => tracing::debug!(phase = %phase, task, worker, "task done"),
            Event::AttemptFailed {
                phase,
                task,
                worker,
                reason,
            } => {
                let what = "attempt failed: the task will be re-issued";
                tracing::debug!(phase = %phase, task, worker, reason, "{what}")
            }
        }
    }
}

/// How the master reaches a worker that registered.
#[derive(Clone)]
pub enum Connect {
    /// On a simulated network, from node `node`: a worker's name is its node.
    Simulated {
        /// The network.
        net: labrpc::Network,
        /// The master's node.
        node: String,
    },
    /// On TCP: a worker's name is its `host:port`.
    Tcp {
        /// How to connect to workers: the master's own options, so that it talks only to
        /// workers that hold its cluster secret (if it has one).
        options: Arc<labrpc::tcp::TcpOptions>,
    },
}

/// Registrations received, shared by the master's service and its scheduler.
#[derive(Default)]
struct Registry {
    announced: Mutex<BTreeSet<String>>,
    wake: Notify,
}

/// The master's RPC server: it only takes registrations.
#[derive(Clone)]
pub struct MasterServer {
    registry: Arc<Registry>,
}

impl MasterService for MasterServer {
    /// Notes the worker; the scheduler connects to it if it is not in the pool. Idempotent:
    /// a repeated registration of a worker in the pool changes nothing.
    async fn register(self, _: Context, worker: String) {
        self.registry.announced.lock().insert(worker);
        self.registry.wake.notify_one();
    }
}

/// A worker in the pool.
struct Slot {
    tasks: WorkerServiceClient<WorkerEnd>,
    pings: WorkerServiceClient<WorkerEnd>,
    busy: bool,
    failures: u32,
}

/// The master. One job runs at a time ([`Master::run`] takes `&mut self`); the pool of
/// workers carries over from job to job.
pub struct Master {
    registry: Arc<Registry>,
    config: MasterConfig,
    store: Arc<dyn Storage>,
    connect: Connect,
    pool: BTreeMap<String, Slot>,
    /// TCP connections being made to workers that registered, and their names.
    connecting: FuturesUnordered<BoxFuture<'static, (String, Option<WorkerEnd>)>>,
    connecting_to: BTreeSet<String>,
}

/// Per-task state within a phase.
#[derive(Clone, Default)]
struct TaskState {
    done: bool,
    running: u32,
    /// When its latest execution other than a backup started.
    started: Option<Instant>,
    /// Executions that reported an error that is not fatal (see [`TaskError::is_fatal`]).
    errors: u32,
    /// The workers those executions ran on.
    failed_on: BTreeSet<String>,
}

/// The durations of a phase's completed executions, for telling a straggler.
#[derive(Default)]
struct Durations {
    total: Duration,
    count: u32,
}

impl Durations {
    /// How long a task runs before it gets a backup; `None` before any execution completed,
    /// or if that time is past what a `Duration` holds.
    fn backup_after(&self, times_mean: f64) -> Option<Duration> {
        // BEGIN SOLUTION: todo!("lab 1: times_mean times the mean duration of the completed executions; None before one completed or past what a Duration holds; never a panic")
        if self.count == 0 {
            return None;
        }
        let mean = (self.total / self.count).as_secs_f64();
        // `max` also turns NaN into 0: a nonsense factor backs up at once, never panics.
        Duration::try_from_secs_f64(mean * times_mean.max(0.0)).ok()
        // END SOLUTION
    }
}

/// How one execution ended.
enum Outcome {
    Replied(Result<Result<(), TaskError>, labrpc::Error>),
    Silent,
}

impl Master {
    /// A master using `store`, reaching workers by `connect`. Serve [`Master::server`] for
    /// workers to register.
    pub fn new(config: MasterConfig, store: Arc<dyn Storage>, connect: Connect) -> Master {
        Master {
            registry: Arc::new(Registry::default()),
            config,
            store,
            connect,
            pool: BTreeMap::new(),
            connecting: FuturesUnordered::new(),
            connecting_to: BTreeSet::new(),
        }
    }

    /// Starts a master on node `node` of a simulated network.
    pub fn start(
        net: &labrpc::Network,
        node: &str,
        config: MasterConfig,
        store: Arc<dyn Storage>,
    ) -> Master {
        let master = Master::new(
            config,
            store,
            Connect::Simulated {
                net: net.clone(),
                node: node.into(),
            },
        );
        net.add_server(node, master.server().serve());
        master
    }

    /// The RPC server workers register with.
    pub fn server(&self) -> MasterServer {
        MasterServer {
            registry: self.registry.clone(),
        }
    }

    /// The workers in the pool.
    pub fn workers(&self) -> Vec<String> {
        self.pool.keys().cloned().collect()
    }

    /// Runs job `spec` and returns its output, telling `observer` what happens.
    pub async fn run(
        &mut self,
        spec: &JobSpec,
        observer: &mut dyn FnMut(&Event),
    ) -> Result<JobReport, JobError> {
        let observer = &mut |event: &Event| {
            event.record();
            observer(event);
        };
        let started = Instant::now();
        let splits = plan(&*self.store, spec)?;
        let job = self.store.create_job().map_err(JobError::Storage)?;
        let mut report = JobReport::default();
        let map_tasks = splits.len();
        let maps: Vec<Task> = splits
            .into_iter()
            .enumerate()
            .map(|(index, split)| Task::Map {
                index,
                split,
                reduce_tasks: spec.reduce_tasks,
            })
            .collect();
        let reduces: Vec<Task> = (0..spec.reduce_tasks)
            .map(|index| Task::Reduce { index, map_tasks })
            .collect();
        let mut result = Ok(());
        for tasks in [maps, reduces] {
            let args = tasks
                .into_iter()
                .map(|task| TaskArgs {
                    job: job.clone(),
                    app: spec.app.clone(),
                    task,
                })
                .collect();
            result = self.run_phase(args, &mut report, observer).await;
            if result.is_err() {
                break;
            }
        }
        let output = result.and_then(|()| {
            task::merge_outputs(&*self.store, &job, spec.reduce_tasks).map_err(JobError::Merge)
        });
        let cleanup = self.store.remove_job(&job).map_err(JobError::Storage);
        report.output = output?;
        cleanup?;
        report.elapsed = started.elapsed();
        Ok(report)
    }

    /// Tells every worker in the pool to stop (Go's `Shutdown`), and empties the pool.
    pub async fn shutdown_workers(&mut self) {
        let calls: Vec<_> = std::mem::take(&mut self.pool)
            .into_values()
            .map(|slot| async move {
                let _ = slot.pings.shutdown(labrpc::context()).await;
            })
            .collect();
        futures::future::join_all(calls).await;
    }

    /// Runs one phase to its end: every task done.
    async fn run_phase(
        &mut self,
        tasks: Vec<TaskArgs>,
        report: &mut JobReport,
        observer: &mut dyn FnMut(&Event),
    ) -> Result<(), JobError> {
        // BEGIN SOLUTION: todo!("lab 1: hand the phase's tasks to idle workers and wait for their calls; put back the tasks of failed calls and dead workers, back up stragglers, until every task is done (see the module docs)")
        let Some(phase) = tasks.first().map(|t| t.task.phase()) else {
            return Ok(());
        };
        observer(&Event::PhaseStarted {
            phase,
            tasks: tasks.len(),
        });
        let mut state = vec![TaskState::default(); tasks.len()];
        let mut waiting: VecDeque<usize> = (0..tasks.len()).collect();
        let mut remaining = tasks.len();
        let mut calls = FuturesUnordered::new();
        let mut durations = Durations::default();
        // Calls of the previous phase were abandoned with it.
        for slot in self.pool.values_mut() {
            slot.busy = false;
        }
        let registry = self.registry.clone();
        while remaining > 0 {
            self.absorb_registrations(observer);
            // Hand out work while there are idle workers and something to do.
            let backup_after = durations
                .backup_after(self.config.backup_after)
                .filter(|_| self.config.backup_tasks);
            // When a running task becomes slow enough for a backup, if an idle worker waits.
            let mut backup_due = None;
            let idle: Vec<String> = (self.pool.iter())
                .filter(|(_, slot)| !slot.busy)
                .map(|(worker, _)| worker.clone())
                .collect();
            for worker in idle {
                // A task is not run again on a worker where it failed, while the pool has
                // another.
                let pool = &self.pool;
                let may_run = |index: usize| {
                    let failed_on = &state[index].failed_on;
                    !failed_on.contains(&worker) || pool.keys().all(|w| failed_on.contains(w))
                };
                let picked = match waiting.iter().position(|&index| may_run(index)) {
                    Some(at) => waiting.remove(at).map(|index| (index, false)),
                    // The waiting tasks wait for other workers; no backups while any waits.
                    None if !waiting.is_empty() => None,
                    None => match backup_after.map(|after| backup_candidate(&state, after)) {
                        Some(Candidate::Now(index)) => may_run(index).then_some((index, true)),
                        Some(Candidate::At(due)) => {
                            backup_due = Some(due);
                            break;
                        }
                        Some(Candidate::None) | None => break,
                    },
                };
                let Some((index, backup)) = picked else {
                    continue;
                };
                let Some(slot) = self.pool.get_mut(&worker) else {
                    continue;
                };
                slot.busy = true;
                let task = &mut state[index];
                task.running += 1;
                if !backup {
                    task.started = Some(Instant::now());
                }
                report.attempts += 1;
                report.backups += u64::from(backup);
                observer(&Event::TaskStarted {
                    phase,
                    task: index,
                    worker: worker.clone(),
                    backup,
                });
                calls.push(execute(
                    worker.clone(),
                    index,
                    slot.tasks.clone(),
                    slot.pings.clone(),
                    tasks[index].clone(),
                    self.config.clone(),
                ));
            }
            let woke = tokio::select! {
                biased;
                Some(finished) = calls.next(), if !calls.is_empty() => Woke::Finished(finished),
                Some(connected) = self.connecting.next(), if !self.connecting.is_empty() => {
                    Woke::Connected(connected)
                }
                () = registry.wake.notified() => Woke::Other,
                () = sleep_until(backup_due) => Woke::Other,
            };
            let (worker, index, outcome, took) = match woke {
                Woke::Finished(finished) => finished,
                Woke::Connected((worker, end)) => {
                    self.connecting_to.remove(&worker);
                    if let Some(end) = end {
                        self.join(worker, end, observer);
                    }
                    continue;
                }
                Woke::Other => continue,
            };
            let task = &mut state[index];
            task.running -= 1;
            let failure = match outcome {
                Outcome::Replied(Ok(Ok(()))) => {
                    durations.total += took;
                    durations.count += 1;
                    *report.completed_by.entry(worker.clone()).or_default() += 1;
                    if let Some(slot) = self.pool.get_mut(&worker) {
                        slot.busy = false;
                        slot.failures = 0;
                    }
                    // Invariant: a task is done once, however many executions complete.
                    if task.done {
                        report.duplicates += 1;
                    } else {
                        task.done = true;
                        remaining -= 1;
                        observer(&Event::TaskDone {
                            phase,
                            task: index,
                            worker,
                        });
                    }
                    continue;
                }
                Outcome::Replied(Ok(Err(error))) if error.is_fatal() => {
                    return Err(JobError::Task {
                        phase,
                        index,
                        worker,
                        error,
                    });
                }
                // A worker shutting down says nothing about the task.
                Outcome::Replied(Ok(Err(TaskError::Stopped))) => {
                    (TaskError::Stopped.to_string(), false, None)
                }
                Outcome::Replied(Ok(Err(error))) => (error.to_string(), false, Some(error)),
                Outcome::Replied(Err(error)) => (error.to_string(), false, None),
                Outcome::Silent => ("stopped answering pings".to_string(), true, None),
            };
            let (reason, dead, task_error) = failure;
            report.failed_attempts += 1;
            // An error the task reported itself: counted, and the task avoids this worker.
            let mut gave_up = None;
            if let Some(error) = task_error
                && !task.done
            {
                task.errors += 1;
                task.failed_on.insert(worker.clone());
                if task.errors >= self.config.task_error_limit.max(1) {
                    gave_up = Some(JobError::TaskFailedRepeatedly {
                        phase,
                        index,
                        failures: task.errors,
                        worker: worker.clone(),
                        error,
                    });
                }
            }
            // Invariant: a task not done is either waiting or running somewhere.
            if !task.done && task.running == 0 {
                waiting.push_front(index);
            }
            observer(&Event::AttemptFailed {
                phase,
                task: index,
                worker: worker.clone(),
                reason,
            });
            if let Some(error) = gave_up {
                return Err(error);
            }
            if let Some(slot) = self.pool.get_mut(&worker) {
                slot.busy = false;
                slot.failures += 1;
                if dead || slot.failures >= self.config.failures_before_drop {
                    self.pool.remove(&worker);
                    observer(&Event::WorkerLost { worker });
                }
            }
        }
        Ok(())
        // END SOLUTION
    }

    /// Connects to workers that registered and are neither in the pool nor being connected
    /// to: at once on a simulated network; on TCP, by starting a connection that the
    /// scheduler's loop picks up when it is made (or given up).
    fn absorb_registrations(&mut self, observer: &mut dyn FnMut(&Event)) {
        // BEGIN SOLUTION: todo!("lab 1: connect to every registered worker neither in the pool nor being connected to; on TCP beside the scheduling, at most MAX_CONNECTING at once")
        let announced = std::mem::take(&mut *self.registry.announced.lock());
        for worker in announced {
            if self.pool.contains_key(&worker) || self.connecting_to.contains(&worker) {
                continue;
            }
            match &self.connect {
                Connect::Simulated { net, node } => {
                    let end = net.client(node, &worker);
                    self.join(worker, end, observer);
                }
                Connect::Tcp { options } => {
                    // Not an address, or too many pending: it will register again.
                    let Ok(addr) = worker.parse::<SocketAddr>() else {
                        continue;
                    };
                    if self.connecting.len() >= MAX_CONNECTING {
                        continue;
                    }
                    let timeout = self.config.connect_timeout;
                    let options = options.clone();
                    self.connecting_to.insert(worker.clone());
                    self.connecting.push(Box::pin(async move {
                        let end = crate::real::connect_worker(addr, timeout, options)
                            .await
                            .ok();
                        (worker, end)
                    }));
                }
            }
        }
        // END SOLUTION
    }

    /// Adds `worker`, reached by `end`, to the pool.
    fn join(&mut self, worker: String, end: WorkerEnd, observer: &mut dyn FnMut(&Event)) {
        // BEGIN SOLUTION: todo!("lab 1: add the worker to the pool, with an end of its own for pings (ping_timeout)")
        let mut pings = end.clone();
        pings.set_timeout(Some(self.config.ping_timeout));
        self.pool.insert(
            worker.clone(),
            Slot {
                tasks: WorkerServiceClient::from(end),
                pings: WorkerServiceClient::from(pings),
                busy: false,
                failures: 0,
            },
        );
        observer(&Event::WorkerJoined { worker });
        // END SOLUTION
    }
}

/// What woke the scheduler.
enum Woke {
    /// An execution ended.
    Finished((String, usize, Outcome, Duration)),
    /// A connection to a worker was made (`Some`) or given up (`None`).
    Connected((String, Option<WorkerEnd>)),
    /// A registration, or the time for a backup.
    Other,
}

/// What an idle worker may back up.
enum Candidate {
    /// This task: it has run for `backup_after` already.
    Now(usize),
    /// Nothing yet; the first running task reaches `backup_after` then.
    At(Instant),
    /// Nothing: every running task has a backup already.
    None,
}

/// The running task to back up: the earliest started among those with one execution, once
/// it has run for `backup_after`.
fn backup_candidate(state: &[TaskState], backup_after: Duration) -> Candidate {
    // BEGIN SOLUTION: todo!("lab 1: the earliest started of the running tasks with one execution, once it has run for backup_after (or when it will have)")
    let first = state
        .iter()
        .enumerate()
        .filter(|(_, t)| !t.done && t.running == 1)
        .filter_map(|(i, t)| Some((t.started?, i)))
        .min();
    match first {
        Some((started, index)) if Instant::now() >= started + backup_after => Candidate::Now(index),
        Some((started, _)) => Candidate::At(started + backup_after),
        None => Candidate::None,
    }
    // END SOLUTION
}

/// Sleeps until `due`; never returns if there is none.
async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

/// One execution of a task on a worker: the call, raced against the worker's pings.
async fn execute(
    worker: String,
    index: usize,
    tasks: WorkerServiceClient<WorkerEnd>,
    pings: WorkerServiceClient<WorkerEnd>,
    args: TaskArgs,
    config: MasterConfig,
) -> (String, usize, Outcome, Duration) {
    // BEGIN SOLUTION: todo!("lab 1: call do_task on the worker, raced against a ping every ping_interval; Silent after dead_after missed pings in a row")
    let begun = Instant::now();
    let call = async {
        let reply = tasks.do_task(labrpc::context(), args).await;
        Outcome::Replied(reply.map_err(labrpc::Error::from))
    };
    let watchdog = async {
        let mut missed = 0;
        loop {
            tokio::time::sleep(config.ping_interval).await;
            match pings.ping(labrpc::context()).await {
                Ok(_) => missed = 0,
                Err(_) => missed += 1,
            }
            if missed >= config.dead_after {
                return Outcome::Silent;
            }
        }
    };
    let outcome = tokio::select! {
        biased;
        outcome = call => outcome,
        outcome = watchdog => outcome,
    };
    (worker, index, outcome, begun.elapsed())
    // END SOLUTION
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_time_is_a_multiple_of_the_mean_and_never_panics() {
        let durations = Durations {
            total: Duration::from_millis(300),
            count: 3,
        };
        let after = |times| durations.backup_after(times);
        assert_eq!(after(1.5), Some(Duration::from_millis(150)));
        assert_eq!(after(0.0), Some(Duration::ZERO));
        assert_eq!(after(-2.0), Some(Duration::ZERO));
        assert_eq!(after(f64::NAN), Some(Duration::ZERO));
        assert_eq!(after(f64::INFINITY), None);
        assert_eq!(Durations::default().backup_after(1.5), None);
    }
}
