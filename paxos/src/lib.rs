//! # paxos: agreement on a sequence of values (6.824 lab 3A, 2015)
//!
//! A set of peers agree on a value for each *instance* `0, 1, 2, ...` of a sequence, with no
//! leader and no single point of failure: as long as a majority of peers can talk, every
//! instance someone proposes in is eventually decided, and no two peers ever decide
//! different values for one instance, whatever the network loses, delays or partitions.
//!
//! ```text
//! application --start(seq, v)--> Peer --spawns--> proposer --prepare/accept/decided--> acceptors
//!             <--status(seq)---- Peer (local: what this peer has learned)
//!             ---done(seq)-----> Peer (piggybacked on messages; all done => forget)
//! ```
//!
//! ## The protocol (one instance; the classic single-decree Paxos)
//!
//! A **proposer** picks a ballot (proposal number) above any it has seen — ballots are
//! `(round, peer)` pairs, so no two peers share one — and sends *prepare* to every peer.
//! An **acceptor** *promises* it if the ballot is higher than any it promised, and replies
//! with the highest-ballot proposal it has accepted. With promises from a majority, the
//! proposer sends *accept* with the value of the highest accepted proposal among them (or
//! its own value if none); an acceptor accepts unless it promised a higher ballot meanwhile.
//! With a majority of accepts the value is **chosen**: the proposer sends *decided* to all.
//! Two majorities always share a peer, which is why a chosen value is carried forward by
//! every later ballot (the module `acceptor` names the invariants each handler keeps, and
//! `proposer` spells out the loop).
//!
//! ## Around the protocol
//!
//! - A peer's proposer calls its **own acceptor directly**, without an RPC.
//! - A failed ballot **backs off** for a random while, drawn from the simulation's RNG.
//! - Each message and reply carries its sender's **done** value; every peer keeps the
//!   highest `done` heard from each peer, `min()` is one more than the lowest, and instances
//!   below `min()` are **forgotten** (their state freed; [`Status::Forgotten`] from then on).
//! - Values are any serde type ([`Value`]); they cross the network as postcard bytes.
//! - Each peer keeps its acceptor's state on its node's **disk** (one file per instance, one
//!   for the peer) and answers a message only once what the answer promises is synced, so a
//!   peer restarted with its disk votes again at once; one that lost its disk abstains where
//!   it may have voted ([`Peer::abstain_through`]). See the module `storage`.
//! - A peer holds its [`labrpc::Node`] ([`Peer::on`]; [`Peer::new`] on a node of a
//!   [`labrpc::Network`]). A peer that shares its node with another service (a node has one
//!   server) uses [`Peer::on_with_transport`] or [`Peer::with_transport`]; `paxoskv` does this.
//!
//! ## Example
//!
//! ```
//! use paxos::{Peer, Status};
//!
//! labrpc::sim::run(|net: labrpc::Network| async move {
//!     let names: Vec<String> = (0..3).map(|i| format!("paxos{i}")).collect();
//!     let peers: Vec<Peer<String>> = (0..3).map(|i| Peer::new(&net, &names, i)).collect();
//!     peers[0].start(0, &"hello".to_string()).expect("a string serializes");
//!     while peers.iter().any(|p| p.status(0) == Status::Pending) {
//!         tokio::time::sleep(std::time::Duration::from_millis(10)).await;
//!     }
//!     assert!(peers.iter().all(|p| p.status(0) == Status::Decided("hello".to_string())));
//! });
//! ```

mod acceptor;
mod peer;
mod proposer;
pub mod protocol;
mod storage;

pub use peer::{Error, PaxosServer, Peer, Status, Value};
pub use protocol::{Ballot, Seq, Transport};
