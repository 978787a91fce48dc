//! Beyond Go: what a clerk costs and what a replica reports. On an exact network (no loss, no
//! jitter) a clerk asks the shard master once, for the latest configuration, and then makes
//! one call per operation to the group that serves its key; every replica reports its group,
//! the configuration it applied and one duplicate-table entry per clerk; a killed replica
//! answers nothing while its group goes on; an operation resent after its shard moved is
//! not applied again (**H2**: the giver's newer duplicate entry wins); a fetch of shards
//! that do not exist is answered without them.

use labrpc::trace::EventKind;
use labrpc::{Faults, Network, sim};
use shardkv::{Clerk, ClientOp, FetchArgs, KvEnd, OpKind, ShardKvServiceClient, key2shard};
use shardmaster::{Gid, NSHARDS};
use std::time::Duration;

mod common;
use common::Cluster;

/// Long enough after a configuration for its hand-offs (a few polls).
const HANDOFFS: Duration = Duration::from_secs(2);

/// A client end of node `from` to server `to`, giving up on a call after a second.
fn end(net: &Network, from: &str, to: &str) -> ShardKvServiceClient<KvEnd> {
    let mut end: KvEnd = net.client(from, to);
    end.set_timeout(Some(Duration::from_secs(1)));
    ShardKvServiceClient::from(end)
}

/// An append by clerk id 7.
fn append(cseq: u64, key: &str, value: &str) -> ClientOp {
    ClientOp {
        client: 7,
        cseq,
        kind: OpKind::Append {
            key: key.to_owned(),
            value: value.to_owned(),
        },
    }
}

/// A key of every shard (`key2shard` is the first byte mod 10).
fn keys() -> Vec<String> {
    (0..NSHARDS).map(|i| format!("{i}key")).collect()
}

/// The calls node `from` sent, by method.
fn sent(net: &Network, from: &str, method: &str) -> usize {
    (net.trace_events().iter())
        .filter(|e| e.kind == EventKind::Send && e.from == from && e.what == method)
        .count()
}

#[test]
fn a_clerk_asks_the_master_once_then_calls_the_serving_group_directly() {
    sim::run(|net: Network| async move {
        net.set_faults(Faults::exact());
        let cluster = Cluster::start(&net, 2, HANDOFFS).await;
        net.record_trace();
        let mut ck = Clerk::new(&net, "ck", &cluster.masters);
        for key in keys() {
            ck.put(&key, "v").await;
            assert_eq!(ck.get(&key).await, "v", "{key}");
        }
        assert_eq!(
            sent(&net, "ck", "ShardMasterService.execute"),
            1,
            "a clerk with the latest configuration asks the master no more"
        );
        assert_eq!(
            sent(&net, "ck", "ShardKvService.execute"),
            2 * NSHARDS,
            "each operation is one call, to the group that serves its key"
        );
    });
}

#[test]
fn replicas_report_their_group_configuration_and_one_dedup_entry_per_clerk() {
    sim::run(|net: Network| async move {
        let cluster = Cluster::start(&net, 2, HANDOFFS).await;
        for c in 0..3 {
            let mut ck = Clerk::new(&net, &format!("ck{c}"), &cluster.masters);
            for key in keys() {
                ck.append(&key, &c.to_string()).await;
            }
        }
        // Every replica applies what was decided at its next poll.
        tokio::time::sleep(Duration::from_secs(1)).await;
        for (gid, names, servers) in &cluster.groups {
            for (name, server) in names.iter().zip(servers) {
                assert_eq!(server.gid(), *gid, "{name}");
                assert_eq!(server.config_num(), 2, "{name}");
                assert_eq!(server.dedup_len(), 3, "{name}: one entry per clerk");
            }
        }
    });
}

#[test]
fn a_killed_replica_answers_nothing_and_its_group_goes_on() {
    sim::run(|net: Network| async move {
        let cluster = Cluster::start(&net, 2, HANDOFFS).await;
        let (_, names, servers) = &cluster.groups[0];
        servers[0].kill();
        let probe = end(&net, "probe", &names[0]);
        let op = ClientOp {
            client: 1,
            cseq: 1,
            kind: OpKind::Get {
                key: "0key".to_owned(),
            },
        };
        assert!(
            probe.execute(labrpc::context(), op).await.is_err(),
            "a killed replica answered"
        );
        let mut ck = Clerk::new(&net, "ck", &cluster.masters);
        for key in keys() {
            ck.put(&key, "after").await;
            assert_eq!(ck.get(&key).await, "after", "{key}");
        }
    });
}

/// A clerk's operation on shard `s` was applied by group A but the clerk never heard (its
/// reply lost); `s` then moves to group B, which already has an older entry of that clerk.
/// The resend to B is answered from the duplicate table that came with the shard.
#[test]
fn a_resent_operation_is_not_applied_again_after_its_shard_moved() {
    sim::run(|net: Network| async move {
        let mut cluster = Cluster::start(&net, 2, HANDOFFS).await;
        let config = cluster.admin.query(-1).await;
        let (a, b) = (&cluster.groups[0], &cluster.groups[1]);
        let key_of = |gid: Gid| {
            (keys().into_iter())
                .find(|k| config.shards[key2shard(k)] == gid)
                .expect("each group serves a shard")
        };
        let (on_a, on_b) = (key_of(a.0), key_of(b.0));
        let (to_a, to_b) = (end(&net, "raw", &a.1[0]), end(&net, "raw", &b.1[0]));
        let first = to_b.execute(labrpc::context(), append(1, &on_b, "1"));
        assert_eq!(first.await.expect("B answers"), Ok(String::new()));
        let second = to_a.execute(labrpc::context(), append(2, &on_a, "x"));
        assert_eq!(second.await.expect("A answers"), Ok(String::new()));
        let gid_b = b.0;
        let moved = cluster.admin.move_shard(key2shard(&on_a), gid_b).await;
        let num = moved.expect("a real shard and group").num;
        cluster.settle(num, HANDOFFS).await;
        let resent = to_b.execute(labrpc::context(), append(2, &on_a, "x"));
        assert_eq!(resent.await.expect("B answers"), Ok(String::new()));
        let mut ck = Clerk::new(&net, "ck", &cluster.masters);
        assert_eq!(
            ck.get(&on_a).await,
            "x",
            "the resent append was applied again"
        );
    });
}

/// A fetch is a message from the network: shard numbers past the last are left out of the
/// answer, and the server goes on serving.
#[test]
fn a_fetch_of_shards_that_do_not_exist_is_answered_without_them() {
    sim::run(|net: Network| async move {
        let cluster = Cluster::start(&net, 2, HANDOFFS).await;
        let (_, names, _) = &cluster.groups[0];
        let args = FetchArgs {
            config: 0,
            shards: vec![NSHARDS, 99, 0, usize::MAX],
        };
        let other = end(&net, "other", &names[0]);
        let data = other.fetch(labrpc::context(), args).await;
        let data = data.expect("an answer").expect("past config 0");
        assert_eq!(data.shards.keys().copied().collect::<Vec<_>>(), [0]);
        let mut ck = Clerk::new(&net, "ck", &cluster.masters);
        ck.put("0key", "still").await;
        assert_eq!(ck.get("0key").await, "still");
    });
}
