//! The client side: one multiplexed connection per peer, made on first use and remade after
//! it fails.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::TcpOptions;
use super::frame::{self, Kind};
use super::handshake;
use crate::{Error, wire};

/// After a failed connection attempt, calls fail at once with its error for this long, so
/// that many callers of a dead peer do not each wait a connect timeout in turn.
const RECONNECT_BACKOFF: Duration = Duration::from_millis(100);

type Waiter = oneshot::Sender<Result<Vec<u8>, Error>>;

/// A server at an address, as a client sees it.
pub(crate) struct Peer {
    addr: String,
    options: Arc<TcpOptions>,
    state: tokio::sync::Mutex<State>,
    last_reply: Mutex<Option<Instant>>,
    last_failure: Mutex<Option<Instant>>,
}

#[derive(Default)]
struct State {
    connection: Option<Connection>,
    failed: Option<(Instant, Error)>,
}

impl Peer {
    pub(crate) fn new(addr: &str, options: Arc<TcpOptions>) -> Peer {
        Peer {
            addr: addr.to_owned(),
            options,
            state: tokio::sync::Mutex::new(State::default()),
            last_reply: Mutex::new(None),
            last_failure: Mutex::new(None),
        }
    }

    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    /// How long a call waits for its answer.
    pub(crate) fn call_timeout(&self) -> Duration {
        self.options.limits.call_timeout
    }

    /// When a call to this peer last got an answer, if ever.
    pub(crate) fn last_reply(&self) -> Option<Instant> {
        *self.last_reply.lock()
    }

    /// One call: a request (or status) frame out, its answer back, within `timeout` (if any).
    /// Notes whether the peer answered, for [`Peer::last_reply`] and [`Peer::last_failure`].
    pub(crate) async fn call(
        &self,
        kind: Kind,
        request: Vec<u8>,
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, Error> {
        wire::check_size(request.len(), self.options.limits.max_message_bytes)?;
        let call = async {
            let calls = self.connect().await?;
            calls.call(kind, request).await
        };
        let reply = match timeout {
            None => call.await,
            Some(limit) => {
                (tokio::time::timeout(limit, call).await).unwrap_or(Err(Error::Timeout(limit)))
            }
        };
        let slot = match &reply {
            Err(e) if e.is_no_reply() => &self.last_failure,
            _ => &self.last_reply,
        };
        *slot.lock() = Some(Instant::now());
        reply
    }

    /// When a call to this peer last failed for want of an answer, if ever.
    pub(crate) fn last_failure(&self) -> Option<Instant> {
        *self.last_failure.lock()
    }

    /// The live connection's calls, connecting first if there is none.
    pub(crate) async fn connect(&self) -> Result<Arc<Calls>, Error> {
        let mut state = self.state.lock().await;
        if let Some(live) = &state.connection
            && !live.calls.closed.load(Ordering::Acquire)
        {
            return Ok(live.calls.clone());
        }
        if let Some((at, error)) = &state.failed
            && at.elapsed() < RECONNECT_BACKOFF
        {
            return Err(error.clone());
        }
        let limit = self.options.limits.connect_timeout;
        let opened = tokio::time::timeout(limit, self.open())
            .await
            .unwrap_or_else(|_| {
                Err(Error::Transport(format!(
                    "cannot connect to {}: no answer within {limit:?}",
                    self.addr
                )))
            });
        match opened {
            Ok(connection) => {
                let calls = connection.calls.clone();
                state.connection = Some(connection);
                state.failed = None;
                Ok(calls)
            }
            Err(error) => {
                state.connection = None;
                state.failed = Some((Instant::now(), error.clone()));
                Err(error)
            }
        }
    }

    async fn open(&self) -> Result<Connection, Error> {
        let addr = &self.addr;
        let mut stream = TcpStream::connect(addr)
            .await
            .map_err(|e| Error::Transport(format!("cannot connect to {addr}: {e}")))?;
        let _ = stream.set_nodelay(true);
        handshake::client(&mut stream, self.options.secret.as_ref())
            .await
            .map_err(|e| Error::Transport(format!("{addr}: {e}")))?;
        let (mut input, mut output) = stream.into_split();
        let (outgoing, mut queue) = mpsc::channel::<(Kind, u64, Vec<u8>)>(64);
        let calls = Arc::new(Calls {
            addr: addr.clone(),
            next: AtomicU64::new(1),
            waiting: Mutex::new(BTreeMap::new()),
            closed: AtomicBool::new(false),
            outgoing,
        });
        let writer_calls = calls.clone();
        let writer = tokio::spawn(async move {
            while let Some((kind, id, payload)) = queue.recv().await {
                if let Err(e) = frame::write(&mut output, kind, id, &payload).await {
                    writer_calls.close(&format!("sending failed: {e}"));
                    return;
                }
            }
        });
        let reader = frame::Reader {
            limit: self.options.limits.max_message_bytes,
            frame_timeout: self.options.limits.frame_timeout,
            budget: None,
        };
        let reader_calls = calls.clone();
        let reader = tokio::spawn(async move {
            let why = loop {
                match reader.next(&mut input, None).await {
                    Ok((frame, _)) => {
                        if let Err(why) = reader_calls.answer(frame) {
                            break why;
                        }
                    }
                    Err(e) => break e.to_string(),
                }
            };
            reader_calls.close(&why);
        });
        Ok(Connection {
            calls,
            tasks: [writer.abort_handle(), reader.abort_handle()],
        })
    }
}

/// A live connection; dropping it closes it.
struct Connection {
    calls: Arc<Calls>,
    tasks: [AbortHandle; 2],
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.tasks.iter().for_each(AbortHandle::abort);
        self.calls.close("the connection was dropped");
    }
}

