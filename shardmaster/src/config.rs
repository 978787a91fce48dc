//! Configurations: which replica group serves each shard, and how join, leave and move make
//! the next one.
//!
//! The rebalancing is a pure function of the configuration and the operation, so every
//! shard master that applies the same log computes the same configurations. It keeps:
//!
//! - **C1** (complete) while any group exists, every shard is assigned to one of them;
//!   with none, every shard is on [`NO_GROUP`];
//! - **C2** (balanced) after a join or a leave, the shard counts of any two groups differ by
//!   at most one;
//! - **C3** (minimal) a join or a leave moves only the shards it must: shards of a leaving
//!   group, and shards an over-full group gives up, so no shard moves between two groups that
//!   both stay at or under their target;
//! - **C4** (deterministic) ties are broken by group id and shard number, never by the order
//!   of a hash map.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The number of shards (Go's `NShards`).
pub const NSHARDS: usize = 10;

/// A replica group's id. Ids are chosen by whoever joins a group; `0` is no group.
pub type Gid = u64;

/// The group id of a shard assigned to no group (config 0, or no group left).
pub const NO_GROUP: Gid = 0;

/// A shard's number, `0..NSHARDS`.
pub type Shard = usize;

/// One configuration: its number, the group of each shard, and the servers of each group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// The configuration's number: 0 is the first, with no groups; each join, leave or move
    /// makes the next.
    pub num: u64,
    /// `shards[s]`: the group that serves shard `s` ([`NO_GROUP`] if none).
    pub shards: [Gid; NSHARDS],
    /// The groups and their servers, by group id.
    pub groups: BTreeMap<Gid, Vec<String>>,
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "config {} shards {:?} groups {:?}",
            self.num,
            self.shards,
            self.groups.keys().collect::<Vec<_>>()
        )
    }
}

