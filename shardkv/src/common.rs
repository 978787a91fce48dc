//! What crosses the network: the operations of a group's Paxos log, the clerk's requests,
//! the shard hand-off between groups, and the one service every shardkv server serves.

use paxos::protocol::{
    AcceptArgs, AcceptReply, DecidedArgs, DecidedReply, PrepareArgs, PrepareReply,
};
use serde::{Deserialize, Serialize};
use shardmaster::{Config, NSHARDS, Shard};
use std::collections::BTreeMap;
use std::fmt;

/// The shard of `key`: its first byte modulo [`NSHARDS`] (shard 0 for the empty key), as
/// in the lab.
pub fn key2shard(key: &str) -> Shard {
    key.as_bytes()
        .first()
        .map_or(0, |&b| usize::from(b) % NSHARDS)
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

/// A clerk's operation, named by the clerk's id and the clerk's own sequence number
/// (`cseq`; `seq` names Paxos instances), so that a resend is applied once, whichever group
/// receives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientOp {
    /// The clerk's id (random, from the simulation's RNG).
    pub client: u64,
    /// The clerk's counter: each new operation of a clerk has a higher one.
    pub cseq: u64,
    /// What to do.
    pub kind: OpKind,
}

/// The duplicate table: per clerk, the last operation applied (its `cseq`) and its reply.
/// One entry per clerk, whatever the number of operations (bounded state).
pub type DedupTable = BTreeMap<u64, (u64, String)>;

/// Shards handed from the group that had them to the group that gains them: their data and
/// the giver's duplicate table, which travel together (invariant **H2** of [`crate::server`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardData {
    /// The key/value map of each shard handed over.
    pub shards: BTreeMap<Shard, BTreeMap<String, String>>,
    /// The giver's duplicate table.
    pub dedup: DedupTable,
}

/// One entry of a group's replicated log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// A clerk's operation.
    Client(ClientOp),
    /// Move to this configuration (applied only as the next after the current one, and only
    /// once every shard gained in the current one is installed).
    Reconfigure(Config),
    /// Install shards gained in configuration `config`, fetched from their previous group.
    Install {
        /// The configuration in which the group gained them.
        config: u64,
        /// Their data and the giver's duplicate table.
        data: ShardData,
    },
    /// Nothing: proposed by a lagging server to learn what an instance holds.
    Noop,
}

/// Why a server did not carry out a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvError {
    /// The group does not serve the key's shard in its current configuration: the clerk
    /// asks the shard master again.
    WrongGroup,
    /// The group gained the shard but has not installed its data yet (or, for a fetch, the
    /// server has not moved past the configuration asked about): try again soon.
    NotReady,
    /// No Paxos agreement in time (the server may be in a minority).
    NoAgreement,
    /// A later operation of the same clerk was applied already (only a late copy of an old
    /// request gets this).
    Superseded,
}

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvError::WrongGroup => f.write_str("this group does not serve the key's shard"),
            KvError::NotReady => f.write_str("the shard's data has not arrived yet"),
            KvError::NoAgreement => f.write_str("no Paxos agreement in time"),
            KvError::Superseded => {
                f.write_str("a later operation of the same clerk was applied already")
            }
        }
    }
}

impl std::error::Error for KvError {}

/// A server's answer to a clerk: the value (for a Get; "" for Put and Append) or why not.
pub type KvReply = Result<String, KvError>;

/// A request for shards a group had in configuration `config`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchArgs {
    /// The configuration in which the receiving group served the shards (the one before the
    /// asker gained them).
    pub config: u64,
    /// The shards wanted.
    pub shards: Vec<Shard>,
}

/// The answer to a fetch: the shards and the duplicate table, once final.
pub type FetchReply = Result<ShardData, KvError>;

/// The service of a shardkv server: the Paxos messages among the replicas of its group, the
/// clerk's operations, and shard hand-off between groups.
///
/// Its first three methods are [`paxos::protocol::Paxos`]'s, in the same order and with the
/// same types, so a Paxos client's requests are this service's on the wire and the group's
/// Paxos peers reach each other through [`paxos::protocol::PaxosLinks`] (as shardmaster's do).
#[tarpc::service]
pub trait ShardKvService {
    /// Paxos phase 1, for this server's peer.
    async fn prepare(args: PrepareArgs) -> PrepareReply;
    /// Paxos phase 2.
    async fn accept(args: AcceptArgs) -> AcceptReply;
    /// Paxos decision.
    async fn decided(args: DecidedArgs) -> DecidedReply;
    /// Carries out a clerk's operation, once, through the group's log.
    async fn execute(op: ClientOp) -> KvReply;
    /// The shards this group had in a configuration it has moved past (their data is final).
    async fn fetch(args: FetchArgs) -> FetchReply;
}

