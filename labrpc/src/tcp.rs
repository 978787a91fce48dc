//! The same services over real TCP, with tarpc's own serde transport (bincode frames).
//!
//! A server written for the simulated network runs here unchanged; clients connect with
//! [`ClientEnd::connect_tcp`](crate::ClientEnd::connect_tcp). This is the way out of the
//! simulation: to run a lab across processes or machines.

use futures::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::net::SocketAddr;
use tarpc::RequestName;
use tarpc::server::{BaseChannel, Channel, Serve};
use tarpc::tokio_serde::formats::Bincode;
use tokio::task::JoinHandle;

use crate::Error;

/// A server listening on TCP. Dropping it stops accepting connections.
#[derive(Debug)]
pub struct TcpServer {
    addr: SocketAddr,
    accept: JoinHandle<()>,
}

impl TcpServer {
    /// The address the server listens on (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for TcpServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Serves `server` (a tarpc `Serve`, such as `MyService.serve()`) on `addr`.
///
/// Handlers run as local tasks, so this must be called inside a [`tokio::task::LocalSet`] (a
/// service's handler futures need not be `Send`).
pub async fn serve<S>(addr: SocketAddr, server: S) -> Result<TcpServer, Error>
where
    S: Serve + Clone + 'static,
    S::Req: DeserializeOwned + RequestName + 'static,
    S::Resp: Serialize + 'static,
{
    let mut incoming = tarpc::serde_transport::tcp::listen(addr, Bincode::default)
        .await
        .map_err(|e| Error::Transport(format!("cannot listen on {addr}: {e}")))?;
    let addr = incoming.local_addr();
    let accept = tokio::task::spawn_local(async move {
        // A connection that fails to set up is that client's problem, not the server's.
        while let Some(connection) = incoming.next().await {
            let Ok(transport) = connection else { continue };
            let requests = BaseChannel::with_defaults(transport).execute(server.clone());
            tokio::task::spawn_local(requests.for_each(|handler| async move {
                tokio::task::spawn_local(handler);
            }));
        }
    });
    Ok(TcpServer { addr, accept })
}
