//! Go's 2015 kvpaxos tests (`src/kvpaxos/test_test.go`), in virtual time. Where the Go test
//! loops clients flat out for seconds, these clients pause a few milliseconds between
//! operations, so that a debug build runs the suite in seconds; the loop counts are noted.

mod common;

use common::{check, check_appends, clerk_of, cluster, part, set_unreliable, shuffled_clerk};
use labrpc::{Network, sim};
use rand::Rng;
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

fn sleep(ms: u64) -> tokio::time::Sleep {
    tokio::time::sleep(Duration::from_millis(ms))
}

/// Concurrent clients Put and Get one key; afterwards every replica returns the same value.
async fn concurrent_clients(net: &Network, names: &[String], iters: usize, clients: usize) {
    let n = names.len();
    for iter in 0..iters {
        let mut tasks = Vec::new();
        for c in 0..clients {
            let mut ck = shuffled_clerk(net, &format!("cc{iter}-{c}"), names);
            let mut rng = net.rng();
            tasks.push(tokio::task::spawn_local(async move {
                if rng.random_range(0..1000) < 500 {
                    let value = rng.random_range(0..1_000_000u32).to_string();
                    ck.put("b", &value).await;
                } else {
                    ck.get("b").await;
                }
            }));
        }
        for task in tasks {
            task.await.expect("a client does not panic");
        }
        let mut values = Vec::new();
        for i in 0..n {
            let mut ck = clerk_of(net, &format!("cc{iter}-check{i}"), names, &[i]);
            values.push(ck.get("b").await);
        }
        assert!(
            values.iter().all(|v| *v == values[0]),
            "replicas differ: {values:?}"
        );
    }
}

/// TestBasic: Put, Append and Get through one or all servers; concurrent clients
/// (Go: 20 rounds of 15 clients; here 5 rounds of 10).
#[test]
fn basic() {
    sim::run(|net: Network| async move {
        const N: usize = 3;
        let (names, servers) = cluster(&net, "basic", N);
        let mut ck = clerk_of(&net, "ck", &names, &[0, 1, 2]);
        let mut cka: Vec<_> = (0..N)
            .map(|i| clerk_of(&net, &format!("ck{i}"), &names, &[i]))
            .collect();

        ck.append("app", "x").await;
        ck.append("app", "y").await;
        check(&mut ck, "app", "xy").await;
        ck.put("a", "aa").await;
        check(&mut ck, "a", "aa").await;
        cka[1].put("a", "aaa").await;
        check(&mut cka[2], "a", "aaa").await;
        check(&mut cka[1], "a", "aaa").await;
        check(&mut ck, "a", "aaa").await;

        concurrent_clients(&net, &names, 5, 10).await;

        // Every replica applied the same log: their maps are equal once each caught up.
        for c in &mut cka {
            c.get("a").await;
        }
        let first = servers[0].data();
        for s in &servers {
            assert_eq!(s.data(), first, "replicas' maps differ");
        }
    });
}

/// TestDone: servers free the Paxos log: after 20 MB of Puts, the memory held is at most
/// the map plus as much again (Go's bound), and the Paxos log holds less than one value.
#[test]
fn done() {
    sim::run(|net: Network| async move {
        const N: usize = 3;
        const SIZE: usize = 1_000_000;
        const ITEMS: usize = 10;
        let (names, servers) = cluster(&net, "done", N);
        let mut ck = clerk_of(&net, "ck", &names, &[0, 1, 2]);
        let mut cka: Vec<_> = (0..N)
            .map(|i| clerk_of(&net, &format!("ck{i}"), &names, &[i]))
            .collect();

        ck.put("a", "aa").await;
        check(&mut ck, "a", "aa").await;
        let m0: usize = servers.iter().map(|s| s.held_bytes()).sum();

        for iter in 0..2 {
            for i in 0..ITEMS {
                let key = i.to_string();
                let mut value = format!("{iter}-{i}-").repeat(SIZE / 4);
                value.truncate(SIZE);
                ck.put(&key, &value).await;
                check(&mut cka[i % N], &key, &value).await;
            }
        }
        // Traffic through every server, so that the done values travel.
        for _ in 0..2 {
            for c in &mut cka {
                c.put("a", "aa").await;
                check(c, "a", "aa").await;
            }
        }
        sleep(1000).await;

        let m1: usize = servers.iter().map(|s| s.held_bytes()).sum();
        assert!(
            m1 >= N * ITEMS * SIZE,
            "{m1} bytes held: less than the maps themselves"
        );
        let allowed = m0 + N * ITEMS * SIZE * 2;
        assert!(
            m1 <= allowed,
            "memory use did not shrink enough: {m1} > {allowed}"
        );
        let log: usize = servers.iter().map(|s| s.paxos().held().1).sum();
        assert!(
            log < SIZE,
            "the Paxos logs still hold {log} bytes of values"
        );
    });
}

