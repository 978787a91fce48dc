//! Go's 2015 Paxos tests (`src/paxos/test_test.go`), one for one, in virtual time.

mod common;

use common::{checkmax, held_bytes, make, ndecided, part, rpc_total, start, waitmajority, waitn};
use labrpc::{Network, sim};
use paxos::{Peer, Status};
use rand::Rng;
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

fn sleep(ms: u64) -> tokio::time::Sleep {
    tokio::time::sleep(Duration::from_millis(ms))
}

/// TestBasic: a single proposer; many proposers with the same and with different values;
/// instances started out of order; `max()`.
#[test]
fn basic() {
    sim::run(|net: Network| async move {
        let pxa: Vec<Peer<String>> = make(&net, "basic", 3);

        start(&pxa[0], 0, "hello".into());
        waitn(&pxa, 0, 3).await;

        for p in &pxa {
            start(p, 1, "77".into());
        }
        waitn(&pxa, 1, 3).await;

        start(&pxa[0], 2, "100".into());
        start(&pxa[1], 2, "101".into());
        start(&pxa[2], 2, "102".into());
        waitn(&pxa, 2, 3).await;

        start(&pxa[0], 7, "700".into());
        start(&pxa[0], 6, "600".into());
        start(&pxa[1], 5, "500".into());
        waitn(&pxa, 7, 3).await;
        start(&pxa[0], 4, "400".into());
        start(&pxa[1], 3, "300".into());
        for seq in [6, 5, 4, 3] {
            waitn(&pxa, seq, 3).await;
        }
        assert_eq!(pxa[0].max(), 7, "wrong max()");
    });
}

/// TestDeaf: peers that hear nothing do not learn a decision until they propose themselves.
#[test]
fn deaf() {
    sim::run(|net: Network| async move {
        const N: usize = 5;
        let pxa: Vec<Peer<String>> = make(&net, "deaf", N);

        start(&pxa[0], 0, "hello".into());
        waitn(&pxa, 0, N).await;

        net.set_deaf("deaf0", true);
        net.set_deaf("deaf4", true);

        start(&pxa[1], 1, "goodbye".into());
        waitmajority(&pxa, 1, N).await;
        sleep(1000).await;
        assert_eq!(
            ndecided(&pxa, 1),
            N - 2,
            "a deaf peer heard about a decision"
        );

        start(&pxa[0], 1, "xxx".into());
        waitn(&pxa, 1, N - 1).await;
        sleep(1000).await;
        assert_eq!(
            ndecided(&pxa, 1),
            N - 1,
            "a deaf peer heard about a decision"
        );

        start(&pxa[4], 1, "yyy".into());
        waitn(&pxa, 1, N).await;
    });
}

/// TestForget: `min()` starts at 0, stays there until every peer calls `done`, then
/// advances as the done values travel on the peers' messages.
#[test]
fn forget() {
    sim::run(|net: Network| async move {
        const N: usize = 6;
        let pxa: Vec<Peer<String>> = make(&net, "forget", N);

        for p in &pxa {
            assert_eq!(p.min(), 0, "wrong initial min()");
        }
        start(&pxa[0], 0, "00".into());
        start(&pxa[1], 1, "11".into());
        start(&pxa[2], 2, "22".into());
        start(&pxa[0], 6, "66".into());
        start(&pxa[1], 7, "77".into());

        waitn(&pxa, 0, N).await;
        for p in &pxa {
            assert_eq!(p.min(), 0, "wrong min()");
        }
        waitn(&pxa, 1, N).await;
        for p in &pxa {
            assert_eq!(p.min(), 0, "wrong min()");
        }

        // Everyone done with 0, all but peer 0 with 1: min() becomes 1.
        for p in &pxa {
            p.done(0);
        }
        for p in &pxa[1..] {
            p.done(1);
        }
        for (i, p) in pxa.iter().enumerate() {
            start(p, 8 + i as i64, "xx".into());
        }
        let mut all_ok = false;
        for _ in 0..12 {
            all_ok = pxa.iter().all(|p| p.min() == 1);
            if all_ok {
                break;
            }
            sleep(1000).await;
        }
        assert!(all_ok, "min() did not advance after done()");
        for p in &pxa {
            assert_eq!(p.status(0), Status::Forgotten, "instance 0 not forgotten");
        }
    });
}

