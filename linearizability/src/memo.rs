//! Lowe's memo: the (linearized set, state) configurations the search has already explored.
//!
//! The search probes the memo on every successful model step, and on hard histories it holds
//! a million configurations, far more than the caches hold. Profiling showed the time going
//! into cache misses and allocations: a hash map of buckets, each with its own vector of
//! entries, each with its own vector of set words, cost four dependent memory reads per probe
//! and two allocations (and later two frees) per configuration. This memo is flat instead:
//!
//! - the configurations live in two arenas appended to in order (the sets' words, `width` per
//!   entry, and the states), so recording one allocates nothing in the common case and freeing
//!   the memo is a few large frees;
//! - an open-addressing table of 8-byte slots finds them, each slot holding a 32-bit fragment
//!   of the hash next to the entry's index, so a probe that misses reads one cache line and
//!   only a fragment match reads the arenas.

use std::hash::{Hash, Hasher};

/// The table is grown before it is fuller than 1/2: linear probing stays short.
const MAX_LOAD_NUM: usize = 1;
const MAX_LOAD_DEN: usize = 2;
/// Slots of a new table (a power of two).
const FIRST_SLOTS: usize = 64;

/// An empty slot. A used slot is `fragment << 32 | (entry + 1)`, never zero.
const EMPTY: u64 = 0;

/// The configurations explored by one part's search.
pub(crate) struct Memo<S> {
    /// Open addressing with linear probing; the slot of a hash is its top bits.
    slots: Vec<u64>,
    /// log2 of `slots.len()`.
    bits: u32,
    /// u64 words per linearized set.
    width: usize,
    /// Entry `i`'s set is `words[i * width..(i + 1) * width]`.
    words: Vec<u64>,
    /// Entry `i`'s state.
    states: Vec<S>,
}

/// The most entries a memo holds: an entry's slot keeps its index in 32 bits. The search
/// stops (unknown) before it gets there.
pub(crate) const CAPACITY: usize = u32::MAX as usize - 1;

impl<S: Eq + Hash> Memo<S> {
    /// An empty memo for sets of `width` words.
    pub(crate) fn new(width: usize) -> Self {
        Memo {
            slots: Vec::new(),
            bits: 0,
            width,
            words: Vec::new(),
            states: Vec::new(),
        }
    }

    /// Configurations recorded.
    pub(crate) fn len(&self) -> usize {
        self.states.len()
    }

    /// Forgets every configuration and gives the memory back.
    pub(crate) fn clear(&mut self) {
        *self = Memo::new(self.width);
    }

    /// The state of entry `entry` (as returned by [`Memo::insert`]).
    pub(crate) fn state(&self, entry: usize) -> &S {
        &self.states[entry]
    }

    /// Records the configuration (`set_hash` is the set's Zobrist hash) and returns its
    /// entry; `None` if it was already there.
    pub(crate) fn insert(&mut self, words: &[u64], set_hash: u64, state: S) -> Option<usize> {
        debug_assert_eq!(words.len(), self.width);
        if (self.len() + 1) * MAX_LOAD_DEN > self.slots.len() * MAX_LOAD_NUM {
            self.grow();
        }
        let mut hasher = FxHasher(set_hash);
        state.hash(&mut hasher);
        // The top bits of a multiplicative hash are its best mixed: they give both the slot
        // and the fragment.
        let fragment = hasher.finish() >> 32;
        let mask = self.slots.len() - 1;
        let mut slot = self.home(fragment);
        loop {
            let found = self.slots[slot];
            if found == EMPTY {
                break;
            }
            if found >> 32 == fragment {
                let entry = (found & u64::from(u32::MAX)) as usize - 1;
                if self.words[entry * self.width..(entry + 1) * self.width] == *words
                    && self.states[entry] == state
                {
                    return None;
                }
            }
            slot = (slot + 1) & mask;
        }
        let entry = self.len();
        let tag = u32::try_from(entry + 1)
            .expect("the search stops before the memo is full (memo::CAPACITY)");
        self.slots[slot] = fragment << 32 | u64::from(tag);
        self.words.extend_from_slice(words);
        self.states.push(state);
        Some(entry)
    }

    /// The first slot to probe for a fragment: its top `bits` bits.
    fn home(&self, fragment: u64) -> usize {
        // `bits` ≤ 32: a table of more than 2^32 slots would index more entries than fit.
        (fragment >> (32 - self.bits)) as usize
    }

    /// Doubles the table. The fragment holds the top 32 bits of the hash, so every entry's
    /// slot can be found again without rehashing its state.
    fn grow(&mut self) {
        let (slots, bits) = if self.slots.is_empty() {
            (FIRST_SLOTS, FIRST_SLOTS.trailing_zeros())
        } else {
            (self.slots.len() * 2, self.bits + 1)
        };
        assert!(bits <= 32, "a memo table of at most 2^32 slots");
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; slots]);
        self.bits = bits;
        let mask = slots - 1;
        for found in old.into_iter().filter(|&s| s != EMPTY) {
            let mut slot = self.home(found >> 32);
            while self.slots[slot] != EMPTY {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = found;
        }
    }
}

/// A small fast hasher (the FxHash recipe) for model states; the memo does not need
/// protection against adversarial keys. It starts from the set's Zobrist hash, which is
/// already well mixed.
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
        for &byte in chunks.remainder() {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_u8(&mut self, byte: u8) {
        self.write_u64(u64::from(byte));
    }

    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::Memo;

    #[test]
    fn records_each_configuration_once_across_growth() {
        let mut memo = Memo::new(2);
        for round in 0..2 {
            for i in 0..1000u64 {
                let words = [i, i / 7];
                // Hashes that collide on purpose: only the words and state tell entries apart.
                let entry = memo.insert(&words, i % 3, i % 5);
                let want = (round == 0).then_some(i as usize);
                assert_eq!(entry, want, "entry {i} in round {round}");
            }
        }
        assert_eq!(memo.len(), 1000);
        assert_eq!(memo.state(7), &2);
        let other_state = memo.insert(&[1, 0], 1, 2);
        assert_eq!(
            other_state,
            Some(1000),
            "another state is another configuration"
        );
        let other_set = memo.insert(&[1, 1], 1, 1);
        assert_eq!(
            other_set,
            Some(1001),
            "another set is another configuration"
        );
        assert_eq!(memo.insert(&[1, 1], 1, 1), None);
    }
}
