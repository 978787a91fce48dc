//! The key/value server: a replica that applies the Paxos log in order.
//!
//! Every operation, Gets included, is put in a Paxos instance; every server applies the
//! decided instances `0, 1, 2, ...` in order to its own copy of the map. Invariants:
//!
//! - **K1** (same state) a server's map is the result of applying the decided log prefix
//!   `0..next` in order, skipping no-ops and repeats: equal prefixes give equal maps;
//! - **K2** (exactly once) an operation is applied only if its clerk's sequence number is
//!   above the last one applied for that clerk (`last`), so a resent operation that was
//!   decided twice takes effect once, and its reply is kept to answer the resend (an older
//!   request than the last applied is answered `Superseded`: its clerk has gone on);
//! - **K3** (no holes) a server reaches instance `seq` only after applying every instance
//!   below; an instance it never heard decided, it learns by proposing a no-op there (Paxos
//!   then hands back the value already chosen, if any);
//! - **K4** (bounded memory) once applied and saved (**K5**, in [`crate::storage`]), an
//!   instance is declared `done`, so Paxos forgets it when every server has applied it; a
//!   server saves a snapshot every [`SAVE_EVERY`](crate::storage) instances or megabyte of
//!   values, and every [`SAVE_INTERVAL`] while it has applied something unsaved.
//!
//! A server restarted with its disk ([`KvServer::start`] again) starts from its last
//! snapshot, and its Paxos peer from its promises and votes: it serves at once. A server
//! whose disk was lost ([`KvServer::restart`]) has forgotten its Paxos promises, so its
//! acceptor abstains until it has copied the state of the others (see [`KvServer::restart`]
//! for the bound); only then does it serve.

use labrpc::{Disk, Network, Node};
use parking_lot::Mutex;
use paxos::protocol::{
    AcceptArgs, AcceptReply, DecidedArgs, DecidedReply, PrepareArgs, PrepareReply, Seq,
};
use paxos::{Peer, Status};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tarpc::context::Context;

use crate::common::{
    ClientOp, KvEnd, KvError, KvPaxos, KvPaxosClient, KvReply, Op, OpKind, Snapshot,
};
use crate::links::Links;
use crate::storage;

mod catchup;

/// How long a server works on one request before telling the clerk to try elsewhere.
const AGREEMENT_TIMEOUT: Duration = Duration::from_secs(2);
/// The first wait between two looks at an undecided instance; it doubles up to the next.
const POLL_MIN: Duration = Duration::from_millis(1);
/// The longest wait between two looks at an undecided instance.
const POLL_MAX: Duration = Duration::from_millis(64);
/// How long an instance may stay undecided before the server asks the others for their
/// state.
const STALL: Duration = Duration::from_millis(500);
/// A restarted server waits this long before asking for the others' state, so that every
/// message its previous incarnation sent has arrived or is lost (labrpc delays requests by
/// at most 27 ms, and a killed node's calls in flight are dropped).
const QUIET: Duration = Duration::from_millis(100);
/// How often a server saves a snapshot while it has applied instances it has not saved, so
/// that an idle server lets Paxos forget too (**K4**, **K5**).
pub const SAVE_INTERVAL: Duration = Duration::from_millis(100);

/// One replica.
#[derive(Clone)]
pub struct KvServer {
    inner: Arc<Inner>,
}

struct Inner {
    me: usize,
    servers: Vec<String>,
    node: Node,
    px: Peer<Op>,
    others: Vec<KvPaxosClient<KvEnd>>,
    disk: Disk,
    state: Mutex<State>,
}

/// The replica's state (**K1**, **K2**).
#[derive(Default)]
struct State {
    data: BTreeMap<String, String>,
    /// Per clerk: the last sequence number applied, and its reply.
    last: BTreeMap<u64, (u64, String)>,
    /// The next instance to apply.
    next: Seq,
    /// False while a restarted server catches up.
    ready: bool,
    /// The prefix a synced snapshot holds (**K5**).
    saved: Seq,
    /// Bytes of values applied since the last snapshot was written.
    unsaved_bytes: usize,
}

