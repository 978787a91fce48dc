#![allow(clippy::disallowed_methods)] // real containers: real time and threads
//! The deployment of `deploy/`, for real: the image `deploy/build-image.sh` builds (from this
//! build's `distlab`), and clusters of `deploy/compose.yaml` under Docker Compose.
//!
//! - paxoskv on 3 containers, several runs: in each, a fresh compose project while clerks on
//!   the host (through the published ports) run the shared workload (`workload/`), one
//!   container at a time is cut off its network (`docker network disconnect`, checked from
//!   another container) and connected again, or SIGKILLed (`docker kill`) and started again
//!   from its volume; then the history is checked with the linearizability checker, and every
//!   acknowledged append must be in the final value exactly once.
//! - pbkv with its view service: clients in the cluster's network (`compose run kv`) write,
//!   the primary is SIGKILLed, and the backup takes over with every write.
//! - the containers' health check, `distlab status --healthz`, on a local server (no Docker).
//!
//! The container tests skip with a message where Docker or a compose tool is not usable. `DISTLAB_DEPLOY_RUNS`
//! runs (default 5) of `DISTLAB_DEPLOY_SECS` seconds (default 12) each; `DISTLAB_DEPLOY_SEED`
//! fixes the first run's faults and operations (real time still varies).

mod containers;
mod workload;

use containers::{Cluster, Image, compose_tool};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};
use workload::{Store, Workload};

const NODES: usize = 3;
/// Faults per run: cuts and kills, in an order drawn from the seed.
const CUTS: usize = 2;
const KILLS: usize = 1;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn node(i: usize) -> String {
    format!("paxoskv-{i}")
}

/// A project name of its own (compose keeps only lowercase letters and digits of some names).
fn project(what: &str, n: u64) -> String {
    format!("dltest{}{what}{n}", std::process::id())
}

/// The image for this test process, or why the test skips.
fn image(what: &str) -> Option<(Vec<String>, Image)> {
    let compose = match compose_tool() {
        Ok(tool) => tool,
        Err(why) => {
            eprintln!("skipping the deploy test: {why}");
            return None;
        }
    };
    let tag = format!("distlab-deploy-test:{}-{what}", std::process::id());
    match Image::build(&tag) {
        Ok(image) => Some((compose, image)),
        Err(e) => panic!("cannot build the image: {e}"),
    }
}

/// What one run did.
struct Outcome {
    ops: usize,
    cuts: usize,
    kills: usize,
}

/// The faults of one run: cuts and kills one at a time, each held a while and healed.
fn nemesis(cluster: &Cluster, seed: u64, secs: u64) -> Result<(usize, usize), String> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x6e656d);
    let mut plan: Vec<bool> = [vec![true; CUTS], vec![false; KILLS]].concat();
    for i in (1..plan.len()).rev() {
        plan.swap(i, rng.random_range(0..=i));
    }
    let slot = Duration::from_millis(secs * 1000 / (plan.len() as u64 + 1));
    let (mut cuts, mut kills) = (0, 0);
    for cut in plan {
        std::thread::sleep(slot / 3);
        let victim = rng.random_range(0..NODES);
        let (name, other) = (node(victim), node((victim + 1) % NODES));
        if cut {
            if !cluster.reaches(&other, &name) {
                return Err(format!("{other} cannot reach {name} before the cut"));
            }
            cluster.cut(&name)?;
            if cluster.reaches(&other, &name) {
                return Err(format!("{other} still reaches {name} after the cut"));
            }
            std::thread::sleep(slot * 2 / 3);
            cluster.heal(&name)?;
            cuts += 1;
        } else {
            cluster.kill(&name)?;
            std::thread::sleep(slot * 2 / 3);
            cluster.restart(&name)?;
            kills += 1;
        }
    }
    Ok((cuts, kills))
}

fn paxoskv_run(compose: &[String], image: &Image, seed: u64, secs: u64) -> Result<Outcome, String> {
    let services: Vec<(String, String)> = (0..NODES)
        .map(|i| (node(i), format!("PAXOSKV_{i}_PORT")))
        .collect();
    let services: Vec<(&str, &str)> = services.iter().map(|(s, v)| (&**s, &**v)).collect();
    let cluster = Cluster::up(compose, &project("paxoskv", seed), image, None, &services)?;
    let store = Store::PaxosKv((0..NODES).map(|i| cluster.addr(&node(i))).collect());
    let workload = Workload::new(store, cluster.secret_file(), seed)?;
    let (acked, faults) = std::thread::scope(|scope| {
        let faults = scope.spawn(|| nemesis(&cluster, seed, secs));
        let acked = workload.drive(Duration::from_secs(secs));
        (acked, faults.join())
    });
    let faults = faults.map_err(|_| "the nemesis panicked".to_string())?;
    let (cuts, kills) = faults.map_err(|e| format!("{e}\n{}", cluster.logs()))?;
    let acked = acked.map_err(|e| format!("{e}\n{}", cluster.logs()))?;
    let ops = (workload.check(&acked)).map_err(|e| format!("{e}\n{}", cluster.logs()))?;
    Ok(Outcome { ops, cuts, kills })
}

