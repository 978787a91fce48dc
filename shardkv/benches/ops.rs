//! Throughput and shard moves of shardkv in simulation: 3 shard masters and 1, 2, 3 or 5
//! replica groups of 3 replicas on a reliable network (labrpc's default faults: every call
//! takes 0-3 ms of virtual time); 64 clerks doing a put/append/get mix on keys of every
//! shard, measured in operations per *simulated* second once every group joined and the
//! shards are spread. Then the simulated time a shard takes to move. Run with
//! `cargo bench -p shardkv`.
#![allow(clippy::disallowed_methods)] // wall-clock timing of whole simulations, outside them

#[path = "../tests/common/mod.rs"]
mod common;

use common::{Cluster, REPLICAS};
use labrpc::{Faults, Network, Node, sim};
use shardkv::{Clerk, ClientOp, KvEnd, OpKind, ShardKvServiceClient, key2shard};
use shardmaster::NSHARDS;
use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

const CLERKS: usize = 64;
/// The measured window of virtual time, after a warm-up.
const WINDOW: Duration = Duration::from_secs(5);
/// Time after a configuration before measuring: its installs.
const SETTLED: Duration = Duration::from_millis(500);
/// Moves timed per scenario.
const MOVES: usize = 20;
/// The virtual time each server spends per request in the loaded runs (labrpc's
/// `Faults::service_time`): a replica then handles at most 1,000 requests per simulated
/// second, so a group saturates and more groups have more to give.
const SERVICE_TIME: Duration = Duration::from_millis(1);

/// A key of shard `shard` for clerk `c` (`key2shard` is the first byte mod 10).
fn key(shard: usize, c: usize) -> String {
    let first = (0..=255u8)
        .find(|b| usize::from(*b) % NSHARDS == shard && b.is_ascii_lowercase())
        .expect("a letter for every shard");
    format!("{}{c}", first as char)
}

/// One operation of the mix: a third each of put, append and get, cycling through shards.
async fn op(ck: &mut Clerk, c: usize, i: usize) {
    let k = key((c + i / 3) % NSHARDS, c);
    match i % 3 {
        0 => ck.put(&k, &i.to_string()).await,
        1 => ck.append(&k, "x").await,
        _ => {
            ck.get(&k).await;
        }
    }
}

/// What one throughput run measured.
struct Throughput {
    ops: u64,
    wall: f64,
    wall_per_sim: f64,
    rpcs_per_op: f64,
    config_queries_per_op: f64,
}

fn throughput(ngroups: usize, nclerks: usize, service_time: Duration) -> Throughput {
    let counted = Rc::new(Cell::new((0u64, 0u64, 0u64)));
    let out = counted.clone();
    let start = Instant::now();
    let report = sim::simulate(1, false, move |net: Network| async move {
        net.set_faults(Faults {
            service_time,
            ..Faults::default()
        });
        let cluster = Cluster::start(&net, ngroups, SETTLED).await;
        // Warm-up: every clerk learns the configuration and touches each of its keys.
        let mut warm = Vec::new();
        for c in 0..nclerks {
            let mut ck = Clerk::new(&net, &format!("ck{c}"), &cluster.masters);
            warm.push(tokio::task::spawn_local(async move {
                for i in 0..NSHARDS * 3 {
                    op(&mut ck, c, i).await;
                }
                ck
            }));
        }
        let mut clerks = Vec::new();
        for task in warm {
            clerks.push(task.await.expect("clerks do not panic"));
        }
        let before = net.stats();
        let end = tokio::time::Instant::now() + WINDOW;
        let done = Rc::new(Cell::new(0u64));
        let mut tasks = Vec::new();
        for (c, mut ck) in clerks.into_iter().enumerate() {
            let done = done.clone();
            tasks.push(tokio::task::spawn_local(async move {
                let mut i = 0;
                while tokio::time::Instant::now() < end {
                    op(&mut ck, c, i).await;
                    if tokio::time::Instant::now() <= end {
                        done.set(done.get() + 1);
                    }
                    i += 1;
                }
            }));
        }
        for task in tasks {
            task.await.expect("clerks do not panic");
        }
        let after = net.stats();
        let method = |s: &labrpc::Stats, m: &str| {
            (s.by_method.iter())
                .filter(|(k, _)| k.starts_with(m))
                .map(|(_, v)| v)
                .sum::<u64>()
        };
        // Shard-master requests (clerks' and servers' queries; the masters' own Paxos
        // messages are `Paxos.*`, counted with the groups' in `rpcs`).
        out.set((
            done.get(),
            after.rpcs - before.rpcs,
            method(&after, "ShardMaster") - method(&before, "ShardMaster"),
        ));
    });
    let (ops, rpcs, queries) = counted.get();
    let wall = start.elapsed().as_secs_f64();
    Throughput {
        ops,
        rpcs_per_op: rpcs as f64 / ops as f64,
        config_queries_per_op: queries as f64 / ops as f64,
        wall,
        wall_per_sim: wall / report.simulated.as_secs_f64(),
    }
}

/// What the move runs measured, in simulated milliseconds per move.
struct Moves {
    served: Vec<f64>,
    clerk: Vec<f64>,
    wall_per_sim: f64,
}

