//! A shard master: a replica that applies the Paxos log of operations in order.
//!
//! Every operation, queries included, goes into a Paxos instance; every server applies the
//! decided instances `0, 1, 2, ...` in order to its own list of configurations. Invariants:
//!
//! - **S1** (same configurations) a server's configurations are the result of applying the
//!   decided log prefix `0..next` in order, so servers that applied the same prefix agree on
//!   every configuration, and each operation gets the next number (**C4** of
//!   [`crate::config`]: the rebalancing is deterministic);
//! - **S2** (exactly once) an operation is applied only if its clerk's sequence number is
//!   above the last applied for that clerk, whose reply is kept to answer a resend; a
//!   join, leave or move resent after it was applied makes no second configuration;
//! - **S3** (fresh queries) a query is answered only once its own instance is applied, so it
//!   reflects every operation that completed before it was sent;
//! - **S4** (no holes) a server applies instance `seq` only after every one below; an
//!   instance it never heard decided, it learns by proposing a no-op there;
//! - **S5** (bounded log) each applied instance is declared `done`, so Paxos forgets it once
//!   every server applied it; a ticker applies what was decided meanwhile, so an idle
//!   server does not hold the others' memory.

use labrpc::{Network, Node};
use parking_lot::Mutex;
use paxos::protocol::PaxosLinks;
use paxos::protocol::{
    AcceptArgs, AcceptReply, DecidedArgs, DecidedReply, PrepareArgs, PrepareReply, Seq,
};
use paxos::{Peer, Status};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tarpc::context::Context;

use crate::common::{ClientOp, Op, Request, ShardMasterService, SmError, SmReply};
use crate::config::Config;

/// How long a server works on one operation before telling the clerk to try another.
pub const AGREEMENT_TIMEOUT: Duration = Duration::from_secs(2);
/// The first wait between two looks at an undecided instance; it doubles up to the next.
const POLL_MIN: Duration = Duration::from_millis(1);
/// The longest wait between two looks at an undecided instance.
const POLL_MAX: Duration = Duration::from_millis(64);
/// How often a server applies what was decided without it (**S5**).
pub const APPLY_INTERVAL: Duration = Duration::from_millis(100);

/// One shard master replica.
#[derive(Clone)]
pub struct ShardMaster {
    inner: Arc<Inner>,
}

struct Inner {
    px: Peer<Op>,
    state: Mutex<State>,
}

/// The replica's state (**S1**, **S2**).
struct State {
    /// Every configuration so far; `configs[n].num == n`.
    configs: Vec<Config>,
    /// Per clerk: the last sequence number applied, and its reply.
    last: BTreeMap<u64, (u64, SmReply)>,
    /// The next instance to apply.
    next: Seq,
}

impl ShardMaster {
    /// Starts shard master `me` of the servers on nodes `servers`, with configuration 0 only.
    ///
    /// # Panics
    /// If `me` is not an index of `servers` (a programming error).
    pub fn start(net: &Network, servers: &[String], me: usize) -> ShardMaster {
        ShardMaster::on(Node::simulated(net, &servers[me]), servers, me)
    }

    /// Starts shard master `me` of the servers named `servers` on `node` (whose name is
    /// `servers[me]`).
    ///
    /// # Panics
    /// If `me` is not an index of `servers`, or `servers[me]` is not the node's name
    /// (programming errors).
    pub fn on(node: Node, servers: &[String], me: usize) -> ShardMaster {
        let links = PaxosLinks::on(&node, servers);
        let px = Peer::on_with_transport(node.clone(), servers, me, Arc::new(links));
        let server = ShardMaster {
            inner: Arc::new(Inner {
                px,
                state: Mutex::new(State {
                    configs: vec![Config::default()],
                    last: BTreeMap::new(),
                    next: 0,
                }),
            }),
        };
        node.serve(server.clone().serve());
        let ticker = server.clone();
        node.spawn(async move {
            loop {
                tokio::time::sleep(APPLY_INTERVAL).await;
                ticker.apply_decided();
            }
        });
        server
    }

    /// The server's Paxos peer (its `min()` and `max()`, for tests and statistics).
    pub fn paxos(&self) -> &Peer<Op> {
        &self.inner.px
    }

    /// The latest configuration this server has applied (it may lag the cluster's: a clerk's
    /// query goes through the log).
    pub fn latest(&self) -> Config {
        let state = self.inner.state.lock();
        state.configs.last().cloned().unwrap_or_default()
    }

    /// Crashes the server (its node is killed).
    pub fn kill(&self) {
        self.inner.px.kill();
    }

    /// Runs `op` through the log and returns its reply (**S2**, **S3**).
    async fn run(&self, op: ClientOp) -> SmReply {
        // BEGIN SOLUTION: todo!("lab 4A: put the operation in a free log instance and apply the log up to it; answer its reply, the kept reply of a resend, or why not (S2, S3)")
        let deadline = tokio::time::Instant::now() + AGREEMENT_TIMEOUT;
        let px = &self.inner.px;
        loop {
            let seq = {
                let state = self.inner.state.lock();
                if let Some((seq, reply)) = state.last.get(&op.client) {
                    if *seq == op.seq {
                        return reply.clone();
                    }
                    if *seq > op.seq {
                        return Err(SmError::Superseded);
                    }
                }
                state.next.max(px.max().saturating_add(1))
            };
            tracing::debug!(
                seq,
                client = op.client,
                cseq = op.seq,
                "proposing the operation"
            );
            if px.start(seq, &Op::Client(op.clone())).is_err() {
                return Err(SmError::NoAgreement);
            }
            // Apply everything up to our instance; if it holds another operation, the loop
            // tries the next free instance.
            self.catch_up(seq, deadline).await?;
        }
        // END SOLUTION
    }

