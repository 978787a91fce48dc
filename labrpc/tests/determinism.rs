//! Determinism: one seed gives one trace, event for event; different seeds give different
//! runs. And, over random fault schedules, the network never panics and every call ends.

mod common;

use common::{Junk, JunkClient, JunkServer};
use labrpc::{Network, sim};
use proptest::prelude::*;
use rand::Rng;
use std::sync::Arc;
use std::time::Duration;

const SERVERS: [&str; 3] = ["s0", "s1", "s2"];
const CLIENTS: [&str; 4] = ["c0", "c1", "c2", "c3"];

/// A fault the schedule can inject.
#[derive(Clone, Debug)]
enum Fault {
    Partition(Vec<u8>),
    Heal,
    Kill(usize),
    Restart(usize),
    Reliable(bool),
    LongReordering(bool),
    LongDelays(bool),
    Deaf(usize, bool),
    Cut(usize, usize),
}

fn apply(net: &Network, fault: &Fault) {
    match fault {
        Fault::Partition(groups) => {
            let nodes: Vec<&str> = SERVERS.iter().chain(CLIENTS.iter()).copied().collect();
            let mut split: [Vec<&str>; 2] = [Vec::new(), Vec::new()];
            for (node, group) in nodes.iter().zip(groups.iter().cycle()) {
                split[usize::from(*group % 2)].push(node);
            }
            net.partition(&[&split[0], &split[1]]);
        }
        Fault::Heal => net.heal(),
        Fault::Kill(s) => net.kill(SERVERS[s % 3]),
        Fault::Restart(s) => net.add_server(SERVERS[s % 3], JunkServer::default().serve()),
        Fault::Reliable(on) => net.set_reliable(*on),
        Fault::LongReordering(on) => net.set_long_reordering(*on),
        Fault::LongDelays(on) => net.set_long_delays(*on),
        Fault::Deaf(s, on) => net.set_deaf(SERVERS[s % 3], *on),
        Fault::Cut(a, b) => net.cut(CLIENTS[a % 4], SERVERS[b % 3]),
    }
}

/// Clients call servers in a loop while `schedule` (time in ms, fault) plays out. Returns how
/// many calls ended.
async fn chaos(net: Network, schedule: Vec<(u64, Fault)>, calls_per_client: usize) -> usize {
    for server in SERVERS {
        net.add_server(server, JunkServer::default().serve());
    }
    let faults = net.clone();
    tokio::task::spawn_local(async move {
        for (at, fault) in schedule {
            tokio::time::sleep(Duration::from_millis(at)).await;
            apply(&faults, &fault);
        }
    });
    let clients = CLIENTS.iter().map(|client| {
        let net = net.clone();
        async move {
            let ends: Vec<_> = SERVERS
                .iter()
                .map(|s| JunkClient::from(net.client(client, s)))
                .collect();
            let mut ended = 0;
            for i in 0..calls_per_client {
                let pick = net.rng().random_range(0..ends.len());
                let _ = ends[pick].handler2(labrpc::context(), i as i64).await;
                ended += 1;
                let pause = net.rng().random_range(0..20);
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
            ended
        }
    });
    let all = futures::future::join_all(clients);
    // Every call must end on its own: even if every call waited the longest unreachable delay
    // (7 s), ten minutes of virtual time would be enough.
    match tokio::time::timeout(Duration::from_secs(600), all).await {
        Ok(ended) => ended.into_iter().sum(),
        Err(_) => 0,
    }
}

/// A schedule drawn from the simulation's own generator, so the seed decides it.
async fn seeded_chaos(net: Network) {
    let mut rng = net.rng();
    let schedule = (0..40)
        .map(|_| {
            let at = rng.random_range(0..150);
            let fault = match rng.random_range(0..6) {
                0 => Fault::Partition((0..7).map(|_| rng.random_range(0..2)).collect()),
                1 => Fault::Heal,
                2 => Fault::Kill(rng.random_range(0..3)),
                3 => Fault::Restart(rng.random_range(0..3)),
                4 => Fault::Reliable(rng.random_bool(0.5)),
                _ => Fault::LongReordering(rng.random_bool(0.3)),
            };
            (at, fault)
        })
        .collect();
    let ended = chaos(net, schedule, 60).await;
    assert_eq!(ended, CLIENTS.len() * 60, "some calls never ended");
}

#[test]
fn same_seed_same_trace() {
    for seed in [1, 2, 3] {
        let first = sim::simulate(seed, false, seeded_chaos);
        let second = sim::simulate(seed, false, seeded_chaos);
        assert!(
            first.trace_len > 300,
            "too little happened: {} events",
            first.trace_len
        );
        assert_eq!(
            (first.trace_hash, first.trace_len, first.simulated),
            (second.trace_hash, second.trace_len, second.simulated),
            "seed {seed} gave two different runs"
        );
    }
}

#[test]
fn recorded_traces_are_equal_event_for_event() {
    let first = sim::simulate(7, true, seeded_chaos);
    let second = sim::simulate(7, true, seeded_chaos);
    assert_eq!(first.events.len() as u64, first.trace_len);
    assert!(
        first.events == second.events,
        "seed 7 gave two different event lists"
    );
}

#[test]
fn different_seeds_give_different_traces() {
    let hashes: std::collections::BTreeSet<u64> = (10..20)
        .map(|seed| sim::simulate(seed, false, seeded_chaos).trace_hash)
        .collect();
    assert_eq!(hashes.len(), 10, "two of ten seeds gave the same trace");
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        proptest::collection::vec(0u8..2, 7).prop_map(Fault::Partition),
        Just(Fault::Heal),
        (0usize..3).prop_map(Fault::Kill),
        (0usize..3).prop_map(Fault::Restart),
        any::<bool>().prop_map(Fault::Reliable),
        any::<bool>().prop_map(Fault::LongReordering),
        any::<bool>().prop_map(Fault::LongDelays),
        (0usize..3, any::<bool>()).prop_map(|(s, on)| Fault::Deaf(s, on)),
        (0usize..4, 0usize..3).prop_map(|(a, b)| Fault::Cut(a, b)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever the fault schedule, nothing panics and every call ends.
    #[test]
    fn every_call_ends_under_any_fault_schedule(
        seed in any::<u64>(),
        schedule in proptest::collection::vec((0u64..300, fault()), 0..30),
    ) {
        let report = sim::simulate(seed, false, |net| async move {
            let ended = chaos(net, schedule, 25).await;
            assert_eq!(ended, CLIENTS.len() * 25, "some calls never ended");
        });
        prop_assert!(report.trace_len > 0);
    }
}

/// A server whose state holds the network, as every lab's server does: once the run is over
/// its state is freed, so a suite of many seeds does not keep every run's memory.
#[test]
fn a_finished_run_frees_its_servers() {
    let marker = Arc::new(());
    let freed = Arc::downgrade(&marker);
    let report = sim::simulate(5, false, move |net: Network| async move {
        let junk = JunkServer {
            keep: Some(Arc::new((net.clone(), marker))),
            ..JunkServer::default()
        };
        net.add_server("holder", junk.serve());
        let client = JunkClient::from(net.client("c", "holder"));
        let reply = client.handler6(labrpc::context(), "four".into()).await;
        assert_eq!(reply.expect("reliable network"), 4);
    });
    assert!(report.trace_len > 0, "the trace outlives the run");
    assert!(
        freed.upgrade().is_none(),
        "a finished run still holds its server's state"
    );
}
