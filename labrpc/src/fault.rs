//! The fault model: every constant that shapes an unreliable network, in one place.
//!
//! Durations are [`Duration`]s and chances are [`Probability`]s, never bare numbers, so a
//! seconds-for-milliseconds slip cannot hide in an integer. The defaults are those of the Go
//! 6.824 `labrpc`; [`Faults`] holds the values in force on one [`Network`](crate::Network),
//! so an experiment can sweep them.

use std::fmt;
use std::time::Duration;

/// A probability, stored exactly as parts per million so that draws are integer comparisons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Probability {
    per_million: u32,
}

impl Probability {
    /// The event never happens.
    pub const NEVER: Probability = Probability { per_million: 0 };
    /// The event always happens.
    pub const ALWAYS: Probability = Probability {
        per_million: 1_000_000,
    };

    /// `numerator / denominator`, rounded down to a part per million.
    ///
    /// # Panics
    /// If `denominator` is zero or the ratio is above one (a programming error in a constant).
    pub const fn ratio(numerator: u32, denominator: u32) -> Probability {
        assert!(
            denominator > 0 && numerator <= denominator,
            "probability out of range"
        );
        Probability {
            per_million: ((numerator as u64 * 1_000_000) / denominator as u64) as u32,
        }
    }

    /// A probability given as a fraction in `0.0..=1.0`, or `None` if it is outside that range
    /// (the form a command-line option or an experiment sweep supplies).
    pub fn from_fraction(fraction: f64) -> Option<Probability> {
        (0.0..=1.0).contains(&fraction).then(|| Probability {
            per_million: (fraction * 1_000_000.0).round() as u32,
        })
    }

    /// The probability as a fraction in `0.0..=1.0`.
    pub fn as_fraction(self) -> f64 {
        f64::from(self.per_million) / 1_000_000.0
    }

    /// Parts per million.
    pub const fn per_million(self) -> u32 {
        self.per_million
    }

    /// Whether the event happens this time, drawn from `rng`.
    pub fn drawn(self, rng: &mut impl rand::Rng) -> bool {
        rng.random_range(0..1_000_000) < self.per_million
    }
}

/// A uniform duration in `[0, bound)`, in whole milliseconds as in Go (tokio's timers have
/// millisecond resolution, so finer draws would be rounded up past the bound).
pub(crate) fn uniform_below(rng: &mut impl rand::Rng, bound: Duration) -> Duration {
    let bound = u64::try_from(bound.as_millis()).unwrap_or(u64::MAX);
    if bound == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(rng.random_range(0..bound))
}

impl fmt::Display for Probability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.as_fraction() * 100.0)
    }
}

/// On an unreliable network, the chance that a request is lost before it reaches the server
/// (Go: 100 in 1000).
pub const UNRELIABLE_REQUEST_LOSS: Probability = Probability::ratio(100, 1000);
/// On an unreliable network, the chance that a reply is lost on its way back (Go: 100 in 1000).
pub const UNRELIABLE_REPLY_LOSS: Probability = Probability::ratio(100, 1000);
/// On an unreliable network every request waits a uniform delay below this bound before it is
/// delivered (Go: `rand() % 27` milliseconds).
pub const UNRELIABLE_MAX_DELAY: Duration = Duration::from_millis(27);
/// A call to a server that cannot be reached (no server, a disabled end, a dead node) fails
/// after a uniform delay below this bound (Go: 100 ms: "many kv tests require the client to
/// try each server in fairly quick succession").
pub const UNREACHABLE_MAX_DELAY: Duration = Duration::from_millis(100);
/// With long delays on, an unreachable call fails after a uniform delay below this bound
/// instead (Go: 7000 ms, so that a leader that sends RPCs synchronously is caught).
pub const LONG_UNREACHABLE_MAX_DELAY: Duration = Duration::from_millis(7000);
/// With long reordering on, the chance that a reply is held back (Go: 600 in 900).
pub const LONG_REORDER_CHANCE: Probability = Probability::ratio(600, 900);
/// A held-back reply waits at least this long (Go: 200 ms).
pub const LONG_REORDER_MIN_DELAY: Duration = Duration::from_millis(200);
/// ... plus an extra delay, skewed towards short ones, below this bound (Go: 2000 ms; the extra
/// is `rand(1 + rand(2000))` ms).
pub const LONG_REORDER_MAX_EXTRA: Duration = Duration::from_millis(2000);
/// The largest request or reply, in bytes, that the network carries by default. Larger ones
/// fail with [`Error::TooLarge`](crate::Error::TooLarge).
pub const MAX_MESSAGE_BYTES: usize = 16 << 20;

