//! Go's shardkv tests (6.824 2015, `shardkv/test_test.go`) at Go's constants: 3 shard
//! masters, 3 replica groups of 3 servers (gids 100, 101, 102), 10 shards; TestBasic,
//! TestMove, TestLimp, TestConcurrent and TestConcurrentUnreliable, with Go's clerk counts,
//! rounds and sleeps in virtual time.

use futures::future::join_all;
use labrpc::{Network, sim};
use rand::Rng;
use shardkv::{Clerk, ShardKv};
use shardmaster::{Gid, NSHARDS, ShardMaster};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

const NMASTERS: usize = 3;
const NGROUPS: usize = 3;
const NREPLICAS: usize = 3;

/// One replica group: its gid, its servers' names and the servers.
struct Group {
    gid: Gid,
    names: Vec<String>,
    servers: Vec<ShardKv>,
}

/// Go's `tCluster`: the shard masters, a shard-master clerk, and the groups.
struct Cluster {
    net: Network,
    masters: Vec<String>,
    _sms: Vec<ShardMaster>,
    mck: shardmaster::Clerk,
    groups: Vec<Group>,
    clerks: usize,
}

impl Cluster {
    /// Go's `setup`: every server started, no group joined yet.
    fn new(net: &Network, tag: &str, unreliable: bool) -> Cluster {
        let masters: Vec<String> = (0..NMASTERS).map(|i| format!("{tag}m{i}")).collect();
        let sms = (0..NMASTERS)
            .map(|i| ShardMaster::start(net, &masters, i))
            .collect();
        let mck = shardmaster::Clerk::new(net, &format!("{tag}mck"), &masters);
        let groups = (0..NGROUPS)
            .map(|g| {
                let gid = 100 + g as Gid;
                let names: Vec<String> = (0..NREPLICAS)
                    .map(|j| format!("{tag}s{}", g * NREPLICAS + j))
                    .collect();
                let servers = (0..NREPLICAS)
                    .map(|j| {
                        net.set_unreliable_server(&names[j], unreliable);
                        ShardKv::start(net, gid, &masters, &names, j)
                    })
                    .collect();
                Group {
                    gid,
                    names,
                    servers,
                }
            })
            .collect();
        Cluster {
            net: net.clone(),
            masters,
            _sms: sms,
            mck,
            groups,
            clerks: 0,
        }
    }

    /// A new shardkv clerk on its own node.
    fn clerk(&mut self) -> Clerk {
        self.clerks += 1;
        Clerk::new(&self.net, &format!("ck{}", self.clerks), &self.masters)
    }

    /// A new shard-master clerk on its own node.
    fn shard_clerk(&mut self) -> shardmaster::Clerk {
        self.clerks += 1;
        shardmaster::Clerk::new(&self.net, &format!("mck{}", self.clerks), &self.masters)
    }

    async fn join(&mut self, g: usize) {
        let (gid, names) = (self.groups[g].gid, self.groups[g].names.clone());
        self.mck.join(gid, &names).await.expect("a real group");
    }

    async fn leave(&mut self, g: usize) {
        self.mck.leave(self.groups[g].gid).await;
    }
}

/// A random number as a string (Go's `strconv.Itoa(rand.Int())`), from the seed.
fn random(net: &Network) -> String {
    net.rng().random::<u32>().to_string()
}

async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// Go's TestBasic and TestLimp share this: put ten keys, then after each join (and each
/// leave) check them and put new values. `limp` kills a replica of each group first, and
/// kills a departed group 2 s after it leaves.
async fn join_leave(net: Network, tag: &str, limp: bool) {
    let mut tc = Cluster::new(&net, tag, false);
    tc.join(0).await;
    let mut ck = tc.clerk();

    if limp {
        ck.put("a", "b").await;
        assert_eq!(ck.get("a").await, "b", "got wrong value");
        // "Reconfiguration with some dead replicas": one server of each group dies.
        for group in &tc.groups {
            let i = net.rng().random_range(0..group.servers.len());
            group.servers[i].kill();
        }
    } else {
        ck.put("a", "x").await;
        ck.append("a", "b").await;
        assert_eq!(ck.get("a").await, "xb", "Get got wrong value");
    }

    let keys: Vec<String> = (0..10).map(|_| random(&net)).collect();
    let mut vals: Vec<String> = (0..10).map(|_| random(&net)).collect();
    for (k, v) in keys.iter().zip(&vals) {
        ck.put(k, v).await;
    }

    // Are keys still there after joins?
    for g in 1..NGROUPS {
        tc.join(g).await;
        sleep_ms(1000).await;
        for (k, v) in keys.iter().zip(vals.iter_mut()) {
            let got = ck.get(k).await;
            assert_eq!(&got, v, "joining; wrong value; g={g} k={k}");
            *v = random(&net);
            ck.put(k, v).await;
        }
    }

    // Are keys still there after leaves?
    for g in 0..NGROUPS - 1 {
        tc.leave(g).await;
        sleep_ms(if limp { 2000 } else { 1000 }).await;
        if limp {
            for server in &tc.groups[g].servers {
                server.kill();
            }
        }
        for (k, v) in keys.iter().zip(vals.iter_mut()) {
            let got = ck.get(k).await;
            assert_eq!(&got, v, "leaving; wrong value; g={g} k={k}");
            *v = random(&net);
            ck.put(k, v).await;
        }
    }
}

