//! What crosses the network: the operations in the Paxos log, the replies, and the one
//! service every shard master serves (its own methods and the Paxos messages, on one node).

use paxos::protocol::{
    AcceptArgs, AcceptReply, DecidedArgs, DecidedReply, PrepareArgs, PrepareReply,
};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::config::{Config, ConfigError, Gid, Shard};

/// What a clerk asks of the shard master.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// A new group `gid` with `servers`: the next configuration gives it shards.
    Join {
        /// The group's id (not 0).
        gid: Gid,
        /// Its servers.
        servers: Vec<String>,
    },
    /// Group `gid` leaves: the next configuration spreads its shards over the others.
    Leave {
        /// The group's id.
        gid: Gid,
    },
    /// Shard `shard` goes to group `gid` in the next configuration.
    Move {
        /// The shard.
        shard: Shard,
        /// The group, which must be in the configuration.
        gid: Gid,
    },
    /// Configuration `num`, or the latest if `num` is negative or past the latest.
    Query {
        /// The configuration's number (`-1`: the latest).
        num: i64,
    },
}

/// One clerk operation: the request, numbered by its clerk (for exactly-once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientOp {
    /// The clerk's id.
    pub client: u64,
    /// The clerk's sequence number: one more for each operation.
    pub seq: u64,
    /// What it asks.
    pub request: Request,
}

/// An entry of the Paxos log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// A clerk's operation.
    Client(ClientOp),
    /// Fills a hole in the log (a server that never heard how an instance ended proposes
    /// one; Paxos answers with the value already chosen, if any).
    Noop,
}

/// Why the shard master did not carry out an operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SmError {
    /// The operation makes no sense (a move to an unknown group, a shard out of range,
    /// group id 0). It was applied, as a no-op: resending it gives the same answer.
    Refused(ConfigError),
    /// No Paxos agreement in time (the server may be in a minority): try another.
    NoAgreement,
    /// A later operation of the same clerk was applied already.
    Superseded,
}

impl fmt::Display for SmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SmError::Refused(e) => write!(f, "refused: {e}"),
            SmError::NoAgreement => f.write_str("no Paxos agreement in time"),
            SmError::Superseded => {
                f.write_str("a later operation of the same clerk was applied already")
            }
        }
    }
}

impl std::error::Error for SmError {}

/// The answer to an operation: the configuration it made (join, leave, move) or asked for
/// (query).
pub type SmReply = Result<Config, SmError>;

/// The shard master's service: the Paxos messages among the servers, and clerk operations.
///
/// Its first three methods are [`paxos::protocol::Paxos`]'s, in the same order and with the same
/// types, so a Paxos client's requests are this service's on the wire: a server's Paxos
/// peer reaches the others through [`paxos::protocol::PaxosLinks`], and the messages share the
/// server's node (a node serves one service). `tests/wire.rs` checks the correspondence.
#[tarpc::service]
pub trait ShardMasterService {
    /// Paxos phase 1, for this server's peer.
    async fn prepare(args: PrepareArgs) -> PrepareReply;
    /// Paxos phase 2.
    async fn accept(args: AcceptArgs) -> AcceptReply;
    /// Paxos decision.
    async fn decided(args: DecidedArgs) -> DecidedReply;
    /// Carries out a clerk's operation, once, through the Paxos log.
    async fn execute(op: ClientOp) -> SmReply;
}

/// A client end to a shard master.
pub type SmEnd = labrpc::ClientEnd<ShardMasterServiceRequest, ShardMasterServiceResponse>;

// ----- what the messages say in a recorded trace (labrpc::summary) ----------------------

impl labrpc::Summarize for ClientOp {
    /// `join gid=3 client=5 cseq=2`, `query num=-1 client=5 cseq=3`.
    fn summary(&self) -> labrpc::Summary {
        let summary = match &self.request {
            Request::Join { gid, servers } => (labrpc::Summary::new("join").field("gid", *gid))
                .field("servers", servers.join(",")),
            Request::Leave { gid } => labrpc::Summary::new("leave").field("gid", *gid),
            Request::Move { shard, gid } => {
                (labrpc::Summary::new("move").field("shard", *shard)).field("gid", *gid)
            }
            Request::Query { num } => labrpc::Summary::new("query").field("num", *num),
        };
        summary.field("client", self.client).field("cseq", self.seq)
    }
}

impl labrpc::Summarize for ShardMasterServiceRequest {
    fn summary(&self) -> labrpc::Summary {
        match self {
            ShardMasterServiceRequest::Execute { op } => op.summary(),
            ShardMasterServiceRequest::Prepare { args } => args.summary(),
            ShardMasterServiceRequest::Accept { args } => args.summary(),
            ShardMasterServiceRequest::Decided { args } => args.summary(),
        }
    }
}

impl labrpc::Summarize for ShardMasterServiceResponse {
    fn summary(&self) -> labrpc::Summary {
        match self {
            ShardMasterServiceResponse::Execute(Ok(config)) => (labrpc::Summary::new("config")
                .field("config", config.num))
            .field("shards", format!("{:?}", config.shards)),
            ShardMasterServiceResponse::Execute(Err(e)) => {
                labrpc::Summary::new("refused").field("error", e.to_string())
            }
            ShardMasterServiceResponse::Prepare(reply) => reply.summary(),
            ShardMasterServiceResponse::Accept(reply) => reply.summary(),
            ShardMasterServiceResponse::Decided(reply) => reply.summary(),
        }
    }
}
