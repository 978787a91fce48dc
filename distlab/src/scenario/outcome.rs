//! What a run came to: the check of its history, its blocked clients, whether it stopped
//! before its end, and the [`Verdict`] made of them.

use labrpc::trace::Event;
use std::fmt;
use std::time::Duration;

use super::Params;
use crate::labs;

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

/// A client whose last operation had not returned [`labs::DRAIN`] after the faults healed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocked {
    /// The client's number: its node is `client{number}`.
    pub client: usize,
    /// The operation that never returned, if the lab records its operations (the key/value
    /// labs and Paxos do).
    pub pending: Option<Pending>,
}

/// An operation that was called and never returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// The operation, as the history checker writes it, e.g. `append("k1", "[0.3]")`.
    pub what: String,
    /// When it was called, in simulated time since the start.
    pub since: Duration,
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.pending {
            Some(Pending { what, since }) => write!(
                f,
                "client{}: {what} pending since {:.2} s",
                self.client,
                since.as_secs_f64()
            ),
            None => write!(
                f,
                "client{}: an operation never returned (this lab does not record which)",
                self.client
            ),
        }
    }
}

/// Why a run stopped before its end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Aborted {
    /// The lab's code (or distlab's) panicked, with this message.
    Panicked(String),
    /// The run was still going at this virtual-time limit.
    TimedOut(Duration),
}

impl fmt::Display for Aborted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Aborted::Panicked(message) => write!(f, "the lab panicked: {message}"),
            Aborted::TimedOut(limit) => write!(
                f,
                "the run was not over after {} of virtual time (--time-limit): something \
                 waits or retries forever",
                seconds(*limit)
            ),
        }
    }
}

/// `d` as `12 s` or `0.5 s`.
fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

/// What a run amounts to: the worst of what happened to it, for exit statuses and counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// The check passed and every client finished.
    Passed,
    /// The checker ran out of steps; every client finished. Not a failure (exit status 0).
    Inconclusive,
    /// A client's operation never returned (a liveness failure); the history was safe, or
    /// the checker could not tell.
    Blocked,
    /// The safety check found a violation (whether or not clients were blocked too).
    Violation,
    /// The run passed its virtual-time limit.
    TimedOut,
    /// The lab panicked.
    Panicked,
}

impl Verdict {
    /// Whether the run failed: anything but a pass or an inconclusive check.
    pub fn is_failure(self) -> bool {
        !matches!(self, Verdict::Passed | Verdict::Inconclusive)
    }
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
    /// The verdict on the history. For a run that stopped before its end (see `aborted`), a
    /// violation saying why: nothing was checked, and such a run must not pass for anyone
    /// who looks only at this.
    pub check: Check,
    /// Clients whose operation never returned [`labs::DRAIN`] after the faults healed, in
    /// order (empty for a run that stopped before its end).
    pub blocked: Vec<Blocked>,
    /// Why the run stopped before its end, if it did.
    pub aborted: Option<Aborted>,
    /// The history picture, if any.
    pub history_html: Option<String>,
    /// Every network event, if recorded (for a run past its time limit: up to the limit).
    pub events: Vec<Event>,
    /// The trace hash.
    pub trace_hash: u64,
}

impl Outcome {
    /// How many clients were blocked: `2 of 3 clients still blocked 60 s after the faults
    /// healed`.
    pub fn blocked_summary(&self) -> String {
        format!(
            "{} of {} clients still blocked {} s after the faults healed",
            self.blocked.len(),
            self.params.clients,
            labs::DRAIN.as_secs()
        )
    }

    /// What the run amounts to: a panic or a timeout first, then a safety violation, then
    /// blocked clients.
    pub fn verdict(&self) -> Verdict {
        match &self.aborted {
            Some(Aborted::Panicked(_)) => Verdict::Panicked,
            Some(Aborted::TimedOut(_)) => Verdict::TimedOut,
            None if self.check.is_violation() => Verdict::Violation,
            None if !self.blocked.is_empty() => Verdict::Blocked,
            None if self.check == Check::Unknown => Verdict::Inconclusive,
            None => Verdict::Passed,
        }
    }
}

/// A run for unit tests of what is made of outcomes: seed `seed`, 3 servers, 3 clients, 1 s,
/// with this check, these blocked clients and this abort.
#[cfg(test)]
pub(crate) fn sample_outcome(
    seed: u64,
    check: Check,
    blocked: Vec<Blocked>,
    aborted: Option<Aborted>,
) -> Outcome {
    Outcome {
        params: Params {
            seed,
            servers: 3,
            clients: 3,
            duration: Duration::from_secs(1),
            drop: 0.1,
            long_delays: false,
            reordering: false,
            partition_every: Duration::ZERO,
            crash_every: Duration::ZERO,
            lose_disks: false,
        },
        simulated: Duration::from_secs(61),
        ops: 10,
        faults: 0,
        rpcs: 100,
        latencies_us: vec![1000; 10],
        check,
        blocked,
        aborted,
        history_html: None,
        events: Vec::new(),
        trace_hash: 0xabc,
    }
}
