//! A chaos scenario: one lab's servers and clients in the simulation, faults injected by
//! [`crate::chaos`], every operation timed, and the history checked at the end.

use labrpc::trace::Event;
use labrpc::{Faults, Network, Probability, sim};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use crate::cli::{Lab, ScenarioArgs};
use crate::labs;

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
        line
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

/// The verdict on a run's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// The history is linearizable, or the lab's safety check passed; the text says what held.
    Passed(String),
    /// The check found a violation; the text says what.
    Violation(String),
    /// The checker ran out of time.
    Unknown,
}

impl Check {
    /// True for a violation.
    pub fn is_violation(&self) -> bool {
        matches!(self, Check::Violation(_))
    }
}

/// Counters the summary line shows while the scenario runs.
#[derive(Clone, Debug, Default)]
pub struct Live {
    ops: Rc<Cell<u64>>,
    faults: Rc<Cell<u64>>,
    latencies_us: Rc<RefCell<Vec<u64>>>,
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

    /// Operations completed so far.
    pub fn ops(&self) -> u64 {
        self.ops.get()
    }

    /// Faults injected so far.
    pub fn faults(&self) -> u64 {
        self.faults.get()
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

/// What a run produced.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The settings.
    pub params: Params,
    /// Simulated time the run took.
    pub simulated: Duration,
    /// Operations completed.
    pub ops: u64,
    /// Faults injected.
    pub faults: u64,
    /// RPCs sent.
    pub rpcs: u64,
    /// Latency of every completed operation, in simulated microseconds.
    pub latencies_us: Vec<u64>,
    /// The verdict.
    pub check: Check,
    /// The history picture, if any.
    pub history_html: Option<String>,
    /// Every network event, if recorded.
    pub events: Vec<Event>,
    /// The trace hash.
    pub trace_hash: u64,
}

/// Runs `lab`'s scenario. With `live_lines`, prints a summary line per simulated second to
/// stdout; the lines depend only on the settings, so the same seed prints the same bytes.
/// With `record`, keeps every network event. A panic in the lab's code is reported as a
/// violation, not a crash of distlab.
pub fn run(lab: Lab, params: &Params, live_lines: bool, record: bool) -> Outcome {
    let result: Rc<RefCell<Option<(LabReport, Live, u64)>>> = Rc::default();
    let keep = result.clone();
    let body_params = params.clone();
    let simulation = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        sim::simulate(params.seed, record, move |net: Network| async move {
            let params = body_params;
            net.set_faults(params.faults());
            let live = Live::default();
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
            *keep.borrow_mut() = Some((report, live, net.stats().rpcs));
        })
    }));
    let report = match simulation {
        Ok(report) => report,
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "a panic".to_owned());
            return Outcome {
                params: params.clone(),
                simulated: Duration::ZERO,
                ops: 0,
                faults: 0,
                rpcs: 0,
                latencies_us: Vec::new(),
                check: Check::Violation(format!("the lab panicked: {message}")),
                history_html: None,
                events: Vec::new(),
                trace_hash: 0,
            };
        }
    };
    let (lab_report, live, rpcs) = result.borrow_mut().take().unwrap_or_else(|| {
        (
            LabReport {
                check: Check::Unknown,
                history_html: None,
            },
            Live::default(),
            0,
        )
    });
    let latencies_us = live.latencies_us.borrow().clone();
    Outcome {
        params: params.clone(),
        simulated: report.simulated,
        ops: live.ops(),
        faults: live.faults(),
        rpcs,
        latencies_us,
        check: lab_report.check,
        history_html: lab_report.history_html,
        events: report.events,
        trace_hash: report.trace_hash,
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