/// Why a move was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConfigError {
    /// The shard number is not below [`NSHARDS`].
    NoSuchShard(Shard),
    /// No group of that id is in the configuration.
    NoSuchGroup(Gid),
    /// Group id 0 means "no group"; a group cannot have it.
    ReservedGid,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NoSuchShard(s) => write!(f, "no shard {s}: shards are 0..{NSHARDS}"),
            ConfigError::NoSuchGroup(g) => write!(f, "no group {g} in the configuration"),
            ConfigError::ReservedGid => write!(f, "group id {NO_GROUP} is reserved for no group"),
        }
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// The next configuration after group `gid` joins with `servers` (a group that is
    /// already in takes the new server list and keeps its shards), rebalanced (**C2**, **C3**).
    pub fn join(&self, gid: Gid, servers: Vec<String>) -> Result<Config, ConfigError> {
        if gid == NO_GROUP {
            return Err(ConfigError::ReservedGid);
        }
        let mut next = self.successor();
        next.groups.insert(gid, servers);
        next.rebalance();
        Ok(next)
    }

    /// The next configuration after group `gid` leaves (a group that is not in changes
    /// nothing but the number), its shards spread over the others (**C1**-**C3**).
    pub fn leave(&self, gid: Gid) -> Config {
        let mut next = self.successor();
        next.groups.remove(&gid);
        next.rebalance();
        next
    }

    /// The next configuration with shard `shard` on group `gid`, nothing else changed (a
    /// move is not rebalanced: the point of a move is to choose by hand).
    pub fn moved(&self, shard: Shard, gid: Gid) -> Result<Config, ConfigError> {
        // BEGIN SOLUTION: todo!("lab 4A: the next configuration with shard on gid and nothing else changed (no rebalancing); refuse a shard out of range or a group not in the configuration")
        if shard >= NSHARDS {
            return Err(ConfigError::NoSuchShard(shard));
        }
        if !self.groups.contains_key(&gid) {
            return Err(ConfigError::NoSuchGroup(gid));
        }
        let mut next = self.successor();
        next.shards[shard] = gid;
        Ok(next)
        // END SOLUTION
    }

    /// How many shards each group of the configuration serves.
    pub fn counts(&self) -> BTreeMap<Gid, usize> {
        let mut counts: BTreeMap<Gid, usize> = self.groups.keys().map(|&g| (g, 0)).collect();
        for gid in self.shards {
            if let Some(count) = counts.get_mut(&gid) {
                *count += 1;
            }
        }
        counts
    }

    fn successor(&self) -> Config {
        Config {
            num: self.num + 1,
            ..self.clone()
        }
    }

    /// Spreads the shards over the groups: orphans (on no group or a departed one) and the
    /// excess of over-full groups go to under-full ones; nothing else moves (**C3**).
    fn rebalance(&mut self) {
        // BEGIN SOLUTION: todo!("lab 4A: every shard on a group, none if there is none (C1); counts within one (C2); move only orphans and the excess of over-full groups (C3); break ties by gid and shard number (C4)")
        if self.groups.is_empty() {
            self.shards = [NO_GROUP; NSHARDS];
            return;
        }
        let targets = self.targets();
        let mut held: BTreeMap<Gid, Vec<Shard>> =
            self.groups.keys().map(|&g| (g, Vec::new())).collect();
        let mut free = Vec::new();
        for (shard, gid) in self.shards.iter().enumerate() {
            match held.get_mut(gid) {
                Some(shards) => shards.push(shard),
                None => free.push(shard),
            }
        }
        // Over-full groups give up their highest-numbered shards.
        for (gid, shards) in &mut held {
            while shards.len() > targets[gid] {
                free.extend(shards.pop());
            }
        }
        free.sort_unstable();
        let mut free = free.into_iter();
        for (gid, shards) in &mut held {
            while shards.len() < targets[gid] {
                match free.next() {
                    Some(shard) => shards.push(shard),
                    None => break,
                }
            }
        }
        for (gid, shards) in held {
            for shard in shards {
                self.shards[shard] = gid;
            }
        }
        // END SOLUTION
    }
    // BEGIN SOLUTION

    /// Each group's target count: `NSHARDS / n`, and one more for the `NSHARDS % n` groups
    /// that hold the most now (ties: the lower id), so that as few shards move as possible.
    fn targets(&self) -> BTreeMap<Gid, usize> {
        let n = self.groups.len();
        let (base, extra) = (NSHARDS / n, NSHARDS % n);
        let counts = self.counts();
        let mut order: Vec<(Gid, usize)> = counts.into_iter().collect();
        order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        (order.into_iter().enumerate())
            .map(|(rank, (gid, _))| (gid, base + usize::from(rank < extra)))
            .collect()
    }
    // END SOLUTION
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers(tag: &str) -> Vec<String> {
        vec![format!("{tag}a"), format!("{tag}b")]
    }

    #[test]
    fn the_first_join_takes_every_shard_and_the_last_leave_frees_them() {
        let zero = Config::default();
        let one = zero.join(7, servers("g7")).expect("a real gid");
        assert_eq!((one.num, one.shards), (1, [7; NSHARDS]));
        let none = one.leave(7);
        assert_eq!((none.num, none.shards), (2, [NO_GROUP; NSHARDS]));
        assert!(none.groups.is_empty());
    }

    #[test]
    fn a_join_takes_only_what_over_full_groups_give_up() {
        let two = Config::default()
            .join(1, servers("a"))
            .and_then(|c| c.join(2, servers("b")))
            .expect("real gids");
        assert_eq!(two.counts().values().copied().collect::<Vec<_>>(), [5, 5]);
        let three = two.join(3, servers("c")).expect("a real gid");
        let moved = (0..NSHARDS)
            .filter(|&s| two.shards[s] != three.shards[s])
            .count();
        assert_eq!(moved, 3, "{two} -> {three}");
        assert!((0..NSHARDS).all(|s| two.shards[s] == three.shards[s] || three.shards[s] == 3));
    }

    #[test]
    fn moves_are_checked_and_not_rebalanced() {
        let two = Config::default()
            .join(1, servers("a"))
            .and_then(|c| c.join(2, servers("b")))
            .expect("real gids");
        let moved = two.moved(0, 2).expect("a real shard and group");
        assert_eq!(moved.shards[0], 2);
        assert_eq!(moved.counts()[&2], 6, "a move is not rebalanced");
        assert_eq!(
            two.moved(NSHARDS, 1),
            Err(ConfigError::NoSuchShard(NSHARDS))
        );
        assert_eq!(two.moved(0, 9), Err(ConfigError::NoSuchGroup(9)));
        assert_eq!(
            two.join(NO_GROUP, servers("z")),
            Err(ConfigError::ReservedGid)
        );
    }

    #[test]
    fn configurations_and_refusals_say_what_they_are() {
        let one = Config::default().join(3, servers("g")).expect("a real gid");
        assert_eq!(
            one.to_string(),
            "config 1 shards [3, 3, 3, 3, 3, 3, 3, 3, 3, 3] groups [3]"
        );
        assert_eq!(
            ConfigError::NoSuchShard(12).to_string(),
            "no shard 12: shards are 0..10"
        );
        assert_eq!(
            ConfigError::NoSuchGroup(9).to_string(),
            "no group 9 in the configuration"
        );
        assert_eq!(
            ConfigError::ReservedGid.to_string(),
            "group id 0 is reserved for no group"
        );
    }

    #[test]
    fn more_groups_than_shards_leave_some_groups_idle() {
        let mut config = Config::default();
        for gid in 1..=12 {
            config = config.join(gid, servers("g")).expect("a real gid");
        }
        let counts = config.counts();
        assert_eq!(counts.values().filter(|&&c| c == 1).count(), 10);
        assert_eq!(counts.values().filter(|&&c| c == 0).count(), 2);
    }
}
