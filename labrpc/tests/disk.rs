//! The disk: what reads see, what a crash keeps (synced data, never a torn `write`, perhaps a
//! prefix of the last append), stale handles, lost disks, and the same operations over a real
//! directory.

use labrpc::disk::{DiskError, DiskStats};
use labrpc::fault::SYNC_TIME;
use labrpc::trace::EventKind;
use labrpc::{Disk, Network, sim};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use tokio::time::Instant;

/// The operations whose meaning does not depend on crashes, on any disk.
async fn basic_semantics(disk: &Disk) {
    assert_eq!(disk.read("a"), Ok(None));
    disk.write("a", b"one").expect("write");
    assert_eq!(
        disk.read("a"),
        Ok(Some(b"one".to_vec())),
        "reads see unsynced writes"
    );
    disk.write("a", b"two!").expect("write");
    disk.append("log", b"x").expect("append");
    disk.append("log", b"yz").expect("append");
    disk.sync().await.expect("sync");
    assert_eq!(
        disk.read("a"),
        Ok(Some(b"two!".to_vec())),
        "a write replaces"
    );
    assert_eq!(
        disk.read("log"),
        Ok(Some(b"xyz".to_vec())),
        "appends add at the end"
    );
    assert_eq!(disk.list(), Ok(vec!["a".to_owned(), "log".to_owned()]));
    let stats = disk.stats().expect("stats");
    assert_eq!((stats.bytes_used, stats.files), (7, 2), "{stats:?}");
    assert_eq!((stats.writes, stats.syncs), (4, 1), "{stats:?}");
    disk.remove("a").expect("remove");
    disk.remove("never-was")
        .expect("removing a missing file is not an error");
    disk.append("gone", b"x").expect("append");
    disk.remove("gone").expect("remove");
    disk.sync()
        .await
        .expect("a file appended to and removed before the sync is not an error");
    assert_eq!(disk.read("a"), Ok(None));
    assert_eq!(disk.list(), Ok(vec!["log".to_owned()]));
    for bad in ["", "../etc", "a/b", ".hidden"] {
        assert_eq!(
            disk.write(bad, b"x"),
            Err(DiskError::BadName(bad.to_owned())),
            "{bad:?}"
        );
    }
}

#[test]
fn simulated_disk_reads_writes_appends_removes() {
    sim::run(|net: Network| async move {
        basic_semantics(&net.disk("n")).await;
    });
}

#[test]
fn directory_disk_reads_writes_appends_removes_and_reopens() {
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let disk = Disk::open_dir(dir.path().join("node")).expect("open");
        basic_semantics(&disk).await;
        std::fs::write(dir.path().join("node").join("not a file name"), b"?").expect("write");
        let twice = Disk::open_dir(dir.path().join("node"));
        assert!(
            matches!(&twice, Err(DiskError::Io(why)) if why.contains("is in use")),
            "one open disk per directory: {twice:?}"
        );
        drop(disk);
        let again = Disk::open_dir(dir.path().join("node")).expect("reopen once closed");
        assert_eq!(again.read("log"), Ok(Some(b"xyz".to_vec())));
        assert_eq!(
            again.list(),
            Ok(vec!["log".to_owned()]),
            "names that are not file names (and temporary files) are not listed"
        );
        // A failing file system is an error, never a missing file: "sub" is a directory.
        std::fs::create_dir(dir.path().join("node").join("sub")).expect("mkdir");
        assert!(
            matches!(again.read("sub"), Err(DiskError::Io(_))),
            "read of a directory"
        );
        assert!(
            matches!(again.remove("sub"), Err(DiskError::Io(_))),
            "remove of a directory"
        );
    });
}

#[test]
fn a_crash_keeps_what_was_synced_and_a_write_is_all_or_nothing() {
    sim::run(|net: Network| async move {
        let disk = net.disk("n");
        disk.write("state", b"synced").expect("write");
        disk.sync().await.expect("sync");
        disk.write("state", b"unsynced and longer").expect("write");
        disk.write("new", b"never synced").expect("write");
        disk.remove("state").expect("remove");
        net.kill("n");
        assert_eq!(
            disk.read("state"),
            Err(DiskError::Crashed),
            "the dead life's handle"
        );
        let disk = net.disk("n");
        assert_eq!(disk.read("state"), Ok(Some(b"synced".to_vec())));
        assert_eq!(disk.read("new"), Ok(None));
        assert_eq!(disk.list(), Ok(vec!["state".to_owned()]));
    });
}

