//! The server side: accept connections within the limits, dispatch calls, answer HTTP probes.

use parking_lot::Mutex;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tarpc::server::Serve;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::{JoinHandle, JoinSet};

use super::frame::{self, Kind, ReadError};
use super::{TcpOptions, handshake, http};
use crate::Error;
use crate::wire::{self, Handler};

/// What a server reports about itself on `/status` and to a status call: a JSON object whose
/// fields are added to the transport's own.
pub type StatusFn = Arc<dyn Fn() -> serde_json::Value + Send + Sync>;

/// A server listening on TCP. Dropping it closes the listener and every connection.
pub struct TcpServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl std::fmt::Debug for TcpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TcpServer({})", self.addr)
    }
}

pub(super) struct Shared {
    options: TcpOptions,
    handler: Mutex<Option<Handler>>,
    status: Mutex<Option<StatusFn>>,
    slots: Mutex<Slots>,
    budget: Arc<Semaphore>,
    rpcs: AtomicU64,
    /// Connections closed by the server, by reason.
    refused: Mutex<BTreeMap<&'static str, u64>>,
    started: tokio::time::Instant,
    tasks: Mutex<JoinSet<()>>,
}

/// Serves `server` (a tarpc `Serve`, such as `MyService.serve()`) on `addr` with the default
/// [`TcpOptions`]: no secret, so `addr` must be a loopback address.
///
/// Handlers run as local tasks, so this must be called inside a [`tokio::task::LocalSet`] (a
/// service's handler futures need not be `Send`).
pub async fn serve<S>(addr: SocketAddr, server: S) -> Result<TcpServer, Error>
where
    S: Serve + Clone + Send + Sync + 'static,
    S::Req: DeserializeOwned,
    S::Resp: Serialize,
{
    let tcp = TcpServer::bind(addr, TcpOptions::default()).await?;
    tcp.set_service(server);
    Ok(tcp)
}

impl TcpServer {
    /// Listens on `addr`. Calls fail with [`Error::NoReply`] until a service is set. Must be
    /// called inside a [`tokio::task::LocalSet`].
    pub async fn bind(addr: SocketAddr, options: TcpOptions) -> Result<TcpServer, Error> {
        options.check_listen(addr)?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| Error::Transport(format!("cannot listen on {addr}: {e}")))?;
        let addr = (listener.local_addr())
            .map_err(|e| Error::Transport(format!("cannot listen on {addr}: {e}")))?;
        let limits = &options.limits;
        let shared = Arc::new(Shared {
            slots: Mutex::new(Slots::default()),
            budget: Arc::new(Semaphore::new(limits.max_buffered_bytes)),
            options,
            handler: Mutex::new(None),
            status: Mutex::new(None),
            rpcs: AtomicU64::new(0),
            refused: Mutex::new(BTreeMap::new()),
            started: tokio::time::Instant::now(),
            tasks: Mutex::new(JoinSet::new()),
        });
        let accept = tokio::task::spawn_local(accept(listener, shared.clone()));
        Ok(TcpServer {
            addr,
            shared,
            accept,
        })
    }

    /// Serves `server` from now on (replacing any service set before).
    pub fn set_service<S>(&self, server: S)
    where
        S: Serve + Clone + Send + Sync + 'static,
        S::Req: DeserializeOwned,
        S::Resp: Serialize,
    {
        *self.shared.handler.lock() = Some(wire::handler(server));
    }

    /// Stops serving: calls fail with [`Error::NoReply`] until a service is set again.
    pub fn clear_service(&self) {
        *self.shared.handler.lock() = None;
    }

    /// Sets what the server reports on `/status` and to a status call.
    pub fn set_status(&self, status: StatusFn) {
        *self.shared.status.lock() = Some(status);
    }

    /// The address the server listens on (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Requests received since the server started.
    pub fn rpc_count(&self) -> u64 {
        self.shared.rpcs.load(Ordering::Relaxed)
    }

    /// Connections open now.
    pub fn connections(&self) -> usize {
        self.shared.slots.lock().open.len()
    }

    /// The status report: the transport's fields and the service's.
    pub fn status(&self) -> serde_json::Value {
        self.shared.status()
    }
}

