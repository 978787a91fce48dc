//! The proposer: drives one instance to a decision.
//!
//! ```text
//! loop until decided (or forgotten, or the peer is killed):
//!     pick a ballot above every ballot seen in this instance
//!     phase 1: prepare(ballot) to every peer (itself locally)
//!         a majority promises -> value = v_a of the highest n_a among the promises,
//!                                or our own value if no promise carried one
//!     phase 2: accept(ballot, value) to every peer
//!         a majority accepts  -> the value is chosen: learn it, tell every peer (decided)
//!     otherwise back off for a random while (so that duelling proposers stop duelling)
//! ```
//!
//! Any answer "decided" (an acceptor that already learned the decision) ends the loop at
//! once: the proposer learns the value and passes it on. Each phase waits only until the
//! outcome is certain — a majority for, or a majority impossible — so a dead or partitioned
//! peer never holds a proposer up.

use futures::StreamExt;
use futures::future::LocalBoxFuture;
use futures::stream::FuturesUnordered;
use rand::Rng;
use std::sync::Arc;
use std::time::Duration;

use crate::peer::Core;
use crate::protocol::{
    AcceptArgs, AcceptOutcome, Ballot, Bytes, DecidedArgs, PrepareArgs, PrepareOutcome, Seq,
};

/// The shortest back-off after a failed ballot.
const BACKOFF_MIN: Duration = Duration::from_millis(5);
/// Back-off bounds double after each failure up to this bound.
const BACKOFF_MAX: Duration = Duration::from_millis(300);

/// How one ballot ended.
enum Round {
    /// The instance is decided (by us or someone else) or forgotten: stop.
    Over,
    /// No majority; the highest round an acceptor reported having promised.
    Failed { highest: u64 },
}

/// Proposes `value` in instance `seq` until the instance is decided, forgotten, or the
/// peer dies. Runs as a task of the peer's node, so killing the node stops it.
pub(crate) async fn propose(core: Arc<Core>, seq: Seq, value: Bytes) {
    // BEGIN SOLUTION: todo!("lab 3A: propose in this instance until it is decided, forgotten or the peer dies")
    let mut round = 0;
    let mut failures = 0u32;
    loop {
        {
            let state = core.state.lock();
            if state.dead || state.decided(seq).is_some() || seq < state.min() {
                break;
            }
            // Saturating: a round comes from peers' messages, and a bogus `u64::MAX` must
            // stall this proposer, not panic the node.
            round = round.max(state.highest_round(seq)).saturating_add(1);
        }
        let ballot = Ballot {
            round,
            peer: core.me as u32,
        };
        tracing::debug!(seq, n = %ballot, "proposing");
        match try_ballot(&core, seq, ballot, &value).await {
            Round::Over => break,
            Round::Failed { highest } => round = round.max(highest),
        }
        failures += 1;
        let bound = BACKOFF_MIN
            .saturating_mul(1 << failures.min(6))
            .min(BACKOFF_MAX);
        let wait = core
            .node
            .rng()
            .random_range(BACKOFF_MIN.as_millis() as u64..=bound.as_millis() as u64);
        tokio::time::sleep(Duration::from_millis(wait)).await;
    }
    core.state.lock().proposing.remove(&seq);
    // END SOLUTION
}

