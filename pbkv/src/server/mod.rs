//! The key/value server: primary, backup or idle, as the view service says.
//!
//! Each server keeps two things apart: its **status** (the latest view it knows and what it
//! has done in it; a short synchronous lock the ticker also takes) and its **store** (the
//! map and the duplicate table; an async lock held across a forward or a transfer, so that
//! the primary sends operations to its backup one at a time, in the order it applies them).
//!
//! ## Invariants
//!
//! - **P1 — one order.** The primary holds the store lock from before it forwards an
//!   operation until after it applied it, so the backup applies forwarded operations in the
//!   primary's order; and the primary applies an operation only after the backup did.
//! - **P2 — a backup counts only once it holds the state.** The primary forwards nothing to a
//!   backup (and does not acknowledge the view to the view service) before the backup
//!   installed a full copy of its map and duplicate table for that view. When a forward's
//!   outcome is unknown (lost request or lost reply), the backup may hold one operation more
//!   than the primary, so the primary transfers its whole state again before the next one.
//! - **P3 — no stale Gets.** A Get goes through the backup like any operation. A backup that
//!   knows a newer view than the primary's refuses it, and once a backup has learnt it is
//!   the new primary it refuses every forward of the old view; so an old primary completes
//!   nothing after its successor started serving. A primary without a backup is the only
//!   copy: the view service can make nobody else primary (it waits for its ack of a view
//!   with a backup first).
//! - **P4 — at most once.** A Put or Append whose sequence number is not above the clerk's
//!   last applied one is not applied again; the table moves with the state (P2).
//! - **P5 — no state, no service.** A (re)started server holds nothing: it serves as primary
//!   only after a transfer made it a copy, or if it is the very first primary (view 1). It
//!   pings 0 until the view service answers, then the view it knows, so the view service
//!   sees a restart as a ping of 0 after non-zero ones; and it accepts a transfer only once
//!   the view service has seen such a non-zero ping, so a copy it held is never forgotten
//!   unseen.
//! - **P6 — no waiting in a cycle.** A server holds its store lock while it calls its backup,
//!   so two servers that each believe the other is their backup (one of them in a view that
//!   is over) would wait for each other's lock forever. So `forward` and `transfer` check the
//!   sender's view before they wait for the store, and refuse an older view than ours at
//!   once; the server of the older view thus always gets its answer and lets go of its lock.
//!
//! - **P7 — answered means durable**: see [`crate::storage`]; a server restarted with its
//!   disk resumes as the copy it was.
//!
//! A first primary that crashes and restarts while view 1 is current (no backup ever joined)
//! cannot tell that view from one made for it; the view service settles it: a restarted
//! primary with no copy left is followed by a view with no primary (its rule V3).

use labrpc::{Disk, Error, Network, Node};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;
use tarpc::context::Context;
use viewservice::View;

use crate::common::{ClientOp, Forward, KvEnd, KvError, KvReply, Op, PbKv, PbKvClient, Snapshot};
use crate::storage;

// BEGIN SOLUTION
#[cfg(test)]
mod tests;
// END SOLUTION
mod views;

/// A running key/value server: the handle a test keeps. Cheap to clone.
#[derive(Clone)]
pub struct PbServer {
    shared: Arc<Shared>,
}

struct Shared {
    node: Node,
    vs: viewservice::Clerk,
    status: Mutex<Status>,
    store: tokio::sync::Mutex<Store>,
    /// Client ends to the other servers, made on first use.
    peers: Mutex<BTreeMap<String, PbKvClient<KvEnd>>>,
    /// The node's disk, holding this server's copy (P7).
    disk: Disk,
}

/// What the server knows of the views and of its role in them.
#[derive(Default)]
struct Status {
    /// The newest view heard of (from the view service or from a primary's transfer).
    view: View,
    /// The view service has answered one of our pings.
    heard: bool,
    /// The view service has answered a ping with a non-zero view number (P5).
    ready: bool,
    /// The store is a real copy of the service's state (P5).
    initialized: bool,
    /// As primary: the view whose backup holds our state (P2).
    backup_synced: Option<u64>,
    /// As backup: the view for which we installed the primary's state (P2).
    synced_as_backup: Option<u64>,
    /// A background transfer to the backup is under way.
    transferring: bool,
    /// The view number of the copy on disk (P7: a primary acknowledges no newer view).
    saved_view: u64,
    /// A background save of the copy is under way.
    saving: bool,
}

/// The replicated state.
#[derive(Default)]
struct Store {
    data: BTreeMap<String, String>,
    /// Highest Put/Append sequence number applied, per clerk (P4).
    applied: BTreeMap<u64, u64>,
}

/// The RPC face of a server (what [`Node::serve`] serves).
#[derive(Clone)]
struct Service(Arc<Shared>);

