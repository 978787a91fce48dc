//! # viewservice: who is primary, who is backup (6.824 lab 2A, 2015)
//!
//! A primary/backup service needs someone to say which server is the primary and which the
//! backup. This crate is that someone: one **view server** that hands out numbered
//! [`View`]s `(viewnum, primary, backup)`.
//!
//! ```text
//!   server A --ping(me, viewnum)--> view server --reply: current view-->  server A
//!   clerk    --get()--------------> view server --reply: current view-->  clerk
//! ```
//!
//! - Every server [pings](ViewServiceClient::ping) every [`PING_INTERVAL`] with the number of
//!   the view it knows; a server silent for [`DEAD_PINGS`] intervals is dead. `ping(0)` says
//!   "I (re)started and hold no state".
//! - The view server moves to a new view only when the primary has acknowledged the current
//!   one (pinged its number), and the new primary is always the old primary or the old
//!   backup: a server that never received the state can never become primary. The rules are
//!   written out, with the invariant each keeps, in [`server`].
//! - The view server is a single point of failure: if it dies, no view ever changes again.
//!
//! [`ViewServer::on`] starts one on a [`labrpc::Node`] ([`ViewServer::start`]: on a node of a
//! [`labrpc::Network`]); [`Clerk`] is what a key/value server or client uses to talk to it.

mod clerk;
mod common;
pub mod server;

pub use clerk::Clerk;
pub use common::{
    DEAD_PINGS, DEAD_TIME, PING_INTERVAL, PingArgs, View, ViewEnd, ViewService, ViewServiceClient,
    ViewServiceRequest, ViewServiceResponse,
};
pub use server::ViewServer;
