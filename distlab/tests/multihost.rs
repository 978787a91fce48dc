#![allow(clippy::disallowed_methods)] // real processes on real hosts: real time and threads
//! The labs as real processes on real (namespaced) hosts: `distlab serve` on 3 or 5 hosts
//! with their own addresses, partitions made with packet filters, servers SIGKILLed and
//! restarted from their disks, while clerks in this process run a workload whose history the
//! linearizability checker checks, and whose every acknowledged append must be in the final
//! value exactly once.
//!
//! Needs root (network namespaces); skips with a message elsewhere. Each run takes
//! `DISTLAB_MULTIHOST_SECS` seconds (default 30) of faults; `DISTLAB_MULTIHOST_RUNS` runs per
//! test (default 1); `DISTLAB_MULTIHOST_SEED` fixes the schedule of faults and operations
//! (real time still varies from run to run).

mod hosts;

use hosts::{Hosts, View};
use linearizability::models::{KvInput, KvMap, KvOutput};
use linearizability::{Recorder, check};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const CLIENTS: usize = 3;
const KEYS: usize = 3;
const PARTITIONS: usize = 5;
const KILLS: usize = 2;
/// Clients must finish within this time once the faults are healed.
const SETTLE: Duration = Duration::from_secs(60);

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Which lab a run exercises.
#[derive(Clone, Copy, Debug)]
enum Lab {
    /// `hosts` paxoskv servers.
    PaxosKv { hosts: usize },
    /// A view service on host 0 and `hosts - 1` pbkv servers.
    PbKv { hosts: usize },
}

impl Lab {
    fn hosts(self) -> usize {
        match self {
            Lab::PaxosKv { hosts } | Lab::PbKv { hosts } => hosts,
        }
    }

    /// The hosts whose servers may be killed and cut off.
    fn faulty(self) -> Vec<usize> {
        match self {
            Lab::PaxosKv { hosts } => (0..hosts).collect(),
            Lab::PbKv { hosts } => (1..hosts).collect(),
        }
    }

    fn serve_args(self, hosts: &Hosts, i: usize) -> Vec<String> {
        let mut args: Vec<String> = match self {
            Lab::PaxosKv { hosts: n } => {
                let peers: Vec<String> = (0..n).map(|j| hosts.addr(j)).collect();
                let me = i.to_string();
                ["serve", "paxoskv", "--me", &me, "--peers", &peers.join(",")]
                    .map(String::from)
                    .to_vec()
            }
            Lab::PbKv { .. } if i == 0 => ["serve", "viewservice", "--listen", &hosts.addr(0)]
                .map(String::from)
                .to_vec(),
            Lab::PbKv { .. } => {
                let (me, vs) = (hosts.addr(i), hosts.addr(0));
                ["serve", "pbkv", "--listen", &me, "--viewservice", &vs]
                    .map(String::from)
                    .to_vec()
            }
        };
        args.extend(hosts.common_args(i));
        args
    }
}

/// What one run did.
struct Outcome {
    ops: usize,
    partitions: usize,
    kills: usize,
}

/// The faults of one run, on their own thread: partitions and kills, each held a while, then
/// healed; at the end everything is healed and every server is up.
fn nemesis(lab: Lab, hosts: &mut Hosts, seed: u64, secs: u64) -> Result<(usize, usize), String> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x6e656d);
    let mut plan: Vec<bool> = [vec![true; PARTITIONS], vec![false; KILLS]].concat();
    // Shuffle so kills fall anywhere among the partitions.
    for i in (1..plan.len()).rev() {
        plan.swap(i, rng.random_range(0..=i));
    }
    let slot = Duration::from_millis(secs * 1000 / (plan.len() as u64 + 1));
    let faulty = lab.faulty();
    let (mut partitions, mut kills) = (0, 0);
    for partition in plan {
        std::thread::sleep(slot / 3);
        let victim = faulty[rng.random_range(0..faulty.len())];
        if partition {
            // A minority cut off: one host, or two of five.
            let mut side = vec![victim];
            if lab.hosts() >= 5 {
                let other = faulty[rng.random_range(0..faulty.len())];
                if other != victim {
                    side.push(other);
                }
            }
            let rest: Vec<usize> = (0..lab.hosts()).filter(|h| !side.contains(h)).collect();
            if !hosts.reaches(side[0], rest[0]) {
                return Err(format!(
                    "host {} cannot reach host {} before the partition",
                    side[0], rest[0]
                ));
            }
            hosts.partition(&side, &rest)?;
            if hosts.reaches(side[0], rest[0]) {
                return Err(format!(
                    "host {} still reaches host {} across the partition",
                    side[0], rest[0]
                ));
            }
            std::thread::sleep(slot * 2 / 3);
            hosts.heal()?;
            partitions += 1;
        } else {
            hosts.kill(victim);
            std::thread::sleep(slot * 2 / 3);
            hosts.start(victim, &lab.serve_args(hosts, victim))?;
            kills += 1;
        }
    }
    hosts.heal()?;
    Ok((partitions, kills))
}

