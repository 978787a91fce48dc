//! The two applications of the lab: word count and inverted index.

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::ops::Range;

use crate::App;
use crate::partition::Fnv64;

/// The words of `text`: its maximal runs of Unicode letters (characters with the Unicode
/// `Alphabetic` property, [`char::is_alphabetic`]). Case is kept, as in Go's lab.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    word_ranges(text).map(|range| &text[range])
}

/// Where the [`words`] of `text` are.
fn word_ranges(text: &str) -> impl Iterator<Item = Range<usize>> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let start = at + find(&text[at..], true)?;
        // Past the ASCII letters quickly; then on through any other letters. `ascii_end` is
        // at a character boundary: only ASCII bytes were passed.
        let ascii_end = ascii_letters_end(text.as_bytes(), start);
        let end = find(&text[ascii_end..], false).map_or(text.len(), |len| ascii_end + len);
        at = end;
        Some(start..end)
    })
}

/// The offset of the first byte at or after `at` that is not an ASCII letter, looking at 8
/// bytes at a time (a word's end is usually within the first 8).
fn ascii_letters_end(bytes: &[u8], mut at: usize) -> usize {
    while let Some(chunk) = bytes.get(at..at + 8) {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(chunk);
        let others = !ascii_letters(u64::from_le_bytes(eight)) & HIGH_BITS;
        if others != 0 {
            return at + (others.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while bytes.get(at).is_some_and(u8::is_ascii_alphabetic) {
        at += 1;
    }
    at
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `x` that is an ASCII letter, all 8 bytes at once ("SIMD
/// within a register"). Setting bit 5 maps `A..=Z` onto `a..=z` and no other byte into it;
/// then, per byte `b` (low 7 bits), `(b | 0x80) - 0x61` has its high bit set iff `b >= 'a'`
/// and `0xfa - b` iff `b <= 'z'`, and neither borrows from the next byte.
fn ascii_letters(x: u64) -> u64 {
    let lower = (x | (0x20 * ONES)) & !HIGH_BITS;
    let at_least_a = (lower | HIGH_BITS).wrapping_sub(u64::from(b'a') * ONES);
    let at_most_z = (u64::from(b'z' | 0x80) * ONES).wrapping_sub(lower);
    at_least_a & at_most_z & !x & HIGH_BITS
}

/// The offset of the first character of `text` that is a letter (`letter`) or is not one.
/// ASCII bytes are classified directly, without decoding a `char`: same answer
/// (`is_ascii_alphabetic` is `is_alphabetic` on ASCII), about twice as fast on English text.
#[inline]
fn find(text: &str, letter: bool) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte.is_ascii() {
            if byte.is_ascii_alphabetic() == letter {
                return Some(i);
            }
            i += 1;
        } else {
            // `i` is at a character boundary: it only ever moves by whole characters.
            let c = text[i..].chars().next()?;
            if c.is_alphabetic() == letter {
                return Some(i);
            }
            i += c.len_utf8();
        }
    }
    None
}

/// Word count: how many times each word occurs in the input. The output value is the count
/// in decimal.
#[derive(Clone, Copy, Debug, Default)]
pub struct WordCount;

impl App for WordCount {
    fn name(&self) -> &str {
        "wc"
    }

    /// Counts within the piece first ("in-mapper combining"): one pair per distinct word,
    /// `(word, count)`, not one per occurrence, in the order of a hash map: the framework
    /// sorts what it writes.
    fn map(&self, _document: &str, contents: &str, emit: &mut dyn FnMut(&str, &str)) {
        let mut tally = Tally::default();
        for range in word_ranges(contents) {
            tally.add(contents, range);
        }
        tally.emit(emit);
    }

    fn reduce(&self, _key: &str, values: &[String]) -> String {
        sum(values).to_string()
    }

    /// Counts add up, so a map task writes one partial count per word instead of one pair
    /// per occurrence.
    fn combine(&self, _key: &str, values: Vec<String>) -> Vec<String> {
        vec![sum(&values).to_string()]
    }
}

/// Word counts of one piece of text, in two hash maps with fixed hashers (the maps are never
/// iterated in an order that matters).
///
/// A word of at most 16 bytes — nearly every word — is its own key, zero-padded into a
/// `u128` (a letter is never a zero byte, so the padding is unambiguous): a probe compares
/// integers. Keyed by `&str`, a probe would compare bytes behind a pointer into the text,
/// and on a large text that pointer misses the cache: word count spent half its time there,
/// and runs about twice as fast this way. Longer words are keyed by `&str`.
#[derive(Default)]
struct Tally<'a> {
    short: HashMap<ShortWord, u64, BuildHasherDefault<FoldHasher>>,
    long: HashMap<&'a str, u64, BuildHasherDefault<Fnv64>>,
}

impl<'a> Tally<'a> {
    /// Counts the word `text[range]`.
    fn add(&mut self, text: &'a str, range: Range<usize>) {
        match ShortWord::at(text.as_bytes(), range.clone()) {
            Some(short) => *self.short.entry(short).or_default() += 1,
            None => *self.long.entry(&text[range]).or_default() += 1,
        }
    }

    fn emit(self, emit: &mut dyn FnMut(&str, &str)) {
        for (short, count) in self.short {
            let bytes = short.bytes();
            let len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            // The bytes of a `&str` cut after its last byte: still UTF-8.
            let word = std::str::from_utf8(&bytes[..len])
                .unwrap_or_else(|e| panic!("a short word is not UTF-8: {e}"));
            emit(word, &count.to_string());
        }
        for (word, count) in self.long {
            emit(word, &count.to_string());
        }
    }
}

/// A word of at most 16 bytes, zero-padded, as two little-endian `u64` (not one `u128`:
/// that is 16-byte aligned, and would make a table entry 32 bytes instead of 24).
#[derive(Clone, Copy, PartialEq, Eq)]
struct ShortWord(u64, u64);

impl ShortWord {
    /// The word `bytes[range]`, if it has at most 16 bytes. When 16 bytes follow its start
    /// they are loaded whole and those past the word masked off: a fixed-size load, not a
    /// copy of a variable length (a `memcpy` call per word).
    #[inline]
    fn at(bytes: &[u8], range: Range<usize>) -> Option<ShortWord> {
        let len = range.len();
        if len > 16 {
            return None;
        }
        let mut window = [0u8; 16];
        match bytes.get(range.start..range.start + 16) {
            Some(ahead) => window.copy_from_slice(ahead),
            None => window[..len].copy_from_slice(&bytes[range]),
        }
        let keep = u128::MAX.checked_shr(8 * (16 - len as u32)).unwrap_or(0);
        let word = u128::from_le_bytes(window) & keep;
        Some(ShortWord(word as u64, (word >> 64) as u64))
    }

    fn bytes(self) -> [u8; 16] {
        (u128::from(self.0) | (u128::from(self.1) << 64)).to_le_bytes()
    }
}

impl Hash for ShortWord {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0);
        state.write_u64(self.1);
    }
}

