//! The path of one call through the network, in three steps, each under the network's lock
//! and each checking liveness and links afresh (see the [parent module](super)).

use rand::Rng;
use std::time::Duration;
use tokio::sync::oneshot;

use super::{EndId, EndState, Network, NodeId, Route, spawn_into};
use crate::fault::uniform_below;
use crate::summary::Summary;
use crate::trace::EventKind;
use crate::{Error, wire};

/// Summarizes a reply's bytes for the trace (decoding them as the caller will).
pub(crate) type DescribeReply = fn(&[u8]) -> Option<Summary>;

/// The [`DescribeReply`] of a call that says nothing of its reply.
pub(crate) fn no_summary(_: &[u8]) -> Option<Summary> {
    None
}

impl Network {
    /// Carries one call from client end `end`: request bytes in, reply bytes out.
    /// `about` summarizes the request, and `describe_reply` a reply's bytes, for a recorded
    /// trace (`None` and [`no_summary`] when not recording).
    pub(crate) async fn call(
        &self,
        end: EndId,
        method: &str,
        request: Vec<u8>,
        about: Option<Summary>,
        describe_reply: DescribeReply,
    ) -> Result<Vec<u8>, Error> {
        let about = about.as_ref();
        let (call, route) = self.send(end, method, request.len(), about)?;
        let (to, incarnation) = match route {
            Route::Unreachable { delay } => {
                tokio::time::sleep(delay).await;
                return Err(Error::NoReply);
            }
            Route::Deliver {
                to,
                incarnation,
                delay,
                lose,
            } => {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                if lose {
                    self.inner.lock().lose_request(call, end, method, to, about);
                    return Err(Error::NoReply);
                }
                (to, incarnation)
            }
        };
        let reply = self.deliver(call, end, method, (to, incarnation), request, about)?;
        // A handler aborted by a kill drops its sender: no reply.
        let result = reply.await.map_err(|_| Error::NoReply)?;
        let reply_about = about.and_then(|request| {
            let reply = match &result {
                Ok(bytes) => describe_reply(bytes)?,
                Err(e) => Summary::new("error").field("error", e.to_string()),
            };
            Some(reply.about_the_call_of(request))
        });
        let target = (to, incarnation);
        let delay = self.reply(call, end, method, target, &result, reply_about.as_ref())?;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        result
    }

    fn send(
        &self,
        end: EndId,
        method: &str,
        bytes: usize,
        about: Option<&Summary>,
    ) -> Result<(u64, Route), Error> {
        let mut inner = self.inner.lock();
        let inner = &mut *inner;
        let call = inner.next_call;
        inner.next_call += 1;
        let EndState {
            owner,
            target,
            enabled,
        } = inner.ends[end];
        inner.stats.rpcs += 1;
        match inner.stats.by_method.get_mut(method) {
            Some(count) => *count += 1,
            None => {
                inner.stats.by_method.insert(method.to_owned(), 1);
            }
        }
        if let Err(e) = wire::check_size(bytes, inner.faults.max_message_bytes) {
            inner.stats.rejected += 1;
            inner.event_about(
                EventKind::Rejected,
                call,
                owner,
                target,
                method,
                bytes,
                Duration::ZERO,
                about,
            );
            return Err(e);
        }
        inner.stats.bytes += bytes as u64;
        let faults = &inner.faults;
        let server = target
            .filter(|&to| enabled && inner.request_link(owner, to))
            .and_then(|to| Some((to, inner.nodes[to].server.as_ref()?.incarnation)));
        let route = self.rng.with(|rng| match server {
            Some((to, incarnation)) => {
                let (mut delay, mut lose) = (Duration::ZERO, false);
                if !faults.reliable {
                    delay = uniform_below(rng, faults.max_delay);
                    lose = faults.request_loss.drawn(rng);
                }
                delay += uniform_below(rng, faults.jitter);
                if inner.nodes[to].unreliable {
                    lose |= faults.server_request_drop.drawn(rng);
                }
                Route::Deliver {
                    to,
                    incarnation,
                    delay,
                    lose,
                }
            }
            None => Route::Unreachable {
                delay: uniform_below(
                    rng,
                    if faults.long_delays {
                        faults.long_unreachable_max_delay
                    } else {
                        faults.unreachable_max_delay
                    },
                ),
            },
        });
        match route {
            Route::Deliver { delay, .. } => {
                let kind = EventKind::Send;
                inner.event_about(kind, call, owner, target, method, bytes, delay, about)
            }
            Route::Unreachable { delay } => {
                inner.stats.unreachable += 1;
                let kind = EventKind::Unreachable;
                inner.event_about(kind, call, owner, target, method, bytes, delay, about)
            }
        }
        Ok((call, route))
    }

