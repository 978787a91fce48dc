//! The clerk's pace: while there is no primary to serve it, a clerk asks the view service
//! once every [`RETRY_INTERVAL`], neither flooding it nor leaving a new primary unused.

mod common;

use common::*;
use labrpc::{Network, sim};
use pbkv::{Clerk, RETRY_INTERVAL};
use std::time::Duration;
use tokio::time::timeout;

/// How long the clerk waits in the test.
const WAIT: Duration = Duration::from_secs(1);

#[test]
fn a_waiting_clerk_asks_the_view_service_once_per_retry_interval() {
    sim::run(|net: Network| async move {
        let (_vs, _vck) = start_vs(&net);
        let mut ck = Clerk::new(&net, "ck", VS);
        let before = net.rpc_count(VS);
        let got = timeout(WAIT, ck.get("a")).await;
        assert!(got.is_err(), "a Get was served with no server: {got:?}");
        let asked = net.rpc_count(VS) - before;
        let expected = (WAIT.as_millis() / RETRY_INTERVAL.as_millis()) as u64;
        assert!(
            (expected / 2..=expected + 2).contains(&asked),
            "in {WAIT:?} with no primary the clerk asked the view service {asked} times; \
             one ask per {RETRY_INTERVAL:?} is {expected}"
        );
    });
}
