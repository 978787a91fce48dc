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
use crate::chaos::Cluster;
use crate::scenario::{Check, LabReport, Live, Params};

/// How often a client looks at its peer's status while waiting for a decision.
const POLL: Duration = Duration::from_millis(10);
/// How long a client waits on one peer before asking another (its peer may be cut off or
/// restarted without the instance).
const ASK_ANOTHER_AFTER: Duration = Duration::from_secs(1);

struct PaxosCluster {
    net: Network,
    names: Vec<String>,
    clients: Vec<String>,
    peers: RefCell<Vec<Peer<String>>>,
    /// The highest instance any client has started: a restarted peer may have voted in any
    /// instance up to it, so it abstains there (a forgotten promise could let two values win).
    highest: Cell<Seq>,
}

impl Cluster for PaxosCluster {
    fn servers(&self) -> Vec<String> {
        self.names.clone()
    }
    fn bystanders(&self) -> Vec<String> {
        self.clients.clone()
    }
    fn crash(&self, i: usize) {
        self.peers.borrow()[i].kill();
    }
    fn restart(&self, i: usize) {
        let peer = Peer::new(&self.net, &self.names, i);
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
        names,
        clients: super::names("client", params.clients),
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
