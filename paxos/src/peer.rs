//! [`Peer`]: the application's handle on one Paxos peer, and the RPC server around it.

use labrpc::Node;
use parking_lot::Mutex;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use tarpc::context::Context;

use crate::acceptor::State;
use crate::proposer;
use crate::protocol::{
    AcceptArgs, AcceptReply, Bytes, DecidedArgs, DecidedReply, Paxos, PaxosLinks, PrepareArgs,
    PrepareReply, Seq, Transport,
};

/// What a value must be to be agreed on: anything serde can carry (it crosses the network).
pub trait Value: Serialize + DeserializeOwned + Send + Sync + 'static {}

impl<T: Serialize + DeserializeOwned + Send + Sync + 'static> Value for T {}

/// What a peer knows about an instance (Go's `Fate` and value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status<V> {
    /// The instance is decided, on this value.
    Decided(V),
    /// Not decided yet, as far as this peer knows.
    Pending,
    /// The instance is below `min()`: it was decided and then forgotten.
    Forgotten,
}

/// What can go wrong when starting an agreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The value could not be serialized.
    Encode(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Encode(why) => write!(f, "cannot serialize the proposed value: {why}"),
        }
    }
}

impl std::error::Error for Error {}

/// The shared insides of a peer: its identity, links and state.
pub(crate) struct Core {
    pub(crate) me: usize,
    pub(crate) peers: Vec<String>,
    /// The node the peer runs on (its name is `peers[me]`).
    pub(crate) node: Node,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) state: Mutex<State>,
    /// Why the peer could not read its disk back, if it could not.
    damaged: Option<String>,
}

/// One Paxos peer, agreeing with the others on a sequence of values of type `V`.
///
/// Cheap to clone: clones are handles on the same peer. Every method but [`Peer::start`]'s
/// background work is local and returns at once.
pub struct Peer<V> {
    core: Arc<Core>,
    value: PhantomData<fn(V) -> V>,
}

impl<V> Clone for Peer<V> {
    fn clone(&self) -> Self {
        Peer {
            core: Arc::clone(&self.core),
            value: PhantomData,
        }
    }
}

impl<V> fmt::Debug for Peer<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Peer({})", self.core.peers[self.core.me])
    }
}

impl<V: Value> Peer<V> {
    /// Peer `me` of the peers on nodes `peers` (peer `i` runs on node `peers[i]`): serves the
    /// [`Paxos`] service on node `peers[me]` and calls the others from there.
    ///
    /// The peer keeps its acceptor's state on the node's disk ([`labrpc::Network::disk`]) and
    /// starts from what it finds there: a peer made again after its node was killed (a
    /// restart) remembers every promise, vote, decision and `done` value it answered with,
    /// and votes again at once. On an empty disk it starts fresh; a peer whose disk was lost
    /// must be told where it may have voted before ([`Peer::abstain_through`]).
    ///
    /// # Panics
    /// If `me` is not an index of `peers` (a programming error).
    pub fn new(net: &labrpc::Network, peers: &[String], me: usize) -> Peer<V> {
        Peer::on(Node::simulated(net, &peers[me]), peers, me)
    }

    /// Peer `me` of the peers named `peers`, running on `node` (whose name is `peers[me]`):
    /// serves the [`Paxos`] service on the node and calls the others from there. It keeps
    /// its acceptor's state on the node's disk, as [`Peer::new`] says.
    ///
    /// # Panics
    /// If `me` is not an index of `peers`, or `peers[me]` is not the node's name (programming
    /// errors).
    pub fn on(node: Node, peers: &[String], me: usize) -> Peer<V> {
        let links = PaxosLinks::on(&node, peers);
        let peer = Peer::on_with_transport(node.clone(), peers, me, Arc::new(links));
        node.serve(PaxosServer::new(&peer).serve());
        peer
    }

