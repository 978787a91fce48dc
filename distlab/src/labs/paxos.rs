//! Paxos under chaos: clients ask random peers to agree on instances — often the same
//! instance as another client, so proposers compete — while peers crash and restart (from
//! their disk, or empty with `--lose-disks`) and partitions split them. The check: no two peers decided different values for an
//! instance, every decided value was proposed for it, and each client saw the decided value.

use labrpc::Network;
use linearizability::{Model, Operation, Recorder, partition_by};
use paxos::{Peer, Seq, Status};
use rand::Rng;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;
use tokio::time::{Instant, sleep};

use super::{before, check_history, names, stuck_note, think, with_chaos};
use crate::chaos::{Cluster, DiskFate, Nodes};
use crate::scenario::{Check, LabReport, Live, Params};

/// How often a client looks at its peer's status while waiting for a decision.
const POLL: Duration = Duration::from_millis(10);
/// How long a client waits on one peer before asking another (its peer may be cut off or
/// restarted without the instance).
const ASK_ANOTHER_AFTER: Duration = Duration::from_secs(1);

struct PaxosCluster {
    net: Network,
    nodes: Nodes,
    peers: RefCell<Vec<Peer<String>>>,
    /// The highest instance any client has started: a restarted peer may have voted in any
    /// instance up to it, so it abstains there (a forgotten promise could let two values win).
    highest: Cell<Seq>,
}

impl Cluster for PaxosCluster {
    fn nodes(&self) -> &Nodes {
        &self.nodes
    }
    fn crash(&self, i: usize) {
        self.peers.borrow()[i].kill();
    }
    /// With its disk, a peer remembers its votes; without, it abstains wherever it may have
    /// voted.
    fn restart(&self, i: usize, disk: DiskFate) {
        let peer = Peer::new(&self.net, &self.nodes.servers, i);
        if disk == DiskFate::Lost {
            peer.abstain_through(self.highest.get());
        }
        self.peers.borrow_mut()[i] = peer;
    }
}

/// Runs the Paxos workload.
pub async fn run(net: &Network, params: &Params, live: &Live) -> LabReport {
    let names = names("px", params.servers);
    let peers = (0..params.servers)
        .map(|i| Peer::new(net, &names, i))
        .collect();
    let cluster = Rc::new(PaxosCluster {
        net: net.clone(),
        nodes: Nodes::new(&names, &super::names("client", params.clients), &[]),
        peers: RefCell::new(peers),
        highest: Cell::new(-1),
    });
    let recorder: Recorder<Proposal, String> = Recorder::new();
    let deadline = Instant::now() + params.duration;
    let results = with_chaos(net, params, live, &*cluster, |i| {
        let (net, live, cluster, recorder) =
            (net.clone(), live.clone(), cluster.clone(), recorder.clone());
        async move {
            let mut n = 0;
            while before(deadline) {
                // Half the time compete for the newest instance, else start a fresh one.
                let newest = cluster.highest.get();
                let seq = if newest >= 0 && net.rng().random_bool(0.5) {
                    newest
                } else {
                    newest + 1
                };
                cluster.highest.set(seq);
                let value = format!("{i}.{n}");
                n += 1;
                let started = net.now();
                let id = recorder.call(
                    i,
                    Proposal {
                        seq,
                        value: value.clone(),
                    },
                    started,
                );
                let decided = agree(&net, &cluster, seq, &value).await;
                // Ids come from this recorder and each is returned once: cannot fail.
                let _ = recorder.returned(id, decided, net.now());
                live.op_done(net.now() - started);
                think(&net).await;
            }
        }
    })
    .await;
    let history = recorder.history();
    let mut report = check_history(
        &Consensus,
        &history,
        "Paxos instances",
        &stuck_note(&results),
        net.seed(),
    );
    if let Some(violation) = check_peers(&cluster.peers.borrow(), &history) {
        report.check = Check::Violation(violation);
    }
    report
}

/// Starts instance `seq` with `value` on a random peer and waits until that peer knows the
/// decision, moving to another peer when one takes too long.
async fn agree(net: &Network, cluster: &PaxosCluster, seq: Seq, value: &String) -> String {
    loop {
        let peer = {
            let peers = cluster.peers.borrow();
            peers[net.rng().random_range(0..peers.len())].clone()
        };
        // A peer fails to start only if the value cannot be encoded: never for a String.
        let _ = peer.start(seq, value);
        let asked = Instant::now();
        while asked.elapsed() < ASK_ANOTHER_AFTER {
            if let Status::Decided(decided) = peer.status(seq) {
                return decided;
            }
            sleep(POLL).await;
        }
    }
}

/// A proposal: a client asked for `value` in instance `seq`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Proposal {
    /// The instance.
    pub seq: Seq,
    /// The value proposed.
    pub value: String,
}

/// Paxos seen from its clients, as a sequential object: one write-once cell per instance.
/// `propose(seq, v)` returns the value decided in `seq`, which is `v` if this proposal is the
/// first one in the order. A history is linearizable exactly when the clients of an instance
/// agree and the decided value was proposed before anyone learned it.
pub struct Consensus;

