//! The labs for real: each server a process listening on TCP, its disk a directory, and
//! clients that reach it over the network.
//!
//! - `distlab serve LAB ...` ([`serve`]) runs one server on a real [`labrpc::Node`] until
//!   SIGTERM or Ctrl-C, logging to stderr, with its status on `GET /healthz`, `GET /status`
//!   and the status call;
//! - `distlab kv ... get|put|append` ([`kv`]) runs one operation through the lab's clerk;
//! - `distlab status ADDR` ([`kv::status`]) prints a server's status report.
//!
//! Real nodes run on a current-thread tokio runtime inside a [`tokio::task::LocalSet`]: the
//! labs' handlers are not `Send`.

use labrpc::tcp::{Secret, TcpOptions};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;

use crate::exit;

pub mod kv;
mod running;
pub mod serve;

/// Why a real command stopped: what to print after `distlab COMMAND: `, and the exit status.
#[derive(Debug)]
pub struct Failure {
    /// One of [`exit`]'s statuses.
    pub code: u8,
    /// The message.
    pub message: String,
}

impl Failure {
    /// Bad arguments (exit status 2).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            code: exit::USAGE,
            message: message.into(),
        }
    }

    /// The command could not do its job: a port, a file, a directory (exit status 3).
    pub fn error(message: impl Into<String>) -> Failure {
        Failure {
            code: exit::ERROR,
            message: message.into(),
        }
    }

    /// The operation failed: no server answered (exit status 1).
    pub fn failed(message: impl Into<String>) -> Failure {
        Failure {
            code: exit::FAILED,
            message: message.into(),
        }
    }
}

/// The text of a labrpc error without its "transport failed: " prefix.
fn detail(error: &labrpc::Error) -> String {
    match error {
        labrpc::Error::Transport(detail) => detail.clone(),
        other => other.to_string(),
    }
}

/// The TCP options of a node or client: the secret in `secret_file`, if any.
fn tcp_options(secret_file: Option<&Path>, insecure: bool) -> Result<TcpOptions, Failure> {
    let secret = secret_file
        .map(Secret::from_file)
        .transpose()
        .map_err(|e| Failure::error(detail(&e)))?;
    Ok(TcpOptions {
        secret,
        insecure,
        ..TcpOptions::default()
    })
}

/// The socket address `addr` (`host:port`) stands for: the first its host resolves to.
fn resolve(addr: &str) -> Result<SocketAddr, Failure> {
    let mut addrs = addr
        .to_socket_addrs()
        .map_err(|e| Failure::usage(format!("{addr:?} is not a host:port address: {e}")))?;
    addrs
        .next()
        .ok_or_else(|| Failure::usage(format!("{addr:?} resolves to no address")))
}

/// `name` as a directory name: every character but ASCII letters, digits, `.`, `-` and `_`
/// becomes `_` (so `127.0.0.1:7001` is `127.0.0.1_7001`).
pub fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Runs `task` on a new current-thread runtime, inside a [`tokio::task::LocalSet`].
fn run_local<T>(task: impl Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::error(format!("cannot start the tokio runtime: {e}")))?;
    tokio::task::LocalSet::new().block_on(&runtime, task)
}
