//! The view server: one node that decides the views.
//!
//! It keeps the current view, whether its primary has acknowledged it, and for every server
//! that ever pinged: when it last pinged, whether it has pinged a non-zero view number since
//! it (re)started, and whether it restarted while holding a role in the current view.
//!
//! ## Rules, and the invariant each keeps
//!
//! - **V1 — first primary.** From view 0 only, the first server to ping 0 becomes the primary
//!   of view 1 (with no backup). No other view ever has a primary that was not the primary or
//!   the backup of the view before.
//! - **V2 — acknowledgement.** The view server leaves view *n* only after the primary of *n*
//!   has pinged *n*. A primary acknowledges only after it made its backup a full copy, so the
//!   backup of an acknowledged view holds the state.
//! - **V3 — succession.** The primary of view *n+1* is the primary of *n* if it is alive and
//!   did not restart, else the backup of *n* under the same condition. An uninitialized
//!   server never becomes primary: if neither can go on, the service waits rather than lose
//!   acknowledged writes. While a copy is only silent there is no new view (it may come back
//!   with its state); once the primary restarted and the backup (if any) too, every copy is
//!   known to be gone and view *n+1* has no primary at all, for good, so that the restarted
//!   server cannot mistake the view it held for one made for it (as the primary of view 1
//!   otherwise would: it would serve that view from empty state).
//! - **V4 — restart.** A server that pinged a non-zero view number and then pings 0 restarted
//!   and lost its state. If it is the primary or the backup, it is replaced at the next
//!   view change (and is not chosen again in that same change). (A server pings 0 until its
//!   first reply, so repeated 0-pings of a server that never got an answer are not restarts.)
//! - **V5 — liveness.** A server silent for [`DEAD_TIME`] is dead. One view change does all
//!   that can be done at once: the backup replaces a dead primary, a dead backup is dropped,
//!   and an idle live server fills an empty backup slot.

use labrpc::Node;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tarpc::context::Context;
use tokio::time::Instant;

use crate::common::{DEAD_TIME, PING_INTERVAL, PingArgs, View, ViewService};

/// A running view server: the handle a test or example keeps. Cheap to clone.
#[derive(Clone)]
pub struct ViewServer {
    node: Node,
    shared: Arc<Shared>,
}

/// What the RPC handlers and the ticker share.
struct Shared {
    state: Mutex<State>,
    rpcs: AtomicU64,
}

/// The view server's memory.
struct State {
    view: View,
    /// Whether the primary of `view` has pinged `view.viewnum` (V2).
    acked: bool,
    servers: BTreeMap<String, Seen>,
}

/// What the view server knows about one server.
struct Seen {
    last_ping: Instant,
    /// It pinged a non-zero view number since it last (re)started (V4).
    pinged_view: bool,
    /// It restarted while holding a role in the current view (V4).
    restarted: bool,
}

/// The RPC face of the view server (what [`Node::serve`] serves).
#[derive(Clone)]
struct Service(Arc<Shared>);

impl ViewServer {
    /// Starts a view server with no view (view 0) on node `name`, with its ticker as a task of
    /// that node. Starting it again on the same node is a restart with empty state.
    pub fn start(net: &labrpc::Network, name: &str) -> ViewServer {
        ViewServer::on(Node::simulated(net, name))
    }

    /// Starts a view server with no view (view 0) on `node`, with its ticker as a task of that
    /// node. Starting it again on the same node is a restart with empty state.
    pub fn on(node: Node) -> ViewServer {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                view: View::default(),
                acked: false,
                servers: BTreeMap::new(),
            }),
            rpcs: AtomicU64::new(0),
        });
        node.serve(Service(shared.clone()).serve());
        let ticker = shared.clone();
        // A random phase: where the view server's ticks fall among the pings depends on the
        // seed (a dead-time off-by-one shows on some seeds, not on none).
        let phase = node.phase(PING_INTERVAL);
        node.spawn(async move {
            tokio::time::sleep(phase).await;
            loop {
                tokio::time::sleep(PING_INTERVAL).await;
                let mut state = ticker.state.lock();
                let before = state.view.viewnum;
                state.advance(Instant::now());
                state.report_change(before, "tick");
            }
        });
        ViewServer { node, shared }
    }

    /// The node the view server runs on.
    pub fn name(&self) -> &str {
        self.node.name()
    }

    /// How many RPCs (pings and gets) this view server has handled (Go's `GetRPCCount`).
    pub fn rpc_count(&self) -> u64 {
        self.shared.rpcs.load(Ordering::Relaxed)
    }

    /// The current view, read directly (for tests and examples; clients use [`crate::Clerk`]).
    pub fn view(&self) -> View {
        self.shared.state.lock().view.clone()
    }

    /// Whether the primary of the current view has acknowledged it (so that the view
    /// server may move on when needed).
    pub fn is_acked(&self) -> bool {
        self.shared.state.lock().acked
    }

    /// Crashes the view server: its ticker and handlers stop at once. Since the view server
    /// is not replicated, no view changes again until it is started anew (with no memory).
    pub fn kill(&self) {
        self.node.kill();
    }
}

impl State {
    /// Records a protocol event if the view changed since view `before` (`during`: the ping
    /// or tick that changed it).
    fn report_change(&self, before: u64, during: &str) {
        if self.view.viewnum != before {
            let (view, primary, backup) =
                (self.view.viewnum, &self.view.primary, &self.view.backup);
            let (primary, backup) = (primary.as_deref(), backup.as_deref());
            tracing::info!(view, primary, backup, during, "new view");
        }
    }