/// TestManyForget: proposals in random instances while peers call `done` at random, on an
/// unreliable network: nothing breaks, and peers never disagree.
#[test]
fn many_forget() {
    sim::run(|net: Network| async move {
        const N: usize = 3;
        const MAXSEQ: i64 = 20;
        let pxa: Vec<Peer<i64>> = make(&net, "manyforget", N);
        net.set_reliable(false);
        let rng = net.rng();

        let proposers = pxa.clone();
        let mut r = rng.clone();
        let mut order: Vec<i64> = (0..MAXSEQ).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, r.random_range(0..=i));
        }
        for seq in order {
            let j = r.random_range(0..N);
            start(&proposers[j], seq, r.random_range(0..1_000_000));
            tokio::task::yield_now().await;
        }

        let stop = Rc::new(Cell::new(false));
        let (forgetters, flag, mut r) = (pxa.clone(), Rc::clone(&stop), rng.clone());
        let forgetter = tokio::task::spawn_local(async move {
            while !flag.get() {
                let seq = r.random_range(0..MAXSEQ);
                let peer = &forgetters[r.random_range(0..N)];
                if seq >= peer.min() && matches!(peer.status(seq), Status::Decided(_)) {
                    peer.done(seq);
                }
                sleep(1).await;
            }
        });

        sleep(5000).await;
        stop.set(true);
        forgetter.await.expect("the forgetter task does not panic");
        net.set_reliable(true);
        sleep(2000).await;

        for seq in 0..MAXSEQ {
            // `ndecided` checks agreement among the peers that still remember `seq`.
            ndecided(&pxa, seq);
        }
    });
}

/// TestForgetMem: after `done`, the values of forgotten instances are freed (held bytes fall
/// to at most half) and forgotten instances stay forgotten.
#[test]
fn forget_mem() {
    sim::run(|net: Network| async move {
        const N: usize = 3;
        let pxa: Vec<Peer<String>> = make(&net, "forgetmem", N);

        start(&pxa[0], 0, "x".into());
        waitn(&pxa, 0, N).await;
        let m0 = held_bytes(&pxa);

        for seq in 1..=10 {
            let big = "a".repeat(1 << 20);
            start(&pxa[0], seq, big);
            waitn(&pxa, seq, N).await;
        }
        let m1 = held_bytes(&pxa);
        assert!(
            m1 >= m0 + 10 * N * (1 << 20),
            "the big values are not held: {m1}"
        );

        for p in &pxa {
            p.done(10);
        }
        for (i, p) in pxa.iter().enumerate().skip(1) {
            start(p, 10 + i as i64, "z".into());
        }
        sleep(6000).await;
        for p in &pxa {
            assert_eq!(p.min(), 11, "expected min() 11");
        }
        let m2 = held_bytes(&pxa);
        assert!(
            m2 <= m1 / 2,
            "memory use did not shrink enough: {m1} -> {m2}"
        );

        // Nothing forgotten comes back, even when proposed again.
        for p in &pxa {
            for seq in 0..11 {
                assert_eq!(p.status(seq), Status::Forgotten, "seq {seq} not forgotten");
                start(p, seq, "again".into());
            }
        }
        sleep(1000).await;
        for p in &pxa {
            for seq in 0..11 {
                assert_eq!(p.status(seq), Status::Forgotten, "seq {seq} came back");
            }
        }
    });
}

/// TestDoneMax: `max()` still reports the highest instance after `done` forgets it.
#[test]
fn done_max() {
    sim::run(|net: Network| async move {
        const N: usize = 3;
        let pxa: Vec<Peer<String>> = make(&net, "donemax", N);

        start(&pxa[0], 0, "x".into());
        waitn(&pxa, 0, N).await;
        for seq in 1..=10 {
            start(&pxa[0], seq, "y".into());
            waitn(&pxa, seq, N).await;
        }
        for p in &pxa {
            p.done(10);
        }
        for p in &pxa {
            start(p, 10, "z".into());
        }
        sleep(2000).await;
        for p in &pxa {
            assert_eq!(p.max(), 10, "max() wrong after done()");
        }
    });
}

