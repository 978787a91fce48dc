//! paxoskv under chaos: servers crash and restart empty (catching up from the others before
//! they serve), partitions split them, clients on both sides.

use labrpc::Network;
use paxoskv::{Clerk, KvServer};
use std::cell::RefCell;

use super::{kv, names};
use crate::chaos::Cluster;
use crate::scenario::{LabReport, Live, Params};

struct PaxosKvCluster {
    net: Network,
    names: Vec<String>,
    clients: Vec<String>,
    servers: RefCell<Vec<KvServer>>,
}

impl Cluster for PaxosKvCluster {
    fn servers(&self) -> Vec<String> {
        self.names.clone()
    }
    fn bystanders(&self) -> Vec<String> {
        self.clients.clone()
    }
    fn crash(&self, i: usize) {
        self.servers.borrow()[i].kill();
    }
    fn restart(&self, i: usize) {
        self.servers.borrow_mut()[i] = KvServer::restart(&self.net, &self.names, i);
    }
    /// A restarted server needs answers from half of the others to catch up, and serves only
    /// then: crash again only once every server is up and serving.
    fn ready(&self) -> bool {
        self.servers.borrow().iter().all(KvServer::is_ready)
            && self.names.iter().all(|n| self.net.is_alive(n))
    }
}

/// Runs the paxoskv workload.
pub async fn run(net: &Network, params: &Params, live: &Live) -> LabReport {
    let names = names("kv", params.servers);
    let servers = (0..params.servers)
        .map(|i| KvServer::start(net, &names, i))
        .collect();
    let cluster = PaxosKvCluster {
        net: net.clone(),
        names: names.clone(),
        clients: super::names("client", params.clients),
        servers: RefCell::new(servers),
    };
    let clients = cluster.clients.clone();
    kv::run(net, params, live, &cluster, |i| {
        Clerk::new(net, &clients[i], &names)
    })
    .await
}
