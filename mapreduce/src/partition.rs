//! Which reduce task a key goes to: a stable hash of the key modulo R (paper §4.1).
//!
//! Every map task, on any machine and in any run, must send a key to the same reduce task,
//! so the hash cannot be std's (randomly keyed per process). It is 32-bit FNV-1a, written
//! out, masked to 31 bits as Go's lab does (`ihash(key) % nReduce`).

/// 32-bit FNV-1a of `bytes`.
pub fn fnv1a32(bytes: &[u8]) -> u32 {
    const OFFSET_BASIS: u32 = 0x811c_9dc5;
    const PRIME: u32 = 0x0100_0193;
    bytes.iter().fold(OFFSET_BASIS, |hash, &byte| {
        (hash ^ u32::from(byte)).wrapping_mul(PRIME)
    })
}

/// The reduce task (in `0..reduce_tasks`) that owns `key`.
///
/// # Panics
/// If `reduce_tasks` is zero (a job always has at least one reduce task).
pub fn partition(key: &str, reduce_tasks: usize) -> usize {
    assert!(reduce_tasks > 0, "a job needs at least one reduce task");
    (fnv1a32(key.as_bytes()) & 0x7fff_ffff) as usize % reduce_tasks
}

/// 64-bit FNV-1a as a [`std::hash::Hasher`], for hash maps that must behave the same in
/// every run (std's default hasher is randomly keyed). Not resistant to crafted keys.
#[derive(Clone, Copy, Debug)]
pub struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv64 {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_fnv1a_values() {
        // Published FNV-1a test vectors.
        assert_eq!(fnv1a32(b""), 0x811c_9dc5);
        assert_eq!(fnv1a32(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a32(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn partitions_are_in_range() {
        for key in ["", "a", "the", "Ünïcödé", "12345"] {
            assert!(partition(key, 7) < 7);
            assert_eq!(partition(key, 1), 0);
        }
    }
}