/// A client end of the service.
pub type KvEnd = labrpc::ClientEnd<ShardKvServiceRequest, ShardKvServiceResponse>;

// ----- what the messages say in a recorded trace (labrpc::summary) ----------------------
// Operations name their key, shard, client and the client's `cseq`; hand-offs name the
// configuration and shards; `seq` stays the Paxos instance of the Paxos messages.

/// A value as a summary shows it: short ones as they are, long ones by size and digest.
fn shown_value(value: &str) -> String {
    if value.len() <= 16 {
        value.to_owned()
    } else {
        format!("{}B/{}", value.len(), labrpc::digest(value))
    }
}

fn shard_list<'a>(shards: impl Iterator<Item = &'a Shard>) -> String {
    shards
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

impl labrpc::Summarize for ClientOp {
    /// `append key=k1 shard=7 client=3 cseq=17 value=x`.
    fn summary(&self) -> labrpc::Summary {
        let key = self.kind.key();
        let summary = (labrpc::Summary::new(self.kind.name()))
            .field("key", key)
            .field("shard", key2shard(key))
            .field("client", self.client)
            .field("cseq", self.cseq);
        match &self.kind {
            OpKind::Get { .. } => summary,
            OpKind::Put { value, .. } | OpKind::Append { value, .. } => {
                summary.field("value", shown_value(value))
            }
        }
    }
}

impl labrpc::Summarize for ShardKvServiceRequest {
    fn summary(&self) -> labrpc::Summary {
        match self {
            ShardKvServiceRequest::Execute { op } => op.summary(),
            ShardKvServiceRequest::Fetch { args } => (labrpc::Summary::new("fetch"))
                .field("config", args.config)
                .field("shard", shard_list(args.shards.iter())),
            ShardKvServiceRequest::Prepare { args } => args.summary(),
            ShardKvServiceRequest::Accept { args } => args.summary(),
            ShardKvServiceRequest::Decided { args } => args.summary(),
        }
    }
}

impl labrpc::Summarize for ShardKvServiceResponse {
    fn summary(&self) -> labrpc::Summary {
        match self {
            ShardKvServiceResponse::Execute(Ok(value)) => {
                labrpc::Summary::new("ok").field("value", shown_value(value))
            }
            ShardKvServiceResponse::Execute(Err(e)) | ShardKvServiceResponse::Fetch(Err(e)) => {
                labrpc::Summary::new("refused").field("error", format!("{e:?}"))
            }
            ShardKvServiceResponse::Fetch(Ok(data)) => (labrpc::Summary::new("shards"))
                .field("shard", shard_list(data.shards.keys()))
                .field(
                    "keys",
                    data.shards.values().map(BTreeMap::len).sum::<usize>(),
                )
                .field("clients", data.dedup.len()),
            ShardKvServiceResponse::Prepare(reply) => reply.summary(),
            ShardKvServiceResponse::Accept(reply) => reply.summary(),
            ShardKvServiceResponse::Decided(reply) => reply.summary(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use labrpc::Summarize;

    #[test]
    fn key2shard_is_the_first_byte_mod_nshards() {
        assert_eq!(key2shard(""), 0);
        assert_eq!(key2shard("0"), usize::from(b'0') % NSHARDS);
        assert_eq!(key2shard("a-long-key"), usize::from(b'a') % NSHARDS);
    }

    #[test]
    fn summaries_name_key_shard_client_cseq_and_config() {
        let op = ClientOp {
            client: 7,
            cseq: 3,
            kind: OpKind::Append {
                key: "k1".into(),
                value: "x".into(),
            },
        };
        let summary = ShardKvServiceRequest::Execute { op }.summary();
        assert_eq!(
            summary.text(),
            "append key=k1 shard=7 client=7 cseq=3 value=x"
        );
        let fetch = ShardKvServiceRequest::Fetch {
            args: FetchArgs {
                config: 4,
                shards: vec![2, 5],
            },
        };
        let fields = fetch.summary().fields().clone();
        assert_eq!(fields["config"], 4);
        assert_eq!(fields["shard"], "2,5");
        let refused = ShardKvServiceResponse::Execute(Err(KvError::WrongGroup)).summary();
        assert_eq!(refused.fields()["error"], "WrongGroup");
    }

    #[test]
    fn errors_say_what_happened() {
        assert!(KvError::WrongGroup.to_string().contains("does not serve"));
        assert!(KvError::NotReady.to_string().contains("not arrived"));
    }
}