#[test]
fn a_sync_takes_time_and_a_crash_during_it_loses_the_write() {
    sim::run(|net: Network| async move {
        let disk = net.disk("n");
        let start = Instant::now();
        disk.write("a", b"1").expect("write");
        disk.sync().await.expect("sync");
        assert_eq!(start.elapsed(), SYNC_TIME);
        disk.write("a", b"2").expect("write");
        let syncing = disk.clone();
        net.spawn("n", async move {
            let _ = syncing.sync().await;
        });
        tokio::task::yield_now().await; // the sync has started and sleeps
        net.kill("n");
        tokio::time::sleep(SYNC_TIME * 2).await;
        assert_eq!(net.disk("n").read("a"), Ok(Some(b"1".to_vec())));
    });
}

/// What a crash right after an unsynced append leaves of `log`, whose synced part is "head".
fn after_torn_append(seed: u64) -> (Vec<u8>, bool) {
    let left = Rc::new(RefCell::new(Vec::new()));
    let out = left.clone();
    let report = sim::simulate(seed, true, |net: Network| async move {
        let disk = net.disk("n");
        disk.append("log", b"head").expect("append");
        disk.sync().await.expect("sync");
        disk.append("log", b"lost record").expect("append");
        disk.append("log", b"last record").expect("append");
        net.kill("n");
        *out.borrow_mut() = net.disk("n").read("log").expect("read").unwrap_or_default();
    });
    let torn = report.events.iter().any(|e| e.kind == EventKind::TornWrite);
    let left = left.borrow().clone();
    (left, torn)
}

#[test]
fn a_crash_may_tear_the_last_append_and_only_that() {
    let mut torn_runs = 0;
    for seed in 0..200 {
        let (left, torn) = after_torn_append(seed);
        assert!(
            left.starts_with(b"head"),
            "seed {seed}: the synced part is kept"
        );
        let tail = &left[4..];
        assert!(
            b"last record".starts_with(tail) && tail.len() < b"last record".len(),
            "seed {seed}: after a crash the log is the synced part plus at most a strict \
             prefix of the last append, not {:?}",
            String::from_utf8_lossy(&left)
        );
        if !tail.is_empty() {
            assert!(torn, "seed {seed}: a torn write is in the trace");
        }
        torn_runs += u32::from(torn);
        assert_eq!(after_torn_append(seed), (left, torn), "seed {seed} replays");
    }
    // TORN_APPEND_CHANCE is one half: 200 crashes tear between 70 and 130 times, or the
    // draw is broken (the chance of falling outside is below one in 10^5).
    assert!((70..=130).contains(&torn_runs), "{torn_runs} torn of 200");
}

#[test]
fn a_lost_disk_is_empty_and_its_handles_fail() {
    sim::run(|net: Network| async move {
        net.record_trace();
        let disk = net.disk("n");
        disk.write("a", b"1").expect("write");
        disk.sync().await.expect("sync");
        net.kill("n");
        net.lose_disk("n");
        assert_eq!(disk.write("a", b"2"), Err(DiskError::Crashed));
        // A disk lost under a running node (no kill): its handles fail at once too.
        let live = net.disk("n");
        live.write("b", b"1").expect("write");
        net.lose_disk("n");
        assert_eq!(live.read("b"), Err(DiskError::Crashed));
        let disk = net.disk("n");
        assert_eq!(disk.list(), Ok(vec![]));
        assert_eq!(disk.stats(), Ok(DiskStats::default()));
        assert!(
            net.trace_events()
                .iter()
                .any(|e| e.kind == EventKind::DiskLost && e.from == "n")
        );
        // Other nodes' disks are their own.
        let other = net.disk("m");
        other.write("b", b"x").expect("write");
        net.kill("n");
        assert_eq!(other.read("b"), Ok(Some(b"x".to_vec())));
        tokio::time::sleep(Duration::from_millis(1)).await;
    });
}

/// A sync makes durable what was written before it was called, not what is written while it
/// runs: a crash right after it keeps the first write and loses the second.
#[test]
fn a_sync_covers_the_writes_made_before_it_only() {
    sim::run(|net: Network| async move {
        let disk = net.disk("n");
        disk.write("before", b"1").expect("write");
        let syncing = disk.clone();
        net.spawn("n", async move {
            let _ = syncing.sync().await;
        });
        tokio::task::yield_now().await; // the sync has started
        disk.write("during", b"2").expect("write");
        tokio::time::sleep(SYNC_TIME * 2).await;
        assert_eq!(disk.stats().map(|s| s.syncs), Ok(1));
        net.kill("n");
        let disk = net.disk("n");
        assert_eq!(disk.read("before"), Ok(Some(b"1".to_vec())));
        assert_eq!(
            disk.read("during"),
            Ok(None),
            "written after the sync began"
        );
    });
}
