//! Helpers of the paxoskv tests, after Go's `kvpaxos/test_test.go`.
#![allow(dead_code)] // each test file uses part of them

use labrpc::Network;
use paxoskv::{Clerk, KvServer};
use rand::Rng;

/// The node names of `n` servers.
pub fn names(tag: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{tag}{i}")).collect()
}

/// Starts `n` servers on nodes `tag0`, `tag1`, ...
pub fn cluster(net: &Network, tag: &str, n: usize) -> (Vec<String>, Vec<KvServer>) {
    let names = names(tag, n);
    let servers = (0..n).map(|i| KvServer::start(net, &names, i)).collect();
    (names, servers)
}

/// A clerk on node `name` that talks to the servers `which` only.
pub fn clerk_of(net: &Network, name: &str, names: &[String], which: &[usize]) -> Clerk {
    let servers: Vec<String> = which.iter().map(|&i| names[i].clone()).collect();
    Clerk::new(net, name, &servers)
}

/// A clerk that talks to one server picked at random (Go's `MakeClerk([]string{kvh[ci]})`
/// with `ci := rand.Int() % nservers`).
pub fn random_server_clerk(net: &Network, name: &str, names: &[String]) -> Clerk {
    let i = net.rng().random_range(0..names.len());
    clerk_of(net, name, names, &[i])
}

/// A clerk that talks to every server, in an order shuffled with the simulation's RNG
/// (Go's `randclerk`).
pub fn shuffled_clerk(net: &Network, name: &str, names: &[String]) -> Clerk {
    let mut order: Vec<String> = names.to_vec();
    let mut rng = net.rng();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    Clerk::new(net, name, &order)
}

/// Partitions the servers (Go's `part`): servers in different groups, or in none, cannot
/// talk to each other. As in Go, clerks still reach every server: the partition is made of
/// one-way cuts between servers, not of labrpc partition groups.
pub fn part(net: &Network, names: &[String], groups: &[&[usize]]) {
    net.heal();
    let group_of = |i: usize| groups.iter().position(|g| g.contains(&i));
    for a in 0..names.len() {
        for b in 0..names.len() {
            if a != b && (group_of(a).is_none() || group_of(a) != group_of(b)) {
                net.cut(&names[a], &names[b]);
            }
        }
    }
}

/// A value as Go's tests make them: `strconv.Itoa(rand.Int())`, a non-negative 63-bit number.
pub fn go_rand_int(rng: &mut impl Rng) -> String {
    (rng.random::<u64>() >> 1).to_string()
}

/// Fails unless a Get of `key` through `clerk` returns `want`.
pub async fn check(clerk: &mut Clerk, key: &str, want: &str) {
    let got = clerk.get(key).await;
    assert!(
        got == want,
        "Get({key:?}): expected {:?}, got {:?}",
        abbreviate(want),
        abbreviate(&got)
    );
}

/// A long value cut short for a message.
pub fn abbreviate(value: &str) -> String {
    if value.len() <= 60 {
        value.to_owned()
    } else {
        format!("{}... ({} bytes)", &value[..60], value.len())
    }
}

/// Checks that `value` holds each client's appends `"x {client} {n} y"`, `n` in
/// `0..counts[client]`, exactly once each and in order (Go's `checkAppends`).
pub fn check_appends(value: &str, counts: &[usize]) {
    for (client, &count) in counts.iter().enumerate() {
        let mut last = None;
        for n in 0..count {
            let wanted = format!("x {client} {n} y");
            let at = value
                .find(&wanted)
                .unwrap_or_else(|| panic!("missing element {wanted:?} in Append result"));
            assert!(
                value.rfind(&wanted) == Some(at),
                "duplicate element {wanted:?} in Append result"
            );
            if let Some(previous) = last {
                assert!(at > previous, "wrong order for element {wanted:?}");
            }
            last = Some(at);
        }
    }
}

/// Go's `setunreliable` on every server: each drops 10% of the requests that reach it and
/// runs, then discards the reply of, 20% of the rest (Paxos messages included, as in Go,
/// where they share the server's listener).
pub fn set_unreliable(net: &Network, names: &[String], on: bool) {
    for name in names {
        net.set_unreliable_server(name, on);
    }
}