/// Runs phases 1 and 2 once with `ballot`.
async fn try_ballot(core: &Arc<Core>, seq: Seq, ballot: Ballot, own: &Bytes) -> Round {
    // BEGIN SOLUTION: todo!("lab 3A: run phases 1 and 2 once with this ballot")
    let peers = core.peers.len();
    let majority = peers / 2 + 1;

    // Phase 1.
    let args = PrepareArgs {
        seq,
        ballot,
        from: core.me,
        done: core.state.lock().my_done(),
    };
    let mut calls: FuturesUnordered<LocalBoxFuture<'static, _>> = FuturesUnordered::new();
    for to in 0..peers {
        if to == core.me {
            // Our own promise counts only once it is on disk (D1).
            let reply = core.state.lock().prepare(&args);
            calls.push(Box::pin(async move { (to, Ok(reply.synced().await)) }));
        } else {
            let call = core.transport.prepare(to, args.clone());
            calls.push(Box::pin(async move { (to, call.await) }));
        }
    }
    let (mut promises, mut refusals, mut highest) = (0, 0, 0);
    let mut best: Option<(Ballot, Bytes)> = None;
    while promises < majority && refusals <= peers - majority {
        let Some((from, reply)) = calls.next().await else {
            break;
        };
        let Ok(reply) = reply else {
            refusals += 1;
            continue;
        };
        core.note_done(from, reply.done);
        match reply.outcome {
            PrepareOutcome::Promise { accepted } => {
                promises += 1;
                if let Some((n, v)) = accepted
                    && best.as_ref().is_none_or(|(best_n, _)| n > *best_n)
                {
                    best = Some((n, v));
                }
            }
            PrepareOutcome::Reject { promised } => {
                refusals += 1;
                highest = highest.max(promised.round);
            }
            PrepareOutcome::Abstain => refusals += 1,
            PrepareOutcome::Decided(value) => {
                decide(core, seq, value);
                return Round::Over;
            }
            PrepareOutcome::Forgotten => return Round::Over,
        }
    }
    drop(calls);
    if promises < majority {
        tracing::debug!(seq, n = %ballot, promises, refusals, "phase 1 failed: no majority");
        return Round::Failed { highest };
    }

    // Phase 2: the value of the highest accepted proposal, else our own.
    let adopted = best.as_ref().map(|(n, _)| n.to_string());
    let value = best.map_or_else(|| own.clone(), |(_, v)| v);
    let digest = labrpc::digest(&value.0);
    let adopted = adopted.as_deref();
    tracing::debug!(seq, n = %ballot, promises, adopted, value = %digest, "phase 1 won");
    let args = AcceptArgs {
        seq,
        ballot,
        value,
        from: core.me,
        done: core.state.lock().my_done(),
    };
    let mut calls: FuturesUnordered<LocalBoxFuture<'static, _>> = FuturesUnordered::new();
    for to in 0..peers {
        if to == core.me {
            let reply = core.state.lock().accept(&args);
            calls.push(Box::pin(async move { (to, Ok(reply.synced().await)) }));
        } else {
            let call = core.transport.accept(to, args.clone());
            calls.push(Box::pin(async move { (to, call.await) }));
        }
    }
    let (mut accepts, mut refusals) = (0, 0);
    while accepts < majority && refusals <= peers - majority {
        let Some((from, reply)) = calls.next().await else {
            break;
        };
        let Ok(reply) = reply else {
            refusals += 1;
            continue;
        };
        core.note_done(from, reply.done);
        match reply.outcome {
            AcceptOutcome::Accepted => accepts += 1,
            AcceptOutcome::Reject { promised } => {
                refusals += 1;
                highest = highest.max(promised.round);
            }
            AcceptOutcome::Abstain => refusals += 1,
            AcceptOutcome::Decided(value) => {
                decide(core, seq, value);
                return Round::Over;
            }
            AcceptOutcome::Forgotten => return Round::Over,
        }
    }
    if accepts < majority {
        tracing::debug!(seq, n = %ballot, accepts, refusals, "phase 2 failed: no majority");
        return Round::Failed { highest };
    }
    tracing::debug!(seq, n = %ballot, value = %digest, "chosen");
    decide(core, seq, args.value);
    Round::Over
    // END SOLUTION
}

/// Learns that `value` was chosen in `seq` and tells every other peer, each message in a task
/// of its own so that a slow or lost one delays nobody. A peer that misses its message learns
/// the value when it next proposes in `seq` (an acceptor answers "decided").
fn decide(core: &Arc<Core>, seq: Seq, value: Bytes) {
    // BEGIN SOLUTION: todo!("lab 3A: learn the chosen value and tell every other peer")
    let done = {
        let mut state = core.state.lock();
        state.learn(seq, &value);
        state.my_done()
    };
    let args = DecidedArgs {
        seq,
        value,
        from: core.me,
        done,
    };
    for to in (0..core.peers.len()).filter(|&to| to != core.me) {
        let call = core.transport.decided(to, args.clone());
        let core_for_reply = Arc::clone(core);
        core.node.spawn(async move {
            if let Ok(reply) = call.await {
                core_for_reply.note_done(to, reply.done);
            }
        });
    }
    // END SOLUTION
}
