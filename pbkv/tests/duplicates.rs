//! At-most-once across every handover (P4): a client's retry of an operation whose reply it
//! never saw reaches whichever server is primary by then, and that server knows the
//! operation was applied — whether it learned of it by forward (it was the backup) or by
//! state transfer (it became the backup later). A duplicate table left behind in either
//! path applies the Append twice.

mod common;

use common::*;
use labrpc::{Error, Network, sim};
use pbkv::{Clerk, ClientOp, KvEnd, KvError, Op, PbKvClient};
use tokio::time::sleep;
use viewservice::DEAD_PINGS;

/// Sends `op` from node `raw` straight to `server`, as a clerk's attempt would.
async fn send(
    net: &Network,
    server: &str,
    op: &ClientOp,
) -> Result<Result<String, KvError>, Error> {
    let end: KvEnd = net.client("raw", server);
    PbKvClient::from(end)
        .execute(labrpc::context(), op.clone())
        .await
        .map_err(Error::from)
}

fn append(seq: u64, value: &str) -> ClientOp {
    ClientOp {
        client: 7,
        seq,
        op: Op::Append {
            key: "k".into(),
            value: value.into(),
        },
    }
}

/// Waits for a pair, then has the primary apply client 7's first Append ("x" to "k"), as a
/// clerk's attempt whose reply was lost would: returns the primary, the backup and the op.
async fn applied_once(net: &Network, vck: &viewservice::Clerk) -> (String, String, ClientOp) {
    let v = wait_pair(vck).await;
    let (primary, backup) = (v.primary.expect("pair"), v.backup.expect("pair"));
    let op = append(1, "x");
    assert_eq!(send(net, &primary, &op).await, Ok(Ok(String::new())));
    (primary, backup, op)
}

/// The operation is applied, its reply "lost" (the client sends it again later), and the
/// primary dies: the backup, now primary, answers the retry without applying it again.
#[test]
fn a_retry_after_a_failover_is_not_applied_twice() {
    sim::run(|net: Network| async move {
        let (_vs, vck) = start_vs(&net);
        let _servers = [start(&net, "s1"), start(&net, "s2")];
        let (primary, backup, op) = applied_once(&net, &vck).await;
        net.kill(&primary);
        let v = wait_view(&vck, DEAD_PINGS * 3, |v| {
            v.primary.as_deref() == Some(&backup)
        })
        .await;
        assert_eq!(
            v.primary.as_deref(),
            Some(backup.as_str()),
            "no failover: {v}"
        );
        sleep(DEAD_TIME).await;
        let retry = send(&net, &backup, &op).await;
        assert_eq!(retry, Ok(Ok(String::new())), "the retry failed");
        let mut ck = Clerk::new(&net, "ck", VS);
        assert_eq!(ck.get("k").await, "x", "the Append was applied twice");
    });
}

/// As above, but the server that answers the retry was not the backup when the operation
/// ran: it became the backup afterwards, by state transfer, and then primary.
#[test]
fn a_retry_reaching_a_server_that_got_the_state_by_transfer() {
    sim::run(|net: Network| async move {
        let (_vs, vck) = start_vs(&net);
        let _servers = [start(&net, "s1"), start(&net, "s2")];
        let (primary, backup, op) = applied_once(&net, &vck).await;
        // The backup dies; a new server becomes the backup and gets the primary's state.
        net.kill(&backup);
        let _s3 = start(&net, "s3");
        let v = wait_view(&vck, DEAD_PINGS * 3, |v| v.backup.as_deref() == Some("s3")).await;
        assert_eq!(
            v.backup.as_deref(),
            Some("s3"),
            "s3 never became the backup: {v}"
        );
        // A later operation goes through the pair, so s3 surely holds the state.
        let mut ck = Clerk::new(&net, "ck", VS);
        ck.append("k", "y").await;
        sleep(DEAD_TIME).await;
        // Now the primary dies, and s3 takes over.
        net.kill(&primary);
        let v = wait_view(&vck, DEAD_PINGS * 3, |v| v.primary.as_deref() == Some("s3")).await;
        assert_eq!(v.primary.as_deref(), Some("s3"), "no failover to s3: {v}");
        sleep(DEAD_TIME).await;
        // The client's first Append, retried, and its Append again with a newer number.
        assert_eq!(send(&net, "s3", &op).await, Ok(Ok(String::new())));
        assert_eq!(ck.get("k").await, "xy", "the Append was applied twice");
        assert_eq!(
            send(&net, "s3", &append(2, "z")).await,
            Ok(Ok(String::new()))
        );
        assert_eq!(ck.get("k").await, "xyz");
    });
}
