//! Debugging from a trace: a clerk's operations name their key, client and client sequence
//! number (`cseq`) on every event of the call, so `jq 'select(.fields.key == "k1")'` picks out
//! one key's requests and replies.

mod common;

use common::*;
use labrpc::trace::{Event, EventKind};
use labrpc::{Network, sim};
use serde_json::Value;

/// One clerk appends to two keys on three servers, the trace recorded.
fn appends(seed: u64) -> Vec<Event> {
    let report = sim::simulate(seed, true, |net: Network| async move {
        let (names, _servers) = cluster(&net, "kv", 3);
        let mut ck = clerk_of(&net, "clerk", &names, &[0, 1, 2]);
        for i in 0..3 {
            ck.append("k1", &format!("a{i}")).await;
            ck.append("k2", &format!("b{i}")).await;
        }
        check(&mut ck, "k1", "a0a1a2").await;
    });
    report.events
}

#[test]
fn a_clerks_calls_name_key_client_and_sequence_number() {
    let seed = 1;
    let events = appends(seed);
    let execute: Vec<&Event> = (events.iter())
        .filter(|e| e.what == "KvPaxos.execute" && e.kind == EventKind::Send)
        .collect();
    assert_eq!(
        execute.len(),
        7,
        "seed {seed}: 6 appends and a get: {execute:?}"
    );
    for e in &execute {
        for field in ["key", "client", "cseq"] {
            assert!(
                e.fields.contains_key(field),
                "seed {seed}: no {field}: {e:?}"
            );
        }
    }
    let k1_sent: Vec<&str> = (execute.iter())
        .filter(|e| e.fields["key"] == "k1")
        .map(|e| e.msg.split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(
        k1_sent,
        ["append", "append", "append", "get"],
        "seed {seed}"
    );
    // The replies name the call's key too: the get of k1 answered its value.
    let k1_get_reply = (events.iter())
        .filter(|e| e.kind == EventKind::Reply && e.fields.get("key") == Some(&Value::from("k1")))
        .find(|e| e.msg.starts_with("ok value=a0a1a2"));
    assert!(
        k1_get_reply.is_some(),
        "seed {seed}: no reply of k1's get names its key"
    );
}
