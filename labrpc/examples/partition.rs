//! A small counter service on an unreliable, partitioned network, narrated.
//!
//! Run it with `cargo run -p labrpc --example partition` (add `-- SEED` to pick a seed: the
//! same seed prints the same story).

use labrpc::{Error, Network, sim};
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;
use tarpc::context::Context;

#[tarpc::service]
trait Counter {
    /// Adds `by` to the counter and returns the new value.
    async fn add(by: u64) -> u64;
}

// What its messages say in a recorded trace: their Debug form.
impl labrpc::Summarize for CounterRequest {}
impl labrpc::Summarize for CounterResponse {}

#[derive(Clone, Default)]
struct CounterServer(Arc<Mutex<u64>>);

impl Counter for CounterServer {
    async fn add(self, _: Context, by: u64) -> u64 {
        let mut value = self.0.lock();
        *value += by;
        *value
    }
}

/// Makes `calls` calls and tells how they went.
async fn round(
    net: &Network,
    client: &CounterClient<labrpc::ClientEnd<CounterRequest, CounterResponse>>,
    title: &str,
    calls: u64,
) {
    let (mut ok, mut lost) = (0, 0);
    let mut last = None;
    for _ in 0..calls {
        match client.add(labrpc::context(), 1).await.map_err(Error::from) {
            Ok(value) => {
                ok += 1;
                last = Some(value);
            }
            Err(_) => lost += 1,
        }
    }
    println!(
        "[{:>8.3} s] {title}: {ok} replies, {lost} without reply; last value seen {last:?}",
        net.now().as_secs_f64()
    );
}

fn main() {
    let seed = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(42);
    println!("seed {seed}");
    let report = sim::simulate(seed, false, |net: Network| async move {
        let counter = CounterServer::default();
        net.add_server("server", counter.clone().serve());
        let client = CounterClient::from(net.client("client", "server"));

        round(&net, &client, "reliable network", 20).await;

        net.set_reliable(false);
        round(&net, &client, "unreliable network", 100).await;
        println!(
            "             the server applied {} additions: lost replies hide some from the client",
            *counter.0.lock()
        );

        net.partition(&[&["client"], &["server"]]);
        round(&net, &client, "client and server partitioned", 10).await;

        net.heal();
        net.set_reliable(true);
        round(&net, &client, "healed, reliable again", 10).await;

        net.kill("server");
        round(&net, &client, "server killed", 5).await;
        net.add_server("server", CounterServer::default().serve());
        round(&net, &client, "server restarted with empty state", 5).await;
        tokio::time::sleep(Duration::from_millis(1)).await;

        let stats = net.stats();
        println!(
            "network: {} RPCs, {} bytes, {} requests lost, {} replies lost, {} unreachable",
            stats.rpcs, stats.bytes, stats.requests_lost, stats.replies_lost, stats.unreachable
        );
    });
    println!(
        "{} events in {:.3} s of simulated time; trace hash {:016x}",
        report.trace_len,
        report.simulated.as_secs_f64(),
        report.trace_hash
    );
}
