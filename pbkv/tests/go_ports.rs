//! Go's pbservice tests (6.824 2015, `pbservice/test_test.go`), with Go's constants, in
//! virtual time.
//!
//! One difference in kind: on a reliable simulated network a call takes no virtual time, so
//! a client loop that never sleeps would never let the clock move. Client loops that run
//! "for 5 seconds" therefore pause [`PAUSE`] between operations, as Go's crash tests do.
//! Go's `setunreliable` is labrpc's `set_unreliable_server`, at Go's rates: a server drops
//! 10% of the requests that reach it and runs, then discards the reply of, 20% of the rest
//! (pings to the view service, which the servers send, stay reliable, as in Go).

mod common;

use common::*;
use futures::future::join_all;
use labrpc::{Error, Network, sim};
use pbkv::{Clerk, ClientOp, KvEnd, Op, PbKvClient};
use rand::Rng;
use std::time::Duration;
use tokio::time::{Instant, sleep, timeout};
use viewservice::{DEAD_PINGS, PING_INTERVAL};

/// Pause between a looping client's operations.
const PAUSE: Duration = Duration::from_millis(10);

/// TestBasicFail: single primary; a backup joins; the clerk and servers do not flood the
/// view service; the backup takes over; a new server after the last one died does not serve.
#[test]
fn basic_fail() {
    sim::run(|net: Network| async move {
        let (vs, vck) = start_vs(&net);
        let mut ck = Clerk::new(&net, "ck", VS);

        // Single primary, no backup.
        let s1 = start(&net, "s1");
        sleep(DEAD_TIME * 2).await;
        assert_eq!(
            vck.primary().await.as_deref(),
            Some("s1"),
            "first primary never formed view"
        );
        ck.put("111", "v1").await;
        check(&mut ck, "111", "v1").await;
        ck.put("2", "v2").await;
        check(&mut ck, "2", "v2").await;
        ck.put("1", "v1a").await;
        check(&mut ck, "1", "v1a").await;
        ck.append("ak", "hello").await;
        check(&mut ck, "ak", "hello").await;
        ck.put("ak", "xx").await;
        ck.append("ak", "yy").await;
        check(&mut ck, "ak", "xxyy").await;

        // Add a backup.
        let s2 = start(&net, "s2");
        let v = wait_view(&vck, DEAD_PINGS * 2, |v| v.is_backup("s2")).await;
        assert!(v.is_backup("s2"), "backup never came up: {v}");
        ck.put("3", "33").await;
        check(&mut ck, "3", "33").await;
        sleep(PING_INTERVAL * 3).await; // give the backup time to initialize
        ck.put("4", "44").await;
        check(&mut ck, "4", "44").await;

        // Count RPCs to the view service: both clerk and servers cache the view; each server
        // may ping 10 times a second.
        let count1 = vs.rpc_count();
        let t1 = Instant::now();
        for i in 0..100 {
            ck.put(&format!("xk{i}"), &i.to_string()).await;
        }
        let count2 = vs.rpc_count();
        let intervals = (t1.elapsed().as_millis() / PING_INTERVAL.as_millis()) as u64;
        let allowed = 2 * intervals + 20;
        assert!(
            count2 - count1 <= allowed,
            "too many viewserver RPCs: {} (allowed {allowed})",
            count2 - count1
        );

        // Kill the primary.
        s1.kill();
        let v = wait_view(&vck, DEAD_PINGS * 2, |v| v.is_primary("s2")).await;
        assert!(v.is_primary("s2"), "backup never switched to primary: {v}");
        check(&mut ck, "1", "v1a").await;
        check(&mut ck, "3", "33").await;
        check(&mut ck, "4", "44").await;

        // Kill the solo server, start a new one: it must not serve as primary.
        s2.kill();
        let _s3 = start(&net, "s3");
        sleep(Duration::from_secs(1)).await;
        let got = timeout(Duration::from_secs(2), ck.get("1")).await;
        assert!(
            got.is_err(),
            "Get returned {got:?} though no initialized primary exists"
        );
    });
}