/// The calls waiting on one connection.
pub(crate) struct Calls {
    addr: String,
    next: AtomicU64,
    waiting: Mutex<BTreeMap<u64, Waiter>>,
    closed: AtomicBool,
    outgoing: mpsc::Sender<(Kind, u64, Vec<u8>)>,
}

impl Calls {
    async fn call(&self, kind: Kind, request: Vec<u8>) -> Result<Vec<u8>, Error> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tell, answer) = oneshot::channel();
        if self.closed.load(Ordering::Acquire) {
            return Err(self.lost("it had closed"));
        }
        self.waiting.lock().insert(id, tell);
        // A call given up (its timeout, say) forgets its slot.
        let _forget = Forget(self, id);
        (self.outgoing.send((kind, id, request)).await).map_err(|_| self.lost("it had closed"))?;
        answer.await.unwrap_or_else(|_| Err(self.lost("it closed")))
    }

    /// Hands a reply frame to its call; `Err` for a frame no server sends.
    fn answer(&self, frame: frame::Frame) -> Result<(), String> {
        let result = match frame.kind {
            Kind::Reply => Ok(frame.payload),
            Kind::Error => {
                Err(wire::decode::<Error>(&frame.payload, "error").unwrap_or_else(|e| e))
            }
            Kind::Request | Kind::Status => {
                return Err(format!("the server sent a {:?} frame", frame.kind));
            }
        };
        if let Some(waiter) = self.waiting.lock().remove(&frame.id) {
            let _ = waiter.send(result);
        }
        Ok(())
    }

    fn close(&self, why: &str) {
        self.closed.store(true, Ordering::Release);
        let waiting = std::mem::take(&mut *self.waiting.lock());
        for (_, waiter) in waiting {
            let _ = waiter.send(Err(self.lost(why)));
        }
    }

    fn lost(&self, why: &str) -> Error {
        Error::Transport(format!("connection to {} lost: {why}", self.addr))
    }
}

struct Forget<'a>(&'a Calls, u64);

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.0.waiting.lock().remove(&self.1);
    }
}
