//! Frames: `length: u32, kind: u8, call id: u64, payload`, big-endian, where `length` counts
//! the kind, the id and the payload.
//!
//! A reader never trusts a length: it refuses one over its limit before reading on, and it
//! buffers a frame's bytes only as they arrive, charging what it allocates to a budget shared
//! by all connections of a server.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Bytes of the kind and the call id, counted in `length`.
const KIND_AND_ID: usize = 9;
/// A frame's payload is read into memory this many bytes at a time (at most).
const READ_CHUNK: usize = 64 << 10;
/// A frame of at most this many payload bytes is not charged to the budget: the memory of
/// such frames is bounded by the connection limit instead (512 × 64 KiB = 32 MiB by default).
pub const UNCHARGED_BYTES: usize = 64 << 10;

/// What a frame carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A request: the postcard bytes of the service's request enum.
    Request = 0,
    /// A reply to the call of the same id: the reply's bytes.
    Reply = 1,
    /// A failed call of the same id: an encoded [`Error`](crate::Error).
    Error = 2,
    /// A request for the server's status (empty payload); answered by a `Reply` of JSON.
    Status = 3,
}

impl Kind {
    fn from_byte(byte: u8) -> Option<Kind> {
        Some(match byte {
            0 => Kind::Request,
            1 => Kind::Reply,
            2 => Kind::Error,
            3 => Kind::Status,
            _ => return None,
        })
    }
}

/// One frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// What it carries.
    pub kind: Kind,
    /// The call it belongs to.
    pub id: u64,
    /// Its payload.
    pub payload: Vec<u8>,
}

