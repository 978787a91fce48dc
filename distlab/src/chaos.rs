//! The fault injector of a scenario: partitions and crashes at random times drawn from the
//! simulation's generator, one fault at a time, until the scenario's duration is over; then
//! everything heals and every crashed server restarts.
//!
//! One fault at a time is deliberate: primary/backup survives one failure, not two at once,
//! and a restarted Paxos server needs the others to catch up. A lab says through [`Cluster`]
//! when it can take the next fault and how long to let it settle afterwards.

use labrpc::Network;
use rand::Rng;
use std::time::Duration;
use tokio::time::{Instant, sleep, sleep_until};

use crate::scenario::{Live, Params};

/// How often the injector asks a cluster that was not ready whether it is now.
const READY_POLL: Duration = Duration::from_millis(100);

/// The nodes of a cluster, as the injector sees them.
#[derive(Clone, Debug)]
pub struct Nodes {
    /// The server nodes: crashed, and split by partitions.
    pub servers: Vec<String>,
    /// Other nodes (clients, a master, a view service) that partitions place on either side.
    pub bystanders: Vec<String>,
}

impl Nodes {
    /// Servers `servers`; clients `clients` and the other nodes `others` as bystanders.
    pub fn new(servers: &[String], clients: &[String], others: &[&str]) -> Nodes {
        let mut bystanders = clients.to_vec();
        bystanders.extend(others.iter().map(|&o| o.to_owned()));
        Nodes {
            servers: servers.to_vec(),
            bystanders,
        }
    }
}

/// What the injector may break, as one lab sees it.
pub trait Cluster {
    /// The cluster's nodes.
    fn nodes(&self) -> &Nodes;
    /// Crashes server `i` (an index of [`Nodes::servers`]).
    fn crash(&self, i: usize);
    /// Restarts server `i` with empty state.
    fn restart(&self, i: usize);
    /// Whether the cluster can take another fault now (default: always).
    fn ready(&self) -> bool {
        true
    }
    /// Quiet time after each fault heals, before the next may start (default: none).
    fn settle(&self) -> Duration {
        Duration::ZERO
    }
    /// The groups of a partition. Default: a random majority of servers on one side, the
    /// rest on the other, and each bystander on a random side.
    fn partition(&self, net: &Network) -> Vec<Vec<String>> {
        split(net, &self.nodes().servers, &self.nodes().bystanders)
    }
}

/// A duration around `mean`: uniform in [mean/2, 3 mean/2), in whole milliseconds.
pub fn around(net: &Network, mean: Duration) -> Duration {
    let ms = (mean.as_millis() as u64).max(2);
    Duration::from_millis(net.rng().random_range(ms / 2..ms + ms / 2))
}

/// The kinds of fault.
#[derive(Clone, Copy)]
enum Fault {
    Partition,
    Crash,
}

/// Injects faults until `params.duration` has passed since the call, then heals.
pub async fn inject(net: Network, params: Params, live: Live, cluster: &dyn Cluster) {
    let end = Instant::now() + params.duration;
    loop {
        // The next fault is whichever kind comes first; a zero mean turns a kind off.
        let draw = |kind: Fault, mean: Duration| {
            (!mean.is_zero()).then(|| (around(&net, mean), kind, mean))
        };
        let next = [
            draw(Fault::Partition, params.partition_every),
            draw(Fault::Crash, params.crash_every),
        ]
        .into_iter()
        .flatten()
        .min_by_key(|(wait, _, _)| *wait);
        let Some((wait, kind, mean)) = next else {
            break;
        };
        sleep(wait).await;
        while !cluster.ready() && Instant::now() < end {
            sleep(READY_POLL).await;
        }
        if Instant::now() >= end {
            break;
        }
        let hold = around(&net, mean);
        match kind {
            Fault::Partition => {
                let groups = cluster.partition(&net);
                let groups: Vec<Vec<&str>> = groups
                    .iter()
                    .map(|g| g.iter().map(String::as_str).collect())
                    .collect();
                let groups: Vec<&[&str]> = groups.iter().map(Vec::as_slice).collect();
                net.partition(&groups);
                live.fault();
                sleep(hold).await;
                net.heal();
            }
            Fault::Crash => {
                let victim = net.rng().random_range(0..cluster.nodes().servers.len());
                cluster.crash(victim);
                live.fault();
                sleep(hold).await;
                cluster.restart(victim);
            }
        }
        sleep(cluster.settle()).await;
    }
    sleep_until(end).await;
    net.heal();
}

/// Shuffles `servers`, puts a majority of them in the first group and the rest in the second,
/// and each of `bystanders` in a random group.
pub fn split(net: &Network, servers: &[String], bystanders: &[String]) -> Vec<Vec<String>> {
    let mut rng = net.rng();
    let mut servers = servers.to_vec();
    for i in (1..servers.len()).rev() {
        servers.swap(i, rng.random_range(0..=i));
    }
    let minority = servers.split_off(servers.len() / 2 + 1);
    let mut groups = vec![servers, minority];
    for b in bystanders {
        groups[rng.random_range(0..2)].push(b.clone());
    }
    groups
}
