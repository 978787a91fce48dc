//! Durable storage: a node's disk, simulated or in a real directory, behind one interface.
//!
//! A [`Disk`] is a flat set of named files. A server gets its node's simulated disk from
//! [`Network::disk`](crate::Network::disk), and a real process opens one over a directory
//! with [`Disk::open_dir`]; the protocol code that uses it is the same.
//!
//! ## Semantics
//!
//! | operation | effect | after a crash (the node killed) |
//! |---|---|---|
//! | [`Disk::write`] | replaces a file's contents, atomically | the file's last synced contents |
//! | [`Disk::append`] | adds bytes at a file's end | the synced part, perhaps a prefix of the last append (a torn write) |
//! | [`Disk::remove`] | removes a file | the file, if the removal was not synced |
//! | [`Disk::sync`] | makes every earlier write, append and removal durable | — |
//!
//! Reads see every write at once, synced or not, as a page cache does. A **crash** (a
//! [`Network::kill`](crate::Network::kill)) keeps exactly what was synced, except that when the
//! last operation not yet synced is an append, it may be **torn**: with chance
//! [`fault::TORN_APPEND_CHANCE`](crate::fault::TORN_APPEND_CHANCE), a random prefix of its bytes
//! (possibly none, never all of them) is there after the restart. A `write` never tears: it
//! is all or nothing, as writing a temporary file and renaming it over the old one is on a
//! real file system. A log made of appends therefore needs a way to recognise a torn last
//! record (a length and a checksum), and a protocol answers a peer only after `sync`
//! returned, so that what it promised survives.
//!
//! A **lost disk** ([`Network::lose_disk`](crate::Network::lose_disk)) is replaced by an
//! empty one, as when a machine is replaced.
//!
//! A handle belongs to one life of its node: after the node was killed (or its disk lost),
//! every call through an older handle fails with [`DiskError::Crashed`], so a task of the dead
//! incarnation can never write into the new one's disk. A restarted server asks for its
//! node's disk again and recovers from what it reads.
//!
//! In the simulation a sync takes [`fault::SYNC_TIME`](crate::fault::SYNC_TIME) of virtual
//! time, so a crash can fall between a write and its sync, and everything is drawn from the
//! network's seed. Over a real directory, `write` writes a temporary file, syncs it and
//! renames it; `sync` syncs every file appended to since the last sync, then the directory.

mod dir;
mod sim;

use parking_lot::Mutex;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

pub(crate) use sim::SimDisk;

/// A handle on a simulated disk for its current life.
pub(crate) fn sim_handle(disk: Arc<Mutex<SimDisk>>) -> Disk {
    Disk {
        backend: Backend::Sim(sim::SimHandle::new(disk)),
    }
}

/// The longest file name, in bytes.
pub const MAX_NAME_LEN: usize = 128;

/// A node's durable storage. Cheap to clone: clones are the same disk.
#[derive(Clone, Debug)]
pub struct Disk {
    backend: Backend,
}

#[derive(Clone, Debug)]
enum Backend {
    Sim(sim::SimHandle),
    Dir(dir::DirDisk),
}

/// What a disk holds, as counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskStats {
    /// Bytes in all files, as reads see them.
    pub bytes_used: u64,
    /// How many files there are.
    pub files: u64,
    /// Writes, appends and removals since the disk was made (or lost), crashes included.
    pub writes: u64,
    /// Syncs that completed.
    pub syncs: u64,
}

/// Why a disk operation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DiskError {
    /// The name is empty, too long, starts with a dot or has a character other than ASCII
    /// letters, digits, `.`, `_` and `-`.
    BadName(String),
    /// The handle belongs to a life of the node that has ended (it was killed or lost its
    /// disk since); ask the network for the node's disk again.
    Crashed,
    /// The real file system failed; the text says what and where.
    Io(String),
}

impl fmt::Display for DiskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiskError::BadName(name) => write!(
                f,
                "bad file name {name:?}: use 1 to {MAX_NAME_LEN} ASCII letters, digits, '.', '_' \
                 or '-', not starting with '.'"
            ),
            DiskError::Crashed => f.write_str(
                "the disk handle belongs to a crashed incarnation of its node; open the disk again",
            ),
            DiskError::Io(detail) => write!(f, "disk I/O failed: {detail}"),
        }
    }
}

