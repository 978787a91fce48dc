//! What one agreement costs: with one proposer and a reliable network, Paxos takes two round
//! trips (prepare, accept) to every other peer, plus a one-way decided
//! message to each: 3 (N - 1) RPCs, the proposer calling its own acceptor locally.

mod common;

use common::*;
use labrpc::{Network, sim};

#[test]
fn an_uncontested_agreement_takes_three_rpcs_per_other_peer() {
    sim::run(|net: Network| async move {
        // Without jitter every message of a phase arrives before its majority is counted;
        // with it, a proposer that has its majority drops the calls still in flight, and an
        // agreement costs less.
        net.set_faults(labrpc::Faults::exact());
        for n in [3, 5] {
            let peers = make::<u64>(&net, &format!("c{n}-"), n);
            for seq in 0..4 {
                let before = rpc_total(&peers);
                start(&peers[0], seq, seq as u64 * 10);
                waitn(&peers, seq, n).await;
                let cost = rpc_total(&peers) - before;
                assert_eq!(
                    cost,
                    3 * (n as u64 - 1),
                    "{n} peers, instance {seq}: {cost} RPCs"
                );
            }
        }
    });
}
