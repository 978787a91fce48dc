//! The simulated network: nodes, servers, client ends, links and faults.
//!
//! A call crosses the network in three steps, each taken under the network's lock and each
//! checking liveness and links afresh, because any of them may have changed while the message
//! was in flight:
//!
//! 1. **send** — count it, check its size, find its route and draw its fate (delay, loss);
//! 2. **deliver** — after the delay: the same server incarnation must still be alive and
//!    reachable; its handler then runs as a task of the server's node;
//! 3. **reply** — when the handler returns: the incarnation must still be alive and the way
//!    back open; the reply may be lost or, with long reordering, held back.
//!
//! Every step appends to the trace. All randomness comes from the network's [`SharedRng`].

use futures::FutureExt;
use parking_lot::Mutex;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tarpc::server::Serve;
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::disk::SimDisk;
use crate::fault::Faults;
use crate::summary::Summary;
use crate::trace::{Event, EventKind, Record, Trace};
use crate::wire::{self, Handler};
use crate::{ClientEnd, SharedRng};

mod call;
mod links;
pub(crate) use call::no_summary;
mod disks;

/// Index of a node in the network's table.
pub(crate) type NodeId = usize;

/// The "node" of an event about the whole network (fault settings, partitions): none, so
/// such events have an empty `from` in the trace.
const WHOLE_NETWORK: NodeId = NodeId::MAX;
/// Index of a client end in the network's table.
pub(crate) type EndId = usize;

/// A simulated network of named nodes. Cheap to clone: clones share one network.
///
/// A *node* is a name: it may run a server, own client ends and run tasks. Nodes come into
/// being when first named. See the [crate docs](crate) for a tour.
#[derive(Clone)]
pub struct Network {
    inner: Arc<Mutex<Inner>>,
    rng: SharedRng,
    panicked: Arc<Notify>,
    /// Whether the trace keeps its events: read on every call and every `tracing` event, so
    /// kept outside the lock (it only ever turns on).
    recording: Arc<AtomicBool>,
}

/// Counters of what the network carried. Like Go's labrpc, `rpcs` and `bytes` count every
/// request sent (and `bytes` every reply delivered), whatever became of it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests sent.
    pub rpcs: u64,
    /// Bytes of requests sent and of replies delivered.
    pub bytes: u64,
    /// Requests lost: dropped at random, or their target died or became unreachable in flight.
    pub requests_lost: u64,
    /// Replies lost: dropped at random, or their server died or was cut off meanwhile.
    pub replies_lost: u64,
    /// Calls whose target could not be reached when sent.
    pub unreachable: u64,
    /// Messages refused: malformed, for an unknown method, or too large.
    pub rejected: u64,
    /// Requests sent, per method (`Service.method`).
    pub by_method: BTreeMap<String, u64>,
}

struct Inner {
    seed: u64,
    faults: Faults,
    nodes: Vec<Node>,
    by_name: BTreeMap<String, NodeId>,
    /// One-way cuts: no request or reply goes from the first node to the second.
    cuts: BTreeSet<(NodeId, NodeId)>,
    /// The first node hears no request from the second (replies still reach it).
    deaf_to: BTreeSet<(NodeId, NodeId)>,
    /// While partitioned, only nodes in the same group talk.
    partitioned: bool,
    ends: Vec<EndState>,
    stats: Stats,
    trace: Trace,
    epoch: tokio::time::Instant,
    next_call: u64,
    next_incarnation: u64,
    panic: Option<String>,
    /// The simulated disks, made on first use; they outlive their nodes' crashes.
    disks: BTreeMap<NodeId, Arc<Mutex<SimDisk>>>,
}

struct Node {
    name: String,
    alive: bool,
    deaf: bool,
    /// Go's `setunreliable`: the server drops some requests and discards some replies.
    unreliable: bool,
    group: Option<u32>,
    server: Option<Server>,
    /// Background tasks; killing the node aborts them.
    tasks: JoinSet<()>,
}

struct Server {
    handler: Handler,
    incarnation: u64,
    rpcs: u64,
    /// When its CPU is free again (virtual time since the epoch), with
    /// [`Faults::service_time`]: each delivered request reserves it in turn.
    busy_until: Duration,
    /// Running handlers; they die with the incarnation (deleted, replaced or killed).
    handlers: JoinSet<()>,
}