/// A hasher of `u64`s: each is folded in with a 64×64→128-bit multiply whose halves are
/// xored (as in foldhash), which mixes every input bit into the low bits the table indexes
/// by. Fixed constants: the same in every run. Only for [`ShortWord`].
#[derive(Default)]
struct FoldHasher(u64);

impl Hasher for FoldHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u64(&mut self, x: u64) {
        let product =
            u128::from(self.0 ^ x ^ 0x243f_6a88_85a3_08d3) * u128::from(0x9e37_79b9_7f4a_7c15_u64);
        self.0 = (product as u64) ^ ((product >> 64) as u64);
    }
}

/// The sum of decimal counts. Every value comes from `map` or `combine` above, so a value
/// that is not a number cannot occur; it would count as zero.
fn sum(values: &[String]) -> u64 {
    values.iter().filter_map(|v| v.parse::<u64>().ok()).sum()
}

/// Inverted index: for each word, the documents it occurs in. The output value is
/// `"N doc1,doc2,..."`: the number of documents, then their names sorted and without
/// repeats (Go's lab 1 format, 2016 edition).
#[derive(Clone, Copy, Debug, Default)]
pub struct InvertedIndex;

impl App for InvertedIndex {
    fn name(&self) -> &str {
        "ii"
    }

    fn map(&self, document: &str, contents: &str, emit: &mut dyn FnMut(&str, &str)) {
        // One pair per distinct word of this piece, not per occurrence.
        let distinct: BTreeSet<&str> = words(contents).collect();
        for word in distinct {
            emit(word, document);
        }
    }

