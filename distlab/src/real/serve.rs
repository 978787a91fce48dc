//! `distlab serve LAB`: one lab server as a process, until SIGTERM or Ctrl-C.
//!
//! The server's name is the address its peers and clients reach it at: `--listen` for the
//! view service, `--name` (default `--listen`) for a pbkv server, `peers[me]` for Paxos and
//! paxoskv (which listen on `--listen`, default their own address). Its disk is
//! `--data-dir`, default `./distlab-data/LAB-NAME` with `NAME` [sanitized](super::sanitize).

use labrpc::tcp::TcpOptions;
use labrpc::{Disk, Node};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::running::Running;
use super::{Failure, detail, resolve, run_local, sanitize, tcp_options};
use crate::cli::{NodeArgs, PeerArgs, ServeArgs, ServeLab};

/// Runs the server `args` describe until a signal stops it; `Ok` after a clean stop.
pub fn serve(args: &ServeArgs) -> Result<(), Failure> {
    let plan = Plan::of(&args.lab)?;
    log_protocol_events(std::env::var("DISTLAB_LOG").ok().as_deref())?;
    run_local(plan.run(&args.lab))
}

/// The environment variable that sets how much of the protocol's own events (`tracing`) a
/// server prints on stderr.
pub const LOG_VARIABLE: &str = "DISTLAB_LOG";

/// Prints the lab code's `tracing` events on stderr at `level` and above (`error`, `warn`,
/// `info`, the default: view changes, phases; `debug`: every Paxos step and applied
/// operation; `trace`; or `off`): in a real process they are log lines, where a simulation
/// records them into its trace.
fn log_protocol_events(level: Option<&str>) -> Result<(), Failure> {
    let level = match level.map(str::trim) {
        None | Some("") => tracing::Level::INFO,
        Some("off") => return Ok(()),
        Some(text) => text.parse().map_err(|_| {
            Failure::usage(format!(
                "{LOG_VARIABLE}={text:?}: not a level (error, warn, info, debug, trace or off)"
            ))
        })?,
    };
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .finish();
    // Only fails if a subscriber is already set: then that one prints.
    let _ = tracing::subscriber::set_global_default(subscriber);
    Ok(())
}

/// Where and how the server runs, worked out from its arguments.
struct Plan {
    /// The server's name: the address others reach it at.
    name: String,
    listen: SocketAddr,
    /// The disk's directory (`None`: a temporary one, for the view service).
    data_dir: Option<PathBuf>,
    options: TcpOptions,
}

impl Plan {
    fn of(lab: &ServeLab) -> Result<Plan, Failure> {
        let (name, listen, node): (&str, &str, &NodeArgs) = match lab {
            ServeLab::Viewservice(args) => (&args.listen, &args.listen, &args.node),
            ServeLab::Pbkv(args) => (
                args.name.as_deref().unwrap_or(&args.listen),
                &args.listen,
                &args.node,
            ),
            ServeLab::Paxos(peer) | ServeLab::Paxoskv(crate::cli::PaxoskvArgs { peer, .. }) => {
                let name = peer_name(peer)?;
                (name, peer.listen.as_deref().unwrap_or(name), &peer.node)
            }
        };
        let data_dir = match lab {
            ServeLab::Viewservice(_) => None,
            _ => Some(node.data_dir.clone().unwrap_or_else(|| {
                Path::new("distlab-data").join(format!("{}-{}", lab.name(), sanitize(name)))
            })),
        };
        Ok(Plan {
            name: name.to_owned(),
            listen: resolve(listen)?,
            data_dir,
            options: tcp_options(node.secret_file.as_deref(), node.insecure)?,
        })
    }

    async fn run(self, lab: &ServeLab) -> Result<(), Failure> {
        let name = self.name.clone();
        // One write per line, so that the lines of servers sharing a terminal do not mix.
        let log = move |line: &str| {
            let line = format!("distlab serve {name}: {line}\n");
            let _ = std::io::stderr().write_all(line.as_bytes());
        };
        // Kept alive while the server runs.
        let mut _temporary = None;
        let (disk, found) = match &self.data_dir {
            Some(dir) => (open_disk(dir)?, files_in(dir)),
            None => {
                let dir = tempfile::tempdir()
                    .map_err(|e| Failure::error(format!("cannot make a directory: {e}")))?;
                let disk = open_disk(dir.path())?;
                _temporary = Some(dir);
                (disk, 0)
            }
        };
        let node = Node::real(&self.name, self.listen, self.options, disk)
            .await
            .map_err(|e| Failure::error(detail(&e)))?;
        let running = start(lab, node.clone());
        let status = running.clone();
        node.set_status(Arc::new(move || status.status()));
        let listening = node.tcp_server().map_or(self.listen, |s| s.local_addr());
        let disk = match &self.data_dir {
            None => String::new(),
            Some(dir) => format!(", data in {} ({})", dir.display(), found_text(lab, found)),
        };
        log(&format!("{} listening on {listening}{disk}", describe(lab)));
        if let Running::Paxos(peer) = &running
            && let Some(damage) = peer.damaged_disk()
        {
            log(&format!(
                "unreadable Paxos state, abstaining everywhere: {damage}"
            ));
        }
        if let Running::Paxoskv(server) = &running
            && let Some(damage) = server.paxos().damaged_disk()
        {
            log(&format!(
                "unreadable Paxos state, abstaining everywhere: {damage}"
            ));
        }
        let signal = tokio::select! {
            signal = stop_signal() => signal?,
            () = running.watch(&log) => "the watch ended",
            () = watch_peers(&node, &log) => "the watch ended",
        };
        log(&format!("stopping ({signal})"));
        running.kill();
        Ok(())
    }
}

