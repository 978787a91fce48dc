//! Plain HTTP on a server's port, for probes and people: `GET /healthz` and `GET /status`.
//!
//! Readiness needs no quorum: `/healthz` answers 200 as soon as the node serves its service,
//! whatever its peers do. `/status` is the same JSON report as a status call. Both are open
//! without the cluster secret (a probe has none); they say nothing a peer could use to call.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::server::Shared;

/// The longest request head read.
const MAX_HEAD: usize = 8 << 10;

/// Answers one request whose first four bytes (`GET `) were read, then closes.
pub(super) async fn answer(stream: &mut TcpStream, shared: &Shared) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && !head.windows(2).any(|w| w == b"\n\n") {
        if head.len() >= MAX_HEAD {
            return respond(
                stream,
                "431 Request Header Fields Too Large",
                "text/plain",
                "too long\n",
            )
            .await;
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let path = head.split(|&b| b == b' ').next().unwrap_or_default();
    let (status, kind, body) = match path {
        b"/healthz" if shared.serving() => ("200 OK", "text/plain", "ok\n".to_owned()),
        b"/healthz" => (
            "503 Service Unavailable",
            "text/plain",
            "starting\n".to_owned(),
        ),
        b"/status" => (
            "200 OK",
            "application/json",
            format!("{}\n", shared.status()),
        ),
        _ => (
            "404 Not Found",
            "text/plain",
            "try /healthz or /status\n".to_owned(),
        ),
    };
    respond(stream, status, kind, &body).await;
}

async fn respond(stream: &mut TcpStream, status: &str, kind: &str, body: &str) {
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}