/// A real node for a clerk in this process: it listens nowhere.
fn client_node(hosts: &View) -> labrpc::Node {
    let secret = labrpc::tcp::Secret::from_file(hosts.secret_file()).expect("the secret");
    labrpc::Node::real_client("client", labrpc::tcp::TcpOptions::with_secret(secret))
}

enum Clerk {
    PaxosKv(paxoskv::Clerk),
    PbKv(pbkv::Clerk),
}

impl Clerk {
    async fn new(lab: Lab, hosts: &View) -> Clerk {
        let node = client_node(hosts);
        match lab {
            Lab::PaxosKv { hosts: n } => {
                let servers: Vec<String> = (0..n).map(|i| hosts.addr(i)).collect();
                Clerk::PaxosKv(paxoskv::Clerk::on(node, &servers))
            }
            Lab::PbKv { .. } => Clerk::PbKv(pbkv::Clerk::on(node, &hosts.addr(0))),
        }
    }

    async fn get(&mut self, key: &str) -> String {
        match self {
            Clerk::PaxosKv(clerk) => clerk.get(key).await,
            Clerk::PbKv(clerk) => clerk.get(key).await,
        }
    }

    async fn append(&mut self, key: &str, value: &str) {
        match self {
            Clerk::PaxosKv(clerk) => clerk.append(key, value).await,
            Clerk::PbKv(clerk) => clerk.append(key, value).await,
        }
    }
}

type History = Recorder<KvInput, KvOutput>;

/// One client: appends of unique tokens and gets on a few keys, until `stop`.
async fn client(
    lab: Lab,
    hosts: &View,
    me: usize,
    seed: u64,
    history: History,
    start: Instant,
    stop: Arc<AtomicBool>,
) -> Vec<(String, String)> {
    let mut rng = StdRng::seed_from_u64(seed.wrapping_add(me as u64));
    let mut clerk = Clerk::new(lab, hosts).await;
    let mut acked = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let key = format!("k{}", rng.random_range(0..KEYS));
        if rng.random_bool(0.7) {
            let token = format!("c{me}.{n};");
            n += 1;
            let id = history.call(me, KvInput::append(&key, &token), start.elapsed());
            clerk.append(&key, &token).await;
            history
                .returned(id, KvOutput::Done, start.elapsed())
                .expect("one return");
            acked.push((key, token));
        } else {
            let id = history.call(me, KvInput::get(&key), start.elapsed());
            let value = clerk.get(&key).await;
            (history.returned(id, KvOutput::Value(value), start.elapsed())).expect("one return");
        }
    }
    acked
}

