//! Go's 2015 Paxos tests (`src/paxos/test_test.go`) on a reliable network, one for one and
//! at Go's constants, in virtual time: Speed, Basic, Deaf, Forget, DoneMax, RPCCount, Old.
//! The memory test is `tests/memory.rs`; the tests with many instances `tests/go_many.rs`;
//! those with partitions `tests/go_partitions.rs`.

mod common;

use common::{Any, int, make, ndecided, rpc_total, sleep, start, text, waitmajority, waitn};
use labrpc::{Network, sim};
use paxos::{Peer, Status};

/// TestSpeed (`noTestSpeed` in Go, which the course left disabled): 20 agreements in a row
/// by one proposer, each waited for on every peer. Prints the virtual time they took; no
/// speed is asserted (a wall-clock target has no meaning here).
#[test]
fn speed() {
    sim::run(|net: Network| async move {
        const NPAXOS: usize = 3;
        let pxa: Vec<Peer<Any>> = make(&net, "time", NPAXOS);
        let t0 = tokio::time::Instant::now();
        for seq in 0..20 {
            start(&pxa[0], seq, text("x"));
            waitn(&pxa, seq, NPAXOS).await;
        }
        println!("20 agreements {:?} of virtual time", t0.elapsed());
    });
}

/// TestBasic: a single proposer; many proposers with the same and with different values;
/// instances started out of order; `max()`.
#[test]
fn basic() {
    sim::run(|net: Network| async move {
        const NPAXOS: usize = 3;
        let pxa: Vec<Peer<Any>> = make(&net, "basic", NPAXOS);

        // Single proposer.
        start(&pxa[0], 0, text("hello"));
        waitn(&pxa, 0, NPAXOS).await;

        // Many proposers, same value.
        for p in &pxa {
            start(p, 1, int(77));
        }
        waitn(&pxa, 1, NPAXOS).await;

        // Many proposers, different values.
        start(&pxa[0], 2, int(100));
        start(&pxa[1], 2, int(101));
        start(&pxa[2], 2, int(102));
        waitn(&pxa, 2, NPAXOS).await;

        // Out-of-order instances.
        start(&pxa[0], 7, int(700));
        start(&pxa[0], 6, int(600));
        start(&pxa[1], 5, int(500));
        waitn(&pxa, 7, NPAXOS).await;
        start(&pxa[0], 4, int(400));
        start(&pxa[1], 3, int(300));
        for seq in [6, 5, 4, 3] {
            waitn(&pxa, seq, NPAXOS).await;
        }
        assert_eq!(pxa[0].max(), 7, "wrong max()");
    });
}

/// TestDeaf: peers that hear nothing (Go removes their socket; they can still call out) do
/// not learn a decision until they propose themselves.
#[test]
fn deaf() {
    sim::run(|net: Network| async move {
        const NPAXOS: usize = 5;
        let pxa: Vec<Peer<String>> = make(&net, "deaf", NPAXOS);

        start(&pxa[0], 0, "hello".into());
        waitn(&pxa, 0, NPAXOS).await;

        net.set_deaf("deaf0", true);
        net.set_deaf(&format!("deaf{}", NPAXOS - 1), true);

        start(&pxa[1], 1, "goodbye".into());
        waitmajority(&pxa, 1, NPAXOS).await;
        sleep(1000).await;
        assert_eq!(
            ndecided(&pxa, 1),
            NPAXOS - 2,
            "a deaf peer heard about a decision"
        );

        start(&pxa[0], 1, "xxx".into());
        waitn(&pxa, 1, NPAXOS - 1).await;
        sleep(1000).await;
        assert_eq!(
            ndecided(&pxa, 1),
            NPAXOS - 1,
            "a deaf peer heard about a decision"
        );

        start(&pxa[NPAXOS - 1], 1, "yyy".into());
        waitn(&pxa, 1, NPAXOS).await;
    });
}

