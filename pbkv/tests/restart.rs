//! Restarts. P7, a crash that keeps the disk is only a pause: a server that crashes and
//! comes back with its disk before the view service declares it dead resumes as the copy it
//! was. The view service sees no restart, the view does not change, nothing is transferred or
//! written that the crash did not make necessary, and the server serves at once. P5, a server
//! that comes back without its disk serves nothing until it holds the state again, not even
//! in the moment before the view service has taken in its restart.

mod common;

use common::*;
use labrpc::{Network, sim};
use pbkv::{Clerk, ClientOp, Op, PbKvClient};
use tarpc::context::Context;
use tokio::time::sleep;
use viewservice::{PING_INTERVAL, PingArgs, View, ViewService};

/// A pair `s1` (primary) and `s2` (backup) whose view is acknowledged and whose store
/// holds `a = x`. Returns the view.
async fn pair_holding_a(net: &Network, vck: &viewservice::Clerk) -> View {
    start(net, "s1");
    wait_view(vck, 10, |v| v.is_primary("s1")).await;
    start(net, "s2");
    let view = wait_pair(vck).await;
    Clerk::new(net, "ck", VS).put("a", "x").await;
    view
}

/// Disk writes on `name` so far.
fn writes(net: &Network, name: &str) -> u64 {
    net.disk(name).stats().map(|s| s.writes).unwrap_or(0)
}

/// A Get sent straight to `server`, as a clerk would send it.
async fn direct_get(net: &Network, server: &str, key: &str) -> pbkv::KvReply {
    let get = ClientOp {
        client: 7,
        seq: 1,
        op: Op::Get { key: key.into() },
    };
    PbKvClient::from(net.client("direct", server))
        .execute(labrpc::context(), get)
        .await
        .unwrap_or(Err(pbkv::KvError::NotReady))
}

/// The primary crashes and is back one ping interval later. It pings the view it knew, not
/// 0, so the view service keeps the view; it sends its backup its state again (it cannot
/// know whether the backup still holds it: one write there) and writes nothing itself, since
/// its disk already holds the view it acknowledged.
#[test]
fn a_primary_back_before_its_dead_time_keeps_the_view_and_writes_nothing() {
    sim::run(|net: Network| async move {
        let (vs, vck) = start_vs(&net);
        let view = pair_holding_a(&net, &vck).await;
        let before = (writes(&net, "s1"), writes(&net, "s2"));
        net.kill("s1");
        sleep(PING_INTERVAL).await;
        start(&net, "s1");
        assert_eq!(
            direct_get(&net, "s1", "a").await,
            Ok("x".to_owned()),
            "a primary restarted with its disk does not serve at once"
        );
        sleep(DEAD_TIME * 3).await;
        assert_eq!(
            vs.view(),
            view,
            "the view service saw a restart where the disk kept the copy"
        );
        assert!(vs.is_acked(), "the restarted primary stopped acknowledging");
        assert_eq!(
            (writes(&net, "s1"), writes(&net, "s2")),
            (before.0, before.1 + 1),
            "a restart that kept the disk should cost one transfer to the backup, nothing more"
        );
        let mut ck = Clerk::new(&net, "ck2", VS);
        check(&mut ck, "a", "x").await;
    });
}

/// The backup crashes and is back one ping interval later, while nothing is written. Its
/// disk says it holds the primary's state for this view, so the next Put is forwarded to it
/// at once: one write on each server, no new transfer.
#[test]
fn a_backup_back_before_its_dead_time_takes_forwards_without_a_new_transfer() {
    sim::run(|net: Network| async move {
        let (vs, vck) = start_vs(&net);
        let view = pair_holding_a(&net, &vck).await;
        net.kill("s2");
        sleep(PING_INTERVAL).await;
        start(&net, "s2");
        sleep(DEAD_TIME * 3).await;
        assert_eq!(vs.view(), view, "the view changed over a backup's pause");
        let before = (writes(&net, "s1"), writes(&net, "s2"));
        let mut ck = Clerk::new(&net, "ck2", VS);
        ck.append("a", "y").await;
        assert_eq!(
            (writes(&net, "s1"), writes(&net, "s2")),
            (before.0 + 1, before.1 + 1),
            "the restarted backup forgot that it held the primary's state"
        );
        net.kill("s1");
        check(&mut ck, "a", "xy").await;
    });
}

/// A view service as Go's lab builds it, which moves to a new view only at its tick: it
/// answers the restarted server's ping of 0 with the view it still has (view 1, that server
/// primary), and every later ping with the view its tick then made (view 2, no primary).
#[derive(Clone)]
struct TickedViewService;

impl ViewService for TickedViewService {
    async fn ping(self, _: Context, args: PingArgs) -> View {
        let viewnum = if args.viewnum == 0 { 1 } else { 2 };
        View {
            viewnum,
            primary: (viewnum == 1).then(|| args.me.clone()),
            backup: None,
        }
    }

    async fn get(self, _: Context) -> View {
        View::default()
    }
}

/// P5: a server restarted empty, whom the view service's answer to its ping of 0 still
/// names the primary of view 1 (as on a genuine first start), must not serve its empty store
/// before the view service has answered a non-zero ping: a view service that moves on only
/// at its tick has not yet taken in the restart.
#[test]
fn a_server_named_primary_of_view_1_serves_only_once_seen_pinging_it() {
    sim::run(|net: Network| async move {
        net.add_server(VS, TickedViewService.serve());
        start(&net, "s1");
        let probe = PING_INTERVAL / 20;
        for _ in 0..60 {
            let reply = direct_get(&net, "s1", "a").await;
            assert_ne!(
                reply,
                Ok(String::new()),
                "an empty server served as primary of view 1 before the view service had \
                 seen it ping that view"
            );
            sleep(probe).await;
        }
    });
}
