//! The views a view server hands out as servers come, go and restart, narrated, in virtual
//! time. The "servers" here only ping (as a pbkv server would: 0 until the first answer,
//! then the view they know).
//!
//! `cargo run -p viewservice --example views [SEED]`

use labrpc::Network;
use std::rc::Rc;
use std::time::Duration;
use tokio::time::sleep;
use viewservice::{Clerk, DEAD_TIME, PING_INTERVAL, ViewServer};

/// Starts a pinger task on node `name`.
fn pinger(net: &Network, name: &str) {
    let ck = Rc::new(Clerk::new(net, name, "vs"));
    net.spawn(name, async move {
        let mut known = 0;
        loop {
            if let Ok(view) = ck.ping(known).await {
                known = view.viewnum;
            }
            sleep(PING_INTERVAL).await;
        }
    });
}

async fn show(net: &Network, vs: &ViewServer, what: &str) {
    sleep(DEAD_TIME + PING_INTERVAL * 3).await;
    println!("[{:>6?}] {what:<28} {}", net.now(), vs.view());
}

fn main() {
    let seed = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    labrpc::sim::simulate(seed, false, |net: Network| async move {
        let vs = ViewServer::start(&net, "vs");
        pinger(&net, "a");
        show(&net, &vs, "a pings:").await;
        pinger(&net, "b");
        show(&net, &vs, "b pings:").await;
        pinger(&net, "c");
        show(&net, &vs, "c pings (idle):").await;
        net.kill("a");
        show(&net, &vs, "a (primary) dies:").await;
        net.kill("b");
        net.kill("c");
        show(&net, &vs, "b and c die too:").await;
        sleep(Duration::from_secs(1)).await;
        println!(
            "nobody holds the state, so the view stays; {} RPCs handled",
            vs.rpc_count()
        );
    });
}
