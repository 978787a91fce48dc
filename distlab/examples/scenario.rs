//! A researcher's use of distlab as a library: run the Paxos scenario for a few seeds at two
//! loss rates and compare the median latency, without the command line.
//!
//! `cargo run -p distlab --example scenario`

use distlab::cli::Lab;
use distlab::scenario::{self, Params};
use std::time::Duration;

fn main() {
    for drop in [0.0, 0.3] {
        let mut medians = Vec::new();
        for seed in 1..=3 {
            let params = Params {
                seed,
                servers: 5,
                clients: 4,
                duration: Duration::from_secs(5),
                drop,
                long_delays: false,
                reordering: false,
                partition_every: Duration::from_secs(1),
                crash_every: Duration::ZERO,
                lose_disks: false,
            };
            let outcome = scenario::run(Lab::Paxos, &params, false, false);
            let mut latencies = outcome.latencies_us.clone();
            latencies.sort_unstable();
            let median = latencies.get(latencies.len() / 2).copied().unwrap_or(0);
            println!(
                "drop {drop:.1} seed {seed}: {} agreements, median {:.1} ms, {:?}",
                outcome.ops,
                median as f64 / 1000.0,
                outcome.check
            );
            medians.push(median);
        }
        medians.sort_unstable();
        println!(
            "drop {drop:.1}: median of medians {:.1} ms\n",
            medians[1] as f64 / 1000.0
        );
    }
}
