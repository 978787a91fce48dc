//! Go's viewservice `Test1` (6.824 2015, `viewservice/test_test.go`) at Go's constants: its
//! ten scenarios in order, each starting from the views the previous ones left, with Go's
//! loops (`DeadPings * 2` or `* 3` rounds, a `PingInterval` sleep after each), pings and
//! checks, in virtual time. The view server's ticker starts at a random phase of the seed,
//! so each seed puts its ticks elsewhere among the test's pings.

use labrpc::{Network, sim};
use std::time::Duration;
use tokio::time::Instant;
use viewservice::{Clerk, DEAD_PINGS, DEAD_TIME, PING_INTERVAL, View, ViewServer};

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

        // No primary before anyone pinged.
        assert_eq!(ck1.primary().await, None, "there was a primary too soon");

        // "First primary".
        for _ in 0..ROUNDS {
            if ping(&ck1, 0).await.is_primary("s1") {
                break;
            }
            tick().await;
        }
        check(&ck1, "s1", None, 1).await;

        // "First backup".
        let vx = get(&ck1).await;
        for _ in 0..ROUNDS {
            ping(&ck1, 1).await;
            if ping(&ck2, 0).await.is_backup("s2") {
                break;
            }
            tick().await;
        }
        check(&ck1, "s1", Some("s2"), vx.viewnum + 1).await;

        // "Backup takes over if primary fails": s1 stops pinging.
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

        // "Restarted server becomes backup": s1 pings 0.
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

        // "Idle third server becomes backup if primary fails": s2 stops pinging; s1 becomes
        // primary and s3 backup in a single view change, with no view without a backup.
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

        // "Restarted primary treated as dead": s1 pings 0 although it never went silent.
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

        // "Dead backup is removed from view": s1 stops pinging; a view with only s3 is left.
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

        // "Viewserver waits for primary to ack view": p=s3 b=s1, s3 never acks it.
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

        // "Uninitialized server can't become primary": s1 and s3 die, s2 only ever pinged 0.
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

/// Not one of Go's tests: Test1's loops give a view change a second or more, so a view
/// server that declares a server dead a ping interval early or late passes it. Here, at
/// whatever phase the view server ticks: a primary silent for a little less than
/// `DEAD_TIME` (its `DEAD_PINGS`-th ping just in time) keeps its view, and one silent for
/// `DEAD_TIME` and one tick more has been replaced. A call takes up to 2 ms each way, hence
/// the 5 ms margins; the backup pings half an interval off the primary's beat.
#[test]
fn dead_time_is_dead_pings_intervals() {
    sim::run(|net: Network| async move {
        let vs = ViewServer::start(&net, "vs");
        let ck1 = Clerk::new(&net, "s1", "vs");
        let ck2 = Clerk::new(&net, "s2", "vs");
        // p=s1 b=s2, acknowledged; each server pings the view it knows, once a tick.
        let (mut known1, mut known2) = (0, 0);
        for _ in 0..ROUNDS {
            known1 = ping(&ck1, known1).await.viewnum;
            known2 = ping(&ck2, known2).await.viewnum;
            if get(&ck1).await.is_backup("s2") && known1 == known2 && vs.is_acked() {
                break;
            }
            tick().await;
        }
        let v2 = get(&ck1).await;
        assert!(
            v2.is_primary("s1") && v2.is_backup("s2") && vs.is_acked(),
            "{v2}"
        );
        let margin = Duration::from_millis(5);
        let off_beat = |from: Instant, k: u32| from + PING_INTERVAL / 2 + PING_INTERVAL * k;

        // s1 silent for DEAD_TIME - 5 ms: alive all along.
        let silent = Instant::now();
        ping(&ck1, v2.viewnum).await;
        for k in 0..DEAD_PINGS {
            tokio::time::sleep_until(off_beat(silent, k)).await;
            let v = ping(&ck2, v2.viewnum).await;
            assert_eq!(v, v2, "s1 declared dead after {:?}", silent.elapsed());
        }
        tokio::time::sleep_until(silent + DEAD_TIME - margin).await;
        assert_eq!(
            ping(&ck1, v2.viewnum).await,
            v2,
            "s1 declared dead too soon"
        );

        // s1 silent for good: dead once DEAD_TIME has passed, replaced within a tick.
        let silent = Instant::now();
        for k in 0..=DEAD_PINGS {
            tokio::time::sleep_until(off_beat(silent, k)).await;
            ping(&ck2, v2.viewnum).await;
        }
        tokio::time::sleep_until(silent + DEAD_TIME + PING_INTERVAL + margin).await;
        let v = get(&ck2).await;
        assert!(
            v.viewnum == v2.viewnum + 1 && v.is_primary("s2") && v.backup.is_none(),
            "s1 silent for {:?}, yet {v}",
            silent.elapsed()
        );
    });
}
