//! Liveness: the root causes of stalls found by `distlab soak pbkv` under heavy chaos, each
//! rebuilt deterministically.
//!
//! **Two servers waiting for each other (P6).** A primary holds its store while it calls its
//! backup. Under long delays the view service can declare a live primary dead and make its
//! backup the primary of a new view, with the old primary as the new backup. The old primary,
//! which has not heard of the new view, forwards a client's operation to the new primary while
//! the new primary transfers its state to the old one: each handler waited for the store lock
//! that the other server's call held, forever (`distlab run pbkv --seed 23 --duration 60s
//! --clients 6 --crash-every 1s --partition-every 1s --drop 0.2 --reordering --long-delays`
//! blocked every client). Here an impostor on node `b` plays the stale server: whenever the
//! real server `a` calls it, it first calls back into `a` with an older view than `a`'s, and
//! answers only when that call returns.
//!
//! **A primary that dies before acknowledging its view (P7).** The view service may leave a
//! view only once its primary acknowledged it (V2). When a backup looks dead (its pings
//! delayed), the view service makes a new view with another backup; if the primary crashes
//! before it transferred its state to that backup, nobody can acknowledge the view, and a
//! primary restarted empty pings 0, so the view is stuck for good (`distlab run pbkv --seed
//! 315 --crash-every 1s --partition-every 1s --drop 0.2 --reordering --long-delays`). A
//! primary restarted with its disk is the copy it was: it acknowledges the view and the
//! store goes on. With its disk lost the view stays stuck, as the design requires.

mod common;

use common::*;
use labrpc::{Error, Network, sim};
use parking_lot::Mutex;
use pbkv::{Clerk, ClientOp, Forward, KvError, KvReply, Op, PbKv, PbKvClient, Snapshot};
use std::sync::Arc;
use std::time::Duration;
use tarpc::context::Context;
use tokio::time::{sleep, timeout};
use viewservice::{PING_INTERVAL, View};

/// Far longer than any of these calls takes when nobody waits in a cycle.
const PATIENCE: Duration = Duration::from_secs(5);

/// What the impostor's calls back into `a` returned.
type Answers = Arc<Mutex<Vec<(String, Result<KvReply, Error>)>>>;

/// A server on node `b` that believes, from a view older than `a`'s, that `a` is its backup.
#[derive(Clone)]
struct Impostor {
    net: Network,
    answers: Answers,
}

impl Impostor {
    fn a(&self) -> PbKvClient<pbkv::KvEnd> {
        PbKvClient::from(self.net.client("b", "a"))
    }

    fn record(&self, what: &str, reply: Result<KvReply, Error>) {
        self.answers.lock().push((what.to_owned(), reply));
    }
}

impl PbKv for Impostor {
    async fn execute(self, _: Context, _: ClientOp) -> KvReply {
        Err(KvError::WrongServer)
    }

    /// `a`, primary of `args.viewnum` with us as its backup, holds its store while it waits
    /// for this answer; we first send it our state for an older view in which it is our
    /// backup (a transfer it must refuse at once, P6).
    async fn forward(self, _: Context, args: Forward) -> KvReply {
        let older = View {
            viewnum: args.viewnum.saturating_sub(1),
            primary: Some("b".into()),
            backup: Some("a".into()),
        };
        let snapshot = Snapshot {
            view: older,
            ..Snapshot::default()
        };
        let reply = self.a().transfer(labrpc::context(), snapshot).await;
        self.record(
            "transfer",
            reply
                .map(|r| r.map(|()| String::new()))
                .map_err(Error::from),
        );
        Ok(String::new())
    }

    /// `a` holds its store while it transfers its state to us for `snapshot.view`; we first
    /// forward it an operation of an older view (which it must refuse at once, P6).
    async fn transfer(self, _: Context, snapshot: Snapshot) -> Result<(), KvError> {
        let stale = Forward {
            viewnum: snapshot.view.viewnum.saturating_sub(1),
            op: ClientOp {
                client: 7,
                seq: 1,
                op: Op::Put {
                    key: "k".into(),
                    value: "stale".into(),
                },
            },
        };
        let reply = self.a().forward(labrpc::context(), stale).await;
        self.record("forward", reply.map_err(Error::from));
        Ok(())
    }
}

