//! Client ends: what a tarpc client calls through, on the simulated network or on TCP.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::time::Duration;
use tarpc::RequestName;
use tarpc::client::stub::Stub;
use tarpc::client::{Channel, RpcError};
use tarpc::tokio_serde::formats::Bincode;

use crate::network::EndId;
use crate::{Error, Network, wire};

/// How long a call over TCP waits for its reply by default. (On the simulated network a call
/// waits as long as the network says, as in Go's labrpc; see [`ClientEnd::set_timeout`].)
pub const TCP_CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// One end of a connection from a client to a server: the stub a tarpc client calls through.
///
/// Wrap it in the service's generated client: `KvClient::from(end)`. The same client code
/// then runs on the simulated network ([`Network::client`]) and on TCP
/// ([`ClientEnd::connect_tcp`]). Clones share the end.
pub struct ClientEnd<Req, Resp> {
    transport: Transport<Req, Resp>,
    timeout: Option<Duration>,
    types: PhantomData<fn(Req) -> Resp>,
}

enum Transport<Req, Resp> {
    Simulated { net: Network, id: EndId },
    Tcp(Channel<Req, Resp>),
}

impl<Req, Resp> Clone for ClientEnd<Req, Resp> {
    fn clone(&self) -> Self {
        ClientEnd {
            transport: match &self.transport {
                Transport::Simulated { net, id } => Transport::Simulated {
                    net: net.clone(),
                    id: *id,
                },
                Transport::Tcp(channel) => Transport::Tcp(channel.clone()),
            },
            timeout: self.timeout,
            types: PhantomData,
        }
    }
}

impl<Req, Resp> fmt::Debug for ClientEnd<Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.transport {
            Transport::Simulated { id, .. } => write!(f, "ClientEnd(simulated #{id})"),
            Transport::Tcp(_) => write!(f, "ClientEnd(tcp)"),
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

    /// Sends raw request bytes and returns the raw reply: for tests of what a server does with
    /// bytes no well-behaved client sends. Only on the simulated network.
    pub async fn call_bytes(&self, request: Vec<u8>) -> Result<Vec<u8>, Error> {
        match &self.transport {
            Transport::Simulated { net, id } => {
                self.timed(net.call(*id, "(raw bytes)", request)).await
            }
            Transport::Tcp(_) => Err(Error::Transport(
                "raw byte calls exist only on the simulated network".into(),
            )),
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
    Req: RequestName + Serialize,
    Resp: DeserializeOwned,
{
    /// Calls the server with a request of the service's request enum. The generated tarpc
    /// client calls this through [`Stub`]; it is also usable directly.
    pub async fn call(&self, request: Req) -> Result<Resp, Error> {
        match &self.transport {
            Transport::Simulated { net, id } => {
                let bytes = wire::encode(&request, usize::MAX)?;
                let reply = self.timed(net.call(*id, request.name(), bytes)).await?;
                wire::decode(&reply, "reply")
            }
            Transport::Tcp(channel) => {
                self.timed(async {
                    channel
                        .call(crate::context(), request)
                        .await
                        .map_err(Error::from)
                })
                .await
            }
        }
    }
}

impl<Req, Resp> ClientEnd<Req, Resp>
where
    Req: RequestName + Serialize + Send + 'static,
    Resp: DeserializeOwned + Send + 'static,
{
    /// Connects to a server that [`crate::tcp::serve`] runs at `addr`. Calls time out after
    /// [`TCP_CALL_TIMEOUT`]. Needs a tokio runtime with I/O and time enabled.
    pub async fn connect_tcp(addr: SocketAddr) -> Result<Self, Error> {
        let transport = tarpc::serde_transport::tcp::connect(addr, Bincode::default)
            .await
            .map_err(|e| Error::Transport(format!("cannot connect to {addr}: {e}")))?;
        let new = tarpc::client::new(tarpc::client::Config::default(), transport);
        tokio::spawn(new.dispatch);
        Ok(ClientEnd {
            transport: Transport::Tcp(new.client),
            timeout: Some(TCP_CALL_TIMEOUT),
            types: PhantomData,
        })
    }
}

impl<Req, Resp> Stub for ClientEnd<Req, Resp>
where
    Req: RequestName + Serialize,
    Resp: DeserializeOwned,
{
    type Req = Req;
    type Resp = Resp;

    async fn call(&self, _: tarpc::context::Context, request: Req) -> Result<Resp, RpcError> {
        // The context's deadline is wall-clock time; labrpc keeps time with its own timeout.
        ClientEnd::call(self, request).await.map_err(RpcError::from)
    }
}
