//! How a server gets the state it lacks from the others: their snapshots, installing the
//! most advanced (**K1**, **K5**), and the catch-up of a server restarted without its disk.

use rand::Rng;
use std::time::Duration;

use super::{AGREEMENT_TIMEOUT, KvServer, QUIET};
use crate::common::{KvError, Snapshot};

impl KvServer {
    /// The snapshots of the other servers that are ready (one request each, at once).
    async fn snapshots(&self) -> Vec<Snapshot> {
        // BEGIN SOLUTION: todo!("lab 3B: ask every other server for its state, all at once; keep the ready ones")
        let inner = &self.inner;
        let calls = (0..inner.servers.len())
            .filter(|&i| i != inner.me)
            .map(|i| {
                let client = inner.others[i].clone();
                async move { client.snapshot(labrpc::context()).await }
            });
        futures::future::join_all(calls)
            .await
            .into_iter()
            .filter_map(Result::ok)
            .filter(|s| s.ready)
            .collect()
        // END SOLUTION
    }

    /// Replaces this server's state by `snapshot` if the snapshot is further along the log
    /// (**K1**: it is the state of a longer prefix of the same log), and saves it (**K5**).
    /// True if it did.
    async fn install(&self, snapshot: Snapshot) -> bool {
        // BEGIN SOLUTION: todo!("lab 3B: take the snapshot's state if it is further along the log, and save it (K1, K5)")
        {
            let mut state = self.inner.state.lock();
            if snapshot.next <= state.next {
                return false;
            }
            state.data = snapshot.data;
            state.last = snapshot.last;
            let (from, to) = (state.next, snapshot.next);
            tracing::debug!(from, to, "installed a snapshot further along the log");
            state.next = snapshot.next;
        }
        self.save().await;
        true
        // END SOLUTION
    }

    /// State transfer for a lagging server: installs the most advanced snapshot of the
    /// others if it is ahead. True if it was.
    async fn transfer(&self) -> bool {
        // BEGIN SOLUTION: todo!("lab 3B: install the most advanced snapshot of the others if it is ahead")
        let best = self.snapshots().await.into_iter().max_by_key(|s| s.next);
        match best {
            Some(best) => self.install(best).await,
            None => false,
        }
        // END SOLUTION
    }

    /// [`Self::transfer`] for a client's request: given up at the request's `deadline`
    /// (snapshot calls to unreachable servers can take seconds under long delays). Safe to
    /// abandon: nothing is installed before every snapshot is in.
    pub(super) async fn transfer_by(
        &self,
        deadline: tokio::time::Instant,
    ) -> Result<bool, KvError> {
        tokio::time::timeout_at(deadline, self.transfer())
            .await
            .map_err(|_| KvError::NoAgreement)
    }

    /// State transfer after a restart (see [`KvServer::restart`]).
    pub(super) async fn recover(self) {
        // BEGIN SOLUTION: todo!("lab 3B: after a restart without a disk, copy the state of n - n/2 ready servers, abstain up to the highest instance they know, apply up to it, then serve")
        let n = self.inner.servers.len();
        let needed = n - n / 2;
        tokio::time::sleep(QUIET).await;
        loop {
            let snapshots = self.snapshots().await;
            if snapshots.len() >= needed {
                let bound = snapshots.iter().map(|s| s.max).max().unwrap_or(-1);
                if let Some(best) = snapshots.into_iter().max_by_key(|s| s.next) {
                    self.install(best).await;
                    self.inner.px.abstain_through(bound);
                    // Serve only once every instance we abstain in is decided and applied:
                    // then the instances still open are above every ready server's bound,
                    // so all ready servers vote in them, and a later restart cannot leave
                    // an instance with too few voters to ever decide.
                    loop {
                        let deadline = tokio::time::Instant::now() + AGREEMENT_TIMEOUT;
                        match self.catch_up(bound, deadline).await {
                            Ok(()) => {
                                self.inner.state.lock().ready = true;
                                return;
                            }
                            Err(KvError::NoAgreement) => continue,
                            // Nobody remembers what we need: ask again from the start.
                            Err(_) => break,
                        }
                    }
                }
            }
            let wait = self.inner.node.rng().random_range(50..150);
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
        // END SOLUTION
    }
}
