//! The view server's rules beyond Go's Test1: lost replies are not restarts, a restarted
//! backup is replaced, a restarted sole primary leaves no primary, RPCs are counted, a dead
//! view server freezes the views, a view is acknowledged only by its primary, and on an
//! unreliable network with crashing servers every new primary is an old primary or backup.

use labrpc::{Network, sim};
use placeholder::Idle;
use rand::Rng;
use std::collections::BTreeMap;
use viewservice::{Clerk, DEAD_TIME, PING_INTERVAL, View, ViewServer};

async fn ping(ck: &Clerk, viewnum: u64) -> View {
    ck.ping(viewnum).await.expect("reliable network")
}

/// A server whose first reply was lost pings 0 again: that is not a restart, and its ack of
/// view 1 counts.
#[test]
fn repeated_zero_pings_before_any_reply_are_not_a_restart() {
    sim::run(|net: Network| async move {
        let _vs = ViewServer::start(&net, "vs");
        let (a, b) = (Clerk::new(&net, "a", "vs"), Clerk::new(&net, "b", "vs"));
        assert!(ping(&a, 0).await.is_primary("a"));
        assert!(
            ping(&a, 0).await.is_primary("a"),
            "a second 0-ping demoted a"
        );
        ping(&a, 1).await; // ack
        let v = ping(&b, 0).await;
        assert_eq!((v.viewnum, v.backup.as_deref()), (2, Some("b")));
    });
}

/// A backup that pinged its view and then pings 0 restarted: the next view drops it (and does
/// not pick it again in the same change), the one after takes it back as a fresh backup.
#[test]
fn restarted_backup_is_replaced() {
    sim::run(|net: Network| async move {
        let _vs = ViewServer::start(&net, "vs");
        let (a, b) = (Clerk::new(&net, "a", "vs"), Clerk::new(&net, "b", "vs"));
        ping(&a, 0).await;
        ping(&a, 1).await;
        ping(&b, 0).await;
        ping(&b, 2).await;
        ping(&a, 2).await; // ack view 2 = (a, b)
        let v = ping(&b, 0).await; // b restarted
        assert_eq!((v.viewnum, v.backup.as_deref()), (3, None), "{v}");
        ping(&a, 3).await;
        let v = ping(&b, 0).await;
        assert_eq!((v.viewnum, v.backup.as_deref()), (4, Some("b")), "{v}");
    });
}

/// A primary with no backup that restarts has lost the only copy: the next view has no
/// primary, for good (a fresh server never becomes primary), so that the restarted server
/// cannot take view 1 for one made for it and serve from empty state. A primary that is only
/// silent may come back with its state: no new view meanwhile.
#[test]
fn restarted_sole_primary_leaves_no_primary() {
    sim::run(|net: Network| async move {
        let _vs = ViewServer::start(&net, "vs");
        let (a, b) = (Clerk::new(&net, "a", "vs"), Clerk::new(&net, "b", "vs"));
        ping(&a, 0).await;
        ping(&a, 1).await; // ack view 1 = (a, none)
        // Silent past DEAD_TIME: b pings meanwhile, but cannot become primary.
        tokio::time::sleep(DEAD_TIME * 2).await;
        let v = ping(&b, 0).await;
        assert_eq!((v.viewnum, v.primary.as_deref()), (1, Some("a")), "{v}");
        let v = ping(&a, 1).await; // a was only silent: it goes on, and b becomes backup
        assert_eq!(
            (v.viewnum, v.primary.as_deref(), v.backup.as_deref()),
            (2, Some("a"), Some("b")),
            "{v}"
        );

        // Now from a fresh service: the sole primary restarts.
        let _vs2 = ViewServer::start(&net, "vs2");
        let (c, d) = (Clerk::new(&net, "c", "vs2"), Clerk::new(&net, "d", "vs2"));
        ping(&c, 0).await;
        ping(&c, 1).await; // ack view 1 = (c, none)
        let v = ping(&c, 0).await; // c restarted
        assert_eq!((v.viewnum, v.primary.as_deref()), (2, None), "{v}");
        for _ in 0..10 {
            for ck in [&c, &d] {
                let v = ping(ck, 0).await;
                assert_eq!((v.viewnum, v.primary.as_deref()), (2, None), "{v}");
                let v = ping(ck, 2).await;
                assert_eq!((v.viewnum, v.primary.as_deref()), (2, None), "{v}");
            }
            tokio::time::sleep(PING_INTERVAL).await;
        }
    });
}

/// Every ping and get is counted; a killed view server answers nothing and changes nothing.
#[test]
fn rpc_count_and_kill() {
    sim::run(|net: Network| async move {
        let vs = ViewServer::start(&net, "vs");
        let a = Clerk::new(&net, "a", "vs");
        ping(&a, 0).await;
        ping(&a, 1).await;
        a.get().await.expect("reliable network");
        assert_eq!(vs.rpc_count(), 3);
        vs.kill();
        assert!(a.ping(1).await.is_err(), "a killed view server answered");
        tokio::time::sleep(DEAD_TIME * 2).await;
        assert!(
            vs.view().is_primary("a"),
            "a dead view server changed its view"
        );
        let vs = ViewServer::start(&net, "vs");
        assert_eq!(vs.view().viewnum, 0, "a restarted view server remembers");
    });
}

