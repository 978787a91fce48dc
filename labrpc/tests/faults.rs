//! The fault model, measured: over many calls the losses and delays match the constants in
//! `labrpc::fault` (a milliseconds-for-seconds slip would show here), and partitions, cuts,
//! deaf nodes, kills and restarts stop exactly the messages they should.

mod common;

use common::{Junk, JunkClient, JunkServer, start};
use labrpc::fault::{
    JITTER_MAX_DELAY, LONG_REORDER_MIN_DELAY, LONG_UNREACHABLE_MAX_DELAY, UNREACHABLE_MAX_DELAY,
    UNRELIABLE_MAX_DELAY,
};
use labrpc::{Error, Faults, Network, Probability, sim};
use std::time::Duration;
use tokio::time::Instant;

fn ctx() -> tarpc::context::Context {
    labrpc::context()
}

/// Runs `calls` concurrent calls of an instant handler from distinct clients and returns, per
/// call, how long it took and whether it succeeded.
async fn timed_calls(net: &Network, calls: usize) -> Vec<(Duration, bool)> {
    let runs = (0..calls).map(|c| {
        let client = JunkClient::from(net.client(&format!("client{c}"), "server"));
        async move {
            let started = Instant::now();
            let ok = client.handler2(ctx(), c as i64).await.is_ok();
            (started.elapsed(), ok)
        }
    });
    futures::future::join_all(runs).await
}

/// `observed` is within `slack` of `expected`.
fn near(observed: f64, expected: f64, slack: f64) -> bool {
    (observed - expected).abs() <= slack
}

#[test]
fn unreliable_losses_and_delays_match_the_constants() {
    sim::run(|net: Network| async move {
        start(&net, "client", "server");
        net.set_faults(Faults::exact()); // the delays measured are the unreliable network's
        net.set_reliable(false);
        let results = timed_calls(&net, 3000).await;
        let stats = net.stats();
        let request_loss = stats.requests_lost as f64 / stats.rpcs as f64;
        let delivered = stats.rpcs - stats.requests_lost;
        let reply_loss = stats.replies_lost as f64 / delivered as f64;
        assert!(
            near(request_loss, 0.10, 0.025),
            "request loss {request_loss}"
        );
        assert!(near(reply_loss, 0.10, 0.025), "reply loss {reply_loss}");
        let ok = results.iter().filter(|(_, ok)| *ok).count();
        assert_eq!(ok as u64, delivered - stats.replies_lost);

        // A successful call waits only its request's delay: uniform in [0, 27 ms).
        let delays: Vec<Duration> = results
            .iter()
            .filter(|(_, ok)| *ok)
            .map(|(d, _)| *d)
            .collect();
        let longest = delays.iter().max().copied().unwrap_or_default();
        assert!(longest < UNRELIABLE_MAX_DELAY, "delay {longest:?}");
        assert!(
            longest > UNRELIABLE_MAX_DELAY * 9 / 10,
            "longest delay only {longest:?}"
        );
        let mean = delays.iter().sum::<Duration>().as_secs_f64() / delays.len() as f64;
        assert!(near(mean, 0.013, 0.0015), "mean delay {mean}");
    });
}

#[test]
fn exact_reliable_network_neither_loses_nor_delays() {
    sim::run(|net: Network| async move {
        start(&net, "client", "server");
        net.set_faults(Faults::exact());
        let results = timed_calls(&net, 500).await;
        assert!(results.iter().all(|&(d, ok)| ok && d.is_zero()));
        let stats = net.stats();
        assert_eq!(
            (stats.requests_lost, stats.replies_lost, stats.unreachable),
            (0, 0, 0)
        );
    });
}

/// With a service time, a server handles one request at a time: five requests that arrive
/// together are answered one service time apart, in order; another server's queue is its own.
#[test]
fn a_server_with_a_service_time_serves_one_request_at_a_time() {
    sim::run(|net: Network| async move {
        start(&net, "client", "server");
        start(&net, "client", "other");
        let service = Duration::from_millis(10);
        net.set_faults(Faults {
            service_time: service,
            ..Faults::exact()
        });
        let runs = (0..10).map(|c| {
            let to = if c % 2 == 0 { "server" } else { "other" };
            let client = JunkClient::from(net.client(&format!("client{c}"), to));
            async move {
                let started = Instant::now();
                let ok = client.handler2(ctx(), c).await.is_ok();
                (started.elapsed(), ok)
            }
        });
        let mut results = futures::future::join_all(runs).await;
        assert!(results.iter().all(|&(_, ok)| ok));
        results.sort();
        let times: Vec<Duration> = results.iter().map(|&(d, _)| d).collect();
        let expected: Vec<Duration> = (1..=5).flat_map(|k| [service * k, service * k]).collect();
        assert_eq!(
            times, expected,
            "each server's queue: one request per 10 ms"
        );
        // Idle again: the next request waits only for its own service.
        let started = Instant::now();
        let client = JunkClient::from(net.client("late", "server"));
        assert!(client.handler2(ctx(), 1).await.is_ok());
        assert_eq!(started.elapsed(), service);
    });
}

