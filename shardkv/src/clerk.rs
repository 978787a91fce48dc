//! The clerk: finds the group that serves a key's shard through the shard master, and
//! retries until that group carries out the operation.

use labrpc::{Network, Node};
use rand::Rng;
use shardmaster::Config;
use std::collections::BTreeMap;
use std::time::Duration;

use crate::common::{ClientOp, KvEnd, KvError, OpKind, ShardKvServiceClient, key2shard};

/// How long the clerk waits for one server before trying the next (a server in a minority
/// answers [`KvError::NoAgreement`] after 2 s; this covers a server that died).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(3);
/// After the group failed or answered `WrongGroup`, the clerk waits this long and asks the
/// shard master again (Go's clerk sleeps 100 ms).
pub const RETRY_WAIT: Duration = Duration::from_millis(100);

/// A client of a sharded store. Its operations happen one at a time, in order; each takes
/// effect exactly once, however often it is resent and whichever groups it reaches.
pub struct Clerk {
    node: Node,
    sm: shardmaster::Clerk,
    /// The configuration the clerk last heard of.
    config: Config,
    ends: BTreeMap<String, ShardKvServiceClient<KvEnd>>,
    id: u64,
    cseq: u64,
}

impl Clerk {
    /// A clerk on node `name` that asks the shard masters on nodes `masters` where keys are.
    /// Its id is drawn from the simulation's RNG.
    pub fn new(net: &Network, name: &str, masters: &[String]) -> Clerk {
        Clerk::on(Node::simulated(net, name), masters)
    }

    /// A clerk on `node` that asks the shard masters named `masters` where keys are.
    pub fn on(node: Node, masters: &[String]) -> Clerk {
        Clerk {
            sm: shardmaster::Clerk::on(&node, masters),
            id: node.rng().random(),
            node,
            config: Config::default(),
            ends: BTreeMap::new(),
            cseq: 0,
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

    /// Sends the operation to the servers of the group that serves its key, re-asking the
    /// shard master after a `WrongGroup` or a round of failures. Never gives up.
    async fn run(&mut self, kind: OpKind) -> String {
        // BEGIN SOLUTION: todo!("lab 4B: number the operation, then send it to the servers of the group that serves its key until one carries it out; after a WrongGroup or a round of failures, wait RETRY_WAIT and ask the shard master for the latest configuration; never give up")
        self.cseq += 1;
        let shard = key2shard(kind.key());
        let op = ClientOp {
            client: self.id,
            cseq: self.cseq,
            kind,
        };
        if self.config.num == 0 {
            self.config = self.sm.query(-1).await;
        }
        loop {
            let gid = self.config.shards[shard];
            let servers = self.config.groups.get(&gid).cloned().unwrap_or_default();
            for server in servers {
                let node = &self.node;
                let end = self.ends.entry(server.clone()).or_insert_with(|| {
                    let mut end: KvEnd = node.client(&server);
                    end.set_timeout(Some(CALL_TIMEOUT));
                    ShardKvServiceClient::from(end)
                });
                match end.execute(labrpc::context(), op.clone()).await {
                    Ok(Ok(value)) => return value,
                    Ok(Err(KvError::WrongGroup)) => break,
                    // Another replica may be further along, or in the majority.
                    Ok(Err(KvError::NotReady | KvError::NoAgreement | KvError::Superseded))
                    | Err(_) => {}
                }
            }
            tokio::time::sleep(RETRY_WAIT).await;
            self.config = self.sm.query(-1).await;
        }
        // END SOLUTION
    }
}
