//! The rebalancing over random sequences of joins and leaves: every shard on a group (**C1**),
//! counts within one (**C2**), and no shard moved that did not have to (**C3**): after a join
//! only the new group gains shards and no other group loses more than it must; after a leave
//! only the leaving group's shards move.

use proptest::prelude::*;
use shardmaster::{Config, Gid, NO_GROUP, NSHARDS};

#[derive(Clone, Debug)]
enum Change {
    Join(Gid),
    Leave(Gid),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (1..15u64).prop_map(Change::Join),
        (1..15u64).prop_map(Change::Leave)
    ]
}

fn balanced(c: &Config) -> bool {
    let counts = c.counts();
    match (counts.values().min(), counts.values().max()) {
        (Some(min), Some(max)) => max - min <= 1,
        _ => true,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn joins_and_leaves_keep_shards_complete_balanced_and_still(changes in prop::collection::vec(change(), 1..30)) {
        let mut config = Config::default();
        for change in changes {
            let before = config.clone();
            config = match change {
                Change::Join(gid) => config.join(gid, vec![format!("g{gid}")]).expect("gids from 1"),
                Change::Leave(gid) => config.leave(gid),
            };
            prop_assert_eq!(config.num, before.num + 1);
            if config.groups.is_empty() {
                prop_assert_eq!(config.shards, [NO_GROUP; NSHARDS]);
                continue;
            }
            prop_assert!(config.shards.iter().all(|g| config.groups.contains_key(g)), "C1: {}", config);
            prop_assert!(balanced(&config), "C2: {} -> {}", before, config);
            let moved: Vec<usize> = (0..NSHARDS).filter(|&s| before.shards[s] != config.shards[s]).collect();
            match change {
                Change::Join(gid) => {
                    // Only the new group gains, and only what the balance needs.
                    prop_assert!(moved.iter().all(|&s| config.shards[s] == gid), "C3: {} -> {}", before, config);
                    let target = NSHARDS / config.groups.len();
                    if before.groups.contains_key(&gid) || before.groups.is_empty() {
                        continue;
                    }
                    prop_assert!(moved.len() <= target + 1, "C3: {} moved for a join: {} -> {}", moved.len(), before, config);
                }
                Change::Leave(gid) => {
                    // Only the leaving group's shards move (and, on a group that stays, they
                    // land where the balance needs them).
                    let was_in = before.groups.contains_key(&gid);
                    prop_assert!(moved.iter().all(|&s| before.shards[s] == gid || !before.groups.contains_key(&before.shards[s])), "C3: {} -> {}", before, config);
                    if !was_in {
                        prop_assert!(moved.is_empty(), "a leave of an absent group moved shards: {} -> {}", before, config);
                    }
                }
            }
        }
    }
}
