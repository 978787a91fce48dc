//! The messages peers exchange, the tarpc service that carries them, and the [`Transport`]
//! a proposer sends through.
//!
//! Values cross the network as opaque bytes (the postcard encoding of the application's
//! value): an acceptor never needs to understand a value, only to keep and return it, and
//! counting the bytes it holds is then exact.

use futures::FutureExt;
use futures::future::LocalBoxFuture;
use labrpc::{Summarize, Summary};
use serde::{Deserialize, Serialize};

/// An instance number: the position of one agreement in the sequence. `-1` means "none", as
/// in the Go lab (`max()` and `done` start there).
pub type Seq = i64;

/// A value as it crosses the network: the postcard encoding of the application's value.
///
/// Serialized as one byte string (not as a sequence of numbers, which is what serde does
/// with a plain `Vec<u8>`), so a megabyte value costs one copy, not a million calls.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Bytes(pub Vec<u8>);

impl std::ops::Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Serialize for Bytes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Bytes, D::Error> {
        deserializer.deserialize_byte_buf(BytesVisitor)
    }
}

/// Accepts a byte string in whichever form the format hands it over.
struct BytesVisitor;

impl<'de> serde::de::Visitor<'de> for BytesVisitor {
    type Value = Bytes;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a byte string")
    }

    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Bytes, E> {
        Ok(Bytes(v.to_vec()))
    }

    fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Bytes, E> {
        Ok(Bytes(v))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Bytes, A::Error> {
        let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
        while let Some(byte) = seq.next_element()? {
            bytes.push(byte);
        }
        Ok(Bytes(bytes))
    }
}

/// A proposal number. Ballots are ordered by round, then by peer index, so two peers never
/// use the same ballot: peer `p` only ever proposes with `peer == p`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Ballot {
    /// Grows each time a proposer retries; a proposer picks a round above any it has seen.
    pub round: u64,
    /// The index of the proposing peer.
    pub peer: u32,
}

impl Ballot {
    /// The ballot below every real one: what an acceptor has promised before any prepare.
    pub const ZERO: Ballot = Ballot { round: 0, peer: 0 };
}

/// Phase 1a: "promise to ignore ballots below `ballot` in instance `seq`, and tell me what
/// you accepted".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrepareArgs {
    /// The instance.
    pub seq: Seq,
    /// The proposer's ballot.
    pub ballot: Ballot,
    /// The proposer's index (whose `done` value follows).
    pub from: usize,
    /// The proposer's highest `done` argument, piggybacked (`-1` if none).
    pub done: Seq,
}

/// What an acceptor answers to a prepare.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PrepareOutcome {
    /// Phase 1b: the acceptor promised `ballot`; here is the highest proposal it accepted.
    Promise {
        /// `(n_a, v_a)`: the highest-ballot proposal accepted in this instance, if any.
        accepted: Option<(Ballot, Bytes)>,
    },
    /// The acceptor already promised a higher ballot (returned, so the proposer can skip past).
    Reject {
        /// The acceptor's promise `n_p`.
        promised: Ballot,
    },
    /// The acceptor knows the instance is decided: here is the value.
    Decided(Bytes),
    /// The instance is below every peer's `done`: it was forgotten.
    Forgotten,
    /// The acceptor does not vote in this instance (a restarted peer that may have voted in
    /// it before its crash and no longer remembers how).
    Abstain,
}

/// The reply to a prepare.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrepareReply {
    /// The acceptor's answer.
    pub outcome: PrepareOutcome,
    /// The acceptor's highest `done` argument, piggybacked.
    pub done: Seq,
}

/// Phase 2a: "accept `value` with `ballot` in instance `seq`".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptArgs {
    /// The instance.
    pub seq: Seq,
    /// The proposer's ballot (one that a majority promised).
    pub ballot: Ballot,
    /// The value: the one accepted with the highest ballot among the promises, or the
    /// proposer's own if none had accepted anything.
    pub value: Bytes,
    /// The proposer's index.
    pub from: usize,
    /// The proposer's highest `done` argument.
    pub done: Seq,
}

