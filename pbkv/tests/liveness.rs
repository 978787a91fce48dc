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