/// TestPartition: progress in a majority, none in a minority, completion after healing.
#[test]
fn partition() {
    sim::run(|net: Network| async move {
        const N: usize = 5;
        let (names, _servers) = cluster(&net, "part", N);
        let mut cka: Vec<_> = (0..N)
            .map(|i| clerk_of(&net, &format!("ck{i}"), &names, &[i]))
            .collect();

        // No partition.
        part(&net, &names, &[&[0, 1, 2, 3, 4]]);
        cka[0].put("1", "12").await;
        cka[2].put("1", "13").await;
        check(&mut cka[3], "1", "13").await;

        // Progress in majority.
        part(&net, &names, &[&[2, 3, 4], &[0, 1]]);
        cka[2].put("1", "14").await;
        check(&mut cka[4], "1", "14").await;

        // No progress in minority.
        let done0 = Rc::new(Cell::new(false));
        let done1 = Rc::new(Cell::new(false));
        let (mut ck0, flag0) = (clerk_of(&net, "minority0", &names, &[0]), done0.clone());
        let put = tokio::task::spawn_local(async move {
            ck0.put("1", "15").await;
            flag0.set(true);
        });
        let (mut ck1, flag1) = (clerk_of(&net, "minority1", &names, &[1]), done1.clone());
        let get = tokio::task::spawn_local(async move {
            ck1.get("1").await;
            flag1.set(true);
        });
        sleep(1000).await;
        assert!(!done0.get(), "Put in minority completed");
        assert!(!done1.get(), "Get in minority completed");
        check(&mut cka[4], "1", "14").await;
        cka[3].put("1", "16").await;
        check(&mut cka[4], "1", "16").await;

        // Completion after heal.
        part(&net, &names, &[&[0, 2, 3, 4], &[1]]);
        for _ in 0..30 {
            if done0.get() {
                break;
            }
            sleep(100).await;
        }
        assert!(done0.get(), "Put did not complete");
        assert!(!done1.get(), "Get in minority completed");
        check(&mut cka[4], "1", "15").await;
        check(&mut cka[0], "1", "15").await;

        part(&net, &names, &[&[0, 1, 2], &[3, 4]]);
        for _ in 0..30 {
            if done1.get() {
                break;
            }
            sleep(100).await;
        }
        assert!(done1.get(), "Get did not complete");
        check(&mut cka[1], "1", "15").await;
        put.await.expect("the Put task does not panic");
        get.await.expect("the Get task does not panic");
    });
}

/// TestUnreliable: basic operations, sequences of Appends, concurrent clients and
/// concurrent Appends to one key, all on a network that loses and delays messages
/// (Go: 6 rounds of 5 sequences, 20 rounds of 15 clients; here 3 and 5 rounds of 5 and 8).
#[test]
fn unreliable() {
    sim::run(|net: Network| async move {
        const N: usize = 3;
        let (names, _servers) = cluster(&net, "un", N);
        set_unreliable(&net, &names, true); // Go: setunreliable(true) on every server
        let mut ck = clerk_of(&net, "ck", &names, &[0, 1, 2]);
        let mut cka: Vec<_> = (0..N)
            .map(|i| clerk_of(&net, &format!("ck{i}"), &names, &[i]))
            .collect();

        // Basic put/get.
        ck.put("a", "aa").await;
        check(&mut ck, "a", "aa").await;
        cka[1].put("a", "aaa").await;
        check(&mut cka[2], "a", "aaa").await;
        check(&mut cka[1], "a", "aaa").await;
        check(&mut ck, "a", "aaa").await;

        // Sequences of appends.
        for iter in 0..3 {
            let mut tasks = Vec::new();
            for c in 0..5 {
                let mut myck = shuffled_clerk(&net, &format!("seq{iter}-{c}"), &names);
                tasks.push(tokio::task::spawn_local(async move {
                    let key = c.to_string();
                    let mut expected = myck.get(&key).await;
                    for piece in ["0", "1", "2"] {
                        myck.append(&key, piece).await;
                        expected.push_str(piece);
                    }
                    sleep(100).await;
                    assert_eq!(myck.get(&key).await, expected, "wrong value");
                    assert_eq!(myck.get(&key).await, expected, "wrong value");
                }));
            }
            for task in tasks {
                task.await.expect("a client does not panic");
            }
        }

        concurrent_clients(&net, &names, 5, 8).await;

        // Concurrent appends to the same key.
        ck.put("k", "").await;
        const CLIENTS: usize = 5;
        const APPENDS: usize = 5;
        let mut tasks = Vec::new();
        for me in 0..CLIENTS {
            let mut myck = shuffled_clerk(&net, &format!("app{me}"), &names);
            tasks.push(tokio::task::spawn_local(async move {
                for n in 0..APPENDS {
                    myck.append("k", &format!("x {me} {n} y")).await;
                }
            }));
        }
        for task in tasks {
            task.await.expect("a client does not panic");
        }
        let vx = ck.get("k").await;
        check_appends(&vx, &[APPENDS; CLIENTS]);
        for c in &mut cka {
            assert_eq!(c.get("k").await, vx, "replicas differ on an appended key");
        }
    });
}

