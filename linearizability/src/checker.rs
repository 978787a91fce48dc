//! The public entry point: check a history against a model, part by part.
//!
//! The model splits the history into independent parts (P-compositionality, Horn & Kroening):
//! a history is linearizable exactly when each part is, and many small searches are far cheaper
//! than one big one. Each part is searched by [`crate::search`].

use std::fmt;
use std::time::{Duration, Instant};

use crate::history::{Operation, Outcome};
use crate::model::Model;
use crate::search::{Budget, Search};

/// Steps each part gets in the first round.
const FIRST_SLICE: u64 = 1024;

/// The answer for a history or one of its parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// Some order of the operations, consistent with their intervals, satisfies the model.
    Linearizable,
    /// No such order exists.
    Violation,
    /// The limit was reached before the search finished.
    Unknown,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Linearizable => "linearizable",
            Verdict::Violation => "violation",
            Verdict::Unknown => "unknown",
        })
    }
}

/// How long the checker may search before answering [`Verdict::Unknown`].
///
/// The search is exponential in the worst case; a limit turns a hang into an answer. A step
/// budget gives the same answer on every machine (use it inside deterministic simulations);
/// a time limit bounds the wall-clock time. Both limits cover the whole history, all parts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time allowed, if limited.
    pub time: Option<Duration>,
    /// Search steps allowed (one step tries one operation or backtracks once), if limited.
    pub steps: Option<u64>,
    /// Memoized configurations allowed at once, over all parts, if limited: the memory bound.
    /// Each holds the part's linearized set (one bit per operation) and a model state. A
    /// part's memo is freed when the part is decided; past the cap (overshot by at most 1024
    /// configurations) the check stops as it does when the steps run out, and the undecided
    /// parts are [`Verdict::Unknown`].
    pub memo: Option<usize>,
    /// Keep searching the other parts after one part is found to be a violation, to report
    /// every failing part (may take much longer). By default the check stops at the first
    /// violation, and the parts not finished by then are reported [`Verdict::Unknown`].
    pub all_parts: bool,
}

impl Limits {
    /// No limit: search to the end.
    pub fn none() -> Self {
        Limits::default()
    }

    /// At most `time` of wall-clock time.
    pub fn time(time: Duration) -> Self {
        Limits {
            time: Some(time),
            ..Limits::default()
        }
    }

    /// At most `steps` search steps (deterministic).
    pub fn steps(steps: u64) -> Self {
        Limits {
            steps: Some(steps),
            ..Limits::default()
        }
    }
}

/// What the checker found about one part of a history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartReport {
    /// The operations of this part (indices into the history), in history order.
    pub ops: Vec<usize>,
    /// The verdict for this part.
    pub verdict: Verdict,
    /// The longest linearization found (indices into the history, in linearization order): all
    /// of `ops` when the part is linearizable, otherwise the longest linearizable prefix the
    /// search reached.
    pub linearization: Vec<usize>,
    /// For a violation: the operation that could not be placed after that prefix — it must
    /// take effect before its return, yet neither it nor any operation that may precede it fits
    /// the model there. `None` when the part is linearizable, or unknown before any dead end.
    pub breaking_op: Option<usize>,
    /// Search steps spent on this part.
    pub steps: u64,
}

/// What the checker found about a whole history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// [`Verdict::Violation`] if any part is a violation, else [`Verdict::Unknown`] if any part
    /// was cut short, else [`Verdict::Linearizable`].
    pub verdict: Verdict,
    /// One report per part, in the order the model's partition gave.
    pub parts: Vec<PartReport>,
}

impl Report {
    /// Whether the whole history is linearizable.
    pub fn is_linearizable(&self) -> bool {
        self.verdict == Verdict::Linearizable
    }

    /// The parts that are violations.
    pub fn violations(&self) -> impl Iterator<Item = &PartReport> {
        self.parts
            .iter()
            .filter(|p| p.verdict == Verdict::Violation)
    }

    /// Total search steps over all parts.
    pub fn steps(&self) -> u64 {
        self.parts.iter().map(|p| p.steps).sum()
    }
}

