//! A chaos scenario: one lab's servers and clients in the simulation, faults injected by
//! [`crate::chaos`], every operation timed, and the history checked at the end.
//!
//! A run can fail in four ways, told apart by [`Outcome::verdict`]: the safety check finds a
//! violation; a client is blocked (its operation never returned, [`labs::DRAIN`] after the
//! faults healed: a liveness failure); the lab panics; or the run passes its virtual-time limit.

use labrpc::{Faults, Network, Probability, sim};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::time::Duration;

use crate::cli::{Lab, ScenarioArgs};
use crate::labs;

mod outcome;

#[cfg(test)]
pub(crate) use outcome::sample_outcome;
pub use outcome::{Aborted, Blocked, Check, Outcome, Pending, Verdict};

/// The settings of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// The seed.
    pub seed: u64,
    /// Servers (replicas, peers, workers).
    pub servers: usize,
    /// Concurrent clients.
    pub clients: usize,
    /// Simulated time during which clients start operations.
    pub duration: Duration,
    /// Loss probability of requests and of replies.
    pub drop: f64,
    /// Long delays for unreachable servers.
    pub long_delays: bool,
    /// Long reordering of replies.
    pub reordering: bool,
    /// Mean time between partitions (zero: none).
    pub partition_every: Duration,
    /// Mean time between crashes (zero: none).
    pub crash_every: Duration,
    /// Whether a crash loses the server's disk (else the disk keeps what was synced).
    pub lose_disks: bool,
}

impl From<&ScenarioArgs> for Params {
    fn from(a: &ScenarioArgs) -> Self {
        Params {
            seed: a.seed,
            servers: a.servers as usize,
            clients: a.clients as usize,
            duration: a.duration,
            drop: a.drop,
            long_delays: a.long_delays,
            reordering: a.reordering,
            partition_every: a.partition_every,
            crash_every: a.crash_every,
            lose_disks: a.lose_disks,
        }
    }
}

impl Params {
    /// The options that give these settings, all of them, so that a printed command replays
    /// the run exactly whatever the defaults become.
    pub fn command_line(&self) -> String {
        let mut line = format!(
            "--seed {} --servers {} --clients {} --duration {}ms --drop {} --partition-every {}ms --crash-every {}ms",
            self.seed,
            self.servers,
            self.clients,
            self.duration.as_millis(),
            self.drop,
            self.partition_every.as_millis(),
            self.crash_every.as_millis()
        );
        if self.long_delays {
            line.push_str(" --long-delays");
        }
        if self.reordering {
            line.push_str(" --reordering");
        }
        if self.lose_disks {
            line.push_str(" --lose-disks");
        }
        line
    }

    /// Whether `lab`'s scenario can run with these settings. The sharded labs keep their
    /// state in memory only, with nothing to restart from, so they take no crashes.
    ///
    /// # Errors
    /// The option to change, and why.
    pub fn supported_by(&self, lab: Lab) -> Result<(), String> {
        let in_memory = matches!(lab, Lab::Shardmaster | Lab::Shardkv);
        if in_memory && !self.crash_every.is_zero() {
            return Err(format!(
                "{}: --crash-every must be 0s: its servers keep their state in memory only, \
                 so a crashed one has nothing to restart from (partitions and --drop still \
                 apply)",
                lab.name()
            ));
        }
        Ok(())
    }

    /// The network faults these settings ask for.
    pub fn faults(&self) -> Faults {
        let loss = Probability::from_fraction(self.drop).unwrap_or(Probability::NEVER);
        Faults {
            reliable: self.drop == 0.0,
            long_delays: self.long_delays,
            long_reordering: self.reordering,
            request_loss: loss,
            reply_loss: loss,
            ..Faults::default()
        }
    }
}

/// The virtual-time limit of a run whose clients start operations for `duration`, unless the
/// command line sets one: 20 minutes more than twice the duration. A healthy run takes the
/// duration, then at most [`labs::DRAIN`] for clients to finish (a MapReduce job started at
/// the end may take up to one more duration and the drain), so only a run that waits or
/// retries forever reaches it.
pub fn default_time_limit(duration: Duration) -> Duration {
    sim::DEFAULT_TIME_LIMIT.saturating_add(duration.saturating_mul(2))
}

/// Counters the summary line shows while the scenario runs, and the clients that were left
/// blocked at the end.
#[derive(Clone, Debug, Default)]
pub struct Live {
    ops: Rc<Cell<u64>>,
    faults: Rc<Cell<u64>>,
    latencies_us: Rc<RefCell<Vec<u64>>>,
    blocked: Rc<RefCell<BTreeSet<usize>>>,
    pending: Rc<RefCell<BTreeMap<usize, Pending>>>,
    fault_spans: Rc<RefCell<Vec<FaultSpan>>>,
}

/// A fault as the history picture draws it: when it began and healed, in simulated time
/// since the start, and what it was (`partition {server0 client1} | {server1 server2}`,
/// `crash server2`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultSpan {
    /// When the fault began.
    pub start: Duration,
    /// When it healed.
    pub end: Duration,
    /// What it was.
    pub label: String,
}

impl Live {
    /// Records one completed operation and how long it took.
    pub fn op_done(&self, latency: Duration) {
        self.ops.set(self.ops.get() + 1);
        self.latencies_us
            .borrow_mut()
            .push(latency.as_micros() as u64);
    }

    /// Records one injected fault.
    pub fn fault(&self) {
        self.faults.set(self.faults.get() + 1);
    }