/// The default reliable network loses nothing, but each request and each reply waits a
/// jitter uniform in whole milliseconds below `JITTER_MAX_DELAY` (3 ms): a call takes 0-4 ms,
/// 2 ms on average, every value in between occurs, and concurrent calls finish in another
/// order than they started.
#[test]
fn reliable_network_jitters_every_message() {
    sim::run(|net: Network| async move {
        start(&net, "client", "server");
        assert_eq!(net.faults().jitter, JITTER_MAX_DELAY);
        let results = timed_calls(&net, 3000).await;
        assert!(
            results.iter().all(|(_, ok)| *ok),
            "a reliable network lost a call"
        );
        let ms: Vec<u128> = results.iter().map(|(d, _)| d.as_millis()).collect();
        let most = 2 * (JITTER_MAX_DELAY.as_millis() - 1);
        for value in 0..=most {
            assert!(ms.contains(&value), "no call took {value} ms");
        }
        assert!(
            ms.iter().all(|&m| m <= most),
            "a call took more than {most} ms"
        );
        let mean = ms.iter().sum::<u128>() as f64 / ms.len() as f64;
        assert!(near(mean, 2.0, 0.1), "mean call time {mean} ms");
        let in_order = results.windows(2).filter(|w| w[0].0 <= w[1].0).count();
        assert!(
            in_order < results.len() * 3 / 4,
            "calls finished in start order"
        );
    });
}

/// Go's `setunreliable`: a server drops 10% of the requests that reach it and discards the
/// reply of 20% of the rest after running them (about 18% of all calls), on an otherwise
/// reliable network; other servers are not affected, and it can be turned off again.
#[test]
fn an_unreliable_server_drops_requests_and_discards_replies_at_gos_rates() {
    sim::run(|net: Network| async move {
        start(&net, "client", "server");
        let calls = 4000;
        net.set_unreliable_server("server", true);
        let results = timed_calls(&net, calls).await;
        let stats = net.stats();
        let ran = net.rpc_count("server");
        let request_drop = stats.requests_lost as f64 / calls as f64;
        let reply_drop = stats.replies_lost as f64 / ran as f64;
        let ran_unanswered = stats.replies_lost as f64 / calls as f64;
        assert!(
            near(request_drop, 0.10, 0.02),
            "request drops {request_drop}"
        );
        assert!(near(reply_drop, 0.20, 0.025), "reply drops {reply_drop}");
        assert!(
            near(ran_unanswered, 0.18, 0.025),
            "ran unanswered {ran_unanswered}"
        );
        assert_eq!(
            ran,
            calls as u64 - stats.requests_lost,
            "a delivered request did not run"
        );
        let ok = results.iter().filter(|(_, ok)| *ok).count() as u64;
        assert_eq!(ok, ran - stats.replies_lost);

        net.set_unreliable_server("server", false);
        let results = timed_calls(&net, 500).await;
        assert!(results.iter().all(|(_, ok)| *ok), "reliable again");
    });
}

#[test]
fn unreachable_calls_fail_after_short_or_long_delays() {
    sim::run(|net: Network| async move {
        for (long, bound) in [
            (false, UNREACHABLE_MAX_DELAY),
            (true, LONG_UNREACHABLE_MAX_DELAY),
        ] {
            net.set_long_delays(long);
            // There is never a server on "server": every call is unreachable.
            let results = timed_calls(&net, 400).await;
            assert!(results.iter().all(|(_, ok)| !ok));
            let longest = results.iter().map(|(d, _)| *d).max().unwrap_or_default();
            assert!(
                longest < bound && longest > bound * 9 / 10,
                "long={long}: longest {longest:?}"
            );
        }
        assert_eq!(net.stats().unreachable, 800);
    });
}

#[test]
fn long_reordering_holds_back_two_thirds_of_replies() {
    sim::run(|net: Network| async move {
        start(&net, "client", "server");
        net.set_faults(Faults::exact()); // hold-backs only, no jitter
        net.set_long_reordering(true);
        let results = timed_calls(&net, 1500).await;
        assert!(results.iter().all(|(_, ok)| *ok));
        let held: Vec<Duration> = results
            .iter()
            .map(|(d, _)| *d)
            .filter(|d| !d.is_zero())
            .collect();
        let share = held.len() as f64 / results.len() as f64;
        assert!(near(share, 2.0 / 3.0, 0.04), "{share} of replies held back");
        assert!(
            held.iter()
                .all(|&d| d >= LONG_REORDER_MIN_DELAY && d < Duration::from_millis(2200))
        );
        assert!(
            held.iter().any(|&d| d > Duration::from_millis(1500)),
            "no long hold-back"
        );
        // Skewed towards short: Go's 200 + rand(1 + rand(2000)) ms has a mean near 700 ms.
        let mean = held.iter().sum::<Duration>().as_secs_f64() / held.len() as f64;
        assert!(near(mean, 0.7, 0.06), "mean hold-back {mean}");
    });
}

