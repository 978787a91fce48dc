//! A server's copy on its node's disk, so that a crash that keeps the disk is only a pause.
//!
//! **P7 — answered means durable.** A server writes its whole copy (the map, the duplicate
//! table, the view it holds it for) and syncs it before it answers a forward or a transfer
//! as backup, and before it answers a client's Put or Append as primary; it holds the store
//! lock meanwhile, so nothing reads a change the disk does not have yet. A server restarted
//! with such a copy comes back as the copy it was: it pings the view number it knew (not 0),
//! so the view service sees no restart, and as primary it transfers its state to its backup
//! again before it serves (P2). Without a copy on its disk (first start, lost disk) it starts
//! empty and pings 0, as before (P5).
//!
//! A primary also **acknowledges a view only once its disk holds that view** (it saves its
//! copy first). Otherwise a primary that acknowledged view 2 (with a backup) while its disk
//! still said view 1 (alone) would, restarted after its backup took over, believe it was
//! still the lone primary of view 1 and serve stale reads and writes by itself.
//!
//! The copy is one file written whole (the disk's `write` is all or nothing). That costs the
//! size of the map per write: right for a lab's maps, not for a big store.

use labrpc::{Disk, DiskError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use viewservice::View;

/// The file that holds the copy.
const COPY_FILE: &str = "pb-copy";

/// A server's copy as saved.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Copy {
    /// The newest view the server knew when it saved.
    pub(crate) view: View,
    /// As backup: the view for which the copy is the primary's state.
    pub(crate) synced_as_backup: Option<u64>,
    pub(crate) data: BTreeMap<String, String>,
    pub(crate) applied: BTreeMap<u64, u64>,
}

/// [`Copy`], borrowed: serialized exactly as `Copy` is, without copying the map.
#[derive(Serialize)]
struct CopyRef<'a> {
    view: &'a View,
    synced_as_backup: Option<u64>,
    data: &'a BTreeMap<String, String>,
    applied: &'a BTreeMap<u64, u64>,
}

/// The copy on `disk`, if there is a readable one. An unreadable one counts as none: the
/// server starts empty and pings 0, so the view service knows it lost its state (P5).
pub(crate) fn load(disk: &Disk) -> Option<Copy> {
    let bytes = disk.read(COPY_FILE).ok()??;
    postcard::from_bytes(&bytes).ok()
}

/// Writes the copy and syncs it (P7).
pub(crate) async fn save(
    disk: &Disk,
    view: &View,
    synced_as_backup: Option<u64>,
    data: &BTreeMap<String, String>,
    applied: &BTreeMap<u64, u64>,
) -> Result<(), DiskError> {
    let copy = CopyRef {
        view,
        synced_as_backup,
        data,
        applied,
    };
    // Strings, numbers and options: postcard cannot fail on them.
    let bytes = postcard::to_allocvec(&copy).unwrap_or_default();
    disk.write(COPY_FILE, &bytes)?;
    disk.sync().await
}