    fn deliver(
        &self,
        call: u64,
        end: EndId,
        method: &str,
        (to, incarnation): (NodeId, u64),
        request: Vec<u8>,
        about: Option<&Summary>,
    ) -> Result<oneshot::Receiver<Result<Vec<u8>, Error>>, Error> {
        let mut inner = self.inner.lock();
        let owner = inner.ends[end].owner;
        let linked = inner.request_link(owner, to);
        let (service, now) = (inner.faults.service_time, inner.epoch.elapsed());
        let server = match &mut inner.nodes[to].server {
            Some(server) if linked && server.incarnation == incarnation => server,
            _ => {
                inner.lose_request(call, end, method, to, about);
                return Err(Error::NoReply);
            }
        };
        server.rpcs += 1;
        // The request waits for the server's CPU, then holds it for the service time.
        let wait = if service.is_zero() {
            Duration::ZERO
        } else {
            server.busy_until = server.busy_until.max(now) + service;
            server.busy_until - now
        };
        let handler = server.handler.clone();
        inner.event_about(
            EventKind::Deliver,
            call,
            owner,
            Some(to),
            "",
            request.len(),
            Duration::ZERO,
            about,
        );
        let (tx, rx) = oneshot::channel();
        let task = self.catching_panics(to, async move {
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            let _ = tx.send(handler(request).await);
        });
        if let Some(server) = &mut inner.nodes[to].server {
            spawn_into(&mut server.handlers, task);
        }
        Ok(rx)
    }

    fn reply(
        &self,
        call: u64,
        end: EndId,
        method: &str,
        (from, incarnation): (NodeId, u64),
        result: &Result<Vec<u8>, Error>,
        about: Option<&Summary>,
    ) -> Result<Duration, Error> {
        let mut inner = self.inner.lock();
        let inner = &mut *inner;
        let owner = inner.ends[end].owner;
        let same_server = inner.nodes[from]
            .server
            .as_ref()
            .is_some_and(|s| s.incarnation == incarnation);
        let faults = &inner.faults;
        let unreliable_server = inner.nodes[from].unreliable;
        let (lost, delay) = self.rng.with(|rng| {
            let mut lost = !faults.reliable && faults.reply_loss.drawn(rng);
            // Go's unreliable server: it executed the request, then discards the reply.
            lost |= unreliable_server && faults.server_reply_drop.drawn(rng);
            let mut delay = if faults.long_reordering && faults.reorder_chance.drawn(rng) {
                faults.reorder_min_delay + skewed_below(rng, faults.reorder_max_extra)
            } else {
                Duration::ZERO
            };
            delay += uniform_below(rng, faults.jitter);
            (lost, delay)
        });
        if !same_server || !inner.reply_link(from, owner) || lost {
            inner.stats.replies_lost += 1;
            inner.event_about(
                EventKind::ReplyLost,
                call,
                from,
                Some(owner),
                "",
                0,
                Duration::ZERO,
                about,
            );
            return Err(Error::NoReply);
        }
        let bytes = match result {
            Ok(reply) => reply.len(),
            Err(_) => 0,
        };
        let limit = inner.faults.max_message_bytes;
        let refused = matches!(result, Err(Error::Decode(_) | Error::UnknownMethod { .. }));
        if refused || bytes > limit {
            inner.stats.rejected += 1;
            inner.event_about(
                EventKind::Rejected,
                call,
                from,
                Some(owner),
                "",
                bytes,
                Duration::ZERO,
                about,
            );
            wire::check_size(bytes, limit)?;
        } else {
            inner.stats.bytes += bytes as u64;
            inner.event_about(
                EventKind::Reply,
                call,
                from,
                Some(owner),
                method,
                bytes,
                delay,
                about,
            );
        }
        Ok(delay)
    }
}

/// Go's `rand(1 + rand(bound))`: a duration in `[0, bound)` skewed towards short ones.
fn skewed_below(rng: &mut impl Rng, bound: Duration) -> Duration {
    let inner = uniform_below(rng, bound);
    uniform_below(rng, inner + Duration::from_millis(1))
}