/// TestAtMostOnce: 100 Appends over an unreliable network give exactly their concatenation.
#[test]
fn at_most_once() {
    sim::run(|net: Network| async move {
        let (_vs, vck) = start_vs(&net);
        // Go starts one server and waits for a pair it never gets; we start two.
        let _servers = [start(&net, "s1"), start(&net, "s2")];
        set_unreliable(&net, &["s1", "s2"]);
        wait_pair(&vck).await;
        let mut ck = Clerk::new(&net, "ck", VS);
        let mut val = String::new();
        for i in 0..100 {
            let v = i.to_string();
            ck.append("counter", &v).await;
            val.push_str(&v);
        }
        assert_eq!(ck.get("counter").await, val);
    });
}

/// TestFailPut: a Put right after the backup fails, and right after the primary fails.
#[test]
fn fail_put() {
    sim::run(|net: Network| async move {
        let (_vs, vck) = start_vs(&net);
        let s1 = start(&net, "s1");
        sleep(Duration::from_secs(1)).await;
        let s2 = start(&net, "s2");
        sleep(Duration::from_secs(1)).await;
        let _s3 = start(&net, "s3");
        wait_view(&vck, DEAD_PINGS * 3, |v| {
            v.primary.is_some() && v.backup.is_some()
        })
        .await;
        sleep(Duration::from_secs(1)).await; // backup initialization
        let v1 = view(&vck).await;
        assert!(v1.is_primary("s1") && v1.is_backup("s2"), "wrong view {v1}");

        let mut ck = Clerk::new(&net, "ck", VS);
        ck.put("a", "aa").await;
        ck.put("b", "bb").await;
        ck.put("c", "cc").await;
        check(&mut ck, "a", "aa").await;
        check(&mut ck, "b", "bb").await;
        check(&mut ck, "c", "cc").await;

        // Kill the backup, then Put at once.
        s2.kill();
        ck.put("a", "aaa").await;
        check(&mut ck, "a", "aaa").await;
        wait_view(&vck, DEAD_PINGS * 3, |v| {
            v.viewnum > v1.viewnum && v.primary.is_some() && v.backup.is_some()
        })
        .await;
        sleep(Duration::from_secs(1)).await;
        let v2 = view(&vck).await;
        assert!(v2.is_primary("s1") && v2.is_backup("s3"), "wrong view {v2}");
        check(&mut ck, "a", "aaa").await;

        // Kill the primary, then Put at once.
        s1.kill();
        ck.put("b", "bbb").await;
        check(&mut ck, "b", "bbb").await;
        wait_view(&vck, DEAD_PINGS * 3, |v| {
            v.viewnum > v2.viewnum && v.primary.is_some()
        })
        .await;
        sleep(Duration::from_secs(1)).await;
        check(&mut ck, "a", "aaa").await;
        check(&mut ck, "b", "bbb").await;
        check(&mut ck, "c", "cc").await;
    });
}

/// Three clients Put random values to two keys for 5 s; then the primary's values are read,
/// the primary killed, and the old backup must give the same values.
async fn concurrent_puts(net: Network, unreliable: bool) {
    let (_vs, vck) = start_vs(&net);
    let servers = [start(&net, "s1"), start(&net, "s2")];
    if unreliable {
        set_unreliable(&net, &["s1", "s2"]);
    }
    let view1 = wait_pair(&vck).await;
    if unreliable {
        let mut ck = Clerk::new(&net, "ck0", VS);
        ck.put("0", "x").await;
        ck.put("1", "x").await;
    }
    const NKEYS: u32 = 2;
    let deadline = Instant::now() + Duration::from_secs(5);
    let clients = (0..3).map(|i| {
        let net = net.clone();
        async move {
            let mut ck = Clerk::new(&net, &format!("client{i}"), VS);
            let mut rng = net.rng();
            while before(deadline) {
                let k = rng.random_range(0..NKEYS).to_string();
                let v = rng.random::<u32>().to_string();
                ck.put(&k, &v).await;
                sleep(PAUSE).await;
            }
        }
    });
    join_all(clients).await;
    sleep(Duration::from_secs(1)).await;

    let mut ck = Clerk::new(&net, "reader", VS);
    let mut vals = Vec::new();
    for i in 0..NKEYS {
        let v = ck.get(&i.to_string()).await;
        assert!(!v.is_empty(), "Get({i}) failed from primary");
        vals.push(v);
    }
    let primary = servers
        .iter()
        .find(|s| view1.is_primary(s.name()))
        .expect("the primary is one of ours");
    primary.kill();
    let view2 = wait_view(&vck, DEAD_PINGS * 2, |v| v.primary == view1.backup).await;
    assert_eq!(view2.primary, view1.backup, "wrong primary");
    for (i, wanted) in vals.iter().enumerate() {
        assert_eq!(
            &ck.get(&i.to_string()).await,
            wanted,
            "Get({i}) from the old backup"
        );
    }
}

