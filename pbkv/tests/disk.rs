//! P7, answered means durable: a primary and its backup crash the moment the last answer
//! reaches the clerk, and come back with their disks holding everything they answered.

mod common;

use common::*;
use labrpc::{Network, sim};
use pbkv::Clerk;
use std::time::Duration;
use tokio::time::{sleep, timeout};

#[test]
fn answered_writes_survive_both_servers_crashing_at_once() {
    sim::run(|net: Network| async move {
        let (_vs, vck) = start_vs(&net);
        let s1 = start(&net, "s1");
        wait_view(&vck, 10, |v| v.is_primary("s1")).await;
        let s2 = start(&net, "s2");
        wait_pair(&vck).await;
        let mut ck = Clerk::new(&net, "ck", VS);
        for i in 0..5 {
            ck.append("a", &i.to_string()).await;
        }
        s1.kill();
        s2.kill();
        sleep(DEAD_TIME * 2).await;
        let _s1 = start(&net, "s1");
        let _s2 = start(&net, "s2");
        let got = timeout(Duration::from_secs(5), ck.get("a")).await;
        assert_eq!(
            got.ok().as_deref(),
            Some("01234"),
            "an answered Append was lost in a crash that kept the disks"
        );
        ck.append("a", "5").await;
        check(&mut ck, "a", "012345").await;
    });
}
