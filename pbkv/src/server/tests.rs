//! The guard of `sync_backup` and the answer to a refused transfer, set up from inside:
//! a primary's view changing while its transfer waits for the store is too rare a race to
//! build from outside.

use labrpc::{Network, sim};
use std::time::Duration;
use viewservice::{View, ViewServer};

use super::PbServer;
use crate::common::KvError;
use crate::{Clerk, ClientOp, Op, PbKvClient};

/// Far longer than a transfer takes when nobody waits in a cycle.
const PATIENCE: Duration = Duration::from_secs(2);

/// A pair `s1` (primary) and `s2` (backup), synced, whose store holds `a = x`.
async fn synced_pair(net: &Network) -> (ViewServer, PbServer, PbServer) {
    let vs = ViewServer::start(net, "vs");
    let s1 = PbServer::start(net, "s1", "vs");
    while !vs.view().is_primary("s1") {
        tokio::time::sleep(viewservice::PING_INTERVAL).await;
    }
    let s2 = PbServer::start(net, "s2", "vs");
    while !(vs.view().backup.as_deref() == Some("s2") && vs.is_acked()) {
        tokio::time::sleep(viewservice::PING_INTERVAL).await;
    }
    Clerk::new(net, "ck", "vs").put("a", "x").await;
    (vs, s1, s2)
}

/// `s1`'s `sync_backup`, as its ticker would run it, with the store lock held.
async fn sync(s1: &PbServer) -> Option<Result<(), KvError>> {
    let shared = &s1.shared;
    let mut store = shared.store.lock().await;
    tokio::time::timeout(PATIENCE, shared.sync_backup(&mut store))
        .await
        .ok()
}

/// P6: a primary whose transfer task waited for the store while a new view made it the
/// backup must not send its state to the new view's backup: that is itself, and the call
/// would wait for the very lock it holds.
#[test]
fn a_demoted_primary_sends_no_state() {
    sim::run(|net: Network| async move {
        let (vs, s1, _s2) = synced_pair(&net).await;
        {
            let mut status = s1.shared.status.lock();
            status.view = View {
                viewnum: vs.view().viewnum + 1,
                primary: Some("s2".into()),
                backup: Some("s1".into()),
            };
            status.backup_synced = None;
        }
        assert_eq!(
            sync(&s1).await,
            Some(Err(KvError::WrongServer)),
            "a server that is not the primary sent (or hung sending) its state"
        );
    });
}

/// P5: a primary whose store is not a copy of the service's state never sends it over its
/// backup's copy.
#[test]
fn an_uninitialized_primary_sends_no_state() {
    sim::run(|net: Network| async move {
        let (_vs, s1, s2) = synced_pair(&net).await;
        {
            let mut status = s1.shared.status.lock();
            status.initialized = false;
            status.backup_synced = None;
        }
        s1.shared.store.lock().await.data.clear();
        assert_eq!(sync(&s1).await, Some(Err(KvError::WrongServer)));
        assert_eq!(
            s2.data().and_then(|d| d.get("a").cloned()).as_deref(),
            Some("x"),
            "an empty store overwrote the backup's copy"
        );
    });
}

/// P3: a primary whose backup refuses its state because it knows a newer view tells the
/// clerk it may no longer be the primary.
#[test]
fn a_primary_refused_for_an_older_view_answers_wrong_server() {
    sim::run(|net: Network| async move {
        let (_vs, s1, s2) = synced_pair(&net).await;
        s1.shared.status.lock().backup_synced = None;
        s2.shared.status.lock().view.viewnum += 1;
        let get = ClientOp {
            client: 7,
            seq: 1,
            op: Op::Get { key: "a".into() },
        };
        let reply = PbKvClient::from(net.client("direct", "s1"))
            .execute(labrpc::context(), get)
            .await;
        assert!(
            matches!(reply, Ok(Err(KvError::WrongServer))),
            "got {reply:?}"
        );
    });
}

/// A server `s1` in the view service's view 1, killed so that its ticker no longer changes
/// its status: the status is set by hand, and `ping_viewnum` called as the ticker would.
async fn still_server(net: &Network) -> PbServer {
    let _vs = ViewServer::start(net, "vs");
    let s1 = PbServer::start(net, "s1", "vs");
    tokio::time::sleep(viewservice::PING_INTERVAL * 3).await;
    net.kill("s1");
    s1
}

/// `s1` as primary of `view`, its status set by `set`; returns what it would ping.
async fn ping_as_primary(
    net: &Network,
    viewnum: u64,
    backup: Option<&str>,
    set: impl FnOnce(&mut super::Status),
) -> (Option<u64>, bool) {
    let s1 = still_server(net).await;
    {
        let mut status = s1.shared.status.lock();
        *status = super::Status::default();
        status.heard = true;
        status.ready = true;
        status.view = View {
            viewnum,
            primary: Some("s1".into()),
            backup: backup.map(str::to_owned),
        };
        set(&mut status);
    }
    let ping = s1.shared.ping_viewnum();
    let saving = s1.shared.status.lock().saving;
    (ping, saving)
}

/// P5: a primary whose store is no copy of the service's state (restarted empty while the
/// view service still names it) never acknowledges the view, nor saves its empty store as
/// the copy of that view.
#[test]
fn an_uninitialized_primary_does_not_acknowledge() {
    sim::run(|net: Network| async move {
        let (ping, saving) = ping_as_primary(&net, 3, None, |_| {}).await;
        assert_ne!(ping, Some(3), "acknowledged view 3 with an empty store");
        assert!(!saving, "saved an empty store as the copy of view 3");
    });
}

/// P2: a primary whose disk holds the view but whose backup does not hold its state (a
/// forward failed) does not acknowledge the view.
#[test]
fn a_primary_acknowledges_only_once_its_backup_holds_its_state() {
    sim::run(|net: Network| async move {
        let (ping, _) = ping_as_primary(&net, 4, Some("s2"), |status| {
            status.initialized = true;
            status.saved_view = 4;
        })
        .await;
        assert_eq!(
            ping,
            Some(3),
            "acknowledged view 4 before its backup was synced"
        );
    });
}

/// P7: the first primary skips its ping until its disk holds view 1 (view 1 has no
/// non-zero number but its own, and 0 would tell the view service it restarted).
#[test]
fn the_first_primary_skips_its_ping_until_view_1_is_saved() {
    sim::run(|net: Network| async move {
        let (ping, saving) = ping_as_primary(&net, 1, None, |status| {
            status.initialized = true;
        })
        .await;
        assert_eq!(ping, None, "pinged before view 1 was saved");
        assert!(saving, "did not start saving view 1");
    });
}
