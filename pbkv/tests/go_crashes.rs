//! Go's pbservice TestRepeatedCrash and TestRepeatedCrashUnreliable (6.824 2015,
//! `pbservice/test_test.go`), with Go's constants, in virtual time: 20 s of client
//! operations while a killer crashes a random server every 2 s and starts an empty one.

mod common;

use common::go::*;
use common::*;
use futures::future::join_all;
use labrpc::{Network, sim};
use pbkv::Clerk;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::{Instant, sleep};
use viewservice::DEAD_PINGS;

/// How long the clients run (Go: 20 s).
const CRASH_TIME: Duration = Duration::from_secs(20);
/// Go's `nth`: client threads.
const NTH: usize = 2;
/// Go's `nservers`.
const SERVERS: [&str; 3] = ["s1", "s2", "s3"];
/// Go's clients pause this long between operations, "so that the servers' tick() threads
/// get enough time to Ping the viewserver".
const CLIENT_PAUSE: Duration = Duration::from_millis(10);

/// Starts the three servers (unreliable if asked) and waits as Go does: for a pair at most
/// `DeadPings` polls, then `DeadPings * PingInterval` for the backup to be initialized.
async fn setup(net: &Network, unreliable: bool) {
    let (_vs, vck) = go_start_vs(net).await;
    for name in SERVERS {
        start(net, name);
    }
    if unreliable {
        set_unreliable(net, &SERVERS);
    }
    go_wait_pair(&vck, DEAD_PINGS).await;
}

/// Go's end of both tests, while the killer finishes its last round: a new clerk's Put and
/// Get must work.
async fn final_put_get(net: &Network) {
    let mut ck = Clerk::new(net, "final", VS);
    ck.put("aaa", "bbb").await;
    assert_eq!(ck.get("aaa").await, "bbb", "final Put/Get failed");
}

/// TestRepeatedCrash: constant Puts and Gets while servers crash and restart; each client
/// reads back what it last wrote to each of its 10 keys.
#[test]
fn repeated_crash() {
    sim::run(|net: Network| async move {
        setup(&net, false).await;
        let deadline = Instant::now() + CRASH_TIME;
        let done = move || Instant::now() >= deadline;
        let killer = tokio::task::spawn_local(go_crash_and_restart(net.clone(), SERVERS, done));
        let clients = (0..NTH).map(|i| {
            let net = net.clone();
            async move {
                let mut ck = Clerk::new(&net, &format!("client{i}"), VS);
                let mut rng = net.rng();
                let mut data = BTreeMap::new();
                while !done() {
                    let k = (i as u64 * 1_000_000 + go_int(&mut rng) % 10).to_string();
                    if let Some(wanted) = data.get(&k) {
                        let v = ck.get(&k).await;
                        assert_eq!(&v, wanted, "key={k} wanted={wanted} got={v}");
                    }
                    let nv = go_int(&mut rng).to_string();
                    ck.put(&k, &nv).await;
                    data.insert(k, nv);
                    sleep(CLIENT_PAUSE).await;
                }
            }
        });
        join_all(clients).await;
        final_put_get(&net).await;
        killer.await.expect("the killer panicked");
    });
}

/// TestRepeatedCrashUnreliable: concurrent Appends to one key while servers crash and
/// restart, the first three servers unreliable; every acknowledged Append is there once,
/// in its client's order.
#[test]
fn repeated_crash_unreliable() {
    sim::run(|net: Network| async move {
        setup(&net, true).await;
        let deadline = Instant::now() + CRASH_TIME;
        let done = move || Instant::now() >= deadline;
        let killer = tokio::task::spawn_local(go_crash_and_restart(net.clone(), SERVERS, done));
        let clients = (0..NTH).map(|i| {
            let net = net.clone();
            async move {
                let mut ck = Clerk::new(&net, &format!("client{i}"), VS);
                let mut n = 0;
                while !done() {
                    ck.append("0", &format!("x {i} {n} y")).await;
                    sleep(CLIENT_PAUSE).await;
                    n += 1;
                }
                n
            }
        });
        let counts = join_all(clients).await;

        let mut ck = Clerk::new(&net, "final", VS);
        check_appends(&ck.get("0").await, &counts);
        final_put_get(&net).await;
        killer.await.expect("the killer panicked");
    });
}
