//! The same services over real TCP: the way out of the simulation.
//!
//! A server written for the simulated network runs here unchanged ([`TcpServer`], or a
//! [`Node::real`](crate::Node::real)); clients reach it through a [`ClientEnd`](crate::ClientEnd)
//! made by [`ClientEnd::tcp`](crate::ClientEnd::tcp) or a real node's
//! [`client`](crate::Node::client). Requests are dispatched by the same code as in the
//! simulation, so a malformed request, an unknown method or an oversized message gets the same
//! [`Error`](crate::Error) in both worlds, for that call only: the connection stays up.
//!
//! ## The wire
//!
//! A connection opens with a handshake ([`handshake`]), then carries frames in both directions
//! ([`frame`]): `length: u32, kind: u8, call id: u64, payload`, big-endian. A request's payload
//! is the postcard bytes the simulation carries; a reply carries the reply's bytes or an
//! encoded [`Error`](crate::Error). Calls are multiplexed: replies come back in any order.
//! The same port answers plain HTTP `GET /healthz` and `GET /status` (see [`TcpServer`]).
//!
//! ## What a peer cannot do to a server
//!
//! Every bound is a field of [`TcpLimits`], with the defaults below.
//!
//! - announce a frame over the message limit ([`MAX_MESSAGE_BYTES`](crate::fault::MAX_MESSAGE_BYTES),
//!   the simulation's): the connection is closed before any of it is read;
//! - hold memory with a half-sent frame: a frame's bytes are buffered only as they arrive,
//!   all connections' frames over [`frame::UNCHARGED_BYTES`] together at most
//!   [`MAX_BUFFERED_BYTES`] (a frame waits for room), and a frame must be complete within
//!   [`FRAME_TIMEOUT`] of its first byte. In all, incoming frames hold at most
//!   `MAX_BUFFERED_BYTES + MAX_CONNECTIONS × UNCHARGED_BYTES` (96 MiB by default);
//! - hold connections: at most [`MAX_CONNECTIONS`] at once (others are closed at once), the
//!   handshake must finish within [`HANDSHAKE_TIMEOUT`], and a connection with no call in
//!   flight and no frame for [`IDLE_TIMEOUT`] is closed;
//! - flood a connection with calls: at most [`MAX_CALLS_PER_CONNECTION`] run at once; the
//!   connection reads no further until one finishes;
//! - call without the cluster secret, when the server has one ([`Secret`]): the handshake is a
//!   challenge and response with HMAC-SHA-256 over fresh nonces, both ways, so neither side
//!   learns anything replayable and a client also knows the server holds the secret. This
//!   authenticates peers; it does not encrypt: run clusters on networks you trust not to
//!   read or alter traffic.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use crate::Error;

mod connection;
pub mod frame;
pub mod handshake;
mod http;
mod server;

pub(crate) use connection::Peer;
pub use server::{StatusFn, TcpServer, serve};

/// At most this many connections at once per server.
pub const MAX_CONNECTIONS: usize = 512;
/// At most this many calls of one connection run at once.
pub const MAX_CALLS_PER_CONNECTION: usize = 256;
/// All connections of a server together buffer at most this many bytes of incoming frames.
pub const MAX_BUFFERED_BYTES: usize = 64 << 20;
/// A connection must finish its handshake (or its HTTP request) within this time.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// A frame must arrive whole within this time of its first byte.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection with no call in flight and no frame for this long is closed. A client end
/// reconnects on its next call.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// A client waits this long for a connection (TCP and handshake) to a server.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// A call of a [`Node`](crate::Node)'s client end or of [`ClientEnd::tcp`](crate::ClientEnd::tcp)
/// waits this long for its answer, then fails with [`Error::Timeout`]: the labs' protocols
/// retry, and a peer cut off by a partition must not hold a caller for long.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(1);
/// The shortest cluster secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 16;

