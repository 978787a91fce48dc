//! Go's 2015 kvpaxos tests (`src/kvpaxos/test_test.go`) at Go's constants, in virtual time:
//! the same servers, clients, rounds, keys, values and durations, clients running flat out
//! where Go's do. TestDone measures the process heap, so it has its own binary
//! (`tests/memory.rs`). The README's table lists what differs from Go, and why.

mod common;

use common::{
    check, check_appends, clerk_of, cluster, go_rand_int, part, random_server_clerk,
    set_unreliable, shuffled_clerk,
};
use labrpc::{Network, sim};
use paxoskv::Clerk;
use rand::Rng;
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

fn sleep(ms: u64) -> tokio::time::Sleep {
    tokio::time::sleep(Duration::from_millis(ms))
}

/// Go's "Concurrent clients" rounds: in each of `iters` rounds, `clients` clerks made by
/// `make_clerk` each Put a random value to "b" or Get it; afterwards a Get through each
/// server alone returns the same value.
async fn concurrent_clients(
    net: &Network,
    names: &[String],
    iters: usize,
    clients: usize,
    make_clerk: fn(&Network, &str, &[String]) -> Clerk,
) {
    for iter in 0..iters {
        let mut tasks = Vec::new();
        for c in 0..clients {
            let mut ck = make_clerk(net, &format!("cc{iter}-{c}"), names);
            let mut rng = net.rng();
            tasks.push(tokio::task::spawn_local(async move {
                if rng.random_range(0..1000) < 500 {
                    ck.put("b", &go_rand_int(&mut rng)).await;
                } else {
                    ck.get("b").await;
                }
            }));
        }
        for task in tasks {
            task.await.expect("a client does not panic");
        }
        let mut values = Vec::new();
        for i in 0..names.len() {
            let mut ck = clerk_of(net, &format!("cc{iter}-check{i}"), names, &[i]);
            values.push(ck.get("b").await);
        }
        assert!(
            values.iter().all(|v| *v == values[0]),
            "mismatch: the servers return {values:?}"
        );
    }
}

/// TestBasic: Put, Append and Get through all servers or one; then 20 rounds of 15
/// concurrent clients, each on one random server; every server returns the same value.
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

        concurrent_clients(&net, &names, 20, 15, random_server_clerk).await;

        // Beyond Go: every replica applied the same log, so once each has caught up (a Get
        // through each), their whole maps are equal.
        for c in &mut cka {
            c.get("a").await;
        }
        let first = servers[0].data();
        for s in &servers {
            assert_eq!(s.data(), first, "replicas' maps differ");
        }
        sleep(1000).await; // Go's closing second
    });
}

/// TestPartition: progress in a majority, none in a minority, completion after healing
/// (Go's waits: 1 s, then up to 3 s for the Put and 10 s for the Get).
#[test]
fn partition() {
    sim::run(|net: Network| async move {
        const N: usize = 5;
        let (names, _servers) = cluster(&net, "part", N);
        let [mut ck0, mut ck1, mut ck2, mut ck3, mut ck4]: [Clerk; N] =
            std::array::from_fn(|i| clerk_of(&net, &format!("ck{i}"), &names, &[i]));

        // No partition.
        part(&net, &names, &[&[0, 1, 2, 3, 4]]);
        ck0.put("1", "12").await;
        ck2.put("1", "13").await;
        check(&mut ck3, "1", "13").await;

        // Progress in majority.
        part(&net, &names, &[&[2, 3, 4], &[0, 1]]);
        ck2.put("1", "14").await;
        check(&mut ck4, "1", "14").await;

        // No progress in minority: Go's own clerks 0 and 1 wait in the background.
        let done0 = Rc::new(Cell::new(false));
        let done1 = Rc::new(Cell::new(false));
        let flag0 = Rc::clone(&done0);
        let put = tokio::task::spawn_local(async move {
            ck0.put("1", "15").await;
            flag0.set(true);
            ck0
        });
        let flag1 = Rc::clone(&done1);
        let get = tokio::task::spawn_local(async move {
            ck1.get("1").await;
            flag1.set(true);
            ck1
        });
        sleep(1000).await;
        assert!(!done0.get(), "Put in minority completed");
        assert!(!done1.get(), "Get in minority completed");
        check(&mut ck4, "1", "14").await;
        ck3.put("1", "16").await;
        check(&mut ck4, "1", "16").await;

        // Completion after heal.
        part(&net, &names, &[&[0, 2, 3, 4], &[1]]);
        wait_for(&done0, 30).await;
        assert!(done0.get(), "Put did not complete");
        assert!(!done1.get(), "Get in minority completed");
        let mut ck0 = put.await.expect("the Put task does not panic");
        check(&mut ck4, "1", "15").await;
        check(&mut ck0, "1", "15").await;

        part(&net, &names, &[&[0, 1, 2], &[3, 4]]);
        wait_for(&done1, 100).await;
        assert!(done1.get(), "Get did not complete");
        let mut ck1 = get.await.expect("the Get task does not panic");
        check(&mut ck1, "1", "15").await;
    });
}

