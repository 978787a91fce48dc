//! Client ends: what a tarpc client calls through, on the simulated network or on TCP.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tarpc::RequestName;
use tarpc::client::RpcError;
use tarpc::client::stub::Stub;

use crate::network::{EndId, no_summary};
use crate::summary::{Summarize, Summary};
use crate::tcp::frame::Kind;
use crate::tcp::{Peer, TcpOptions};
use crate::{Error, Network, wire};

/// How long a call over TCP waits for its reply by default. (On the simulated network a call
/// waits as long as the network says, as in Go's labrpc; see [`ClientEnd::set_timeout`].)
pub const TCP_CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// One end of a connection from a client to a server: the stub a tarpc client calls through.
///
/// Wrap it in the service's generated client: `KvClient::from(end)`. The same client code
/// then runs on the simulated network ([`Network::client`]) and on TCP
/// ([`ClientEnd::tcp`]). Clones share the end (and, on TCP, its connection).
pub struct ClientEnd<Req, Resp> {
    transport: Transport,
    timeout: Option<Duration>,
    types: PhantomData<fn(Req) -> Resp>,
}

#[derive(Clone)]
enum Transport {
    Simulated { net: Network, id: EndId },
    Tcp(Arc<Peer>),
}

impl<Req, Resp> Clone for ClientEnd<Req, Resp> {
    fn clone(&self) -> Self {
        ClientEnd {
            transport: self.transport.clone(),
            timeout: self.timeout,
            types: PhantomData,
        }
    }
}

impl<Req, Resp> fmt::Debug for ClientEnd<Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.transport {
            Transport::Simulated { id, .. } => write!(f, "ClientEnd(simulated #{id})"),
            Transport::Tcp(peer) => write!(f, "ClientEnd(tcp {})", peer.addr()),
        }
    }
}

impl<Req, Resp> ClientEnd<Req, Resp> {
    pub(crate) fn simulated(net: Network, id: EndId) -> Self {
        ClientEnd {
            transport: Transport::Simulated { net, id },
            timeout: None,
            types: PhantomData,
        }
    }

    /// Gives every call through this end (and clones made after this) at most `timeout` to
    /// complete, after which it fails with [`Error::Timeout`]. `None` waits as long as the
    /// network takes. Timeouts run on the runtime's clock: virtual time in a simulation.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// Go's `Enable`: a disabled end's calls fail as if the server were unreachable.
    /// (No effect on a TCP end.)
    pub fn set_enabled(&self, enabled: bool) {
        if let Transport::Simulated { net, id } = &self.transport {
            net.set_end_enabled(*id, enabled);
        }
    }

    /// Go's `Connect`: points the end at the server on node `server`. (No effect on a TCP end.)
    pub fn connect(&self, server: &str) {
        if let Transport::Simulated { net, id } = &self.transport {
            net.connect_end(*id, server);
        }
    }

    pub(crate) fn over_tcp(peer: Arc<Peer>) -> Self {
        ClientEnd {
            timeout: Some(peer.call_timeout()),
            transport: Transport::Tcp(peer),
            types: PhantomData,
        }
    }

    /// An end to the server at `addr` (`host:port`) over TCP. It connects on its first call,
    /// and again on the next call after its connection failed; calls time out after the
    /// options' [`call_timeout`](crate::tcp::TcpLimits::call_timeout). Needs a tokio runtime
    /// with I/O and time enabled.
    pub fn tcp(addr: &str, options: Arc<TcpOptions>) -> Self {
        ClientEnd::over_tcp(Arc::new(Peer::new(addr, options)))
    }

    /// Sends raw request bytes and returns the raw reply: for tests of what a server does with
    /// bytes no well-behaved client sends. The same on the simulated network and on TCP.
    pub async fn call_bytes(&self, request: Vec<u8>) -> Result<Vec<u8>, Error> {
        match &self.transport {
            Transport::Simulated { net, id } => {
                let about = net.recording().then(|| Summary::new("(raw bytes)"));
                let call = net.call(*id, "(raw bytes)", request, about, no_summary);
                self.timed(call).await
            }
            Transport::Tcp(peer) => peer.call(Kind::Request, request, self.timeout).await,
        }
    }

    /// Asks a TCP server for its status report (the JSON of its `/status` page).
    pub async fn status(&self) -> Result<serde_json::Value, Error> {
        match &self.transport {
            Transport::Simulated { .. } => {
                Err(Error::Transport("status calls exist only over TCP".into()))
            }
            Transport::Tcp(peer) => {
                let bytes = peer.call(Kind::Status, Vec::new(), self.timeout).await?;
                serde_json::from_slice(&bytes).map_err(|e| Error::Decode(format!("status: {e}")))
            }
        }
    }

    async fn timed<T>(&self, call: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        match self.timeout {
            None => call.await,
            Some(limit) => tokio::time::timeout(limit, call)
                .await
                .unwrap_or(Err(Error::Timeout(limit))),
        }
    }
}

impl<Req, Resp> ClientEnd<Req, Resp>
where
    Req: RequestName + Serialize + Summarize,
    Resp: DeserializeOwned + Summarize,
{
    /// Calls the server with a request of the service's request enum. The generated tarpc
    /// client calls this through [`Stub`]; it is also usable directly.
    pub async fn call(&self, request: Req) -> Result<Resp, Error> {
        match &self.transport {
            Transport::Simulated { net, id } => {
                let bytes = wire::encode(&request, usize::MAX)?;
                // Summaries only for a recorded trace: they cost a format per message.
                let about = net.recording().then(|| request.summary());
                let call = net.call(*id, request.name(), bytes, about, summarize::<Resp>);
                let reply = self.timed(call).await?;
                wire::decode(&reply, "reply")
            }
            Transport::Tcp(peer) => {
                let bytes = wire::encode(&request, usize::MAX)?;
                let reply = peer.call(Kind::Request, bytes, self.timeout).await?;
                wire::decode(&reply, "reply")
            }
        }
    }
}

impl<Req, Resp> ClientEnd<Req, Resp> {
    /// Connects to a server at `addr` (with the default [`TcpOptions`]: no secret) and
    /// returns an end to it, or the reason it could not connect.
    pub async fn connect_tcp(addr: SocketAddr) -> Result<Self, Error> {
        let peer = Arc::new(Peer::new(
            &addr.to_string(),
            Arc::new(TcpOptions::default()),
        ));
        peer.connect().await?;
        let mut end = ClientEnd::over_tcp(peer);
        end.set_timeout(Some(TCP_CALL_TIMEOUT));
        Ok(end)
    }
}

/// The summary of a reply, decoded from its bytes (none if they do not decode).
fn summarize<Resp: DeserializeOwned + Summarize>(bytes: &[u8]) -> Option<Summary> {
    let reply: Resp = wire::decode(bytes, "reply").ok()?;
    Some(reply.summary())
}

impl<Req, Resp> Stub for ClientEnd<Req, Resp>
where
    Req: RequestName + Serialize + Summarize,
    Resp: DeserializeOwned + Summarize,
{
    type Req = Req;
    type Resp = Resp;

    async fn call(&self, _: tarpc::context::Context, request: Req) -> Result<Resp, RpcError> {
        // The context's deadline is wall-clock time; labrpc keeps time with its own timeout.
        ClientEnd::call(self, request).await.map_err(RpcError::from)
    }
}
