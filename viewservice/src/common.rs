//! What crosses the network: views, pings, the service, and the timing constants.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// How often a server pings the view server (Go: `PingInterval`, 100 ms). The view server
/// also checks for dead servers this often.
pub const PING_INTERVAL: Duration = Duration::from_millis(100);

/// A server that misses this many pings in a row is dead (Go: `DeadPings`).
pub const DEAD_PINGS: u32 = 5;

/// How long a server may stay silent before the view server declares it dead.
pub const DEAD_TIME: Duration = Duration::from_millis(100 * DEAD_PINGS as u64);

/// A view: its number and who plays which role in it. View 0 is the empty view the view
/// server starts with; numbers only grow.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    /// The view's number.
    pub viewnum: u64,
    /// The primary's node name, if any.
    pub primary: Option<String>,
    /// The backup's node name, if any.
    pub backup: Option<String>,
}

impl View {
    /// Whether `name` is this view's primary.
    pub fn is_primary(&self, name: &str) -> bool {
        self.primary.as_deref() == Some(name)
    }

    /// Whether `name` is this view's backup.
    pub fn is_backup(&self, name: &str) -> bool {
        self.backup.as_deref() == Some(name)
    }
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = |n: &Option<String>| n.clone().unwrap_or_else(|| "-".into());
        write!(
            f,
            "view {} (primary {}, backup {})",
            self.viewnum,
            name(&self.primary),
            name(&self.backup)
        )
    }
}

/// A ping: "I, `me`, am alive and know view `viewnum`" (0: "I restarted, I hold nothing").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PingArgs {
    /// The pinging server's node name.
    pub me: String,
    /// The number of the view the server knows; 0 after a (re)start.
    pub viewnum: u64,
}

/// The view server's service.
#[tarpc::service]
pub trait ViewService {
    /// A server's heartbeat; returns the current view. The primary acknowledges a view by
    /// pinging with its number.
    async fn ping(args: PingArgs) -> View;
    /// The current view, for clients: does not make the caller a server.
    async fn get() -> View;
}

/// A client end to the view server on the simulated network.
pub type ViewEnd = labrpc::ClientEnd<ViewServiceRequest, ViewServiceResponse>;

// ----- what the messages say in a recorded trace (labrpc::summary) ----------------------

impl labrpc::Summarize for ViewServiceRequest {
    fn summary(&self) -> labrpc::Summary {
        match self {
            ViewServiceRequest::Ping { args } => (labrpc::Summary::new("ping")
                .field("server", args.me.as_str()))
            .field("view", args.viewnum),
            ViewServiceRequest::Get {} => labrpc::Summary::new("get"),
        }
    }
}

impl labrpc::Summarize for ViewServiceResponse {
    fn summary(&self) -> labrpc::Summary {
        let (ViewServiceResponse::Ping(view) | ViewServiceResponse::Get(view)) = self;
        view.summary()
    }
}

impl labrpc::Summarize for View {
    /// `view 3 p=s1 b=s2`, with the view number as `view`.
    fn summary(&self) -> labrpc::Summary {
        let name = |n: &Option<String>| n.clone().unwrap_or_else(|| "-".into());
        (labrpc::Summary::new("view").field("view", self.viewnum))
            .field("primary", name(&self.primary))
            .field("backup", name(&self.backup))
    }
}
