//! The TCP transport under bad peers, on loopback: each attack the transport's docs name, and
//! after each, a well-behaved client still gets its answers.

mod common;

use common::{Junk, JunkClient, JunkRequest, JunkResponse, JunkServer};
use labrpc::tcp::frame::{self, Kind};
use labrpc::tcp::{Secret, TcpLimits, TcpOptions, TcpServer, handshake};
use labrpc::{ClientEnd, Error};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

type End = ClientEnd<JunkRequest, JunkResponse>;

fn run<F: Future<Output = ()>>(body: F) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    tokio::task::LocalSet::new().block_on(&runtime, body);
}

async fn server(options: TcpOptions) -> TcpServer {
    let addr = "127.0.0.1:0".parse().expect("an address");
    let server = TcpServer::bind(addr, options)
        .await
        .expect("listen on loopback");
    server.set_service(JunkServer::default().serve());
    server
}

fn end(server: &TcpServer, options: TcpOptions) -> JunkClient<End> {
    JunkClient::from(End::tcp(
        &server.local_addr().to_string(),
        Arc::new(options),
    ))
}

async fn still_serving(client: &JunkClient<End>) {
    let reply = client
        .handler2(labrpc::context(), 7)
        .await
        .map_err(Error::from);
    assert_eq!(
        reply,
        Ok("handler2-7".to_string()),
        "a good client must still be served"
    );
}

fn refused(server: &TcpServer, why: &str) -> u64 {
    server.status()["refused"][why].as_u64().unwrap_or(0)
}

/// A raw connection that passed the handshake.
async fn raw(server: &TcpServer) -> TcpStream {
    let mut stream = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    handshake::client(&mut stream, None)
        .await
        .expect("handshake");
    stream
}

/// Whether the server closed `stream` within `within`.
async fn closed(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(within, stream.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

fn small(limits: impl FnOnce(&mut TcpLimits)) -> TcpOptions {
    let mut options = TcpOptions::default();
    limits(&mut options.limits);
    options
}

#[test]
fn the_message_limit_is_the_simulations() {
    assert_eq!(
        TcpLimits::default().max_message_bytes,
        labrpc::fault::MAX_MESSAGE_BYTES
    );
}

#[test]
fn a_bad_call_fails_alone_and_its_connection_stays() {
    run(async {
        let options = || small(|l| l.max_message_bytes = 1000);
        let server = server(options()).await;
        let client = end(&server, options());
        still_serving(&client).await;
        let raw = End::tcp(&server.local_addr().to_string(), Arc::new(options()));
        assert_eq!(
            raw.call_bytes(vec![7, 0]).await,
            Err(Error::UnknownMethod {
                index: 7,
                methods: 6
            })
        );
        assert!(matches!(
            raw.call_bytes(vec![1, 0xff]).await,
            Err(Error::Decode(_))
        ));
        let big_reply = client
            .handler7(labrpc::context(), 2000)
            .await
            .map_err(Error::from);
        assert!(
            matches!(big_reply, Err(Error::TooLarge { limit: 1000, .. })),
            "{big_reply:?}"
        );
        let big_request =
            (client.handler6(labrpc::context(), "x".repeat(2000)).await).map_err(Error::from);
        assert!(
            matches!(big_request, Err(Error::TooLarge { limit: 1000, .. })),
            "{big_request:?}"
        );
        still_serving(&client).await;
        assert_eq!(server.connections(), 2, "each end kept its one connection");
        assert_eq!(
            server.rpc_count(),
            5,
            "the oversized request never left the client"
        );
    });
}

#[test]
fn garbage_a_4_gib_length_and_a_truncated_frame_close_only_their_connection() {
    run(async {
        let server = server(TcpOptions::default()).await;
        let client = end(&server, TcpOptions::default());
        still_serving(&client).await;

        let mut garbage = TcpStream::connect(server.local_addr())
            .await
            .expect("connect");
        garbage
            .write_all(b"\x00\x01garbage that is no handshake")
            .await
            .expect("send");
        assert!(closed(&mut garbage, Duration::from_secs(2)).await);
        assert_eq!(refused(&server, "bad_handshake"), 1);

        let mut huge = raw(&server).await;
        huge.write_all(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 1])
            .await
            .expect("send");
        assert!(closed(&mut huge, Duration::from_secs(2)).await);
        assert_eq!(refused(&server, "frame_too_large"), 1);

        let mut truncated = raw(&server).await;
        let mut frame_bytes = Vec::new();
        frame::write(&mut frame_bytes, Kind::Request, 1, &[1; 100])
            .await
            .expect("encode");
        truncated.write_all(&frame_bytes[..40]).await.expect("send");
        truncated.shutdown().await.expect("half-close");
        assert!(closed(&mut truncated, Duration::from_secs(2)).await);
        assert_eq!(refused(&server, "malformed_frame"), 1);
        still_serving(&client).await;
    });
}

/// Resident memory of this process, in bytes (Linux).
fn resident() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = (status.lines())
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches(" kB").parse::<u64>().ok());
    kib.unwrap_or(0) * 1024
}

