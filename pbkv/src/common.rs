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
