//! What crosses the network: clients' operations, what the primary sends its backup, the
//! errors, and the one service every server serves.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use viewservice::View;

/// The three key/value operations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
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

/// A clerk's operation, named by the clerk's id and its sequence number so that a resend of
/// a Put or Append is recognised and applied at most once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientOp {
    /// The clerk's id (random, from the simulation's RNG).
    pub client: u64,
    /// The clerk's counter: each new operation of a clerk has a higher one.
    pub seq: u64,
    /// What to do.
    pub op: Op,
}

/// An operation the primary of view `viewnum` sends its backup before applying it itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forward {
    /// The view the primary believes current.
    pub viewnum: u64,
    /// The operation, as the client sent it (its arguments, not its result).
    pub op: ClientOp,
}

/// The primary's whole state, sent to a new backup before the backup counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The view in which the receiver is the backup.
    pub view: View,
    /// The key/value map.
    pub data: BTreeMap<String, String>,
    /// The duplicate table: the highest Put/Append sequence number applied, per clerk.
    pub applied: BTreeMap<u64, u64>,
}

/// Why a server did not carry out a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvError {
    /// I am not the primary of the view I know (or, to a primary: I know a newer view than
    /// yours). The clerk asks the view service again.
    WrongServer,
    /// I am the primary but cannot serve yet: I hold no state, the view service has not yet
    /// heard me, or my backup is not (or no longer) a full copy. The clerk retries.
    NotReady,
    /// To a primary: I am not the backup holding your state for that view (I restarted, or
    /// never got the transfer). The primary transfers its state again.
    NotSynced,
}

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvError::WrongServer => f.write_str("not the primary of the current view"),
            KvError::NotReady => f.write_str("the primary is not ready to serve yet"),
            KvError::NotSynced => f.write_str("the backup does not hold the primary's state"),
        }
    }
}

impl std::error::Error for KvError {}

/// A server's answer: the value (for a Get; "" for Put and Append) or why not.
pub type KvReply = Result<String, KvError>;

/// The service of every key/value server: clients call `execute`; a primary calls its
/// backup's `forward` and `transfer`.
#[tarpc::service]
pub trait PbKv {
    /// A client's operation (only the primary carries it out).
    async fn execute(op: ClientOp) -> KvReply;
    /// The primary's operation for its backup.
    async fn forward(args: Forward) -> KvReply;
    /// The primary's state for a new backup.
    async fn transfer(snapshot: Snapshot) -> Result<(), KvError>;
}

/// A client end to a key/value server on the simulated network.
pub type KvEnd = labrpc::ClientEnd<PbKvRequest, PbKvResponse>;

// ----- what the messages say in a recorded trace (labrpc::summary) ----------------------
// An operation names its key, its client and the client's sequence number (`cseq`; `seq` is
// kept for Paxos instances in every lab).

impl Op {
    /// The key the operation is about.
    pub fn key(&self) -> &str {
        match self {
            Op::Get { key } | Op::Put { key, .. } | Op::Append { key, .. } => key,
        }
    }

    /// `get`, `put` or `append`.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Get { .. } => "get",
            Op::Put { .. } => "put",
            Op::Append { .. } => "append",
        }
    }
}

impl labrpc::Summarize for ClientOp {
    /// `append key=k1 client=3 cseq=17 value=2B/5f3a09c1`.
    fn summary(&self) -> labrpc::Summary {
        let summary = (labrpc::Summary::new(self.op.name()))
            .field("key", self.op.key())
            .field("client", self.client)
            .field("cseq", self.seq);
        match &self.op {
            Op::Get { .. } => summary,
            Op::Put { value, .. } | Op::Append { value, .. } => {
                summary.field("value", labrpc::summary::shown(value))
            }
        }
    }
}

impl labrpc::Summarize for PbKvRequest {
    fn summary(&self) -> labrpc::Summary {
        match self {
            PbKvRequest::Execute { op } => op.summary(),
            PbKvRequest::Forward { args } => {
                let op = args.op.summary();
                let summary = labrpc::Summary::new(&format!("forward {}", op.text()));
                (op.fields().iter())
                    .fold(summary, |s, (k, v)| s.field(k, v.clone()))
                    .field("view", args.viewnum)
            }
            PbKvRequest::Transfer { snapshot } => (labrpc::Summary::new("transfer"))
                .field("view", snapshot.view.viewnum)
                .field("keys", snapshot.data.len())
                .field("clients", snapshot.applied.len()),
        }
    }
}

impl labrpc::Summarize for PbKvResponse {
    fn summary(&self) -> labrpc::Summary {
        let refused =
            |e: &KvError| labrpc::Summary::new("refused").field("error", format!("{e:?}"));
        match self {
            PbKvResponse::Execute(Ok(value)) | PbKvResponse::Forward(Ok(value)) => {
                labrpc::Summary::new("ok").field("value", labrpc::summary::shown(value))
            }
            PbKvResponse::Transfer(Ok(())) => labrpc::Summary::new("ok"),
            PbKvResponse::Execute(Err(e))
            | PbKvResponse::Forward(Err(e))
            | PbKvResponse::Transfer(Err(e)) => refused(e),
        }
    }
}