impl KvServer {
    /// Starts server `me` of the servers on nodes `servers`, serving at once: with an empty
    /// map on an empty disk (the first start of a cluster), or, after a crash that kept the
    /// node's disk, from the snapshot and the Paxos state on it (**K5**); the server then
    /// applies the rest of the log, copying a further snapshot from another server for
    /// instances Paxos has forgotten.
    ///
    /// # Panics
    /// If `me` is not an index of `servers` (a programming error).
    pub fn start(net: &Network, servers: &[String], me: usize) -> KvServer {
        KvServer::on(Node::simulated(net, &servers[me]), servers, me)
    }

    /// Starts server `me` of the servers named `servers` on `node` (whose name is
    /// `servers[me]`), serving at once, as [`KvServer::start`] says.
    ///
    /// # Panics
    /// If `me` is not an index of `servers`, or `servers[me]` is not the node's name
    /// (programming errors).
    pub fn on(node: Node, servers: &[String], me: usize) -> KvServer {
        let server = KvServer::make(node, servers, me, true);
        server.inner.node.serve(server.clone().serve());
        server
    }

    /// Restarts server `me` after a crash that lost its disk
    /// ([`labrpc::Network::lose_disk`]), or whose disk it should not trust.
    ///
    /// Its acceptor abstains from every instance at first, since it may have promised or
    /// accepted anything before the crash. After a quiet period it asks the others for their
    /// state until `n - n/2` of them (at least one member of every majority that excludes
    /// it) answer ready; it then takes the most advanced state, abstains up to the highest
    /// instance any of them knows (any instance it may have voted in is known to a member
    /// of the majority that voted with it), learns and applies every instance up to that
    /// bound (the others decide them), and only then serves.
    ///
    /// With three servers, a restarted server needs both others up and ready: restart one
    /// server at a time.
    ///
    /// # Panics
    /// If `me` is not an index of `servers` (a programming error).
    pub fn restart(net: &Network, servers: &[String], me: usize) -> KvServer {
        KvServer::restart_on(Node::simulated(net, &servers[me]), servers, me)
    }

    /// Restarts server `me` on `node` (whose name is `servers[me]`) after a crash that lost
    /// its disk, or whose disk it should not trust, as [`KvServer::restart`] says.
    ///
    /// # Panics
    /// If `me` is not an index of `servers`, or `servers[me]` is not the node's name
    /// (programming errors).
    pub fn restart_on(node: Node, servers: &[String], me: usize) -> KvServer {
        let server = KvServer::make(node, servers, me, false);
        // BEGIN SOLUTION
        // STUB: // lab 3B: its acceptor may have voted in any instance before the crash: it must
        // STUB: // vote in none until the recovery says up to where (see above).
        server.inner.px.abstain_through(Seq::MAX);
        // END SOLUTION
        let node = &server.inner.node;
        node.serve(server.clone().serve());
        let recovering = server.clone();
        node.spawn(async move { recovering.recover().await });
        server
    }

    fn make(node: Node, servers: &[String], me: usize, ready: bool) -> KvServer {
        let clients: Vec<KvPaxosClient<KvEnd>> = servers
            .iter()
            .map(|to| KvPaxosClient::from(node.client(to)))
            .collect();
        let links = Links {
            clients: clients.clone(),
        };
        let px = Peer::on_with_transport(node.clone(), servers, me, Arc::new(links));
        let disk = node.disk();
        // An unreadable snapshot leaves the empty prefix, which the log and the others
        // complete (K1); the Paxos peer reports its own damage (it then abstains).
        let (saved, _damaged) = storage::load(&disk);
        let saved = saved.unwrap_or_default();
        let server = KvServer {
            inner: Arc::new(Inner {
                me,
                servers: servers.to_vec(),
                node,
                px,
                others: clients,
                disk,
                state: Mutex::new(State {
                    data: saved.data,
                    last: saved.last,
                    next: saved.next,
                    ready,
                    saved: saved.next,
                    unsaved_bytes: 0,
                }),
            }),
        };
        let saver = server.clone();
        server.inner.node.spawn(async move {
            loop {
                tokio::time::sleep(SAVE_INTERVAL).await;
                saver.save().await;
            }
        });
        server
    }

