//! Configuration steps: polling the shard master, and handing shards from the group that
//! had them to the group that gains them (**H1**-**H3** of [`super`]).
//!
//! Every replica of a group runs the same ticker; each step goes through the group's log, so
//! whichever replica gets there first does it and the others find it done.

use shardmaster::{Gid, NSHARDS, Shard};
use std::collections::BTreeMap;
use std::time::Duration;

use super::{ShardKv, State};
use crate::common::{FetchArgs, FetchReply, KvEnd, KvError, Op, ShardData, ShardKvServiceClient};

/// How often a server asks the shard master for the next configuration (Go's `tick`).
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// How long a server waits for another group's server to answer a fetch.
const FETCH_TIMEOUT: Duration = Duration::from_secs(1);

/// Client ends to other groups' servers, made on first use.
type Ends = BTreeMap<String, ShardKvServiceClient<KvEnd>>;

impl ShardKv {
    /// The ticker: every [`POLL_INTERVAL`], takes every configuration step it can.
    pub(super) async fn tick(self, mut sm: shardmaster::Clerk) {
        // BEGIN SOLUTION: todo!("lab 4B: every POLL_INTERVAL, apply what was decided meanwhile, then take configuration steps while they make progress")
        // Start out of step with the other servers, so that their polls spread out.
        tokio::time::sleep(self.inner.node.phase(POLL_INTERVAL)).await;
        let mut ends = Ends::new();
        loop {
            self.apply_decided();
            // A step that fails (no agreement, no answer) is tried again next tick.
            while let Ok(true) = self.step(&mut sm, &mut ends).await {}
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        // END SOLUTION
    }

    /// One step: install the shards still waiting, or else move to the next configuration.
    /// True if it made progress (another step may follow at once).
    async fn step(&self, sm: &mut shardmaster::Clerk, ends: &mut Ends) -> Result<bool, KvError> {
        // BEGIN SOLUTION: todo!("lab 4B: fetch the shards still waiting; else ask the shard master for the next configuration and put it in the log (H3); true if it made progress")
        let (current, waiting) = {
            let state = self.inner.state.lock();
            (state.config.num, !state.waiting.is_empty())
        };
        if waiting {
            return self.fetch_waiting(ends).await;
        }
        let next = sm.query(i64::try_from(current + 1).unwrap_or(-1)).await;
        if next.num != current + 1 {
            return Ok(false); // no newer configuration yet
        }
        let num = next.num;
        // H3: the next configuration, and only while every gained shard is installed.
        let needed = move |s: &State| s.config.num + 1 == num && s.waiting.is_empty();
        self.agree(&Op::Reconfigure(next), needed).await?;
        Ok(true)
        // END SOLUTION
    }

    /// Fetches the shards still waiting from the groups that had them in the previous
    /// configuration and installs what arrives (**H1**, **H2**). True if anything did.
    async fn fetch_waiting(&self, ends: &mut Ends) -> Result<bool, KvError> {
        // BEGIN SOLUTION: todo!("lab 4B: fetch the waiting shards from a server of each group that had them in the previous configuration, and put what arrives in the log as an Install (H1, H2); true if anything was")
        let (config, prev, waiting) = {
            let state = self.inner.state.lock();
            (state.config.num, state.prev.clone(), state.waiting.clone())
        };
        let mut by_giver: BTreeMap<Gid, Vec<Shard>> = BTreeMap::new();
        for &shard in &waiting {
            by_giver.entry(prev.shards[shard]).or_default().push(shard);
        }
        let mut progress = false;
        for (giver, shards) in by_giver {
            let servers = prev.groups.get(&giver).cloned().unwrap_or_default();
            let args = FetchArgs {
                config: prev.num,
                shards: shards.clone(),
            };
            for server in servers {
                let end = ends.entry(server.clone()).or_insert_with(|| {
                    let mut end: KvEnd = self.inner.node.client(&server);
                    end.set_timeout(Some(FETCH_TIMEOUT));
                    ShardKvServiceClient::from(end)
                });
                let Ok(Ok(data)) = end.fetch(labrpc::context(), args.clone()).await else {
                    continue; // not past that configuration yet, or unreachable
                };
                tracing::debug!(config, ?shards, giver, from = %server, "shard fetched");
                let needed = |s: &State| {
                    s.config.num == config && shards.iter().any(|x| s.waiting.contains(x))
                };
                self.agree(&Op::Install { config, data }, needed).await?;
                progress = true;
                break;
            }
        }
        Ok(progress)
        // END SOLUTION
    }

    /// Answers a fetch: the shards' data and this server's duplicate table, but only once it
    /// has applied a configuration after `args.config`, so that it serves them no more and
    /// the data is final (**H1**).
    pub(super) fn handoff(&self, args: &FetchArgs) -> FetchReply {
        // BEGIN SOLUTION: todo!("lab 4B: the shards' data and this server's duplicate table, only once it has applied a configuration after args.config (H1, H2); NotReady before")
        let state = self.inner.state.lock();
        if state.config.num <= args.config {
            return Err(KvError::NotReady);
        }
        let shards = (args.shards.iter())
            .filter(|&&s| s < NSHARDS)
            .map(|&s| (s, state.data[s].clone()))
            .collect();
        Ok(ShardData {
            shards,
            dedup: state.dedup.clone(),
        })
        // END SOLUTION
    }
}
