//! Go's TestDone (`src/kvpaxos/test_test.go`, 2015): the servers free the Paxos log, measured
//! on the whole process heap as Go's `runtime.ReadMemStats` does.
//!
//! The global allocator below counts every allocation of the process, so this binary holds
//! exactly one test: another test running beside it would move the figures.

mod common;

use common::{check, clerk_of, cluster};
use labrpc::{Network, sim};
use rand::RngCore;
use std::alloc::System;
use std::time::Duration;

#[global_allocator]
static GLOBAL: &stats_alloc::StatsAlloc<System> = &stats_alloc::INSTRUMENTED_SYSTEM;

/// Bytes allocated and not freed, by the whole process. stats_alloc 0.1 already counts a
/// realloc's growth in `bytes_allocated` and its shrinking in `bytes_deallocated`;
/// `bytes_reallocated` is the net of the same changes, so adding it would count them twice
/// (with it, this test measured 1 GB for 30 MB of maps: every growing buffer counted again).
fn live_heap() -> i64 {
    let stats = GLOBAL.stats();
    stats.bytes_allocated as i64 - stats.bytes_deallocated as i64
}

/// A value of `size` random bytes in `1..=100`, as Go's test makes them.
fn random_value(net: &Network, size: usize) -> String {
    let mut bytes = vec![0u8; size];
    net.rng().fill_bytes(&mut bytes);
    for b in &mut bytes {
        *b = *b % 100 + 1;
    }
    String::from_utf8(bytes).expect("bytes 1..=100 are ASCII")
}

/// How many heap bytes one byte stored on a synced simulated disk costs, measured: the disks
/// live in this process's heap, but stand for the machines' disks, which Go's lab has not,
/// so the memory figures leave them out.
async fn heap_per_disk_byte(net: &Network) -> i64 {
    const PROBE: usize = 1 << 20;
    let disk = net.disk("heap-probe");
    let before = live_heap();
    disk.write("probe", &vec![7u8; PROBE])
        .expect("a fresh disk takes a write");
    disk.sync().await.expect("a fresh disk syncs");
    let copies = ((live_heap() - before) as f64 / PROBE as f64).round() as i64;
    disk.remove("probe").expect("the probe file is there");
    disk.sync().await.expect("a fresh disk syncs");
    copies
}

/// Bytes on the servers' simulated disks.
fn on_disk(net: &Network, names: &[String]) -> u64 {
    names
        .iter()
        .map(|name| net.disk(name).stats().map_or(0, |s| s.bytes_used))
        .sum()
}

/// The process heap less what the servers' simulated disks hold.
fn memory(net: &Network, names: &[String], per_disk_byte: i64) -> i64 {
    live_heap() - per_disk_byte * on_disk(net, names) as i64
}

/// TestDone: after 2 x 10 Puts of 1 MB values and a second of quiet, the process heap (less
/// the simulated disks) has grown by at most twice the three servers' maps (Go's bound);
/// and, beyond Go, the Paxos logs hold less than one value in memory and on disk.
#[test]
fn done() {
    sim::run(|net: Network| async move {
        const N: usize = 3;
        const SIZE: usize = 1_000_000;
        const ITEMS: usize = 10;
        let per_disk_byte = heap_per_disk_byte(&net).await;
        let (names, servers) = cluster(&net, "done", N);
        let mut ck = clerk_of(&net, "ck", &names, &[0, 1, 2]);
        let mut cka: Vec<_> = (0..N)
            .map(|i| clerk_of(&net, &format!("ck{i}"), &names, &[i]))
            .collect();

        ck.put("a", "aa").await;
        check(&mut ck, "a", "aa").await;
        let m0 = memory(&net, &names, per_disk_byte);

        for _ in 0..2 {
            for i in 0..ITEMS {
                let key = i.to_string();
                let value = random_value(&net, SIZE);
                ck.put(&key, &value).await;
                check(&mut cka[i % N], &key, &value).await;
            }
        }
        // Put and Get through each replica, in case done values ride on Paxos messages.
        for _ in 0..2 {
            for c in &mut cka {
                c.put("a", "aa").await;
                check(c, "a", "aa").await;
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;

        let m1 = memory(&net, &names, per_disk_byte);
        println!(
            "memory: before {m0}, after {m1} (heap less disks, {per_disk_byte} B per disk byte)"
        );
        let allowed = m0 + (N * ITEMS * SIZE * 2) as i64;
        assert!(
            m1 <= allowed,
            "memory use did not shrink enough (used: {m1}, allowed: {allowed})"
        );

        // The servers' own account (`held_bytes`: maps plus Paxos values in memory): the
        // maps are all there, so the figures above measured something; and the Paxos logs
        // kept less than one value in memory, and, beside the snapshots of the maps, less
        // than one value on disk (forgotten instances' files are removed).
        let held: usize = servers.iter().map(|s| s.held_bytes()).sum();
        let log: usize = servers.iter().map(|s| s.paxos().held().1).sum();
        let maps = held.saturating_sub(log);
        assert!(
            maps >= N * ITEMS * SIZE,
            "the maps hold {maps} bytes: less than the values Put"
        );
        assert!(
            log < SIZE,
            "the Paxos logs still hold {log} bytes of values"
        );
        let disks = on_disk(&net, &names);
        assert!(
            disks < (maps + SIZE) as u64,
            "the disks hold {disks} bytes for {maps} bytes of maps"
        );
        // A registered server holds the network that holds it, so without this the run's
        // 90 MB (maps and disks) would stay allocated after it ends, and pile up seed after
        // seed under LABRPC_SEEDS.
        for name in &names {
            net.delete_server(name);
        }
    });
}
