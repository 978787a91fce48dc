//! One peer's acceptor and learner state, and the three message handlers.
//!
//! The handlers are plain functions on [`State`], called under the peer's lock: by the RPC
//! server for messages from other peers, and directly by the peer's own proposer (a peer
//! calls its own acceptor without an RPC). Each handler keeps the invariants named in its
//! doc comment; together they are what makes Paxos safe:
//!
//! - **P1** an acceptor's promise `n_p` never decreases;
//! - **P2** an acceptor accepts a proposal only if its ballot is at least `n_p`, so once it
//!   promised `n` it never accepts below `n`;
//! - **P3** a promise reports the highest-ballot proposal accepted so far, so the proposer
//!   can adopt its value (this is what keeps a chosen value chosen);
//! - **L1** a decided value never changes: only a value chosen by a majority is ever learned,
//!   and every peer learns the same one;
//! - **F1** an instance is forgotten only below `min()`, i.e. once every peer said `done`
//!   with it, and then it stays forgotten.
//! - **D1** every change to what the acceptor would answer is written to the node's disk
//!   under the same lock, and a handler that changed something answers only once the disk
//!   synced (its reply comes wrapped in [`Unsynced`]); so a peer restarted with its disk
//!   keeps P1-P3 and F1 across the crash.

use labrpc::Disk;
use std::collections::{BTreeMap, BTreeSet};

use crate::protocol::{
    AcceptArgs, AcceptOutcome, AcceptReply, Bytes, DecidedArgs, DecidedReply, PrepareArgs,
    PrepareOutcome, PrepareReply, Seq,
};
use crate::storage::{Instance, Storage, Unsynced};

/// Everything one peer remembers.
#[derive(Debug)]
pub(crate) struct State {
    me: usize,
    instances: BTreeMap<Seq, Instance>,
    /// `done[p]`: the highest `done` argument heard from peer `p` (`-1` at first).
    done: Vec<Seq>,
    /// The highest instance this peer has heard of.
    max: Seq,
    /// Instances with a proposer running on this peer (one at a time per instance).
    pub(crate) proposing: BTreeSet<Seq>,
    /// The peer was killed: its proposers stop.
    pub(crate) dead: bool,
    /// The acceptor votes in no instance up to this one (`-1`: votes in all); see
    /// [`crate::Peer::abstain_through`].
    abstain_through: Seq,
    /// The node's disk (**D1**).
    storage: Storage,
}

impl State {
    /// The state of peer `me` of `peers` peers, as its node's disk remembers it (a fresh
    /// peer on an empty disk). A disk the peer cannot read back makes it abstain everywhere,
    /// as a peer that lost its disk must, and the reason is returned.
    pub(crate) fn recover(me: usize, peers: usize, disk: Disk) -> (State, Option<String>) {
        let storage = Storage::new(disk);
        let mut found = storage.recover();
        let mut done = vec![-1; peers];
        let mut abstain_through = -1;
        if let Some(file) = found.peer {
            for (slot, heard) in done.iter_mut().zip(file.done) {
                *slot = heard;
            }
            abstain_through = file.abstain_through;
        }
        if found.damaged.is_some() {
            abstain_through = Seq::MAX;
        }
        let mut state = State {
            me,
            instances: BTreeMap::new(),
            done,
            max: -1,
            proposing: BTreeSet::new(),
            dead: false,
            abstain_through,
            storage,
        };
        // Files of instances forgotten before the crash stay forgotten (F1).
        state.instances = found.instances.split_off(&state.min());
        if let Some(&highest) = state.instances.keys().next_back() {
            state.see(highest);
        }
        state.see(state.min().saturating_sub(1));
        (state, found.damaged)
    }

    /// Ends a handler: its reply, to be sent once its writes are durable (**D1**).
    pub(crate) fn answer<T>(&mut self, reply: T) -> Unsynced<T> {
        self.storage.take(reply)
    }

    /// Ends writes that answer nobody; see [`Storage::take_unanswered`].
    pub(crate) fn unanswered(&mut self) -> Option<Disk> {
        self.storage.take_unanswered()
    }

    /// Bytes this peer keeps on its disk.
    pub(crate) fn disk_bytes(&self) -> u64 {
        self.storage.bytes_used()
    }

