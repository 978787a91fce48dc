//! paxoskv under chaos: servers crash and restart from their disk (or, with `--lose-disks`,
//! empty, catching up from the others before they serve), partitions split them, clients on
//! both sides.

use labrpc::Network;
use paxoskv::{Clerk, KvServer};
use std::cell::RefCell;

use super::{kv, names};
use crate::chaos::{Cluster, DiskFate, Nodes};
use crate::scenario::{LabReport, Live, Params};

struct PaxosKvCluster {
    net: Network,
    nodes: Nodes,
    servers: RefCell<Vec<KvServer>>,
}

impl Cluster for PaxosKvCluster {
    fn nodes(&self) -> &Nodes {
        &self.nodes
    }
    fn crash(&self, i: usize) {
        self.servers.borrow()[i].kill();
    }
    /// With its disk a server serves at once; without, it catches up from the others first.
    fn restart(&self, i: usize, disk: DiskFate) {
        let servers = &self.nodes.servers;
        self.servers.borrow_mut()[i] = match disk {
            DiskFate::Kept => KvServer::start(&self.net, servers, i),
            DiskFate::Lost => KvServer::restart(&self.net, servers, i),
        };
    }
    /// A restarted server needs answers from half of the others to catch up, and serves only
    /// then: crash again only once every server is up and serving.
    fn ready(&self) -> bool {
        self.servers.borrow().iter().all(KvServer::is_ready)
            && self.nodes.servers.iter().all(|n| self.net.is_alive(n))
    }
}

/// Runs the paxoskv workload.
pub async fn run(net: &Network, params: &Params, live: &Live) -> LabReport {
    let names = names("kv", params.servers);
    let servers = (0..params.servers)
        .map(|i| KvServer::start(net, &names, i))
        .collect();
    let clients = super::names("client", params.clients);
    let cluster = PaxosKvCluster {
        net: net.clone(),
        nodes: Nodes::new(&names, &clients, &[]),
        servers: RefCell::new(servers),
    };
    kv::run(net, params, live, &cluster, |i| {
        Clerk::new(net, &clients[i], &names)
    })
    .await
}
