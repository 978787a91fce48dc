//! Beyond the Go tests: long reordering, servers restarted with empty state, and a
//! randomized chaos test of kills, restarts, partitions and an unreliable network.

mod common;

use common::{check, check_appends, clerk_of, cluster, part, shuffled_clerk};
use labrpc::{Network, sim};
use linearizability::models::KvMap;
use linearizability::testing::{TestHistory, failure_dir};
use paxoskv::KvServer;
use rand::Rng;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

fn sleep(ms: u64) -> tokio::time::Sleep {
    tokio::time::sleep(Duration::from_millis(ms))
}

/// Concurrent Appends to one key while most replies are held back for up to 2.2 s: every
/// append is present once, in each client's order, on every replica.
#[test]
fn long_reordering() {
    sim::run(|net: Network| async move {
        const N: usize = 3;
        const CLIENTS: usize = 4;
        const APPENDS: usize = 4;
        let (names, _servers) = cluster(&net, "reorder", N);
        net.set_reliable(false);
        net.set_long_reordering(true);
        let mut tasks = Vec::new();
        for me in 0..CLIENTS {
            let mut ck = shuffled_clerk(&net, &format!("app{me}"), &names);
            tasks.push(tokio::task::spawn_local(async move {
                for n in 0..APPENDS {
                    ck.append("k", &format!("x {me} {n} y")).await;
                }
            }));
        }
        for task in tasks {
            task.await.expect("a client does not panic");
        }
        net.set_long_reordering(false);
        net.set_reliable(true);
        let mut values = Vec::new();
        for i in 0..N {
            let mut ck = clerk_of(&net, &format!("check{i}"), &names, &[i]);
            values.push(ck.get("k").await);
        }
        check_appends(&values[0], &[APPENDS; CLIENTS]);
        assert!(values.iter().all(|v| *v == values[0]), "replicas differ");
    });
}

/// A server killed, its disk lost, and restarted with empty state serves nothing until it
/// has caught up, then answers with every write made while it was down.
#[test]
fn restart_catches_up() {
    sim::run(|net: Network| async move {
        const N: usize = 3;
        let (names, servers) = cluster(&net, "restart", N);
        let mut ck = clerk_of(&net, "ck", &names, &[0, 1, 2]);
        for i in 0..5 {
            ck.append("a", &i.to_string()).await;
        }
        servers[2].kill();
        for i in 5..10 {
            ck.append("a", &i.to_string()).await;
        }
        net.lose_disk(&names[2]);
        let restarted = KvServer::restart(&net, &names, 2);
        assert!(!restarted.is_ready(), "a restarted server serves at once");
        let mut ck2 = clerk_of(&net, "ck2", &names, &[2]);
        check(&mut ck2, "a", "0123456789").await;
        assert!(
            restarted.is_ready(),
            "the restarted server answered before catching up"
        );
        ck2.append("a", "x").await;
        check(&mut ck, "a", "0123456789x").await;
        // All three maps agree once each has applied the whole log.
        let mut cks: Vec<_> = (0..N)
            .map(|i| clerk_of(&net, &format!("each{i}"), &names, &[i]))
            .collect();
        for c in &mut cks {
            check(c, "a", "0123456789x").await;
        }
        assert_eq!(servers[0].data(), restarted.data(), "replicas differ");
        assert_eq!(
            restarted.data().get("a").map(String::as_str),
            Some("0123456789x")
        );
        assert!(
            restarted.applied() >= 12,
            "applied only {}",
            restarted.applied()
        );
    });
}

/// Seeds the chaos test tries on every run.
const CHAOS_SEEDS: u64 = 4;

