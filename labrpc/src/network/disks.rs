//! The nodes' simulated disks: made on first use, crashed with their node, lost on demand.

use std::sync::Arc;
use std::time::Duration;

use super::{Inner, Network, NodeId};
use crate::SharedRng;
use crate::disk::{Disk, sim_handle};
use crate::trace::EventKind;

impl Network {
    /// The disk of node `name` for its current life (made empty on first use). A server
    /// asks for it when it starts, and recovers from what it reads; see [`crate::disk`] for
    /// what a crash ([`Network::kill`]) keeps.
    pub fn disk(&self, name: &str) -> Disk {
        let mut inner = self.inner.lock();
        let id = inner.node(name);
        let disk = inner.disks.entry(id).or_default().clone();
        drop(inner);
        sim_handle(disk)
    }

    /// Replaces the disk of node `name` with an empty one, as when a crashed machine is
    /// replaced: handles of the old disk fail with [`crate::disk::DiskError::Crashed`]. Usually
    /// called between [`Network::kill`] and the restart.
    pub fn lose_disk(&self, name: &str) {
        let mut inner = self.inner.lock();
        let id = inner.node(name);
        inner.disks.entry(id).or_default().lock().lose();
        inner.event(EventKind::DiskLost, 0, id, None, "", 0, Duration::ZERO);
    }
}

impl Inner {
    /// Node `id` crashed: its disk, if any, keeps only what was synced.
    pub(super) fn crash_disk(&mut self, id: NodeId, rng: &SharedRng) {
        let Some(disk) = self.disks.get(&id).map(Arc::clone) else {
            return;
        };
        let torn = disk.lock().crash(rng);
        if let Some(torn) = torn {
            let what = format!("{}: kept {} of {} bytes", torn.file, torn.kept, torn.of);
            self.event(
                EventKind::TornWrite,
                0,
                id,
                None,
                &what,
                torn.kept,
                Duration::ZERO,
            );
        }
    }
}