/// TestRPCCount: five agreements by one proposer take at most 45 RPCs (3 prepares, 3 accepts
/// and 3 decideds each, at most); five with three competing proposers at most 225.
#[test]
fn rpc_count() {
    sim::run(|net: Network| async move {
        const N: usize = 3;
        let pxa: Vec<Peer<i64>> = make(&net, "count", N);

        let mut seq = 0;
        for _ in 0..5 {
            start(&pxa[0], seq, seq);
            waitn(&pxa, seq, N).await;
            seq += 1;
        }
        sleep(2000).await;
        let total1 = rpc_total(&pxa);
        assert!(
            total1 <= 5 * (N * N) as u64,
            "too many RPCs for serial Start()s; {total1}"
        );

        for _ in 0..5 {
            for (j, p) in pxa.iter().enumerate() {
                start(p, seq, j as i64 + 107);
            }
            waitn(&pxa, seq, N).await;
            seq += 1;
        }
        sleep(2000).await;
        let total2 = rpc_total(&pxa) - total1;
        assert!(
            total2 <= 5 * (N * 15) as u64,
            "too many RPCs for concurrent Start()s; {total2}"
        );
    });
}

/// TestMany: many instances in flight at once (at most five), every peer proposing in each.
async fn many(net: Network, tag: &str, reliable: bool) {
    const N: usize = 3;
    const NINST: i64 = 50;
    let pxa: Vec<Peer<i64>> = make(&net, tag, N);
    net.set_reliable(reliable);
    for p in &pxa {
        start(p, 0, 0);
    }
    for seq in 1..NINST {
        while seq >= 5 && ndecided(&pxa, seq - 5) < N {
            sleep(20).await;
        }
        for (i, p) in pxa.iter().enumerate() {
            start(p, seq, seq * 10 + i as i64);
        }
    }
    loop {
        if (1..NINST).all(|seq| ndecided(&pxa, seq) == N) {
            break;
        }
        sleep(100).await;
    }
}

/// TestMany on a reliable network.
#[test]
fn many_reliable() {
    sim::run(|net: Network| many(net, "many", true));
}

/// TestManyUnreliable: TestMany with lost and delayed messages.
#[test]
fn many_unreliable() {
    sim::run(|net: Network| many(net, "manyun", false));
}

/// TestOld: a peer that arrives late and proposes another value cannot overturn a value a
/// majority already chose.
#[test]
fn old() {
    sim::run(|net: Network| async move {
        const N: usize = 5;
        let names = common::names("old", N);
        let p1 = Peer::<i64>::new(&net, &names, 1);
        let p2 = Peer::<i64>::new(&net, &names, 2);
        let p3 = Peer::<i64>::new(&net, &names, 3);
        start(&p1, 1, 111);
        let mut pxa = vec![p1, p2, p3];
        waitmajority(&pxa, 1, N).await;

        let p0 = Peer::<i64>::new(&net, &names, 0);
        start(&p0, 1, 222);
        pxa.push(p0);
        waitn(&pxa, 1, 4).await;
        for p in &pxa {
            assert_eq!(p.status(1), Status::Decided(111), "peer {} decided", p.me());
        }
    });
}

