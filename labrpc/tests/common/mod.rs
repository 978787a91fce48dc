//! A test service like Go labrpc's `JunkServer`, shared by the integration tests.
#![allow(dead_code)] // each test file uses part of it

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tarpc::context::Context;

/// Arguments of the `Types` test: a struct crosses the network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JunkArgs {
    pub x: i64,
    pub name: String,
}

/// Reply of the `Types` test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JunkReply {
    pub x: i64,
    pub names: Vec<String>,
}

#[tarpc::service]
pub trait Junk {
    /// Parses its argument as a number (Go's Handler1).
    async fn handler1(args: String) -> i64;
    /// Replies "handler2-N" (Go's Handler2).
    async fn handler2(args: i64) -> String;
    /// Struct in, struct out (Go's Handler4).
    async fn handler4(args: JunkArgs) -> JunkReply;
    /// Replies with the length of its argument (Go's Handler6).
    async fn handler6(args: String) -> usize;
    /// Replies with `n` bytes (Go's Handler7).
    async fn handler7(n: usize) -> String;
    /// Sleeps for `ms` milliseconds of virtual time, then replies `ms`.
    async fn sleep(ms: u64) -> u64;
}

// What its messages say in a recorded trace: their Debug form.
impl labrpc::Summarize for JunkRequest {}
impl labrpc::Summarize for JunkResponse {}

/// The server: it logs what it was called with.
#[derive(Clone, Default)]
pub struct JunkServer {
    pub log2: Arc<Mutex<Vec<i64>>>,
    /// Anything the server's state should hold, as a lab's server holds its network.
    pub keep: Option<Arc<dyn std::any::Any + Send + Sync>>,
}

impl Junk for JunkServer {
    async fn handler1(self, _: Context, args: String) -> i64 {
        args.parse().unwrap_or(-1)
    }

    async fn handler2(self, _: Context, args: i64) -> String {
        self.log2.lock().push(args);
        format!("handler2-{args}")
    }

    async fn handler4(self, _: Context, args: JunkArgs) -> JunkReply {
        JunkReply {
            x: args.x * 2,
            names: vec![args.name.clone(), args.name],
        }
    }

    async fn handler6(self, _: Context, args: String) -> usize {
        args.len()
    }

    async fn handler7(self, _: Context, n: usize) -> String {
        "y".repeat(n)
    }

    async fn sleep(self, _: Context, ms: u64) -> u64 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        ms
    }
}

/// A client of the junk service on the simulated network.
pub type Client = JunkClient<labrpc::ClientEnd<JunkRequest, JunkResponse>>;

/// Starts a junk server on `server` and returns it with a client on `owner`.
pub fn start(net: &labrpc::Network, owner: &str, server: &str) -> (JunkServer, Client) {
    let junk = JunkServer::default();
    net.add_server(server, junk.clone().serve());
    (junk, JunkClient::from(net.client(owner, server)))
}
