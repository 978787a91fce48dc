//! Where input, intermediate and output data live: a job directory shared by the master and
//! its workers.
//!
//! In the paper (§3.1) map workers keep intermediate data on their local disks and reduce
//! workers fetch it by RPC; Go's lab, like this crate, puts it in files that every worker can
//! read (one machine, or a shared file system). [`Storage`] is that shared place:
//!
//! - [`DirStore`] (real mode): each job gets a fresh directory `mapreduce-job-XXXXXX` under a
//!   work directory; files are written to a temporary name and renamed, so a reader never sees
//!   half a file, and two attempts of one task (a backup, a worker thought dead) replace each
//!   other's identical output harmlessly. The master deletes the directory after the job.
//! - [`MemStore`] (simulation): the same, in memory. File I/O blocks the thread, and a
//!   simulation must not block (its virtual clock would not wait for the disk), so simulated
//!   workers share one `MemStore` as real workers share a disk.

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::split::{Split, own_range};

/// What went wrong with a file. It crosses the network in a worker's reply, so it carries
/// its detail as text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StorageError {
    /// The file does not exist.
    NotFound {
        /// The file.
        path: String,
    },
    /// The file exists but reading or writing it failed.
    Io {
        /// The file.
        path: String,
        /// The operating system's message.
        detail: String,
    },
    /// A job directory named by a task is not one a master made.
    NotAJob {
        /// The directory.
        path: String,
    },
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::NotFound { path } => write!(f, "{path}: no such file"),
            StorageError::Io { path, detail } => write!(f, "{path}: {detail}"),
            StorageError::NotAJob { path } => {
                write!(f, "{path}: not a job directory made by a master")
            }
        }
    }
}

impl std::error::Error for StorageError {}

/// The lines of a split, as [`Storage::read_split`] returns them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SplitBytes {
    /// The offset in the file of `bytes[0]`: the first line start at or after the split's
    /// start (so that errors can name a byte of the file).
    pub begin: u64,
    /// The lines.
    pub bytes: Vec<u8>,
}

/// The shared place of a job's data. See the [module docs](self).
pub trait Storage: Send + Sync {
    /// The size in bytes of input file `file`.
    fn input_len(&self, file: &str) -> Result<u64, StorageError>;
    /// The bytes of a split: the lines that start in its range (see [`own_lines`](crate::split::own_lines)), and
    /// where in the file they begin.
    fn read_split(&self, split: &Split) -> Result<SplitBytes, StorageError>;
    /// Makes a new, empty job and returns its name (for [`DirStore`], its directory).
    fn create_job(&self) -> Result<String, StorageError>;
    /// Writes file `name` of job `job`, replacing it whole if it exists.
    fn write(&self, job: &str, name: &str, data: &[u8]) -> Result<(), StorageError>;
    /// Reads file `name` of job `job`.
    fn read(&self, job: &str, name: &str) -> Result<Vec<u8>, StorageError>;
    /// Deletes job `job` and all its files.
    fn remove_job(&self, job: &str) -> Result<(), StorageError>;
}

// ----- in memory -------------------------------------------------------------------------

/// A [`Storage`] in memory, for simulations. Clones share the same store.
#[derive(Clone, Default)]
pub struct MemStore {
    inner: Arc<Mutex<MemInner>>,
}

#[derive(Default)]
struct MemInner {
    inputs: BTreeMap<String, Arc<[u8]>>,
    jobs: BTreeMap<String, BTreeMap<String, Arc<[u8]>>>,
    next_job: u64,
}

impl MemStore {
    /// An empty store.
    pub fn new() -> MemStore {
        MemStore::default()
    }

    /// Adds (or replaces) input file `name`.
    pub fn add_input(&self, name: &str, contents: impl Into<Vec<u8>>) {
        let contents: Vec<u8> = contents.into();
        self.inner
            .lock()
            .inputs
            .insert(name.into(), contents.into());
    }

    /// How many jobs exist (made and not yet removed): 0 after every job cleaned up.
    pub fn jobs(&self) -> usize {
        self.inner.lock().jobs.len()
    }

    /// Replaces file `name` of job `job` with `data`, for tests of corrupt intermediate files.
    pub fn corrupt(&self, job: &str, name: &str, data: &[u8]) {
        if let Some(files) = self.inner.lock().jobs.get_mut(job) {
            files.insert(name.into(), data.into());
        }
    }
}

impl Storage for MemStore {
    fn input_len(&self, file: &str) -> Result<u64, StorageError> {
        let inner = self.inner.lock();
        let data = inner
            .inputs
            .get(file)
            .ok_or_else(|| StorageError::NotFound { path: file.into() })?;
        Ok(data.len() as u64)
    }

