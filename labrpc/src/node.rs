//! A node's environment: everything protocol code gets from the world it runs in.
//!
//! A lab server or clerk never holds a [`Network`] or a socket. It holds a [`Node`]: its own
//! name, client ends to named peers, a way to serve its service, to run background tasks, to
//! draw random numbers, and its disk. In a simulation the node is one of the network's named
//! nodes ([`Node::simulated`]); in a real process it listens on TCP and its peers are named by
//! address ([`Node::real`]). The protocol code is the same in both worlds.
//!
//! | | simulated | real |
//! |---|---|---|
//! | name, peers | node names of the [`Network`] | `host:port` addresses |
//! | [`Node::client`] | [`Network::client`] | a TCP connection, made on first use and remade after a failure |
//! | [`Node::serve`] | [`Network::add_server`] | answers on the node's listening socket |
//! | [`Node::spawn`] | [`Network::spawn`] (killed with the node) | a local task (stopped by [`Node::kill`]) |
//! | [`Node::rng`] | the simulation's seeded generator | a generator seeded from the operating system |
//! | [`Node::disk`] | the node's simulated disk | a directory |
//! | time | tokio's clock: virtual | tokio's clock: real |

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::time::Duration;
use tarpc::server::Serve;

use crate::{ClientEnd, Disk, Network, SharedRng};

/// A node's view of the world it runs in: simulated or real. Cheap to clone.
#[derive(Clone)]
pub struct Node {
    name: String,
    world: World,
}

#[derive(Clone)]
enum World {
    Simulated(Network),
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let world = match &self.world {
            World::Simulated(_) => "simulated",
        };
        write!(f, "Node({:?}, {world})", self.name)
    }
}

impl Node {
    /// Node `name` of the simulated network `net`.
    pub fn simulated(net: &Network, name: &str) -> Node {
        Node {
            name: name.to_owned(),
            world: World::Simulated(net.clone()),
        }
    }

    /// This node's name: how its peers address it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The simulated network this node is on, if it is simulated.
    pub fn network(&self) -> Option<&Network> {
        match &self.world {
            World::Simulated(net) => Some(net),
        }
    }

    /// A client end from this node to the server of peer `peer`.
    pub fn client<Req, Resp>(&self, peer: &str) -> ClientEnd<Req, Resp> {
        match &self.world {
            World::Simulated(net) => net.client(&self.name, peer),
        }
    }

    /// Serves `server` (a tarpc `Serve`, such as `MyService.serve()`) as this node's service.
    /// In a simulation this is a new incarnation of the node (see [`Network::add_server`]).
    pub fn serve<S>(&self, server: S)
    where
        S: Serve + Clone + Send + Sync + 'static,
        S::Req: DeserializeOwned,
        S::Resp: Serialize,
    {
        match &self.world {
            World::Simulated(net) => net.add_server(&self.name, server),
        }
    }

    /// Runs `task` on this node: it stops when the node is killed.
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + 'static,
    {
        match &self.world {
            World::Simulated(net) => net.spawn(&self.name, task),
        }
    }

    /// The node's random number generator.
    pub fn rng(&self) -> SharedRng {
        match &self.world {
            World::Simulated(net) => net.rng(),
        }
    }

    /// A phase in `[0, period)`: how long a periodic task waits before its first beat, so that
    /// the beats of different nodes do not fall in lockstep (see [`Network::phase`]).
    pub fn phase(&self, period: Duration) -> Duration {
        match &self.world {
            World::Simulated(net) => net.phase(period),
        }
    }

    /// The node's disk, for its current life.
    pub fn disk(&self) -> Disk {
        match &self.world {
            World::Simulated(net) => net.disk(&self.name),
        }
    }

    /// Stops the node: its server stops answering and its tasks stop. In a simulation this is
    /// a crash ([`Network::kill`]); its disk keeps what was synced.
    pub fn kill(&self) {
        match &self.world {
            World::Simulated(net) => net.kill(&self.name),
        }
    }

    /// How many requests this node's current server has received.
    pub fn rpc_count(&self) -> u64 {
        match &self.world {
            World::Simulated(net) => net.rpc_count(&self.name),
        }
    }
}
