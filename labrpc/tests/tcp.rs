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

#[test]
fn a_client_node_calls_a_real_node_by_address() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    tokio::task::LocalSet::new().block_on(&runtime, async {
        let addr = "127.0.0.1:0".parse().expect("an address");
        let options = labrpc::tcp::TcpOptions::default;
        let node = labrpc::Node::real("server", addr, options(), labrpc::Disk::memory())
            .await
            .expect("listen on loopback");
        let server = JunkServer::default();
        node.serve(server.clone().serve());
        let at = node.tcp_server().expect("a real node listens").local_addr();
        let client = labrpc::Node::real_client("client", options());
        assert!(
            client.tcp_server().is_none(),
            "a client node listens nowhere"
        );
        exercise(&JunkClient::from(client.client(&at.to_string())), &server).await;
        let heard = client
            .peers_heard(std::time::Duration::from_secs(60))
            .expect("a real node");
        assert_eq!(heard.answering, vec![at.to_string()]);
        assert!(heard.failing.is_empty());
        assert_eq!(node.rpc_count(), 3);
    });
}
