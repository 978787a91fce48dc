//! What Go's pbservice tests (`pbservice/test_test.go`, 2015) share, in the same terms.

use labrpc::Network;
use rand::Rng;
use std::time::Duration;
use tokio::time::sleep;
use viewservice::{DEAD_PINGS, PING_INTERVAL, ViewServer};

use super::{DEAD_TIME, start, start_vs, view};

/// Go's opening of every test: the view server, then a second before anyone talks to it.
pub async fn go_start_vs(net: &Network) -> (ViewServer, viewservice::Clerk) {
    let vs = start_vs(net);
    sleep(Duration::from_secs(1)).await;
    vs
}

/// Go's "wait for a pair, then give p+b time to ack, initialize": polls the view at most
/// `rounds` times for a primary and a backup, then waits `DeadPings * PingInterval`. Like
/// Go it asserts nothing (each test checks the view it relies on).
pub async fn go_wait_pair(vck: &viewservice::Clerk, rounds: u32) {
    for _ in 0..rounds {
        let v = view(vck).await;
        if v.primary.is_some() && v.backup.is_some() {
            break;
        }
        sleep(PING_INTERVAL).await;
    }
    sleep(DEAD_TIME).await;
}

/// Go's `rr.Int()`: a non-negative 63-bit number (values up to 19 digits long).
pub fn go_int(rng: &mut impl Rng) -> u64 {
    rng.random_range(0..=i64::MAX as u64)
}

/// Go's `setunreliable(true)` on each of `names`.
pub fn set_unreliable(net: &Network, names: &[&str]) {
    for name in names {
        net.set_unreliable_server(name, true);
    }
}

/// Go's killer goroutine of the crash tests: until `done()`, kills a random server, waits
/// `2 * PingInterval * DeadPings`, starts a new, empty one under its name, waits again.
/// Go's new server is a new object, so it is reliable even if the one it replaces was made
/// unreliable; so is ours.
pub async fn go_crash_and_restart(net: Network, names: [&str; 3], done: impl Fn() -> bool) {
    let mut rng = net.rng();
    let wait = PING_INTERVAL * 2 * DEAD_PINGS;
    while !done() {
        let name = names[rng.random_range(0..names.len())];
        net.kill(name);
        net.lose_disk(name); // Go's restarted server starts empty
        sleep(wait).await;
        net.set_unreliable_server(name, false);
        start(&net, name);
        sleep(wait).await;
    }
}
