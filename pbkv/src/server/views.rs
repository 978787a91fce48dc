//! How a server follows the views: its pings to the view service (what each ping
//! acknowledges) and what it does when a reply brings a newer view (P2, P5, P7).

use std::sync::Arc;
use viewservice::{PING_INTERVAL, View};

use super::Shared;

impl Shared {
    /// Pings every [`PING_INTERVAL`]. Each ping is its own task so that a slow reply never
    /// delays the next heartbeat; replies are applied only if they bring a newer view.
    pub(super) async fn tick_forever(self: Arc<Self>) {
        // Servers' pings do not fall in lockstep with each other or the view server's ticks.
        tokio::time::sleep(self.node.phase(PING_INTERVAL)).await;
        loop {
            if let Some(viewnum) = self.ping_viewnum() {
                let me = self.clone();
                self.node.spawn(async move {
                    if let Ok(view) = me.vs.ping(viewnum).await {
                        me.learn(view, viewnum);
                    }
                });
            }
            tokio::time::sleep(PING_INTERVAL).await;
        }
    }

    /// The number to ping with: 0 until the view service answered (P5); as primary, the
    /// view's number only once the backup holds our state (P2), so the view service cannot
    /// move on to a view whose primary would be an empty backup, and once our disk holds
    /// the view (P7), so a restart never brings back an older view in which we served alone.
    /// `None`: skip this ping (the first primary waits one tick for its copy to be saved:
    /// view 1 has no "alive, not acknowledging" number).
    ///
    /// A primary whose backup holds its state but whose disk does not yet hold the view
    /// starts one background save (under the store lock; `saving` says one is under way).
    /// Until the view is acknowledgeable it pings any other non-zero number.
    pub(super) fn ping_viewnum(self: &Arc<Self>) -> Option<u64> {
        // BEGIN SOLUTION: todo!("lab 2B: the number to ping with: 0 until the view service answered, the view's number as primary only once the backup holds our state and the disk the view (P2, P5, P7); None skips a ping")
        let mut status = self.status.lock();
        if !status.heard {
            return Some(0);
        }
        let viewnum = status.view.viewnum;
        if !status.view.is_primary(self.node.name()) {
            return Some(viewnum);
        }
        let synced = status.initialized
            && (status.view.backup.is_none() || status.backup_synced == Some(viewnum));
        if synced && status.saved_view < viewnum && !status.saving {
            status.saving = true;
            let me = self.clone();
            self.node.spawn(async move {
                let store = me.store.lock().await;
                let _ = me.save(&store).await;
                me.status.lock().saving = false;
            });
        }
        if synced && status.saved_view >= viewnum {
            Some(viewnum)
        } else if viewnum > 1 {
            Some(viewnum - 1) // any non-zero number but the view's: "alive, not acknowledging"
        } else {
            None
        }
        // END SOLUTION
    }

    /// Takes in a view from the view service's answer to a ping of `pinged`.
    ///
    /// The view service has now heard us (`heard`), and if we pinged a non-zero number it
    /// has seen us since our start (`ready`, P5). A newer view replaces ours; being named
    /// primary of view 1 starts the (empty) state (P5: the very first primary). A primary
    /// holding a real copy, in a view whose backup is not yet synced for it, starts one
    /// background transfer (`sync_backup` under the store lock; `transferring` says one is
    /// under way).
    fn learn(self: &Arc<Self>, view: View, pinged: u64) {
        // BEGIN SOLUTION: todo!("lab 2B: take in the view service's answer to a ping (P5), and start a transfer if we are the primary and the backup does not hold our state (P2)")
        let mut status = self.status.lock();
        status.heard = true;
        status.ready |= pinged != 0;
        if view.viewnum > status.view.viewnum {
            let (primary, backup) = (view.primary.as_deref(), view.backup.as_deref());
            tracing::debug!(view = view.viewnum, primary, backup, "new view");
            if view.viewnum == 1 && view.is_primary(self.node.name()) {
                status.initialized = true; // P5: the first primary starts the (empty) state
            }
            status.view = view;
        }
        let view = &status.view;
        let needs_transfer = view.is_primary(self.node.name())
            && view.backup.is_some()
            && status.initialized
            && status.backup_synced != Some(view.viewnum);
        if needs_transfer && !status.transferring {
            status.transferring = true;
            let me = self.clone();
            self.node.spawn(async move {
                let mut store = me.store.lock().await;
                let _ = me.sync_backup(&mut store).await;
                me.status.lock().transferring = false;
            });
        }
        // END SOLUTION
    }
}
