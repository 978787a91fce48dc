//! The options of the commands that run the labs for real, over TCP: `serve`, `kv` and
//! `status` (see [`crate::real`]).

use clap::{ArgGroup, Args, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

use super::parse_timeout;

/// `distlab serve`: one lab server as a real process.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The server to run.
    #[command(subcommand)]
    pub lab: ServeLab,
}

/// The labs that `distlab serve` runs.
#[derive(Debug, Subcommand)]
pub enum ServeLab {
    /// The view service (lab 2a): the one server that says who is primary and backup.
    #[command(after_help = "Example:\n  distlab serve viewservice --listen 127.0.0.1:7000")]
    Viewservice(ViewserviceArgs),
    /// A primary/backup key/value server (lab 2b), finding its role through the view service.
    #[command(after_help = "Examples:\n  \
        distlab serve pbkv --listen 127.0.0.1:7010 --viewservice 127.0.0.1:7000\n  \
        distlab serve pbkv --listen 127.0.0.1:7011 --viewservice 127.0.0.1:7000")]
    Pbkv(PbkvArgs),
    /// A Paxos peer (lab 3a): it votes in the instances its peers propose in.
    #[command(after_help = "Example:\n  \
        distlab serve paxos --me 0 --peers 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003")]
    Paxos(PeerArgs),
    /// A key/value server replicated with Paxos (lab 3b).
    #[command(after_help = "Examples:\n  \
        distlab serve paxoskv --me 0 --peers 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003\n  \
        distlab serve paxoskv --me 1 --peers 10.0.0.1:7000,10.0.0.2:7000,10.0.0.3:7000 \\\n      \
        --listen 0.0.0.0:7000 --secret-file cluster.key\n\n\
        A server restarted with its data directory recovers from it and serves at once. One \
        whose data directory was lost (or cannot be trusted) must be restarted with \
        --lost-disk: it then votes nowhere it may have voted before and copies the state of \
        the others (all of them up) before it serves.")]
    Paxoskv(PaxoskvArgs),
}

impl ServeLab {
    /// The lab's name, as on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            ServeLab::Viewservice(_) => "viewservice",
            ServeLab::Pbkv(_) => "pbkv",
            ServeLab::Paxos(_) => "paxos",
            ServeLab::Paxoskv(_) => "paxoskv",
        }
    }
}

/// How a server talks TCP and where it keeps its disk: the options of every `serve`.
#[derive(Clone, Debug, Args)]
pub struct NodeArgs {
    /// The directory of the server's disk (default: ./distlab-data/LAB-NAME, NAME the
    /// server's address with `:` as `_`). The view service keeps nothing there.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// The cluster secret, in a file (at least 16 bytes; a trailing newline is ignored):
    /// peers and clients must hold the same one.
    #[arg(long)]
    pub secret_file: Option<PathBuf>,
    /// Listen beyond loopback without a secret (anyone who reaches the port may call).
    #[arg(long)]
    pub insecure: bool,
}

/// `distlab serve viewservice`.
#[derive(Debug, Args)]
pub struct ViewserviceArgs {
    /// The address to listen on, host:port.
    #[arg(long)]
    pub listen: String,
    /// Disk and TCP options.
    #[command(flatten)]
    pub node: NodeArgs,
}

/// `distlab serve pbkv`.
#[derive(Debug, Args)]
pub struct PbkvArgs {
    /// The address to listen on, host:port.
    #[arg(long)]
    pub listen: String,
    /// The view service's address, host:port.
    #[arg(long)]
    pub viewservice: String,
    /// The address the view service and the other server reach this one at (default: the
    /// --listen address; give it when listening on 0.0.0.0).
    #[arg(long)]
    pub name: Option<String>,
    /// Disk and TCP options.
    #[command(flatten)]
    pub node: NodeArgs,
}

/// `distlab serve paxos`, and the peer options of `distlab serve paxoskv`.
#[derive(Debug, Args)]
pub struct PeerArgs {
    /// This peer's index in --peers (from 0).
    #[arg(long)]
    pub me: usize,
    /// Every peer's address, host:port, in the same order on every peer.
    #[arg(long, value_delimiter = ',', required = true)]
    pub peers: Vec<String>,
    /// Listen here instead of at this peer's own address, e.g. 0.0.0.0:7000.
    #[arg(long)]
    pub listen: Option<String>,
    /// Disk and TCP options.
    #[command(flatten)]
    pub node: NodeArgs,
}

/// `distlab serve paxoskv`.
#[derive(Debug, Args)]
pub struct PaxoskvArgs {
    /// The peer's options.
    #[command(flatten)]
    pub peer: PeerArgs,
    /// This server's data directory was lost or cannot be trusted: vote nowhere it may have
    /// voted, and copy the others' state (every other server must be up) before serving.
    #[arg(long)]
    pub lost_disk: bool,
}

/// `distlab kv`: one operation on a key/value store served for real.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("store").required(true).args(["servers", "viewservice"])))]
pub struct KvArgs {
    /// The paxoskv servers' addresses (any of them; each is tried in turn).
    #[arg(long, value_delimiter = ',')]
    pub servers: Vec<String>,
    /// The view service of a pbkv store: the operation goes to its primary.
    #[arg(long)]
    pub viewservice: Option<String>,
    /// The cluster secret, in a file.
    #[arg(long, global = true)]
    pub secret_file: Option<PathBuf>,
    /// Give up after this long, e.g. 10s or 500ms.
    #[arg(long, global = true, default_value = "10s", value_parser = parse_timeout)]
    pub timeout: Duration,
    /// The operation.
    #[command(subcommand)]
    pub op: KvOp,
}

/// A key/value operation.
#[derive(Debug, Subcommand)]
pub enum KvOp {
    /// Prints the key's value (an empty line if it has none).
    Get {
        /// The key.
        key: String,
    },
    /// Sets the key to the value.
    Put {
        /// The key.
        key: String,
        /// The value.
        #[arg(allow_hyphen_values = true)]
        value: String,
    },
    /// Appends the value to the key's value.
    Append {
        /// The key.
        key: String,
        /// The value to append.
        #[arg(allow_hyphen_values = true)]
        value: String,
    },
}

/// `distlab status`: a running server's status report.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The server's address, host:port.
    pub addr: String,
    /// The cluster secret, in a file (the same report is on `GET /status` without one).
    #[arg(long)]
    pub secret_file: Option<PathBuf>,
    /// Give up after this long.
    #[arg(long, default_value = "5s", value_parser = parse_timeout)]
    pub timeout: Duration,
    /// Only ask whether the server serves (`GET /healthz`, no secret, no quorum): print its
    /// answer, exit status 0 if it serves and 1 if not; a container's health check.
    #[arg(long, conflicts_with = "secret_file")]
    pub healthz: bool,
}
