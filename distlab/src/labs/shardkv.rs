//! The sharded store under chaos: [`GROUPS`] replica groups of `--servers` replicas each and
//! [`MASTERS`] shard masters. While clients Get, Put and Append on keys spread over every
//! shard, an administrator moves shards by hand and makes groups leave and join again, and
//! partitions split every group and the masters, each group's majority on a random side, so
//! that hand-offs between groups on different sides wait. The whole history is checked per
//! key across the moves; each reconfiguration is drawn as a band on the picture.
//!
//! Replicas and masters keep their state in memory only (no disk, no catch-up), so this
//! scenario has no crashes: [`Params::supported_by`](crate::scenario::Params::supported_by)
//! refuses `--crash-every`.

use labrpc::Network;
use rand::Rng;
use shardkv::{Clerk, ShardKv};
use shardmaster::{Gid, NSHARDS, ShardMaster};
use std::time::Duration;
use tokio::time::{Instant, sleep};

use super::{before, kv, names};
use crate::chaos::{Cluster, DiskFate, Nodes};
use crate::scenario::{LabReport, Live, Params};

/// Replica groups.
pub const GROUPS: usize = 3;
/// Shard masters.
pub const MASTERS: usize = 3;
/// The id of the first group; the others follow.
const FIRST_GID: Gid = 100;
/// The administrator's node, which joins, leaves and moves.
const ADMIN: &str = "admin";
/// The administrator's pause between two reconfigurations: shorter than a hand-off under
/// partitions, so that moves pile up.
const RECONFIGURE_EVERY: std::ops::Range<u64> = 100..800;

/// Group `g`'s id and replica names.
fn group(g: usize, replicas: usize) -> (Gid, Vec<String>) {
    (FIRST_GID + g as Gid, names(&format!("g{g}s"), replicas))
}

struct ShardCluster {
    nodes: Nodes,
    /// Each group's replica names, then the masters' names.
    sets: Vec<Vec<String>>,
    replicas: Vec<ShardKv>,
}

impl Cluster for ShardCluster {
    fn nodes(&self) -> &Nodes {
        &self.nodes
    }
    fn crash(&self, i: usize) {
        self.replicas[i].kill();
    }
    fn restart(&self, i: usize, _: DiskFate) {
        crate::chaos::no_restart("shardkv", &self.nodes.servers[i]);
    }
    /// Two sides; each group's majority (and the masters') on a random one, its minority on
    /// the other; each client and the administrator on a random side.
    fn partition(&self, net: &Network) -> Vec<Vec<String>> {
        let mut sides = vec![Vec::new(), Vec::new()];
        for set in &self.sets {
            // `split` gives the majority, then the minority.
            let mut split = crate::chaos::split(net, set, &[]).into_iter();
            let majority = net.rng().random_range(0..2);
            sides[majority].extend(split.next().unwrap_or_default());
            sides[1 - majority].extend(split.next().unwrap_or_default());
        }
        for b in &self.nodes.bystanders {
            sides[net.rng().random_range(0..2)].push(b.clone());
        }
        sides
    }
}

/// Runs the shardkv workload.
pub async fn run(net: &Network, params: &Params, live: &Live) -> LabReport {
    let masters = names("sm", MASTERS);
    let _masters: Vec<ShardMaster> = (0..MASTERS)
        .map(|i| ShardMaster::start(net, &masters, i))
        .collect();
    let groups: Vec<(Gid, Vec<String>)> = (0..GROUPS).map(|g| group(g, params.servers)).collect();
    let replicas: Vec<ShardKv> = (groups.iter())
        .flat_map(|(gid, names)| {
            (0..names.len()).map(|j| ShardKv::start(net, *gid, &masters, names, j))
        })
        .collect();
    let admin = shardmaster::Clerk::new(net, ADMIN, &masters);
    let clients = names("client", params.clients);
    let servers: Vec<String> = groups.iter().flat_map(|(_, s)| s.clone()).collect();
    let mut sets: Vec<Vec<String>> = groups.iter().map(|(_, s)| s.clone()).collect();
    sets.push(masters.clone());
    // The masters are neither servers nor bystanders: partitions split them as a set.
    let cluster = ShardCluster {
        nodes: Nodes::new(&servers, &clients, &[ADMIN]),
        sets,
        replicas,
    };
    let deadline = Instant::now() + params.duration;
    let mover = tokio::task::spawn_local(reconfigure(
        net.clone(),
        live.clone(),
        admin,
        groups,
        deadline,
    ));
    let report = kv::run(net, params, live, &cluster, |i| {
        Clerk::new(net, &clients[i], &masters)
    })
    .await;
    mover.abort();
    report
}

