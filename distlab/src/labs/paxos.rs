//! Paxos under chaos: clients ask random peers to agree on instances — often the same
//! instance as another client, so proposers compete — while peers crash and restart empty
//! and partitions split them. The check: no two peers decided different values for an
//! instance, every decided value was proposed for it, and each client saw the decided value.

use labrpc::Network;
use paxos::{Peer, Seq, Status};
use rand::Rng;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;
use tokio::time::{Instant, sleep};

use super::{before, names, stuck_note, think, with_chaos};
use crate::chaos::{Cluster, Nodes};
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
    fn restart(&self, i: usize) {
        let peer = Peer::new(&self.net, &self.nodes.servers, i);
        peer.abstain_through(self.highest.get());
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
    let proposed: Rc<RefCell<BTreeMap<Seq, Vec<String>>>> = Rc::default();
    let deadline = Instant::now() + params.duration;
    let results = with_chaos(net, params, live, &*cluster, |i| {
        let (net, live, cluster, proposed) =
            (net.clone(), live.clone(), cluster.clone(), proposed.clone());
        async move {
            let mut seen = Vec::new();
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
                proposed
                    .borrow_mut()
                    .entry(seq)
                    .or_default()
                    .push(value.clone());
                let started = net.now();
                let decided = agree(&net, &cluster, seq, &value).await;
                live.op_done(net.now() - started);
                seen.push((seq, decided));
                think(&net).await;
            }
            seen
        }
    })
    .await;
    let note = stuck_note(&results);
    let seen: Vec<(Seq, String)> = results.into_iter().flatten().flatten().collect();
    LabReport {
        check: check(&cluster.peers.borrow(), &proposed.borrow(), &seen, &note),
        history_html: None,
    }
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

/// No two peers disagree, every decision was proposed, every client saw the decision.
fn check(
    peers: &[Peer<String>],
    proposed: &BTreeMap<Seq, Vec<String>>,
    seen: &[(Seq, String)],
    note: &str,
) -> Check {
    let mut decided: BTreeMap<Seq, String> = BTreeMap::new();
    for (seq, value) in seen {
        if let Some(other) = decided
            .insert(*seq, value.clone())
            .filter(|other| other != value)
        {
            return Check::Violation(format!(
                "instance {seq}: clients saw both {other:?} and {value:?} decided"
            ));
        }
    }
    for (p, peer) in peers.iter().enumerate() {
        for (&seq, values) in proposed {
            if let Status::Decided(value) = peer.status(seq) {
                if !values.contains(&value) {
                    return Check::Violation(format!(
                        "instance {seq}: peer {p} decided {value:?}, which nobody proposed"
                    ));
                }
                if let Some(other) = decided
                    .insert(seq, value.clone())
                    .filter(|other| *other != value)
                {
                    return Check::Violation(format!(
                        "instance {seq}: peer {p} decided {value:?} but {other:?} was decided too"
                    ));
                }
            }
        }
    }
    Check::Passed(format!(
        "agreement on all {} instances, every decision proposed{note}",
        decided.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disagreement_and_unproposed_values_are_violations() {
        let proposed: BTreeMap<Seq, Vec<String>> = [(0, vec!["a".into(), "b".into()])].into();
        let ok = [(0, "a".to_owned()), (0, "a".to_owned())];
        assert!(!check(&[], &proposed, &ok, "").is_violation());
        let split = [(0, "a".to_owned()), (0, "b".to_owned())];
        assert!(check(&[], &proposed, &split, "").is_violation());
        // A peer that decided a value nobody proposed (as far as the check was told).
        labrpc::sim::simulate(1, false, |net: Network| async move {
            let peer: Peer<String> = Peer::new(&net, &["p0".to_owned()], 0);
            let _ = peer.start(0, &"x".to_owned());
            sleep(Duration::from_millis(100)).await;
            assert_eq!(peer.status(0), Status::Decided("x".to_owned()));
            let told: BTreeMap<Seq, Vec<String>> = [(0, vec!["a".into()])].into();
            assert!(check(std::slice::from_ref(&peer), &told, &[], "").is_violation());
            let told: BTreeMap<Seq, Vec<String>> = [(0, vec!["x".into()])].into();
            assert!(!check(std::slice::from_ref(&peer), &told, &[], "").is_violation());
        });
    }
}
