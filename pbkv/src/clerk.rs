//! The clerk: sends each operation to the primary it believes in until it is carried out.

use labrpc::{Error, Network, Node};
use rand::Rng;
use std::collections::BTreeMap;
use std::time::Duration;
use viewservice::PING_INTERVAL;

use crate::common::{ClientOp, KvEnd, Op, PbKvClient};

/// How long the clerk waits before trying again after a failed attempt.
pub const RETRY_INTERVAL: Duration = Duration::from_millis(PING_INTERVAL.as_millis() as u64 / 10);

/// A client of the primary/backup store. Its operations happen one at a time, in order; each
/// Put and Append takes effect at most once however often it is resent.
///
/// The clerk caches the primary's name and asks the view service again only when the
/// primary does not answer or refuses the operation.
pub struct Clerk {
    node: Node,
    vs: viewservice::Clerk,
    id: u64,
    seq: u64,
    primary: Option<String>,
    servers: BTreeMap<String, PbKvClient<KvEnd>>,
}

impl Clerk {
    /// A clerk on node `me` that finds the primary through the view server on node `vs`. Its
    /// id is drawn from the simulation's RNG.
    pub fn new(net: &Network, me: &str, vs: &str) -> Clerk {
        Clerk::on(Node::simulated(net, me), vs)
    }

    /// A clerk on `node` that finds the primary through the view server `vs`. Its id is
    /// drawn from the node's RNG.
    pub fn on(node: Node, vs: &str) -> Clerk {
        Clerk {
            vs: viewservice::Clerk::on(&node, vs),
            id: node.rng().random(),
            node,
            seq: 0,
            primary: None,
            servers: BTreeMap::new(),
        }
    }

    /// The current value of `key` ("" if it has none).
    pub async fn get(&mut self, key: &str) -> String {
        self.run(Op::Get { key: key.into() }).await
    }

    /// Sets `key` to `value`.
    pub async fn put(&mut self, key: &str, value: &str) {
        self.run(Op::Put {
            key: key.into(),
            value: value.into(),
        })
        .await;
    }

    /// Appends `value` to `key`'s value.
    pub async fn append(&mut self, key: &str, value: &str) {
        self.run(Op::Append {
            key: key.into(),
            value: value.into(),
        })
        .await;
    }

    /// The primary the clerk currently believes in, if any.
    pub fn cached_primary(&self) -> Option<&str> {
        self.primary.as_deref()
    }

    /// Sends the operation until the primary carries it out. Never gives up: as in the lab,
    /// a clerk waits for the service to recover.
    ///
    /// Each new operation takes the clerk's next sequence number; every resend of it keeps
    /// that number (P4). The clerk asks the view service for the primary only when it has
    /// none cached; a refusal or no answer drops the cached primary. It sleeps
    /// [`RETRY_INTERVAL`] after each failed attempt.
    async fn run(&mut self, op: Op) -> String {
        // BEGIN SOLUTION: todo!("lab 2B: number the operation and send it to the cached primary until it is carried out, asking the view service again after a refusal or silence; never give up")
        self.seq += 1;
        let op = ClientOp {
            client: self.id,
            seq: self.seq,
            op,
        };
        loop {
            if self.primary.is_none() {
                self.primary = self.vs.primary().await;
            }
            if let Some(primary) = self.primary.clone() {
                let reply = self
                    .server(&primary)
                    .execute(labrpc::context(), op.clone())
                    .await
                    .map_err(Error::from);
                match reply {
                    Ok(Ok(value)) => return value,
                    // Wrong server, not ready (perhaps a primary cut off from the view
                    // service that cannot tell), or no answer: ask the view service again.
                    Ok(Err(_)) | Err(_) => self.primary = None,
                }
            }
            tokio::time::sleep(RETRY_INTERVAL).await;
        }
        // END SOLUTION
    }

    fn server(&mut self, name: &str) -> PbKvClient<KvEnd> {
        let node = &self.node;
        self.servers
            .entry(name.to_owned())
            .or_insert_with(|| PbKvClient::from(node.client(name)))
            .clone()
    }
}
