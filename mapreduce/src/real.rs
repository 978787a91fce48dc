//! Real mode: the same master and workers over TCP, each worker its own process.
//!
//! The master serves [`MasterService`] on a TCP address;
//! workers serve their own service on another, register their `host:port`, and the master
//! connects back. Data goes through a [`DirStore`]: the job directory and the inputs must be
//! reachable by the same paths from every worker (one machine, or a shared file system).
//!
//! ## Who may take part
//!
//! Both sides take [`TcpOptions`]: the master's server, its connections back to workers,
//! each worker's server and its connection to the master use the same ones. With a cluster
//! [`Secret`](labrpc::tcp::Secret) every connection opens with labrpc's mutual
//! challenge-response (see [`labrpc::tcp`]): a peer without the secret cannot make a single
//! call, so it can never register, and the master never connects to (hence never sends a
//! task, with its paths, to) a "worker" that cannot prove it holds the secret. Without one,
//! labrpc listens on loopback only, unless [`TcpOptions::insecure`] says otherwise.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use labrpc::tcp::{TcpOptions, TcpServer};

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
            // labrpc's reasons for not listening name the address and say what to do.
            RealError::Listen { addr, error } => match reason(*addr, error) {
                Some(why) => f.write_str(why),
                None => write!(f, "cannot listen on {addr}: {error}"),
            },
            RealError::NoMaster { addr, error } => match reason(*addr, error) {
                Some(why) => write!(f, "cannot reach the master at {addr}: {why}"),
                None => write!(f, "cannot reach the master at {addr}: {error}"),
            },
        }
    }
}

/// The reason in a transport error, without what the message around it says already: the
/// address (a failed connection's detail begins with it) and another "transport failed".
fn reason(addr: SocketAddr, error: &labrpc::Error) -> Option<&str> {
    let labrpc::Error::Transport(detail) = error else {
        return None;
    };
    let prefix = format!("{addr}: ");
    let detail = detail.strip_prefix(&prefix).unwrap_or(detail);
    Some(detail.strip_prefix("transport failed: ").unwrap_or(detail))
}

impl std::error::Error for RealError {}

/// Starts a master listening on `listen`, making job directories in `store`'s work
/// directory. Its server and its connections back to workers use `options` (with a secret,
/// only workers that hold it can register or be given tasks). Must run inside a
/// [`tokio::task::LocalSet`]. Keep the returned server alive while the master runs.
pub async fn start_master(
    listen: SocketAddr,
    store: DirStore,
    config: MasterConfig,
    options: Arc<TcpOptions>,
) -> Result<(Master, TcpServer), RealError> {
    let server = listen_on(listen, &options).await?;
    let master = Master::new(config, Arc::new(store), Connect::Tcp { options });
    server.set_service(master.server().serve());
    Ok((master, server))
}

async fn listen_on(listen: SocketAddr, options: &TcpOptions) -> Result<TcpServer, RealError> {
    TcpServer::bind(listen, options.clone())
        .await
        .map_err(|error| RealError::Listen {
            addr: listen,
            error,
        })
}

/// Runs a worker process's life: listen on `listen`, register with the master at `master`,
/// run tasks until the master shuts it down or is gone. Its server and its connection to the
/// master use `options`, which must hold the master's secret, if it has one: a worker that
/// cannot prove it holds the secret fails at once with [`RealError::NoMaster`] saying so.
/// Must run inside a [`tokio::task::LocalSet`]. Returns the worker's address, how it ended
/// and how many tasks it did.
pub async fn run_worker(
    master: SocketAddr,
    listen: SocketAddr,
    config: WorkerConfig,
    options: Arc<TcpOptions>,
) -> Result<(SocketAddr, Exit, u64), RealError> {
    // Workers write only inside job directories, which tasks name; no work dir of their own.
    let store = Arc::new(DirStore::new(std::env::temp_dir()));
    let worker = Worker::new(crate::builtin_apps(), store, config);
    let server = listen_on(listen, &options).await?;
    server.set_service(worker.clone().serve());
    let me = server.local_addr();
    let end = connect_patiently(master, options).await?;
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
/// [`MasterConfig::connect_timeout`]) with `options` (the master's, so its secret), for task
/// calls: they have no time limit of their own (a task takes as long as it takes; pings tell
/// whether the worker lives). A worker that cannot prove it holds the secret, or that asks
/// for one the master does not have, is [`ConnectError::Failed`]: nothing is sent to it.
pub async fn connect_worker(
    addr: SocketAddr,
    timeout: Duration,
    options: Arc<TcpOptions>,
) -> Result<WorkerEnd, ConnectError> {
    // Reconnections (after an idle close, say) get the same time as this first connection.
    let mut options = TcpOptions::clone(&options);
    options.limits.connect_timeout = timeout;
    let mut end = WorkerEnd::tcp(&addr.to_string(), Arc::new(options));
    end.set_timeout(None);
    let begun = tokio::time::Instant::now();
    // A status call connects and runs the handshake, and no service code: a worker that is
    // hung still connects (its pings find it out), as with a plain connection.
    match tokio::time::timeout(timeout, end.status()).await {
        Ok(Ok(_)) => Ok(end),
        Err(_) => Err(ConnectError::TimedOut(timeout)),
        // The end's own connect timeout, the same limit, may fire first.
        Ok(Err(_)) if begun.elapsed() >= timeout => Err(ConnectError::TimedOut(timeout)),
        Ok(Err(error)) => Err(ConnectError::Failed(error)),
    }
}

/// Whether `error` is a handshake's refusal over the cluster secret (wrong, missing, or not
/// proven by the server): trying again cannot help. labrpc's handshake names the secret in
/// each of them; anything else (the master not up yet, say) is worth another try.
fn secret_refused(error: &labrpc::Error) -> bool {
    matches!(error, labrpc::Error::Transport(detail) if detail.contains("secret"))
}

/// An end to the master, connected (handshake done) within [`CONNECT_PATIENCE`].
async fn connect_patiently(
    master: SocketAddr,
    options: Arc<TcpOptions>,
) -> Result<MasterEnd, RealError> {
    let deadline = tokio::time::Instant::now() + CONNECT_PATIENCE;
    let end = MasterEnd::tcp(&master.to_string(), options);
    loop {
        // A status call connects and runs the handshake; registrations come after.
        match end.status().await {
            Ok(_) => return Ok(end),
            Err(error) if secret_refused(&error) || tokio::time::Instant::now() >= deadline => {
                return Err(RealError::NoMaster {
                    addr: master,
                    error,
                });
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
