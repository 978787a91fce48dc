//! The clerk's choice of server: it tries the servers in turn, so a dead one costs it one
//! call timeout, and then it stays with the server that answered, so the next operations do
//! not pay that timeout again.

mod common;

use common::*;
use labrpc::{Network, sim};
use paxoskv::CALL_TIMEOUT;
use tokio::time::{Instant, timeout};

/// Operations the clerk does with its first server dead.
const OPS: u32 = 5;

#[test]
fn a_clerk_goes_past_a_dead_server_once_and_stays_with_the_one_that_answered() {
    sim::run(|net: Network| async move {
        let (names, servers) = cluster(&net, "kv", 3);
        servers[0].kill();
        let mut ck = clerk_of(&net, "ck", &names, &[0, 1, 2]);
        let start = Instant::now();
        for i in 0..OPS {
            let put = timeout(CALL_TIMEOUT * 2 * OPS, ck.put("k", &i.to_string())).await;
            assert!(put.is_ok(), "Put {i} never got past the dead first server");
        }
        let took = start.elapsed();
        assert!(
            took < CALL_TIMEOUT * 2,
            "{OPS} Puts with the first server dead took {took:?}: the clerk waited for the \
             dead server more than once (its call timeout is {CALL_TIMEOUT:?})"
        );
        check(&mut ck, "k", &(OPS - 1).to_string()).await;
    });
}