    /// Writes and syncs a snapshot if something was applied since the last, then says
    /// `done` with what it holds (**K5**).
    async fn save(&self) {
        // BEGIN SOLUTION: todo!("lab 3B: if something was applied since the last snapshot, write and sync a snapshot of it, then say done for what it holds (K5)")
        let next = {
            let mut state = self.inner.state.lock();
            if state.next <= state.saved {
                return;
            }
            if storage::write(&self.inner.disk, state.next, &state.data, &state.last).is_err() {
                return; // a dead incarnation's disk, or a failing one: say nothing done
            }
            state.unsaved_bytes = 0;
            state.next
        };
        if self.inner.disk.sync().await.is_err() {
            return;
        }
        let mut state = self.inner.state.lock();
        state.saved = state.saved.max(next);
        drop(state);
        self.inner.px.done(next.saturating_sub(1));
        // END SOLUTION
    }

    /// Saves if enough was applied since the last snapshot.
    async fn save_if_due(&self) {
        let due = {
            let state = self.inner.state.lock();
            storage::snapshot_due(state.next, state.saved, state.unsaved_bytes)
        };
        if due {
            self.save().await;
        }
    }

    /// Crashes the server (kills its node).
    pub fn kill(&self) {
        self.inner.px.kill();
    }

    /// A copy of the key/value map.
    pub fn data(&self) -> BTreeMap<String, String> {
        self.inner.state.lock().data.clone()
    }

    /// The next log instance this server will apply.
    pub fn applied(&self) -> Seq {
        self.inner.state.lock().next
    }

    /// Whether the server serves (false while a restarted server catches up).
    pub fn is_ready(&self) -> bool {
        self.inner.state.lock().ready
    }

    /// Bytes this server holds: values in Paxos instances not yet forgotten, plus the keys
    /// and values of its map (what it means to hold; the memory test measures the heap).
    pub fn held_bytes(&self) -> usize {
        let map: usize = self
            .inner
            .state
            .lock()
            .data
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum();
        self.inner.px.held().1 + map
    }

    /// The server's Paxos peer (for statistics).
    pub fn paxos(&self) -> &Peer<Op> {
        &self.inner.px
    }

    /// Runs `op` through the log and returns its reply (**K2**: at most once).
    async fn run(&self, op: ClientOp) -> KvReply {
        // BEGIN SOLUTION: todo!("lab 3B: put the operation in a free log instance and apply the log up to it; answer its reply, the kept reply of a resend, or why not (K2)")
        let deadline = tokio::time::Instant::now() + AGREEMENT_TIMEOUT;
        let px = &self.inner.px;
        loop {
            let seq = {
                let state = self.inner.state.lock();
                if !state.ready {
                    return Err(KvError::NotReady);
                }
                if let Some((seq, reply)) = state.last.get(&op.client) {
                    if *seq == op.seq {
                        return Ok(reply.clone());
                    }
                    // A clerk sends an operation only after the one before returned, so an
                    // older one was applied: proposing it again would only log a duplicate.
                    if *seq > op.seq {
                        return Err(KvError::Superseded);
                    }
                }
                state.next.max(px.max().saturating_add(1))
            };
            let (client, cseq) = (op.client, op.seq);
            tracing::debug!(
                seq,
                key = op.kind.key(),
                client,
                cseq,
                "proposing the operation"
            );
            if px.start(seq, &Op::Client(op.clone())).is_err() {
                return Err(KvError::Lost);
            }
            // Apply everything up to our instance; if it holds another operation, the loop
            // tries the next free instance.
            self.catch_up(seq, deadline).await?;
        }
        // END SOLUTION
    }