    /// Applies every instance up to `upto`, proposing no-ops in holes (**S4**).
    async fn catch_up(&self, upto: Seq, deadline: tokio::time::Instant) -> Result<(), SmError> {
        // BEGIN SOLUTION: todo!("lab 4A: apply every instance up to upto in order, proposing no-ops in holes (S4); NoAgreement at the deadline")
        let px = &self.inner.px;
        let mut wait = POLL_MIN;
        loop {
            let next = self.inner.state.lock().next;
            if next > upto {
                return Ok(());
            }
            match px.status(next) {
                Status::Decided(op) => {
                    self.apply(next, op);
                    wait = POLL_MIN;
                }
                // Forgotten only once every server applied it, this one included (it says
                // `done` only for what it applied): so this server lost its configurations,
                // as a restart would. It cannot answer; the others can.
                Status::Forgotten => {
                    tracing::error!(
                        seq = next,
                        "instance forgotten before this server applied it"
                    );
                    return Err(SmError::NoAgreement);
                }
                Status::Pending => {
                    if tokio::time::Instant::now() >= deadline {
                        return Err(SmError::NoAgreement);
                    }
                    // Harmless if someone (this server included) already proposes there.
                    if px.start(next, &Op::Noop).is_err() {
                        return Err(SmError::NoAgreement);
                    }
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(POLL_MAX);
                }
            }
        }
        // END SOLUTION
    }

    /// Applies the instances decided so far, in order, proposing nothing (**S5**).
    fn apply_decided(&self) {
        // BEGIN SOLUTION: todo!("lab 4A: apply the instances decided so far, in order, proposing nothing (S5)")
        loop {
            let next = self.inner.state.lock().next;
            match self.inner.px.status(next) {
                Status::Decided(op) => self.apply(next, op),
                _ => return,
            }
        }
        // END SOLUTION
    }

    /// Applies instance `seq` if it is the next one (**S1**, **S2**), then declares it done
    /// (**S5**).
    fn apply(&self, seq: Seq, op: Op) {
        // BEGIN SOLUTION: todo!("lab 4A: apply the instance if it is the next one, each clerk operation once, keeping its reply (S1, S2); then say done for it (S5)")
        {
            let mut state = self.inner.state.lock();
            if state.next != seq {
                return;
            }
            if let Op::Client(op) = op {
                let fresh = (state.last.get(&op.client)).is_none_or(|(last, _)| op.seq > *last);
                if fresh {
                    let reply = state.execute(&op.request);
                    let (client, cseq) = (op.client, op.seq);
                    match &reply {
                        Ok(config) => {
                            let (config, shards) = (config.num, config.shards);
                            tracing::debug!(seq, client, cseq, config, ?shards, "applied");
                        }
                        Err(e) => {
                            tracing::debug!(seq, client, cseq, error = %e, "applied: refused");
                        }
                    }
                    state.last.insert(op.client, (op.seq, reply));
                }
            }
            state.next = seq.saturating_add(1);
        }
        self.inner.px.done(seq);
        // END SOLUTION
    }
}

impl State {
    /// Carries out `request` on the configurations (**S1**).
    fn execute(&mut self, request: &Request) -> SmReply {
        // BEGIN SOLUTION: todo!("lab 4A: a query answers configuration num, or the latest; a join, leave or move adds the next configuration, a refused one adds none (S1)")
        let latest = self.configs.last().cloned().unwrap_or_default();
        let next = match request {
            Request::Query { num } => {
                let num = usize::try_from(*num)
                    .ok()
                    .filter(|&n| n < self.configs.len());
                return Ok(num.map_or(latest, |n| self.configs[n].clone()));
            }
            Request::Join { gid, servers } => latest.join(*gid, servers.clone()),
            Request::Leave { gid } => Ok(latest.leave(*gid)),
            Request::Move { shard, gid } => latest.moved(*shard, *gid),
        };
        let next = next.map_err(SmError::Refused)?;
        self.configs.push(next.clone());
        Ok(next)
        // END SOLUTION
    }
}

impl ShardMasterService for ShardMaster {
    async fn prepare(self, _: Context, args: PrepareArgs) -> PrepareReply {
        self.inner.px.on_prepare(args).await
    }

    async fn accept(self, _: Context, args: AcceptArgs) -> AcceptReply {
        self.inner.px.on_accept(args).await
    }

    async fn decided(self, _: Context, args: DecidedArgs) -> DecidedReply {
        self.inner.px.on_decided(args).await
    }

    async fn execute(self, _: Context, op: ClientOp) -> SmReply {
        self.run(op).await
    }
}
