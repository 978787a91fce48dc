//! Go labrpc's tests (6.824 `labrpc/test_test.go`), one for one, in virtual time.

mod common;

use common::{JunkArgs, JunkClient, JunkReply, start};
use labrpc::{Error, Network, sim};
use std::time::Duration;
use tokio::time::Instant;

fn ctx() -> tarpc::context::Context {
    labrpc::context()
}

/// TestBasic: a call reaches the server and its reply comes back.
#[test]
fn basic() {
    sim::run(|net: Network| async move {
        let (_, client) = start(&net, "client", "server99");
        assert_eq!(
            client.handler2(ctx(), 111).await.map_err(Error::from),
            Ok("handler2-111".into())
        );
        assert_eq!(
            client
                .handler1(ctx(), "9099".into())
                .await
                .map_err(Error::from),
            Ok(9099)
        );
    });
}

/// TestTypes: structs cross the network intact.
#[test]
fn types() {
    sim::run(|net: Network| async move {
        let (_, client) = start(&net, "client", "server99");
        let reply = client
            .handler4(
                ctx(),
                JunkArgs {
                    x: 21,
                    name: "pax".into(),
                },
            )
            .await
            .map_err(Error::from);
        assert_eq!(
            reply,
            Ok(JunkReply {
                x: 42,
                names: vec!["pax".into(), "pax".into()]
            })
        );
    });
}

/// TestDisconnect: a disabled end gets no reply; once enabled it does. (Go's ends start
/// disabled; ours start enabled, so the test disables first.) An end pointed at a node with
/// no server gets no reply either.
#[test]
fn disconnect() {
    sim::run(|net: Network| async move {
        let (server, _) = start(&net, "client", "server99");
        let end = net.client("client", "server99");
        let client = JunkClient::from(end.clone());
        end.set_enabled(false);
        assert_eq!(
            client.handler2(ctx(), 111).await.map_err(Error::from),
            Err(Error::NoReply)
        );
        assert!(
            server.log2.lock().is_empty(),
            "a disabled end's request reached the server"
        );
        end.set_enabled(true);
        assert_eq!(
            client
                .handler1(ctx(), "9099".into())
                .await
                .map_err(Error::from),
            Ok(9099)
        );

        end.connect("nobody");
        assert_eq!(
            client
                .handler1(ctx(), "1".into())
                .await
                .map_err(Error::from),
            Err(Error::NoReply)
        );
        end.connect("server99");
        assert_eq!(
            client
                .handler1(ctx(), "1".into())
                .await
                .map_err(Error::from),
            Ok(1)
        );
    });
}

/// TestCounts: the network counts the RPCs each server received.
#[test]
fn counts() {
    sim::run(|net: Network| async move {
        let (_, client) = start(&net, "client", "server99");
        for i in 0..17 {
            assert_eq!(
                client.handler2(ctx(), i).await.map_err(Error::from),
                Ok(format!("handler2-{i}"))
            );
        }
        assert_eq!(net.rpc_count("server99"), 17);
        assert_eq!(net.stats().rpcs, 17);
        assert_eq!(net.stats().by_method.get("Junk.handler2"), Some(&17));
    });
}

/// TestBytes: the network counts the bytes of requests and replies.
#[test]
fn bytes() {
    sim::run(|net: Network| async move {
        let (_, client) = start(&net, "client", "server99");
        let before = net.stats().bytes;
        let big = "x".repeat(5000);
        assert_eq!(
            client.handler6(ctx(), big).await.map_err(Error::from),
            Ok(5000)
        );
        let after_request = net.stats().bytes - before;
        assert!(
            (5000..5050).contains(&after_request),
            "request of 5000 bytes counted as {after_request}"
        );

        let before = net.stats().bytes;
        assert_eq!(
            client
                .handler7(ctx(), 5000)
                .await
                .map_err(Error::from)
                .map(|s| s.len()),
            Ok(5000)
        );
        let after_reply = net.stats().bytes - before;
        assert!(
            (5000..5050).contains(&after_reply),
            "reply of 5000 bytes counted as {after_reply}"
        );
    });
}