#[test]
fn half_sent_frames_hold_bounded_memory_and_only_for_the_frame_timeout() {
    const ATTACKERS: usize = 50;
    const ANNOUNCED: usize = 8 << 20;
    const BUDGET: usize = 32 << 20;
    run(async {
        let options = small(|l| {
            l.frame_timeout = Duration::from_millis(1500);
            l.max_buffered_bytes = BUDGET;
        });
        let server = server(options).await;
        let client = end(&server, TcpOptions::default());
        still_serving(&client).await;
        let before = resident();
        let payload: Arc<Vec<u8>> = Arc::new(vec![0; ANNOUNCED]);
        let mut header = Vec::new();
        frame::write(&mut header, Kind::Request, 1, &[])
            .await
            .expect("encode");
        header[..4].copy_from_slice(&((ANNOUNCED + 9) as u32).to_be_bytes());
        let mut attackers = Vec::new();
        for _ in 0..ATTACKERS {
            let mut stream = raw(&server).await;
            let (payload, header) = (payload.clone(), header.clone());
            attackers.push(tokio::spawn(async move {
                // All but the last byte, then nothing.
                let _ = stream.write_all(&header).await;
                let _ = stream.write_all(&payload[..ANNOUNCED - 1]).await;
                let mut sink = [0u8; 1];
                let _ = stream.read(&mut sink).await; // until the server closes it
            }));
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
        let peak = resident().saturating_sub(before);
        still_serving(&client).await;
        for attacker in attackers {
            tokio::time::timeout(Duration::from_secs(5), attacker)
                .await
                .expect("every half-sent frame is cut off within the frame timeout")
                .expect("attacker task");
        }
        assert_eq!(
            refused(&server, "slow_frame"),
            ATTACKERS as u64,
            "{}",
            server.status()
        );
        assert_eq!(
            server.status()["buffered_bytes"],
            0,
            "every buffered byte returned"
        );
        // The attackers' shared 8 MiB buffer counts here too; the server's share is at most
        // its budget (the small frames' allowance is not used here).
        println!(
            "resident memory grew by {} MiB under {ATTACKERS} half-sent 8 MiB frames",
            peak >> 20
        );
        assert!(peak < (2 * BUDGET) as u64, "grew by {peak} bytes");
        still_serving(&client).await;
    });
}

#[test]
fn a_slow_client_is_cut_off() {
    run(async {
        let server = server(small(|l| l.frame_timeout = Duration::from_millis(300))).await;
        let mut slow = raw(&server).await;
        let mut bytes = Vec::new();
        frame::write(&mut bytes, Kind::Request, 1, &[1; 20])
            .await
            .expect("encode");
        let mut cut = false;
        for byte in bytes {
            if slow.write_all(&[byte]).await.is_err() {
                cut = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(cut || closed(&mut slow, Duration::from_secs(1)).await);
        assert_eq!(refused(&server, "slow_frame"), 1);
        still_serving(&end(&server, TcpOptions::default())).await;
    });
}

#[test]
fn two_thousand_idle_connections_neither_pile_up_nor_lock_out_a_client() {
    run(async {
        let server = server(small(|l| l.idle_timeout = Duration::from_secs(2))).await;
        let mut idle = Vec::new();
        for _ in 0..2000 {
            idle.push(raw(&server).await);
        }
        tokio::task::yield_now().await;
        let open = server.connections();
        assert!(
            open <= labrpc::tcp::MAX_CONNECTIONS,
            "{open} connections open"
        );
        assert!(refused(&server, "evicted_idle") >= (2000 - labrpc::tcp::MAX_CONNECTIONS) as u64);
        let client = end(&server, TcpOptions::default());
        still_serving(&client).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(
            server.connections(),
            0,
            "idle connections are closed after the idle timeout"
        );
        still_serving(&client).await; // the end reconnects
    });
}

#[test]
fn only_holders_of_the_secret_may_call_and_only_loopback_is_open_without_one() {
    run(async {
        let secret = Secret::new(&b"a cluster secret, long enough"[..]).expect("secret");
        let other = Secret::new(&b"some other secret of some length"[..]).expect("secret");
        let server = server(TcpOptions::with_secret(secret.clone())).await;
        still_serving(&end(&server, TcpOptions::with_secret(secret))).await;
        for (options, says) in [
            (TcpOptions::with_secret(other), "wrong secret"),
            (TcpOptions::default(), "requires the cluster secret"),
        ] {
            let reply = end(&server, options).handler2(labrpc::context(), 1).await;
            let error = reply.map_err(Error::from).expect_err("refused");
            assert!(error.to_string().contains(says), "{error}");
        }
        assert_eq!(server.rpc_count(), 1, "no refused peer reached the service");
        tokio::time::sleep(Duration::from_millis(200)).await; // the server's side of it
        // The server cannot tell a wrong secret from none when the client gives up first.
        let refusals = refused(&server, "wrong_secret") + refused(&server, "bad_handshake");
        assert_eq!(refusals, 2, "{}", server.status());

        let everywhere = "0.0.0.0:0".parse().expect("an address");
        let open = TcpServer::bind(everywhere, TcpOptions::default()).await;
        let error = open.expect_err("refused without a secret").to_string();
        assert!(error.contains("without a cluster secret"), "{error}");
        let insecure = TcpOptions {
            insecure: true,
            ..TcpOptions::default()
        };
        assert!(TcpServer::bind(everywhere, insecure).await.is_ok());
    });
}

async fn http_get(server: &TcpServer, path: &str) -> String {
    let mut stream = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    response
}

#[test]
fn the_same_port_answers_health_and_status_over_http_and_as_a_call() {
    run(async {
        let addr = "127.0.0.1:0".parse().expect("an address");
        let server = TcpServer::bind(addr, TcpOptions::default())
            .await
            .expect("listen");
        assert!(
            http_get(&server, "/healthz")
                .await
                .starts_with("HTTP/1.1 503")
        );
        server.set_service(JunkServer::default().serve());
        server.set_status(Arc::new(|| serde_json::json!({ "role": "tester" })));
        let health = http_get(&server, "/healthz").await;
        assert!(
            health.starts_with("HTTP/1.1 200") && health.ends_with("ok\n"),
            "{health}"
        );
        let status = http_get(&server, "/status").await;
        let body = status.split("\r\n\r\n").nth(1).expect("a body");
        let report: serde_json::Value = serde_json::from_str(body).expect("JSON");
        assert_eq!(
            (report["serving"].as_bool(), report["role"].as_str()),
            (Some(true), Some("tester"))
        );
        assert!(
            http_get(&server, "/nothing")
                .await
                .starts_with("HTTP/1.1 404")
        );
        let end = End::tcp(
            &server.local_addr().to_string(),
            Arc::new(TcpOptions::default()),
        );
        let report = end.status().await.expect("status call");
        assert_eq!(report["role"], "tester");
    });
}
