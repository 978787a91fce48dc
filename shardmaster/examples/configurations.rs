//! Three shard masters on the simulated network: groups join, a shard is moved by hand, a
//! group leaves; each step prints the configuration it made. Then one server stops hearing
//! its peers, and a query through it still sees the latest configuration.
//!
//! `cargo run -p shardmaster --example configurations`

use labrpc::{Network, sim};
use shardmaster::{Clerk, ShardMaster};

fn main() {
    let report = sim::simulate(1, false, |net: Network| async move {
        let names: Vec<String> = (0..3).map(|i| format!("sm{i}")).collect();
        let _servers: Vec<ShardMaster> = (0..3)
            .map(|i| ShardMaster::start(&net, &names, i))
            .collect();
        let mut ck = Clerk::new(&net, "clerk", &names);
        let group = |g: u64| vec![format!("g{g}-a"), format!("g{g}-b"), format!("g{g}-c")];
        println!("{}", ck.query(-1).await);
        for gid in [100, 101, 102] {
            let config = ck.join(gid, &group(gid)).await.expect("a real group id");
            println!("join {gid}:  {config}");
        }
        let config = ck
            .move_shard(0, 102)
            .await
            .expect("a shard and a group of the config");
        println!("move 0 -> 102: {config}");
        println!("leave 101: {}", ck.leave(101).await);
        net.set_deaf_to("sm0", "sm1", true);
        net.set_deaf_to("sm0", "sm2", true);
        let mut through_sm0 = Clerk::new(&net, "other", &names[0..=0]);
        println!(
            "query at sm0, which its peers cannot reach: {}",
            through_sm0.query(-1).await
        );
    });
    println!(
        "({} network events, {:?} of virtual time)",
        report.trace_len, report.simulated
    );
}
