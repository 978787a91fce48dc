//! A server restarted without its disk asks the others for their state until `n - n/2` of
//! them (one member of every majority that excludes it) answer ready. With five servers
//! that is three: one server down for good does not keep the restarted one from serving,
//! but with two down it waits, since the two may hold votes it made before its crash.

mod common;

use common::*;
use labrpc::{Network, sim};
use paxoskv::KvServer;
use std::time::Duration;
use tokio::time::timeout;

#[test]
fn a_restarted_server_of_five_recovers_with_three_others_up() {
    sim::run(|net: Network| async move {
        let (names, servers) = cluster(&net, "five", 5);
        let mut ck = clerk_of(&net, "ck", &names, &[1, 2, 3]);
        ck.put("a", "1").await;
        servers[4].kill();
        servers[0].kill();
        ck.append("a", "2").await;
        net.lose_disk(&names[0]);
        let restarted = KvServer::restart(&net, &names, 0);
        let mut ck0 = clerk_of(&net, "ck0", &names, &[0]);
        let got = timeout(Duration::from_secs(10), ck0.get("a")).await;
        assert_eq!(
            got.ok().as_deref(),
            Some("12"),
            "with three of the four others up, the restarted server never served"
        );
        assert!(restarted.is_ready());
    });
}

#[test]
fn a_restarted_server_of_five_waits_while_two_others_are_down() {
    sim::run(|net: Network| async move {
        let (names, servers) = cluster(&net, "wait", 5);
        let mut ck = clerk_of(&net, "ck", &names, &[1, 2, 3]);
        ck.put("a", "1").await;
        servers[0].kill();
        servers[3].kill();
        servers[4].kill();
        net.lose_disk(&names[0]);
        let restarted = KvServer::restart(&net, &names, 0);
        let mut ck0 = clerk_of(&net, "ck0", &names, &[0]);
        let early = timeout(Duration::from_secs(3), ck0.get("a")).await;
        assert!(
            early.is_err() && !restarted.is_ready(),
            "the restarted server served with only two of the four others up: {early:?}"
        );
        // A third comes back with its disk: now it may.
        let _back = KvServer::start(&net, &names, 3);
        let got = timeout(Duration::from_secs(10), ck0.get("a")).await;
        assert_eq!(got.ok().as_deref(), Some("1"));
    });
}