/// Waits until `flag` is set, for at most `ticks` times 100 ms.
async fn wait_for(flag: &Cell<bool>, ticks: u32) {
    for _ in 0..ticks {
        if flag.get() {
            return;
        }
        sleep(100).await;
    }
}

/// TestUnreliable, with every server unreliable (Go's `setunreliable`): basic operations;
/// 6 rounds of 5 clients each Appending a sequence to its own key; 20 rounds of 15
/// concurrent clients; 5 clients Appending 5 values each to one key.
#[test]
fn unreliable() {
    sim::run(|net: Network| async move {
        const N: usize = 3;
        let (names, _servers) = cluster(&net, "un", N);
        set_unreliable(&net, &names, true);
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
        for iter in 0..6 {
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

        concurrent_clients(&net, &names, 20, 15, shuffled_clerk).await;

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
        sleep(1000).await; // Go's closing second
    });
}

/// Clients that Put and Get their own key flat out through servers 0 and 1 until `stop`,
/// checking each Get sees their last Put.
fn spawn_hole_clients(
    net: &Network,
    names: &[String],
    round: usize,
    clients: usize,
    stop: &Rc<Cell<bool>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..clients)
        .map(|cli| {
            let mut cka: Vec<_> = (0..names.len())
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
                        let value = go_rand_int(&mut rng);
                        cka[ci].put(&key, &value).await;
                        last = value;
                    } else {
                        let got = cka[ci].get(&key).await;
                        assert_eq!(got, last, "{cli}: wrong value for key {key}");
                    }
                }
            })
        })
        .collect()
}

/// TestHole: 5 rounds of 10 clients running 3 s flat out through servers 0 and 1; then
/// servers 0 and 1 are cut off in the middle of agreements, the majority still makes
/// progress, and after healing every client finishes.
#[test]
fn hole() {
    sim::run(|net: Network| async move {
        const N: usize = 5;
        let (names, _servers) = cluster(&net, "hole", N);
        for round in 0..5 {
            part(&net, &names, &[&[0, 1, 2, 3, 4]]);
            let mut ck2 = clerk_of(&net, &format!("hole{round}-ck2"), &names, &[2]);
            ck2.put("q", "q").await;
            let stop = Rc::new(Cell::new(false));
            let clients = spawn_hole_clients(&net, &names, round, 10, &stop);
            sleep(3000).await;
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

/// TestManyPartition: for 20 s ten clients Append and Get their own keys flat out while the
/// unreliable servers are re-partitioned at random every 0-200 ms; every Get sees every
/// earlier Append. Then the network heals (the servers stay unreliable, as in Go) and every
/// client must finish.
#[test]
fn many_partition() {
    sim::run(|net: Network| async move {
        const N: usize = 5;
        const CLIENTS: usize = 10;
        let (names, _servers) = cluster(&net, "mp", N);
        set_unreliable(&net, &names, true);
        part(&net, &names, &[&[0, 1, 2, 3, 4]]);
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
                        let value = go_rand_int(&mut rng);
                        ck.append(&key, &value).await;
                        last.push_str(&value);
                    } else {
                        let got = ck.get(&key).await;
                        assert_eq!(got, last, "{cli}: wrong value for key {key}");
                    }
                }
            }));
        }

        sleep(20_000).await;
        stop.set(true);
        partitioner.await.expect("the partitioner does not panic");
        part(&net, &names, &[&[0, 1, 2, 3, 4]]);
        for client in clients {
            client.await.expect("a client does not panic");
        }
    });
}
