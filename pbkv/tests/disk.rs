//! P7, answered means durable: a primary and its backup crash the moment the last answer
//! reaches the clerk, and come back with their disks holding everything they answered.

mod common;

use common::*;
use labrpc::{Network, sim};
use pbkv::{Clerk, ClientOp, Op, PbKvClient};
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

/// P7: a primary acknowledges a view only once its disk holds it. The first primary (view
/// 1, alone) gets a backup (view 2) and acknowledges it without any write, then crashes;
/// its backup takes over and serves a Put. Restarted with its disk, the old primary must
/// not believe it is still the lone primary of view 1 and serve the Get from its old copy.
#[test]
fn a_restarted_primary_never_serves_alone_from_an_older_view() {
    sim::run(|net: Network| async move {
        let (vs, vck) = start_vs(&net);
        let s1 = start(&net, "s1");
        wait_view(&vck, 10, |v| v.is_primary("s1")).await;
        let _s2 = start(&net, "s2");
        // Crash s1 the moment the view service has its acknowledgement of view 2.
        while !(vs.view().viewnum == 2 && vs.is_acked()) {
            sleep(Duration::from_millis(1)).await;
        }
        s1.kill();
        wait_view(&vck, 20, |v| v.is_primary("s2")).await;
        let mut ck = Clerk::new(&net, "ck", VS);
        ck.put("a", "x").await;
        let _s1 = start(&net, "s1");
        let direct = PbKvClient::from(net.client("direct", "s1"));
        let get = ClientOp {
            client: 1,
            seq: 1,
            op: Op::Get { key: "a".into() },
        };
        let reply = direct.execute(labrpc::context(), get).await;
        assert!(
            !matches!(reply, Ok(Ok(ref v)) if v.is_empty()),
            "the restarted old primary served a stale Get from view 1: {reply:?}"
        );
    });
}

/// P7 costs a disk write only when something changes: an idle, acknowledged pair writes
/// nothing, however long it runs, and each Put costs each server one write.
#[test]
fn an_idle_pair_writes_nothing_and_a_put_writes_once_per_server() {
    sim::run(|net: Network| async move {
        let (vs, vck) = start_vs(&net);
        let s1 = start(&net, "s1");
        wait_view(&vck, 10, |v| v.is_primary("s1")).await;
        let s2 = start(&net, "s2");
        wait_pair(&vck).await;
        assert_eq!(s1.view(), vs.view(), "the primary knows the current view");
        let writes = |name: &str| net.disk(name).stats().map(|s| s.writes).unwrap_or(0);
        let before = (writes("s1"), writes("s2"));
        sleep(DEAD_TIME * 4).await;
        assert_eq!(
            (writes("s1"), writes("s2")),
            before,
            "an idle pair wrote to disk"
        );
        let mut ck = Clerk::new(&net, "ck", VS);
        ck.put("a", "x").await;
        assert_eq!(
            (writes("s1"), writes("s2")),
            (before.0 + 1, before.1 + 1),
            "a Put is one write on the primary and one on the backup"
        );
        assert!(s2.view().is_backup("s2"));
    });
}
