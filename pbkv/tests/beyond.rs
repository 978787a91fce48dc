//! Beyond Go's tests: a restarted sole primary, long reordering and long delays, a client
//! cut off from the primary but not from the backup, and a randomized chaos test whose whole history must be
//! linearizable.

mod common;

use common::*;
use futures::future::join_all;
use labrpc::{Error, Network, sim};
use linearizability::models::KvMap;
use linearizability::testing::{TestHistory, failure_dir};
use pbkv::{Clerk, ClientOp, KvEnd, KvError, Op, PbKvClient, PbServer};
use rand::Rng;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::{Instant, sleep};
use viewservice::{DEAD_PINGS, PING_INTERVAL, ViewServer};

/// The first primary crashes, loses its disk and restarts (empty) while view 1 is still
/// current: no backup ever joined, so its writes are gone with it. It must not serve view 1
/// from empty state: a Get of a written key never returns, rather than return "".
#[test]
fn restarted_sole_primary_does_not_serve_empty() {
    sim::run(|net: Network| async move {
        let (_vs, vck) = start_vs(&net);
        let s1 = start(&net, "s1");
        let mut ck = Clerk::new(&net, "ck", VS);
        ck.put("a", "x").await;
        let v = wait_view(&vck, DEAD_PINGS, |v| v.viewnum == 1).await;
        assert!(v.is_primary("s1"), "{v}");
        sleep(PING_INTERVAL * 2).await; // s1 has acknowledged view 1
        s1.kill();
        net.lose_disk("s1");
        let _s1 = start(&net, "s1");
        // Let the view service hear s1's restart (its ping of 0) before s2 can be a backup:
        // otherwise it may make a view of the restarted s1 and s2 before it knows, which
        // stalls too, but without the primary-less view this test checks.
        sleep(PING_INTERVAL * 2).await;
        let _s2 = start(&net, "s2");
        sleep(DEAD_TIME).await;
        let got = tokio::time::timeout(Duration::from_secs(3), ck.get("a")).await;
        assert!(
            got.is_err(),
            "Get returned {got:?} after the only copy was lost"
        );
        let v = view(&vck).await;
        assert_eq!(v.primary, None, "{v}");
    });
}

/// Replies held back 200-2200 ms and unreachable calls failing after up to 7 s: two servers,
/// three clients appending; the primary dies half-way. Every Append is there once, in order,
/// and the old backup took over.
#[test]
fn long_reordering_and_long_delays() {
    sim::run(|net: Network| async move {
        let (_vs, vck) = start_vs(&net);
        let servers = [start(&net, "s1"), start(&net, "s2")];
        let view1 = wait_pair(&vck).await;
        net.set_long_reordering(true);
        net.set_long_delays(true);
        let clients = (0..3).map(|i| {
            let net = net.clone();
            async move {
                let mut ck = Clerk::new(&net, &format!("client{i}"), VS);
                for n in 0..10 {
                    ck.append("k", &format!("x {i} {n} y")).await;
                }
                10
            }
        });
        let killer = async {
            sleep(Duration::from_secs(3)).await;
            let primary = servers
                .iter()
                .find(|s| view1.is_primary(s.name()))
                .expect("the primary is one of ours");
            primary.kill();
        };
        let (counts, ()) = futures::join!(join_all(clients), killer);
        let mut ck = Clerk::new(&net, "reader", VS);
        check_appends(&ck.get("k").await, &counts);
        let v = view(&vck).await;
        assert_eq!(v.primary, view1.backup, "the backup did not take over: {v}");
    });
}

/// A clerk that reaches the view service and the backup but not the primary cannot get its
/// Append done (the backup refuses clients); once the link is back the same Append completes,
/// once.
#[test]
fn client_cut_off_from_primary_only() {
    sim::run(|net: Network| async move {
        let (_vs, vck) = start_vs(&net);
        let _servers = [start(&net, "s1"), start(&net, "s2")];
        let v = wait_pair(&vck).await;
        let (primary, backup) = (
            v.primary.clone().expect("pair"),
            v.backup.clone().expect("pair"),
        );
        let mut ck = Clerk::new(&net, "ck", VS);
        ck.put("k", "a").await;

        net.cut("ck", &primary);
        net.cut(&primary, "ck");
        let end: KvEnd = net.client("ck", &backup);
        let op = ClientOp {
            client: 1,
            seq: 1,
            op: Op::Get { key: "k".into() },
        };
        let direct = PbKvClient::from(end)
            .execute(labrpc::context(), op)
            .await
            .map_err(Error::from);
        assert_eq!(
            direct,
            Ok(Err(KvError::WrongServer)),
            "the backup served a client"
        );

        let healed = Cell::new(false);
        let appender = async {
            ck.append("k", "b").await;
            assert!(healed.get(), "the Append completed without the primary");
        };
        let healer = async {
            sleep(DEAD_TIME * 4).await;
            let mut other = Clerk::new(&net, "other", VS);
            assert_eq!(other.get("k").await, "a", "the cut-off Append took effect");
            healed.set(true);
            net.heal();
        };
        futures::join!(appender, healer);
        assert_eq!(ck.get("k").await, "ab");
    });
}

