//! Histories: the operations clients performed, each with the interval in which it happened.
//!
//! An operation took effect at some instant between its call and its return; two operations
//! whose intervals overlap may have taken effect in either order. An operation whose outcome is
//! unknown (the client gave up, or crashed) may have taken effect at any instant after its
//! call — or never, which is the same as "after everything else".

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

/// A time stamp in any unit. Only the order matters; when a call and a return carry the same
/// time the two operations count as overlapping.
pub type Time = u64;

/// How an operation ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome<O> {
    /// The client received `output` at time `at`.
    Returned {
        /// When the reply arrived.
        at: Time,
        /// What the reply said.
        output: O,
    },
    /// The client never learned the result: the operation may have happened at any time after
    /// its call, or not at all.
    Unknown,
}

impl<O> Outcome<O> {
    /// The output, if known.
    pub fn output(&self) -> Option<&O> {
        match self {
            Outcome::Returned { output, .. } => Some(output),
            Outcome::Unknown => None,
        }
    }

    /// The return time, if the operation returned.
    pub fn returned_at(&self) -> Option<Time> {
        match self {
            Outcome::Returned { at, .. } => Some(*at),
            Outcome::Unknown => None,
        }
    }
}

/// One operation of a history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation<I, O> {
    /// Which client performed it (used to draw the picture; the check does not need it).
    pub client: usize,
    /// When the client sent the call.
    pub call: Time,
    /// What the client asked for.
    pub input: I,
    /// How it ended.
    pub outcome: Outcome<O>,
}

impl<I, O> Operation<I, O> {
    /// An operation that returned `output` at `ret`.
    pub fn returned(client: usize, call: Time, ret: Time, input: I, output: O) -> Self {
        Operation {
            client,
            call,
            input,
            outcome: Outcome::Returned { at: ret, output },
        }
    }

    /// An operation whose outcome is unknown.
    pub fn unknown(client: usize, call: Time, input: I) -> Self {
        Operation {
            client,
            call,
            input,
            outcome: Outcome::Unknown,
        }
    }

    /// The output, if known.
    pub fn output(&self) -> Option<&O> {
        self.outcome.output()
    }
}

/// Splits a history into parts by a key of each input (e.g. the key of a key/value operation),
/// for [`crate::Model::partition`]. Parts come in key order.
pub fn partition_by<I, O, K: Ord>(
    history: &[Operation<I, O>],
    key: impl Fn(&I) -> K,
) -> Vec<Vec<usize>> {
    let mut parts: BTreeMap<K, Vec<usize>> = BTreeMap::new();
    for (index, op) in history.iter().enumerate() {
        parts.entry(key(&op.input)).or_default().push(index);
    }
    parts.into_values().collect()
}

/// Identifies a call recorded by a [`Recorder`], to record its return.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpId(usize);

/// A mistake in using a [`Recorder`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// The id was not handed out by this recorder.
    UnknownOp(OpId),
    /// The return of this operation was already recorded.
    AlreadyReturned(OpId),
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::UnknownOp(id) => write!(f, "operation {} was never recorded", id.0),
            RecordError::AlreadyReturned(id) => {
                write!(f, "operation {} already has a return recorded", id.0)
            }
        }
    }
}

impl std::error::Error for RecordError {}

/// Records a history while clients run: call [`Recorder::call`] just before sending a request
/// and [`Recorder::returned`] when its reply arrives. Calls that never return stay unknown.
///
/// The caller supplies the times (in a simulation: virtual time since the start). The order
/// in which events are recorded is the truth: a time that does not exceed the previous event's
/// is nudged forward by one nanosecond, so a call recorded after a return is never taken as
/// concurrent with it even when both happened at the same virtual instant.
///
/// A `Recorder` is a cheap handle: clones share the same history, so each clerk can hold one.
#[derive(Debug)]
pub struct Recorder<I, O> {
    inner: Arc<Mutex<RecorderState<I, O>>>,
}

impl<I, O> Clone for Recorder<I, O> {
    fn clone(&self) -> Self {
        Recorder {
            inner: Arc::clone(&self.inner),
        }
    }
}

#[derive(Debug)]
struct RecorderState<I, O> {
    ops: Vec<Operation<I, O>>,
    /// The time of the last recorded event, to keep times strictly increasing.
    last: Option<Time>,
}

impl<I, O> RecorderState<I, O> {
    fn stamp(&mut self, at: Duration) -> Time {
        let wanted = Time::try_from(at.as_nanos()).unwrap_or(Time::MAX);
        let time = match self.last {
            Some(last) if wanted <= last => last.saturating_add(1),
            _ => wanted,
        };
        self.last = Some(time);
        time
    }
}

impl<I, O> Default for Recorder<I, O> {
    fn default() -> Self {
        Self::new()
    }
}

impl<I, O> Recorder<I, O> {
    /// An empty recorder.
    pub fn new() -> Self {
        Recorder {
            inner: Arc::new(Mutex::new(RecorderState {
                ops: Vec::new(),
                last: None,
            })),
        }
    }

    /// Records that `client` sent `input` at `at`; returns the id to record the return with.
    pub fn call(&self, client: usize, input: I, at: Duration) -> OpId {
        let mut state = self.inner.lock();
        let call = state.stamp(at);
        state.ops.push(Operation::unknown(client, call, input));
        OpId(state.ops.len() - 1)
    }

    /// Records that the call `id` returned `output` at `at`.
    pub fn returned(&self, id: OpId, output: O, at: Duration) -> Result<(), RecordError> {
        let mut state = self.inner.lock();
        let ret = state.stamp(at);
        let op = state.ops.get_mut(id.0).ok_or(RecordError::UnknownOp(id))?;
        if matches!(op.outcome, Outcome::Returned { .. }) {
            return Err(RecordError::AlreadyReturned(id));
        }
        op.outcome = Outcome::Returned { at: ret, output };
        Ok(())
    }

    /// How many calls were recorded.
    pub fn len(&self) -> usize {
        self.inner.lock().ops.len()
    }

    /// Whether nothing was recorded yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<I: Clone, O: Clone> Recorder<I, O> {
    /// The history so far; calls without a recorded return have an unknown outcome.
    /// Times are in nanoseconds.
    pub fn history(&self) -> Vec<Operation<I, O>> {
        self.inner.lock().ops.clone()
    }
}
