//! The one source of randomness of a simulation.

use parking_lot::Mutex;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

/// A seeded random number generator shared by everything in one simulation: the network draws
/// its faults from it and the labs draw their own choices (backoff delays, clerk ids) from it,
/// so one seed fixes the whole run. ChaCha8 is a named algorithm, so a seed keeps meaning the
/// same run across versions of `rand`.
///
/// It implements [`RngCore`], so every method of [`rand::Rng`] works on it.
#[derive(Clone, Debug)]
pub struct SharedRng(Arc<Mutex<ChaCha8Rng>>);

impl SharedRng {
    /// A generator seeded with `seed`.
    pub fn seeded(seed: u64) -> SharedRng {
        SharedRng(Arc::new(Mutex::new(ChaCha8Rng::seed_from_u64(seed))))
    }

    /// Runs `f` with the generator locked, for several draws in a row.
    pub fn with<T>(&self, f: impl FnOnce(&mut ChaCha8Rng) -> T) -> T {
        f(&mut self.0.lock())
    }
}

impl RngCore for SharedRng {
    fn next_u32(&mut self) -> u32 {
        self.0.lock().next_u32()
    }

    fn next_u64(&mut self) -> u64 {
        self.0.lock().next_u64()
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.lock().fill_bytes(dest)
    }
}
