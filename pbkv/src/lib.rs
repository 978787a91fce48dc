//! # pbkv: a primary/backup key/value store (6.824 lab 2B, 2015)
//!
//! Servers keep a string-to-string map. The [`viewservice`] says which server is the
//! primary and which the backup; clients talk to the primary only.
//!
//! ```text
//! clerk --execute(op)--> primary --forward(view, op)--> backup
//!                          |   <------- ok ----------------|
//!                          | apply op, reply
//! new backup <--transfer(map, duplicate table)-- primary   (before the backup counts)
//! every server --ping(viewnum)--> view service             (every 100 ms)
//! ```
//!
//! - **At most once.** A clerk numbers its operations (client id from the simulation's RNG,
//!   sequence number); servers remember the last applied number per clerk, and this table
//!   travels with the map to a new backup.
//! - **Backup first.** The primary forwards each operation (its arguments) to the backup and
//!   applies it, and replies, only after the backup applied it; it acknowledges a view to
//!   the view service only once the backup holds its whole state.
//! - **No stale reads.** Gets go through the backup too, which refuses a primary whose view
//!   is over; a backup refuses clients.
//! - **Crashes.** [`PbServer::kill`] stops a server at once; [`PbServer::start`] under the same
//!   name brings it back with the copy on its node's disk, which it wrote before answering
//!   (a crash that keeps the disk is only a pause), or empty if the disk was lost
//!   ([`labrpc::Network::lose_disk`]). The view service is a single point of failure, and a
//!   store whose primary and backup both lost their state waits forever rather than serve
//!   lost data.
//!
//! The invariants are listed in [`server`].

mod clerk;
mod common;
pub mod server;
pub mod storage;

pub use clerk::{Clerk, RETRY_INTERVAL};
pub use common::{
    ClientOp, Forward, KvEnd, KvError, KvReply, Op, PbKv, PbKvClient, PbKvRequest, PbKvResponse,
    Snapshot,
};
pub use server::PbServer;
