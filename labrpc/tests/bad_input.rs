//! Bad input from the network: malformed bytes, unknown methods and oversized messages reach
//! the caller as clear errors, are counted, and never stop the server.

mod common;

use common::{JunkRequest, JunkResponse, start};
use labrpc::{ClientEnd, Error, Faults, Network, sim};

fn ctx() -> tarpc::context::Context {
    labrpc::context()
}

/// After each bad message the server still answers a good call.
async fn still_serving(client: &common::Client) {
    assert_eq!(
        client
            .handler1(ctx(), "5".into())
            .await
            .map_err(Error::from),
        Ok(5)
    );
}

#[test]
fn malformed_bytes_are_refused() {
    sim::run(|net: Network| async move {
        let (_, client) = start(&net, "client", "server");
        let raw: ClientEnd<JunkRequest, JunkResponse> = net.client("client", "server");
        // Method 1 (handler2) wants an i64 varint; 0xff... never ends.
        let reply = raw.call_bytes(vec![1, 0xff, 0xff]).await;
        assert!(
            matches!(&reply, Err(Error::Decode(why)) if why.starts_with("request")),
            "{reply:?}"
        );
        let reply = raw.call_bytes(Vec::new()).await;
        assert!(matches!(reply, Err(Error::Decode(_))), "{reply:?}");
        assert_eq!(net.stats().rejected, 2);
        still_serving(&client).await;
    });
}

#[test]
fn unknown_methods_are_refused() {
    sim::run(|net: Network| async move {
        let (_, client) = start(&net, "client", "server");
        let raw: ClientEnd<JunkRequest, JunkResponse> = net.client("client", "server");
        let reply = raw.call_bytes(vec![42, 0]).await;
        assert_eq!(
            reply,
            Err(Error::UnknownMethod {
                index: 42,
                methods: 6
            })
        );
        assert_eq!(
            reply.err().map(|e| e.to_string()).as_deref(),
            Some("unknown method: the request names method #42 but the service has 6")
        );
        assert_eq!(net.stats().rejected, 1);
        still_serving(&client).await;
    });
}

#[test]
fn oversized_requests_and_replies_are_refused() {
    sim::run(|net: Network| async move {
        let (_, client) = start(&net, "client", "server");
        net.set_faults(Faults {
            max_message_bytes: 1000,
            ..Faults::default()
        });
        let request = client
            .handler6(ctx(), "x".repeat(2000))
            .await
            .map_err(Error::from);
        assert!(
            matches!(request, Err(Error::TooLarge { limit: 1000, bytes }) if bytes > 2000),
            "{request:?}"
        );
        assert_eq!(
            net.rpc_count("server"),
            0,
            "an oversized request was delivered"
        );
        let reply = client.handler7(ctx(), 5000).await.map_err(Error::from);
        assert!(
            matches!(reply, Err(Error::TooLarge { limit: 1000, .. })),
            "{reply:?}"
        );
        assert_eq!(net.stats().rejected, 2);
        still_serving(&client).await;
    });
}

/// Another service's reply type.
#[derive(Debug, serde::Deserialize)]
struct OtherReply(#[allow(dead_code)] String, #[allow(dead_code)] String);

impl labrpc::Summarize for OtherReply {}

#[test]
fn a_reply_that_does_not_decode_is_an_error() {
    sim::run(|net: Network| async move {
        start(&net, "client", "server");
        // A client that expects another service's replies: the bytes do not decode as its type.
        let wrong: ClientEnd<JunkRequest, OtherReply> = net.client("client", "server");
        let reply = wrong.call(JunkRequest::Handler2 { args: 3 }).await;
        assert!(
            matches!(&reply, Err(Error::Decode(why)) if why.starts_with("reply")),
            "{reply:?}"
        );
    });
}
