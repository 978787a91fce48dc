//! The fault injector of a scenario: partitions and crashes at random times drawn from the
//! simulation's generator, one fault at a time, until the scenario's duration is over; then
//! everything heals and every crashed server restarts.
//!
//! A crash keeps the victim's disk (what it synced survives, as after a process crash or a
//! reboot) unless the settings say crashes lose disks; the lab's restart is told which.
//!
//! One fault at a time is deliberate: primary/backup survives one failure, not two at once,
//! and a restarted Paxos server needs the others to catch up. A lab says through [`Cluster`]
//! when it can take the next fault and how long to let it settle afterwards.

use labrpc::Network;
use rand::Rng;
use std::time::Duration;
use tokio::time::{Instant, sleep, sleep_until};

use crate::scenario::{Live, Params};

/// How often the injector asks a cluster that was not ready whether it is now.
const READY_POLL: Duration = Duration::from_millis(100);

/// The nodes of a cluster, as the injector sees them.
#[derive(Clone, Debug)]
pub struct Nodes {
    /// The server nodes: crashed, and split by partitions.
    pub servers: Vec<String>,
    /// Other nodes (clients, a master, a view service) that partitions place on either side.
    pub bystanders: Vec<String>,
}

impl Nodes {
    /// Servers `servers`; clients `clients` and the other nodes `others` as bystanders.
    pub fn new(servers: &[String], clients: &[String], others: &[&str]) -> Nodes {
        let mut bystanders = clients.to_vec();
        bystanders.extend(others.iter().map(|&o| o.to_owned()));
        Nodes {
            servers: servers.to_vec(),
            bystanders,
        }
    }
}

/// What a crash left of the victim's disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiskFate {
    /// The disk keeps what was synced (a process crash, a reboot).
    Kept,
    /// The disk is gone ([`Network::lose_disk`]): the server restarts empty.
    Lost,
}

/// What the injector may break, as one lab sees it.
pub trait Cluster {
    /// The cluster's nodes.
    fn nodes(&self) -> &Nodes;
    /// Crashes server `i` (an index of [`Nodes::servers`]).
    fn crash(&self, i: usize);
    /// Restarts server `i` after a crash that left its disk as `disk` says.
    fn restart(&self, i: usize, disk: DiskFate);
    /// Whether the cluster can take another fault now (default: always).
    fn ready(&self) -> bool {
        true
    }
    /// Quiet time after each fault heals, before the next may start (default: none).
    fn settle(&self) -> Duration {
        Duration::ZERO
    }
    /// The groups of a partition. Default: a random majority of servers on one side, the
    /// rest on the other, and each bystander on a random side.
    fn partition(&self, net: &Network) -> Vec<Vec<String>> {
        split(net, &self.nodes().servers, &self.nodes().bystanders)
    }
}

/// The restart of a lab whose servers keep their state in memory only, with nothing to
/// restart from: never called, since [`Params::supported_by`](crate::scenario::Params::supported_by)
/// refuses crashes for such a lab.
///
/// # Panics
/// Always: reaching it is a bug of the scenario.
pub fn no_restart(lab: &str, server: &str) -> ! {
    panic!(
        "{lab}: {server} cannot restart: its state is in memory only (--crash-every is \
         refused for {lab})"
    )
}

/// A duration around `mean`: uniform in [mean/2, 3 mean/2), in whole milliseconds. Saturates
/// instead of overflowing: a mean beyond `u64::MAX` ms counts as `u64::MAX` ms.
pub fn around(net: &Network, mean: Duration) -> Duration {
    let ms = u64::try_from(mean.as_millis()).unwrap_or(u64::MAX).max(2);
    Duration::from_millis(net.rng().random_range(ms / 2..ms.saturating_add(ms / 2)))
}

/// `d` from now, or (if that is past what the clock can represent) so far in the future that
/// it never comes.
fn after(d: Duration) -> Instant {
    let now = Instant::now();
    // About 30 years, as tokio does for a sleep that would overflow.
    let never = Duration::from_secs(86_400 * 365 * 30);
    now.checked_add(d)
        .or_else(|| now.checked_add(never))
        .unwrap_or(now)
}

/// The kinds of fault.
#[derive(Clone, Copy)]
enum Fault {
    Partition,
    Crash,
}

