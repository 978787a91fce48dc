//! A primary/backup pair through a crash, narrated: the views the view service hands out
//! and the values a clerk reads, in virtual time.
//!
//! `cargo run -p pbkv --example crash [SEED]`

use labrpc::Network;
use pbkv::{Clerk, PbServer};
use std::time::Duration;
use tokio::time::sleep;
use viewservice::{DEAD_TIME, ViewServer};

/// Sleeps long enough for views to settle, then prints the view.
async fn settle(net: &Network, vs: &ViewServer, what: &str) {
    sleep(DEAD_TIME * 2).await;
    println!("[{:>6?}] {what:<34} {}", net.now(), vs.view());
}

fn main() {
    let seed = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let report = labrpc::sim::simulate(seed, false, |net: Network| async move {
        let vs = ViewServer::start(&net, "vs");
        let s1 = PbServer::start(&net, "s1", "vs");
        settle(&net, &vs, "s1 started:").await;
        let s2 = PbServer::start(&net, "s2", "vs");
        settle(&net, &vs, "s2 started:").await;

        let mut ck = Clerk::new(&net, "clerk", "vs");
        ck.put("x", "1").await;
        ck.append("x", "2").await;
        println!(
            "clerk: put x=1, append 2 -> get x = {:?}",
            ck.get("x").await
        );
        println!(
            "  primary s1 holds {:?}, backup s2 holds {:?}",
            s1.data(),
            s2.data()
        );

        s1.kill();
        println!("[{:>6?}] s1 killed", net.now());
        let before = net.now();
        ck.append("x", "3").await;
        println!(
            "clerk: append 3 waited {:?} for the backup to take over -> get x = {:?}",
            net.now() - before,
            ck.get("x").await
        );
        settle(&net, &vs, "after the takeover:").await;

        // Its disk lost too, so s1 restarts empty (with its disk it would come back as the
        // copy it was).
        net.lose_disk("s1");
        let s1 = PbServer::start(&net, "s1", "vs");
        settle(&net, &vs, "s1 restarted, disk lost:").await;
        println!("  new backup s1 received the state: {:?}", s1.data());

        s2.kill();
        println!("[{:>6?}] s2 killed", net.now());
        println!("clerk: get x = {:?} (from s1)", ck.get("x").await);
        settle(&net, &vs, "after the second takeover:").await;

        s1.kill();
        net.lose_disk("s1");
        let _s3 = PbServer::start(&net, "s3", "vs");
        settle(&net, &vs, "s1 lost too, new s3 started:").await;
        let blocked = tokio::time::timeout(Duration::from_secs(2), ck.get("x")).await;
        println!(
            "clerk: get x with no server holding the data: {}",
            if blocked.is_err() {
                "waits (s3 never serves)"
            } else {
                "answered?!"
            }
        );
        println!(
            "view service handled {} RPCs; the network carried {}",
            vs.rpc_count(),
            net.stats().rpcs
        );
    });
    println!(
        "seed {seed}: {:?} of virtual time, {} events",
        report.simulated, report.trace_len
    );
}