/// Clients that Put and Get their own key through servers 0 and 1 until `stop`, checking
/// each Get sees their last Put.
fn spawn_hole_clients(
    net: &Network,
    names: &[String],
    round: usize,
    clients: usize,
    stop: &Rc<Cell<bool>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..clients)
        .map(|cli| {
            let mut cka: Vec<_> = (0..2)
                .map(|i| clerk_of(net, &format!("hole{round}-{cli}-{i}"), names, &[i]))
                .collect();
            let (stop, mut rng) = (Rc::clone(stop), net.rng());
            tokio::task::spawn_local(async move {
                let key = cli.to_string();
                let mut last = String::new();
                cka[0].put(&key, &last).await;
                while !stop.get() {
                    let ci = rng.random_range(0..2);
                    if rng.random_range(0..1000) < 500 {
                        let value = rng.random_range(0..1_000_000u32).to_string();
                        cka[ci].put(&key, &value).await;
                        last = value;
                    } else {
                        let got = cka[ci].get(&key).await;
                        assert_eq!(got, last, "{cli}: wrong value for key {key}");
                    }
                    sleep(rng.random_range(5..25)).await;
                }
            })
        })
        .collect()
}

/// TestHole: the majority makes progress although the minority's servers were cut off in
/// the middle of agreements, and the minority catches up after healing
/// (Go: 5 rounds of 10 clients for 3 s; here 3 rounds of 6 clients for 1 s).
#[test]
fn hole() {
    sim::run(|net: Network| async move {
        const N: usize = 5;
        let (names, _servers) = cluster(&net, "hole", N);
        for round in 0..3 {
            part(&net, &names, &[&[0, 1, 2, 3, 4]]);
            let mut ck2 = clerk_of(&net, &format!("hole{round}-ck2"), &names, &[2]);
            ck2.put("q", "q").await;
            let stop = Rc::new(Cell::new(false));
            let clients = spawn_hole_clients(&net, &names, round, 6, &stop);
            sleep(1000).await;
            part(&net, &names, &[&[2, 3, 4], &[0, 1]]);
            check(&mut ck2, "q", "q").await;
            ck2.put("q", "qq").await;
            check(&mut ck2, "q", "qq").await;
            part(&net, &names, &[&[0, 1, 2, 3, 4]]);
            stop.set(true);
            for client in clients {
                client.await.expect("a client does not panic");
            }
            check(&mut ck2, "q", "qq").await;
        }
    });
}

/// TestManyPartition: ten clients Append and Get their own keys while the servers are
/// re-partitioned at random on an unreliable network; every Get sees every earlier Append
/// (Go: 20 s; here 5 s).
#[test]
fn many_partition() {
    sim::run(|net: Network| async move {
        const N: usize = 5;
        const CLIENTS: usize = 10;
        let (names, _servers) = cluster(&net, "mp", N);
        set_unreliable(&net, &names, true);
        let stop = Rc::new(Cell::new(false));

        let (flag, net2, names2, mut rng) =
            (Rc::clone(&stop), net.clone(), names.clone(), net.rng());
        let partitioner = tokio::task::spawn_local(async move {
            while !flag.get() {
                let mut groups: [Vec<usize>; 3] = Default::default();
                for i in 0..N {
                    groups[rng.random_range(0..3)].push(i);
                }
                let slices: Vec<&[usize]> = groups.iter().map(Vec::as_slice).collect();
                part(&net2, &names2, &slices);
                sleep(rng.random_range(0..200)).await;
            }
        });

        let mut clients = Vec::new();
        for cli in 0..CLIENTS {
            let mut ck = shuffled_clerk(&net, &format!("mpc{cli}"), &names);
            let (flag, mut rng) = (Rc::clone(&stop), net.rng());
            clients.push(tokio::task::spawn_local(async move {
                let key = cli.to_string();
                let mut last = String::new();
                ck.put(&key, &last).await;
                while !flag.get() {
                    if rng.random_range(0..1000) < 500 {
                        let value = rng.random_range(0..1_000_000u32).to_string();
                        ck.append(&key, &value).await;
                        last.push_str(&value);
                    } else {
                        let got = ck.get(&key).await;
                        assert_eq!(got, last, "{cli}: wrong value for key {key}");
                    }
                    sleep(rng.random_range(5..25)).await;
                }
            }));
        }

        sleep(5000).await;
        stop.set(true);
        partitioner.await.expect("the partitioner does not panic");
        set_unreliable(&net, &names, false);
        part(&net, &names, &[&[0, 1, 2, 3, 4]]);
        for client in clients {
            client.await.expect("a client does not panic");
        }
    });
}