impl PbServer {
    /// Starts a server on node `name`, using the view server on node `vs`. Its ticker is a
    /// task of the node, so [`PbServer::kill`] stops it.
    ///
    /// The server starts from the copy on the node's disk, if there is one (a restart after
    /// a crash that kept the disk, P7), and empty otherwise (a first start, or a restart after
    /// [`Network::lose_disk`]).
    pub fn start(net: &Network, name: &str, vs: &str) -> PbServer {
        PbServer::on(Node::simulated(net, name), vs)
    }

    /// Starts a server on `node`, using the view server `vs`. Its ticker is a task of the
    /// node, so [`PbServer::kill`] stops it.
    ///
    /// The server starts from the copy on the node's disk, if there is one (a restart after
    /// a crash that kept the disk, P7), and empty otherwise.
    pub fn on(node: Node, vs: &str) -> PbServer {
        let disk = node.disk();
        let (status, store) = match storage::load(&disk) {
            // BEGIN SOLUTION: Some(copy) => todo!("lab 2B: resume as the copy on disk (P7): its view, map and duplicate table, and the status a server that held that copy had"),
            Some(copy) => (
                Status {
                    saved_view: copy.view.viewnum,
                    view: copy.view,
                    heard: true,
                    ready: true,
                    initialized: true,
                    synced_as_backup: copy.synced_as_backup,
                    ..Status::default()
                },
                Store {
                    data: copy.data,
                    applied: copy.applied,
                },
            ),
            // END SOLUTION
            None => (Status::default(), Store::default()),
        };
        let shared = Arc::new(Shared {
            vs: viewservice::Clerk::on(&node, vs),
            node: node.clone(),
            status: Mutex::new(status),
            store: tokio::sync::Mutex::new(store),
            peers: Mutex::new(BTreeMap::new()),
            disk,
        });
        node.serve(Service(shared.clone()).serve());
        let ticker = shared.clone();
        node.spawn(async move { ticker.tick_forever().await });
        PbServer { shared }
    }

    /// The node this server runs on.
    pub fn name(&self) -> &str {
        self.shared.node.name()
    }

    /// Crashes the server: its ticker, pings, transfers and handlers stop at once.
    pub fn kill(&self) {
        self.shared.node.kill();
    }

    /// The newest view this server knows.
    pub fn view(&self) -> View {
        self.shared.status.lock().view.clone()
    }

    /// A copy of the map, if no operation holds it at this moment (for tests).
    pub fn data(&self) -> Option<BTreeMap<String, String>> {
        self.shared.store.try_lock().ok().map(|s| s.data.clone())
    }
}

impl Shared {
    fn peer(&self, name: &str) -> PbKvClient<KvEnd> {
        self.peers
            .lock()
            .entry(name.to_owned())
            .or_insert_with(|| PbKvClient::from(self.node.client(name)))
            .clone()
    }

    /// As primary, makes sure the backup of the current view holds our state (P2). The
    /// caller holds the store lock, so nothing changes between the copy and its install.
    ///
    /// `WrongServer` if we are not the primary of our view or hold no real copy (P3, P5).
    /// With no backup, or one already synced for this view, there is nothing to do. Else
    /// the backup gets a [`Snapshot`] (the view, the map and the duplicate table); once it
    /// installed it, `backup_synced` says so (if our view is still that one). The backup's
    /// refusal is passed through (`WrongServer`: it knows a newer view; `NotReady`: the view
    /// service has not seen it since its start); no answer is `NotReady`.
    async fn sync_backup(&self, store: &mut Store) -> Result<(), KvError> {
        // BEGIN SOLUTION: todo!("lab 2B: as primary, with the store lock held: make sure the backup of the current view holds our whole state, transferring it if it does not yet (P2, P3, P5)")
        let view = {
            let status = self.status.lock();
            if !status.view.is_primary(self.node.name()) || !status.initialized {
                return Err(KvError::WrongServer);
            }
            if status.backup_synced == Some(status.view.viewnum) {
                return Ok(());
            }
            status.view.clone()
        };
        let Some(backup) = view.backup.clone() else {
            return Ok(());
        };
        let snapshot = Snapshot {
            view: view.clone(),
            data: store.data.clone(),
            applied: store.applied.clone(),
        };
        tracing::debug!(
            view = view.viewnum,
            backup,
            "transferring our state to the backup"
        );
        let reply = self
            .peer(&backup)
            .transfer(labrpc::context(), snapshot)
            .await
            .map_err(Error::from);
        match reply {
            Ok(Ok(())) => {
                let mut status = self.status.lock();
                if status.view.viewnum == view.viewnum {
                    status.backup_synced = Some(view.viewnum);
                }
                tracing::debug!(view = view.viewnum, "the backup holds our state");
                Ok(())
            }
            // WrongServer: the backup knows a newer view (P3); NotReady: the view service
            // has not seen it since its start (P5).
            Ok(Err(refused)) => Err(refused),
            Err(_) => Err(KvError::NotReady),
        }
        // END SOLUTION
    }

