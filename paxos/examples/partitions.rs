//! Five Paxos peers under partitions, narrated.
//!
//! Run it with `cargo run -p paxos --example partitions` (add `-- SEED` to pick a seed: the
//! same seed prints the same story).

use labrpc::Network;
use paxos::{Peer, Status};
use std::time::Duration;

const N: usize = 5;

/// Who decided `seq`, and on what.
fn report(peers: &[Peer<String>], seq: i64) -> String {
    peers
        .iter()
        .map(|p| match p.status(seq) {
            Status::Decided(v) => format!("{}:{v}", p.me()),
            Status::Pending => format!("{}:-", p.me()),
            Status::Forgotten => format!("{}:forgotten", p.me()),
        })
        .collect::<Vec<_>>()
        .join("  ")
}

fn partition(net: &Network, names: &[String], groups: &[&[usize]]) {
    let named: Vec<Vec<&str>> = groups
        .iter()
        .map(|g| g.iter().map(|&i| names[i].as_str()).collect())
        .collect();
    let slices: Vec<&[&str]> = named.iter().map(Vec::as_slice).collect();
    net.partition(&slices);
    println!("  partition {groups:?}");
}

fn main() {
    let seed = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let report_ = labrpc::sim::simulate(seed, false, |net: Network| async move {
        let names: Vec<String> = (0..N).map(|i| format!("peer{i}")).collect();
        let peers: Vec<Peer<String>> = (0..N).map(|i| Peer::new(&net, &names, i)).collect();
        let settle = || tokio::time::sleep(Duration::from_secs(2));

        println!("1. Peer 0 proposes \"apple\" in instance 0 on a healthy network:");
        let before = net.stats().rpcs;
        peers[0]
            .start(0, &"apple".into())
            .expect("strings serialize");
        settle().await;
        println!("  {}", report(&peers, 0));
        println!(
            "  {} RPCs (prepare, accept, decided to 4 others)",
            net.stats().rpcs - before
        );

        println!("2. Instance 1 with no majority anywhere:");
        partition(&net, &names, &[&[0, 1], &[2, 3], &[4]]);
        peers[0]
            .start(1, &"banana".into())
            .expect("strings serialize");
        peers[2]
            .start(1, &"cherry".into())
            .expect("strings serialize");
        settle().await;
        println!("  {}", report(&peers, 1));

        println!("3. Peers 0, 1 and 2 form a majority:");
        partition(&net, &names, &[&[0, 1, 2], &[3, 4]]);
        settle().await;
        println!("  {}", report(&peers, 1));

        println!(
            "4. Peer 3 proposes \"date\" in instance 1 after healing; Paxos keeps the choice:"
        );
        net.heal();
        peers[3]
            .start(1, &"date".into())
            .expect("strings serialize");
        peers[4]
            .start(1, &"elder".into())
            .expect("strings serialize");
        settle().await;
        println!("  {}", report(&peers, 1));

        println!("5. Everyone is done with both instances; news travels on instance 2:");
        for p in &peers {
            p.done(1);
            p.start(2, &format!("fig{}", p.me()))
                .expect("strings serialize");
        }
        settle().await;
        println!("  instance 2: {}", report(&peers, 2));
        println!("  instance 0: {}", report(&peers, 0));
        let held: Vec<String> = peers
            .iter()
            .map(|p| format!("{}: min {} held {:?}", p.me(), p.min(), p.held()))
            .collect();
        println!("  {}", held.join("; "));
    });
    println!(
        "seed {seed}: {} events in {:?} of simulated time",
        report_.trace_len, report_.simulated
    );
}