/// Servers that behave like pbkv's (ping 0 until the first reply, then the view they know;
/// the primary acks at once) crash and restart at random on an unreliable network. A watcher
/// checks every view it sees: numbers grow by one, and each primary was the primary or the
/// backup of the view before. Each killed primary is replaced (the service is not stuck).
#[test]
fn succession_under_crashes_and_loss() {
    sim::run(|net: Network| async move {
        net.set_reliable(false);
        let vs = ViewServer::start(&net, "vs");
        let names = ["s1", "s2", "s3"];
        let start = |name: &'static str| {
            let ck = Clerk::new(&net, name, "vs");
            net.spawn(name, async move {
                let mut known = 0;
                loop {
                    if let Ok(view) = ck.ping(known).await {
                        known = known.max(view.viewnum);
                    }
                    tokio::time::sleep(PING_INTERVAL).await;
                }
            });
        };
        for name in names {
            start(name);
        }
        let watcher = vs.clone();
        let checker = tokio::task::spawn_local(async move {
            let mut last = View::default();
            // Views whose primary replaced an earlier one, by new primary.
            let mut takeovers = BTreeMap::new();
            for _ in 0..15_000 {
                let view = watcher.view();
                if view.viewnum != last.viewnum {
                    assert_eq!(view.viewnum, last.viewnum + 1, "skipped a view");
                    if last.viewnum > 0 && view.primary.is_some() {
                        assert!(
                            view.primary == last.primary || view.primary == last.backup,
                            "{view} follows {last}: its primary held no state"
                        );
                    }
                    if last.primary.is_some() && view.primary != last.primary {
                        *takeovers.entry(view.primary.clone()).or_insert(0) += 1;
                    }
                    last = view;
                }
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            takeovers.values().sum::<u32>()
        });
        // Kill the current primary (so each round forces a takeover) after a random pause.
        let mut rng = net.rng();
        for _ in 0..6 {
            tokio::time::sleep(DEAD_TIME * 2 + PING_INTERVAL * rng.random_range(0..5)).await;
            let Some(victim) = vs.view().primary else {
                continue;
            };
            let victim = names
                .into_iter()
                .find(|n| *n == victim)
                .expect("the primary is one of the servers");
            net.kill(victim);
            tokio::time::sleep(DEAD_TIME + PING_INTERVAL * 3).await;
            net.add_server(victim, placeholder::Nothing.serve());
            start(victim);
        }
        let takeovers = checker.await.expect("the checker does not panic");
        assert!(
            takeovers >= 6,
            "only {takeovers} takeovers after 6 kills of the primary"
        );
    });
}

/// A node needs a server to come back to life after a kill; these pingers serve nothing.
mod placeholder {
    /// A service with nothing to do.
    #[tarpc::service]
    pub trait Idle {
        /// Does nothing.
        async fn noop();
    }

    // What its messages say in a recorded trace: their Debug form.
    impl labrpc::Summarize for IdleRequest {}
    impl labrpc::Summarize for IdleResponse {}

    /// Its server.
    #[derive(Clone)]
    pub struct Nothing;

    impl Idle for Nothing {
        async fn noop(self, _: tarpc::context::Context) {}
    }
}

/// A new view is unacknowledged until its primary pings its number (V2: the view server may
/// not move on before that), and the names a test reads back are the nodes it gave.
#[test]
fn a_view_is_acknowledged_only_by_its_primary_pinging_it() {
    sim::run(|net: Network| async move {
        let vs = ViewServer::start(&net, "vs");
        assert_eq!(vs.name(), "vs");
        let (a, b) = (Clerk::new(&net, "a", "vs"), Clerk::new(&net, "b", "vs"));
        assert_eq!((a.me(), b.me()), ("a", "b"));
        assert_eq!(ping(&a, 0).await.viewnum, 1);
        assert!(
            !vs.is_acked(),
            "view 1 acknowledged before its primary pinged it"
        );
        ping(&b, 0).await; // not the primary: acknowledges nothing
        assert!(!vs.is_acked(), "a ping of the backup acknowledged the view");
        // The ack lets the view server move on at once: b becomes the backup in view 2.
        ping(&a, 1).await;
        assert_eq!(vs.view().viewnum, 2, "the backup waited for an ack it had");
        assert!(
            !vs.is_acked(),
            "view 2 acknowledged before its primary pinged it"
        );
        ping(&a, 2).await;
        assert!(
            vs.is_acked(),
            "the primary pinged view 2, yet it is not acknowledged"
        );
    });
}
