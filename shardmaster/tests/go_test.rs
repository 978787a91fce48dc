//! Go's shardmaster tests (6.824 2015, `shardmaster/test_test.go`) at Go's constants: 3
//! servers, 10 shards; TestBasic's seven phases, TestUnreliable (20 concurrent clerks, a
//! server that hears nothing) and TestFreshQuery (a query at a server its peers cannot
//! reach still sees a join made elsewhere).

use futures::future::join_all;
use labrpc::{Network, sim};
use shardmaster::{Clerk, Config, Gid, NO_GROUP, NSHARDS, ShardMaster};

fn names(tag: &str) -> Vec<String> {
    (0..3).map(|i| format!("{tag}{i}")).collect()
}

fn servers(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Go's `check`: the latest configuration has exactly `groups`, every shard on one of them
/// (when there are any), and shard counts within one of each other.
async fn check(groups: &[Gid], ck: &mut Clerk) {
    let c = ck.query(-1).await;
    assert_eq!(
        c.groups.len(),
        groups.len(),
        "wanted {} groups in {c}",
        groups.len()
    );
    for g in groups {
        assert!(c.groups.contains_key(g), "missing group {g} in {c}");
    }
    if !groups.is_empty() {
        for (s, g) in c.shards.iter().enumerate() {
            assert!(
                c.groups.contains_key(g),
                "shard {s} -> invalid group {g} in {c}"
            );
        }
    }
    let counts = c.counts();
    let (min, max) = (counts.values().min(), counts.values().max());
    if let (Some(min), Some(max)) = (min, max) {
        assert!(
            max <= &(min + 1),
            "max {max} too much larger than min {min} in {c}"
        );
    }
}

/// Two configurations are the same: number, shards and groups with their servers in order.
fn same(a: &Config, b: &Config) -> bool {
    a.num == b.num && a.shards == b.shards && a.groups == b.groups
}

#[test]
fn basic() {
    sim::run(|net: Network| async move {
        let kvh = names("basic");
        let sma: Vec<ShardMaster> = (0..3).map(|i| ShardMaster::start(&net, &kvh, i)).collect();
        let mut ck = Clerk::new(&net, "ck", &kvh);
        let mut cka: Vec<Clerk> = (0..3)
            .map(|i| Clerk::new(&net, &format!("cka{i}"), &kvh[i..=i]))
            .collect();

        // "Basic leave/join".
        let mut cfa = vec![ck.query(-1).await];
        assert_eq!((cfa[0].num, cfa[0].shards), (0, [NO_GROUP; NSHARDS]));
        check(&[], &mut ck).await;
        ck.join(1, &servers(&["x", "y", "z"]))
            .await
            .expect("gid 1 is a real group");
        check(&[1], &mut ck).await;
        cfa.push(ck.query(-1).await);
        ck.join(2, &servers(&["a", "b", "c"]))
            .await
            .expect("gid 2 is a real group");
        check(&[1, 2], &mut ck).await;
        cfa.push(ck.query(-1).await);
        ck.join(2, &servers(&["a", "b", "c"]))
            .await
            .expect("gid 2 is a real group");
        check(&[1, 2], &mut ck).await;
        cfa.push(ck.query(-1).await);
        let cfx = ck.query(-1).await;
        assert_eq!(
            cfx.groups[&1],
            servers(&["x", "y", "z"]),
            "wrong servers for gid 1"
        );
        assert_eq!(
            cfx.groups[&2],
            servers(&["a", "b", "c"]),
            "wrong servers for gid 2"
        );
        ck.leave(1).await;
        check(&[2], &mut ck).await;
        cfa.push(ck.query(-1).await);
        ck.leave(1).await;
        check(&[2], &mut ck).await;
        cfa.push(ck.query(-1).await);

        // "Historical queries", at every server.
        for clerk in &mut cka {
            for old in &cfa {
                let c = clerk.query(old.num as i64).await;
                assert!(
                    same(&c, old),
                    "historical config {} is now {c}, was {old}",
                    old.num
                );
            }
        }

        // "Move".
        let (gid3, gid4) = (503, 504);
        ck.join(gid3, &servers(&["3a", "3b", "3c"]))
            .await
            .expect("a real group");
        ck.join(gid4, &servers(&["4a", "4b", "4c"]))
            .await
            .expect("a real group");
        for i in 0..NSHARDS {
            let cf = ck.query(-1).await;
            let to = if i < NSHARDS / 2 { gid3 } else { gid4 };
            ck.move_shard(i, to).await.expect("a real shard and group");
            if cf.shards[i] != to {
                let cf1 = ck.query(-1).await;
                assert!(cf1.num > cf.num, "Move should increase Config.Num");
            }
        }
        let cf2 = ck.query(-1).await;
        for i in 0..NSHARDS {
            let want = if i < NSHARDS / 2 { gid3 } else { gid4 };
            assert_eq!(cf2.shards[i], want, "shard {i} in {cf2}");
        }
        ck.leave(gid3).await;
        ck.leave(gid4).await;

        // "Concurrent leave/join": 10 clerks, each on one server.
        const NPARA: u64 = 10;
        let gids: Vec<Gid> = (1..=NPARA).collect();
        let clerks = (0..NPARA as usize).map(|i| {
            let (mut first, mut second) = (
                Clerk::new(&net, &format!("para{i}a"), &kvh[i % 3..=i % 3]),
                Clerk::new(&net, &format!("para{i}b"), &kvh[(i + 1) % 3..=(i + 1) % 3]),
            );
            let gid = gids[i];
            async move {
                let abc = servers(&["a", "b", "c"]);
                first.join(gid + 1000, &abc).await.expect("a real group");
                first.join(gid, &abc).await.expect("a real group");
                second.leave(gid + 1000).await;
            }
        });
        join_all(clerks).await;
        check(&gids, &mut ck).await;

        // "Min advances after joins".
        for (i, sm) in sma.iter().enumerate() {
            assert!(sm.paxos().min() > 0, "Min() for {} did not advance", kvh[i]);
        }

        // "Minimal transfers after joins".
        let c1 = ck.query(-1).await;
        for i in 0..5 {
            ck.join(NPARA + 1 + i, &servers(&["a", "b", "c"]))
                .await
                .expect("a real group");
        }
        let c2 = ck.query(-1).await;
        for i in 1..=NPARA {
            for j in 0..NSHARDS {
                if c2.shards[j] == i {
                    assert_eq!(
                        c1.shards[j], i,
                        "non-minimal transfer after Join()s: {c1} -> {c2}"
                    );
                }
            }
        }

        // "Minimal transfers after leaves".
        for i in 0..5 {
            ck.leave(NPARA + 1 + i).await;
        }
        let c3 = ck.query(-1).await;
        for i in 1..=NPARA {
            for j in 0..NSHARDS {
                if c2.shards[j] == i {
                    assert_eq!(
                        c3.shards[j], i,
                        "non-minimal transfer after Leave()s: {c2} -> {c3}"
                    );
                }
            }
        }
    });
}

#[test]
fn unreliable() {
    sim::run(|net: Network| async move {
        let kvh = names("unrel");
        let _sma: Vec<ShardMaster> = (0..3).map(|i| ShardMaster::start(&net, &kvh, i)).collect();
        let mut ck = Clerk::new(&net, "ck", &kvh);

        // "Concurrent leave/join, failure": 20 clerks on servers 1 and 2; server 0 stops
        // hearing anything once the first of them is done.
        const NPARA: u64 = 20;
        let gids: Vec<Gid> = (1..=NPARA).collect();
        let clerks = (0..NPARA as usize).map(|i| {
            // Go picks server 1 or 2 at random for each call; the clerks here alternate.
            let one = |k: usize| {
                let s = 1 + (i + k) % 2;
                Clerk::new(&net, &format!("para{i}-{k}"), &kvh[s..=s])
            };
            let (mut a, mut b, mut c) = (one(0), one(1), one(2));
            let (gid, net) = (gids[i], net.clone());
            async move {
                let abc = servers(&["a", "b", "c"]);
                a.join(gid + 1000, &abc).await.expect("a real group");
                b.join(gid, &abc).await.expect("a real group");
                c.leave(gid + 1000).await;
                // Server 0 won't be able to hear any RPCs.
                net.set_deaf("unrel0", true);
            }
        });
        join_all(clerks).await;
        check(&gids, &mut ck).await;
    });
}

#[test]
fn fresh_query() {
    sim::run(|net: Network| async move {
        let kvh = names("fresh");
        let _sma: Vec<ShardMaster> = (0..3).map(|i| ShardMaster::start(&net, &kvh, i)).collect();
        let mut ck1 = Clerk::new(&net, "ck1", &kvh[1..=1]);

        // "Query() returns latest configuration": server 0's peers can no longer reach it
        // (Go renames its socket); a clerk that knows where it is still can.
        net.set_deaf_to("fresh0", "fresh1", true);
        net.set_deaf_to("fresh0", "fresh2", true);
        let mut ck0 = Clerk::new(&net, "ck0", &kvh[0..=0]);
        ck1.join(1001, &servers(&["a", "b", "c"]))
            .await
            .expect("a real group");
        let c = ck0.query(-1).await;
        assert!(
            c.groups.contains_key(&1001),
            "Query(-1) produced a stale configuration: {c}"
        );
    });
}