/// The bounds a server keeps against its peers; see the [module docs](self).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpLimits {
    /// The largest request or reply payload, in bytes.
    pub max_message_bytes: usize,
    /// See [`MAX_CONNECTIONS`].
    pub max_connections: usize,
    /// See [`MAX_CALLS_PER_CONNECTION`].
    pub max_calls_per_connection: usize,
    /// See [`MAX_BUFFERED_BYTES`].
    pub max_buffered_bytes: usize,
    /// See [`HANDSHAKE_TIMEOUT`].
    pub handshake_timeout: Duration,
    /// See [`FRAME_TIMEOUT`].
    pub frame_timeout: Duration,
    /// See [`IDLE_TIMEOUT`].
    pub idle_timeout: Duration,
    /// See [`CONNECT_TIMEOUT`].
    pub connect_timeout: Duration,
    /// See [`CALL_TIMEOUT`].
    pub call_timeout: Duration,
}

impl Default for TcpLimits {
    fn default() -> Self {
        TcpLimits {
            max_message_bytes: crate::fault::MAX_MESSAGE_BYTES,
            max_connections: MAX_CONNECTIONS,
            max_calls_per_connection: MAX_CALLS_PER_CONNECTION,
            max_buffered_bytes: MAX_BUFFERED_BYTES,
            handshake_timeout: HANDSHAKE_TIMEOUT,
            frame_timeout: FRAME_TIMEOUT,
            idle_timeout: IDLE_TIMEOUT,
            connect_timeout: CONNECT_TIMEOUT,
            call_timeout: CALL_TIMEOUT,
        }
    }
}

/// A cluster secret: the key every peer and client proves it holds when it connects.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

impl Secret {
    /// A secret of these bytes; at least [`MIN_SECRET_BYTES`] of them.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Secret, Error> {
        let bytes = bytes.into();
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(Error::Transport(format!(
                "a cluster secret needs at least {MIN_SECRET_BYTES} bytes, this one has {}",
                bytes.len()
            )));
        }
        Ok(Secret(bytes))
    }

    /// The secret in file `path`, without its trailing newline (so `echo`ed secrets work).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Secret, Error> {
        let path = path.as_ref();
        let mut bytes = std::fs::read(path).map_err(|e| {
            Error::Transport(format!(
                "cannot read the secret file {}: {e}",
                path.display()
            ))
        })?;
        while bytes.last().is_some_and(|b| matches!(b, b'\n' | b'\r')) {
            bytes.pop();
        }
        Secret::new(bytes).map_err(|e| match e {
            Error::Transport(why) => {
                Error::Transport(format!("secret file {}: {why}", path.display()))
            }
            other => other,
        })
    }

    pub(crate) fn key(&self) -> &[u8] {
        &self.0
    }
}

/// How a real node or server talks TCP: its limits, the cluster secret, and whether it may
/// listen beyond loopback without one.
#[derive(Clone, Debug, Default)]
pub struct TcpOptions {
    /// The bounds kept against peers.
    pub limits: TcpLimits,
    /// The cluster secret, if any; a server with one refuses peers without it, and a client
    /// with one talks only to servers that prove they hold it.
    pub secret: Option<Secret>,
    /// Listen on a non-loopback address without a secret (anyone who reaches it may call).
    pub insecure: bool,
}

impl TcpOptions {
    /// Options with this secret.
    pub fn with_secret(secret: Secret) -> TcpOptions {
        TcpOptions {
            secret: Some(secret),
            ..TcpOptions::default()
        }
    }

    /// Refuses to listen on `addr` beyond loopback with no secret, unless insecure.
    pub(crate) fn check_listen(&self, addr: std::net::SocketAddr) -> Result<(), Error> {
        if self.secret.is_none() && !self.insecure && !addr.ip().is_loopback() {
            return Err(Error::Transport(format!(
                "refusing to listen on {addr} without a cluster secret: anyone who reaches it \
                 could call this server; give a secret (--secret-file), listen on loopback, \
                 or pass --insecure"
            )));
        }
        Ok(())
    }
}