    /// Peer `me` that calls the others through `transport` and serves nothing itself: the
    /// application serves the Paxos messages on node `peers[me]` and hands them to
    /// [`Peer::on_prepare`], [`Peer::on_accept`] and [`Peer::on_decided`].
    ///
    /// # Panics
    /// If `me` is not an index of `peers` (a programming error).
    pub fn with_transport(
        net: &labrpc::Network,
        peers: &[String],
        me: usize,
        transport: Arc<dyn Transport>,
    ) -> Peer<V> {
        assert!(me < peers.len(), "peer index {me} out of range");
        Peer::on_with_transport(Node::simulated(net, &peers[me]), peers, me, transport)
    }

    /// Peer `me` on `node` (whose name is `peers[me]`) that calls the others through
    /// `transport` and serves nothing itself: the application serves the Paxos messages on
    /// the node and hands them to [`Peer::on_prepare`], [`Peer::on_accept`] and
    /// [`Peer::on_decided`].
    ///
    /// # Panics
    /// If `me` is not an index of `peers`, or `peers[me]` is not the node's name (programming
    /// errors).
    pub fn on_with_transport(
        node: Node,
        peers: &[String],
        me: usize,
        transport: Arc<dyn Transport>,
    ) -> Peer<V> {
        assert!(me < peers.len(), "peer index {me} out of range");
        assert_eq!(peers[me], node.name(), "peer {me} is not on its node");
        let (state, damaged) = State::recover(me, peers.len(), node.disk());
        Peer {
            core: Arc::new(Core {
                me,
                peers: peers.to_vec(),
                node,
                transport,
                state: Mutex::new(state),
                damaged,
            }),
            value: PhantomData,
        }
    }

    /// Starts agreement on instance `seq`, proposing `value`, and returns at once; the
    /// proposer runs as a task of this peer's node. Does nothing if the instance is already
    /// decided or forgotten here, or if this peer already proposes in it.
    pub fn start(&self, seq: Seq, value: &V) -> Result<(), Error> {
        let bytes = postcard::to_allocvec(value)
            .map(Bytes)
            .map_err(|e| Error::Encode(e.to_string()))?;
        // BEGIN SOLUTION: todo!("lab 3A: start a proposer for this instance unless one runs, or it is decided or forgotten")
        {
            let mut state = self.core.state.lock();
            if state.dead || seq < state.min() || state.decided(seq).is_some() {
                return Ok(());
            }
            state.see(seq);
            if !state.proposing.insert(seq) {
                return Ok(());
            }
        }
        let core = Arc::clone(&self.core);
        self.core.node.spawn(proposer::propose(core, seq, bytes));
        Ok(())
        // END SOLUTION
    }

    /// What this peer knows about instance `seq`. Local: it sends nothing.
    ///
    /// A decided value that does not decode as `V` (sent by a peer of another value type)
    /// is reported as pending.
    pub fn status(&self, seq: Seq) -> Status<V> {
        // BEGIN SOLUTION: todo!("lab 3A: what this peer knows of the instance: decided, pending or forgotten")
        let state = self.core.state.lock();
        if seq < state.min() {
            return Status::Forgotten;
        }
        match state.decided(seq).map(|bytes| postcard::from_bytes(bytes)) {
            Some(Ok(value)) => Status::Decided(value),
            _ => Status::Pending,
        }
        // END SOLUTION
    }

    /// Says that this peer's application no longer needs instances `<= seq`. Once every peer
    /// has said so (the news travels on the peers' messages), they are forgotten.
    pub fn done(&self, seq: Seq) {
        self.core.note_done(self.core.me, seq);
    }

    /// The highest instance this peer has heard of (`-1` at first).
    pub fn max(&self) -> Seq {
        self.core.state.lock().max()
    }

    /// One more than the lowest `done` argument over all peers, as far as this peer knows
    /// (`0` at first). Instances below are forgotten.
    pub fn min(&self) -> Seq {
        self.core.state.lock().min()
    }

    /// Crashes the peer: its proposers stop and its node is killed (see [`Node::kill`]).
    pub fn kill(&self) {
        self.core.state.lock().dead = true;
        self.core.node.kill();
    }

