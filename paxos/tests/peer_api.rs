//! The peer's face beyond agreement: a value that cannot cross the network is refused with a
//! message that says so, a peer names its node when printed, a fresh disk is not damaged,
//! and a killed peer takes no further part (its node is dead, it proposes nothing, the
//! others agree without it).

mod common;

use common::*;
use labrpc::{Network, sim};
use paxos::Status;
use serde::{Deserialize, Serialize, Serializer};

/// A value whose serialization fails, as a value holding something serde cannot carry.
#[derive(Debug, PartialEq, Deserialize)]
struct Unsendable;

impl Serialize for Unsendable {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("it holds a file handle"))
    }
}

#[test]
fn a_value_that_cannot_be_sent_is_refused_with_a_message() {
    sim::run(|net: Network| async move {
        let peers = make::<Unsendable>(&net, "us", 3);
        let error = peers[0]
            .start(0, &Unsendable)
            .expect_err("accepted an unsendable value");
        let message = error.to_string();
        assert!(
            message.starts_with("cannot serialize the proposed value"),
            "the message does not say what went wrong: {message:?}"
        );
        assert_eq!(format!("{:?}", peers[1]), "Peer(us1)");
        assert_eq!(peers[2].me(), 2);
        // A fresh disk is not a damaged one (a damaged one makes the peer abstain).
        assert_eq!(peers[0].damaged_disk(), None);
    });
}

#[test]
fn a_killed_peer_takes_no_part() {
    sim::run(|net: Network| async move {
        let peers = make::<String>(&net, "kp", 3);
        peers[2].kill();
        assert!(!net.is_alive("kp2"), "kill left the node running");
        start(&peers[2], 0, "from the dead".to_string());
        sleep(1000).await;
        assert_eq!(ndecided(&peers, 0), 0, "a killed peer proposed");
        start(&peers[0], 1, "one".to_string());
        waitn(&peers[..2], 1, 2).await;
        assert!(matches!(peers[2].status(1), Status::Pending));
    });
}