/// Kills, restarts (with the disk, or with it lost and empty state), partitions and an unreliable network at random while
/// clerks Append to and Get their own key and a shared one. Every operation is recorded
/// (virtual times) and the whole history, with a final read of the shared key from each
/// server, must be linearizable per key.
///
/// Runs 4 seeds on every `cargo test` (one with `LABRPC_SEED`).
#[test]
fn chaos() {
    sim::run_seeds(CHAOS_SEEDS, |net: Network| async move {
        const N: usize = 3;
        const CLIENTS: usize = 4;
        let history = TestHistory::on_network(
            KvMap,
            &net,
            "paxoskv-chaos",
            failure_dir(env!("CARGO_TARGET_TMPDIR")),
        );
        let (names, servers) = cluster(&net, "chaos", N);
        let servers = Rc::new(RefCell::new(servers));
        let stop = Rc::new(Cell::new(false));
        let restarts = Rc::new(Cell::new(0));

        let (flag, net2, names2, servers2, restarts2, mut rng) = (
            Rc::clone(&stop),
            net.clone(),
            names.clone(),
            Rc::clone(&servers),
            Rc::clone(&restarts),
            net.rng(),
        );
        let nemesis = tokio::task::spawn_local(async move {
            while !flag.get() {
                match rng.random_range(0..4) {
                    0 => {
                        let mut groups: [Vec<usize>; 2] = Default::default();
                        for i in 0..N {
                            groups[rng.random_range(0..2)].push(i);
                        }
                        let slices: Vec<&[usize]> = groups.iter().map(Vec::as_slice).collect();
                        part(&net2, &names2, &slices);
                    }
                    1 => net2.set_reliable(rng.random_range(0..2) == 0),
                    // Crash one server, only while every server serves (a restarted server
                    // needs all the others of a 3-server cluster to catch up).
                    2 if servers2.borrow().iter().all(KvServer::is_ready)
                        && names2.iter().all(|n| net2.is_alive(n)) =>
                    {
                        let victim = rng.random_range(0..N);
                        servers2.borrow()[victim].kill();
                        sleep(rng.random_range(0..500)).await;
                        let fresh = if rng.random_range(0..2) == 0 {
                            KvServer::start(&net2, &names2, victim)
                        } else {
                            net2.lose_disk(&names2[victim]);
                            KvServer::restart(&net2, &names2, victim)
                        };
                        servers2.borrow_mut()[victim] = fresh;
                        restarts2.set(restarts2.get() + 1);
                    }
                    _ => part(&net2, &names2, &[&[0, 1, 2]]),
                }
                sleep(rng.random_range(0..300)).await;
            }
        });

        let mut clients = Vec::new();
        for cli in 0..CLIENTS {
            let mut ck = shuffled_clerk(&net, &format!("c{cli}"), &names);
            let (flag, rec, mut rng) = (Rc::clone(&stop), history.client(cli), net.rng());
            clients.push(tokio::task::spawn_local(async move {
                let key = format!("own{cli}");
                let mut n = 0;
                while !flag.get() {
                    match rng.random_range(0..4) {
                        0 => {
                            let token = format!("<{cli}.{n}>");
                            n += 1;
                            rec.append(&key, &token, ck.append(&key, &token)).await;
                        }
                        1 => {
                            let token = format!("[{cli}.{n}]");
                            n += 1;
                            rec.append("shared", &token, ck.append("shared", &token))
                                .await;
                        }
                        2 => {
                            rec.get(&key, ck.get(&key)).await;
                        }
                        _ => {
                            rec.get("shared", ck.get("shared")).await;
                        }
                    }
                    sleep(rng.random_range(1..30)).await;
                }
            }));
        }

        sleep(10_000).await;
        stop.set(true);
        nemesis.await.expect("the nemesis does not panic");
        net.set_reliable(true);
        part(&net, &names, &[&[0, 1, 2]]);
        for client in clients {
            let finished = tokio::time::timeout(Duration::from_secs(60), client).await;
            let states: Vec<String> = servers
                .borrow()
                .iter()
                .map(|s| {
                    format!(
                        "ready {} applied {} max {} min {}",
                        s.is_ready(),
                        s.applied(),
                        s.paxos().max(),
                        s.paxos().min()
                    )
                })
                .collect();
            finished
                .unwrap_or_else(|_| panic!("a clerk is stuck a minute after healing: {states:?}"))
                .expect("a client does not panic");
        }
        // After the storm, every server answers consistently.
        let mut values = Vec::new();
        for i in 0..N {
            let mut ck = clerk_of(&net, &format!("final{i}"), &names, &[i]);
            let rec = history.client(CLIENTS + i);
            values.push(rec.get("shared", ck.get("shared")).await);
        }
        history.finish();
        assert!(values.iter().all(|v| *v == values[0]), "replicas differ");
        assert!(restarts.get() > 0, "the chaos restarted no server");
    });
}
