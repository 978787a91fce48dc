//! # paxoskv: a linearizable key/value store replicated with Paxos (6.824 lab 3B, 2015)
//!
//! A few servers keep copies of a string-to-string map. A clerk sends `get`, `put` or
//! `append` to any server; the server puts the operation in the next free instance of a
//! [`paxos`] log and answers once every instance up to it has been applied. Since every
//! server applies the same log in the same order, all copies stay equal, and every
//! operation — Gets included — takes effect at its place in one total order, so the store
//! is linearizable as long as a majority of servers can talk.
//!
//! ```text
//! clerk --execute(op)--> server --start(seq, op)--> paxos log: | 0 | 1 | 2 | ... |
//!                          |<-- status(0..=seq), apply in order, done(seq) --|
//! ```
//!
//! - **Exactly once.** A clerk numbers its operations and draws an id from the simulation's
//!   RNG; a server applies an operation only if its number is above the last applied for
//!   that clerk, and remembers the last reply for a resend.
//! - **Holes.** A server that never heard how an instance ended proposes a no-op there:
//!   Paxos answers with the value already chosen, or chooses the no-op.
//! - **Memory.** A server declares each applied instance `done`; Paxos forgets it once all
//!   servers have.
//! - **One node per server.** The Paxos messages are methods of the server's own service
//!   ([`KvPaxos`]), so they share its node, its network end and its faults.
//! - **Disk.** A server saves a snapshot of its map to its node's disk before it lets Paxos
//!   forget what the snapshot covers, and its Paxos peer keeps its promises and votes there:
//!   a server restarted with its disk ([`KvServer::start`]) serves again at once.
//! - **Restart without a disk.** A crashed server may come back empty ([`KvServer::restart`]):
//!   it votes in no instance its old self may have voted in, copies the state of the others,
//!   then serves.
//!
//! The invariants each piece keeps are listed in [`server`].

mod clerk;
mod common;
mod links;
pub mod server;
pub mod storage;

pub use clerk::{CALL_TIMEOUT, Clerk};
pub use common::{ClientOp, KvEnd, KvError, KvPaxos, KvPaxosClient, KvReply, Op, OpKind, Snapshot};
pub use server::KvServer;
