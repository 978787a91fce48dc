//! One service, served unchanged on the simulated network and on real TCP (loopback).

mod common;

use common::{Junk, JunkArgs, JunkClient, JunkReply, JunkServer};
use labrpc::{ClientEnd, Error, Network, sim};

/// The same client code for both transports: the client type is the same too.
async fn exercise(client: &common::Client, server: &JunkServer) {
    let ctx = labrpc::context;
    assert_eq!(
        client.handler2(ctx(), 111).await.map_err(Error::from),
        Ok("handler2-111".into())
    );
    let reply = client
        .handler4(
            ctx(),
            JunkArgs {
                x: 4,
                name: "tcp".into(),
            },
        )
        .await
        .map_err(Error::from);
    assert_eq!(
        reply,
        Ok(JunkReply {
            x: 8,
            names: vec!["tcp".into(), "tcp".into()]
        })
    );
    assert_eq!(
        client.handler7(ctx(), 3).await.map_err(Error::from),
        Ok("yyy".into())
    );
    assert_eq!(*server.log2.lock(), vec![111]);
}

#[test]
fn simulated() {
    sim::run(|net: Network| async move {
        let server = JunkServer::default();
        net.add_server("server", server.clone().serve());
        exercise(&JunkClient::from(net.client("client", "server")), &server).await;
    });
}

#[test]
fn over_tcp() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        let server = JunkServer::default();
        let addr = "127.0.0.1:0".parse().expect("an address");
        let listening = labrpc::tcp::serve(addr, server.clone().serve())
            .await
            .expect("listen on loopback");
        let end = ClientEnd::connect_tcp(listening.local_addr())
            .await
            .expect("connect on loopback");
        exercise(&JunkClient::from(end), &server).await;

        // A server that has gone away gives an error, not a hang.
        let gone = listening.local_addr();
        drop(listening);
        tokio::task::yield_now().await;
        let late = ClientEnd::<common::JunkRequest, common::JunkResponse>::connect_tcp(gone).await;
        assert!(matches!(late, Err(Error::Transport(_))), "{late:?}");
    });
}
