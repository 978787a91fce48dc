//! Beyond Go: a chaos test. Three groups of three replicas serve a few clerks while shards
//! move (by hand, and by groups leaving and joining again), replicas are cut off from their
//! group, groups are cut off from each other and the network turns unreliable. The whole
//! history is checked by the linearizability checker, per key, across the moves.

use labrpc::{Network, sim};
use linearizability::models::KvMap;
use linearizability::testing::{TestHistory, failure_dir};
use rand::Rng;
use shardkv::{Clerk, ShardKv};
use shardmaster::{Gid, NSHARDS, ShardMaster};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

/// Seeds per run of the test (more with `LABRPC_SEEDS`): 3 let a replica that applies
/// operations on shards it no longer serves pass; 20 catch it.
const CHAOS_SEEDS: u64 = 20;
const GROUPS: usize = 3;
const CLIENTS: usize = 4;

fn sleep(ms: u64) -> tokio::time::Sleep {
    tokio::time::sleep(Duration::from_millis(ms))
}

/// Cuts every link between the nodes of `a` and those of `b`, both ways.
fn cut_between(net: &Network, a: &[String], b: &[String]) {
    for x in a {
        for y in b {
            net.cut(x, y);
            net.cut(y, x);
        }
    }
}

#[test]
fn chaos() {
    sim::run_seeds(CHAOS_SEEDS, |net: Network| async move {
        let history = TestHistory::on_network(
            KvMap,
            &net,
            "shardkv-chaos",
            failure_dir(env!("CARGO_TARGET_TMPDIR")),
        );
        let masters: Vec<String> = (0..3).map(|i| format!("m{i}")).collect();
        let _sms: Vec<ShardMaster> = (0..3)
            .map(|i| ShardMaster::start(&net, &masters, i))
            .collect();
        let groups: Vec<(Gid, Vec<String>)> = (0..GROUPS)
            .map(|g| {
                (
                    100 + g as Gid,
                    (0..3).map(|j| format!("g{g}s{j}")).collect(),
                )
            })
            .collect();
        let servers: Vec<ShardKv> = (groups.iter())
            .flat_map(|(gid, names)| {
                (0..names.len()).map(|j| ShardKv::start(&net, *gid, &masters, names, j))
            })
            .collect();
        let mut admin = shardmaster::Clerk::new(&net, "admin", &masters);
        for (gid, names) in &groups {
            admin.join(*gid, names).await.expect("a real group");
        }
        let stop = Rc::new(Cell::new(false));

        // The nemesis: links inside and across groups, and reliability.
        let (flag, net2, groups2, mut rng) =
            (Rc::clone(&stop), net.clone(), groups.clone(), net.rng());
        let mut dead = [false; GROUPS];
        let nemesis = tokio::task::spawn_local(async move {
            while !flag.get() {
                net2.heal();
                match rng.random_range(0..5) {
                    0 => {
                        // One replica cut off from its group (it still hears clerks).
                        let names = &groups2[rng.random_range(0..GROUPS)].1;
                        let i = rng.random_range(0..names.len());
                        let others: Vec<String> = (names.iter().enumerate())
                            .filter(|&(j, _)| j != i)
                            .map(|(_, n)| n.clone())
                            .collect();
                        cut_between(&net2, &names[i..=i], &others);
                    }
                    1 => {
                        // Two groups cannot reach each other (no hand-off between them).
                        let a = rng.random_range(0..GROUPS);
                        let b = (a + rng.random_range(1..GROUPS)) % GROUPS;
                        cut_between(&net2, &groups2[a].1, &groups2[b].1);
                    }
                    2 => net2.set_reliable(rng.random_range(0..2) == 0),
                    // One replica of a group crashes for good (at most one per group: the
                    // others keep a majority; servers keep no disk to restart from).
                    3 => {
                        let g = rng.random_range(0..GROUPS);
                        if !dead[g] {
                            dead[g] = true;
                            servers[g * 3 + rng.random_range(0..3)].kill();
                        }
                    }
                    _ => {}
                }
                sleep(rng.random_range(0..600)).await;
            }
            net2.heal();
            net2.set_reliable(true);
        });

        // The mover: shards by hand, and a group leaving and joining again.
        let (flag, groups3, mut rng) = (Rc::clone(&stop), groups.clone(), net.rng());
        let mover = tokio::task::spawn_local(async move {
            let mut away: Option<usize> = None;
            while !flag.get() {
                match (rng.random_range(0..3), away) {
                    (0, None) => {
                        let g = rng.random_range(0..GROUPS);
                        admin.leave(groups3[g].0).await;
                        away = Some(g);
                    }
                    (0, Some(g)) => {
                        admin
                            .join(groups3[g].0, &groups3[g].1)
                            .await
                            .expect("a real group");
                        away = None;
                    }
                    _ => {
                        let gs: Vec<usize> = (0..GROUPS).filter(|&g| Some(g) != away).collect();
                        let gid = groups3[gs[rng.random_range(0..gs.len())]].0;
                        let shard = rng.random_range(0..NSHARDS);
                        admin
                            .move_shard(shard, gid)
                            .await
                            .expect("a real shard and group");
                    }
                }
                sleep(rng.random_range(100..800)).await;
            }
        });

        // The clerks: appends of unique tokens and gets, over keys of every shard.
        let mut clients = Vec::new();
        for cli in 0..CLIENTS {
            let mut ck = Clerk::new(&net, &format!("c{cli}"), &masters);
            let (flag, rec, mut rng) = (Rc::clone(&stop), history.client(cli), net.rng());
            clients.push(tokio::task::spawn_local(async move {
                let mut n = 0;
                while !flag.get() {
                    let key = format!("{}k", rng.random_range(0..NSHARDS));
                    if rng.random_range(0..2) == 0 {
                        let token = format!("<{cli}.{n}>");
                        n += 1;
                        rec.append(&key, &token, ck.append(&key, &token)).await;
                    } else {
                        rec.get(&key, ck.get(&key)).await;
                    }
                    sleep(rng.random_range(1..50)).await;
                }
            }));
        }

        sleep(10_000).await;
        stop.set(true);
        nemesis.await.expect("the nemesis does not panic");
        mover.await.expect("the mover does not panic");
        for client in clients {
            tokio::time::timeout(Duration::from_secs(60), client)
                .await
                .expect("a clerk is stuck a minute after healing")
                .expect("a clerk does not panic");
        }
        // After the storm, every key once more.
        let mut ck = Clerk::new(&net, "final", &masters);
        let rec = history.client(CLIENTS);
        for s in 0..NSHARDS {
            let key = format!("{s}k");
            rec.get(&key, ck.get(&key)).await;
        }
        // The storm must not have stopped the store: clerks got work done through it.
        let ops = history.recorder().len();
        assert!(ops >= 100, "only {ops} operations in 10 s of chaos");
        history.finish();
    });
}