fn run(lab: Lab, net: u8, seed: u64, secs: u64) -> Result<Outcome, String> {
    let mut hosts = Hosts::new(net, lab.hosts())?;
    for i in 0..lab.hosts() {
        hosts.start(i, &lab.serve_args(&hosts, i))?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let history = History::new();
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    // The nemesis owns the hosts while it runs; the clients need only their addresses, so
    // they get a second view of the same cluster.
    let view = hosts.view();
    let faults = std::thread::spawn(move || {
        let done = nemesis(lab, &mut hosts, seed, secs);
        (hosts, done)
    });
    let local = tokio::task::LocalSet::new();
    let acked = local.block_on(&runtime, async {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|me| {
                let (history, stop, view) = (history.clone(), stop.clone(), view.clone());
                tokio::task::spawn_local(async move {
                    client(lab, &view, me, seed, history, start, stop).await
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(secs)).await;
        stop.store(true, Ordering::Relaxed);
        // The nemesis heals everything at about this time; then each client's last operation
        // must finish within SETTLE.
        tokio::time::timeout(SETTLE, async {
            let mut acked = Vec::new();
            for client in clients {
                acked.extend(client.await.expect("a client task"));
            }
            acked
        })
        .await
    });
    let (hosts, done) = faults
        .join()
        .map_err(|_| "the nemesis panicked".to_string())?;
    let (partitions, kills) = done.map_err(|e| format!("{e}\n{}", hosts.logs()))?;
    let acked = acked.map_err(|_| {
        let logs = hosts.logs();
        format!("clients still blocked {SETTLE:?} after the faults healed\n{logs}")
    })?;
    // Every acknowledged append is in its key's final value, exactly once.
    let finals = local.block_on(
        &runtime,
        // The timer is made inside the runtime.
        async {
            tokio::time::timeout(SETTLE, async {
                let mut clerk = Clerk::new(lab, &view).await;
                let mut finals = Vec::new();
                for k in 0..KEYS {
                    let key = format!("k{k}");
                    let id = history.call(CLIENTS, KvInput::get(&key), start.elapsed());
                    let value = clerk.get(&key).await;
                    let output = KvOutput::Value(value.clone());
                    history
                        .returned(id, output, start.elapsed())
                        .expect("one return");
                    finals.push((key, value));
                }
                finals
            })
            .await
        },
    );
    let finals = finals.map_err(|_| format!("the final gets did not finish within {SETTLE:?}"))?;
    for (key, token) in &acked {
        let value = &finals
            .iter()
            .find(|(k, _)| k == key)
            .expect("a final value")
            .1;
        let times = value.matches(token.as_str()).count();
        if times != 1 {
            return Err(format!(
                "acknowledged append {token} to {key} is in it {times} times"
            ));
        }
    }
    let ops = history.history();
    let report = check(&KvMap, &ops).map_err(|e| format!("{e}"))?;
    if !report.is_linearizable() {
        return Err(format!(
            "the history of {} operations is {:?}",
            ops.len(),
            report.verdict
        ));
    }
    drop(hosts);
    Ok(Outcome {
        ops: ops.len(),
        partitions,
        kills,
    })
}

fn runs(name: &str, lab: Lab, net: u8) {
    if let Some(why) = hosts::unavailable(net) {
        eprintln!("skipping {name}: {why}");
        return;
    }
    let secs = setting("DISTLAB_MULTIHOST_SECS", 30);
    let count = setting("DISTLAB_MULTIHOST_RUNS", 1);
    let first = setting("DISTLAB_MULTIHOST_SEED", rand::random::<u32>() as u64);
    for seed in first..first + count {
        let began = Instant::now();
        match run(lab, net, seed, secs) {
            Ok(o) => println!(
                "{name} seed {seed}: {} operations, {} partitions, {} kills, linearizable, \
                 no acknowledged append lost or doubled ({:.1} s)",
                o.ops,
                o.partitions,
                o.kills,
                began.elapsed().as_secs_f64()
            ),
            Err(e) => panic!(
                "{name} seed {seed} failed: {e}\nreplay the faults and operations with: \
                 DISTLAB_MULTIHOST_SEED={seed} DISTLAB_MULTIHOST_RUNS=1 \
                 cargo test -p distlab --test multihost {name}"
            ),
        }
    }
}

#[test]
fn paxoskv_on_3_hosts() {
    runs("paxoskv_on_3_hosts", Lab::PaxosKv { hosts: 3 }, 11);
}

#[test]
fn paxoskv_on_5_hosts() {
    runs("paxoskv_on_5_hosts", Lab::PaxosKv { hosts: 5 }, 12);
}

#[test]
fn pbkv_on_4_hosts() {
    runs("pbkv_on_4_hosts", Lab::PbKv { hosts: 4 }, 13);
}
