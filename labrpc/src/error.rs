//! What can go wrong with a call.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// Why a call returned no reply value.
///
/// As in Go's labrpc, a lost request, a lost reply, an unreachable server and a server killed
/// while handling the call all look the same to the caller: [`Error::NoReply`]. The server may
/// or may not have executed the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Error {
    /// The request or its reply was lost, the server could not be reached, or it died.
    NoReply,
    /// No reply came within the caller's timeout (virtual time in a simulation).
    Timeout(Duration),
    /// A request or reply was larger than the network carries.
    TooLarge {
        /// The message's size in bytes.
        bytes: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The server received a request for a method its service does not have.
    UnknownMethod {
        /// The method number found in the request.
        index: u32,
        /// How many methods the service has.
        methods: usize,
    },
    /// A request or reply could not be decoded; the detail says which and why.
    Decode(String),
    /// A value could not be encoded (a serde `Serialize` implementation failed).
    Encode(String),
    /// The server's framework refused the request (a tarpc `ServerError`).
    Server(String),
    /// A real transport (TCP) failed.
    Transport(String),
}

impl Error {
    /// True when the caller cannot know whether the server executed the request: the message
    /// was lost or no reply came in time. These are the errors a clerk retries.
    pub fn is_no_reply(&self) -> bool {
        matches!(
            self,
            Error::NoReply | Error::Timeout(_) | Error::Transport(_)
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoReply => write!(
                f,
                "no reply: the request or its reply was lost, or the server is unreachable or dead"
            ),
            Error::Timeout(after) => write!(f, "no reply within the timeout of {after:?}"),
            Error::TooLarge { bytes, limit } => {
                write!(
                    f,
                    "message of {bytes} bytes is over the limit of {limit} bytes"
                )
            }
            Error::UnknownMethod { index, methods } => write!(
                f,
                "unknown method: the request names method #{index} but the service has {methods}"
            ),
            Error::Decode(detail) => write!(f, "malformed message: {detail}"),
            Error::Encode(detail) => write!(f, "cannot encode message: {detail}"),
            Error::Server(detail) => write!(f, "server refused the request: {detail}"),
            Error::Transport(detail) => write!(f, "transport failed: {detail}"),
        }
    }
}

impl std::error::Error for Error {}

/// A tarpc client reports failures as `RpcError`; labrpc's client ends carry an [`Error`]
/// inside it. This recovers the [`Error`], so `client.get(ctx, k).await.map_err(Error::from)`
/// gives the same errors on the simulated network and on TCP.
impl From<tarpc::client::RpcError> for Error {
    fn from(err: tarpc::client::RpcError) -> Self {
        use tarpc::client::RpcError;
        match err {
            RpcError::Send(inner) => match inner.downcast::<Error>() {
                Ok(ours) => *ours,
                Err(other) => Error::Transport(other.to_string()),
            },
            RpcError::Server(server) => Error::Server(server.detail),
            RpcError::DeadlineExceeded => Error::NoReply,
            RpcError::Shutdown => Error::Transport("the connection was shut down".into()),
            RpcError::Channel(channel) => Error::Transport(channel.to_string()),
        }
    }
}

impl From<Error> for tarpc::client::RpcError {
    fn from(err: Error) -> Self {
        tarpc::client::RpcError::Send(Box::new(err))
    }
}