    /// Makes the acceptor abstain in every instance up to `seq` and vote in every instance
    /// above (`-1`, the default: vote everywhere; `Seq::MAX`: nowhere). An abstaining
    /// acceptor neither promises nor accepts; it still learns decisions and its proposer still
    /// proposes. A peer restarted without its old state abstains everywhere until it knows a
    /// bound on the instances it may have voted in before its crash, then abstains up to that
    /// bound: a forgotten promise could otherwise let two different values be chosen.
    pub fn abstain_through(&self, seq: Seq) {
        self.core.state.lock().abstain_through(seq);
    }

    /// Requests delivered to this peer's node (Go's RPC count; its own acceptor is called
    /// directly and not counted).
    pub fn rpc_count(&self) -> u64 {
        self.core.node.rpc_count()
    }

    /// How many instances this peer holds state for, and how many bytes of values (the
    /// tests' stand-in for Go's memory statistics).
    pub fn held(&self) -> (usize, usize) {
        self.core.state.lock().held()
    }

    /// This peer's index.
    pub fn me(&self) -> usize {
        self.core.me
    }

    /// Bytes on this peer's node disk: its own files, and those of an application sharing
    /// the node (paxoskv's snapshot, for one).
    pub fn disk_bytes(&self) -> u64 {
        self.core.state.lock().disk_bytes()
    }

    /// Why the peer could not read its state back from its disk when it started, if it
    /// could not: it then abstains everywhere, as a peer that lost its disk.
    pub fn damaged_disk(&self) -> Option<&str> {
        self.core.damaged.as_deref()
    }

    /// Handles a prepare from another peer (for an application serving Paxos itself). The
    /// answer comes once the promise is on disk.
    pub async fn on_prepare(&self, args: PrepareArgs) -> PrepareReply {
        self.core.on_prepare(args).await
    }

    /// Handles an accept from another peer, answering once the vote is on disk.
    pub async fn on_accept(&self, args: AcceptArgs) -> AcceptReply {
        self.core.on_accept(args).await
    }

    /// Handles a decision from another peer.
    pub async fn on_decided(&self, args: DecidedArgs) -> DecidedReply {
        self.core.on_decided(args).await
    }
}

impl Core {
    /// Records peer `from`'s `done` value outside any handler (from a reply, or our own),
    /// and syncs what that wrote in a task of the node, so that what is forgotten stays
    /// forgotten after a crash (F1) from a sync time later on.
    pub(crate) fn note_done(&self, from: usize, done: Seq) {
        let disk = {
            let mut state = self.state.lock();
            state.note_done(from, done);
            state.unanswered()
        };
        if let Some(disk) = disk {
            self.node.spawn(async move {
                let _ = disk.sync().await; // a failure: the next answer's sync retries
            });
        }
    }

    // The lock is released before the sync: other messages are handled meanwhile (D1).
    async fn on_prepare(&self, args: PrepareArgs) -> PrepareReply {
        let reply = self.state.lock().prepare(&args);
        reply.synced().await
    }

    async fn on_accept(&self, args: AcceptArgs) -> AcceptReply {
        let reply = self.state.lock().accept(&args);
        reply.synced().await
    }

    async fn on_decided(&self, args: DecidedArgs) -> DecidedReply {
        let reply = self.state.lock().decided_message(&args);
        reply.synced().await
    }
}

/// The [`Paxos`] RPC server of one peer: it hands each message to the peer's acceptor.
#[derive(Clone)]
pub struct PaxosServer {
    core: Arc<Core>,
}

impl PaxosServer {
    /// The server of `peer`.
    pub fn new<V: Value>(peer: &Peer<V>) -> PaxosServer {
        PaxosServer {
            core: Arc::clone(&peer.core),
        }
    }
}

impl Paxos for PaxosServer {
    async fn prepare(self, _: Context, args: PrepareArgs) -> PrepareReply {
        self.core.on_prepare(args).await
    }

    async fn accept(self, _: Context, args: AcceptArgs) -> AcceptReply {
        self.core.on_accept(args).await
    }

    async fn decided(self, _: Context, args: DecidedArgs) -> DecidedReply {
        self.core.on_decided(args).await
    }
}
