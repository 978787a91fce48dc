//! Go's pbservice TestConcurrentSame, TestConcurrentSameAppend and
//! TestConcurrentSameUnreliable (6.824 2015, `pbservice/test_test.go`), with Go's constants,
//! in virtual time. Clients run flat out, as in Go: a simulated Put takes virtual time (the
//! network's jitter and the servers' disk syncs), so the clock moves.

mod common;

use common::go::*;
use common::*;
use futures::future::join_all;
use labrpc::{Network, sim};
use pbkv::Clerk;
use std::time::Duration;
use tokio::time::{Instant, sleep_until};
use viewservice::DEAD_PINGS;

/// Go's `nclients` and `nkeys`.
const NCLIENTS: usize = 3;
const NKEYS: u64 = 2;

/// The body of ConcurrentSame(Unreliable): NCLIENTS clients Put random values to NKEYS keys
/// for 5 s; the values are read from the primary, the primary killed, and the old backup
/// must give the same values (primary and backup applied the Puts in the same order).
async fn concurrent_puts(net: Network, unreliable: bool) {
    let (_vs, vck) = go_start_vs(&net).await;
    let servers = [start(&net, "s1"), start(&net, "s2")];
    if unreliable {
        set_unreliable(&net, &["s1", "s2"]);
    }
    go_wait_pair(&vck, DEAD_PINGS * 2).await;
    if unreliable {
        let mut ck = Clerk::new(&net, "ck0", VS);
        ck.put("0", "x").await;
        ck.put("1", "x").await;
    }
    let view1 = view(&vck).await;

    let deadline = Instant::now() + Duration::from_secs(5);
    let clients = (0..NCLIENTS).map(|i| {
        let net = net.clone();
        async move {
            let mut ck = Clerk::new(&net, &format!("client{i}"), VS);
            let mut rng = net.rng();
            while Instant::now() < deadline {
                let k = (go_int(&mut rng) % NKEYS).to_string();
                let v = go_int(&mut rng).to_string();
                ck.put(&k, &v).await;
            }
        }
    });
    if unreliable {
        // Go waits for every client to report that it finished.
        join_all(clients).await;
    } else {
        // Go waits a second after telling the clients to stop; each must have stopped.
        futures::join!(
            join_all(clients),
            sleep_until(deadline + Duration::from_secs(1))
        );
    }

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
        .unwrap_or_else(|| panic!("view {view1} has none of ours as primary"));
    primary.kill();
    let view2 = wait_view(&vck, DEAD_PINGS * 2, |v| v.primary == view1.backup).await;
    assert_eq!(view2.primary, view1.backup, "wrong Primary: {view2}");
    for (i, wanted) in vals.iter().enumerate() {
        let z = ck.get(&i.to_string()).await;
        assert_eq!(&z, wanted, "Get({i}) from backup");
    }
}

/// TestConcurrentSame: primary and backup apply concurrent Puts in the same order.
#[test]
fn concurrent_same() {
    sim::run(|net: Network| concurrent_puts(net, false));
}

/// TestConcurrentSameUnreliable: the same with both servers unreliable.
#[test]
fn concurrent_same_unreliable() {
    sim::run(|net: Network| concurrent_puts(net, true));
}

/// TestConcurrentSameAppend: NCLIENTS clients Append 50 elements each to one key, flat out;
/// primary and backup end with the same value, holding every element once, in each
/// client's order.
#[test]
fn concurrent_same_append() {
    sim::run(|net: Network| async move {
        let (_vs, vck) = go_start_vs(&net).await;
        let servers = [start(&net, "s1"), start(&net, "s2")];
        go_wait_pair(&vck, DEAD_PINGS * 2).await;
        let view1 = view(&vck).await;

        let clients = (0..NCLIENTS).map(|i| {
            let net = net.clone();
            async move {
                let mut ck = Clerk::new(&net, &format!("client{i}"), VS);
                let mut n = 0;
                while n < 50 {
                    ck.append("k", &format!("x {i} {n} y")).await;
                    n += 1;
                }
                n
            }
        });
        let counts = join_all(clients).await;

        let mut ck = Clerk::new(&net, "reader", VS);
        let primaryv = ck.get("k").await;
        check_appends(&primaryv, &counts);

        let primary = servers
            .iter()
            .find(|s| view1.is_primary(s.name()))
            .unwrap_or_else(|| panic!("view {view1} has none of ours as primary"));
        primary.kill();
        let view2 = wait_view(&vck, DEAD_PINGS * 2, |v| v.primary == view1.backup).await;
        assert_eq!(view2.primary, view1.backup, "wrong Primary: {view2}");
        let backupv = ck.get("k").await;
        check_appends(&backupv, &counts);
        assert_eq!(backupv, primaryv, "primary and backup had different values");
    });
}
