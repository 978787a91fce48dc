//! What a peer keeps on its node's disk, so that a peer restarted with its disk remembers
//! every promise and vote it gave.
//!
//! One file per instance (`paxos-i-SEQ`: the promise `n_p`, the accepted proposal and the
//! decision) and one for the peer (`paxos-peer`: the `done` values heard and the abstention
//! bound). A `write` of the disk is all or nothing, so a file is always a state the peer was
//! in. The acceptor writes a file whenever it changes what it would answer; a handler that
//! wrote answers only after the disk synced (**D1**, see [`Unsynced`]), so whatever a peer
//! promised or accepted survives its crash. Forgotten instances' files are removed after the
//! `done` values that forget them are written, so a recovered peer never holds less than it
//! forgot.

use labrpc::{Disk, DiskError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::protocol::{
    AcceptOutcome, AcceptReply, Ballot, Bytes, DecidedReply, PrepareOutcome, PrepareReply, Seq,
};

/// The peer's own file.
const PEER_FILE: &str = "paxos-peer";
/// Instance files are this prefix and the instance number.
const INSTANCE_PREFIX: &str = "paxos-i-";

/// What one acceptor knows about one instance, as kept in memory and on disk.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Instance {
    /// `n_p`: the highest ballot this acceptor promised.
    pub(crate) promised: Ballot,
    /// `(n_a, v_a)`: the highest-ballot proposal this acceptor accepted. Dropped once the
    /// instance is decided (the decision answers every later message instead).
    pub(crate) accepted: Option<(Ballot, Bytes)>,
    /// The chosen value, once this peer learned it.
    pub(crate) decided: Option<Bytes>,
}

/// The peer-wide part of the state on disk.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct PeerFile {
    /// `done[p]` for every peer.
    pub(crate) done: Vec<Seq>,
    /// The acceptor abstains in instances up to this one.
    pub(crate) abstain_through: Seq,
}

/// What a peer found on its disk when it started.
#[derive(Debug, Default)]
pub(crate) struct Recovered {
    pub(crate) peer: Option<PeerFile>,
    pub(crate) instances: BTreeMap<Seq, Instance>,
    /// A file that could not be read or decoded: the peer cannot trust its memory.
    pub(crate) damaged: Option<String>,
}

/// The peer's disk, with the outcome of the writes since the last answer.
#[derive(Debug)]
pub(crate) struct Storage {
    disk: Disk,
    /// Something was written since the last [`Storage::take`].
    wrote: bool,
    /// The first write that failed since the last [`Storage::take`].
    failed: Option<DiskError>,
}

impl Storage {
    pub(crate) fn new(disk: Disk) -> Storage {
        Storage {
            disk,
            wrote: false,
            failed: None,
        }
    }

    /// Reads back everything a peer wrote before.
    pub(crate) fn recover(&self) -> Recovered {
        let mut found = Recovered::default();
        let names = match self.disk.list() {
            Ok(names) => names,
            Err(e) => {
                found.damaged = Some(e.to_string());
                return found;
            }
        };
        for name in names {
            let seq = name.strip_prefix(INSTANCE_PREFIX).map(str::parse::<Seq>);
            if name != PEER_FILE && seq.is_none() {
                continue; // another service's file on the same node
            }
            let read = self.disk.read(&name).map_err(|e| e.to_string());
            let bytes = match read {
                Ok(Some(bytes)) => bytes,
                Ok(None) => continue,
                Err(e) => {
                    found.damaged.get_or_insert(format!("{name}: {e}"));
                    continue;
                }
            };
            let decoded = match seq {
                None => postcard::from_bytes(&bytes).map(|p| found.peer = Some(p)),
                Some(Ok(seq)) => {
                    postcard::from_bytes(&bytes).map(|i| drop(found.instances.insert(seq, i)))
                }
                Some(Err(_)) => Ok(()), // not a number: not ours
            };
            if let Err(e) = decoded {
                found.damaged.get_or_insert(format!("{name}: {e}"));
            }
        }
        found
    }