    /// Handles one ping from `me` who knows view `viewnum` (V1, V2, V4), then tries to move on.
    fn ping(&mut self, me: &str, viewnum: u64, now: Instant) -> View {
        // BEGIN SOLUTION: todo!("lab 2A: note who pinged and what it knows (V1 first primary, V2 acknowledgement, V4 restart), then move on if a change is due; return the current view")
        let seen = self.servers.entry(me.to_owned()).or_insert(Seen {
            last_ping: now,
            pinged_view: false,
            restarted: false,
        });
        seen.last_ping = now;
        if viewnum == 0 {
            if seen.pinged_view && (self.view.is_primary(me) || self.view.is_backup(me)) {
                seen.restarted = true; // V4: its copy of the state is gone
            }
            seen.pinged_view = false;
        } else {
            seen.pinged_view = true;
        }
        if self.view.is_primary(me) && viewnum == self.view.viewnum && !seen.restarted {
            self.acked = true; // V2
        }
        if self.view.viewnum == 0 && viewnum == 0 {
            // V1: the very first primary.
            tracing::debug!(server = me, "the first server to ping becomes primary (V1)");
            self.view = View {
                viewnum: 1,
                primary: Some(me.to_owned()),
                backup: None,
            };
            self.acked = false;
        } else {
            self.advance(now);
        }
        self.view.clone()
        // END SOLUTION
    }

    /// A server that may keep (or take) a role: alive and not restarted.
    fn usable(&self, name: &str, now: Instant) -> bool {
        // BEGIN SOLUTION: todo!("lab 2A: whether this server may keep or take a role: heard from within DEAD_TIME, and not restarted out of the current view (V4, V5)")
        self.servers
            .get(name)
            .is_some_and(|s| !s.restarted && now.duration_since(s.last_ping) < DEAD_TIME)
        // END SOLUTION
    }

    /// Moves to the next view if one is needed and allowed (V2, V3, V5).
    fn advance(&mut self, now: Instant) {
        // BEGIN SOLUTION: todo!("lab 2A: move to the next view if the current one is acknowledged and a change is due (V2, V3, V5)")
        if self.view.viewnum == 0 || !self.acked {
            return; // V2 (view 0 has no primary to wait for: V1 makes view 1)
        }
        let old = self.view.clone();
        let keeps = |role: &Option<String>| role.as_ref().filter(|n| self.usable(n, now)).cloned();
        let (primary, mut backup) = match (keeps(&old.primary), keeps(&old.backup)) {
            (Some(primary), backup) => (primary, backup),
            (None, Some(backup)) => {
                tracing::debug!(
                    primary = old.primary.as_deref(),
                    "the primary is dead or restarted: the backup takes over (V3)"
                );
                (backup, None)
            }
            (None, None) => {
                // V3: nobody holds the state. Wait while the primary or the backup may come
                // back with it; once every copy restarted, the state is gone: a view with no
                // primary says so.
                let restarted = |role: &Option<String>| {
                    role.as_ref()
                        .and_then(|n| self.servers.get(n))
                        .is_some_and(|s| s.restarted)
                };
                let backup_gone = old.backup.is_none() || restarted(&old.backup);
                if old.primary.is_some() && restarted(&old.primary) && backup_gone {
                    tracing::debug!("every copy of the state restarted: a view without a primary");
                    self.enter(View {
                        viewnum: old.viewnum + 1,
                        primary: None,
                        backup: None,
                    });
                }
                return;
            }
        };
        if backup.is_none() {
            // V5: an idle live server fills the slot; never one that just restarted out of
            // this view's roles (V4), never the new primary.
            backup = self
                .servers
                .keys()
                .find(|n| **n != primary && self.usable(n, now))
                .cloned();
        }
        let next = View {
            viewnum: old.viewnum + 1,
            primary: Some(primary),
            backup,
        };
        if (&next.primary, &next.backup) != (&old.primary, &old.backup) {
            let backup = next.backup.as_deref();
            tracing::debug!(
                old = old.backup.as_deref(),
                backup,
                "the backup slot changes (V3, V5)"
            );
            self.enter(next);
        }
        // END SOLUTION
    }

    /// Makes `view` current, not yet acknowledged. Whoever restarted out of the old view's
    /// roles is from now on just an idle server (V4: it may be chosen again later).
    fn enter(&mut self, view: View) {
        // BEGIN SOLUTION: todo!("lab 2A: make this view current, not yet acknowledged; a server that restarted out of the old roles is idle again")
        self.view = view;
        self.acked = false;
        // Whoever restarted out of the old roles is now just an idle server.
        for seen in self.servers.values_mut() {
            seen.restarted = false;
        }
        // END SOLUTION
    }
}

impl ViewService for Service {
    async fn ping(self, _: Context, args: PingArgs) -> View {
        self.0.rpcs.fetch_add(1, Ordering::Relaxed);
        let mut state = self.0.state.lock();
        let before = state.view.viewnum;
        let view = state.ping(&args.me, args.viewnum, Instant::now());
        state.report_change(before, &format!("ping from {}", args.me));
        view
    }

    async fn get(self, _: Context) -> View {
        self.0.rpcs.fetch_add(1, Ordering::Relaxed);
        self.0.state.lock().view.clone()
    }
}