    /// A client's operation: only the primary of the view it knows carries it out.
    ///
    /// Under the store lock for the whole operation (P1): `WrongServer` if we are not the
    /// primary (a backup refuses clients), `NotReady` if we hold no real copy or the view
    /// service has not seen us since our start (P5). A duplicate Put or Append answers
    /// `Ok("")` at once (P4: the backup applied it too). With a backup: sync it, then
    /// forward the operation; if the forward's outcome is unknown or the backup is not
    /// synced, it gets our whole state again before the next operation and the client hears
    /// `NotReady` (P2); any other refusal is `WrongServer` (P3). Then apply the operation,
    /// save a write before answering (P7, `NotReady` if that fails), and answer its result.
    async fn execute(&self, op: ClientOp) -> KvReply {
        // BEGIN SOLUTION: todo!("lab 2B: as primary of the view we know: refuse, or answer a duplicate, or sync the backup, forward the operation to it, then apply it and save (P1-P5, P7)")
        let mut store = self.store.lock().await;
        let view = {
            let status = self.status.lock();
            if !status.view.is_primary(self.node.name()) {
                return Err(KvError::WrongServer); // a backup refuses clients
            }
            if !status.initialized || !status.ready {
                return Err(KvError::NotReady); // P5
            }
            status.view.clone()
        };
        if store.is_duplicate(&op) {
            return Ok(String::new()); // P4: applied before, and so is the backup's copy (P1)
        }
        if let Some(backup) = &view.backup {
            self.sync_backup(&mut store).await?;
            let args = Forward {
                viewnum: view.viewnum,
                op: op.clone(),
            };
            let reply = self
                .peer(backup)
                .forward(labrpc::context(), args)
                .await
                .map_err(Error::from);
            match reply {
                Ok(Ok(_)) => {}
                Ok(Err(KvError::NotSynced)) | Err(_) => {
                    // P2: the backup may now differ from us by this operation, or it lost
                    // its copy: it gets our whole state again before the next operation.
                    let mut status = self.status.lock();
                    if status.backup_synced == Some(view.viewnum) {
                        status.backup_synced = None;
                    }
                    return Err(KvError::NotReady);
                }
                // P3: the backup knows a newer view; we may no longer be primary.
                Ok(Err(_)) => return Err(KvError::WrongServer),
            }
        }
        let reply = store.apply(&op);
        if !matches!(op.op, Op::Get { .. }) {
            self.save(&store).await.map_err(|_| KvError::NotReady)?; // P7
        }
        Ok(reply)
        // END SOLUTION
    }

    /// Saves `store` as this server's copy, with the view it holds it for (P7). The caller
    /// holds the store lock, so no change is seen before it is durable. Once saved,
    /// `saved_view` covers that view (it only grows).
    async fn save(&self, store: &Store) -> Result<(), labrpc::DiskError> {
        // BEGIN SOLUTION: todo!("lab 2B: write the store, with the view we hold it for, to the node's disk (storage::save); then note that view as saved (P7)")
        let (view, synced_as_backup) = {
            let status = self.status.lock();
            (status.view.clone(), status.synced_as_backup)
        };
        storage::save(
            &self.disk,
            &view,
            synced_as_backup,
            &store.data,
            &store.applied,
        )
        .await?;
        let mut status = self.status.lock();
        status.saved_view = status.saved_view.max(view.viewnum);
        Ok(())
        // END SOLUTION
    }

    /// As backup: applies the primary's operation if we hold its state for its view (P1-P3).
    ///
    /// The check comes before waiting for the store lock (P6: that lock may be held by our
    /// own call to the very server that sends this) and again once we hold it (the view may
    /// have changed meanwhile). A write we applied but could not save answers `NotSynced`,
    /// so that the primary transfers its state again (P2, P7).
    async fn forward(&self, args: Forward) -> KvReply {
        // BEGIN SOLUTION: todo!("lab 2B: as backup: check the sender's view before and after waiting for the store (P6), apply the operation and save it (P1-P3, P7)")
        // P6: refuse a stale primary before waiting for the store, which may be held by our
        // own call to that very server.
        self.check_forward(&args)?;
        let mut store = self.store.lock().await;
        self.check_forward(&args)?; // the view may have changed while we waited
        let reply = store.apply(&args.op);
        if !matches!(args.op.op, Op::Get { .. }) && self.save(&store).await.is_err() {
            // P2, P7: we applied what we cannot keep; the primary transfers its state again.
            return Err(KvError::NotSynced);
        }
        Ok(reply)
        // END SOLUTION
    }

