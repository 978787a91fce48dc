//! Helpers shared by the pbkv tests: a view server, waiting for a view, checking values.
#![allow(dead_code)] // each test file uses part of it

use labrpc::Network;
use pbkv::{Clerk, PbServer};
use std::time::Duration;
use tokio::time::{Instant, sleep};
use viewservice::{DEAD_PINGS, PING_INTERVAL, View, ViewServer};

pub mod go;

/// The view server's node.
pub const VS: &str = "vs";
/// Go's `deadtime`: how long before the view service declares a silent server dead.
pub const DEAD_TIME: Duration = viewservice::DEAD_TIME;

/// Starts the view server and returns it with a view-service clerk for the test.
pub fn start_vs(net: &Network) -> (ViewServer, viewservice::Clerk) {
    (
        ViewServer::start(net, VS),
        viewservice::Clerk::new(net, "tester", VS),
    )
}

/// Starts (or restarts, empty) the key/value server `name`.
pub fn start(net: &Network, name: &str) -> PbServer {
    PbServer::start(net, name, VS)
}

/// The current view (the test's view-service clerk retries through an unreliable network).
pub async fn view(vck: &viewservice::Clerk) -> View {
    loop {
        if let Ok(view) = vck.get().await {
            return view;
        }
        sleep(PING_INTERVAL / 10).await;
    }
}

/// Polls the view every ping interval, at most `rounds` times, until `done` holds; returns
/// the last view seen (the caller asserts on it).
pub async fn wait_view(
    vck: &viewservice::Clerk,
    rounds: u32,
    done: impl Fn(&View) -> bool,
) -> View {
    for _ in 0..rounds {
        let v = view(vck).await;
        if done(&v) {
            return v;
        }
        sleep(PING_INTERVAL).await;
    }
    view(vck).await
}

/// Waits until there are a primary and a backup, then long enough for the backup to be
/// initialized and the view acknowledged (as Go's tests do).
pub async fn wait_pair(vck: &viewservice::Clerk) -> View {
    let v = wait_view(vck, DEAD_PINGS * 3, |v| {
        v.primary.is_some() && v.backup.is_some()
    })
    .await;
    assert!(v.primary.is_some() && v.backup.is_some(), "no pair: {v}");
    sleep(DEAD_TIME).await;
    view(vck).await
}

/// Go's `check`: `key` has `value`.
pub async fn check(ck: &mut Clerk, key: &str, value: &str) {
    let got = ck.get(key).await;
    assert_eq!(got, value, "Get({key})");
}

/// Go's `checkAppends`: every client's elements `x i j y` are in `v` once, in order.
pub fn check_appends(v: &str, counts: &[usize]) {
    for (i, &count) in counts.iter().enumerate() {
        let mut last = None;
        for j in 0..count {
            let wanted = format!("x {i} {j} y");
            let off = v
                .find(&wanted)
                .unwrap_or_else(|| panic!("missing element {wanted:?} in Append result"));
            assert_eq!(
                v.rfind(&wanted),
                Some(off),
                "duplicate element {wanted:?} in Append result"
            );
            assert!(
                last.is_none_or(|l| off > l),
                "wrong order for element {wanted:?} in Append result"
            );
            last = Some(off);
        }
    }
}

/// True while virtual time is before `deadline`.
pub fn before(deadline: Instant) -> bool {
    Instant::now() < deadline
}