/// A node that called its peers and heard from none of them in this long says so.
const SILENCE: Duration = Duration::from_secs(10);

/// Logs when the node stops hearing from every peer it calls, and when it hears again.
async fn watch_peers(node: &Node, log: &impl Fn(&str)) {
    let mut alone = false;
    loop {
        tokio::time::sleep(SILENCE / 2).await;
        let Some(heard) = node.peers_heard(SILENCE) else {
            continue;
        };
        let now_alone = heard.answering.is_empty() && !heard.failing.is_empty();
        if now_alone && !alone {
            log(&format!(
                "cannot reach any peer: none of {} answered in the last {SILENCE:?} (down, cut \
                 off, or holding another secret?)",
                heard.failing.join(", ")
            ));
        } else if alone && !now_alone && !heard.answering.is_empty() {
            log(&format!(
                "reaching peers again: {}",
                heard.answering.join(", ")
            ));
        }
        alone = now_alone;
    }
}

/// What the data directory holds, for the first log line.
fn found_text(lab: &ServeLab, found: usize) -> String {
    match (found, lab) {
        (1, _) => "1 file".to_owned(),
        (0, ServeLab::Paxoskv(args)) if args.lost_disk => "empty".to_owned(),
        (0, ServeLab::Paxoskv(_)) => {
            "empty: a first start; after a lost disk, start with --lost-disk".to_owned()
        }
        (0, _) => "empty: a first start".to_owned(),
        (n, _) => format!("{n} files"),
    }
}

/// What the server is, for its first log line.
fn describe(lab: &ServeLab) -> String {
    match lab {
        ServeLab::Viewservice(_) => "view service".to_owned(),
        ServeLab::Pbkv(args) => format!("pbkv server (view service {})", args.viewservice),
        ServeLab::Paxos(peer) => format!("paxos peer {} of {}", peer.me, peer.peers.len()),
        ServeLab::Paxoskv(args) => format!(
            "paxoskv server {} of {}{}",
            args.peer.me,
            args.peer.peers.len(),
            if args.lost_disk {
                " (lost its disk: catching up from the others before it serves)"
            } else {
                ""
            }
        ),
    }
}

/// `peers[me]`, checked.
fn peer_name(peer: &PeerArgs) -> Result<&str, Failure> {
    let n = peer.peers.len();
    let name = peer.peers.get(peer.me).ok_or_else(|| {
        Failure::usage(format!(
            "--me {} is not an index of --peers (which has {n} peers, 0 to {})",
            peer.me,
            n.saturating_sub(1)
        ))
    })?;
    for (i, other) in peer.peers.iter().enumerate() {
        if peer.peers[..i].contains(other) {
            return Err(Failure::usage(format!("{other} is twice in --peers")));
        }
    }
    Ok(name)
}

fn open_disk(dir: &Path) -> Result<Disk, Failure> {
    Disk::open_dir(dir).map_err(|e| Failure::error(format!("data directory: {e}")))
}

/// How many entries directory `dir` holds (0 if it cannot be read).
fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| entries.count())
}

/// Starts the lab's server on `node`. A paxoskv server recovers from its disk, if that holds
/// state (`KvServer::on`); with `--lost-disk` it restarts as one that lost its disk
/// (`KvServer::restart_on`).
fn start(lab: &ServeLab, node: Node) -> Running {
    match lab {
        ServeLab::Viewservice(_) => Running::Viewservice(viewservice::ViewServer::on(node)),
        ServeLab::Pbkv(args) => Running::Pbkv(pbkv::PbServer::on(node, &args.viewservice)),
        ServeLab::Paxos(peer) => Running::Paxos(paxos::Peer::on(node, &peer.peers, peer.me)),
        ServeLab::Paxoskv(args) if args.lost_disk => Running::Paxoskv(
            paxoskv::KvServer::restart_on(node, &args.peer.peers, args.peer.me),
        ),
        ServeLab::Paxoskv(args) => {
            Running::Paxoskv(paxoskv::KvServer::on(node, &args.peer.peers, args.peer.me))
        }
    }
}

/// Waits for SIGTERM or Ctrl-C (SIGINT); names the one that came.
async fn stop_signal() -> Result<&'static str, Failure> {
    let failed = |e: std::io::Error| Failure::error(format!("cannot wait for signals: {e}"));
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).map_err(failed)?;
        tokio::select! {
            _ = term.recv() => Ok("SIGTERM"),
            ctrl_c = tokio::signal::ctrl_c() => ctrl_c.map(|()| "Ctrl-C").map_err(failed),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.map_err(failed)?;
        Ok("Ctrl-C")
    }
}
