//! What a recorded trace tells a student debugging a seed: every message says what it carries
//! (its summary, with fields to select by), and the protocol's own events (`tracing` macros in
//! lab code) come in order with the network's, stamped with virtual time and node.

use labrpc::trace::{Event, EventKind};
use labrpc::{Network, Summarize, Summary, sim};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tarpc::context::Context;

#[tarpc::service]
trait Store {
    /// Puts `value` under `key` for `client`; returns the previous length of the value.
    async fn put(key: String, value: String, client: u64) -> usize;
}

impl Summarize for StoreRequest {
    fn summary(&self) -> Summary {
        match self {
            StoreRequest::Put { key, value, client } => Summary::new("put")
                .field("key", key.as_str())
                .field("client", *client)
                .field("value", labrpc::digest(value)),
        }
    }
}

impl Summarize for StoreResponse {
    fn summary(&self) -> Summary {
        match self {
            StoreResponse::Put(previous) => Summary::new("ok").field("previous", *previous),
        }
    }
}

#[derive(Clone)]
struct StoreServer;

impl Store for StoreServer {
    async fn put(self, _: Context, key: String, value: String, client: u64) -> usize {
        tokio::time::sleep(Duration::from_millis(3)).await;
        tracing::debug!(key, client, len = value.len(), fresh = true, "applied put");
        value.len() / 2
    }
}

/// One put from `clerk` to `server`, with a protocol event from the test body and one from a
/// task of the server's node.
async fn one_put(net: Network) {
    net.add_server("server", StoreServer.serve());
    let client = StoreClient::from(net.client("clerk", "server"));
    tracing::info!(step = 1, "test body starts");
    net.spawn("server", async {
        tracing::warn!(task = "ticker", "background task of the server");
    });
    let reply = client
        .put(labrpc::context(), "k1".into(), "abcd".into(), 7)
        .await;
    assert_eq!(reply.map_err(labrpc::Error::from), Ok(2));
}

fn of_kind(events: &[Event], kind: EventKind) -> Vec<&Event> {
    events.iter().filter(|e| e.kind == kind).collect()
}

#[test]
fn messages_carry_their_summary_and_replies_the_calls_identity() {
    let report = sim::simulate(1, true, one_put);
    let send = of_kind(&report.events, EventKind::Send);
    assert_eq!(send.len(), 1, "one call: {:?}", report.events);
    assert_eq!(
        send[0].msg,
        format!("put key=k1 client=7 value={}", labrpc::digest("abcd"))
    );
    assert_eq!(send[0].fields["key"], Value::from("k1"));
    assert_eq!(send[0].fields["client"], Value::from(7));
    let deliver = of_kind(&report.events, EventKind::Deliver);
    assert_eq!(
        deliver[0].msg, send[0].msg,
        "the delivery says what was delivered"
    );
    let reply = of_kind(&report.events, EventKind::Reply);
    assert_eq!(reply[0].msg, "ok previous=2");
    // The reply names the call's key and client too, so selecting by key finds it.
    assert_eq!(reply[0].fields["key"], Value::from("k1"));
    assert_eq!(reply[0].fields["client"], Value::from(7));
    assert!(
        !reply[0].fields.contains_key("value"),
        "only the call's identity is inherited"
    );
    let line = serde_json::to_string(reply[0]).expect("an event serializes");
    assert!(line.contains(r#""msg":"ok previous=2""#), "{line}");
}

#[test]
fn protocol_events_are_stamped_with_virtual_time_and_node() {
    let report = sim::simulate(1, true, one_put);
    let logs = of_kind(&report.events, EventKind::Log);
    let by_message = |m: &str| {
        logs.iter()
            .find(|e| e.what == m)
            .unwrap_or_else(|| panic!("no protocol event {m:?} in {logs:?}"))
    };
    let body = by_message("test body starts");
    assert_eq!(body.from, "", "the test body is no node's task");
    assert_eq!(body.fields["step"], Value::from(1));
    assert_eq!(body.fields["level"], Value::from("INFO"));
    let task = by_message("background task of the server");
    assert_eq!(task.from, "server");
    assert_eq!(task.fields["task"], Value::from("ticker"));
    assert_eq!(task.fields["level"], Value::from("WARN"));
    let applied = by_message("applied put");
    assert_eq!(
        applied.from, "server",
        "a handler runs as its server's node"
    );
    assert_eq!(applied.fields["key"], Value::from("k1"));
    assert_eq!(applied.fields["len"], Value::from(4));
    assert_eq!(applied.fields["fresh"], Value::from(true));
    assert_eq!(applied.fields["target"], Value::from(module_path!()));
    // Virtual time, in order with the network's events: after the delivery, before the reply.
    let position = |e: &Event| report.events.iter().position(|x| x == e);
    let deliver = of_kind(&report.events, EventKind::Deliver)[0];
    let reply = of_kind(&report.events, EventKind::Reply)[0];
    assert!(position(deliver) < position(applied) && position(applied) < position(reply));
    assert_eq!(
        applied.at_us,
        deliver.at_us + 3_000,
        "the handler slept 3 ms"
    );
}

#[test]
fn without_a_recorded_trace_nothing_is_summarized_and_the_hash_is_the_same() {
    let recorded = sim::simulate(1, true, one_put);
    let plain = sim::simulate(1, false, one_put);
    assert!(plain.events.is_empty());
    assert_eq!(
        (recorded.trace_hash, recorded.trace_len),
        (plain.trace_hash, plain.trace_len),
        "protocol events and summaries do not change the run's hash"
    );
    let network_events = recorded.events.iter().filter(|e| e.kind != EventKind::Log);
    assert_eq!(network_events.count() as u64, recorded.trace_len);
}

/// Counts how often it is formatted.
struct Costly(Arc<AtomicUsize>);

impl std::fmt::Debug for Costly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fetch_add(1, Ordering::Relaxed);
        f.write_str("costly")
    }
}

#[test]
fn protocol_events_cost_no_formatting_without_a_recorded_trace() {
    let formatted = Arc::new(AtomicUsize::new(0));
    for record in [false, true] {
        let counter = formatted.clone();
        // A recorder installed by hand, on a network that records or not.
        sim::simulate(1, false, |net: Network| async move {
            let _recorder = labrpc::Recorder::install(&net);
            if record {
                net.record_trace();
            }
            tracing::debug!(value = ?Costly(counter), "an event with a costly field");
            assert_eq!(net.trace_events().len(), usize::from(record));
        });
        let times = formatted.swap(0, Ordering::Relaxed);
        assert_eq!(times, usize::from(record), "recorded: {record}");
    }
}

#[test]
fn a_lost_request_still_says_what_it_carried() {
    let report = sim::simulate(2, true, |net: Network| async move {
        net.add_server("server", StoreServer.serve());
        let client = StoreClient::from(net.client("clerk", "server"));
        net.partition(&[&["clerk"], &["server"]]);
        let lost = client.put(labrpc::context(), "k9".into(), "x".into(), 3);
        assert!(lost.await.is_err());
    });
    let unreachable = of_kind(&report.events, EventKind::Unreachable);
    assert_eq!(unreachable.len(), 1, "{:?}", report.events);
    assert_eq!(unreachable[0].fields["key"], Value::from("k9"));
}