/// TestConcurrentMany: many clients, each with its own end, call at once.
#[test]
fn concurrent_many() {
    sim::run(|net: Network| async move {
        let (_, _) = start(&net, "client", "server99");
        let clients: Vec<_> = (0..20)
            .map(|c| JunkClient::from(net.client(&format!("client{c}"), "server99")))
            .collect();
        let calls = clients.iter().enumerate().map(|(c, client)| async move {
            for i in 0..10 {
                let arg = (c * 100 + i) as i64;
                assert_eq!(
                    client.handler2(ctx(), arg).await.map_err(Error::from),
                    Ok(format!("handler2-{arg}"))
                );
            }
        });
        futures::future::join_all(calls).await;
        assert_eq!(net.rpc_count("server99"), 200);
    });
}

/// TestUnreliable: on an unreliable network some calls fail and some succeed, and those that
/// succeed have the right reply. (Go uses 25 calls; 300 make "some fail, some succeed" hold
/// for every seed.)
#[test]
fn unreliable() {
    sim::run(|net: Network| async move {
        let (_, _) = start(&net, "client", "server99");
        net.set_reliable(false);
        let calls = (0..300).map(|c| {
            let client = JunkClient::from(net.client(&format!("client{c}"), "server99"));
            async move {
                match client.handler2(ctx(), c).await.map_err(Error::from) {
                    Ok(reply) => {
                        assert_eq!(reply, format!("handler2-{c}"));
                        true
                    }
                    Err(e) => {
                        assert_eq!(e, Error::NoReply);
                        false
                    }
                }
            }
        });
        let ok = futures::future::join_all(calls)
            .await
            .into_iter()
            .filter(|&ok| ok)
            .count();
        assert!(
            ok > 0 && ok < 300,
            "{ok} of 300 calls succeeded on an unreliable network"
        );
    });
}

/// TestConcurrentOne: many concurrent calls through one end.
#[test]
fn concurrent_one() {
    sim::run(|net: Network| async move {
        let (server, client) = start(&net, "client", "server99");
        let calls = (0..20).map(|c| {
            let client = client.clone();
            async move {
                for i in 0..10 {
                    let arg = c * 100 + i;
                    assert_eq!(
                        client.handler2(ctx(), arg).await.map_err(Error::from),
                        Ok(format!("handler2-{arg}"))
                    );
                }
            }
        });
        futures::future::join_all(calls).await;
        assert_eq!(net.rpc_count("server99"), 200);
        assert_eq!(server.log2.lock().len(), 200);
    });
}

/// TestRegression1: a call delayed while its end was disabled does not delay calls made after
/// the end is enabled again.
#[test]
fn regression1() {
    sim::run(|net: Network| async move {
        let (_, client) = start(&net, "client", "server99");
        net.set_long_delays(true);
        let end = net.client("client", "server99");
        let slow = JunkClient::from(end.clone());
        end.set_enabled(false);
        let started = Instant::now();
        let first =
            tokio::task::spawn_local(
                async move { slow.handler2(ctx(), 99).await.map_err(Error::from) },
            );
        tokio::time::sleep(Duration::from_millis(1)).await;
        end.set_enabled(true);
        let fast = JunkClient::from(end);
        assert_eq!(
            fast.handler2(ctx(), 100).await.map_err(Error::from),
            Ok("handler2-100".into())
        );
        assert!(
            started.elapsed() < Duration::from_millis(10),
            "the second call waited for the first"
        );
        assert_eq!(first.await.ok(), Some(Err(Error::NoReply)));
        drop(client);
    });
}

/// TestKilled: a call stuck in a server's handler comes back (as no reply) soon after the
/// server is deleted, instead of waiting for the handler.
#[test]
fn killed() {
    sim::run(|net: Network| async move {
        let (_, client) = start(&net, "client", "server99");
        let started = Instant::now();
        let stuck = tokio::task::spawn_local(async move {
            client.sleep(ctx(), 20_000).await.map_err(Error::from)
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        net.delete_server("server99");
        assert_eq!(stuck.await.ok(), Some(Err(Error::NoReply)));
        assert!(
            started.elapsed() < Duration::from_millis(1100),
            "took {:?}",
            started.elapsed()
        );
    });
}