#[test]
fn replies_arrive_out_of_order_under_long_reordering() {
    sim::run(|net: Network| async move {
        let (_, client) = start(&net, "client", "server");
        net.set_long_reordering(true);
        let order = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let calls = (0..50).map(|i| {
            let (client, order) = (client.clone(), order.clone());
            async move {
                client.handler2(ctx(), i).await.expect("reliable network");
                order.borrow_mut().push(i);
            }
        });
        futures::future::join_all(calls).await;
        let order = order.borrow();
        assert!(
            order.windows(2).any(|w| w[0] > w[1]),
            "replies came back in order: {order:?}"
        );
    });
}

#[test]
fn partitioned_and_deaf_nodes_get_no_requests() {
    sim::run(|net: Network| async move {
        let (server, client) = start(&net, "client", "server");
        net.partition(&[&["client"], &["server"]]);
        assert_eq!(
            client.handler2(ctx(), 1).await.map_err(Error::from),
            Err(Error::NoReply)
        );
        net.partition(&[&["client", "server"]]);
        assert!(client.handler2(ctx(), 2).await.is_ok());
        net.partition(&[&["client", "server"], &["other"]]);
        net.set_deaf("server", true);
        assert_eq!(
            client.handler2(ctx(), 3).await.map_err(Error::from),
            Err(Error::NoReply)
        );
        net.heal();
        assert!(client.handler2(ctx(), 4).await.is_ok());
        assert_eq!(
            *server.log2.lock(),
            vec![2, 4],
            "a request reached a cut-off server"
        );
        assert_eq!(net.rpc_count("server"), 2);
    });
}

#[test]
fn a_deaf_node_still_hears_replies_to_its_own_calls() {
    sim::run(|net: Network| async move {
        let (_, client) = start(&net, "client", "server");
        net.set_deaf("client", true);
        assert!(client.handler2(ctx(), 1).await.is_ok());
    });
}

#[test]
fn a_node_deaf_to_one_peer_hears_the_others_and_its_replies() {
    sim::run(|net: Network| async move {
        let (server, from_a) = start(&net, "a", "server");
        let from_b: JunkClient<_> = JunkClient::from(net.client("b", "server"));
        let server_to_a: JunkClient<_> = JunkClient::from(net.client("server", "a"));
        net.add_server("a", JunkServer::default().serve());
        net.set_deaf_to("server", "a", true);
        assert_eq!(
            from_a.handler2(ctx(), 1).await.map_err(Error::from),
            Err(Error::NoReply),
            "a request of the peer it is deaf to reached it"
        );
        assert!(
            from_b.handler2(ctx(), 2).await.is_ok(),
            "another node is still heard"
        );
        assert!(
            server_to_a.handler2(ctx(), 3).await.is_ok(),
            "the replies to its own calls still come back"
        );
        net.set_deaf_to("server", "a", false);
        assert!(from_a.handler2(ctx(), 4).await.is_ok());
        net.set_deaf_to("server", "a", true);
        net.heal();
        assert!(from_a.handler2(ctx(), 5).await.is_ok(), "heal ends it");
        assert_eq!(*server.log2.lock(), vec![2, 4, 5]);
    });
}

#[test]
fn one_way_cut_stops_one_direction_only() {
    sim::run(|net: Network| async move {
        let (a_server, a_to_b) = start(&net, "a", "b");
        let (b_server, b_to_a) = start(&net, "b", "a");
        net.cut("a", "b");
        // a's requests do not reach b.
        assert_eq!(
            a_to_b.handler2(ctx(), 1).await.map_err(Error::from),
            Err(Error::NoReply)
        );
        assert!(a_server.log2.lock().is_empty());
        // b's requests reach a, but a's replies do not come back.
        assert_eq!(
            b_to_a.handler2(ctx(), 2).await.map_err(Error::from),
            Err(Error::NoReply)
        );
        assert_eq!(*b_server.log2.lock(), vec![2]);
        net.restore("a", "b");
        assert!(a_to_b.handler2(ctx(), 3).await.is_ok());
    });
}

