//! Applying the log's entries to a replica's state: clerk operations (**H1**, **H4**),
//! configurations (**H3**) and shard installations (**H2**) of [`super`].

use paxos::protocol::Seq;
use shardmaster::{Config, Gid, NO_GROUP, NSHARDS, Shard};

use super::State;
use crate::common::{ClientOp, OpKind, ShardData, key2shard};

impl State {
    /// A clerk's operation, once, on a shard the group serves (**H1**, **H4**).
    pub(super) fn apply_client(&mut self, gid: Gid, seq: Seq, op: ClientOp) {
        // BEGIN SOLUTION: todo!("lab 4B: apply the operation once (H4) and only on a shard the group serves at this point of the log (H1), keeping its reply in the duplicate table")
        let (key, client, cseq) = (op.kind.key(), op.client, op.cseq);
        let shard = key2shard(key);
        let fresh = self.dedup.get(&client).is_none_or(|(last, _)| cseq > *last);
        if !fresh {
            tracing::debug!(seq, key, shard, client, cseq, "a duplicate: skipped");
            return;
        }
        if !self.serves(gid, shard) {
            let config = self.config.num;
            tracing::debug!(
                seq,
                key,
                shard,
                client,
                cseq,
                config,
                "not served here: skipped"
            );
            return;
        }
        tracing::debug!(
            seq,
            key,
            shard,
            client,
            cseq,
            op = op.kind.name(),
            "op applied"
        );
        let map = &mut self.data[shard];
        let reply = match op.kind {
            OpKind::Get { key } => map.get(&key).cloned().unwrap_or_default(),
            OpKind::Put { key, value } => {
                map.insert(key, value);
                String::new()
            }
            OpKind::Append { key, value } => {
                map.entry(key).or_default().push_str(&value);
                String::new()
            }
        };
        self.dedup.insert(client, (cseq, reply));
        // END SOLUTION
    }

    /// Moves to `next` if it is the next configuration and every shard gained in the current
    /// one is installed (**H3**); shards gained from nobody start empty, the others wait for
    /// their data (**H1**).
    pub(super) fn apply_config(&mut self, gid: Gid, seq: Seq, next: Config) {
        // BEGIN SOLUTION: todo!("lab 4B: move to next only if it is the next configuration and every shard gained in the current one is installed (H3); shards gained from no group start empty, the others wait for their data (H1)")
        if next.num != self.config.num + 1 || !self.waiting.is_empty() {
            return;
        }
        let mut gained = Vec::new();
        for shard in 0..NSHARDS {
            let (had, gets) = (self.config.shards[shard], next.shards[shard]);
            if gets == gid && had != gid {
                gained.push(shard);
                if had == NO_GROUP {
                    self.data[shard].clear();
                } else {
                    self.waiting.insert(shard);
                }
            }
        }
        let lost: Vec<Shard> = (0..NSHARDS)
            .filter(|&s| self.config.shards[s] == gid && next.shards[s] != gid)
            .collect();
        let config = next.num;
        tracing::debug!(seq, config, ?gained, ?lost, "config applied");
        self.prev = std::mem::replace(&mut self.config, next);
        // END SOLUTION
    }

    /// Installs the shards of `data` still waiting in configuration `config`, and merges the
    /// giver's duplicate table with them (**H2**).
    pub(super) fn install(&mut self, seq: Seq, config: u64, data: ShardData) {
        // BEGIN SOLUTION: todo!("lab 4B: in configuration config only, install the waiting shards of data and merge the giver's duplicate table, keeping each clerk's higher cseq (H2)")
        if config != self.config.num {
            return;
        }
        let mut installed = false;
        for (shard, map) in data.shards {
            if self.waiting.remove(&shard) {
                tracing::debug!(seq, config, shard, keys = map.len(), "shard installed");
                self.data[shard] = map;
                installed = true;
            }
        }
        if installed {
            for (client, (cseq, reply)) in data.dedup {
                let mine = self.dedup.get(&client).map(|(last, _)| *last);
                if mine.is_none_or(|last| cseq > last) {
                    self.dedup.insert(client, (cseq, reply));
                }
            }
        }
        // END SOLUTION
    }
}
