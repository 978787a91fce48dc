//! The clerk: a client of the shard masters that tries them in turn until one answers.

use labrpc::{Network, Node};
use rand::Rng;
use std::time::Duration;

use crate::common::{ClientOp, Request, ShardMasterServiceClient, SmEnd, SmError};
use crate::config::{Config, ConfigError, Gid, Shard};

/// How long the clerk waits for one server before trying the next (a server in a minority
/// answers [`SmError::NoAgreement`] after 2 s; this covers a server that died).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(3);
/// After every server failed once, the clerk waits this long before the next round (Go's
/// clerk sleeps 100 ms).
pub const RETRY_WAIT: Duration = Duration::from_millis(100);

/// A client of the shard masters. Its operations happen one at a time, in order; each
/// takes effect exactly once, however often the clerk resends it.
pub struct Clerk {
    servers: Vec<ShardMasterServiceClient<SmEnd>>,
    id: u64,
    seq: u64,
}

impl Clerk {
    /// A clerk on node `name` that talks to the shard masters on nodes `servers` (any subset
    /// of them). Its id is drawn from the simulation's RNG.
    pub fn new(net: &Network, name: &str, servers: &[String]) -> Clerk {
        Clerk::on(&Node::simulated(net, name), servers)
    }

    /// A clerk on `node` that talks to the shard masters named `servers`.
    pub fn on(node: &Node, servers: &[String]) -> Clerk {
        let servers = (servers.iter())
            .map(|server| {
                let mut end: SmEnd = node.client(server);
                end.set_timeout(Some(CALL_TIMEOUT));
                ShardMasterServiceClient::from(end)
            })
            .collect();
        Clerk {
            servers,
            id: node.rng().random(),
            seq: 0,
        }
    }

    /// Configuration `num`, or the latest if `num` is negative or past the latest; the
    /// latest reflects every operation that completed before the query was sent.
    pub async fn query(&mut self, num: i64) -> Config {
        // A query is never refused; an error here is a server's bug, answered with the
        // empty configuration rather than a panic.
        self.run(Request::Query { num }).await.unwrap_or_default()
    }

    /// Adds group `gid` with `servers` (or gives a group already in its new servers); returns
    /// the configuration it made.
    pub async fn join(&mut self, gid: Gid, servers: &[String]) -> Result<Config, ConfigError> {
        self.run(Request::Join {
            gid,
            servers: servers.to_vec(),
        })
        .await
    }

    /// Removes group `gid`; returns the configuration it made.
    pub async fn leave(&mut self, gid: Gid) -> Config {
        self.run(Request::Leave { gid }).await.unwrap_or_default()
    }

    /// Puts shard `shard` on group `gid` (which must be in the configuration); returns the
    /// configuration it made.
    pub async fn move_shard(&mut self, shard: Shard, gid: Gid) -> Result<Config, ConfigError> {
        self.run(Request::Move { shard, gid }).await
    }

    /// Sends the operation to the servers in turn until one carries it out; never gives up.
    async fn run(&mut self, request: Request) -> Result<Config, ConfigError> {
        // BEGIN SOLUTION: todo!("lab 4A: number the operation, then send it to one server after another until one carries it out or refuses it, waiting RETRY_WAIT after each round of failures; never give up")
        self.seq += 1;
        let op = ClientOp {
            client: self.id,
            seq: self.seq,
            request,
        };
        loop {
            for server in &self.servers {
                match server.execute(labrpc::context(), op.clone()).await {
                    Ok(Ok(config)) => return Ok(config),
                    Ok(Err(SmError::Refused(why))) => return Err(why),
                    // Superseded cannot happen to a clerk that waits for each answer: its
                    // resends are of its latest operation. Treat it as any other failure.
                    Ok(Err(SmError::NoAgreement | SmError::Superseded)) | Err(_) => {}
                }
            }
            tokio::time::sleep(RETRY_WAIT).await;
        }
        // END SOLUTION
    }
}