/// TestPartition: no decision without a majority; a decision in a majority; agreement after
/// healing; a peer switching partitions, on a reliable and an unreliable network.
#[test]
fn partition() {
    sim::run(|net: Network| async move {
        const N: usize = 5;
        const TAG: &str = "partition";
        let pxa: Vec<Peer<i64>> = make(&net, TAG, N);
        let mut seq = 0;

        // No decision if partitioned.
        part(&net, TAG, &[&[0, 2], &[1, 3], &[4]]);
        start(&pxa[1], seq, 111);
        checkmax(&pxa, seq, 0).await;

        // Decision in majority partition.
        part(&net, TAG, &[&[0], &[1, 2, 3], &[4]]);
        sleep(2000).await;
        waitmajority(&pxa, seq, N).await;

        // All agree after full heal.
        start(&pxa[0], seq, 1000);
        start(&pxa[4], seq, 1004);
        part(&net, TAG, &[&[0, 1, 2, 3, 4]]);
        waitn(&pxa, seq, N).await;

        // One peer switches partitions.
        for _ in 0..20 {
            seq += 1;
            part(&net, TAG, &[&[0, 1, 2], &[3, 4]]);
            start(&pxa[0], seq, seq * 10);
            start(&pxa[3], seq, seq * 10 + 1);
            waitmajority(&pxa, seq, N).await;
            assert!(ndecided(&pxa, seq) <= 3, "too many decided");
            part(&net, TAG, &[&[0, 1], &[2, 3, 4]]);
            waitn(&pxa, seq, N).await;
        }

        // One peer switches partitions, unreliable.
        for _ in 0..20 {
            seq += 1;
            net.set_reliable(false);
            part(&net, TAG, &[&[0, 1, 2], &[3, 4]]);
            for (i, p) in pxa.iter().enumerate() {
                start(p, seq, seq * 10 + i as i64);
            }
            waitn(&pxa, seq, 3).await;
            assert!(ndecided(&pxa, seq) <= 3, "too many decided");
            part(&net, TAG, &[&[0, 1], &[2, 3, 4]]);
            net.set_reliable(true);
            waitn(&pxa, seq, N).await;
        }
    });
}

/// TestLots: 20 s of changing partitions on an unreliable network with up to ten instances
/// in flight; no disagreement meanwhile, and every instance decided after the network heals.
#[test]
fn lots() {
    sim::run(|net: Network| async move {
        const N: usize = 5;
        const TAG: &str = "lots";
        let pxa: Vec<Peer<i64>> = make(&net, TAG, N);
        net.set_reliable(false);
        let stop = Rc::new(Cell::new(false));
        let started = Rc::new(Cell::new(0i64));

        // Re-partition every while.
        let (flag, net2, mut rng) = (Rc::clone(&stop), net.clone(), net.rng());
        let partitioner = tokio::task::spawn_local(async move {
            while !flag.get() {
                let mut groups: [Vec<usize>; 3] = Default::default();
                for i in 0..N {
                    groups[rng.random_range(0..3)].push(i);
                }
                let slices: Vec<&[usize]> = groups.iter().map(Vec::as_slice).collect();
                part(&net2, TAG, &slices);
                sleep(rng.random_range(0..200)).await;
            }
        });

        // Start a new instance every while, keeping at most ten undecided.
        let (flag, peers, count, mut rng) = (
            Rc::clone(&stop),
            pxa.clone(),
            Rc::clone(&started),
            net.rng(),
        );
        let starter = tokio::task::spawn_local(async move {
            while !flag.get() {
                let seq = count.get();
                let decided = (0..seq).filter(|&s| ndecided(&peers, s) == N).count() as i64;
                if seq - decided < 10 {
                    for p in &peers {
                        start(p, seq, rng.random_range(0..10));
                    }
                    count.set(seq + 1);
                }
                sleep(rng.random_range(0..300)).await;
            }
        });

        // Check agreement every while.
        let (flag, peers, count, mut rng) = (
            Rc::clone(&stop),
            pxa.clone(),
            Rc::clone(&started),
            net.rng(),
        );
        let checker = tokio::task::spawn_local(async move {
            while !flag.get() {
                for seq in 0..count.get() {
                    ndecided(&peers, seq);
                }
                sleep(rng.random_range(0..300)).await;
            }
        });

        sleep(20_000).await;
        stop.set(true);
        for task in [partitioner, starter, checker] {
            task.await.expect("helper tasks do not panic");
        }

        net.set_reliable(true);
        net.heal();
        sleep(5000).await;
        let seqs = started.get();
        assert!(seqs > 10, "only {seqs} instances were started");
        for seq in 0..seqs {
            waitmajority(&pxa, seq, N).await;
        }
    });
}
