//! # shardmaster: the configuration service of a sharded key/value store (6.824 lab 4A, 2015)
//!
//! A sharded store splits its keys into [`NSHARDS`] shards and gives each shard to one
//! replica group. The shard master decides which group serves which shard: it keeps a
//! numbered sequence of [`Config`]urations, and makes the next one on every `join` (a new
//! group), `leave` (a group goes) and `move` (a shard goes to a group by hand). Joins and
//! leaves spread the shards as evenly as possible while moving as few as possible
//! ([`config`]). `query(n)` returns configuration `n`, or the latest.
//!
//! The shard masters are replicated with [`paxos`], as [paxoskv] is: every operation goes
//! into the next free instance of a Paxos log, and every server applies the log in order
//! ([`server`] names the invariants). Queries go through the log too, so the latest
//! configuration reflects every operation that completed before the query was sent.
//!
//! ```text
//! clerk --execute(join 3)--> shard master --start(seq, op)--> paxos log: | 0 | 1 | ... |
//!                                 |<-- apply in order: config n -> config n+1 --|
//! ```
//!
//! [paxoskv]: https://docs.rs/paxoskv

mod clerk;
mod common;
pub mod config;
pub mod server;

pub use clerk::{CALL_TIMEOUT, Clerk, RETRY_WAIT};
pub use common::{
    ClientOp, Op, Request, ShardMasterService, ShardMasterServiceClient, ShardMasterServiceRequest,
    ShardMasterServiceResponse, SmEnd, SmError, SmReply,
};
pub use config::{Config, ConfigError, Gid, NO_GROUP, NSHARDS, Shard};
pub use server::ShardMaster;
