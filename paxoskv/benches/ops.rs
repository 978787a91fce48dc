//! Wall-clock cost of paxoskv operations in simulation: latency with one clerk, throughput
//! with 64 concurrent clerks, on a reliable 3-server cluster; and the RPCs an operation takes
//! (`tests/costs.rs` asserts the uncontested figure, 7). Run with `cargo bench -p paxoskv`.
#![allow(clippy::disallowed_methods)] // wall-clock timing of whole simulations, outside them

use labrpc::Network;
use paxoskv::{Clerk, KvServer};
use std::time::Instant;

/// Runs `clerks` clerks doing `ops` Puts each, prints the RPCs sent, and returns (wall
/// seconds, simulated seconds).
fn run(clerks: usize, ops: usize) -> (f64, f64) {
    let start = Instant::now();
    let report = labrpc::sim::simulate(1, false, move |net: Network| async move {
        net.set_faults(labrpc::Faults::exact()); // the store's own cost, no jitter timers
        let names: Vec<String> = (0..3).map(|i| format!("kv{i}")).collect();
        let _servers: Vec<KvServer> = (0..3).map(|i| KvServer::start(&net, &names, i)).collect();
        let mut tasks = Vec::new();
        for c in 0..clerks {
            let mut ck = Clerk::new(&net, &format!("clerk{c}"), &names);
            tasks.push(tokio::task::spawn_local(async move {
                for n in 0..ops {
                    ck.put(&format!("k{c}"), &n.to_string()).await;
                }
            }));
        }
        for task in tasks {
            task.await.expect("clerks do not panic");
        }
        let rpcs = net.stats().rpcs;
        let per_op = rpcs as f64 / (clerks * ops) as f64;
        println!("  RPCs sent: {rpcs} ({per_op:.2} per operation)");
    });
    (
        start.elapsed().as_secs_f64(),
        report.simulated.as_secs_f64(),
    )
}

fn main() {
    println!("1 clerk, 2000 Puts:");
    let (wall, sim) = run(1, 2000);
    println!(
        "  {:.1} us wall per op, {:.0} ops/s wall, {:.2} ms simulated per op",
        wall * 1e6 / 2000.0,
        2000.0 / wall,
        sim * 1e3 / 2000.0
    );
    println!("64 clerks, 100 Puts each:");
    let (wall, sim) = run(64, 100);
    println!(
        "  {:.0} ops/s wall, {:.0} ops/s simulated",
        6400.0 / wall,
        6400.0 / sim
    );
}
