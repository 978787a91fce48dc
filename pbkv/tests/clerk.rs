//! The clerk's pace: while there is no primary to serve it, a clerk asks the view service
//! again every [`pbkv::RETRY_INTERVAL`], so that it finds a new primary well within a ping
//! interval of the view change, without flooding the view service.

mod common;

use common::*;
use labrpc::{Network, sim};
use pbkv::Clerk;
use std::time::Duration;
use tokio::time::timeout;
use viewservice::PING_INTERVAL;

/// How long the clerk waits in the test.
const WAIT: Duration = Duration::from_secs(1);

#[test]
fn a_waiting_clerk_asks_the_view_service_often_but_not_flat_out() {
    sim::run(|net: Network| async move {
        let (_vs, _vck) = start_vs(&net);
        let mut ck = Clerk::new(&net, "ck", VS);
        let before = net.rpc_count(VS);
        let got = timeout(WAIT, ck.get("a")).await;
        assert!(got.is_err(), "a Get was served with no server: {got:?}");
        let asked = net.rpc_count(VS) - before;
        let pings = (WAIT.as_millis() / PING_INTERVAL.as_millis()) as u64;
        let millis = WAIT.as_millis() as u64;
        assert!(
            (4 * pings..=millis).contains(&asked),
            "in {WAIT:?} with no primary the clerk asked the view service {asked} times: \
             it should ask at least 4 times per ping interval ({PING_INTERVAL:?}) and at \
             most once a millisecond"
        );
    });
}