/// Each request and each reply also waits a uniform delay below this bound (whole
/// milliseconds, tokio's timer resolution), on a reliable network too: concurrent calls then
/// interleave differently from seed to seed, as goroutines and real latency make them, and a
/// call takes a little virtual time. [`Faults::exact`] turns it off for a test that needs
/// calls to take no time at all.
pub const JITTER_MAX_DELAY: Duration = Duration::from_millis(3);
/// A server made unreliable ([`Network::set_unreliable_server`](crate::Network::set_unreliable_server),
/// Go's `setunreliable`) drops this share of the requests that reach it (Go: 100 in 1000) ...
pub const UNRELIABLE_SERVER_REQUEST_DROP: Probability = Probability::ratio(100, 1000);
/// ... and of the others, executes this share and then discards the reply (Go: 200 in 1000,
/// so about 18% of all calls run without their caller knowing).
pub const UNRELIABLE_SERVER_REPLY_DROP: Probability = Probability::ratio(200, 1000);

/// A sync of a simulated disk takes this much virtual time (tokio's timer counts whole
/// milliseconds, so this is the shortest sleep there is), so that a crash can fall between a
/// write and its sync.
pub const SYNC_TIME: Duration = Duration::from_millis(1);
/// When a node crashes while its last operation not yet synced is an append, the chance that a
/// prefix of it reaches the disk anyway (a torn write); see [`crate::disk`].
pub const TORN_APPEND_CHANCE: Probability = Probability::ratio(1, 2);

/// The faults in force on a network. Start from [`Faults::default`] (a reliable network with
/// Go's constants for when it is not) and change what an experiment needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Faults {
    /// When false, requests and replies are lost and requests are delayed, with the chances
    /// and bounds below.
    pub reliable: bool,
    /// When true, calls to unreachable servers fail after up to [`Faults::long_unreachable_max_delay`].
    pub long_delays: bool,
    /// When true, replies are often held back for a long time, so they arrive out of order.
    pub long_reordering: bool,
    /// See [`UNRELIABLE_REQUEST_LOSS`].
    pub request_loss: Probability,
    /// See [`UNRELIABLE_REPLY_LOSS`].
    pub reply_loss: Probability,
    /// See [`UNRELIABLE_MAX_DELAY`].
    pub max_delay: Duration,
    /// See [`UNREACHABLE_MAX_DELAY`].
    pub unreachable_max_delay: Duration,
    /// See [`LONG_UNREACHABLE_MAX_DELAY`].
    pub long_unreachable_max_delay: Duration,
    /// See [`LONG_REORDER_CHANCE`].
    pub reorder_chance: Probability,
    /// See [`LONG_REORDER_MIN_DELAY`].
    pub reorder_min_delay: Duration,
    /// See [`LONG_REORDER_MAX_EXTRA`].
    pub reorder_max_extra: Duration,
    /// See [`MAX_MESSAGE_BYTES`].
    pub max_message_bytes: usize,
    /// See [`JITTER_MAX_DELAY`]; zero: calls on a reliable network take no time.
    pub jitter: Duration,
    /// See [`UNRELIABLE_SERVER_REQUEST_DROP`].
    pub server_request_drop: Probability,
    /// See [`UNRELIABLE_SERVER_REPLY_DROP`].
    pub server_reply_drop: Probability,
    /// The virtual time a server spends on each request it receives, one request at a time
    /// (a node with a single CPU): a request that arrives while its server is busy waits
    /// its turn, in order of arrival, and only then runs its handler. Zero (the default):
    /// handlers take no virtual time and run at once, however many arrive. A model of load,
    /// for benchmarks whose point is where the work goes (sharding spreads it over groups).
    pub service_time: Duration,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            reliable: true,
            long_delays: false,
            long_reordering: false,
            request_loss: UNRELIABLE_REQUEST_LOSS,
            reply_loss: UNRELIABLE_REPLY_LOSS,
            max_delay: UNRELIABLE_MAX_DELAY,
            unreachable_max_delay: UNREACHABLE_MAX_DELAY,
            long_unreachable_max_delay: LONG_UNREACHABLE_MAX_DELAY,
            reorder_chance: LONG_REORDER_CHANCE,
            reorder_min_delay: LONG_REORDER_MIN_DELAY,
            reorder_max_extra: LONG_REORDER_MAX_EXTRA,
            max_message_bytes: MAX_MESSAGE_BYTES,
            jitter: JITTER_MAX_DELAY,
            server_request_drop: UNRELIABLE_SERVER_REQUEST_DROP,
            server_reply_drop: UNRELIABLE_SERVER_REPLY_DROP,
            service_time: Duration::ZERO,
        }
    }
}

impl Faults {
    /// The defaults without jitter: on a reliable network a call takes no virtual time at
    /// all, and concurrent calls are handled in the order they were made. For tests that
    /// count time exactly; races that real latency produces do not show.
    pub fn exact() -> Faults {
        Faults {
            jitter: Duration::ZERO,
            ..Faults::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_constants_are_kept() {
        assert_eq!(UNRELIABLE_REQUEST_LOSS.per_million(), 100_000);
        assert_eq!(LONG_REORDER_CHANCE.per_million(), 666_666);
        assert_eq!(UNRELIABLE_MAX_DELAY.as_millis(), 27);
        assert_eq!(LONG_UNREACHABLE_MAX_DELAY.as_secs(), 7);
        assert_eq!(
            Probability::from_fraction(0.25),
            Some(Probability::ratio(1, 4))
        );
        assert_eq!(Probability::from_fraction(1.5), None);
    }
}