/// P6: the real server `a` answers a stale server's calls at once even while it holds its
/// store for its own call to that server, so neither waits forever; and it applies nothing a
/// stale view sent.
#[test]
fn a_stale_server_calling_back_is_refused_at_once() {
    sim::run(|net: Network| async move {
        let (vs, vck) = start_vs(&net);
        let a = start(&net, "a");
        wait_view(&vck, 10, |v| v.is_primary("a")).await;
        let answers = Answers::default();
        let impostor = Impostor {
            net: net.clone(),
            answers: answers.clone(),
        };
        net.add_server("b", impostor.serve());
        // The impostor pings like a live server, so the view service makes it a's backup.
        let pinger = viewservice::Clerk::new(&net, "b", VS);
        net.spawn("b", async move {
            let mut viewnum = 0;
            loop {
                if let Ok(view) = pinger.ping(viewnum).await {
                    viewnum = view.viewnum;
                }
                sleep(PING_INTERVAL).await;
            }
        });

        // a's transfer to b: b forwards back an operation of the view before.
        let acked = timeout(PATIENCE, async {
            while !(vs.view().is_backup("b") && vs.is_acked()) {
                sleep(PING_INTERVAL).await;
            }
        })
        .await;
        assert!(
            acked.is_ok(),
            "a never acknowledged a view with b as backup: its transfer waited forever for \
             the answer to b's stale forward, which waited for a's store (P6); view {}",
            vs.view()
        );
        let view = vs.view();
        assert_eq!(
            answers.lock().first(),
            Some(&("forward".to_owned(), Ok(Err(KvError::WrongServer)))),
            "a stale forward must be refused as coming from an old view (P3)"
        );

        // A client's Put: a forwards it to b, which first transfers a state of an older view.
        let mut ck = Clerk::new(&net, "ck", VS);
        let put = timeout(PATIENCE, ck.put("k", "fresh")).await;
        assert!(
            put.is_ok(),
            "a's Put never completed: its forward waited for the answer to b's stale \
             transfer, which waited for a's store (P6)"
        );
        assert_eq!(
            answers.lock().get(1),
            Some(&("transfer".to_owned(), Ok(Err(KvError::WrongServer)))),
            "a must refuse a transfer for a view older than {view}"
        );
        assert_eq!(
            a.data().and_then(|d| d.get("k").cloned()),
            Some("fresh".into())
        );
    });
}

/// Builds the stuck view: `s1` primary, `s2` backup, then `s2`'s pings stop reaching the
/// view service, which makes `s3` the backup of a new view; `s1` cannot reach `s3` and is
/// killed before it acknowledged that view. Returns the clerk that wrote `a`.
async fn primary_dies_before_acknowledging(net: &Network) -> (viewservice::ViewServer, Clerk) {
    let (vs, vck) = start_vs(net);
    let s1 = start(net, "s1");
    wait_view(&vck, 10, |v| v.is_primary("s1")).await;
    let _s2 = start(net, "s2");
    wait_pair(&vck).await;
    let mut ck = Clerk::new(net, "ck", VS);
    ck.put("a", "x").await;
    let _s3 = start(net, "s3");
    sleep(PING_INTERVAL * 2).await;
    net.cut("s1", "s3");
    net.cut("s2", VS);
    let new_view = wait_view(&vck, 20, |v| v.backup.as_deref() == Some("s3")).await;
    assert!(new_view.is_primary("s1"), "{new_view}");
    assert!(
        !vs.is_acked(),
        "s1 acknowledged {new_view} without reaching its backup"
    );
    s1.kill();
    net.restore("s1", "s3");
    net.restore("s2", VS);
    sleep(DEAD_TIME * 2).await;
    (vs, ck)
}

/// P7: with its disk, the primary of the unacknowledged view comes back as itself,
/// transfers its state to the new backup, acknowledges, and serves what it had.
#[test]
fn a_primary_restarted_with_its_disk_acknowledges_its_view() {
    sim::run(|net: Network| async move {
        let (vs, mut ck) = primary_dies_before_acknowledging(&net).await;
        let _s1 = start(&net, "s1");
        let got = timeout(PATIENCE, ck.get("a")).await;
        assert_eq!(
            got.ok().as_deref(),
            Some("x"),
            "the store never recovered (view {}, acked {})",
            vs.view(),
            vs.is_acked()
        );
        ck.put("b", "y").await;
        let mut other = Clerk::new(&net, "other", VS);
        check(&mut other, "b", "y").await;
    });
}

/// Without its disk the same primary pings 0: nobody holds the state for certain, and the
/// view service waits for good rather than risk serving lost writes (V2, V3).
#[test]
fn a_primary_restarted_without_its_disk_leaves_the_view_stuck() {
    sim::run(|net: Network| async move {
        let (vs, mut ck) = primary_dies_before_acknowledging(&net).await;
        net.lose_disk("s1");
        let _s1 = start(&net, "s1");
        let got = timeout(PATIENCE, ck.get("a")).await;
        assert!(got.is_err(), "served {got:?} from {}", vs.view());
    });
}