/// TestConcurrentSame: primary and backup apply concurrent Puts in the same order.
#[test]
fn concurrent_same() {
    sim::run(|net: Network| concurrent_puts(net, false));
}

/// TestConcurrentSameUnreliable: the same over an unreliable network.
#[test]
fn concurrent_same_unreliable() {
    sim::run(|net: Network| concurrent_puts(net, true));
}

/// TestConcurrentSameAppend: three clients Append 50 elements each to one key; primary and
/// backup end with the same value, holding every element once, in each client's order.
#[test]
fn concurrent_same_append() {
    sim::run(|net: Network| async move {
        let (_vs, vck) = start_vs(&net);
        let servers = [start(&net, "s1"), start(&net, "s2")];
        let view1 = wait_pair(&vck).await;
        let clients = (0..3).map(|i| {
            let net = net.clone();
            async move {
                let mut ck = Clerk::new(&net, &format!("client{i}"), VS);
                let mut rng = net.rng();
                for n in 0..50 {
                    ck.append("k", &format!("x {i} {n} y")).await;
                    sleep(Duration::from_millis(rng.random_range(0..5))).await;
                }
                50
            }
        });
        let counts = join_all(clients).await;
        let mut ck = Clerk::new(&net, "reader", VS);
        let primaryv = ck.get("k").await;
        check_appends(&primaryv, &counts);

        let primary = servers
            .iter()
            .find(|s| view1.is_primary(s.name()))
            .expect("the primary is one of ours");
        primary.kill();
        let view2 = wait_view(&vck, DEAD_PINGS * 2, |v| v.primary == view1.backup).await;
        assert_eq!(view2.primary, view1.backup, "wrong primary");
        let backupv = ck.get("k").await;
        check_appends(&backupv, &counts);
        assert_eq!(backupv, primaryv, "primary and backup had different values");
    });
}

