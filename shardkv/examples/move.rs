//! Shards moving between replica groups while a clerk keeps reading and writing, narrated.
//!
//! ```text
//! cargo run -p shardkv --example move
//! ```
//!
//! Three shard masters and two groups of three replicas on the simulated network (seed 1):
//! group 100 joins and gets every shard; the clerk writes one key per shard; group 101
//! joins and takes half of them; group 100 leaves and is killed; every key is still there.

use labrpc::{Network, sim};
use shardkv::{Clerk, ShardKv, key2shard};
use shardmaster::{Config, NSHARDS, ShardMaster};
use std::time::Duration;

fn names(prefix: &str) -> Vec<String> {
    (0..3).map(|i| format!("{prefix}{i}")).collect()
}

fn show(what: &str, config: &Config, net: &Network) {
    println!(
        "[{:>6.2}s] {what}: config {} shards {:?}",
        net.now().as_secs_f64(),
        config.num,
        config.shards
    );
}

async fn scenario(net: Network) {
    let masters = names("master");
    let _sms: Vec<ShardMaster> = (0..3)
        .map(|i| ShardMaster::start(&net, &masters, i))
        .collect();
    let (g100, g101) = (names("g100-"), names("g101-"));
    let first: Vec<ShardKv> = (0..3)
        .map(|i| ShardKv::start(&net, 100, &masters, &g100, i))
        .collect();
    let _second: Vec<ShardKv> = (0..3)
        .map(|i| ShardKv::start(&net, 101, &masters, &g101, i))
        .collect();
    let mut admin = shardmaster::Clerk::new(&net, "admin", &masters);
    let mut ck = Clerk::new(&net, "clerk", &masters);

    let config = admin.join(100, &g100).await.expect("a real group");
    show("group 100 joins", &config, &net);
    let keys: Vec<String> = (0..NSHARDS).map(|i| format!("{i}-key")).collect();
    for key in &keys {
        ck.put(key, &format!("value of {key}")).await;
    }
    println!(
        "[{:>6.2}s] the clerk put {} keys, one per shard",
        net.now().as_secs_f64(),
        keys.len()
    );

    let config = admin.join(101, &g101).await.expect("a real group");
    show("group 101 joins", &config, &net);
    let moved = &keys[(0..NSHARDS)
        .find(|&s| config.shards[key2shard(&keys[s])] == 101)
        .unwrap_or(0)];
    // Group 101 takes its shards once it has polled the shard master and fetched them.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let value = ck.get(moved).await;
    println!(
        "[{:>6.2}s] get {moved:?} (shard {}, group 101's since config {}) = {value:?}",
        net.now().as_secs_f64(),
        key2shard(moved),
        config.num
    );

    let config = admin.leave(100).await;
    show("group 100 leaves", &config, &net);
    tokio::time::sleep(Duration::from_secs(2)).await;
    for server in &first {
        server.kill();
    }
    println!(
        "[{:>6.2}s] group 100's servers are killed",
        net.now().as_secs_f64()
    );
    for key in &keys {
        let value = ck.get(key).await;
        assert_eq!(value, format!("value of {key}"), "the store lost {key}");
    }
    println!(
        "[{:>6.2}s] every key still has its value, served by group 101",
        net.now().as_secs_f64()
    );
}

fn main() {
    let report = sim::simulate(1, false, scenario);
    println!(
        "done: {:.2} s of virtual time, {} network events",
        report.simulated.as_secs_f64(),
        report.trace_len
    );
}
