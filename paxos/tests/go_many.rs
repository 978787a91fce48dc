//! Go's 2015 Paxos tests with many instances (`src/paxos/test_test.go`), one for one and at
//! Go's constants, in virtual time: ManyForget, Many, ManyUnreliable. "Unreliable" is Go's
//! `setunreliable` on every peer: each server drops 10% of the requests that reach it and
//! discards the reply of 20% of the others after running them.

mod common;

use common::{make, ndecided, set_unreliable, sleep, start};
use labrpc::{Network, sim};
use paxos::{Peer, Status};
use rand::Rng;
use rand::seq::SliceRandom;
use std::cell::Cell;
use std::rc::Rc;

/// TestManyForget: proposals in the 20 instances in random order while peers call `done` at
/// random, with unreliable servers: nothing breaks, and peers never disagree.
#[test]
fn many_forget() {
    sim::run(|net: Network| async move {
        const NPAXOS: usize = 3;
        const MAXSEQ: i64 = 20;
        const TAG: &str = "manygc";
        let pxa: Vec<Peer<i64>> = make(&net, TAG, NPAXOS);
        set_unreliable(&net, TAG, NPAXOS, true);

        // Go's proposing goroutine: one Start per instance, yielding in between.
        let (proposers, mut rng) = (pxa.clone(), net.rng());
        let proposer = tokio::task::spawn_local(async move {
            let mut na: Vec<i64> = (0..MAXSEQ).collect();
            na.shuffle(&mut rng);
            for seq in na {
                let j = rng.random_range(0..NPAXOS);
                start(&proposers[j], seq, rng.random_range(0..i64::MAX));
                tokio::task::yield_now().await;
            }
        });

        // Go's forgetting goroutine runs flat out; here one try per millisecond of virtual
        // time (tokio's timer resolution: a loop without a timer would stop the clock).
        let stop = Rc::new(Cell::new(false));
        let (forgetters, flag, mut rng) = (pxa.clone(), Rc::clone(&stop), net.rng());
        let forgetter = tokio::task::spawn_local(async move {
            while !flag.get() {
                let seq = rng.random_range(0..MAXSEQ);
                let peer = &forgetters[rng.random_range(0..NPAXOS)];
                if seq >= peer.min() && matches!(peer.status(seq), Status::Decided(_)) {
                    peer.done(seq);
                }
                sleep(1).await;
            }
        });

        sleep(5000).await;
        stop.set(true);
        forgetter.await.expect("the forgetting task does not panic");
        proposer.await.expect("the proposing task does not panic");
        set_unreliable(&net, TAG, NPAXOS, false);
        sleep(2000).await;

        for seq in 0..MAXSEQ {
            // Go only asks each peer for the status; `ndecided` also checks that the peers
            // that still remember `seq` agree.
            ndecided(&pxa, seq);
        }
    });
}

/// Go's TestMany and TestManyUnreliable: 50 instances, every peer proposing in each, at most
/// `window` in flight (Go: "to limit the number of file descriptors"), until all are
/// decided everywhere.
async fn run_many(net: Network, tag: &str, unreliable: bool, window: i64) {
    const NPAXOS: usize = 3;
    const NINST: i64 = 50;
    let pxa: Vec<Peer<i64>> = make(&net, tag, NPAXOS);
    set_unreliable(&net, tag, NPAXOS, unreliable);
    for p in &pxa {
        start(p, 0, 0);
    }
    for seq in 1..NINST {
        while seq >= window && ndecided(&pxa, seq - window) < NPAXOS {
            sleep(20).await;
        }
        for (i, p) in pxa.iter().enumerate() {
            start(p, seq, seq * 10 + i as i64);
        }
    }
    while !(1..NINST).all(|seq| ndecided(&pxa, seq) == NPAXOS) {
        sleep(100).await;
    }
}

/// TestMany: on a reliable network, at most five instances in flight.
#[test]
fn many() {
    sim::run(|net: Network| run_many(net, "many", false, 5));
}

/// TestManyUnreliable: with unreliable servers, at most three instances in flight.
#[test]
fn many_unreliable() {
    sim::run(|net: Network| run_many(net, "manyun", true, 3));
}
