//! Crashes and restarts with the disk (D1): a peer made again on its node after a kill
//! remembers its promises, votes, decisions and `done` values, answers only once they are
//! on disk, and votes again at once; a damaged disk makes it abstain.

mod common;

use common::*;
use labrpc::fault::SYNC_TIME;
use labrpc::{Network, sim};
use paxos::protocol::{
    AcceptArgs, AcceptOutcome, Bytes, PaxosClient, PaxosEnd, PrepareArgs, PrepareOutcome, Seq,
};
use paxos::{Ballot, Peer, Status};
use tokio::time::sleep;

fn ballot(round: u64, peer: u32) -> Ballot {
    Ballot { round, peer }
}

fn value(text: &str) -> Bytes {
    Bytes(postcard::to_allocvec(&text.to_string()).expect("a string encodes"))
}

/// A stand-in proposer on node "tester", talking to acceptor `to` directly.
fn tester(net: &Network, to: &str) -> PaxosClient<PaxosEnd> {
    PaxosClient::from(net.client("tester", to))
}

async fn prepare(px: &PaxosClient<PaxosEnd>, seq: Seq, ballot: Ballot) -> PrepareOutcome {
    let args = PrepareArgs {
        seq,
        ballot,
        from: 99,
        done: -1,
    };
    px.prepare(labrpc::context(), args)
        .await
        .expect("reliable network")
        .outcome
}

async fn accept(px: &PaxosClient<PaxosEnd>, seq: Seq, ballot: Ballot, v: &str) -> AcceptOutcome {
    let args = AcceptArgs {
        seq,
        ballot,
        value: value(v),
        from: 99,
        done: -1,
    };
    px.accept(labrpc::context(), args)
        .await
        .expect("reliable network")
        .outcome
}

/// Kills peer `i` and makes it again on the same node, with the disk its crash left.
fn restart(net: &Network, names: &[String], peers: &mut [Peer<String>], i: usize) {
    peers[i].kill();
    peers[i] = Peer::new(net, names, i);
}

/// P1 and P3 across a crash: the node is killed the moment each answer arrives, so an answer
/// sent before its promise or vote was synced would be forgotten (D1).
#[test]
fn promises_and_votes_survive_a_crash() {
    sim::run(|net: Network| async move {
        let names = names("pv", 3);
        let mut peers = make::<String>(&net, "pv", 3);
        let px = tester(&net, "pv0");
        assert!(matches!(
            prepare(&px, 0, ballot(5, 1)).await,
            PrepareOutcome::Promise { accepted: None }
        ));
        restart(&net, &names, &mut peers, 0);
        assert_eq!(
            prepare(&px, 0, ballot(3, 2)).await,
            PrepareOutcome::Reject {
                promised: ballot(5, 1)
            },
            "a restarted acceptor forgot its promise (P1)"
        );
        assert_eq!(
            accept(&px, 0, ballot(4, 2), "low").await,
            AcceptOutcome::Reject {
                promised: ballot(5, 1)
            },
            "a restarted acceptor accepted below its promise (P2)"
        );
        assert_eq!(
            accept(&px, 0, ballot(5, 1), "x").await,
            AcceptOutcome::Accepted
        );
        restart(&net, &names, &mut peers, 0);
        assert_eq!(
            prepare(&px, 0, ballot(6, 1)).await,
            PrepareOutcome::Promise {
                accepted: Some((ballot(5, 1), value("x")))
            },
            "a restarted acceptor forgot the proposal it accepted (P3)"
        );
    });
}

/// A value accepted by a majority that then crashes (before anyone learned it) is chosen:
/// after a restart with their disks, a new proposer must decide that value, and does so at
/// once because the restarted peers vote again.
#[test]
fn a_value_accepted_by_a_crashed_majority_stays_chosen() {
    sim::run(|net: Network| async move {
        let names = names("cm", 3);
        let mut peers = make::<String>(&net, "cm", 3);
        for i in [1, 2] {
            let px = tester(&net, &names[i]);
            assert!(matches!(
                prepare(&px, 0, ballot(1, 0)).await,
                PrepareOutcome::Promise { .. }
            ));
            assert_eq!(
                accept(&px, 0, ballot(1, 0), "x").await,
                AcceptOutcome::Accepted
            );
        }
        restart(&net, &names, &mut peers, 1);
        restart(&net, &names, &mut peers, 2);
        start(&peers[1], 0, "y".to_string());
        waitn(&peers, 0, 3).await;
        assert_eq!(
            peers[0].status(0),
            Status::Decided("x".to_string()),
            "a chosen value was lost in a restart"
        );
    });
}

/// Decisions and forgetting survive a crash of every peer: decided instances stay decided,
/// forgotten ones stay forgotten (F1), and their files are gone from the disks.
#[test]
fn decisions_and_forgetting_survive_every_peer_crashing() {
    sim::run(|net: Network| async move {
        let names = names("df", 3);
        let mut peers = make::<String>(&net, "df", 3);
        let big = "v".repeat(10_000);
        for seq in 0..6 {
            start(&peers[0], seq, format!("{seq}{big}"));
            waitn(&peers, seq, 3).await;
        }
        for p in &peers {
            p.done(3);
        }
        // Agreements carry the done values around (as in Go's Forget test, a few may be
        // needed: a proposer with its majority drops the messages still in flight).
        let mut last = 5;
        while last < 30 && !peers.iter().all(|p| p.min() == 4) {
            last += 1;
            start(&peers[last as usize % 3], last, "small".to_string());
            waitn(&peers, last, 3).await;
        }
        assert!(peers.iter().all(|p| p.min() == 4), "min did not reach 4");
        let on_disk: u64 = peers.iter().map(Peer::disk_bytes).sum();
        assert!(
            on_disk < 3 * 3 * 10_000,
            "the disks still hold forgotten values: {on_disk} bytes"
        );
        // Forgetting is durable one sync after it happened in memory (F1 across crashes).
        sleep(SYNC_TIME * 2).await;
        for i in 0..3 {
            restart(&net, &names, &mut peers, i);
        }
        for p in &peers {
            assert!(
                p.status(2) == Status::Forgotten,
                "forgotten instance 2 came back on peer {}",
                p.me()
            );
            assert!(p.status(5) == Status::Decided(format!("5{big}")));
            assert_eq!(p.min(), 4);
            assert_eq!(p.max(), last);
        }
        start(&peers[2], last + 1, "after".to_string());
        waitn(&peers, last + 1, 3).await;
    });
}