    /// Whether we may apply a forward of `args.viewnum` as its backup (P2, P3).
    fn check_forward(&self, args: &Forward) -> Result<(), KvError> {
        // BEGIN SOLUTION: todo!("lab 2B: whether we may apply a forward of this view as its backup: WrongServer if the view is over, NotSynced if we hold no copy for it (P2, P3)")
        let status = self.status.lock();
        if status.view.viewnum > args.viewnum {
            return Err(KvError::WrongServer); // P3: the sender's view is over
        }
        if status.synced_as_backup != Some(args.viewnum) {
            return Err(KvError::NotSynced); // P2
        }
        Ok(())
        // END SOLUTION
    }

    /// As new backup: installs the primary's whole state (P2), if the view service has seen
    /// us since our start (P5) and the primary's view is not older than ours.
    ///
    /// Checked before waiting for the store lock (P6, as in `forward`) and again under it.
    /// Installing takes the map and the duplicate table, makes us a real copy synced for
    /// the snapshot's view, and adopts that view (a genuine one, no older than ours). Saved
    /// before answering (P7, `NotReady` if that fails).
    async fn transfer(&self, snapshot: Snapshot) -> Result<(), KvError> {
        // BEGIN SOLUTION: todo!("lab 2B: as new backup: check the snapshot's view before and after waiting for the store (P6), install the map and the duplicate table, save (P2, P5, P7)")
        self.check_transfer(&snapshot.view, &self.status.lock())?; // P6, as in `forward`
        let mut store = self.store.lock().await;
        {
            let mut status = self.status.lock();
            self.check_transfer(&snapshot.view, &status)?;
            store.data = snapshot.data;
            store.applied = snapshot.applied;
            status.initialized = true;
            status.synced_as_backup = Some(snapshot.view.viewnum);
            status.view = snapshot.view; // a genuine view, no older than ours: adopt it
            let (view, keys) = (status.view.viewnum, store.data.len());
            tracing::debug!(view, keys, "installed the primary's state as backup");
        }
        self.save(&store).await.map_err(|_| KvError::NotReady) // P7
        // END SOLUTION
    }

    /// Whether we may install a primary's state for `view` as its backup (P2, P5).
    fn check_transfer(&self, view: &View, status: &Status) -> Result<(), KvError> {
        // BEGIN SOLUTION: todo!("lab 2B: whether we may install a primary's state for this view: NotReady before the view service saw a non-zero ping (P5), WrongServer for an older view or one we are not the backup of")
        if !status.ready {
            return Err(KvError::NotReady);
        }
        if status.view.viewnum > view.viewnum || !view.is_backup(self.node.name()) {
            return Err(KvError::WrongServer);
        }
        Ok(())
        // END SOLUTION
    }
}

impl Store {
    /// Whether `op` is a Put or Append its clerk already had applied (P4): its sequence
    /// number is not above the clerk's last applied one. A Get is never a duplicate.
    fn is_duplicate(&self, op: &ClientOp) -> bool {
        // BEGIN SOLUTION: todo!("lab 2B: whether this is a Put or Append this clerk already had applied (P4)")
        !matches!(op.op, Op::Get { .. })
            && self
                .applied
                .get(&op.client)
                .is_some_and(|&seq| seq >= op.seq)
        // END SOLUTION
    }

    /// Applies `op` (at most once for Put and Append, P4) and returns its result.
    fn apply(&mut self, op: &ClientOp) -> String {
        // BEGIN SOLUTION: todo!("lab 2B: apply the operation, a Put or Append at most once (P4), and return its result")
        if self.is_duplicate(op) {
            return String::new();
        }
        match &op.op {
            Op::Get { key } => return self.data.get(key).cloned().unwrap_or_default(),
            Op::Put { key, value } => {
                self.data.insert(key.clone(), value.clone());
            }
            Op::Append { key, value } => self.data.entry(key.clone()).or_default().push_str(value),
        }
        let (client, cseq) = (op.client, op.seq);
        tracing::debug!(
            key = op.op.key(),
            client,
            cseq,
            op = op.op.name(),
            "applied"
        );
        self.applied.insert(op.client, op.seq);
        String::new()
        // END SOLUTION
    }
}

impl PbKv for Service {
    async fn execute(self, _: Context, op: ClientOp) -> KvReply {
        self.0.execute(op).await
    }

    async fn forward(self, _: Context, args: Forward) -> KvReply {
        self.0.forward(args).await
    }

    async fn transfer(self, _: Context, snapshot: Snapshot) -> Result<(), KvError> {
        self.0.transfer(snapshot).await
    }
}
