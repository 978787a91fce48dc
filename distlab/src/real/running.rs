//! A lab server running in this process: its status report, and the changes worth a log
//! line, read from the lab's public accessors.

use paxos::Peer;
use paxoskv::KvServer;
use pbkv::PbServer;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::Instant;
use viewservice::{View, ViewServer};

/// How often the server's state is read for changes to log.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// At most one line of progress (instances agreed on or applied) per this long.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(10);

/// The server a `distlab serve` process runs. Cheap to clone.
#[derive(Clone)]
pub enum Running {
    /// The view service.
    Viewservice(ViewServer),
    /// A primary/backup key/value server.
    Pbkv(PbServer),
    /// A Paxos peer (its values are strings; it only votes, so their type is never decoded).
    Paxos(Peer<String>),
    /// A Paxos-replicated key/value server.
    Paxoskv(KvServer),
}

/// What is logged when it changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Observed {
    /// The view (the view service's current one, or the newest a pbkv server knows).
    view: Option<View>,
    /// The server's role.
    role: &'static str,
    /// Paxos's highest instance heard of, or the instances a paxoskv server applied.
    progress: Option<i64>,
}

impl Running {
    /// The lab's name.
    pub fn lab(&self) -> &'static str {
        match self {
            Running::Viewservice(_) => "viewservice",
            Running::Pbkv(_) => "pbkv",
            Running::Paxos(_) => "paxos",
            Running::Paxoskv(_) => "paxoskv",
        }
    }

    /// The server's role now: `viewservice`; `primary`, `backup` or `idle` (pbkv); `peer`
    /// (paxos); `replica`, or `catching up` while a restarted paxoskv server recovers.
    fn role(&self) -> &'static str {
        match self {
            Running::Viewservice(_) => "viewservice",
            Running::Pbkv(server) => {
                let view = server.view();
                if view.is_primary(server.name()) {
                    "primary"
                } else if view.is_backup(server.name()) {
                    "backup"
                } else {
                    "idle"
                }
            }
            Running::Paxos(_) => "peer",
            Running::Paxoskv(server) if server.is_ready() => "replica",
            Running::Paxoskv(_) => "catching up",
        }
    }

    /// The lab's part of the status report: `lab`, `role` and what the lab lets one read.
    pub fn status(&self) -> Value {
        let (lab, role) = (self.lab(), self.role());
        match self {
            Running::Viewservice(vs) => json!({
                "lab": lab,
                "role": role,
                "view": vs.view(),
                "view_acked": vs.is_acked(),
            }),
            Running::Pbkv(server) => json!({
                "lab": lab,
                "role": role,
                "name": server.name(),
                "view": server.view(),
            }),
            Running::Paxos(peer) => json!({
                "lab": lab,
                "role": role,
                "me": peer.me(),
                "max": peer.max(),
                "min": peer.min(),
                "instances_held": peer.held().0,
                "disk_bytes": peer.disk_bytes(),
                "damaged_disk": peer.damaged_disk(),
            }),
            Running::Paxoskv(server) => {
                let px = server.paxos();
                json!({
                    "lab": lab,
                    "role": role,
                    "me": px.me(),
                    "ready": server.is_ready(),
                    "applied_instances": server.applied(),
                    "paxos_max": px.max(),
                    "paxos_min": px.min(),
                    "disk_bytes": px.disk_bytes(),
                    "damaged_disk": px.damaged_disk(),
                })
            }
        }
    }

    /// Crashes the server: its handlers and tasks stop (what was synced stays on disk).
    pub fn kill(&self) {
        match self {
            Running::Viewservice(vs) => vs.kill(),
            Running::Pbkv(server) => server.kill(),
            Running::Paxos(peer) => peer.kill(),
            Running::Paxoskv(server) => server.kill(),
        }
    }

    fn observe(&self) -> Observed {
        let (view, progress) = match self {
            Running::Viewservice(vs) => (Some(vs.view()), None),
            Running::Pbkv(server) => (Some(server.view()), None),
            Running::Paxos(peer) => (None, Some(peer.max())),
            Running::Paxoskv(server) => (None, Some(server.applied())),
        };
        Observed {
            view,
            role: self.role(),
            progress,
        }
    }

    /// Polls the server every [`POLL_INTERVAL`] forever, handing each change worth a line
    /// to `log`: a new view, a new role, and progress at most every 10 s.
    pub async fn watch(&self, log: impl Fn(&str)) {
        let mut last = self.observe();
        let mut logged_progress = last.progress;
        let mut progress_logged = Instant::now();
        loop {
            tokio::time::sleep(POLL_INTERVAL).await;
            let now = self.observe();
            if now.view != last.view
                && let Some(view) = &now.view
            {
                log(&view.to_string());
            }
            if now.role != last.role {
                log(&format!("now {}", now.role));
            }
            if now.progress != logged_progress && progress_logged.elapsed() >= PROGRESS_INTERVAL {
                if let Some(progress) = now.progress {
                    log(&match self {
                        Running::Paxoskv(_) => format!("applied {progress} instances"),
                        _ => format!("highest instance heard of: {progress}"),
                    });
                }
                logged_progress = now.progress;
                progress_logged = Instant::now();
            }
            last = now;
        }
    }
}
