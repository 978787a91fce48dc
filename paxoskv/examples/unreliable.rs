//! Three paxoskv servers on an unreliable network, three clerks appending at once, narrated.
//!
//! Run it with `cargo run -p paxoskv --example unreliable` (add `-- SEED` to pick a seed).

use labrpc::Network;
use paxoskv::{Clerk, KvServer};

fn main() {
    let seed = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let report = labrpc::sim::simulate(seed, false, |net: Network| async move {
        let names: Vec<String> = (0..3).map(|i| format!("kv{i}")).collect();
        let servers: Vec<KvServer> = (0..3).map(|i| KvServer::start(&net, &names, i)).collect();
        net.set_reliable(false);
        println!("Network unreliable: 10% of requests and 10% of replies lost, 0-27 ms delays.");

        let mut tasks = Vec::new();
        for c in 0..3 {
            let mut ck = Clerk::new(&net, &format!("clerk{c}"), &names);
            tasks.push(tokio::task::spawn_local(async move {
                for n in 0..5 {
                    ck.append("log", &format!("[{c}.{n}]")).await;
                }
            }));
        }
        for task in tasks {
            task.await.expect("clerks do not panic");
        }
        let stats = net.stats();
        println!(
            "3 clerks appended 5 entries each: {} RPCs sent, {} requests and {} replies lost.",
            stats.rpcs, stats.requests_lost, stats.replies_lost
        );

        net.set_reliable(true);
        for (i, name) in names.iter().enumerate() {
            let mut ck = Clerk::new(&net, &format!("reader{i}"), std::slice::from_ref(name));
            let value = ck.get("log").await;
            println!(
                "server {i} (applied {} instances): log = {value}",
                servers[i].applied()
            );
        }
        println!("Every entry appears once, each clerk's in its order, on every server,");
        println!("although clerks resent operations whose replies were lost.");
    });
    println!(
        "seed {seed}: {} events in {:?} of simulated time",
        report.trace_len, report.simulated
    );
}