#[test]
fn basic() {
    sim::run(|net: Network| join_leave(net, "basic", false));
}

#[test]
fn limp() {
    sim::run(|net: Network| join_leave(net, "limp", true));
}

#[test]
fn move_() {
    sim::run(|net: Network| async move {
        // "Shards really move".
        let mut tc = Cluster::new(&net, "move", false);
        tc.join(0).await;
        let mut ck = tc.clerk();
        let key = |i: usize| char::from(b'0' + i as u8).to_string();

        // One key per shard.
        for i in 0..NSHARDS {
            ck.put(&key(i), &key(i)).await;
        }

        // Add group 1.
        tc.join(1).await;
        sleep_ms(5000).await;

        // Check that keys are still there.
        for i in 0..NSHARDS {
            assert_eq!(ck.get(&key(i)).await, key(i), "missing key/value");
        }

        // Group 0 can no longer be reached (Go removes its sockets): only the keys of group
        // 1's shards can be read.
        for name in &tc.groups[0].names {
            net.set_deaf(name, true);
        }
        let count = Rc::new(Cell::new(0));
        let readers = (0..NSHARDS).map(|i| {
            let (mut myck, count) = (tc.clerk(), Rc::clone(&count));
            async move {
                let v = myck.get(&key(i)).await;
                assert_eq!(v, key(i), "Get({i}) yielded {v}");
                count.set(count.get() + 1);
            }
        });
        // The readers of group 0's keys wait forever: stop looking after Go's 10 s.
        let _ = tokio::time::timeout(Duration::from_secs(10), join_all(readers)).await;

        let ccc = count.get();
        assert!(
            ccc > NSHARDS / 3 && ccc < 2 * (NSHARDS / 3),
            "{ccc} keys worked after killing 1/2 of groups; wanted {}",
            NSHARDS / 2
        );
    });
}

/// Go's `doConcurrent`: all groups join; 11 clerks each append to their own key, check it,
/// and move a random shard to a random group, three times.
async fn do_concurrent(net: Network, unreliable: bool) {
    let tag = if unreliable { "conc-u" } else { "conc" };
    let mut tc = Cluster::new(&net, tag, unreliable);
    for g in 0..NGROUPS {
        tc.join(g).await;
    }

    const NPARA: usize = 11;
    let gids: Vec<Gid> = tc.groups.iter().map(|g| g.gid).collect();
    let clients = (0..NPARA).map(|me| {
        let (mut ck, mut mymck) = (tc.clerk(), tc.shard_clerk());
        let (net, gids) = (net.clone(), gids.clone());
        async move {
            let key = me.to_string();
            let mut last = String::new();
            for _ in 0..3 {
                let nv = random(&net);
                ck.append(&key, &nv).await;
                last.push_str(&nv);
                let v = ck.get(&key).await;
                assert_eq!(v, last, "Get({key}) expected {last} got {v}");

                let gid = gids[net.rng().random_range(0..gids.len())];
                let shard = net.rng().random_range(0..NSHARDS);
                mymck
                    .move_shard(shard, gid)
                    .await
                    .expect("a real shard and group");

                sleep_ms(net.rng().random_range(0..30)).await;
            }
        }
    });
    join_all(clients).await;

    // Beyond Go: the duplicate tables hold one entry per clerk at most.
    for server in tc.groups.iter().flat_map(|g| &g.servers) {
        assert!(
            server.dedup_len() <= NPARA,
            "{} dedup entries",
            server.dedup_len()
        );
    }
}

#[test]
fn concurrent() {
    sim::run(|net: Network| do_concurrent(net, false));
}

#[test]
fn concurrent_unreliable() {
    sim::run(|net: Network| do_concurrent(net, true));
}
