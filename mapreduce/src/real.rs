//! Real mode: the same master and workers over TCP, each worker its own process.
//!
//! The master serves [`MasterService`] on a TCP address;
//! workers serve their own service on another, register their `host:port`, and the master
//! connects back. Data goes through a [`DirStore`]: the job directory and the inputs must be
//! reachable by the same paths from every worker (one machine, or a shared file system).

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::master::{Connect, Master, MasterConfig};
use crate::protocol::{MasterEnd, MasterService, MasterServiceClient, WorkerEnd, WorkerService};
use crate::storage::DirStore;
use crate::worker::{Exit, Worker, WorkerConfig};

/// How long a worker keeps trying to reach a master that is not up yet.
pub const CONNECT_PATIENCE: Duration = Duration::from_secs(10);

/// Failed registrations in a row after which a worker decides its master is gone.
pub const MASTER_GONE_AFTER: u32 = 10;

/// Why a real-mode master or worker could not start.
#[derive(Debug)]
pub enum RealError {
    /// The address could not be listened on.
    Listen {
        /// The address.
        addr: SocketAddr,
        /// What failed.
        error: labrpc::Error,
    },
    /// The master could not be reached.
    NoMaster {
        /// The master's address.
        addr: SocketAddr,
        /// The last failure.
        error: labrpc::Error,
    },
}

impl fmt::Display for RealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RealError::Listen { addr, error } => write!(f, "cannot listen on {addr}: {error}"),
            RealError::NoMaster { addr, error } => {
                write!(f, "cannot reach the master at {addr}: {error}")
            }
        }
    }
}

impl std::error::Error for RealError {}

/// Starts a master listening on `listen`, making job directories in `store`'s work
/// directory. Must run inside a [`tokio::task::LocalSet`]. Keep the returned server alive
/// while the master runs.
pub async fn start_master(
    listen: SocketAddr,
    store: DirStore,
    config: MasterConfig,
) -> Result<(Master, labrpc::tcp::TcpServer), RealError> {
    let master = Master::new(config, Arc::new(store), Connect::Tcp);
    let server = labrpc::tcp::serve(listen, master.server().serve())
        .await
        .map_err(|error| RealError::Listen {
            addr: listen,
            error,
        })?;
    Ok((master, server))
}

/// Runs a worker process's life: listen on `listen`, register with the master at `master`,
/// run tasks until the master shuts it down or is gone. Must run inside a
/// [`tokio::task::LocalSet`]. Returns the worker's address and how it ended.
pub async fn run_worker(
    master: SocketAddr,
    listen: SocketAddr,
    config: WorkerConfig,
) -> Result<(SocketAddr, Exit, u64), RealError> {
    // Workers write only inside job directories, which tasks name; no work dir of their own.
    let store = Arc::new(DirStore::new(std::env::temp_dir()));
    let worker = Worker::new(crate::builtin_apps(), store, config);
    let server = labrpc::tcp::serve(listen, worker.clone().serve())
        .await
        .map_err(|error| RealError::Listen {
            addr: listen,
            error,
        })?;
    let me = server.local_addr();
    let end = connect_patiently(master).await?;
    let client = MasterServiceClient::from(end);
    let exit = worker
        .register_loop(&me.to_string(), &client, Some(MASTER_GONE_AFTER))
        .await;
    // Let the reply to the master's shutdown call leave before the process exits.
    tokio::time::sleep(Duration::from_millis(50)).await;
    Ok((me, exit, worker.tasks_done()))
}

/// Why the master could not connect to a worker.
#[derive(Debug)]
pub enum ConnectError {
    /// The connection failed.
    Failed(labrpc::Error),
    /// Nothing answered within the time allowed.
    TimedOut(Duration),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::Failed(error) => write!(f, "{error}"),
            ConnectError::TimedOut(after) => write!(f, "no answer within {after:?}"),
        }
    }
}

impl std::error::Error for ConnectError {}

/// A client end to the worker at `addr`, connected within `timeout` (the master's
/// [`MasterConfig::connect_timeout`]), for task calls: they have no time limit of their own
/// (a task takes as long as it takes; pings tell whether the worker lives).
pub async fn connect_worker(
    addr: SocketAddr,
    timeout: Duration,
) -> Result<WorkerEnd, ConnectError> {
    let mut end = tokio::time::timeout(timeout, WorkerEnd::connect_tcp(addr))
        .await
        .map_err(|_| ConnectError::TimedOut(timeout))?
        .map_err(ConnectError::Failed)?;
    end.set_timeout(None);
    Ok(end)
}

async fn connect_patiently(master: SocketAddr) -> Result<MasterEnd, RealError> {
    let deadline = tokio::time::Instant::now() + CONNECT_PATIENCE;
    loop {
        match MasterEnd::connect_tcp(master).await {
            Ok(end) => return Ok(end),
            Err(error) if tokio::time::Instant::now() >= deadline => {
                return Err(RealError::NoMaster {
                    addr: master,
                    error,
                });
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