/// What the chaos monkey does next.
#[derive(Debug)]
enum Chaos {
    /// Kill a server and restart it after a while, with its disk or (half the time) empty.
    Crash,
    /// Cut a server off from every other node for a while.
    Isolate,
    /// Cut a server off from the view service only for a while.
    HideFromViewService,
    /// Cut the primary and the backup apart for a while.
    SplitPair,
}

/// Waits (bounded) until the view has a primary and a backup and its primary acknowledged
/// it: then any one server may fail and the service can go on.
async fn wait_stable(vs: &ViewServer) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = vs.view();
        if v.primary.is_some() && v.backup.is_some() && vs.is_acked() {
            return;
        }
        assert!(Instant::now() < deadline, "the service is stuck in {v}");
        sleep(PING_INTERVAL).await;
    }
}

/// Seeds the chaos test tries on every run.
const CHAOS_SEEDS: u64 = 6;

/// Chaos: three servers; for 10 s one fault at a time (crash and empty restart, isolation,
/// hiding from the view service, splitting primary from backup) on a network that is
/// sometimes unreliable, while three clerks Put, Append and Get their own keys and all Append
/// to and Get one shared key. Every operation is recorded (virtual times) and the whole history,
/// final reads included, must be linearizable per key; a shared key that ends without every
/// acknowledged Append once, in each clerk's order, fails too.
///
/// Runs 6 seeds on every `cargo test` (one with `LABRPC_SEED`).
#[test]
fn chaos() {
    sim::run_seeds(CHAOS_SEEDS, |net: Network| async move {
        let history = TestHistory::on_network(
            KvMap,
            &net,
            "pbkv-chaos",
            failure_dir(env!("CARGO_TARGET_TMPDIR")),
        );
        let (vs, _vck) = start_vs(&net);
        let names = ["s1", "s2", "s3"];
        for name in names {
            start(&net, name);
        }
        wait_stable(&vs).await;
        let deadline = Instant::now() + Duration::from_secs(10);

        let clients = (0..3).map(|i| {
            let net = net.clone();
            let rec = history.client(i);
            async move {
                let mut ck = Clerk::new(&net, &format!("client{i}"), VS);
                let mut rng = net.rng();
                let mut shared = 0;
                while before(deadline) {
                    let key = format!("{i}-{}", rng.random_range(0..4));
                    match rng.random_range(0..5) {
                        0 => {
                            rec.get(&key, ck.get(&key)).await;
                        }
                        // Reads of the shared key also keep the check fast: between two reads
                        // only the orders of the Appends in between are open.
                        4 => {
                            rec.get("shared", ck.get("shared")).await;
                        }
                        1 => {
                            let value = rng.random_range(0..1000).to_string();
                            rec.put(&key, &value, ck.put(&key, &value)).await;
                        }
                        2 => {
                            let value = format!("<{}>", rng.random_range(0..1000));
                            rec.append(&key, &value, ck.append(&key, &value)).await;
                        }
                        _ => {
                            let value = format!("x {i} {shared} y");
                            rec.append("shared", &value, ck.append("shared", &value))
                                .await;
                            shared += 1;
                        }
                    }
                    sleep(Duration::from_millis(rng.random_range(5..15))).await;
                }
                for key in (0..4).map(|k| format!("{i}-{k}")) {
                    rec.get(&key, ck.get(&key)).await;
                }
                shared
            }
        });

        let monkey = async {
            let mut rng = net.rng();
            let mut servers: BTreeMap<&str, PbServer> = BTreeMap::new();
            while before(deadline) {
                wait_stable(&vs).await;
                net.set_reliable(rng.random_bool(0.5));
                let victim = names[rng.random_range(0..names.len())];
                let hold = PING_INTERVAL * rng.random_range(3..DEAD_PINGS * 3);
                let action = match rng.random_range(0..4) {
                    0 => Chaos::Crash,
                    1 => Chaos::Isolate,
                    2 => Chaos::HideFromViewService,
                    _ => Chaos::SplitPair,
                };
                eprintln!(
                    "{:?} {action:?} {victim} hold {hold:?} reliable {} view {}",
                    net.now(),
                    net.faults().reliable,
                    vs.view()
                );
                match action {
                    Chaos::Crash => {
                        net.kill(victim);
                        if rng.random_range(0..2) == 0 {
                            net.lose_disk(victim);
                        }
                        sleep(hold).await;
                        servers.insert(victim, start(&net, victim));
                    }
                    Chaos::Isolate => {
                        for other in names.iter().copied().chain([VS]) {
                            if other != victim {
                                net.cut(victim, other);
                                net.cut(other, victim);
                            }
                        }
                        for i in 0..3 {
                            net.cut(victim, &format!("client{i}"));
                            net.cut(&format!("client{i}"), victim);
                        }
                        sleep(hold).await;
                        net.heal();
                    }
                    Chaos::HideFromViewService => {
                        net.cut(victim, VS);
                        net.cut(VS, victim);
                        sleep(hold).await;
                        net.heal();
                    }
                    Chaos::SplitPair => {
                        let v = vs.view();
                        if let (Some(p), Some(b)) = (v.primary, v.backup) {
                            net.cut(&p, &b);
                            net.cut(&b, &p);
                            sleep(hold).await;
                            net.heal();
                        }
                    }
                }
                // Let the view service see the whole effect of this fault (a server silent
                // for a while may be declared dead just as it comes back) before the next:
                // primary/backup survives one failure at a time, not a primary dying before
                // it acknowledged the view that replaced its failed backup.
                sleep(DEAD_TIME + PING_INTERVAL * 2).await;
            }
            net.set_reliable(true);
        };
        let (counts, ()) = futures::join!(join_all(clients), monkey);
        eprintln!("counts {counts:?} rpcs {}", net.stats().rpcs);
        let mut ck = Clerk::new(&net, "reader", VS);
        let shared = history.client(3).get("shared", ck.get("shared")).await;
        history.finish();
        check_appends(&shared, &counts);
        assert!(
            counts.iter().sum::<usize>() > 0,
            "no client got anything done in 10 s"
        );
    });
}

