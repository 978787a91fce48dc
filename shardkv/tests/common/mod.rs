//! A cluster for the tests and the benchmark: 3 shard masters and replica groups of 3
//! (gids 100, 101, ...; replicas `g100s0`, `g100s1`, ...), every group joined and every
//! replica at the last configuration. (`benches/ops.rs` includes this file by path.)

use labrpc::Network;
use shardkv::ShardKv;
use shardmaster::{Gid, ShardMaster};
use std::time::Duration;

/// Replicas per group.
pub const REPLICAS: usize = 3;
/// The first group's id; the others follow.
pub const FIRST_GID: Gid = 100;
/// How long [`Cluster::settle`] waits for the replicas to reach a configuration.
const SETTLE_LIMIT: Duration = Duration::from_secs(60);

/// The shard masters, a shard-master clerk and the groups.
pub struct Cluster {
    /// The shard masters' names.
    pub masters: Vec<String>,
    _sms: Vec<ShardMaster>,
    /// A clerk of the shard masters, on node `admin`.
    pub admin: shardmaster::Clerk,
    /// Each group: its gid, its replicas' names and the replicas.
    pub groups: Vec<(Gid, Vec<String>, Vec<ShardKv>)>,
}

impl Cluster {
    /// Starts the masters and `ngroups` groups, joins them one by one and waits until every
    /// replica applied the last configuration, then `after` more (for the hand-offs).
    pub async fn start(net: &Network, ngroups: usize, after: Duration) -> Cluster {
        let masters: Vec<String> = (0..3).map(|i| format!("m{i}")).collect();
        let sms = (0..3)
            .map(|i| ShardMaster::start(net, &masters, i))
            .collect();
        let mut admin = shardmaster::Clerk::new(net, "admin", &masters);
        let mut groups = Vec::new();
        for g in 0..ngroups {
            let gid = FIRST_GID + g as Gid;
            let names: Vec<String> = (0..REPLICAS).map(|j| format!("g{gid}s{j}")).collect();
            let servers = (0..REPLICAS)
                .map(|j| ShardKv::start(net, gid, &masters, &names, j))
                .collect();
            admin.join(gid, &names).await.expect("a real group");
            groups.push((gid, names, servers));
        }
        let latest = admin.query(-1).await.num;
        let cluster = Cluster {
            masters,
            _sms: sms,
            admin,
            groups,
        };
        cluster.settle(latest, after).await;
        cluster
    }

    /// Waits until every replica has applied configuration `num`, then `after` more.
    ///
    /// # Panics
    /// If some replica has not within [`SETTLE_LIMIT`] of virtual time.
    pub async fn settle(&self, num: u64, after: Duration) {
        let poll = Duration::from_millis(10);
        let deadline = tokio::time::Instant::now() + SETTLE_LIMIT;
        while !(self.groups.iter())
            .flat_map(|g| &g.2)
            .all(|s| s.config_num() >= num)
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the replicas did not all reach configuration {num} in {SETTLE_LIMIT:?}"
            );
            tokio::time::sleep(poll).await;
        }
        tokio::time::sleep(after).await;
    }
}
