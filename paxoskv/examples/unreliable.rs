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
        let mut logs = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let mut ck = Clerk::new(&net, &format!("reader{i}"), std::slice::from_ref(name));
            let value = ck.get("log").await;
            println!(
                "server {i} (applied {} instances): log = {value}",
                servers[i].applied()
            );
            logs.push(value);
        }
        // Check what the narration claims: the same log everywhere, every entry once, each
        // clerk's entries in the order it appended them.
        let same = logs.windows(2).all(|pair| pair[0] == pair[1]);
        let each_once_in_order = (0..3).all(|c| {
            let places: Vec<Option<usize>> = (0..5)
                .map(|n| {
                    let entry = format!("[{c}.{n}]");
                    (logs[0].matches(&entry).count() == 1)
                        .then(|| logs[0].find(&entry))
                        .flatten()
                })
                .collect();
            places.iter().all(Option::is_some) && places.windows(2).all(|p| p[0] < p[1])
        });
        if same && each_once_in_order {
            println!("Every entry appears once, each clerk's in its order, on every server,");
            println!("although clerks resent operations whose replies were lost.");
        } else {
            println!(
                "WRONG: the servers' logs differ, or an entry is missing, doubled or out of order."
            );
            std::process::exit(1);
        }
    });
    println!(
        "seed {seed}: {} events in {:?} of simulated time",
        report.trace_len, report.simulated
    );
}