/// A clerk that answers a Get from the first value it read for the key: the store of a
/// server that serves a stale copy, to prove that the chaos check catches it.
struct StaleClerk {
    ck: Clerk,
    seen: BTreeMap<String, String>,
}

impl StaleClerk {
    async fn get(&mut self, key: &str) -> String {
        if let Some(value) = self.seen.get(key) {
            return value.clone();
        }
        let value = self.ck.get(key).await;
        self.seen.insert(key.to_owned(), value.clone());
        value
    }
}

/// The failure path of the chaos check, end to end on a real pair of servers: a history with
/// a stale read fails the test, which leaves the picture and the network trace of the run
/// next to each other and names both, the seed and the replay command.
#[test]
fn a_stale_read_fails_with_picture_and_trace() {
    const SEED: u64 = 7;
    let dir = failure_dir(env!("CARGO_TARGET_TMPDIR")).join("pbkv-failure-path");
    let _ = std::fs::remove_dir_all(&dir);
    let run_dir = dir.clone();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        sim::simulate(SEED, false, move |net: Network| async move {
            let history = TestHistory::on_network(KvMap, &net, "stale", run_dir);
            let (_vs, vck) = start_vs(&net);
            let _servers = [start(&net, "s1"), start(&net, "s2")];
            wait_pair(&vck).await;
            let rec = history.client(0);
            let mut stale = StaleClerk {
                ck: Clerk::new(&net, "client0", VS),
                seen: BTreeMap::new(),
            };
            rec.put("k", "1", stale.ck.put("k", "1")).await;
            assert_eq!(rec.get("k", stale.get("k")).await, "1");
            rec.put("k", "2", stale.ck.put("k", "2")).await;
            assert_eq!(rec.get("k", stale.get("k")).await, "1", "the stale answer");
            history.finish();
        })
    }))
    .expect_err("a stale read must fail the check");
    let message = panic
        .downcast_ref::<String>()
        .expect("a formatted message")
        .clone();
    let html = dir.join(format!("stale-seed{SEED}.html"));
    let trace = dir.join(format!("stale-seed{SEED}.trace.jsonl"));
    for wanted in [
        html.display().to_string(),
        trace.display().to_string(),
        format!("seed {SEED}"),
        format!("LABRPC_SEED={SEED} cargo test -p pbkv --test beyond"),
        "get(\"k\") -> \"1\"".to_string(),
    ] {
        assert!(message.contains(&wanted), "{wanted:?} missing:\n{message}");
    }
    let page = std::fs::read_to_string(&html).expect("the picture was written");
    assert!(page.contains("violation"), "{page}");
    let lines = std::fs::read_to_string(&trace).expect("the trace was written");
    assert!(
        lines.lines().count() > 10 && lines.lines().all(|l| l.starts_with("{\"at_us\":")),
        "not a trace of the run:\n{lines}"
    );
    assert!(lines.contains("\"kind\":\"send\""));
}