#[derive(Clone, Copy)]
struct EndState {
    owner: NodeId,
    target: Option<NodeId>,
    enabled: bool,
}

/// What the send step decided for a call.
enum Route {
    /// Deliver after `delay` to this incarnation of the server on `to`, unless `lose`.
    Deliver {
        to: NodeId,
        incarnation: u64,
        delay: Duration,
        lose: bool,
    },
    /// The target cannot be reached: fail after `delay`.
    Unreachable { delay: Duration },
}

impl Network {
    /// A reliable network whose every random choice comes from `seed`.
    ///
    /// Make it inside the simulation's runtime (as [`crate::sim::run`] does), so that its
    /// clock is the runtime's virtual clock.
    pub fn new(seed: u64) -> Network {
        Network {
            inner: Arc::new(Mutex::new(Inner {
                seed,
                faults: Faults::default(),
                nodes: Vec::new(),
                by_name: BTreeMap::new(),
                cuts: BTreeSet::new(),
                deaf_to: BTreeSet::new(),
                partitioned: false,
                ends: Vec::new(),
                stats: Stats::default(),
                trace: Trace::new(),
                epoch: tokio::time::Instant::now(),
                next_call: 1,
                next_incarnation: 1,
                panic: None,
                disks: BTreeMap::new(),
            })),
            rng: SharedRng::seeded(seed),
            panicked: Arc::new(Notify::new()),
            recording: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The seed this network was made with.
    pub fn seed(&self) -> u64 {
        self.inner.lock().seed
    }

    /// The simulation's random number generator, for the labs' own random choices.
    pub fn rng(&self) -> SharedRng {
        self.rng.clone()
    }

    /// A phase in `[0, period)` in whole milliseconds, drawn from the seed: how long a node's
    /// periodic task (a ticker, a pinger) waits before its first beat, so that the beats of
    /// different nodes do not fall in lockstep and a test's outcome depends on where they
    /// fall, seed by seed.
    pub fn phase(&self, period: Duration) -> Duration {
        self.rng
            .with(|rng| crate::fault::uniform_below(rng, period))
    }

    /// Virtual time since the network was made.
    pub fn now(&self) -> Duration {
        self.inner.lock().epoch.elapsed()
    }

    // ----- servers and nodes -------------------------------------------------------------

    /// Starts `server` (a tarpc `Serve`, such as `MyService.serve()`) on node `name`.
    ///
    /// This is a new *incarnation*: it replaces any server the node had, brings a killed node
    /// back to life and resets the node's RPC count. Replies of an older incarnation's
    /// handlers are discarded, so a restarted server never answers a request sent to the old.
    pub fn add_server<S>(&self, name: &str, server: S)
    where
        S: Serve + Clone + Send + Sync + 'static,
        S::Req: DeserializeOwned,
        S::Resp: Serialize,
    {
        let handler = wire::handler(server);
        let mut inner = self.inner.lock();
        let id = inner.node(name);
        let incarnation = inner.next_incarnation;
        inner.next_incarnation += 1;
        let node = &mut inner.nodes[id];
        node.alive = true;
        let old = node.server.replace(Server {
            handler,
            incarnation,
            rpcs: 0,
            busy_until: Duration::ZERO,
            handlers: JoinSet::new(),
        });
        inner.event(EventKind::ServerStarted, 0, id, None, "", 0, Duration::ZERO);
        drop(inner);
        drop(old); // aborts the old incarnation's handlers, outside the lock
    }

    /// Removes the server of node `name` (Go's `DeleteServer`): calls to it become
    /// unreachable, and calls it is handling fail at once with [`Error::NoReply`] (their
    /// handlers are stopped). The node's background tasks keep running.
    pub fn delete_server(&self, name: &str) {
        let mut inner = self.inner.lock();
        let id = inner.node(name);
        let old = inner.nodes[id].server.take();
        inner.event(EventKind::ServerDeleted, 0, id, None, "", 0, Duration::ZERO);
        drop(inner);
        drop(old);
    }

    /// Ends a finished simulation: drops every server, background task and disk. A server's
    /// handler usually holds the network (to call other nodes), and the network holds the
    /// handler: without this, every finished run would keep all its memory until the process
    /// ends, and a suite of many seeds would grow by a whole run per seed. The trace and
    /// statistics stay readable.
    pub(crate) fn shut_down(&self) {
        let mut inner = self.inner.lock();
        let servers: Vec<Server> = (inner.nodes.iter_mut())
            .filter_map(|node| node.server.take())
            .collect();
        let tasks: Vec<JoinSet<()>> = (inner.nodes.iter_mut())
            .map(|node| std::mem::take(&mut node.tasks))
            .collect();
        let disks = std::mem::take(&mut inner.disks);
        // Dropped without the lock: a handler's state may lock the network as it goes.
        drop(inner);
        drop((servers, tasks, disks));
    }

    /// Kills node `name`, as a crash would: its handlers and background tasks stop at once,
    /// its server stops answering (the replies of handlers still running are discarded; a
    /// reply that already left, held back by long reordering, still arrives, as in Go) and
    /// its client ends stop sending. [`Network::add_server`] starts a new incarnation. Its
    /// disk, if it has one, keeps what was synced (see [`crate::disk`]); with
    /// [`Network::lose_disk`] the crash loses the disk too.
    pub fn kill(&self, name: &str) {
        let tasks = {
            let mut inner = self.inner.lock();
            let id = inner.node(name);
            let node = &mut inner.nodes[id];
            node.alive = false;
            let handlers = node
                .server
                .as_mut()
                .map(|s| std::mem::take(&mut s.handlers));
            let tasks = std::mem::take(&mut node.tasks);
            inner.event(EventKind::Killed, 0, id, None, "", 0, Duration::ZERO);
            inner.crash_disk(id, &self.rng);
            (handlers, tasks)
        };
        // Dropping the set aborts its tasks; done outside the lock, since their futures are
        // dropped right away when the tasks are idle.
        drop(tasks);
    }

    /// Brings node `name` back to life after [`Network::kill`], without a server: a new
    /// incarnation of a node that only calls others (a clerk, a pinger) can then run tasks
    /// again with [`Network::spawn`]. A node with a server restarts with
    /// [`Network::add_server`] instead; `revive` leaves a killed node's old server dead.
    pub fn revive(&self, name: &str) {
        let mut inner = self.inner.lock();
        let id = inner.node(name);
        let old = inner.nodes[id].server.take();
        inner.nodes[id].alive = true;
        inner.event(EventKind::Revived, 0, id, None, "", 0, Duration::ZERO);
        drop(inner);
        drop(old);
    }

    /// Whether node `name` is alive (not killed since its last [`Network::add_server`]).
    pub fn is_alive(&self, name: &str) -> bool {
        let mut inner = self.inner.lock();
        let id = inner.node(name);
        inner.nodes[id].alive
    }

    /// Runs `task` on node `name`, so that killing the node stops it. A panic in the task
    /// fails the simulation (see [`crate::sim`]).
    pub fn spawn<F>(&self, name: &str, task: F)
    where
        F: Future<Output = ()> + 'static,
    {
        let mut inner = self.inner.lock();
        let id = inner.node(name);
        if !inner.nodes[id].alive {
            return; // a dead node runs nothing
        }
        let task = self.catching_panics(id, task);
        spawn_into(&mut inner.nodes[id].tasks, task);
    }

    /// `task`, reporting a panic to the simulation instead of losing it in the runtime, and
    /// running as node `id`'s (for the protocol events it records; see [`current_node`]).
    fn catching_panics<F>(&self, id: NodeId, task: F) -> impl Future<Output = ()> + 'static
    where
        F: Future<Output = ()> + 'static,
    {
        let net = self.clone();
        CURRENT_NODE.scope(id, async move {
            if let Err(panic) = AssertUnwindSafe(task).catch_unwind().await {
                net.report_panic(id, panic_message(&*panic));
            }
        })
    }

    fn report_panic(&self, id: NodeId, message: String) {
        let mut inner = self.inner.lock();
        let text = format!(
            "a task on node {:?} panicked: {message}",
            inner.nodes[id].name
        );
        inner.event(EventKind::Panicked, 0, id, None, &text, 0, Duration::ZERO);
        inner.panic.get_or_insert(text);
        self.panicked.notify_one();
    }

    /// Waits until a task spawned on a node panics, and returns its message.
    pub(crate) async fn panicked(&self) -> String {
        loop {
            if let Some(message) = self.inner.lock().panic.clone() {
                return message;
            }
            self.panicked.notified().await;
        }
    }

    /// The first panic of a node's task, if any.
    pub(crate) fn panic(&self) -> Option<String> {
        self.inner.lock().panic.clone()
    }

    // ----- client ends ------------------------------------------------------------------

    /// A new client end owned by node `owner`, connected to the server on node `server`.
    ///
    /// `Req` and `Resp` are the service's tarpc request and response types; usually they are
    /// inferred: `MyServiceClient::from(net.client("clerk", "server1"))`.
    pub fn client<Req, Resp>(&self, owner: &str, server: &str) -> ClientEnd<Req, Resp> {
        let mut inner = self.inner.lock();
        let owner = inner.node(owner);
        let target = inner.node(server);
        inner.ends.push(EndState {
            owner,
            target: Some(target),
            enabled: true,
        });
        ClientEnd::simulated(self.clone(), inner.ends.len() - 1)
    }

    pub(crate) fn set_end_enabled(&self, end: EndId, enabled: bool) {
        let mut inner = self.inner.lock();
        inner.ends[end].enabled = enabled;
        let EndState { owner, target, .. } = inner.ends[end];
        let what = if enabled {
            "end enabled"
        } else {
            "end disabled"
        };
        inner.event(EventKind::Links, 0, owner, target, what, 0, Duration::ZERO);
    }

    pub(crate) fn connect_end(&self, end: EndId, server: &str) {
        let mut inner = self.inner.lock();
        let target = inner.node(server);
        inner.ends[end].target = Some(target);
        let owner = inner.ends[end].owner;
        inner.event(
            EventKind::Links,
            0,
            owner,
            Some(target),
            "end connected",
            0,
            Duration::ZERO,
        );
    }

    // ----- faults -----------------------------------------------------------------------

    /// The fault settings in force.
    pub fn faults(&self) -> Faults {
        self.inner.lock().faults.clone()
    }

    /// Replaces the fault settings.
    pub fn set_faults(&self, faults: Faults) {
        let mut inner = self.inner.lock();
        let what = format!("{faults:?}");
        inner.faults = faults;
        inner.event(
            EventKind::Faults,
            0,
            WHOLE_NETWORK,
            None,
            &what,
            0,
            Duration::ZERO,
        );
    }

    fn update_faults(&self, change: impl FnOnce(&mut Faults)) {
        let mut faults = self.faults();
        change(&mut faults);
        self.set_faults(faults);
    }

    /// Go's `Reliable`: when false, requests and replies are lost and delayed at random.
    pub fn set_reliable(&self, reliable: bool) {
        self.update_faults(|f| f.reliable = reliable);
    }

    /// Go's `LongDelays`: unreachable calls fail after up to 7 s instead of 100 ms.
    pub fn set_long_delays(&self, on: bool) {
        self.update_faults(|f| f.long_delays = on);
    }

    /// Go's `LongReordering`: most replies are held back 200-2200 ms.
    pub fn set_long_reordering(&self, on: bool) {
        self.update_faults(|f| f.long_reordering = on);
    }

    // ----- counters and trace -----------------------------------------------------------

    /// Requests delivered to the current incarnation of the server on node `name`
    /// (Go's `GetCount`).
    pub fn rpc_count(&self, name: &str) -> u64 {
        let mut inner = self.inner.lock();
        let id = inner.node(name);
        inner.nodes[id].server.as_ref().map_or(0, |s| s.rpcs)
    }

    /// A snapshot of the network's counters.
    pub fn stats(&self) -> Stats {
        self.inner.lock().stats.clone()
    }

    /// A hash of every event so far: equal for two runs exactly when (but for a hash collision)
    /// their traces are equal.
    pub fn trace_hash(&self) -> u64 {
        self.inner.lock().trace.hash()
    }

    /// How many events happened so far.
    pub fn trace_len(&self) -> u64 {
        self.inner.lock().trace.count()
    }

    /// Whether the events are being kept ([`Network::record_trace`]): only then are messages
    /// summarized and protocol events recorded.
    pub fn recording(&self) -> bool {
        self.recording.load(Ordering::Relaxed)
    }

    /// Records a protocol event of node `node` (`None`: of no node) if the trace is being
    /// recorded: see [`crate::recorder`].
    pub(crate) fn log(&self, node: Option<NodeId>, message: &str, fields: &Summary) {
        let mut inner = self.inner.lock();
        if inner.trace.recording() {
            let from = node.unwrap_or(WHOLE_NETWORK);
            let kind = EventKind::Log;
            inner.event_about(
                kind,
                0,
                from,
                None,
                message,
                0,
                Duration::ZERO,
                Some(fields),
            );
        }
    }

    /// Keeps every event from now on, for [`Network::trace_events`].
    pub fn record_trace(&self) {
        self.inner.lock().trace.start_recording();
        self.recording.store(true, Ordering::Relaxed);
    }

    /// The events kept since [`Network::record_trace`] (empty if it was not called).
    pub fn trace_events(&self) -> Vec<Event> {
        self.inner
            .lock()
            .trace
            .events()
            .map(<[Event]>::to_vec)
            .unwrap_or_default()
    }
}

impl Inner {
    /// The id of the node called `name`, made on first use.
    fn node(&mut self, name: &str) -> NodeId {
        if let Some(&id) = self.by_name.get(name) {
            return id;
        }
        self.nodes.push(Node {
            name: name.to_owned(),
            alive: true,
            deaf: false,
            unreliable: false,
            group: None,
            server: None,
            tasks: JoinSet::new(),
        });
        let id = self.nodes.len() - 1;
        self.by_name.insert(name.to_owned(), id);
        id
    }

    fn lose_request(
        &mut self,
        call: u64,
        end: EndId,
        method: &str,
        to: NodeId,
        about: Option<&Summary>,
    ) {
        self.stats.requests_lost += 1;
        let owner = self.ends[end].owner;
        let (kind, delay) = (EventKind::RequestLost, Duration::ZERO);
        self.event_about(kind, call, owner, Some(to), method, 0, delay, about);
    }

    #[allow(clippy::too_many_arguments)] // one field each of the event
    fn event(
        &mut self,
        kind: EventKind,
        call: u64,
        from: NodeId,
        to: Option<NodeId>,
        what: &str,
        bytes: usize,
        delay: Duration,
    ) {
        self.event_about(kind, call, from, to, what, bytes, delay, None);
    }

    /// [`Inner::event`] with what the message carries.
    #[allow(clippy::too_many_arguments)] // one field each of the event
    fn event_about(
        &mut self,
        kind: EventKind,
        call: u64,
        from: NodeId,
        to: Option<NodeId>,
        what: &str,
        bytes: usize,
        delay: Duration,
        about: Option<&Summary>,
    ) {
        let at = self.epoch.elapsed();
        let name = |id: NodeId| self.nodes.get(id).map_or("", |n| n.name.as_str());
        self.trace.push(
            at,
            Record {
                kind,
                call,
                from: name(from),
                to: to.map_or("", name),
                what,
                bytes,
                delay,
                about,
            },
        );
    }
}

tokio::task_local! {
    /// The node whose task (background task or request handler) is running.
    static CURRENT_NODE: NodeId;
}

/// The node whose task is running, if any: `None` in a test's own body.
pub(crate) fn current_node() -> Option<NodeId> {
    CURRENT_NODE.try_with(|id| *id).ok()
}

/// Spawns `task` into `set`, first reaping finished tasks so the set stays as small as the
/// work in progress.
fn spawn_into(set: &mut JoinSet<()>, task: impl Future<Output = ()> + 'static) {
    while set.try_join_next().is_some() {}
    set.spawn_local(task);
}

/// The message of a panic payload.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic without a message)".to_owned()
    }
}