/// Moves `MOVES` shards, one at a time, between the groups of a 2-group cluster, with
/// `load` clerks running the mix meanwhile. For each: the time from `move_shard`'s answer to
/// the gaining group's first successful answer to a probe sent to it every millisecond
/// (`served`), and to the first successful get on a key of the shard by a clerk started
/// right after the answer (`clerk`: it learns the new configuration, and retries every
/// [`shardkv::RETRY_WAIT`] while the gaining group answers `WrongGroup` or `NotReady`). A
/// clerk that still has the configuration before the move is served by the old group until
/// that group applies the move, so its first success says nothing about the move.
fn moves(load: usize) -> Moves {
    let result = Rc::new(Cell::new((Vec::new(), Vec::new())));
    let out = result.clone();
    let start = Instant::now();
    let report = sim::simulate(2, false, move |net: Network| async move {
        let mut cluster = Cluster::start(&net, 2, SETTLED).await;
        let stop = Rc::new(Cell::new(false));
        let mut tasks = Vec::new();
        for c in 0..load {
            let mut ck = Clerk::new(&net, &format!("ck{c}"), &cluster.masters);
            let stop = stop.clone();
            tasks.push(tokio::task::spawn_local(async move {
                let mut i = 0;
                while !stop.get() {
                    op(&mut ck, c, i).await;
                    i += 1;
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let probe_node = Node::simulated(&net, "probe");
        let mut served = Vec::new();
        let mut clerk = Vec::new();
        for m in 0..MOVES {
            let shard = (m * 3) % NSHARDS;
            let probe_key = key(shard, 1000 + m);
            let now = cluster.admin.query(-1).await;
            let to = (cluster.groups.iter())
                .map(|g| g.0)
                .find(|&g| g != now.shards[shard])
                .expect("two groups");
            let config = (cluster.admin.move_shard(shard, to).await).expect("a joined group");
            let t0 = tokio::time::Instant::now();
            let names = config.groups[&to].clone();
            let probing = {
                let node = probe_node.clone();
                let client = 1_000_000 + m as u64;
                let key = probe_key.clone();
                tokio::task::spawn_local(async move {
                    let mut end: KvEnd = node.client(&names[0]);
                    end.set_timeout(Some(Duration::from_millis(500)));
                    let end = ShardKvServiceClient::from(end);
                    for cseq in 1.. {
                        let op = ClientOp {
                            client,
                            cseq,
                            kind: OpKind::Get { key: key.clone() },
                        };
                        if let Ok(Ok(_)) = end.execute(labrpc::context(), op).await {
                            return t0.elapsed();
                        }
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    unreachable!("the probe never stops before an answer")
                })
            };
            let mut ck = Clerk::new(&net, &format!("mover{m}"), &cluster.masters);
            ck.get(&probe_key).await;
            clerk.push(t0.elapsed().as_secs_f64() * 1e3);
            let probe = probing.await.expect("the probe does not panic");
            served.push(probe.as_secs_f64() * 1e3);
            assert_eq!(key2shard(&probe_key), shard);
            cluster.settle(config.num, SETTLED).await;
        }
        stop.set(true);
        for task in tasks {
            task.await.expect("clerks do not panic");
        }
        out.set((served, clerk));
    });
    let (served, clerk) = result.take();
    Moves {
        served,
        clerk,
        wall_per_sim: start.elapsed().as_secs_f64() / report.simulated.as_secs_f64(),
    }
}

fn stats(v: &[f64]) -> String {
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(0.0, f64::max);
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    format!("{min:>5.0} {mean:>5.0} {max:>5.0}")
}

fn main() {
    println!(
        "shardkv, {CLERKS} clerks (put/append/get, keys of every shard), {}-s window of \
         simulated time, 3 shard masters, groups of {REPLICAS}, default reliable network",
        WINDOW.as_secs()
    );
    let mut wall_rows = Vec::new();
    for service in [Duration::ZERO, SERVICE_TIME] {
        println!(
            "servers spend {} ms of virtual time per request:",
            service.as_millis()
        );
        println!(
            "{:>6} {:>10} {:>14} {:>9} {:>9} {:>11} {:>14}",
            "groups", "ops", "ops/s (sim)", "x 1 group", "goal", "RPCs/op", "config q./op"
        );
        let mut base = None;
        for ngroups in [1, 2, 3, 5] {
            let t = throughput(ngroups, CLERKS, service);
            let rate = t.ops as f64 / WINDOW.as_secs_f64();
            let base = *base.get_or_insert(rate);
            println!(
                "{ngroups:>6} {:>10} {rate:>14.0} {:>9.2} {:>9.1} {:>11.1} {:>14.2}",
                t.ops,
                rate / base,
                0.8 * ngroups as f64,
                t.rpcs_per_op,
                t.config_queries_per_op
            );
            wall_rows.push((service, ngroups, t.wall, t.wall_per_sim));
        }
        let t = throughput(1, 5 * CLERKS, service);
        println!(
            "one group, {} clerks: {:.0} ops/s (sim), {:.2} x one group with {CLERKS}",
            5 * CLERKS,
            t.ops as f64 / WINDOW.as_secs_f64(),
            t.ops as f64 / WINDOW.as_secs_f64() / base.unwrap_or(1.0)
        );
    }
    for (service, ngroups, wall, per_sim) in wall_rows {
        println!(
            "  {} ms/request, {ngroups} groups: {wall:.1} s wall for the whole run (setup, \
             warm-up, window), {per_sim:.2} s wall per simulated s",
            service.as_millis()
        );
    }
    println!(
        "shard moves (2 groups, {MOVES} moves one at a time; ms of simulated time after \
         move_shard answered: min mean max)"
    );
    for load in [0, CLERKS] {
        let m = moves(load);
        println!(
            "  {load:>2} clerks running: gaining group serves {} | a new clerk's first op {} \
             | {:.3} s wall per simulated s",
            stats(&m.served),
            stats(&m.clerk),
            m.wall_per_sim
        );
    }
}