    /// One more than the lowest `done` heard from any peer: instances below are forgotten.
    pub(crate) fn min(&self) -> Seq {
        // BEGIN SOLUTION: todo!("lab 3A: one more than the lowest done value heard from any peer")
        // Saturating: `done` values arrive in messages.
        self.done
            .iter()
            .copied()
            .min()
            .unwrap_or(-1)
            .saturating_add(1)
        // END SOLUTION
    }

    /// The highest instance this peer has heard of (`-1` at first).
    pub(crate) fn max(&self) -> Seq {
        self.max
    }

    /// This peer's own highest `done` argument, to piggyback on its messages.
    pub(crate) fn my_done(&self) -> Seq {
        self.done[self.me]
    }

    /// Notes that instance `seq` exists.
    pub(crate) fn see(&mut self, seq: Seq) {
        self.max = self.max.max(seq);
    }

    /// Records that peer `peer` is done with every instance up to `done`, and forgets what
    /// every peer is now done with. Keeps **F1**: `done[p]` only grows, so `min()` only grows.
    /// A `peer` out of range (a malformed message) is ignored.
    pub(crate) fn note_done(&mut self, peer: usize, done: Seq) {
        // BEGIN SOLUTION: todo!("lab 3A: record a peer's done value and forget what every peer is done with (F1)")
        let before = self.min();
        let Some(slot) = self.done.get_mut(peer) else {
            return;
        };
        if done <= *slot {
            return;
        }
        *slot = done;
        self.storage.save_peer(&self.done, self.abstain_through);
        let min = self.min();
        // Everything below `min` goes; `split_off` keeps the upper part. The files go after
        // the `done` values that forget them were written.
        let kept = self.instances.split_off(&min);
        for seq in std::mem::replace(&mut self.instances, kept).into_keys() {
            self.storage.remove_instance(seq);
        }
        if min > before {
            tracing::debug!(
                peer,
                done,
                min,
                "min advanced: instances below are forgotten"
            );
        }
        // END SOLUTION
    }

    /// The decided value of `seq`, if this peer learned it.
    pub(crate) fn decided(&self, seq: Seq) -> Option<&Bytes> {
        self.instances.get(&seq)?.decided.as_ref()
    }

    /// The highest round this peer has promised or accepted in `seq`, so a local proposer can
    /// start above it.
    pub(crate) fn highest_round(&self, seq: Seq) -> u64 {
        self.instances.get(&seq).map_or(0, |i| i.promised.round)
    }

    /// Makes the acceptor refuse to vote in instances up to `seq` (and vote in all above).
    pub(crate) fn abstain_through(&mut self, seq: Seq) {
        self.abstain_through = seq;
        self.storage.save_peer(&self.done, seq);
        if seq < Seq::MAX {
            self.see(seq);
        }
    }

    /// How many instances this peer holds state for, and how many bytes of values.
    pub(crate) fn held(&self) -> (usize, usize) {
        let bytes = self
            .instances
            .values()
            .map(|i| {
                i.accepted.as_ref().map_or(0, |(_, v)| v.len())
                    + i.decided.as_ref().map_or(0, |v| v.len())
            })
            .sum();
        (self.instances.len(), bytes)
    }

    /// The instance `seq`, created if it is new. `None` if it was forgotten (**F1**: a
    /// forgotten instance is never created again).
    fn instance(&mut self, seq: Seq) -> Option<&mut Instance> {
        if seq < self.min() {
            return None;
        }
        self.see(seq);
        Some(self.instances.entry(seq).or_default())
    }