/// What an acceptor answers to an accept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AcceptOutcome {
    /// Phase 2b: the acceptor accepted the proposal.
    Accepted,
    /// The acceptor promised a higher ballot meanwhile.
    Reject {
        /// The acceptor's promise `n_p`.
        promised: Ballot,
    },
    /// The instance is decided: here is the value.
    Decided(Bytes),
    /// The instance was forgotten.
    Forgotten,
    /// The acceptor does not vote in this instance (see [`PrepareOutcome::Abstain`]).
    Abstain,
}

/// The reply to an accept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptReply {
    /// The acceptor's answer.
    pub outcome: AcceptOutcome,
    /// The acceptor's highest `done` argument.
    pub done: Seq,
}

/// "Instance `seq` is decided: the value is `value`."
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecidedArgs {
    /// The instance.
    pub seq: Seq,
    /// The chosen value.
    pub value: Bytes,
    /// The sender's index.
    pub from: usize,
    /// The sender's highest `done` argument.
    pub done: Seq,
}

/// The reply to a decided message: only the receiver's `done`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecidedReply {
    /// The receiver's highest `done` argument.
    pub done: Seq,
}

/// The Paxos service every peer serves (when it has its node to itself; see
/// [`Transport`] for sharing a node with another service).
#[tarpc::service]
pub trait Paxos {
    /// Phase 1: prepare.
    async fn prepare(args: PrepareArgs) -> PrepareReply;
    /// Phase 2: accept.
    async fn accept(args: AcceptArgs) -> AcceptReply;
    /// Phase 3: the decision, to every peer.
    async fn decided(args: DecidedArgs) -> DecidedReply;
}

/// A client end of the Paxos service.
pub type PaxosEnd = labrpc::ClientEnd<PaxosRequest, PaxosResponse>;

/// The result of a call to another peer.
pub type Call<T> = LocalBoxFuture<'static, Result<T, labrpc::Error>>;

/// How a proposer reaches the other peers.
///
/// [`crate::Peer::new`] serves the [`Paxos`] service on the peer's node and calls the others
/// through [`PaxosLinks`]. An application whose servers also serve their own RPCs on the same
/// node (a node has one server) adds the three Paxos methods to its own service, forwards them
/// to [`crate::Peer::on_prepare`] and friends, and implements this trait with its own clients;
/// see [`crate::Peer::with_transport`].
pub trait Transport: Send + Sync + 'static {
    /// Sends a prepare to peer `to`.
    fn prepare(&self, to: usize, args: PrepareArgs) -> Call<PrepareReply>;
    /// Sends an accept to peer `to`.
    fn accept(&self, to: usize, args: AcceptArgs) -> Call<AcceptReply>;
    /// Sends a decision to peer `to`.
    fn decided(&self, to: usize, args: DecidedArgs) -> Call<DecidedReply>;
}

/// The default [`Transport`]: one [`PaxosClient`] per peer (the entry for the peer itself
/// is never used: a peer calls its own acceptor directly).
pub struct PaxosLinks {
    clients: Vec<PaxosClient<PaxosEnd>>,
}

impl PaxosLinks {
    /// Client ends from node `owner` to every node in `peers`.
    pub fn new(net: &labrpc::Network, owner: &str, peers: &[String]) -> PaxosLinks {
        PaxosLinks::on(&labrpc::Node::simulated(net, owner), peers)
    }

    /// Client ends from `node` to every peer in `peers`.
    pub fn on(node: &labrpc::Node, peers: &[String]) -> PaxosLinks {
        PaxosLinks {
            clients: peers
                .iter()
                .map(|peer| PaxosClient::from(node.client(peer)))
                .collect(),
        }
    }
}

impl Transport for PaxosLinks {
    fn prepare(&self, to: usize, args: PrepareArgs) -> Call<PrepareReply> {
        let client = self.clients[to].clone();
        async move {
            client
                .prepare(labrpc::context(), args)
                .await
                .map_err(labrpc::Error::from)
        }
        .boxed_local()
    }

