//! The simulated disk: what reads see, what survives a crash, and the operations in between.

use parking_lot::Mutex;
use rand::Rng;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::{DiskError, DiskStats};
use crate::SharedRng;
use crate::fault::{SYNC_TIME, TORN_APPEND_CHANCE};

/// One node's simulated disk, kept by the network across the node's lives.
#[derive(Debug, Default)]
pub(crate) struct SimDisk {
    /// Which life of the node the disk is in; handles of earlier lives are refused.
    life: u64,
    /// What reads see.
    visible: BTreeMap<String, Vec<u8>>,
    /// What a crash keeps.
    durable: BTreeMap<String, Vec<u8>>,
    /// Operations not yet synced, oldest first, numbered.
    pending: Vec<(u64, Op)>,
    next_op: u64,
    writes: u64,
    syncs: u64,
}

#[derive(Clone, Debug)]
enum Op {
    Write(String, Vec<u8>),
    Append(String, Vec<u8>),
    Remove(String),
}

/// What a crash did to the last unsynced append, for the trace.
pub(crate) struct Torn {
    pub file: String,
    pub kept: usize,
    pub of: usize,
}

impl SimDisk {
    /// The node crashed: back to what was synced, perhaps with a torn last append; handles
    /// of the life that ended stop working.
    pub(crate) fn crash(&mut self, rng: &SharedRng) -> Option<Torn> {
        let mut torn = None;
        if let Some((_, Op::Append(file, bytes))) = self.pending.last() {
            let mut rng = rng.clone();
            if TORN_APPEND_CHANCE.drawn(&mut rng) {
                let kept = rng.random_range(0..bytes.len());
                self.durable
                    .entry(file.clone())
                    .or_default()
                    .extend_from_slice(&bytes[..kept]);
                torn = Some(Torn {
                    file: file.clone(),
                    kept,
                    of: bytes.len(),
                });
            }
        }
        self.pending.clear();
        self.visible = self.durable.clone();
        self.life += 1;
        torn
    }

    /// The disk was lost: an empty one in its place.
    pub(crate) fn lose(&mut self) {
        *self = SimDisk {
            life: self.life + 1,
            ..SimDisk::default()
        };
    }

    fn record(&mut self, op: Op) {
        apply(&mut self.visible, &op);
        self.pending.push((self.next_op, op));
        self.next_op += 1;
        self.writes += 1;
    }

    /// Makes the operations numbered below `upto` durable.
    fn make_durable(&mut self, upto: u64) {
        let done = self.pending.partition_point(|(n, _)| *n < upto);
        for (_, op) in self.pending.drain(..done) {
            apply(&mut self.durable, &op);
        }
        self.syncs += 1;
    }
}

fn apply(files: &mut BTreeMap<String, Vec<u8>>, op: &Op) {
    match op {
        Op::Write(name, bytes) => {
            files.insert(name.clone(), bytes.clone());
        }
        Op::Append(name, bytes) => files.entry(name.clone()).or_default().extend(bytes),
        Op::Remove(name) => {
            files.remove(name);
        }
    }
}

/// A handle on a simulated disk, for one life of its node.
#[derive(Clone, Debug)]
pub(crate) struct SimHandle {
    disk: Arc<Mutex<SimDisk>>,
    life: u64,
}

impl SimHandle {
    pub(crate) fn new(disk: Arc<Mutex<SimDisk>>) -> SimHandle {
        let life = disk.lock().life;
        SimHandle { disk, life }
    }

    /// The disk, if this handle's life is the disk's.
    fn live(&self) -> Result<parking_lot::MutexGuard<'_, SimDisk>, DiskError> {
        let disk = self.disk.lock();
        if disk.life == self.life {
            Ok(disk)
        } else {
            Err(DiskError::Crashed)
        }
    }

    pub(crate) fn read(&self, name: &str) -> Result<Option<Vec<u8>>, DiskError> {
        Ok(self.live()?.visible.get(name).cloned())
    }

    pub(crate) fn write(&self, name: &str, bytes: &[u8]) -> Result<(), DiskError> {
        self.live()?
            .record(Op::Write(name.to_owned(), bytes.to_vec()));
        Ok(())
    }

    pub(crate) fn append(&self, name: &str, bytes: &[u8]) -> Result<(), DiskError> {
        self.live()?
            .record(Op::Append(name.to_owned(), bytes.to_vec()));
        Ok(())
    }

    pub(crate) fn remove(&self, name: &str) -> Result<(), DiskError> {
        self.live()?.record(Op::Remove(name.to_owned()));
        Ok(())
    }

    pub(crate) fn list(&self) -> Result<Vec<String>, DiskError> {
        Ok(self.live()?.visible.keys().cloned().collect())
    }

    pub(crate) async fn sync(&self) -> Result<(), DiskError> {
        let upto = self.live()?.next_op;
        tokio::time::sleep(SYNC_TIME).await;
        self.live()?.make_durable(upto);
        Ok(())
    }

    pub(crate) fn stats(&self) -> Result<DiskStats, DiskError> {
        let disk = self.live()?;
        Ok(DiskStats {
            bytes_used: disk.visible.values().map(|b| b.len() as u64).sum(),
            files: disk.visible.len() as u64,
            writes: disk.writes,
            syncs: disk.syncs,
        })
    }
}
