//! # shardkv: a sharded, fault-tolerant key/value store (6.824 lab 4B, 2015)
//!
//! Keys are split into [`NSHARDS`](shardmaster::NSHARDS) shards ([`key2shard`]: the first
//! byte modulo 10). Each shard is served by one *replica group*: a few servers that keep
//! their part of the store replicated with a [`paxos`] log, as paxoskv does. Which group
//! serves which shard is the [`shardmaster`]'s numbered configuration; every server polls it
//! (every [`POLL_INTERVAL`]) and moves its group to each new configuration *through its own
//! log*, beside the clerks' operations, so all replicas of a group switch at the same point.
//!
//! ```text
//!  clerk --query--> shard masters          group 101's log: | put | Reconfigure 4 | Install 4 | get |
//!    |                                                                      ^ fetch(3, [2, 7])
//!    +--execute(op)--> group of key2shard(key)     group 100 answers once it has applied 4
//! ```
//!
//! The invariants, kept by [`server`] (which names each where it is kept):
//!
//! - **At most one group serves a shard in any config**: a group serves a shard only once its
//!   current config gives it the shard and the shard's data is installed; the data is handed
//!   over only by a server of the old group that has applied the next config itself, after
//!   which that group applies no operation on the shard.
//! - **A shard's data and dedup state move together**: the hand-off carries the shard's map
//!   and the giver's duplicate table, installed by one log entry, so an operation applied by
//!   the old group is recognised as a duplicate by the new one.
//! - **Configs apply in order**: a group moves from config `n` only to `n + 1`, and only once
//!   every shard it gained in `n` is installed.
//!
//! Together: each operation takes effect exactly once (a clerk's id and `cseq`), and the
//! store is linearizable per key, across moves. A group that does not serve a key's shard
//! answers [`KvError::WrongGroup`]; the clerk then asks the shard master again.

mod clerk;
mod common;
pub mod server;

pub use clerk::{CALL_TIMEOUT, Clerk, RETRY_WAIT};
pub use common::{
    ClientOp, DedupTable, FetchArgs, FetchReply, KvEnd, KvError, KvReply, Op, OpKind, ShardData,
    ShardKvService, ShardKvServiceClient, key2shard,
};
pub use server::{POLL_INTERVAL, ShardKv};