#[test]
fn paxoskv_in_containers_survives_cuts_and_kills() {
    let Some((compose, image)) = image("paxoskv") else {
        return;
    };
    let secs = setting("DISTLAB_DEPLOY_SECS", 12);
    let count = setting("DISTLAB_DEPLOY_RUNS", 5);
    let first = setting("DISTLAB_DEPLOY_SEED", rand::random::<u32>() as u64);
    println!(
        "paxoskv on {NODES} containers ({}): {count} runs of {secs} s, seeds {first}..={}, \
         {CUTS} cuts and {KILLS} kill each",
        compose.join(" "),
        first + count - 1
    );
    let began = Instant::now();
    for seed in first..first + count {
        let run_began = Instant::now();
        match paxoskv_run(&compose, &image, seed, secs) {
            Ok(o) => println!(
                "paxoskv in containers, seed {seed}: {} operations, {} cut(s), {} kill(s), \
                 linearizable, no acknowledged append lost or doubled ({:.1} s)",
                o.ops,
                o.cuts,
                o.kills,
                run_began.elapsed().as_secs_f64()
            ),
            Err(e) => panic!(
                "paxoskv in containers, seed {seed} failed: {e}\nreplay the faults and \
                 operations with: DISTLAB_DEPLOY_SEED={seed} DISTLAB_DEPLOY_RUNS=1 \
                 DISTLAB_DEPLOY_SECS={secs} cargo test -p distlab --test deploy -- --nocapture \
                 paxoskv"
            ),
        }
    }
    println!("{count} runs in {:.1} s", began.elapsed().as_secs_f64());
}

/// One `distlab kv` operation from a container in the cluster's network: its output.
fn kv(cluster: &Cluster, op: &[&str]) -> Result<String, String> {
    let args = ["--viewservice", "viewservice:7000", "--timeout", "30s"];
    let run = [&["run", "--rm", "-T", "kv"][..], &args, op].concat();
    Ok(cluster.compose(&run)?.trim().to_owned())
}

/// The primary's service name in the view service's `/status`.
fn primary(cluster: &Cluster) -> Result<String, String> {
    let id = cluster.container("viewservice")?;
    let args = ["exec", &id, "/distlab", "status", "127.0.0.1:7000"];
    // The status call needs the secret; /status on the host port would not, but this shows
    // the report as an operator reads it.
    let args = [&args[..], &["--secret-file", "/run/secrets/cluster_key"]].concat();
    let report = containers::run("docker", &args, &[])?;
    let report: serde_json::Value =
        serde_json::from_str(&report).map_err(|e| format!("a status report: {e}: {report}"))?;
    let primary = report["view"]["primary"].as_str().unwrap_or_default();
    let service = primary.strip_suffix(":7000").unwrap_or(primary);
    if service.is_empty() {
        return Err(format!("no primary in the view: {report}"));
    }
    Ok(service.to_owned())
}

fn pbkv_failover(compose: &[String], image: &Image) -> Result<(), String> {
    let services = [
        ("viewservice", "VIEWSERVICE_PORT"),
        ("pbkv-0", "PBKV_0_PORT"),
        ("pbkv-1", "PBKV_1_PORT"),
    ];
    let cluster = Cluster::up(compose, &project("pbkv", 0), image, Some("pbkv"), &services)?;
    let with_logs = |e: String| format!("{e}\n{}", cluster.logs());
    kv(&cluster, &["put", "k", "a"]).map_err(with_logs)?;
    let first = primary(&cluster).map_err(with_logs)?;
    cluster.kill(&first).map_err(with_logs)?;
    kv(&cluster, &["append", "k", "b"]).map_err(with_logs)?;
    let second = primary(&cluster).map_err(with_logs)?;
    if second == first {
        return Err(with_logs(format!(
            "{first} is still primary after its kill"
        )));
    }
    cluster.restart(&first).map_err(with_logs)?;
    kv(&cluster, &["append", "k", "c"]).map_err(with_logs)?;
    let value = kv(&cluster, &["get", "k"]).map_err(with_logs)?;
    if value != "abc" {
        return Err(with_logs(format!("k is {value:?}, not \"abc\"")));
    }
    println!("pbkv in containers: {first} killed, {second} took over, k = {value:?}");
    Ok(())
}

#[test]
fn pbkv_in_containers_fails_over_to_its_backup() {
    let Some((compose, image)) = image("pbkv") else {
        return;
    };
    let began = Instant::now();
    if let Err(e) = pbkv_failover(&compose, &image) {
        panic!("pbkv in containers failed: {e}");
    }
    println!("pbkv failover in {:.1} s", began.elapsed().as_secs_f64());
}

/// The health check of the compose file, without containers: `distlab status --healthz`
/// exits 0 for a serving server and 1, naming the address, for none.
#[test]
fn status_healthz_is_a_health_check() {
    let distlab = env!("CARGO_BIN_EXE_distlab");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let check = || {
        let args = ["status", "--healthz", "--timeout", "1s", &addr];
        std::process::Command::new(distlab)
            .args(args)
            .output()
            .expect("distlab runs")
    };
    let mut server = std::process::Command::new(distlab)
        .args(["serve", "viewservice", "--listen", &addr])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("distlab serve starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut out = check();
    while !out.status.success() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        out = check();
    }
    let _ = server.kill();
    let _ = server.wait();
    assert!(out.status.success(), "not healthy: {out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
    let out = check();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&addr),
        "{out:?}"
    );
}
