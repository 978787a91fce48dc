//! The cost of a call on the simulated network, next to two references measured in the same
//! process: a raw tokio mpsc + oneshot round trip (the floor any in-process RPC pays) and
//! tarpc over its own in-memory channel transport. Run with `cargo bench -p labrpc`.
#![allow(clippy::disallowed_methods)] // a benchmark measures wall-clock time on purpose

use futures::StreamExt;
use labrpc::{Faults, Network, sim};
use std::hint::black_box;
use std::time::{Duration, Instant};
use tarpc::context::Context;
use tarpc::server::{BaseChannel, Channel};
use tokio::sync::{mpsc, oneshot};

#[tarpc::service]
trait Ping {
    /// Returns its argument plus one.
    async fn ping(x: u64) -> u64;
}

// What its messages say in a recorded trace: their Debug form.
impl labrpc::Summarize for PingRequest {}
impl labrpc::Summarize for PingResponse {}

#[derive(Clone)]
struct Pinger;

impl Ping for Pinger {
    async fn ping(self, _: Context, x: u64) -> u64 {
        x + 1
    }
}

const CALLS: u64 = 200_000;
const CONCURRENT: u64 = 64;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Runs `calls` sequential calls of `call` and returns the time per call.
async fn per_call<F, Fut>(calls: u64, call: F) -> Duration
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = u64>,
{
    for i in 0..calls / 10 {
        black_box(call(i).await); // warm up
    }
    let started = Instant::now();
    for i in 0..calls {
        black_box(call(i).await);
    }
    started.elapsed() / calls as u32
}

fn raw_floor() -> Duration {
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime(), async {
        let (tx, mut rx) = mpsc::channel::<(u64, oneshot::Sender<u64>)>(64);
        tokio::task::spawn_local(async move {
            while let Some((x, reply)) = rx.recv().await {
                let _ = reply.send(x + 1);
            }
        });
        per_call(CALLS, |x| {
            let tx = tx.clone();
            async move {
                let (reply, answer) = oneshot::channel();
                let _ = tx.send((x, reply)).await;
                answer.await.unwrap_or(0)
            }
        })
        .await
    })
}

fn tarpc_in_memory() -> Duration {
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime(), async {
        let (client_side, server_side) = tarpc::transport::channel::unbounded();
        tokio::task::spawn_local(
            BaseChannel::with_defaults(server_side)
                .execute(Pinger.serve())
                .for_each(|handler| async move {
                    tokio::task::spawn_local(handler);
                }),
        );
        let client = PingClient::new(tarpc::client::Config::default(), client_side).spawn();
        per_call(CALLS / 4, |x| {
            let client = &client;
            async move { client.ping(labrpc::context(), x).await.unwrap_or(0) }
        })
        .await
    })
}

fn simulated() -> Duration {
    sim::simulate(1, false, |net: Network| async move {
        net.set_faults(Faults::exact()); // the call path alone, no jitter timers
        net.add_server("server", Pinger.serve());
        let client = PingClient::from(net.client("client", "server"));
        let took = per_call(CALLS, |x| {
            let client = &client;
            async move { client.ping(labrpc::context(), x).await.unwrap_or(0) }
        })
        .await;
        TOOK.with(|t| t.set(took));
    });
    TOOK.with(|t| t.get())
}

fn simulated_concurrent() -> f64 {
    sim::simulate(1, false, |net: Network| async move {
        net.set_faults(Faults::exact());
        net.add_server("server", Pinger.serve());
        let per_caller = CALLS / CONCURRENT;
        let callers: Vec<_> = (0..CONCURRENT)
            .map(|c| PingClient::from(net.client(&format!("client{c}"), "server")))
            .collect();
        let started = Instant::now();
        futures::future::join_all(callers.iter().map(|client| async move {
            for i in 0..per_caller {
                black_box(client.ping(labrpc::context(), i).await.unwrap_or(0));
            }
        }))
        .await;
        let rate = (per_caller * CONCURRENT) as f64 / started.elapsed().as_secs_f64();
        RATE.with(|r| r.set(rate));
    });
    RATE.with(|r| r.get())
}

thread_local! {
    static TOOK: std::cell::Cell<Duration> = const { std::cell::Cell::new(Duration::ZERO) };
    static RATE: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
}

fn main() {
    // `cargo test --benches` runs this with --bench absent: keep that run short.
    if !std::env::args().any(|a| a == "--bench") {
        println!("labrpc bench: run with `cargo bench -p labrpc`");
        return;
    }
    let floor = raw_floor();
    let tarpc = tarpc_in_memory();
    let sim = simulated();
    let rate = simulated_concurrent();
    println!("sequential call, one process, current-thread runtime:");
    println!(
        "  raw tokio mpsc + oneshot (floor) {:>9.2} µs",
        floor.as_secs_f64() * 1e6
    );
    println!(
        "  tarpc in-memory channel          {:>9.2} µs",
        tarpc.as_secs_f64() * 1e6
    );
    println!(
        "  labrpc simulated call            {:>9.2} µs  ({:.1}x the floor)",
        sim.as_secs_f64() * 1e6,
        sim.as_secs_f64() / floor.as_secs_f64()
    );
    println!(
        "{CONCURRENT} concurrent callers on the simulated network: {:.0} calls/s",
        rate
    );
}
