//! The event trace: what the network did, in order, with virtual times.
//!
//! Every event is folded into one running hash, so two runs can be compared with one number
//! (the determinism check). Keeping the events themselves costs memory, so that is optional:
//! [`Network::record_trace`](crate::Network::record_trace) turns it on, and `LABRPC_TRACE=FILE`
//! makes the test runner do so and write the events as JSON lines.
//!
//! A recorded trace holds two sorts of events: the network's (a call's send, delivery, reply
//! or loss, each with a [summary](crate::summary) of the message, and every fault), and the
//! protocol's own, [`EventKind::Log`]: what lab code reported through `tracing`'s macros
//! (`tracing::debug!(seq, n = %ballot, "promised")`), stamped with the virtual time and the
//! node whose task reported it (see [`crate::recorder`]). Only the network's events go into
//! the hash and the count: protocol events exist only while recording.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

use crate::summary::Summary;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// A client end sent a request (the event's `delay` is the delivery delay drawn).
    Send,
    /// A request reached its server, whose handler starts.
    Deliver,
    /// A reply left its server for the caller, which it reaches after the event's `delay`
    /// (the reordering delay drawn; zero without long reordering).
    Reply,
    /// A request was lost on the way (random loss, a cut link, a dead or replaced server).
    RequestLost,
    /// A reply was lost on the way back.
    ReplyLost,
    /// The target could not be reached at all; the caller fails after `delay`.
    Unreachable,
    /// A message was refused as malformed, unknown or too large.
    Rejected,
    /// A server (a new incarnation) was added under a name.
    ServerStarted,
    /// A server was deleted: its name no longer answers.
    ServerDeleted,
    /// A node was killed: its tasks stopped and its server stopped answering.
    Killed,
    /// A killed node was brought back to life without a server (see `Network::revive`).
    Revived,
    /// A task spawned on a node panicked.
    Panicked,
    /// A crash tore the last unsynced append of a node's disk: `what` names the file, and
    /// `bytes` says how many of its bytes were kept.
    TornWrite,
    /// A node's disk was lost and replaced by an empty one.
    DiskLost,
    /// A change of links: partition, heal, cut, restore, deaf, end enabled or connected.
    Links,
    /// The fault settings changed.
    Faults,
    /// A protocol event: lab code reported a step through `tracing` (`what` is its message,
    /// `fields` its fields with `level` and `target`; `from` is the node, or empty outside
    /// any node's task).
    Log,
}

/// One event of the trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Virtual time since the network was made, in microseconds.
    pub at_us: u64,
    /// What happened.
    pub kind: EventKind,
    /// The call this event belongs to (0 for events that are not about a call).
    pub call: u64,
    /// The sending node (or the node concerned).
    pub from: String,
    /// The receiving node, if any.
    pub to: String,
    /// The method called, or a description of a change.
    pub what: String,
    /// The message's size in bytes, if any.
    pub bytes: usize,
    /// A delay drawn for this event, in microseconds.
    pub delay_us: u64,
    /// What the message carries, briefly (`prepare seq=5 n=(3,1)`); empty if not a message.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub msg: String,
    /// The message's summary fields, or a protocol event's fields (`seq`, `key`, `client`...).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, Value>,
}

/// The trace of one network: a running hash and, optionally, the events.
#[derive(Debug)]
pub(crate) struct Trace {
    hasher: DefaultHasher,
    count: u64,
    events: Option<Vec<Event>>,
}

/// The fields of an event, borrowed, as the network produces them.
pub(crate) struct Record<'a> {
    pub kind: EventKind,
    pub call: u64,
    pub from: &'a str,
    pub to: &'a str,
    pub what: &'a str,
    pub bytes: usize,
    pub delay: Duration,
    /// What the message carries (only made while recording).
    pub about: Option<&'a Summary>,
}

impl Trace {
    pub(crate) fn new() -> Self {
        // DefaultHasher::new() has fixed keys: the same events give the same hash in every run.
        Trace {
            hasher: DefaultHasher::new(),
            count: 0,
            events: None,
        }
    }

    pub(crate) fn start_recording(&mut self) {
        self.events.get_or_insert_with(Vec::new);
    }

    pub(crate) fn push(&mut self, at: Duration, r: Record<'_>) {
        let at_us = at.as_micros() as u64;
        let delay_us = r.delay.as_micros() as u64;
        if r.kind != EventKind::Log {
            (
                at_us, r.kind, r.call, r.from, r.to, r.what, r.bytes, delay_us,
            )
                .hash(&mut self.hasher);
            self.count += 1;
        }
        if let Some(events) = &mut self.events {
            let (msg, fields) = r.about.cloned().unwrap_or_default().into_parts();
            events.push(Event {
                at_us,
                kind: r.kind,
                call: r.call,
                from: r.from.to_owned(),
                to: r.to.to_owned(),
                what: r.what.to_owned(),
                bytes: r.bytes,
                delay_us,
                msg,
                fields,
            });
        }
    }

    pub(crate) fn hash(&self) -> u64 {
        self.hasher.finish() ^ self.count
    }

    pub(crate) fn recording(&self) -> bool {
        self.events.is_some()
    }

    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    pub(crate) fn events(&self) -> Option<&[Event]> {
        self.events.as_deref()
    }
}

/// Writes events as JSON lines, one event per line.
pub fn write_json_lines(events: &[Event], path: &Path) -> io::Result<()> {
    let mut out = io::BufWriter::new(std::fs::File::create(path)?);
    for event in events {
        serde_json::to_writer(&mut out, event)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