impl Model for Consensus {
    /// The decided value of the one instance of a part, if any yet.
    type State = Option<String>;
    type Input = Proposal;
    type Output = String;

    fn init(&self) -> Option<String> {
        None
    }

    fn step(
        &self,
        state: &Option<String>,
        input: &Proposal,
        output: Option<&String>,
    ) -> Option<Option<String>> {
        let decided = state.as_ref().unwrap_or(&input.value);
        match output {
            Some(seen) if seen != decided => None,
            _ => Some(Some(decided.clone())),
        }
    }

    fn partition(&self, history: &[Operation<Proposal, String>]) -> Vec<Vec<usize>> {
        partition_by(history, |p| p.seq)
    }

    fn describe_part(&self, input: &Proposal) -> Option<String> {
        Some(format!("instance {}", input.seq))
    }

    fn describe_operation(&self, input: &Proposal, output: Option<&String>) -> String {
        let decided = output.map_or("?", String::as_str);
        format!("propose({}, {:?}) -> {decided:?}", input.seq, input.value)
    }
}

/// What the peers hold at the end: no two decided differently from each other or from what a
/// client was told, and each decision was proposed. `None` when all holds.
fn check_peers(peers: &[Peer<String>], history: &[Operation<Proposal, String>]) -> Option<String> {
    let mut proposed: BTreeMap<Seq, Vec<&String>> = BTreeMap::new();
    let mut decided: BTreeMap<Seq, String> = BTreeMap::new();
    for op in history {
        proposed
            .entry(op.input.seq)
            .or_default()
            .push(&op.input.value);
        if let Some(value) = op.output() {
            decided.entry(op.input.seq).or_insert_with(|| value.clone());
        }
    }
    for (p, peer) in peers.iter().enumerate() {
        for (&seq, values) in &proposed {
            let Status::Decided(value) = peer.status(seq) else {
                continue;
            };
            if !values.contains(&&value) {
                return Some(format!(
                    "instance {seq}: peer {p} decided {value:?}, which nobody proposed"
                ));
            }
            if let Some(other) = decided
                .insert(seq, value.clone())
                .filter(|other| *other != value)
            {
                return Some(format!(
                    "instance {seq}: peer {p} decided {value:?} but {other:?} was decided too"
                ));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use linearizability::{Verdict, check};

    fn propose(
        client: usize,
        call: u64,
        ret: u64,
        seq: Seq,
        value: &str,
        decided: &str,
    ) -> Operation<Proposal, String> {
        let input = Proposal {
            seq,
            value: value.into(),
        };
        Operation::returned(client, call, ret, input, decided.into())
    }

    #[test]
    fn clients_must_agree_on_a_value_proposed_in_time() {
        let verdict =
            |history: &[Operation<Proposal, String>]| check(&Consensus, history).map(|r| r.verdict);
        // Two proposers, one decision: either value may win.
        let agree = [
            propose(0, 0, 10, 0, "a", "b"),
            propose(1, 5, 15, 0, "b", "b"),
            propose(2, 1, 2, 1, "c", "c"),
        ];
        assert_eq!(verdict(&agree), Ok(Verdict::Linearizable));
        // Disagreement.
        let split = [
            propose(0, 0, 10, 0, "a", "a"),
            propose(1, 5, 15, 0, "b", "b"),
        ];
        assert_eq!(verdict(&split), Ok(Verdict::Violation));
        // A value nobody proposed.
        let invented = [propose(0, 0, 10, 0, "a", "z")];
        assert_eq!(verdict(&invented), Ok(Verdict::Violation));
        // Learned before it was proposed: "b" was proposed at 20, after client 0 returned.
        let early = [
            propose(0, 0, 10, 0, "a", "b"),
            propose(1, 20, 30, 0, "b", "b"),
        ];
        assert_eq!(verdict(&early), Ok(Verdict::Violation));
        // A proposal that never returned may still have decided.
        let open = [
            Operation::unknown(
                0,
                0,
                Proposal {
                    seq: 0,
                    value: "a".into(),
                },
            ),
            propose(1, 5, 15, 0, "b", "a"),
        ];
        assert_eq!(verdict(&open), Ok(Verdict::Linearizable));
    }

    #[test]
    fn a_peer_deciding_otherwise_is_a_violation() {
        labrpc::sim::simulate(1, false, |net: Network| async move {
            let peer: Peer<String> = Peer::new(&net, &["p0".to_owned()], 0);
            let _ = peer.start(0, &"x".to_owned());
            sleep(Duration::from_millis(100)).await;
            assert_eq!(peer.status(0), Status::Decided("x".to_owned()));
            let peers = std::slice::from_ref(&peer);
            assert_eq!(check_peers(peers, &[propose(0, 0, 10, 0, "x", "x")]), None);
            // Told of a proposal "a" only: the peer's "x" came from nowhere.
            assert!(check_peers(peers, &[propose(0, 0, 10, 0, "a", "a")]).is_some());
            // "x" was proposed, but a client was told "y".
            let told = [
                propose(0, 0, 10, 0, "x", "y"),
                propose(1, 0, 10, 0, "y", "y"),
            ];
            assert!(check_peers(peers, &told).is_some());
        });
    }
}
