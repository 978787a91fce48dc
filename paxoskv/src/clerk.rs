//! The clerk: a client that tries the servers in turn until one carries out its operation.

use labrpc::{Network, Node};
use rand::Rng;
use std::time::Duration;

use crate::common::{ClientOp, KvPaxosClient, OpKind};

/// How long the clerk waits for one server before trying the next (a server in a minority
/// answers [`crate::KvError::NoAgreement`] after 2 s; this covers a server that died).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(3);
/// After every server failed once, the clerk waits up to this long before the next round.
const RETRY_MAX: Duration = Duration::from_millis(50);

/// A client of a paxoskv cluster. Operations of one clerk happen one at a time, in order;
/// each takes effect exactly once, however often the clerk has to resend it.
pub struct Clerk {
    node: Node,
    servers: Vec<KvPaxosClient<crate::KvEnd>>,
    id: u64,
    seq: u64,
    /// The server that answered last: tried first next time.
    preferred: usize,
}

impl Clerk {
    /// A clerk on node `name` that talks to the servers on nodes `servers` (any subset of
    /// the cluster). Its id is drawn from the simulation's RNG.
    pub fn new(net: &Network, name: &str, servers: &[String]) -> Clerk {
        Clerk::on(Node::simulated(net, name), servers)
    }

    /// A clerk on `node` that talks to the servers named `servers` (any subset of the
    /// cluster). Its id is drawn from the node's RNG.
    pub fn on(node: Node, servers: &[String]) -> Clerk {
        let servers = servers
            .iter()
            .map(|server| {
                let mut end: crate::KvEnd = node.client(server);
                end.set_timeout(Some(CALL_TIMEOUT));
                KvPaxosClient::from(end)
            })
            .collect();
        Clerk {
            id: node.rng().random(),
            node,
            servers,
            seq: 0,
            preferred: 0,
        }
    }

    /// The current value of `key` ("" if it has none).
    pub async fn get(&mut self, key: &str) -> String {
        self.run(OpKind::Get { key: key.into() }).await
    }

    /// Sets `key` to `value`.
    pub async fn put(&mut self, key: &str, value: &str) {
        self.run(OpKind::Put {
            key: key.into(),
            value: value.into(),
        })
        .await;
    }

    /// Appends `value` to `key`'s value.
    pub async fn append(&mut self, key: &str, value: &str) {
        self.run(OpKind::Append {
            key: key.into(),
            value: value.into(),
        })
        .await;
    }

    /// Sends the operation to one server after another until one carries it out. Never
    /// gives up (as in the lab: a clerk waits for the cluster to recover).
    async fn run(&mut self, kind: OpKind) -> String {
        // BEGIN SOLUTION: todo!("lab 3B: number the operation, then send it to one server after another until one carries it out; never give up")
        self.seq += 1;
        let op = ClientOp {
            client: self.id,
            seq: self.seq,
            kind,
        };
        let n = self.servers.len();
        loop {
            for i in 0..n {
                let at = (self.preferred + i) % n;
                let reply = self.servers[at]
                    .execute(labrpc::context(), op.clone())
                    .await;
                if let Ok(Ok(value)) = reply {
                    self.preferred = at;
                    return value;
                }
            }
            let wait = self
                .node
                .rng()
                .random_range(1..=RETRY_MAX.as_millis() as u64);
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
        // END SOLUTION
    }
}
