//! Debugging from a trace: every Paxos message in a recorded trace names its instance (`seq`)
//! and ballot (`n`), replies included, so the messages of one instance can be picked out
//! (`jq 'select(.fields.seq == 1)'`), and the values they carry are told apart by digest.

mod common;

use common::*;
use labrpc::trace::{Event, EventKind};
use labrpc::{Network, sim};
use serde_json::Value;
use std::collections::BTreeSet;

/// Two instances agreed on by three peers, under contention, with the trace recorded.
fn two_instances(seed: u64) -> Vec<Event> {
    let report = sim::simulate(seed, true, |net: Network| async move {
        let peers = make::<u64>(&net, "t", 3);
        start(&peers[0], 0, 100);
        start(&peers[1], 1, 111);
        start(&peers[2], 1, 122); // a second proposer in instance 1
        waitn(&peers, 0, 3).await;
        waitn(&peers, 1, 3).await;
    });
    report.events
}

fn is_paxos_call(e: &Event) -> bool {
    matches!(
        e.kind,
        EventKind::Send | EventKind::Deliver | EventKind::Reply | EventKind::ReplyLost
    ) && e.call != 0
}

#[test]
fn every_message_names_its_instance_and_ballot() {
    let seed = 3;
    let events = two_instances(seed);
    let calls: Vec<&Event> = events.iter().filter(|e| is_paxos_call(e)).collect();
    assert!(
        calls.len() > 20,
        "seed {seed}: only {} call events",
        calls.len()
    );
    for e in &calls {
        let seq = e.fields.get("seq").and_then(Value::as_i64);
        assert!(
            matches!(seq, Some(0 | 1)),
            "seed {seed}: a message without its instance: {e:?}"
        );
        if !e.msg.starts_with("decided") && !e.msg.starts_with("ok") {
            assert!(e.fields.contains_key("n"), "seed {seed}: no ballot: {e:?}");
        }
    }
    // Picking one instance out gives all three phases and their answers.
    let instance_1: BTreeSet<&str> = (calls.iter())
        .filter(|e| e.fields["seq"] == 1)
        .map(|e| e.msg.split(' ').next().unwrap_or(""))
        .collect();
    for step in ["prepare", "promise", "accept", "accepted", "decided", "ok"] {
        assert!(
            instance_1.contains(step),
            "seed {seed}: instance 1 has no {step:?} message: {instance_1:?}"
        );
    }
}

#[test]
fn decisions_carry_one_value_digest_per_instance() {
    let seed = 3;
    let events = two_instances(seed);
    let decided = |seq: i64| -> BTreeSet<String> {
        (events.iter())
            .filter(|e| e.kind == EventKind::Send && e.msg.starts_with("decided"))
            .filter(|e| e.fields["seq"] == seq)
            .map(|e| e.fields["value"].to_string())
            .collect()
    };
    let (zero, one) = (decided(0), decided(1));
    assert_eq!(
        zero.len(),
        1,
        "seed {seed}: instance 0's decisions: {zero:?}"
    );
    assert_eq!(one.len(), 1, "seed {seed}: instance 1's decisions: {one:?}");
    assert_ne!(
        zero, one,
        "seed {seed}: values 100 and 111 or 122 have one digest"
    );
}