/// A history (or a partition of it) the checker cannot work with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckError {
    /// An operation returned before it was called.
    ReturnBeforeCall {
        /// Index of the operation in the history.
        op: usize,
    },
    /// The model's partition named an operation that is not in the history.
    PartitionOutOfRange {
        /// The index given.
        op: usize,
    },
    /// The model's partition put an operation in no part or in several.
    PartitionNotExact {
        /// An operation placed zero or several times.
        op: usize,
    },
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::ReturnBeforeCall { op } => {
                write!(f, "operation {op} returns before it is called")
            }
            CheckError::PartitionOutOfRange { op } => {
                write!(
                    f,
                    "the model's partition names operation {op}, which does not exist"
                )
            }
            CheckError::PartitionNotExact { op } => write!(
                f,
                "the model's partition must place every operation in exactly one part, but not operation {op}"
            ),
        }
    }
}

impl std::error::Error for CheckError {}

/// Checks `history` against `model` with no limit.
pub fn check<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
) -> Result<Report, CheckError> {
    check_with(model, history, Limits::none())
}

/// Checks `history` against `model`, answering [`Verdict::Unknown`] for parts not finished
/// within `limits`.
pub fn check_with<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    limits: Limits,
) -> Result<Report, CheckError> {
    validate_times(history)?;
    let parts = model.partition(history);
    validate_partition(history.len(), &parts)?;

    let mut parts = parts;
    for ops in &mut parts {
        ops.sort_unstable();
    }
    let mut budget = Budget::new(
        limits.steps,
        limits.memo,
        limits.time.and_then(deadline_after),
    );
    let mut searches: Vec<Search<'_, M>> = parts
        .iter()
        .map(|ops| Search::new(model, history, ops))
        .collect();

    // Run the parts in turns, doubling the slice each round: the total work stays within a
    // small factor of the cheapest way to the answer, and an easy violation in one part is found
    // even when another part is very hard.
    let mut slice = FIRST_SLICE;
    'rounds: loop {
        let mut running = false;
        for search in searches.iter_mut().filter(|s| s.verdict().is_none()) {
            if !search.run(slice, &mut budget) {
                break 'rounds;
            }
            if search.verdict() == Some(Verdict::Violation) && !limits.all_parts {
                break 'rounds;
            }
            running |= search.verdict().is_none();
        }
        if !running {
            break;
        }
        slice = slice.saturating_mul(2);
    }

    let reports: Vec<PartReport> = searches
        .into_iter()
        .zip(&parts)
        .map(|(search, ops)| {
            let verdict = search.verdict().unwrap_or(Verdict::Unknown);
            let steps = search.steps();
            let (linearization, breaking_op) = search.into_result();
            PartReport {
                ops: ops.clone(),
                verdict,
                linearization,
                breaking_op,
                steps,
            }
        })
        .collect();
    let verdict = reports
        .iter()
        .map(|p| p.verdict)
        .fold(Verdict::Linearizable, |worst, v| match (worst, v) {
            (Verdict::Violation, _) | (_, Verdict::Violation) => Verdict::Violation,
            (Verdict::Unknown, _) | (_, Verdict::Unknown) => Verdict::Unknown,
            _ => Verdict::Linearizable,
        });
    Ok(Report {
        verdict,
        parts: reports,
    })
}

/// The wall-clock instant after which the search gives up. The checker runs outside
/// simulations (on a finished history), so real time is the right clock for a time limit;
/// deterministic callers use a step budget instead.
#[expect(
    clippy::disallowed_methods,
    reason = "a wall-clock time limit on the checker itself, never used by simulated code"
)]
fn deadline_after(time: Duration) -> Option<Instant> {
    // A limit too far away to represent is no limit.
    Instant::now().checked_add(time)
}

fn validate_times<I, O>(history: &[Operation<I, O>]) -> Result<(), CheckError> {
    for (op, operation) in history.iter().enumerate() {
        if let Outcome::Returned { at, .. } = operation.outcome
            && at < operation.call
        {
            return Err(CheckError::ReturnBeforeCall { op });
        }
    }
    Ok(())
}

fn validate_partition(len: usize, parts: &[Vec<usize>]) -> Result<(), CheckError> {
    let mut seen = vec![false; len];
    for &op in parts.iter().flatten() {
        let slot = seen
            .get_mut(op)
            .ok_or(CheckError::PartitionOutOfRange { op })?;
        if *slot {
            return Err(CheckError::PartitionNotExact { op });
        }
        *slot = true;
    }
    match seen.iter().position(|placed| !placed) {
        Some(op) => Err(CheckError::PartitionNotExact { op }),
        None => Ok(()),
    }
}
