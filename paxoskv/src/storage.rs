//! The replica's state on its node's disk: a snapshot of the applied log prefix.
//!
//! **K5** (nothing forgotten that no disk holds): a server says `done` to Paxos only for
//! instances that a synced snapshot of its own covers, so once Paxos forgets an instance,
//! every server's disk has its effect. A server restarted with its disk starts from its
//! snapshot and applies the rest of the log (its Paxos peer remembers its votes); even if
//! every server crashes at once, nothing acknowledged is lost.
//!
//! A snapshot is one file written whole (the disk's `write` is all or nothing), so it is
//! always the state of some prefix `0..next` (**K1**).

use labrpc::{Disk, DiskError};
use paxos::protocol::Seq;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The file that holds the snapshot (beside the Paxos peer's files on the same disk).
const STATE_FILE: &str = "kv-state";

/// Save a snapshot once this many instances were applied since the last one ...
pub(crate) const SAVE_EVERY: Seq = 8;
/// ... or once the values applied since weigh this much, so that the Paxos log holds at
/// most about this many bytes that no disk holds (and so cannot forget).
pub(crate) const SAVE_BYTES: usize = 1 << 20;

/// Whether a snapshot is due (**K4**): [`SAVE_EVERY`] instances or [`SAVE_BYTES`] of values
/// applied since the last one, which holds the prefix `0..saved`; the state holds `0..next`.
pub(crate) fn snapshot_due(next: Seq, saved: Seq, unsaved_bytes: usize) -> bool {
    next.saturating_sub(saved) >= SAVE_EVERY || unsaved_bytes >= SAVE_BYTES
}

/// The replicated state as it is saved: the result of applying instances `0..next`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Saved {
    pub(crate) next: Seq,
    pub(crate) data: BTreeMap<String, String>,
    pub(crate) last: BTreeMap<u64, (u64, String)>,
}

/// The snapshot on `disk`, if there is a readable one. One that cannot be read or decoded
/// is ignored: an empty map is the state of the empty prefix, and the server catches up
/// from the log and the others (its error is returned to be reported).
pub(crate) fn load(disk: &Disk) -> (Option<Saved>, Option<String>) {
    match disk.read(STATE_FILE) {
        Ok(None) => (None, None),
        Ok(Some(bytes)) => match postcard::from_bytes(&bytes) {
            Ok(saved) => (Some(saved), None),
            Err(e) => (None, Some(format!("{STATE_FILE}: {e}"))),
        },
        Err(e) => (None, Some(format!("{STATE_FILE}: {e}"))),
    }
}

/// [`Saved`], borrowed: serialized exactly as `Saved` is, without copying the map.
#[derive(Serialize)]
struct SavedRef<'a> {
    next: Seq,
    data: &'a BTreeMap<String, String>,
    last: &'a BTreeMap<u64, (u64, String)>,
}

/// Writes the snapshot of prefix `0..next` (not yet synced).
pub(crate) fn write(
    disk: &Disk,
    next: Seq,
    data: &BTreeMap<String, String>,
    last: &BTreeMap<u64, (u64, String)>,
) -> Result<(), DiskError> {
    // Strings, numbers and maps: postcard cannot fail on them.
    let bytes = postcard::to_allocvec(&SavedRef { next, data, last }).unwrap_or_default();
    disk.write(STATE_FILE, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_is_due_after_so_many_instances_or_so_many_bytes() {
        assert!(!snapshot_due(20, 20, 0), "nothing applied");
        assert!(!snapshot_due(27, 20, SAVE_BYTES - 1), "below both bounds");
        assert!(snapshot_due(28, 20, 0), "SAVE_EVERY instances");
        assert!(snapshot_due(21, 20, SAVE_BYTES), "SAVE_BYTES of values");
        assert!(
            !snapshot_due(3, 4, 0),
            "a snapshot installed ahead of the state"
        );
    }
}
