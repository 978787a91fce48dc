//! Messages no correct peer sends — a ballot round of `u64::MAX`, `done` values of
//! `i64::MAX`, instance numbers at the ends of `i64` — never panic a peer. (Paxos tolerates
//! crashes, not lies: a peer told that everyone is done with everything forgets everything.)

mod common;

use common::*;
use labrpc::{Network, sim};
use paxos::Ballot;
use paxos::protocol::{AcceptArgs, Bytes, DecidedArgs, PaxosClient, PrepareArgs};

const TOP: Ballot = Ballot {
    round: u64::MAX,
    peer: u32::MAX,
};

/// Two acceptors promised a ballot of the highest round there is: the third peer's proposer
/// is refused, skips past it (its rounds saturate at `u64::MAX` instead of overflowing),
/// wins with the same round and its higher peer index, and all three decide.
#[test]
fn a_promise_of_the_highest_round() {
    sim::run(|net: Network| async move {
        let peers = make::<String>(&net, "hb", 3);
        for acceptor in ["hb0", "hb1"] {
            let rogue = PaxosClient::from(net.client("rogue", acceptor));
            let prepare = PrepareArgs {
                seq: 0,
                ballot: Ballot {
                    round: u64::MAX,
                    peer: 0,
                },
                from: 99,
                done: -1,
            };
            rogue
                .prepare(labrpc::context(), prepare)
                .await
                .expect("reliable network");
        }
        start(&peers[2], 0, "zero".to_string());
        waitn(&peers, 0, 3).await;
    });
}

/// `done` values of `i64::MAX` from every index (and one out of range), and accept and
/// decided messages for the last instance there is: the peer's `min()` saturates, nothing
/// panics, and the peer goes on answering.
#[test]
fn extreme_instance_numbers_and_done_values() {
    sim::run(|net: Network| async move {
        let peers = make::<String>(&net, "ex", 3);
        let rogue = PaxosClient::from(net.client("rogue", "ex1"));
        for from in [0, 1, 2, 99] {
            let prepare = PrepareArgs {
                seq: i64::MIN,
                ballot: TOP,
                from,
                done: i64::MAX,
            };
            rogue
                .prepare(labrpc::context(), prepare)
                .await
                .expect("reliable network");
        }
        let accept = AcceptArgs {
            seq: i64::MAX,
            ballot: TOP,
            value: Bytes(vec![0xff; 3]),
            from: 7,
            done: i64::MAX,
        };
        rogue
            .accept(labrpc::context(), accept)
            .await
            .expect("reliable network");
        let decided = DecidedArgs {
            seq: i64::MAX,
            value: Bytes(vec![0xff; 3]),
            from: 1,
            done: i64::MAX,
        };
        rogue
            .decided(labrpc::context(), decided)
            .await
            .expect("reliable network");
        assert_eq!(peers[1].min(), i64::MAX);
        assert_eq!(peers[1].max(), i64::MAX);
        // Still answering, and forgetting as told: instance 5 is below its min().
        start(&peers[1], 5, "five".to_string());
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        assert!(matches!(peers[1].status(5), paxos::Status::Forgotten));
    });
}