    fn reduce(&self, _key: &str, values: &[String]) -> String {
        let documents: BTreeSet<&str> = values.iter().map(String::as_str).collect();
        let list: Vec<&str> = documents.into_iter().collect();
        format!("{} {}", list.len(), list.join(","))
    }

    fn combine(&self, _key: &str, values: Vec<String>) -> Vec<String> {
        let documents: BTreeSet<String> = values.into_iter().collect();
        documents.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, written the obvious way.
    fn plain_words(text: &str) -> Vec<&str> {
        text.split(|c: char| !c.is_alphabetic())
            .filter(|word| !word.is_empty())
            .collect()
    }

    #[test]
    fn words_are_maximal_runs_of_unicode_letters() {
        for text in [
            "",
            " ",
            "a",
            "the cat",
            "  the  cat, sat.\n",
            "x1y2z",
            "Ünïcödé wörds, naïve café",
            "日本語のテキスト。二つ目",
            "ǅemal ﬁne Straße ΣΊΣΥΦΟΣ",
            "a\u{200b}b\u{301}c 😀 d😀e",
            "123 456",
            "abcdefghijklmnopé rstuvwxyzABCDEFGHÜ 12345678abcdefgh9 xyzxyzxyzxyzé",
            "Straßenbahnhaltestelle und Übergrößenträger, ABCDEFGHIJKLMNOPQRSTUVWXYZ@[`{",
            "end",
        ] {
            assert_eq!(
                words(text).collect::<Vec<_>>(),
                plain_words(text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn ascii_letters_marks_exactly_the_ascii_letters() {
        for byte in 0..=255u8 {
            for position in 0..8 {
                for fill in [b'a', b' ', 0xc3] {
                    let mut eight = [fill; 8];
                    eight[position] = byte;
                    let marks = ascii_letters(u64::from_le_bytes(eight)).to_le_bytes();
                    for (b, mark) in eight.iter().zip(marks) {
                        assert_eq!(mark == 0x80, b.is_ascii_alphabetic(), "{eight:?}");
                        assert!(mark == 0 || mark == 0x80);
                    }
                }
            }
        }
    }

    #[test]
    fn word_count_map_counts_short_and_long_words() {
        let long = "Pneumonoultramicroscopicsilicovolcanoconiosis";
        let sixteen = "abcdefghijklmnop";
        let text = format!(
            "{long} a {sixteen} {sixteen}q Ünïcödé a {long} Ünïcödéünïcödé Ünïcödéünïcödé {sixteen}"
        );
        let mut pairs = Vec::new();
        WordCount.map("doc", &text, &mut |word, count| {
            pairs.push((word.to_owned(), count.to_owned()))
        });
        pairs.sort();
        let want = [
            (long, "2"),
            ("a", "2"),
            (sixteen, "2"),
            ("abcdefghijklmnopq", "1"),
            ("Ünïcödé", "1"),
            ("Ünïcödéünïcödé", "2"),
        ];
        let mut want: Vec<(String, String)> = want
            .iter()
            .map(|(w, n)| (w.to_string(), n.to_string()))
            .collect();
        want.sort();
        assert_eq!(pairs, want);
    }
}
