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

use parking_lot::Mutex;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tarpc::server::Serve;
use tokio::task::JoinSet;

use crate::tcp::{Peer, StatusFn, TcpOptions, TcpServer};
use crate::{ClientEnd, Disk, Error, Network, SharedRng};

/// A node's view of the world it runs in: simulated or real. Cheap to clone.
#[derive(Clone)]
pub struct Node {
    name: String,
    world: World,
}

#[derive(Clone)]
enum World {
    Simulated(Network),
    Real(Arc<Real>),
}

/// A real node: a TCP server (none for a client), connections to peers, its tasks, its disk.
struct Real {
    server: Option<TcpServer>,
    options: Arc<TcpOptions>,
    peers: Mutex<BTreeMap<String, Arc<Peer>>>,
    tasks: Mutex<JoinSet<()>>,
    rng: SharedRng,
    disk: Disk,
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let world = match &self.world {
            World::Simulated(_) => "simulated",
            World::Real(_) => "real",
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

    /// A real node named `name` (the `host:port` its peers reach it at), listening on `listen`
    /// (often the same address, or `0.0.0.0` with its port), keeping its state in `disk`. Its
    /// service is served once [`Node::serve`] is called; until then calls fail with
    /// [`Error::NoReply`] and `/healthz` answers 503. Must be called inside a
    /// [`tokio::task::LocalSet`].
    pub async fn real(
        name: &str,
        listen: SocketAddr,
        options: TcpOptions,
        disk: Disk,
    ) -> Result<Node, Error> {
        let server = TcpServer::bind(listen, options.clone()).await?;
        let node = Node::real_world(name, Some(server), options, disk);
        node.set_status(Arc::new(|| serde_json::json!({})));
        Ok(node)
    }

    /// A real node that only calls others (a clerk in a client process): it listens nowhere
    /// and its disk is in memory ([`Disk::memory`]). Calling [`Node::serve`] on it panics.
    pub fn real_client(name: &str, options: TcpOptions) -> Node {
        Node::real_world(name, None, options, Disk::memory())
    }

    fn real_world(name: &str, server: Option<TcpServer>, options: TcpOptions, disk: Disk) -> Node {
        #[allow(clippy::disallowed_methods)] // a real node's choices need no seed
        let seed = rand::random();
        let real = Arc::new(Real {
            server,
            options: Arc::new(options),
            peers: Mutex::new(BTreeMap::new()),
            tasks: Mutex::new(JoinSet::new()),
            rng: SharedRng::seeded(seed),
            disk,
        });
        Node {
            name: name.to_owned(),
            world: World::Real(real),
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
            World::Real(_) => None,
        }
    }

    /// A client end from this node to the server of peer `peer`.
    pub fn client<Req, Resp>(&self, peer: &str) -> ClientEnd<Req, Resp> {
        match &self.world {
            World::Simulated(net) => net.client(&self.name, peer),
            World::Real(real) => {
                let peer = (real.peers.lock().entry(peer.to_owned()))
                    .or_insert_with(|| Arc::new(Peer::new(peer, real.options.clone())))
                    .clone();
                ClientEnd::over_tcp(peer)
            }
        }
    }

    /// Serves `server` (a tarpc `Serve`, such as `MyService.serve()`) as this node's service.
    /// In a simulation this is a new incarnation of the node (see [`Network::add_server`]).
    ///
    /// # Panics
    ///
    /// On a client node ([`Node::real_client`]), which listens nowhere.
    pub fn serve<S>(&self, server: S)
    where
        S: Serve + Clone + Send + Sync + 'static,
        S::Req: DeserializeOwned,
        S::Resp: Serialize,
    {
        match &self.world {
            World::Simulated(net) => net.add_server(&self.name, server),
            World::Real(real) => match &real.server {
                Some(tcp) => tcp.set_service(server),
                None => panic!(
                    "node {:?} is a client (Node::real_client): it cannot serve",
                    self.name
                ),
            },
        }
    }

    /// Runs `task` on this node: it stops when the node is killed.
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + 'static,
    {
        match &self.world {
            World::Simulated(net) => net.spawn(&self.name, task),
            World::Real(real) => {
                let mut tasks = real.tasks.lock();
                while tasks.try_join_next().is_some() {}
                tasks.spawn_local(task);
            }
        }
    }

    /// The node's random number generator.
    pub fn rng(&self) -> SharedRng {
        match &self.world {
            World::Simulated(net) => net.rng(),
            World::Real(real) => real.rng.clone(),
        }
    }

    /// A phase in `[0, period)`: how long a periodic task waits before its first beat, so that
    /// the beats of different nodes do not fall in lockstep (see [`Network::phase`]).
    pub fn phase(&self, period: Duration) -> Duration {
        match &self.world {
            World::Simulated(net) => net.phase(period),
            World::Real(real) => real
                .rng
                .with(|rng| crate::fault::uniform_below(rng, period)),
        }
    }

    /// The node's disk, for its current life.
    pub fn disk(&self) -> Disk {
        match &self.world {
            World::Simulated(net) => net.disk(&self.name),
            World::Real(real) => real.disk.clone(),
        }
    }

    /// Stops the node: its server stops answering and its tasks stop. In a simulation this is
    /// a crash ([`Network::kill`]); its disk keeps what was synced.
    pub fn kill(&self) {
        match &self.world {
            World::Simulated(net) => net.kill(&self.name),
            World::Real(real) => {
                if let Some(tcp) = &real.server {
                    tcp.clear_service();
                }
                let tasks = std::mem::take(&mut *real.tasks.lock());
                drop(tasks); // aborts them
            }
        }
    }

    /// Sets what a real node reports on `/status` and to a status call, beside the
    /// transport's fields and its peers (no effect in a simulation).
    pub fn set_status(&self, status: StatusFn) {
        if let World::Real(real) = &self.world
            && let Some(tcp) = &real.server
        {
            let real_weak = Arc::downgrade(real);
            tcp.set_status(Arc::new(move || {
                let mut report = status();
                if let (Some(real), Some(fields)) = (real_weak.upgrade(), report.as_object_mut())
                    && let serde_json::Value::Object(peers) = real.peer_status()
                {
                    fields.extend(peers);
                }
                report
            }));
        }
    }

    /// A real node's peers other than itself, by whether they answered in the last `window`
    /// (peers neither called nor failing in it are in neither list); `None` in a simulation.
    /// A node that calls peers and hears from none is cut off, or they are down.
    pub fn peers_heard(&self, window: Duration) -> Option<PeersHeard> {
        let World::Real(real) = &self.world else {
            return None;
        };
        let recent = |at: Option<tokio::time::Instant>| at.is_some_and(|at| at.elapsed() < window);
        let mut heard = PeersHeard::default();
        for (addr, peer) in real
            .peers
            .lock()
            .iter()
            .filter(|(addr, _)| **addr != self.name)
        {
            if recent(peer.last_reply()) {
                heard.answering.push(addr.clone());
            } else if recent(peer.last_failure()) {
                heard.failing.push(addr.clone());
            }
        }
        Some(heard)
    }

    /// A real node's TCP server (for its address and status); `None` in a simulation.
    pub fn tcp_server(&self) -> Option<&TcpServer> {
        match &self.world {
            World::Simulated(_) => None,
            World::Real(real) => real.server.as_ref(),
        }
    }

    /// How many requests this node's current server has received.
    pub fn rpc_count(&self) -> u64 {
        match &self.world {
            World::Simulated(net) => net.rpc_count(&self.name),
            World::Real(real) => real.server.as_ref().map_or(0, TcpServer::rpc_count),
        }
    }
}

/// A real node's peers, by whether they answer: see [`Node::peers_heard`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeersHeard {
    /// Peers that answered a call within the window.
    pub answering: Vec<String>,
    /// Peers that did not answer within the window although a call to them failed in it.
    pub failing: Vec<String>,
}

impl Real {
    /// `{"peers": {addr: ms since its last answer, or null}}`.
    fn peer_status(&self) -> serde_json::Value {
        let peers: serde_json::Map<String, serde_json::Value> = (self.peers.lock().iter())
            .map(|(addr, peer)| {
                let ago = peer.last_reply().map(|at| at.elapsed().as_millis() as u64);
                (addr.clone(), serde_json::json!(ago))
            })
            .collect();
        serde_json::json!({ "peers_last_answer_ms_ago": peers })
    }
}
