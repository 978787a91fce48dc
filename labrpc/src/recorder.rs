//! Protocol events: what lab code reports through `tracing`, recorded into the simulation's
//! trace, stamped with virtual time and the node that reported it.
//!
//! Lab code, and students' code, logs with the ecosystem's macros:
//!
//! ```ignore
//! tracing::debug!(seq, n = %ballot, "promised");
//! tracing::info!(view = view.num, primary = %view.primary, "new view: the primary died");
//! ```
//!
//! In a simulation whose trace is recorded ([`crate::sim`] with `LABRPC_TRACE`, or
//! [`crate::sim::simulate`] with `record`), labrpc installs a [`Recorder`] for the run: each
//! event becomes an [`EventKind::Log`](crate::trace::EventKind::Log) in the same trace as the
//! network's events, in order, with `from` the node whose task (background task or request
//! handler) was running, `what` the message and `fields` its fields plus `level` and `target`.
//! Fields named `seq`, `n`, `key`, `client`, `view`, `task` are the ones the trace viewer
//! filters on. Without a recorded trace, events are not even formatted. In a real process,
//! install any subscriber (`distlab serve` prints them on stderr).

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::{self, Write};
use tracing::field::{Field, Visit};
use tracing::subscriber::{DefaultGuard, Interest};
use tracing::{Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

use crate::Network;
use crate::network::current_node;
use crate::summary::Summary;

/// A `tracing` layer that records events into a network's trace while it is recorded.
pub struct Recorder {
    net: Network,
}

impl Recorder {
    /// A layer recording into `net`'s trace.
    pub fn new(net: &Network) -> Recorder {
        Recorder { net: net.clone() }
    }

    /// Makes a [`Recorder`] of `net` the current thread's subscriber until the guard drops
    /// (a simulation runs on one thread). [`crate::sim`] does this for every recorded run.
    pub fn install(net: &Network) -> DefaultGuard {
        let subscriber = tracing_subscriber::registry().with(Recorder::new(net));
        tracing::subscriber::set_default(subscriber)
    }
}

impl<S: Subscriber> Layer<S> for Recorder {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        // Asked again for every event: recording may start after a call site was first seen.
        Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        metadata.is_event() && self.net.recording()
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut values: BTreeMap<String, Value> = (fields.values.into_iter())
            .map(|(key, value)| (key.to_owned(), value))
            .collect();
        values.insert("level".into(), meta.level().as_str().into());
        values.insert("target".into(), meta.target().into());
        self.net
            .log(current_node(), &fields.message, &Summary::of_fields(values));
    }
}

/// An event's message and fields, as JSON values (numbers stay numbers).
#[derive(Default)]
struct Fields {
    message: String,
    values: BTreeMap<&'static str, Value>,
}

impl Visit for Fields {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.values.insert(field.name(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.values.insert(field.name(), Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.values.insert(field.name(), Value::from(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.values.insert(field.name(), Value::from(value));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.values.insert(field.name(), Value::from(text));
        }
    }
}
