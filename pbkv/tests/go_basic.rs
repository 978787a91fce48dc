//! Go's pbservice TestBasicFail, TestAtMostOnce and TestFailPut (6.824 2015,
//! `pbservice/test_test.go`), with Go's constants, in virtual time. The table in the
//! crate's README lists what differs from Go and why.

mod common;

use common::go::*;
use common::*;
use labrpc::{Network, sim};
use pbkv::Clerk;
use std::time::Duration;
use tokio::time::{Instant, sleep, timeout};
use viewservice::{DEAD_PINGS, PING_INTERVAL};

/// TestBasicFail: single primary; a backup joins; neither the clerk nor the servers flood
/// the view service; the backup takes over; a new server after the last one died does not
/// serve.
#[test]
fn basic_fail() {
    sim::run(|net: Network| async move {
        let (vs, vck) = go_start_vs(&net).await;
        let mut ck = Clerk::new(&net, "ck", VS);

        // Single primary, no backup.
        let s1 = start(&net, "s1");
        sleep(DEAD_TIME * 2).await;
        assert_eq!(
            vck.primary().await.as_deref(),
            Some("s1"),
            "first primary never formed view"
        );
        ck.put("111", "v1").await;
        check(&mut ck, "111", "v1").await;
        ck.put("2", "v2").await;
        check(&mut ck, "2", "v2").await;
        ck.put("1", "v1a").await;
        check(&mut ck, "1", "v1a").await;
        ck.append("ak", "hello").await;
        check(&mut ck, "ak", "hello").await;
        ck.put("ak", "xx").await;
        ck.append("ak", "yy").await;
        check(&mut ck, "ak", "xxyy").await;

        // Add a backup.
        let s2 = start(&net, "s2");
        let v = wait_view(&vck, DEAD_PINGS * 2, |v| v.is_backup("s2")).await;
        assert!(v.is_backup("s2"), "backup never came up: {v}");
        ck.put("3", "33").await;
        check(&mut ck, "3", "33").await;
        sleep(PING_INTERVAL * 3).await; // give the backup time to initialize
        ck.put("4", "44").await;
        check(&mut ck, "4", "44").await;

        // Count the RPCs the view service receives (the servers' pings and everyone's Gets)
        // during 100 Puts run flat out: clerk and servers must cache the view, and each
        // server may ping 10 times a second.
        let count1 = vs.rpc_count();
        let t1 = Instant::now();
        for i in 0..100 {
            ck.put(&format!("xk{i}"), &i.to_string()).await;
        }
        let count2 = vs.rpc_count();
        let dt = t1.elapsed();
        let allowed = 2 * (dt.as_millis() / PING_INTERVAL.as_millis()) as u64 + 20;
        eprintln!("WINDOW {dt:?} rpcs {}", count2 - count1);
        assert!(
            count2 - count1 <= allowed,
            "too many viewserver RPCs: {} in {dt:?} (allowed {allowed})",
            count2 - count1
        );

        // Kill the primary.
        s1.kill();
        let v = wait_view(&vck, DEAD_PINGS * 2, |v| v.is_primary("s2")).await;
        assert!(v.is_primary("s2"), "backup never switched to primary: {v}");
        check(&mut ck, "1", "v1a").await;
        check(&mut ck, "3", "33").await;
        check(&mut ck, "4", "44").await;

        // Kill the solo server, start a new one: it must not serve as primary.
        s2.kill();
        let _s3 = start(&net, "s3");
        sleep(Duration::from_secs(1)).await;
        let got = timeout(Duration::from_secs(2), ck.get("1")).await;
        assert!(
            got.is_err(),
            "ck.get() returned {got:?} even though no initialized primary exists"
        );
    });
}

/// TestAtMostOnce: one unreliable server (Go starts one and waits for a pair it never
/// gets); 100 Appends give exactly their concatenation, though the server dropped some
/// requests and ran others whose reply it then dropped.
#[test]
fn at_most_once() {
    sim::run(|net: Network| async move {
        let (_vs, vck) = go_start_vs(&net).await;
        let _s1 = start(&net, "s1");
        set_unreliable(&net, &["s1"]);
        go_wait_pair(&vck, DEAD_PINGS * 2).await;

        let mut ck = Clerk::new(&net, "ck", VS);
        let mut val = String::new();
        for i in 0..100 {
            let v = i.to_string();
            ck.append("counter", &v).await;
            val.push_str(&v);
        }
        let v = ck.get("counter").await;
        assert_eq!(v, val, "ck.get() returned {v} but expected {val}");
    });
}

/// TestFailPut: a Put right after the backup fails, and right after the primary fails.
#[test]
fn fail_put() {
    sim::run(|net: Network| async move {
        let (_vs, vck) = go_start_vs(&net).await;
        let s1 = start(&net, "s1");
        sleep(Duration::from_secs(1)).await;
        let s2 = start(&net, "s2");
        sleep(Duration::from_secs(1)).await;
        let _s3 = start(&net, "s3");
        wait_view(&vck, DEAD_PINGS * 3, |v| {
            v.primary.is_some() && v.backup.is_some()
        })
        .await;
        sleep(Duration::from_secs(1)).await; // backup initialization
        let v1 = view(&vck).await;
        assert!(
            v1.is_primary("s1") && v1.is_backup("s2"),
            "wrong primary or backup: {v1}"
        );

        let mut ck = Clerk::new(&net, "ck", VS);
        ck.put("a", "aa").await;
        ck.put("b", "bb").await;
        ck.put("c", "cc").await;
        check(&mut ck, "a", "aa").await;
        check(&mut ck, "b", "bb").await;
        check(&mut ck, "c", "cc").await;

        // Kill the backup, then Put at once.
        s2.kill();
        ck.put("a", "aaa").await;
        check(&mut ck, "a", "aaa").await;
        wait_view(&vck, DEAD_PINGS * 3, |v| {
            v.viewnum > v1.viewnum && v.primary.is_some() && v.backup.is_some()
        })
        .await;
        sleep(Duration::from_secs(1)).await; // backup initialization
        let v2 = view(&vck).await;
        assert!(
            v2.is_primary("s1") && v2.is_backup("s3"),
            "wrong primary or backup: {v2}"
        );
        check(&mut ck, "a", "aaa").await;

        // Kill the primary, then Put at once.
        s1.kill();
        ck.put("b", "bbb").await;
        check(&mut ck, "b", "bbb").await;
        wait_view(&vck, DEAD_PINGS * 3, |v| {
            v.viewnum > v2.viewnum && v.primary.is_some()
        })
        .await;
        sleep(Duration::from_secs(1)).await;
        check(&mut ck, "a", "aaa").await;
        check(&mut ck, "b", "bbb").await;
        check(&mut ck, "c", "cc").await;
    });
}
