//! The master's connect to a worker that registered (`real::connect_worker`, given): an
//! address that never answers is given up after the connect timeout.

#[path = "common/blackhole.rs"]
mod blackhole;

use blackhole::{Blackhole, in_real_time};
use mapreduce::real::{ConnectError, connect_worker};
use std::time::Duration;
use tokio::time::Instant;

/// The connect timeout holds: a connection to the blackhole is given up after it.
#[test]
fn connecting_to_an_address_that_never_answers_times_out() {
    in_real_time(async {
        let blackhole = Blackhole::new();
        let begun = Instant::now();
        let result = connect_worker(
            blackhole.addr,
            Duration::from_millis(200),
            Default::default(),
        )
        .await;
        assert!(
            matches!(result, Err(ConnectError::TimedOut(_))),
            "{:?}",
            result.err()
        );
        assert!(
            begun.elapsed() < Duration::from_secs(5),
            "{:?}",
            begun.elapsed()
        );
    });
}