impl std::error::Error for DiskError {}

/// Checks a file name (see [`DiskError::BadName`]).
fn check_name(name: &str) -> Result<(), DiskError> {
    let fine = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if fine {
        Ok(())
    } else {
        Err(DiskError::BadName(name.to_owned()))
    }
}

impl Disk {
    /// A disk in memory, for a node that keeps nothing (a client process): its files are gone
    /// with its last clone. It behaves as a simulated disk that never crashes; a sync takes
    /// [`fault::SYNC_TIME`](crate::fault::SYNC_TIME).
    pub fn memory() -> Disk {
        sim_handle(Arc::new(Mutex::new(SimDisk::default())))
    }

    /// A disk over the real directory `path`, made if missing. Files are the directory's
    /// entries whose names are valid file names (see [`DiskError::BadName`]); others are left
    /// alone. One open disk per directory: the disk holds a lock on the directory's `.lock`
    /// until its last clone is dropped, and opening a directory whose lock is held (by another
    /// process, or by a disk still open in this one) fails with [`DiskError::Io`] saying so.
    pub fn open_dir(path: impl AsRef<Path>) -> Result<Disk, DiskError> {
        Ok(Disk {
            backend: Backend::Dir(dir::DirDisk::open(path.as_ref())?),
        })
    }

    /// The contents of file `name`, or `None` if there is none.
    pub fn read(&self, name: &str) -> Result<Option<Vec<u8>>, DiskError> {
        check_name(name)?;
        match &self.backend {
            Backend::Sim(d) => d.read(name),
            Backend::Dir(d) => d.read(name),
        }
    }

    /// Replaces the contents of file `name` (making it if missing), atomically; durable
    /// after the next [`Disk::sync`].
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), DiskError> {
        check_name(name)?;
        match &self.backend {
            Backend::Sim(d) => d.write(name, bytes),
            Backend::Dir(d) => d.write(name, bytes),
        }
    }

    /// Appends `bytes` to file `name` (making it if missing); durable after the next
    /// [`Disk::sync`], and perhaps torn by a crash before it.
    pub fn append(&self, name: &str, bytes: &[u8]) -> Result<(), DiskError> {
        check_name(name)?;
        match &self.backend {
            Backend::Sim(d) => d.append(name, bytes),
            Backend::Dir(d) => d.append(name, bytes),
        }
    }

    /// Removes file `name`, if there is one; durable after the next [`Disk::sync`].
    pub fn remove(&self, name: &str) -> Result<(), DiskError> {
        check_name(name)?;
        match &self.backend {
            Backend::Sim(d) => d.remove(name),
            Backend::Dir(d) => d.remove(name),
        }
    }

    /// The names of all files, in order.
    pub fn list(&self) -> Result<Vec<String>, DiskError> {
        match &self.backend {
            Backend::Sim(d) => d.list(),
            Backend::Dir(d) => d.list(),
        }
    }

    /// Makes every write, append and removal made before this call durable.
    pub async fn sync(&self) -> Result<(), DiskError> {
        match &self.backend {
            Backend::Sim(d) => d.sync().await,
            Backend::Dir(d) => d.sync().await,
        }
    }

    /// What the disk holds and how it was used.
    pub fn stats(&self) -> Result<DiskStats, DiskError> {
        match &self.backend {
            Backend::Sim(d) => d.stats(),
            Backend::Dir(d) => d.stats(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for good in ["a", "instance-12", "done.v1", "A_b-C.9"] {
            assert_eq!(check_name(good), Ok(()), "{good}");
        }
        let long = "x".repeat(MAX_NAME_LEN + 1);
        for bad in ["", ".hidden", "a/b", "..", "sp ace", "é", long.as_str()] {
            assert_eq!(
                check_name(bad),
                Err(DiskError::BadName(bad.to_owned())),
                "{bad}"
            );
        }
        assert!(
            DiskError::BadName("a/b".into())
                .to_string()
                .contains("\"a/b\"")
        );
    }
}