/// Why no frame was read.
#[derive(Debug)]
pub enum ReadError {
    /// The peer closed the connection between frames.
    Closed,
    /// No frame began within the idle timeout.
    Idle,
    /// A frame began but did not arrive whole within the frame timeout.
    Slow(Duration),
    /// The frame announced a payload over the limit.
    TooLarge {
        /// The announced payload size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The frame is not one (too short a length, or an unknown kind).
    Malformed(String),
    /// The server's budget for buffered bytes is spent.
    Busy,
    /// The connection failed.
    Io(io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Closed => write!(f, "the peer closed the connection"),
            ReadError::Idle => write!(f, "the connection was idle too long"),
            ReadError::Slow(after) => write!(f, "a frame did not arrive whole within {after:?}"),
            ReadError::TooLarge { bytes, limit } => write!(
                f,
                "a frame announced {bytes} bytes, over the limit of {limit} bytes"
            ),
            ReadError::Malformed(detail) => write!(f, "malformed frame: {detail}"),
            ReadError::Busy => write!(f, "the server's buffer budget is spent"),
            ReadError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// Writes one frame.
pub async fn write<W: AsyncWrite + Unpin>(
    out: &mut W,
    kind: Kind,
    id: u64,
    payload: &[u8],
) -> io::Result<()> {
    let length = u32::try_from(payload.len() + KIND_AND_ID)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame over 4 GiB"))?;
    let mut header = [0u8; 4 + KIND_AND_ID];
    header[..4].copy_from_slice(&length.to_be_bytes());
    header[4] = kind as u8;
    header[5..].copy_from_slice(&id.to_be_bytes());
    out.write_all(&header).await?;
    out.write_all(payload).await?;
    out.flush().await
}

/// Reads frames of at most `limit` payload bytes.
#[derive(Clone, Debug)]
pub struct Reader {
    /// The largest payload accepted.
    pub limit: usize,
    /// How long a frame may take to arrive once it began.
    pub frame_timeout: Duration,
    /// Bytes buffered by every reader sharing it; `None` for no budget (a client's reader).
    pub budget: Option<Arc<Semaphore>>,
}

impl Reader {
    /// The next frame, waiting at most `idle` for it to begin (`None`: as long as it takes).
    /// The permit holds the frame's share of the budget; drop it once the payload is consumed.
    /// Cancel-safe while waiting for a frame to begin.
    pub async fn next<R: AsyncRead + Unpin>(
        &self,
        input: &mut R,
        idle: Option<Duration>,
    ) -> Result<(Frame, Option<OwnedSemaphorePermit>), ReadError> {
        let mut first = [0u8; 1];
        let began = input.read(&mut first);
        let n = match idle {
            Some(idle) => tokio::time::timeout(idle, began)
                .await
                .map_err(|_| ReadError::Idle)?,
            None => began.await,
        }
        .map_err(ReadError::Io)?;
        if n == 0 {
            return Err(ReadError::Closed);
        }
        tokio::time::timeout(self.frame_timeout, self.rest(input, first[0]))
            .await
            .map_err(|_| ReadError::Slow(self.frame_timeout))?
    }

    async fn rest<R: AsyncRead + Unpin>(
        &self,
        input: &mut R,
        first: u8,
    ) -> Result<(Frame, Option<OwnedSemaphorePermit>), ReadError> {
        let mut header = [0u8; 3 + KIND_AND_ID];
        input
            .read_exact(&mut header)
            .await
            .map_err(eof_is_malformed)?;
        let length = u32::from_be_bytes([first, header[0], header[1], header[2]]) as usize;
        let Some(bytes) = length.checked_sub(KIND_AND_ID) else {
            return Err(ReadError::Malformed(format!(
                "length {length} is too short"
            )));
        };
        if bytes > self.limit {
            return Err(ReadError::TooLarge {
                bytes,
                limit: self.limit,
            });
        }
        let kind = Kind::from_byte(header[3])
            .ok_or_else(|| ReadError::Malformed(format!("unknown kind {}", header[3])))?;
        let mut id = [0u8; 8];
        id.copy_from_slice(&header[4..]);
        let id = u64::from_be_bytes(id);
        let (payload, permit) = self.payload(input, bytes).await?;
        Ok((Frame { kind, id, payload }, permit))
    }

    /// Reads `bytes` bytes, growing the buffer only as they arrive. A frame over
    /// [`UNCHARGED_BYTES`] charges each growth of its buffer to the budget, waiting for room
    /// (within the frame timeout); a small one is not charged, so that large half-sent
    /// frames cannot starve the small calls of other peers.
    async fn payload<R: AsyncRead + Unpin>(
        &self,
        input: &mut R,
        bytes: usize,
    ) -> Result<(Vec<u8>, Option<OwnedSemaphorePermit>), ReadError> {
        let mut payload = Vec::new();
        let mut permit: Option<OwnedSemaphorePermit> = None;
        let budget = self.budget.as_ref().filter(|_| bytes > UNCHARGED_BYTES);
        while payload.len() < bytes {
            let want = READ_CHUNK.min(bytes - payload.len());
            if payload.capacity() - payload.len() < want {
                let before = payload.capacity();
                // Geometric growth, never past the frame's size.
                let target = (2 * before).max(payload.len() + want).min(bytes);
                payload.reserve_exact(target - payload.len());
                if let Some(budget) = budget {
                    let grown =
                        u32::try_from(payload.capacity() - before).map_err(|_| ReadError::Busy)?;
                    let more = (budget.clone().acquire_many_owned(grown).await)
                        .map_err(|_| ReadError::Busy)?;
                    match &mut permit {
                        Some(held) => held.merge(more),
                        None => permit = Some(more),
                    }
                }
            }
            let mut chunk = (&mut *input).take(want as u64);
            let n = chunk.read_buf(&mut payload).await.map_err(ReadError::Io)?;
            if n == 0 {
                return Err(ReadError::Malformed(format!(
                    "the connection closed {} bytes into a {bytes}-byte frame",
                    payload.len()
                )));
            }
        }
        Ok((payload, permit))
    }
}

fn eof_is_malformed(e: io::Error) -> ReadError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        ReadError::Malformed("the connection closed inside a frame header".into())
    } else {
        ReadError::Io(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(limit: usize, budget: usize) -> Reader {
        Reader {
            limit,
            frame_timeout: Duration::from_secs(1),
            budget: Some(Arc::new(Semaphore::new(budget))),
        }
    }

    #[tokio::test]
    async fn a_small_frame_round_trips_uncharged() {
        let mut bytes = Vec::new();
        write(&mut bytes, Kind::Request, 7, b"hello")
            .await
            .expect("write");
        let reader = reader(100, 1000);
        let (frame, permit) = reader.next(&mut &bytes[..], None).await.expect("read");
        assert_eq!(
            (frame.kind, frame.id, &frame.payload[..]),
            (Kind::Request, 7, &b"hello"[..])
        );
        let budget = reader.budget.clone().expect("budget");
        assert!(permit.is_none(), "a small frame is not charged");
        assert_eq!(budget.available_permits(), 1000);
    }

    #[tokio::test]
    async fn lengths_are_checked_before_reading_on() {
        let reader = reader(100, 1000);
        let huge = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        match reader.next(&mut &huge[..], None).await {
            Err(ReadError::TooLarge { limit: 100, .. }) => {}
            other => panic!("a 4 GiB length must be refused, got {other:?}"),
        }
        let short = [0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        assert!(matches!(
            reader.next(&mut &short[..], None).await,
            Err(ReadError::Malformed(_))
        ));
        let mut unknown = Vec::new();
        write(&mut unknown, Kind::Reply, 1, b"")
            .await
            .expect("write");
        unknown[4] = 9;
        assert!(matches!(
            reader.next(&mut &unknown[..], None).await,
            Err(ReadError::Malformed(_))
        ));
    }

    #[tokio::test]
    async fn a_truncated_frame_is_malformed_and_the_end_between_frames_is_closed() {
        let mut bytes = Vec::new();
        write(&mut bytes, Kind::Request, 1, &[1; 50])
            .await
            .expect("write");
        let reader = reader(100, 1000);
        assert!(matches!(
            reader.next(&mut &bytes[..30], None).await,
            Err(ReadError::Malformed(_))
        ));
        assert!(matches!(
            reader.next(&mut &bytes[..5], None).await,
            Err(ReadError::Malformed(_))
        ));
        assert!(matches!(
            reader.next(&mut &[][..], None).await,
            Err(ReadError::Closed)
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_large_frame_waits_for_the_budget_within_the_frame_timeout() {
        let size = UNCHARGED_BYTES + 1;
        let mut bytes = Vec::new();
        write(&mut bytes, Kind::Request, 1, &vec![1; size])
            .await
            .expect("write");
        let reader = reader(size, 2 * size);
        let budget = reader.budget.clone().expect("budget");
        let held = budget.clone().acquire_many_owned(size as u32 + 2).await;
        assert!(matches!(
            reader.next(&mut &bytes[..], None).await,
            Err(ReadError::Slow(_))
        ));
        drop(held);
        let (frame, permit) = reader.next(&mut &bytes[..], None).await.expect("read");
        assert_eq!(frame.payload.len(), size);
        assert!(permit.is_some(), "a large frame is charged");
        assert_eq!(budget.available_permits(), size, "exactly its size");
        drop(permit);
        assert_eq!(budget.available_permits(), 2 * size);
    }
}