#[test]
fn links_are_checked_again_at_delivery() {
    sim::run(|net: Network| async move {
        let (server, client) = start(&net, "client", "server");
        // Every request is delayed, none is lost at random.
        net.set_faults(Faults {
            reliable: false,
            request_loss: Probability::NEVER,
            reply_loss: Probability::NEVER,
            max_delay: Duration::from_secs(1),
            ..Faults::default()
        });
        let call = tokio::task::spawn_local(async move {
            client.handler2(ctx(), 7).await.map_err(Error::from)
        });
        tokio::task::yield_now().await; // the request is sent, now in flight
        net.partition(&[&["client"], &["server"]]);
        assert_eq!(call.await.ok(), Some(Err(Error::NoReply)));
        assert!(
            server.log2.lock().is_empty(),
            "a request crossed a partition made while in flight"
        );
        assert_eq!(net.stats().requests_lost, 1);
    });
}

#[test]
fn a_killed_servers_late_reply_never_arrives() {
    sim::run(|net: Network| async move {
        let (_, client) = start(&net, "client", "server");
        let started = Instant::now();
        let call = tokio::task::spawn_local(async move {
            client.sleep(ctx(), 1000).await.map_err(Error::from)
        });
        tokio::time::sleep(Duration::from_millis(500)).await;
        net.kill("server");
        assert_eq!(call.await.ok(), Some(Err(Error::NoReply)));
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "the caller waited for a dead handler"
        );
        assert!(!net.is_alive("server"));
    });
}

#[test]
fn a_restarted_server_never_answers_a_request_sent_to_the_old_one() {
    sim::run(|net: Network| async move {
        let (_, client) = start(&net, "client", "server");
        net.set_faults(Faults {
            reliable: false,
            request_loss: Probability::NEVER,
            reply_loss: Probability::NEVER,
            max_delay: Duration::from_secs(1),
            ..Faults::default()
        });
        let call = tokio::task::spawn_local(async move {
            client.handler2(ctx(), 7).await.map_err(Error::from)
        });
        tokio::task::yield_now().await;
        net.kill("server");
        let fresh = common::JunkServer::default();
        net.add_server("server", fresh.clone().serve());
        assert_eq!(call.await.ok(), Some(Err(Error::NoReply)));
        assert!(
            fresh.log2.lock().is_empty(),
            "the new incarnation executed an old request"
        );
        assert_eq!(net.rpc_count("server"), 0);
    });
}

#[test]
fn a_killed_node_stops_its_tasks_and_its_calls() {
    sim::run(|net: Network| async move {
        let (_, client) = start(&net, "worker", "server");
        let ticks = std::rc::Rc::new(std::cell::Cell::new(0));
        let counter = ticks.clone();
        net.spawn("worker", async move {
            loop {
                tokio::time::sleep(Duration::from_millis(10)).await;
                counter.set(counter.get() + 1);
            }
        });
        tokio::time::sleep(Duration::from_millis(105)).await;
        assert_eq!(ticks.get(), 10);
        net.kill("worker");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(ticks.get(), 10, "a killed node's task kept running");
        assert_eq!(
            client.handler2(ctx(), 1).await.map_err(Error::from),
            Err(Error::NoReply)
        );
    });
}

#[test]
fn a_revived_node_calls_and_runs_tasks_again_but_its_old_server_stays_dead() {
    sim::run(|net: Network| async move {
        let (_, client) = start(&net, "pinger", "server");
        let (_, to_pinger) = start(&net, "other", "pinger");
        net.kill("pinger");
        assert_eq!(
            client.handler2(ctx(), 1).await.map_err(Error::from),
            Err(Error::NoReply)
        );
        net.revive("pinger");
        assert!(net.is_alive("pinger"));
        assert_eq!(
            client.handler2(ctx(), 2).await.map_err(Error::from),
            Ok("handler2-2".to_owned())
        );
        let ran = std::rc::Rc::new(std::cell::Cell::new(false));
        let flag = ran.clone();
        net.spawn("pinger", async move { flag.set(true) });
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert!(ran.get(), "a revived node does not run tasks");
        assert!(
            to_pinger.handler2(ctx(), 3).await.is_err(),
            "the killed incarnation's server answered after revive"
        );
    });
}

#[test]
fn a_panicking_node_task_fails_the_simulation() {
    let outcome = std::panic::catch_unwind(|| {
        sim::simulate(1, false, |net: Network| async move {
            net.spawn("node", async { panic!("invariant broken") });
            tokio::time::sleep(Duration::from_secs(1)).await;
        })
    });
    let message = outcome
        .err()
        .and_then(|p| p.downcast::<String>().ok())
        .map(|s| *s);
    assert_eq!(
        message.as_deref(),
        Some("a task on node \"node\" panicked: invariant broken")
    );
}
