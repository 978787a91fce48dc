//! Restarts with the disk (K5): a server made again on its node after a crash serves at once
//! from its snapshot and its Paxos peer's votes, and a crash of every server loses nothing,
//! even instances Paxos had already forgotten.

mod common;

use common::*;
use labrpc::{Network, sim};
use paxoskv::KvServer;
use std::time::Duration;
use tokio::time::sleep;

/// Every server crashes at once, after Paxos forgot most of the log: the writes are all
/// there after they restart with their disks, and the cluster goes on.
#[test]
fn every_server_crashing_at_once_loses_nothing() {
    sim::run(|net: Network| async move {
        const N: usize = 3;
        let (names, servers) = cluster(&net, "all", N);
        let mut cks: Vec<_> = (0..N)
            .map(|i| clerk_of(&net, &format!("ck{i}"), &names, &[i]))
            .collect();
        for round in 0..10 {
            for (i, ck) in cks.iter_mut().enumerate() {
                ck.append("log", &format!("{round}.{i} ")).await;
                ck.put(&format!("k{i}"), &round.to_string()).await;
            }
        }
        let forgotten = servers.iter().map(|s| s.paxos().min()).min().unwrap_or(0);
        assert!(forgotten > 20, "Paxos forgot only {forgotten} instances");
        for s in &servers {
            s.kill();
        }
        let servers: Vec<KvServer> = (0..N).map(|i| KvServer::start(&net, &names, i)).collect();
        assert!(servers.iter().all(KvServer::is_ready));
        let want: String = (0..10)
            .flat_map(|r| (0..N).map(move |i| format!("{r}.{i} ")))
            .collect();
        for (i, ck) in cks.iter_mut().enumerate() {
            check(ck, "log", &want).await;
            check(ck, &format!("k{i}"), "9").await;
        }
        cks[1].append("log", "after").await;
        check(&mut cks[2], "log", &format!("{want}after")).await;
    });
}

/// A server restarted with its disk answers at once, with every write made while it was
/// down, without waiting for the others' snapshots (its acceptor does not abstain).
#[test]
fn a_server_restarted_with_its_disk_serves_at_once() {
    sim::run(|net: Network| async move {
        let (names, servers) = cluster(&net, "one", 3);
        let mut ck = clerk_of(&net, "ck", &names, &[0, 1]);
        ck.put("a", "1").await;
        servers[2].kill();
        ck.append("a", "2").await;
        let back = KvServer::start(&net, &names, 2);
        assert!(back.is_ready());
        // Only server 0 is up besides it: a restart without the disk would need both.
        servers[1].kill();
        let mut ck2 = clerk_of(&net, "ck2", &names, &[2]);
        let got = tokio::time::timeout(Duration::from_secs(5), ck2.get("a")).await;
        assert_eq!(got.ok().as_deref(), Some("12"));
        ck2.append("a", "3").await;
        sleep(Duration::from_millis(100)).await;
        check(&mut ck, "a", "123").await;
    });
}

/// A killed server answers nothing, and its restart with the disk serves again.
#[test]
fn a_killed_server_answers_nothing_until_restarted() {
    sim::run(|net: Network| async move {
        let (names, servers) = cluster(&net, "k", 3);
        let mut ck = clerk_of(&net, "ck", &names, &[0]);
        ck.put("a", "1").await;
        servers[0].kill();
        let got = tokio::time::timeout(Duration::from_secs(3), ck.get("a")).await;
        assert!(got.is_err(), "a killed server answered {got:?}");
        let _back = KvServer::start(&net, &names, 0);
        check(&mut ck, "a", "1").await;
    });
}

/// K4: a snapshot is written every so many instances or so many bytes of values, not for
/// every operation: one small Put leaves no snapshot yet, and an Append or a Put of a megabyte
/// makes the server that ran it write one before it answers (so the log need not keep it).
#[test]
fn snapshots_follow_the_bytes_applied_not_each_operation() {
    /// What the snapshot file of node `name` holds, in bytes (0: none yet).
    fn snapshot_bytes(net: &Network, name: &str) -> usize {
        net.disk(name)
            .read("kv-state")
            .ok()
            .flatten()
            .map_or(0, |b| b.len())
    }
    const MEGABYTE: usize = 1 << 20;
    sim::run(|net: Network| async move {
        let (names, _servers) = cluster(&net, "snap", 3);
        let mut ck = clerk_of(&net, "ck", &names, &[0]);
        ck.put("small", "x").await;
        assert_eq!(
            snapshot_bytes(&net, &names[0]),
            0,
            "a snapshot was written for one small Put"
        );
        ck.append("big", &"v".repeat(MEGABYTE)).await;
        let saved = snapshot_bytes(&net, &names[0]);
        assert!(
            saved >= MEGABYTE,
            "after an Append of {MEGABYTE} bytes the server's snapshot holds {saved} bytes"
        );
        ck.put("big2", &"w".repeat(MEGABYTE)).await;
        let saved = snapshot_bytes(&net, &names[0]);
        assert!(
            saved >= 2 * MEGABYTE,
            "after a Put of {MEGABYTE} bytes more the server's snapshot holds {saved} bytes"
        );
    });
}
