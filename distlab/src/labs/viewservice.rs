//! The view service under chaos: pinging servers crash and restart (pinging 0 again) and are
//! partitioned from the view server, while clients read the view. The view server stays up.
//!
//! The check, on every view a client saw: one view per view number; a client's view numbers
//! never go back; the primary and backup differ; the primary of view n+1, if any, was the primary or
//! the backup of view n (an uninitialized server never becomes primary); and before anyone saw
//! view n+1, the primary of view n had *sent* a ping with n (the view service waits for that
//! ack).
//!
//! Pings are recorded when sent, not when delivered: under message loss a sent ping may never
//! reach the view service, so the ack check is a necessary condition, not proof that the ack
//! arrived. Recording only pings that got a reply would be wrong the other way: a ping that was
//! delivered but whose reply was lost is a real ack, and would show as a false violation.

use labrpc::Network;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;
use tokio::time::{Instant, sleep};
use viewservice::{Clerk, PING_INTERVAL, View, ViewServer};

use super::{before, names, stuck_note, think, with_chaos};
use crate::chaos::{Cluster, DiskFate, Nodes};
use crate::scenario::{Check, LabReport, Live, Params};

/// The view server's node.
const VS: &str = "vs";

/// Pings sent (whether or not they were delivered): by whom, with which view number, when.
type Pings = Rc<RefCell<Vec<(String, u64, Duration)>>>;

struct ViewCluster {
    net: Network,
    nodes: Nodes,
    pings: Pings,
}

impl ViewCluster {
    /// Starts a server's pinger on its node: ping 0 until the first answer (a fresh start),
    /// then the number of the view it knows, every ping interval.
    fn start_pinger(&self, i: usize) {
        let name = self.nodes.servers[i].clone();
        let (ck, net, pings) = (
            Clerk::new(&self.net, &name, VS),
            self.net.clone(),
            self.pings.clone(),
        );
        self.net.spawn(&name.clone(), async move {
            let mut known = 0;
            loop {
                // Recorded when sent: see the module docs for why not on delivery or reply.
                pings.borrow_mut().push((name.clone(), known, net.now()));
                if let Ok(view) = ck.ping(known).await {
                    known = view.viewnum;
                }
                sleep(PING_INTERVAL).await;
            }
        });
    }
}

impl Cluster for ViewCluster {
    fn nodes(&self) -> &Nodes {
        &self.nodes
    }
    fn crash(&self, i: usize) {
        self.net.kill(&self.nodes.servers[i]);
    }
    /// Pingers keep nothing on disk.
    fn restart(&self, i: usize, _disk: DiskFate) {
        self.net.revive(&self.nodes.servers[i]);
        self.start_pinger(i);
    }
}

/// Runs the view service workload.
pub async fn run(net: &Network, params: &Params, live: &Live) -> LabReport {
    let _vs = ViewServer::start(net, VS);
    let clients = names("client", params.clients);
    let cluster = ViewCluster {
        net: net.clone(),
        nodes: Nodes::new(&names("s", params.servers), &clients, &[VS]),
        pings: Pings::default(),
    };
    for i in 0..params.servers {
        cluster.start_pinger(i);
    }
    let deadline = Instant::now() + params.duration;
    let results = with_chaos(net, params, live, &cluster, |i| {
        let (net, live, ck) = (net.clone(), live.clone(), Clerk::new(net, &clients[i], VS));
        async move {
            let mut seen = Vec::new();
            while before(deadline) {
                let started = net.now();
                if let Ok(view) = ck.get().await {
                    live.op_done(net.now() - started);
                    seen.push((view, net.now()));
                }
                think(&net).await;
            }
            seen
        }
    })
    .await;
    let note = stuck_note(&results);
    let seen: Vec<Vec<(View, Duration)>> = results.into_iter().flatten().collect();
    LabReport {
        check: check(&seen, &cluster.pings.borrow(), &note),
        history_html: None,
    }
}

