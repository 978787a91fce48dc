//! A disk over a real directory, for real processes.

use parking_lot::Mutex;
use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{DiskError, DiskStats, check_name};

/// A directory used as a disk. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct DirDisk {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    /// Files appended to since the last sync, and whether the directory itself changed.
    unsynced: Mutex<(BTreeSet<String>, bool)>,
    writes: AtomicU64,
    syncs: AtomicU64,
    /// The directory's `.lock`, locked for as long as the disk is open: one process (one open
    /// disk) per directory, or two servers would overwrite each other's state.
    _lock: File,
}

/// The lock file of a directory disk (a dot name, so never a file of the disk).
const LOCK_FILE: &str = ".lock";

/// An I/O error, saying what was done to which path.
fn io_error(what: &str, path: &Path, e: io::Error) -> DiskError {
    DiskError::Io(format!("{what} {}: {e}", path.display()))
}

impl DirDisk {
    pub(crate) fn open(path: &Path) -> Result<DirDisk, DiskError> {
        fs::create_dir_all(path).map_err(|e| io_error("cannot create", path, e))?;
        let lock_path = path.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io_error("cannot open", &lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(DiskError::Io(format!(
                    "{} is in use: another process (or another open disk) holds {}; one \
                     server per data directory",
                    path.display(),
                    lock_path.display()
                )));
            }
            Err(fs::TryLockError::Error(e)) => return Err(io_error("cannot lock", &lock_path, e)),
        }
        Ok(DirDisk {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                unsynced: Mutex::new((BTreeSet::new(), false)),
                writes: AtomicU64::new(0),
                syncs: AtomicU64::new(0),
                _lock: lock,
            }),
        })
    }

    fn file(&self, name: &str) -> PathBuf {
        self.inner.path.join(name)
    }

    fn wrote(&self, appended: Option<&str>) {
        self.inner.writes.fetch_add(1, Ordering::Relaxed);
        let mut unsynced = self.inner.unsynced.lock();
        match appended {
            Some(name) => {
                unsynced.0.insert(name.to_owned());
            }
            None => unsynced.1 = true,
        }
    }

    pub(crate) fn read(&self, name: &str) -> Result<Option<Vec<u8>>, DiskError> {
        let path = self.file(name);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("cannot read", &path, e)),
        }
    }

    /// Writes a temporary file (its name starts with a dot, so it is never a file of the
    /// disk), syncs it and renames it over the file: all or nothing.
    pub(crate) fn write(&self, name: &str, bytes: &[u8]) -> Result<(), DiskError> {
        let path = self.file(name);
        let tmp = self.inner.path.join(format!(".{name}.tmp"));
        let written = File::create(&tmp)
            .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
            .map_err(|e| io_error("cannot write", &tmp, e));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        fs::rename(&tmp, &path).map_err(|e| io_error("cannot rename onto", &path, e))?;
        self.wrote(None);
        Ok(())
    }

    pub(crate) fn append(&self, name: &str, bytes: &[u8]) -> Result<(), DiskError> {
        let path = self.file(name);
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(bytes))
            .map_err(|e| io_error("cannot append to", &path, e))?;
        self.wrote(Some(name));
        Ok(())
    }

    pub(crate) fn remove(&self, name: &str) -> Result<(), DiskError> {
        let path = self.file(name);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("cannot remove", &path, e)),
        }
        self.wrote(None);
        Ok(())
    }

    pub(crate) fn list(&self) -> Result<Vec<String>, DiskError> {
        let path = &self.inner.path;
        let entries = fs::read_dir(path).map_err(|e| io_error("cannot list", path, e))?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_error("cannot list", path, e))?;
            if let Some(name) = entry.file_name().to_str()
                && check_name(name).is_ok()
                && entry.file_type().is_ok_and(|t| t.is_file())
            {
                names.push(name.to_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    /// Syncs the files appended to and then the directory (renames and removals), on
    /// tokio's blocking pool so that a server's other tasks go on meanwhile.
    pub(crate) async fn sync(&self) -> Result<(), DiskError> {
        let (files, dir_changed) = std::mem::take(&mut *self.inner.unsynced.lock());
        let paths: Vec<PathBuf> = files.iter().map(|n| self.file(n)).collect();
        let dir = self.inner.path.clone();
        let synced = tokio::task::spawn_blocking(move || -> Result<(), DiskError> {
            for path in &paths {
                match File::open(path).and_then(|f| f.sync_all()) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {} // removed since
                    Err(e) => return Err(io_error("cannot sync", path, e)),
                }
            }
            if dir_changed || !paths.is_empty() {
                File::open(&dir)
                    .and_then(|d| d.sync_all())
                    .map_err(|e| io_error("cannot sync", &dir, e))?;
            }
            Ok(())
        })
        .await
        .map_err(|e| DiskError::Io(format!("the sync task failed: {e}")))?;
        if let Err(e) = synced {
            // Not durable: sync these again next time.
            let mut unsynced = self.inner.unsynced.lock();
            unsynced.0.extend(files);
            unsynced.1 |= dir_changed;
            return Err(e);
        }
        self.inner.syncs.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    pub(crate) fn stats(&self) -> Result<DiskStats, DiskError> {
        let mut stats = DiskStats {
            writes: self.inner.writes.load(Ordering::Relaxed),
            syncs: self.inner.syncs.load(Ordering::Relaxed),
            ..DiskStats::default()
        };
        for name in self.list()? {
            let path = self.file(&name);
            let meta = fs::metadata(&path).map_err(|e| io_error("cannot stat", &path, e))?;
            stats.bytes_used += meta.len();
            stats.files += 1;
        }
        Ok(stats)
    }
}
