//! Go's pbservice TestPartition1 and TestPartition2 (6.824 2015, `pbservice/test_test.go`),
//! with Go's constants, in virtual time.
//!
//! Go cuts s1 off from the view service (s1 pinged it through a link it then removes) and
//! puts a proxy in front of s1 that holds each new connection for 4 s (5 s in Partition2)
//! before passing it on, so that ck1's Get, issued at the cut, reaches s1 only after the view
//! moved on without it. Here ck1 issues that Get 4 s (5 s) after the cut, as the proxy would
//! deliver it: its first attempt goes to s1, the primary it cached.

mod common;

use common::go::*;
use common::*;
use labrpc::{Network, sim};
use pbkv::Clerk;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::{sleep, timeout};
use viewservice::{DEAD_PINGS, PING_INTERVAL};

/// Go's opening of both tests: s1 primary, s2 backup, a=1 written through s1; then s1 is
/// cut off from the view service and ck1's Get of "a" is delayed by `delay`. Returns the
/// view-service clerk and the Get's outcome, sent when (if) the Get returns.
async fn setup_and_delay_get(
    net: &Network,
    delay: Duration,
) -> (viewservice::Clerk, oneshot::Receiver<String>) {
    let (_vs, vck) = go_start_vs(net).await;
    let mut ck1 = Clerk::new(net, "ck1", VS);
    start(net, "s1");
    sleep(DEAD_TIME * 2).await;
    assert_eq!(
        vck.primary().await.as_deref(),
        Some("s1"),
        "primary never formed initial view"
    );
    start(net, "s2");
    sleep(DEAD_TIME * 2).await;
    let v1 = view(&vck).await;
    assert!(
        v1.is_primary("s1") && v1.is_backup("s2"),
        "backup did not join view: {v1}"
    );
    ck1.put("a", "1").await;
    check(&mut ck1, "a", "1").await;

    net.cut("s1", VS);
    let (tx, rx) = oneshot::channel();
    net.spawn("ck1", async move {
        sleep(delay).await;
        // What makes the test: the Get reaches the old primary first.
        assert_eq!(ck1.cached_primary(), Some("s1"), "ck1 forgot its primary");
        let _ = tx.send(ck1.get("a").await);
    });

    // Now s1 cannot talk to the view service, so the view will change and s1 won't
    // immediately realize.
    let v = wait_view(&vck, DEAD_PINGS * 3, |v| v.is_primary("s2")).await;
    assert!(v.is_primary("s2"), "primary never changed: {v}");
    (vck, rx)
}

/// TestPartition1: an old primary cut off from the view service does not serve Gets once
/// its successor took over.
#[test]
fn partition1() {
    sim::run(|net: Network| async move {
        let (_vck, stale_get) = setup_and_delay_get(&net, Duration::from_secs(4)).await;
        // Long enough that s2 has surely pinged and knows the new view.
        sleep(PING_INTERVAL * 2).await;
        // Change the value (on s2) so it's no longer "1".
        let mut ck2 = Clerk::new(&net, "ck2", VS);
        ck2.put("a", "111").await;
        check(&mut ck2, "a", "111").await;

        // Wait for the delayed Get to s1 (Go: at most 5 s).
        if let Ok(got) = timeout(Duration::from_secs(5), stale_get).await {
            let got = got.expect("ck1's Get task ended without an answer");
            // Go fails on "1" only; issued after the Put of "111" completed, the Get has
            // no other right answer than "111".
            assert_eq!(
                got, "111",
                "Get to old primary succeeded and produced stale value"
            );
        }
        check(&mut ck2, "a", "111").await;
    });
}

/// TestPartition2: a partitioned old primary does not complete Gets, even after the
/// server it would forward them to died.
#[test]
fn partition2() {
    sim::run(|net: Network| async move {
        let (vck, stale_get) = setup_and_delay_get(&net, Duration::from_secs(5)).await;
        let _s3 = start(&net, "s3");
        let v2 = wait_view(&vck, DEAD_PINGS * 3, |v| {
            v.is_primary("s2") && v.is_backup("s3")
        })
        .await;
        assert!(
            v2.is_primary("s2") && v2.is_backup("s3"),
            "new backup never joined: {v2}"
        );
        sleep(Duration::from_secs(2)).await;
        let mut ck2 = Clerk::new(&net, "ck2", VS);
        ck2.put("a", "2").await;
        check(&mut ck2, "a", "2").await;
        net.kill("s2");

        // Wait for the delayed Get to s1 (Go: at most 6 s).
        if let Ok(got) = timeout(Duration::from_secs(6), stale_get).await {
            let got = got.expect("ck1's Get task ended without an answer");
            // As in Partition1: Go fails on "1"; no answer but "2" is right.
            assert_eq!(
                got, "2",
                "partitioned primary replied to a Get with a stale value"
            );
        }
        check(&mut ck2, "a", "2").await;
    });
}