    fn read_split(&self, split: &Split) -> Result<SplitBytes, StorageError> {
        let data = self
            .inner
            .lock()
            .inputs
            .get(&split.file)
            .cloned()
            .ok_or_else(|| StorageError::NotFound {
                path: split.file.clone(),
            })?;
        // The split comes from the network: its bounds may be anything.
        let base = usize::try_from(split.start.saturating_sub(1))
            .map_or(data.len(), |b| b.min(data.len()));
        let owned = own_range(&data[base..], split.start, split.end);
        Ok(SplitBytes {
            begin: (base + owned.start) as u64,
            bytes: data[base..][owned].to_vec(),
        })
    }

    fn create_job(&self) -> Result<String, StorageError> {
        let mut inner = self.inner.lock();
        inner.next_job += 1;
        let name = format!("mem-job-{}", inner.next_job);
        inner.jobs.insert(name.clone(), BTreeMap::new());
        Ok(name)
    }

    fn write(&self, job: &str, name: &str, data: &[u8]) -> Result<(), StorageError> {
        let mut inner = self.inner.lock();
        let files = inner
            .jobs
            .get_mut(job)
            .ok_or_else(|| StorageError::NotAJob { path: job.into() })?;
        files.insert(name.into(), data.into());
        Ok(())
    }

    fn read(&self, job: &str, name: &str) -> Result<Vec<u8>, StorageError> {
        let inner = self.inner.lock();
        let files = inner
            .jobs
            .get(job)
            .ok_or_else(|| StorageError::NotAJob { path: job.into() })?;
        files
            .get(name)
            .map(|data| data.to_vec())
            .ok_or_else(|| StorageError::NotFound {
                path: format!("{job}/{name}"),
            })
    }

    fn remove_job(&self, job: &str) -> Result<(), StorageError> {
        self.inner.lock().jobs.remove(job);
        Ok(())
    }
}

// ----- on disk ---------------------------------------------------------------------------

/// How many times [`DirStore::remove_job`] tries to remove a directory that late writes keep
/// refilling.
const REMOVE_ATTEMPTS: u32 = 1000;

/// The prefix of every job directory's name; a worker refuses to write anywhere else.
pub const JOB_DIR_PREFIX: &str = "mapreduce-job-";

/// A [`Storage`] of real files: inputs are paths, jobs are directories under `work_dir`.
#[derive(Clone, Debug)]
pub struct DirStore {
    work_dir: PathBuf,
}

impl DirStore {
    /// A store whose jobs are made under `work_dir` (workers only need the job's path, which
    /// each task carries).
    pub fn new(work_dir: impl Into<PathBuf>) -> DirStore {
        DirStore {
            work_dir: work_dir.into(),
        }
    }

    /// The directory jobs are made in.
    pub fn work_dir(&self) -> &Path {
        &self.work_dir
    }

    /// `job` as a path, if it names a job directory.
    fn job_dir(job: &str) -> Result<PathBuf, StorageError> {
        let path = PathBuf::from(job);
        let named_right = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(JOB_DIR_PREFIX));
        if named_right && path.is_dir() {
            Ok(path)
        } else {
            Err(StorageError::NotAJob { path: job.into() })
        }
    }
}

fn io_error(path: &Path, e: std::io::Error) -> StorageError {
    let path = path.display().to_string();
    if e.kind() == std::io::ErrorKind::NotFound {
        StorageError::NotFound { path }
    } else {
        StorageError::Io {
            path,
            detail: e.to_string(),
        }
    }
}

impl Storage for DirStore {
    fn input_len(&self, file: &str) -> Result<u64, StorageError> {
        let path = Path::new(file);
        let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
        if !meta.is_file() {
            return Err(StorageError::Io {
                path: file.into(),
                detail: "not a regular file".into(),
            });
        }
        // Opening it now reports an unreadable file before any worker tries.
        std::fs::File::open(path).map_err(|e| io_error(path, e))?;
        Ok(meta.len())
    }

    fn read_split(&self, split: &Split) -> Result<SplitBytes, StorageError> {
        let path = Path::new(&split.file);
        let fail = |e| io_error(path, e);
        let mut file = std::fs::File::open(path).map_err(fail)?;
        // The split comes from the network: its bounds may be anything. No line starts past
        // the end of the file, so the range ends there at the latest, and nothing is sized
        // by what the file does not hold.
        let len = file.metadata().map_err(fail)?.len();
        let end = split.end.min(len);
        if split.start >= end {
            return Ok(SplitBytes::default());
        }
        // From here `base < start < end <= len`, or `start == base == 0`.
        let base = split.start.saturating_sub(1);
        file.seek(SeekFrom::Start(base)).map_err(fail)?;
        // Sized up front: no regrowing (copies, fresh pages) of a buffer of many megabytes.
        let capacity = usize::try_from(end - base)
            .ok()
            .and_then(|n| n.checked_add(4096))
            .unwrap_or(0);
        let mut data = Vec::with_capacity(capacity);
        (&mut file)
            .take(end - base)
            .read_to_end(&mut data)
            .map_err(fail)?;
        // Read on to the end of the line that holds the last byte of the range.
        let mut checked = usize::try_from(end - 1 - base).map_or(data.len(), |n| n.min(data.len()));
        let mut chunk = vec![0u8; 64 * 1024];
        while !data[checked..].contains(&b'\n') {
            checked = data.len();
            let n = file.read(&mut chunk).map_err(fail)?;
            if n == 0 {
                break;
            }
            data.extend_from_slice(&chunk[..n]);
        }
        // Cut in place rather than copy out.
        let owned = own_range(&data, split.start, end);
        data.truncate(owned.end);
        data.drain(..owned.start);
        Ok(SplitBytes {
            begin: base + owned.start as u64,
            bytes: data,
        })
    }

