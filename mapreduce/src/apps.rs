//! The two applications of the lab: word count and inverted index.

use std::collections::{BTreeSet, HashMap};
use std::hash::BuildHasherDefault;

use crate::App;
use crate::partition::Fnv64;

/// The words of `text`: its maximal runs of Unicode letters (characters with the Unicode
/// `Alphabetic` property, [`char::is_alphabetic`]). Case is kept, as in Go's lab.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|word| !word.is_empty())
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
    /// `(word, count)`, not one per occurrence. The map is never iterated in an order that
    /// matters: the framework sorts what it writes.
    fn map(&self, _document: &str, contents: &str, emit: &mut dyn FnMut(&str, &str)) {
        let mut counts: HashMap<&str, u64, BuildHasherDefault<Fnv64>> = HashMap::default();
        for word in words(contents) {
            *counts.entry(word).or_default() += 1;
        }
        for (word, count) in counts {
            emit(word, &count.to_string());
        }
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