    /// Applies every instance up to `upto`, filling holes with no-ops (**K3**). If an
    /// instance stays undecided for `STALL`, or was forgotten, the server copies the
    /// state of a server that is further along (the servers that applied it may have
    /// forgotten it, or lost its decision in a restart).
    async fn catch_up(&self, upto: Seq, deadline: tokio::time::Instant) -> Result<(), KvError> {
        // BEGIN SOLUTION: todo!("lab 3B: apply every instance up to upto in order, proposing no-ops in holes (K3); copy the state of a server further along if an instance was forgotten or stays undecided")
        let px = &self.inner.px;
        let mut wait = POLL_MIN;
        let mut stalled_since = tokio::time::Instant::now();
        loop {
            let next = self.inner.state.lock().next;
            if next > upto {
                return Ok(());
            }
            let now = tokio::time::Instant::now();
            match px.status(next) {
                Status::Decided(op) => {
                    self.apply(next, op);
                    self.save_if_due().await;
                    wait = POLL_MIN;
                    stalled_since = now;
                }
                Status::Forgotten => {
                    tracing::debug!(seq = next, "forgotten before we applied it: state transfer");
                    if !self.transfer_by(deadline).await? {
                        return Err(KvError::Lost);
                    }
                }
                Status::Pending => {
                    if now >= deadline {
                        return Err(KvError::NoAgreement);
                    }
                    if now >= stalled_since + STALL {
                        stalled_since = now;
                        if self.transfer_by(deadline).await? {
                            continue;
                        }
                    }
                    // Harmless if someone (this server included) already proposes there.
                    tracing::debug!(seq = next, "a hole in the log: proposing a no-op");
                    if px.start(next, &Op::Noop).is_err() {
                        return Err(KvError::Lost);
                    }
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(POLL_MAX);
                }
            }
        }
        // END SOLUTION
    }

    /// Applies instance `seq` if it is the next one (another request of this server may have
    /// applied it meanwhile) (**K1**, **K2**); `done` waits for a snapshot (**K5**).
    fn apply(&self, seq: Seq, op: Op) {
        // BEGIN SOLUTION: todo!("lab 3B: apply the instance if it is the next one, each clerk operation once, keeping its reply (K1, K2)")
        let mut state = self.inner.state.lock();
        if state.next != seq {
            return;
        }
        if let Op::Client(op) = op {
            let fresh = state
                .last
                .get(&op.client)
                .is_none_or(|(last, _)| op.seq > *last);
            let (key, client, cseq) = (op.kind.key(), op.client, op.seq);
            let what = if fresh {
                "applied"
            } else {
                "a duplicate: skipped"
            };
            tracing::debug!(seq, key, client, cseq, op = op.kind.name(), "{what}");
            if fresh {
                let reply = match op.kind {
                    OpKind::Get { key } => state.data.get(&key).cloned().unwrap_or_default(),
                    OpKind::Put { key, value } => {
                        state.unsaved_bytes += value.len();
                        state.data.insert(key, value);
                        String::new()
                    }
                    OpKind::Append { key, value } => {
                        state.unsaved_bytes += value.len();
                        state.data.entry(key).or_default().push_str(&value);
                        String::new()
                    }
                };
                state.last.insert(op.client, (op.seq, reply));
            }
        } else {
            tracing::debug!(seq, "applied a no-op");
        }
        state.next = seq.saturating_add(1);
        // END SOLUTION
    }
}

impl KvPaxos for KvServer {
    async fn execute(self, _: Context, op: ClientOp) -> KvReply {
        self.run(op).await
    }

    async fn prepare(self, _: Context, args: PrepareArgs) -> PrepareReply {
        self.inner.px.on_prepare(args).await
    }

    async fn accept(self, _: Context, args: AcceptArgs) -> AcceptReply {
        self.inner.px.on_accept(args).await
    }

    async fn decided(self, _: Context, args: DecidedArgs) -> DecidedReply {
        self.inner.px.on_decided(args).await
    }

    async fn snapshot(self, _: Context) -> Snapshot {
        // BEGIN SOLUTION: todo!("lab 3B: this server's state, for a server that lacks it; the default while not ready")
        let state = self.inner.state.lock();
        if !state.ready {
            return Snapshot::default();
        }
        Snapshot {
            ready: true,
            next: state.next,
            max: self.inner.px.max(),
            data: state.data.clone(),
            last: state.last.clone(),
        }
        // END SOLUTION
    }
}
