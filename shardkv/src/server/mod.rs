//! A shardkv server: one replica of a replica group, applying its group's Paxos log in order.
//!
//! The log holds clerk operations, configurations (`Reconfigure`) and shard installations
//! (`Install`); every replica of a group applies the decided instances `0, 1, 2, ...` in
//! order, so the replicas agree on the data, the duplicate table and the configuration at
//! every point of the log. Invariants:
//!
//! - **H1** (at most one group serves a shard in any config) a group serves shard `s` only
//!   while its current configuration gives `s` to it *and* it has installed `s`'s data; it
//!   checks this when it applies an operation, at the operation's place in the log, so an
//!   operation ordered after the `Reconfigure` that takes `s` away is refused (`WrongGroup`)
//!   and is not applied. A group that gains `s` in configuration `n + 1` gets its data from
//!   a server of the group that had it in `n` only once that server has applied `n + 1`
//!   itself (the fetch is refused before), so no operation on `s` can follow the hand-off;
//! - **H2** (a shard's data and dedup state move together) the hand-off carries the shard's
//!   map and the giver's duplicate table, installed by one `Install` entry; the receiver
//!   merges the table by keeping each clerk's higher `cseq`;
//! - **H3** (configs apply in order) a `Reconfigure` to `n + 1` applies only at `n`, and only
//!   once every shard gained in `n` is installed: each group passes through every
//!   configuration, and a group's view of a shard's history has no gap;
//! - **H4** (exactly once) a clerk operation is applied only if its `cseq` is above the last
//!   one applied for its clerk in the duplicate table (one entry per clerk, so the table
//!   stays bounded); with **H2**, an operation applied by one group is recognised by every
//!   later owner of its shard;
//! - **H5** (no holes, bounded log) a replica applies instance `seq` only after every one
//!   below, proposing a no-op in an instance it never heard decided, and declares each
//!   applied instance `done` so that Paxos forgets it once the whole group applied it.
//!
//! The configuration steps (polling the shard master, fetching, installing) are in
//! `server/reconfig.rs`.

use labrpc::{Network, Node};
use parking_lot::Mutex;
use paxos::protocol::{
    AcceptArgs, AcceptReply, DecidedArgs, DecidedReply, PaxosLinks, PrepareArgs, PrepareReply, Seq,
};
use paxos::{Peer, Status};
use shardmaster::{Config, Gid, NSHARDS, Shard};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tarpc::context::Context;

use crate::common::{
    ClientOp, DedupTable, FetchArgs, FetchReply, KvError, KvReply, Op, ShardKvService, key2shard,
};

mod apply;
mod reconfig;

pub use reconfig::POLL_INTERVAL;

/// How long a server works on one request before telling the clerk to try elsewhere.
pub const AGREEMENT_TIMEOUT: Duration = Duration::from_secs(2);
/// The first wait between two looks at an undecided instance; it doubles up to the next.
const POLL_MIN: Duration = Duration::from_millis(1);
/// The longest wait between two looks at an undecided instance.
const POLL_MAX: Duration = Duration::from_millis(64);

/// One replica of a replica group.
#[derive(Clone)]
pub struct ShardKv {
    inner: Arc<Inner>,
}

struct Inner {
    gid: Gid,
    node: Node,
    px: Peer<Op>,
    state: Mutex<State>,
}

/// The replica's state: what the applied log prefix `0..next` made (**H1**-**H4**).
struct State {
    /// The current configuration.
    config: Config,
    /// The one before it (where the shards gained in `config` come from).
    prev: Config,
    /// Shards `config` gives this group whose data is not installed yet.
    waiting: BTreeSet<Shard>,
    /// Each shard's map (kept after the shard leaves, for the fetches of its new group).
    data: Vec<BTreeMap<String, String>>,
    /// The duplicate table (**H4**).
    dedup: DedupTable,
    /// The next instance to apply.
    next: Seq,
}