/// Checks the views each client saw (with when it saw them) against the pings sent (see the
/// module docs: a sent ping is necessary for an ack, not proof of one).
fn check(seen: &[Vec<(View, Duration)>], pings: &[(String, u64, Duration)], note: &str) -> Check {
    // The first sighting of each view number, and the view itself.
    let mut views: BTreeMap<u64, (View, Duration)> = BTreeMap::new();
    for (client, views_seen) in seen.iter().enumerate() {
        let mut last = 0;
        for (view, at) in views_seen {
            if view.viewnum < last {
                return Check::Violation(format!(
                    "client {client} saw view {} after view {last}",
                    view.viewnum
                ));
            }
            last = view.viewnum;
            if view.primary.is_some() && view.primary == view.backup {
                return Check::Violation(format!("{view}: the primary is also the backup"));
            }
            let first = views
                .entry(view.viewnum)
                .or_insert_with(|| (view.clone(), *at));
            if first.0 != *view {
                return Check::Violation(format!(
                    "two views numbered {}: {} and {view}",
                    view.viewnum, first.0
                ));
            }
            first.1 = first.1.min(*at);
        }
    }
    for (n, (view, _)) in &views {
        let Some((next, next_seen)) = views.get(&(n + 1)) else {
            continue;
        };
        // View 1's primary is the first server to ping (V1). A view with no primary is where
        // the service ends when every copy restarted (V3).
        if *n > 0
            && let Some(next_primary) = &next.primary
            && view.primary.as_ref() != Some(next_primary)
            && view.backup.as_ref() != Some(next_primary)
        {
            return Check::Violation(format!(
                "{next} follows {view}: its primary was neither primary nor backup"
            ));
        }
        let Some(primary) = &view.primary else {
            continue;
        };
        let acked = pings
            .iter()
            .any(|(who, num, at)| who == primary && num == n && at <= next_seen);
        if !acked {
            return Check::Violation(format!(
                "{next} was handed out before {primary} had even sent a ping acknowledging view {n}"
            ));
        }
    }
    Check::Passed(format!("view rules hold over {} views{note}", views.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(viewnum: u64, primary: &str, backup: &str) -> View {
        let name = |n: &str| (!n.is_empty()).then(|| n.to_owned());
        View {
            viewnum,
            primary: name(primary),
            backup: name(backup),
        }
    }

    fn at(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    /// s1 pinged views 1 and 2 early on.
    fn acks() -> Vec<(String, u64, Duration)> {
        vec![("s1".into(), 1, at(10)), ("s1".into(), 2, at(20))]
    }

    #[test]
    fn a_good_succession_passes() {
        let seen = vec![vec![
            (view(0, "", ""), at(1)),
            (view(1, "s1", ""), at(5)),
            (view(2, "s1", "s2"), at(15)),
            (view(3, "s2", "s3"), at(30)),
        ]];
        assert!(!check(&seen, &acks(), "").is_violation());
    }

    /// Every copy restarted: the service ends in a view with no primary.
    #[test]
    fn a_view_with_no_primary_passes() {
        let seen = vec![vec![(view(1, "s1", ""), at(5)), (view(2, "", ""), at(15))]];
        assert!(!check(&seen, &acks(), "").is_violation());
    }

    #[test]
    fn each_rule_is_enforced() {
        let cases = [
            // Two different views numbered 2.
            vec![
                vec![(view(2, "s1", "s2"), at(15))],
                vec![(view(2, "s1", "s3"), at(16))],
            ],
            // A reader going back.
            vec![vec![
                (view(2, "s1", "s2"), at(15)),
                (view(1, "s1", ""), at(16)),
            ]],
            // The primary is the backup.
            vec![vec![(view(2, "s1", "s1"), at(15))]],
            // An uninitialized server (s3) becomes primary.
            vec![vec![
                (view(2, "s1", "s2"), at(15)),
                (view(3, "s3", ""), at(30)),
            ]],
            // After a view with no primary, a server becomes primary.
            vec![vec![
                (view(1, "s1", ""), at(5)),
                (view(2, "", ""), at(15)),
                (view(3, "s2", ""), at(30)),
            ]],
            // View 2 handed out before s1 acknowledged view 1 (at 10 ms).
            vec![vec![
                (view(1, "s1", ""), at(5)),
                (view(2, "s1", "s2"), at(8)),
            ]],
        ];
        for seen in cases {
            assert!(check(&seen, &acks(), "").is_violation(), "{seen:?}");
        }
    }
}