    /// Records a fault that lasted from `start` to `end` (simulated time), for the picture.
    pub fn fault_span(&self, start: Duration, end: Duration, label: String) {
        self.fault_spans
            .borrow_mut()
            .push(FaultSpan { start, end, label });
    }

    /// The faults recorded so far, in the order they healed.
    pub fn fault_spans(&self) -> Vec<FaultSpan> {
        self.fault_spans.borrow().clone()
    }

    /// Operations completed so far.
    pub fn ops(&self) -> u64 {
        self.ops.get()
    }

    /// Faults injected so far.
    pub fn faults(&self) -> u64 {
        self.faults.get()
    }

    /// Records that client `client` had not finished [`labs::DRAIN`] after the faults healed.
    pub(crate) fn client_blocked(&self, client: usize) {
        self.blocked.borrow_mut().insert(client);
    }

    /// Records that client `client`'s operation `what`, called at `since`, has not returned.
    pub(crate) fn operation_pending(&self, client: usize, what: String, since: Duration) {
        self.pending
            .borrow_mut()
            .insert(client, Pending { what, since });
    }

    /// The blocked clients, in order, each with its pending operation if one was recorded.
    fn blocked(&self) -> Vec<Blocked> {
        let pending = self.pending.borrow();
        self.blocked
            .borrow()
            .iter()
            .map(|&client| Blocked {
                client,
                pending: pending.get(&client).cloned(),
            })
            .collect()
    }
}

/// What a lab's workload reports at the end.
#[derive(Clone, Debug)]
pub struct LabReport {
    /// The verdict on its history.
    pub check: Check,
    /// The history drawn as a self-contained HTML page, if the lab records one.
    pub history_html: Option<String>,
}

/// Runs `lab`'s scenario without a time limit: [`run_within`] with `None`.
pub fn run(lab: Lab, params: &Params, live_lines: bool, record: bool) -> Outcome {
    run_within(lab, params, live_lines, record, None)
}

/// Runs `lab`'s scenario. With `live_lines`, prints a summary line per simulated second to
/// stdout; the lines depend only on the settings, so the same seed prints the same bytes.
/// With `record`, keeps every network event. With a `limit`, a run still going after that
/// much virtual time stops, as [`Aborted::TimedOut`]. A panic in the lab's code is reported
/// as [`Aborted::Panicked`], not a crash of distlab. Neither `live_lines` nor `record`
/// changes what happens in the run.
pub fn run_within(
    lab: Lab,
    params: &Params,
    live_lines: bool,
    record: bool,
    limit: Option<Duration>,
) -> Outcome {
    let live = Live::default();
    let lab_report: Rc<RefCell<Option<LabReport>>> = Rc::default();
    let network: Rc<RefCell<Option<Network>>> = Rc::default();
    let (keep_report, keep_net, body_live) = (lab_report.clone(), network.clone(), live.clone());
    let body_params = params.clone();
    let body = move |net: Network| async move {
        let (params, live) = (body_params, body_live);
        *keep_net.borrow_mut() = Some(net.clone());
        net.set_faults(params.faults());
        if live_lines {
            let (net, live) = (net.clone(), live.clone());
            tokio::task::spawn_local(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    println!("{}", summary_line(&net, &live));
                }
            });
        }
        let report = labs::run(lab, &net, &params, &live).await;
        *keep_report.borrow_mut() = Some(report);
    };
    let simulation = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match limit {
        Some(limit) => sim::simulate_for(params.seed, record, limit, body),
        None => Ok(sim::simulate(params.seed, record, body)),
    }));
    let rpcs = network.borrow().as_ref().map_or(0, |net| net.stats().rpcs);
    let (report, aborted) = match simulation {
        Ok(Ok(report)) => (Some(report), None),
        Ok(Err(sim::SimError::TimeLimit { limit, report, .. })) => {
            (Some(*report), Some(Aborted::TimedOut(limit)))
        }
        Err(panic) => {
            let message = panic_text(&*panic);
            (None, Some(Aborted::Panicked(message)))
        }
    };
    let lab_report = lab_report.borrow_mut().take();
    let (check, history_html) = match (&aborted, lab_report) {
        (Some(aborted), _) => (Check::Violation(aborted.to_string()), None),
        (None, Some(report)) => (report.check, report.history_html),
        // The body always ends by storing the lab's report.
        (None, None) => (Check::Unknown, None),
    };
    let latencies_us = live.latencies_us.borrow().clone();
    Outcome {
        params: params.clone(),
        simulated: report.as_ref().map_or(Duration::ZERO, |r| r.simulated),
        ops: live.ops(),
        faults: live.faults(),
        rpcs,
        latencies_us,
        check,
        blocked: if aborted.is_none() {
            live.blocked()
        } else {
            Vec::new()
        },
        aborted,
        history_html,
        trace_hash: report.as_ref().map_or(0, |r| r.trace_hash),
        events: report.map(|r| r.events).unwrap_or_default(),
    }
}

fn summary_line(net: &Network, live: &Live) -> String {
    let stats = net.stats();
    format!(
        "[{:>7.1} s] ops {:>6}  faults {:>4}  rpcs {:>8}  lost {:>6}",
        net.now().as_secs_f64(),
        live.ops(),
        live.faults(),
        stats.rpcs,
        stats.requests_lost + stats.replies_lost
    )
}

/// The message a panic carried ("a panic" if it carried none).
pub fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "a panic".to_owned())
}
