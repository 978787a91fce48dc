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
mod workload;

use hosts::{Hosts, View};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};
use workload::{Store, Workload};

const PARTITIONS: usize = 5;
const KILLS: usize = 2;

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

    /// The store as the clients reach it.
    fn store(self, hosts: &View) -> Store {
        match self {
            Lab::PaxosKv { hosts: n } => Store::PaxosKv((0..n).map(|i| hosts.addr(i)).collect()),
            Lab::PbKv { .. } => Store::PbKv(hosts.addr(0)),
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

fn run(lab: Lab, net: u8, seed: u64, secs: u64) -> Result<Outcome, String> {
    let mut hosts = Hosts::new(net, lab.hosts())?;
    for i in 0..lab.hosts() {
        hosts.start(i, &lab.serve_args(&hosts, i))?;
    }
    // The nemesis owns the hosts while it runs; the clients need only their addresses.
    let view = hosts.view();
    let workload = Workload::new(lab.store(&view), view.secret_file(), seed)?;
    let faults = std::thread::spawn(move || {
        let done = nemesis(lab, &mut hosts, seed, secs);
        (hosts, done)
    });
    let acked = workload.drive(Duration::from_secs(secs));
    let (hosts, done) = faults
        .join()
        .map_err(|_| "the nemesis panicked".to_string())?;
    let (partitions, kills) = done.map_err(|e| format!("{e}\n{}", hosts.logs()))?;
    let acked = acked.map_err(|e| format!("{e}\n{}", hosts.logs()))?;
    let ops = workload.check(&acked)?;
    drop(hosts);
    Ok(Outcome {
        ops,
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
