//! pbkv under chaos: key/value servers crash and restart (from their disk, or empty with
//! `--lose-disks`) or are cut off from everyone, one at a time, each time only once the view
//! service has a primary and a backup that acknowledged the view; the view service itself
//! stays up (it is the single point of failure of this design).

use labrpc::Network;
use pbkv::{Clerk, PbServer};
use rand::Rng;
use std::time::Duration;
use viewservice::{DEAD_TIME, PING_INTERVAL, ViewServer};

use super::{kv, names};
use crate::chaos::{Cluster, DiskFate, Nodes};
use crate::scenario::{LabReport, Live, Params};

/// The view server's node.
const VS: &str = "vs";

/// Quiet time after a fault heals: long enough for the view service to see its whole effect
/// (declare a silent server dead, take a restarted one back) before the next one.
const SETTLE: Duration =
    Duration::from_millis(DEAD_TIME.as_millis() as u64 + 2 * PING_INTERVAL.as_millis() as u64);

struct PbCluster {
    net: Network,
    vs: ViewServer,
    nodes: Nodes,
}

impl Cluster for PbCluster {
    fn nodes(&self) -> &Nodes {
        &self.nodes
    }
    fn crash(&self, i: usize) {
        self.net.kill(&self.nodes.servers[i]);
    }
    /// The server starts from what its disk holds: its copy, or nothing if the disk was lost.
    fn restart(&self, i: usize, _disk: DiskFate) {
        PbServer::start(&self.net, &self.nodes.servers[i], VS);
    }
    /// Primary/backup survives one failure at a time: fault only a pair whose view the
    /// primary has acknowledged, so that the backup can take over.
    fn ready(&self) -> bool {
        let view = self.vs.view();
        view.primary.is_some() && view.backup.is_some() && self.vs.is_acked()
    }
    fn settle(&self) -> Duration {
        SETTLE
    }
    /// A partition here cuts one server off from everyone else, as a failed network card
    /// would; splitting the view service from both of the pair would be two failures.
    fn partition(&self, net: &Network) -> Vec<Vec<String>> {
        let Nodes {
            servers,
            bystanders,
        } = &self.nodes;
        let victim = servers[net.rng().random_range(0..servers.len())].clone();
        let rest = servers
            .iter()
            .chain(bystanders)
            .filter(|n| **n != victim)
            .cloned()
            .collect();
        vec![vec![victim], rest]
    }
}

/// Runs the pbkv workload.
pub async fn run(net: &Network, params: &Params, live: &Live) -> LabReport {
    let vs = ViewServer::start(net, VS);
    let names = names("s", params.servers);
    for name in &names {
        PbServer::start(net, name, VS);
    }
    let clients = super::names("client", params.clients);
    let cluster = PbCluster {
        net: net.clone(),
        vs,
        nodes: Nodes::new(&names, &clients, &[VS]),
    };
    kv::run(net, params, live, &cluster, |i| {
        Clerk::new(net, &clients[i], VS)
    })
    .await
}