impl State {
    /// Whether the group serves `shard` now (**H1**).
    fn serves(&self, gid: Gid, shard: Shard) -> bool {
        // BEGIN SOLUTION: todo!("lab 4B: whether the group serves shard now: its current configuration gives it the shard and the shard's data is installed (H1)")
        self.config.shards[shard] == gid && !self.waiting.contains(&shard)
        // END SOLUTION
    }
}

impl ShardKv {
    /// Starts replica `me` of group `gid`, whose replicas are on nodes `servers`; it asks the
    /// shard masters on nodes `masters` for configurations.
    ///
    /// # Panics
    /// If `me` is not an index of `servers` (a programming error).
    pub fn start(
        net: &Network,
        gid: Gid,
        masters: &[String],
        servers: &[String],
        me: usize,
    ) -> ShardKv {
        ShardKv::on(
            Node::simulated(net, &servers[me]),
            gid,
            masters,
            servers,
            me,
        )
    }

    /// Starts replica `me` of group `gid` on `node` (whose name is `servers[me]`).
    ///
    /// # Panics
    /// If `me` is not an index of `servers`, or `servers[me]` is not the node's name
    /// (programming errors).
    pub fn on(node: Node, gid: Gid, masters: &[String], servers: &[String], me: usize) -> ShardKv {
        let links = PaxosLinks::on(&node, servers);
        let px = Peer::on_with_transport(node.clone(), servers, me, Arc::new(links));
        let server = ShardKv {
            inner: Arc::new(Inner {
                gid,
                node: node.clone(),
                px,
                state: Mutex::new(State {
                    config: Config::default(),
                    prev: Config::default(),
                    waiting: BTreeSet::new(),
                    data: vec![BTreeMap::new(); NSHARDS],
                    dedup: DedupTable::new(),
                    next: 0,
                }),
            }),
        };
        node.serve(server.clone().serve());
        let sm = shardmaster::Clerk::on(&node, masters);
        node.spawn(server.clone().tick(sm));
        server
    }

    /// The group this replica belongs to.
    pub fn gid(&self) -> Gid {
        self.inner.gid
    }

    /// The number of the configuration this replica has applied.
    pub fn config_num(&self) -> u64 {
        self.inner.state.lock().config.num
    }

    /// The number of clerks in the duplicate table (one entry each: the table is bounded).
    pub fn dedup_len(&self) -> usize {
        self.inner.state.lock().dedup.len()
    }

    /// The server's Paxos peer (its `min()` and `max()`, for tests).
    pub fn paxos(&self) -> &Peer<Op> {
        &self.inner.px
    }

    /// Crashes the server (its node is killed).
    pub fn kill(&self) {
        self.inner.px.kill();
    }

    /// Runs a clerk's operation through the log and returns its reply (**H1**, **H4**).
    async fn run(&self, op: ClientOp) -> KvReply {
        // BEGIN SOLUTION: todo!("lab 4B: answer a resend from the duplicate table (H4); refuse a shard the group does not serve (WrongGroup) or has not installed (NotReady) (H1); else put the operation in a free log instance and apply the log up to it, until it is applied")
        let deadline = tokio::time::Instant::now() + AGREEMENT_TIMEOUT;
        let shard = key2shard(op.kind.key());
        let entry = Op::Client(op.clone());
        loop {
            let seq = {
                let state = self.inner.state.lock();
                if let Some((cseq, reply)) = state.dedup.get(&op.client) {
                    if *cseq == op.cseq {
                        return Ok(reply.clone());
                    }
                    if *cseq > op.cseq {
                        return Err(KvError::Superseded);
                    }
                }
                // Our op is not applied and, as of this prefix, cannot be: say why.
                if state.config.shards[shard] != self.inner.gid {
                    return Err(KvError::WrongGroup);
                }
                if state.waiting.contains(&shard) {
                    return Err(KvError::NotReady);
                }
                state.next.max(self.inner.px.max().saturating_add(1))
            };
            self.inner
                .px
                .start(seq, &entry)
                .map_err(|_| KvError::NoAgreement)?;
            // Apply everything up to our instance; if it holds another entry, the loop looks
            // again (our op may have been applied from another instance, or refused).
            self.catch_up(seq, deadline).await?;
        }
        // END SOLUTION
    }

