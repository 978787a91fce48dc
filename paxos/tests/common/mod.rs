//! Helpers of the Paxos tests, after Go's `test_test.go` (`ndecided`, `waitn`, `part`, ...).
#![allow(dead_code)] // each test file uses part of them

use labrpc::Network;
use paxos::{Peer, Seq, Status, Value};
use serde::{Deserialize, Serialize};
use std::fmt::Debug;
use std::time::Duration;

/// A value of Go's `interface{}`: Go's tests propose strings in some instances and ints in
/// others, on the same peers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Any {
    /// A Go string.
    Str(String),
    /// A Go int.
    Int(i64),
}

/// `Any::Str(text)`.
pub fn text(text: &str) -> Any {
    Any::Str(text.to_owned())
}

/// `Any::Int(n)`.
pub fn int(n: i64) -> Any {
    Any::Int(n)
}

/// Go's `time.Sleep(ms * time.Millisecond)`, in virtual time.
pub fn sleep(ms: u64) -> tokio::time::Sleep {
    tokio::time::sleep(Duration::from_millis(ms))
}

/// The node names of `n` peers.
pub fn names(tag: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{tag}{i}")).collect()
}

/// `n` peers on nodes `tag0`, `tag1`, ...
pub fn make<V: Value>(net: &Network, tag: &str, n: usize) -> Vec<Peer<V>> {
    let names = names(tag, n);
    (0..n).map(|i| Peer::new(net, &names, i)).collect()
}

/// Starts agreement on `seq` at `peer` (a test value always serializes).
pub fn start<V: Value>(peer: &Peer<V>, seq: Seq, value: V) {
    peer.start(seq, &value).expect("test values serialize");
}

/// How many peers decided `seq`; fails if two decided different values (Go's `ndecided`).
pub fn ndecided<V: Value + PartialEq + Debug>(peers: &[Peer<V>], seq: Seq) -> usize {
    let mut count = 0;
    let mut first: Option<(usize, V)> = None;
    for peer in peers {
        if let Status::Decided(value) = peer.status(seq) {
            if let Some((who, v)) = &first {
                assert_eq!(
                    v,
                    &value,
                    "decided values do not match; seq={seq} peer {who} vs peer {}",
                    peer.me()
                );
            } else {
                first = Some((peer.me(), value));
            }
            count += 1;
        }
    }
    count
}

/// Waits until at least `wanted` peers decided `seq` (Go's `waitn`: 30 polls, the wait
/// doubling from 10 ms up to 1 s).
pub async fn waitn<V: Value + PartialEq + Debug>(peers: &[Peer<V>], seq: Seq, wanted: usize) {
    let mut wait = Duration::from_millis(10);
    for _ in 0..30 {
        if ndecided(peers, seq) >= wanted {
            break;
        }
        tokio::time::sleep(wait).await;
        if wait < Duration::from_secs(1) {
            wait *= 2;
        }
    }
    let n = ndecided(peers, seq);
    assert!(
        n >= wanted,
        "too few decided; seq={seq} ndecided={n} wanted={wanted}"
    );
}

/// Waits until a majority of `peers.len()` peers decided `seq`.
pub async fn waitmajority<V: Value + PartialEq + Debug>(peers: &[Peer<V>], seq: Seq, total: usize) {
    waitn(peers, seq, total / 2 + 1).await;
}

/// Waits 3 s and checks that at most `max` peers decided `seq` (Go's `checkmax`).
pub async fn checkmax<V: Value + PartialEq + Debug>(peers: &[Peer<V>], seq: Seq, max: usize) {
    tokio::time::sleep(Duration::from_secs(3)).await;
    let n = ndecided(peers, seq);
    assert!(
        n <= max,
        "too many decided; seq={seq} ndecided={n} max={max}"
    );
}

/// Partitions peers `tag<i>` into the groups of indices given (Go's `part`).
pub fn part(net: &Network, tag: &str, groups: &[&[usize]]) {
    let names: Vec<Vec<String>> = groups
        .iter()
        .map(|g| g.iter().map(|i| format!("{tag}{i}")).collect())
        .collect();
    let refs: Vec<Vec<&str>> = names
        .iter()
        .map(|g| g.iter().map(String::as_str).collect())
        .collect();
    let slices: Vec<&[&str]> = refs.iter().map(Vec::as_slice).collect();
    net.partition(&slices);
}

/// Go's `pxa[i].setunreliable(on)` on every peer `tag<i>`: each server drops 10% of the
/// requests that reach it and discards the reply of 20% of the others after running them.
pub fn set_unreliable(net: &Network, tag: &str, n: usize, on: bool) {
    for i in 0..n {
        net.set_unreliable_server(&format!("{tag}{i}"), on);
    }
}

/// Total RPCs delivered to `peers`.
pub fn rpc_total<V: Value>(peers: &[Peer<V>]) -> u64 {
    peers.iter().map(Peer::rpc_count).sum()
}

/// Bytes of values all `peers` hold.
pub fn held_bytes<V: Value>(peers: &[Peer<V>]) -> usize {
    peers.iter().map(|p| p.held().1).sum()
}
