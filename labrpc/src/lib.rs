//! # labrpc: a deterministic, virtual-time, unreliable network for tarpc services
//!
//! Every lab of this library (MapReduce, primary/backup, Paxos) runs its servers on this
//! network. It does what Go's 6.824 `labrpc` does — lose, delay and reorder messages, cut
//! servers off — but on a virtual clock and from one seed, so a test of a minute of
//! simulated heartbeats takes milliseconds and a failure replays exactly.
//!
//! ## The pieces
//!
//! - A **service** is a `#[tarpc::service]` trait and a **server** its implementation, exactly
//!   as for tarpc over TCP. [`Network::add_server`] starts one on a named **node**.
//! - A **client end** ([`ClientEnd`], from [`Network::client`]) belongs to a node and points at
//!   a server's node. Wrap it in the generated client: `KvClient::from(end)`. On TCP,
//!   [`ClientEnd::connect_tcp`] and [`tcp::serve`] run the same code for real.
//! - A **node** ([`Node`]) is what lab code holds: its name, client ends to named peers, its
//!   service, tasks, randomness and disk, in the simulation ([`Node::simulated`]) or in a real
//!   process on TCP ([`Node::real`]), with the same protocol code in both.
//! - Every request and reply is **serialized** (postcard) on send and decoded on delivery, so
//!   nodes share no memory and bytes are counted. Malformed bytes, unknown methods and
//!   messages over [`fault::MAX_MESSAGE_BYTES`] come back to the caller as an [`Error`]; the
//!   server keeps serving.
//! - **Faults** ([`fault`]): a small jitter on every message (on by default; off with
//!   [`Faults::exact`]), an unreliable network (lost requests and replies, delays), long
//!   delays, long reordering, unreliable servers (Go's `setunreliable`), partitions, one-way
//!   cuts, deaf nodes, disabled ends, killed nodes and restarted servers. A killed node's
//!   tasks stop at once; a restarted server is a new *incarnation* that never answers a
//!   request sent to the old one. Links and liveness
//!   are checked when a request is sent, when it is delivered and when its handler's reply
//!   leaves the server (a reply then held back by long reordering is already on its way, as
//!   in Go's labrpc).
//! - A **call** returns `Result<_, Error>`. As in Go, a lost request and a lost reply look the
//!   same: [`Error::NoReply`]. tarpc clients return `tarpc::client::RpcError`;
//!   `Error::from` recovers the labrpc error from it.
//! - A recorded **trace** ([`trace`]) says what every message carries ([`Summarize`]) and
//!   what the protocol did: lab code logs with `tracing`'s macros, and in a simulation
//!   [`Recorder`] stamps each event with virtual time and node.
//! - One **seed** drives a [`SharedRng`] that makes every random choice; [`sim::run`] runs a
//!   test body on a paused (virtual-time) current-thread runtime, prints the seed and a
//!   replay command when it fails, and can check that a seed replays the same **trace**.
//!
//! ## Example
//!
//! ```
//! use labrpc::{Error, Network};
//! use tarpc::context::Context;
//!
//! #[tarpc::service]
//! trait Echo {
//!     async fn echo(text: String) -> String;
//! }
//!
//! // What its messages say in a recorded trace (here their Debug form; see `summary`).
//! impl labrpc::Summarize for EchoRequest {}
//! impl labrpc::Summarize for EchoResponse {}
//!
//! #[derive(Clone)]
//! struct EchoServer;
//!
//! impl Echo for EchoServer {
//!     async fn echo(self, _: Context, text: String) -> String {
//!         text
//!     }
//! }
//!
//! labrpc::sim::run(|net: Network| async move {
//!     net.add_server("server", EchoServer.serve());
//!     let client = EchoClient::from(net.client("client", "server"));
//!     let reply = client.echo(labrpc::context(), "hi".into()).await;
//!     assert_eq!(reply.map_err(Error::from), Ok("hi".to_string()));
//!
//!     net.partition(&[&["client"], &["server"]]);
//!     let lost = client.echo(labrpc::context(), "hello?".into()).await;
//!     assert_eq!(lost.map_err(Error::from), Err(Error::NoReply));
//! });
//! ```
//!
//! Everything runs inside the simulation's [`tokio::task::LocalSet`]: server handlers need
//! not be `Send`. [`sim`] lists the rules that keep a simulation deterministic.

pub mod client;
pub mod disk;
mod error;
pub mod fault;
mod network;
pub mod node;
pub mod recorder;
mod rng;
pub mod sim;
pub mod summary;
pub mod tcp;
pub mod trace;
mod wire;

pub use client::ClientEnd;
pub use disk::{Disk, DiskError};
pub use error::Error;
pub use fault::{Faults, Probability};
pub use network::{Network, Stats};
pub use node::{Node, PeersHeard};
pub use recorder::Recorder;
pub use rng::SharedRng;
pub use summary::{Summarize, Summary, digest};

/// A tarpc context for a call through labrpc.
///
/// tarpc keeps a deadline in wall-clock time, which neither follows virtual time nor keeps a
/// run deterministic. labrpc ignores it in simulation and sets it a day away for TCP, where
/// the client end's own timeout (on tokio's clock) applies instead.
#[allow(clippy::disallowed_methods)] // tarpc's deadline is a std Instant; it is never compared
pub fn context() -> tarpc::context::Context {
    let mut ctx = tarpc::context::Context::current();
    ctx.deadline = std::time::Instant::now() + std::time::Duration::from_secs(24 * 60 * 60);
    ctx
}
