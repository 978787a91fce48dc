//! Crashes and restarts with the disk (D1): a peer made again on its node after a kill
//! remembers its promises, votes, decisions and `done` values, answers only once they are
//! on disk, and votes again at once; a damaged disk makes it abstain.

mod common;

use common::*;
use labrpc::{Network, sim};
use paxos::protocol::{
    AcceptArgs, AcceptOutcome, Bytes, PaxosClient, PaxosEnd, PrepareArgs, PrepareOutcome, Seq,
};
use paxos::{Ballot, Peer, Status};

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
        // Agreements carry the done values around.
        for seq in 6..8 {
            start(&peers[seq as usize % 3], seq, "small".to_string());
            waitn(&peers, seq, 3).await;
        }
        assert!(peers.iter().all(|p| p.min() == 4), "min did not reach 4");
        let on_disk: u64 = peers.iter().map(Peer::disk_bytes).sum();
        assert!(
            on_disk < 3 * 3 * 10_000,
            "the disks still hold forgotten values: {on_disk} bytes"
        );
        for i in 0..3 {
            restart(&net, &names, &mut peers, i);
        }
        for p in &peers {
            assert_eq!(
                p.status(2),
                Status::Forgotten,
                "forgotten instances came back"
            );
            assert_eq!(p.status(5), Status::Decided(format!("5{big}")));
            assert_eq!(p.min(), 4);
            assert_eq!(p.max(), 7);
        }
        start(&peers[2], 8, "after".to_string());
        waitn(&peers, 8, 3).await;
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
