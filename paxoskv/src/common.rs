//! What crosses the network: the operations in the Paxos log, the clerk's requests and the
//! one service every server serves (key/value methods and Paxos messages on one node).

use paxos::protocol::{
    AcceptArgs, AcceptReply, DecidedArgs, DecidedReply, PrepareArgs, PrepareReply, Seq,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One entry of the replicated log: a client operation, or a no-op that fills a hole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// A clerk's operation.
    Client(ClientOp),
    /// Nothing: proposed by a lagging server to learn what an instance holds.
    Noop,
}

/// A clerk's operation, named by the clerk's id and the clerk's sequence number so that a
/// resend is recognised and applied once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientOp {
    /// The clerk's id (random, from the simulation's RNG).
    pub client: u64,
    /// The clerk's counter: each new operation of a clerk has a higher one.
    pub seq: u64,
    /// What to do.
    pub kind: OpKind,
}

/// The three key/value operations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpKind {
    /// Read `key` ("" if absent).
    Get {
        /// The key.
        key: String,
    },
    /// Set `key` to `value`.
    Put {
        /// The key.
        key: String,
        /// The new value.
        value: String,
    },
    /// Append `value` to `key`'s value ("" if absent).
    Append {
        /// The key.
        key: String,
        /// What to append.
        value: String,
    },
}

/// Why a server did not carry out an operation; the clerk then tries another server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvError {
    /// The server was restarted and has not caught up yet.
    NotReady,
    /// No agreement in time (the server may be in a minority).
    NoAgreement,
    /// The server's log reached a point it can no longer learn (it must be restarted).
    Lost,
    /// The clerk has since sent a later operation, so this one was applied and its reply
    /// is no longer kept (only a late, resent copy of an old request gets this).
    Superseded,
}

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvError::NotReady => f.write_str("the server is catching up after a restart"),
            KvError::NoAgreement => f.write_str("no Paxos agreement in time"),
            KvError::Lost => f.write_str("the server fell behind what the others remember"),
            KvError::Superseded => {
                f.write_str("a later operation of the same clerk was applied already")
            }
        }
    }
}

impl std::error::Error for KvError {}

/// A server's answer to a clerk: the value (for a Get; "" for Put and Append) or why not.
pub type KvReply = Result<String, KvError>;

/// A server's state, as a restarted server copies it from another.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Whether the server is serving (a restarting server's snapshot is useless).
    pub ready: bool,
    /// The next log instance the state does not include.
    pub next: Seq,
    /// The highest Paxos instance the server heard of.
    pub max: Seq,
    /// The key/value map.
    pub data: BTreeMap<String, String>,
    /// The duplicate table: per clerk, its last applied sequence number and reply.
    pub last: BTreeMap<u64, (u64, String)>,
}

/// The service of a paxoskv server: the clerk's operations, the Paxos messages between
/// servers (a node serves one service, so both share it), and state transfer.
#[tarpc::service]
pub trait KvPaxos {
    /// Carries out a clerk's operation through the log.
    async fn execute(op: ClientOp) -> KvReply;
    /// Paxos phase 1 (see [`paxos::Peer::on_prepare`]).
    async fn prepare(args: PrepareArgs) -> PrepareReply;
    /// Paxos phase 2.
    async fn accept(args: AcceptArgs) -> AcceptReply;
    /// A Paxos decision.
    async fn decided(args: DecidedArgs) -> DecidedReply;
    /// The server's state, for a restarted server.
    async fn snapshot() -> Snapshot;
}

/// A client end of the service.
pub type KvEnd = labrpc::ClientEnd<KvPaxosRequest, KvPaxosResponse>;

// ----- what the messages say in a recorded trace (labrpc::summary) ----------------------
// An operation names its key, its client and the client's sequence number (`cseq`); `seq` is
// the Paxos instance, as in the Paxos messages this service carries too.

impl OpKind {
    /// The key the operation is about.
    pub fn key(&self) -> &str {
        match self {
            OpKind::Get { key } | OpKind::Put { key, .. } | OpKind::Append { key, .. } => key,
        }
    }

    /// `get`, `put` or `append`.
    pub fn name(&self) -> &'static str {
        match self {
            OpKind::Get { .. } => "get",
            OpKind::Put { .. } => "put",
            OpKind::Append { .. } => "append",
        }
    }
}

impl labrpc::Summarize for ClientOp {
    /// `append key=k1 client=3 cseq=17 value=x`.
    fn summary(&self) -> labrpc::Summary {
        let summary = (labrpc::Summary::new(self.kind.name()))
            .field("key", self.kind.key())
            .field("client", self.client)
            .field("cseq", self.seq);
        match &self.kind {
            OpKind::Get { .. } => summary,
            OpKind::Put { value, .. } | OpKind::Append { value, .. } => {
                summary.field("value", labrpc::summary::shown(value))
            }
        }
    }
}

impl labrpc::Summarize for KvPaxosRequest {
    fn summary(&self) -> labrpc::Summary {
        match self {
            KvPaxosRequest::Execute { op } => op.summary(),
            KvPaxosRequest::Prepare { args } => args.summary(),
            KvPaxosRequest::Accept { args } => args.summary(),
            KvPaxosRequest::Decided { args } => args.summary(),
            KvPaxosRequest::Snapshot {} => labrpc::Summary::new("snapshot?"),
        }
    }
}

impl labrpc::Summarize for KvPaxosResponse {
    fn summary(&self) -> labrpc::Summary {
        match self {
            KvPaxosResponse::Execute(Ok(value)) => {
                labrpc::Summary::new("ok").field("value", labrpc::summary::shown(value))
            }
            KvPaxosResponse::Execute(Err(e)) => {
                labrpc::Summary::new("refused").field("error", format!("{e:?}"))
            }
            KvPaxosResponse::Prepare(reply) => reply.summary(),
            KvPaxosResponse::Accept(reply) => reply.summary(),
            KvPaxosResponse::Decided(reply) => reply.summary(),
            KvPaxosResponse::Snapshot(s) => (labrpc::Summary::new("snapshot"))
                .field("ready", s.ready)
                .field("next", s.next)
                .field("keys", s.data.len()),
        }
    }
}