    /// Phase 1b.
    ///
    /// Keeps **P1**: promises `args.ballot` only if it is above `n_p`. Keeps **P3**: the
    /// promise carries `(n_a, v_a)`. A decided instance answers with its value instead (any
    /// proposal that could still succeed must carry that value anyway, so nothing is lost).
    pub(crate) fn prepare(&mut self, args: &PrepareArgs) -> Unsynced<PrepareReply> {
        // BEGIN SOLUTION: todo!("lab 3A: answer a prepare: promise above n_p with (n_a, v_a), or refuse (P1, P3)")
        self.note_done(args.from, args.done);
        let abstain = args.seq <= self.abstain_through;
        let mut changed = false;
        let outcome = match self.instance(args.seq) {
            None => PrepareOutcome::Forgotten,
            Some(instance) => match &instance.decided {
                Some(value) => PrepareOutcome::Decided(value.clone()),
                None if abstain => PrepareOutcome::Abstain,
                None if args.ballot > instance.promised => {
                    instance.promised = args.ballot;
                    changed = true;
                    PrepareOutcome::Promise {
                        accepted: instance.accepted.clone(),
                    }
                }
                None => PrepareOutcome::Reject {
                    promised: instance.promised,
                },
            },
        };
        if changed {
            self.save(args.seq);
        }
        let answer = match &outcome {
            PrepareOutcome::Promise { accepted: None } => "promise".to_owned(),
            PrepareOutcome::Promise {
                accepted: Some((n_a, _)),
            } => format!("promise, accepted {n_a}"),
            PrepareOutcome::Reject { promised } => format!("refused, promised {promised}"),
            other => format!("{other:?}"),
        };
        tracing::debug!(seq = args.seq, n = %args.ballot, answer = %answer, "prepare");
        let reply = PrepareReply {
            outcome,
            done: self.my_done(),
        };
        self.answer(reply)
        // END SOLUTION
    }

    /// Phase 2b.
    ///
    /// Keeps **P2**: accepts only if `args.ballot >= n_p`, and then raises `n_p` to it (so
    /// **P1** holds too). A decided instance never says "accepted" — a late accept of an old,
    /// lower ballot may carry another value, and counting it would let that value win — but
    /// answers with the decision.
    pub(crate) fn accept(&mut self, args: &AcceptArgs) -> Unsynced<AcceptReply> {
        // BEGIN SOLUTION: todo!("lab 3A: answer an accept: accept at or above n_p, or refuse (P2)")
        self.note_done(args.from, args.done);
        let abstain = args.seq <= self.abstain_through;
        let mut changed = false;
        let outcome = match self.instance(args.seq) {
            None => AcceptOutcome::Forgotten,
            Some(instance) => match &instance.decided {
                Some(value) => AcceptOutcome::Decided(value.clone()),
                None if abstain => AcceptOutcome::Abstain,
                None if args.ballot >= instance.promised => {
                    instance.promised = args.ballot;
                    instance.accepted = Some((args.ballot, args.value.clone()));
                    changed = true;
                    AcceptOutcome::Accepted
                }
                None => AcceptOutcome::Reject {
                    promised: instance.promised,
                },
            },
        };
        if changed {
            self.save(args.seq);
        }
        let answer = match &outcome {
            AcceptOutcome::Accepted => "accepted".to_owned(),
            AcceptOutcome::Reject { promised } => format!("refused, promised {promised}"),
            other => format!("{other:?}"),
        };
        let value = labrpc::digest(&args.value.0);
        tracing::debug!(seq = args.seq, n = %args.ballot, value, answer = %answer, "accept");
        let reply = AcceptReply {
            outcome,
            done: self.my_done(),
        };
        self.answer(reply)
        // END SOLUTION
    }

    /// Phase 3: learn a decision.
    ///
    /// Keeps **L1**: only proposers that saw a majority accept (or that heard of the decision
    /// from an acceptor) send this, so the value is the chosen one; a second decision for the
    /// same instance is therefore equal and changes nothing.
    pub(crate) fn decided_message(&mut self, args: &DecidedArgs) -> Unsynced<DecidedReply> {
        // BEGIN SOLUTION: todo!("lab 3A: learn a decision from another peer (L1)")
        self.note_done(args.from, args.done);
        self.learn(args.seq, &args.value);
        let reply = DecidedReply {
            done: self.my_done(),
        };
        self.answer(reply)
        // END SOLUTION
    }

    /// Records that `value` was chosen in `seq` (unless `seq` was forgotten). The accepted
    /// proposal is dropped: from now on the decision answers every message about `seq`.
    pub(crate) fn learn(&mut self, seq: Seq, value: &Bytes) {
        // BEGIN SOLUTION: todo!("lab 3A: record the chosen value of an instance (L1)")
        if let Some(instance) = self.instance(seq)
            && instance.decided.is_none()
        {
            instance.decided = Some(value.clone());
            instance.accepted = None;
            self.save(seq);
            tracing::debug!(seq, value = %labrpc::digest(&value.0), "decided");
        }
        // END SOLUTION
    }

    /// Writes instance `seq` as it now is (**D1**).
    fn save(&mut self, seq: Seq) {
        if let Some(instance) = self.instances.get(&seq) {
            self.storage.save_instance(seq, instance);
        }
    }
}