    fn create_job(&self) -> Result<String, StorageError> {
        let dir = tempfile::Builder::new()
            .prefix(JOB_DIR_PREFIX)
            .tempdir_in(&self.work_dir)
            .map_err(|e| io_error(&self.work_dir, e))?;
        Ok(dir.keep().display().to_string())
    }

    fn write(&self, job: &str, name: &str, data: &[u8]) -> Result<(), StorageError> {
        let dir = DirStore::job_dir(job)?;
        let target = dir.join(name);
        // Write to a unique temporary file, then rename: readers see all or nothing.
        let mut file = tempfile::NamedTempFile::new_in(&dir).map_err(|e| io_error(&dir, e))?;
        file.write_all(data).map_err(|e| io_error(&target, e))?;
        file.persist(&target)
            .map_err(|e| io_error(&target, e.error))?;
        Ok(())
    }

    fn read(&self, job: &str, name: &str) -> Result<Vec<u8>, StorageError> {
        let path = DirStore::job_dir(job)?.join(name);
        std::fs::read(&path).map_err(|e| io_error(&path, e))
    }

    /// An execution may still be writing into the directory after its phase is over (a
    /// backup whose twin finished first, an execution the master gave up on): a file it
    /// creates while the directory is being emptied makes the removal fail ("directory not
    /// empty"), so that is tried again. Once the directory is gone such writes fail, and
    /// nobody waits for their reply.
    fn remove_job(&self, job: &str) -> Result<(), StorageError> {
        let dir = DirStore::job_dir(job)?;
        let mut attempts = 0;
        loop {
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(_) if attempts < REMOVE_ATTEMPTS => {
                    attempts += 1;
                    std::thread::yield_now();
                }
                Err(e) => return Err(io_error(&dir, e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A split's bounds come from the network: extreme ones read what the file holds (or
    /// nothing), the same from disk and from memory, and never panic or size a buffer by
    /// bytes that are not there.
    #[test]
    fn splits_with_extreme_bounds_read_what_is_there() {
        let text = b"one\ntwo\nthree\n";
        let len = text.len() as u64;
        let dir = tempfile::tempdir().expect("a directory");
        let path = dir.path().join("input.txt");
        std::fs::write(&path, text).expect("write the input");
        let file = path.display().to_string();
        let mem = MemStore::new();
        mem.add_input(&file, text.to_vec());
        let disk = DirStore::new(dir.path());
        let max = u64::MAX;
        let cases: [(u64, u64, &[u8]); 11] = [
            (0, max, text),
            (1, max, b"two\nthree\n"),
            (5, max, b"three\n"),
            (3, 5, b"two\n"),
            (len - 1, max, b""),
            (len, max, b""),
            (max - 1, max, b""),
            (max, max, b""),
            (max, 0, b""),
            (0, 0, b""),
            (7, 2, b""),
        ];
        for (start, end, want) in cases {
            let split = Split {
                file: file.clone(),
                start,
                end,
            };
            for store in [&disk as &dyn Storage, &mem] {
                let got = store.read_split(&split).expect("a read");
                assert_eq!(got.bytes, want, "{start}..{end}");
                if !want.is_empty() {
                    let begin = got.begin as usize;
                    assert_eq!(&text[begin..begin + want.len()], want, "{start}..{end}");
                }
            }
        }
        let missing = Split {
            file: dir.path().join("missing").display().to_string(),
            start: max - 1,
            end: max,
        };
        assert!(matches!(
            disk.read_split(&missing),
            Err(StorageError::NotFound { .. })
        ));
    }

    /// A late execution (a backup, or one the master gave up on) may still be writing into
    /// the job directory while the master removes it.
    #[test]
    fn a_job_is_removed_while_a_late_task_still_writes() {
        let work = tempfile::tempdir().expect("a work directory");
        let store = DirStore::new(work.path());
        for _ in 0..20 {
            let job = store.create_job().expect("a job");
            let stop = std::sync::atomic::AtomicBool::new(false);
            let removed = std::thread::scope(|scope| {
                let writer = scope.spawn(|| {
                    let mut written = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed)
                        && store.write(&job, &format!("mr-{written}"), b"late").is_ok()
                    {
                        written += 1;
                    }
                });
                while std::fs::read_dir(&job).map_or(0, |d| d.count()) < 20 {
                    std::thread::yield_now();
                }
                let removed = store.remove_job(&job);
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
                writer.join().expect("the writer");
                removed
            });
            removed.expect("the job directory is removed");
            assert!(!Path::new(&job).exists());
        }
    }
}
