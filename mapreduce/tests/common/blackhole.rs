//! An address on loopback that never answers a connection, and a real-time runtime to use
//! it in. Shared by `tests/tcp.rs` and `tests/connect.rs` (each includes this file by path).
#![allow(dead_code)] // each includer uses part of it

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// An address that takes connections but never completes a new one: a listener with a
/// backlog of 0 whose queue is full (Linux then drops further SYNs, and a connect waits for
/// the operating system's limit, about two minutes). Keep it alive while it is in use.
pub struct Blackhole {
    /// Its address.
    pub addr: SocketAddr,
    _listener: tokio::net::TcpListener,
    _queued: Vec<TcpStream>,
}

impl Blackhole {
    /// A new blackhole on loopback.
    pub fn new() -> Blackhole {
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket
            .bind(([127, 0, 0, 1], 0).into())
            .expect("bind to loopback");
        let listener = socket.listen(0).expect("listen");
        let addr = listener.local_addr().expect("its address");
        let mut queued = Vec::new();
        // Fill the accept queue until a connect hangs.
        for _ in 0..16 {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                Ok(stream) => queued.push(stream),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    return Blackhole {
                        addr,
                        _listener: listener,
                        _queued: queued,
                    };
                }
                Err(e) => panic!("cannot fill the listener's queue: {e}"),
            }
        }
        panic!("this system completes every connection to a full listener: no blackhole");
    }
}

/// Runs `body` on a real-time tokio runtime, inside a `LocalSet`.
pub fn in_real_time<F: Future<Output = ()>>(body: F) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    tokio::task::LocalSet::new().block_on(&runtime, body);
}