impl Drop for TcpServer {
    fn drop(&mut self) {
        self.accept.abort();
        let tasks = std::mem::take(&mut *self.shared.tasks.lock());
        drop(tasks); // aborts every connection
    }
}

impl Shared {
    pub(super) fn serving(&self) -> bool {
        self.handler.lock().is_some()
    }

    pub(super) fn status(&self) -> serde_json::Value {
        let limits = &self.options.limits;
        let mut report = serde_json::json!({
            "serving": self.serving(),
            "uptime_ms": self.started.elapsed().as_millis() as u64,
            "rpcs": self.rpcs.load(Ordering::Relaxed),
            "connections": self.slots.lock().open.len(),
            "max_connections": limits.max_connections,
            "buffered_bytes": limits.max_buffered_bytes - self.budget.available_permits(),
            "refused": *self.refused.lock(),
            "secret": self.options.secret.is_some(),
        });
        let status = self.status.lock().clone();
        if let (Some(status), Some(fields)) = (status, report.as_object_mut())
            && let serde_json::Value::Object(more) = status()
        {
            fields.extend(more);
        }
        report
    }

    fn refuse(&self, why: &'static str) {
        *self.refused.lock().entry(why).or_insert(0) += 1;
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of file descriptors, say: wait a little rather than spin.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = shared.admit() else {
            shared.refuse("over_connection_limit");
            continue; // dropping the stream closes it
        };
        let _ = stream.set_nodelay(true);
        let conn_shared = shared.clone();
        let mut tasks = shared.tasks.lock();
        while tasks.try_join_next().is_some() {}
        tasks.spawn_local(async move {
            let evicted = slot.evict.clone();
            tokio::select! {
                biased;
                _ = evicted.notified() => conn_shared.refuse("evicted_idle"),
                _ = connection(stream, &conn_shared, &slot) => {}
            }
            conn_shared.slots.lock().open.remove(&slot.id);
        });
    }
}

/// The open connections, so that a new one can evict the longest idle when all are taken.
#[derive(Default)]
struct Slots {
    next: u64,
    open: BTreeMap<u64, Arc<Slot>>,
}

/// One open connection, as the server's table sees it.
struct Slot {
    id: u64,
    /// Calls in flight.
    calls: AtomicUsize,
    /// When it last began a frame (or opened).
    active: Mutex<tokio::time::Instant>,
    evict: Arc<Notify>,
}

impl Slot {
    fn touch(&self) {
        *self.active.lock() = tokio::time::Instant::now();
    }
}

impl Shared {
    /// A slot for a new connection: a free one, or that of the connection idle longest (with
    /// no call in flight), which is told to close. `None` when every connection is busy.
    fn admit(&self) -> Option<Arc<Slot>> {
        let mut slots = self.slots.lock();
        if slots.open.len() >= self.options.limits.max_connections {
            let victim = (slots.open.values())
                .filter(|slot| slot.calls.load(Ordering::Relaxed) == 0)
                .min_by_key(|slot| *slot.active.lock())?
                .clone();
            slots.open.remove(&victim.id);
            victim.evict.notify_one();
        }
        let id = slots.next;
        slots.next += 1;
        let slot = Arc::new(Slot {
            id,
            calls: AtomicUsize::new(0),
            active: Mutex::new(tokio::time::Instant::now()),
            evict: Arc::new(Notify::new()),
        });
        slots.open.insert(id, slot.clone());
        Some(slot)
    }
}