/// TestForget: `min()` starts at 0, stays there until every peer calls `done`, then
/// advances as the done values travel on the peers' messages.
#[test]
fn forget() {
    sim::run(|net: Network| async move {
        const NPAXOS: usize = 6;
        let pxa: Vec<Peer<String>> = make(&net, "gc", NPAXOS);

        for p in &pxa {
            assert!(p.min() <= 0, "wrong initial min() {}", p.min());
        }
        start(&pxa[0], 0, "00".into());
        start(&pxa[1], 1, "11".into());
        start(&pxa[2], 2, "22".into());
        start(&pxa[0], 6, "66".into());
        start(&pxa[1], 7, "77".into());

        waitn(&pxa, 0, NPAXOS).await;
        for p in &pxa {
            assert_eq!(p.min(), 0, "wrong min(); expected 0");
        }
        waitn(&pxa, 1, NPAXOS).await;
        for p in &pxa {
            assert_eq!(p.min(), 0, "wrong min(); expected 0");
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
        let mut allok = false;
        for _ in 0..12 {
            allok = pxa.iter().all(|p| p.min() == 1);
            if allok {
                break;
            }
            sleep(1000).await;
        }
        assert!(allok, "min() did not advance after done()");
        // Not in Go: what the 2015 API promises for an instance below min().
        for p in &pxa {
            assert_eq!(p.status(0), Status::Forgotten, "instance 0 not forgotten");
        }
    });
}

/// TestDoneMax: `max()` still reports the highest instance after `done` forgets it.
#[test]
fn done_max() {
    sim::run(|net: Network| async move {
        const NPAXOS: usize = 3;
        let pxa: Vec<Peer<String>> = make(&net, "donemax", NPAXOS);

        start(&pxa[0], 0, "x".into());
        waitn(&pxa, 0, NPAXOS).await;
        for seq in 1..=10 {
            start(&pxa[0], seq, "y".into());
            waitn(&pxa, seq, NPAXOS).await;
        }
        for p in &pxa {
            p.done(10);
        }
        // Messages carry everyone's done(10) around.
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
/// and 3 decideds each); five with three competing proposers at most 225 (Go's worst case:
/// the third proposer needs three ballots).
#[test]
fn rpc_count() {
    sim::run(|net: Network| async move {
        const NPAXOS: usize = 3;
        let pxa: Vec<Peer<Any>> = make(&net, "count", NPAXOS);

        let ninst1 = 5;
        let mut seq = 0;
        for _ in 0..ninst1 {
            start(&pxa[0], seq, text("x"));
            waitn(&pxa, seq, NPAXOS).await;
            seq += 1;
        }
        sleep(2000).await;
        let total1 = rpc_total(&pxa);
        let expected1 = (ninst1 * NPAXOS * NPAXOS) as u64;
        assert!(
            total1 <= expected1,
            "too many RPCs for serial Start()s; {ninst1} instances, got {total1}, expected {expected1}"
        );

        let ninst2 = 5;
        for i in 0..ninst2 {
            for (j, p) in pxa.iter().enumerate() {
                start(p, seq, int((j + i * 10) as i64));
            }
            waitn(&pxa, seq, NPAXOS).await;
            seq += 1;
        }
        sleep(2000).await;
        let total2 = rpc_total(&pxa) - total1;
        let expected2 = (ninst2 * NPAXOS * 15) as u64;
        assert!(
            total2 <= expected2,
            "too many RPCs for concurrent Start()s; {ninst2} instances, got {total2}, expected {expected2}"
        );
    });
}

/// TestOld: a peer that arrives late and proposes another value cannot overturn a value a
/// majority already chose (peer 4 never starts).
#[test]
fn old() {
    sim::run(|net: Network| async move {
        const NPAXOS: usize = 5;
        let pxh = common::names("old", NPAXOS);
        let mut pxa: Vec<Peer<i64>> = (1..=3).map(|i| Peer::new(&net, &pxh, i)).collect();
        start(&pxa[0], 1, 111);
        waitmajority(&pxa, 1, NPAXOS).await;

        let p0 = Peer::<i64>::new(&net, &pxh, 0);
        start(&p0, 1, 222);
        pxa.push(p0);
        waitn(&pxa, 1, 4).await;
        // Not in Go, which only checks agreement: the value is the majority's.
        for p in &pxa {
            assert_eq!(p.status(1), Status::Decided(111), "peer {} decided", p.me());
        }
    });
}