/// Injects faults until `params.duration` has passed since the call, then heals: a fault
/// still on at the end is cut short, and no fault starts after it, so the injector never
/// stretches a run however long the mean intervals are.
pub async fn inject(net: Network, params: Params, live: Live, cluster: &dyn Cluster) {
    let end = after(params.duration);
    loop {
        // The next fault is whichever kind comes first; a zero mean turns a kind off.
        let draw = |kind: Fault, mean: Duration| {
            (!mean.is_zero()).then(|| (around(&net, mean), kind, mean))
        };
        let next = [
            draw(Fault::Partition, params.partition_every),
            draw(Fault::Crash, params.crash_every),
        ]
        .into_iter()
        .flatten()
        .min_by_key(|(wait, _, _)| *wait);
        let Some((wait, kind, mean)) = next else {
            break;
        };
        // A fault that would start after the end never does: waiting for it would only stretch
        // the run's simulated time (by up to a day for `--crash-every 24h`).
        let start = after(wait);
        if start >= end {
            break;
        }
        sleep_until(start).await;
        while !cluster.ready() && Instant::now() < end {
            sleep(READY_POLL).await;
        }
        if Instant::now() >= end {
            break;
        }
        let hold = around(&net, mean);
        match kind {
            Fault::Partition => {
                let groups = cluster.partition(&net);
                let groups: Vec<Vec<&str>> = groups
                    .iter()
                    .map(|g| g.iter().map(String::as_str).collect())
                    .collect();
                let groups: Vec<&[&str]> = groups.iter().map(Vec::as_slice).collect();
                let start = net.now();
                net.partition(&groups);
                live.fault();
                sleep_until(after(hold).min(end)).await;
                net.heal();
                let sides: Vec<String> = groups
                    .iter()
                    .map(|g| format!("{{{}}}", g.join(" ")))
                    .collect();
                live.fault_span(start, net.now(), format!("partition {}", sides.join(" | ")));
            }
            Fault::Crash => {
                let victim = net.rng().random_range(0..cluster.nodes().servers.len());
                let start = net.now();
                cluster.crash(victim);
                let disk = if params.lose_disks {
                    net.lose_disk(&cluster.nodes().servers[victim]);
                    DiskFate::Lost
                } else {
                    DiskFate::Kept
                };
                live.fault();
                sleep_until(after(hold).min(end)).await;
                let name = &cluster.nodes().servers[victim];
                let label = match disk {
                    DiskFate::Kept => format!("crash {name}"),
                    DiskFate::Lost => format!("crash {name} (disk lost)"),
                };
                live.fault_span(start, net.now(), label);
                cluster.restart(victim, disk);
            }
        }
        sleep_until(after(cluster.settle()).min(end)).await;
    }
    sleep_until(end).await;
    net.heal();
}

/// Shuffles `servers`, puts a majority of them in the first group and the rest in the second,
/// and each of `bystanders` in a random group.
pub fn split(net: &Network, servers: &[String], bystanders: &[String]) -> Vec<Vec<String>> {
    let mut rng = net.rng();
    let mut servers = servers.to_vec();
    for i in (1..servers.len()).rev() {
        servers.swap(i, rng.random_range(0..=i));
    }
    let minority = servers.split_off(servers.len() / 2 + 1);
    let mut groups = vec![servers, minority];
    for b in bystanders {
        groups[rng.random_range(0..2)].push(b.clone());
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Lab;
    use crate::scenario::{self, Params};

    #[test]
    fn around_saturates_on_enormous_means() {
        labrpc::sim::simulate(1, false, |net: Network| async move {
            let longest = Duration::from_millis(u64::MAX);
            for mean in [Duration::MAX, longest, Duration::from_secs(u64::MAX / 1000)] {
                let d = around(&net, mean);
                assert!(d >= longest / 2 && d <= longest, "{mean:?} gave {d:?}");
            }
            let d = around(&net, Duration::ZERO);
            assert!(d <= Duration::from_millis(3), "{d:?}");
        });
    }

    /// Intervals far longer than the run neither panic nor stretch its simulated time: no
    /// fault starts after the end, and the injector does not wait for one.
    #[test]
    fn enormous_intervals_neither_panic_nor_stretch_the_run() {
        for every in [Duration::MAX, Duration::from_secs(24 * 3600)] {
            let params = Params {
                seed: 3,
                servers: 3,
                clients: 2,
                duration: Duration::from_secs(1),
                drop: 0.0,
                long_delays: false,
                reordering: false,
                partition_every: every,
                crash_every: every,
                lose_disks: false,
            };
            let outcome = scenario::run(Lab::Paxos, &params, false, false);
            assert!(
                !outcome.check.is_violation(),
                "{every:?}: {:?}",
                outcome.check
            );
            assert!(
                outcome.simulated < Duration::from_secs(61),
                "{every:?}: {:?} simulated for a 1 s run",
                outcome.simulated
            );
        }
    }

    /// `--lose-disks` loses the disk of every crashed server, and only then: the trace has a
    /// `disk_lost` event per crash with it and none without; and Paxos, whose peers keep
    /// their votes on disk, decides every instance with disks kept.
    #[test]
    fn crashes_lose_disks_only_when_asked() {
        use labrpc::trace::EventKind;
        for lose_disks in [false, true] {
            let params = Params {
                seed: 5,
                servers: 3,
                clients: 2,
                duration: Duration::from_secs(5),
                drop: 0.0,
                long_delays: false,
                reordering: false,
                partition_every: Duration::ZERO,
                crash_every: Duration::from_millis(500),
                lose_disks,
            };
            let outcome = scenario::run(Lab::Paxos, &params, false, true);
            let count = |kind| outcome.events.iter().filter(|e| e.kind == kind).count();
            let (kills, lost) = (count(EventKind::Killed), count(EventKind::DiskLost));
            assert!(kills > 0, "no crash in 5 s");
            assert_eq!(
                lost,
                if lose_disks { kills } else { 0 },
                "lose_disks {lose_disks}"
            );
            if !lose_disks {
                assert!(outcome.blocked.is_empty(), "{:?}", outcome.blocked);
            }
        }
    }
}
