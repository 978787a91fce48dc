//! One real proposer against scripted acceptors: every other peer is a [`Transport`] whose
//! answers the test chooses, so each rule of the proposer is tested on the exact replies that
//! exercise it, in an order the test fixes:
//! - phase 2 proposes the value of the highest-numbered proposal any promise reported (P2c);
//! - no accept is sent without a majority of promises;
//! - a bare majority of promises or acceptances is enough, whatever the others do, and a
//!   majority of refusals ends a ballot at once, without waiting for a silent peer;
//! - a proposer refused again and again backs off;
//! - a proposer stops once its instance is decided, and `start` on a decided instance sends
//!   nothing.

use futures::FutureExt;
use labrpc::{Network, sim};
use parking_lot::Mutex;
use paxos::protocol::{
    AcceptArgs, AcceptOutcome, AcceptReply, Bytes, Call, DecidedArgs, DecidedReply, PrepareArgs,
    PrepareOutcome, PrepareReply, Transport,
};
use paxos::{Ballot, Peer, Status};
use std::sync::Arc;
use std::time::Duration;

/// What a scripted acceptor answers, after `after` of virtual time.
#[derive(Clone, Debug)]
enum Answer {
    /// A promise, reporting the proposal it accepted, if any: `(round, peer, value)`.
    Promise(Option<(u64, u32, &'static str)>),
    /// Accepted.
    Accepted,
    /// A refusal: it promised this round.
    Reject(u64),
    /// It abstains (a peer that lost its state).
    Abstain,
    /// The call fails (no reply).
    Down,
    /// Never answers.
    Silent,
}

/// What the proposer sent, in order.
#[derive(Clone, Debug, PartialEq)]
enum Sent {
    Prepare {
        to: usize,
        ballot: Ballot,
    },
    Accept {
        to: usize,
        ballot: Ballot,
        value: String,
    },
}

/// Peers `1..` of a cluster whose peer 0 is real.
struct Script {
    /// Per peer: its answer to a prepare and to an accept, and after how long.
    prepare: Vec<(Answer, Duration)>,
    accept: Vec<(Answer, Duration)>,
    sent: Mutex<Vec<Sent>>,
}

fn encode(value: &str) -> Bytes {
    Bytes(postcard::to_allocvec(&value.to_owned()).expect("a string encodes"))
}

fn decode(bytes: &Bytes) -> String {
    postcard::from_bytes(&bytes.0).expect("the proposer sends strings")
}

/// The reply to `answer`, after its delay (or never).
fn reply<T: 'static>(
    (answer, after): (Answer, Duration),
    make: impl FnOnce(Answer) -> T + 'static,
) -> Call<T> {
    async move {
        if matches!(answer, Answer::Silent) {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(after).await;
        match answer {
            Answer::Down => Err(labrpc::Error::NoReply),
            answer => Ok(make(answer)),
        }
    }
    .boxed_local()
}

impl Transport for Script {
    fn prepare(&self, to: usize, args: PrepareArgs) -> Call<PrepareReply> {
        self.sent.lock().push(Sent::Prepare {
            to,
            ballot: args.ballot,
        });
        reply(self.prepare[to].clone(), |answer| PrepareReply {
            outcome: match answer {
                Answer::Promise(accepted) => PrepareOutcome::Promise {
                    accepted: accepted
                        .map(|(round, peer, value)| (Ballot { round, peer }, encode(value))),
                },
                Answer::Reject(round) => PrepareOutcome::Reject {
                    promised: Ballot { round, peer: 9 },
                },
                _ => PrepareOutcome::Abstain,
            },
            done: -1,
        })
    }

    fn accept(&self, to: usize, args: AcceptArgs) -> Call<AcceptReply> {
        self.sent.lock().push(Sent::Accept {
            to,
            ballot: args.ballot,
            value: decode(&args.value),
        });
        reply(self.accept[to].clone(), |answer| AcceptReply {
            outcome: match answer {
                Answer::Accepted => AcceptOutcome::Accepted,
                Answer::Reject(round) => AcceptOutcome::Reject {
                    promised: Ballot { round, peer: 9 },
                },
                _ => AcceptOutcome::Abstain,
            },
            done: -1,
        })
    }

    fn decided(&self, _to: usize, _args: DecidedArgs) -> Call<DecidedReply> {
        async { Ok(DecidedReply { done: -1 }) }.boxed_local()
    }
}

const NOW: Duration = Duration::ZERO;

/// Three peers, the two others refusing at once (entry 0 unused).
fn both_others_refuse() -> Vec<(Answer, Duration)> {
    vec![
        (Answer::Silent, NOW),
        (Answer::Reject(0), NOW),
        (Answer::Reject(0), NOW),
    ]
}
/// Sooner than the real peer's own promise, which waits for its disk (1 ms).
const SOON: Duration = Duration::from_micros(500);

/// A cluster of `prepare.len()` peers whose peer 0 is real (entry 0 of the answers unused).
fn cluster(
    net: &Network,
    tag: &str,
    prepare: Vec<(Answer, Duration)>,
    accept: Vec<(Answer, Duration)>,
) -> (Peer<String>, Arc<Script>) {
    let names: Vec<String> = (0..prepare.len()).map(|i| format!("{tag}{i}")).collect();
    let script = Arc::new(Script {
        prepare,
        accept,
        sent: Mutex::new(Vec::new()),
    });
    let peer = Peer::with_transport(net, &names, 0, script.clone());
    (peer, script)
}

fn propose(peer: &Peer<String>, seq: i64, value: &str) {
    peer.start(seq, &value.to_owned())
        .expect("a string encodes");
}

fn accepts(script: &Script) -> Vec<String> {
    let sent = script.sent.lock();
    (sent.iter())
        .filter_map(|s| match s {
            Sent::Accept { value, .. } => Some(value.clone()),
            Sent::Prepare { .. } => None,
        })
        .collect()
}

fn prepares(script: &Script) -> Vec<Ballot> {
    let sent = script.sent.lock();
    (sent.iter())
        .filter_map(|s| match s {
            Sent::Prepare { ballot, .. } => Some(*ballot),
            Sent::Accept { .. } => None,
        })
        .collect()
}

/// P2c: three promises report three accepted proposals, the highest neither first nor last
/// to arrive; phase 2 proposes its value, not the proposer's own nor an older one.
#[test]
fn phase_two_proposes_the_highest_accepted_value() {
    sim::run(|net: Network| async move {
        let prepare = vec![
            (Answer::Silent, NOW),
            (Answer::Promise(Some((1, 1, "older"))), NOW),
            (Answer::Promise(Some((3, 2, "newest"))), SOON),
            (Answer::Promise(Some((2, 3, "middle"))), SOON * 2),
            (Answer::Silent, NOW),
        ];
        let accept = vec![(Answer::Accepted, NOW); 5];
        let (peer, script) = cluster(&net, "hv", prepare, accept);
        propose(&peer, 0, "mine");
        tokio::time::sleep(Duration::from_secs(1)).await;
        let sent = accepts(&script);
        assert!(!sent.is_empty(), "no accept was sent");
        assert!(
            sent.iter().all(|v| v == "newest"),
            "phase 2 must propose the value of the highest accepted ballot: {sent:?}"
        );
        assert!(matches!(peer.status(0), Status::Decided(v) if v == "newest"));
    });
}

/// One promise (the proposer's own) and refusals from the rest: the proposer tries again
/// with a higher ballot, past the round it was told, and never sends an accept.
#[test]
fn no_accept_without_a_majority_of_promises() {
    sim::run(|net: Network| async move {
        let prepare = vec![
            (Answer::Silent, NOW),
            (Answer::Reject(100), NOW),
            (Answer::Reject(7), SOON),
        ];
        let accept = vec![(Answer::Accepted, NOW); 3];
        let (peer, script) = cluster(&net, "nm", prepare, accept);
        propose(&peer, 0, "mine");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(
            accepts(&script),
            Vec::<String>::new(),
            "accepts without a majority"
        );
        let ballots = prepares(&script);
        assert!(ballots.len() >= 4, "the proposer gave up: {ballots:?}");
        assert!(
            ballots[2..].iter().all(|b| b.round > 100),
            "a refused proposer skips past the round it was told: {ballots:?}"
        );
        assert!(matches!(peer.status(0), Status::Pending));
    });
}

/// Of five peers, two refuse first (or one refuses and one never answers); the proposer's
/// own promise and two more make a majority, in both phases, and that is enough.
#[test]
fn a_bare_majority_decides_whatever_the_others_do() {
    sim::run(|net: Network| async move {
        let answers = |first: Answer, ok: Answer| {
            vec![
                (Answer::Silent, NOW),
                (first, NOW),
                (Answer::Reject(0), NOW),
                (ok.clone(), SOON),
                (ok, SOON),
            ]
        };
        for (tag, first) in [("br", Answer::Reject(0)), ("bs", Answer::Silent)] {
            let (peer, script) = cluster(
                &net,
                tag,
                answers(first.clone(), Answer::Promise(None)),
                answers(first, Answer::Accepted),
            );
            propose(&peer, 0, "mine");
            tokio::time::sleep(Duration::from_secs(1)).await;
            assert!(
                matches!(peer.status(0), Status::Decided(v) if v == "mine"),
                "{tag}: a majority promised and accepted, yet no decision: {:?}",
                script.sent.lock()
            );
        }
    });
}

/// A majority refuses at once, in each of the three ways (a higher promise, an abstention, a
/// failed call), and one peer never answers: each ballot ends on the refusals, in both
/// phases, and the proposer tries the next one.
#[test]
fn a_majority_of_refusals_ends_a_ballot_at_once() {
    sim::run(|net: Network| async move {
        let refuse = vec![
            (Answer::Silent, NOW),
            (Answer::Reject(0), NOW),
            (Answer::Abstain, NOW),
            (Answer::Down, NOW),
            (Answer::Silent, NOW),
        ];
        let (first, phase1) = cluster(&net, "r1", refuse.clone(), refuse.clone());
        propose(&first, 0, "mine");
        let mut promise = vec![(Answer::Promise(None), NOW); 4];
        promise.push((Answer::Silent, NOW));
        let (second, phase2) = cluster(&net, "r2", promise, refuse);
        propose(&second, 0, "mine");
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(
            prepares(&phase1).len() >= 3 * 4,
            "phase 1 waited for the silent peer"
        );
        assert!(
            accepts(&phase2).len() >= 3 * 4,
            "phase 2 waited for the silent peer"
        );
    });
}

/// Refused again and again, a proposer waits longer and longer between ballots (up to
/// 300 ms), instead of flooding its peers.
#[test]
fn a_refused_proposer_backs_off() {
    sim::run(|net: Network| async move {
        let refuse = both_others_refuse();
        let (_peer, script) = cluster(&net, "bo", refuse.clone(), refuse);
        propose(&_peer, 0, "mine");
        tokio::time::sleep(Duration::from_secs(3)).await;
        let ballots = prepares(&script).len() / 2;
        // At the longest backoff (5-300 ms, 150 ms on average) three seconds hold about 20
        // ballots; without backing off (5-10 ms) about 400.
        assert!((5..80).contains(&ballots), "{ballots} ballots in 3 s");
    });
}

/// A proposer that learns the decision while it backs off stops; `start` on the decided
/// instance sends nothing.
#[test]
fn a_decided_instance_is_left_alone() {
    sim::run(|net: Network| async move {
        let refuse = both_others_refuse();
        let (peer, script) = cluster(&net, "dl", refuse.clone(), refuse);
        propose(&peer, 0, "mine");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let decided = DecidedArgs {
            seq: 0,
            value: encode("theirs"),
            from: 1,
            done: -1,
        };
        peer.on_decided(decided).await;
        let before = prepares(&script).len();
        tokio::time::sleep(Duration::from_secs(1)).await;
        propose(&peer, 0, "again");
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            prepares(&script).len(),
            before,
            "prepares for an instance already decided"
        );
        assert!(matches!(peer.status(0), Status::Decided(v) if v == "theirs"));
    });
}