/// A peer that cannot read its disk back abstains everywhere, as one that lost its disk.
#[test]
fn a_damaged_disk_makes_the_peer_abstain() {
    sim::run(|net: Network| async move {
        let names = names("dd", 3);
        let mut peers = make::<String>(&net, "dd", 3);
        start(&peers[0], 0, "x".to_string());
        waitn(&peers, 0, 3).await;
        peers[1].kill();
        net.disk(&names[1])
            .write("paxos-i-0", b"\xff\xff\xff not postcard")
            .expect("write");
        peers[1] = Peer::new(&net, &names, 1);
        assert!(peers[1].damaged_disk().is_some());
        assert_eq!(
            prepare(&tester(&net, &names[1]), 1, ballot(9, 0)).await,
            PrepareOutcome::Abstain
        );
    });
}

/// A fresh peer knows of no instance; one restarted knows of every instance it held.
#[test]
fn a_fresh_peer_knows_no_instance() {
    sim::run(|net: Network| async move {
        let names = names("fr", 3);
        let mut peers = make::<String>(&net, "fr", 3);
        assert!(peers.iter().all(|p| p.max() == -1 && p.min() == 0));
        assert_eq!(peers[0].disk_bytes(), 0);
        let value = "v".repeat(5_000);
        start(&peers[0], 0, value.clone());
        waitn(&peers, 0, 3).await;
        assert!(
            peers.iter().all(|p| p.disk_bytes() >= 5_000),
            "a peer's disk does not hold the decided value: {:?}",
            peers.iter().map(Peer::disk_bytes).collect::<Vec<_>>()
        );
        // A peer reports a decision as soon as it learns it; the decision is on its disk one
        // sync later ([`SYNC_TIME`]), and only then does it survive a crash.
        sleep(SYNC_TIME * 2).await;
        restart(&net, &names, &mut peers, 1);
        assert_eq!(peers[1].max(), 0);
        assert!(peers[1].status(0) == Status::Decided(value));
    });
}

/// `abstain_through(s)`: the acceptor neither promises nor accepts up to `s`, votes above,
/// knows of `s`, and still abstains after a restart with its disk (it may have voted there
/// before it lost its old disk).
#[test]
fn an_abstaining_acceptor_refuses_to_vote_up_to_its_bound_across_restarts() {
    sim::run(|net: Network| async move {
        let names = names("ab", 3);
        let mut peers = make::<String>(&net, "ab", 3);
        peers[0].abstain_through(5);
        assert_eq!(peers[0].max(), 5);
        let px = tester(&net, "ab0");
        for _ in 0..2 {
            assert_eq!(prepare(&px, 5, ballot(3, 1)).await, PrepareOutcome::Abstain);
            assert_eq!(
                accept(&px, 4, ballot(3, 1), "x").await,
                AcceptOutcome::Abstain
            );
            restart(&net, &names, &mut peers, 0);
        }
        assert!(matches!(
            prepare(&px, 6, ballot(3, 1)).await,
            PrepareOutcome::Promise { .. }
        ));
        assert_eq!(
            accept(&px, 6, ballot(3, 1), "x").await,
            AcceptOutcome::Accepted
        );
        peers[1].abstain_through(Seq::MAX);
        assert_eq!(
            peers[1].max(),
            -1,
            "abstaining everywhere names no instance"
        );
    });
}

/// A disk that fails under a running peer (here: lost while the peer runs) makes it refuse
/// every promise and vote it could not write down, rather than answer what it cannot keep.
#[test]
fn a_peer_whose_disk_fails_refuses_to_vote() {
    sim::run(|net: Network| async move {
        let _peers = make::<String>(&net, "fd", 3);
        net.lose_disk("fd0");
        let px = tester(&net, "fd0");
        assert_eq!(prepare(&px, 0, ballot(1, 1)).await, PrepareOutcome::Abstain);
        assert_eq!(
            accept(&px, 0, ballot(1, 1), "x").await,
            AcceptOutcome::Abstain
        );
    });
}

/// A proposer picks a ballot above the highest its own acceptor promised: with two of three
/// acceptors (its own among them) promised round 50, one ballot still decides, at the cost
/// of an uncontested agreement.
#[test]
fn a_proposer_starts_above_its_own_acceptors_promise() {
    sim::run(|net: Network| async move {
        // Exact: with jitter a proposer with its majority drops the calls still in flight.
        net.set_faults(labrpc::Faults::exact());
        let peers = make::<String>(&net, "hr", 3);
        for acceptor in ["hr0", "hr1"] {
            let px = tester(&net, acceptor);
            assert!(matches!(
                prepare(&px, 0, ballot(50, 2)).await,
                PrepareOutcome::Promise { .. }
            ));
        }
        let before = rpc_total(&peers);
        start(&peers[0], 0, "x".to_string());
        waitn(&peers, 0, 3).await;
        // The two promises above were sent by the tester, not by a peer.
        assert_eq!(
            rpc_total(&peers) - before,
            6,
            "more than one ballot: the proposer started below a round it had promised"
        );
    });
}