/// Kills a random server, waits, restarts it empty, waits; until `deadline`.
async fn crash_and_restart(net: Network, names: [&'static str; 3], deadline: Instant) {
    let mut rng = net.rng();
    let wait = PING_INTERVAL * 2 * DEAD_PINGS;
    while before(deadline) {
        let name = names[rng.random_range(0..names.len())];
        net.kill(name);
        net.lose_disk(name); // Go's restarted server is a new, empty one
        sleep(wait).await;
        start(&net, name);
        sleep(wait).await;
    }
}

/// Go's `setunreliable(true)` on each of `names`.
fn set_unreliable(net: &Network, names: &[&str]) {
    for name in names {
        net.set_unreliable_server(name, true);
    }
}

/// How long the crash tests run (Go: 20 s).
const CRASH_TIME: Duration = Duration::from_secs(20);

/// TestRepeatedCrash: constant Puts and Gets while servers crash and restart; each client
/// checks its own keys.
#[test]
fn repeated_crash() {
    sim::run(|net: Network| async move {
        let (_vs, vck) = start_vs(&net);
        let names = ["s1", "s2", "s3"];
        for name in names {
            start(&net, name);
        }
        wait_pair(&vck).await;
        let deadline = Instant::now() + CRASH_TIME;
        let clients = (0..2).map(|i| {
            let net = net.clone();
            async move {
                let mut ck = Clerk::new(&net, &format!("client{i}"), VS);
                let mut rng = net.rng();
                let mut data = std::collections::BTreeMap::new();
                while before(deadline) {
                    let k = (i * 1_000_000 + rng.random_range(0..10)).to_string();
                    if let Some(wanted) = data.get(&k) {
                        assert_eq!(&ck.get(&k).await, wanted, "key {k}");
                    }
                    let nv = rng.random::<u32>().to_string();
                    ck.put(&k, &nv).await;
                    data.insert(k, nv);
                    sleep(PAUSE).await;
                }
            }
        });
        let killer = crash_and_restart(net.clone(), names, deadline);
        futures::join!(join_all(clients), killer);

        let mut ck = Clerk::new(&net, "final", VS);
        ck.put("aaa", "bbb").await;
        assert_eq!(ck.get("aaa").await, "bbb", "final Put/Get failed");
    });
}

/// TestRepeatedCrashUnreliable: concurrent Appends to one key while servers crash and
/// restart, over an unreliable network; every acknowledged Append is there once, in order.
#[test]
fn repeated_crash_unreliable() {
    sim::run(|net: Network| async move {
        let (_vs, vck) = start_vs(&net);
        let names = ["s1", "s2", "s3"];
        for name in names {
            start(&net, name);
        }
        set_unreliable(&net, &names);
        wait_pair(&vck).await;
        let deadline = Instant::now() + CRASH_TIME;
        let clients = (0..2).map(|i| {
            let net = net.clone();
            async move {
                let mut ck = Clerk::new(&net, &format!("client{i}"), VS);
                let mut n = 0;
                while before(deadline) {
                    ck.append("0", &format!("x {i} {n} y")).await;
                    sleep(PAUSE).await;
                    n += 1;
                }
                n
            }
        });
        let killer = crash_and_restart(net.clone(), names, deadline);
        let (counts, ()) = futures::join!(join_all(clients), killer);

        let mut ck = Clerk::new(&net, "final", VS);
        check_appends(&ck.get("0").await, &counts);
        ck.put("aaa", "bbb").await;
        assert_eq!(ck.get("aaa").await, "bbb", "final Put/Get failed");
    });
}

/// Starts s1 as primary and s2 as backup (Go's partition tests' setup), puts a=1, then cuts
/// s1 off from the view service both ways and waits until s2 is primary.
async fn partition_setup(net: &Network, vck: &viewservice::Clerk) -> Clerk {
    let mut ck1 = Clerk::new(net, "ck1", VS);
    start(net, "s1");
    sleep(DEAD_TIME * 2).await;
    assert_eq!(
        vck.primary().await.as_deref(),
        Some("s1"),
        "no initial view"
    );
    start(net, "s2");
    sleep(DEAD_TIME * 2).await;
    let v1 = view(vck).await;
    assert!(
        v1.is_primary("s1") && v1.is_backup("s2"),
        "backup did not join: {v1}"
    );
    ck1.put("a", "1").await;
    check(&mut ck1, "a", "1").await;

    net.cut("s1", VS);
    net.cut(VS, "s1");
    let v = wait_view(vck, DEAD_PINGS * 3, |v| v.is_primary("s2")).await;
    assert!(v.is_primary("s2"), "primary never changed: {v}");
    ck1
}

/// The Get that Go's tests delay in a proxy until s1 is no longer primary: sent straight to
/// s1 now. It must not come back with the stale value.
async fn delayed_get(net: &Network) -> Result<pbkv::KvReply, Error> {
    let end: KvEnd = net.client("ck1", "s1");
    let op = ClientOp {
        client: 7,
        seq: 1,
        op: Op::Get { key: "a".into() },
    };
    PbKvClient::from(end)
        .execute(labrpc::context(), op)
        .await
        .map_err(Error::from)
}

/// TestPartition1: an old primary cut off from the view service does not serve Gets.
#[test]
fn partition1() {
    sim::run(|net: Network| async move {
        let (_vs, vck) = start_vs(&net);
        let mut ck1 = partition_setup(&net, &vck).await;
        // Long enough that s2 has surely pinged and knows the new view.
        sleep(PING_INTERVAL * 2).await;
        let mut ck2 = Clerk::new(&net, "ck2", VS);
        ck2.put("a", "111").await;
        check(&mut ck2, "a", "111").await;

        let stale = delayed_get(&net).await;
        assert!(
            !matches!(&stale, Ok(Ok(v)) if v == "1"),
            "Get to old primary succeeded and produced stale value: {stale:?}"
        );
        assert_eq!(ck1.cached_primary(), Some("s1"));
        check(&mut ck1, "a", "111").await;
        check(&mut ck2, "a", "111").await;
    });
}

/// TestPartition2: a partitioned old primary does not complete Gets, even after its
/// successor (the only server it could check with) died.
#[test]
fn partition2() {
    sim::run(|net: Network| async move {
        let (_vs, vck) = start_vs(&net);
        let mut ck1 = partition_setup(&net, &vck).await;
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

        let stale = delayed_get(&net).await;
        assert!(
            !matches!(&stale, Ok(Ok(v)) if v == "1"),
            "partitioned primary replied to a Get with a stale value: {stale:?}"
        );
        check(&mut ck1, "a", "2").await;
        check(&mut ck2, "a", "2").await;
    });
}