/// One connection's life: the handshake (or an HTTP request), then frames until it ends.
async fn connection(mut stream: TcpStream, shared: &Arc<Shared>, slot: &Arc<Slot>) {
    let limits = shared.options.limits.clone();
    let opened = tokio::time::timeout(limits.handshake_timeout, async {
        let mut magic = [0u8; 4];
        stream.read_exact(&mut magic).await.ok()?;
        if &magic == b"GET " {
            http::answer(&mut stream, shared).await;
            return None;
        }
        if magic != handshake::MAGIC {
            shared.refuse("bad_handshake");
            return None;
        }
        match handshake::server(&mut stream, shared.options.secret.as_ref()).await {
            Ok(true) => Some(()),
            Ok(false) => {
                shared.refuse("wrong_secret");
                None
            }
            Err(_) => {
                shared.refuse("bad_handshake");
                None
            }
        }
    })
    .await;
    if opened != Ok(Some(())) {
        if opened.is_err() {
            shared.refuse("handshake_timeout");
        }
        return;
    }
    let (mut input, mut output) = stream.into_split();
    let (replies, mut outgoing) = mpsc::channel::<(Kind, u64, Vec<u8>)>(64);
    let writer = async move {
        while let Some((kind, id, payload)) = outgoing.recv().await {
            frame::write(&mut output, kind, id, &payload).await?;
        }
        Ok::<(), std::io::Error>(())
    };
    let reader = read_calls(&mut input, shared, slot, replies, &limits);
    tokio::pin!(writer);
    tokio::select! {
        biased;
        _ = &mut writer => {}
        handlers = reader => {
            // The peer is done sending; let the calls in flight answer, then close.
            let _ = tokio::time::timeout(limits.idle_timeout, async {
                let mut handlers = handlers;
                while handlers.join_next().await.is_some() {}
            })
            .await;
            let _ = writer.await;
        }
    }
}

/// Reads frames and starts a task per call; returns the calls still in flight.
async fn read_calls(
    input: &mut tokio::net::tcp::OwnedReadHalf,
    shared: &Arc<Shared>,
    slot: &Arc<Slot>,
    replies: mpsc::Sender<(Kind, u64, Vec<u8>)>,
    limits: &super::TcpLimits,
) -> JoinSet<()> {
    let reader = frame::Reader {
        limit: limits.max_message_bytes,
        frame_timeout: limits.frame_timeout,
        budget: Some(shared.budget.clone()),
    };
    let calls = Arc::new(Semaphore::new(limits.max_calls_per_connection));
    let mut handlers = JoinSet::new();
    loop {
        while handlers.try_join_next().is_some() {}
        let Ok(call) = calls.clone().acquire_owned().await else {
            break;
        };
        let (frame, budget) = match reader.next(input, Some(limits.idle_timeout)).await {
            Ok(next) => {
                slot.touch();
                next
            }
            Err(ReadError::Idle) if slot.calls.load(Ordering::Relaxed) > 0 => continue,
            Err(error) => {
                shared.refuse(match error {
                    ReadError::Closed | ReadError::Io(_) => break,
                    ReadError::Idle => "idle",
                    ReadError::Slow(_) => "slow_frame",
                    ReadError::TooLarge { .. } => "frame_too_large",
                    ReadError::Malformed(_) => "malformed_frame",
                    ReadError::Busy => "buffer_budget_spent",
                });
                break;
            }
        };
        let replies = replies.clone();
        match frame.kind {
            Kind::Request => {
                shared.rpcs.fetch_add(1, Ordering::Relaxed);
                let handler = shared.handler.lock().clone();
                let limit = limits.max_message_bytes;
                let slot = slot.clone();
                slot.calls.fetch_add(1, Ordering::Relaxed);
                handlers.spawn_local(async move {
                    let result = match handler {
                        Some(handler) => handler(frame.payload).await,
                        None => Err(Error::NoReply),
                    };
                    drop(budget);
                    let (kind, payload) = reply_frame(result, limit);
                    let _ = replies.send((kind, frame.id, payload)).await;
                    slot.calls.fetch_sub(1, Ordering::Relaxed);
                    drop(call);
                });
            }
            Kind::Status => {
                let report = shared.status().to_string().into_bytes();
                let _ = replies.send((Kind::Reply, frame.id, report)).await;
            }
            Kind::Reply | Kind::Error => {
                shared.refuse("malformed_frame");
                break;
            }
        }
    }
    handlers
}

/// The frame that answers a call: its reply, or its error (a reply over the limit is one).
fn reply_frame(result: Result<Vec<u8>, Error>, limit: usize) -> (Kind, Vec<u8>) {
    let result = result.and_then(|reply| wire::check_size(reply.len(), limit).map(|()| reply));
    match result {
        Ok(reply) => (Kind::Reply, reply),
        Err(error) => {
            let bytes = wire::encode(&error, limit).unwrap_or_else(|_| {
                // An error's text over the limit: say so, briefly.
                wire::encode(&Error::Server("error too large to send".into()), limit)
                    .unwrap_or_default()
            });
            (Kind::Error, bytes)
        }
    }
}