    /// Puts `op` in the log unless `needed` says the state no longer wants it (another replica
    /// put it there first, or the group moved on); for configuration steps (**H3**).
    async fn agree(&self, op: &Op, needed: impl Fn(&State) -> bool) -> Result<(), KvError> {
        // BEGIN SOLUTION: todo!("lab 4B: put op in a free log instance and apply the log up to it, until needed says the state no longer wants it (H3)")
        let deadline = tokio::time::Instant::now() + AGREEMENT_TIMEOUT;
        loop {
            let seq = {
                let state = self.inner.state.lock();
                if !needed(&state) {
                    return Ok(());
                }
                state.next.max(self.inner.px.max().saturating_add(1))
            };
            self.inner
                .px
                .start(seq, op)
                .map_err(|_| KvError::NoAgreement)?;
            self.catch_up(seq, deadline).await?;
        }
        // END SOLUTION
    }

    /// Applies every instance up to `upto`, proposing no-ops in holes (**H5**).
    async fn catch_up(&self, upto: Seq, deadline: tokio::time::Instant) -> Result<(), KvError> {
        // BEGIN SOLUTION: todo!("lab 4B: apply every instance up to upto in order, proposing no-ops in holes (H5); NoAgreement at the deadline")
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
                // Forgotten only once every replica applied it, this one included: it cannot
                // happen to a replica that keeps its state (there is no restart here).
                Status::Forgotten => {
                    tracing::error!(
                        seq = next,
                        "instance forgotten before this replica applied it"
                    );
                    return Err(KvError::NoAgreement);
                }
                Status::Pending => {
                    if tokio::time::Instant::now() >= deadline {
                        return Err(KvError::NoAgreement);
                    }
                    // Harmless if someone (this server included) already proposes there.
                    px.start(next, &Op::Noop)
                        .map_err(|_| KvError::NoAgreement)?;
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(POLL_MAX);
                }
            }
        }
        // END SOLUTION
    }

    /// Applies the instances decided so far, in order, proposing nothing.
    fn apply_decided(&self) {
        // BEGIN SOLUTION: todo!("lab 4B: apply the instances decided so far, in order, proposing nothing (H5)")
        loop {
            let next = self.inner.state.lock().next;
            match self.inner.px.status(next) {
                Status::Decided(op) => self.apply(next, op),
                _ => return,
            }
        }
        // END SOLUTION
    }

    /// Applies instance `seq` if it is the next one (another request may have applied it
    /// meanwhile), then declares it done (**H5**).
    fn apply(&self, seq: Seq, op: Op) {
        // BEGIN SOLUTION: todo!("lab 4B: apply the instance if it is the next one (a clerk operation, a configuration, an installation or a no-op), then say done for it (H5)")
        {
            let mut state = self.inner.state.lock();
            if state.next != seq {
                return;
            }
            let gid = self.inner.gid;
            match op {
                Op::Client(op) => state.apply_client(gid, seq, op),
                Op::Reconfigure(config) => state.apply_config(gid, seq, config),
                Op::Install { config, data } => state.install(seq, config, data),
                Op::Noop => {}
            }
            state.next = seq.saturating_add(1);
        }
        self.inner.px.done(seq);
        // END SOLUTION
    }
}

impl ShardKvService for ShardKv {
    async fn prepare(self, _: Context, args: PrepareArgs) -> PrepareReply {
        self.inner.px.on_prepare(args).await
    }

    async fn accept(self, _: Context, args: AcceptArgs) -> AcceptReply {
        self.inner.px.on_accept(args).await
    }

    async fn decided(self, _: Context, args: DecidedArgs) -> DecidedReply {
        self.inner.px.on_decided(args).await
    }

    async fn execute(self, _: Context, op: ClientOp) -> KvReply {
        self.run(op).await
    }

    async fn fetch(self, _: Context, args: FetchArgs) -> FetchReply {
        self.handoff(&args)
    }
}