    fn accept(&self, to: usize, args: AcceptArgs) -> Call<AcceptReply> {
        let client = self.clients[to].clone();
        async move {
            client
                .accept(labrpc::context(), args)
                .await
                .map_err(labrpc::Error::from)
        }
        .boxed_local()
    }

    fn decided(&self, to: usize, args: DecidedArgs) -> Call<DecidedReply> {
        let client = self.clients[to].clone();
        async move {
            client
                .decided(labrpc::context(), args)
                .await
                .map_err(labrpc::Error::from)
        }
        .boxed_local()
    }
}

// ----- what the messages say in a recorded trace (labrpc::summary) ----------------------
// Every message names its instance as `seq` and its ballot as `n`, so a trace can be searched
// by instance (`jq 'select(.fields.seq == 5)'`) and the viewer can filter on it.

impl std::fmt::Display for Ballot {
    /// `(round,peer)`, as the trace shows it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "({},{})", self.round, self.peer)
    }
}

/// A value as a summary shows it: its size and digest.
fn shown(value: &Bytes) -> String {
    format!("{}B/{}", value.len(), labrpc::digest(&value.0))
}

impl Summarize for PrepareArgs {
    fn summary(&self) -> Summary {
        (Summary::new("prepare").field("seq", self.seq))
            .field("n", self.ballot.to_string())
            .field("done", self.done)
    }
}

impl Summarize for PrepareReply {
    fn summary(&self) -> Summary {
        let summary = match &self.outcome {
            PrepareOutcome::Promise { accepted: None } => Summary::new("promise"),
            PrepareOutcome::Promise {
                accepted: Some((n_a, v_a)),
            } => (Summary::new("promise").field("n_a", n_a.to_string())).field("v_a", shown(v_a)),
            PrepareOutcome::Reject { promised } => {
                Summary::new("refuse").field("n_p", promised.to_string())
            }
            PrepareOutcome::Decided(value) => Summary::new("decided").field("value", shown(value)),
            PrepareOutcome::Forgotten => Summary::new("forgotten"),
            PrepareOutcome::Abstain => Summary::new("abstain"),
        };
        summary.field("done", self.done)
    }
}

impl Summarize for AcceptArgs {
    fn summary(&self) -> Summary {
        (Summary::new("accept").field("seq", self.seq))
            .field("n", self.ballot.to_string())
            .field("value", shown(&self.value))
            .field("done", self.done)
    }
}

impl Summarize for AcceptReply {
    fn summary(&self) -> Summary {
        let summary = match &self.outcome {
            AcceptOutcome::Accepted => Summary::new("accepted"),
            AcceptOutcome::Reject { promised } => {
                Summary::new("refuse").field("n_p", promised.to_string())
            }
            AcceptOutcome::Decided(value) => Summary::new("decided").field("value", shown(value)),
            AcceptOutcome::Forgotten => Summary::new("forgotten"),
            AcceptOutcome::Abstain => Summary::new("abstain"),
        };
        summary.field("done", self.done)
    }
}

impl Summarize for DecidedArgs {
    fn summary(&self) -> Summary {
        (Summary::new("decided").field("seq", self.seq))
            .field("value", shown(&self.value))
            .field("done", self.done)
    }
}

impl Summarize for DecidedReply {
    fn summary(&self) -> Summary {
        Summary::new("ok").field("done", self.done)
    }
}

impl Summarize for PaxosRequest {
    fn summary(&self) -> Summary {
        match self {
            PaxosRequest::Prepare { args } => args.summary(),
            PaxosRequest::Accept { args } => args.summary(),
            PaxosRequest::Decided { args } => args.summary(),
        }
    }
}

impl Summarize for PaxosResponse {
    fn summary(&self) -> Summary {
        match self {
            PaxosResponse::Prepare(reply) => reply.summary(),
            PaxosResponse::Accept(reply) => reply.summary(),
            PaxosResponse::Decided(reply) => reply.summary(),
        }
    }
}