    fn record(&mut self, result: Result<(), DiskError>) {
        self.wrote = true;
        if let Err(e) = result {
            self.failed.get_or_insert(e);
        }
    }

    fn encode<T: Serialize>(value: &T) -> Vec<u8> {
        // Plain data (numbers, vectors, byte strings): postcard cannot fail on it.
        postcard::to_allocvec(value).unwrap_or_default()
    }

    pub(crate) fn save_instance(&mut self, seq: Seq, instance: &Instance) {
        let result = self
            .disk
            .write(&format!("{INSTANCE_PREFIX}{seq}"), &Self::encode(instance));
        self.record(result);
    }

    pub(crate) fn save_peer(&mut self, done: &[Seq], abstain_through: Seq) {
        let file = PeerFile {
            done: done.to_vec(),
            abstain_through,
        };
        let result = self.disk.write(PEER_FILE, &Self::encode(&file));
        self.record(result);
    }

    pub(crate) fn remove_instance(&mut self, seq: Seq) {
        let result = self.disk.remove(&format!("{INSTANCE_PREFIX}{seq}"));
        self.record(result);
    }

    /// Ends a handler's writes: what its answer must wait for.
    pub(crate) fn take<T>(&mut self, reply: T) -> Unsynced<T> {
        let wrote = std::mem::take(&mut self.wrote);
        Unsynced {
            reply,
            sync: wrote.then(|| self.disk.clone()),
            failed: self.failed.take(),
        }
    }

    /// Ends writes that answer nobody (`done` values heard in replies, the application's
    /// own `done`): the disk to sync soon, if anything was written.
    pub(crate) fn take_unanswered(&mut self) -> Option<Disk> {
        let wrote = std::mem::take(&mut self.wrote);
        self.failed = None; // nothing was promised on the strength of these writes
        wrote.then(|| self.disk.clone())
    }

    /// Bytes on the node's disk (the peer's files and any other on that node).
    pub(crate) fn bytes_used(&self) -> u64 {
        self.disk.stats().map_or(0, |s| s.bytes_used)
    }
}

/// An answer that may not leave before what it promises is on disk (**D1**): the only way
/// to the answer is [`Unsynced::synced`], which syncs the disk first if the handler wrote.
#[must_use = "an acceptor's answer must be synced before it is sent"]
pub(crate) struct Unsynced<T> {
    reply: T,
    sync: Option<Disk>,
    failed: Option<DiskError>,
}

impl<T: Refusable> Unsynced<T> {
    /// The answer, once it is durable; a refusal instead if the disk failed (the state in
    /// memory may be ahead of the disk, which only makes the acceptor stricter).
    pub(crate) async fn synced(self) -> T {
        let synced = match self.sync {
            Some(disk) => disk.sync().await,
            None => Ok(()),
        };
        if self.failed.is_some() || synced.is_err() {
            self.reply.refused()
        } else {
            self.reply
        }
    }
}

/// An answer that has a safe "no" to fall back to.
pub(crate) trait Refusable {
    /// The same answer, giving no promise or vote.
    fn refused(self) -> Self;
}

impl Refusable for PrepareReply {
    fn refused(self) -> Self {
        match self.outcome {
            PrepareOutcome::Promise { .. } => PrepareReply {
                outcome: PrepareOutcome::Abstain,
                done: self.done,
            },
            _ => self,
        }
    }
}

impl Refusable for AcceptReply {
    fn refused(self) -> Self {
        match self.outcome {
            AcceptOutcome::Accepted => AcceptReply {
                outcome: AcceptOutcome::Abstain,
                done: self.done,
            },
            _ => self,
        }
    }
}

impl Refusable for DecidedReply {
    fn refused(self) -> Self {
        self // promises nothing
    }
}