/// The administrator: joins every group, then until `deadline` moves a shard to a random
/// group, or makes a group leave (one at a time) and join again, pausing
/// [`RECONFIGURE_EVERY`] between them. Each change is a band on the picture, from its call
/// to its answer.
async fn reconfigure(
    net: Network,
    live: Live,
    mut admin: shardmaster::Clerk,
    groups: Vec<(Gid, Vec<String>)>,
    deadline: Instant,
) {
    // The groups join first, while the clients already wait for a group to serve them (a
    // network that loses everything then blocks the clients, who are reported as such).
    for (gid, servers) in &groups {
        let start = net.now();
        let made = admin.join(*gid, servers).await;
        let num = made.map_or_else(|e| e.to_string(), |c| c.num.to_string());
        live.fault_span(start, net.now(), format!("join {gid} (config {num})"));
    }
    let mut away: Option<usize> = None;
    while before(deadline) {
        let start = net.now();
        let label = match (net.rng().random_range(0..3), away) {
            (0, None) => {
                let g = net.rng().random_range(0..groups.len());
                let config = admin.leave(groups[g].0).await;
                away = Some(g);
                format!("leave {} (config {})", groups[g].0, config.num)
            }
            (0, Some(g)) => {
                let made = admin.join(groups[g].0, &groups[g].1).await;
                away = None;
                let num = made.map_or_else(|e| e.to_string(), |c| c.num.to_string());
                format!("join {} (config {num})", groups[g].0)
            }
            _ => {
                let present: Vec<usize> = (0..groups.len()).filter(|&g| Some(g) != away).collect();
                let gid = groups[present[net.rng().random_range(0..present.len())]].0;
                let shard = net.rng().random_range(0..NSHARDS);
                let made = admin.move_shard(shard, gid).await;
                let num = made.map_or_else(|e| e.to_string(), |c| c.num.to_string());
                format!("move shard {shard} to {gid} (config {num})")
            }
        };
        live.fault_span(start, net.now(), label);
        let pause = net.rng().random_range(RECONFIGURE_EVERY);
        sleep(Duration::from_millis(pause)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Lab;
    use crate::scenario;

    /// A run keeps every key linearizable while the administrator reconfigures, the keys
    /// fall on every shard, and each reconfiguration is drawn as a band.
    #[test]
    fn a_run_reconfigures_and_checks_keys_on_every_shard() {
        let params = Params {
            seed: 4,
            servers: 3,
            clients: 4,
            duration: Duration::from_secs(4),
            drop: 0.1,
            long_delays: false,
            reordering: false,
            partition_every: Duration::from_secs(1),
            crash_every: Duration::ZERO,
            lose_disks: false,
        };
        let outcome = scenario::run(Lab::Shardkv, &params, false, false);
        assert_eq!(
            outcome.verdict(),
            scenario::Verdict::Passed,
            "{:?}",
            outcome
        );
        let html = outcome.history_html.expect("a picture");
        let shards: std::collections::BTreeSet<usize> = (0..NSHARDS)
            .map(<Clerk as kv::KvClerk>::key)
            .filter(|key| html.contains(&format!("<span class=\"name\">key {key}</span>")))
            .map(|key| shardkv::key2shard(&key))
            .collect();
        assert_eq!(shards.len(), NSHARDS, "keys on shards {shards:?} only");
        // Each band names the configuration its change made.
        assert!(
            html.matches(" (config ").count() >= 2,
            "reconfigurations not drawn"
        );
        assert!(outcome.faults > 0, "no partition");
    }
}
