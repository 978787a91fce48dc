//! Go's viewservice `Test1` (6.824 2015, `viewservice/test_test.go`): its ten scenarios, in
//! order, each depending on the views the previous ones left, in virtual time.

use labrpc::{Network, sim};
use viewservice::{Clerk, DEAD_PINGS, PING_INTERVAL, View, ViewServer};

/// Go's `check`: the view has primary `p`, backup `b` and (unless `n` is 0) number `n`.
async fn check(ck: &Clerk, p: &str, b: Option<&str>, n: u64) {
    let view = ck
        .get()
        .await
        .expect("the view server answers on a reliable network");
    assert_eq!(view.primary.as_deref(), Some(p), "wrong primary in {view}");
    assert_eq!(view.backup.as_deref(), b, "wrong backup in {view}");
    if n != 0 {
        assert_eq!(view.viewnum, n, "wrong view number in {view}");
    }
    assert_eq!(ck.primary().await.as_deref(), Some(p));
}

async fn get(ck: &Clerk) -> View {
    ck.get()
        .await
        .expect("the view server answers on a reliable network")
}

async fn ping(ck: &Clerk, viewnum: u64) -> View {
    ck.ping(viewnum)
        .await
        .expect("the view server answers on a reliable network")
}

async fn tick() {
    tokio::time::sleep(PING_INTERVAL).await;
}

const ROUNDS: u32 = DEAD_PINGS * 2;

#[test]
fn test1() {
    sim::run(|net: Network| async move {
        let vs = ViewServer::start(&net, "vs");
        let ck1 = Clerk::new(&net, "s1", "vs");
        let ck2 = Clerk::new(&net, "s2", "vs");
        let ck3 = Clerk::new(&net, "s3", "vs");

        // 1. No primary before anyone pinged.
        assert_eq!(ck1.primary().await, None, "there was a primary too soon");

        // 2. First primary.
        for _ in 0..ROUNDS {
            if ping(&ck1, 0).await.is_primary("s1") {
                break;
            }
            tick().await;
        }
        check(&ck1, "s1", None, 1).await;

        // 3. First backup.
        let vx = get(&ck1).await;
        for _ in 0..ROUNDS {
            ping(&ck1, 1).await;
            if ping(&ck2, 0).await.is_backup("s2") {
                break;
            }
            tick().await;
        }
        check(&ck1, "s1", Some("s2"), vx.viewnum + 1).await;

        // 4. The primary dies; the backup takes over.
        ping(&ck1, 2).await;
        let vx = ping(&ck2, 2).await;
        for _ in 0..ROUNDS {
            let v = ping(&ck2, vx.viewnum).await;
            if v.is_primary("s2") && v.backup.is_none() {
                break;
            }
            tick().await;
        }
        check(&ck2, "s2", None, vx.viewnum + 1).await;

        // 5. The revived server becomes backup.
        let vx = get(&ck2).await;
        ping(&ck2, vx.viewnum).await;
        for _ in 0..ROUNDS {
            ping(&ck1, 0).await;
            let v = ping(&ck2, vx.viewnum).await;
            if v.is_primary("s2") && v.is_backup("s1") {
                break;
            }
            tick().await;
        }
        check(&ck2, "s2", Some("s1"), vx.viewnum + 1).await;

        // 6. The primary (s2) dies, an idle third server is around: the backup (s1) becomes
        //    primary and s3 backup, in one view change.
        let mut vx = get(&ck2).await;
        ping(&ck2, vx.viewnum).await;
        for _ in 0..ROUNDS {
            ping(&ck3, 0).await;
            let v = ping(&ck1, vx.viewnum).await;
            if v.is_primary("s1") && v.is_backup("s3") {
                break;
            }
            vx = v;
            tick().await;
        }
        check(&ck1, "s1", Some("s3"), vx.viewnum + 1).await;

        // 7. A primary killed and restarted at once (pinging 0) is treated as dead.
        let vx = get(&ck1).await;
        ping(&ck1, vx.viewnum).await;
        for _ in 0..ROUNDS {
            ping(&ck1, 0).await;
            ping(&ck3, vx.viewnum).await;
            if !get(&ck3).await.is_primary("s1") {
                break;
            }
            tick().await;
        }
        assert!(get(&ck3).await.is_primary("s3"), "s3 should be primary");

        // 8. A view with only s3, as primary, to prepare the next scenario.
        for _ in 0..DEAD_PINGS * 3 {
            let vx = get(&ck3).await;
            ping(&ck3, vx.viewnum).await;
            tick().await;
        }
        let v = get(&ck3).await;
        assert!(
            v.is_primary("s3") && v.backup.is_none(),
            "wrong primary or backup: {v}"
        );

        // 9. The view server waits for the primary's ack before the next view.
        let vx = get(&ck1).await;
        for _ in 0..DEAD_PINGS * 3 {
            ping(&ck1, 0).await;
            ping(&ck3, vx.viewnum).await;
            if get(&ck1).await.viewnum > vx.viewnum {
                break;
            }
            tick().await;
        }
        check(&ck1, "s3", Some("s1"), vx.viewnum + 1).await;
        let vy = get(&ck1).await;
        // s3 is primary but never acked vy; let it die and check s1 is not promoted.
        for _ in 0..DEAD_PINGS * 3 {
            if ping(&ck1, vy.viewnum).await.viewnum > vy.viewnum {
                break;
            }
            tick().await;
        }
        check(&ck2, "s3", Some("s1"), vy.viewnum).await;

        // 10. When the old servers die, a new (uninitialized) server cannot take over.
        for _ in 0..ROUNDS {
            let v = get(&ck1).await;
            ping(&ck1, v.viewnum).await;
            ping(&ck2, 0).await;
            ping(&ck3, v.viewnum).await;
            tick().await;
        }
        for _ in 0..ROUNDS {
            ping(&ck2, 0).await;
            tick().await;
        }
        let vz = get(&ck2).await;
        assert!(
            !vz.is_primary("s2"),
            "uninitialized backup promoted to primary: {vz}"
        );

        vs.kill();
    });
}
